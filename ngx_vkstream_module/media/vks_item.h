
/*
 * vkstream media: what the decode stage hands to the renditions: the
 * stream's layout, decoded frames and source packets.  Internal to the
 * transcoder and its renditions.
 */


#ifndef _VKS_ITEM_H_INCLUDED_
#define _VKS_ITEM_H_INCLUDED_


#include <stdint.h>
#include <libavcodec/avcodec.h>


#define VKS_ITEM_START   1     /* stream layout, before any media */
#define VKS_ITEM_VFRAME  2     /* decoded video, for encoding */
#define VKS_ITEM_AFRAME  3     /* decoded audio, for encoding */
#define VKS_ITEM_VPKT    4     /* source video, for copy */
#define VKS_ITEM_APKT    5     /* source audio, for copy */
#define VKS_ITEM_VCONFIG 6     /* new AVC sequence header, for copy */
#define VKS_ITEM_EOS     7


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
    int                 kind;               /* VKS_ITEM_* */
    int                 keyframe;
    int64_t             ms;                 /* output timeline */
    AVFrame            *frame;
    AVPacket           *pkt;
    vks_stream_info_t  *info;               /* START, VCONFIG */
};


vks_item_t *vks_item_new(int kind);

/* Frees the item and what it holds. */
void vks_item_free(vks_item_t *item);

vks_stream_info_t *vks_stream_info_dup(const vks_stream_info_t *info);
void vks_stream_info_free(vks_stream_info_t *info);


#endif /* _VKS_ITEM_H_INCLUDED_ */
