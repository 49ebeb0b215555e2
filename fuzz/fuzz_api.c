
/*
 * vkstream fuzz: the HTTP API's paths, routes and request bodies.  The
 * first line is a path (after the location's prefix, no query), the rest
 * a body given to every body parser.  The split is compared with a copy
 * of the nginx-typed code it replaced (ngx_unescape_uri() and the old
 * segment loop), so the API keeps decoding names as it did.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/vks_api.h"
#include "util/vks_utf8.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define check(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            __builtin_trap();                                                \
        }                                                                    \
    } while (0)


/* nginx 1.22's ngx_unescape_uri(&d, &s, size, 0), transcribed */
static size_t
ref_unescape(unsigned char *d0, const unsigned char *s, size_t size)
{
    unsigned char  *d, ch, c, decoded;
    enum {
        sw_usual = 0,
        sw_quoted,
        sw_quoted_second
    } state;

    d = d0;
    state = sw_usual;
    decoded = 0;

    while (size--) {
        ch = *s++;

        switch (state) {
        case sw_usual:
            if (ch == '%') {
                state = sw_quoted;
                break;
            }

            *d++ = ch;
            break;

        case sw_quoted:
            if (ch >= '0' && ch <= '9') {
                decoded = (unsigned char) (ch - '0');
                state = sw_quoted_second;
                break;
            }

            c = (unsigned char) (ch | 0x20);
            if (c >= 'a' && c <= 'f') {
                decoded = (unsigned char) (c - 'a' + 10);
                state = sw_quoted_second;
                break;
            }

            state = sw_usual;
            *d++ = ch;
            break;

        case sw_quoted_second:
            state = sw_usual;

            if (ch >= '0' && ch <= '9') {
                *d++ = (unsigned char) ((decoded << 4) + (ch - '0'));
                break;
            }

            c = (unsigned char) (ch | 0x20);
            if (c >= 'a' && c <= 'f') {
                *d++ = (unsigned char) ((decoded << 4) + (c - 'a') + 10);
                break;
            }

            break;
        }
    }

    return d - d0;
}


/* the old ngx_http_vkstream_parse() loop against vks_api_split()'s result */
static void
ref_split(const unsigned char *raw, size_t len, vks_api_rc_e rc,
    const vks_api_path_t *path)
{
    size_t                nsegs, n;
    unsigned char        *dec;
    const unsigned char  *p, *last, *start, *slash;

    dec = malloc(len + 1);
    check(dec != NULL);

    p = raw;
    last = raw + len;
    nsegs = 0;

    while (p < last && *p == '/') {
        p++;
    }

    while (p < last) {
        start = p;
        slash = memchr(p, '/', last - p);
        p = slash ? slash : last;

        if (nsegs == VKS_API_MAX_SEGS) {
            nsegs++;
            break;
        }

        if ((p - start == 1 && start[0] == '.')
            || (p - start == 2 && start[0] == '.' && start[1] == '.'))
        {
            check(rc == VKS_API_BAD_PATH);
            free(dec);
            return;
        }

        n = ref_unescape(dec, start, p - start);

        /* the same bytes; never longer than the raw segment */
        check(path->seg[nsegs].len == n);
        check(n <= (size_t) (p - start));
        check(memcmp(path->seg[nsegs].data, dec, n) == 0);
        check(path->seg[nsegs].data[n] == '\0');

        /* every "/" of a segment was escaped in it */
        check(memchr(start, '/', p - start) == NULL);

        nsegs++;

        if (p < last) {
            p++;
        }
    }

    check(rc == VKS_API_OK);
    check(path->nsegs == nsegs);

    free(dec);
}


static void
fuzz_path(const unsigned char *raw, size_t len)
{
    size_t            i, size, used;
    unsigned char    *buf;
    const char       *want;
    vks_api_rc_e      rc;
    vks_api_path_t    path;
    vks_api_route_t   route, route2;

    /* the exact size, so that ASan sees any write past it */
    size = vks_api_split_size(len);
    buf = malloc(size);
    check(buf != NULL);

    rc = vks_api_split(raw, len, buf, size, &path);

    check(rc == VKS_API_OK || rc == VKS_API_BAD_PATH);

    if (rc == VKS_API_OK) {
        check(path.nsegs <= VKS_API_MAX_SEGS + 1);

        /* segments follow each other in buf, each with its NUL */
        used = 0;

        for (i = 0; i < path.nsegs && i < VKS_API_MAX_SEGS; i++) {
            check(path.seg[i].data == buf + used);
            check(path.seg[i].len <= len);
            used += path.seg[i].len + 1;
            check(used <= size);
        }
    }

    ref_split(raw, len, rc, &path);

    if (rc != VKS_API_OK) {
        free(buf);
        return;
    }

    rc = vks_api_route(&path, 0, &route);
    check(rc == VKS_API_OK || rc == VKS_API_NOT_FOUND);

    if (rc == VKS_API_OK) {
        check(path.nsegs <= VKS_API_MAX_SEGS);

        for (i = 0; i < path.nsegs; i++) {
            check(path.seg[i].len > 0);
        }

        check(route.ep != VKS_API_EP_TEST);
        check(route.test == VKS_API_TEST_NONE);
        check(route.allow != NULL && route.allow[0] != '\0');
        check(route.methods != 0);
        check((route.methods & ~(VKS_API_READ|VKS_API_POST|VKS_API_PUT
                                 |VKS_API_DELETE)) == 0);

        /* a GET route also answers HEAD */
        check(!(route.methods & VKS_API_GET)
              || (route.methods & VKS_API_HEAD));

        switch (route.methods) {
        case VKS_API_READ:
            want = "GET, HEAD";
            break;
        case VKS_API_READ|VKS_API_POST|VKS_API_DELETE:
            want = "GET, HEAD, POST, DELETE";
            break;
        case VKS_API_READ|VKS_API_DELETE:
            want = "GET, HEAD, DELETE";
            break;
        case VKS_API_PUT|VKS_API_DELETE:
            want = "PUT, DELETE";
            break;
        case VKS_API_POST:
            want = "POST";
            break;
        default:
            want = NULL;
        }

        check(want != NULL && strcmp(route.allow, want) == 0);

        check((route.action != VKS_API_ACTION_NONE)
              == (route.ep == VKS_API_EP_DROP
                  || route.ep == VKS_API_EP_RENDITION));

        check(route.ep < VKS_API_EP_STREAM || route.ep > VKS_API_EP_RENDITION
              || (path.nsegs >= 3 && path.seg[0].len == 7
                  && memcmp(path.seg[0].data, "streams", 7) == 0));
    }

    /* the test endpoints only add routes under "test/" */
    rc = vks_api_route(&path, 1, &route2);
    check(rc == VKS_API_OK || rc == VKS_API_NOT_FOUND);

    if (rc == VKS_API_OK && route2.ep == VKS_API_EP_TEST) {
        check(path.nsegs >= 2 && path.nsegs <= VKS_API_MAX_SEGS);
        check(path.seg[0].len == 4 && memcmp(path.seg[0].data, "test", 4)
              == 0);
        check(route2.methods == VKS_API_POST
              && strcmp(route2.allow, "POST") == 0);

    } else if (vks_api_route(&path, 0, &route) == VKS_API_OK) {
        check(rc == VKS_API_OK && route2.ep == route.ep
              && route2.methods == route.methods
              && route2.action == route.action);

    } else {
        check(rc == VKS_API_NOT_FOUND);
    }

    free(buf);
}


static void
check_error(vks_api_rc_e rc)
{
    const vks_api_error_t  *e;

    e = vks_api_error(rc);

    if (rc == VKS_API_OK) {
        check(e == NULL);
        return;
    }

    check(e != NULL && (e->status == 400 || e->status == 413));
    check(e->code[0] != '\0' && e->message[0] != '\0');
}


/* a checked string: within limits, no NUL, valid UTF-8 */
static void
check_string(const char *s, size_t len, size_t max)
{
    check(len >= 1 && len <= max);
    check(s[len] == '\0' && strlen(s) == len);
    check(vks_utf8_valid(s, len));
}


static void
fuzz_body(const char *body, size_t len)
{
    json_t              *j;
    vks_api_rc_e         rc, brc;
    vks_api_rule_t       rule;
    vks_api_keywords_t   kw;

    brc = vks_api_body(body, len, 0, &j);
    check_error(brc);
    check(brc == VKS_API_OK || brc == VKS_API_NO_BODY
          || brc == VKS_API_BAD_JSON || brc == VKS_API_BODY_TOO_LARGE);
    check((brc == VKS_API_OK) == (j != NULL));
    check(j == NULL || json_is_object(j) || json_is_array(j));
    json_decref(j);

    rc = vks_api_body(body, len, 1, &j);
    check_error(rc);
    check(rc == brc || (brc == VKS_API_OK && rc == VKS_API_NOT_OBJECT));
    check((rc == VKS_API_OK) == (j != NULL && json_is_object(j)));
    json_decref(j);

    rc = vks_api_keywords(body, len, &kw);
    check_error(rc);
    check(rc == brc || (brc == VKS_API_OK && rc == VKS_API_BAD_KEYWORDS));

    if (rc == VKS_API_OK) {
        check_string(kw.data, kw.len, VKS_VK_VALUE_MAX);

    } else {
        check(kw.len == 0);
    }

    rc = vks_api_rule(body, len, &rule);
    check_error(rc);
    check(rc == brc || (brc == VKS_API_OK && (rc == VKS_API_BAD_TAG
                                              || rc == VKS_API_BAD_VALUE)));

    if (rc == VKS_API_OK) {
        check_string(rule.tag, rule.tag_len, VKS_VK_TAG_MAX);
        check_string(rule.value, rule.value_len, VKS_VK_VALUE_MAX);
        check(strncmp(rule.tag, VKS_VK_TAG_PREFIX,
                      sizeof(VKS_VK_TAG_PREFIX) - 1) != 0);

    } else {
        check(rule.tag_len == 0 && rule.value_len == 0);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *body;
    size_t          plen;
    const uint8_t  *nl;

    nl = memchr(data, '\n', size);
    plen = nl ? (size_t) (nl - data) : size;

    fuzz_path(data, plen);

    /* the body on its own buffer: ASan sees reads past its end */
    if (nl) {
        body = malloc(size - plen - 1 + 1);
        check(body != NULL);
        memcpy(body, nl + 1, size - plen - 1);
        fuzz_body(body, size - plen - 1);
        free(body);
    }

    return 0;
}
