
/*
 * vkstream api: paths, routes and request bodies of the HTTP API (see
 * vks_api.h).
 */


#include <string.h>

#include "vks_api.h"
#include "util/vks_uri.h"


/* a limit's number in a message: the limits are plain literals */
#define VKS_API_STR_(n)  #n
#define VKS_API_STR(n)   VKS_API_STR_(n)


/* indexed by vks_api_rc_e; the texts are the API's, clients match them */
static const vks_api_error_t  vks_api_errors[] = {
    [VKS_API_BAD_PATH] = { 400, "bad_path",
        "\".\" and \"..\" segments are not allowed; escape them" },
    [VKS_API_NOT_FOUND] = { 404, "not_found", "no such endpoint" },
    [VKS_API_BODY_TOO_LARGE] = { 413, "body_too_large",
        "request body too large" },
    [VKS_API_NO_BODY] = { 400, "bad_json", "a JSON body is required" },
    [VKS_API_BAD_JSON] = { 400, "bad_json", "the body is not valid JSON" },
    [VKS_API_NOT_OBJECT] = { 400, "bad_field",
        "a JSON object is required" },
    [VKS_API_BAD_KEYWORDS] = { 400, "bad_field",
        "\"keywords\" must be a string of 1 to "
        VKS_API_STR(VKS_VK_VALUE_MAX) " bytes" },
    [VKS_API_BAD_TAG] = { 400, "bad_field",
        "\"tag\" must be a string of 1 to " VKS_API_STR(VKS_VK_TAG_MAX)
        " bytes not starting with \"" VKS_VK_TAG_PREFIX "\"" },
    [VKS_API_BAD_VALUE] = { 400, "bad_field",
        "\"value\" must be a string of 1 to "
        VKS_API_STR(VKS_VK_VALUE_MAX) " bytes" },
    [VKS_API_NO_BUFFER] = { 500, "internal", "internal error" }
};


const vks_api_error_t *
vks_api_error(vks_api_rc_e rc)
{
    if (rc == VKS_API_OK
        || (size_t) rc >= sizeof(vks_api_errors) / sizeof(vks_api_errors[0]))
    {
        return NULL;
    }

    return &vks_api_errors[rc];
}


vks_api_rc_e
vks_api_split(const unsigned char *raw, size_t len, unsigned char *buf,
    size_t size, vks_api_path_t *path)
{
    size_t                n;
    vks_api_seg_t        *seg;
    const unsigned char  *p, *last, *start, *slash;

    p = raw;
    last = raw + len;

    while (p < last && *p == '/') {
        p++;
    }

    path->nsegs = 0;

    while (p < last) {
        start = p;
        slash = memchr(p, '/', last - p);
        p = slash ? slash : last;
        n = p - start;

        if (path->nsegs == VKS_API_MAX_SEGS) {
            /* no endpoint has so many: the route fails */
            path->nsegs++;
            return VKS_API_OK;
        }

        /* checked before decoding: "%2E%2E" is a name */
        if ((n == 1 && start[0] == '.')
            || (n == 2 && start[0] == '.' && start[1] == '.'))
        {
            return VKS_API_BAD_PATH;
        }

        /* decoding never lengthens */
        if (size < n + 1) {
            return VKS_API_NO_BUFFER;
        }

        seg = &path->seg[path->nsegs++];
        seg->data = buf;
        seg->len = vks_uri_unescape(buf, start, n, 0);
        buf[seg->len] = '\0';

        buf += seg->len + 1;
        size -= seg->len + 1;

        if (p < last) {
            p++;    /* a trailing "/" adds no segment */
        }
    }

    return VKS_API_OK;
}


static int
vks_api_is(const vks_api_seg_t *s, const char *lit)
{
    size_t  n;

    n = strlen(lit);

    return s->len == n && memcmp(s->data, lit, n) == 0;
}


static vks_api_test_e
vks_api_test_route(const vks_api_path_t *path)
{
    const vks_api_seg_t  *s;

    s = path->seg;

    if (path->nsegs == 4 && vks_api_is(&s[1], "stats")) {
        return VKS_API_TEST_STATS;
    }

    if (path->nsegs != 2) {
        return VKS_API_TEST_NONE;
    }

    if (vks_api_is(&s[1], "match")) {
        return VKS_API_TEST_MATCH;
    }

    if (vks_api_is(&s[1], "rule_state")) {
        return VKS_API_TEST_RULE_STATE;
    }

    if (vks_api_is(&s[1], "vk")) {
        return VKS_API_TEST_VK;
    }

    return VKS_API_TEST_NONE;
}


static vks_api_rc_e
vks_api_set(vks_api_route_t *route, vks_api_ep_e ep, unsigned methods,
    const char *allow, vks_api_action_e action)
{
    route->ep = ep;
    route->methods = methods;
    route->allow = allow;
    route->action = action;

    return VKS_API_OK;
}


vks_api_rc_e
vks_api_route(const vks_api_path_t *path, int test, vks_api_route_t *route)
{
    size_t                i, n;
    const vks_api_seg_t  *s;

    s = path->seg;
    n = path->nsegs;

    route->test = VKS_API_TEST_NONE;

    if (n > VKS_API_MAX_SEGS) {
        return VKS_API_NOT_FOUND;
    }

    for (i = 0; i < n; i++) {
        if (s[i].len == 0) {
            return VKS_API_NOT_FOUND;
        }
    }

    if (n == 0 || (n == 1 && vks_api_is(&s[0], "status"))) {
        return vks_api_set(route, VKS_API_EP_STATUS, VKS_API_READ,
                           "GET, HEAD", VKS_API_ACTION_NONE);
    }

    if (n == 1) {
        if (vks_api_is(&s[0], "metrics")) {
            return vks_api_set(route, VKS_API_EP_METRICS, VKS_API_READ,
                               "GET, HEAD", VKS_API_ACTION_NONE);
        }

        if (vks_api_is(&s[0], "cluster")) {
            return vks_api_set(route, VKS_API_EP_CLUSTER, VKS_API_READ,
                               "GET, HEAD", VKS_API_ACTION_NONE);
        }

        if (vks_api_is(&s[0], "events")) {
            return vks_api_set(route, VKS_API_EP_EVENTS, VKS_API_READ,
                               "GET, HEAD", VKS_API_ACTION_NONE);
        }

        if (vks_api_is(&s[0], "streams")) {
            return vks_api_set(route, VKS_API_EP_STREAMS, VKS_API_READ,
                               "GET, HEAD", VKS_API_ACTION_NONE);
        }

        if (vks_api_is(&s[0], "matches")) {
            return vks_api_set(route, VKS_API_EP_GLOBAL_MATCHES,
                               VKS_API_READ, "GET, HEAD",
                               VKS_API_ACTION_NONE);
        }

        if (vks_api_is(&s[0], "rules")) {
            return vks_api_set(route, VKS_API_EP_RULES,
                               VKS_API_READ|VKS_API_POST|VKS_API_DELETE,
                               "GET, HEAD, POST, DELETE",
                               VKS_API_ACTION_NONE);
        }

        return VKS_API_NOT_FOUND;
    }

    /* test/...: which one is known, but refused after the body's check */
    if (test && vks_api_is(&s[0], "test")) {
        route->test = vks_api_test_route(path);
        return vks_api_set(route, VKS_API_EP_TEST, VKS_API_POST, "POST",
                           VKS_API_ACTION_NONE);
    }

    if (n == 2 && vks_api_is(&s[0], "rules")) {
        return vks_api_set(route, VKS_API_EP_RULE,
                           VKS_API_READ|VKS_API_DELETE, "GET, HEAD, DELETE",
                           VKS_API_ACTION_NONE);
    }

    if (!vks_api_is(&s[0], "streams") || n < 3) {
        return VKS_API_NOT_FOUND;
    }

    /* streams/{app}/{name}/... */

    if (n == 3) {
        return vks_api_set(route, VKS_API_EP_STREAM, VKS_API_READ,
                           "GET, HEAD", VKS_API_ACTION_NONE);
    }

    if (n == 4) {
        if (vks_api_is(&s[3], "matches")) {
            return vks_api_set(route, VKS_API_EP_MATCHES, VKS_API_READ,
                               "GET, HEAD", VKS_API_ACTION_NONE);
        }

        if (vks_api_is(&s[3], "keywords")) {
            return vks_api_set(route, VKS_API_EP_KEYWORDS,
                               VKS_API_PUT|VKS_API_DELETE, "PUT, DELETE",
                               VKS_API_ACTION_NONE);
        }

        if (vks_api_is(&s[3], "drop")) {
            return vks_api_set(route, VKS_API_EP_DROP, VKS_API_POST, "POST",
                               VKS_API_ACTION_DROP);
        }

        return VKS_API_NOT_FOUND;
    }

    /* streams/{app}/{name}/renditions/{suffix}/{action} */

    if (n == 6 && vks_api_is(&s[3], "renditions")) {
        if (vks_api_is(&s[5], "restart")) {
            return vks_api_set(route, VKS_API_EP_RENDITION, VKS_API_POST,
                               "POST", VKS_API_ACTION_RESTART);
        }

        if (vks_api_is(&s[5], "stop")) {
            return vks_api_set(route, VKS_API_EP_RENDITION, VKS_API_POST,
                               "POST", VKS_API_ACTION_STOP);
        }
    }

    return VKS_API_NOT_FOUND;
}


vks_api_rc_e
vks_api_body(const char *data, size_t len, int object, json_t **json)
{
    json_t        *j;
    json_error_t   err;

    *json = NULL;

    if (len > VKS_API_MAX_BODY) {
        return VKS_API_BODY_TOO_LARGE;
    }

    if (len == 0) {
        return VKS_API_NO_BODY;
    }

    /* no flags: an object or an array only, no \u0000 in strings */
    j = json_loadb(data, len, 0, &err);
    if (j == NULL) {
        return VKS_API_BAD_JSON;
    }

    if (object && !json_is_object(j)) {
        json_decref(j);
        return VKS_API_NOT_OBJECT;
    }

    *json = j;

    return VKS_API_OK;
}


/* a string member of 1 to max bytes, copied with its NUL; else -1 */
static int
vks_api_string(json_t *o, const char *key, char *dst, size_t max,
    size_t *len)
{
    size_t   n;
    json_t  *v;

    v = json_is_object(o) ? json_object_get(o, key) : NULL;

    if (!json_is_string(v)) {
        return -1;
    }

    n = json_string_length(v);

    if (n == 0 || n > max) {
        return -1;
    }

    memcpy(dst, json_string_value(v), n);
    dst[n] = '\0';
    *len = n;

    return 0;
}


vks_api_rc_e
vks_api_keywords(const char *data, size_t len, vks_api_keywords_t *kw)
{
    int            rc;
    json_t        *j;
    vks_api_rc_e   brc;

    kw->len = 0;
    kw->data[0] = '\0';

    /* not an object: the field is missing, as the handler said */
    brc = vks_api_body(data, len, 0, &j);
    if (brc != VKS_API_OK) {
        return brc;
    }

    rc = vks_api_string(j, "keywords", kw->data, VKS_VK_VALUE_MAX,
                        &kw->len);

    json_decref(j);

    return rc == 0 ? VKS_API_OK : VKS_API_BAD_KEYWORDS;
}


vks_api_rc_e
vks_api_rule(const char *data, size_t len, vks_api_rule_t *rule)
{
    json_t        *j;
    vks_api_rc_e   rc;

    rule->tag_len = 0;
    rule->value_len = 0;
    rule->tag[0] = '\0';
    rule->value[0] = '\0';

    rc = vks_api_body(data, len, 0, &j);
    if (rc != VKS_API_OK) {
        return rc;
    }

    if (vks_api_string(j, "tag", rule->tag, VKS_VK_TAG_MAX,
                       &rule->tag_len) != 0
        || strncmp(rule->tag, VKS_VK_TAG_PREFIX,
                   sizeof(VKS_VK_TAG_PREFIX) - 1) == 0)
    {
        rc = VKS_API_BAD_TAG;

    } else if (vks_api_string(j, "value", rule->value, VKS_VK_VALUE_MAX,
                              &rule->value_len) != 0)
    {
        rc = VKS_API_BAD_VALUE;
    }

    json_decref(j);

    if (rc != VKS_API_OK) {
        rule->tag_len = 0;
        rule->value_len = 0;
        rule->tag[0] = '\0';
        rule->value[0] = '\0';
    }

    return rc;
}
