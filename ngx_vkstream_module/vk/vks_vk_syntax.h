
/*
 * vkstream vk: a local check of a rule value against the service's syntax
 * and limits, so that keywords from a publish argument or the HTTP API that
 * the service would refuse are reported at once, with the code the service
 * would answer, instead of making a request that is bound to fail.
 * Syntax: keywords separated by white space and ANDed; "a b" is an exact
 * phrase; a leading - excludes.  Plain C, no nginx types.
 */


#ifndef _VKS_VK_SYNTAX_H_INCLUDED_
#define _VKS_VK_SYNTAX_H_INCLUDED_


#include <stddef.h>


#define VKS_VK_KEYWORDS_MAX   100


/*
 * Returns 0 if value[0..len) is acceptable, otherwise the error code the
 * service answers: 2003 (empty, too long, not UTF-8, NUL, a keyword without a
 * letter or digit), 2004 (over 100 keywords), 2005 (unbalanced quotes) or
 * 2008 (no positive keyword).  *nkeywords gets the count if non-NULL.
 */
int vks_vk_rule_value_check(const char *value, size_t len,
    size_t *nkeywords);


#endif /* _VKS_VK_SYNTAX_H_INCLUDED_ */
