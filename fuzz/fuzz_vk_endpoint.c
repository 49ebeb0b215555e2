
/*
 * vkstream fuzz: the streaming.getServerUrl answer and host:port split.
 */


#include <string.h>
#include "vk/vks_vk_endpoint.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vks_vk_endpoint_t  e;

    memset(&e, 0, sizeof(e));

    if (vks_vk_endpoint_parse((const char *) data, size, &e) == VKS_VK_OK) {
        if (strlen(e.host) == 0 || e.port == 0 || e.port > 65535) {
            __builtin_trap();
        }
    }

    memset(&e, 0, sizeof(e));

    if (vks_vk_endpoint_split((const char *) data, size, &e) == 0) {
        if (strlen(e.host) > VKS_VK_HOST_MAX || e.port > 65535) {
            __builtin_trap();
        }
    }

    return 0;
}
