
/*
 * vkstream HTTP API: GET /events, Server-Sent Events from the table's
 * backlog.  The request stays open.  Each worker keeps its subscribers in
 * one list and looks at the table only when the event id moved: woken by
 * ngx_vkstream_wake.c, whichever worker wrote the event.  It renders each
 * new event once and copies the text to every subscriber that is not
 * blocked; a blocked one goes on from its write handler.  One timer per
 * worker (not per subscriber) sends the heartbeats and looks at the table
 * too, which bounds a lost wake-up to one heartbeat interval.
 */


#include "ngx_http_vkstream.h"
#include "ngx_vkstream.h"
#include "ngx_vkstream_wake.h"


#define NGX_HTTP_VKSTREAM_SSE_POLL       20      /* ms, if never woken */
#define NGX_HTTP_VKSTREAM_SSE_BATCH      32      /* events per write */
#define NGX_HTTP_VKSTREAM_SSE_STALL      30000   /* ms, client not reading */


typedef struct {
    ngx_queue_t               queue;       /* in the worker's list */
    ngx_http_request_t       *request;
    ngx_event_t               stall;       /* set while output is blocked */
    ngx_event_t               start;       /* posted: the resumed backlog */
    uint64_t                  last;        /* last id sent */
    ngx_msec_t                written;     /* last write */
    ngx_flag_t                blocked;     /* counted as such in shm */
    ngx_pool_t               *pool;        /* the text of the last write */
    ngx_buf_t                 buf;         /* lives as long as the request:
                                              filters keep pointers to it */
} ngx_http_vkstream_sse_t;


/* an event as SSE text, rendered once per worker */
typedef struct {
    uint64_t                  seq;         /* 0: none */
    size_t                    len;
    u_char                   *data;
} ngx_http_vkstream_sse_text_t;


/* per worker */
typedef struct {
    ngx_queue_t               subs;        /* by last write, oldest first */
    ngx_uint_t                nsubs;
    ngx_flag_t                polling;     /* cannot be woken */
    ngx_event_t               timer;       /* heartbeats, safety */
    uint64_t                  first;       /* the table's backlog at the */
    uint64_t                  last;        /* last look */
    ngx_http_vkstream_sse_text_t  texts[NGX_VKSTREAM_EVENTS];
} ngx_http_vkstream_sse_hub_t;


static void ngx_http_vkstream_sse_woken(void);
static void ngx_http_vkstream_sse_timer(ngx_event_t *ev);
static void ngx_http_vkstream_sse_stalled(ngx_event_t *ev);
static void ngx_http_vkstream_sse_start(ngx_event_t *ev);
static void ngx_http_vkstream_sse_caught_up(ngx_http_vkstream_sse_t *sse);
static void ngx_http_vkstream_sse_cleanup(void *data);
static void ngx_http_vkstream_sse_write_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_vkstream_sse_send(ngx_http_request_t *r,
    ngx_chain_t *out);
static void ngx_http_vkstream_sse_push(ngx_http_vkstream_sse_t *sse,
    ngx_flag_t keepalive);
static void ngx_http_vkstream_sse_arm(void);


static ngx_http_vkstream_sse_hub_t  ngx_http_vkstream_sse_hub;


static ngx_msec_t
ngx_http_vkstream_sse_heartbeat(void)
{
    return ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle)->sse_heartbeat;
}


static ngx_int_t
ngx_http_vkstream_sse_last_event_id(ngx_http_request_t *r, uint64_t *id)
{
    ngx_int_t         n;
    ngx_str_t         v;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Last-Event-ID") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Last-Event-ID",
                               sizeof("Last-Event-ID") - 1) == 0)
        {
            n = ngx_atoi(h[i].value.data, h[i].value.len);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            *id = n;
            return NGX_OK;
        }
    }

    /* EventSource cannot set headers on the first connection */
    if (ngx_http_arg(r, (u_char *) "last_event_id", 13, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        *id = n;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* renders the events from "from" on that are not rendered yet */
static void
ngx_http_vkstream_sse_look(uint64_t from)
{
    char                          *data;
    size_t                         len;
    json_t                        *j;
    uint64_t                       seq, first, last;
    ngx_uint_t                     i, n;
    ngx_vkstream_event_t           evs[NGX_HTTP_VKSTREAM_SSE_BATCH];
    ngx_http_vkstream_sse_hub_t   *hub;
    ngx_http_vkstream_sse_text_t  *t;

    hub = &ngx_http_vkstream_sse_hub;

    (void) ngx_vkstream_table_events(0, NULL, 0, &hub->first, &hub->last);

    seq = ngx_max(from, hub->first);

    while (seq <= hub->last) {

        if (hub->texts[seq % NGX_VKSTREAM_EVENTS].seq == seq) {
            seq++;
            continue;
        }

        n = ngx_vkstream_table_events(seq - 1, evs,
                                      NGX_HTTP_VKSTREAM_SSE_BATCH, &first,
                                      &last);
        if (n == 0) {
            break;
        }

        for (i = 0; i < n; i++) {
            t = &hub->texts[evs[i].seq % NGX_VKSTREAM_EVENTS];

            if (t->seq == evs[i].seq) {
                continue;
            }

            if (t->data) {
                ngx_free(t->data);
                t->data = NULL;
            }

            t->seq = 0;

            j = ngx_http_vkstream_json_event(&evs[i]);
            if (j == NULL) {
                continue;
            }

            data = json_dumps(j, NGX_HTTP_VKSTREAM_JSON_FLAGS);
            json_decref(j);

            if (data == NULL) {
                continue;
            }

            len = ngx_strlen(data);

            t->data = ngx_alloc(len + 64 + NGX_INT64_LEN, ngx_cycle->log);
            if (t->data == NULL) {
                free(data);
                continue;
            }

            /* compact JSON has no newline, so one "data:" line suffices */
            t->len = ngx_sprintf(t->data, "id: %uL\nevent: %s\ndata: %s\n\n",
                                 evs[i].seq,
                                 ngx_vkstream_event_name(evs[i].type), data)
                     - t->data;
            t->seq = evs[i].seq;

            free(data);
        }

        seq = evs[n - 1].seq + 1;
    }
}


ngx_int_t
ngx_http_vkstream_events(ngx_http_request_t *r)
{
    uint64_t                      first, last;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_str_t                     type = ngx_string("text/event-stream; "
                                                    "charset=utf-8");
    ngx_chain_t                   out;
    ngx_table_elt_t              *h;
    ngx_pool_cleanup_t           *cln;
    ngx_http_vkstream_ctx_t      *ctx;
    ngx_http_vkstream_sse_t      *sse;
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_vkstream_sse_hub_t  *hub;

    sse = ngx_pcalloc(r->pool, sizeof(ngx_http_vkstream_sse_t));
    if (sse == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_vkstream_sse_last_event_id(r, &sse->last);

    if (rc == NGX_ERROR) {
        return ngx_http_vkstream_error(r, NGX_HTTP_BAD_REQUEST,
                                       "bad_argument",
                                       "Last-Event-ID must be a number");
    }

    (void) ngx_vkstream_table_events(0, NULL, 0, &first, &last);

    if (rc == NGX_DECLINED) {
        /* a new subscriber gets what happens from now on */
        sse->last = last;

    } else if (sse->last > last) {
        /* an id from before a restart: all we have is news to it */
        sse->last = 0;
    }

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    /*
     * Events are small writes: with Nagle's algorithm one written while
     * the previous one waits for the client's (delayed) ACK waits too.
     * nginx sets TCP_NODELAY only on keepalive connections.
     */
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(r->connection) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* tell a proxy in front of us not to buffer the stream */
    h->hash = 1;
    ngx_str_set(&h->key, "X-Accel-Buffering");
    ngx_str_set(&h->value, "no");

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_length_n = -1;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-cache");

    /* which worker serves the stream, as on every API answer */
    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-VKStream-Worker");
    h->value.len = ngx_sprintf(h->value.data, "%P", ngx_pid) - h->value.data;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = (u_char *) "retry: 1000\n\n";
    b->last = b->pos + sizeof("retry: 1000\n\n") - 1;
    b->memory = 1;
    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_output_filter(r, &out);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    sse->pool = ngx_create_pool(1024, r->connection->log);
    if (sse->pool == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(sse->pool);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_vkstream_sse_cleanup;
    cln->data = sse;

    sse->request = r;
    sse->written = ngx_current_msec;

    sse->stall.handler = ngx_http_vkstream_sse_stalled;
    sse->stall.data = sse;
    sse->stall.log = r->connection->log;
    sse->stall.cancelable = 1;   /* does not hold a worker that quits */

    sse->start.handler = ngx_http_vkstream_sse_start;
    sse->start.data = sse;
    sse->start.log = r->connection->log;

    ctx = ngx_http_get_module_ctx(r, ngx_http_vkstream_module);
    if (ctx != NULL) {
        ctx->sse = sse;
    }

    hub = &ngx_http_vkstream_sse_hub;

    if (hub->nsubs == 0) {
        ngx_queue_init(&hub->subs);

        hub->timer.handler = ngx_http_vkstream_sse_timer;
        hub->timer.log = ngx_cycle->log;
        hub->timer.cancelable = 1;
    }

    hub->polling = (ngx_vkstream_wake_subscribe(ngx_http_vkstream_sse_woken)
                    != NGX_OK);
    hub->nsubs++;
    ngx_queue_insert_tail(&hub->subs, &sse->queue);

    /*
     * A worker that quits exits as soon as only cancelable timers are
     * left: marked idle, the connection is closed by
     * ngx_close_idle_connections() at the quit instead of being left open
     * ("open socket left" alert).
     */
    r->connection->idle = 1;

    /* a client that closes the connection ends the request */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_vkstream_sse_write_handler;

    r->main->count++;

    /* a resumed stream gets the backlog at once, once this returned */
    if (sse->last < last) {
        ngx_post_event(&sse->start, &ngx_posted_events);
    }

    if (!hub->timer.timer_set) {
        ngx_add_timer(&hub->timer, hub->polling
                                   ? NGX_HTTP_VKSTREAM_SSE_POLL
                                   : ngx_http_vkstream_sse_heartbeat());
    }

    return NGX_DONE;
}


static void
ngx_http_vkstream_sse_cleanup(void *data)
{
    ngx_http_vkstream_sse_t  *sse = data;

    ngx_http_vkstream_sse_hub_t  *hub;

    hub = &ngx_http_vkstream_sse_hub;

    ngx_queue_remove(&sse->queue);
    hub->nsubs--;
    ngx_vkstream_wake_unsubscribe(sse->blocked);

    if (hub->nsubs == 0 && hub->timer.timer_set) {
        ngx_del_timer(&hub->timer);
    }

    if (sse->stall.timer_set) {
        ngx_del_timer(&sse->stall);
    }

    if (sse->start.posted) {
        ngx_delete_posted_event(&sse->start);
    }

    ngx_destroy_pool(sse->pool);
}


static ngx_int_t
ngx_http_vkstream_sse_send(ngx_http_request_t *r, ngx_chain_t *out)
{
    ngx_int_t  rc;

    rc = ngx_http_output_filter(r, out);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ngx_handle_write_event(r->connection->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return rc;
}


static ngx_flag_t
ngx_http_vkstream_sse_blocked(ngx_http_request_t *r)
{
    return r->out != NULL || r->connection->buffered;
}


static void
ngx_http_vkstream_sse_write_handler(ngx_http_request_t *r)
{
    off_t                     sent;
    ngx_http_vkstream_ctx_t  *ctx;
    ngx_http_vkstream_sse_t  *sse;

    if (!ngx_http_vkstream_sse_blocked(r)) {
        /* writable again, nothing was waiting */
        return;
    }

    sent = r->connection->sent;

    if (ngx_http_vkstream_sse_send(r, NULL) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_vkstream_module);
    if (ctx == NULL || ctx->sse == NULL) {
        return;
    }

    sse = ctx->sse;

    if (ngx_http_vkstream_sse_blocked(r)) {
        if (r->connection->sent > sent) {
            /* it reads, slowly: only one that reads nothing is stalled */
            ngx_add_timer(&sse->stall, NGX_HTTP_VKSTREAM_SSE_STALL);
        }

        return;
    }

    /*
     * Drained: what came meanwhile follows.  It stays counted as blocked
     * unless push catches up: one that blocks again at once is not
     * uncounted and counted again under the table's lock.
     */

    if (sse->stall.timer_set) {
        ngx_del_timer(&sse->stall);
    }

    ngx_http_vkstream_sse_push(sse, 0);
}


static void
ngx_http_vkstream_sse_start(ngx_event_t *ev)
{
    ngx_http_vkstream_sse_t  *sse = ev->data;

    ngx_connection_t  *c;

    c = sse->request->connection;

    ngx_http_vkstream_sse_look(sse->last + 1);
    ngx_http_vkstream_sse_push(sse, 0);

    /* not called from the connection's handler: a close is ours to run */
    ngx_http_run_posted_requests(c);

    ngx_http_vkstream_sse_arm();
}


static void
ngx_http_vkstream_sse_stalled(ngx_event_t *ev)
{
    ngx_http_vkstream_sse_t  *sse = ev->data;

    ngx_connection_t  *c;

    c = sse->request->connection;

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "vkstream: SSE client stalled, closing");

    /*
     * The error is posted (ngx_http_terminate_request()) and would wait
     * for an event on a connection whose client does nothing.
     */
    ngx_http_finalize_request(sse->request, NGX_ERROR);
    ngx_http_run_posted_requests(c);
}


/*
 * Writes what the subscriber has not had yet, from the rendered texts, a
 * batch at a time until it is up to date or its connection is blocked.
 */
static void
ngx_http_vkstream_sse_push(ngx_http_vkstream_sse_t *sse,
    ngx_flag_t keepalive)
{
    size_t                         size;
    uint64_t                       seq, from, to;
    ngx_buf_t                     *b;
    ngx_chain_t                    out;
    ngx_connection_t              *c;
    ngx_http_request_t            *r;
    ngx_http_vkstream_sse_hub_t   *hub;
    ngx_http_vkstream_sse_text_t  *t;

    hub = &ngx_http_vkstream_sse_hub;
    r = sse->request;
    c = r->connection;

    if (ngx_exiting || ngx_terminate || c->error) {
        /* the stream ends; EventSource reconnects elsewhere */
        r->keepalive = 0;
        ngx_http_finalize_request(r, c->error ? NGX_ERROR
                                  : ngx_http_send_special(r, NGX_HTTP_LAST));
        return;
    }

    for ( ;; ) {

        if (ngx_http_vkstream_sse_blocked(r)) {
            /* the write handler goes on; the backlog stays in shm */
            if (!sse->stall.timer_set) {
                ngx_add_timer(&sse->stall, NGX_HTTP_VKSTREAM_SSE_STALL);
            }

            if (!sse->blocked) {
                sse->blocked = 1;
                ngx_vkstream_wake_blocked(1);
            }

            /* not a heartbeat's business until it writes again */
            sse->written = ngx_current_msec;
            ngx_queue_remove(&sse->queue);
            ngx_queue_insert_tail(&hub->subs, &sse->queue);
            return;
        }

        from = sse->last + 1;
        to = ngx_min(hub->last, sse->last + NGX_HTTP_VKSTREAM_SSE_BATCH);

        if (from > to && !keepalive) {
            ngx_http_vkstream_sse_caught_up(sse);
            return;
        }

        /* everything written before is out: its text can go */
        ngx_reset_pool(sse->pool);

        size = 0;

        if (from < hub->first) {
            size += 64 + 2 * NGX_INT64_LEN;
            from = hub->first;
            to = ngx_min(hub->last, from + NGX_HTTP_VKSTREAM_SSE_BATCH - 1);
        }

        for (seq = from; seq <= to; seq++) {
            t = &hub->texts[seq % NGX_VKSTREAM_EVENTS];
            size += (t->seq == seq) ? t->len : 0;
        }

        if (keepalive) {
            size += sizeof(": keepalive\n\n") - 1;
        }

        b = &sse->buf;
        ngx_memzero(b, sizeof(ngx_buf_t));

        b->start = ngx_palloc(sse->pool, size);
        if (b->start == NULL) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        b->pos = b->start;
        b->last = b->start;
        b->end = b->start + size;
        b->temporary = 1;
        b->flush = 1;

        if (sse->last + 1 < from) {
            /* lost: older than the backlog keeps */
            b->last = ngx_sprintf(b->last, "event: gap\ndata: {\"from\":%uL,"
                                  "\"to\":%uL}\n\n", sse->last + 1,
                                  from - 1);
        }

        for (seq = from; seq <= to; seq++) {
            t = &hub->texts[seq % NGX_VKSTREAM_EVENTS];

            if (t->seq == seq) {
                b->last = ngx_cpymem(b->last, t->data, t->len);
            }
        }

        if (to >= from) {
            sse->last = to;
        }

        if (keepalive && b->last == b->pos) {
            b->last = ngx_cpymem(b->last, ": keepalive\n\n",
                                 sizeof(": keepalive\n\n") - 1);
        }

        keepalive = 0;

        out.buf = b;
        out.next = NULL;

        sse->written = ngx_current_msec;
        ngx_queue_remove(&sse->queue);
        ngx_queue_insert_tail(&hub->subs, &sse->queue);

        if (ngx_http_vkstream_sse_send(r, &out) == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        if (sse->last >= hub->last && !ngx_http_vkstream_sse_blocked(r)) {
            ngx_http_vkstream_sse_caught_up(sse);
            return;
        }
    }
}


/* everything it was given is in its socket */
static void
ngx_http_vkstream_sse_caught_up(ngx_http_vkstream_sse_t *sse)
{
    if (sse->blocked) {
        sse->blocked = 0;
        ngx_vkstream_wake_blocked(-1);
    }
}


/*
 * Serves every subscriber of this worker: those with something new, and
 * with "heartbeat" those quiet for most of the heartbeat interval.
 */
static void
ngx_http_vkstream_sse_run(ngx_flag_t heartbeat)
{
    uint64_t                      from;
    ngx_msec_t                    quiet;
    ngx_queue_t                  *q, *next, *tail;
    ngx_connection_t             *c;
    ngx_http_vkstream_sse_t      *sse;
    ngx_http_vkstream_sse_hub_t  *hub;

    hub = &ngx_http_vkstream_sse_hub;

    if (hub->nsubs == 0) {
        return;
    }

    from = (uint64_t) -1;

    for (q = ngx_queue_head(&hub->subs);
         q != ngx_queue_sentinel(&hub->subs);
         q = ngx_queue_next(q))
    {
        sse = ngx_queue_data(q, ngx_http_vkstream_sse_t, queue);
        from = ngx_min(from, sse->last + 1);
    }

    ngx_http_vkstream_sse_look(from);

    /* several subscribers' heartbeats in one go: those 3/4 due */
    quiet = ngx_http_vkstream_sse_heartbeat();
    quiet -= quiet / 4;

    /* a push moves its subscriber to the tail: walk the list as it was */
    tail = ngx_queue_last(&hub->subs);

    for (q = ngx_queue_head(&hub->subs); /* void */; q = next) {
        next = ngx_queue_next(q);
        sse = ngx_queue_data(q, ngx_http_vkstream_sse_t, queue);
        c = sse->request->connection;

        ngx_http_vkstream_sse_push(sse, heartbeat
                                   && ngx_current_msec - sse->written
                                      >= quiet);

        /* a subscriber that ended is closed now: it unlinks only itself */
        ngx_http_run_posted_requests(c);

        if (q == tail) {
            break;
        }
    }
}


static void
ngx_http_vkstream_sse_arm(void)
{
    ngx_msec_t                    hb, quiet;
    ngx_http_vkstream_sse_t      *sse;
    ngx_http_vkstream_sse_hub_t  *hub;

    hub = &ngx_http_vkstream_sse_hub;

    if (hub->nsubs == 0) {
        return;
    }

    if (hub->polling) {
        ngx_add_timer(&hub->timer, NGX_HTTP_VKSTREAM_SSE_POLL);
        return;
    }

    /* the quietest subscriber is the first one due */
    sse = ngx_queue_data(ngx_queue_head(&hub->subs),
                         ngx_http_vkstream_sse_t, queue);

    hb = ngx_http_vkstream_sse_heartbeat();
    quiet = ngx_current_msec - sse->written;

    ngx_add_timer(&hub->timer, quiet < hb ? hb - quiet : 1);
}


/* the event id moved (ngx_vkstream_wake.c) */
static void
ngx_http_vkstream_sse_woken(void)
{
    ngx_http_vkstream_sse_run(0);
    ngx_http_vkstream_sse_arm();
}


static void
ngx_http_vkstream_sse_timer(ngx_event_t *ev)
{
    ngx_http_vkstream_sse_hub_t  *hub;

    hub = &ngx_http_vkstream_sse_hub;

    if (ngx_exiting || ngx_terminate) {
        /* the connections are idle ones: the quit closes them */
        return;
    }

    if (hub->nsubs == 0) {
        return;
    }

    /* also a look at the table in case a wake-up was lost */
    ngx_vkstream_wake_ack(1);

    ngx_http_vkstream_sse_run(1);
    ngx_http_vkstream_sse_arm();
}
