
/*
 * vkstream cluster: JSON documents in Redis (see vks_cluster_doc.h).
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vks_cluster_doc.h"
#include "media/vks_conf.h"
#include "util/vks_utf8.h"


#define VKS_CLUSTER_DOC_FLAGS  (JSON_COMPACT | JSON_REAL_PRECISION(6))


static json_t *vks_cluster_doc_str(const char *p, size_t len);
static json_t *vks_cluster_doc_real(double v);
static json_t *vks_cluster_doc_input(const vks_stream_stats_t *s);
static json_t *vks_cluster_doc_renditions(const vks_stream_stats_t *s);
static char *vks_cluster_doc_dump(json_t *j, size_t *len);
static json_t *vks_cluster_doc_load(const char *json, size_t len,
    size_t max, char *err, size_t errlen);
static int vks_cluster_doc_get_str(json_t *o, const char *key, char *dst,
    size_t size, size_t *len);
static int64_t vks_cluster_doc_get_int(json_t *o, const char *key);
static int vks_cluster_doc_get_enum(json_t *o, const char *key, int max,
    int dflt);
static double vks_cluster_doc_get_real(json_t *o, const char *key);
static void vks_cluster_doc_stats(json_t *o, vks_stream_stats_t *s);


char *
vks_cluster_doc_streams_encode(const vks_cluster_doc_stream_t *s, size_t n,
    size_t *len)
{
    size_t   i;
    json_t  *a, *o;

    a = json_array();
    if (a == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        o = json_pack("{sIsIsIsosososososisIsosbsbsososo}",
                      "id", (json_int_t) s[i].id,
                      "start", (json_int_t) s[i].start,
                      "end", (json_int_t) s[i].end,
                      "app", vks_cluster_doc_str(s[i].app, s[i].app_len),
                      "name", vks_cluster_doc_str(s[i].name, s[i].name_len),
                      "addr", vks_cluster_doc_str(s[i].addr, s[i].addr_len),
                      "keywords", vks_cluster_doc_str(s[i].keywords,
                                                      s[i].keywords_len),
                      "tag", vks_cluster_doc_str(s[i].tag, s[i].tag_len),
                      "rule_state", s[i].rule_state,
                      "rule_code", (json_int_t) s[i].rule_code,
                      "rule_error", vks_cluster_doc_str(s[i].rule_error,
                                                        s[i].rule_error_len),
                      "transcoding", s[i].transcoding,
                      "llhls", s[i].llhls,
                      "input", s[i].has_stats
                               ? vks_cluster_doc_input(&s[i].stats)
                               : json_null(),
                      "renditions", s[i].has_stats
                               ? vks_cluster_doc_renditions(&s[i].stats)
                               : json_array(),
                      "has_stats", s[i].has_stats ? json_true()
                                                  : json_false());

        if (o == NULL || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }

    return vks_cluster_doc_dump(a, len);
}


char *
vks_cluster_doc_rules_encode(const vks_cluster_doc_rule_t *r, size_t n,
    size_t *len)
{
    size_t   i;
    json_t  *a, *o;

    a = json_array();
    if (a == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        o = json_pack("{sososisIso}",
                      "tag", vks_cluster_doc_str(r[i].tag, r[i].tag_len),
                      "value", vks_cluster_doc_str(r[i].value,
                                                   r[i].value_len),
                      "state", r[i].state,
                      "code", (json_int_t) r[i].code,
                      "error", vks_cluster_doc_str(r[i].error,
                                                   r[i].error_len));

        if (o == NULL || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }

    return vks_cluster_doc_dump(a, len);
}


typedef int (*vks_cluster_doc_entry_pt)(json_t *o, void *entry, size_t i,
    char *err, size_t errlen);


/*
 * The decoders' common part: an array of at most max objects into a
 * calloc()ed array of entries of "size" bytes, each filled by "entry";
 * the first entry refused refuses the whole document.
 */
static int
vks_cluster_doc_decode(const char *json, size_t len, size_t max, size_t size,
    vks_cluster_doc_entry_pt entry, void **out, size_t *n, char *err,
    size_t errlen)
{
    size_t   i;
    char    *e;
    json_t  *a, *o;

    *out = NULL;
    *n = 0;

    a = vks_cluster_doc_load(json, len, max, err, errlen);
    if (a == NULL) {
        return -1;
    }

    if (json_array_size(a) == 0) {
        json_decref(a);
        return 0;
    }

    e = calloc(json_array_size(a), size);
    if (e == NULL) {
        json_decref(a);
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    json_array_foreach(a, i, o) {
        if (entry(o, e + i * size, i, err, errlen) != 0) {
            free(e);
            json_decref(a);
            return -1;
        }
    }

    *out = e;
    *n = json_array_size(a);

    json_decref(a);

    return 0;
}


static int
vks_cluster_doc_stream_entry(json_t *o, void *entry, size_t i, char *err,
    size_t errlen)
{
    vks_cluster_doc_stream_t  *s = entry;

    if (!json_is_object(o)
        || vks_cluster_doc_get_str(o, "app", s->app, sizeof(s->app),
                                   &s->app_len) != 0
        || vks_cluster_doc_get_str(o, "name", s->name, sizeof(s->name),
                                   &s->name_len) != 0
        || s->name_len == 0 || s->app_len == 0)
    {
        snprintf(err, errlen, "stream %zu: no app or name", i);
        return -1;
    }

    s->id = (uint64_t) vks_cluster_doc_get_int(o, "id");
    s->start = vks_cluster_doc_get_int(o, "start");
    s->end = vks_cluster_doc_get_int(o, "end");
    (void) vks_cluster_doc_get_str(o, "addr", s->addr, sizeof(s->addr),
                                   &s->addr_len);
    (void) vks_cluster_doc_get_str(o, "keywords", s->keywords,
                                   sizeof(s->keywords), &s->keywords_len);
    (void) vks_cluster_doc_get_str(o, "tag", s->tag, sizeof(s->tag),
                                   &s->tag_len);
    (void) vks_cluster_doc_get_str(o, "rule_error", s->rule_error,
                                   sizeof(s->rule_error),
                                   &s->rule_error_len);
    s->rule_state = vks_cluster_doc_get_enum(o, "rule_state", 3, 0);
    s->rule_code = vks_cluster_doc_get_int(o, "rule_code");
    s->transcoding = json_is_true(json_object_get(o, "transcoding"));
    s->llhls = json_is_true(json_object_get(o, "llhls"));
    s->has_stats = json_is_true(json_object_get(o, "has_stats"));

    if (s->has_stats) {
        vks_cluster_doc_stats(o, &s->stats);
    }

    return 0;
}


int
vks_cluster_doc_streams_decode(const char *json, size_t len,
    vks_cluster_doc_stream_t **out, size_t *n, char *err, size_t errlen)
{
    int    rc;
    void  *p;

    rc = vks_cluster_doc_decode(json, len, VKS_CLUSTER_DOC_STREAMS_MAX,
                                sizeof(vks_cluster_doc_stream_t),
                                vks_cluster_doc_stream_entry, &p, n, err,
                                errlen);
    *out = p;

    return rc;
}


static int
vks_cluster_doc_rule_entry(json_t *o, void *entry, size_t i, char *err,
    size_t errlen)
{
    vks_cluster_doc_rule_t  *r = entry;

    if (!json_is_object(o)
        || vks_cluster_doc_get_str(o, "tag", r->tag, sizeof(r->tag),
                                   &r->tag_len) != 0
        || r->tag_len == 0)
    {
        snprintf(err, errlen, "rule %zu: no tag", i);
        return -1;
    }

    (void) vks_cluster_doc_get_str(o, "value", r->value, sizeof(r->value),
                                   &r->value_len);
    (void) vks_cluster_doc_get_str(o, "error", r->error, sizeof(r->error),
                                   &r->error_len);
    r->state = vks_cluster_doc_get_enum(o, "state", 3, 0);
    r->code = vks_cluster_doc_get_int(o, "code");

    return 0;
}


int
vks_cluster_doc_rules_decode(const char *json, size_t len,
    vks_cluster_doc_rule_t **out, size_t *n, char *err, size_t errlen)
{
    int    rc;
    void  *p;

    rc = vks_cluster_doc_decode(json, len, VKS_CLUSTER_DOC_RULES_MAX,
                                sizeof(vks_cluster_doc_rule_t),
                                vks_cluster_doc_rule_entry, &p, n, err,
                                errlen);
    *out = p;

    return rc;
}


/* --- encoding ------------------------------------------------------------ */

static json_t *
vks_cluster_doc_str(const char *p, size_t len)
{
    char    *buf;
    json_t  *j;

    if (vks_utf8_valid(p, len)) {
        return json_stringn(p, len);
    }

    buf = malloc(VKS_UTF8_REPAIR_SIZE(len) + 1);
    if (buf == NULL) {
        return NULL;
    }

    j = json_stringn(buf, vks_utf8_repair(buf, p, len));
    free(buf);

    return j;
}


/*
 * jansson refuses NaN and infinities (json_real() gives NULL, and so the
 * whole document would fail as if out of memory): they go out as 0
 */

static json_t *
vks_cluster_doc_real(double v)
{
    return json_real(isfinite(v) ? v : 0.0);
}


static json_t *
vks_cluster_doc_input(const vks_stream_stats_t *s)
{
    return json_pack("{sososisisososIsIsI}",
                     "video_codec", vks_cluster_doc_str(s->vcodec,
                                        strnlen(s->vcodec, VKS_CODEC_LEN)),
                     "audio_codec", vks_cluster_doc_str(s->acodec,
                                        strnlen(s->acodec, VKS_CODEC_LEN)),
                     "width", s->width,
                     "height", s->height,
                     "fps", vks_cluster_doc_real(s->fps),
                     "bitrate_kbps", vks_cluster_doc_real(s->bitrate_kbps),
                     "bytes_in", (json_int_t) s->bytes_in,
                     "frames_dropped", (json_int_t) s->frames_dropped,
                     "gops_dropped", (json_int_t) s->gops_dropped);
}


static json_t *
vks_cluster_doc_renditions(const vks_stream_stats_t *s)
{
    int                           i, n;
    json_t                       *a, *o;
    const vks_rendition_stats_t  *r;

    a = json_array();
    if (a == NULL) {
        return NULL;
    }

    n = s->nrenditions < 0 ? 0
        : (s->nrenditions > VKS_MAX_RENDITIONS ? VKS_MAX_RENDITIONS
                                               : s->nrenditions);

    for (i = 0; i < n; i++) {
        r = &s->r[i];

        o = json_pack("{sososisbsbsbsisisisIsIsIsIsosososo}",
                      "suffix", vks_cluster_doc_str(r->suffix,
                                    strnlen(r->suffix, VKS_SUFFIX_LEN)),
                      "app", vks_cluster_doc_str(r->app,
                                    strnlen(r->app, VKS_APP_LEN)),
                      "state", r->state,
                      "video_copy", r->video_mode == VKS_MODE_COPY,
                      "video_none", r->video_mode == VKS_MODE_NONE,
                      "audio_copy", r->audio_copy,
                      "width", r->width,
                      "height", r->height,
                      "duplicate_of", r->duplicate_of,
                      "frames_in", (json_int_t) r->frames_in,
                      "frames_out", (json_int_t) r->frames_out,
                      "frames_dropped", (json_int_t) r->frames_dropped,
                      "bytes_out", (json_int_t) r->bytes_out,
                      "encode_fps", vks_cluster_doc_real(r->encode_fps),
                      "speed", vks_cluster_doc_real(r->speed),
                      "bitrate_kbps", vks_cluster_doc_real(r->bitrate_kbps),
                      "last_error", vks_cluster_doc_str(r->last_error,
                                    strnlen(r->last_error, VKS_ERROR_LEN)));

        if (o == NULL || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }

    return a;
}


static char *
vks_cluster_doc_dump(json_t *j, size_t *len)
{
    char  *p;

    p = json_dumps(j, VKS_CLUSTER_DOC_FLAGS);
    json_decref(j);

    *len = p ? strlen(p) : 0;

    return p;
}


/* --- decoding ------------------------------------------------------------ */

static json_t *
vks_cluster_doc_load(const char *json, size_t len, size_t max, char *err,
    size_t errlen)
{
    json_t        *a;
    json_error_t   e;

    /*
     * strings are bytes (with lengths) and the encoders write a NUL byte
     * as \u0000: without JSON_ALLOW_NUL a stream name with one would make
     * the node's whole document unreadable
     */
    a = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);

    if (a == NULL) {
        snprintf(err, errlen, "not JSON: %s", e.text);
        return NULL;
    }

    if (!json_is_array(a)) {
        json_decref(a);
        snprintf(err, errlen, "not an array");
        return NULL;
    }

    if (json_array_size(a) > max) {
        json_decref(a);
        snprintf(err, errlen, "more than %zu entries", max);
        return NULL;
    }

    return a;
}


/* copies a string member, cut to fit; -1 when absent or not a string */

static int
vks_cluster_doc_get_str(json_t *o, const char *key, char *dst, size_t size,
    size_t *len)
{
    size_t       n;
    json_t      *v;
    const char  *p;

    v = json_object_get(o, key);
    *len = 0;

    if (!json_is_string(v)) {
        return -1;
    }

    p = json_string_value(v);
    n = vks_utf8_cut(p, json_string_length(v), size - 1);

    memcpy(dst, p, n);
    dst[n] = '\0';
    *len = n;

    return 0;
}


static int64_t
vks_cluster_doc_get_int(json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);

    return json_is_integer(v) ? (int64_t) json_integer_value(v) : 0;
}


static double
vks_cluster_doc_get_real(json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : 0.0;
}


/*
 * an integer member within 0..max, else dflt; compared as int64_t before
 * the cast (4294967298 is not state 2)
 */

static int
vks_cluster_doc_get_enum(json_t *o, const char *key, int max, int dflt)
{
    json_t   *v;
    int64_t   n;

    v = json_object_get(o, key);

    if (!json_is_integer(v)) {
        return 0;
    }

    n = (int64_t) json_integer_value(v);

    return (n < 0 || n > max) ? dflt : (int) n;
}


static int
vks_cluster_doc_get_dim(json_t *o, const char *key)
{
    int64_t  v;

    v = vks_cluster_doc_get_int(o, key);

    return (v < 0 || v > 65535) ? 0 : (int) v;
}


static void
vks_cluster_doc_stats(json_t *o, vks_stream_stats_t *s)
{
    size_t                  i, len;
    json_t                 *in, *rs, *r;
    vks_rendition_stats_t  *d;

    in = json_object_get(o, "input");

    if (json_is_object(in)) {
        (void) vks_cluster_doc_get_str(in, "video_codec", s->vcodec,
                                       VKS_CODEC_LEN, &len);
        (void) vks_cluster_doc_get_str(in, "audio_codec", s->acodec,
                                       VKS_CODEC_LEN, &len);
        s->width = vks_cluster_doc_get_dim(in, "width");
        s->height = vks_cluster_doc_get_dim(in, "height");
        s->fps = vks_cluster_doc_get_real(in, "fps");
        s->bitrate_kbps = vks_cluster_doc_get_real(in, "bitrate_kbps");
        s->bytes_in = (uint64_t) vks_cluster_doc_get_int(in, "bytes_in");
        s->frames_dropped = (uint64_t) vks_cluster_doc_get_int(in,
                                                            "frames_dropped");
        s->gops_dropped = (uint64_t) vks_cluster_doc_get_int(in,
                                                             "gops_dropped");
    }

    rs = json_object_get(o, "renditions");

    if (!json_is_array(rs)) {
        return;
    }

    json_array_foreach(rs, i, r) {
        if (i >= VKS_MAX_RENDITIONS) {
            break;
        }

        if (!json_is_object(r)) {
            continue;
        }

        d = &s->r[s->nrenditions++];

        (void) vks_cluster_doc_get_str(r, "suffix", d->suffix,
                                       VKS_SUFFIX_LEN, &len);
        (void) vks_cluster_doc_get_str(r, "app", d->app, VKS_APP_LEN, &len);
        (void) vks_cluster_doc_get_str(r, "last_error", d->last_error,
                                       VKS_ERROR_LEN, &len);
        d->state = vks_cluster_doc_get_enum(r, "state", VKS_STATE_STOPPED,
                                            VKS_STATE_FAILED);
        d->video_mode = json_is_true(json_object_get(r, "video_none"))
                        ? VKS_MODE_NONE
                        : json_is_true(json_object_get(r, "video_copy"))
                          ? VKS_MODE_COPY : VKS_MODE_ENCODE;
        d->audio_copy = json_is_true(json_object_get(r, "audio_copy"));
        d->width = vks_cluster_doc_get_dim(r, "width");
        d->height = vks_cluster_doc_get_dim(r, "height");
        /* 1 + the index of an earlier rendition, else 0 */
        d->duplicate_of = vks_cluster_doc_get_enum(r, "duplicate_of",
                                                   s->nrenditions - 1, 0);
        d->frames_in = (uint64_t) vks_cluster_doc_get_int(r, "frames_in");
        d->frames_out = (uint64_t) vks_cluster_doc_get_int(r, "frames_out");
        d->frames_dropped = (uint64_t) vks_cluster_doc_get_int(r,
                                                            "frames_dropped");
        d->bytes_out = (uint64_t) vks_cluster_doc_get_int(r, "bytes_out");
        d->encode_fps = vks_cluster_doc_get_real(r, "encode_fps");
        d->speed = vks_cluster_doc_get_real(r, "speed");
        d->bitrate_kbps = vks_cluster_doc_get_real(r, "bitrate_kbps");
    }
}
