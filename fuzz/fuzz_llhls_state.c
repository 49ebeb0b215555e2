
/*
 * vkstream fuzz: LL-HLS media playlists read back by the blocking-reload
 * server (media/vks_llhls_state.c).  The first byte chooses the input:
 * odd, a query string for the directive parser; even, a playlist (an
 * exact-size copy, not NUL-terminated).  A refusal has a reason; an
 * accepted playlist gives a summary within its bounds (a NUL-terminated
 * hint, TARGETDURATION 1-100000, MSNs below 2^62) on which every request
 * of a grid is decided without a crash, ENDLIST making all of them ready;
 * accepted directives have values below 10^18.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/vks_llhls_state.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    char               *copy;
    uint64_t            m, n, pn;
    const char         *why;
    vks_llhls_req_t     req;
    vks_llhls_state_t   st;
    vks_llhls_block_e   b;

    if (size == 0) {
        return 0;
    }

    copy = malloc(size - 1 ? size - 1 : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data + 1, size - 1);

    if (data[0] & 1) {
        why = NULL;
        rc = vks_llhls_state_args(&req, copy, size - 1, &why);

        if (why == NULL
            || (rc == 0 && (req.msn >= 1000000000000000000ULL
                            || req.part >= 1000000000000000000ULL)))
        {
            __builtin_trap();
        }

        if (vks_llhls_state_part_number(copy, size - 1, &pn) == 0
            && (size - 1 < 6 || copy[0] != 'p'))
        {
            __builtin_trap();
        }

        free(copy);
        return 0;
    }

    why = NULL;
    rc = vks_llhls_state_parse(&st, copy, size - 1, &why);
    free(copy);

    if (why == NULL) {
        __builtin_trap();
    }

    if (rc != 0) {
        return 0;
    }

    if (st.td == 0 || st.td > 100000
        || memchr(st.hint, '\0', sizeof(st.hint)) == NULL
        || st.media_sequence > INT64_MAX / 4
        || st.last_msn < -1 || st.last_msn > INT64_MAX / 2
        || (st.hinted && st.hint[0] == '\0')
        || vks_llhls_state_timeout_ms(&st) == 0)
    {
        __builtin_trap();
    }

    for (m = 0; m < 4; m++) {
        for (n = 0; n < 8; n++) {
            memset(&req, 0, sizeof(req));
            req.has_msn = 1;
            req.msn = (uint64_t) (st.last_msn + 1) + m - 1;
            req.has_part = n > 0;
            req.part = n ? n - 1 : 0;

            b = vks_llhls_state_block(&st, &req, &why);

            if (why == NULL || (st.ended && b != VKS_LLHLS_READY)) {
                __builtin_trap();
            }
        }
    }

    return 0;
}
