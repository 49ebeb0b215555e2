
/*
 * vkstream media: one rendition of a source, on its own thread: scale,
 * encode (or pass through) and publish it over RTMP with libavformat.
 * Internal to the transcoder.
 */


#ifndef _VKS_RENDITION_H_INCLUDED_
#define _VKS_RENDITION_H_INCLUDED_


#include <stdint.h>
#include <libavcodec/avcodec.h>
#include "vks_conf.h"
#include "vks_stats.h"


#define VKS_LOG_ERR     0
#define VKS_LOG_WARN    1
#define VKS_LOG_INFO    2
#define VKS_LOG_DEBUG   3

typedef void (*vks_log_pt)(void *data, int level, const char *msg);


#define VKS_ITEM_START   1     /* stream layout, before any media */
#define VKS_ITEM_VFRAME  2     /* decoded video, for encoding */
#define VKS_ITEM_AFRAME  3     /* decoded audio, for encoding */
#define VKS_ITEM_VPKT    4     /* source video, for copy */
#define VKS_ITEM_APKT    5     /* source audio, for copy */
#define VKS_ITEM_VCONFIG 6     /* new AVC sequence header, for copy */
#define VKS_ITEM_EOS     7

#define VKS_CONTROL_RESTART  1
#define VKS_CONTROL_STOP     2


typedef struct {
    int                 has_video;
    int                 has_audio;
    double              fps;
    int                 width;              /* source */
    int                 height;
    uint8_t            *avcc;               /* AVCDecoderConfigurationRecord */
    int                 avcc_len;
    int                 audio_codec;        /* enum AVCodecID, for copy */
    int                 audio_rate;
    int                 audio_channels;
    uint8_t            *asc;                /* AudioSpecificConfig */
    int                 asc_len;
} vks_stream_info_t;


typedef struct vks_item_s  vks_item_t;

struct vks_item_s {
    vks_item_t         *next;
    int                 kind;
    int                 keyframe;
    int64_t             ms;                 /* output timeline */
    AVFrame            *frame;
    AVPacket           *pkt;
    vks_stream_info_t  *info;               /* START */
};


/* scheduling policy of the transcoding threads (vkstream_sched) */
#define VKS_SCHED_NORMAL  0
#define VKS_SCHED_IDLE    1


typedef struct {
    const char         *url;                /* rtmp://host/app/name?marker */
    int                 max_gop_ms;
    int                 nice;
    int                 sched;              /* VKS_SCHED_* */
    vks_log_pt          log;
    void               *log_data;
} vks_rendition_env_t;


typedef struct vks_rendition_s  vks_rendition_t;


vks_rendition_t *vks_rendition_start(const vks_rendition_conf_t *rc,
    const vks_rendition_env_t *env);
const vks_rendition_conf_t *vks_rendition_conf(vks_rendition_t *r);

/* Takes the item; never waits.  Returns 1 when it was dropped. */
int vks_rendition_send(vks_rendition_t *r, vks_item_t *item);

void vks_rendition_control(vks_rendition_t *r, int cmd);
void vks_rendition_stats(vks_rendition_t *r, vks_rendition_stats_t *st);

/* Asks the thread to flush and end the publish; does not wait. */
void vks_rendition_end(vks_rendition_t *r);

/* vks_rendition_end() and joins the thread (bounded by about 1 s). */
void vks_rendition_finish(vks_rendition_t *r);
void vks_rendition_free(vks_rendition_t *r);

vks_item_t *vks_item_new(int kind);
void vks_item_free(vks_item_t *item);
vks_stream_info_t *vks_stream_info_dup(const vks_stream_info_t *info);
void vks_stream_info_free(vks_stream_info_t *info);

int64_t vks_now_ms(void);

/* Applies policy and nice to the calling thread. */
void vks_thread_priority(int sched, int nice);


#endif /* _VKS_RENDITION_H_INCLUDED_ */
