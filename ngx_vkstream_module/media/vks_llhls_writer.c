
/*
 * vkstream media: one rendition's LL-HLS output: fMP4 parts, segments,
 * init segment and media playlist as files (see vks_llhls_writer.h).
 */


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libavformat/avformat.h>

#include "util/vks_err.h"
#include "vks_llhls_cut.h"
#include "vks_llhls_playlist.h"
#include "vks_llhls_writer.h"


#define VKS_LLHLS_AUDIO_MAX  256       /* audio ahead of the video */
#define VKS_LLHLS_FILES_MAX  (2 * VKS_LLHLS_SEGMENTS_MAX)
#define VKS_LLHLS_PATH_LEN   1024
#define VKS_LLHLS_IO_BUF     4096
#define VKS_LLHLS_PLAYLIST   "index.m3u8"
#define VKS_LLHLS_SKIP_FILE  "index_skip.m3u8"
#define VKS_LLHLS_INIT       "init.mp4"


/* a complete segment's files, until they are removed */
typedef struct {
    uint64_t             msn;
    uint64_t             part_first;
    unsigned             nparts;
    int64_t              gone_ms;       /* left the playlist; -1: listed */
} vks_llhls_files_t;


struct vks_llhls_writer_s {
    char                 dir[VKS_LLHLS_PATH_LEN];
    uint32_t             part_target_ms;
    int                  audio_rate;

    AVFormatContext     *oc;
    AVStream            *vst;
    AVStream            *ast;
    AVPacket            *pkt;           /* scratch for the muxer */

    /* what the muxer wrote since the last cut */
    uint8_t             *buf;
    size_t               len;
    size_t               size;
    unsigned             discard:1;
    unsigned             header:1;      /* the muxer needs its trailer */

    vks_llhls_t          pl;
    vks_llhls_cutter_t   cut;
    unsigned             part_independent:1;
    unsigned             anchored:1;
    int                  seg_fd;
    uint64_t             seg_msn;
    int64_t              last_pdt_ms;

    /* the video packet whose duration the next one tells, ms timebase */
    AVPacket            *held;
    uint32_t             last_ms;       /* duration of the one before */

    /* audio not yet written: it waits for the video to pass it */
    AVPacket            *aq[VKS_LLHLS_AUDIO_MAX];
    int64_t              aq_ms[VKS_LLHLS_AUDIO_MAX];
    unsigned             aq_head;
    unsigned             aq_n;
    AVRational           atb;

    int64_t              anchor_media_ms;
    int64_t              anchor_wall_ms;
    int64_t              media_ms;      /* newest video DTS: the clock */

    vks_llhls_files_t    files[VKS_LLHLS_FILES_MAX];
    unsigned             files_head;
    unsigned             files_n;

    char                *text;          /* the rendered playlist */
    size_t               text_size;

    vks_hls_ladder_t    *ladder;
    int                  ladder_index;
    uint64_t             seg_bytes;     /* of the open segment */
    uint32_t             seg_ms;
    size_t               nreports;
    vks_llhls_report_t   reports[VKS_MAX_RENDITIONS];
    char                 report_uri[VKS_MAX_RENDITIONS][VKS_LLHLS_URI_LEN];
};


static const AVRational  vks_llw_ms = { 1, 1000 };


static int vks_llw_av_err(char *err, size_t errlen, const char *what,
    int rc);
static int vks_llw_path(vks_llhls_writer_t *w, char *path,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int vks_llw_mkdir(const char *dir, char *err, size_t errlen);
static void vks_llw_clean(const char *dir);
static int vks_llw_io_write(void *opaque, uint8_t *data, int len);
static int vks_llw_file(vks_llhls_writer_t *w, const char *name,
    const uint8_t *data, size_t len, char *err, size_t errlen);
static int vks_llw_write_all(int fd, const uint8_t *data, size_t len);
static int vks_llw_mux(vks_llhls_writer_t *w, AVPacket *src,
    AVStream *st, AVRational tb, char *err, size_t errlen);
static int vks_llw_audio_until(vks_llhls_writer_t *w, int64_t ms,
    int inclusive, char *err, size_t errlen);
static void vks_llw_audio_drop(vks_llhls_writer_t *w, int64_t ms);
static int vks_llw_step(vks_llhls_writer_t *w, uint32_t duration_ms,
    char *err, size_t errlen);
static int vks_llw_part_end(vks_llhls_writer_t *w, int segment_end,
    char *err, size_t errlen);
static int vks_llw_segment_begin(vks_llhls_writer_t *w, char *err,
    size_t errlen);
static int vks_llw_publish(vks_llhls_writer_t *w, char *err,
    size_t errlen);
static int vks_llw_render(vks_llhls_writer_t *w, const vks_llhls_req_t *req,
    size_t *len, char *err, size_t errlen);
static void vks_llw_retire(vks_llhls_writer_t *w, int ended);
static int64_t vks_llw_wall_ms(void);


vks_llhls_writer_t *
vks_llhls_writer_open(const vks_llhls_writer_conf_t *conf, char *err,
    size_t errlen)
{
    int                  rc;
    AVStream            *st;
    AVDictionary        *opts;
    vks_llhls_conf_t     lc;
    vks_llhls_writer_t  *w;
    uint8_t             *iobuf;

    if (conf->video == NULL || conf->video->codec_id != AV_CODEC_ID_H264) {
        vks_err(err, errlen, "LL-HLS needs H.264 video");
        return NULL;
    }

    if (strlen(conf->dir) + 32 >= VKS_LLHLS_PATH_LEN) {
        vks_err(err, errlen, "path \"%s\" too long", conf->dir);
        return NULL;
    }

    w = calloc(1, sizeof(vks_llhls_writer_t));
    if (w == NULL) {
        vks_err(err, errlen, "out of memory");
        return NULL;
    }

    strcpy(w->dir, conf->dir);
    w->part_target_ms = conf->part_target_ms;
    w->seg_fd = -1;
    w->ladder = conf->ladder;
    w->ladder_index = conf->ladder_index;

    memset(&lc, 0, sizeof(vks_llhls_conf_t));
    lc.part_target_ms = conf->part_target_ms;

    /*
     * TARGETDURATION grows with the first segment (one source GOP): the
     * playlist is published when it is complete.  2 s is the GOP of most
     * streaming software, the least it can be
     */
    lc.target_ms = conf->part_target_ms > 2000 ? conf->part_target_ms : 2000;
    lc.window = conf->window;
    lc.skip = conf->window >= VKS_LLHLS_SKIP_WINDOW;
    strcpy(lc.map_uri, VKS_LLHLS_INIT);

    if (vks_llhls_init(&w->pl, &lc, err, errlen) != 0) {
        free(w);
        return NULL;
    }

    w->cut.part_target_ms = conf->part_target_ms;
    w->cut.parts_max = VKS_LLHLS_SEG_PARTS_MAX;

    if (vks_llw_mkdir(w->dir, err, errlen) != 0) {
        free(w);
        return NULL;
    }

    /* a previous publish's files: names start again from 0 */
    vks_llw_clean(w->dir);

    w->pkt = av_packet_alloc();
    w->held = av_packet_alloc();

    if (w->pkt == NULL || w->held == NULL) {
        vks_err(err, errlen, "out of memory");
        goto failed;
    }

    rc = avformat_alloc_output_context2(&w->oc, NULL, "mp4", NULL);
    if (rc < 0) {
        vks_llw_av_err(err, errlen, "mp4 muxer", rc);
        goto failed;
    }

    iobuf = av_malloc(VKS_LLHLS_IO_BUF);
    if (iobuf == NULL) {
        vks_err(err, errlen, "out of memory");
        goto failed;
    }

    /* into memory: each cut's bytes become one part file */
    w->oc->pb = avio_alloc_context(iobuf, VKS_LLHLS_IO_BUF, 1, w, NULL,
                                   vks_llw_io_write, NULL);
    if (w->oc->pb == NULL) {
        av_free(iobuf);
        vks_err(err, errlen, "out of memory");
        goto failed;
    }

    w->oc->flags |= AVFMT_FLAG_CUSTOM_IO;

    /* packets come in DTS order: the first one is the earliest */
    w->oc->avoid_negative_ts = AVFMT_AVOID_NEG_TS_MAKE_ZERO;

    st = avformat_new_stream(w->oc, NULL);
    if (st == NULL || avcodec_parameters_copy(st->codecpar, conf->video) < 0)
    {
        vks_err(err, errlen, "out of memory");
        goto failed;
    }

    st->codecpar->codec_tag = 0;
    st->time_base = vks_llw_ms;
    w->vst = st;

    if (conf->audio && conf->audio->codec_id == AV_CODEC_ID_AAC
        && conf->audio->sample_rate > 0)
    {
        st = avformat_new_stream(w->oc, NULL);
        if (st == NULL
            || avcodec_parameters_copy(st->codecpar, conf->audio) < 0)
        {
            vks_err(err, errlen, "out of memory");
            goto failed;
        }

        st->codecpar->codec_tag = 0;
        st->time_base = (AVRational) { 1, conf->audio->sample_rate };
        w->ast = st;
        w->audio_rate = conf->audio->sample_rate;
    }

    /*
     * cmaf: fragmented, empty moov, tfdt in every moof; frag_custom: a
     * fragment (one part) only when av_write_frame(oc, NULL) asks
     */
    opts = NULL;
    av_dict_set(&opts, "movflags",
                "cmaf+frag_custom+empty_moov+default_base_moof", 0);

    rc = avformat_write_header(w->oc, &opts);
    av_dict_free(&opts);

    if (rc < 0) {
        vks_llw_av_err(err, errlen, "writing the mp4 header", rc);
        goto failed;
    }

    w->header = 1;
    avio_flush(w->oc->pb);

    if (w->len == 0) {
        vks_err(err, errlen, "the mp4 muxer wrote no init segment");
        goto failed;
    }

    if (vks_llw_file(w, VKS_LLHLS_INIT, w->buf, w->len, err, errlen) != 0)
    {
        goto failed;
    }

    w->len = 0;

    return w;

failed:

    vks_llhls_writer_close(w, 0, NULL, 0);

    return NULL;
}


void
vks_llhls_writer_anchor(vks_llhls_writer_t *w, int64_t media_ms,
    int64_t wall_ms)
{
    if (w->anchored) {
        return;
    }

    w->anchor_media_ms = media_ms;
    w->anchor_wall_ms = wall_ms;
    w->anchored = 1;
}


int
vks_llhls_writer_video(vks_llhls_writer_t *w, const AVPacket *pkt,
    AVRational tb, char *err, size_t errlen)
{
    int64_t   dts;
    uint32_t  d;

    if (pkt->dts == AV_NOPTS_VALUE && pkt->pts == AV_NOPTS_VALUE) {
        return 0;
    }

    dts = av_rescale_q(pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts, tb,
                       vks_llw_ms);

    if (w->held->data) {
        if (dts <= w->held->dts) {
            return 0;                   /* the muxer needs rising DTS */
        }

        /*
         * A gap (frames dropped, the output reconnecting) longer than a
         * part is not one frame's duration: the part keeps its limit
         */
        d = (uint32_t) (dts - w->held->dts);

        if (d > w->part_target_ms) {
            d = w->last_ms ? w->last_ms : w->part_target_ms;
        }

        if (vks_llw_step(w, d, err, errlen) != 0) {
            return -1;
        }

        w->last_ms = d;
    }

    if (av_packet_ref(w->held, pkt) < 0) {
        return vks_err(err, errlen, "out of memory");
    }

    av_packet_rescale_ts(w->held, tb, vks_llw_ms);
    w->held->dts = dts;

    if (w->held->pts == AV_NOPTS_VALUE) {
        w->held->pts = dts;
    }

    w->media_ms = dts;

    return 0;
}


int
vks_llhls_writer_audio(vks_llhls_writer_t *w, const AVPacket *pkt,
    AVRational tb, char *err, size_t errlen)
{
    unsigned   i;
    AVPacket  *p;

    if (w->ast == NULL || pkt->dts == AV_NOPTS_VALUE) {
        return 0;
    }

    if (w->aq_n == VKS_LLHLS_AUDIO_MAX) {
        /* the video stalls: audio goes on alone */
        if (vks_llw_audio_until(w, w->aq_ms[w->aq_head], 1, err, errlen)
            != 0)
        {
            return -1;
        }

        if (w->aq_n == VKS_LLHLS_AUDIO_MAX) {
            vks_llw_audio_drop(w, w->aq_ms[w->aq_head] + 1);
        }
    }

    p = av_packet_clone(pkt);
    if (p == NULL) {
        return vks_err(err, errlen, "out of memory");
    }

    av_packet_rescale_ts(p, tb, w->ast->time_base);

    if (p->duration <= 0) {
        p->duration = 1024;             /* AAC frames, in 1/rate */
    }

    w->atb = w->ast->time_base;

    i = (w->aq_head + w->aq_n) % VKS_LLHLS_AUDIO_MAX;
    w->aq[i] = p;
    w->aq_ms[i] = av_rescale_q(p->dts, w->atb, vks_llw_ms);
    w->aq_n++;

    return 0;
}


uint32_t
vks_llhls_writer_segment_limit_ms(const vks_llhls_writer_t *w)
{
    return w->pl.published ? vks_llhls_segment_limit_ms(&w->pl) : 0;
}


int
vks_llhls_writer_close(vks_llhls_writer_t *w, int ended, char *err,
    size_t errlen)
{
    int       rc;
    char      path[VKS_LLHLS_PATH_LEN];
    int64_t   end;
    unsigned  i;
    uint32_t  d;

    rc = 0;

    if (ended && w->header && w->held->data) {
        d = w->held->duration > 0 && w->held->duration <= w->part_target_ms
            ? (uint32_t) w->held->duration
            : (w->last_ms ? w->last_ms : 40);
        end = w->held->dts + d;

        rc = vks_llw_step(w, d, err, errlen);

        if (rc == 0 && w->cut.started && w->cut.part_ms) {
            rc = vks_llw_audio_until(w, end, 0, err, errlen);

            if (rc == 0) {
                rc = vks_llw_part_end(w, 1, err, errlen);
            }
        }

        if (rc == 0) {
            vks_llhls_end(&w->pl);
            rc = vks_llw_publish(w, err, errlen);
        }
    }

    if (ended) {
        /* the media clock stops here: no later part would retire them */
        vks_llw_retire(w, 1);
    }

    if (w->oc) {
        /* the trailer (an mfra) is of no use to anyone: dropped */
        w->discard = 1;

        if (w->header) {
            av_write_trailer(w->oc);
        }

        if (w->oc->pb) {
            av_freep(&w->oc->pb->buffer);
            avio_context_free(&w->oc->pb);
        }

        avformat_free_context(w->oc);
    }

    if (w->seg_fd != -1) {
        /* a segment cut short by an error: never listed, never renamed */
        close(w->seg_fd);

        if (vks_llw_path(w, path, "s%llu.m4s.tmp",
                           (unsigned long long) w->seg_msn) == 0)
        {
            (void) unlink(path);
        }
    }

    if (w->ladder) {
        vks_hls_ladder_ll_leave(w->ladder, w->ladder_index);
    }

    for (i = 0; i < w->aq_n; i++) {
        av_packet_free(&w->aq[(w->aq_head + i) % VKS_LLHLS_AUDIO_MAX]);
    }

    av_packet_free(&w->pkt);
    av_packet_free(&w->held);
    free(w->buf);
    free(w->text);
    free(w);

    return rc;
}



static int
vks_llw_av_err(char *err, size_t errlen, const char *what, int rc)
{
    char  buf[AV_ERROR_MAX_STRING_SIZE];

    av_strerror(rc, buf, sizeof(buf));

    return vks_err(err, errlen, "%s: %s", what, buf);
}


static int
vks_llw_path(vks_llhls_writer_t *w, char *path, const char *fmt, ...)
{
    int      n, m;
    va_list  args;

    n = snprintf(path, VKS_LLHLS_PATH_LEN, "%s/", w->dir);

    va_start(args, fmt);
    m = vsnprintf(path + n, VKS_LLHLS_PATH_LEN - n, fmt, args);
    va_end(args);

    return (m < 0 || n + m >= VKS_LLHLS_PATH_LEN) ? -1 : 0;
}


/* the directory and its parent (the configured path) */
static int
vks_llw_mkdir(const char *dir, char *err, size_t errlen)
{
    char  *slash, parent[VKS_LLHLS_PATH_LEN];

    if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
        return 0;
    }

    if (errno == ENOENT) {
        strcpy(parent, dir);
        slash = strrchr(parent, '/');

        if (slash && slash != parent) {
            *slash = '\0';

            if ((mkdir(parent, 0755) == 0 || errno == EEXIST)
                && (mkdir(dir, 0755) == 0 || errno == EEXIST))
            {
                return 0;
            }
        }
    }

    return vks_err(err, errlen, "mkdir \"%s\": %s", dir,
                         strerror(errno));
}


/* only names this writer makes: the directory is the rendition's own */
static void
vks_llw_clean(const char *dir)
{
    DIR            *d;
    char            path[VKS_LLHLS_PATH_LEN];
    size_t          len;
    struct dirent  *e;

    d = opendir(dir);
    if (d == NULL) {
        return;
    }

    while ((e = readdir(d)) != NULL) {
        len = strlen(e->d_name);

        if (!((e->d_name[0] == 'p' || e->d_name[0] == 's')
              && len > 5 && strcmp(e->d_name + len - 4, ".m4s") == 0)
            && !(len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)
            && strcmp(e->d_name, VKS_LLHLS_INIT) != 0
            && strcmp(e->d_name, VKS_LLHLS_PLAYLIST) != 0
            && strcmp(e->d_name, VKS_LLHLS_SKIP_FILE) != 0)
        {
            continue;
        }

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, e->d_name)
            < sizeof(path))
        {
            (void) unlink(path);
        }
    }

    closedir(d);
}


static int
vks_llw_io_write(void *opaque, uint8_t *data, int len)
{
    size_t               size;
    uint8_t             *buf;
    vks_llhls_writer_t  *w = opaque;

    if (w->discard || len <= 0) {
        return len;
    }

    if (w->len + len > w->size) {
        size = w->size ? w->size : 65536;

        while (size < w->len + len) {
            size *= 2;
        }

        buf = realloc(w->buf, size);
        if (buf == NULL) {
            return AVERROR(ENOMEM);
        }

        w->buf = buf;
        w->size = size;
    }

    memcpy(w->buf + w->len, data, len);
    w->len += len;

    return len;
}


static int
vks_llw_write_all(int fd, const uint8_t *data, size_t len)
{
    ssize_t  n;

    while (len) {
        n = write(fd, data, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            return -1;
        }

        data += n;
        len -= n;
    }

    return 0;
}


/* under a temporary name, then renamed: readers see it whole or not */
static int
vks_llw_file(vks_llhls_writer_t *w, const char *name, const uint8_t *data,
    size_t len, char *err, size_t errlen)
{
    int   fd;
    char  tmp[VKS_LLHLS_PATH_LEN], path[VKS_LLHLS_PATH_LEN];

    if (vks_llw_path(w, tmp, "%s.tmp", name) != 0
        || vks_llw_path(w, path, "%s", name) != 0)
    {
        return vks_err(err, errlen, "path of \"%s\" too long", name);
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
        return vks_err(err, errlen, "open \"%s\": %s", tmp,
                             strerror(errno));
    }

    if (vks_llw_write_all(fd, data, len) != 0) {
        vks_err(err, errlen, "write \"%s\": %s", tmp,
                      errno ? strerror(errno) : "short write");
        close(fd);
        (void) unlink(tmp);
        return -1;
    }

    if (close(fd) != 0 || rename(tmp, path) != 0) {
        vks_err(err, errlen, "writing \"%s\": %s", path,
                      strerror(errno));
        (void) unlink(tmp);
        return -1;
    }

    return 0;
}


static int
vks_llw_mux(vks_llhls_writer_t *w, AVPacket *src, AVStream *st,
    AVRational tb, char *err, size_t errlen)
{
    int  rc;

    rc = av_packet_ref(w->pkt, src);
    if (rc < 0) {
        return vks_llw_av_err(err, errlen, "packet", rc);
    }

    av_packet_rescale_ts(w->pkt, tb, st->time_base);
    w->pkt->stream_index = st->index;

    rc = av_write_frame(w->oc, w->pkt);
    av_packet_unref(w->pkt);

    if (rc < 0) {
        return vks_llw_av_err(err, errlen, "mp4 muxer", rc);
    }

    return 0;
}


/* queued audio before ms (or at it too) into the open part */
static int
vks_llw_audio_until(vks_llhls_writer_t *w, int64_t ms, int inclusive,
    char *err, size_t errlen)
{
    int        rc;
    AVPacket  *p;

    while (w->aq_n) {
        if (w->aq_ms[w->aq_head] > ms
            || (!inclusive && w->aq_ms[w->aq_head] == ms))
        {
            break;
        }

        p = w->aq[w->aq_head];
        w->aq_head = (w->aq_head + 1) % VKS_LLHLS_AUDIO_MAX;
        w->aq_n--;

        rc = w->cut.started ? vks_llw_mux(w, p, w->ast, w->atb, err, errlen)
                            : 0;
        av_packet_free(&p);

        if (rc != 0) {
            return -1;
        }
    }

    return 0;
}


/* audio before the first segment: the stream starts at its IDR */
static void
vks_llw_audio_drop(vks_llhls_writer_t *w, int64_t ms)
{
    while (w->aq_n && w->aq_ms[w->aq_head] < ms) {
        av_packet_free(&w->aq[w->aq_head]);
        w->aq_head = (w->aq_head + 1) % VKS_LLHLS_AUDIO_MAX;
        w->aq_n--;
    }
}


/* the held video packet, now that its duration is known */
static int
vks_llw_step(vks_llhls_writer_t *w, uint32_t duration_ms, char *err,
    size_t errlen)
{
    int              key;
    int64_t          dts;
    vks_llhls_cut_e  cut;

    key = (w->held->flags & AV_PKT_FLAG_KEY) != 0;
    dts = w->held->dts;

    cut = vks_llhls_cut(&w->cut, key, duration_ms);

    switch (cut) {

    case VKS_LLHLS_CUT_SKIP:
        vks_llw_audio_drop(w, dts + duration_ms);
        av_packet_unref(w->held);
        return 0;

    case VKS_LLHLS_CUT_START:
        vks_llw_audio_drop(w, dts);

        if (vks_llw_segment_begin(w, err, errlen) != 0) {
            return -1;
        }

        break;

    case VKS_LLHLS_CUT_PART:
    case VKS_LLHLS_CUT_SEGMENT:
        if (vks_llw_audio_until(w, dts, 0, err, errlen) != 0
            || vks_llw_part_end(w, cut == VKS_LLHLS_CUT_SEGMENT, err,
                                  errlen) != 0)
        {
            return -1;
        }

        if (cut == VKS_LLHLS_CUT_SEGMENT
            && vks_llw_segment_begin(w, err, errlen) != 0)
        {
            return -1;
        }

        if (vks_llw_publish(w, err, errlen) != 0) {
            return -1;
        }

        break;

    case VKS_LLHLS_CUT_NONE:
        break;
    }

    if (w->cut.part_ms == 0 || cut != VKS_LLHLS_CUT_NONE) {
        w->part_independent = key;
    }

    w->held->duration = duration_ms;

    if (vks_llw_audio_until(w, dts, 1, err, errlen) != 0
        || vks_llw_mux(w, w->held, w->vst, vks_llw_ms, err, errlen) != 0)
    {
        return -1;
    }

    av_packet_unref(w->held);
    vks_llhls_cut_add(&w->cut, cut, duration_ms);

    return 0;
}


/* the muxer's fragment becomes a part file and goes into its segment */
static int
vks_llw_part_end(vks_llhls_writer_t *w, int segment_end, char *err,
    size_t errlen)
{
    int                rc;
    char               name[VKS_LLHLS_URI_LEN], tmp[VKS_LLHLS_PATH_LEN];
    char               path[VKS_LLHLS_PATH_LEN];
    uint32_t           d;
    vks_llhls_files_t  *f;

    rc = av_write_frame(w->oc, NULL);
    if (rc < 0) {
        return vks_llw_av_err(err, errlen, "mp4 fragment", rc);
    }

    /* av_write_frame() flushes only with flush_packets: ll-hls.md §6 */
    avio_flush(w->oc->pb);

    if (w->len == 0) {
        return vks_err(err, errlen, "the mp4 muxer wrote no fragment");
    }

    snprintf(name, sizeof(name), "p%llu.m4s",
             (unsigned long long) w->pl.next_part);

    if (vks_llw_file(w, name, w->buf, w->len, err, errlen) != 0) {
        return -1;
    }

    if (vks_llw_write_all(w->seg_fd, w->buf, w->len) != 0) {
        return vks_err(err, errlen, "write segment %llu: %s",
                             (unsigned long long) w->seg_msn,
                             strerror(errno));
    }

    w->seg_bytes += w->len;
    w->len = 0;

    /* a part stretched by a gap still says at most PART-TARGET */
    d = w->cut.part_ms;
    if (d > w->part_target_ms) {
        d = w->part_target_ms;
    }

    if (vks_llhls_part_add(&w->pl, d ? d : 1, w->part_independent, name,
                           err, errlen) != 0)
    {
        return -1;
    }

    w->seg_ms += d ? d : 1;

    if (!segment_end) {
        return 0;
    }

    close(w->seg_fd);
    w->seg_fd = -1;

    if (vks_llw_path(w, tmp, "s%llu.m4s.tmp",
                       (unsigned long long) w->seg_msn) != 0
        || vks_llw_path(w, path, "s%llu.m4s",
                          (unsigned long long) w->seg_msn) != 0
        || rename(tmp, path) != 0)
    {
        return vks_err(err, errlen, "rename segment %llu: %s",
                             (unsigned long long) w->seg_msn,
                             strerror(errno));
    }

    if (vks_llhls_segment_end(&w->pl, err, errlen) != 0) {
        return -1;
    }

    /* the segment as players fetch it: its bit rate for the master */
    if (w->ladder) {
        vks_hls_ladder_measure(w->ladder, w->ladder_index, VKS_HLS_LL,
                               w->seg_bytes, w->seg_ms);
    }

    w->seg_bytes = 0;
    w->seg_ms = 0;

    if (w->files_n == VKS_LLHLS_FILES_MAX) {
        w->files[w->files_head].gone_ms = INT64_MIN;
        vks_llw_retire(w, 0);
    }

    f = &w->files[(w->files_head + w->files_n) % VKS_LLHLS_FILES_MAX];
    f->msn = w->seg_msn;
    f->part_first = w->pl.next_part - w->cut.nparts - 1;
    f->nparts = w->cut.nparts + 1;
    f->gone_ms = -1;
    w->files_n++;

    return 0;
}


static int
vks_llw_segment_begin(vks_llhls_writer_t *w, char *err, size_t errlen)
{
    char     name[VKS_LLHLS_URI_LEN], tmp[VKS_LLHLS_PATH_LEN];
    int64_t  pdt;

    w->seg_msn = w->pl.next_msn;
    w->seg_bytes = 0;
    w->seg_ms = 0;

    snprintf(name, sizeof(name), "s%llu.m4s",
             (unsigned long long) w->seg_msn);

    if (vks_llw_path(w, tmp, "%s.tmp", name) != 0) {
        return vks_err(err, errlen, "path too long");
    }

    w->seg_fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->seg_fd == -1) {
        return vks_err(err, errlen, "open \"%s\": %s", tmp,
                             strerror(errno));
    }

    /* the capture time of its first picture */
    pdt = w->anchored ? w->anchor_wall_ms + w->held->pts - w->anchor_media_ms
                      : vks_llw_wall_ms();

    if (pdt <= w->last_pdt_ms) {
        pdt = w->last_pdt_ms + 1;
    }

    w->last_pdt_ms = pdt;

    if (vks_llhls_segment_start(&w->pl, pdt, name, err, errlen) != 0) {
        return -1;
    }

    /* from the first publish on, TARGETDURATION bounds every segment */
    w->cut.segment_limit_ms = vks_llhls_writer_segment_limit_ms(w);

    return 0;
}


/*
 * The playlist, once a segment is complete (it fixes TARGETDURATION): with
 * delta updates, the skipping one first, so that it is never older than
 * the full one; then the ladder learns the last part, which siblings
 * report only once this playlist has it
 */
static int
vks_llw_publish(vks_llhls_writer_t *w, char *err, size_t errlen)
{
    char             name[VKS_LLHLS_URI_LEN];
    size_t           n;
    uint64_t         msn, part;
    vks_llhls_req_t  skip;

    if (w->pl.nsegs == 0) {
        return 0;
    }

    if (!w->pl.ended) {
        snprintf(name, sizeof(name), "p%llu.m4s",
                 (unsigned long long) w->pl.next_part);

        if (vks_llhls_hint(&w->pl, name, err, errlen) != 0) {
            return -1;
        }
    }

    w->nreports = w->ladder
                  ? vks_hls_ladder_reports(w->ladder, w->ladder_index,
                                           w->reports, w->report_uri,
                                           VKS_MAX_RENDITIONS)
                  : 0;

    if (w->pl.conf.skip) {
        memset(&skip, 0, sizeof(vks_llhls_req_t));
        skip.skip = 1;

        if (vks_llw_render(w, &skip, &n, err, errlen) != 0
            || vks_llw_file(w, VKS_LLHLS_SKIP_FILE, (uint8_t *) w->text, n,
                            err, errlen) != 0)
        {
            return -1;
        }
    }

    if (vks_llw_render(w, NULL, &n, err, errlen) != 0) {
        return -1;
    }

    w->cut.segment_limit_ms = vks_llhls_writer_segment_limit_ms(w);

    if (vks_llw_file(w, VKS_LLHLS_PLAYLIST, (uint8_t *) w->text, n, err,
                       errlen) != 0)
    {
        return -1;
    }

    if (w->ladder && vks_llhls_last_part(&w->pl, &msn, &part) == 0) {
        vks_hls_ladder_ll_progress(w->ladder, w->ladder_index, msn, part);
    }

    vks_llw_retire(w, 0);

    return 0;
}


/* into w->text, grown as needed */
static int
vks_llw_render(vks_llhls_writer_t *w, const vks_llhls_req_t *req,
    size_t *len, char *err, size_t errlen)
{
    char    *text;
    size_t   n;

    for ( ;; ) {
        n = vks_llhls_render(&w->pl, req, w->reports, w->nreports, w->text,
                             w->text_size);

        if (n < w->text_size) {
            break;
        }

        text = realloc(w->text, n + 1);
        if (text == NULL) {
            return vks_err(err, errlen, "out of memory");
        }

        w->text = text;
        w->text_size = n + 1;
    }

    *len = n;

    return 0;
}


/*
 * Segments that left the playlist stay downloadable for 3 target
 * durations (players that loaded an older playlist), then go with their
 * parts; the media time is the clock.  When the stream has ended that
 * clock stops, so those already out go at once: a player of the ended
 * playlist needs only what it lists.
 */
static void
vks_llw_retire(vks_llhls_writer_t *w, int ended)
{
    char                path[VKS_LLHLS_PATH_LEN];
    uint64_t            first, i;
    vks_llhls_files_t  *f;

    first = w->pl.nsegs ? w->pl.segs[w->pl.seg_head].msn : w->pl.next_msn;

    for (i = 0; i < w->files_n; i++) {
        f = &w->files[(w->files_head + i) % VKS_LLHLS_FILES_MAX];

        if (f->msn < first && f->gone_ms == -1) {
            f->gone_ms = w->media_ms;
        }
    }

    while (w->files_n) {
        f = &w->files[w->files_head];

        if (f->gone_ms == -1
            || (!ended && f->gone_ms != INT64_MIN
                && w->media_ms - f->gone_ms < 3000 * (int64_t) w->pl.td))
        {
            break;
        }

        if (vks_llw_path(w, path, "s%llu.m4s",
                           (unsigned long long) f->msn) == 0)
        {
            (void) unlink(path);
        }

        for (i = 0; i < f->nparts; i++) {
            if (vks_llw_path(w, path, "p%llu.m4s",
                               (unsigned long long) (f->part_first + i))
                == 0)
            {
                (void) unlink(path);
            }
        }

        w->files_head = (w->files_head + 1) % VKS_LLHLS_FILES_MAX;
        w->files_n--;
    }
}


static int64_t
vks_llw_wall_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
