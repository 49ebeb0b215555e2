
/*
 * Unit tests: media/vks_rtmp_chunk (RTMP chunk streams and AMF0 values of
 * the rendition's publishing client).  Messages chunked by the writer
 * come back whole from the reader at any split of the bytes, with every
 * header type and extended timestamps; a peer's Set Chunk Size applies
 * from the next chunk; broken streams (headers without a start, messages
 * too large, too many chunk streams, chunk sizes out of range) are
 * refused with a reason; AMF0 values round-trip, and every truncation of
 * a command is refused without reading past it.
 */


#include <stdlib.h>
#include <string.h>

#include "media/vks_rtmp_chunk.h"
#include "vks_tap.h"


#define MAX_MSGS  16


typedef struct {
    int              n;
    vks_rtmp_msg_t   msg[MAX_MSGS];
    uint8_t         *body[MAX_MSGS];
} got_t;


static int
collect(void *data, const vks_rtmp_msg_t *msg)
{
    got_t  *g = data;

    if (g->n == MAX_MSGS) {
        return -1;
    }

    g->msg[g->n] = *msg;
    g->body[g->n] = malloc(msg->len + 1);
    memcpy(g->body[g->n], msg->body, msg->len);
    g->msg[g->n].body = g->body[g->n];
    g->n++;

    return 0;
}


static void
got_free(got_t *g)
{
    int  i;

    for (i = 0; i < g->n; i++) {
        free(g->body[i]);
    }

    memset(g, 0, sizeof(got_t));
}


static void
fill(uint8_t *p, size_t n, unsigned seed)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        seed = seed * 1103515245 + 12345;
        p[i] = (uint8_t) (seed >> 16);
    }
}


/* a Set Chunk Size message, as the peer sends it */
static size_t
set_chunk_size(uint8_t *out, uint32_t size)
{
    uint8_t  body[4];

    body[0] = (uint8_t) (size >> 24);
    body[1] = (uint8_t) (size >> 16);
    body[2] = (uint8_t) (size >> 8);
    body[3] = (uint8_t) size;

    return vks_rtmp_chunk_message(out, 2, VKS_RTMP_MSG_CHUNK_SIZE, 0, 0,
                                  body, 4, 128);
}


static void
test_roundtrip(void)
{
    int                 ok_all;
    char                err[128];
    got_t               g;
    size_t              i, n, pos, step;
    uint8_t            *wire, *body;
    vks_rtmp_reader_t   rd;

    static const size_t    lens[] = { 0, 1, 127, 128, 129, 4096, 16384,
                                      40000, 65536 };
    static const uint32_t  sizes[] = { 128, 4096, 16384 };
    static const size_t    steps[] = { 1, 7, 1000, 1 << 20 };
    size_t                 li, si, ti;

    body = malloc(65536);
    wire = malloc(vks_rtmp_chunked_size(65536, 128) + 64);

    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
            for (ti = 0; ti < sizeof(steps) / sizeof(steps[0]); ti++) {
                fill(body, lens[li], (unsigned) (li + si));

                vks_rtmp_reader_init(&rd);
                memset(&g, 0, sizeof(g));

                /* the peer announces its chunk size first */
                pos = set_chunk_size(wire, sizes[si]);
                n = vks_rtmp_chunk_message(wire + pos, 6,
                                           VKS_RTMP_MSG_VIDEO, 1, 123456,
                                           body, lens[li], sizes[si]);
                n += pos;

                ok_all = n <= vks_rtmp_chunked_size(lens[li], sizes[si])
                              + pos;

                step = steps[ti];

                for (i = 0; i < n && ok_all; i += step) {
                    if (vks_rtmp_reader_feed(&rd, wire + i,
                                             n - i < step ? n - i : step,
                                             collect, &g, err, sizeof(err))
                        != 0)
                    {
                        ok_all = 0;
                    }
                }

                ok(ok_all && g.n == 2
                   && g.msg[1].type == VKS_RTMP_MSG_VIDEO
                   && g.msg[1].msid == 1 && g.msg[1].timestamp == 123456
                   && g.msg[1].len == lens[li]
                   && memcmp(g.msg[1].body, body, lens[li]) == 0
                   && rd.chunk_size == sizes[si],
                   "%zu bytes in chunks of %u, fed %zu at a time",
                   lens[li], sizes[si], step);

                got_free(&g);
                vks_rtmp_reader_free(&rd);
            }
        }
    }

    /* extended timestamps, on every chunk of the message */
    fill(body, 1000, 9);
    vks_rtmp_reader_init(&rd);
    memset(&g, 0, sizeof(g));

    n = vks_rtmp_chunk_message(wire, 4, VKS_RTMP_MSG_AUDIO, 1, 0x12345678,
                               body, 1000, 128);
    is_int(n, vks_rtmp_chunked_size(1000, 128),
           "extended time: the bound is exact");

    ok(vks_rtmp_reader_feed(&rd, wire, n, collect, &g, err, sizeof(err)) == 0
       && g.n == 1 && g.msg[0].timestamp == 0x12345678
       && g.msg[0].len == 1000 && memcmp(g.msg[0].body, body, 1000) == 0,
       "extended time: 0x12345678 over 8 chunks");

    got_free(&g);
    vks_rtmp_reader_free(&rd);

    free(body);
    free(wire);
}


static void
test_header_types(void)
{
    char                err[128];
    got_t               g;
    uint8_t             wire[256], *p;
    vks_rtmp_reader_t   rd;

    vks_rtmp_reader_init(&rd);
    memset(&g, 0, sizeof(g));

    /* type 0 at 1000, type 1 +40 (new length), type 2 +20, type 3 +20 */
    p = wire;
    p += vks_rtmp_chunk_message(p, 5, VKS_RTMP_MSG_AUDIO, 1, 1000,
                                (const uint8_t *) "abc", 3, 128);

    *p++ = 0x40 | 5;
    *p++ = 0; *p++ = 0; *p++ = 40;
    *p++ = 0; *p++ = 0; *p++ = 2;
    *p++ = VKS_RTMP_MSG_AUDIO;
    *p++ = 'd'; *p++ = 'e';

    *p++ = 0x80 | 5;
    *p++ = 0; *p++ = 0; *p++ = 20;
    *p++ = 'f'; *p++ = 'g';

    *p++ = 0xc0 | 5;
    *p++ = 'h'; *p++ = 'i';

    ok(vks_rtmp_reader_feed(&rd, wire, p - wire, collect, &g, err,
                            sizeof(err)) == 0 && g.n == 4,
       "four messages with header types 0-3");

    ok(g.n == 4 && g.msg[0].timestamp == 1000 && g.msg[1].timestamp == 1040
       && g.msg[2].timestamp == 1060 && g.msg[3].timestamp == 1080,
       "times: 1000, +40, +20, and type 3 repeats the last delta");

    ok(g.n == 4 && g.msg[1].len == 2 && memcmp(g.msg[3].body, "hi", 2) == 0
       && g.msg[3].msid == 1, "type 3 keeps length, type and stream");

    got_free(&g);
    vks_rtmp_reader_free(&rd);

    /* two- and three-byte basic headers */
    vks_rtmp_reader_init(&rd);
    memset(&g, 0, sizeof(g));

    p = wire;
    *p++ = 0x00; *p++ = 10;                       /* csid 74 */
    *p++ = 0; *p++ = 0; *p++ = 1;
    *p++ = 0; *p++ = 0; *p++ = 1;
    *p++ = VKS_RTMP_MSG_DATA;
    *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 0;
    *p++ = 'x';
    *p++ = 0x01; *p++ = 1; *p++ = 1;              /* csid 64 + 1 + 256 */
    *p++ = 0; *p++ = 0; *p++ = 2;
    *p++ = 0; *p++ = 0; *p++ = 1;
    *p++ = VKS_RTMP_MSG_DATA;
    *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 0;
    *p++ = 'y';

    ok(vks_rtmp_reader_feed(&rd, wire, p - wire, collect, &g, err,
                            sizeof(err)) == 0 && g.n == 2
       && g.msg[0].body[0] == 'x' && g.msg[1].body[0] == 'y'
       && g.msg[1].timestamp == 2,
       "chunk streams 74 and 321");

    got_free(&g);
    vks_rtmp_reader_free(&rd);
}


static void
refused(const uint8_t *wire, size_t n, const char *reason, const char *name)
{
    char                err[128];
    got_t               g;
    vks_rtmp_reader_t   rd;

    vks_rtmp_reader_init(&rd);
    memset(&g, 0, sizeof(g));
    err[0] = '\0';

    ok(vks_rtmp_reader_feed(&rd, wire, n, collect, &g, err, sizeof(err))
       == -1 && strstr(err, reason) != NULL, "%s: refused (%s)", name, err);

    got_free(&g);
    vks_rtmp_reader_free(&rd);
}


static void
test_refused(void)
{
    int       i;
    uint8_t   wire[512], *p;
    size_t    n;

    p = wire;
    *p++ = 0x40 | 5;
    memset(p, 0, 7);
    p += 7;
    refused(wire, p - wire, "without a header", "type 1 first");

    p = wire;
    *p++ = 0xc0 | 9;
    refused(wire, p - wire, "without a header", "type 3 first");

    /* a message of 64 KiB + 1 */
    p = wire;
    *p++ = 3;
    *p++ = 0; *p++ = 0; *p++ = 0;
    *p++ = 0x01; *p++ = 0x00; *p++ = 0x01;
    *p++ = VKS_RTMP_MSG_COMMAND;
    memset(p, 0, 4);
    p += 4;
    refused(wire, p - wire, "a message of 65537 bytes", "too large");

    /* a type 0 header inside a message of 200 bytes at 128 a chunk */
    p = wire;
    *p++ = 3;
    *p++ = 0; *p++ = 0; *p++ = 0;
    *p++ = 0; *p++ = 0; *p++ = 200;
    *p++ = VKS_RTMP_MSG_COMMAND;
    memset(p, 0, 4 + 128);
    p += 4 + 128;
    n = vks_rtmp_chunk_message(p, 3, VKS_RTMP_MSG_COMMAND, 0, 0,
                               (const uint8_t *) "z", 1, 128);
    refused(wire, (p - wire) + n, "inside another", "interleaved start");

    /* nine chunk streams in flight */
    p = wire;
    for (i = 0; i < 9; i++) {
        *p++ = (uint8_t) (10 + i);
        *p++ = 0; *p++ = 0; *p++ = 0;
        *p++ = 0; *p++ = 0; *p++ = 1;
        *p++ = VKS_RTMP_MSG_DATA;
        memset(p, 0, 4);
        p += 4;
        *p++ = 'q';
    }
    refused(wire, p - wire, "more than 8 chunk streams", "chunk streams");

    n = set_chunk_size(wire, 0);
    refused(wire, n, "chunk size 0 out of range", "chunk size 0");

    n = set_chunk_size(wire, 65537);
    refused(wire, n, "chunk size 65537 out of range", "chunk size 65537");

    n = vks_rtmp_chunk_message(wire, 2, VKS_RTMP_MSG_CHUNK_SIZE, 0, 0,
                               (const uint8_t *) "\0\1", 2, 128);
    refused(wire, n, "short Set Chunk Size", "short chunk size");
}


/* an onStatus command, as nginx-rtmp writes it */
static size_t
on_status(uint8_t *buf, size_t size, const char *code)
{
    uint8_t  *p, *end;

    end = buf + size;
    p = vks_amf_put_string(buf, end, "onStatus");
    p = vks_amf_put_number(p, end, 0);
    p = vks_amf_put_null(p, end);
    p = vks_amf_put_object_start(p, end);
    p = vks_amf_put_property(p, end, "level", "error");
    p = vks_amf_put_property(p, end, "code", code);
    p = vks_amf_put_property(p, end, "description", "Already publishing");
    p = vks_amf_put_object_end(p, end);

    return p ? (size_t) (p - buf) : 0;
}


static void
test_amf(void)
{
    int             rc, bad;
    char            s[64];
    double          v;
    size_t          n, cut;
    uint8_t         buf[512], *p, *end;
    const uint8_t  *q;

    n = on_status(buf, sizeof(buf), "NetStream.Publish.BadName");
    ok(n > 0, "an onStatus command written");

    q = buf;
    ok(vks_amf_get_string(&q, buf + n, s, sizeof(s)) == 0
       && strcmp(s, "onStatus") == 0, "its name");
    ok(vks_amf_get_number(&q, buf + n, &v) == 0 && v == 0, "its txn");
    ok(vks_amf_skip(&q, buf + n) == 0, "its null");
    rc = vks_amf_get_property(&q, buf + n, "code", s, sizeof(s));
    ok(rc == 1 && strcmp(s, "NetStream.Publish.BadName") == 0
       && q == buf + n, "its code, and the object skipped whole");

    q = buf;
    (void) vks_amf_skip(&q, buf + n);
    (void) vks_amf_skip(&q, buf + n);
    (void) vks_amf_skip(&q, buf + n);
    ok(vks_amf_get_property(&q, buf + n, "tcUrl", s, sizeof(s)) == 0,
       "a property that is not there");

    q = buf;
    ok(vks_amf_get_string(&q, buf + n, s, 4) == 0 && strcmp(s, "onS") == 0,
       "a string truncated to the caller's buffer");

    /* every truncation is refused by the reading that crosses it */
    bad = 0;

    for (cut = 0; cut < n; cut++) {
        q = buf;
        rc = 0;

        if (vks_amf_get_string(&q, buf + cut, s, sizeof(s)) != 0
            || vks_amf_get_number(&q, buf + cut, &v) != 0
            || vks_amf_skip(&q, buf + cut) != 0
            || vks_amf_get_property(&q, buf + cut, "code", s, sizeof(s))
               == -1)
        {
            rc = -1;
        }

        if (rc != -1 || q > buf + cut) {
            bad++;
        }
    }

    is_int(bad, 0, "all %zu truncations refused, none read past", n);

    /* numbers */
    end = buf + sizeof(buf);
    p = vks_amf_put_number(buf, end, 1935.5);
    q = buf;
    ok(p && vks_amf_get_number(&q, p, &v) == 0 && v == 1935.5,
       "a number round-trips");

    ok(vks_amf_put_number(buf, buf + 8, 1) == NULL,
       "a number that does not fit");
    ok(vks_amf_put_string(buf, buf + 5, "abc") == NULL,
       "a string that does not fit");
    ok(vks_amf_put_property(NULL, end, "a", "b") == NULL,
       "a NULL chain stays NULL");

    /* an ECMA array, a strict array and a date, skipped */
    p = buf;
    *p++ = 0x08; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 1;
    *p++ = 0; *p++ = 1; *p++ = 'k';
    *p++ = 0x0a; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 2;
    *p++ = 0x01; *p++ = 1;
    *p++ = 0x0b; memset(p, 0, 10); p += 10;
    *p++ = 0; *p++ = 0; *p++ = 0x09;
    q = buf;
    ok(vks_amf_skip(&q, p) == 0 && q == p,
       "an ECMA array with a strict array and a date");

    /* nesting deeper than any answer needs */
    p = buf;
    for (n = 0; n < 40; n++) {
        *p++ = 0x03;
        *p++ = 0;
        *p++ = 1;
        *p++ = 'o';
    }
    *p++ = 0x05;
    for (n = 0; n < 40; n++) {
        *p++ = 0;
        *p++ = 0;
        *p++ = 0x09;
    }
    q = buf;
    ok(vks_amf_skip(&q, p) == -1, "40 nested objects refused");

    buf[0] = 0x11;
    q = buf;
    ok(vks_amf_skip(&q, buf + 10) == -1 && q == buf, "an unknown marker");
}


int
main(void)
{
    test_roundtrip();
    test_header_types();
    test_refused();
    test_amf();

    return done_testing();
}
