
/*
 * vkstream media: a bounded queue of log lines.  Any thread formats its
 * line and pushes it (a short copy under a mutex, never a wait for the
 * reader); the owner's thread takes the lines and writes them out.  When
 * the queue is full, lines are dropped and counted.
 */


#ifndef _VKS_LOGQ_H_INCLUDED_
#define _VKS_LOGQ_H_INCLUDED_


#include <pthread.h>
#include <stdint.h>
#include "vks_log.h"


#define VKS_LOGQ_LINE  512         /* with the '\0'; longer lines are cut */


typedef struct {
    int                 level;
    char                text[VKS_LOGQ_LINE];
} vks_logq_line_t;


typedef struct {
    pthread_mutex_t     mutex;
    vks_logq_line_t    *lines;          /* ring, the caller's memory */
    unsigned            size;
    unsigned            head;
    unsigned            count;
    uint64_t            dropped;

    /*
     * Called, outside the lock, when a line lands in an empty queue: the
     * owner then takes lines until the queue is empty, or wakes itself
     * again.
     */
    void              (*notify)(void *data);
    void               *notify_data;
} vks_logq_t;


int vks_logq_init(vks_logq_t *q, vks_logq_line_t *lines, unsigned size,
    void (*notify)(void *data), void *notify_data);

/* Any thread; a vks_log_pt with the queue as data, level VKS_LOG_*. */
void vks_logq_log(void *data, int level, const char *msg);

/*
 * The owner: takes the oldest line into text (cut to size); returns 1, or
 * 0 when the queue is empty.
 */
int vks_logq_take(vks_logq_t *q, int *level, char *text, size_t size);

/* The owner: lines dropped since the last call. */
uint64_t vks_logq_dropped(vks_logq_t *q);


#endif /* _VKS_LOGQ_H_INCLUDED_ */
