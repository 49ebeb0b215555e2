
/*
 * vkstream media: RTMP chunk streams and the few AMF0 values a publishing
 * client exchanges (connect, createStream, publish and their answers).
 * Plain C, no I/O: the publisher (vks_rtmp_pub) owns the socket.
 */


#ifndef _VKS_RTMP_CHUNK_H_INCLUDED_
#define _VKS_RTMP_CHUNK_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define VKS_RTMP_MSG_CHUNK_SIZE     1
#define VKS_RTMP_MSG_ABORT          2
#define VKS_RTMP_MSG_ACK            3
#define VKS_RTMP_MSG_USER           4
#define VKS_RTMP_MSG_ACK_SIZE       5
#define VKS_RTMP_MSG_BANDWIDTH      6
#define VKS_RTMP_MSG_AUDIO          8
#define VKS_RTMP_MSG_VIDEO          9
#define VKS_RTMP_MSG_DATA           18
#define VKS_RTMP_MSG_COMMAND        20

#define VKS_RTMP_USER_PING_REQUEST  6
#define VKS_RTMP_USER_PING_RESPONSE 7

/* the largest header a chunk can have: 3 + 11 + 4 (extended time) */
#define VKS_RTMP_MAX_CHUNK_HEADER   18

/* what a peer may set: nginx-rtmp allows 10 MiB, nobody sends that */
#define VKS_RTMP_MAX_IN_CHUNK       65536
#define VKS_RTMP_MAX_IN_MESSAGE     65536
#define VKS_RTMP_CHUNK_STREAMS      8


typedef struct {
    uint32_t         csid;
    uint32_t         timestamp;
    uint32_t         delta;
    uint32_t         len;
    uint32_t         msid;
    uint8_t          type;
    uint8_t          ext;           /* the header had an extended time */
    uint8_t          known;         /* a full header was seen */
    uint8_t         *body;          /* the message being assembled */
    uint32_t         body_cap;
    uint32_t         have;
} vks_rtmp_cs_t;


/* one whole message from the peer */
typedef struct {
    uint8_t          type;
    uint32_t         msid;
    uint32_t         timestamp;
    const uint8_t   *body;
    uint32_t         len;
} vks_rtmp_msg_t;


typedef int (*vks_rtmp_msg_pt)(void *data, const vks_rtmp_msg_t *msg);


typedef struct {
    uint32_t         chunk_size;    /* the peer's, 128 until it says */
    vks_rtmp_cs_t    cs[VKS_RTMP_CHUNK_STREAMS];
    uint8_t         *in;            /* bytes not yet a whole chunk */
    size_t           in_len;
    size_t           in_cap;
} vks_rtmp_reader_t;


int vks_rtmp_reader_init(vks_rtmp_reader_t *rd);
void vks_rtmp_reader_free(vks_rtmp_reader_t *rd);

/*
 * Takes the next bytes from the peer and calls on_msg for every message
 * they complete (a Set Chunk Size is applied first).  Returns 0, or -1 with
 * the reason in err for a stream that breaks the protocol or the limits
 * above, or when on_msg returns -1.
 */
int vks_rtmp_reader_feed(vks_rtmp_reader_t *rd, const uint8_t *p, size_t n,
    vks_rtmp_msg_pt on_msg, void *data, char *err, size_t errlen);


/* the most bytes vks_rtmp_chunk_message() writes for a body of len */
size_t vks_rtmp_chunked_size(size_t len, uint32_t chunk_size);

/*
 * Writes one message as chunks of at most chunk_size bytes of body, all
 * with full (type 0) headers first and type 3 after, into out, which has
 * room for vks_rtmp_chunked_size(len, chunk_size).  csid is 2-63.  Returns
 * the bytes written.
 */
size_t vks_rtmp_chunk_message(uint8_t *out, uint32_t csid, uint8_t type,
    uint32_t msid, uint32_t timestamp, const uint8_t *body, size_t len,
    uint32_t chunk_size);


/* AMF0 writers: each returns p advanced, or NULL when end is reached */
uint8_t *vks_amf_put_string(uint8_t *p, uint8_t *end, const char *s);
uint8_t *vks_amf_put_number(uint8_t *p, uint8_t *end, double v);
uint8_t *vks_amf_put_null(uint8_t *p, uint8_t *end);
uint8_t *vks_amf_put_object_start(uint8_t *p, uint8_t *end);
uint8_t *vks_amf_put_property(uint8_t *p, uint8_t *end, const char *key,
    const char *value);
uint8_t *vks_amf_put_object_end(uint8_t *p, uint8_t *end);


/* AMF0 readers over [*pp, end): each advances *pp; -1 when not that */
int vks_amf_get_string(const uint8_t **pp, const uint8_t *end, char *buf,
    size_t size);
int vks_amf_get_number(const uint8_t **pp, const uint8_t *end, double *v);
int vks_amf_skip(const uint8_t **pp, const uint8_t *end);

/*
 * The string property key of the object (or ECMA array) at *pp, copied into
 * buf; the object is skipped whole.  Returns 1 when found, 0 when not, -1
 * for bytes that are not an object.
 */
int vks_amf_get_property(const uint8_t **pp, const uint8_t *end,
    const char *key, char *buf, size_t size);


#endif /* _VKS_RTMP_CHUNK_H_INCLUDED_ */
