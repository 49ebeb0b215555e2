
/*
 * vkstream media: bounded, GOP-shedding packet queue.
 */


#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vks_clock.h"
#include "vks_queue.h"


int
vks_queue_init(vks_queue_t *q, size_t max_bytes)
{
    int                 rc;
    pthread_condattr_t  attr;

    memset(q, 0, sizeof(vks_queue_t));

    q->max_bytes = max_bytes;
    q->collecting = 1;

    if (pthread_mutex_init(&q->mutex, NULL) != 0) {
        return -1;
    }

    /* a batch's wait is timed by vks_now_ms()'s clock */
    if (pthread_condattr_init(&attr) != 0) {
        pthread_mutex_destroy(&q->mutex);
        return -1;
    }

    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0) {
        rc = pthread_cond_init(&q->cond, &attr);
    }

    pthread_condattr_destroy(&attr);

    if (rc != 0) {
        pthread_mutex_destroy(&q->mutex);
        return -1;
    }

    return 0;
}


static void
vks_queue_free_list(vks_packet_t *p)
{
    vks_packet_t  *next;

    while (p) {
        next = p->next;
        free(p);
        p = next;
    }
}


void
vks_queue_destroy(vks_queue_t *q)
{
    vks_queue_free_list(q->head);
    q->head = NULL;
    q->tail = NULL;
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->mutex);
}


static int
vks_queue_admit(vks_queue_t *q, int type, uint32_t ts, int keyframe,
    int config, size_t len)
{
    int  room;

    if (config) {
        return 1;
    }

    room = q->bytes + len <= q->max_bytes;

    /*
     * Bytes alone would let a slow context lag for tens of seconds before
     * shedding; live output rather drops a GOP than falls that far behind.
     */
    if (room && q->max_delay_ms && q->head
        && (int32_t) (ts - q->head->ts) > (int32_t) q->max_delay_ms)
    {
        room = 0;
    }

    if (type == VKS_PACKET_AUDIO) {
        return room;
    }

    if (q->shedding) {
        if (!keyframe || !room) {
            return 0;
        }

        q->shedding = 0;
        return 1;
    }

    if (!room) {
        /* the rest of this GOP would not decode without this frame */
        q->shedding = 1;
        q->dropped_gops++;
        return 0;
    }

    return 1;
}


int
vks_queue_push(vks_queue_t *q, int type, uint32_t ts, int keyframe,
    int config, const uint8_t *data, size_t len)
{
    struct iovec  iov;

    iov.iov_base = (void *) data;
    iov.iov_len = len;

    return vks_queue_pushv(q, type, ts, keyframe, config, &iov, 1);
}


int
vks_queue_pushv(vks_queue_t *q, int type, uint32_t ts, int keyframe,
    int config, const struct iovec *iov, int iovcnt)
{
    int            i;
    size_t         len;
    uint8_t       *dst;
    vks_packet_t  *p;

    len = 0;
    for (i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }

    pthread_mutex_lock(&q->mutex);

    q->bytes_in += len;

    if (q->closed || q->finishing
        || !vks_queue_admit(q, type, ts, keyframe, config, len))
    {
        q->dropped_packets++;
        q->dropped_frames += (type == VKS_PACKET_VIDEO && !config);
        pthread_mutex_unlock(&q->mutex);
        return 1;
    }

    pthread_mutex_unlock(&q->mutex);

    /* copy outside the lock: the consumer only needs the list */
    p = malloc(sizeof(vks_packet_t) + len);
    if (p == NULL) {
        return -1;
    }

    p->next = NULL;
    p->type = type;
    p->ts = ts;
    p->keyframe = keyframe ? 1 : 0;
    p->config = config ? 1 : 0;
    p->len = len;

    dst = p->data;
    for (i = 0; i < iovcnt; i++) {
        memcpy(dst, iov[i].iov_base, iov[i].iov_len);
        dst += iov[i].iov_len;
    }

    pthread_mutex_lock(&q->mutex);

    if (q->closed || q->finishing) {
        q->dropped_packets++;
        q->dropped_frames += (type == VKS_PACKET_VIDEO && !config);
        pthread_mutex_unlock(&q->mutex);
        free(p);
        return 1;
    }

    if (q->tail) {
        q->tail->next = p;
    } else {
        q->head = p;
        q->filled_at = q->batch_ms ? vks_now_ms() : 0;
    }
    q->tail = p;
    q->bytes += len;

    /* a consumer collecting a batch wakes on its own timer */
    if (q->idle) {
        pthread_cond_signal(&q->cond);
    }

    pthread_mutex_unlock(&q->mutex);

    return 0;
}


vks_packet_t *
vks_queue_pop(vks_queue_t *q)
{
    int            kicked;
    vks_packet_t  *p;

    do {
        p = vks_queue_pop_or_kick(q, &kicked);
    } while (p == NULL && kicked);

    return p;
}


/*
 * Transcoding a few frames of a stream back to back, instead of one at
 * each arrival, finds the codecs' state still in the CPU caches.
 */
static void
vks_queue_wait(vks_queue_t *q)
{
    int64_t          due;
    struct timespec  ts;

    while (!q->closed && !q->finishing && !q->kicked) {

        if (q->head == NULL) {
            q->idle = 1;
            pthread_cond_wait(&q->cond, &q->mutex);
            q->idle = 0;
            continue;
        }

        if (!q->collecting || q->batch_ms <= 0) {
            return;
        }

        due = q->filled_at + q->batch_ms;

        if (vks_now_ms() >= due) {
            q->collecting = 0;
            return;
        }

        ts.tv_sec = due / 1000;
        ts.tv_nsec = (due % 1000) * 1000000;

        pthread_cond_timedwait(&q->cond, &q->mutex, &ts);
    }
}


vks_packet_t *
vks_queue_pop_or_kick(vks_queue_t *q, int *kicked)
{
    vks_packet_t  *p;

    pthread_mutex_lock(&q->mutex);

    vks_queue_wait(q);

    *kicked = q->kicked;
    q->kicked = 0;

    if (q->finishing && q->head && vks_now_ms() > q->finish_by) {
        /* out of time: the rest is dropped (and counted) by the close */
        pthread_mutex_unlock(&q->mutex);
        vks_queue_close(q);
        return NULL;
    }

    if (q->closed || q->head == NULL) {
        pthread_mutex_unlock(&q->mutex);
        return NULL;
    }

    p = q->head;
    q->head = p->next;
    if (q->head == NULL) {
        q->tail = NULL;
        q->collecting = 1;
    }
    q->bytes -= p->len;

    pthread_mutex_unlock(&q->mutex);

    p->next = NULL;
    return p;
}


/* the next pop would wait: nothing queued, or a batch still collecting */
int
vks_queue_would_wait(vks_queue_t *q)
{
    int  wait;

    pthread_mutex_lock(&q->mutex);

    wait = !q->closed && !q->finishing && !q->kicked
           && (q->head == NULL
               || (q->collecting && q->batch_ms > 0
                   && vks_now_ms() < q->filled_at + q->batch_ms));

    pthread_mutex_unlock(&q->mutex);

    return wait;
}


void
vks_queue_kick(vks_queue_t *q)
{
    pthread_mutex_lock(&q->mutex);
    q->kicked = 1;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->mutex);
}


void
vks_queue_finish(vks_queue_t *q, int budget_ms)
{
    pthread_mutex_lock(&q->mutex);

    if (!q->finishing) {
        /*
         * With a batch, up to a batch more can be queued at the end than
         * without one: the drain gets that much more time, or streams
         * ending together on a busy machine lose their tails.
         */
        q->finishing = 1;
        q->finish_by = vks_now_ms() + budget_ms + q->batch_ms;
    }

    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mutex);
}


void
vks_queue_close(vks_queue_t *q)
{
    int            in_gop;
    vks_packet_t  *list, *p;

    pthread_mutex_lock(&q->mutex);

    /* a context that lagged loses its tail: that is a drop too */
    in_gop = 0;

    for (p = q->head; p; p = p->next) {
        q->dropped_packets++;

        if (p->type != VKS_PACKET_VIDEO || p->config) {
            continue;
        }

        q->dropped_frames++;

        if (p->keyframe || !in_gop) {
            q->dropped_gops++;
            in_gop = 1;
        }
    }

    q->closed = 1;
    list = q->head;
    q->head = NULL;
    q->tail = NULL;
    q->bytes = 0;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mutex);

    vks_queue_free_list(list);
}


void
vks_queue_stats(vks_queue_t *q, vks_queue_stats_t *st)
{
    pthread_mutex_lock(&q->mutex);
    st->bytes_in = q->bytes_in;
    st->dropped_packets = q->dropped_packets;
    st->dropped_frames = q->dropped_frames;
    st->dropped_gops = q->dropped_gops;
    pthread_mutex_unlock(&q->mutex);
}
