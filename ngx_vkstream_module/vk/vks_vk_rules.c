
/*
 * vkstream vk: own tags, rule bodies and answers, reconciliation plan
 * (see vks_vk_rules.h).
 */


#include <stdlib.h>
#include <string.h>

#include "vks_vk_rules.h"


static size_t vks_vk_rules_tag_escape(char *dst, const char *src);
static int vks_vk_rules_tag_unescape(char *dst, const char *src, size_t len);
static int vks_vk_rules_hex(int c);
static char *vks_vk_rules_dump(json_t *body);


static const char  vks_vk_rules_hexdigits[] = "0123456789ABCDEF";


static int
vks_vk_rules_tag_unreserved(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}


int
vks_vk_tag_encode(char *buf, vks_vk_tag_kind_e kind, const char *app,
    const char *name, unsigned index)
{
    char    num[16];
    size_t  need, len;

    if (name == NULL || name[0] == '\0') {
        return -1;
    }

    if (kind == VKS_VK_TAG_STREAM) {
        if (app == NULL || app[0] == '\0') {
            return -1;
        }

    } else if (kind != VKS_VK_TAG_GLOBAL) {
        return -1;
    }

    /* the decoder reads at most 9 digits */

    if (index > 999999999) {
        return -1;
    }

    num[0] = '\0';

    if (index > 0) {
        len = sizeof(num) - 1;
        num[len] = '\0';

        do {
            num[--len] = (char) ('0' + index % 10);
            index /= 10;
        } while (index);

        num[--len] = '#';
        memmove(num, num + len, sizeof(num) - len);
    }

    /* measure first: the worst case of escaping is 3 bytes per byte */

    need = sizeof(VKS_VK_TAG_PREFIX) - 1 + 2
           + vks_vk_rules_tag_escape(NULL, name) + strlen(num);

    if (kind == VKS_VK_TAG_STREAM) {
        need += vks_vk_rules_tag_escape(NULL, app) + 1;
    }

    if (need > VKS_VK_TAG_MAX) {
        return -1;
    }

    len = sizeof(VKS_VK_TAG_PREFIX) - 1;
    memcpy(buf, VKS_VK_TAG_PREFIX, len);
    buf[len++] = (kind == VKS_VK_TAG_STREAM) ? 's' : 'g';
    buf[len++] = ':';

    if (kind == VKS_VK_TAG_STREAM) {
        len += vks_vk_rules_tag_escape(buf + len, app);
        buf[len++] = '/';
    }

    len += vks_vk_rules_tag_escape(buf + len, name);
    memcpy(buf + len, num, strlen(num) + 1);
    len += strlen(num);

    return (int) len;
}


vks_vk_tag_kind_e
vks_vk_tag_decode(const char *tag, size_t len, vks_vk_tag_t *t)
{
    char               again[VKS_VK_TAG_MAX + 1];
    size_t             plen;
    const char        *p, *end, *slash, *hash, *d;
    vks_vk_tag_kind_e  kind;

    plen = sizeof(VKS_VK_TAG_PREFIX) - 1;

    if (len > VKS_VK_TAG_MAX || len < plen + 3
        || memcmp(tag, VKS_VK_TAG_PREFIX, plen) != 0
        || tag[plen + 1] != ':')
    {
        return VKS_VK_TAG_FOREIGN;
    }

    switch (tag[plen]) {
    case 's':
        kind = VKS_VK_TAG_STREAM;
        break;
    case 'g':
        kind = VKS_VK_TAG_GLOBAL;
        break;
    default:
        return VKS_VK_TAG_FOREIGN;
    }

    memset(t, 0, sizeof(vks_vk_tag_t));
    p = tag + plen + 2;
    end = tag + len;

    hash = memchr(p, '#', end - p);

    if (hash) {
        if (hash + 1 == end || hash[1] == '0' || end - hash > 10) {
            return VKS_VK_TAG_FOREIGN;
        }

        for (d = hash + 1; d < end; d++) {
            if (*d < '0' || *d > '9') {
                return VKS_VK_TAG_FOREIGN;
            }

            t->index = t->index * 10 + (*d - '0');
        }

        end = hash;
    }

    if (kind == VKS_VK_TAG_STREAM) {
        slash = memchr(p, '/', end - p);

        if (slash == NULL
            || vks_vk_rules_tag_unescape(t->app, p, slash - p) != 0)
        {
            return VKS_VK_TAG_FOREIGN;
        }

        p = slash + 1;
    }

    if (vks_vk_rules_tag_unescape(t->name, p, end - p) != 0) {
        return VKS_VK_TAG_FOREIGN;
    }

    /* only the canonical spelling is ours: encode again and compare */

    if (vks_vk_tag_encode(again, kind, t->app, t->name, t->index)
        != (int) len
        || memcmp(again, tag, len) != 0)
    {
        return VKS_VK_TAG_FOREIGN;
    }

    t->kind = kind;

    return kind;
}


/* escapes src into dst (NULL: only measures); returns the length */

static size_t
vks_vk_rules_tag_escape(char *dst, const char *src)
{
    size_t          n;
    unsigned char   c;

    for (n = 0; *src; src++) {
        c = (unsigned char) *src;

        if (vks_vk_rules_tag_unreserved(c)) {
            if (dst) {
                dst[n] = (char) c;
            }

            n++;
            continue;
        }

        if (dst) {
            dst[n] = '%';
            dst[n + 1] = vks_vk_rules_hexdigits[c >> 4];
            dst[n + 2] = vks_vk_rules_hexdigits[c & 0xf];
        }

        n += 3;
    }

    return n;
}


static int
vks_vk_rules_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


/* dst has room for len + 1 bytes; rejects empty, NUL and stray bytes */

static int
vks_vk_rules_tag_unescape(char *dst, const char *src, size_t len)
{
    int     hi, lo;
    size_t  i, n;

    if (len == 0) {
        return -1;
    }

    for (i = 0, n = 0; i < len; n++) {

        if (src[i] != '%') {
            if (!vks_vk_rules_tag_unreserved((unsigned char) src[i])) {
                return -1;
            }

            dst[n] = src[i++];
            continue;
        }

        if (len - i < 3) {
            return -1;
        }

        hi = vks_vk_rules_hex((unsigned char) src[i + 1]);
        lo = vks_vk_rules_hex((unsigned char) src[i + 2]);

        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            return -1;
        }

        dst[n] = (char) (hi << 4 | lo);
        i += 3;
    }

    dst[n] = '\0';

    return 0;
}


static char *
vks_vk_rules_dump(json_t *body)
{
    char  *s;

    if (body == NULL) {
        return NULL;
    }

    s = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    return s;
}


char *
vks_vk_rules_add_body(const char *value, const char *tag)
{
    /* json_pack() returns NULL for strings that are not UTF-8 */

    return vks_vk_rules_dump(json_pack("{s:{s:s,s:s}}", "rule",
                                       "value", value, "tag", tag));
}


char *
vks_vk_rules_delete_body(const char *tag)
{
    return vks_vk_rules_dump(json_pack("{s:s}", "tag", tag));
}


/* the code member: 200 or an error envelope; returns VKS_VK_OK/E* */

static int
vks_vk_rules_status(json_t *root, int64_t *error_code, char *err,
    size_t errlen)
{
    int64_t      code;
    const char  *msg;

    if (vks_vk_json_error(root, error_code, &msg)) {
        vks_vk_json_set_err(err, errlen, "%s", msg);
        return VKS_VK_EAPI;
    }

    if (vks_vk_json_int(json_object_get(root, "code"), &code) != 0) {
        vks_vk_json_set_err(err, errlen, "no numeric \"code\"");
        return VKS_VK_ESCHEMA;
    }

    if (code != 200) {
        vks_vk_json_set_err(err, errlen, "code %lld without an error",
                            (long long) code);
        return VKS_VK_ESCHEMA;
    }

    return VKS_VK_OK;
}


int
vks_vk_rules_parse_list(const char *data, size_t len,
    vks_vk_rule_list_t *list)
{
    int           rc;
    char         *p;
    size_t        i, vlen, tlen, size;
    json_t       *root, *rules, *r;
    const char   *value, *tag;

    memset(list, 0, sizeof(vks_vk_rule_list_t));

    root = vks_vk_json_load(data, len, &rc, list->err, sizeof(list->err));

    if (root == NULL) {
        return rc;
    }

    rc = vks_vk_rules_status(root, &list->error_code, list->err,
                             sizeof(list->err));

    if (rc != VKS_VK_OK) {
        goto done;
    }

    rules = json_object_get(root, "rules");

    /* the service says null, not [], when there are no rules */

    if (rules == NULL || json_is_null(rules)) {
        goto done;
    }

    rc = VKS_VK_ESCHEMA;

    if (!json_is_array(rules)) {
        vks_vk_json_set_err(list->err, sizeof(list->err),
                            "\"rules\" is not an array");
        goto done;
    }

    /* one block: the array, then the strings */

    size = json_array_size(rules) * sizeof(vks_vk_rule_t);

    json_array_foreach(rules, i, r) {
        value = vks_vk_json_str(r, "value", &vlen);
        tag = vks_vk_json_str(r, "tag", &tlen);

        if (!json_is_object(r) || value == NULL || tag == NULL) {
            vks_vk_json_set_err(list->err, sizeof(list->err),
                                "rule %zu lacks a string value or tag", i);
            goto done;
        }

        size += vlen + 1 + tlen + 1;
    }

    if (size == 0) {
        rc = VKS_VK_OK;
        goto done;
    }

    list->rules = malloc(size);

    if (list->rules == NULL) {
        rc = VKS_VK_ENOMEM;
        goto done;
    }

    p = (char *) (list->rules + json_array_size(rules));

    json_array_foreach(rules, i, r) {
        value = vks_vk_json_str(r, "value", &vlen);
        tag = vks_vk_json_str(r, "tag", &tlen);

        list->rules[i].value = memcpy(p, value, vlen + 1);
        p += vlen + 1;
        list->rules[i].tag = memcpy(p, tag, tlen + 1);
        p += tlen + 1;
    }

    list->n = json_array_size(rules);
    rc = VKS_VK_OK;

done:

    json_decref(root);

    return rc;
}


void
vks_vk_rules_free(vks_vk_rule_list_t *list)
{
    free(list->rules);
    list->rules = NULL;
    list->n = 0;
}


int
vks_vk_rules_parse_result(const char *data, size_t len,
    int64_t *error_code, char *err, size_t errlen)
{
    int      rc;
    json_t  *root;

    *error_code = 0;

    root = vks_vk_json_load(data, len, &rc, err, errlen);

    if (root == NULL) {
        return rc;
    }

    rc = vks_vk_rules_status(root, error_code, err, errlen);
    json_decref(root);

    return rc;
}


int
vks_vk_rules_error_permanent(int64_t error_code)
{
    return error_code >= 2000 && error_code <= 2008;
}


int
vks_vk_rules_plan(const vks_vk_rule_t *desired, size_t ndesired,
    const vks_vk_rule_t *current, size_t ncurrent, unsigned flags,
    vks_vk_plan_t *plan)
{
    size_t        i, j;
    vks_vk_tag_t  t;

    memset(plan, 0, sizeof(vks_vk_plan_t));

    plan->del = malloc((ncurrent + 1) * sizeof(size_t));
    plan->add = malloc((ndesired + 1) * sizeof(size_t));

    if (plan->del == NULL || plan->add == NULL) {
        vks_vk_plan_free(plan);
        return -1;
    }

    for (i = 0; i < ncurrent; i++) {

        for (j = 0; j < ndesired; j++) {
            if (strcmp(current[i].tag, desired[j].tag) == 0) {
                break;
            }
        }

        if (j < ndesired) {
            if (strcmp(current[i].value, desired[j].value) == 0) {
                plan->nkeep++;

            } else {
                plan->del[plan->ndel++] = i;    /* added again below */
            }

            continue;
        }

        if (vks_vk_tag_decode(current[i].tag, strlen(current[i].tag), &t)
            != VKS_VK_TAG_FOREIGN
            || (flags & VKS_VK_PLAN_DELETE_FOREIGN))
        {
            plan->del[plan->ndel++] = i;

        } else {
            plan->nforeign++;
        }
    }

    for (j = 0; j < ndesired; j++) {

        /* a duplicate tag counts once: the first one wins */

        for (i = 0; i < j; i++) {
            if (strcmp(desired[i].tag, desired[j].tag) == 0) {
                break;
            }
        }

        if (i < j) {
            continue;
        }

        for (i = 0; i < ncurrent; i++) {
            if (strcmp(current[i].tag, desired[j].tag) == 0) {
                break;
            }
        }

        if (i < ncurrent && strcmp(current[i].value, desired[j].value) == 0)
        {
            continue;
        }

        plan->add[plan->nadd++] = j;
    }

    return 0;
}


void
vks_vk_plan_free(vks_vk_plan_t *plan)
{
    free(plan->del);
    free(plan->add);
    plan->del = NULL;
    plan->add = NULL;
    plan->ndel = 0;
    plan->nadd = 0;
}
