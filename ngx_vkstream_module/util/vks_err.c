
/*
 * vkstream util: the reason a call failed (see vks_err.h).
 */


#include <stdarg.h>
#include <stdio.h>

#include "vks_err.h"


int
vks_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (err && errlen) {
        va_start(args, fmt);
        vsnprintf(err, errlen, fmt, args);
        va_end(args);
    }

    return -1;
}
