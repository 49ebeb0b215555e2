
/*
 * vkstream media: a transcoding context for one published stream.
 *
 * The caller (the nginx event loop) pushes the stream's RTMP audio and
 * video message bodies; a decoder thread decodes each track once and feeds
 * every rendition's thread, or, with one rendition, encodes it itself.
 * Nothing here blocks the caller, and nothing here knows about nginx.
 * This header is all the glue sees: no codec, queue or rendition
 * internals.
 */


#ifndef _VKS_TRANSCODER_H_INCLUDED_
#define _VKS_TRANSCODER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "vks_conf.h"
#include "vks_flv.h"
#include "vks_log.h"
#include "vks_stats.h"


typedef struct {
    char                   name[256];       /* stream name */
    char                   host[128];       /* default output host:port */
    char                   marker[64];      /* query argument of outputs */
    int                    nrenditions;
    vks_rendition_conf_t   renditions[VKS_MAX_RENDITIONS];
    int                    max_gop_ms;
    size_t                 queue_bytes;
    int                    max_delay_ms;    /* queued media, 0: no bound */
    int                    batch_ms;        /* input let in, 0: none */
    int                    nice;
    int                    sched;           /* VKS_SCHED_* */

    /* LL-HLS: files under llhls_path/NAMESUFFIX; "" for none */
    char                   llhls_path[512];
    unsigned               llhls_part_target_ms;
    unsigned               llhls_window;

    /* the classic master: hls_master_path/NAME.m3u8; "" for none */
    char                   hls_master_path[512];

    /* from the publisher's metadata when known, else VKS_HINT_UNKNOWN */
    int                    hint_video;
    int                    hint_audio;
    double                 hint_fps;

    /* called from the context's thread once it has ended */
    void                 (*ended)(void *data);
    void                  *ended_data;

    vks_log_pt             log;
    void                  *log_data;
} vks_transcoder_conf_t;


typedef struct vks_transcoder_s  vks_transcoder_t;


/* Once per process, before the first context. */
void vks_media_init(void);

vks_transcoder_t *vks_transcoder_start(const vks_transcoder_conf_t *conf);

/*
 * Pushes one RTMP message body (an FLV tag body); type is VKS_PACKET_*.
 * Copies it and returns at once: 0 queued, 1 dropped, -1 no memory.
 */
int vks_transcoder_push(vks_transcoder_t *t, int type, uint32_t ts,
    const uint8_t *data, size_t len);

/* The same for a body in pieces, copied once. */
int vks_transcoder_pushv(vks_transcoder_t *t, int type, uint32_t ts,
    const struct iovec *iov, int iovcnt);

void vks_transcoder_stats(vks_transcoder_t *t, vks_stream_stats_t *st);

/* VKS_CONTROL_* on one rendition; -1 for an unknown suffix */
int vks_transcoder_control(vks_transcoder_t *t, const char *suffix,
    int cmd);

/*
 * Asks the context to end: with drain, what is queued is still transcoded
 * (for a bounded time: the rest is dropped and counted), else it is
 * dropped at once; then flush, end the outputs and call ended().
 */
void vks_transcoder_stop(vks_transcoder_t *t, int drain);

int vks_transcoder_ended(vks_transcoder_t *t);

/* Joins the context thread (immediate once ended) and frees it. */
void vks_transcoder_free(vks_transcoder_t *t);


#endif /* _VKS_TRANSCODER_H_INCLUDED_ */
