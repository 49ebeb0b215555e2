
/*
 * Unit tests: a stream's VK keywords from its publish arguments and the
 * $app/$name template.
 */


#include <string.h>
#include "vk/vks_vk_keywords.h"
#include "util/vks_uri.h"
#include "vks_tap.h"


static const char *
vks_test_arg(const char *args)
{
    size_t       len;
    const char  *value;
    static char  buf[256];

    if (!vks_vk_keywords_arg(args, &value, &len)) {
        return NULL;
    }

    memcpy(buf, value, len);
    buf[len] = '\0';

    return buf;
}


static const char *
vks_test_decode(const char *in)
{
    size_t       len;
    static char  buf[256];

    memset(buf, '#', sizeof(buf));
    len = vks_vk_keywords_decode(buf, in, strlen(in));

    /* never more than the input, nothing past what it returns */
    if (len > strlen(in) || buf[len] != '#') {
        return "(overflow)";
    }

    buf[len] = '\0';

    return buf;
}


static const char *
vks_test_expand(const char *tpl, const char *app, const char *name)
{
    size_t       len, len2;
    static char  buf[256];

    len = vks_vk_keywords_expand(NULL, tpl, strlen(tpl), app, strlen(app),
                                 name, strlen(name));
    memset(buf, '#', sizeof(buf));
    len2 = vks_vk_keywords_expand(buf, tpl, strlen(tpl), app, strlen(app),
                                  name, strlen(name));

    if (len != len2 || buf[len] != '#') {
        return "(measure differs)";
    }

    buf[len] = '\0';

    return buf;
}


int
main(void)
{
    /* the argument */
    is_str(vks_test_arg(""), NULL, "no arguments");
    is_str(vks_test_arg("a=1&b=2"), NULL, "no vk=");
    is_str(vks_test_arg("vk=cats"), "cats", "alone");
    is_str(vks_test_arg("a=1&vk=cats+dogs&b=2"), "cats+dogs",
           "between others, raw");
    is_str(vks_test_arg("vk=a&vk=b"), "b", "the last one wins");
    is_str(vks_test_arg("vk="), "", "empty");
    is_str(vks_test_arg("xvk=a&vkx=b"), NULL, "only the exact name");
    is_str(vks_test_arg("&&vk=a&"), "a", "empty arguments around");

    /* form decoding, as ngx_unescape_uri() after "+" became a space */
    is_str(vks_test_decode("cats+dogs"), "cats dogs", "plus is a space");
    is_str(vks_test_decode("%D0%BA%D0%BE%D1%82"), "\xd0\xba\xd0\xbe\xd1\x82",
           "escaped UTF-8");
    is_str(vks_test_decode("a%2Bb"), "a+b", "an escaped plus stays");
    is_str(vks_test_decode("a%2bb%2C"), "a+b,", "lower-case hex");
    is_str(vks_test_decode("%zz"), "zz", "invalid first digit: %% dropped");
    is_str(vks_test_decode("%4z!"), "!", "invalid second digit: all dropped");
    is_str(vks_test_decode("x%"), "x", "a trailing %%");
    is_str(vks_test_decode("x%4"), "x", "a trailing half escape");
    is_str(vks_test_decode("%+a"), " a", "%% before a plus");
    is_str(vks_test_decode("%00x"), "", "a NUL byte is kept (C view ends)");

    /* the shared unit without form encoding: "+" stays */
    {
        unsigned char  out[16];
        size_t         n;

        n = vks_uri_unescape(out, (const unsigned char *) "a+b%41%4", 8, 0);
        ok(n == 4 && memcmp(out, "a+bA", 4) == 0, "plain unescape: a+bA");
        ok(vks_uri_hex('F') == 15 && vks_uri_hex('f') == 15
           && vks_uri_hex('g') == -1 && vks_uri_hex('/') == -1,
           "hex digits, either case");
    }

    /* the template */
    is_str(vks_test_expand("$app $name", "live", "cam1"), "live cam1",
           "both");
    is_str(vks_test_expand("$name$name", "live", "ab"), "abab", "twice");
    is_str(vks_test_expand("stream", "live", "cam1"), "stream", "neither");
    is_str(vks_test_expand("$ap $nam $", "live", "cam1"), "$ap $nam $",
           "near misses stay");
    is_str(vks_test_expand("", "live", "cam1"), "", "empty template");
    is_str(vks_test_expand("$name", "live", ""), "", "empty name");

    return done_testing();
}
