
/*
 * Unit tests: api/vks_api (path splitting, routing, request bodies).
 */


#include <stdlib.h>
#include <string.h>
#include "api/vks_api.h"
#include "vks_tap.h"


static unsigned char  buf[vks_api_split_size(8192)];


static vks_api_rc_e
split(const char *raw, vks_api_path_t *path)
{
    size_t  len;

    len = strlen(raw);

    memset(path, 0, sizeof(vks_api_path_t));

    return vks_api_split((const unsigned char *) raw, len, buf,
                         vks_api_split_size(len), path);
}


static int
seg_is(vks_api_path_t *path, size_t i, const char *want, size_t len)
{
    return i < path->nsegs && i < VKS_API_MAX_SEGS
           && path->seg[i].len == len
           && memcmp(path->seg[i].data, want, len) == 0
           && path->seg[i].data[len] == '\0';
}


static void
test_split(void)
{
    vks_api_path_t  p;

    ok(split("", &p) == VKS_API_OK && p.nsegs == 0, "split: empty path");
    ok(split("///", &p) == VKS_API_OK && p.nsegs == 0,
       "split: slashes only, no segment");
    ok(split("/streams/live/cam1", &p) == VKS_API_OK && p.nsegs == 3
       && seg_is(&p, 0, "streams", 7) && seg_is(&p, 1, "live", 4)
       && seg_is(&p, 2, "cam1", 4), "split: three segments");
    ok(split("streams/", &p) == VKS_API_OK && p.nsegs == 1
       && seg_is(&p, 0, "streams", 7), "split: trailing slash adds none");
    ok(split("a//b", &p) == VKS_API_OK && p.nsegs == 3
       && seg_is(&p, 1, "", 0) && seg_is(&p, 2, "b", 1),
       "split: empty segment kept");
    ok(split("a//", &p) == VKS_API_OK && p.nsegs == 2
       && seg_is(&p, 1, "", 0), "split: \"a//\" has an empty second");

    ok(split("/streams/live/a%2Fb", &p) == VKS_API_OK && p.nsegs == 3
       && seg_is(&p, 2, "a/b", 3), "split: %%2F stays inside the name");
    ok(split("x/%D0%BA%20%25", &p) == VKS_API_OK
       && seg_is(&p, 1, "\xd0\xba %", 4), "split: UTF-8 and %%25 decoded");
    ok(split("x/a%2fB%2F", &p) == VKS_API_OK && seg_is(&p, 1, "a/B/", 4),
       "split: lower and upper hex");
    ok(split("x/a%00b", &p) == VKS_API_OK && seg_is(&p, 1, "a\0b", 3),
       "split: %%00 gives a NUL inside the segment");

    /* bad escapes decode as nginx's ngx_unescape_uri() does */
    ok(split("x/a%zb", &p) == VKS_API_OK && seg_is(&p, 1, "azb", 3),
       "split: \"%%z\" keeps the z");
    ok(split("x/a%4zb", &p) == VKS_API_OK && seg_is(&p, 1, "ab", 2),
       "split: \"%%4z\" is dropped");
    ok(split("x/ab%", &p) == VKS_API_OK && seg_is(&p, 1, "ab", 2),
       "split: a trailing \"%%\" is dropped");
    ok(split("x/ab%4", &p) == VKS_API_OK && seg_is(&p, 1, "ab", 2),
       "split: a trailing \"%%4\" is dropped");
    ok(split("x/%4z", &p) == VKS_API_OK && seg_is(&p, 1, "", 0),
       "split: a bad escape alone gives an empty segment");

    ok(split("streams/./x", &p) == VKS_API_BAD_PATH, "split: \".\" refused");
    ok(split("streams/live/..", &p) == VKS_API_BAD_PATH,
       "split: \"..\" refused");
    ok(split("../etc", &p) == VKS_API_BAD_PATH,
       "split: leading \"..\" refused");
    ok(split("streams/live/%2E%2E", &p) == VKS_API_OK
       && seg_is(&p, 2, "..", 2), "split: escaped \"..\" is a name");
    ok(split("streams/live/.%2E", &p) == VKS_API_OK
       && seg_is(&p, 2, "..", 2), "split: half-escaped \"..\" is a name");
    ok(split("streams/live/...", &p) == VKS_API_OK
       && seg_is(&p, 2, "...", 3), "split: \"...\" is a name");
    ok(split("streams/live/a%2F..%2F..%2Fetc", &p) == VKS_API_OK
       && p.nsegs == 3 && seg_is(&p, 2, "a/../../etc", 11),
       "split: escaped traversal stays one name");

    ok(split("1/2/3/4/5/6/7/8", &p) == VKS_API_OK && p.nsegs == 8
       && seg_is(&p, 7, "8", 1), "split: eight segments");
    ok(split("1/2/3/4/5/6/7/8/9", &p) == VKS_API_OK
       && p.nsegs == VKS_API_MAX_SEGS + 1, "split: nine: nsegs one above");
    ok(split("1/2/3/4/5/6/7/8/..", &p) == VKS_API_OK
       && p.nsegs == VKS_API_MAX_SEGS + 1,
       "split: past the eighth, \"..\" is not looked at");
    ok(split("1/../3/4/5/6/7/8/9/10", &p) == VKS_API_BAD_PATH,
       "split: \"..\" before the eighth refused");

    memset(&p, 0, sizeof(p));
    ok(vks_api_split((const unsigned char *) "abc/def", 7, buf, 5, &p)
       == VKS_API_NO_BUFFER, "split: small buffer refused");
}


static vks_api_rc_e
route(const char *raw, int test, vks_api_route_t *r)
{
    vks_api_rc_e    rc;
    vks_api_path_t  p;

    memset(r, 0xff, sizeof(vks_api_route_t));

    rc = split(raw, &p);
    if (rc != VKS_API_OK) {
        return rc;
    }

    return vks_api_route(&p, test, r);
}


static int
route_is(const char *raw, vks_api_ep_e ep, unsigned methods,
    const char *allow, vks_api_action_e action)
{
    vks_api_route_t  r;

    return route(raw, 0, &r) == VKS_API_OK && r.ep == ep
           && r.methods == methods && strcmp(r.allow, allow) == 0
           && r.action == action && r.test == VKS_API_TEST_NONE;
}


static void
test_route(void)
{
    vks_api_route_t  r;

    ok(route_is("", VKS_API_EP_STATUS, VKS_API_READ, "GET, HEAD",
                VKS_API_ACTION_NONE), "route: \"\" is status");
    ok(route_is("/status", VKS_API_EP_STATUS, VKS_API_READ, "GET, HEAD",
                VKS_API_ACTION_NONE), "route: status");
    ok(route_is("metrics", VKS_API_EP_METRICS, VKS_API_READ, "GET, HEAD",
                VKS_API_ACTION_NONE), "route: metrics");
    ok(route_is("events", VKS_API_EP_EVENTS, VKS_API_READ, "GET, HEAD",
                VKS_API_ACTION_NONE), "route: events");
    ok(route_is("streams/", VKS_API_EP_STREAMS, VKS_API_READ, "GET, HEAD",
                VKS_API_ACTION_NONE), "route: streams");
    ok(route_is("matches", VKS_API_EP_GLOBAL_MATCHES, VKS_API_READ,
                "GET, HEAD", VKS_API_ACTION_NONE), "route: matches");
    ok(route_is("rules", VKS_API_EP_RULES,
                VKS_API_GET|VKS_API_HEAD|VKS_API_POST|VKS_API_DELETE,
                "GET, HEAD, POST, DELETE", VKS_API_ACTION_NONE),
       "route: rules");
    ok(route_is("rules/news", VKS_API_EP_RULE,
                VKS_API_GET|VKS_API_HEAD|VKS_API_DELETE, "GET, HEAD, DELETE",
                VKS_API_ACTION_NONE), "route: rules/{tag}");
    ok(route_is("rules/a%2Fb%23c", VKS_API_EP_RULE,
                VKS_API_READ|VKS_API_DELETE, "GET, HEAD, DELETE",
                VKS_API_ACTION_NONE), "route: rules/{escaped tag}");
    ok(route_is("streams/live/cam", VKS_API_EP_STREAM, VKS_API_READ,
                "GET, HEAD", VKS_API_ACTION_NONE), "route: a stream");
    ok(route_is("streams/live/a%2Fb", VKS_API_EP_STREAM, VKS_API_READ,
                "GET, HEAD", VKS_API_ACTION_NONE),
       "route: a stream whose name holds %%2F");
    ok(route_is("streams/live/%2E%2E", VKS_API_EP_STREAM, VKS_API_READ,
                "GET, HEAD", VKS_API_ACTION_NONE),
       "route: a stream named \"..\"");
    ok(route_is("streams/live/cam/matches", VKS_API_EP_MATCHES,
                VKS_API_READ, "GET, HEAD", VKS_API_ACTION_NONE),
       "route: a stream's matches");
    ok(route_is("streams/live/cam/keywords", VKS_API_EP_KEYWORDS,
                VKS_API_PUT|VKS_API_DELETE, "PUT, DELETE",
                VKS_API_ACTION_NONE), "route: keywords");
    ok(route_is("streams/live/cam/drop", VKS_API_EP_DROP, VKS_API_POST,
                "POST", VKS_API_ACTION_DROP), "route: drop");
    ok(route_is("streams/live/cam/renditions/_low/restart",
                VKS_API_EP_RENDITION, VKS_API_POST, "POST",
                VKS_API_ACTION_RESTART), "route: rendition restart");
    ok(route_is("streams/live/cam/renditions/_low/stop",
                VKS_API_EP_RENDITION, VKS_API_POST, "POST",
                VKS_API_ACTION_STOP), "route: rendition stop");

    ok(route("nothing", 0, &r) == VKS_API_NOT_FOUND, "route: unknown");
    ok(route("Status", 0, &r) == VKS_API_NOT_FOUND,
       "route: names are case-sensitive");
    ok(route("status/x", 0, &r) == VKS_API_NOT_FOUND,
       "route: status/x unknown");
    ok(route("streams/live", 0, &r) == VKS_API_NOT_FOUND,
       "route: streams/{app} unknown");
    ok(route("streams//cam", 0, &r) == VKS_API_NOT_FOUND,
       "route: an empty app");
    ok(route("streams/live/%4z", 0, &r) == VKS_API_NOT_FOUND,
       "route: a name empty once decoded");
    ok(route("streams/live/cam/other", 0, &r) == VKS_API_NOT_FOUND,
       "route: unknown stream sub-resource");
    ok(route("streams/live/cam/keywords/more", 0, &r) == VKS_API_NOT_FOUND,
       "route: keywords/more");
    ok(route("streams/live/cam/renditions/_low/pause", 0, &r)
       == VKS_API_NOT_FOUND, "route: unknown rendition action");
    ok(route("streams/live/cam/renditions/_low", 0, &r)
       == VKS_API_NOT_FOUND, "route: rendition without action");
    ok(route("rules/a/b", 0, &r) == VKS_API_NOT_FOUND, "route: rules/a/b");
    ok(route("streams/1/2/3/4/5/6/7/8", 0, &r) == VKS_API_NOT_FOUND,
       "route: too many segments");
    ok(route("streams/live/./x", 0, &r) == VKS_API_BAD_PATH,
       "route: \".\" refused before routing");

    ok(route("test/match", 0, &r) == VKS_API_NOT_FOUND,
       "route: test endpoints off");
    ok(route("test/match", 1, &r) == VKS_API_OK && r.ep == VKS_API_EP_TEST
       && r.methods == VKS_API_POST && strcmp(r.allow, "POST") == 0
       && r.test == VKS_API_TEST_MATCH, "route: test/match");
    ok(route("test/rule_state", 1, &r) == VKS_API_OK
       && r.test == VKS_API_TEST_RULE_STATE, "route: test/rule_state");
    ok(route("test/vk", 1, &r) == VKS_API_OK && r.test == VKS_API_TEST_VK,
       "route: test/vk");
    ok(route("test/stats/live/cam", 1, &r) == VKS_API_OK
       && r.test == VKS_API_TEST_STATS, "route: test/stats/{app}/{name}");
    ok(route("test/nothing", 1, &r) == VKS_API_OK && r.ep == VKS_API_EP_TEST
       && r.test == VKS_API_TEST_NONE,
       "route: unknown test endpoint found after the body's check");
    ok(route("test/stats/live", 1, &r) == VKS_API_OK
       && r.test == VKS_API_TEST_NONE, "route: test/stats needs a stream");
    ok(route("test", 1, &r) == VKS_API_NOT_FOUND, "route: test alone");
    ok(route("test/1/2/3/4/5/6/7/8", 1, &r) == VKS_API_NOT_FOUND,
       "route: test with too many segments");
}


static const char *
code(vks_api_rc_e rc)
{
    const vks_api_error_t  *e;

    e = vks_api_error(rc);

    return e ? e->code : "ok";
}


static vks_api_rc_e
keywords(const char *body, vks_api_keywords_t *kw)
{
    return vks_api_keywords(body, strlen(body), kw);
}


static char *
keywords_body(size_t n, const char *unit)
{
    char    *s, *p;
    size_t   i, u;

    u = strlen(unit);
    s = malloc(n * u + 32);
    if (s == NULL) {
        abort();
    }

    p = s + sprintf(s, "{\"keywords\":\"");

    for (i = 0; i < n; i++) {
        memcpy(p, unit, u);
        p += u;
    }

    strcpy(p, "\"}");

    return s;
}


static void
test_errors(void)
{
    const vks_api_error_t  *e;

    ok(vks_api_error(VKS_API_OK) == NULL, "error: none for OK");
    ok(vks_api_error((vks_api_rc_e) 1000) == NULL, "error: none out of range");

    e = vks_api_error(VKS_API_BAD_PATH);
    ok(e && e->status == 400 && strcmp(e->code, "bad_path") == 0
       && strcmp(e->message, "\".\" and \"..\" segments are not allowed; "
                 "escape them") == 0, "error: bad_path");
    e = vks_api_error(VKS_API_NOT_FOUND);
    ok(e && e->status == 404 && strcmp(e->code, "not_found") == 0
       && strcmp(e->message, "no such endpoint") == 0, "error: not_found");
    e = vks_api_error(VKS_API_BODY_TOO_LARGE);
    ok(e && e->status == 413 && strcmp(e->code, "body_too_large") == 0,
       "error: body_too_large");
    e = vks_api_error(VKS_API_NO_BODY);
    ok(e && e->status == 400 && strcmp(e->code, "bad_json") == 0
       && strcmp(e->message, "a JSON body is required") == 0,
       "error: no body");
    e = vks_api_error(VKS_API_BAD_JSON);
    ok(e && e->status == 400 && strcmp(e->code, "bad_json") == 0
       && strcmp(e->message, "the body is not valid JSON") == 0,
       "error: bad JSON");
    e = vks_api_error(VKS_API_NOT_OBJECT);
    ok(e && e->status == 400 && strcmp(e->code, "bad_field") == 0
       && strcmp(e->message, "a JSON object is required") == 0,
       "error: not an object");
    e = vks_api_error(VKS_API_BAD_KEYWORDS);
    ok(e && e->status == 400 && strcmp(e->message, "\"keywords\" must be "
       "a string of 1 to 4096 bytes") == 0, "error: keywords");
    e = vks_api_error(VKS_API_BAD_TAG);
    ok(e && e->status == 400 && strcmp(e->message, "\"tag\" must be a "
       "string of 1 to 256 bytes not starting with \"vks:\"") == 0,
       "error: tag");
    e = vks_api_error(VKS_API_BAD_VALUE);
    ok(e && e->status == 400 && strcmp(e->message, "\"value\" must be a "
       "string of 1 to 4096 bytes") == 0, "error: value");
    e = vks_api_error(VKS_API_NO_BUFFER);
    ok(e && e->status == 500, "error: no buffer is internal");
}


static void
test_keywords(void)
{
    char                *s;
    vks_api_rc_e         rc;
    vks_api_keywords_t   kw;

    ok(keywords("{\"keywords\":\"cats dogs\"}", &kw) == VKS_API_OK
       && kw.len == 9 && strcmp(kw.data, "cats dogs") == 0,
       "keywords: a string");
    ok(keywords("{\"keywords\":\"\\u043a\\\"q\\\"\",\"x\":1}", &kw)
       == VKS_API_OK && kw.len == 5
       && memcmp(kw.data, "\xd0\xba\"q\"", 5) == 0,
       "keywords: escapes decoded, other fields ignored");
    ok(keywords("{\"keywords\":\"x\",\"keywords\":\"yy\"}", &kw)
       == VKS_API_OK && kw.len == 2 && strcmp(kw.data, "yy") == 0,
       "keywords: a repeated key, the last one wins");

    ok(vks_api_keywords("", 0, &kw) == VKS_API_NO_BODY && kw.len == 0,
       "keywords: empty body");
    ok(vks_api_keywords(NULL, 0, &kw) == VKS_API_NO_BODY,
       "keywords: no body at all");
    ok(keywords("{\"keywords\":", &kw) == VKS_API_BAD_JSON,
       "keywords: truncated JSON");
    ok(keywords("\"keywords\"", &kw) == VKS_API_BAD_JSON,
       "keywords: a bare string is not a body");
    ok(keywords("42", &kw) == VKS_API_BAD_JSON,
       "keywords: a bare number is not a body");
    ok(keywords("{\"keywords\":\"a\xff\xfe" "b\"}", &kw) == VKS_API_BAD_JSON,
       "keywords: invalid UTF-8");
    ok(keywords("{\"keywords\":\"\xc0\xaf\"}", &kw) == VKS_API_BAD_JSON,
       "keywords: overlong UTF-8");
    ok(keywords("{\"keywords\":\"\\ud800\"}", &kw) == VKS_API_BAD_JSON,
       "keywords: lone surrogate escape");
    ok(keywords("{\"keywords\":\"a\\u0000b\"}", &kw) == VKS_API_BAD_JSON,
       "keywords: \\u0000 refused");
    ok(vks_api_keywords("{\"keywords\":\"a\"}\0", 17, &kw)
       == VKS_API_BAD_JSON, "keywords: a NUL after the object");
    ok(keywords("{\"keywords\":\"a\"} x", &kw) == VKS_API_BAD_JSON,
       "keywords: garbage after the object");

    ok(keywords("[\"keywords\"]", &kw) == VKS_API_BAD_KEYWORDS,
       "keywords: an array body is not an object");
    ok(keywords("{}", &kw) == VKS_API_BAD_KEYWORDS, "keywords: missing");
    ok(keywords("{\"keywords\":null}", &kw) == VKS_API_BAD_KEYWORDS,
       "keywords: null");
    ok(keywords("{\"keywords\":1}", &kw) == VKS_API_BAD_KEYWORDS,
       "keywords: a number");
    ok(keywords("{\"keywords\":[\"a\",\"b\"]}", &kw) == VKS_API_BAD_KEYWORDS,
       "keywords: an array of strings is not a string");
    ok(keywords("{\"keywords\":{\"a\":\"b\"}}", &kw) == VKS_API_BAD_KEYWORDS,
       "keywords: an object");
    ok(keywords("{\"keywords\":\"\"}", &kw) == VKS_API_BAD_KEYWORDS
       && kw.len == 0, "keywords: empty string");
    ok(keywords("{\"Keywords\":\"x\"}", &kw) == VKS_API_BAD_KEYWORDS,
       "keywords: the key is case-sensitive");

    s = keywords_body(4096, "a");
    ok(keywords(s, &kw) == VKS_API_OK && kw.len == 4096
       && kw.data[4096] == '\0', "keywords: 4096 bytes accepted");
    free(s);

    s = keywords_body(4097, "a");
    ok(keywords(s, &kw) == VKS_API_BAD_KEYWORDS, "keywords: 4097 refused");
    free(s);

    /* the limit is in bytes: 2048 two-byte characters fit, 2049 not */
    s = keywords_body(2048, "\xd1\x8f");
    ok(keywords(s, &kw) == VKS_API_OK && kw.len == 4096,
       "keywords: 2048 two-byte characters");
    free(s);

    s = keywords_body(2049, "\\u044f");
    ok(keywords(s, &kw) == VKS_API_BAD_KEYWORDS,
       "keywords: 2049 escaped two-byte characters refused");
    free(s);

    s = keywords_body(VKS_API_MAX_BODY, "a");
    rc = keywords(s, &kw);
    ok(rc == VKS_API_BODY_TOO_LARGE && strcmp(code(rc), "body_too_large")
       == 0, "keywords: a body over 32768 bytes");
    free(s);

    s = malloc(VKS_API_MAX_BODY + 1);
    memset(s, '[', VKS_API_MAX_BODY);
    s[VKS_API_MAX_BODY] = '\0';
    ok(keywords(s, &kw) == VKS_API_BAD_JSON,
       "keywords: 32768 nested arrays refused by depth");
    free(s);
}


static vks_api_rc_e
rule(const char *body, vks_api_rule_t *r)
{
    return vks_api_rule(body, strlen(body), r);
}


static void
test_rule(void)
{
    char            *s, *p;
    vks_api_rule_t   r;

    ok(rule("{\"tag\":\"news\",\"value\":\"cats -dogs\"}", &r) == VKS_API_OK
       && r.tag_len == 4 && strcmp(r.tag, "news") == 0
       && r.value_len == 10 && strcmp(r.value, "cats -dogs") == 0,
       "rule: tag and value");
    ok(rule("{\"value\":\"v\",\"tag\":\"vk\"}", &r) == VKS_API_OK
       && strcmp(r.tag, "vk") == 0, "rule: tag \"vk\" is not own");
    ok(rule("{\"tag\":\"vks\",\"value\":\"v\"}", &r) == VKS_API_OK,
       "rule: tag \"vks\" is not own");
    ok(rule("{\"tag\":\"VKS:x\",\"value\":\"v\"}", &r) == VKS_API_OK,
       "rule: the prefix is case-sensitive");

    ok(vks_api_rule("", 0, &r) == VKS_API_NO_BODY, "rule: empty body");
    ok(rule("{\"tag\":", &r) == VKS_API_BAD_JSON, "rule: bad JSON");
    ok(rule("[]", &r) == VKS_API_BAD_TAG, "rule: an array body");
    ok(rule("{\"value\":\"v\"}", &r) == VKS_API_BAD_TAG, "rule: no tag");
    ok(rule("{\"tag\":\"\",\"value\":\"v\"}", &r) == VKS_API_BAD_TAG,
       "rule: empty tag");
    ok(rule("{\"tag\":7,\"value\":\"v\"}", &r) == VKS_API_BAD_TAG,
       "rule: a number tag");
    ok(rule("{\"tag\":\"vks:\",\"value\":\"v\"}", &r) == VKS_API_BAD_TAG,
       "rule: \"vks:\" refused");
    ok(rule("{\"tag\":\"vks:s:live/cam\",\"value\":\"v\"}", &r)
       == VKS_API_BAD_TAG && r.tag_len == 0 && r.tag[0] == '\0',
       "rule: an own tag refused, nothing left");
    ok(rule("{\"tag\":\"\",\"value\":\"\"}", &r) == VKS_API_BAD_TAG,
       "rule: the tag is checked first");
    ok(rule("{\"tag\":\"t\"}", &r) == VKS_API_BAD_VALUE, "rule: no value");
    ok(rule("{\"tag\":\"t\",\"value\":\"\"}", &r) == VKS_API_BAD_VALUE,
       "rule: empty value");
    ok(rule("{\"tag\":\"t\",\"value\":[\"a\"]}", &r) == VKS_API_BAD_VALUE
       && r.tag_len == 0, "rule: an array value");

    s = malloc(VKS_VK_VALUE_MAX + 64);

    p = s + sprintf(s, "{\"value\":\"v\",\"tag\":\"");
    memset(p, 't', 256);
    strcpy(p + 256, "\"}");
    ok(rule(s, &r) == VKS_API_OK && r.tag_len == 256
       && r.tag[256] == '\0', "rule: a tag of 256 bytes");

    memset(p, 't', 257);
    strcpy(p + 257, "\"}");
    ok(rule(s, &r) == VKS_API_BAD_TAG, "rule: a tag of 257 bytes");

    p = s + sprintf(s, "{\"tag\":\"t\",\"value\":\"");
    memset(p, 'v', 4096);
    strcpy(p + 4096, "\"}");
    ok(rule(s, &r) == VKS_API_OK && r.value_len == 4096,
       "rule: a value of 4096 bytes");

    memset(p, 'v', 4097);
    strcpy(p + 4097, "\"}");
    ok(rule(s, &r) == VKS_API_BAD_VALUE, "rule: a value of 4097 bytes");

    free(s);
}


static void
test_body(void)
{
    json_t  *j;

    ok(vks_api_body("{\"a\":1}", 7, 1, &j) == VKS_API_OK
       && json_is_object(j), "body: an object");
    json_decref(j);

    ok(vks_api_body("[1]", 3, 0, &j) == VKS_API_OK && json_is_array(j),
       "body: an array when any is wanted");
    json_decref(j);

    ok(vks_api_body("[1]", 3, 1, &j) == VKS_API_NOT_OBJECT && j == NULL,
       "body: an array when an object is wanted");
    ok(vks_api_body("", 0, 1, &j) == VKS_API_NO_BODY && j == NULL,
       "body: none");
    ok(vks_api_body("{", 1, 1, &j) == VKS_API_BAD_JSON && j == NULL,
       "body: bad JSON before the object check");
    ok(vks_api_body("{}", VKS_API_MAX_BODY + 1, 1, &j)
       == VKS_API_BODY_TOO_LARGE, "body: too large before reading");
}


int
main(void)
{
    test_split();
    test_route();
    test_errors();
    test_keywords();
    test_rule();
    test_body();

    return done_testing();
}
