
/*
 * vkstream HTTP API: GET /events, Server-Sent Events from the table's
 * backlog.  The request stays open; a timer per connection polls the
 * event sequence in shared memory, so no worker ever blocks and an event
 * written by any worker reaches every subscriber.
 */


#include "ngx_http_vkstream.h"


#define NGX_HTTP_VKSTREAM_SSE_POLL       20      /* ms: bounds event latency */
#define NGX_HTTP_VKSTREAM_SSE_BATCH      32
#define NGX_HTTP_VKSTREAM_SSE_KEEPALIVE  15000   /* ms, a comment line */
#define NGX_HTTP_VKSTREAM_SSE_STALL      30000   /* ms, client not reading */


typedef struct {
    ngx_http_request_t       *request;
    ngx_event_t               timer;
    uint64_t                  last;        /* last id sent */
    ngx_msec_t                written;     /* last write */
    ngx_msec_t                stalled;     /* output blocked since, or 0 */
    ngx_pool_t               *pool;        /* buffers of the last batch */
} ngx_http_vkstream_sse_t;


static void ngx_http_vkstream_sse_poll(ngx_event_t *ev);
static void ngx_http_vkstream_sse_cleanup(void *data);
static void ngx_http_vkstream_sse_write_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_vkstream_sse_send(ngx_http_request_t *r,
    ngx_chain_t *out);


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


ngx_int_t
ngx_http_vkstream_events(ngx_http_request_t *r)
{
    uint64_t                  first, last;
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_str_t                 type = ngx_string("text/event-stream; "
                                                "charset=utf-8");
    ngx_chain_t               out;
    ngx_table_elt_t          *h;
    ngx_pool_cleanup_t       *cln;
    ngx_http_vkstream_sse_t  *sse;

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

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_vkstream_sse_cleanup;
    cln->data = sse;

    sse->request = r;
    sse->written = ngx_current_msec;

    sse->timer.handler = ngx_http_vkstream_sse_poll;
    sse->timer.data = sse;
    sse->timer.log = r->connection->log;
    sse->timer.cancelable = 1;   /* does not hold a worker that quits */

    ngx_add_timer(&sse->timer, NGX_HTTP_VKSTREAM_SSE_POLL);

    /*
     * A worker that quits exits as soon as only cancelable timers are
     * left, before the poll could end the stream: marked idle, the
     * connection is closed by ngx_close_idle_connections() at the quit
     * instead of being left open ("open socket left" alert).
     */
    r->connection->idle = 1;

    /* a client that closes the connection ends the request */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_vkstream_sse_write_handler;

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_vkstream_sse_cleanup(void *data)
{
    ngx_http_vkstream_sse_t  *sse = data;

    if (sse->timer.timer_set) {
        ngx_del_timer(&sse->timer);
    }

    if (sse->pool) {
        ngx_destroy_pool(sse->pool);
        sse->pool = NULL;
    }
}


static void
ngx_http_vkstream_sse_write_handler(ngx_http_request_t *r)
{
    if (ngx_http_vkstream_sse_send(r, NULL) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
    }
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


static ngx_chain_t *
ngx_http_vkstream_sse_event(ngx_pool_t *pool, ngx_vkstream_event_t *ev)
{
    char         *data;
    size_t        len;
    json_t       *j;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    j = ngx_http_vkstream_json_event(ev);
    if (j == NULL) {
        return NULL;
    }

    /* not the pool: it lives as long as the connection */
    data = json_dumps(j, NGX_HTTP_VKSTREAM_JSON_FLAGS);
    json_decref(j);

    if (data == NULL) {
        return NULL;
    }

    len = ngx_strlen(data);

    b = ngx_create_temp_buf(pool, len + 64 + NGX_INT64_LEN);
    if (b == NULL) {
        free(data);
        return NULL;
    }

    /* compact JSON has no newline, so one "data:" line suffices */
    b->last = ngx_sprintf(b->last, "id: %uL\nevent: %s\ndata: ",
                          ev->seq, ngx_vkstream_event_name(ev->type));
    b->last = ngx_cpymem(b->last, data, len);
    b->last = ngx_cpymem(b->last, "\n\n", 2);

    free(data);

    cl = ngx_alloc_chain_link(pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    return cl;
}


static void
ngx_http_vkstream_sse_poll(ngx_event_t *ev)
{
    uint64_t                  first, last;
    ngx_uint_t                i, n;
    ngx_buf_t                *b;
    ngx_chain_t              *out, **ll, *cl;
    ngx_connection_t         *c;
    ngx_http_request_t       *r;
    ngx_vkstream_event_t      evs[NGX_HTTP_VKSTREAM_SSE_BATCH];
    ngx_http_vkstream_sse_t  *sse;

    sse = ev->data;
    r = sse->request;
    c = r->connection;

    if (ngx_exiting || ngx_terminate || c->error) {
        /* the stream ends; EventSource reconnects elsewhere */
        r->keepalive = 0;
        ngx_http_finalize_request(r, c->error ? NGX_ERROR
                                  : ngx_http_send_special(r, NGX_HTTP_LAST));
        return;
    }

    if (r->out || c->buffered) {
        /* the client is not reading: keep the backlog in shm, not here */
        if (sse->stalled == 0) {
            sse->stalled = ngx_current_msec;

        } else if (ngx_current_msec - sse->stalled
                   > NGX_HTTP_VKSTREAM_SSE_STALL)
        {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "vkstream: SSE client stalled, closing");
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        if (ngx_http_vkstream_sse_send(r, NULL) == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        ngx_add_timer(ev, NGX_HTTP_VKSTREAM_SSE_POLL);
        return;
    }

    sse->stalled = 0;

    /* all sent: the last batch's buffers can go */
    if (sse->pool) {
        ngx_destroy_pool(sse->pool);
        sse->pool = NULL;
    }

    n = ngx_vkstream_table_events(sse->last, evs,
                                  NGX_HTTP_VKSTREAM_SSE_BATCH, &first,
                                  &last);

    if (n == 0 && ngx_current_msec - sse->written
                  < NGX_HTTP_VKSTREAM_SSE_KEEPALIVE)
    {
        /* nothing to say yet */
        ngx_add_timer(ev, NGX_HTTP_VKSTREAM_SSE_POLL);
        return;
    }

    sse->pool = ngx_create_pool(4096, c->log);
    if (sse->pool == NULL) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    out = NULL;
    ll = &out;

    if (n && evs[0].seq > sse->last + 1) {
        /* lost: older than the backlog keeps */
        b = ngx_create_temp_buf(sse->pool, 64 + 2 * NGX_INT64_LEN);
        if (b == NULL) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        b->last = ngx_sprintf(b->last, "event: gap\ndata: {\"from\":%uL,"
                              "\"to\":%uL}\n\n", sse->last + 1,
                              evs[0].seq - 1);

        cl = ngx_alloc_chain_link(sse->pool);
        if (cl == NULL) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    for (i = 0; i < n; i++) {
        cl = ngx_http_vkstream_sse_event(sse->pool, &evs[i]);
        if (cl == NULL) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        *ll = cl;
        ll = &cl->next;
        sse->last = evs[i].seq;
    }

    if (out == NULL
        && ngx_current_msec - sse->written >= NGX_HTTP_VKSTREAM_SSE_KEEPALIVE)
    {
        b = ngx_calloc_buf(sse->pool);
        cl = ngx_alloc_chain_link(sse->pool);
        if (b == NULL || cl == NULL) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        b->pos = (u_char *) ": keepalive\n\n";
        b->last = b->pos + sizeof(": keepalive\n\n") - 1;
        b->memory = 1;

        cl->buf = b;
        cl->next = NULL;
        out = cl;
    }

    if (out) {
        for (cl = out; cl->next; cl = cl->next) { /* void */ }
        cl->buf->flush = 1;

        sse->written = ngx_current_msec;

        if (ngx_http_vkstream_sse_send(r, out) == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }
    }

    /* a full batch: there is more, come back at once */
    ngx_add_timer(ev, n == NGX_HTTP_VKSTREAM_SSE_BATCH
                      ? 1 : NGX_HTTP_VKSTREAM_SSE_POLL);
}
