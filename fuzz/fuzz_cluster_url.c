
/*
 * vkstream fuzz: the Redis URL of vkstream_cluster (redis://, unix:) and
 * its redacted form.
 */


#include <stdint.h>
#include <string.h>

#include "cluster/vks_cluster_url.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             i, n;
    char               red[VKS_CLUSTER_URL_REDACTED_LEN];
    char               red2[VKS_CLUSTER_URL_REDACTED_LEN];
    vks_cluster_url_t  u, v;

    if (vks_cluster_url_parse(&u, (const char *) data, size) != 0) {
        /* a reason, and no credentials left behind */
        if (strncmp(u.err, "redis URL: ", 11) != 0) {
            __builtin_trap();
        }

        for (i = 0; i < sizeof(u.password); i++) {
            if (u.password[i] != 0) {
                __builtin_trap();
            }
        }

        return 0;
    }

    if (u.type == VKS_CLUSTER_URL_TCP) {
        if (u.host[0] == '\0' || u.port == 0 || u.port > 65535) {
            __builtin_trap();
        }

    } else if (u.type != VKS_CLUSTER_URL_UNIX || u.path[0] != '/'
               || strlen(u.path) > VKS_CLUSTER_PATH_MAX)
    {
        __builtin_trap();
    }

    if (u.user[0] && u.password[0] == '\0') {
        __builtin_trap();
    }

    n = vks_cluster_url_redact(&u, red, sizeof(red));
    if (n >= sizeof(red) || strlen(red) != n) {
        __builtin_trap();
    }

    /* the redacted form does not depend on the password */
    v = u;
    if (v.password[0]) {
        strcpy(v.password, "x");
    }

    vks_cluster_url_redact(&v, red2, sizeof(red2));
    if (strcmp(red, red2) != 0) {
        __builtin_trap();
    }

    /* and, with no user (printed raw), parses back to the same place */
    if (u.user[0] == '\0') {
        if (vks_cluster_url_parse(&v, red, n) != 0 || v.type != u.type
            || strcmp(v.host, u.host) != 0 || v.port != u.port
            || strcmp(v.path, u.path) != 0 || v.db != u.db
            || (u.password[0] && strcmp(v.password, "***") != 0))
        {
            __builtin_trap();
        }
    }

    return 0;
}
