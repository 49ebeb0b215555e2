
/*
 * vkstream fuzz: the JSON documents of the cluster (cluster/vks_cluster_doc.c)
 * as another writer in Redis may have left them: the streams and the rules
 * decoders.  A refusal has a reason and nothing out; what is accepted is
 * within the limits, NUL-terminated, valid UTF-8 within its field, and
 * encodes to a document that decodes to the same values and encodes again
 * to the same bytes.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vks_cluster_doc.h"
#include "media/vks_conf.h"
#include "util/vks_utf8.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)


static void
check_str(const char *s, size_t len, size_t size)
{
    CHECK(len < size);
    CHECK(s[len] == '\0');
    CHECK(vks_utf8_valid(s, len));
}


static void
check_cstr(const char *s, size_t size)
{
    CHECK(memchr(s, '\0', size) != NULL);
    CHECK(vks_utf8_valid(s, strlen(s)));
}


#define SAME_STR(a, b, f)                                                    \
    CHECK((a)->f##_len == (b)->f##_len                                       \
          && memcmp((a)->f, (b)->f, (a)->f##_len) == 0)

#define SAME_CSTR(a, b, f)  CHECK(strcmp((a)->f, (b)->f) == 0)

/* doubles go out with 6 significant digits (subnormals have fewer) */
#define NEAR(a, b)                                                           \
    CHECK((a) == (b)                                                         \
          || ((a) - (b) <= 1e-5 * ((a) < 0 ? -(a) : (a)) + 1e-300           \
              && (b) - (a) <= 1e-5 * ((a) < 0 ? -(a) : (a)) + 1e-300))


static void
check_stream(const vks_cluster_doc_stream_t *s)
{
    int  i;

    CHECK(s->app_len > 0 && s->name_len > 0);
    check_str(s->app, s->app_len, sizeof(s->app));
    check_str(s->name, s->name_len, sizeof(s->name));
    check_str(s->addr, s->addr_len, sizeof(s->addr));
    check_str(s->keywords, s->keywords_len, sizeof(s->keywords));
    check_str(s->tag, s->tag_len, sizeof(s->tag));
    check_str(s->rule_error, s->rule_error_len, sizeof(s->rule_error));
    CHECK(s->rule_state >= 0 && s->rule_state <= 3);
    CHECK(s->transcoding == 0 || s->transcoding == 1);
    CHECK(s->llhls == 0 || s->llhls == 1);
    CHECK(s->has_stats == 0 || s->has_stats == 1);

    if (!s->has_stats) {
        CHECK(s->stats.nrenditions == 0 && s->stats.width == 0);
        return;
    }

    check_cstr(s->stats.vcodec, sizeof(s->stats.vcodec));
    check_cstr(s->stats.acodec, sizeof(s->stats.acodec));
    CHECK(s->stats.width >= 0 && s->stats.width <= 65535);
    CHECK(s->stats.height >= 0 && s->stats.height <= 65535);
    CHECK(s->stats.nrenditions >= 0
          && s->stats.nrenditions <= VKS_MAX_RENDITIONS);

    for (i = 0; i < s->stats.nrenditions; i++) {
        check_cstr(s->stats.r[i].suffix, sizeof(s->stats.r[i].suffix));
        check_cstr(s->stats.r[i].app, sizeof(s->stats.r[i].app));
        check_cstr(s->stats.r[i].last_error,
                   sizeof(s->stats.r[i].last_error));
        CHECK(s->stats.r[i].state >= VKS_STATE_STARTING
              && s->stats.r[i].state <= VKS_STATE_STOPPED);
        CHECK(s->stats.r[i].width >= 0 && s->stats.r[i].width <= 65535);
        CHECK(s->stats.r[i].height >= 0 && s->stats.r[i].height <= 65535);
        CHECK(s->stats.r[i].video_mode >= VKS_MODE_ENCODE
              && s->stats.r[i].video_mode <= VKS_MODE_NONE);
        CHECK(s->stats.r[i].audio_copy == 0 || s->stats.r[i].audio_copy == 1);
    }
}


static void
same_stream(const vks_cluster_doc_stream_t *a,
    const vks_cluster_doc_stream_t *b)
{
    int                           i;
    const vks_rendition_stats_t  *x, *y;

    CHECK(a->id == b->id && a->start == b->start && a->end == b->end);
    SAME_STR(a, b, app);
    SAME_STR(a, b, name);
    SAME_STR(a, b, addr);
    SAME_STR(a, b, keywords);
    SAME_STR(a, b, tag);
    SAME_STR(a, b, rule_error);
    CHECK(a->rule_state == b->rule_state && a->rule_code == b->rule_code);
    CHECK(a->transcoding == b->transcoding && a->has_stats == b->has_stats);
    CHECK(a->llhls == b->llhls);

    if (!a->has_stats) {
        return;
    }

    SAME_CSTR(a, b, stats.vcodec);
    SAME_CSTR(a, b, stats.acodec);
    CHECK(a->stats.width == b->stats.width
          && a->stats.height == b->stats.height
          && a->stats.bytes_in == b->stats.bytes_in
          && a->stats.frames_dropped == b->stats.frames_dropped
          && a->stats.gops_dropped == b->stats.gops_dropped
          && a->stats.nrenditions == b->stats.nrenditions);
    NEAR(a->stats.fps, b->stats.fps);
    NEAR(a->stats.bitrate_kbps, b->stats.bitrate_kbps);

    for (i = 0; i < a->stats.nrenditions; i++) {
        x = &a->stats.r[i];
        y = &b->stats.r[i];

        SAME_CSTR(x, y, suffix);
        SAME_CSTR(x, y, app);
        SAME_CSTR(x, y, last_error);
        CHECK(x->state == y->state && x->video_mode == y->video_mode
              && x->audio_copy == y->audio_copy && x->width == y->width
              && x->height == y->height && x->frames_in == y->frames_in
              && x->frames_out == y->frames_out
              && x->frames_dropped == y->frames_dropped
              && x->bytes_out == y->bytes_out);
        NEAR(x->encode_fps, y->encode_fps);
        NEAR(x->speed, y->speed);
        NEAR(x->bitrate_kbps, y->bitrate_kbps);
    }
}


static void
fuzz_streams(const char *json, size_t len)
{
    char                      *e1, *e2, err[VKS_CLUSTER_DOC_ERR_LEN];
    size_t                     i, n, n2, l1, l2;
    vks_cluster_doc_stream_t  *s, *s2;

    err[0] = '\0';

    if (vks_cluster_doc_streams_decode(json, len, &s, &n, err, sizeof(err))
        != 0)
    {
        CHECK(s == NULL && n == 0 && err[0] != '\0');
        return;
    }

    CHECK(n <= VKS_CLUSTER_DOC_STREAMS_MAX);
    CHECK((n == 0) == (s == NULL));

    for (i = 0; i < n; i++) {
        check_stream(&s[i]);
    }

    e1 = vks_cluster_doc_streams_encode(s, n, &l1);
    CHECK(e1 != NULL && strlen(e1) == l1 && vks_utf8_valid(e1, l1));

    CHECK(vks_cluster_doc_streams_decode(e1, l1, &s2, &n2, err, sizeof(err))
          == 0);
    CHECK(n2 == n);

    for (i = 0; i < n; i++) {
        same_stream(&s[i], &s2[i]);
    }

    /*
     * a document the encoder wrote is a fixed point: decoded and encoded
     * again it is the same bytes (after one more round: a subnormal
     * double printed with 6 digits may read back as a neighbour once)
     */
    e2 = vks_cluster_doc_streams_encode(s2, n2, &l2);
    CHECK(e2 != NULL);
    free(s2);

    CHECK(vks_cluster_doc_streams_decode(e2, l2, &s2, &n2, err, sizeof(err))
          == 0 && n2 == n);
    free(e1);
    e1 = vks_cluster_doc_streams_encode(s2, n2, &l1);
    CHECK(e1 != NULL && l2 == l1 && memcmp(e1, e2, l1) == 0);

    free(e1);
    free(e2);
    free(s);
    free(s2);
}


static void
fuzz_rules(const char *json, size_t len)
{
    char                    *e1, *e2, err[VKS_CLUSTER_DOC_ERR_LEN];
    size_t                   i, n, n2, l1, l2;
    vks_cluster_doc_rule_t  *r, *r2;

    err[0] = '\0';

    if (vks_cluster_doc_rules_decode(json, len, &r, &n, err, sizeof(err))
        != 0)
    {
        CHECK(r == NULL && n == 0 && err[0] != '\0');
        return;
    }

    CHECK(n <= VKS_CLUSTER_DOC_RULES_MAX);
    CHECK((n == 0) == (r == NULL));

    for (i = 0; i < n; i++) {
        CHECK(r[i].tag_len > 0);
        check_str(r[i].tag, r[i].tag_len, sizeof(r[i].tag));
        check_str(r[i].value, r[i].value_len, sizeof(r[i].value));
        check_str(r[i].error, r[i].error_len, sizeof(r[i].error));
        CHECK(r[i].state >= 0 && r[i].state <= 3);
    }

    e1 = vks_cluster_doc_rules_encode(r, n, &l1);
    CHECK(e1 != NULL && strlen(e1) == l1 && vks_utf8_valid(e1, l1));

    CHECK(vks_cluster_doc_rules_decode(e1, l1, &r2, &n2, err, sizeof(err))
          == 0);
    CHECK(n2 == n);

    for (i = 0; i < n; i++) {
        SAME_STR(&r[i], &r2[i], tag);
        SAME_STR(&r[i], &r2[i], value);
        SAME_STR(&r[i], &r2[i], error);
        CHECK(r[i].state == r2[i].state && r[i].code == r2[i].code);
    }

    e2 = vks_cluster_doc_rules_encode(r2, n2, &l2);
    CHECK(e2 != NULL && l2 == l1 && memcmp(e1, e2, l1) == 0);

    free(e1);
    free(e2);
    free(r);
    free(r2);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the same bytes to both: a streams document is no rules document */
    fuzz_streams((const char *) data, size);
    fuzz_rules((const char *) data, size);

    return 0;
}
