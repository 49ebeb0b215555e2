
/*
 * Unit tests: vk/vks_vk_syntax (local rule value check).
 */


#include <stdlib.h>
#include <string.h>

#include "vk/vks_vk_syntax.h"
#include "vks_vk_tap.h"


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

    IS_INT(check("кот", &n), 0, "one word");
    IS_INT(n, 1, "one keyword");
    IS_INT(check("  кот   -собака \"рыжий кот\"\t", &n), 0,
           "words, minus, phrase, spaces");
    IS_INT(n, 3, "three keywords");
    IS_INT(check("ab\"cd ef\"", &n), 0, "quote ends a bare word");
    IS_INT(n, 2, "  ... two keywords");
    IS_INT(check("-\"а б\" в", &n), 0, "minus phrase plus a word");

    IS_INT(check("", &n), 2003, "empty: 2003");
    IS_INT(check("   ", &n), 2003, "blank: 2003");
    IS_INT(check("кот -", &n), 2003, "bare minus: 2003");
    IS_INT(check("!!!", &n), 2003, "no letters: 2003");
    IS_INT(check("\"\"", &n), 2003, "empty phrase: 2003");
    IS_INT(check("кот \xff", &n), 2003, "invalid UTF-8: 2003");
    IS_INT(check("\"кот собака", &n), 2005, "open quote: 2005");
    IS_INT(check("кот\"", &n), 2005, "trailing quote: 2005");
    IS_INT(check("-кот -собака", &n), 2008, "only minus: 2008");
    IS_INT(n, 2, "  ... counted");

    /* limits: 100 keywords ok, 101 not; 4096 bytes ok, 4097 not */

    v = malloc(5000);
    v[0] = '\0';

    for (i = 0; i < 100; i++) {
        strcat(v, "w ");
    }

    IS_INT(check(v, &n), 0, "100 keywords");
    IS_INT(n, 100, "  ... counted 100");
    strcat(v, "w");
    IS_INT(check(v, &n), 2004, "101 keywords: 2004");

    memset(v, 'a', 4096);
    v[4096] = '\0';
    IS_INT(check(v, &n), 0, "4096 bytes");
    v[4096] = 'a';
    v[4097] = '\0';
    IS_INT(check(v, &n), 2003, "4097 bytes: 2003");

    for (i = 0; i < 2048; i++) {
        memcpy(v + i * 2, "я", 2);
    }

    v[4096] = '\0';
    IS_INT(check(v, NULL), 0, "2048 Cyrillic letters = 4096 bytes");
    free(v);

    IS_INT(vks_vk_rule_value_check("кот\0x", 8, &n), 2003,
           "NUL inside: 2003");
    IS_INT(vks_vk_rule_value_check("кот", 5, &n), 2003,
           "cut inside a letter: 2003");

    return tap_done();
}
