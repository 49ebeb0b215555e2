
/*
 * vkstream media: an RTMP publishing client.
 */


#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "vks_clock.h"
#include "vks_rtmp_chunk.h"
#include "vks_rtmp_pub.h"
#include "util/vks_err.h"


#define VKS_PUB_DEFAULT_PORT   "1935"
#define VKS_PUB_HANDSHAKE      1536
#define VKS_PUB_POLL_MS        100

/* ours: a keyframe of a 480-wide rendition is one chunk */
#define VKS_PUB_CHUNK          16384

#define VKS_PUB_CSID_CONTROL   2
#define VKS_PUB_CSID_COMMAND   3
#define VKS_PUB_CSID_AUDIO     4
#define VKS_PUB_CSID_VIDEO     6
#define VKS_PUB_CSID_DATA      5

/* FLV: file header and PreviousTagSize0, a tag's header, its trailer */
#define VKS_FLV_FILE_HEADER    13
#define VKS_FLV_TAG_HEADER     11
#define VKS_FLV_TAG_TRAILER    4

/* what the server's acks, pings and status messages may take, unread */
#define VKS_PUB_DRAIN_MS       1000

/* held messages go out at this size whatever their age */
#define VKS_PUB_HOLD_BYTES     65536

#define VKS_PUB_TXN_CONNECT    1
#define VKS_PUB_TXN_CREATE     2


enum {
    VKS_FLV_IN_FILE_HEADER = 0,
    VKS_FLV_IN_TAG_HEADER,
    VKS_FLV_IN_BODY,
    VKS_FLV_IN_TRAILER
};


/* what a command exchange waits for */
enum {
    VKS_PUB_WAIT_NONE = 0,
    VKS_PUB_WAIT_CONNECT,
    VKS_PUB_WAIT_CREATE,
    VKS_PUB_WAIT_PUBLISH
};


struct vks_rtmp_pub_s {
    int                 fd;
    vks_rtmp_abort_pt   should_abort;
    void               *data;
    vks_rtmp_reader_t   rd;
    uint32_t            stream_id;
    int                 failed;
    char                err[256];

    /* a command exchange: what is awaited, and its outcome */
    int                 wait;
    int                 done;           /* 1 answered, -1 refused */

    /* the FLV stream being cut into tags */
    int                 flv_state;
    size_t              flv_need;       /* bytes left of this part */
    uint8_t             tag_header[VKS_FLV_TAG_HEADER];
    size_t              tag_header_len;
    uint8_t            *tag;            /* the body being collected */
    size_t              tag_len;
    size_t              tag_cap;

    uint8_t            *out;            /* chunks of messages unsent */
    size_t              out_len;
    size_t              out_cap;
    int64_t             drained_at;

    int                 hold_ms;        /* 0: each message at once */
    int64_t             held_at;        /* ms of the oldest unsent */
};


static int vks_rtmp_pub_fail(vks_rtmp_pub_t *pub, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


static int
vks_rtmp_pub_fail(vks_rtmp_pub_t *pub, const char *fmt, ...)
{
    va_list  args;

    /* the first reason is the one to report */
    if (!pub->failed) {
        va_start(args, fmt);
        vsnprintf(pub->err, sizeof(pub->err), fmt, args);
        va_end(args);
    }

    pub->failed = 1;

    return -1;
}


/* waits until fd is ready for events, in steps that look at the abort */
static int
vks_rtmp_pub_poll(vks_rtmp_pub_t *pub, short events)
{
    int            rc;
    struct pollfd  pfd;

    for ( ;; ) {
        if (pub->should_abort && pub->should_abort(pub->data)) {
            return vks_rtmp_pub_fail(pub, "timed out");
        }

        pfd.fd = pub->fd;
        pfd.events = events;
        pfd.revents = 0;

        rc = poll(&pfd, 1, VKS_PUB_POLL_MS);

        if (rc > 0) {
            return 0;
        }

        if (rc < 0 && errno != EINTR) {
            return vks_rtmp_pub_fail(pub, "poll: %s", strerror(errno));
        }
    }
}


static int
vks_rtmp_pub_send(vks_rtmp_pub_t *pub, const uint8_t *p, size_t n)
{
    ssize_t  sent;

    while (n) {
        sent = send(pub->fd, p, n, MSG_NOSIGNAL);

        if (sent > 0) {
            p += sent;
            n -= sent;
            continue;
        }

        if (sent < 0 && errno == EINTR) {
            continue;
        }

        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (vks_rtmp_pub_poll(pub, POLLOUT) != 0) {
                return -1;
            }

            continue;
        }

        return vks_rtmp_pub_fail(pub, "send: %s",
                                 sent < 0 ? strerror(errno) : "nothing sent");
    }

    return 0;
}


static int
vks_rtmp_pub_recv_exact(vks_rtmp_pub_t *pub, uint8_t *p, size_t n)
{
    ssize_t  got;

    while (n) {
        got = recv(pub->fd, p, n, 0);

        if (got > 0) {
            p += got;
            n -= got;
            continue;
        }

        if (got == 0) {
            return vks_rtmp_pub_fail(pub, "the server closed the "
                                     "connection");
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (vks_rtmp_pub_poll(pub, POLLIN) != 0) {
                return -1;
            }

            continue;
        }

        return vks_rtmp_pub_fail(pub, "recv: %s", strerror(errno));
    }

    return 0;
}


static int
vks_rtmp_pub_flush_out(vks_rtmp_pub_t *pub)
{
    size_t  n;

    n = pub->out_len;
    pub->out_len = 0;

    return n ? vks_rtmp_pub_send(pub, pub->out, n) : 0;
}


/*
 * Chunks a message after those held; they leave together unless holding
 * is off, too many bytes are held or the oldest is older than hold_ms.
 */
static int
vks_rtmp_pub_message(vks_rtmp_pub_t *pub, uint32_t csid, uint8_t type,
    uint32_t msid, uint32_t timestamp, const uint8_t *body, size_t len)
{
    size_t    need, cap;
    int64_t   now;
    uint8_t  *out;

    need = pub->out_len + vks_rtmp_chunked_size(len, VKS_PUB_CHUNK);

    if (need > pub->out_cap) {
        cap = pub->out_cap ? pub->out_cap : VKS_PUB_CHUNK;

        while (cap < need) {
            cap *= 2;
        }

        out = realloc(pub->out, cap);
        if (out == NULL) {
            return vks_rtmp_pub_fail(pub, "out of memory");
        }

        pub->out = out;
        pub->out_cap = cap;
    }

    now = pub->hold_ms ? vks_now_ms() : 0;

    if (pub->out_len == 0) {
        pub->held_at = now;
    }

    pub->out_len += vks_rtmp_chunk_message(pub->out + pub->out_len, csid,
                                           type, msid, timestamp, body, len,
                                           VKS_PUB_CHUNK);

    if (pub->hold_ms && pub->out_len < VKS_PUB_HOLD_BYTES
        && now - pub->held_at < pub->hold_ms)
    {
        return 0;
    }

    return vks_rtmp_pub_flush_out(pub);
}


void
vks_rtmp_pub_hold(vks_rtmp_pub_t *pub, int ms)
{
    pub->hold_ms = ms > 0 ? ms : 0;
}


int
vks_rtmp_pub_flush(vks_rtmp_pub_t *pub)
{
    if (pub->failed) {
        return -1;
    }

    return vks_rtmp_pub_flush_out(pub);
}


/* the server's messages */

static int
vks_rtmp_pub_on_user(vks_rtmp_pub_t *pub, const vks_rtmp_msg_t *msg)
{
    uint8_t  pong[6];

    if (msg->len < 6 || msg->body[0] != 0
        || msg->body[1] != VKS_RTMP_USER_PING_REQUEST)
    {
        return 0;
    }

    /* a server that pings drops a client that does not answer */
    pong[0] = 0;
    pong[1] = VKS_RTMP_USER_PING_RESPONSE;
    memcpy(pong + 2, msg->body + 2, 4);

    return vks_rtmp_pub_message(pub, VKS_PUB_CSID_CONTROL,
                                VKS_RTMP_MSG_USER, 0, 0, pong, sizeof(pong));
}


static int
vks_rtmp_pub_on_command(vks_rtmp_pub_t *pub, const vks_rtmp_msg_t *msg)
{
    int             rc;
    char            name[64], code[128], desc[128];
    double          txn, id;
    const uint8_t  *p, *end;

    p = msg->body;
    end = p + msg->len;

    if (vks_amf_get_string(&p, end, name, sizeof(name)) != 0
        || vks_amf_get_number(&p, end, &txn) != 0)
    {
        return 0;
    }

    if (strcmp(name, "_result") == 0 || strcmp(name, "_error") == 0) {

        if (!((pub->wait == VKS_PUB_WAIT_CONNECT
               && txn == VKS_PUB_TXN_CONNECT)
              || (pub->wait == VKS_PUB_WAIT_CREATE
                  && txn == VKS_PUB_TXN_CREATE)))
        {
            return 0;
        }

        if (name[1] == 'e') {
            desc[0] = '\0';

            if (vks_amf_skip(&p, end) == 0) {
                (void) vks_amf_get_property(&p, end, "description", desc,
                                            sizeof(desc));
            }

            pub->done = -1;
            return vks_rtmp_pub_fail(pub, "%s refused%s%s",
                                     txn == VKS_PUB_TXN_CONNECT
                                     ? "connect" : "createStream",
                                     desc[0] ? ": " : "", desc);
        }

        if (pub->wait == VKS_PUB_WAIT_CREATE) {
            if (vks_amf_skip(&p, end) != 0
                || vks_amf_get_number(&p, end, &id) != 0
                || !(id >= 1 && id < 65536))
            {
                pub->done = -1;
                return vks_rtmp_pub_fail(pub, "createStream answered "
                                         "without a stream id");
            }

            pub->stream_id = (uint32_t) id;
        }

        pub->done = 1;
        return 0;
    }

    if (strcmp(name, "onStatus") != 0 || pub->wait != VKS_PUB_WAIT_PUBLISH) {
        return 0;
    }

    code[0] = '\0';
    desc[0] = '\0';

    if (vks_amf_skip(&p, end) != 0) {
        return 0;
    }

    rc = vks_amf_get_property(&p, end, "code", code, sizeof(code));
    if (rc != 1) {
        return 0;
    }

    p = msg->body;

    /* the description, for the log, from the same object */
    if (vks_amf_skip(&p, end) == 0 && vks_amf_skip(&p, end) == 0
        && vks_amf_skip(&p, end) == 0)
    {
        (void) vks_amf_get_property(&p, end, "description", desc,
                                    sizeof(desc));
    }

    if (strcmp(code, "NetStream.Publish.Start") == 0) {
        pub->done = 1;
        return 0;
    }

    if (strncmp(code, "NetStream.Publish.", 18) == 0
        || strstr(code, "Failed") || strstr(code, "Rejected"))
    {
        pub->done = -1;
        return vks_rtmp_pub_fail(pub, "publish refused: %s%s%s", code,
                                 desc[0] ? ", " : "", desc);
    }

    return 0;
}


static int
vks_rtmp_pub_on_message(void *data, const vks_rtmp_msg_t *msg)
{
    vks_rtmp_pub_t  *pub = data;

    switch (msg->type) {

    case VKS_RTMP_MSG_USER:
        return vks_rtmp_pub_on_user(pub, msg);

    case VKS_RTMP_MSG_COMMAND:
        return vks_rtmp_pub_on_command(pub, msg);

    default:
        /* window sizes, acks, bandwidth: nothing a publisher must obey */
        return 0;
    }
}


/* reads what the server sent; with wait, until the exchange is answered */
static int
vks_rtmp_pub_read(vks_rtmp_pub_t *pub, int wait)
{
    char     err[128];
    uint8_t  buf[16384];
    ssize_t  got;

    for ( ;; ) {
        if (wait && pub->done) {
            return pub->done == 1 ? 0 : -1;
        }

        got = recv(pub->fd, buf, sizeof(buf), 0);

        if (got > 0) {
            if (vks_rtmp_reader_feed(&pub->rd, buf, got,
                                     vks_rtmp_pub_on_message, pub,
                                     err, sizeof(err))
                != 0)
            {
                return vks_rtmp_pub_fail(pub, "from the server: %s", err);
            }

            continue;
        }

        if (got == 0) {
            return vks_rtmp_pub_fail(pub, "the server closed the "
                                     "connection");
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return vks_rtmp_pub_fail(pub, "recv: %s", strerror(errno));
        }

        if (!wait) {
            return 0;
        }

        if (vks_rtmp_pub_poll(pub, POLLIN) != 0) {
            return -1;
        }
    }
}


static int
vks_rtmp_pub_exchange(vks_rtmp_pub_t *pub, int wait, uint32_t msid,
    const uint8_t *body, size_t len)
{
    pub->wait = wait;
    pub->done = 0;

    if (vks_rtmp_pub_message(pub, VKS_PUB_CSID_COMMAND,
                             VKS_RTMP_MSG_COMMAND, msid, 0, body, len)
        != 0)
    {
        return -1;
    }

    if (vks_rtmp_pub_read(pub, 1) != 0) {
        return -1;
    }

    pub->wait = VKS_PUB_WAIT_NONE;

    return 0;
}


/* the connection */

static int
vks_rtmp_pub_split_url(const char *url, char *host, size_t hsize,
    char *port, size_t psize, char *tc, size_t tcsize)
{
    size_t       n;
    const char  *p, *slash, *colon, *close;

    if (strncmp(url, "rtmp://", 7) != 0) {
        return -1;
    }

    p = url + 7;
    slash = strchr(p, '/');
    if (slash == NULL) {
        slash = p + strlen(p);
    }

    if (*p == '[') {
        close = memchr(p, ']', slash - p);
        if (close == NULL) {
            return -1;
        }

        n = close - p - 1;
        colon = close + 1 < slash && close[1] == ':' ? close + 1 : NULL;
        p++;

    } else {
        colon = memchr(p, ':', slash - p);
        n = (colon ? colon : slash) - p;
    }

    if (n == 0 || n >= hsize) {
        return -1;
    }

    memcpy(host, p, n);
    host[n] = '\0';

    if (colon) {
        n = slash - colon - 1;
        if (n == 0 || n >= psize) {
            return -1;
        }

        memcpy(port, colon + 1, n);
        port[n] = '\0';

    } else {
        snprintf(port, psize, "%s", VKS_PUB_DEFAULT_PORT);
    }

    n = snprintf(tc, tcsize, "%s", url);

    return n < tcsize ? 0 : -1;
}


static int
vks_rtmp_pub_connect(vks_rtmp_pub_t *pub, const char *host,
    const char *port)
{
    int               fd, rc, one, failure;
    socklen_t         len;
    struct addrinfo   hints, *res, *ai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        return vks_rtmp_pub_fail(pub, "%s: %s", host, gai_strerror(rc));
    }

    rc = -1;
    failure = 0;

    for (ai = res; ai && rc != 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd == -1) {
            failure = errno;
            continue;
        }

        pub->fd = fd;

        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            rc = 0;
            break;
        }

        failure = errno;

        if (failure == EINPROGRESS) {
            if (vks_rtmp_pub_poll(pub, POLLOUT) != 0) {
                break;
            }

            len = sizeof(failure);

            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &len) != 0) {
                failure = errno;
            }

            if (failure == 0) {
                rc = 0;
                break;
            }
        }

        close(fd);
        pub->fd = -1;
    }

    freeaddrinfo(res);

    if (rc != 0) {
        if (pub->fd != -1) {
            close(pub->fd);
            pub->fd = -1;
        }

        return vks_rtmp_pub_fail(pub, "connect to %s:%s: %s", host, port,
                                 strerror(failure ? failure : ETIMEDOUT));
    }

    /* a message goes out whole, in one send(): nothing to wait for */
    one = 1;
    (void) setsockopt(pub->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    return 0;
}


static int
vks_rtmp_pub_handshake(vks_rtmp_pub_t *pub)
{
    size_t    i;
    uint32_t  seed;
    uint8_t   c01[1 + VKS_PUB_HANDSHAKE], s012[1 + 2 * VKS_PUB_HANDSHAKE];

    /* version 3, time 0, zero: the plain handshake, no digest */
    memset(c01, 0, sizeof(c01));
    c01[0] = 3;
    seed = (uint32_t) vks_now_ms() ^ (uint32_t) (uintptr_t) pub;

    for (i = 9; i < sizeof(c01); i++) {
        seed = seed * 1103515245 + 12345;
        c01[i] = (uint8_t) (seed >> 16);
    }

    if (vks_rtmp_pub_send(pub, c01, sizeof(c01)) != 0
        || vks_rtmp_pub_recv_exact(pub, s012, 1) != 0)
    {
        return -1;
    }

    /* S0 alone first: another server's answer says what it is */
    if (s012[0] != 3) {
        return vks_rtmp_pub_fail(pub, "not an RTMP server (version %u)",
                                 (unsigned) s012[0]);
    }

    if (vks_rtmp_pub_recv_exact(pub, s012 + 1, sizeof(s012) - 1) != 0) {
        return -1;
    }

    /* C2 echoes S1 */
    return vks_rtmp_pub_send(pub, s012 + 1, VKS_PUB_HANDSHAKE);
}


static int
vks_rtmp_pub_start(vks_rtmp_pub_t *pub, const char *app,
    const char *playpath, const char *tc_url)
{
    uint8_t   body[2048], *p, *end;
    uint8_t   size[4];

    end = body + sizeof(body);

    size[0] = (uint8_t) (VKS_PUB_CHUNK >> 24);
    size[1] = (uint8_t) (VKS_PUB_CHUNK >> 16);
    size[2] = (uint8_t) (VKS_PUB_CHUNK >> 8);
    size[3] = (uint8_t) VKS_PUB_CHUNK;

    if (vks_rtmp_pub_message(pub, VKS_PUB_CSID_CONTROL,
                             VKS_RTMP_MSG_CHUNK_SIZE, 0, 0, size, 4)
        != 0)
    {
        return -1;
    }

    p = vks_amf_put_string(body, end, "connect");
    p = vks_amf_put_number(p, end, VKS_PUB_TXN_CONNECT);
    p = vks_amf_put_object_start(p, end);
    p = vks_amf_put_property(p, end, "app", app);
    p = vks_amf_put_property(p, end, "type", "nonprivate");
    p = vks_amf_put_property(p, end, "flashVer", "FMLE/3.0 (vkstream)");
    p = vks_amf_put_property(p, end, "tcUrl", tc_url);
    p = vks_amf_put_object_end(p, end);

    if (p == NULL) {
        return vks_rtmp_pub_fail(pub, "the output URL is too long");
    }

    if (vks_rtmp_pub_exchange(pub, VKS_PUB_WAIT_CONNECT, 0, body, p - body)
        != 0)
    {
        return -1;
    }

    p = vks_amf_put_string(body, end, "createStream");
    p = vks_amf_put_number(p, end, VKS_PUB_TXN_CREATE);
    p = vks_amf_put_null(p, end);

    if (vks_rtmp_pub_exchange(pub, VKS_PUB_WAIT_CREATE, 0, body, p - body)
        != 0)
    {
        return -1;
    }

    p = vks_amf_put_string(body, end, "publish");
    p = vks_amf_put_number(p, end, 0);
    p = vks_amf_put_null(p, end);
    p = vks_amf_put_string(p, end, playpath);
    p = vks_amf_put_string(p, end, "live");

    if (p == NULL) {
        return vks_rtmp_pub_fail(pub, "the stream name is too long");
    }

    return vks_rtmp_pub_exchange(pub, VKS_PUB_WAIT_PUBLISH, pub->stream_id,
                                 body, p - body);
}


vks_rtmp_pub_t *
vks_rtmp_pub_open(const char *url, const char *app, const char *playpath,
    vks_rtmp_abort_pt should_abort, void *data, char *err, size_t errlen)
{
    char             host[256], port[16], tc[512];
    vks_rtmp_pub_t  *pub;

    if (vks_rtmp_pub_split_url(url, host, sizeof(host), port, sizeof(port),
                               tc, sizeof(tc))
        != 0)
    {
        vks_err(err, errlen, "bad RTMP URL \"%s\"", url);
        return NULL;
    }

    pub = calloc(1, sizeof(vks_rtmp_pub_t));
    if (pub == NULL || vks_rtmp_reader_init(&pub->rd) != 0) {
        free(pub);
        vks_err(err, errlen, "out of memory");
        return NULL;
    }

    pub->fd = -1;
    pub->should_abort = should_abort;
    pub->data = data;

    if (vks_rtmp_pub_connect(pub, host, port) != 0
        || vks_rtmp_pub_handshake(pub) != 0
        || vks_rtmp_pub_start(pub, app, playpath, tc) != 0)
    {
        vks_err(err, errlen, "%s", pub->err);
        vks_rtmp_pub_close(pub);
        return NULL;
    }

    pub->drained_at = vks_now_ms();

    return pub;
}


/* one FLV tag, whole: one message */
static int
vks_rtmp_pub_tag(vks_rtmp_pub_t *pub)
{
    int             rc;
    char            name[32];
    uint8_t         type, *body;
    uint32_t        csid, stamp;
    const uint8_t  *h, *p;
    static const char  set_data[] = "\x02\x00\x0d@setDataFrame";

    h = pub->tag_header;
    type = h[0] & 0x1f;
    stamp = (uint32_t) h[4] << 16 | (uint32_t) h[5] << 8 | h[6]
            | (uint32_t) h[7] << 24;

    switch (type) {

    case VKS_RTMP_MSG_AUDIO:
        csid = VKS_PUB_CSID_AUDIO;
        break;

    case VKS_RTMP_MSG_VIDEO:
        csid = VKS_PUB_CSID_VIDEO;
        break;

    case VKS_RTMP_MSG_DATA:
        csid = VKS_PUB_CSID_DATA;

        /* onMetaData goes as "@setDataFrame", "onMetaData", ...: kept */
        p = pub->tag;

        if (vks_amf_get_string(&p, pub->tag + pub->tag_len, name,
                               sizeof(name)) == 0
            && strcmp(name, "onMetaData") == 0)
        {
            body = malloc(pub->tag_len + sizeof(set_data) - 1);
            if (body == NULL) {
                return vks_rtmp_pub_fail(pub, "out of memory");
            }

            memcpy(body, set_data, sizeof(set_data) - 1);
            memcpy(body + sizeof(set_data) - 1, pub->tag, pub->tag_len);

            rc = vks_rtmp_pub_message(pub, csid, type, pub->stream_id, stamp,
                                      body,
                                      pub->tag_len + sizeof(set_data) - 1);
            free(body);
            return rc;
        }

        break;

    default:
        /* the muxer writes nothing else */
        return 0;
    }

    return vks_rtmp_pub_message(pub, csid, type, pub->stream_id, stamp,
                                pub->tag, pub->tag_len);
}


int
vks_rtmp_pub_write(vks_rtmp_pub_t *pub, const uint8_t *p, size_t n)
{
    size_t    take, len;
    int64_t   now;
    uint8_t  *tag;

    if (pub->failed) {
        return -1;
    }

    while (n) {
        switch (pub->flv_state) {

        case VKS_FLV_IN_FILE_HEADER:
            if (pub->flv_need == 0) {
                pub->flv_need = VKS_FLV_FILE_HEADER;
            }

            take = n < pub->flv_need ? n : pub->flv_need;
            pub->flv_need -= take;

            if (pub->flv_need == 0) {
                pub->flv_state = VKS_FLV_IN_TAG_HEADER;
                pub->tag_header_len = 0;
            }

            break;

        case VKS_FLV_IN_TAG_HEADER:
            take = VKS_FLV_TAG_HEADER - pub->tag_header_len;
            take = n < take ? n : take;

            memcpy(pub->tag_header + pub->tag_header_len, p, take);
            pub->tag_header_len += take;

            if (pub->tag_header_len < VKS_FLV_TAG_HEADER) {
                break;
            }

            len = (size_t) pub->tag_header[1] << 16
                  | (size_t) pub->tag_header[2] << 8 | pub->tag_header[3];

            if (len > pub->tag_cap) {
                tag = realloc(pub->tag, len);
                if (tag == NULL) {
                    return vks_rtmp_pub_fail(pub, "out of memory");
                }

                pub->tag = tag;
                pub->tag_cap = len;
            }

            pub->tag_len = 0;
            pub->flv_need = len;
            pub->flv_state = VKS_FLV_IN_BODY;

            if (len) {
                break;
            }

            /* fall through */

        case VKS_FLV_IN_BODY:
            take = n < pub->flv_need ? n : pub->flv_need;

            if (take) {
                memcpy(pub->tag + pub->tag_len, p, take);
            }

            pub->tag_len += take;
            pub->flv_need -= take;

            if (pub->flv_need) {
                break;
            }

            if (vks_rtmp_pub_tag(pub) != 0) {
                return -1;
            }

            pub->flv_need = VKS_FLV_TAG_TRAILER;
            pub->flv_state = VKS_FLV_IN_TRAILER;
            break;

        default: /* VKS_FLV_IN_TRAILER */
            take = n < pub->flv_need ? n : pub->flv_need;
            pub->flv_need -= take;

            if (pub->flv_need == 0) {
                pub->flv_state = VKS_FLV_IN_TAG_HEADER;
                pub->tag_header_len = 0;
            }
        }

        p += take;
        n -= take;
    }

    /* the server's acks and pings, now and then rather than per message */
    now = vks_now_ms();

    if (now - pub->drained_at >= VKS_PUB_DRAIN_MS) {
        pub->drained_at = now;

        if (vks_rtmp_pub_read(pub, 0) != 0) {
            return -1;
        }
    }

    return 0;
}


const char *
vks_rtmp_pub_error(vks_rtmp_pub_t *pub)
{
    return pub->err[0] ? pub->err : "failed";
}


void
vks_rtmp_pub_close(vks_rtmp_pub_t *pub)
{
    uint8_t   body[64], *p, *end;
    ssize_t   n;

    if (pub == NULL) {
        return;
    }

    if (pub->fd != -1) {
        /* what was held still goes, within should_abort()'s bound */
        if (!pub->failed) {
            (void) vks_rtmp_pub_flush_out(pub);
        }

        if (pub->stream_id && !pub->failed) {
            end = body + sizeof(body);
            p = vks_amf_put_string(body, end, "deleteStream");
            p = vks_amf_put_number(p, end, 0);
            p = vks_amf_put_null(p, end);
            p = vks_amf_put_number(p, end, pub->stream_id);

            /* no waiting: the close below ends the publish as well */
            if (p && pub->out_cap >= vks_rtmp_chunked_size(p - body,
                                                           VKS_PUB_CHUNK))
            {
                n = vks_rtmp_chunk_message(pub->out, VKS_PUB_CSID_COMMAND,
                                           VKS_RTMP_MSG_COMMAND, 0, 0,
                                           body, p - body, VKS_PUB_CHUNK);
                (void) send(pub->fd, pub->out, n,
                            MSG_NOSIGNAL | MSG_DONTWAIT);
            }
        }

        close(pub->fd);
    }

    vks_rtmp_reader_free(&pub->rd);
    free(pub->tag);
    free(pub->out);
    free(pub);
}
