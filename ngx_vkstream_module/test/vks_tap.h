
/*
 * Minimal TAP output for the unit-test mains.
 */


#ifndef _VKS_TAP_H_INCLUDED_
#define _VKS_TAP_H_INCLUDED_


#include <stdio.h>


static int  vks_tap_n;
static int  vks_tap_failed;


#define ok(cond, ...)                                                        \
    do {                                                                     \
        int  ok_ = (cond) ? 1 : 0;                                           \
        printf("%s %d - ", ok_ ? "ok" : "not ok", ++vks_tap_n);              \
        printf(__VA_ARGS__);                                                 \
        printf("\n");                                                        \
        if (!ok_) {                                                          \
            vks_tap_failed++;                                                \
            printf("#   failed at %s:%d\n", __FILE__, __LINE__);             \
        }                                                                    \
    } while (0)


static int
done_testing(void)
{
    printf("1..%d\n", vks_tap_n);
    return vks_tap_failed ? 1 : 0;
}


#endif /* _VKS_TAP_H_INCLUDED_ */
