
/*
 * vkstream vk: reassembly of a stream message from WebSocket fragments.
 * Messages may arrive as a text frame and continuation frames, and the
 * WebSocket library may hand a frame over in pieces; the parser needs the
 * whole message.  A message beyond the maximum size is not kept: the rest
 * of it is skipped and it is reported once as dropped.
 * Plain C, no nginx types.
 */


#ifndef _VKS_VK_REASM_H_INCLUDED_
#define _VKS_VK_REASM_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define VKS_VK_REASM_MAX_DEFAULT   (1024 * 1024)

#define VKS_VK_REASM_MORE      0    /* need more fragments */
#define VKS_VK_REASM_DONE      1    /* buf[0..len) is a message, NUL-ended */
#define VKS_VK_REASM_DROPPED   2    /* a message was too big, dropped */
#define VKS_VK_REASM_ERROR    -1    /* out of memory: message lost */


typedef struct {
    char      *buf;
    size_t     len;
    size_t     cap;
    size_t     max;
    unsigned   busy:1;        /* inside a message */
    unsigned   skipping:1;    /* inside a message being dropped */
    unsigned   orphan:1;      /* skipping pieces that had no start */
    uint64_t   messages;
    uint64_t   dropped;       /* too big */
    uint64_t   broken;        /* a new message began before the last ended */
} vks_vk_reasm_t;


/* max 0 takes VKS_VK_REASM_MAX_DEFAULT. */
void vks_vk_reasm_init(vks_vk_reasm_t *r, size_t max);

/*
 * Feeds one piece; first/final say whether it begins/ends a message.
 * After VKS_VK_REASM_DONE the message stays in buf until the next call.
 */
int vks_vk_reasm_feed(vks_vk_reasm_t *r, const void *data, size_t len,
    int first, int final);

void vks_vk_reasm_free(vks_vk_reasm_t *r);


#endif /* _VKS_VK_REASM_H_INCLUDED_ */
