
/*
 * vkstream fuzz: reassembly of WebSocket fragments.  The first byte sets
 * the maximum message size; then each piece is a control byte (bit 0
 * first, bit 1 final, bits 2-7 length) and its bytes.  Every complete
 * message goes to the message parser, as in the client.
 */


#include <string.h>
#include "vk/vks_vk_message.h"
#include "vk/vks_vk_reasm.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc;
    size_t             len;
    uint8_t            c;
    vks_vk_reasm_t     r;
    vks_vk_message_t   m;

    if (size < 1) {
        return 0;
    }

    vks_vk_reasm_init(&r, 1 + data[0] * 8);
    data++;
    size--;

    while (size > 0) {
        c = data[0];
        len = c >> 2;
        data++;
        size--;

        if (len > size) {
            len = size;
        }

        rc = vks_vk_reasm_feed(&r, data, len, c & 1, (c >> 1) & 1);

        if (rc == VKS_VK_REASM_DONE) {
            if (r.len > r.max || r.buf[r.len] != '\0') {
                __builtin_trap();
            }

            (void) vks_vk_message_parse(&m, r.buf, r.len, 64);
            vks_vk_message_free(&m);
        }

        data += len;
        size -= len;
    }

    vks_vk_reasm_free(&r);

    return 0;
}
