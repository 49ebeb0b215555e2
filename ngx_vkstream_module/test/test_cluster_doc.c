
/*
 * Unit tests: cluster/vks_cluster_doc, the JSON documents nodes write into
 * Redis (a node's streams with their statistics, rule lists): round trips,
 * UTF-8 repair on the way out and cutting on the way in, and what the
 * decoders make of another writer's documents (refused whole, or fields
 * of the wrong type ignored, out-of-range numbers clamped).
 */


#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vks_cluster_doc.h"
#include "media/vks_conf.h"
#include "util/vks_utf8.h"
#include "vks_tap.h"


#define FFFD  "\xEF\xBF\xBD"


/* a growing string for hand-made documents */

typedef struct {
    char    *p;
    size_t   len;
    size_t   size;
} buf_t;


__attribute__((format(printf, 2, 3)))
static void
add(buf_t *b, const char *fmt, ...)
{
    int      n;
    va_list  args;

    for ( ;; ) {
        va_start(args, fmt);
        n = vsnprintf(b->p ? b->p + b->len : NULL,
                      b->p ? b->size - b->len : 0, fmt, args);
        va_end(args);

        if (b->p && (size_t) n < b->size - b->len) {
            b->len += (size_t) n;
            return;
        }

        b->size = (b->size + (size_t) n + 1) * 2;
        b->p = realloc(b->p, b->size);
        if (b->p == NULL) {
            printf("Bail out! out of memory\n");
            exit(1);
        }
    }
}


static void
add_rep(buf_t *b, const char *s, size_t times)
{
    while (times--) {
        add(b, "%s", s);
    }
}


static char *
rep(const char *s, size_t times)
{
    buf_t  b = { NULL, 0, 0 };

    add(&b, "%s", "");
    add_rep(&b, s, times);

    return b.p;
}


#define SET(dst, s)                                                          \
    do {                                                                     \
        memcpy(dst, s, sizeof(s) - 1);                                       \
        dst##_len = sizeof(s) - 1;                                           \
    } while (0)


static int
sdecode(const char *json, vks_cluster_doc_stream_t **s, size_t *n,
    char *err)
{
    err[0] = '\0';

    return vks_cluster_doc_streams_decode(json, strlen(json), s, n, err,
                                          VKS_CLUSTER_DOC_ERR_LEN);
}


static int
rdecode(const char *json, vks_cluster_doc_rule_t **r, size_t *n, char *err)
{
    err[0] = '\0';

    return vks_cluster_doc_rules_decode(json, strlen(json), r, n, err,
                                        VKS_CLUSTER_DOC_ERR_LEN);
}


static void
fill_stats(vks_stream_stats_t *st)
{
    int                     i;
    vks_rendition_stats_t  *r;

    memset(st, 0, sizeof(*st));
    strcpy(st->vcodec, "h264");
    strcpy(st->acodec, "aac");
    st->width = 1920;
    st->height = 1080;
    st->fps = 29.97;
    st->bitrate_kbps = 4500.25;
    st->bytes_in = (uint64_t) 1 << 40;
    st->frames_dropped = 17;
    st->gops_dropped = 3;
    st->nrenditions = VKS_MAX_RENDITIONS;

    for (i = 0; i < VKS_MAX_RENDITIONS; i++) {
        r = &st->r[i];
        snprintf(r->suffix, sizeof(r->suffix), "_r%d", i);
        snprintf(r->app, sizeof(r->app), "низкое%d", i);
        r->state = i % 4;
        /* the first copies its video, the second has none */
        r->video_mode = i == 0 ? VKS_MODE_COPY
                        : (i == 1 ? VKS_MODE_NONE : VKS_MODE_ENCODE);
        r->audio_copy = i % 2;
        r->width = 160 * (i + 1);
        r->height = 90 * (i + 1);
        r->duplicate_of = i;            /* of the one before, but the first */
        r->frames_in = 1000 + (uint64_t) i;
        r->frames_out = 990 + (uint64_t) i;
        r->frames_dropped = (uint64_t) i;
        r->bytes_out = ((uint64_t) 1 << 33) + (uint64_t) i;
        r->encode_fps = 25.5 + i;
        r->speed = 1.25;
        r->bitrate_kbps = 800.5 * (i + 1);
        if (i == 7) {
            strcpy(r->last_error, "encoder: ошибка \xff");   /* repaired */
        }
    }
}


static void
test_streams_roundtrip(void)
{
    int                        i;
    char                      *json, err[VKS_CLUSTER_DOC_ERR_LEN];
    size_t                     len, n;
    vks_cluster_doc_stream_t   in[3], *out;
    vks_rendition_stats_t     *r;

    memset(in, 0, sizeof(in));

    in[0].id = 42;
    in[0].start = 1700000000123LL;
    in[0].end = 0;
    SET(in[0].app, "live");
    SET(in[0].name, "камера-1 \xF0\x9F\x90\x88");            /* cat emoji */
    SET(in[0].addr, "10.0.0.5");
    SET(in[0].keywords, "кот, пёс");
    SET(in[0].tag, "vks:s:live/cam1");
    in[0].rule_state = 2;
    in[0].rule_code = -100;
    SET(in[0].rule_error, "VK: слишком \"много\"\n");
    in[0].transcoding = 1;
    in[0].llhls = 1;
    in[0].has_stats = 1;
    fill_stats(&in[0].stats);

    /* invalid UTF-8 and a NUL byte in the table's strings */
    in[1].id = UINT64_MAX;
    in[1].start = -5;
    in[1].end = 1700000999000LL;
    SET(in[1].app, "app\xC3");                   /* cut 2-byte sequence */
    SET(in[1].name, "a\0b\xFF\xFE" "c");
    SET(in[1].keywords, "\xD0\xBA\xD0");          /* "к" and half of one */
    in[1].rule_state = 3;

    SET(in[2].app, "x");
    SET(in[2].name, "y");

    json = vks_cluster_doc_streams_encode(in, 3, &len);
    if (!ok(json != NULL, "streams: encoded")) {
        return;
    }

    is_int(len, strlen(json), "streams: length is the document's");
    ok(vks_utf8_valid(json, len), "streams: the document is valid UTF-8");
    ok(strstr(json, "\"has_stats\":true") != NULL, "streams: has_stats");
    ok(strstr(json, "\"llhls\":true") != NULL
       && strstr(json, "\"llhls\":false") != NULL,
       "streams: llhls as a boolean");

    is_int(vks_cluster_doc_streams_decode(json, len, &out, &n, err,
                                          sizeof(err)),
           0, "streams: decoded");
    free(json);

    if (!ok(n == 3 && out != NULL, "streams: three back")) {
        free(out);
        return;
    }

    /* 0: every field */
    is_int(out[0].id, 42, "id");
    is_int(out[0].start, 1700000000123LL, "start");
    is_int(out[0].end, 0, "end 0 while live");
    is_mem(out[0].app, out[0].app_len, "live", "app");
    is_mem(out[0].name, out[0].name_len, "камера-1 \xF0\x9F\x90\x88",
           "UTF-8 name");
    is_str(out[0].name, "камера-1 \xF0\x9F\x90\x88", "name NUL-terminated");
    is_mem(out[0].addr, out[0].addr_len, "10.0.0.5", "addr");
    is_mem(out[0].keywords, out[0].keywords_len, "кот, пёс", "keywords");
    is_mem(out[0].tag, out[0].tag_len, "vks:s:live/cam1", "tag");
    is_int(out[0].rule_state, 2, "rule_state");
    is_int(out[0].rule_code, -100, "rule_code");
    is_mem(out[0].rule_error, out[0].rule_error_len,
           "VK: слишком \"много\"\n", "rule_error with quotes, newline");
    is_int(out[0].transcoding, 1, "transcoding");
    is_int(out[0].llhls, 1, "llhls");
    is_int(out[0].has_stats, 1, "has_stats");

    is_str(out[0].stats.vcodec, "h264", "video codec");
    is_str(out[0].stats.acodec, "aac", "audio codec");
    is_int(out[0].stats.width, 1920, "width");
    is_int(out[0].stats.height, 1080, "height");
    ok(out[0].stats.fps == 29.97, "fps %g", out[0].stats.fps);
    ok(out[0].stats.bitrate_kbps == 4500.25, "input bitrate %g",
       out[0].stats.bitrate_kbps);
    ok(out[0].stats.bytes_in == (uint64_t) 1 << 40, "bytes_in 2^40");
    is_int(out[0].stats.frames_dropped, 17, "frames_dropped");
    is_int(out[0].stats.gops_dropped, 3, "gops_dropped");
    is_int(out[0].stats.nrenditions, 8, "8 renditions");

    for (i = 0; i < VKS_MAX_RENDITIONS && i < out[0].stats.nrenditions; i++) {
        char  want[64];

        r = &out[0].stats.r[i];

        snprintf(want, sizeof(want), "_r%d", i);
        is_str(r->suffix, want, "rendition %d suffix", i);
        snprintf(want, sizeof(want), "низкое%d", i);
        is_str(r->app, want, "rendition %d app", i);
        ok(r->state == i % 4
           && r->video_mode == (i == 0 ? VKS_MODE_COPY
                                : (i == 1 ? VKS_MODE_NONE : VKS_MODE_ENCODE))
           && r->audio_copy == i % 2,
           "rendition %d state %d, video mode %d, audio copy %d", i,
           r->state, r->video_mode, r->audio_copy);
        ok(r->width == 160 * (i + 1) && r->height == 90 * (i + 1),
           "rendition %d size %dx%d", i, r->width, r->height);
        is_int(r->duplicate_of, i, "rendition %d duplicate_of", i);
        ok(r->frames_in == 1000 + (uint64_t) i
           && r->frames_out == 990 + (uint64_t) i
           && r->frames_dropped == (uint64_t) i
           && r->bytes_out == ((uint64_t) 1 << 33) + (uint64_t) i,
           "rendition %d counters", i);
        ok(r->encode_fps == 25.5 + i && r->speed == 1.25
           && r->bitrate_kbps == 800.5 * (i + 1),
           "rendition %d rates %g %g %g", i, r->encode_fps, r->speed,
           r->bitrate_kbps);
    }

    is_str(out[0].stats.r[0].last_error, "", "no error");
    is_str(out[0].stats.r[7].last_error, "encoder: ошибка " FFFD,
           "a rendition's invalid UTF-8 error repaired");

    /* 1: repaired, binary, extremes */
    ok(out[1].id == UINT64_MAX, "id UINT64_MAX survives");
    is_int(out[1].start, -5, "negative start");
    is_int(out[1].end, 1700000999000LL, "end");
    is_mem(out[1].app, out[1].app_len, "app" FFFD,
           "cut sequence becomes U+FFFD");
    ok(out[1].name_len == 3 + 3 + 3 + 1
       && memcmp(out[1].name, "a\0b" FFFD FFFD "c", 10) == 0,
       "NUL byte kept, each invalid byte one U+FFFD (len %zu)",
       out[1].name_len);
    is_mem(out[1].keywords, out[1].keywords_len, "к" FFFD,
           "half a character repaired");
    is_int(out[1].addr_len, 0, "empty addr");
    is_str(out[1].addr, "", "empty addr NUL-terminated");
    is_int(out[1].rule_state, 3, "rule_state 3");
    is_int(out[1].transcoding, 0, "not transcoding");
    is_int(out[1].llhls, 0, "no LL-HLS");
    is_int(out[1].has_stats, 0, "no stats");
    is_int(out[1].stats.nrenditions, 0, "no renditions");

    is_mem(out[2].app, out[2].app_len, "x", "third app");
    is_mem(out[2].name, out[2].name_len, "y", "third name");

    free(out);
}


static void
test_streams_encode_edges(void)
{
    char                      *json, err[VKS_CLUSTER_DOC_ERR_LEN];
    size_t                     len, n;
    vks_cluster_doc_stream_t   s, *out;

    /* empty list */
    json = vks_cluster_doc_streams_encode(NULL, 0, &len);
    is_str(json, "[]", "no streams: []");
    is_int(len, 2, "no streams: length 2");
    out = (void *) 1;
    n = 99;
    is_int(vks_cluster_doc_streams_decode(json, len, &out, &n, err,
                                          sizeof(err)),
           0, "[] decodes");
    ok(out == NULL && n == 0, "[]: NULL and 0");
    free(json);

    json = vks_cluster_doc_rules_encode(NULL, 0, &len);
    is_str(json, "[]", "no rules: []");
    free(json);

    /* out-of-range rendition counts, non-finite rates */
    memset(&s, 0, sizeof(s));
    SET(s.app, "a");
    SET(s.name, "b");
    s.has_stats = 1;
    s.stats.nrenditions = 12;
    s.stats.fps = NAN;
    s.stats.bitrate_kbps = INFINITY;
    s.stats.r[0].speed = -INFINITY;
    s.stats.r[1].encode_fps = 12.5;
    s.stats.r[1].duplicate_of = 1;
    s.stats.r[2].duplicate_of = 3;      /* itself: not an earlier one */
    s.stats.r[3].duplicate_of = -1;

    json = vks_cluster_doc_streams_encode(&s, 1, &len);
    if (!ok(json != NULL, "NaN and infinities do not fail the document")) {
        return;
    }

    is_int(sdecode(json, &out, &n, err), 0, "and it decodes");
    free(json);

    if (ok(n == 1, "one stream")) {
        is_int(out[0].stats.nrenditions, VKS_MAX_RENDITIONS,
               "nrenditions 12 written as 8");
        ok(out[0].stats.fps == 0 && out[0].stats.bitrate_kbps == 0
           && out[0].stats.r[0].speed == 0,
           "NaN, inf, -inf went out as 0");
        ok(out[0].stats.r[1].encode_fps == 12.5, "finite ones unchanged");
        ok(out[0].stats.r[1].duplicate_of == 1
           && out[0].stats.r[2].duplicate_of == 0
           && out[0].stats.r[3].duplicate_of == 0,
           "duplicate_of only of an earlier rendition (%d %d %d)",
           out[0].stats.r[1].duplicate_of, out[0].stats.r[2].duplicate_of,
           out[0].stats.r[3].duplicate_of);
    }

    free(out);

    s.stats.nrenditions = -3;
    json = vks_cluster_doc_streams_encode(&s, 1, &len);
    ok(json && strstr(json, "\"renditions\":[]"),
       "negative nrenditions: none written");
    free(json);
}


static void
test_rules_roundtrip(void)
{
    char                    *json, *big, err[VKS_CLUSTER_DOC_ERR_LEN];
    size_t                   len, n;
    vks_cluster_doc_rule_t  *in, *out;

    in = calloc(3, sizeof(vks_cluster_doc_rule_t));
    big = rep("ж", (VKS_CLUSTER_DOC_VALUE_LEN - 1) / 2);    /* 4094 bytes */

    SET(in[0].tag, "news");
    SET(in[0].value, "новости -реклама");
    in[0].state = 2;
    in[0].code = 0;

    SET(in[1].tag, "t\xFF");
    in[1].value_len = strlen(big);
    memcpy(in[1].value, big, in[1].value_len);
    in[1].state = 3;
    in[1].code = -9223372036854775807LL - 1;
    SET(in[1].error, "too long");

    SET(in[2].tag, "empty");
    in[2].state = 0;

    json = vks_cluster_doc_rules_encode(in, 3, &len);
    if (!ok(json != NULL, "rules: encoded")) {
        goto done;
    }

    is_int(vks_cluster_doc_rules_decode(json, len, &out, &n, err,
                                        sizeof(err)),
           0, "rules: decoded");
    free(json);

    if (ok(n == 3, "rules: three back")) {
        is_mem(out[0].tag, out[0].tag_len, "news", "tag");
        is_mem(out[0].value, out[0].value_len, "новости -реклама",
               "UTF-8 value");
        is_int(out[0].state, 2, "state");
        is_int(out[0].code, 0, "code");
        is_int(out[0].error_len, 0, "no error");

        is_mem(out[1].tag, out[1].tag_len, "t" FFFD, "tag repaired");
        ok(out[1].value_len == strlen(big)
           && memcmp(out[1].value, big, strlen(big)) == 0,
           "a 4094-byte value back whole");
        is_int(out[1].state, 3, "state 3");
        ok(out[1].code == INT64_MIN, "code INT64_MIN");
        is_mem(out[1].error, out[1].error_len, "too long", "error");

        is_mem(out[2].tag, out[2].tag_len, "empty", "third tag");
        is_int(out[2].value_len, 0, "empty value");
    }

    free(out);

done:

    free(big);
    free(in);
}


/* strings longer than their field come back cut on a character boundary */

static void
test_cut(void)
{
    char                      *a253, *a254, *zh, *zh8, err[96];
    size_t                     n;
    buf_t                      b = { NULL, 0, 0 };
    vks_cluster_doc_rule_t    *r;
    vks_cluster_doc_stream_t  *s;

    a253 = rep("a", VKS_CLUSTER_DOC_NAME_LEN - 3);
    a254 = rep("a", VKS_CLUSTER_DOC_NAME_LEN - 2);
    zh = rep("ж", VKS_CLUSTER_DOC_VALUE_LEN / 2);         /* 4096 bytes */
    zh8 = rep("ж", 8);                                    /* 16 bytes */

    add(&b, "[{\"app\":\"%s\",\"name\":\"%sж\",", a254, a254);
    add(&b, "\"addr\":\"%s\",\"keywords\":\"%s\",\"tag\":\"%s\xF0\x9F\x98\x80\",",
        a254, zh, a253);
    add(&b, "\"rule_error\":\"%s%s\",\"has_stats\":true,", a254, a254);
    add(&b, "\"input\":{\"video_codec\":\"%s\",\"audio_codec\":\"aaaaaaaaaaaaaaa\"},",
        zh8);
    add(&b, "\"renditions\":[{\"suffix\":\"%s\",\"app\":\"%s\","
            "\"last_error\":\"%s\"}]},", zh, zh, zh);
    add(&b, "{\"app\":\"%sж\",\"name\":\"ok\"}]", a253);

    if (!ok(sdecode(b.p, &s, &n, err) == 0 && n == 2,
            "long strings: accepted (%s)", err))
    {
        goto done;
    }

    is_int(s[0].app_len, VKS_CLUSTER_DOC_APP_LEN - 1,
           "app: ASCII cut to 127");
    is_int(s[0].name_len, VKS_CLUSTER_DOC_NAME_LEN - 2,
           "name: 254 + 2-byte char cut to 254, not split to 255");
    ok(memcmp(s[0].name, a254, s[0].name_len) == 0
       && s[0].name[s[0].name_len] == '\0', "name: the prefix, terminated");
    is_int(s[0].addr_len, VKS_CLUSTER_DOC_ADDR_LEN - 1, "addr cut to 63");
    is_int(s[0].keywords_len, VKS_CLUSTER_DOC_VALUE_LEN - 2,
           "keywords: 2048 2-byte chars cut to 4094");
    ok(vks_utf8_valid(s[0].keywords, s[0].keywords_len),
       "keywords: still valid UTF-8");
    is_int(s[0].tag_len, VKS_CLUSTER_DOC_TAG_LEN - 3,
           "tag: 253 + 4-byte char cut to 253");
    is_int(s[0].rule_error_len, VKS_CLUSTER_DOC_ERROR_LEN - 1,
           "rule_error cut to 255");
    is_int(strlen(s[0].stats.vcodec), 14,
           "video codec: 8 2-byte chars cut to 14 in 16 bytes");
    is_str(s[0].stats.vcodec, "жжжжжжж", "video codec: whole characters");
    is_str(s[0].stats.acodec, "aaaaaaaaaaaaaaa", "15 ASCII fit exactly");
    is_int(s[0].stats.nrenditions, 1, "one rendition");
    is_int(strlen(s[0].stats.r[0].suffix), VKS_SUFFIX_LEN - 2,
           "suffix cut to 30 (even)");
    is_int(strlen(s[0].stats.r[0].app), VKS_APP_LEN - 2,
           "rendition app cut to 62");
    is_int(strlen(s[0].stats.r[0].last_error), VKS_ERROR_LEN - 2,
           "last_error cut to 126");
    ok(vks_utf8_valid(s[0].stats.r[0].last_error,
                      strlen(s[0].stats.r[0].last_error)),
       "last_error valid UTF-8");
    is_int(s[1].app_len, VKS_CLUSTER_DOC_APP_LEN - 1,
           "second: 253 a + ж cut to 127 (ASCII)");
    free(s);

    /* rules */
    b.len = 0;
    add(&b, "[{\"tag\":\"%s\xF0\x9F\x98\x80\",\"value\":\"%sя\","
            "\"error\":\"%s\"}]", a253, zh, zh);

    if (ok(rdecode(b.p, &r, &n, err) == 0 && n == 1, "long rule accepted")) {
        is_int(r[0].tag_len, 253, "rule tag: 253 + 4-byte char cut to 253");
        is_int(r[0].value_len, VKS_CLUSTER_DOC_VALUE_LEN - 2,
               "rule value cut to 4094");
        ok(memcmp(r[0].value, zh, r[0].value_len) == 0,
           "rule value: the prefix");
        is_int(r[0].error_len, VKS_CLUSTER_DOC_ERROR_LEN - 2,
               "rule error cut to 254");
    }

    free(r);

done:

    free(b.p);
    free(a253);
    free(a254);
    free(zh);
    free(zh8);
}


static void
test_refusals(void)
{
    char                      err[VKS_CLUSTER_DOC_ERR_LEN], small[12];
    size_t                    i, n;
    buf_t                     b = { NULL, 0, 0 };
    vks_cluster_doc_rule_t   *r;
    vks_cluster_doc_stream_t *s;

    static const struct {
        const char  *json;
        const char  *err;
    } bad[] = {
        { "", "not JSON: " },
        { "[", "not JSON: " },
        { "[{\"app\":\"a\",\"name\":\"b\"}] x", "not JSON: " },
        { "[{\"app\":\"a\",\"app\":\"b\",\"name\":\"c\"}]", "not JSON: " },
        { "[{\"app\":\"\\ud800\",\"name\":\"c\"}]", "not JSON: " },
        { "[{\"app\":\"\xff\",\"name\":\"c\"}]", "not JSON: " },
        { "[{\"id\":99999999999999999999,\"app\":\"a\",\"name\":\"b\"}]",
          "not JSON: " },
        { "{}", "not an array" },
        /* jansson wants an array or object at the top */
        { "\"[]\"", "not JSON: " },
        { "null", "not JSON: " },
        { "{\"streams\":[]}", "not an array" },
        { "[1]", "stream 0: no app or name" },
        { "[[]]", "stream 0: no app or name" },
        { "[{}]", "stream 0: no app or name" },
        { "[{\"app\":\"a\"}]", "stream 0: no app or name" },
        { "[{\"name\":\"b\"}]", "stream 0: no app or name" },
        { "[{\"app\":\"a\",\"name\":\"\"}]", "stream 0: no app or name" },
        { "[{\"app\":\"\",\"name\":\"b\"}]", "stream 0: no app or name" },
        { "[{\"app\":5,\"name\":\"b\"}]", "stream 0: no app or name" },
        { "[{\"app\":\"a\",\"name\":null}]", "stream 0: no app or name" },
        { "[{\"app\":\"a\",\"name\":\"b\"},{\"app\":\"a\"}]",
          "stream 1: no app or name" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = (void *) 1;
        n = 7;
        is_int(sdecode(bad[i].json, &s, &n, err), -1, "refused: %s",
               bad[i].json);
        /* "not JSON: " is followed by jansson's words */
        ok(bad[i].err[strlen(bad[i].err) - 1] == ' '
           ? strncmp(err, bad[i].err, strlen(bad[i].err)) == 0
             && strlen(err) > strlen(bad[i].err)
           : strcmp(err, bad[i].err) == 0,
           "  err \"%s\"", err);
        ok(s == NULL && n == 0, "  nothing out");
    }

    /* the limit: 1000 entries pass, 1001 do not */
    add(&b, "[");
    for (i = 0; i < VKS_CLUSTER_DOC_STREAMS_MAX; i++) {
        add(&b, "%s{\"app\":\"a\",\"name\":\"n%zu\"}", i ? "," : "", i);
    }
    add(&b, "]");

    is_int(sdecode(b.p, &s, &n, err), 0, "1000 streams accepted");
    is_int(n, 1000, "1000 back");
    if (n == 1000) {
        is_mem(s[999].name, s[999].name_len, "n999", "the last one");
    }
    free(s);

    b.p[b.len - 1] = ',';
    add(&b, "{\"app\":\"a\",\"name\":\"one-more\"}]");
    is_int(sdecode(b.p, &s, &n, err), -1, "1001 streams refused");
    is_str(err, "more than 1000 entries", "  err");
    ok(s == NULL && n == 0, "  nothing out");

    b.len = 0;
    add(&b, "[");
    for (i = 0; i <= VKS_CLUSTER_DOC_RULES_MAX; i++) {
        add(&b, "%s{\"tag\":\"t\"}", i ? "," : "");
    }
    add(&b, "]");
    is_int(rdecode(b.p, &r, &n, err), -1, "1001 rules refused");
    is_str(err, "more than 1000 entries", "  err");
    free(b.p);

    /* rules */
    is_int(rdecode("[{\"value\":\"x\"}]", &r, &n, err), -1, "rule: no tag");
    is_str(err, "rule 0: no tag", "  err");
    is_int(rdecode("[{\"tag\":\"a\"},{\"tag\":\"\"}]", &r, &n, err), -1,
           "rule: empty tag");
    is_str(err, "rule 1: no tag", "  err");
    ok(r == NULL && n == 0, "  nothing out");
    is_int(rdecode("[{\"tag\":[\"a\"]}]", &r, &n, err), -1,
           "rule: tag not a string");
    is_int(rdecode("[\"news\"]", &r, &n, err), -1, "rule: not an object");
    is_str(err, "rule 0: no tag", "  err");
    is_int(rdecode("{\"tag\":\"a\"}", &r, &n, err), -1, "rules: not array");
    is_str(err, "not an array", "  err");
    is_int(rdecode("[] []", &r, &n, err), -1, "rules: trailing garbage");
    ok(strncmp(err, "not JSON: ", 10) == 0, "  err \"%s\"", err);

    is_int(rdecode("[]", &r, &n, err), 0, "rules: [] accepted");
    ok(r == NULL && n == 0, "  empty");

    /* a short err buffer: cut, terminated */
    memset(small, 'z', sizeof(small));
    is_int(vks_cluster_doc_streams_decode("{}", 2, &s, &n, small, 8), -1,
           "short err buffer");
    is_str(small, "not an ", "  err cut to 7 and terminated");
    is_int(small[8], 'z', "  nothing written past it");

    /* the length given, not the NUL */
    is_int(vks_cluster_doc_streams_decode("[]garbage", 2, &s, &n, err,
                                          sizeof(err)),
           0, "only len bytes read");
}


/* another writer's types: ignored or zeroed, never trusted */

static void
test_types(void)
{
    char                      err[VKS_CLUSTER_DOC_ERR_LEN];
    size_t                    n;
    vks_rendition_stats_t    *d;
    vks_cluster_doc_rule_t   *r;
    vks_cluster_doc_stream_t *s;

    is_int(sdecode("[{\"app\":\"a\",\"name\":\"b\",\"id\":\"5\",\"start\":1.5,"
                   "\"end\":true,\"addr\":7,\"keywords\":null,\"tag\":[],"
                   "\"rule_state\":\"2\",\"rule_code\":2.5,"
                   "\"rule_error\":{},\"transcoding\":1,\"has_stats\":\"yes\","
                   "\"llhls\":\"true\","
                   "\"input\":{\"width\":640},\"renditions\":[{}],"
                   "\"unknown\":{\"deep\":[1,2,3]}}]", &s, &n, err),
           0, "wrong types: accepted");

    if (ok(n == 1, "one stream")) {
        ok(s[0].id == 0 && s[0].start == 0 && s[0].end == 0,
           "non-integer id, start, end are 0");
        ok(s[0].addr_len == 0 && s[0].keywords_len == 0 && s[0].tag_len == 0
           && s[0].rule_error_len == 0 && s[0].addr[0] == '\0'
           && s[0].tag[0] == '\0',
           "non-string addr, keywords, tag, rule_error are empty");
        ok(s[0].rule_state == 0 && s[0].rule_code == 0,
           "non-integer rule_state, rule_code are 0");
        is_int(s[0].transcoding, 0, "transcoding 1 is not true");
        is_int(s[0].llhls, 0, "llhls \"true\" is not true");
        is_int(s[0].has_stats, 0, "has_stats \"yes\" is not true");
        is_int(s[0].stats.width, 0, "stats ignored without has_stats");
        is_int(s[0].stats.nrenditions, 0, "  renditions too");
    }
    free(s);

    is_int(sdecode("[{\"app\":\"a\",\"name\":\"b\",\"has_stats\":true,"
                   "\"rule_state\":4,"
                   "\"input\":[640],\"renditions\":{\"suffix\":\"_x\"}},"
                   "{\"app\":\"a\",\"name\":\"c\",\"has_stats\":true,"
                   "\"rule_state\":-1,"
                   "\"input\":{\"video_codec\":5,\"width\":-1,"
                   "\"height\":65536,\"fps\":30,\"bitrate_kbps\":\"9\","
                   "\"bytes_in\":-1,\"frames_dropped\":1.5},"
                   "\"renditions\":[1,null,{\"suffix\":\"_a\",\"state\":4,"
                   "\"width\":65535,\"height\":70000,\"video_copy\":1,"
                   "\"video_none\":\"yes\","
                   "\"audio_copy\":true,\"speed\":2,\"frames_in\":\"3\"},"
                   "\"x\",{\"state\":-1},{\"state\":4294967298},"
                   "{\"state\":3},{\"state\":1.0}]},"
                   "{\"app\":\"a\",\"name\":\"d\",\"has_stats\":true,"
                   "\"rule_state\":4294967298,\"renditions\":"
                   "[{},{},{},{},{},{},{},{},{\"suffix\":\"_9\"}]}]",
                   &s, &n, err),
           0, "hostile stats: accepted (%s)", err);

    if (ok(n == 3, "three streams")) {
        is_int(s[0].rule_state, 0, "rule_state 4 clamped to 0");
        ok(s[0].stats.width == 0 && s[0].stats.vcodec[0] == '\0',
           "input not an object: zero stats");
        is_int(s[0].stats.nrenditions, 0, "renditions not an array: none");

        is_int(s[1].rule_state, 0, "rule_state -1 clamped to 0");
        is_str(s[1].stats.vcodec, "", "codec not a string: empty");
        is_int(s[1].stats.width, 0, "width -1: 0");
        is_int(s[1].stats.height, 0, "height 65536: 0");
        ok(s[1].stats.fps == 30.0, "fps integer 30 taken as a number");
        ok(s[1].stats.bitrate_kbps == 0, "bitrate string: 0");
        ok(s[1].stats.bytes_in == UINT64_MAX,
           "bytes_in -1 is the uint64 it encodes (2^64-1)");
        is_int(s[1].stats.frames_dropped, 0, "frames_dropped 1.5: 0");

        is_int(s[1].stats.nrenditions, 5,
               "non-object renditions skipped: 5 of 8");
        d = &s[1].stats.r[0];
        is_str(d->suffix, "_a", "rendition suffix");
        is_int(d->state, VKS_STATE_FAILED, "state 4: FAILED");
        is_int(d->width, 65535, "width 65535 kept");
        is_int(d->height, 0, "height 70000: 0");
        ok(d->video_mode == VKS_MODE_ENCODE && d->audio_copy == 1,
           "video_copy 1 and video_none \"yes\" are not true, audio_copy "
           "true is");
        ok(d->speed == 2.0 && d->frames_in == 0,
           "speed integer 2 taken, frames_in string 0");
        is_int(s[1].stats.r[1].state, VKS_STATE_FAILED, "state -1: FAILED");
        is_int(s[1].stats.r[2].state, VKS_STATE_FAILED,
               "state 4294967298: FAILED, not 2 by a cast");
        is_int(s[1].stats.r[3].state, VKS_STATE_STOPPED, "state 3 kept");
        is_int(s[1].stats.r[4].state, VKS_STATE_STARTING,
               "state 1.0 (a real) is 0");

        is_int(s[2].rule_state, 0, "rule_state 4294967298 clamped to 0");
        is_int(s[2].stats.nrenditions, VKS_MAX_RENDITIONS,
               "9 renditions: the first 8");
        is_str(s[2].stats.r[7].suffix, "", "  the 9th dropped");
    }
    free(s);

    is_int(rdecode("[{\"tag\":\"a\",\"state\":4,\"code\":\"1\",\"value\":5,"
                   "\"error\":false},{\"tag\":\"b\",\"state\":-2},"
                   "{\"tag\":\"c\",\"state\":4294967298,\"code\":-7},"
                   "{\"tag\":\"d\",\"state\":1,\"value\":\"v\"}]",
                   &r, &n, err),
           0, "rules with wrong types accepted");

    if (ok(n == 4, "four rules")) {
        ok(r[0].state == 0 && r[0].code == 0 && r[0].value_len == 0
           && r[0].error_len == 0, "state 4, string code, number value: 0");
        is_int(r[1].state, 0, "state -2 clamped to 0");
        is_int(r[2].state, 0, "state 4294967298 clamped to 0, not 2");
        is_int(r[2].code, -7, "code -7");
        is_int(r[3].state, 1, "state 1 kept");
        is_mem(r[3].value, r[3].value_len, "v", "value");
    }
    free(r);

    /* deep nesting inside an ignored member is bounded by jansson */
    {
        buf_t  b = { NULL, 0, 0 };

        add(&b, "[{\"app\":\"a\",\"name\":\"b\",\"x\":");
        add_rep(&b, "[", 100000);
        add_rep(&b, "]", 100000);
        add(&b, "}]");
        is_int(sdecode(b.p, &s, &n, err), -1, "100000 levels deep: refused");
        ok(strncmp(err, "not JSON: ", 10) == 0, "  err \"%s\"", err);
        free(b.p);
    }
}


int
main(void)
{
    test_streams_roundtrip();
    test_streams_encode_edges();
    test_rules_roundtrip();
    test_cut();
    test_refusals();
    test_types();

    return done_testing();
}
