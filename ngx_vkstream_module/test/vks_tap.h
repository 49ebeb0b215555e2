
/*
 * vkstream: minimal TAP output for the unit-test mains.  Test names are
 * printf formats:  ok(cond, "name %d", i);  is_int(got, want, "name");
 */


#ifndef _VKS_TAP_H_INCLUDED_
#define _VKS_TAP_H_INCLUDED_


#include <stdarg.h>
#include <stdio.h>
#include <string.h>


static int  vks_tap_n;
static int  vks_tap_failed;


__attribute__((format(printf, 4, 5), unused))
static int
vks_tap_ok(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list  args;

    printf("%sok %d - ", ok ? "" : "not ", ++vks_tap_n);

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");

    if (!ok) {
        vks_tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }

    return ok;
}


#define ok(cond, ...)                                                        \
    vks_tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                               \
    do {                                                                     \
        long long  g_ = (long long) (got), w_ = (long long) (want);          \
        if (!vks_tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__)) {        \
            printf("#   got %lld, want %lld\n", g_, w_);                     \
        }                                                                    \
    } while (0)

/* two NULLs are equal, a NULL and a string are not */
#define is_str(got, want, ...)                                               \
    do {                                                                     \
        const char  *g_ = (got), *w_ = (want);                               \
        int          e_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;       \
        if (!vks_tap_ok(e_, __FILE__, __LINE__, __VA_ARGS__)) {              \
            printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)",      \
                   w_ ? w_ : "(null)");                                      \
        }                                                                    \
    } while (0)

/* a string of known length against a C string */
#define is_mem(got, len, want, ...)                                          \
    do {                                                                     \
        const char  *w_ = (want);                                            \
        size_t       l_ = (len);                                             \
        int          e_ = (l_ == strlen(w_) && memcmp(got, w_, l_) == 0);    \
        if (!vks_tap_ok(e_, __FILE__, __LINE__, __VA_ARGS__)) {              \
            printf("#   got \"%.*s\", want \"%s\"\n", (int) l_,              \
                   (const char *) (got), w_);                                \
        }                                                                    \
    } while (0)


__attribute__((unused))
static int
done_testing(void)
{
    printf("1..%d\n", vks_tap_n);

    if (vks_tap_failed) {
        printf("# %d of %d failed\n", vks_tap_failed, vks_tap_n);
    }

    return vks_tap_failed ? 1 : 0;
}


#endif /* _VKS_TAP_H_INCLUDED_ */
