
/*
 * Unit tests: vk/vks_vk_backoff.
 */


#include "vk/vks_vk_backoff.h"
#include "vks_tap.h"


static uint32_t  fixed;


static uint32_t
fixed_rand(void *data)
{
    (*(int *) data)++;
    return fixed;
}


int
main(void)
{
    int               i, calls;
    uint32_t          d, lo, hi, seen[2];
    vks_vk_backoff_t  b;

    static const uint32_t  caps[] = {
        1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000
    };

    /* rand 0: the lower bound, half of each cap */

    calls = 0;
    fixed = 0;
    vks_vk_backoff_init(&b, 0, 0, fixed_rand, &calls, 0);

    for (i = 0; i < 8; i++) {
        is_int(vks_vk_backoff_next(&b), caps[i] / 2, "min delay per attempt");
    }

    is_int(calls, 8, "random source called once per delay");

    /* rand huge: the upper bound, the cap itself */

    fixed = 0xffffffff;
    vks_vk_backoff_init(&b, 0, 0, fixed_rand, &calls, 0);
    lo = 0;

    for (i = 0; i < 8; i++) {
        d = vks_vk_backoff_next(&b);
        ok(d >= caps[i] / 2 && d <= caps[i], "delay within [cap/2, cap]");
        lo = d;
    }

    is_int(lo, 30000 / 2 + 0xffffffffu % 15001, "capped delay value");

    /* no overflow after very many failures */

    for (i = 0; i < 100000; i++) {
        d = vks_vk_backoff_next(&b);
    }

    ok(d >= 15000 && d <= 30000, "still capped after 100000 attempts");

    /* reset starts again */

    fixed = 0;
    vks_vk_backoff_reset(&b);
    is_int(vks_vk_backoff_next(&b), 500, "reset: back to the base");

    /* custom base and cap, cap not a power-of-two multiple */

    vks_vk_backoff_init(&b, 300, 1000, fixed_rand, &calls, 0);
    is_int(vks_vk_backoff_next(&b), 150, "custom: 300 -> 150");
    is_int(vks_vk_backoff_next(&b), 300, "custom: 600 -> 300");
    is_int(vks_vk_backoff_next(&b), 500, "custom: capped 1000 -> 500");

    vks_vk_backoff_init(&b, 5000, 1000, fixed_rand, &calls, 0);
    is_int(vks_vk_backoff_next(&b), 2500, "max below base: base wins");

    /* the default generator: jitter varies, stays in range */

    lo = 0xffffffff;
    hi = 0;

    for (i = 0; i < 200; i++) {
        vks_vk_backoff_init(&b, 0, 0, NULL, NULL, 12345 + i);
        d = vks_vk_backoff_next(&b);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }

    ok(lo >= 500 && hi <= 1000, "default rand: first delay in [0.5 s, 1 s]");
    ok(hi - lo > 300, "default rand: delays spread out");

    vks_vk_backoff_init(&b, 0, 0, NULL, NULL, 7);
    seen[0] = vks_vk_backoff_next(&b);
    vks_vk_backoff_init(&b, 0, 0, NULL, NULL, 7);
    seen[1] = vks_vk_backoff_next(&b);
    is_int(seen[0], seen[1], "default rand: same seed, same delay");

    vks_vk_backoff_init(&b, 0, 0, NULL, NULL, 0);
    d = vks_vk_backoff_next(&b);
    ok(d >= 500 && d <= 1000, "default rand: seed 0 works");

    return done_testing();
}
