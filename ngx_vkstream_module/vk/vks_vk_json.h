
/*
 * vkstream vk: jansson helpers shared by the protocol units: loading a
 * document strictly (UTF-8, an object at the top), reading numbers without
 * trusting their type, and the error envelopes of the service.
 * Plain C, no nginx types.
 */


#ifndef _VKS_VK_JSON_H_INCLUDED_
#define _VKS_VK_JSON_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <jansson.h>


#define VKS_VK_OK          0
#define VKS_VK_EUTF8      -1    /* not UTF-8 */
#define VKS_VK_EJSON      -2    /* not JSON, or not an object */
#define VKS_VK_ESCHEMA    -3    /* JSON, but not the expected shape */
#define VKS_VK_ENOMEM     -4
#define VKS_VK_EAPI       -5    /* a well-formed error envelope */

#define VKS_VK_ERR_LEN     160


/*
 * Parses data[0..len) into an object.  Integers are read as reals so that
 * a huge number in a field we do not use cannot reject the whole message.
 * On failure returns NULL, sets *rc and writes a reason into err.
 */
json_t *vks_vk_json_load(const char *data, size_t len, int *rc, char *err,
    size_t errlen);

/*
 * Reads an integral number (integer, integral real within +-2^53, or a
 * string of digits) into *out; returns 0, or -1 if v is anything else.
 */
int vks_vk_json_int(const json_t *v, int64_t *out);

/* The string member key of obj or NULL; its length in *len if non-NULL. */
const char *vks_vk_json_str(const json_t *obj, const char *key, size_t *len);

/*
 * Recognises the error envelopes: {"code":N,"error":{"error_code":E,
 * "message":M}} of the streaming endpoints and {"error":{"error_code":E,
 * "error_msg":M}} of the API methods.  Returns 1 and fills *code and *msg
 * (msg may be "" but never NULL) if root is one, 0 otherwise.
 */
int vks_vk_json_error(const json_t *root, int64_t *code, const char **msg);

void vks_vk_json_set_err(char *err, size_t errlen, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;


#endif /* _VKS_VK_JSON_H_INCLUDED_ */
