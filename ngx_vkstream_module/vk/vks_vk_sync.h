
/*
 * vkstream vk: rule reconciliation, the part of the client that decides
 * which /rules requests turn the server's rules into the desired ones and
 * what their answers change.  It keeps the rules on the server as last
 * known, the desired ones, those that failed for good, and the queue of
 * requests of the current plan.  The client asks for one request at a time
 * (vks_vk_sync_next()), makes it, and hands back the answer
 * (vks_vk_sync_result()).  No threads, no I/O, no nginx types: the caller
 * logs and reports rule states.
 */


#ifndef _VKS_VK_SYNC_H_INCLUDED_
#define _VKS_VK_SYNC_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vks_vk_rules.h"


/* a tag and a value owning their strings; value NULL: a delete */
typedef struct {
    char                 *tag;
    char                 *value;
} vks_vk_pair_t;


typedef struct {
    vks_vk_pair_t        *a;
    size_t                n;
    size_t                cap;
} vks_vk_pairs_t;


typedef struct {
    vks_vk_pairs_t        cur;          /* on the server, as we know */
    vks_vk_pairs_t        desired;
    vks_vk_pairs_t        failed;       /* refused for good, by value */
    vks_vk_pairs_t        ops;          /* the plan's requests */
    size_t                iop;          /* the next one */
    unsigned              flags;        /* VKS_VK_PLAN_* */
    unsigned              listed:1;     /* cur is known */
    unsigned              replan:1;
} vks_vk_sync_t;


/* what the plan says of a desired rule */
#define VKS_VK_SYNC_EV_ACTIVE    1      /* on the server as desired */
#define VKS_VK_SYNC_EV_REFUSED   2      /* local syntax check failed */

typedef void (*vks_vk_sync_event_pt)(void *data, int event, const char *tag,
    int code);


/* the outcome of a rule request, see vks_vk_sync_result() */
typedef enum {
    VKS_VK_SYNC_RETRY = 1,      /* may work later: retry after a delay */
    VKS_VK_SYNC_RECONNECT,      /* 1003/1004: the key is stale */
    VKS_VK_SYNC_DELETED,
    VKS_VK_SYNC_NOT_DELETED,    /* permanent error, left as it is */
    VKS_VK_SYNC_ADDED,
    VKS_VK_SYNC_REFUSED         /* permanent error: failed until it changes */
} vks_vk_sync_result_e;


int vks_vk_pairs_push(vks_vk_pairs_t *p, const char *tag, const char *value);
void vks_vk_pairs_remove(vks_vk_pairs_t *p, size_t i);
ssize_t vks_vk_pairs_find(const vks_vk_pairs_t *p, const char *tag);
void vks_vk_pairs_clear(vks_vk_pairs_t *p);
void vks_vk_pairs_free(vks_vk_pairs_t *p);


void vks_vk_sync_init(vks_vk_sync_t *s, unsigned flags);
void vks_vk_sync_free(vks_vk_sync_t *s);

/*
 * Replaces the desired rules (copies them); the next plan is made once the
 * current one is done.  Returns 0, or -1 if some did not fit in memory.
 */
int vks_vk_sync_set_desired(vks_vk_sync_t *s, const vks_vk_pair_t *a,
    size_t n);

/* The server's rules as GET /rules listed them; planning may start. */
int vks_vk_sync_set_current(vks_vk_sync_t *s, const vks_vk_rule_t *rules,
    size_t n);

/* The connection is gone: forget the plan and wait for a new listing. */
void vks_vk_sync_reset(vks_vk_sync_t *s);

/* Plan again when the current plan is done (a retry of failed requests). */
void vks_vk_sync_replan(vks_vk_sync_t *s);

/*
 * Returns the next request to make (value NULL: a delete), or NULL when
 * the server is in step or not listed yet.  Making a new plan reports the
 * desired rules already in place and those refused locally to handler.
 */
const vks_vk_pair_t *vks_vk_sync_next(vks_vk_sync_t *s,
    vks_vk_sync_event_pt handler, void *data);

/*
 * Applies the answer to a request for op (a copy of what next returned):
 * rc and code as vks_vk_rules_parse_result() gave them.  On
 * VKS_VK_SYNC_RETRY and VKS_VK_SYNC_RECONNECT nothing changes.
 */
vks_vk_sync_result_e vks_vk_sync_result(vks_vk_sync_t *s,
    const vks_vk_pair_t *op, int rc, int64_t code);


#endif /* _VKS_VK_SYNC_H_INCLUDED_ */
