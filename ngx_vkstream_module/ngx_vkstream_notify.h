
/*
 * vkstream: the worker's wake-up from its own threads (media contexts, the
 * VK client) to the event loop.
 */


#ifndef _NGX_VKSTREAM_NOTIFY_H_INCLUDED_
#define _NGX_VKSTREAM_NOTIFY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_VKSTREAM_NOTIFY_MAX  4


/* runs in the event loop on every wake-up, whoever asked for it */
typedef void (*ngx_vkstream_notify_pt)(void);


/*
 * Event loop: subscribes handler; the first subscriber creates the
 * eventfd and registers its read event.
 */
ngx_int_t ngx_vkstream_notify_add(ngx_cycle_t *cycle,
    ngx_vkstream_notify_pt handler);

/*
 * Event loop: unsubscribes handler; the last one deletes the event and
 * closes the eventfd.  Threads that still call ngx_vkstream_notify() then
 * do nothing.
 */
void ngx_vkstream_notify_del(ngx_vkstream_notify_pt handler);

/*
 * Any thread: wakes the event loop.  A plain function for nginx-free code
 * (the data argument is unused); it touches no nginx structure.
 */
void ngx_vkstream_notify(void *data);


#endif /* _NGX_VKSTREAM_NOTIFY_H_INCLUDED_ */
