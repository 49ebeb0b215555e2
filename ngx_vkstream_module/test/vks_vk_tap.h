
/*
 * vkstream: a minimal TAP producer for the vk/ unit-test mains.
 */


#ifndef _VKS_VK_TAP_H_INCLUDED_
#define _VKS_VK_TAP_H_INCLUDED_


#include <stdio.h>
#include <string.h>


static int  tap_n;
static int  tap_failed;


static void
tap_ok(int ok, const char *name, const char *file, int line)
{
    tap_n++;
    printf("%sok %d - %s\n", ok ? "" : "not ", tap_n, name);

    if (!ok) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
}


#define OK(cond, name)  tap_ok((cond) ? 1 : 0, name, __FILE__, __LINE__)

#define IS_INT(got, want, name)                                              \
    do {                                                                     \
        long long  g_ = (long long) (got), w_ = (long long) (want);          \
        tap_ok(g_ == w_, name, __FILE__, __LINE__);                          \
        if (g_ != w_) {                                                      \
            printf("#   got %lld, want %lld\n", g_, w_);                     \
        }                                                                    \
    } while (0)

#define IS_STR(got, want, name)                                              \
    do {                                                                     \
        const char  *g_ = (got), *w_ = (want);                               \
        int          e_ = (g_ && w_ && strcmp(g_, w_) == 0);                 \
        tap_ok(e_, name, __FILE__, __LINE__);                                \
        if (!e_) {                                                           \
            printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)",      \
                   w_ ? w_ : "(null)");                                      \
        }                                                                    \
    } while (0)

/* a string of known length against a C string */
#define IS_MEM(got, len, want, name)                                         \
    do {                                                                     \
        const char  *w_ = (want);                                            \
        size_t       l_ = (len);                                             \
        int          e_ = (l_ == strlen(w_) && memcmp(got, w_, l_) == 0);    \
        tap_ok(e_, name, __FILE__, __LINE__);                                \
        if (!e_) {                                                           \
            printf("#   got \"%.*s\", want \"%s\"\n", (int) l_,              \
                   (const char *) (got), w_);                                \
        }                                                                    \
    } while (0)


static int
tap_done(void)
{
    printf("1..%d\n", tap_n);

    if (tap_failed) {
        printf("# %d of %d failed\n", tap_failed, tap_n);
    }

    return tap_failed ? 1 : 0;
}


#endif /* _VKS_VK_TAP_H_INCLUDED_ */
