
/*
 * vkstream api: the HTTP control API's request parsing, without nginx.
 *
 * The path after the location's prefix is split into %-decoded segments
 * (so that a stream name may hold "/" as %2F, and an escaped ".." is just
 * a name), the segments are routed to an endpoint with its methods, and
 * the JSON bodies of PUT .../keywords, POST /rules and the test endpoints
 * are checked.  Errors are codes whose status, "code" and "message" the
 * nginx glue (ngx_http_vkstream_module.c) sends as the JSON error.
 * Plain C, no nginx types; bodies are read with jansson.
 */


#ifndef _VKS_API_H_INCLUDED_
#define _VKS_API_H_INCLUDED_


#include <stddef.h>
#include <jansson.h>

#include "vk/vks_vk_rules.h"        /* VK's tag and value limits */


#define VKS_API_MAX_BODY       32768
#define VKS_API_MAX_SEGS       8        /* no endpoint has more */

/* what vks_api_split() may need: each segment and its NUL */
#define vks_api_split_size(len)  ((len) + VKS_API_MAX_SEGS)


/* methods, as a mask */
#define VKS_API_GET            0x01
#define VKS_API_HEAD           0x02
#define VKS_API_POST           0x04
#define VKS_API_PUT            0x08
#define VKS_API_DELETE         0x10
#define VKS_API_READ           (VKS_API_GET|VKS_API_HEAD)


typedef enum {
    VKS_API_OK = 0,
    VKS_API_BAD_PATH,          /* 400: unescaped "." or ".." */
    VKS_API_NOT_FOUND,         /* 404: no such endpoint */
    VKS_API_BODY_TOO_LARGE,    /* 413 */
    VKS_API_NO_BODY,           /* 400 */
    VKS_API_BAD_JSON,          /* 400 */
    VKS_API_NOT_OBJECT,        /* 400: test endpoints */
    VKS_API_BAD_KEYWORDS,      /* 400 */
    VKS_API_BAD_TAG,           /* 400 */
    VKS_API_BAD_VALUE,         /* 400 */
    VKS_API_NO_BUFFER          /* the caller's buffer is too small */
} vks_api_rc_e;


typedef struct {
    int                 status;     /* HTTP status */
    const char         *code;       /* "error": {"code": ...} */
    const char         *message;
} vks_api_error_t;


typedef enum {
    VKS_API_EP_STATUS = 0,
    VKS_API_EP_METRICS,
    VKS_API_EP_EVENTS,
    VKS_API_EP_STREAMS,
    VKS_API_EP_STREAM,
    VKS_API_EP_MATCHES,
    VKS_API_EP_KEYWORDS,
    VKS_API_EP_DROP,
    VKS_API_EP_RENDITION,
    VKS_API_EP_RULES,
    VKS_API_EP_RULE,
    VKS_API_EP_GLOBAL_MATCHES,
    VKS_API_EP_CLUSTER,
    VKS_API_EP_TEST
} vks_api_ep_e;


typedef enum {
    VKS_API_ACTION_NONE = 0,
    VKS_API_ACTION_DROP,
    VKS_API_ACTION_RESTART,
    VKS_API_ACTION_STOP
} vks_api_action_e;


/* which test endpoint: decided after the body is checked */
typedef enum {
    VKS_API_TEST_NONE = 0,
    VKS_API_TEST_STATS,         /* test/stats/{app}/{name} */
    VKS_API_TEST_MATCH,         /* test/match */
    VKS_API_TEST_RULE_STATE,    /* test/rule_state */
    VKS_API_TEST_VK             /* test/vk */
} vks_api_test_e;


/* a decoded segment: data is NUL-terminated but may hold NULs (%00) */
typedef struct {
    size_t              len;
    unsigned char      *data;
} vks_api_seg_t;


typedef struct {
    vks_api_seg_t       seg[VKS_API_MAX_SEGS];
    size_t              nsegs;      /* VKS_API_MAX_SEGS + 1: too many */
} vks_api_path_t;


typedef struct {
    vks_api_ep_e        ep;
    unsigned            methods;    /* VKS_API_GET ... */
    const char         *allow;      /* the Allow header for a 405 */
    vks_api_action_e    action;     /* drop and renditions */
    vks_api_test_e      test;       /* VKS_API_EP_TEST */
} vks_api_route_t;


typedef struct {
    size_t              len;                /* 1 to VKS_VK_VALUE_MAX */
    char                data[VKS_VK_VALUE_MAX + 1];
} vks_api_keywords_t;


typedef struct {
    size_t              tag_len;            /* 1 to VKS_VK_TAG_MAX */
    size_t              value_len;          /* 1 to VKS_VK_VALUE_MAX */
    char                tag[VKS_VK_TAG_MAX + 1];
    char                value[VKS_VK_VALUE_MAX + 1];
} vks_api_rule_t;


/* the status, code and message to answer rc with; NULL for VKS_API_OK */
const vks_api_error_t *vks_api_error(vks_api_rc_e rc);

/*
 * Splits raw[0..len) (the path after the location's prefix, without the
 * query) into %-decoded segments written to buf (vks_api_split_size(len)
 * bytes suffice).  Leading "/" are skipped and a trailing one adds no
 * segment; "a//b" has an empty one.  Escapes decode as nginx's
 * ngx_unescape_uri() does: a "%" before a non-hex character is dropped,
 * "%X" before one drops both.  After VKS_API_MAX_SEGS segments nsegs is
 * set one above and the rest is not looked at.  Returns VKS_API_OK,
 * VKS_API_BAD_PATH for an unescaped "." or ".." segment, or
 * VKS_API_NO_BUFFER.
 */
vks_api_rc_e vks_api_split(const unsigned char *raw, size_t len,
    unsigned char *buf, size_t size, vks_api_path_t *path);

/*
 * Maps segments to an endpoint; test: the test endpoints are on.
 * Returns VKS_API_OK or VKS_API_NOT_FOUND (an empty segment, too many,
 * nothing there).  The methods are checked by the caller.
 */
vks_api_rc_e vks_api_route(const vks_api_path_t *path, int test,
    vks_api_route_t *route);

/*
 * Loads a request body (JSON object or array) into *json, to be released
 * with json_decref().  Errors: VKS_API_BODY_TOO_LARGE, VKS_API_NO_BODY,
 * VKS_API_BAD_JSON (syntax, invalid UTF-8, \u0000); with object set,
 * also VKS_API_NOT_OBJECT.
 */
vks_api_rc_e vks_api_body(const char *data, size_t len, int object,
    json_t **json);

/*
 * PUT .../keywords: {"keywords": "..."}, a string of 1 to VKS_VK_VALUE_MAX
 * bytes
 */
vks_api_rc_e vks_api_keywords(const char *data, size_t len,
    vks_api_keywords_t *kw);

/*
 * POST /rules: {"tag": "...", "value": "..."}, a tag of 1 to
 * VKS_VK_TAG_MAX bytes not starting with VKS_VK_TAG_PREFIX, a value of 1
 * to VKS_VK_VALUE_MAX bytes.
 */
vks_api_rc_e vks_api_rule(const char *data, size_t len, vks_api_rule_t *rule);


#endif /* _VKS_API_H_INCLUDED_ */
