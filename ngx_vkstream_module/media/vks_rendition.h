
/*
 * vkstream media: one rendition of a source, on its own thread: scale,
 * encode (or pass through) and publish it over RTMP with libavformat.
 * Internal to the transcoder.
 */


#ifndef _VKS_RENDITION_H_INCLUDED_
#define _VKS_RENDITION_H_INCLUDED_


#include "vks_conf.h"
#include "vks_hls_ladder.h"
#include "vks_item.h"
#include "vks_log.h"
#include "vks_stats.h"


typedef struct {
    /*
     * The output: the name goes apart from the URL because libavformat
     * cuts an RTMP URL's path at a space (librtmp-style options) and
     * mangles names ending in ".flv" or ".mp4".
     */
    const char         *url;                /* rtmp://host/app */
    const char         *playpath;           /* name+suffix?marker */
    int                 max_gop_ms;
    int                 nice;
    int                 sched;              /* VKS_SCHED_* */
    vks_log_pt          log;
    void               *log_data;

    /* LL-HLS output (vks_llhls_writer.h): its directory, NULL for none */
    const char         *llhls_dir;
    unsigned            llhls_part_target_ms;
    unsigned            llhls_window;

    /* the stream's HLS ladder (masters, reports), as rendition index */
    vks_hls_ladder_t   *ladder;
    int                 ladder_index;

    /*
     * No thread of its own: vks_rendition_send() encodes on the caller's
     * thread (a context with one rendition), and vks_rendition_end()
     * flushes there; controls wait for the next send or poll.
     */
    int                 inline_mode;

    /*
     * Output held up to this long and sent together (vks_rtmp_pub_hold()):
     * the context's batch; 0 sends each message at once.
     */
    int                 hold_ms;
} vks_rendition_env_t;


typedef struct vks_rendition_s  vks_rendition_t;


vks_rendition_t *vks_rendition_start(const vks_rendition_conf_t *rc,
    const vks_rendition_env_t *env);
const vks_rendition_conf_t *vks_rendition_conf(vks_rendition_t *r);

/* Takes the item; never waits.  Returns 1 when it was dropped. */
int vks_rendition_send(vks_rendition_t *r, vks_item_t *item);

/* cmd is VKS_CONTROL_*; an inline rendition applies it at its next send */
void vks_rendition_control(vks_rendition_t *r, int cmd);

/* Inline: applies a control waiting, on the caller's thread. */
void vks_rendition_poll(vks_rendition_t *r);
int vks_rendition_is_inline(vks_rendition_t *r);

/*
 * Inline: sends the output held (env hold_ms), on the caller's thread,
 * when its input is drained; a thread of its own does so itself.
 */
void vks_rendition_flush(vks_rendition_t *r);
void vks_rendition_stats(vks_rendition_t *r, vks_rendition_stats_t *st);

/* Asks the thread to flush and end the publish; does not wait. */
void vks_rendition_end(vks_rendition_t *r);

/* vks_rendition_end() and joins the thread (bounded by about 1 s). */
void vks_rendition_finish(vks_rendition_t *r);
void vks_rendition_free(vks_rendition_t *r);

/* Applies policy and nice to the calling thread. */
void vks_thread_priority(int sched, int nice);


#endif /* _VKS_RENDITION_H_INCLUDED_ */
