
/*
 * vkstream vk: parsing of stream messages (see vks_vk_message.h).
 */


#include <string.h>

#include "vks_vk_message.h"
#include "util/vks_utf8.h"


static int vks_vk_message_event(vks_vk_message_t *m, json_t *ev,
    size_t text_max);
static int vks_vk_message_event_id(vks_vk_message_t *m, json_t *id);
static int vks_vk_message_status(vks_vk_message_t *m, json_t *obj,
    const char *code_key);
static int64_t vks_vk_message_int(json_t *obj, const char *key);
static const char *vks_vk_message_str(json_t *obj, const char *key);


typedef struct {
    const char  *name;
    int          value;
} vks_vk_message_name_t;


static const vks_vk_message_name_t  vks_vk_message_event_types[] = {
    { "post", VKS_VK_EVENT_POST },
    { "comment", VKS_VK_EVENT_COMMENT },
    { "share", VKS_VK_EVENT_SHARE },
    { "topic_post", VKS_VK_EVENT_TOPIC_POST },
    { NULL, 0 }
};


static const vks_vk_message_name_t  vks_vk_message_actions[] = {
    { "new", VKS_VK_ACTION_NEW },
    { "update", VKS_VK_ACTION_UPDATE },
    { "delete", VKS_VK_ACTION_DELETE },
    { "restore", VKS_VK_ACTION_RESTORE },
    { NULL, 0 }
};


static int
vks_vk_message_lookup(const vks_vk_message_name_t *names, const char *s)
{
    for ( /* void */ ; names->name; names++) {
        if (strcmp(names->name, s) == 0) {
            return names->value;
        }
    }

    return 0;
}


const char *
vks_vk_event_type_name(vks_vk_event_type_e type)
{
    const vks_vk_message_name_t  *n;

    for (n = vks_vk_message_event_types; n->name; n++) {
        if (n->value == (int) type) {
            return n->name;
        }
    }

    return "other";
}


int
vks_vk_message_parse(vks_vk_message_t *m, const char *data, size_t len,
    size_t text_max)
{
    int       rc;
    int64_t   code;
    json_t   *obj;

    memset(m, 0, sizeof(vks_vk_message_t));
    m->event_type = "";
    m->action_str = "";
    m->url = "";
    m->text = "";
    m->author_url = "";
    m->message = "";

    m->root = vks_vk_json_load(data, len, &rc, m->err, sizeof(m->err));

    if (m->root == NULL) {
        return rc;
    }

    if (vks_vk_json_int(json_object_get(m->root, "code"), &code) != 0) {
        vks_vk_json_set_err(m->err, sizeof(m->err), "no numeric \"code\"");
        return VKS_VK_ESCHEMA;
    }

    switch (code) {

    case VKS_VK_MSG_EVENT:
        m->code = VKS_VK_MSG_EVENT;
        obj = json_object_get(m->root, "event");

        if (!json_is_object(obj)) {
            vks_vk_json_set_err(m->err, sizeof(m->err),
                                "code 100 without an \"event\" object");
            return VKS_VK_ESCHEMA;
        }

        return vks_vk_message_event(m, obj, text_max);

    case VKS_VK_MSG_SERVICE:
        m->code = VKS_VK_MSG_SERVICE;
        return vks_vk_message_status(m,
                   json_object_get(m->root, "service_message"),
                   "service_code");

    case VKS_VK_MSG_ERROR:
        m->code = VKS_VK_MSG_ERROR;
        return vks_vk_message_status(m, json_object_get(m->root, "error"),
                                     "error_code");

    default:
        vks_vk_json_set_err(m->err, sizeof(m->err), "unknown code %lld",
                            (long long) code);
        return VKS_VK_ESCHEMA;
    }
}


void
vks_vk_message_free(vks_vk_message_t *m)
{
    if (m->root) {
        json_decref(m->root);
        m->root = NULL;
    }
}


static int
vks_vk_message_event(vks_vk_message_t *m, json_t *ev, size_t text_max)
{
    size_t       i, len;
    json_t      *tags, *tag, *author;
    const char  *s;

    s = vks_vk_json_str(ev, "event_type", NULL);

    if (s == NULL) {
        vks_vk_json_set_err(m->err, sizeof(m->err),
                            "event without a string \"event_type\"");
        return VKS_VK_ESCHEMA;
    }

    m->event_type = s;
    m->type = vks_vk_message_lookup(vks_vk_message_event_types, s);

    if (vks_vk_message_event_id(m, json_object_get(ev, "event_id")) != 0) {
        return VKS_VK_ESCHEMA;
    }

    tags = json_object_get(ev, "tags");

    if (!json_is_array(tags)) {
        vks_vk_json_set_err(m->err, sizeof(m->err),
                            "event without a \"tags\" array");
        return VKS_VK_ESCHEMA;
    }

    if (json_array_size(tags) > VKS_VK_MSG_MAX_TAGS) {
        vks_vk_json_set_err(m->err, sizeof(m->err), "%zu tags, more than %d",
                            json_array_size(tags), VKS_VK_MSG_MAX_TAGS);
        return VKS_VK_ESCHEMA;
    }

    json_array_foreach(tags, i, tag) {
        if (!json_is_string(tag)) {
            vks_vk_json_set_err(m->err, sizeof(m->err),
                                "tag %zu is not a string", i);
            return VKS_VK_ESCHEMA;
        }

        m->tags[m->ntags++] = json_string_value(tag);
    }

    /* everything below is optional */

    s = vks_vk_json_str(ev, "action", NULL);

    if (s) {
        m->action_str = s;
        m->action = vks_vk_message_lookup(vks_vk_message_actions, s);
    }

    m->url = vks_vk_message_str(ev, "event_url");

    s = vks_vk_json_str(ev, "text", &len);

    if (s) {
        m->text = s;
        m->text_full_len = len;
        m->text_len = (text_max && len > text_max)
                      ? vks_utf8_cut(s, len, text_max) : len;
    }

    m->creation_time = vks_vk_message_int(ev, "creation_time");
    m->action_time = vks_vk_message_int(ev, "action_time");

    author = json_object_get(ev, "author");

    if (json_is_object(author)) {
        m->author_id = vks_vk_message_int(author, "id");
        m->author_url = vks_vk_message_str(author, "author_url");
    }

    return VKS_VK_OK;
}


static int
vks_vk_message_event_id(vks_vk_message_t *m, json_t *id)
{
    if (!json_is_object(id)) {
        vks_vk_json_set_err(m->err, sizeof(m->err),
                            "event without an \"event_id\" object");
        return -1;
    }

    if (m->type == VKS_VK_EVENT_TOPIC_POST) {
        m->owner_id = vks_vk_message_int(id, "topic_owner_id");
        m->item_id = vks_vk_message_int(id, "topic_id");
        m->sub_id = vks_vk_message_int(id, "topic_post_id");
        return 0;
    }

    m->owner_id = vks_vk_message_int(id, "post_owner_id");
    m->item_id = vks_vk_message_int(id, "post_id");

    if (m->type == VKS_VK_EVENT_COMMENT) {
        m->sub_id = vks_vk_message_int(id, "comment_id");

    } else if (m->type == VKS_VK_EVENT_SHARE) {
        m->sub_id = vks_vk_message_int(id, "shared_post_id");
    }

    return 0;
}


static int
vks_vk_message_status(vks_vk_message_t *m, json_t *obj,
    const char *code_key)
{
    if (!json_is_object(obj)
        || vks_vk_json_int(json_object_get(obj, code_key), &m->status) != 0)
    {
        vks_vk_json_set_err(m->err, sizeof(m->err),
                            "code %d without a numeric \"%s\"",
                            m->code, code_key);
        return VKS_VK_ESCHEMA;
    }

    m->message = vks_vk_message_str(obj, "message");

    return VKS_VK_OK;
}


static int64_t
vks_vk_message_int(json_t *obj, const char *key)
{
    int64_t  v;

    if (vks_vk_json_int(json_object_get(obj, key), &v) != 0) {
        return 0;
    }

    return v;
}


static const char *
vks_vk_message_str(json_t *obj, const char *key)
{
    const char  *s;

    s = vks_vk_json_str(obj, key, NULL);

    return s ? s : "";
}
