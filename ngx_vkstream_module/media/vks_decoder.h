
/*
 * vkstream media: the decode stage of a transcoding context.  FLV audio
 * and video tag bodies go in; the decoders are opened (and reopened on new
 * sequence headers), and once the stream's layout is settled its START
 * item, the decoded frames and the source packets for copies come out, in
 * order, through a callback.  No threads and no locks: the caller feeds
 * it from one thread.
 */


#ifndef _VKS_DECODER_H_INCLUDED_
#define _VKS_DECODER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include "vks_flv.h"
#include "vks_item.h"
#include "vks_log.h"
#include "vks_stats.h"


typedef struct {
    const char         *name;           /* stream, for log lines */
    int                 decode_video;   /* some rendition encodes video */
    int                 decode_audio;
    int                 copy_video;     /* some rendition copies video */
    int                 copy_audio;

    /* from the publisher's metadata when known, else VKS_HINT_UNKNOWN */
    int                 hint_video;
    int                 hint_audio;
    double              hint_fps;

    /* takes each item (VKS_ITEM_*) the decoder hands on */
    void              (*output)(void *data, vks_item_t *item);
    void               *output_data;

    vks_log_pt          log;
    void               *log_data;
} vks_decoder_conf_t;


/* What the decoder knows of its input, for the context's statistics. */
typedef struct {
    char                vcodec[VKS_CODEC_LEN];  /* "" until known */
    char                acodec[VKS_CODEC_LEN];
    int                 width;                  /* last picture decoded */
    int                 height;
    double              fps;
} vks_decoder_input_t;


typedef struct vks_decoder_s  vks_decoder_t;


vks_decoder_t *vks_decoder_create(const vks_decoder_conf_t *conf);

/* One RTMP message body (an FLV tag body); type is VKS_PACKET_*. */
void vks_decoder_feed(vks_decoder_t *d, int type, uint32_t ts,
    const uint8_t *data, size_t len);

/*
 * The end of the input: the decoders' delayed frames go out; what still
 * waits for the layout to settle is dropped.
 */
void vks_decoder_flush(vks_decoder_t *d);

const vks_decoder_input_t *vks_decoder_input(vks_decoder_t *d);

void vks_decoder_free(vks_decoder_t *d);


#endif /* _VKS_DECODER_H_INCLUDED_ */
