
/*
 * Unit tests: vk/vks_vk_endpoint (streaming.getServerUrl answers).
 */


#include <string.h>

#include "vk/vks_vk_endpoint.h"
#include "vks_tap.h"


static int
parse(const char *s, vks_vk_endpoint_t *e)
{
    return vks_vk_endpoint_parse(s, strlen(s), e);
}


static int
split(const char *s, vks_vk_endpoint_t *e)
{
    return vks_vk_endpoint_split(s, strlen(s), e);
}


int
main(void)
{
    vks_vk_endpoint_t  e;

    is_int(parse("{\"response\":{\"endpoint\":\"streaming.vk.com\","
                 "\"key\":\"c1a2b3\"}}", &e), VKS_VK_OK, "real answer");
    is_str(e.host, "streaming.vk.com", "bare host");
    is_int(e.port, 443, "default port 443");
    is_str(e.key, "c1a2b3", "key");

    is_int(parse("{\"response\":{\"endpoint\":\"127.0.0.1:45643\","
                 "\"key\":\"K\"}}", &e), VKS_VK_OK, "emulator answer");
    is_str(e.host, "127.0.0.1", "host of host:port");
    is_int(e.port, 45643, "port of host:port");

    is_int(parse("{\"error\":{\"error_code\":5,\"error_msg\":\"User "
                 "authorization failed: invalid access_token (4).\","
                 "\"request_params\":[{\"key\":\"v\",\"value\":\"5.199\"}]}}",
                 &e), VKS_VK_EAPI, "error 5");
    is_int(e.error_code, 5, "error code 5");
    is_str(e.err, "User authorization failed: invalid access_token (4).",
           "error message");

    is_int(parse("{\"response\":{\"endpoint\":\"h\"}}", &e), VKS_VK_ESCHEMA,
           "no key");
    is_int(parse("{\"response\":{\"key\":\"k\"}}", &e), VKS_VK_ESCHEMA,
           "no endpoint");
    is_int(parse("{\"response\":[]}", &e), VKS_VK_ESCHEMA, "array response");
    is_int(parse("{\"response\":{\"endpoint\":\"h\",\"key\":\"a b\"}}", &e),
           VKS_VK_ESCHEMA, "key with a space refused");
    is_int(parse("{\"response\":{\"endpoint\":\"h\",\"key\":\"\"}}", &e),
           VKS_VK_ESCHEMA, "empty key refused");
    is_int(parse("{\"response\":{\"endpoint\":\"https://h/\",\"key\":\"k\"}}",
                 &e), VKS_VK_ESCHEMA, "URL as endpoint refused");
    is_int(parse("{\"response\":", &e), VKS_VK_EJSON, "truncated");
    is_int(parse("{\"response\":{\"endpoint\":\"h\xff\",\"key\":\"k\"}}", &e),
           VKS_VK_EUTF8, "invalid UTF-8");

    is_int(split("[::1]:8443", &e), 0, "IPv6 with port");
    is_str(e.host, "[::1]", "IPv6 host kept bracketed");
    is_int(e.port, 8443, "IPv6 port");
    is_int(split("[::1]", &e), 0, "IPv6 without port");
    is_int(e.port, 443, "IPv6 default port");
    is_int(split("h:65535", &e), 0, "port 65535");
    is_int(split("h:65536", &e), -1, "port 65536 refused");
    is_int(split("h:0", &e), -1, "port 0 refused");
    is_int(split("h:", &e), -1, "empty port refused");
    is_int(split("h:1234567", &e), -1, "long port refused");
    is_int(split(":80", &e), -1, "empty host refused");
    is_int(split("h:8x", &e), -1, "bad port refused");
    is_int(split("a b", &e), -1, "space refused");
    is_int(split("[::1]x", &e), -1, "junk after IPv6 refused");
    is_int(split("[zz]:1", &e), -1, "bad IPv6 refused");

    return done_testing();
}
