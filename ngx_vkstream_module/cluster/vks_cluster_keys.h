
/*
 * vkstream cluster: the names of the Redis keys.  Every key starts with
 * the cluster's prefix ("vkstream:" by default), so two clusters, or other
 * applications, can share one Redis; one cluster is one prefix and one VK
 * key.  The keys (PREFIX is the prefix):
 *
 *   PREFIXvk:lease       string "TOKEN:NODE", PX ttl: who runs the VK client
 *   PREFIXvk:fence       integer, INCRed on each acquisition: fencing token
 *   PREFIXnode:NODE      hash, PX ttl: a node's heartbeat record
 *   PREFIXnodes          sorted set: node names by last heartbeat (ms)
 *   PREFIXevents         stream, MAXLEN ~ N: what nodes tell each other:
 *                        VK matches, "my record changed", "the global
 *                        rules changed", control requests to a node
 *   PREFIXrules          string, JSON: the global VK rules
 *
 * The prefix and node names are checked here so that a key is always
 * printable, bounded and unambiguous.  Plain C, no nginx types.
 */


#ifndef _VKS_CLUSTER_KEYS_H_INCLUDED_
#define _VKS_CLUSTER_KEYS_H_INCLUDED_


#include <stddef.h>


#define VKS_CLUSTER_PREFIX_DEFAULT   "vkstream:"
#define VKS_CLUSTER_PREFIX_MAX       64
#define VKS_CLUSTER_NODE_MAX         64
#define VKS_CLUSTER_KEY_MAX                                                  \
    (VKS_CLUSTER_PREFIX_MAX + sizeof("node:") + VKS_CLUSTER_NODE_MAX)
#define VKS_CLUSTER_KEYS_ERR_LEN     96


typedef enum {
    VKS_CLUSTER_KEY_LEASE = 0,
    VKS_CLUSTER_KEY_FENCE,
    VKS_CLUSTER_KEY_NODES,
    VKS_CLUSTER_KEY_EVENTS,
    VKS_CLUSTER_KEY_RULES,
    VKS_CLUSTER_KEY_NODE              /* takes a node name */
} vks_cluster_key_e;


typedef struct {
    char  prefix[VKS_CLUSTER_PREFIX_MAX + 1];
    char  err[VKS_CLUSTER_KEYS_ERR_LEN];
} vks_cluster_keys_t;


/*
 * Sets the prefix: NULL takes the default.  1 to 64 bytes of letters,
 * digits and "_-.:{}" (braces so that a later move to Redis Cluster can
 * put every key in one slot with a hash tag, "{vks}:").  Returns 0, or -1
 * with the reason in k->err.
 */
int vks_cluster_keys_init(vks_cluster_keys_t *k, const char *prefix,
    size_t len);

/*
 * A node name: 1 to 64 bytes of letters, digits and "_-.", starting with
 * a letter or digit (host names fit; ":" would make keys ambiguous).
 * Returns NULL when valid, the reason otherwise.
 */
const char *vks_cluster_keys_node_check(const char *name, size_t len);

/*
 * Writes the key's name into buf (VKS_CLUSTER_KEY_MAX + 1 bytes always
 * suffice); node is used by VKS_CLUSTER_KEY_NODE only and must have been
 * checked.  Returns the length, or -1 (bad node, buf too small).
 */
int vks_cluster_keys_make(const vks_cluster_keys_t *k, vks_cluster_key_e key,
    const char *node, char *buf, size_t size);


#endif /* _VKS_CLUSTER_KEYS_H_INCLUDED_ */
