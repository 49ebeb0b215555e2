
/*
 * vkstream vk: WebSocket message reassembly (see vks_vk_reasm.h).
 */


#include <stdlib.h>
#include <string.h>

#include "vks_vk_reasm.h"


/* a buffer grown for a rare big message is given back above this */
#define VKS_VK_REASM_KEEP   (64 * 1024)


void
vks_vk_reasm_init(vks_vk_reasm_t *r, size_t max)
{
    memset(r, 0, sizeof(vks_vk_reasm_t));
    r->max = max ? max : VKS_VK_REASM_MAX_DEFAULT;
}


static void
vks_vk_reasm_release(vks_vk_reasm_t *r)
{
    if (r->cap > VKS_VK_REASM_KEEP) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }

    r->len = 0;
}


int
vks_vk_reasm_feed(vks_vk_reasm_t *r, const void *data, size_t len,
    int first, int final)
{
    char    *p;
    size_t   cap;

    if (first) {
        if (r->busy) {
            r->broken++;
        }

        vks_vk_reasm_release(r);
        r->busy = 1;
        r->skipping = 0;
        r->orphan = 0;

    } else if (!r->busy) {
        /* a continuation without a start: nothing to attach it to */
        r->broken++;
        r->busy = 1;
        r->skipping = 1;
        r->orphan = 1;
        r->len = 0;
    }

    if (!r->skipping && len > r->max - r->len) {
        r->skipping = 1;
        vks_vk_reasm_release(r);
    }

    if (!r->skipping && len) {

        if (r->len + len + 1 > r->cap) {
            cap = r->cap ? r->cap : 4096;

            while (cap < r->len + len + 1) {
                cap *= 2;
            }

            if (cap > r->max + 1) {
                cap = r->max + 1;
            }

            p = realloc(r->buf, cap);

            if (p == NULL) {
                r->skipping = 1;
                vks_vk_reasm_release(r);

                if (final) {
                    r->busy = 0;
                }

                return VKS_VK_REASM_ERROR;
            }

            r->buf = p;
            r->cap = cap;
        }

        memcpy(r->buf + r->len, data, len);
        r->len += len;
    }

    if (!final) {
        return VKS_VK_REASM_MORE;
    }

    r->busy = 0;

    if (r->orphan) {
        r->orphan = 0;
        r->skipping = 0;
        return VKS_VK_REASM_MORE;
    }

    if (r->skipping) {
        r->skipping = 0;
        r->dropped++;
        return VKS_VK_REASM_DROPPED;
    }

    if (r->buf == NULL) {
        /* an empty message */
        r->buf = malloc(1);

        if (r->buf == NULL) {
            return VKS_VK_REASM_ERROR;
        }

        r->cap = 1;
    }

    r->buf[r->len] = '\0';
    r->messages++;

    return VKS_VK_REASM_DONE;
}


void
vks_vk_reasm_free(vks_vk_reasm_t *r)
{
    free(r->buf);
    r->buf = NULL;
    r->len = 0;
    r->cap = 0;
    r->busy = 0;
    r->skipping = 0;
}
