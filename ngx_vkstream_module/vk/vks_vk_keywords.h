
/*
 * vkstream vk: a stream's VK keywords from its publish.  The "vk="
 * argument of the publish URL (form-encoded), else the application's
 * template with $app and $name expanded.  Plain C, no nginx types: the
 * glue allocates, this code only measures and copies.
 */


#ifndef _VKS_VK_KEYWORDS_H_INCLUDED_
#define _VKS_VK_KEYWORDS_H_INCLUDED_


#include <stddef.h>


/*
 * The raw value of the last "vk=" argument of a NUL-terminated query
 * string ("a=1&vk=cats+dogs"): 1 with *value and *len set, 0 if none.
 */
int vks_vk_keywords_arg(const char *args, const char **value, size_t *len);

/*
 * Decodes a form-encoded value of len bytes into dst (len bytes at most
 * are written): "+" is a space, "%XX" a byte, and an invalid escape is
 * dropped as nginx's ngx_unescape_uri() drops it.  Returns the length.
 */
size_t vks_vk_keywords_decode(char *dst, const char *src, size_t len);

/*
 * Expands "$app" and "$name" in a template of tpl_len bytes.  With dst
 * NULL it only measures; dst must hold what the measure returned.
 */
size_t vks_vk_keywords_expand(char *dst, const char *tpl, size_t tpl_len,
    const char *app, size_t app_len, const char *name, size_t name_len);


#endif /* _VKS_VK_KEYWORDS_H_INCLUDED_ */
