
/*
 * vkstream vk: rule value syntax check (see vks_vk_syntax.h).
 */


#include <string.h>

#include "vks_vk_syntax.h"
#include "vks_vk_rules.h"
#include "util/vks_utf8.h"


static int
vks_vk_syntax_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
           || c == '\v';
}


/* letters of any script count: every non-ASCII byte is taken as one */

static int
vks_vk_syntax_word_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}


int
vks_vk_rule_value_check(const char *value, size_t len, size_t *nkeywords)
{
    int                   word, positive;
    size_t                i, n;
    const unsigned char  *s;

    if (nkeywords) {
        *nkeywords = 0;
    }

    /* NUL would cut the value short in the C strings of the request */

    if (len == 0 || len > VKS_VK_VALUE_MAX
        || !vks_utf8_valid(value, len) || memchr(value, '\0', len))
    {
        return VKS_VK_RULE_EPARSE_RULE;
    }

    s = (const unsigned char *) value;
    n = 0;
    positive = 0;
    i = 0;

    for ( ;; ) {

        while (i < len && vks_vk_syntax_space(s[i])) {
            i++;
        }

        if (i == len) {
            break;
        }

        if (s[i] == '-') {
            i++;

        } else {
            positive = 1;
        }

        word = 0;

        if (i < len && s[i] == '"') {

            for (i++; i < len && s[i] != '"'; i++) {
                word |= vks_vk_syntax_word_char(s[i]);
            }

            if (i == len) {
                return VKS_VK_RULE_EQUOTES;
            }

            i++;

        } else {
            /* a quote ends a bare keyword and opens the next one */

            for ( /* void */ ;
                 i < len && !vks_vk_syntax_space(s[i]) && s[i] != '"';
                 i++)
            {
                word |= vks_vk_syntax_word_char(s[i]);
            }
        }

        if (!word) {
            return VKS_VK_RULE_EPARSE_RULE;
        }

        n++;
    }

    if (nkeywords) {
        *nkeywords = n;
    }

    if (n == 0) {
        return VKS_VK_RULE_EPARSE_RULE;
    }

    if (n > VKS_VK_KEYWORDS_MAX) {
        return VKS_VK_RULE_EKEYWORDS;
    }

    if (!positive) {
        return VKS_VK_RULE_ENO_POSITIVE;
    }

    return 0;
}
