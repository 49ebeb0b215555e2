
/*
 * vkstream fuzz: what an RTMP server sends the rendition's publishing
 * client, media/vks_rtmp_chunk.c.  The first byte splits the input into
 * feeds of 1-256 bytes; every message the reader completes has a length
 * within the limit, and a command message is read as the client reads
 * it (name, transaction, then skipped values and the "code" property of
 * an object).  A refusal has a reason.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/vks_rtmp_chunk.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int
fuzz_on_message(void *data, const vks_rtmp_msg_t *msg)
{
    char            name[64], code[128];
    double          txn;
    uint8_t        *copy;
    const uint8_t  *p, *end;

    if (msg->len > VKS_RTMP_MAX_IN_MESSAGE) {
        __builtin_trap();
    }

    if (msg->type != VKS_RTMP_MSG_COMMAND) {
        return 0;
    }

    /* an exact-size copy, so that ASan sees any read past the message */
    copy = malloc(msg->len ? msg->len : 1);
    if (copy == NULL) {
        return 0;
    }

    if (msg->len) {
        memcpy(copy, msg->body, msg->len);
    }

    p = copy;
    end = copy + msg->len;

    if (vks_amf_get_string(&p, end, name, sizeof(name)) == 0
        && vks_amf_get_number(&p, end, &txn) == 0)
    {
        while (p < end) {
            if (vks_amf_get_property(&p, end, "code", code, sizeof(code))
                == 1)
            {
                if (strlen(code) >= sizeof(code)) {
                    __builtin_trap();
                }

                continue;
            }

            if (vks_amf_skip(&p, end) != 0) {
                break;
            }
        }
    }

    if (p > end) {
        __builtin_trap();
    }

    free(copy);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    char                err[128];
    size_t              step, n;
    vks_rtmp_reader_t   rd;

    if (size == 0) {
        return 0;
    }

    step = (size_t) data[0] + 1;
    data++;
    size--;

    if (vks_rtmp_reader_init(&rd) != 0) {
        return 0;
    }

    rc = 0;
    err[0] = '\0';

    while (size && rc == 0) {
        n = size < step ? size : step;
        rc = vks_rtmp_reader_feed(&rd, data, n, fuzz_on_message, NULL, err,
                                  sizeof(err));
        data += n;
        size -= n;
    }

    if (rc != 0 && (rc != -1 || err[0] == '\0')) {
        __builtin_trap();
    }

    if (rd.chunk_size < 1 || rd.chunk_size > VKS_RTMP_MAX_IN_CHUNK) {
        __builtin_trap();
    }

    vks_rtmp_reader_free(&rd);

    return 0;
}
