
/*
 * vkstream cluster: the Redis address of "vkstream_cluster".  Two forms:
 *
 *   redis://[[user]:password@]host[:port][/db]
 *       host: a name, an IPv4 address or [IPv6]; port 1-65535 (default
 *       6379); db a decimal number (default 0, "/" alone is 0).  The user
 *       (Redis 6 ACL) and password are %-decoded, so any byte but NUL can
 *       be given (%40 for "@", %2F for "/"); a bare "password@" is refused
 *       because it is ambiguous (user or password?).
 *
 *   unix:/absolute/path[?db=N][&user=U][&password=P]
 *       a Unix socket (at most 107 bytes: sun_path); the query is the only
 *       place left for a db and credentials, as in redis-py's unix:// URLs.
 *
 * rediss:// (TLS) is refused: Debian's hiredis is built without TLS.
 * Error strings name the problem, never the input, so a password cannot
 * leak through them; logs and the API show vks_cluster_url_redact()'s
 * form, which replaces the password with "***".
 * Plain C, no nginx types.
 */


#ifndef _VKS_CLUSTER_URL_H_INCLUDED_
#define _VKS_CLUSTER_URL_H_INCLUDED_


#include <stddef.h>


#define VKS_CLUSTER_HOST_MAX       253
#define VKS_CLUSTER_PATH_MAX       107      /* sun_path less its NUL */
#define VKS_CLUSTER_USER_MAX       64
#define VKS_CLUSTER_PASSWORD_MAX   512
#define VKS_CLUSTER_PORT_DEFAULT   6379
#define VKS_CLUSTER_DB_MAX         2147483647
#define VKS_CLUSTER_URL_ERR_LEN    96

/* enough for any redacted URL: unix:PATH?db=N&user=U&password=*** */
#define VKS_CLUSTER_URL_REDACTED_LEN                                         \
    (sizeof("unix:?db=2147483647&user=&password=***")                        \
     + VKS_CLUSTER_PATH_MAX + VKS_CLUSTER_USER_MAX + VKS_CLUSTER_HOST_MAX)


typedef enum {
    VKS_CLUSTER_URL_TCP = 1,
    VKS_CLUSTER_URL_UNIX
} vks_cluster_url_type_e;


typedef struct {
    vks_cluster_url_type_e  type;
    char                    host[VKS_CLUSTER_HOST_MAX + 1]; /* no [] */
    unsigned                port;
    unsigned                ipv6:1;
    char                    path[VKS_CLUSTER_PATH_MAX + 1];
    char                    user[VKS_CLUSTER_USER_MAX + 1];  /* "" if none */
    char                    password[VKS_CLUSTER_PASSWORD_MAX + 1];
    unsigned                db;
    char                    err[VKS_CLUSTER_URL_ERR_LEN];
} vks_cluster_url_t;


/*
 * Parses s (len bytes, NUL not needed) into u.  Returns 0, or -1 with the
 * reason in u->err ("redis URL: port out of range (1-65535)"); on error
 * nothing else in u is meaningful (the password is wiped).
 */
int vks_cluster_url_parse(vks_cluster_url_t *u, const char *s, size_t len);

/*
 * The URL for logs and the API, with "***" for the password:
 * "redis://:***@host:6379/0", "unix:/run/redis.sock?db=0".  Writes at
 * most size bytes, NUL-terminated; VKS_CLUSTER_URL_REDACTED_LEN is always
 * enough.  Returns the length it needed (as snprintf).
 */
size_t vks_cluster_url_redact(const vks_cluster_url_t *u, char *buf,
    size_t size);

/* Overwrites the credentials (when the URL is no longer needed). */
void vks_cluster_url_wipe(vks_cluster_url_t *u);


#endif /* _VKS_CLUSTER_URL_H_INCLUDED_ */
