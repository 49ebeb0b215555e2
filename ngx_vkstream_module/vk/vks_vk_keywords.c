
/*
 * vkstream vk: a stream's VK keywords from its publish (see
 * vks_vk_keywords.h).
 */


#include <string.h>
#include "vks_vk_keywords.h"
#include "util/vks_uri.h"


int
vks_vk_keywords_arg(const char *args, const char **value, size_t *len)
{
    int          found;
    const char  *p, *end;

    found = 0;

    for (p = args; *p; p = end + (*end == '&')) {
        end = strchr(p, '&');
        if (end == NULL) {
            end = p + strlen(p);
        }

        if (end - p >= 3 && strncmp(p, "vk=", 3) == 0) {
            /* the last one wins */
            *value = p + 3;
            *len = end - p - 3;
            found = 1;
        }
    }

    return found;
}


size_t
vks_vk_keywords_decode(char *dst, const char *src, size_t len)
{
    return vks_uri_unescape((unsigned char *) dst,
                            (const unsigned char *) src, len, 1);
}


size_t
vks_vk_keywords_expand(char *dst, const char *tpl, size_t tpl_len,
    const char *app, size_t app_len, const char *name, size_t name_len)
{
    size_t       len;
    const char  *p, *end;

    len = 0;
    end = tpl + tpl_len;

    for (p = tpl; p < end; /* void */) {
        if (end - p >= 5 && memcmp(p, "$name", 5) == 0) {
            if (dst) {
                memcpy(dst + len, name, name_len);
            }
            len += name_len;
            p += 5;

        } else if (end - p >= 4 && memcmp(p, "$app", 4) == 0) {
            if (dst) {
                memcpy(dst + len, app, app_len);
            }
            len += app_len;
            p += 4;

        } else {
            if (dst) {
                dst[len] = *p;
            }
            len++;
            p++;
        }
    }

    return len;
}
