
/*
 * vkstream vk: jansson helpers (see vks_vk_json.h).
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

#include "vks_vk_json.h"
#include "util/vks_utf8.h"


/* integers beyond this are not exact in a double */
#define VKS_VK_JSON_INT_MAX  9007199254740992.0


void
vks_vk_json_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
}


json_t *
vks_vk_json_load(const char *data, size_t len, int *rc, char *err,
    size_t errlen)
{
    json_t        *root;
    json_error_t   jerr;

    if (!vks_utf8_valid(data, len)) {
        *rc = VKS_VK_EUTF8;
        vks_vk_json_set_err(err, errlen, "invalid UTF-8");
        return NULL;
    }

    root = json_loadb(data, len, JSON_DECODE_INT_AS_REAL, &jerr);

    if (root == NULL) {
        *rc = VKS_VK_EJSON;
        vks_vk_json_set_err(err, errlen, "bad JSON at %d: %s",
                            jerr.position, jerr.text);
        return NULL;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        *rc = VKS_VK_EJSON;
        vks_vk_json_set_err(err, errlen, "JSON is not an object");
        return NULL;
    }

    *rc = VKS_VK_OK;
    return root;
}


int
vks_vk_json_int(const json_t *v, int64_t *out)
{
    double       d;
    size_t       i, len;
    int64_t      n;
    const char  *s;

    if (json_is_integer(v)) {
        *out = (int64_t) json_integer_value(v);
        return 0;
    }

    if (json_is_real(v)) {
        d = json_real_value(v);

        if (d != floor(d) || d > VKS_VK_JSON_INT_MAX
            || d < -VKS_VK_JSON_INT_MAX)
        {
            return -1;
        }

        *out = (int64_t) d;
        return 0;
    }

    if (!json_is_string(v)) {
        return -1;
    }

    /* ids sometimes come quoted; accept -?[0-9]{1,18} */

    s = json_string_value(v);
    len = json_string_length(v);
    i = (len > 0 && s[0] == '-') ? 1 : 0;

    if (len == i || len - i > 18) {
        return -1;
    }

    n = 0;

    for ( /* void */ ; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        n = n * 10 + (s[i] - '0');
    }

    *out = (s[0] == '-') ? -n : n;
    return 0;
}


const char *
vks_vk_json_str(const json_t *obj, const char *key, size_t *len)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        return NULL;
    }

    if (len) {
        *len = json_string_length(v);
    }

    return json_string_value(v);
}


int
vks_vk_json_error(const json_t *root, int64_t *code, const char **msg)
{
    json_t      *e;
    const char  *m;

    e = json_object_get(root, "error");

    if (!json_is_object(e)
        || vks_vk_json_int(json_object_get(e, "error_code"), code) != 0)
    {
        return 0;
    }

    m = vks_vk_json_str(e, "message", NULL);

    if (m == NULL) {
        m = vks_vk_json_str(e, "error_msg", NULL);
    }

    *msg = m ? m : "";
    return 1;
}
