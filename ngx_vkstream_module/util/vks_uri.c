
/*
 * vkstream util: percent-decoding as nginx does it (see vks_uri.h).
 */


#include "vks_uri.h"


int
vks_uri_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


size_t
vks_uri_unescape(unsigned char *dst, const unsigned char *src, size_t len,
    int plus)
{
    int             h;
    size_t          i;
    unsigned char  *d, ch, decoded;
    enum {
        sw_usual = 0,
        sw_quoted,
        sw_quoted_second
    } state;

    d = dst;
    state = sw_usual;
    decoded = 0;

    for (i = 0; i < len; i++) {
        ch = (plus && src[i] == '+') ? ' ' : src[i];

        switch (state) {

        case sw_usual:
            if (ch == '%') {
                state = sw_quoted;

            } else {
                *d++ = ch;
            }

            break;

        case sw_quoted:
            h = vks_uri_hex(ch);

            if (h < 0) {
                /* "%" before a non-hex character: the character stays */
                *d++ = ch;
                state = sw_usual;
                break;
            }

            decoded = (unsigned char) h;
            state = sw_quoted_second;
            break;

        case sw_quoted_second:
            h = vks_uri_hex(ch);

            if (h >= 0) {
                *d++ = (unsigned char) ((decoded << 4) + h);
            }

            /* else "%X" and the character are all dropped */
            state = sw_usual;
            break;
        }
    }

    return d - dst;
}
