
/*
 * vkstream fuzz: the media ingest path.  The input is a sequence of RTMP
 * message records, each fed through the FLV parsers into the transcoder's
 * decode stage, media/vks_decoder.c (sequence headers, decoder setup,
 * H.264/AAC and the other FLV audio decoders, timeline, layout settling),
 * as for a context with one encode and one copy rendition; what it hands
 * on is freed, as by a context without renditions.
 *
 * Record: type (bit 0: audio), timestamp (4 bytes LE), length (2 bytes LE,
 * cut to what is left), body.
 */


#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>

#include "media/vks_decoder.h"


#define FUZZ_HDR  7


static void
fuzz_log(void *data, int level, const char *msg)
{
    (void) data;
    (void) level;
    (void) msg;
}


static void
fuzz_output(void *data, vks_item_t *item)
{
    (void) data;

    vks_item_free(item);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  type;
    size_t               len;
    uint8_t             *body;
    uint32_t             ts;
    vks_decoder_t       *d;
    vks_flv_audio_t      a;
    vks_flv_video_t      v;
    vks_decoder_conf_t   conf;
    static int           inited;

    if (!inited) {
        inited = 1;
        av_log_set_level(AV_LOG_QUIET);
    }

    memset(&conf, 0, sizeof(vks_decoder_conf_t));
    conf.name = "fuzz";
    conf.decode_video = 1;
    conf.decode_audio = 1;
    conf.copy_video = 1;
    conf.copy_audio = 1;
    conf.hint_video = VKS_HINT_UNKNOWN;
    conf.hint_audio = VKS_HINT_UNKNOWN;
    conf.output = fuzz_output;
    conf.log = fuzz_log;

    d = vks_decoder_create(&conf);
    if (d == NULL) {
        return 0;
    }

    while (size >= FUZZ_HDR) {
        len = data[5] | (size_t) data[6] << 8;
        if (len > size - FUZZ_HDR) {
            len = size - FUZZ_HDR;
        }

        /* the queue's copy, so ASan sees the exact bounds */
        body = malloc(len ? len : 1);
        if (body == NULL) {
            break;
        }

        memcpy(body, data + FUZZ_HDR, len);

        type = (data[0] & 1) ? VKS_PACKET_AUDIO : VKS_PACKET_VIDEO;
        ts = data[1] | (uint32_t) data[2] << 8
             | (uint32_t) data[3] << 16 | (uint32_t) data[4] << 24;

        if (type == VKS_PACKET_VIDEO) {
            (void) vks_flv_parse_video(body, len, &v);
        } else {
            (void) vks_flv_parse_audio(body, len, &a);
        }

        vks_decoder_feed(d, type, ts, body, len);
        free(body);

        data += FUZZ_HDR + len;
        size -= FUZZ_HDR + len;
    }

    vks_decoder_flush(d);
    vks_decoder_free(d);

    return 0;
}
