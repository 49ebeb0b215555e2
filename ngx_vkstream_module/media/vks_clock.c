
/*
 * vkstream media: the pipeline's clock.
 */


#include <time.h>
#include "vks_clock.h"


int64_t
vks_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
