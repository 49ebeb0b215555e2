
/*
 * Unit tests: vk/vks_vk_json and vks_vk_message, including hostile input.
 */


#include <stdlib.h>
#include <string.h>

#include "vk/vks_vk_message.h"
#include "vks_tap.h"


static int
parse(vks_vk_message_t *m, const char *s, size_t text_max)
{
    vks_vk_message_free(m);
    return vks_vk_message_parse(m, s, strlen(s), text_max);
}


static void
test_json(void)
{
    int      rc;
    char     err[VKS_VK_ERR_LEN];
    json_t  *v;
    int64_t  n;

    v = json_loads("[12, 1.5, 1e300, \"-42\", \"12a\", null, 9007199254740992,"
                   " \"1234567890123456789\"]", JSON_DECODE_INT_AS_REAL, NULL);
    ok(v != NULL, "json: test array loads");
    ok(vks_vk_json_int(json_array_get(v, 0), &n) == 0 && n == 12,
       "json_int: 12");
    ok(vks_vk_json_int(json_array_get(v, 1), &n) != 0, "json_int: 1.5 no");
    ok(vks_vk_json_int(json_array_get(v, 2), &n) != 0, "json_int: 1e300 no");
    ok(vks_vk_json_int(json_array_get(v, 3), &n) == 0 && n == -42,
       "json_int: \"-42\" as string");
    ok(vks_vk_json_int(json_array_get(v, 4), &n) != 0, "json_int: \"12a\" no");
    ok(vks_vk_json_int(json_array_get(v, 5), &n) != 0, "json_int: null no");
    ok(vks_vk_json_int(json_array_get(v, 6), &n) == 0
       && n == 9007199254740992LL, "json_int: 2^53");
    ok(vks_vk_json_int(json_array_get(v, 7), &n) != 0,
       "json_int: 19-digit string no");
    json_decref(v);

    v = vks_vk_json_load("[1]", 3, &rc, err, sizeof(err));
    ok(v == NULL && rc == VKS_VK_EJSON, "json_load: array is not an object");
    v = vks_vk_json_load("{\"a\":\"\xff\"}", 8, &rc, err, sizeof(err));
    ok(v == NULL && rc == VKS_VK_EUTF8, "json_load: invalid UTF-8 -> EUTF8");
    is_str(err, "invalid UTF-8", "json_load: UTF-8 reason");
    v = vks_vk_json_load("{\"a\":", 5, &rc, err, sizeof(err));
    ok(v == NULL && rc == VKS_VK_EJSON, "json_load: truncated -> EJSON");
    ok(strncmp(err, "bad JSON at ", 12) == 0, "json_load: JSON reason");
}


static void
test_event(void)
{
    int               rc;
    vks_vk_message_t  m;
    const char       *ev;

    memset(&m, 0, sizeof(m));

    ev = "{\"code\":100,\"event\":{\"event_type\":\"post\","
         "\"event_id\":{\"post_owner_id\":-1106,\"post_id\":1542},"
         "\"event_url\":\"https:\\/\\/vk.com\\/wall-1106_1542\","
         "\"text\":\"\xd0\x9c\xd0\xbe\xd0\xb9 \xd0\xba\xd0\xbe\xd1\x82<br>"
         "&quot;\",\"action\":\"new\",\"action_time\":1629039690,"
         "\"creation_time\":1629039686,\"attachments\":[{\"type\":\"photo\","
         "\"photo\":{\"id\":123456789012345678901234567890}}],"
         "\"geo\":{\"place\":{\"title\":\"x\"}},\"signer_id\":0,"
         "\"tags\":[\"cats\",\"vks:s:live/cam1\"],\"unknown\":{\"a\":[1]},"
         "\"author\":{\"id\":-1106,\"author_url\":\"https:\\/\\/vk.com\\/"
         "club1106\",\"platform\":4}}}";

    rc = parse(&m, ev, 0);
    is_int(rc, VKS_VK_OK, "event: parses (huge number in attachments)");
    is_int(m.code, 100, "event: code 100");
    is_int(m.type, VKS_VK_EVENT_POST, "event: type post");
    is_str(m.event_type, "post", "event: event_type string");
    is_int(m.owner_id, -1106, "event: post_owner_id");
    is_int(m.item_id, 1542, "event: post_id");
    is_int(m.sub_id, 0, "event: no sub id");
    is_str(m.url, "https://vk.com/wall-1106_1542", "event: url unescaped");
    is_mem(m.text, m.text_len,
           "\xd0\x9c\xd0\xbe\xd0\xb9 \xd0\xba\xd0\xbe\xd1\x82<br>&quot;",
           "event: text as sent");
    is_int(m.text_full_len, 23, "event: full text length");
    is_int(m.action, VKS_VK_ACTION_NEW, "event: action new");
    is_int(m.creation_time, 1629039686, "event: creation_time");
    is_int(m.action_time, 1629039690, "event: action_time");
    is_int(m.author_id, -1106, "event: author id");
    is_str(m.author_url, "https://vk.com/club1106", "event: author url");
    is_int(m.ntags, 2, "event: two tags");
    is_str(m.tags[0], "cats", "event: tag 0");
    is_str(m.tags[1], "vks:s:live/cam1", "event: tag 1");

    /* cut on a UTF-8 boundary: "Мой" is 6 bytes, cutting at 5 gives 4 */
    rc = parse(&m, ev, 5);
    is_int(rc, VKS_VK_OK, "event cut: parses");
    is_int(m.text_len, 4, "event cut: 5 bytes cut back to 4");
    is_mem(m.text, m.text_len, "\xd0\x9c\xd0\xbe", "event cut: two letters");
    is_int(m.text_full_len, 23, "event cut: full length kept");

    rc = parse(&m, "{\"code\":100,\"event\":{\"event_type\":\"comment\","
               "\"event_id\":{\"post_owner_id\":\"-5\",\"post_id\":7,"
               "\"comment_id\":9},\"tags\":[]}}", 0);
    is_int(rc, VKS_VK_OK, "comment: minimal event parses");
    is_int(m.type, VKS_VK_EVENT_COMMENT, "comment: type");
    is_int(m.owner_id, -5, "comment: owner id from a string");
    is_int(m.sub_id, 9, "comment: comment_id");
    is_int(m.ntags, 0, "comment: no tags");
    is_str(m.url, "", "comment: missing url is empty");
    is_int(m.text_len, 0, "comment: missing text is empty");
    is_int(m.creation_time, 0, "comment: missing time is 0");
    is_int(m.action, VKS_VK_ACTION_OTHER, "comment: no action");

    rc = parse(&m, "{\"code\":100,\"event\":{\"event_type\":\"share\","
               "\"event_id\":{\"post_owner_id\":1,\"post_id\":2,"
               "\"shared_post_id\":3},\"tags\":[\"a\"],\"action\":\"restore\","
               "\"text\":42,\"author\":\"nobody\",\"creation_time\":\"x\"}}",
               0);
    is_int(rc, VKS_VK_OK, "share: wrong-typed optional fields tolerated");
    is_int(m.sub_id, 3, "share: shared_post_id");
    is_int(m.action, VKS_VK_ACTION_RESTORE, "share: action restore");
    is_int(m.text_len, 0, "share: numeric text ignored");
    is_int(m.author_id, 0, "share: string author ignored");
    is_int(m.creation_time, 0, "share: string time ignored");

    rc = parse(&m, "{\"code\":100,\"event\":{\"event_type\":\"topic_post\","
               "\"event_id\":{\"topic_owner_id\":-8,\"topic_id\":88,"
               "\"topic_post_id\":888},\"tags\":[\"t\"]}}", 0);
    is_int(rc, VKS_VK_OK, "topic_post: parses");
    ok(m.owner_id == -8 && m.item_id == 88 && m.sub_id == 888,
       "topic_post: topic ids");

    rc = parse(&m, "{\"code\":100,\"event\":{\"event_type\":\"story\","
               "\"event_id\":{},\"tags\":[\"t\"]}}", 0);
    is_int(rc, VKS_VK_OK, "unknown event_type: accepted");
    is_int(m.type, VKS_VK_EVENT_OTHER, "unknown event_type: OTHER");
    is_str(m.event_type, "story", "unknown event_type: name kept");
    is_str(vks_vk_event_type_name(VKS_VK_EVENT_SHARE), "share",
           "event_type_name");
    vks_vk_message_free(&m);
    ok(m.root == NULL, "free clears the document");
}


static void
test_service(void)
{
    int               rc;
    vks_vk_message_t  m;

    memset(&m, 0, sizeof(m));

    rc = parse(&m, "{\"code\":300,\"service_message\":{\"message\":"
               "\"Pong wait timeout\",\"service_code\":3001}}", 0);
    is_int(rc, VKS_VK_OK, "300: parses");
    is_int(m.code, 300, "300: code");
    is_int(m.status, 3001, "300: service_code");
    is_str(m.message, "Pong wait timeout", "300: message");

    rc = parse(&m, "{\"code\":400,\"error\":{\"message\":\"Can't parse\","
               "\"error_code\":2000}}", 0);
    is_int(rc, VKS_VK_OK, "400: parses");
    is_int(m.code, 400, "400: code");
    is_int(m.status, 2000, "400: error_code");
    is_str(m.message, "Can't parse", "400: message");

    rc = parse(&m, "{\"code\":300,\"service_message\":{\"message\":\"x\"}}",
               0);
    is_int(rc, VKS_VK_ESCHEMA, "300 without service_code: schema error");
    rc = parse(&m, "{\"code\":400,\"error\":[]}", 0);
    is_int(rc, VKS_VK_ESCHEMA, "400 with an array: schema error");
    vks_vk_message_free(&m);
}


static void
test_hostile(void)
{
    int               rc;
    char              big[64];
    size_t            i;
    vks_vk_message_t  m;
    const char       *ev;
    char             *many;

    static const struct {
        const char  *json;
        int          rc;
        const char  *name;
    } cases[] = {
        { "", VKS_VK_EJSON, "empty input" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",", VKS_VK_EJSON,
          "truncated JSON" },
        { "{\"code\":100} trailing", VKS_VK_EJSON, "trailing garbage" },
        { "null", VKS_VK_EJSON, "top-level null" },
        { "\"code\"", VKS_VK_EJSON, "top-level string" },
        { "{}", VKS_VK_ESCHEMA, "no code" },
        { "{\"code\":\"abc\"}", VKS_VK_ESCHEMA, "code is a word" },
        { "{\"code\":1e999}", VKS_VK_EJSON, "code overflows a double" },
        { "{\"code\":99999999999999999999999}", VKS_VK_ESCHEMA,
          "code is a huge integer" },
        { "{\"code\":200}", VKS_VK_ESCHEMA, "unknown code" },
        { "{\"code\":100}", VKS_VK_ESCHEMA, "event missing" },
        { "{\"code\":100,\"event\":[]}", VKS_VK_ESCHEMA, "event is array" },
        { "{\"code\":100,\"event\":{\"event_id\":{},\"tags\":[]}}",
          VKS_VK_ESCHEMA, "event_type missing" },
        { "{\"code\":100,\"event\":{\"event_type\":7,\"event_id\":{},"
          "\"tags\":[]}}", VKS_VK_ESCHEMA, "event_type is a number" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"tags\":[]}}",
          VKS_VK_ESCHEMA, "event_id missing" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"event_id\":5,"
          "\"tags\":[]}}", VKS_VK_ESCHEMA, "event_id is a number" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"event_id\":{}}}",
          VKS_VK_ESCHEMA, "tags missing" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"event_id\":{},"
          "\"tags\":\"cats\"}}", VKS_VK_ESCHEMA, "tags is a string" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"event_id\":{},"
          "\"tags\":[\"a\",1]}}", VKS_VK_ESCHEMA, "a tag is a number" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"event_id\":{},"
          "\"tags\":[],\"text\":\"a\\u0000b\"}}", VKS_VK_EJSON,
          "NUL escape in text" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"event_id\":{},"
          "\"tags\":[],\"text\":\"\\ud800\"}}", VKS_VK_EJSON,
          "lone surrogate escape" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"event_id\":{},"
          "\"tags\":[],\"text\":\"\xd0\xba\xff\"}}", VKS_VK_EUTF8,
          "invalid UTF-8 in text" },
        { "{\"code\":100,\"event\":{\"event_type\":\"post\",\"event_id\":{},"
          "\"tags\":[],\"text\":\"\xc0\xaf\"}}", VKS_VK_EUTF8,
          "overlong UTF-8 in text" },
        { NULL, 0, NULL }
    };

    memset(&m, 0, sizeof(m));

    for (i = 0; cases[i].json; i++) {
        rc = parse(&m, cases[i].json, 0);
        is_int(rc, cases[i].rc, cases[i].name);
        ok(m.err[0] != '\0', "  ... with a reason");
    }

    /* huge numbers in used fields: ignored, not fatal */

    rc = parse(&m, "{\"code\":100,\"event\":{\"event_type\":\"post\","
               "\"event_id\":{\"post_owner_id\":1e30,\"post_id\":-0.5},"
               "\"tags\":[],\"creation_time\":18446744073709551616}}", 0);
    is_int(rc, VKS_VK_OK, "huge ids: event still parses");
    ok(m.owner_id == 0 && m.item_id == 0 && m.creation_time == 0,
       "huge ids: read as absent");

    /* deep nesting in an unknown field */

    many = malloc(4000 * 2 + 200);
    strcpy(many, "{\"code\":100,\"x\":");
    i = strlen(many);
    memset(many + i, '[', 4000);
    memset(many + i + 4000, ']', 4000);
    strcpy(many + i + 8000, "}");
    rc = parse(&m, many, 0);
    ok(rc == VKS_VK_EJSON || rc == VKS_VK_ESCHEMA,
       "deep nesting: rejected, no crash");
    free(many);

    /* more tags than rules can exist */

    many = malloc(400 * 4 + 200);
    strcpy(many, "{\"code\":100,\"event\":{\"event_type\":\"post\","
           "\"event_id\":{},\"tags\":[");

    for (i = 0; i < 301; i++) {
        strcat(many, i ? ",\"t\"" : "\"t\"");
    }

    strcat(many, "]}}");
    rc = parse(&m, many, 0);
    is_int(rc, VKS_VK_ESCHEMA, "301 tags: rejected");
    free(many);

    /* length is honoured: a NUL-free prefix of a valid message */

    ev = "{\"code\":300,\"service_message\":{\"service_code\":3000}}XXXX";
    vks_vk_message_free(&m);
    rc = vks_vk_message_parse(&m, ev, strlen(ev) - 4, 0);
    is_int(rc, VKS_VK_OK, "length honoured (no NUL needed)");
    vks_vk_message_free(&m);

    snprintf(big, sizeof(big), "{\"code\":%s}", "100.0");
    rc = parse(&m, big, 0);
    is_int(rc, VKS_VK_ESCHEMA, "code 100.0 counts as 100, event missing");
    vks_vk_message_free(&m);
}


int
main(void)
{
    test_json();
    test_event();
    test_service();
    test_hostile();

    return done_testing();
}
