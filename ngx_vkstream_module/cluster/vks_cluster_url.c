
/*
 * vkstream cluster: the Redis URL (see vks_cluster_url.h).
 */


#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vks_cluster_url.h"
#include "util/vks_uri.h"


#define VKS_CLUSTER_URL_EBAD   -1
#define VKS_CLUSTER_URL_ELONG  -2


static int vks_cluster_url_fail(vks_cluster_url_t *u, const char *reason);
static int vks_cluster_url_tcp(vks_cluster_url_t *u, const char *s,
    size_t len);
static int vks_cluster_url_host(vks_cluster_url_t *u, const char *s,
    size_t len);
static int vks_cluster_url_unix(vks_cluster_url_t *u, const char *s,
    size_t len);
static int vks_cluster_url_param(vks_cluster_url_t *u, const char *s,
    size_t len, unsigned *seen);
static int vks_cluster_url_credential(vks_cluster_url_t *u, char *dst,
    size_t max, const char *s, size_t len, int text);
static int vks_cluster_url_decode(char *dst, size_t max, const char *s,
    size_t len, int text);
static int vks_cluster_url_number(const char *s, size_t len,
    unsigned long max, unsigned *out);


int
vks_cluster_url_parse(vks_cluster_url_t *u, const char *s, size_t len)
{
    memset(u, 0, sizeof(vks_cluster_url_t));

    if (len == 0) {
        return vks_cluster_url_fail(u, "empty");
    }

    if (len >= 8 && strncasecmp(s, "redis://", 8) == 0) {
        u->type = VKS_CLUSTER_URL_TCP;
        u->port = VKS_CLUSTER_PORT_DEFAULT;
        return vks_cluster_url_tcp(u, s + 8, len - 8);
    }

    if (len >= 5 && strncasecmp(s, "unix:", 5) == 0) {
        u->type = VKS_CLUSTER_URL_UNIX;
        return vks_cluster_url_unix(u, s + 5, len - 5);
    }

    if (len >= 9 && strncasecmp(s, "rediss://", 9) == 0) {
        return vks_cluster_url_fail(u, "TLS (rediss://) is not supported");
    }

    return vks_cluster_url_fail(u, "unknown scheme (redis:// or unix:)");
}


static int
vks_cluster_url_fail(vks_cluster_url_t *u, const char *reason)
{
    vks_cluster_url_wipe(u);
    snprintf(u->err, sizeof(u->err), "redis URL: %s", reason);

    return -1;
}


static int
vks_cluster_url_tcp(vks_cluster_url_t *u, const char *s, size_t len)
{
    size_t       auth, at, colon, i;
    const char  *db;

    /*
     * "?" and "#" would start a query or fragment in any URL parser the
     * operator might test the URL with: refuse them raw everywhere (a
     * password can carry them %-encoded) rather than guess
     */
    if (memchr(s, '?', len) || memchr(s, '#', len)) {
        return vks_cluster_url_fail(u, "no query or fragment in redis:// "
                                    "(the db is /N)");
    }

    auth = len;
    db = memchr(s, '/', len);
    if (db) {
        auth = db - s;
    }

    /* the last "@" ends the credentials: a raw "@" in a password works */
    at = auth;
    for (i = auth; i > 0; i--) {
        if (s[i - 1] == '@') {
            at = i - 1;
            break;
        }
    }

    if (at != auth) {
        colon = 0;
        while (colon < at && s[colon] != ':') {
            colon++;
        }

        if (colon == at) {
            return vks_cluster_url_fail(u, "credentials must be :password@ "
                                        "or user:password@");
        }

        if (vks_cluster_url_credential(u, u->user, VKS_CLUSTER_USER_MAX,
                                       s, colon, 1)
            != 0
            || vks_cluster_url_credential(u, u->password,
                                          VKS_CLUSTER_PASSWORD_MAX,
                                          s + colon + 1, at - colon - 1, 0)
               != 0)
        {
            return -1;
        }

        at++;

    } else {
        at = 0;
    }

    if (vks_cluster_url_host(u, s + at, auth - at) != 0) {
        return -1;
    }

    if (db == NULL || auth + 1 == len) {
        return 0;
    }

    if (vks_cluster_url_number(db + 1, len - auth - 1, VKS_CLUSTER_DB_MAX,
                               &u->db)
        != 0)
    {
        return vks_cluster_url_fail(u, "db not a number (0-2147483647)");
    }

    return 0;
}


static int
vks_cluster_url_host(vks_cluster_url_t *u, const char *s, size_t len)
{
    size_t          n, i;
    unsigned char   c, addr[16];
    const char     *port, *end;

    port = NULL;

    if (len > 0 && s[0] == '[') {
        end = memchr(s, ']', len);
        if (end == NULL) {
            return vks_cluster_url_fail(u, "unterminated [IPv6] host");
        }

        n = end - s - 1;
        if (n == 0) {
            return vks_cluster_url_fail(u, "empty host");
        }

        if (n > 45) {
            return vks_cluster_url_fail(u, "bad IPv6 address");
        }

        memcpy(u->host, s + 1, n);
        u->host[n] = '\0';

        if (inet_pton(AF_INET6, u->host, addr) != 1) {
            return vks_cluster_url_fail(u, "bad IPv6 address");
        }

        u->ipv6 = 1;

        if ((size_t) (end - s) + 1 < len) {
            if (end[1] != ':') {
                return vks_cluster_url_fail(u, "junk after [IPv6] host");
            }

            port = end + 1;
        }

    } else {
        port = memchr(s, ':', len);
        n = port ? (size_t) (port - s) : len;

        if (n == 0) {
            return vks_cluster_url_fail(u, "empty host");
        }

        if (n > VKS_CLUSTER_HOST_MAX) {
            return vks_cluster_url_fail(u, "host too long");
        }

        for (i = 0; i < n; i++) {
            c = s[i];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '.' || c == '-'
                  || c == '_'))
            {
                return vks_cluster_url_fail(u, "bad character in host");
            }
        }

        memcpy(u->host, s, n);
        u->host[n] = '\0';
    }

    if (port == NULL) {
        return 0;
    }

    n = s + len - port - 1;

    if (n == 0) {
        return vks_cluster_url_fail(u, "empty port");
    }

    if (vks_cluster_url_number(port + 1, n, 65535, &u->port) != 0
        || u->port == 0)
    {
        return vks_cluster_url_fail(u, "port out of range (1-65535)");
    }

    return 0;
}


static int
vks_cluster_url_unix(vks_cluster_url_t *u, const char *s, size_t len)
{
    size_t          n, i, j;
    unsigned        seen;
    unsigned char   c;
    const char     *q;

    q = memchr(s, '?', len);
    n = q ? (size_t) (q - s) : len;

    if (n == 0 || s[0] != '/') {
        return vks_cluster_url_fail(u, "unix socket path must be absolute");
    }

    if (n > VKS_CLUSTER_PATH_MAX) {
        return vks_cluster_url_fail(u, "unix socket path longer than 107 "
                                    "bytes");
    }

    /* the path is logged: no spaces or control characters */
    for (i = 0; i < n; i++) {
        c = s[i];

        if (c < 0x21 || c == 0x7f) {
            return vks_cluster_url_fail(u, "bad character in the socket "
                                        "path");
        }
    }

    memcpy(u->path, s, n);
    u->path[n] = '\0';

    if (q == NULL) {
        return 0;
    }

    seen = 0;
    i = n + 1;

    while (i <= len) {
        for (j = i; j < len && s[j] != '&'; j++) { /* void */ }

        if (vks_cluster_url_param(u, s + i, j - i, &seen) != 0) {
            return -1;
        }

        i = j + 1;
    }

    if (u->user[0] && u->password[0] == '\0') {
        return vks_cluster_url_fail(u, "user without password");
    }

    return 0;
}


static int
vks_cluster_url_param(vks_cluster_url_t *u, const char *s, size_t len,
    unsigned *seen)
{
    size_t       n;
    unsigned     bit;
    const char  *eq;

    eq = memchr(s, '=', len);
    if (eq == NULL) {
        return vks_cluster_url_fail(u, "parameter without a value "
                                    "(db=, user=, password=)");
    }

    n = eq - s;
    len -= n + 1;

    if (n == 2 && memcmp(s, "db", 2) == 0) {
        bit = 1;

    } else if (n == 4 && memcmp(s, "user", 4) == 0) {
        bit = 2;

    } else if (n == 8 && memcmp(s, "password", 8) == 0) {
        bit = 4;

    } else {
        return vks_cluster_url_fail(u, "unknown parameter (db, user, "
                                    "password)");
    }

    if (*seen & bit) {
        return vks_cluster_url_fail(u, "duplicate parameter");
    }

    *seen |= bit;

    switch (bit) {

    case 1:
        if (vks_cluster_url_number(eq + 1, len, VKS_CLUSTER_DB_MAX, &u->db)
            != 0)
        {
            return vks_cluster_url_fail(u, "db not a number "
                                        "(0-2147483647)");
        }

        return 0;

    case 2:
        return vks_cluster_url_credential(u, u->user, VKS_CLUSTER_USER_MAX,
                                          eq + 1, len, 1);

    default:
        return vks_cluster_url_credential(u, u->password,
                                          VKS_CLUSTER_PASSWORD_MAX, eq + 1,
                                          len, 0);
    }
}


/* a user (text: printable ASCII, it is logged) or a password (any byte) */

static int
vks_cluster_url_credential(vks_cluster_url_t *u, char *dst, size_t max,
    const char *s, size_t len, int text)
{
    switch (vks_cluster_url_decode(dst, max, s, len, text)) {

    case 0:
        if (text) {
            return 0;
        }

        return vks_cluster_url_fail(u, "empty password");

    case VKS_CLUSTER_URL_EBAD:
        return vks_cluster_url_fail(u, text ? "bad character or %-escape "
                                    "in the user"
                                    : "bad character or %-escape in the "
                                    "password");

    case VKS_CLUSTER_URL_ELONG:
        return vks_cluster_url_fail(u, text ? "user too long"
                                            : "password too long");

    default:
        return 0;
    }
}


static int
vks_cluster_url_decode(char *dst, size_t max, const char *s, size_t len,
    int text)
{
    int            hi, lo;
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = s[i];

        /* raw spaces and controls never: they end up in config files */
        if (c < 0x21 || c == 0x7f) {
            return VKS_CLUSTER_URL_EBAD;
        }

        if (c == '%') {
            if (len - i < 3) {
                return VKS_CLUSTER_URL_EBAD;
            }

            hi = vks_uri_hex(s[i + 1]);
            lo = vks_uri_hex(s[i + 2]);

            if (hi < 0 || lo < 0) {
                return VKS_CLUSTER_URL_EBAD;
            }

            c = (unsigned char) (hi << 4 | lo);
            i += 2;

            /* the result is a C string */
            if (c == 0) {
                return VKS_CLUSTER_URL_EBAD;
            }
        }

        if (text && (c < 0x21 || c >= 0x7f)) {
            return VKS_CLUSTER_URL_EBAD;
        }

        if (n == max) {
            return VKS_CLUSTER_URL_ELONG;
        }

        dst[n++] = (char) c;
    }

    dst[n] = '\0';

    return (int) n;
}


/* decimal digits only (no sign, no spaces), at most max */

static int
vks_cluster_url_number(const char *s, size_t len, unsigned long max,
    unsigned *out)
{
    size_t         i;
    unsigned long  v;

    if (len == 0 || len > 10) {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        v = v * 10 + (unsigned long) (s[i] - '0');
    }

    if (v > max) {
        return -1;
    }

    *out = (unsigned) v;

    return 0;
}


size_t
vks_cluster_url_redact(const vks_cluster_url_t *u, char *buf, size_t size)
{
    int          n;
    const char  *pw;

    pw = u->password[0] ? "***" : "";

    if (u->type == VKS_CLUSTER_URL_UNIX) {
        n = snprintf(buf, size, "unix:%s?db=%u%s%s%s%s", u->path, u->db,
                     u->user[0] ? "&user=" : "", u->user,
                     pw[0] ? "&password=" : "", pw);

    } else {
        n = snprintf(buf, size, "redis://%s%s%s%s%s%s%s:%u/%u", u->user,
                     pw[0] ? ":" : "", pw, pw[0] ? "@" : "",
                     u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "",
                     u->port, u->db);
    }

    return n < 0 ? 0 : (size_t) n;
}


void
vks_cluster_url_wipe(vks_cluster_url_t *u)
{
    /* not memset: the compiler may drop a store to memory never read */
    explicit_bzero(u->password, sizeof(u->password));
    explicit_bzero(u->user, sizeof(u->user));
}
