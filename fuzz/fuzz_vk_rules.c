
/*
 * vkstream fuzz: the VK rules answers, own tags and rule values.  The same
 * bytes go to every parser; a parsed list is planned against itself and
 * against half of itself, and own tags must survive decode and encode.
 */


#include <stdlib.h>
#include <string.h>
#include "vk/vks_vk_rules.h"
#include "vk/vks_vk_syntax.h"
#include "util/vks_utf8.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fuzz_tag(const char *s, size_t len)
{
    int                 n;
    char                buf[VKS_VK_TAG_MAX + 1];
    vks_vk_tag_t        t;
    vks_vk_tag_kind_e   kind;

    kind = vks_vk_tag_decode(s, len, &t);
    if (kind == VKS_VK_TAG_FOREIGN) {
        return;
    }

    /* an own tag is exactly what encoding its parts gives */
    n = vks_vk_tag_encode(buf, kind, t.app, t.name, t.index);
    if (n < 0 || (size_t) n != len || memcmp(buf, s, len) != 0) {
        __builtin_trap();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 err[VKS_VK_ERR_LEN];
    size_t               i;
    size_t               nkw;
    int64_t              code;
    vks_vk_plan_t        plan;
    vks_vk_rule_list_t   list;
    const char          *s = (const char *) data;

    fuzz_tag(s, size);

    if (vks_utf8_valid(s, size)) {
        (void) vks_utf8_cut(s, size, size / 2);
    }

    (void) vks_vk_rule_value_check(s, size, &nkw);

    (void) vks_vk_rules_parse_result(s, size, &code, err, sizeof(err));

    if (vks_vk_rules_parse_list(s, size, &list) == VKS_VK_OK) {
        for (i = 0; i < list.n; i++) {
            fuzz_tag(list.rules[i].tag, strlen(list.rules[i].tag));
            free(vks_vk_rules_add_body(list.rules[i].value,
                                       list.rules[i].tag));
            free(vks_vk_rules_delete_body(list.rules[i].tag));
        }

        if (vks_vk_rules_plan(list.rules, list.n / 2, list.rules, list.n,
                              size & 1 ? VKS_VK_PLAN_DELETE_FOREIGN : 0,
                              &plan) == 0)
        {
            for (i = 0; i < plan.ndel; i++) {
                if (plan.del[i] >= list.n) {
                    __builtin_trap();
                }
            }
            for (i = 0; i < plan.nadd; i++) {
                if (plan.add[i] >= list.n / 2) {
                    __builtin_trap();
                }
            }
            vks_vk_plan_free(&plan);
        }
    }

    vks_vk_rules_free(&list);

    return 0;
}
