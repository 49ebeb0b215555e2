
/*
 * vkstream vk: UTF-8 checks for stream messages.  The service sends UTF-8;
 * anything else is counted as malformed rather than stored, and stored text
 * is cut on a character boundary so the JSON API can emit it as is.
 * Plain C, no nginx types.
 */


#ifndef _VKS_VK_UTF8_H_INCLUDED_
#define _VKS_VK_UTF8_H_INCLUDED_


#include <stddef.h>


/*
 * Returns 1 if p[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 otherwise.  NUL bytes are allowed.
 */
int vks_vk_utf8_valid(const char *p, size_t len);

/*
 * Returns the largest length <= max that does not split a character of the
 * well-formed UTF-8 string p[0..len).
 */
size_t vks_vk_utf8_cut(const char *p, size_t len, size_t max);


#endif /* _VKS_VK_UTF8_H_INCLUDED_ */
