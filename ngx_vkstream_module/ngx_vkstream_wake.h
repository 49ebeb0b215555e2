
/*
 * vkstream: wakes the workers that have SSE subscribers when the stream
 * table's event id moves, whichever worker wrote the event.
 */


#ifndef _NGX_VKSTREAM_WAKE_H_INCLUDED_
#define _NGX_VKSTREAM_WAKE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* runs in the event loop: new events may be in the table */
typedef void (*ngx_vkstream_wake_pt)(void);


/* every worker: its wake-up endpoint and its slot in the table */
ngx_int_t ngx_vkstream_wake_init_process(ngx_cycle_t *cycle);
void ngx_vkstream_wake_exit_process(ngx_cycle_t *cycle);

/*
 * Event loop: this worker has one more (or one less) subscriber; the
 * handler runs when an event was written, here or in another worker.
 * NGX_DECLINED: this worker cannot be woken (no slot or no socket), the
 * caller must look by itself.
 */
ngx_int_t ngx_vkstream_wake_subscribe(ngx_vkstream_wake_pt handler);
void ngx_vkstream_wake_unsubscribe(ngx_flag_t blocked);

/* one more (1) or one less (-1) subscriber waits for its socket */
void ngx_vkstream_wake_blocked(ngx_int_t delta);

/* this worker looks at the events now; "timer": not woken, by its timer */
void ngx_vkstream_wake_ack(ngx_flag_t timer);

/*
 * The table wrote an event (its lock may be held): the subscribers'
 * workers are woken after the current event handler.
 */
void ngx_vkstream_wake_post(void);


#endif /* _NGX_VKSTREAM_WAKE_H_INCLUDED_ */
