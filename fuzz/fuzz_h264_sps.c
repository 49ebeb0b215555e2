
/*
 * vkstream fuzz: the picture size of an H.264 SPS, media/vks_h264_sps.c.
 * The first byte chooses the input (even: an avcC record, odd: an SPS
 * NAL), the rest is it.  A refusal has a reason; an accepted SPS has a
 * size within 1..VKS_H264_SPS_MAX and fields within their ranges.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/vks_h264_sps.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc;
    char            err[128];
    uint8_t        *copy;
    vks_h264_sps_t  sps;

    if (size == 0) {
        return 0;
    }

    /* an exact-size copy, so that ASan sees any read past the input */
    copy = malloc(size - 1 ? size - 1 : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data + 1, size - 1);
    err[0] = '\0';

    rc = (data[0] & 1)
         ? vks_h264_sps_parse(copy, size - 1, &sps, err, sizeof(err))
         : vks_h264_sps_avcc(copy, size - 1, &sps, err, sizeof(err));

    free(copy);

    if (rc != 0) {
        if (rc != -1 || err[0] == '\0' || strlen(err) >= sizeof(err)) {
            __builtin_trap();
        }

        return 0;
    }

    if (sps.width == 0 || sps.height == 0
        || sps.width > VKS_H264_SPS_MAX || sps.height > VKS_H264_SPS_MAX
        || sps.chroma_format_idc > 3 || sps.bit_depth_luma < 8
        || sps.bit_depth_luma > 14 || sps.frame_mbs_only > 1)
    {
        __builtin_trap();
    }

    return 0;
}
