
/*
 * vkstream media: a bounded queue of log lines.
 */


#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "vks_logq.h"


int
vks_logq_init(vks_logq_t *q, vks_logq_line_t *lines, unsigned size,
    void (*notify)(void *data), void *notify_data)
{
    memset(q, 0, sizeof(vks_logq_t));

    if (size == 0 || pthread_mutex_init(&q->mutex, NULL) != 0) {
        return -1;
    }

    q->lines = lines;
    q->size = size;
    q->notify = notify;
    q->notify_data = notify_data;

    return 0;
}


void
vks_logq_log(void *data, int level, const char *msg)
{
    vks_logq_t  *q = data;

    size_t            len;
    unsigned          was;
    vks_logq_line_t  *l;

    len = strnlen(msg, VKS_LOGQ_LINE - 1);

    pthread_mutex_lock(&q->mutex);

    was = q->count;

    if (was == q->size) {
        q->dropped++;
        pthread_mutex_unlock(&q->mutex);
        return;
    }

    l = &q->lines[(q->head + was) % q->size];
    l->level = level;
    memcpy(l->text, msg, len);
    l->text[len] = '\0';
    q->count++;

    pthread_mutex_unlock(&q->mutex);

    /* one wake-up per non-empty spell: no system call per line */
    if (was == 0 && q->notify) {
        q->notify(q->notify_data);
    }
}


int
vks_logq_take(vks_logq_t *q, int *level, char *text, size_t size)
{
    size_t            len;
    vks_logq_line_t  *l;

    pthread_mutex_lock(&q->mutex);

    if (q->count == 0) {
        pthread_mutex_unlock(&q->mutex);
        return 0;
    }

    l = &q->lines[q->head];

    *level = l->level;
    len = strnlen(l->text, size - 1);
    memcpy(text, l->text, len);
    text[len] = '\0';

    q->head = (q->head + 1) % q->size;
    q->count--;

    pthread_mutex_unlock(&q->mutex);

    return 1;
}


uint64_t
vks_logq_dropped(vks_logq_t *q)
{
    uint64_t  n;

    pthread_mutex_lock(&q->mutex);
    n = q->dropped;
    q->dropped = 0;
    pthread_mutex_unlock(&q->mutex);

    return n;
}
