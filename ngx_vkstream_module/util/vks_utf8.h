
/*
 * vkstream util: the one UTF-8 unit.  The VK service sends UTF-8 and wants
 * it back; stream names are whatever a publisher sent; the JSON API and the
 * metrics must emit valid UTF-8.  So: check, cut on a character boundary,
 * and repair what is not UTF-8.  Plain C, no nginx types.
 */


#ifndef _VKS_UTF8_H_INCLUDED_
#define _VKS_UTF8_H_INCLUDED_


#include <stddef.h>


/* room repair needs: each bad byte becomes U+FFFD, 3 bytes */
#define VKS_UTF8_REPAIR_SIZE(len)   (3 * (len))


/*
 * Returns 1 if p[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 otherwise.  NUL bytes are allowed.
 */
int vks_utf8_valid(const char *p, size_t len);

/*
 * Returns the largest length <= max that does not split a character of the
 * well-formed UTF-8 string p[0..len).  For any input the result is at most
 * max and len, and p[result] is not a continuation byte unless the result
 * is 0 or len.
 */
size_t vks_utf8_cut(const char *p, size_t len, size_t max);

/*
 * Copies src[0..len) to dst replacing each byte that does not start a
 * well-formed character with U+FFFD; returns the length written, at most
 * VKS_UTF8_REPAIR_SIZE(len).  The result is valid UTF-8.
 */
size_t vks_utf8_repair(char *dst, const char *src, size_t len);


#endif /* _VKS_UTF8_H_INCLUDED_ */
