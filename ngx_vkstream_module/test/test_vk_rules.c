
/*
 * Unit tests: vk/vks_vk_rules (own tags, bodies, answers, reconciliation).
 */


#include <stdlib.h>
#include <string.h>

#include "vk/vks_vk_rules.h"
#include "vks_tap.h"


static void
test_tags(void)
{
    int           n;
    char          buf[VKS_VK_TAG_MAX + 1], name[300];
    vks_vk_tag_t  t;

    n = vks_vk_tag_encode(buf, VKS_VK_TAG_STREAM, "live", "cam1", 0);
    is_str(buf, "vks:s:live/cam1", "tag: simple stream");
    is_int(n, 15, "tag: its length");
    is_int(vks_vk_tag_decode(buf, n, &t), VKS_VK_TAG_STREAM,
           "tag: decodes as stream");
    is_str(t.app, "live", "tag: app back");
    is_str(t.name, "cam1", "tag: name back");
    is_int(t.index, 0, "tag: index 0");

    n = vks_vk_tag_encode(buf, VKS_VK_TAG_STREAM, "li/ve", "ка м#1%", 12);
    is_str(buf, "vks:s:li%2Fve/%D0%BA%D0%B0%20%D0%BC%231%25#12",
           "tag: escaped with index");
    is_int(vks_vk_tag_decode(buf, n, &t), VKS_VK_TAG_STREAM,
           "tag: escaped decodes");
    is_str(t.app, "li/ve", "tag: escaped app back");
    is_str(t.name, "ка м#1%", "tag: escaped name back");
    is_int(t.index, 12, "tag: index 12");

    n = vks_vk_tag_encode(buf, VKS_VK_TAG_GLOBAL, NULL, "news", 3);
    is_str(buf, "vks:g:news#3", "tag: global");
    is_int(vks_vk_tag_decode(buf, n, &t), VKS_VK_TAG_GLOBAL,
           "tag: global decodes");
    is_str(t.name, "news", "tag: global name");

    is_int(vks_vk_tag_encode(buf, VKS_VK_TAG_STREAM, "", "x", 0), -1,
           "tag: empty app refused");
    is_int(vks_vk_tag_encode(buf, VKS_VK_TAG_GLOBAL, NULL, "", 0), -1,
           "tag: empty name refused");
    is_int(vks_vk_tag_encode(buf, VKS_VK_TAG_FOREIGN, "a", "b", 0), -1,
           "tag: foreign kind refused");
    n = vks_vk_tag_encode(buf, VKS_VK_TAG_GLOBAL, NULL, "x", 999999999);
    is_str(buf, "vks:g:x#999999999", "tag: largest index");
    is_int(vks_vk_tag_decode(buf, n, &t), VKS_VK_TAG_GLOBAL,
           "tag: largest index decodes");
    is_int(t.index, 999999999, "tag: largest index back");
    is_int(vks_vk_tag_encode(buf, VKS_VK_TAG_GLOBAL, NULL, "x", 1000000000),
           -1, "tag: index of 10 digits refused");

    /* exactly 256 bytes: "vks:s:" (6) + "a" + "/" + 248 = 256 */

    memset(name, 'n', 248);
    name[248] = '\0';
    n = vks_vk_tag_encode(buf, VKS_VK_TAG_STREAM, "a", name, 0);
    is_int(n, 256, "tag: exactly 256 bytes accepted");
    is_int(strlen(buf), 256, "tag: NUL-terminated at 256");
    is_int(vks_vk_tag_decode(buf, n, &t), VKS_VK_TAG_STREAM,
           "tag: 256 bytes decodes");
    is_int(strlen(t.name), 248, "tag: 248-byte name back");

    name[248] = 'n';
    name[249] = '\0';
    is_int(vks_vk_tag_encode(buf, VKS_VK_TAG_STREAM, "a", name, 0), -1,
           "tag: 257 bytes refused");

    /* escaping counts: 83 Cyrillic letters = 166 bytes = 498 escaped */

    name[0] = '\0';

    for (n = 0; n < 83; n++) {
        strcat(name, "я");
    }

    is_int(vks_vk_tag_encode(buf, VKS_VK_TAG_STREAM, "a", name, 0), -1,
           "tag: escaped length counts");
    is_int(vks_vk_tag_encode(buf, VKS_VK_TAG_GLOBAL, NULL, "яяяяяяяяяяяяяяяяя"
           "яяяяяяяяяяяяяяяяяяяяяяяя", 0), 252,
           "tag: 41 letters escaped = 252 bytes fits");

    /* foreign and malformed tags */

#define FOREIGN(s, what)                                                     \
    is_int(vks_vk_tag_decode(s, strlen(s), &t), VKS_VK_TAG_FOREIGN, what)

    FOREIGN("cats", "decode: plain foreign tag");
    FOREIGN("", "decode: empty");
    FOREIGN("vks:", "decode: bare prefix");
    FOREIGN("vks:x:a/b", "decode: unknown kind");
    FOREIGN("vks:s:ab", "decode: stream without slash");
    FOREIGN("vks:s:/b", "decode: empty app");
    FOREIGN("vks:s:a/", "decode: empty name");
    FOREIGN("vks:s:a/b/c", "decode: raw slash in name");
    FOREIGN("vks:s:a/b%2", "decode: short escape");
    FOREIGN("vks:s:a/b%zz", "decode: bad hex");
    FOREIGN("vks:s:a/b%2f", "decode: lowercase hex not canonical");
    FOREIGN("vks:s:a/%41", "decode: needless escape not canonical");
    FOREIGN("vks:s:a/b%00", "decode: NUL escape");
    FOREIGN("vks:s:a/b c", "decode: raw space");
    FOREIGN("vks:s:a/b#0", "decode: index 0 spelled");
    FOREIGN("vks:s:a/b#01", "decode: leading zero");
    FOREIGN("vks:s:a/b#", "decode: empty index");
    FOREIGN("vks:s:a/b#1x", "decode: bad index");
    FOREIGN("vks:s:a/b#12345678901", "decode: index too long");
    FOREIGN("VKS:s:a/b", "decode: prefix is case-sensitive");

#undef FOREIGN

    memset(name, 'n', 257);
    memcpy(name, "vks:g:", 6);
    name[257] = '\0';
    is_int(vks_vk_tag_decode(name, 257, &t), VKS_VK_TAG_FOREIGN,
           "decode: 257 bytes is foreign");
    is_int(vks_vk_tag_decode(name, 256, &t), VKS_VK_TAG_GLOBAL,
           "decode: its 256-byte prefix is ours");
}


static void
test_bodies(void)
{
    char  *s;

    s = vks_vk_rules_add_body("кот -\"собака\"", "vks:s:live/cam1");
    is_str(s, "{\"rule\":{\"value\":\"кот -\\\"собака\\\"\","
              "\"tag\":\"vks:s:live/cam1\"}}", "add body");
    free(s);

    s = vks_vk_rules_delete_body("cats");
    is_str(s, "{\"tag\":\"cats\"}", "delete body");
    free(s);

    s = vks_vk_rules_add_body("\xff", "t");
    ok(s == NULL, "add body: invalid UTF-8 refused");
    free(s);
}


static void
test_answers(void)
{
    int                 rc;
    char                err[VKS_VK_ERR_LEN];
    int64_t             code;
    const char         *s;
    vks_vk_rule_list_t  l;

    s = "{\"code\":200,\"rules\":[{\"value\":\"кот\",\"tag\":\"cats\"},"
        "{\"tag\":\"vks:s:live/a\",\"value\":\"a b\",\"extra\":1}]}";
    rc = vks_vk_rules_parse_list(s, strlen(s), &l);
    is_int(rc, VKS_VK_OK, "list: parses");
    is_int(l.n, 2, "list: two rules");
    is_str(l.rules[0].value, "кот", "list: value 0");
    is_str(l.rules[0].tag, "cats", "list: tag 0");
    is_str(l.rules[1].value, "a b", "list: value 1");
    is_str(l.rules[1].tag, "vks:s:live/a", "list: tag 1");
    vks_vk_rules_free(&l);

    s = "{\"code\":200,\"rules\":null}";
    rc = vks_vk_rules_parse_list(s, strlen(s), &l);
    ok(rc == VKS_VK_OK && l.n == 0 && l.rules == NULL, "list: null is empty");
    vks_vk_rules_free(&l);

    s = "{\"code\":200}";
    rc = vks_vk_rules_parse_list(s, strlen(s), &l);
    ok(rc == VKS_VK_OK && l.n == 0, "list: missing rules is empty");

    s = "{\"code\":200,\"rules\":[]}";
    rc = vks_vk_rules_parse_list(s, strlen(s), &l);
    ok(rc == VKS_VK_OK && l.n == 0, "list: [] is empty");

    s = "{\"code\":400,\"error\":{\"message\":\"Invalid key\","
        "\"error_code\":1004}}";
    rc = vks_vk_rules_parse_list(s, strlen(s), &l);
    is_int(rc, VKS_VK_EAPI, "list: error envelope");
    is_int(l.error_code, 1004, "list: error code 1004");
    is_str(l.err, "Invalid key", "list: error message");

    s = "{\"code\":200,\"rules\":{\"value\":\"a\"}}";
    is_int(vks_vk_rules_parse_list(s, strlen(s), &l), VKS_VK_ESCHEMA,
           "list: rules object refused");
    s = "{\"code\":200,\"rules\":[{\"value\":\"a\"}]}";
    is_int(vks_vk_rules_parse_list(s, strlen(s), &l), VKS_VK_ESCHEMA,
           "list: rule without tag refused");
    s = "{\"code\":200,\"rules\":[{\"value\":1,\"tag\":\"t\"}]}";
    is_int(vks_vk_rules_parse_list(s, strlen(s), &l), VKS_VK_ESCHEMA,
           "list: numeric value refused");
    s = "{\"code\":200,\"rules\":[\"a\"]}";
    is_int(vks_vk_rules_parse_list(s, strlen(s), &l), VKS_VK_ESCHEMA,
           "list: string rule refused");
    s = "{\"code\":200,\"rules\":[{\"value\":\"a\",\"tag\":\"t\"}";
    is_int(vks_vk_rules_parse_list(s, strlen(s), &l), VKS_VK_EJSON,
           "list: truncated JSON");
    s = "{\"code\":500}";
    is_int(vks_vk_rules_parse_list(s, strlen(s), &l), VKS_VK_ESCHEMA,
           "list: code 500 without error");
    ok(l.rules == NULL && l.n == 0, "list: nothing allocated on failure");

    /* POST/DELETE answers and the rule errors */

    s = "{\"code\":200}";
    rc = vks_vk_rules_parse_result(s, strlen(s), &code, err, sizeof(err));
    ok(rc == VKS_VK_OK && code == 0, "result: 200");

    static const struct {
        int          code;
        const char  *msg;
    } errs[] = {
        { 2000, "Can't parse json" }, { 2001, "Tag already exist" },
        { 2002, "Tag does not exist" }, { 2003, "Can't parse rule" },
        { 2004, "Too many words in rule" }, { 2005, "Unbalanced quotes" },
        { 2006, "Too many rules" },
        { 2008, "Rule should contain at least one positive keyword" },
        { 0, NULL }
    };

    char  json[256], name[80];
    int   i;

    for (i = 0; errs[i].msg; i++) {
        snprintf(json, sizeof(json), "{\"code\":400,\"error\":{\"message\":"
                 "\"%s\",\"error_code\":%d}}", errs[i].msg, errs[i].code);
        rc = vks_vk_rules_parse_result(json, strlen(json), &code, err,
                                       sizeof(err));
        snprintf(name, sizeof(name), "result: error %d", errs[i].code);
        ok(rc == VKS_VK_EAPI && code == errs[i].code
           && strcmp(err, errs[i].msg) == 0, name);
        ok(vks_vk_rules_error_permanent(code), "  ... permanent");
    }

    ok(!vks_vk_rules_error_permanent(1004), "1004 not a rule error");

    s = "{\"code\":400,\"error\":{\"error_code\":\"2001\"}}";
    rc = vks_vk_rules_parse_result(s, strlen(s), &code, err, sizeof(err));
    ok(rc == VKS_VK_EAPI && code == 2001 && err[0] == '\0',
       "result: quoted code, no message");

    s = "{\"code\":400,\"error\":{\"message\":\"x\"}}";
    is_int(vks_vk_rules_parse_result(s, strlen(s), &code, err, sizeof(err)),
           VKS_VK_ESCHEMA, "result: error without code");
    s = "<html>502</html>";
    is_int(vks_vk_rules_parse_result(s, strlen(s), &code, err, sizeof(err)),
           VKS_VK_EJSON, "result: HTML");
}


static int
has(const size_t *idx, size_t n, size_t want)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (idx[i] == want) {
            return 1;
        }
    }

    return 0;
}


static void
test_plan(void)
{
    int            rc;
    size_t         i;
    vks_vk_plan_t  p;

    vks_vk_rule_t  desired[] = {
        { "кот", "vks:s:live/cam1" },           /* unchanged */
        { "пёс новый", "vks:s:live/cam2" },     /* value changed */
        { "музыка", "vks:s:live/cam3" },        /* new */
        { "новости", "vks:g:news" },            /* new global */
        { "другое", "vks:s:live/cam3" },        /* duplicate tag */
    };

    vks_vk_rule_t  current[] = {
        { "кот", "vks:s:live/cam1" },
        { "пёс", "vks:s:live/cam2" },
        { "старое", "vks:s:live/gone" },        /* own, stale */
        { "чужое", "cats" },                    /* foreign */
        { "старое", "vks:g:old#2" },            /* own global, stale */
        { "ещё", "vks:s:li ve/x" },             /* looks own, is not */
    };

    rc = vks_vk_rules_plan(desired, 5, current, 6, 0, &p);
    is_int(rc, 0, "plan: ok");
    is_int(p.ndel, 3, "plan: three deletes");
    ok(has(p.del, p.ndel, 1), "plan: changed value deleted");
    ok(has(p.del, p.ndel, 2), "plan: stale own stream rule deleted");
    ok(has(p.del, p.ndel, 4), "plan: stale own global rule deleted");
    ok(!has(p.del, p.ndel, 3), "plan: foreign rule left alone");
    ok(!has(p.del, p.ndel, 5), "plan: non-canonical tag is foreign");
    is_int(p.nforeign, 2, "plan: two foreign");
    is_int(p.nkeep, 1, "plan: one kept");
    is_int(p.nadd, 3, "plan: three adds");
    ok(has(p.add, p.nadd, 1), "plan: changed value added again");
    ok(has(p.add, p.nadd, 2), "plan: new stream rule added");
    ok(has(p.add, p.nadd, 3), "plan: new global rule added");
    ok(!has(p.add, p.nadd, 0), "plan: unchanged not added");
    ok(!has(p.add, p.nadd, 4), "plan: duplicate tag not added");
    vks_vk_plan_free(&p);

    rc = vks_vk_rules_plan(desired, 5, current, 6,
                           VKS_VK_PLAN_DELETE_FOREIGN, &p);
    is_int(p.ndel, 5, "plan foreign: five deletes");
    ok(has(p.del, p.ndel, 3) && has(p.del, p.ndel, 5),
       "plan foreign: foreign deleted when told");
    is_int(p.nforeign, 0, "plan foreign: none left");
    vks_vk_plan_free(&p);

    rc = vks_vk_rules_plan(NULL, 0, current, 6, 0, &p);
    is_int(p.ndel, 4, "plan: nothing desired deletes own only");
    is_int(p.nadd, 0, "plan: nothing desired adds nothing");
    vks_vk_plan_free(&p);

    rc = vks_vk_rules_plan(desired, 4, NULL, 0, 0, &p);
    is_int(p.ndel, 0, "plan: empty server deletes nothing");
    is_int(p.nadd, 4, "plan: empty server adds all");

    for (i = 0; i < p.nadd; i++) {
        if (p.add[i] != i) {
            break;
        }
    }

    is_int(i, 4, "plan: adds in desired order");
    vks_vk_plan_free(&p);

    rc = vks_vk_rules_plan(current, 6, current, 6, 0, &p);
    ok(p.ndel == 0 && p.nadd == 0 && p.nkeep == 6, "plan: in step: no-op");
    vks_vk_plan_free(&p);
}


int
main(void)
{
    test_tags();
    test_bodies();
    test_answers();
    test_plan();

    return done_testing();
}
