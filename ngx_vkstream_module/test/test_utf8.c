
/*
 * Unit tests: util/vks_utf8 (check, cut on a boundary, repair).
 */


#include <stdlib.h>
#include <string.h>

#include "util/vks_utf8.h"
#include "vks_tap.h"


static void
test_valid_cut(void)
{
    /* "кот" is d0 ba d0 be d1 82 */
    const char  *kot = "\xd0\xba\xd0\xbe\xd1\x82";

    ok(vks_utf8_valid("", 0), "utf8: empty is valid");
    ok(vks_utf8_valid(kot, 6), "utf8: Cyrillic is valid");
    ok(vks_utf8_valid("\xf0\x9f\x98\x8a", 4), "utf8: emoji is valid");
    ok(vks_utf8_valid("a\0b", 3), "utf8: NUL byte is valid UTF-8");
    ok(!vks_utf8_valid("\xc3\x28", 2), "utf8: bad continuation");
    ok(!vks_utf8_valid("\xff", 1), "utf8: 0xff");
    ok(!vks_utf8_valid("\xc0\xaf", 2), "utf8: overlong 2-byte");
    ok(!vks_utf8_valid("\xe0\x80\xaf", 3), "utf8: overlong 3-byte");
    ok(!vks_utf8_valid("\xed\xa0\x80", 3), "utf8: surrogate");
    ok(!vks_utf8_valid("\xf4\x90\x80\x80", 4), "utf8: above U+10FFFF");
    ok(!vks_utf8_valid(kot, 5), "utf8: truncated at the end");
    ok(!vks_utf8_valid("\x80", 1), "utf8: lone continuation");

    is_int(vks_utf8_cut(kot, 6, 6), 6, "cut: fits");
    is_int(vks_utf8_cut(kot, 6, 100), 6, "cut: max above length");
    is_int(vks_utf8_cut(kot, 6, 5), 4, "cut: 5 -> 4 (boundary)");
    is_int(vks_utf8_cut(kot, 6, 4), 4, "cut: 4 stays");
    is_int(vks_utf8_cut(kot, 6, 1), 0, "cut: 1 -> 0");
    is_int(vks_utf8_cut("\xf0\x9f\x98\x8a" "a", 5, 3), 0,
           "cut: inside a 4-byte char");
    is_int(vks_utf8_cut("abc", 3, 2), 2, "cut: ASCII");
}


static void
test_cut_hostile(void)
{
    /* not UTF-8: the cut still stays within max and len */
    is_int(vks_utf8_cut("\x80\x80\x80\x80", 4, 2), 0,
           "cut: continuation bytes only");
    is_int(vks_utf8_cut("a\x80\x80" "b", 4, 2), 0,
           "cut: stray continuations backed off over");
    is_int(vks_utf8_cut("ab\x80", 3, 2), 1, "cut: before a stray one");
    is_int(vks_utf8_cut("\xff\xfe", 2, 1), 1, "cut: 0xff stays a byte");
    is_int(vks_utf8_cut("abc", 3, 0), 0, "cut: max 0");
    is_int(vks_utf8_cut("", 0, 0), 0, "cut: empty");
}


static size_t
repair(char *dst, const char *src, size_t len)
{
    size_t  n;

    n = vks_utf8_repair(dst, src, len);
    dst[n] = '\0';

    return n;
}


static void
test_repair(void)
{
    size_t  n;
    char    buf[64];

    /* "кот" is d0 ba d0 be d1 82 */

    n = repair(buf, "\xd0\xba\xd0\xbe\xd1\x82", 6);
    is_mem(buf, n, "\xd0\xba\xd0\xbe\xd1\x82", "repair: valid unchanged");

    n = repair(buf, "", 0);
    is_int(n, 0, "repair: empty");

    n = repair(buf, "a\xff" "b", 3);
    is_mem(buf, n, "a\xef\xbf\xbd" "b", "repair: 0xff replaced");

    n = repair(buf, "\xc3\x28", 2);
    is_mem(buf, n, "\xef\xbf\xbd(", "repair: bad continuation, one byte");

    n = repair(buf, "\xc0\xaf", 2);
    is_mem(buf, n, "\xef\xbf\xbd\xef\xbf\xbd",
           "repair: overlong, byte by byte");

    n = repair(buf, "\xed\xa0\x80", 3);
    is_int(n, 9, "repair: surrogate, three replacements");

    n = repair(buf, "\xd0\xba\xd0", 3);
    is_mem(buf, n, "\xd0\xba\xef\xbf\xbd", "repair: cut at the end");

    n = repair(buf, "a\0b", 3);
    is_int(n, 3, "repair: NUL kept");

    n = repair(buf, "\x80\x80\x80", 3);
    is_int(n, VKS_UTF8_REPAIR_SIZE(3), "repair: worst case is the bound");
    ok(vks_utf8_valid(buf, n), "repair: result valid");
}


int
main(void)
{
    test_valid_cut();
    test_cut_hostile();
    test_repair();

    return done_testing();
}
