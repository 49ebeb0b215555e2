
/*
 * vkstream: one eventfd per worker wakes the event loop for all of the
 * module's threads.  One fd with several subscribers rather than one per
 * user: there is a single create and close path, one event registration,
 * and a wake-up costs each subscriber only a look at its own queue.
 *
 * Threads write the eventfd under a mutex that the close takes too, so a
 * thread still ending when the worker exits (a VK client that did not stop
 * in time, a context still flushing) never writes into a closed, perhaps
 * reused, descriptor.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include "ngx_vkstream_notify.h"


static void ngx_vkstream_notify_handler(ngx_event_t *ev);


/* per worker */
static ngx_connection_t        *ngx_vkstream_notify_conn;
static ngx_vkstream_notify_pt   ngx_vkstream_notify_subs[
                                    NGX_VKSTREAM_NOTIFY_MAX];
static ngx_uint_t               ngx_vkstream_notify_nsubs;

/* shared with the threads */
static pthread_mutex_t          ngx_vkstream_notify_mutex =
                                    PTHREAD_MUTEX_INITIALIZER;
static int                      ngx_vkstream_notify_fd = -1;


ngx_int_t
ngx_vkstream_notify_add(ngx_cycle_t *cycle, ngx_vkstream_notify_pt handler)
{
    int                fd;
    ngx_connection_t  *c;

    if (ngx_vkstream_notify_nsubs == NGX_VKSTREAM_NOTIFY_MAX) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "vkstream: too many notify subscribers");
        return NGX_ERROR;
    }

    if (ngx_vkstream_notify_conn == NULL) {
        fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd == -1) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                          "vkstream: eventfd() failed");
            return NGX_ERROR;
        }

        c = ngx_get_connection(fd, cycle->log);
        if (c == NULL) {
            close(fd);
            return NGX_ERROR;
        }

        c->read->handler = ngx_vkstream_notify_handler;
        c->read->log = cycle->log;
        c->write->log = cycle->log;

        if (ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
            ngx_close_connection(c);
            return NGX_ERROR;
        }

        ngx_vkstream_notify_conn = c;

        pthread_mutex_lock(&ngx_vkstream_notify_mutex);
        ngx_vkstream_notify_fd = fd;
        pthread_mutex_unlock(&ngx_vkstream_notify_mutex);
    }

    ngx_vkstream_notify_subs[ngx_vkstream_notify_nsubs++] = handler;

    return NGX_OK;
}


void
ngx_vkstream_notify_del(ngx_vkstream_notify_pt handler)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_vkstream_notify_nsubs; i++) {
        if (ngx_vkstream_notify_subs[i] == handler) {
            ngx_vkstream_notify_subs[i] =
                ngx_vkstream_notify_subs[--ngx_vkstream_notify_nsubs];
            break;
        }
    }

    if (ngx_vkstream_notify_nsubs || ngx_vkstream_notify_conn == NULL) {
        return;
    }

    pthread_mutex_lock(&ngx_vkstream_notify_mutex);

    ngx_vkstream_notify_fd = -1;

    /* deletes the read event and closes the fd */
    ngx_close_connection(ngx_vkstream_notify_conn);
    ngx_vkstream_notify_conn = NULL;

    pthread_mutex_unlock(&ngx_vkstream_notify_mutex);
}


void
ngx_vkstream_notify(void *data)
{
    uint64_t  one = 1;

    pthread_mutex_lock(&ngx_vkstream_notify_mutex);

    if (ngx_vkstream_notify_fd != -1) {
        /* EAGAIN: the counter is huge already, the event loop will look */
        (void) !write(ngx_vkstream_notify_fd, &one, sizeof(one));
    }

    pthread_mutex_unlock(&ngx_vkstream_notify_mutex);
}


static void
ngx_vkstream_notify_handler(ngx_event_t *ev)
{
    uint64_t                n;
    ngx_uint_t              i, nsubs;
    ngx_connection_t       *c;
    ngx_vkstream_notify_pt  subs[NGX_VKSTREAM_NOTIFY_MAX];

    c = ev->data;

    /* reset first: a wake-up asked for during the handlers is not lost */
    (void) !read(c->fd, &n, sizeof(n));

    /*
     * A handler may unsubscribe (the last one closes the fd): walk a copy.
     * Handlers cope with a call after their own unsubscription.
     */
    nsubs = ngx_vkstream_notify_nsubs;
    ngx_memcpy(subs, ngx_vkstream_notify_subs, nsubs * sizeof(subs[0]));

    for (i = 0; i < nsubs; i++) {
        subs[i]();
    }
}
