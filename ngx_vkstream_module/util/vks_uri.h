
/*
 * vkstream util: percent-decoding as nginx does it, for code that must
 * decode exactly as ngx_unescape_uri() would (stream names in API paths,
 * the vk= publish argument) and for strict parsers that only need the
 * digits.  Plain C, no nginx types.
 */


#ifndef _VKS_URI_H_INCLUDED_
#define _VKS_URI_H_INCLUDED_


#include <stddef.h>


/* the value of a hex digit, either case; -1 for anything else */
int vks_uri_hex(int c);

/*
 * ngx_unescape_uri(&dst, &src, len, 0) exactly: "%XX" is a byte, a "%"
 * before a non-hex character is dropped (the character stays), a "%X"
 * with a bad second digit is dropped whole.  With plus set, "+" is a space
 * first (form encoding).  Writes at most len bytes; returns the length.
 */
size_t vks_uri_unescape(unsigned char *dst, const unsigned char *src,
    size_t len, int plus);


#endif /* _VKS_URI_H_INCLUDED_ */
