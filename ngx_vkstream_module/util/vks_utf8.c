
/*
 * vkstream util: UTF-8 check, cut and repair (see vks_utf8.h).
 */


#include <string.h>

#include "vks_utf8.h"


/* the length of the well-formed character at s, or 0 if there is none */

static size_t
vks_utf8_char(const unsigned char *s, size_t avail)
{
    size_t    k, n;
    unsigned  cp, min;

    if (s[0] < 0x80) {
        return 1;
    }

    if ((s[0] & 0xe0) == 0xc0) {
        n = 1;
        cp = s[0] & 0x1f;
        min = 0x80;

    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 2;
        cp = s[0] & 0x0f;
        min = 0x800;

    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 3;
        cp = s[0] & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (avail <= n) {
        return 0;
    }

    for (k = 1; k <= n; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (s[k] & 0x3f);
    }

    /* overlong forms, UTF-16 surrogates and beyond Unicode */

    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        return 0;
    }

    return n + 1;
}


int
vks_utf8_valid(const char *p, size_t len)
{
    size_t                i, n;
    const unsigned char  *s;

    s = (const unsigned char *) p;

    for (i = 0; i < len; i += n) {
        n = vks_utf8_char(s + i, len - i);

        if (n == 0) {
            return 0;
        }
    }

    return 1;
}


size_t
vks_utf8_cut(const char *p, size_t len, size_t max)
{
    size_t                n;
    const unsigned char  *s;

    if (len <= max) {
        return len;
    }

    s = (const unsigned char *) p;
    n = max;

    /* back off over continuation bytes to the start of the cut character */

    while (n > 0 && (s[n] & 0xc0) == 0x80) {
        n--;
    }

    return n;
}


size_t
vks_utf8_repair(char *dst, const char *src, size_t len)
{
    size_t                i, n, d;
    const unsigned char  *s;

    s = (const unsigned char *) src;
    d = 0;

    for (i = 0; i < len; i += n) {
        n = vks_utf8_char(s + i, len - i);

        if (n) {
            memcpy(dst + d, s + i, n);
            d += n;
            continue;
        }

        memcpy(dst + d, "\xef\xbf\xbd", 3);     /* U+FFFD */
        d += 3;
        n = 1;
    }

    return d;
}
