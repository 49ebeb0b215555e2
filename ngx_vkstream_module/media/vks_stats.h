
/*
 * vkstream media: statistics of one transcoding context, as snapshots the
 * glue copies into the shared stream table.  Plain C, no nginx types.
 */


#ifndef _VKS_STATS_H_INCLUDED_
#define _VKS_STATS_H_INCLUDED_


#include <stdint.h>


#define VKS_MAX_RENDITIONS    8
#define VKS_SUFFIX_LEN        32
#define VKS_APP_LEN           64
#define VKS_CODEC_LEN         16
#define VKS_ERROR_LEN         128


typedef enum {
    VKS_STATE_STARTING = 0,
    VKS_STATE_RUNNING,
    VKS_STATE_FAILED,
    VKS_STATE_STOPPED
} vks_state_e;


typedef struct {
    char              suffix[VKS_SUFFIX_LEN];   /* "_low" */
    char              app[VKS_APP_LEN];         /* target application */
    int               state;                    /* vks_state_e */
    int               video_mode;               /* VKS_MODE_*: encode, */
                                                /* copy or none */
    int               audio_copy;
    int               width;                    /* output, 0 if unknown */
    int               height;
    /*
     * 1 + the index of an earlier rendition this one shows the same as
     * (vks_rendition_duplicates()), 0: none.  It takes the padding before
     * frames_in, so the stream table's layout keeps its size.
     */
    int               duplicate_of;
    uint64_t          frames_in;                /* video frames offered */
    uint64_t          frames_out;               /* video frames encoded */
    uint64_t          frames_dropped;
    uint64_t          bytes_out;
    double            encode_fps;               /* recent */
    double            speed;                    /* encode fps / source fps */
    double            bitrate_kbps;             /* recent output bitrate */
    char              last_error[VKS_ERROR_LEN];
} vks_rendition_stats_t;


typedef struct {
    char              vcodec[VKS_CODEC_LEN];    /* "h264", "" if none */
    char              acodec[VKS_CODEC_LEN];    /* "aac", "mp3", ... */
    int               width;
    int               height;
    double            fps;
    double            bitrate_kbps;             /* measured input */
    uint64_t          bytes_in;
    uint64_t          frames_dropped;           /* video not transcoded */
    uint64_t          gops_dropped;             /* GOPs those touched */
    int               nrenditions;
    vks_rendition_stats_t  r[VKS_MAX_RENDITIONS];
} vks_stream_stats_t;


#endif /* _VKS_STATS_H_INCLUDED_ */
