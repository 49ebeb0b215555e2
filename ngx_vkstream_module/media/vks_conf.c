
/*
 * vkstream media: rendition parameters.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "vks_conf.h"


static const char  *vks_conf_presets[] = {
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
    "slow", "slower", "veryslow", "placebo", NULL
};

static const char  *vks_conf_tunes[] = {
    "film", "animation", "grain", "stillimage", "psnr", "ssim",
    "fastdecode", "zerolatency", NULL
};

/* yuv420p output only: the 4:2:2/4:4:4/10-bit profiles are not offered */
static const char  *vks_conf_profiles[] = {
    "baseline", "main", "high", NULL
};


static int
vks_conf_in_list(const char *s, const char **list)
{
    for ( /* void */ ; *list; list++) {
        if (strcmp(s, *list) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
vks_conf_parse_int(const char *s, int min, int max, int *out)
{
    char  *end;
    long   v;

    if (*s == '\0') {
        return -1;
    }

    v = strtol(s, &end, 10);
    if (*end != '\0' || v < min || v > max) {
        return -1;
    }

    *out = (int) v;
    return 0;
}


long
vks_parse_rate(const char *s)
{
    char    *end;
    double   v;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    v = strtod(s, &end);

    if (*end == 'k' || *end == 'K') {
        v *= 1000;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1000000;
        end++;
    }

    if (*end != '\0' || v < 1000 || v > 200000000) {
        return -1;
    }

    return (long) v;
}


static int
vks_conf_copy_name(char *dst, size_t size, const char *s)
{
    size_t  n;

    n = strlen(s);
    if (n == 0 || n >= size) {
        return -1;
    }

    memcpy(dst, s, n + 1);
    return 0;
}


static int
vks_conf_valid_app(const char *s)
{
    for ( /* void */ ; *s; s++) {
        if (*s == '/' || *s == '?' || *s == ' ' || (unsigned char) *s < 0x20)
        {
            return 0;
        }
    }

    return 1;
}


static int
vks_conf_parse_tune(const char *s)
{
    char   buf[32], *t, *save;

    if (strlen(s) >= sizeof(buf)) {
        return -1;
    }

    strcpy(buf, s);

    for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!vks_conf_in_list(t, vks_conf_tunes)) {
            return -1;
        }
    }

    return 0;
}


static int
vks_conf_parse_level(const char *s, int *level)
{
    char    *end;
    double   v;

    v = strtod(s, &end);
    if (end == s || *end != '\0' || v < 1 || v > 6.2) {
        return -1;
    }

    *level = (int) (v * 10 + 0.5);
    return 0;
}


void
vks_rendition_conf_init(vks_rendition_conf_t *rc, const char *suffix)
{
    memset(rc, 0, sizeof(vks_rendition_conf_t));

    snprintf(rc->suffix, sizeof(rc->suffix), "%s", suffix);
    strcpy(rc->app, "hls");
    rc->video_mode = VKS_MODE_ENCODE;
    rc->audio_mode = VKS_MODE_ENCODE;
    rc->crf = 23;
    strcpy(rc->preset, "veryfast");
    strcpy(rc->tune, "zerolatency");
    rc->threads = 1;
    rc->audio_bitrate = 64000;
}


void
vks_rendition_conf_low(vks_rendition_conf_t *rc)
{
    vks_rendition_conf_init(rc, "_low");

    /* -b:v 256k with -crf 23: the bitrate is a cap on the crf encode */
    rc->width = 480;
    rc->maxrate = 256000;
    rc->bufsize = 512000;
    rc->audio_bitrate = 32000;
}


int
vks_rendition_conf_set(vks_rendition_conf_t *rc, const char *key,
    const char *value, char *err, size_t errlen)
{
    long  rate;

    if (strcmp(key, "app") == 0) {
        if (vks_conf_copy_name(rc->app, sizeof(rc->app), value) != 0
            || !vks_conf_valid_app(value))
        {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "host") == 0) {
        if (vks_conf_copy_name(rc->host, sizeof(rc->host), value) != 0
            || strchr(value, ':') == NULL || strchr(value, '/') != NULL)
        {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "video") == 0 || strcmp(key, "audio") == 0) {
        int  *mode = key[0] == 'v' ? &rc->video_mode : &rc->audio_mode;

        if (strcmp(value, "encode") == 0) {
            *mode = VKS_MODE_ENCODE;
        } else if (strcmp(value, "copy") == 0) {
            *mode = VKS_MODE_COPY;
        } else if (strcmp(value, "none") == 0) {
            *mode = VKS_MODE_NONE;
        } else {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "width") == 0 || strcmp(key, "height") == 0) {
        int  *side = key[0] == 'w' ? &rc->width : &rc->height;

        if (vks_conf_parse_int(value, 16, 7680, side) != 0 || (*side & 1)) {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "upscale") == 0) {
        if (strcmp(value, "on") == 0) {
            rc->upscale = 1;
        } else if (strcmp(value, "off") == 0) {
            rc->upscale = 0;
        } else {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "fps") == 0) {
        if (vks_conf_parse_int(value, 1, 120, &rc->fps) != 0) {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "crf") == 0) {
        if (vks_conf_parse_int(value, 0, 51, &rc->crf) != 0) {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "bitrate") == 0 || strcmp(key, "maxrate") == 0
        || strcmp(key, "bufsize") == 0 || strcmp(key, "audio_bitrate") == 0)
    {
        /*
         * "off" lifts a limit that a rendition starts with: "_low
         * maxrate=off bufsize=off" is a pure crf encode, as ffmpeg's
         * "-crf 23 -b:v 256k" really is
         */
        if (key[0] != 'a' && strcmp(value, "off") == 0) {
            rate = 0;

        } else {
            rate = vks_parse_rate(value);
            if (rate < 0) {
                goto invalid;
            }
        }

        if (key[0] == 'a') {
            if (rate < 8000 || rate > 512000) {
                goto invalid;
            }
            rc->audio_bitrate = rate;
        } else if (key[1] == 'i') {
            rc->bitrate = rate;
        } else if (key[0] == 'm') {
            rc->maxrate = rate;
        } else {
            rc->bufsize = rate;
        }
        return 0;
    }

    if (strcmp(key, "preset") == 0) {
        if (!vks_conf_in_list(value, vks_conf_presets)) {
            goto invalid;
        }
        strcpy(rc->preset, value);
        return 0;
    }

    if (strcmp(key, "tune") == 0) {
        if (strcmp(value, "none") == 0) {
            rc->tune[0] = '\0';
            return 0;
        }
        if (vks_conf_parse_tune(value) != 0) {
            goto invalid;
        }
        strcpy(rc->tune, value);
        return 0;
    }

    if (strcmp(key, "profile") == 0) {
        if (!vks_conf_in_list(value, vks_conf_profiles)) {
            goto invalid;
        }
        strcpy(rc->profile, value);
        return 0;
    }

    if (strcmp(key, "level") == 0) {
        if (vks_conf_parse_level(value, &rc->level) != 0) {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "threads") == 0) {
        if (vks_conf_parse_int(value, 0, 16, &rc->threads) != 0) {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "audio_rate") == 0) {
        if (vks_conf_parse_int(value, 8000, 96000, &rc->audio_rate) != 0) {
            goto invalid;
        }
        return 0;
    }

    if (strcmp(key, "audio_channels") == 0) {
        if (vks_conf_parse_int(value, 1, 2, &rc->audio_channels) != 0) {
            goto invalid;
        }
        return 0;
    }

    snprintf(err, errlen, "unknown parameter \"%s\"", key);
    return -1;

invalid:

    snprintf(err, errlen, "invalid value \"%s\" for \"%s\"", value, key);
    return -1;
}


int
vks_rendition_conf_check(vks_rendition_conf_t *rc, char *err, size_t errlen)
{
    if (rc->video_mode == VKS_MODE_NONE && rc->audio_mode == VKS_MODE_NONE) {
        snprintf(err, errlen, "rendition \"%s\" has neither video nor audio",
                 rc->suffix);
        return -1;
    }

    if (rc->video_mode == VKS_MODE_COPY && (rc->width || rc->height
                                            || rc->fps || rc->upscale))
    {
        snprintf(err, errlen, "rendition \"%s\": video=copy cannot scale "
                 "or change the frame rate", rc->suffix);
        return -1;
    }

    if (rc->bufsize && !rc->maxrate && !rc->bitrate) {
        snprintf(err, errlen, "rendition \"%s\": bufsize needs maxrate or "
                 "bitrate", rc->suffix);
        return -1;
    }

    return 0;
}


void
vks_rendition_size(const vks_rendition_conf_t *rc, int w, int h, int *ow,
    int *oh)
{
    int   cw, ch;
    long  v;

    if (w <= 0 || h <= 0) {
        *ow = rc->width;
        *oh = rc->height;
        return;
    }

    cw = rc->width;
    ch = rc->height;

    /*
     * Pixels the source does not have only cost CPU and bits for a
     * blurrier picture (a 176x144 source made a 480x392 _low): capped
     * unless asked for.
     */
    if (!rc->upscale && (cw > w || ch > h)) {
        if (cw && ch) {
            /* both sides given: their aspect ratio, as large as fits */
            if ((long) cw * h > (long) ch * w) {
                ch = (int) ((long) ch * w / cw);
                cw = w;

            } else {
                cw = (int) ((long) cw * h / ch);
                ch = h;
            }

        } else {
            /* one side given: the source's aspect ratio, so its size */
            cw = 0;
            ch = 0;
        }
    }

    if (cw && ch) {
        *ow = cw & ~1;
        *oh = ch & ~1;

    } else if (cw) {
        *ow = cw;
        v = (long) cw * h / w;
        *oh = (int) (v & ~1L);

    } else if (ch) {
        *oh = ch;
        v = (long) ch * w / h;
        *ow = (int) (v & ~1L);

    } else {
        *ow = w & ~1;
        *oh = h & ~1;
    }

    if (*ow < 2) {
        *ow = 2;
    }

    if (*oh < 2) {
        *oh = 2;
    }
}


static int
vks_conf_same_picture(const vks_rendition_conf_t *a,
    const vks_rendition_stats_t *as, const vks_rendition_conf_t *b,
    const vks_rendition_stats_t *bs)
{
    return a->video_mode == VKS_MODE_ENCODE
           && b->video_mode == VKS_MODE_ENCODE
           && as->width > 0 && as->height > 0
           && as->width == bs->width && as->height == bs->height
           && a->fps == b->fps
           && (a->audio_mode == VKS_MODE_NONE)
              == (b->audio_mode == VKS_MODE_NONE)
           && strcmp(a->app, b->app) == 0
           && strcmp(a->host, b->host) == 0;
}


void
vks_rendition_duplicates(const vks_rendition_conf_t *const *rc,
    vks_rendition_stats_t *st, int n)
{
    int  i, j;

    for (i = 0; i < n; i++) {
        st[i].duplicate_of = 0;

        for (j = 0; j < i; j++) {
            if (st[j].duplicate_of == 0
                && st[j].state != VKS_STATE_FAILED
                && st[j].state != VKS_STATE_STOPPED
                && vks_conf_same_picture(rc[j], &st[j], rc[i], &st[i]))
            {
                st[i].duplicate_of = j + 1;
                break;
            }
        }
    }
}
