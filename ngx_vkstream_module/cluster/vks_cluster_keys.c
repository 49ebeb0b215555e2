
/*
 * vkstream cluster: Redis key names (see vks_cluster_keys.h).
 */


#include <stdio.h>
#include <string.h>

#include "vks_cluster_keys.h"


static int vks_cluster_keys_alnum(unsigned char c);


static const char  *vks_cluster_keys_names[] = {
    "vk:lease",
    "vk:fence",
    "nodes",
    "events",
    "rules",
    "node:"
};


int
vks_cluster_keys_init(vks_cluster_keys_t *k, const char *prefix, size_t len)
{
    size_t         i;
    unsigned char  c;

    memset(k, 0, sizeof(vks_cluster_keys_t));

    if (prefix == NULL) {
        prefix = VKS_CLUSTER_PREFIX_DEFAULT;
        len = sizeof(VKS_CLUSTER_PREFIX_DEFAULT) - 1;
    }

    /* an empty prefix would mix our keys with anything else in the db */
    if (len == 0 || len > VKS_CLUSTER_PREFIX_MAX) {
        snprintf(k->err, sizeof(k->err), "cluster prefix: 1 to %d bytes",
                 VKS_CLUSTER_PREFIX_MAX);
        return -1;
    }

    for (i = 0; i < len; i++) {
        c = prefix[i];

        if (!vks_cluster_keys_alnum(c)
            && (c == 0 || strchr("_-.:{}", c) == NULL))
        {
            snprintf(k->err, sizeof(k->err), "cluster prefix: letters, "
                     "digits and \"_-.:{}\" only");
            return -1;
        }
    }

    memcpy(k->prefix, prefix, len);
    k->prefix[len] = '\0';

    return 0;
}


const char *
vks_cluster_keys_node_check(const char *name, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len == 0 || len > VKS_CLUSTER_NODE_MAX) {
        return "cluster node name: 1 to 64 bytes";
    }

    if (!vks_cluster_keys_alnum(name[0])) {
        return "cluster node name: must start with a letter or digit";
    }

    for (i = 0; i < len; i++) {
        c = name[i];

        /* c != 0: strchr() would find the terminating NUL */
        if (!vks_cluster_keys_alnum(c)
            && (c == 0 || strchr("_-.", c) == NULL))
        {
            return "cluster node name: letters, digits and \"_-.\" only";
        }
    }

    return NULL;
}


int
vks_cluster_keys_make(const vks_cluster_keys_t *k, vks_cluster_key_e key,
    const char *node, char *buf, size_t size)
{
    int  n;

    if ((unsigned) key > VKS_CLUSTER_KEY_NODE) {
        return -1;
    }

    if (key == VKS_CLUSTER_KEY_NODE) {
        if (node == NULL
            || vks_cluster_keys_node_check(node, strlen(node)) != NULL)
        {
            return -1;
        }

    } else {
        node = "";
    }

    n = snprintf(buf, size, "%s%s%s", k->prefix,
                 vks_cluster_keys_names[key], node);

    if (n < 0 || (size_t) n >= size) {
        return -1;
    }

    return n;
}


static int
vks_cluster_keys_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}
