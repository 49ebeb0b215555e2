
/*
 * vkstream util: the reason an nginx-free call failed, written into the
 * caller's buffer (err may be NULL or errlen 0: no reason wanted).
 */


#ifndef _VKS_ERR_H_INCLUDED_
#define _VKS_ERR_H_INCLUDED_


#include <stddef.h>


/* Formats the reason into err (truncated, NUL-terminated); returns -1. */
int vks_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


#endif /* _VKS_ERR_H_INCLUDED_ */
