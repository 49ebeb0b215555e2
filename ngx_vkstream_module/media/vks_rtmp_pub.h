
/*
 * vkstream media: an RTMP publishing client for a rendition's output.
 *
 * It takes the FLV byte stream libavformat's muxer writes (through a
 * custom AVIOContext) and sends each tag as one RTMP message in one
 * send(): libavformat's own RTMP writer polls and sends a message's header
 * and body separately, which wakes the receiving event loop twice per
 * message.  Blocking calls, for the rendition's thread; every wait gives
 * up within 100 ms of should_abort() saying so.  Plain C, no nginx types.
 */


#ifndef _VKS_RTMP_PUB_H_INCLUDED_
#define _VKS_RTMP_PUB_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct vks_rtmp_pub_s  vks_rtmp_pub_t;

typedef int (*vks_rtmp_abort_pt)(void *data);


/*
 * Connects to url ("rtmp://host[:port]/app", port 1935 by default; an IPv6
 * host in brackets), publishes playpath in app ("live") and returns once
 * the server said NetStream.Publish.Start.  NULL with the reason in err.
 */
vks_rtmp_pub_t *vks_rtmp_pub_open(const char *url, const char *app,
    const char *playpath, vks_rtmp_abort_pt should_abort, void *data,
    char *err, size_t errlen);

/*
 * The next bytes of an FLV stream (file header, then tags, split
 * anywhere).  Returns 0, or -1 once the connection failed; the reason is
 * then vks_rtmp_pub_error().
 */
int vks_rtmp_pub_write(vks_rtmp_pub_t *pub, const uint8_t *p, size_t n);

/*
 * With ms > 0, messages are held and leave together in one send() at
 * vks_rtmp_pub_flush(), at 64 KiB, or once the oldest is ms old: a batch
 * of frames encoded back to back then wakes the server once, not once per
 * message.  0 (the default) sends each message at once.
 */
void vks_rtmp_pub_hold(vks_rtmp_pub_t *pub, int ms);

/* sends what is held; 0, or -1 once the connection failed */
int vks_rtmp_pub_flush(vks_rtmp_pub_t *pub);

const char *vks_rtmp_pub_error(vks_rtmp_pub_t *pub);

/* ends the publish (deleteStream) without waiting, closes, frees */
void vks_rtmp_pub_close(vks_rtmp_pub_t *pub);


#endif /* _VKS_RTMP_PUB_H_INCLUDED_ */
