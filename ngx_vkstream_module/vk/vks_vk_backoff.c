
/*
 * vkstream vk: capped exponential backoff with jitter (see
 * vks_vk_backoff.h).
 */


#include "vks_vk_backoff.h"


static uint32_t
vks_vk_backoff_xorshift(void *data)
{
    uint32_t  *s, x;

    s = data;
    x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;

    return x;
}


void
vks_vk_backoff_init(vks_vk_backoff_t *b, uint32_t base_ms, uint32_t max_ms,
    vks_vk_rand_pt rand, void *data, uint32_t seed)
{
    b->base_ms = base_ms ? base_ms : VKS_VK_BACKOFF_BASE_MS;
    b->max_ms = max_ms ? max_ms : VKS_VK_BACKOFF_MAX_MS;

    if (b->max_ms < b->base_ms) {
        b->max_ms = b->base_ms;
    }

    b->attempt = 0;

    /* xorshift must not start from 0 */
    b->state = seed ? seed : 0x9e3779b9;

    if (rand) {
        b->rand = rand;
        b->data = data;

    } else {
        b->rand = vks_vk_backoff_xorshift;
        b->data = &b->state;
    }
}


uint32_t
vks_vk_backoff_next(vks_vk_backoff_t *b)
{
    uint32_t  cap, half, i;

    cap = b->base_ms;

    for (i = 0; i < b->attempt && cap < b->max_ms; i++) {
        cap = (cap > b->max_ms / 2) ? b->max_ms : cap * 2;
    }

    if (cap > b->max_ms) {
        cap = b->max_ms;
    }

    /* stop counting once capped: no overflow however long it fails */

    if (cap < b->max_ms) {
        b->attempt++;
    }

    half = cap / 2;

    return cap - half + b->rand(b->data) % (half + 1);
}


void
vks_vk_backoff_reset(vks_vk_backoff_t *b)
{
    b->attempt = 0;
}
