
/*
 * vkstream vk: the VK Streaming API client.  It runs libwebsockets' service
 * loop in a thread of its own: getServerUrl, the /rules calls and the
 * wss:// stream.  The owner (the nginx glue) talks to it only through the
 * calls below, which take a mutex: it hands over the desired rules and
 * takes back matches, rule states, log lines and the status.  When there
 * is something to take, the client calls notify() from its thread.
 * Plain C, no nginx types; the thread never logs by itself.
 */


#ifndef _VKS_VK_CLIENT_H_INCLUDED_
#define _VKS_VK_CLIENT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vks_vk_endpoint.h"
#include "vks_vk_rules.h"


#define VKS_VK_STR_MAX          256
#define VKS_VK_TEXT_MAX         1024
#define VKS_VK_QUEUE_MAX        4096     /* items waiting for the owner */

/* connection states, the same numbers as NGX_VKSTREAM_VK_* (asserted) */
#define VKS_VK_ST_OFF           0
#define VKS_VK_ST_CONNECTING    1
#define VKS_VK_ST_CONNECTED     2
#define VKS_VK_ST_BACKOFF       3
#define VKS_VK_ST_ERROR         4

/* rule states, the same numbers as NGX_VKSTREAM_RULE_* (asserted) */
#define VKS_VK_RULE_PENDING     1
#define VKS_VK_RULE_ACTIVE      2
#define VKS_VK_RULE_FAILED      3

#define VKS_VK_OUT_MATCH        1
#define VKS_VK_OUT_RULE         2
#define VKS_VK_OUT_LOG          3

#define VKS_VK_LOG_ERR          1
#define VKS_VK_LOG_WARN         2
#define VKS_VK_LOG_INFO         3


typedef struct {
    const char          *api;           /* "https://api.vk.com" */
    const char          *token;         /* or endpoint and key: */
    const char          *endpoint;      /* "host[:port]" */
    const char          *key;
    const char          *ca_file;       /* NULL: the system's */
    int                  verify;
    int                  delete_foreign;
    size_t               max_message;
    size_t               text_max;      /* <= VKS_VK_TEXT_MAX */
    /* from the client's thread; the owner's wake-up, thread-safe */
    void               (*notify)(void *data);
    void                *notify_data;
    uint32_t             seed;
} vks_vk_client_conf_t;


typedef struct vks_vk_out_s  vks_vk_out_t;

struct vks_vk_out_s {
    vks_vk_out_t        *next;
    int                  kind;          /* VKS_VK_OUT_* */
    int                  level;         /* log */
    int                  state;         /* rule */
    int64_t              code;          /* rule */
    size_t               tag_len;
    size_t               text_len;
    size_t               event_type_len;
    size_t               action_len;
    size_t               url_len;
    size_t               author_url_len;
    int64_t              author_id;
    int64_t              created;
    char                 tag[VKS_VK_TAG_MAX + 1];
    /* match text, rule error or log line */
    char                 text[VKS_VK_TEXT_MAX + 1];
    char                 event_type[16];
    char                 action[16];
    char                 url[VKS_VK_STR_MAX];
    char                 author_url[VKS_VK_STR_MAX];
};


typedef struct {
    int                  state;         /* VKS_VK_ST_* */
    time_t               since;
    uint64_t             received;      /* whole messages */
    uint64_t             dropped;       /* oversized, queue full */
    uint64_t             malformed;     /* not JSON, not UTF-8, bad shape */
    uint64_t             reconnects;
    uint64_t             connects;      /* stream connections established */
    int64_t              service_code;
    char                 endpoint[VKS_VK_STR_MAX];
    char                 service_message[VKS_VK_STR_MAX];
    char                 last_error[VKS_VK_STR_MAX];
} vks_vk_status_t;


typedef struct vks_vk_client_s  vks_vk_client_t;


/*
 * Copies the configuration and starts the thread.  NULL on failure, with
 * the reason in err.
 */
vks_vk_client_t *vks_vk_client_start(const vks_vk_client_conf_t *conf,
    char *err, size_t errlen);

/*
 * Stops the thread, waiting up to timeout_ms for it; frees everything if
 * it ended.  Returns 0, or -1 if the thread was left behind (detached).
 */
int vks_vk_client_stop(vks_vk_client_t *c, unsigned timeout_ms);

/* Replaces the desired rules (server tags); copies them. */
int vks_vk_client_set_rules(vks_vk_client_t *c, const vks_vk_rule_t *rules,
    size_t n);

/* Takes everything queued for the owner, oldest first. */
vks_vk_out_t *vks_vk_client_take(vks_vk_client_t *c);

/*
 * The same, for an owner that can poll.  With poll set and items taken,
 * the client stops waking it (*polls is 1: take again soon, by a timer);
 * a take that finds nothing, or without poll, resumes the wake-ups
 * (*polls is 0).  At a high rate the owner then wakes once per its timer,
 * not once per message.
 */
vks_vk_out_t *vks_vk_client_take_batch(vks_vk_client_t *c, int poll,
    int *polls);
void vks_vk_out_free(vks_vk_out_t *list);

/* Copies the status; returns 1 if it changed since the last call. */
int vks_vk_client_status(vks_vk_client_t *c, vks_vk_status_t *st);

/*
 * Splits "https://host[:port][/prefix]" (or http://); returns 0 or -1.
 * host has room for VKS_VK_HOST_MAX + 1 bytes, prefix for VKS_VK_STR_MAX.
 */
int vks_vk_url_split(const char *url, char *host, unsigned *port, int *tls,
    char *prefix);


#endif /* _VKS_VK_CLIENT_H_INCLUDED_ */
