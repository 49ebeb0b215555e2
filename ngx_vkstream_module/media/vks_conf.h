
/*
 * vkstream media: what one rendition should be.  Parsed from the
 * "key=value" parameters of the vkstream_rendition directive, so that the
 * rules live here, next to the code that applies them, and are unit-tested.
 * Also the thread policy and the rendition commands the glue passes on.
 */


#ifndef _VKS_CONF_H_INCLUDED_
#define _VKS_CONF_H_INCLUDED_


#include <stddef.h>
#include "vks_stats.h"


#define VKS_MODE_ENCODE  0
#define VKS_MODE_COPY    1
#define VKS_MODE_NONE    2

/* scheduling policy of the transcoding threads (vkstream_sched) */
#define VKS_SCHED_NORMAL  0
#define VKS_SCHED_IDLE    1

/* what the API may ask of a running rendition */
#define VKS_CONTROL_RESTART  1
#define VKS_CONTROL_STOP     2


typedef struct {
    char         suffix[VKS_SUFFIX_LEN];
    char         app[VKS_APP_LEN];
    char         host[128];         /* "host:port", "" = where published */
    int          video_mode;        /* VKS_MODE_* */
    int          audio_mode;
    int          width;             /* 0: from height and aspect ratio */
    int          height;            /* 0: from width and aspect ratio */
    int          upscale;           /* may be larger than the source */
    int          fps;               /* cap, 0 = source rate */
    int          crf;               /* -1 = unset */
    long         bitrate;           /* bit/s, 0 = unset */
    long         maxrate;
    long         bufsize;
    char         preset[16];
    char         tune[32];
    char         profile[16];
    int          level;             /* 31 for "3.1", 0 = auto */
    int          threads;
    long         audio_bitrate;
    int          audio_rate;        /* 0 = source */
    int          audio_channels;    /* 0 = source */
} vks_rendition_conf_t;


/* The rendition users get with "exec ffmpeg ... $name_low" today. */
void vks_rendition_conf_low(vks_rendition_conf_t *rc);

/* Defaults for a ladder rung: source size, crf 23, veryfast, 64k AAC. */
void vks_rendition_conf_init(vks_rendition_conf_t *rc, const char *suffix);

/* Returns 0, or -1 with a message naming the key and value in err. */
int vks_rendition_conf_set(vks_rendition_conf_t *rc, const char *key,
    const char *value, char *err, size_t errlen);

/* Cross-field checks once all keys are set; same contract. */
int vks_rendition_conf_check(vks_rendition_conf_t *rc, char *err,
    size_t errlen);

/*
 * The output size for a source of w x h: like ffmpeg's
 * scale=W:trunc(ow/a/2)*2, the free side keeps the aspect ratio and is
 * rounded down to even.  Unless rc->upscale, the result is no larger than
 * the source: a rendition asked for more is capped to fit in w x h with
 * its aspect ratio (the source's when one side was given), still even and
 * at least 2x2.
 */
void vks_rendition_size(const vks_rendition_conf_t *rc, int w, int h,
    int *ow, int *oh);

/*
 * Sets st[i].duplicate_of for each of the n renditions (rc[i] made st[i])
 * that shows the same as an earlier one, as when a source smaller than the
 * ladder caps two rungs to its own size: both encode video, to the same
 * application and host, of the same known size at the same frame rate cap,
 * and both or neither carry audio.  The earlier one must not have failed
 * or been stopped, so the picture stays offered.  Each points at the first
 * such rendition.
 */
void vks_rendition_duplicates(const vks_rendition_conf_t *const *rc,
    vks_rendition_stats_t *st, int n);

/* "256k", "1.5m", "32000" -> bit/s; -1 when invalid. */
long vks_parse_rate(const char *s);


#endif /* _VKS_CONF_H_INCLUDED_ */
