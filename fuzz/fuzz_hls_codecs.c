
/*
 * vkstream fuzz: the CODECS strings of media/vks_hls_codecs.c.  The first
 * byte chooses the parser (0: avcC record, 1: SPS NAL, 2: AAC
 * AudioSpecificConfig, 3: H.264 extradata, avcC or Annex B), the rest is
 * its input.  A refusal has a reason and
 * no codec string; an accepted input gives exactly "avc1." and 6 lowercase
 * hex digits, or "mp4a.40." and an object type of 1-95.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/vks_hls_codecs.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc;
    char           codec[VKS_HLS_CODEC_LEN], err[VKS_HLS_CODEC_ERR_LEN];
    char          *end;
    size_t         i;
    unsigned long  aot;
    uint8_t       *copy;
    vks_hls_aac_t  aac;

    if (size == 0) {
        return 0;
    }

    /* an exact-size copy, so that ASan sees any read past the input */
    copy = malloc(size - 1 ? size - 1 : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data + 1, size - 1);
    memset(codec, 'x', sizeof(codec));
    err[0] = '\0';

    switch (data[0] % 4) {

    case 0:
        rc = vks_hls_codec_avcc(copy, size - 1, codec, err, sizeof(err));
        break;

    case 1:
        rc = vks_hls_codec_sps(copy, size - 1, codec, err, sizeof(err));
        break;

    case 3:
        rc = vks_hls_codec_h264_extradata(copy, size - 1, codec, err,
                                          sizeof(err));
        break;

    default:
        rc = vks_hls_codec_aac(copy, size - 1, codec, &aac, err,
                               sizeof(err));
        break;
    }

    free(copy);

    if (rc != 0) {
        if (rc != -1 || codec[0] != '\0' || err[0] == '\0'
            || strlen(err) >= sizeof(err))
        {
            __builtin_trap();
        }

        return 0;
    }

    if (data[0] % 4 != 2) {
        if (strlen(codec) != 11 || strncmp(codec, "avc1.", 5) != 0) {
            __builtin_trap();
        }

        for (i = 5; i < 11; i++) {
            if (!((codec[i] >= '0' && codec[i] <= '9')
                  || (codec[i] >= 'a' && codec[i] <= 'f')))
            {
                __builtin_trap();
            }
        }

        /* profile and level are never 0 */
        if (strncmp(codec + 5, "00", 2) == 0
            || strcmp(codec + 9, "00") == 0)
        {
            __builtin_trap();
        }

        return 0;
    }

    if (strncmp(codec, "mp4a.40.", 8) != 0) {
        __builtin_trap();
    }

    aot = strtoul(codec + 8, &end, 10);
    if (*end != '\0' || aot == 0 || aot > 95 || aot != aac.object_type
        || aac.sample_rate == 0 || aac.channels > 15)
    {
        __builtin_trap();
    }

    return 0;
}
