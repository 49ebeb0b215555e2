
/*
 * vkstream fuzz: the media ingest path.  The input is a sequence of RTMP
 * message records, each fed through the FLV parsers into the transcoder's
 * decoder thread code (sequence headers, decoder setup, H.264/AAC and the
 * other FLV audio decoders, timeline, layout settling).  The transcoder
 * source is included so its static input functions run without threads or
 * renditions: nothing in media/ changes for the fuzzer.
 *
 * Record: type (bit 0: audio), timestamp (4 bytes LE), length (2 bytes LE,
 * cut to what is left), body.
 */


#include "../ngx_vkstream_module/media/vks_transcoder.c"


#define FUZZ_HDR  7


static void
fuzz_log(void *data, int level, const char *msg)
{
    (void) data;
    (void) level;
    (void) msg;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             len;
    vks_packet_t      *p;
    vks_item_t        *item, *next;
    vks_flv_audio_t    a;
    vks_flv_video_t    v;
    vks_transcoder_t  *t;
    static int         inited;

    if (!inited) {
        inited = 1;
        av_log_set_level(AV_LOG_QUIET);
    }

    t = calloc(1, sizeof(vks_transcoder_t));
    if (t == NULL) {
        return 0;
    }

    /* as vks_transcoder_start() with one encode and one copy rendition */
    snprintf(t->conf.name, sizeof(t->conf.name), "fuzz");
    t->conf.log = fuzz_log;
    t->conf.hint_video = VKS_HINT_UNKNOWN;
    t->conf.hint_audio = VKS_HINT_UNKNOWN;
    t->first_ms = INT64_MIN;
    t->first_key_ms = INT64_MIN;
    t->last_vdts = INT64_MIN;
    t->audio_format = -1;
    t->decode_video = 1;
    t->decode_audio = 1;
    t->copy_video = 1;
    t->copy_audio = 1;
    vks_timeline_init(&t->tl);
    pthread_mutex_init(&t->mutex, NULL);
    t->pkt = av_packet_alloc();
    t->frame = av_frame_alloc();

    while (size >= FUZZ_HDR && t->pkt && t->frame) {
        len = data[5] | (size_t) data[6] << 8;
        if (len > size - FUZZ_HDR) {
            len = size - FUZZ_HDR;
        }

        /* the queue's copy, so ASan sees the exact bounds */
        p = malloc(sizeof(vks_packet_t) + len);
        if (p == NULL) {
            break;
        }

        memset(p, 0, sizeof(vks_packet_t));
        p->type = (data[0] & 1) ? VKS_PACKET_AUDIO : VKS_PACKET_VIDEO;
        p->ts = data[1] | (uint32_t) data[2] << 8
                | (uint32_t) data[3] << 16 | (uint32_t) data[4] << 24;
        p->len = len;
        memcpy(p->data, data + FUZZ_HDR, len);

        if (p->type == VKS_PACKET_VIDEO) {
            (void) vks_flv_parse_video(p->data, p->len, &v);
        } else {
            (void) vks_flv_parse_audio(p->data, p->len, &a);
        }

        vks_feed(t, p);     /* the decoder thread's own step */
        free(p);

        data += FUZZ_HDR + len;
        size -= FUZZ_HDR + len;
    }

    for (item = t->pending; item; item = next) {
        next = item->next;
        vks_item_free(item);
    }

    vks_free_input(t);    /* as vks_transcoder_free() does */

    return 0;
}
