
/*
 * vkstream vk: the rules of the VK Streaming API as the module manages them.
 *
 * Own tags: the module tags its rules so that it recognises them among
 * foreign ones on the server.  A stream rule is "vks:s:APP/NAME", a global
 * (configured) rule "vks:g:NAME"; a rule index n > 0 is appended as "#n".
 * APP and NAME are percent-escaped (only A-Z a-z 0-9 - . _ ~ kept), so the
 * tag is ASCII, decodable and at most VKS_VK_TAG_MAX bytes; what does not
 * fit is refused rather than cut.
 *
 * Also: request bodies, the GET /rules answer ("rules":null when empty),
 * the POST/DELETE answers with their error envelopes (2001-2008), and the
 * reconciliation plan between desired and current rules.
 * Plain C, no nginx types.
 */


#ifndef _VKS_VK_RULES_H_INCLUDED_
#define _VKS_VK_RULES_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "vks_vk_json.h"


#define VKS_VK_TAG_MAX         256      /* bytes, service limit */
#define VKS_VK_VALUE_MAX       4096     /* bytes, service limit */
#define VKS_VK_RULES_MAX       300      /* rules per key, service limit */
#define VKS_VK_TAG_PREFIX      "vks:"

/* decoded parts are never longer than the tag itself */
#define VKS_VK_TAG_PART_MAX    VKS_VK_TAG_MAX


/* error codes of the rules endpoint */
#define VKS_VK_RULE_EPARSE_JSON      2000
#define VKS_VK_RULE_ETAG_EXISTS      2001
#define VKS_VK_RULE_ETAG_MISSING     2002
#define VKS_VK_RULE_EPARSE_RULE      2003
#define VKS_VK_RULE_EKEYWORDS        2004
#define VKS_VK_RULE_EQUOTES          2005
#define VKS_VK_RULE_ERULES           2006
#define VKS_VK_RULE_ENO_POSITIVE     2008


typedef enum {
    VKS_VK_TAG_FOREIGN = 0,
    VKS_VK_TAG_STREAM,
    VKS_VK_TAG_GLOBAL
} vks_vk_tag_kind_e;


typedef struct {
    vks_vk_tag_kind_e   kind;
    char                app[VKS_VK_TAG_PART_MAX + 1];   /* stream only */
    char                name[VKS_VK_TAG_PART_MAX + 1];
    unsigned            index;
} vks_vk_tag_t;


typedef struct {
    const char         *value;
    const char         *tag;
} vks_vk_rule_t;


/* a rule list owning its strings */
typedef struct {
    vks_vk_rule_t      *rules;
    size_t              n;
    char                err[VKS_VK_ERR_LEN];
    int64_t             error_code;     /* set with VKS_VK_EAPI */
} vks_vk_rule_list_t;


/* indexes into the current (deletes) and desired (adds) arrays */
typedef struct {
    size_t             *del;
    size_t              ndel;
    size_t             *add;
    size_t              nadd;
    size_t              nkeep;
    size_t              nforeign;       /* foreign rules left alone */
} vks_vk_plan_t;


#define VKS_VK_PLAN_DELETE_FOREIGN   0x1


/*
 * Writes the tag of (kind, app, name, index) into buf of size >=
 * VKS_VK_TAG_MAX + 1.  Returns its length, or -1 if it would exceed
 * VKS_VK_TAG_MAX bytes, a part is empty, index is above 999999999 or kind
 * is VKS_VK_TAG_FOREIGN.
 */
int vks_vk_tag_encode(char *buf, vks_vk_tag_kind_e kind, const char *app,
    const char *name, unsigned index);

/*
 * Decodes a tag; returns the kind (VKS_VK_TAG_FOREIGN for anything that is
 * not exactly an own tag) and fills *t for own ones.
 */
vks_vk_tag_kind_e vks_vk_tag_decode(const char *tag, size_t len,
    vks_vk_tag_t *t);

/* JSON bodies of POST and DELETE /rules; free() them. */
char *vks_vk_rules_add_body(const char *value, const char *tag);
char *vks_vk_rules_delete_body(const char *tag);

/*
 * Parses the GET /rules answer into list (free with vks_vk_rules_free()).
 * Returns VKS_VK_OK, VKS_VK_EAPI (an error envelope: list->error_code and
 * list->err), or another negative VKS_VK_E* code with list->err.
 */
int vks_vk_rules_parse_list(const char *data, size_t len,
    vks_vk_rule_list_t *list);

void vks_vk_rules_free(vks_vk_rule_list_t *list);

/*
 * Parses a POST/DELETE answer.  Returns VKS_VK_OK for code 200,
 * VKS_VK_EAPI with *error_code (2001...) and the message in err, or
 * another negative VKS_VK_E* code.
 */
int vks_vk_rules_parse_result(const char *data, size_t len,
    int64_t *error_code, char *err, size_t errlen);

/* Whether retrying the same request can help: never for 2000-2008. */
int vks_vk_rules_error_permanent(int64_t error_code);

/*
 * Plans the requests that turn the current rules into the desired ones.
 * Rules match by tag.  A current rule whose desired value differs is
 * deleted and added again (the service has no update).  Current rules
 * without a desired one are deleted if own, and if foreign only with
 * VKS_VK_PLAN_DELETE_FOREIGN.  Duplicate desired tags count once.
 * Deletes come first so adds fit under the rule limit.
 * Returns 0, or -1 on allocation failure.  Free with vks_vk_plan_free().
 */
int vks_vk_rules_plan(const vks_vk_rule_t *desired, size_t ndesired,
    const vks_vk_rule_t *current, size_t ncurrent, unsigned flags,
    vks_vk_plan_t *plan);

void vks_vk_plan_free(vks_vk_plan_t *plan);


#endif /* _VKS_VK_RULES_H_INCLUDED_ */
