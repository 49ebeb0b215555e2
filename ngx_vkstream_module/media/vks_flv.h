
/*
 * vkstream media: FLV audio/video tag bodies, as carried by RTMP messages.
 */


#ifndef _VKS_FLV_H_INCLUDED_
#define _VKS_FLV_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* what an RTMP message body is: an FLV video or audio tag body */
#define VKS_PACKET_VIDEO          0
#define VKS_PACKET_AUDIO          1

/* a publisher's metadata (onMetaData) that does not say */
#define VKS_HINT_UNKNOWN          -1


#define VKS_FLV_VIDEO_AVC         7
#define VKS_FLV_VIDEO_HEVC        12    /* non-standard, seen in the wild */

#define VKS_FLV_AVC_SEQUENCE      0
#define VKS_FLV_AVC_NALU          1
#define VKS_FLV_AVC_END           2

#define VKS_FLV_AUDIO_PCM         0
#define VKS_FLV_AUDIO_ADPCM       1
#define VKS_FLV_AUDIO_MP3         2
#define VKS_FLV_AUDIO_PCM_LE      3
#define VKS_FLV_AUDIO_NELLY16     4
#define VKS_FLV_AUDIO_NELLY8      5
#define VKS_FLV_AUDIO_NELLY       6
#define VKS_FLV_AUDIO_ALAW        7
#define VKS_FLV_AUDIO_MULAW       8
#define VKS_FLV_AUDIO_AAC         10
#define VKS_FLV_AUDIO_SPEEX       11
#define VKS_FLV_AUDIO_MP3_8K      14

#define VKS_FLV_AAC_SEQUENCE      0
#define VKS_FLV_AAC_RAW           1


typedef struct {
    int               codec;        /* VKS_FLV_VIDEO_* */
    int               keyframe;
    int               avc_type;     /* VKS_FLV_AVC_*, AVC only */
    int32_t           cts;          /* composition offset, ms */
    const uint8_t    *data;         /* payload after the tag header */
    size_t            len;
} vks_flv_video_t;


typedef struct {
    int               format;       /* VKS_FLV_AUDIO_* */
    int               rate;         /* Hz, from the header (AAC: ASC wins) */
    int               bits;         /* 8 or 16 */
    int               channels;     /* 1 or 2 */
    int               aac_type;     /* VKS_FLV_AAC_*, AAC only */
    const uint8_t    *data;
    size_t            len;
} vks_flv_audio_t;


/* Both return 0, or -1 for a body too short for its header. */
int vks_flv_parse_video(const uint8_t *p, size_t n, vks_flv_video_t *v);
int vks_flv_parse_audio(const uint8_t *p, size_t n, vks_flv_audio_t *a);

const char *vks_flv_video_codec_name(int codec);
const char *vks_flv_audio_codec_name(int format);


#endif /* _VKS_FLV_H_INCLUDED_ */
