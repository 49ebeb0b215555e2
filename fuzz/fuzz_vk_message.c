
/*
 * vkstream fuzz: the VK stream message parser.  The first byte chooses the
 * text cut (0 = none), the rest is the message.
 */


#include <string.h>
#include "vk/vks_vk_message.h"
#include "util/vks_utf8.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             i, max;
    vks_vk_message_t   m;

    if (size < 1) {
        return 0;
    }

    max = data[0] * 4;

    if (vks_vk_message_parse(&m, (const char *) data + 1, size - 1, max)
        == VKS_VK_OK && m.code == VKS_VK_MSG_EVENT)
    {
        /* what the router relies on: a bounded, valid UTF-8 text */
        if (max && m.text_len > max) {
            __builtin_trap();
        }

        if (m.text_len > m.text_full_len
            || !vks_utf8_valid(m.text, m.text_len))
        {
            __builtin_trap();
        }

        for (i = 0; i < m.ntags; i++) {
            (void) strlen(m.tags[i]);
        }

        (void) strlen(m.url);
        (void) strlen(m.author_url);
        (void) strlen(vks_vk_event_type_name(m.type));
    }

    (void) strlen(m.err);
    vks_vk_message_free(&m);

    return 0;
}
