
/*
 * vkstream fuzz: util/vks_utf8.  The first byte chooses the cut's limit,
 * the rest is the string.  Invariants: a repair always validates and is
 * the input itself when that was valid; a cut is within the limit and the
 * length, never splits a character of a valid string and leaves a valid
 * prefix of it.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/vks_utf8.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          valid;
    char        *buf;
    size_t       len, max, n;
    const char  *s;

    if (size < 1) {
        return 0;
    }

    max = data[0];
    s = (const char *) data + 1;
    len = size - 1;

    valid = vks_utf8_valid(s, len);

    buf = malloc(VKS_UTF8_REPAIR_SIZE(len) + 1);
    if (buf == NULL) {
        return 0;
    }

    n = vks_utf8_repair(buf, s, len);

    if (n > VKS_UTF8_REPAIR_SIZE(len) || !vks_utf8_valid(buf, n)
        || (valid && (n != len || memcmp(buf, s, len) != 0))
        || (!valid && n == len && memcmp(buf, s, len) == 0))
    {
        __builtin_trap();
    }

    /* cut anything: within bounds, on a non-continuation byte */

    n = vks_utf8_cut(s, len, max);

    if (n > max || n > len
        || (n > 0 && n < len && (data[1 + n] & 0xc0) == 0x80))
    {
        __builtin_trap();
    }

    /* cut valid text: the largest prefix within max that is valid */

    if (valid) {
        if (!vks_utf8_valid(s, n)
            || (n < len && n + 4 <= max))
        {
            __builtin_trap();
        }
    }

    /* the repaired string cut anywhere stays valid */

    len = vks_utf8_repair(buf, s, len);
    n = vks_utf8_cut(buf, len, max);

    if (n > max || !vks_utf8_valid(buf, n)) {
        __builtin_trap();
    }

    free(buf);

    return 0;
}
