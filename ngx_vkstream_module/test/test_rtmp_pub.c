
/*
 * Unit tests: media/vks_rtmp_pub (the rendition's publishing client)
 * against a minimal RTMP server on a loopback port, in this process.  Each
 * FLV tag leaves as one message; with a hold, messages leave only at a
 * flush, at 64 KiB, once the oldest is older than the hold, or at the
 * close, and nothing of them reaches the server before (the server's
 * socket has nothing to read); without one, each message is on the
 * server's side when its write returns.
 */


#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "media/vks_clock.h"
#include "media/vks_rtmp_chunk.h"
#include "media/vks_rtmp_pub.h"
#include "vks_tap.h"


#define HANDSHAKE   1536
#define MAX_MSGS    64


typedef struct {
    int                 lfd;
    int                 fd;             /* the accepted connection */
    vks_rtmp_reader_t   rd;
    int                 published;
    int                 failed;

    /* media messages the server took, in order */
    int                 n;
    uint8_t             type[MAX_MSGS];
    uint32_t            stamp[MAX_MSGS];
    size_t              len[MAX_MSGS];
} server_t;


static int
send_all(int fd, const uint8_t *p, size_t n)
{
    ssize_t  sent;

    while (n) {
        sent = send(fd, p, n, MSG_NOSIGNAL);
        if (sent <= 0) {
            return -1;
        }

        p += sent;
        n -= sent;
    }

    return 0;
}


static int
recv_all(int fd, uint8_t *p, size_t n)
{
    ssize_t  got;

    while (n) {
        got = recv(fd, p, n, 0);
        if (got <= 0) {
            return -1;
        }

        p += got;
        n -= got;
    }

    return 0;
}


static void
reply(server_t *s, const char *name, double txn, int with_id,
    const char *code)
{
    size_t    n;
    uint8_t   body[256], wire[512], *p, *end;

    end = body + sizeof(body);
    p = vks_amf_put_string(body, end, name);
    p = vks_amf_put_number(p, end, txn);
    p = vks_amf_put_null(p, end);

    if (with_id) {
        p = vks_amf_put_number(p, end, 1);
    }

    if (code) {
        p = vks_amf_put_object_start(p, end);
        p = vks_amf_put_property(p, end, "level", "status");
        p = vks_amf_put_property(p, end, "code", code);
        p = vks_amf_put_object_end(p, end);
    }

    n = vks_rtmp_chunk_message(wire, 3, VKS_RTMP_MSG_COMMAND, 0, 0, body,
                               p - body, 128);

    if (send_all(s->fd, wire, n) != 0) {
        s->failed = 1;
    }
}


static int
on_message(void *data, const vks_rtmp_msg_t *msg)
{
    char             name[64];
    double           txn;
    server_t        *s = data;
    const uint8_t   *p;

    if (msg->type == VKS_RTMP_MSG_AUDIO || msg->type == VKS_RTMP_MSG_VIDEO) {
        if (s->n < MAX_MSGS) {
            s->type[s->n] = msg->type;
            s->stamp[s->n] = msg->timestamp;
            s->len[s->n] = msg->len;
            s->n++;
        }

        return 0;
    }

    if (msg->type != VKS_RTMP_MSG_COMMAND) {
        return 0;
    }

    p = msg->body;

    if (vks_amf_get_string(&p, msg->body + msg->len, name, sizeof(name)) != 0
        || vks_amf_get_number(&p, msg->body + msg->len, &txn) != 0)
    {
        return 0;
    }

    if (strcmp(name, "connect") == 0) {
        reply(s, "_result", txn, 0, NULL);

    } else if (strcmp(name, "createStream") == 0) {
        reply(s, "_result", txn, 1, NULL);

    } else if (strcmp(name, "publish") == 0) {
        reply(s, "onStatus", 0, 0, "NetStream.Publish.Start");
        s->published = 1;
    }

    return 0;
}


/* reads and handles what the client sent, as much as is there */
static int
server_read(server_t *s, int wait)
{
    char     err[128];
    uint8_t  buf[65536];
    ssize_t  got;

    got = recv(s->fd, buf, sizeof(buf), wait ? 0 : MSG_DONTWAIT);

    if (got <= 0) {
        /* waiting, EAGAIN is SO_RCVTIMEO: nothing came in time */
        return (got < 0 && errno == EAGAIN && !wait) ? 0 : -1;
    }

    return vks_rtmp_reader_feed(&s->rd, buf, got, on_message, s, err,
                                sizeof(err));
}


static void *
server_thread(void *data)
{
    uint8_t          c01[1 + HANDSHAKE], s012[1 + 2 * HANDSHAKE];
    uint8_t          c2[HANDSHAKE];
    server_t        *s = data;
    struct timeval   tv;

    s->fd = accept(s->lfd, NULL, NULL);

    /* a message that never comes fails the test instead of hanging it */
    tv.tv_sec = 10;
    tv.tv_usec = 0;

    if (s->fd == -1
        || setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0
        || recv_all(s->fd, c01, sizeof(c01)) != 0)
    {
        s->failed = 1;
        return NULL;
    }

    memset(s012, 0, sizeof(s012));
    s012[0] = 3;
    memcpy(s012 + 1 + HANDSHAKE, c01 + 1, HANDSHAKE);

    if (send_all(s->fd, s012, sizeof(s012)) != 0
        || recv_all(s->fd, c2, sizeof(c2)) != 0)
    {
        s->failed = 1;
        return NULL;
    }

    while (!s->published && !s->failed) {
        if (server_read(s, 1) != 0) {
            s->failed = 1;
        }
    }

    return NULL;
}


/* a listening socket on a loopback port, and a client published to it */
static vks_rtmp_pub_t *
start(server_t *s)
{
    char                 url[64], err[256];
    pthread_t            tid;
    socklen_t            len;
    vks_rtmp_pub_t      *pub;
    struct sockaddr_in   sin;

    memset(s, 0, sizeof(server_t));
    vks_rtmp_reader_init(&s->rd);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sin);

    s->lfd = socket(AF_INET, SOCK_STREAM, 0);

    if (s->lfd == -1
        || bind(s->lfd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || listen(s->lfd, 1) != 0
        || getsockname(s->lfd, (struct sockaddr *) &sin, &len) != 0
        || pthread_create(&tid, NULL, server_thread, s) != 0)
    {
        return NULL;
    }

    snprintf(url, sizeof(url), "rtmp://127.0.0.1:%u/hls",
             (unsigned) ntohs(sin.sin_port));

    pub = vks_rtmp_pub_open(url, "hls", "t_low", NULL, NULL, err,
                            sizeof(err));

    pthread_join(tid, NULL);

    if (pub == NULL || s->failed || !s->published) {
        fprintf(stderr, "# open: %s\n", pub ? "server failed" : err);
        vks_rtmp_pub_close(pub);
        return NULL;
    }

    return pub;
}


static void
stop(server_t *s, vks_rtmp_pub_t *pub)
{
    vks_rtmp_pub_close(pub);

    if (s->fd != -1) {
        close(s->fd);
    }

    close(s->lfd);
    vks_rtmp_reader_free(&s->rd);
}


/* bytes the server could read now */
static int
unread(server_t *s)
{
    int  n;

    if (ioctl(s->fd, FIONREAD, &n) != 0) {
        return -1;
    }

    return n;
}


/* the server reads until it has taken n media messages */
static int
server_wait(server_t *s, int n)
{
    while (s->n < n) {
        if (server_read(s, 1) != 0) {
            return -1;
        }
    }

    return 0;
}


/* the FLV file header, then each write() one tag of len bytes */
static int
write_header(vks_rtmp_pub_t *pub)
{
    static const uint8_t  h[13] = { 'F', 'L', 'V', 1, 5, 0, 0, 0, 9,
                                    0, 0, 0, 0 };

    return vks_rtmp_pub_write(pub, h, sizeof(h));
}


static int
write_tag(vks_rtmp_pub_t *pub, uint8_t type, uint32_t ms, size_t len)
{
    int       rc;
    size_t    total;
    uint8_t  *tag;

    total = 11 + len + 4;
    tag = calloc(1, total);
    if (tag == NULL) {
        return -1;
    }

    tag[0] = type;
    tag[1] = (uint8_t) (len >> 16);
    tag[2] = (uint8_t) (len >> 8);
    tag[3] = (uint8_t) len;
    tag[4] = (uint8_t) (ms >> 16);
    tag[5] = (uint8_t) (ms >> 8);
    tag[6] = (uint8_t) ms;
    tag[7] = (uint8_t) (ms >> 24);
    memset(tag + 11, 0x17, len);
    tag[11 + len] = (uint8_t) ((11 + len) >> 24);
    tag[12 + len] = (uint8_t) ((11 + len) >> 16);
    tag[13 + len] = (uint8_t) ((11 + len) >> 8);
    tag[14 + len] = (uint8_t) (11 + len);

    rc = vks_rtmp_pub_write(pub, tag, total);
    free(tag);

    return rc;
}


static void
test_no_hold(void)
{
    int              i, each;
    server_t         s;
    vks_rtmp_pub_t  *pub;

    pub = start(&s);
    ok(pub != NULL, "no hold: published to the server");
    if (pub == NULL) {
        return;
    }

    each = write_header(pub) == 0;

    /* each message is on the server's side when its write returns */
    for (i = 0; i < 4; i++) {
        each &= write_tag(pub, i % 2 ? 8 : 9, 33 * i, 700) == 0
                && server_wait(&s, i + 1) == 0
                && unread(&s) == 0;
    }

    ok(each && s.n == 4, "no hold: every message arrived by itself (%d)",
       s.n);
    ok(s.type[0] == 9 && s.type[1] == 8 && s.stamp[3] == 99
       && s.len[2] == 700, "no hold: types, timestamps, sizes kept");

    stop(&s, pub);
}


static void
test_hold(void)
{
    int              i, wrote, before;
    server_t         s;
    vks_rtmp_pub_t  *pub;

    pub = start(&s);
    ok(pub != NULL, "hold: published to the server");
    if (pub == NULL) {
        return;
    }

    /* a hold far longer than the test: only a flush lets them go */
    vks_rtmp_pub_hold(pub, 100000);

    wrote = write_header(pub) == 0;
    for (i = 0; i < 10; i++) {
        wrote &= write_tag(pub, i % 3 ? 8 : 9, 20 * i, 1500) == 0;
    }

    before = unread(&s);

    ok(wrote && before == 0, "hold: 10 messages written, none sent (%d "
       "bytes at the server)", before);

    ok(vks_rtmp_pub_flush(pub) == 0 && server_wait(&s, 10) == 0
       && s.n == 10 && s.stamp[9] == 180 && s.len[9] == 1500,
       "hold: the flush sent all 10, in order");

    ok(vks_rtmp_pub_flush(pub) == 0 && unread(&s) == 0,
       "hold: a flush with nothing held sends nothing");

    /* 64 KiB held go at once, whatever their age */
    wrote = 1;
    for (i = 0; i < 5; i++) {
        wrote &= write_tag(pub, 9, 200 + 33 * i, 16000) == 0;
    }

    ok(wrote && server_wait(&s, 15) == 0 && s.n == 15,
       "hold: 80 KB went without a flush");

    stop(&s, pub);
}


static void
test_hold_age(void)
{
    int              wrote, before;
    int64_t          first;
    server_t         s;
    vks_rtmp_pub_t  *pub;

    pub = start(&s);
    ok(pub != NULL, "age: published to the server");
    if (pub == NULL) {
        return;
    }

    vks_rtmp_pub_hold(pub, 200);

    first = vks_now_ms();
    wrote = write_header(pub) == 0 && write_tag(pub, 9, 0, 500) == 0;
    before = unread(&s);

    /* the next message comes once the first is older than the hold */
    while (vks_now_ms() - first <= 200) {
        (void) server_read(&s, 0);
    }

    ok(wrote && before == 0 && s.n == 0,
       "age: the first message is held (%d bytes at the server)", before);

    ok(write_tag(pub, 8, 40, 300) == 0 && server_wait(&s, 2) == 0
       && s.n == 2 && s.type[0] == 9 && s.type[1] == 8,
       "age: the next write sends both once the first is 200 ms old");

    ok(write_tag(pub, 9, 80, 300) == 0 && unread(&s) == 0,
       "age: a new message is held again");

    /* the close sends what is held before ending the publish */
    vks_rtmp_pub_close(pub);

    ok(server_wait(&s, 3) == 0 && s.n == 3 && s.stamp[2] == 80,
       "age: the close sent the message held");

    stop(&s, NULL);
}


int
main(void)
{
    test_no_hold();
    test_hold();
    test_hold_age();

    return done_testing();
}
