
/*
 * vkstream vk: getServerUrl answer (see vks_vk_endpoint.h).
 */


#include <string.h>

#include "vks_vk_endpoint.h"


static int
vks_vk_endpoint_host_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}


int
vks_vk_endpoint_split(const char *s, size_t len, vks_vk_endpoint_t *e)
{
    size_t       i, hlen;
    unsigned     port;
    const char  *colon;

    e->port = VKS_VK_PORT_DEFAULT;

    if (len > 0 && s[0] == '[') {
        /* [IPv6]:port */
        colon = memchr(s, ']', len);

        if (colon == NULL || colon == s + 1) {
            return -1;
        }

        for (i = 1; s + i < colon; i++) {
            if (!(s[i] == ':' || (s[i] >= '0' && s[i] <= '9')
                  || (s[i] >= 'a' && s[i] <= 'f')
                  || (s[i] >= 'A' && s[i] <= 'F')))
            {
                return -1;
            }
        }

        hlen = colon + 1 - s;
        colon = (hlen < len) ? s + hlen : NULL;

        if (colon && *colon != ':') {
            return -1;
        }

    } else {
        colon = memchr(s, ':', len);
        hlen = colon ? (size_t) (colon - s) : len;

        for (i = 0; i < hlen; i++) {
            if (!vks_vk_endpoint_host_char((unsigned char) s[i])) {
                return -1;
            }
        }
    }

    if (hlen == 0 || hlen > VKS_VK_HOST_MAX) {
        return -1;
    }

    if (colon) {
        port = 0;

        if (colon + 1 == s + len || s + len - colon > 6) {
            return -1;
        }

        for (i = colon + 1 - s; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return -1;
            }

            port = port * 10 + (s[i] - '0');
        }

        if (port == 0 || port > 65535) {
            return -1;
        }

        e->port = port;
    }

    memcpy(e->host, s, hlen);
    e->host[hlen] = '\0';

    return 0;
}


int
vks_vk_endpoint_parse(const char *data, size_t len, vks_vk_endpoint_t *e)
{
    int          rc;
    size_t       elen, klen;
    json_t      *root, *resp;
    const char  *endpoint, *key, *msg;

    memset(e, 0, sizeof(vks_vk_endpoint_t));

    root = vks_vk_json_load(data, len, &rc, e->err, sizeof(e->err));

    if (root == NULL) {
        return rc;
    }

    if (vks_vk_json_error(root, &e->error_code, &msg)) {
        vks_vk_json_set_err(e->err, sizeof(e->err), "%s", msg);
        rc = VKS_VK_EAPI;
        goto done;
    }

    rc = VKS_VK_ESCHEMA;
    resp = json_object_get(root, "response");
    endpoint = vks_vk_json_str(resp, "endpoint", &elen);
    key = vks_vk_json_str(resp, "key", &klen);

    if (endpoint == NULL || key == NULL) {
        vks_vk_json_set_err(e->err, sizeof(e->err),
                            "no string endpoint and key in the response");
        goto done;
    }

    if (vks_vk_endpoint_split(endpoint, elen, e) != 0) {
        vks_vk_json_set_err(e->err, sizeof(e->err), "bad endpoint \"%.64s\"",
                            endpoint);
        goto done;
    }

    /* the key goes into a query string: refuse what would need escaping */

    if (klen == 0 || klen > VKS_VK_KEY_MAX
        || strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789-._~") != klen)
    {
        vks_vk_json_set_err(e->err, sizeof(e->err), "bad key");
        goto done;
    }

    memcpy(e->key, key, klen + 1);
    rc = VKS_VK_OK;

done:

    json_decref(root);

    return rc;
}
