
/*
 * vkstream media: RTMP chunk streams and AMF0 values.
 */


#include <stdlib.h>
#include <string.h>
#include "vks_rtmp_chunk.h"
#include "util/vks_err.h"


#define VKS_AMF_NUMBER        0x00
#define VKS_AMF_BOOLEAN       0x01
#define VKS_AMF_STRING        0x02
#define VKS_AMF_OBJECT        0x03
#define VKS_AMF_NULL          0x05
#define VKS_AMF_UNDEFINED     0x06
#define VKS_AMF_ECMA_ARRAY    0x08
#define VKS_AMF_OBJECT_END    0x09
#define VKS_AMF_STRICT_ARRAY  0x0a
#define VKS_AMF_DATE          0x0b
#define VKS_AMF_LONG_STRING   0x0c

/* nesting a server's answer never needs; bounds the recursion */
#define VKS_AMF_MAX_DEPTH     16

/* a whole chunk of the largest size fits, twice: no chunk waits for room */
#define VKS_RTMP_IN_CAP                                                       \
    (2 * (VKS_RTMP_MAX_IN_CHUNK + VKS_RTMP_MAX_CHUNK_HEADER))

#define VKS_RTMP_NEED_MORE    1


static const uint8_t  vks_rtmp_header_len[4] = { 11, 7, 3, 0 };


static uint32_t
vks_rtmp_be24(const uint8_t *p)
{
    return (uint32_t) p[0] << 16 | (uint32_t) p[1] << 8 | p[2];
}


static uint32_t
vks_rtmp_be32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}


int
vks_rtmp_reader_init(vks_rtmp_reader_t *rd)
{
    memset(rd, 0, sizeof(vks_rtmp_reader_t));

    rd->chunk_size = 128;
    rd->in_cap = VKS_RTMP_IN_CAP;
    rd->in = malloc(rd->in_cap);

    return rd->in ? 0 : -1;
}


void
vks_rtmp_reader_free(vks_rtmp_reader_t *rd)
{
    int  i;

    for (i = 0; i < VKS_RTMP_CHUNK_STREAMS; i++) {
        free(rd->cs[i].body);
    }

    free(rd->in);
    memset(rd, 0, sizeof(vks_rtmp_reader_t));
}


static vks_rtmp_cs_t *
vks_rtmp_reader_stream(vks_rtmp_reader_t *rd, uint32_t csid)
{
    int  i;

    for (i = 0; i < VKS_RTMP_CHUNK_STREAMS; i++) {
        if (rd->cs[i].csid == csid) {
            return &rd->cs[i];
        }
    }

    for (i = 0; i < VKS_RTMP_CHUNK_STREAMS; i++) {
        if (rd->cs[i].csid == 0) {
            rd->cs[i].csid = csid;
            return &rd->cs[i];
        }
    }

    return NULL;
}


static int
vks_rtmp_reader_deliver(vks_rtmp_reader_t *rd, vks_rtmp_cs_t *cs,
    vks_rtmp_msg_pt on_msg, void *data, char *err, size_t errlen)
{
    uint32_t        size;
    vks_rtmp_msg_t  msg;

    cs->have = 0;

    if (cs->type == VKS_RTMP_MSG_CHUNK_SIZE) {
        if (cs->len < 4) {
            return vks_err(err, errlen, "a short Set Chunk Size");
        }

        size = vks_rtmp_be32(cs->body) & 0x7fffffff;

        if (size < 1 || size > VKS_RTMP_MAX_IN_CHUNK) {
            return vks_err(err, errlen, "chunk size %u out of range",
                           (unsigned) size);
        }

        rd->chunk_size = size;
    }

    msg.type = cs->type;
    msg.msid = cs->msid;
    msg.timestamp = cs->timestamp;
    msg.body = cs->body;
    msg.len = cs->len;

    if (on_msg && on_msg(data, &msg) != 0) {
        return vks_err(err, errlen, "message of type %u refused",
                       (unsigned) cs->type);
    }

    return 0;
}


/* one chunk from p: its size in *used, or VKS_RTMP_NEED_MORE */
static int
vks_rtmp_reader_chunk(vks_rtmp_reader_t *rd, const uint8_t *p, size_t n,
    size_t *used, vks_rtmp_msg_pt on_msg, void *data, char *err,
    size_t errlen)
{
    int             fmt, ext;
    size_t          h, take;
    uint8_t        *body;
    uint32_t        csid, stamp, len, type, msid;
    vks_rtmp_cs_t  *cs;

    if (n < 1) {
        return VKS_RTMP_NEED_MORE;
    }

    fmt = p[0] >> 6;
    csid = p[0] & 0x3f;
    h = 1;

    if (csid == 0) {
        if (n < 2) {
            return VKS_RTMP_NEED_MORE;
        }

        csid = 64 + p[1];
        h = 2;

    } else if (csid == 1) {
        if (n < 3) {
            return VKS_RTMP_NEED_MORE;
        }

        csid = 64 + p[1] + (uint32_t) p[2] * 256;
        h = 3;
    }

    if (n < h + vks_rtmp_header_len[fmt]) {
        return VKS_RTMP_NEED_MORE;
    }

    cs = vks_rtmp_reader_stream(rd, csid);
    if (cs == NULL) {
        return vks_err(err, errlen, "more than %d chunk streams",
                       VKS_RTMP_CHUNK_STREAMS);
    }

    if (fmt != 0 && !cs->known) {
        return vks_err(err, errlen, "chunk stream %u continues without a "
                       "header", (unsigned) csid);
    }

    if (fmt != 3 && cs->have) {
        return vks_err(err, errlen, "chunk stream %u starts a message "
                       "inside another", (unsigned) csid);
    }

    stamp = 0;
    len = cs->len;
    type = cs->type;
    msid = cs->msid;

    if (fmt < 3) {
        stamp = vks_rtmp_be24(p + h);
    }

    if (fmt < 2) {
        len = vks_rtmp_be24(p + h + 3);
        type = p[h + 6];
    }

    if (fmt == 0) {
        msid = p[h + 7] | (uint32_t) p[h + 8] << 8
               | (uint32_t) p[h + 9] << 16 | (uint32_t) p[h + 10] << 24;
    }

    ext = fmt < 3 ? stamp == 0xffffff : cs->ext;
    h += vks_rtmp_header_len[fmt];

    if (ext) {
        if (n < h + 4) {
            return VKS_RTMP_NEED_MORE;
        }

        if (fmt < 3) {
            stamp = vks_rtmp_be32(p + h);
        }

        h += 4;
    }

    if (len > VKS_RTMP_MAX_IN_MESSAGE) {
        return vks_err(err, errlen, "a message of %u bytes",
                       (unsigned) len);
    }

    take = len - cs->have;

    if (take > rd->chunk_size) {
        take = rd->chunk_size;
    }

    if (n < h + take) {
        return VKS_RTMP_NEED_MORE;
    }

    /* the whole chunk is here: only now does it change the stream */

    if (cs->have == 0) {
        switch (fmt) {
        case 0:
            cs->timestamp = stamp;
            cs->delta = 0;
            break;
        case 1:
        case 2:
            cs->delta = stamp;
            cs->timestamp += stamp;
            break;
        default:
            cs->timestamp += cs->delta;
        }

        cs->len = len;
        cs->type = (uint8_t) type;
        cs->msid = msid;
        cs->known = 1;

        if (fmt < 3) {
            cs->ext = (uint8_t) ext;
        }

        if (len > cs->body_cap) {
            body = realloc(cs->body, len);
            if (body == NULL) {
                return vks_err(err, errlen, "out of memory");
            }

            cs->body = body;
            cs->body_cap = len;
        }
    }

    if (take) {
        memcpy(cs->body + cs->have, p + h, take);
    }

    cs->have += take;
    *used = h + take;

    if (cs->have == cs->len) {
        return vks_rtmp_reader_deliver(rd, cs, on_msg, data, err, errlen);
    }

    return 0;
}


int
vks_rtmp_reader_feed(vks_rtmp_reader_t *rd, const uint8_t *p, size_t n,
    vks_rtmp_msg_pt on_msg, void *data, char *err, size_t errlen)
{
    int     rc;
    size_t  take, pos, used;

    while (n) {
        take = rd->in_cap - rd->in_len;
        if (take > n) {
            take = n;
        }

        memcpy(rd->in + rd->in_len, p, take);
        rd->in_len += take;
        p += take;
        n -= take;

        pos = 0;

        for ( ;; ) {
            used = 0;
            rc = vks_rtmp_reader_chunk(rd, rd->in + pos, rd->in_len - pos,
                                       &used, on_msg, data, err, errlen);
            if (rc == -1) {
                return -1;
            }

            if (rc == VKS_RTMP_NEED_MORE) {
                break;
            }

            pos += used;
        }

        memmove(rd->in, rd->in + pos, rd->in_len - pos);
        rd->in_len -= pos;
    }

    return 0;
}


size_t
vks_rtmp_chunked_size(size_t len, uint32_t chunk_size)
{
    size_t  more;

    more = len ? (len - 1) / chunk_size : 0;

    return 12 + 4 + len + more * (1 + 4);
}


size_t
vks_rtmp_chunk_message(uint8_t *out, uint32_t csid, uint8_t type,
    uint32_t msid, uint32_t timestamp, const uint8_t *body, size_t len,
    uint32_t chunk_size)
{
    int       ext;
    size_t    take;
    uint8_t  *p;
    uint32_t  stamp;

    ext = timestamp >= 0xffffff;
    stamp = ext ? 0xffffff : timestamp;
    p = out;

    *p++ = (uint8_t) csid;
    *p++ = (uint8_t) (stamp >> 16);
    *p++ = (uint8_t) (stamp >> 8);
    *p++ = (uint8_t) stamp;
    *p++ = (uint8_t) (len >> 16);
    *p++ = (uint8_t) (len >> 8);
    *p++ = (uint8_t) len;
    *p++ = type;
    *p++ = (uint8_t) msid;
    *p++ = (uint8_t) (msid >> 8);
    *p++ = (uint8_t) (msid >> 16);
    *p++ = (uint8_t) (msid >> 24);

    for ( ;; ) {
        if (ext) {
            *p++ = (uint8_t) (timestamp >> 24);
            *p++ = (uint8_t) (timestamp >> 16);
            *p++ = (uint8_t) (timestamp >> 8);
            *p++ = (uint8_t) timestamp;
        }

        take = len < chunk_size ? len : chunk_size;

        if (take) {
            memcpy(p, body, take);
        }

        p += take;
        body += take;
        len -= take;

        if (len == 0) {
            break;
        }

        *p++ = (uint8_t) (0xc0 | csid);
    }

    return p - out;
}


/* AMF0 */

uint8_t *
vks_amf_put_string(uint8_t *p, uint8_t *end, const char *s)
{
    size_t  len;

    len = strlen(s);

    if (p == NULL || len > 0xffff || (size_t) (end - p) < 3 + len) {
        return NULL;
    }

    *p++ = VKS_AMF_STRING;
    *p++ = (uint8_t) (len >> 8);
    *p++ = (uint8_t) len;
    memcpy(p, s, len);

    return p + len;
}


uint8_t *
vks_amf_put_number(uint8_t *p, uint8_t *end, double v)
{
    int       i;
    uint64_t  bits;

    if (p == NULL || end - p < 9) {
        return NULL;
    }

    memcpy(&bits, &v, 8);

    *p++ = VKS_AMF_NUMBER;

    for (i = 7; i >= 0; i--) {
        *p++ = (uint8_t) (bits >> (i * 8));
    }

    return p;
}


uint8_t *
vks_amf_put_null(uint8_t *p, uint8_t *end)
{
    if (p == NULL || end - p < 1) {
        return NULL;
    }

    *p++ = VKS_AMF_NULL;

    return p;
}


uint8_t *
vks_amf_put_object_start(uint8_t *p, uint8_t *end)
{
    if (p == NULL || end - p < 1) {
        return NULL;
    }

    *p++ = VKS_AMF_OBJECT;

    return p;
}


uint8_t *
vks_amf_put_property(uint8_t *p, uint8_t *end, const char *key,
    const char *value)
{
    size_t  len;

    len = strlen(key);

    if (p == NULL || len > 0xffff || (size_t) (end - p) < 2 + len) {
        return NULL;
    }

    *p++ = (uint8_t) (len >> 8);
    *p++ = (uint8_t) len;
    memcpy(p, key, len);

    return vks_amf_put_string(p + len, end, value);
}


uint8_t *
vks_amf_put_object_end(uint8_t *p, uint8_t *end)
{
    if (p == NULL || end - p < 3) {
        return NULL;
    }

    *p++ = 0;
    *p++ = 0;
    *p++ = VKS_AMF_OBJECT_END;

    return p;
}


int
vks_amf_get_string(const uint8_t **pp, const uint8_t *end, char *buf,
    size_t size)
{
    size_t          len, copy, h;
    const uint8_t  *p;

    p = *pp;

    if (p >= end) {
        return -1;
    }

    if (*p == VKS_AMF_STRING && end - p >= 3) {
        len = (size_t) p[1] << 8 | p[2];
        h = 3;

    } else if (*p == VKS_AMF_LONG_STRING && end - p >= 5) {
        len = vks_rtmp_be32(p + 1);
        h = 5;

    } else {
        return -1;
    }

    if (len > (size_t) (end - p) - h) {
        return -1;
    }

    if (size) {
        copy = len < size - 1 ? len : size - 1;
        memcpy(buf, p + h, copy);
        buf[copy] = '\0';
    }

    *pp = p + h + len;

    return 0;
}


int
vks_amf_get_number(const uint8_t **pp, const uint8_t *end, double *v)
{
    int             i;
    uint64_t        bits;
    const uint8_t  *p;

    p = *pp;

    if (end - p < 9 || *p != VKS_AMF_NUMBER) {
        return -1;
    }

    bits = 0;

    for (i = 1; i <= 8; i++) {
        bits = bits << 8 | p[i];
    }

    memcpy(v, &bits, 8);
    *pp = p + 9;

    return 0;
}


static int vks_amf_skip_value(const uint8_t **pp, const uint8_t *end,
    int depth);


/* the properties of an object, up to and with its end marker */
static int
vks_amf_skip_properties(const uint8_t **pp, const uint8_t *end, int depth)
{
    size_t          len;
    const uint8_t  *p;

    p = *pp;

    for ( ;; ) {
        if (end - p < 2) {
            return -1;
        }

        len = (size_t) p[0] << 8 | p[1];
        p += 2;

        if (len == 0 && p < end && *p == VKS_AMF_OBJECT_END) {
            *pp = p + 1;
            return 0;
        }

        if ((size_t) (end - p) < len) {
            return -1;
        }

        p += len;

        if (vks_amf_skip_value(&p, end, depth + 1) != 0) {
            return -1;
        }
    }
}


static int
vks_amf_skip_value(const uint8_t **pp, const uint8_t *end, int depth)
{
    size_t          need;
    uint32_t        i, count;
    const uint8_t  *p;

    p = *pp;

    if (p >= end || depth > VKS_AMF_MAX_DEPTH) {
        return -1;
    }

    switch (*p) {

    case VKS_AMF_NUMBER:
        need = 9;
        break;

    case VKS_AMF_BOOLEAN:
        need = 2;
        break;

    case VKS_AMF_STRING:
    case VKS_AMF_LONG_STRING:
        return vks_amf_get_string(pp, end, NULL, 0);

    case VKS_AMF_NULL:
    case VKS_AMF_UNDEFINED:
        need = 1;
        break;

    case VKS_AMF_DATE:
        need = 11;
        break;

    case VKS_AMF_OBJECT:
        *pp = p + 1;
        return vks_amf_skip_properties(pp, end, depth);

    case VKS_AMF_ECMA_ARRAY:
        if (end - p < 5) {
            return -1;
        }

        *pp = p + 5;
        return vks_amf_skip_properties(pp, end, depth);

    case VKS_AMF_STRICT_ARRAY:
        if (end - p < 5) {
            return -1;
        }

        count = vks_rtmp_be32(p + 1);
        p += 5;

        for (i = 0; i < count; i++) {
            if (vks_amf_skip_value(&p, end, depth + 1) != 0) {
                return -1;
            }
        }

        *pp = p;
        return 0;

    default:
        return -1;
    }

    if ((size_t) (end - p) < need) {
        return -1;
    }

    *pp = p + need;

    return 0;
}


int
vks_amf_skip(const uint8_t **pp, const uint8_t *end)
{
    return vks_amf_skip_value(pp, end, 0);
}


int
vks_amf_get_property(const uint8_t **pp, const uint8_t *end,
    const char *key, char *buf, size_t size)
{
    int             found;
    size_t          len, klen;
    const uint8_t  *p;

    p = *pp;
    klen = strlen(key);

    if (p < end && *p == VKS_AMF_OBJECT) {
        p += 1;

    } else if (end - p >= 5 && *p == VKS_AMF_ECMA_ARRAY) {
        p += 5;

    } else {
        return -1;
    }

    found = 0;

    for ( ;; ) {
        if (end - p < 2) {
            return -1;
        }

        len = (size_t) p[0] << 8 | p[1];
        p += 2;

        if (len == 0 && p < end && *p == VKS_AMF_OBJECT_END) {
            *pp = p + 1;
            return found;
        }

        if ((size_t) (end - p) < len) {
            return -1;
        }

        if (!found && len == klen && memcmp(p, key, len) == 0
            && p + len < end && p[len] == VKS_AMF_STRING)
        {
            p += len;

            if (vks_amf_get_string(&p, end, buf, size) != 0) {
                return -1;
            }

            found = 1;
            continue;
        }

        p += len;

        if (vks_amf_skip_value(&p, end, 1) != 0) {
            return -1;
        }
    }
}
