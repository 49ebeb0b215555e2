
/*
 * vkstream vk: reconnect delays.  Capped exponential backoff with "equal
 * jitter": attempt n waits between half and all of min(max, base * 2^n),
 * so clients restarted together do not reconnect together, yet the delay
 * never collapses to zero.  The random source is injectable for tests.
 * Plain C, no nginx types.
 */


#ifndef _VKS_VK_BACKOFF_H_INCLUDED_
#define _VKS_VK_BACKOFF_H_INCLUDED_


#include <stdint.h>


#define VKS_VK_BACKOFF_BASE_MS   1000
#define VKS_VK_BACKOFF_MAX_MS    30000


typedef uint32_t (*vks_vk_rand_pt)(void *data);


typedef struct {
    uint32_t         base_ms;
    uint32_t         max_ms;
    uint32_t         attempt;
    uint32_t         state;       /* of the default generator */
    vks_vk_rand_pt   rand;
    void            *data;
} vks_vk_backoff_t;


/*
 * base_ms/max_ms of 0 take the defaults (1 s, 30 s).  With rand NULL a
 * xorshift generator seeded with seed is used (the glue passes e.g. the
 * pid mixed with the time).
 */
void vks_vk_backoff_init(vks_vk_backoff_t *b, uint32_t base_ms,
    uint32_t max_ms, vks_vk_rand_pt rand, void *data, uint32_t seed);

/* The delay before the next attempt, in milliseconds. */
uint32_t vks_vk_backoff_next(vks_vk_backoff_t *b);

/* After a connection that worked: start again from the base. */
void vks_vk_backoff_reset(vks_vk_backoff_t *b);


#endif /* _VKS_VK_BACKOFF_H_INCLUDED_ */
