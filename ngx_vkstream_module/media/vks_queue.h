
/*
 * vkstream media: the bounded queue between the event loop (producer) and
 * a transcoding context's decoder thread (consumer).  Pushing never waits:
 * when the context falls behind, video is shed a whole GOP at a time.
 */


#ifndef _VKS_QUEUE_H_INCLUDED_
#define _VKS_QUEUE_H_INCLUDED_


#include <pthread.h>
#include <sys/uio.h>
#include <stddef.h>
#include <stdint.h>
#include "vks_flv.h"


typedef struct vks_packet_s  vks_packet_t;

struct vks_packet_s {
    vks_packet_t       *next;
    int                 type;        /* VKS_PACKET_*, vks_flv.h */
    uint32_t            ts;          /* RTMP timestamp, ms */
    unsigned            keyframe:1;
    unsigned            config:1;    /* sequence header: never dropped */
    size_t              len;
    uint8_t             data[];
};


typedef struct {
    pthread_mutex_t     mutex;
    pthread_cond_t      cond;
    vks_packet_t       *head;
    vks_packet_t       *tail;
    size_t              bytes;
    size_t              max_bytes;
    uint32_t            max_delay_ms;   /* 0: bytes only */
    int                 batch_ms;       /* 0: hand out at once */
    int64_t             filled_at;      /* ms the queue last stopped */
                                        /* being empty */
    unsigned            idle:1;         /* consumer waits on empty */
    unsigned            collecting:1;   /* a batch is being let in */
    unsigned            closed:1;
    unsigned            finishing:1; /* no more input; drain until */
    int64_t             finish_by;   /* this CLOCK_MONOTONIC ms */
    unsigned            shedding:1;  /* dropping video until a keyframe */
    unsigned            kicked:1;    /* vks_queue_kick(), not yet seen */
    uint64_t            dropped_packets;
    uint64_t            dropped_frames;  /* video, shed or discarded */
    uint64_t            dropped_gops;
    uint64_t            bytes_in;
} vks_queue_t;


typedef struct {
    uint64_t            bytes_in;
    uint64_t            dropped_packets;
    uint64_t            dropped_frames;
    uint64_t            dropped_gops;
} vks_queue_stats_t;


int vks_queue_init(vks_queue_t *q, size_t max_bytes);
void vks_queue_destroy(vks_queue_t *q);

/* Returns 0 when queued, 1 when dropped, -1 when out of memory. */
int vks_queue_push(vks_queue_t *q, int type, uint32_t ts, int keyframe,
    int config, const uint8_t *data, size_t len);

/* The same for a payload in pieces (nginx buffer chains): one copy. */
int vks_queue_pushv(vks_queue_t *q, int type, uint32_t ts, int keyframe,
    int config, const struct iovec *iov, int iovcnt);

/*
 * Waits for a packet; NULL once the queue is closed, or once it is
 * finishing and empty or past its budget (the rest is then discarded).
 * With batch_ms, a consumer that emptied the queue gets the next packet
 * only batch_ms after it came (or at a kick, finish or close), and then
 * everything queued without waiting, until the queue is empty again.
 */
vks_packet_t *vks_queue_pop(vks_queue_t *q);

/*
 * The same, but vks_queue_kick() also wakes it: then *kicked is 1, with
 * the next packet or, when there is none yet, with NULL (call again).
 */
vks_packet_t *vks_queue_pop_or_kick(vks_queue_t *q, int *kicked);

/* Any thread: wakes the consumer once, without a packet. */
void vks_queue_kick(vks_queue_t *q);

/*
 * The end of the input: what is queued is still handed out for at most
 * budget_ms (plus batch_ms), then discarded and counted; nothing more is
 * accepted.
 */
void vks_queue_finish(vks_queue_t *q, int budget_ms);

/*
 * Wakes the consumer; packets still queued are discarded and counted as
 * dropped (their video frames, and the GOPs they touch).
 */
void vks_queue_close(vks_queue_t *q);

/*
 * Any thread: the next pop would wait (nothing queued, or a batch still
 * collecting), so what was made of the input so far may go out now.
 */
int vks_queue_would_wait(vks_queue_t *q);

/* Any thread: the counters, taken together under the queue's lock. */
void vks_queue_stats(vks_queue_t *q, vks_queue_stats_t *st);


#endif /* _VKS_QUEUE_H_INCLUDED_ */
