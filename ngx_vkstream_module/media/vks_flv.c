
/*
 * vkstream media: FLV audio/video tag bodies.
 */


#include <string.h>
#include "vks_flv.h"


int
vks_flv_parse_video(const uint8_t *p, size_t n, vks_flv_video_t *v)
{
    uint32_t  cts;

    memset(v, 0, sizeof(vks_flv_video_t));

    if (n < 1) {
        return -1;
    }

    v->keyframe = ((p[0] >> 4) & 0x0f) == 1;
    v->codec = p[0] & 0x0f;

    if (v->codec != VKS_FLV_VIDEO_AVC) {
        v->data = p + 1;
        v->len = n - 1;
        return 0;
    }

    if (n < 5) {
        return -1;
    }

    v->avc_type = p[1];

    /* 24-bit signed composition time */
    cts = ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 8) | p[4];
    if (cts & 0x800000) {
        cts |= 0xff000000;
    }
    v->cts = (int32_t) cts;

    v->data = p + 5;
    v->len = n - 5;

    return 0;
}


int
vks_flv_parse_audio(const uint8_t *p, size_t n, vks_flv_audio_t *a)
{
    static const int  rates[] = { 5512, 11025, 22050, 44100 };

    memset(a, 0, sizeof(vks_flv_audio_t));

    if (n < 1) {
        return -1;
    }

    a->format = (p[0] >> 4) & 0x0f;
    a->rate = rates[(p[0] >> 2) & 0x03];
    a->bits = (p[0] & 0x02) ? 16 : 8;
    a->channels = (p[0] & 0x01) ? 2 : 1;

    switch (a->format) {

    case VKS_FLV_AUDIO_AAC:
        if (n < 2) {
            return -1;
        }
        a->aac_type = p[1];
        a->data = p + 2;
        a->len = n - 2;
        return 0;

    case VKS_FLV_AUDIO_NELLY16:
    case VKS_FLV_AUDIO_SPEEX:
        /* the header's rate field cannot express these rates */
        a->rate = 16000;
        break;

    case VKS_FLV_AUDIO_NELLY8:
    case VKS_FLV_AUDIO_MP3_8K:
        a->rate = 8000;
        break;

    case VKS_FLV_AUDIO_ALAW:
    case VKS_FLV_AUDIO_MULAW:
        a->rate = 8000;
        break;
    }

    if (a->format == VKS_FLV_AUDIO_SPEEX) {
        a->channels = 1;
    }

    a->data = p + 1;
    a->len = n - 1;

    return 0;
}


const char *
vks_flv_video_codec_name(int codec)
{
    switch (codec) {
    case 2: return "h263";
    case 3: return "screen";
    case 4: return "vp6";
    case 5: return "vp6a";
    case 6: return "screen2";
    case VKS_FLV_VIDEO_AVC: return "h264";
    case VKS_FLV_VIDEO_HEVC: return "hevc";
    default: return "unknown";
    }
}


const char *
vks_flv_audio_codec_name(int format)
{
    switch (format) {
    case VKS_FLV_AUDIO_PCM: return "pcm";
    case VKS_FLV_AUDIO_ADPCM: return "adpcm";
    case VKS_FLV_AUDIO_MP3: return "mp3";
    case VKS_FLV_AUDIO_PCM_LE: return "pcm_le";
    case VKS_FLV_AUDIO_NELLY16:
    case VKS_FLV_AUDIO_NELLY8:
    case VKS_FLV_AUDIO_NELLY: return "nellymoser";
    case VKS_FLV_AUDIO_ALAW: return "alaw";
    case VKS_FLV_AUDIO_MULAW: return "mulaw";
    case VKS_FLV_AUDIO_AAC: return "aac";
    case VKS_FLV_AUDIO_SPEEX: return "speex";
    case VKS_FLV_AUDIO_MP3_8K: return "mp3";
    default: return "unknown";
    }
}
