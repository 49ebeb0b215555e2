
/*
 * vkstream media: the items between the decode stage and the renditions.
 */


#include <stdlib.h>
#include <string.h>
#include "vks_item.h"


vks_item_t *
vks_item_new(int kind)
{
    vks_item_t  *item;

    item = calloc(1, sizeof(vks_item_t));
    if (item) {
        item->kind = kind;
    }

    return item;
}


void
vks_item_free(vks_item_t *item)
{
    av_frame_free(&item->frame);
    av_packet_free(&item->pkt);
    vks_stream_info_free(item->info);
    free(item);
}


vks_stream_info_t *
vks_stream_info_dup(const vks_stream_info_t *info)
{
    vks_stream_info_t  *copy;

    copy = calloc(1, sizeof(vks_stream_info_t));
    if (copy == NULL) {
        return NULL;
    }

    *copy = *info;
    copy->avcc = NULL;
    copy->asc = NULL;

    if (info->avcc_len) {
        copy->avcc = malloc(info->avcc_len);
        if (copy->avcc == NULL) {
            goto failed;
        }
        memcpy(copy->avcc, info->avcc, info->avcc_len);
    }

    if (info->asc_len) {
        copy->asc = malloc(info->asc_len);
        if (copy->asc == NULL) {
            goto failed;
        }
        memcpy(copy->asc, info->asc, info->asc_len);
    }

    return copy;

failed:

    vks_stream_info_free(copy);
    return NULL;
}


void
vks_stream_info_free(vks_stream_info_t *info)
{
    if (info) {
        free(info->avcc);
        free(info->asc);
        free(info);
    }
}
