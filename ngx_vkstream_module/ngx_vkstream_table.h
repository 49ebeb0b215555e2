
/*
 * vkstream stream table: one shared memory zone, seen by every worker,
 * holding the live (and recently ended) streams, their statistics, VK
 * keywords and matches, the global VK rules and state, and a bounded
 * backlog of events for the HTTP API.
 *
 * Writers take the zone's lock; every call copies in or out, so no caller
 * ever holds a pointer into shared memory.  Strings are bytes with a
 * length, truncated to the sizes below (no NUL, not necessarily UTF-8).
 * Lengths and indices read back from the zone are clamped before use.
 *
 * All functions are for the event-loop thread of a worker and are no-ops
 * (or return NGX_DECLINED) when the zone does not exist.
 */


#ifndef _NGX_VKSTREAM_TABLE_H_INCLUDED_
#define _NGX_VKSTREAM_TABLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "media/vks_stats.h"
#include "vk/vks_vk_client.h"       /* VK's limits, the match text */


#define NGX_VKSTREAM_APP_LEN        128
#define NGX_VKSTREAM_NAME_LEN       256    /* NGX_RTMP_MAX_NAME */
#define NGX_VKSTREAM_ADDR_LEN       64
#define NGX_VKSTREAM_ERROR_LEN      256
#define NGX_VKSTREAM_MAX_RULES      32     /* global rules */
#define NGX_VKSTREAM_EVENTS         512    /* SSE backlog */
#define NGX_VKSTREAM_MAX_ACTIONS    4      /* pending per stream */
#define NGX_VKSTREAM_WAKE_SLOTS     64     /* workers woken for SSE */

/* a stored VK match */
#define NGX_VKSTREAM_EVTYPE_LEN     16
#define NGX_VKSTREAM_URL_LEN        256
#define NGX_VKSTREAM_TEXT_LEN       VKS_VK_TEXT_MAX


#define NGX_VKSTREAM_ACTION_DROP     1
#define NGX_VKSTREAM_ACTION_RESTART  2
#define NGX_VKSTREAM_ACTION_STOP     3
#define NGX_VKSTREAM_ACTION_KEYWORDS 4     /* a remote stream's, to send */

/* cluster mode */
#define NGX_VKSTREAM_NODE_LEN       64     /* VKS_CLUSTER_NODE_MAX */
#define NGX_VKSTREAM_MAX_NODES      64     /* shown in the cluster view */

typedef void (*ngx_vkstream_action_pt)(ngx_uint_t id, ngx_uint_t action,
    ngx_str_t *suffix);


/* rule state, per stream rule and per global rule */
#define NGX_VKSTREAM_RULE_NONE       0     /* no keywords */
#define NGX_VKSTREAM_RULE_PENDING    1     /* desired, not yet confirmed */
#define NGX_VKSTREAM_RULE_ACTIVE     2     /* VK accepted it */
#define NGX_VKSTREAM_RULE_FAILED     3     /* VK refused it: code, error */

/* VK connection state */
#define NGX_VKSTREAM_VK_OFF          0     /* not configured */
#define NGX_VKSTREAM_VK_CONNECTING   1
#define NGX_VKSTREAM_VK_CONNECTED    2
#define NGX_VKSTREAM_VK_BACKOFF      3     /* waiting to reconnect */
#define NGX_VKSTREAM_VK_ERROR        4

/* event types in the backlog (SSE "event:" names in the .c file) */
#define NGX_VKSTREAM_EV_PUBLISH      1
#define NGX_VKSTREAM_EV_UNPUBLISH    2
#define NGX_VKSTREAM_EV_RENDITION    3     /* rendition state change */
#define NGX_VKSTREAM_EV_MATCH        4
#define NGX_VKSTREAM_EV_KEYWORDS     5
#define NGX_VKSTREAM_EV_RULES        6


typedef struct {
    uint64_t                  id;          /* per ring, from 1 */
    time_t                    created;     /* by VK */
    uint64_t                  received;    /* msec since epoch */
    int64_t                   author_id;
    u_short                   event_type_len;
    u_short                   action_len;
    u_short                   url_len;
    u_short                   text_len;
    u_short                   author_url_len;
    u_short                   tag_len;
    u_char                    event_type[NGX_VKSTREAM_EVTYPE_LEN];
    u_char                    action[NGX_VKSTREAM_EVTYPE_LEN];
    u_char                    url[NGX_VKSTREAM_URL_LEN];
    u_char                    text[NGX_VKSTREAM_TEXT_LEN];
    u_char                    author_url[NGX_VKSTREAM_URL_LEN];
    u_char                    tag[VKS_VK_TAG_MAX];
} ngx_vkstream_match_t;


/* what the VK client hands to ngx_vkstream_table_add_match() */
typedef struct {
    ngx_str_t                 event_type;  /* "post", "comment", "share" */
    ngx_str_t                 action;      /* "new", "update", ... */
    ngx_str_t                 url;
    ngx_str_t                 text;        /* cut by the caller */
    ngx_str_t                 author_url;
    int64_t                   author_id;
    time_t                    created;
} ngx_vkstream_match_in_t;


typedef struct {
    ngx_uint_t                action;
    u_short                   suffix_len;
    u_char                    suffix[VKS_SUFFIX_LEN];
} ngx_vkstream_pending_t;


/* a stream; copies of it are what readers get (ring == NULL there) */
typedef struct {
    ngx_queue_t               queue;
    uint64_t                  id;
    ngx_pid_t                 pid;         /* owning worker */
    time_t                    start;
    time_t                    end;         /* 0 while live */

    u_short                   app_len;
    u_short                   name_len;
    u_short                   addr_len;
    u_short                   keywords_len;
    u_short                   tag_len;
    u_short                   rule_error_len;
    u_char                    app[NGX_VKSTREAM_APP_LEN];
    u_char                    name[NGX_VKSTREAM_NAME_LEN];
    u_char                    addr[NGX_VKSTREAM_ADDR_LEN];
    u_char                    keywords[VKS_VK_VALUE_MAX];
    u_char                    tag[VKS_VK_TAG_MAX];

    ngx_uint_t                rule_state;
    ngx_int_t                 rule_code;
    u_char                    rule_error[NGX_VKSTREAM_ERROR_LEN];

    uint64_t                  matches_total;
    uint64_t                  match_last_id;
    ngx_uint_t                nmatches;    /* in the ring, <= capacity */
    ngx_uint_t                match_head;  /* next slot to write */

    ngx_uint_t                nactions;
    ngx_vkstream_pending_t    actions[NGX_VKSTREAM_MAX_ACTIONS];

    ngx_flag_t                has_stats;
    ngx_flag_t                transcoding; /* holds a server-wide slot */
    ngx_flag_t                llhls;       /* its app writes LL-HLS */
    vks_stream_stats_t        stats;

    /* cluster mode: another node's stream, copied from Redis (pid 0) */
    ngx_flag_t                remote;
    uint64_t                  remote_id;   /* its id on its node */
    u_short                   node_len;
    u_short                   node_url_len;
    u_char                    node[NGX_VKSTREAM_NODE_LEN];
    u_char                    node_url[NGX_VKSTREAM_URL_LEN];

    ngx_vkstream_match_t     *ring;        /* matches_per_stream slots */
} ngx_vkstream_stream_t;


typedef struct {
    u_short                   tag_len;
    u_short                   value_len;
    u_short                   error_len;
    ngx_uint_t                state;
    ngx_int_t                 code;
    u_char                    tag[VKS_VK_TAG_MAX];
    u_char                    value[VKS_VK_VALUE_MAX];
    u_char                    error[NGX_VKSTREAM_ERROR_LEN];
} ngx_vkstream_grule_t;


/* global VK client state: set whole by the VK client, read by the API */
typedef struct {
    ngx_uint_t                state;       /* NGX_VKSTREAM_VK_* */
    time_t                    since;       /* of the current state */
    ngx_pid_t                 pid;         /* worker running the client */
    uint64_t                  received;    /* events received */
    uint64_t                  stored;
    uint64_t                  dropped;     /* oversized, unrouted */
    uint64_t                  malformed;
    uint64_t                  reconnects;
    ngx_int_t                 service_code;   /* last service message */
    u_short                   endpoint_len;
    u_short                   service_message_len;
    u_short                   last_error_len;
    u_char                    endpoint[NGX_VKSTREAM_URL_LEN];
    u_char                    service_message[NGX_VKSTREAM_ERROR_LEN];
    u_char                    last_error[NGX_VKSTREAM_ERROR_LEN];
} ngx_vkstream_vk_state_t;


typedef struct {
    uint64_t                  seq;         /* from 1, SSE "id:" */
    ngx_uint_t                type;        /* NGX_VKSTREAM_EV_* */
    uint64_t                  stream_id;
    time_t                    time;
    ngx_uint_t                state;       /* rendition or rule state */
    uint64_t                  match_id;
    u_short                   app_len;
    u_short                   name_len;
    u_short                   suffix_len;  /* or rule tag length */
    u_char                    app[NGX_VKSTREAM_APP_LEN];
    u_char                    name[NGX_VKSTREAM_NAME_LEN];
    u_char                    suffix[VKS_VK_TAG_MAX];
} ngx_vkstream_event_t;


/* cluster mode: a node as the cluster view shows it */
typedef struct {
    u_short                   name_len;
    u_short                   url_len;
    u_short                   version_len;
    u_char                    name[NGX_VKSTREAM_NODE_LEN];
    u_char                    url[NGX_VKSTREAM_URL_LEN];
    u_char                    version[16];
    ngx_uint_t                live;
    ngx_uint_t                transcodes;
    ngx_uint_t                max_transcodes;
    double                    cpu_busy;    /* 0..1 */
    uint64_t                  heartbeat_ms;
    ngx_flag_t                vk;          /* holds the VK lease */
    ngx_flag_t                self;
} ngx_vkstream_node_t;


#define NGX_VKSTREAM_CLUSTER_CONNECTING    0
#define NGX_VKSTREAM_CLUSTER_CONNECTED     1
#define NGX_VKSTREAM_CLUSTER_DISCONNECTED  2

/* cluster mode: set whole by the node's agent glue, read by the API */
typedef struct {
    ngx_flag_t                enabled;
    ngx_uint_t                state;       /* NGX_VKSTREAM_CLUSTER_* */
    uint64_t                  since_ms;
    uint64_t                  token;       /* fencing token while ours */
    ngx_flag_t                mine;
    u_short                   node_len;
    u_short                   redis_len;
    u_short                   holder_len;
    u_short                   last_error_len;
    u_char                    node[NGX_VKSTREAM_NODE_LEN];
    u_char                    redis[NGX_VKSTREAM_URL_LEN];  /* redacted */
    u_char                    holder[NGX_VKSTREAM_NODE_LEN];
    u_char                    last_error[NGX_VKSTREAM_ERROR_LEN];
    uint64_t                  heartbeats;
    uint64_t                  reconnects;
    uint64_t                  errors;
    uint64_t                  sent;
    uint64_t                  received;
    uint64_t                  dropped;
    uint64_t                  invalid;
    uint64_t                  acquisitions;
    uint64_t                  losses;
    ngx_uint_t                nnodes;
    ngx_vkstream_node_t       nodes[NGX_VKSTREAM_MAX_NODES];
} ngx_vkstream_cluster_t;


/* another node's live stream, for ngx_vkstream_table_remote_sync() */
typedef struct {
    uint64_t                  remote_id;
    time_t                    start;
    ngx_str_t                 app;
    ngx_str_t                 name;
    ngx_str_t                 addr;
    ngx_str_t                 keywords;
    ngx_str_t                 tag;
    ngx_uint_t                rule_state;
    ngx_flag_t                transcoding;
    ngx_flag_t                llhls;
    vks_stream_stats_t       *stats;       /* NULL: none yet */
} ngx_vkstream_remote_t;


/* an action on another node's stream, to send through Redis */
typedef struct {
    ngx_str_t                 node;
    ngx_str_t                 app;
    ngx_str_t                 name;
    ngx_str_t                 suffix;
    ngx_str_t                 keywords;
    ngx_uint_t                action;      /* NGX_VKSTREAM_ACTION_* */
} ngx_vkstream_remote_action_t;


/* SSE fan-out counters, all workers (ngx_vkstream_wake.c) */
typedef struct {
    uint64_t                  subscribers;    /* open /events streams */
    uint64_t                  blocked;     /* of them, output waiting */
    uint64_t                  sent;        /* wake-ups sent to a worker */
    uint64_t                  wakeups;     /* looks because the id moved */
    uint64_t                  timer_wakeups;  /* by a worker's SSE timer */
} ngx_vkstream_wake_stats_t;


/* a summary for /status and /metrics */
typedef struct {
    size_t                    zone_size;
    size_t                    zone_free;
    ngx_uint_t                streams_live;    /* this node's */
    ngx_uint_t                streams_ended;
    ngx_uint_t                streams_remote;  /* other nodes' live ones */
    ngx_uint_t                transcodes;      /* holding a slot */
    ngx_uint_t                max_transcodes;  /* the last limit applied */
    ngx_uint_t                matches_per_stream;
    uint64_t                  publishes;   /* recorded or not */
    uint64_t                  closes;
    uint64_t                  not_recorded;   /* table full */
    uint64_t                  event_seq;
    uint64_t                  rules_generation;
    uint64_t                  global_matches;
    ngx_uint_t                nrules;
    ngx_vkstream_vk_state_t   vk;
    ngx_vkstream_wake_stats_t sse;
} ngx_vkstream_summary_t;


/* --- RTMP side ---------------------------------------------------------- */

/*
 * Returns NGX_OK and an id, or NGX_DECLINED when the table is full
 * (logged at warn once; /status counts what was not recorded).  "llhls":
 * the application writes LL-HLS (the API then lists its URLs).
 */
ngx_int_t ngx_vkstream_table_publish(ngx_str_t *app, ngx_str_t *name,
    ngx_str_t *addr, ngx_str_t *keywords, ngx_flag_t llhls, ngx_uint_t *id);
void ngx_vkstream_table_update(ngx_uint_t id, vks_stream_stats_t *stats);
void ngx_vkstream_table_close(ngx_uint_t id);   /* starts the linger */

/*
 * Takes one of "max" transcode slots shared by all workers for the stream:
 * NGX_OK, or NGX_DECLINED when live streams already hold them all.  The
 * slot is freed when the stream ends (or its worker dies).
 */
ngx_int_t ngx_vkstream_table_claim_transcode(ngx_uint_t id, ngx_uint_t max);

/*
 * Control actions are stored in the stream's entry; every worker polls the
 * table (a cancelable timer) and calls this handler for streams it owns.
 * The owning worker's requests call it at once.
 */
void ngx_vkstream_table_set_action_handler(ngx_vkstream_action_pt handler);


/* --- VK client -------------------------------------------------------------
 *
 * Desired rules = every live stream with keywords (tag
 * "vks:<id>:<app>/<name>", escaped and cut to VKS_VK_TAG_MAX bytes,
 * value = keywords)
 * plus the global rules set through the HTTP API.  The generation grows on
 * every change, so the client can poll it cheaply and fetch the whole set
 * only when it moved.  Static rules from the client's own configuration are
 * the client's business (it may add them with ..._rule_add()).
 */

typedef struct {
    ngx_str_t                 tag;
    ngx_str_t                 value;
    uint64_t                  stream_id;   /* 0: a global rule */
} ngx_vkstream_rule_t;

uint64_t ngx_vkstream_table_rules_generation(void);
/* fills "rules" (an array of ngx_vkstream_rule_t allocated from pool) */
ngx_int_t ngx_vkstream_table_rules(ngx_pool_t *pool, ngx_array_t *rules,
    uint64_t *generation);
/* NGX_VKSTREAM_RULE_*, VK's error code (0) and message (or NULL) */
void ngx_vkstream_table_rule_state(ngx_str_t *tag, ngx_uint_t state,
    ngx_int_t code, ngx_str_t *error);

/*
 * Files a match under the stream whose rule has this tag (its ring keeps
 * the last vkstream_matches) or, for a global rule's tag, in the global
 * ring.  NGX_DECLINED: no stream or rule has the tag.
 */
ngx_int_t ngx_vkstream_table_add_match(ngx_str_t *tag,
    ngx_vkstream_match_in_t *m);
void ngx_vkstream_table_set_vk_state(ngx_vkstream_vk_state_t *vk);


/* --- HTTP API ------------------------------------------------------------ */

/* copies (ring NULL) of all entries, newest first */
ngx_int_t ngx_vkstream_table_streams(ngx_pool_t *pool, ngx_array_t *out);
/*
 * Copies the newest entry (a live one first) for app/name and up to
 * "limit" of its matches with an id above "after", oldest first.
 * NGX_DECLINED: no such stream.  A NULL app/name means the global ring.
 */
ngx_int_t ngx_vkstream_table_stream(ngx_pool_t *pool, ngx_str_t *app,
    ngx_str_t *name, ngx_vkstream_stream_t *st, ngx_array_t *matches,
    uint64_t after, ngx_uint_t limit);
/* NULL keywords or empty clears them; NGX_DECLINED: no live stream */
ngx_int_t ngx_vkstream_table_set_keywords(ngx_str_t *app, ngx_str_t *name,
    ngx_str_t *keywords);
/*
 * NGX_OK: done in this worker; NGX_AGAIN: stored for the owning worker;
 * NGX_DECLINED: no live stream; NGX_ABORT: no such rendition;
 * NGX_BUSY: too many requests pending.
 */
ngx_int_t ngx_vkstream_table_request(ngx_str_t *app, ngx_str_t *name,
    ngx_uint_t action, ngx_str_t *suffix);

/* global rules: NGX_OK, NGX_BUSY (full), NGX_DECLINED (unknown tag) */
ngx_int_t ngx_vkstream_table_rule_add(ngx_str_t *tag, ngx_str_t *value);
ngx_int_t ngx_vkstream_table_rule_delete(ngx_str_t *tag);
ngx_int_t ngx_vkstream_table_global_rules(ngx_pool_t *pool,
    ngx_array_t *out);

/*
 * Copies up to "max" events with seq > after into out[], oldest first;
 * *first is the oldest seq still in the backlog (a gap when after + 1 is
 * older), *last the newest.  Returns the number copied.
 */
ngx_uint_t ngx_vkstream_table_events(uint64_t after,
    ngx_vkstream_event_t *out, ngx_uint_t max, uint64_t *first,
    uint64_t *last);
ngx_int_t ngx_vkstream_table_summary(ngx_vkstream_summary_t *sum);

const char *ngx_vkstream_event_name(ngx_uint_t type);
const char *ngx_vkstream_rule_state_name(ngx_uint_t state);
const char *ngx_vkstream_vk_state_name(ngx_uint_t state);
const char *ngx_vkstream_rendition_state_name(ngx_uint_t state);


/* --- cluster mode (ngx_vkstream_cluster.c) -------------------------------
 *
 * Other nodes' live streams are entries too ("remote", pid 0), so the API,
 * SSE, matches and the VK holder's rule set see them like local ones; no
 * transcoding slot, no metrics.  Actions on them wait in the entry for the
 * cluster glue to send.
 */

/* a generation that moves with this node's own changes (not remote ones) */
uint64_t ngx_vkstream_table_local_generation(void);
/* and with the global rules changed through the API */
uint64_t ngx_vkstream_table_global_generation(void);

/* the node's live set of streams: new ones added, others ended */
void ngx_vkstream_table_remote_sync(ngx_str_t *node, ngx_str_t *url,
    ngx_vkstream_remote_t *streams, ngx_uint_t n);
/* ends the remote streams of every node not in nodes[] (n 0: all) */
void ngx_vkstream_table_remote_keep(ngx_str_t *nodes, ngx_uint_t n);
/* takes the actions waiting on remote streams (pool copies) */
ngx_int_t ngx_vkstream_table_remote_actions(ngx_pool_t *pool,
    ngx_array_t *out);
/* the global rules from Redis replace ours; returns the new generation */
uint64_t ngx_vkstream_table_rules_replace(ngx_str_t *tags,
    ngx_str_t *values, ngx_uint_t n);

void ngx_vkstream_table_set_cluster(ngx_vkstream_cluster_t *c);
ngx_int_t ngx_vkstream_table_cluster(ngx_vkstream_cluster_t *c);


/* --- SSE fan-out (ngx_vkstream_wake.c) -----------------------------------
 *
 * A slot per worker (by pid) that says how many SSE subscribers it has, how
 * many of them wait for their socket to take more, and whether a wake-up
 * was sent to it and not yet read, so that a writer wakes each worker once
 * per batch of events, and only workers that listen.
 */

/* claims this worker's slot (a free one, or one of a dead worker) */
ngx_int_t ngx_vkstream_table_wake_join(ngx_uint_t *slot);
void ngx_vkstream_table_wake_leave(ngx_uint_t slot);
/* adds to the slot's subscribers and blocked ones */
void ngx_vkstream_table_wake_count(ngx_uint_t slot, ngx_int_t subscribers,
    ngx_int_t blocked);
/*
 * The other workers to wake (pids[], at most NGX_VKSTREAM_WAKE_SLOTS),
 * marked as woken; *self: this worker's slot has subscribers.
 */
ngx_uint_t ngx_vkstream_table_wake_targets(ngx_uint_t slot, ngx_pid_t *pids,
    ngx_flag_t *self);
/* a wake-up could not be sent: try again next time, or the worker is gone */
void ngx_vkstream_table_wake_failed(ngx_pid_t pid, ngx_flag_t gone);
/* this worker looks at the events now: later ones wake it again */
void ngx_vkstream_table_wake_ack(ngx_uint_t slot, ngx_flag_t timer);


/* --- core module --------------------------------------------------------- */

char *ngx_vkstream_table_init_conf(ngx_cycle_t *cycle);
ngx_int_t ngx_vkstream_table_init_process(ngx_cycle_t *cycle);
size_t ngx_vkstream_table_min_size(ngx_uint_t matches);


#endif /* _NGX_VKSTREAM_TABLE_H_INCLUDED_ */
