
/*
 * vkstream: SSE fan-out across workers.  Every worker binds a datagram
 * socket in the abstract namespace, named after the zone's marker and its
 * pid, and has a slot in the stream table saying how many subscribers it
 * has.  Whoever writes an event (any worker: a publish, an API call, the
 * VK client's matches in worker 0) sends one byte, after the table's lock
 * is released, to each other worker with subscribers that was not woken
 * already; its own subscribers are served at once.  A woken worker marks
 * its slot as not woken before it reads the table, so an event written
 * meanwhile wakes it again: one wake-up per worker per batch of events,
 * none while nothing happens.
 *
 * The abstract name needs no file and disappears with the process; anyone
 * on the host may send to it, which costs at most a look at the table.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <sys/un.h>

#include "ngx_vkstream.h"
#include "ngx_vkstream_table.h"
#include "ngx_vkstream_wake.h"


static void ngx_vkstream_wake_send(ngx_event_t *ev);
static void ngx_vkstream_wake_read(ngx_event_t *ev);
static socklen_t ngx_vkstream_wake_name(struct sockaddr_un *sun,
    ngx_pid_t pid);


static ngx_connection_t      *ngx_vkstream_wake_conn;
static ngx_uint_t             ngx_vkstream_wake_slot;
static ngx_flag_t             ngx_vkstream_wake_joined;
static ngx_uint_t             ngx_vkstream_wake_nsubs;
static ngx_vkstream_wake_pt   ngx_vkstream_wake_handler;
static ngx_event_t            ngx_vkstream_wake_posted;


static socklen_t
ngx_vkstream_wake_name(struct sockaddr_un *sun, ngx_pid_t pid)
{
    u_char               *p;
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);

    ngx_memzero(sun, sizeof(struct sockaddr_un));
    sun->sun_family = AF_UNIX;

    /* sun_path[0] == '\0': the abstract namespace */
    p = ngx_snprintf((u_char *) sun->sun_path + 1,
                     sizeof(sun->sun_path) - 1, "vkstream-wake-%*s-%P",
                     (size_t) NGX_VKSTREAM_MARKER_LEN,
                     vcf->marker.data + vcf->marker.len
                     - NGX_VKSTREAM_MARKER_LEN, pid);

    return (socklen_t) (offsetof(struct sockaddr_un, sun_path)
                        + (p - (u_char *) sun->sun_path));
}


ngx_int_t
ngx_vkstream_wake_init_process(ngx_cycle_t *cycle)
{
    int                  fd;
    socklen_t            len;
    ngx_connection_t    *c;
    struct sockaddr_un   sun;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    ngx_vkstream_wake_posted.handler = ngx_vkstream_wake_send;
    ngx_vkstream_wake_posted.log = cycle->log;

    if (ngx_vkstream_table_wake_join(&ngx_vkstream_wake_slot) != NGX_OK) {
        /* no table, or no free slot: subscribers look by themselves */
        return NGX_OK;
    }

    ngx_vkstream_wake_joined = 1;

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                      "vkstream: SSE wake-up socket() failed");
        return NGX_OK;
    }

    len = ngx_vkstream_wake_name(&sun, ngx_pid);

    if (bind(fd, (struct sockaddr *) &sun, len) == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                      "vkstream: SSE wake-up bind() failed");
        close(fd);
        return NGX_OK;
    }

    c = ngx_get_connection(fd, cycle->log);
    if (c == NULL) {
        close(fd);
        return NGX_OK;
    }

    c->read->handler = ngx_vkstream_wake_read;
    c->read->log = cycle->log;
    c->write->log = cycle->log;

    if (ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
        ngx_close_connection(c);
        return NGX_OK;
    }

    ngx_vkstream_wake_conn = c;

    return NGX_OK;
}


void
ngx_vkstream_wake_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_vkstream_wake_posted.posted) {
        /* events written on the way out still wake the others */
        ngx_delete_posted_event(&ngx_vkstream_wake_posted);
        ngx_vkstream_wake_handler = NULL;
        ngx_vkstream_wake_send(&ngx_vkstream_wake_posted);
    }

    if (ngx_vkstream_wake_joined) {
        ngx_vkstream_table_wake_leave(ngx_vkstream_wake_slot);
        ngx_vkstream_wake_joined = 0;
    }

    if (ngx_vkstream_wake_conn) {
        ngx_close_connection(ngx_vkstream_wake_conn);
        ngx_vkstream_wake_conn = NULL;
    }
}


ngx_int_t
ngx_vkstream_wake_subscribe(ngx_vkstream_wake_pt handler)
{
    ngx_vkstream_wake_handler = handler;
    ngx_vkstream_wake_nsubs++;

    if (!ngx_vkstream_wake_joined) {
        return NGX_DECLINED;
    }

    ngx_vkstream_table_wake_count(ngx_vkstream_wake_slot, 1, 0);

    /* this worker's own events need no socket: see ..._send() */
    return ngx_vkstream_wake_conn ? NGX_OK : NGX_DECLINED;
}


void
ngx_vkstream_wake_unsubscribe(ngx_flag_t blocked)
{
    if (ngx_vkstream_wake_nsubs == 0) {
        return;
    }

    ngx_vkstream_wake_nsubs--;

    if (ngx_vkstream_wake_joined) {
        ngx_vkstream_table_wake_count(ngx_vkstream_wake_slot, -1,
                                      blocked ? -1 : 0);
    }
}


void
ngx_vkstream_wake_blocked(ngx_int_t delta)
{
    if (ngx_vkstream_wake_joined) {
        ngx_vkstream_table_wake_count(ngx_vkstream_wake_slot, 0, delta);
    }
}


void
ngx_vkstream_wake_ack(ngx_flag_t timer)
{
    ngx_vkstream_table_wake_ack(ngx_vkstream_wake_joined
                                ? ngx_vkstream_wake_slot
                                : NGX_VKSTREAM_WAKE_SLOTS, timer);
}


void
ngx_vkstream_wake_post(void)
{
    if (ngx_vkstream_wake_posted.handler == NULL) {
        /* not a worker (or not yet one) */
        return;
    }

    if (!ngx_vkstream_wake_posted.posted) {
        ngx_post_event(&ngx_vkstream_wake_posted, &ngx_posted_events);
    }
}


static void
ngx_vkstream_wake_send(ngx_event_t *ev)
{
    int                 fd;
    ngx_err_t           err;
    ngx_flag_t          self;
    ngx_uint_t          i, n;
    ngx_pid_t           pids[NGX_VKSTREAM_WAKE_SLOTS];
    struct sockaddr_un  sun;
    socklen_t           len;

    n = ngx_vkstream_table_wake_targets(ngx_vkstream_wake_joined
                                        ? ngx_vkstream_wake_slot
                                        : NGX_VKSTREAM_WAKE_SLOTS,
                                        pids, &self);

    fd = ngx_vkstream_wake_conn ? ngx_vkstream_wake_conn->fd : -1;

    for (i = 0; i < n; i++) {
        if (fd == -1) {
            ngx_vkstream_table_wake_failed(pids[i], 0);
            continue;
        }

        len = ngx_vkstream_wake_name(&sun, pids[i]);

        if (sendto(fd, "", 1, 0, (struct sockaddr *) &sun, len) == 1) {
            continue;
        }

        err = ngx_socket_errno;

        if (err == NGX_EAGAIN) {
            /* its queue is full of wake-ups it has still to read */
            continue;
        }

        /* no such socket: the worker is gone */
        ngx_vkstream_table_wake_failed(pids[i], err == NGX_ECONNREFUSED
                                                || err == NGX_ENOENT);

        if (err != NGX_ECONNREFUSED && err != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_INFO, ev->log, err,
                          "vkstream: SSE wake-up of worker %P failed",
                          pids[i]);
        }
    }

    if (self && ngx_vkstream_wake_handler) {
        ngx_vkstream_wake_ack(0);
        ngx_vkstream_wake_handler();
    }
}


static void
ngx_vkstream_wake_read(ngx_event_t *ev)
{
    u_char             buf[16];
    ngx_connection_t  *c;

    c = ev->data;

    /* all that came: one look at the table serves them all */
    while (recv(c->fd, buf, sizeof(buf), 0) >= 0) { /* void */ }

    ngx_vkstream_wake_ack(0);

    if (ngx_vkstream_wake_nsubs && ngx_vkstream_wake_handler) {
        ngx_vkstream_wake_handler();
    }
}
