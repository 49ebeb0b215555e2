
/*
 * Unit tests: vk/vks_vk_syntax (local rule value check).
 */


#include <stdlib.h>
#include <string.h>

#include "vk/vks_vk_syntax.h"
#include "vks_tap.h"


static int
check(const char *v, size_t *n)
{
    return vks_vk_rule_value_check(v, strlen(v), n);
}


int
main(void)
{
    int     i;
    char   *v;
    size_t  n;

    is_int(check("кот", &n), 0, "one word");
    is_int(n, 1, "one keyword");
    is_int(check("  кот   -собака \"рыжий кот\"\t", &n), 0,
           "words, minus, phrase, spaces");
    is_int(n, 3, "three keywords");
    is_int(check("ab\"cd ef\"", &n), 0, "quote ends a bare word");
    is_int(n, 2, "  ... two keywords");
    is_int(check("-\"а б\" в", &n), 0, "minus phrase plus a word");

    is_int(check("", &n), 2003, "empty: 2003");
    is_int(check("   ", &n), 2003, "blank: 2003");
    is_int(check("кот -", &n), 2003, "bare minus: 2003");
    is_int(check("!!!", &n), 2003, "no letters: 2003");
    is_int(check("\"\"", &n), 2003, "empty phrase: 2003");
    is_int(check("кот \xff", &n), 2003, "invalid UTF-8: 2003");
    is_int(check("\"кот собака", &n), 2005, "open quote: 2005");
    is_int(check("кот\"", &n), 2005, "trailing quote: 2005");
    is_int(check("-кот -собака", &n), 2008, "only minus: 2008");
    is_int(n, 2, "  ... counted");

    /* limits: 100 keywords ok, 101 not; 4096 bytes ok, 4097 not */

    v = malloc(5000);
    v[0] = '\0';

    for (i = 0; i < 100; i++) {
        strcat(v, "w ");
    }

    is_int(check(v, &n), 0, "100 keywords");
    is_int(n, 100, "  ... counted 100");
    strcat(v, "w");
    is_int(check(v, &n), 2004, "101 keywords: 2004");

    memset(v, 'a', 4096);
    v[4096] = '\0';
    is_int(check(v, &n), 0, "4096 bytes");
    v[4096] = 'a';
    v[4097] = '\0';
    is_int(check(v, &n), 2003, "4097 bytes: 2003");

    for (i = 0; i < 2048; i++) {
        memcpy(v + i * 2, "я", 2);
    }

    v[4096] = '\0';
    is_int(check(v, NULL), 0, "2048 Cyrillic letters = 4096 bytes");
    free(v);

    is_int(vks_vk_rule_value_check("кот\0x", 8, &n), 2003,
           "NUL inside: 2003");
    is_int(vks_vk_rule_value_check("кот", 5, &n), 2003,
           "cut inside a letter: 2003");

    return done_testing();
}
