
/*
 * vkstream cluster: the JSON documents nodes write into Redis, and read
 * back from any writer, so every decoder bounds counts and lengths and
 * checks types (another writer's garbage gives an error, never a crash).
 *
 *   streams: a node's streams, in its record's "streams" field:
 *     [{"id":1,"app":"live","name":"cam1","addr":"10.0.0.5","start":T,
 *       "end":0,"keywords":"кот","tag":"vks:s:live/cam1","rule_state":2,
 *       "rule_code":0,"rule_error":"","transcoding":true,"llhls":false,
 *       "input":{...}|null,"renditions":[{...}]}]
 *   rules: the global rules, at PREFIXrules, and the VK holder's rule
 *     states, in its record's "rules" field:
 *     [{"tag":"news","value":"новости","state":2,"code":0,"error":""}]
 *
 * Strings are bytes in the table; JSON needs UTF-8, so bytes that are not
 * are replaced (U+FFFD) on the way out.
 * Plain C, no nginx types (jansson's only in the .c).
 */


#ifndef _VKS_CLUSTER_DOC_H_INCLUDED_
#define _VKS_CLUSTER_DOC_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "media/vks_stats.h"


#define VKS_CLUSTER_DOC_STREAMS_MAX   1000
#define VKS_CLUSTER_DOC_RULES_MAX     1000
#define VKS_CLUSTER_DOC_ERR_LEN       96

#define VKS_CLUSTER_DOC_APP_LEN       128
#define VKS_CLUSTER_DOC_NAME_LEN      256
#define VKS_CLUSTER_DOC_ADDR_LEN      64
#define VKS_CLUSTER_DOC_TAG_LEN       256
#define VKS_CLUSTER_DOC_VALUE_LEN     4096
#define VKS_CLUSTER_DOC_ERROR_LEN     256


typedef struct {
    uint64_t              id;             /* on its node */
    int64_t               start;
    int64_t               end;            /* 0 while live */
    size_t                app_len;
    size_t                name_len;
    size_t                addr_len;
    size_t                keywords_len;
    size_t                tag_len;
    size_t                rule_error_len;
    char                  app[VKS_CLUSTER_DOC_APP_LEN];
    char                  name[VKS_CLUSTER_DOC_NAME_LEN];
    char                  addr[VKS_CLUSTER_DOC_ADDR_LEN];
    char                  keywords[VKS_CLUSTER_DOC_VALUE_LEN];
    char                  tag[VKS_CLUSTER_DOC_TAG_LEN];
    int                   rule_state;
    int64_t               rule_code;
    char                  rule_error[VKS_CLUSTER_DOC_ERROR_LEN];
    int                   transcoding;
    int                   llhls;          /* writes LL-HLS: 0 or 1 */
    int                   has_stats;
    vks_stream_stats_t    stats;
} vks_cluster_doc_stream_t;


typedef struct {
    size_t                tag_len;
    size_t                value_len;
    size_t                error_len;
    char                  tag[VKS_CLUSTER_DOC_TAG_LEN];
    char                  value[VKS_CLUSTER_DOC_VALUE_LEN];
    int                   state;
    int64_t               code;
    char                  error[VKS_CLUSTER_DOC_ERROR_LEN];
} vks_cluster_doc_rule_t;


/*
 * Encoders return a malloc()ed NUL-terminated document (free() it) and
 * its length, or NULL (out of memory).
 */
char *vks_cluster_doc_streams_encode(const vks_cluster_doc_stream_t *s,
    size_t n, size_t *len);
char *vks_cluster_doc_rules_encode(const vks_cluster_doc_rule_t *r,
    size_t n, size_t *len);

/*
 * Decoders fill a malloc()ed array (free() it; NULL when n is 0) and
 * return 0, or -1 with the reason in err.  A document over the limits
 * above, or of the wrong shape, is refused whole; strings longer than
 * their field are cut (on a UTF-8 boundary).
 */
int vks_cluster_doc_streams_decode(const char *json, size_t len,
    vks_cluster_doc_stream_t **out, size_t *n, char *err, size_t errlen);
int vks_cluster_doc_rules_decode(const char *json, size_t len,
    vks_cluster_doc_rule_t **out, size_t *n, char *err, size_t errlen);


#endif /* _VKS_CLUSTER_DOC_H_INCLUDED_ */
