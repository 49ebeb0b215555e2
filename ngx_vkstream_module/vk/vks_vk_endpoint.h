
/*
 * vkstream vk: the answer of streaming.getServerUrl.  The real service
 * returns a bare host ("streaming.vk.com", port 443); the emulator returns
 * "127.0.0.1:PORT", so host:port is accepted too.  The key is kept as
 * given, for the glue to put into URLs (it is never logged).
 * Plain C, no nginx types.
 */


#ifndef _VKS_VK_ENDPOINT_H_INCLUDED_
#define _VKS_VK_ENDPOINT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "vks_vk_json.h"


#define VKS_VK_HOST_MAX     253
#define VKS_VK_KEY_MAX      256
#define VKS_VK_PORT_DEFAULT 443


typedef struct {
    char      host[VKS_VK_HOST_MAX + 1];
    unsigned  port;
    char      key[VKS_VK_KEY_MAX + 1];
    int64_t   error_code;             /* set with VKS_VK_EAPI, e.g. 5 */
    char      err[VKS_VK_ERR_LEN];
} vks_vk_endpoint_t;


/*
 * Parses {"response":{"endpoint":E,"key":K}}.  Returns VKS_VK_OK,
 * VKS_VK_EAPI for {"error":{"error_code":N,"error_msg":M}} (code and
 * message in e), or another negative VKS_VK_E* code with a reason.
 */
int vks_vk_endpoint_parse(const char *data, size_t len, vks_vk_endpoint_t *e);

/*
 * Splits "host" or "host:port" (also "[v6]:port") into e->host and
 * e->port; returns 0 or -1 for anything else (paths, schemes, spaces).
 */
int vks_vk_endpoint_split(const char *s, size_t len, vks_vk_endpoint_t *e);


#endif /* _VKS_VK_ENDPOINT_H_INCLUDED_ */
