
/*
 * vkstream vk: one message of the stream, parsed into a plain struct.
 * Code 100 is an event, 300 a service message, 400 an error.  Only
 * event_type, event_id and tags are required of an event; other fields of
 * a wrong type are treated as missing and unknown ones are ignored.
 * Strings point into the parsed document, valid until vks_vk_message_free().
 * Plain C, no nginx types.
 */


#ifndef _VKS_VK_MESSAGE_H_INCLUDED_
#define _VKS_VK_MESSAGE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "vks_vk_json.h"


#define VKS_VK_MSG_EVENT       100
#define VKS_VK_MSG_SERVICE     300
#define VKS_VK_MSG_ERROR       400

/* one tag per rule at most, and a rule limit of 300 */
#define VKS_VK_MSG_MAX_TAGS    300


typedef enum {
    VKS_VK_EVENT_OTHER = 0,
    VKS_VK_EVENT_POST,
    VKS_VK_EVENT_COMMENT,
    VKS_VK_EVENT_SHARE,
    VKS_VK_EVENT_TOPIC_POST
} vks_vk_event_type_e;


typedef enum {
    VKS_VK_ACTION_OTHER = 0,
    VKS_VK_ACTION_NEW,
    VKS_VK_ACTION_UPDATE,
    VKS_VK_ACTION_DELETE,
    VKS_VK_ACTION_RESTORE
} vks_vk_action_e;


typedef struct {
    json_t               *root;
    int                   code;

    /* code 100 */
    vks_vk_event_type_e   type;
    const char           *event_type;     /* as sent */
    vks_vk_action_e       action;
    const char           *action_str;     /* as sent, "" if missing */

    /*
     * event_id: owner is post_owner_id (topic_owner_id), item is post_id
     * (topic_id), sub is comment_id, shared_post_id or topic_post_id;
     * 0 when absent
     */
    int64_t               owner_id;
    int64_t               item_id;
    int64_t               sub_id;

    const char           *url;            /* "" if missing */
    const char           *text;           /* "" if missing, not NUL-ended */
    size_t                text_len;       /* after the cut */
    size_t                text_full_len;

    int64_t               author_id;
    const char           *author_url;     /* "" if missing */
    int64_t               creation_time;  /* 0 if missing */
    int64_t               action_time;

    size_t                ntags;
    const char           *tags[VKS_VK_MSG_MAX_TAGS];

    /* code 300 and 400 */
    int64_t               status;         /* service_code or error_code */
    const char           *message;        /* "" if missing */

    char                  err[VKS_VK_ERR_LEN];
} vks_vk_message_t;


/*
 * Parses data[0..len).  text_max is the byte length the text is cut to (on
 * a UTF-8 boundary; 0 = no cut).  Returns VKS_VK_OK or a negative
 * VKS_VK_E* code with the reason in m->err.  Call vks_vk_message_free()
 * in either case.
 */
int vks_vk_message_parse(vks_vk_message_t *m, const char *data, size_t len,
    size_t text_max);

void vks_vk_message_free(vks_vk_message_t *m);

const char *vks_vk_event_type_name(vks_vk_event_type_e type);


#endif /* _VKS_VK_MESSAGE_H_INCLUDED_ */
