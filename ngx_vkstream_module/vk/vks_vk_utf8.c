
/*
 * vkstream vk: UTF-8 validation and cutting (see vks_vk_utf8.h).
 */


#include "vks_vk_utf8.h"


int
vks_vk_utf8_valid(const char *p, size_t len)
{
    size_t                i, n, k;
    unsigned              cp, min;
    const unsigned char  *s;

    s = (const unsigned char *) p;
    i = 0;

    while (i < len) {

        if (s[i] < 0x80) {
            i++;
            continue;
        }

        if ((s[i] & 0xe0) == 0xc0) {
            n = 1;
            cp = s[i] & 0x1f;
            min = 0x80;

        } else if ((s[i] & 0xf0) == 0xe0) {
            n = 2;
            cp = s[i] & 0x0f;
            min = 0x800;

        } else if ((s[i] & 0xf8) == 0xf0) {
            n = 3;
            cp = s[i] & 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if (len - i <= n) {
            return 0;
        }

        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        /* overlong forms, UTF-16 surrogates and beyond Unicode */

        if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return 0;
        }

        i += n + 1;
    }

    return 1;
}


size_t
vks_vk_utf8_cut(const char *p, size_t len, size_t max)
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
