
/*
 * vkstream media: a stream's HLS ladder and its master playlists (see
 * vks_hls_ladder.h).
 */


#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vks_hls_ladder.h"


#define VKS_HLS_PATH_LEN   1024
#define VKS_HLS_NAME_LEN   256
#define VKS_HLS_SEGMENT_S  2        /* the usual GOP: VBV bursts per it */
#define VKS_HLS_BPP        0.1      /* bits per pixel of an x264 crf 23 */
#define VKS_HLS_AUDIO_BPS  128000   /* a copied track of unknown rate */


typedef struct {
    vks_rendition_conf_t   rc;
    char                   esc[VKS_HLS_URI_LEN];   /* NAMESUFFIX, escaped */
    unsigned               joined:1;
    unsigned               ll_live:1;
    vks_hls_output_t       out;
    vks_hls_rate_t         rate[2];
    uint64_t               ll_msn;
    uint64_t               ll_part;
} vks_hls_slot_t;


struct vks_hls_ladder_s {
    pthread_mutex_t        mutex;
    char                   name[VKS_HLS_NAME_LEN];
    char                   dir[2][VKS_HLS_PATH_LEN];   /* "": none */
    int                    n;
    vks_hls_slot_t         slot[VKS_MAX_RENDITIONS];
    uint64_t               source_bps;
    unsigned               source_new:1;    /* copies to derive again */
    unsigned               ending:1;
    char                  *last[2];         /* the master as written */
    vks_log_pt             log;
    void                  *log_data;
};


static void vks_hls_ladder_log(vks_hls_ladder_t *l, int level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static size_t vks_hls_ladder_escape(char *dst, size_t size, const char *a,
    const char *b);
static size_t vks_hls_ladder_variants(vks_hls_ladder_t *l, int kind,
    vks_hls_variant_t *v, int *slot);
static void vks_hls_ladder_write(vks_hls_ladder_t *l, int kind);
static void vks_hls_ladder_write_all(vks_hls_ladder_t *l);
static void vks_hls_ladder_touch(vks_hls_ladder_t *l, int kind);
static void vks_hls_ladder_source(vks_hls_ladder_t *l);
static int vks_hls_ladder_same(const vks_hls_output_t *a,
    const vks_hls_output_t *b);


vks_hls_ladder_t *
vks_hls_ladder_create(const vks_hls_ladder_conf_t *conf)
{
    int                k, i;
    char               path[VKS_HLS_PATH_LEN];
    const char        *dir;
    vks_hls_ladder_t  *l;

    l = calloc(1, sizeof(vks_hls_ladder_t));
    if (l == NULL) {
        return NULL;
    }

    if (pthread_mutex_init(&l->mutex, NULL) != 0) {
        free(l);
        return NULL;
    }

    l->log = conf->log;
    l->log_data = conf->log_data;
    snprintf(l->name, sizeof(l->name), "%s", conf->name);

    l->n = conf->n < VKS_MAX_RENDITIONS ? conf->n : VKS_MAX_RENDITIONS;

    for (i = 0; i < l->n; i++) {
        l->slot[i].rc = conf->rc[i];
        vks_hls_ladder_escape(l->slot[i].esc, VKS_HLS_URI_LEN, conf->name,
                              conf->rc[i].suffix);
    }

    /* the name becomes a file name: nothing that leaves the directory */
    if (conf->name[0] == '\0' || conf->name[0] == '.'
        || strchr(conf->name, '/') != NULL
        || strlen(conf->name) >= VKS_HLS_NAME_LEN)
    {
        return l;
    }

    for (k = 0; k < 2; k++) {
        dir = k == VKS_HLS_LL ? conf->ll_dir : conf->ts_dir;

        if (dir == NULL || dir[0] == '\0'
            || strlen(dir) + strlen(conf->name) + 16 >= VKS_HLS_PATH_LEN)
        {
            continue;
        }

        strcpy(l->dir[k], dir);

        /* a previous publish's: its renditions start again */
        snprintf(path, sizeof(path), "%s/%s.m3u8", dir, conf->name);
        (void) unlink(path);
    }

    return l;
}


void
vks_hls_ladder_free(vks_hls_ladder_t *l)
{
    if (l == NULL) {
        return;
    }

    pthread_mutex_destroy(&l->mutex);
    free(l->last[0]);
    free(l->last[1]);
    free(l);
}


void
vks_hls_ladder_join(vks_hls_ladder_t *l, int i, const vks_hls_output_t *out)
{
    int              k;
    vks_hls_slot_t  *s;

    if (i < 0 || i >= l->n) {
        return;
    }

    pthread_mutex_lock(&l->mutex);

    s = &l->slot[i];

    /* a reconnect with the same output keeps what was measured */
    if (!((s->rate[0].nsegs || s->rate[1].nsegs)
          && vks_hls_ladder_same(&s->out, out)))
    {
        s->out = *out;

        for (k = 0; k < 2; k++) {
            vks_hls_derive(&s->rc, &s->out, l->source_bps, k, &s->rate[k]);
        }
    }

    s->joined = 1;
    vks_hls_ladder_write_all(l);

    pthread_mutex_unlock(&l->mutex);
}


void
vks_hls_ladder_leave(vks_hls_ladder_t *l, int i)
{
    if (i < 0 || i >= l->n) {
        return;
    }

    pthread_mutex_lock(&l->mutex);

    if (l->slot[i].joined) {
        l->slot[i].joined = 0;
        l->slot[i].ll_live = 0;
        vks_hls_ladder_write_all(l);
    }

    pthread_mutex_unlock(&l->mutex);
}


void
vks_hls_ladder_ll_progress(vks_hls_ladder_t *l, int i, uint64_t msn,
    uint64_t part)
{
    vks_hls_slot_t  *s;

    if (i < 0 || i >= l->n) {
        return;
    }

    pthread_mutex_lock(&l->mutex);

    s = &l->slot[i];
    s->ll_msn = msn;
    s->ll_part = part;

    vks_hls_ladder_source(l);

    /* its playlist exists now: players that read the master find it */
    if (!s->ll_live && s->joined) {
        s->ll_live = 1;
        vks_hls_ladder_write(l, VKS_HLS_LL);
    }

    pthread_mutex_unlock(&l->mutex);
}


void
vks_hls_ladder_ll_leave(vks_hls_ladder_t *l, int i)
{
    if (i < 0 || i >= l->n) {
        return;
    }

    pthread_mutex_lock(&l->mutex);

    if (l->slot[i].ll_live) {
        l->slot[i].ll_live = 0;
        vks_hls_ladder_write(l, VKS_HLS_LL);
    }

    pthread_mutex_unlock(&l->mutex);
}


void
vks_hls_ladder_measure(vks_hls_ladder_t *l, int i, int kind, uint64_t bytes,
    uint32_t duration_ms)
{
    vks_hls_slot_t  *s;

    if (i < 0 || i >= l->n || (kind != VKS_HLS_LL && kind != VKS_HLS_TS)) {
        return;
    }

    pthread_mutex_lock(&l->mutex);

    s = &l->slot[i];

    vks_hls_ladder_source(l);

    if (s->joined && vks_hls_rate_add(&s->rate[kind], bytes, duration_ms))
    {
        vks_hls_ladder_write(l, kind);

    } else {
        vks_hls_ladder_touch(l, kind);
    }

    pthread_mutex_unlock(&l->mutex);
}


size_t
vks_hls_ladder_reports(vks_hls_ladder_t *l, int i,
    vks_llhls_report_t *reports, char (*uris)[VKS_LLHLS_URI_LEN], size_t max)
{
    int                 slot[VKS_HLS_VARIANTS_MAX];
    size_t              j, n, nlisted, listed[VKS_HLS_VARIANTS_MAX];
    vks_hls_slot_t     *s;
    vks_hls_variant_t   v[VKS_HLS_VARIANTS_MAX];

    pthread_mutex_lock(&l->mutex);

    n = vks_hls_ladder_variants(l, VKS_HLS_LL, v, slot);
    nlisted = vks_hls_master_select(v, n, listed);

    n = 0;

    for (j = 0; j < nlisted && n < max; j++) {
        if (slot[listed[j]] == i) {
            continue;
        }

        s = &l->slot[slot[listed[j]]];

        if ((size_t) snprintf(uris[n], VKS_LLHLS_URI_LEN, "../%s/index.m3u8",
                              s->esc)
            >= VKS_LLHLS_URI_LEN)
        {
            continue;                   /* no report rather than a bad one */
        }

        reports[n].uri = uris[n];
        reports[n].last_msn = s->ll_msn;
        reports[n].last_part = (int64_t) s->ll_part;
        n++;
    }

    pthread_mutex_unlock(&l->mutex);

    return n;
}


void
vks_hls_ladder_source_rate(vks_hls_ladder_t *l, uint64_t bps)
{
    pthread_mutex_lock(&l->mutex);

    /*
     * Only the first value matters (measurements take over soon after):
     * a rendition thread derives again, the event loop writes no file
     */
    if (l->source_bps == 0 && bps) {
        l->source_new = 1;
    }

    if (bps) {
        l->source_bps = bps;
    }

    pthread_mutex_unlock(&l->mutex);
}


void
vks_hls_ladder_end(vks_hls_ladder_t *l)
{
    pthread_mutex_lock(&l->mutex);
    l->ending = 1;
    pthread_mutex_unlock(&l->mutex);
}


void
vks_hls_derive(const vks_rendition_conf_t *rc, const vks_hls_output_t *out,
    uint64_t source_bps, int kind, vks_hls_rate_t *rate)
{
    double    fps, afps, vframes, aframes, pixels;
    uint64_t  cap, buf, v_peak, v_avg, a, o_peak, o_avg, source;

    memset(rate, 0, sizeof(vks_hls_rate_t));

    fps = out->frame_rate > 0 ? out->frame_rate : 30;
    afps = out->audio_rate ? out->audio_rate / 1024.0 : 44100 / 1024.0;
    vframes = out->video_codec[0] ? fps : 0;
    aframes = out->audio_codec[0] ? afps : 0;
    pixels = (double) out->width * out->height * fps;

    v_peak = 0;
    v_avg = 0;
    a = 0;

    if (out->audio_codec[0]) {
        if (rc->audio_mode == VKS_MODE_ENCODE) {
            a = rc->audio_bitrate;

        } else if (rc->video_mode != VKS_MODE_COPY || source_bps == 0) {
            a = VKS_HLS_AUDIO_BPS;
        }
    }

    if (out->video_codec[0]) {
        cap = rc->maxrate ? (uint64_t) rc->maxrate : (uint64_t) rc->bitrate;

        if (rc->video_mode == VKS_MODE_COPY) {
            /* the source's rate, audio included when that is copied too */
            source = source_bps ? source_bps
                                : (uint64_t) (pixels * VKS_HLS_BPP);
            v_avg = source;
            v_peak = 2 * source;

        } else if (cap) {
            /*
             * A VBV-capped encode sends at most maxrate plus a full
             * buffer over a segment: the bound over a 2 s segment
             */
            buf = rc->bufsize ? (uint64_t) rc->bufsize : 2 * cap;
            v_peak = cap + buf / VKS_HLS_SEGMENT_S;
            v_avg = rc->bitrate && (uint64_t) rc->bitrate < cap
                    ? (uint64_t) rc->bitrate : cap;

        } else {
            /* an uncapped crf encode: a guess until measured */
            v_avg = (uint64_t) (pixels * VKS_HLS_BPP);
            v_peak = 2 * v_avg;
        }
    }

    if (kind == VKS_HLS_TS) {
        o_peak = vks_hls_ts_bytes((v_peak + a) / 8, vframes, aframes) * 8
                 - (v_peak + a) / 8 * 8;
        o_avg = vks_hls_ts_bytes((v_avg + a) / 8, vframes, aframes) * 8
                - (v_avg + a) / 8 * 8;

    } else {
        o_peak = (uint64_t) ((vframes * VKS_HLS_MP4_VFRAME
                              + aframes * VKS_HLS_MP4_AFRAME
                              + VKS_HLS_MP4_SECOND) * 8);
        o_avg = o_peak;
    }

    rate->bandwidth = v_peak + a + o_peak;
    rate->average = v_avg + a + o_avg;

    if (rate->bandwidth == 0) {
        rate->bandwidth = 1;
    }

    if (rate->average > rate->bandwidth) {
        rate->average = rate->bandwidth;
    }
}


int
vks_hls_rate_add(vks_hls_rate_t *r, uint64_t bytes, uint32_t duration_ms)
{
    int       changed;
    uint64_t  bps, mean, diff;

    if (duration_ms == 0 || bytes > UINT64_MAX / 8000) {
        return 0;
    }

    bps = bytes * 8000 / duration_ms;

    r->nsegs++;
    r->bytes += bytes;
    r->ms += duration_ms;

    if (bps > r->peak) {
        r->peak = bps;
    }

    mean = r->bytes * 8000 / r->ms;
    changed = 0;

    if (r->nsegs == VKS_HLS_RATE_SEGMENTS) {
        /* measured from now on, whatever was derived */
        r->bandwidth = r->peak;
        r->average = mean;
        changed = 1;

    } else if (r->nsegs > VKS_HLS_RATE_SEGMENTS) {
        diff = mean > r->average ? mean - r->average : r->average - mean;

        if (diff * 100 > r->average * VKS_HLS_RATE_AVG_PERCENT) {
            r->average = mean;
            changed = 1;
        }
    }

    /* at any time: no segment above 125% of what is advertised */
    if (r->peak * 100 > r->bandwidth * VKS_HLS_RATE_PEAK_PERCENT) {
        r->bandwidth = r->peak;
        changed = 1;
    }

    if (r->average > r->bandwidth) {
        r->average = r->bandwidth;
        changed = 1;
    }

    if (r->bandwidth == 0) {
        r->bandwidth = 1;
    }

    return changed;
}


/*
 * 188-byte packets carry 184 bytes; each video frame is a PES of its own
 * (header, access unit delimiter, PCR, the last packet's stuffing: half a
 * packet on average), AAC frames get an ADTS header and share PESs
 */
uint64_t
vks_hls_ts_bytes(uint64_t payload, unsigned vframes, unsigned aframes)
{
    return payload + payload * 4 / 184
           + (uint64_t) vframes * VKS_HLS_TS_VFRAME
           + (uint64_t) aframes * VKS_HLS_TS_AFRAME;
}


static void
vks_hls_ladder_log(vks_hls_ladder_t *l, int level, const char *fmt, ...)
{
    int      n;
    char     msg[512];
    va_list  args;

    if (l->log == NULL) {
        return;
    }

    n = snprintf(msg, sizeof(msg), "vkstream: \"%s\": ", l->name);
    if (n < 0 || (size_t) n >= sizeof(msg)) {
        n = 0;
    }

    va_start(args, fmt);
    vsnprintf(msg + n, sizeof(msg) - n, fmt, args);
    va_end(args);

    l->log(l->log_data, level, msg);
}


/*
 * a + b as one URI path segment: bytes other than unreserved ones are
 * %-escaped (nginx serving the files decodes them); "" when it is too long
 */
static size_t
vks_hls_ladder_escape(char *dst, size_t size, const char *a, const char *b)
{
    size_t                i, n;
    const unsigned char  *p;
    static const char     hex[] = "0123456789ABCDEF";

    n = 0;

    for (i = 0; i < 2; i++) {
        for (p = (const unsigned char *) (i ? b : a); *p; p++) {
            if (n + 4 > size) {
                dst[0] = '\0';
                return 0;
            }

            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                || *p == '.' || *p == '~')
            {
                dst[n++] = *p;

            } else {
                dst[n++] = '%';
                dst[n++] = hex[*p >> 4];
                dst[n++] = hex[*p & 0x0f];
            }
        }
    }

    dst[n] = '\0';

    return n;
}


/*
 * The variants of one master (under the mutex): renditions with an open
 * output (and a live LL-HLS playlist for LL; published on this server for
 * the classic one), not duplicates; slot[] gets each one's rendition
 */
static size_t
vks_hls_ladder_variants(vks_hls_ladder_t *l, int kind, vks_hls_variant_t *v,
    int *slot)
{
    int                          i;
    size_t                       n;
    vks_hls_slot_t              *s;
    vks_hls_variant_t           *t;
    vks_rendition_stats_t        st[VKS_MAX_RENDITIONS];
    const vks_rendition_conf_t  *rc[VKS_MAX_RENDITIONS];

    /* the transcoder's duplicate_of, from what has joined */
    memset(st, 0, sizeof(st));

    for (i = 0; i < l->n; i++) {
        s = &l->slot[i];
        rc[i] = &s->rc;
        st[i].state = s->joined ? VKS_STATE_RUNNING : VKS_STATE_STOPPED;
        st[i].width = s->joined ? (int) s->out.width : 0;
        st[i].height = s->joined ? (int) s->out.height : 0;
    }

    vks_rendition_duplicates(rc, st, l->n);

    n = 0;

    for (i = 0; i < l->n; i++) {
        s = &l->slot[i];

        if (!s->joined || st[i].duplicate_of || s->esc[0] == '\0'
            || (kind == VKS_HLS_LL && !s->ll_live)
            || (kind == VKS_HLS_TS && s->rc.host[0] != '\0'))
        {
            continue;
        }

        t = &v[n];
        memset(t, 0, sizeof(vks_hls_variant_t));

        if ((size_t) snprintf(t->uri, sizeof(t->uri),
                              kind == VKS_HLS_LL ? "%s/index.m3u8"
                                                 : "%s.m3u8", s->esc)
            >= sizeof(t->uri))
        {
            continue;
        }

        t->bandwidth = s->rate[kind].bandwidth;
        t->average_bandwidth = s->rate[kind].average;
        strcpy(t->video_codec, s->out.video_codec);

        if (kind == VKS_HLS_TS || s->out.ll_audio) {
            strcpy(t->audio_codec, s->out.audio_codec);
        }

        if (t->video_codec[0]) {
            t->width = s->out.width;
            t->height = s->out.height;
            t->frame_rate = s->out.frame_rate;
        }

        slot[n++] = i;
    }

    return n;
}


/* under the mutex: renders the master and replaces the file if it changed */
static void
vks_hls_ladder_write(vks_hls_ladder_t *l, int kind)
{
    int                fd;
    int                slot[VKS_HLS_VARIANTS_MAX];
    char               path[VKS_HLS_PATH_LEN], tmp[VKS_HLS_PATH_LEN];
    char              *text;
    size_t             n, len, listed, size;
    ssize_t            w;
    vks_hls_variant_t  v[VKS_HLS_VARIANTS_MAX];

    if (l->ending || l->dir[kind][0] == '\0') {
        return;
    }

    n = vks_hls_ladder_variants(l, kind, v, slot);

    len = vks_hls_master_render(v, n, NULL, 0, &listed);

    /* a master without variants is no playlist: the last one stays */
    if (listed == 0) {
        return;
    }

    size = len + 1;
    text = malloc(size);
    if (text == NULL) {
        return;
    }

    vks_hls_master_render(v, n, text, size, NULL);

    if (l->last[kind] && strcmp(l->last[kind], text) == 0) {
        free(text);
        return;
    }

    /* lengths were checked in vks_hls_ladder_create() */
    snprintf(path, sizeof(path), "%s/%s.m3u8", l->dir[kind], l->name);
    snprintf(tmp, sizeof(tmp), "%s/%s.m3u8.tmp", l->dir[kind], l->name);

    /* the classic hls_path may not exist before nginx-rtmp's first file */
    if (mkdir(l->dir[kind], 0755) != 0 && errno != EEXIST) {
        vks_hls_ladder_log(l, VKS_LOG_ERR, "mkdir \"%s\": %s", l->dir[kind],
                           strerror(errno));
        free(text);
        return;
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
        vks_hls_ladder_log(l, VKS_LOG_ERR, "open \"%s\": %s", tmp,
                           strerror(errno));
        free(text);
        return;
    }

    w = write(fd, text, len);

    if (w != (ssize_t) len || close(fd) != 0 || rename(tmp, path) != 0) {
        vks_hls_ladder_log(l, VKS_LOG_ERR, "writing \"%s\": %s", path,
                           w < 0 || w == (ssize_t) len ? strerror(errno)
                                                       : "short write");
        if (w != (ssize_t) len) {
            close(fd);
        }

        (void) unlink(tmp);
        free(text);
        return;
    }

    free(l->last[kind]);
    l->last[kind] = text;
}


/*
 * Under the mutex, once a segment: nginx-rtmp's hls_cleanup deletes a
 * playlist in hls_path unmodified for hls_playlist_length (it rewrites
 * its own every fragment), and a ladder's master can stay the same for
 * the whole stream.
 */
static void
vks_hls_ladder_touch(vks_hls_ladder_t *l, int kind)
{
    char  path[VKS_HLS_PATH_LEN];

    if (l->ending || l->last[kind] == NULL) {
        return;
    }

    snprintf(path, sizeof(path), "%s/%s.m3u8", l->dir[kind], l->name);

    (void) utimensat(AT_FDCWD, path, NULL, 0);
}


static void
vks_hls_ladder_write_all(vks_hls_ladder_t *l)
{
    vks_hls_ladder_write(l, VKS_HLS_LL);
    vks_hls_ladder_write(l, VKS_HLS_TS);
}


/* under the mutex: the source's rate came, copies not yet measured */
static void
vks_hls_ladder_source(vks_hls_ladder_t *l)
{
    int              i, k, changed;
    vks_hls_slot_t  *s;

    if (!l->source_new) {
        return;
    }

    l->source_new = 0;
    changed = 0;

    for (i = 0; i < l->n; i++) {
        s = &l->slot[i];

        if (!s->joined || s->rc.video_mode != VKS_MODE_COPY) {
            continue;
        }

        for (k = 0; k < 2; k++) {
            if (s->rate[k].nsegs == 0) {
                vks_hls_derive(&s->rc, &s->out, l->source_bps, k,
                               &s->rate[k]);
                changed = 1;
            }
        }
    }

    if (changed) {
        vks_hls_ladder_write_all(l);
    }
}


static int
vks_hls_ladder_same(const vks_hls_output_t *a, const vks_hls_output_t *b)
{
    return strcmp(a->video_codec, b->video_codec) == 0
           && strcmp(a->audio_codec, b->audio_codec) == 0
           && a->ll_audio == b->ll_audio
           && a->width == b->width && a->height == b->height
           && a->frame_rate == b->frame_rate
           && a->audio_rate == b->audio_rate;
}
