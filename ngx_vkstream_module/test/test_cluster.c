
/*
 * Unit tests: cluster/vks_cluster_url, vks_cluster_keys and the lease
 * state machine, without Redis (test_cluster_redis.c has the client).
 */


#include <stdint.h>
#include <string.h>

#include "cluster/vks_cluster_url.h"
#include "cluster/vks_cluster_keys.h"
#include "cluster/vks_cluster_lease.h"
#include "vks_tap.h"


static int
parse(vks_cluster_url_t *u, const char *s)
{
    return vks_cluster_url_parse(u, s, strlen(s));
}


static const char *
redact(vks_cluster_url_t *u)
{
    static char  buf[VKS_CLUSTER_URL_REDACTED_LEN];

    vks_cluster_url_redact(u, buf, sizeof(buf));

    return buf;
}


static void
test_url(void)
{
    char               big[600];
    vks_cluster_url_t  u;

    is_int(parse(&u, "redis://127.0.0.1:6380/2"), 0, "host:port/db");
    is_int(u.type, VKS_CLUSTER_URL_TCP, "tcp");
    is_str(u.host, "127.0.0.1", "host");
    is_int(u.port, 6380, "port");
    is_int(u.db, 2, "db");
    is_str(u.password, "", "no password");
    is_str(redact(&u), "redis://127.0.0.1:6380/2", "redacted, no password");

    is_int(parse(&u, "redis://redis.internal"), 0, "bare host");
    is_int(u.port, 6379, "default port 6379");
    is_int(u.db, 0, "default db 0");
    is_int(parse(&u, "REDIS://h:1/"), 0, "scheme any case, empty db");
    is_int(u.db, 0, "\"/\" is db 0");

    is_int(parse(&u, "redis://:s3cret@h:6379/1"), 0, ":password@");
    is_str(u.password, "s3cret", "password");
    is_str(u.user, "", "no user");
    is_str(redact(&u), "redis://:***@h:6379/1", "redacted password");

    is_int(parse(&u, "redis://app:p%40ss%2Fw:rd@h"), 0, "user:password@");
    is_str(u.user, "app", "user");
    is_str(u.password, "p@ss/w:rd", "%%-decoded password, raw \":\" kept");
    is_str(redact(&u), "redis://app:***@h:6379/0", "redacted with user");

    is_int(parse(&u, "redis://:a@b@h:7"), 0, "raw \"@\" in the password");
    is_str(u.password, "a@b", "the last \"@\" ends the credentials");

    is_int(parse(&u, "redis://[::1]:7000/3"), 0, "IPv6");
    is_str(u.host, "::1", "IPv6 without brackets (for getaddrinfo)");
    is_int(u.port, 7000, "IPv6 port");
    is_str(redact(&u), "redis://[::1]:7000/3", "IPv6 redacted in brackets");
    is_int(parse(&u, "redis://[::1]"), 0, "IPv6, default port");

    is_int(parse(&u, "unix:/run/redis/redis.sock"), 0, "unix socket");
    is_int(u.type, VKS_CLUSTER_URL_UNIX, "unix");
    is_str(u.path, "/run/redis/redis.sock", "path");
    is_str(redact(&u), "unix:/run/redis/redis.sock?db=0", "unix redacted");
    is_int(parse(&u, "unix:/s?db=5&password=pw%26x&user=u"), 0,
           "unix with db, password, user");
    is_int(u.db, 5, "unix db");
    is_str(u.password, "pw&x", "unix password %%-decoded");
    is_str(u.user, "u", "unix user");
    is_str(redact(&u), "unix:/s?db=5&user=u&password=***",
           "unix redacted password");

    /* errors: clear reasons, never the input */
    is_int(parse(&u, ""), -1, "empty");
    is_str(u.err, "redis URL: empty", "empty: reason");
    is_int(parse(&u, "http://h"), -1, "unknown scheme");
    is_str(u.err, "redis URL: unknown scheme (redis:// or unix:)",
           "unknown scheme: reason");
    is_int(parse(&u, "rediss://h"), -1, "TLS refused");
    is_str(u.err, "redis URL: TLS (rediss://) is not supported",
           "TLS: reason");
    is_int(parse(&u, "redis://"), -1, "no host");
    is_str(u.err, "redis URL: empty host", "empty host: reason");
    is_int(parse(&u, "redis://:pw@:6379"), -1, "empty host after password");
    is_str(u.err, "redis URL: empty host", "empty host: reason again");
    is_int(parse(&u, "redis://h:0"), -1, "port 0");
    is_str(u.err, "redis URL: port out of range (1-65535)", "port: reason");
    is_int(parse(&u, "redis://h:65536"), -1, "port 65536");
    is_int(parse(&u, "redis://h:65535"), 0, "port 65535");
    is_int(parse(&u, "redis://h:99999999999"), -1, "long port");
    is_int(parse(&u, "redis://h:-1"), -1, "negative port");
    is_int(parse(&u, "redis://h:"), -1, "empty port");
    is_str(u.err, "redis URL: empty port", "empty port: reason");
    is_int(parse(&u, "redis://h/x"), -1, "db not a number");
    is_str(u.err, "redis URL: db not a number (0-2147483647)",
           "db: reason");
    is_int(parse(&u, "redis://h/1/2"), -1, "db with a path");
    is_int(parse(&u, "redis://h/2147483648"), -1, "db too large");
    is_int(parse(&u, "redis://h/2147483647"), 0, "db INT_MAX");
    is_int(parse(&u, "redis://h?db=1"), -1, "query in redis://");
    is_int(parse(&u, "redis://pw@h"), -1, "password@ without \":\"");
    is_int(parse(&u, "redis://:@h"), -1, "empty password");
    is_str(u.err, "redis URL: empty password", "empty password: reason");
    is_int(parse(&u, "redis://:a%zz@h"), -1, "bad %%-escape");
    is_int(parse(&u, "redis://:a%00b@h"), -1, "%%00 refused");
    is_int(parse(&u, "redis://:a b@h"), -1, "raw space refused");
    is_int(parse(&u, "redis://u%0a:pw@h"), -1, "control in user refused");
    is_int(parse(&u, "redis://h o/1"), -1, "space in host");
    is_int(parse(&u, "redis://[::1"), -1, "unterminated IPv6");
    is_int(parse(&u, "redis://[zz]:1"), -1, "bad IPv6");
    is_int(parse(&u, "redis://[::1]x"), -1, "junk after IPv6");
    is_int(parse(&u, "unix:run/redis.sock"), -1, "relative socket path");
    is_int(parse(&u, "unix:"), -1, "empty socket path");
    is_int(parse(&u, "unix:/s?db=x"), -1, "unix db not a number");
    is_int(parse(&u, "unix:/s?db=1&db=2"), -1, "duplicate db");
    is_int(parse(&u, "unix:/s?timeout=1"), -1, "unknown parameter");
    is_int(parse(&u, "unix:/s?db"), -1, "parameter without value");
    is_int(parse(&u, "unix:/s?"), -1, "empty query");
    is_int(parse(&u, "unix:/s?user=u"), -1, "user without password");
    is_int(parse(&u, "unix:/a b"), -1, "space in socket path");

    memset(big, 'a', sizeof(big));
    big[0] = '/';
    memcpy(big, "unix:/", 6);
    is_int(vks_cluster_url_parse(&u, big, 5 + 107), 0, "107-byte path");
    is_int(vks_cluster_url_parse(&u, big, 5 + 108), -1, "108-byte path");
    is_str(u.err, "redis URL: unix socket path longer than 107 bytes",
           "long path: reason");
    memcpy(big, "redis://:", 9);
    big[9 + 513] = '@';
    big[9 + 514] = 'h';
    is_int(vks_cluster_url_parse(&u, big, 9 + 515), -1, "513-byte password");
    is_str(u.err, "redis URL: password too long", "long password: reason");
    big[9 + 512] = '@';
    big[9 + 513] = 'h';
    is_int(vks_cluster_url_parse(&u, big, 9 + 514), 0, "512-byte password");

    /* a password never shows in a reason, whatever else is wrong */
    is_int(parse(&u, "redis://:hunter2@h:70000"), -1, "bad port, password");
    ok(strstr(u.err, "hunter2") == NULL, "reason without the password");
    is_str(u.password, "", "password wiped after an error");
    is_int(parse(&u, "redis://:hunter2@h/xx"), -1, "bad db, password");
    ok(strstr(u.err, "hunter2") == NULL, "reason without the password (db)");

    is_int(parse(&u, "redis://:hunter2@h"), 0, "for wipe");
    vks_cluster_url_wipe(&u);
    is_str(u.password, "", "wiped");
}


static void
test_keys(void)
{
    char                key[VKS_CLUSTER_KEY_MAX + 1];
    char                longp[VKS_CLUSTER_PREFIX_MAX + 2];
    char                longn[VKS_CLUSTER_NODE_MAX + 2];
    vks_cluster_keys_t  k;

    is_int(vks_cluster_keys_init(&k, NULL, 0), 0, "default prefix");
    is_str(k.prefix, "vkstream:", "vkstream:");

    is_int(vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_LEASE, NULL, key,
                                 sizeof(key)), 17, "lease key length");
    is_str(key, "vkstream:vk:lease", "lease key");
    vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_FENCE, NULL, key, sizeof(key));
    is_str(key, "vkstream:vk:fence", "fence key");
    vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_EVENTS, NULL, key,
                          sizeof(key));
    is_str(key, "vkstream:events", "events key");
    vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_NODES, NULL, key, sizeof(key));
    is_str(key, "vkstream:nodes", "nodes key");
    vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_NODE, "edge-1.example", key,
                          sizeof(key));
    is_str(key, "vkstream:node:edge-1.example", "node key");

    is_int(vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_NODE, "a:b", key,
                                 sizeof(key)), -1, "bad node refused");
    is_int(vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_NODE, NULL, key,
                                 sizeof(key)), -1, "node key needs a node");
    is_int(vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_LEASE, NULL, key, 5),
           -1, "small buffer refused");
    is_int(vks_cluster_keys_make(&k, (vks_cluster_key_e) 99, NULL, key,
                                 sizeof(key)), -1, "unknown key refused");

    is_int(vks_cluster_keys_init(&k, "{tv}:", 5), 0, "hash-tag prefix");
    vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_LEASE, NULL, key, sizeof(key));
    is_str(key, "{tv}:vk:lease", "key under a hash tag");

    is_int(vks_cluster_keys_init(&k, "", 0), -1, "empty prefix refused");
    is_str(k.err, "cluster prefix: 1 to 64 bytes", "empty prefix: reason");
    is_int(vks_cluster_keys_init(&k, "a b", 3), -1, "space refused");
    is_int(vks_cluster_keys_init(&k, "a*", 2), -1, "glob character refused");
    is_int(vks_cluster_keys_init(&k, "a\0b", 3), -1, "NUL refused");

    memset(longp, 'p', sizeof(longp));
    is_int(vks_cluster_keys_init(&k, longp, VKS_CLUSTER_PREFIX_MAX), 0,
           "64-byte prefix");
    is_int(vks_cluster_keys_init(&k, longp, VKS_CLUSTER_PREFIX_MAX + 1), -1,
           "65-byte prefix refused");

    /* the longest prefix and node still fit the documented buffer */
    memset(longn, 'n', sizeof(longn));
    longn[VKS_CLUSTER_NODE_MAX] = '\0';
    vks_cluster_keys_init(&k, longp, VKS_CLUSTER_PREFIX_MAX);
    ok(vks_cluster_keys_make(&k, VKS_CLUSTER_KEY_NODE, longn, key,
                             sizeof(key)) > 0, "longest node key fits");

    ok(vks_cluster_keys_node_check("web1", 4) == NULL, "node web1");
    ok(vks_cluster_keys_node_check("a_b-c.d", 7) == NULL, "node a_b-c.d");
    ok(vks_cluster_keys_node_check("", 0) != NULL, "empty node refused");
    ok(vks_cluster_keys_node_check("-a", 2) != NULL, "leading - refused");
    ok(vks_cluster_keys_node_check("a:b", 3) != NULL, "\":\" refused");
    ok(vks_cluster_keys_node_check("a\0", 2) != NULL, "NUL refused");
    ok(vks_cluster_keys_node_check("\xd0\xb0", 2) != NULL,
       "non-ASCII refused");
    ok(vks_cluster_keys_node_check(longn, 64) == NULL, "64-byte node");
    longn[VKS_CLUSTER_NODE_MAX] = 'n';
    ok(vks_cluster_keys_node_check(longn, 65) != NULL, "65-byte node");
}


static vks_cluster_lease_reply_t *
reply(vks_cluster_lease_status_e status, uint64_t token, const char *holder,
    int64_t pttl)
{
    static vks_cluster_lease_reply_t  r;

    memset(&r, 0, sizeof(r));
    r.status = status;
    r.token = token;
    strcpy(r.holder, holder);
    r.pttl_ms = pttl;

    return &r;
}


#define won(token)          reply(VKS_CLUSTER_LEASE_WON, token, "", -1)
#define taken(holder, pttl) reply(VKS_CLUSTER_LEASE_TAKEN, 0, holder, pttl)
#define failed()            reply(VKS_CLUSTER_LEASE_ERROR, 0, "", -1)


static void
test_lease(void)
{
    uint64_t             now;
    vks_cluster_lease_t  l, m;

    /* T = 3000: renew every 1000, retry every 300, margin 300 */
    is_int(vks_cluster_lease_init(&l, "a:b", 3000), -1, "bad node refused");
    is_int(vks_cluster_lease_init(&l, "n1", 3000), 0, "init");
    is_int(l.renew_ms, 1000, "renew every T/3");
    is_int(vks_cluster_lease_verdict(&l, 0), VKS_CLUSTER_LEASE_UNKNOWN,
           "unknown at start");
    is_int(vks_cluster_lease_action(&l, 0), VKS_CLUSTER_LEASE_ACQUIRE,
           "acquire at once");
    is_int(vks_cluster_lease_wait(&l, 0), 0, "no wait at start");

    now = 10;
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_ACQUIRE, now, now + 5,
                             won(7));
    is_int(vks_cluster_lease_verdict(&l, now + 5), VKS_CLUSTER_LEASE_MINE,
           "won: mine");
    is_int(vks_cluster_lease_token(&l, now + 5), 7, "token exposed");
    is_str(l.value, "7:n1", "value TOKEN:NODE");
    is_int(vks_cluster_lease_floor(&l), 7, "floor is the token");
    is_int(vks_cluster_lease_action(&l, now + 5), VKS_CLUSTER_LEASE_WAIT,
           "then wait");
    is_int(vks_cluster_lease_wait(&l, now + 5), 1000 - 5,
           "until the renewal, from the send time");
    is_int(vks_cluster_lease_action(&l, now + 1000), VKS_CLUSTER_LEASE_RENEW,
           "renew after T/3");

    /* renewed at 1010: valid until 1010 + 3000 - 300 */
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_RENEW, 1010, 1020,
                             won(0));
    is_int(l.valid_until, 3710, "renewal extends from its send time");
    is_int(vks_cluster_lease_token(&l, 1020), 7, "same token after renewal");

    /* Redis gone: stays mine until the TTL less margin, then unknown */
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_RENEW, 2010, 3010,
                             failed());
    is_int(l.errors, 1, "error counted");
    is_int(vks_cluster_lease_verdict(&l, 3010), VKS_CLUSTER_LEASE_MINE,
           "still mine after a failed renewal");
    is_int(vks_cluster_lease_action(&l, 3010), VKS_CLUSTER_LEASE_WAIT,
           "retry not yet");
    is_int(vks_cluster_lease_action(&l, 3310), VKS_CLUSTER_LEASE_RENEW,
           "retry after T/10");
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_RENEW, 3310, 3700,
                             failed());
    is_int(vks_cluster_lease_wait(&l, 3700), 10,
           "wakes up when the lease runs out");
    is_int(vks_cluster_lease_verdict(&l, 3709), VKS_CLUSTER_LEASE_MINE,
           "mine 1 ms before");
    is_int(vks_cluster_lease_verdict(&l, 3710), VKS_CLUSTER_LEASE_UNKNOWN,
           "unknown at TTL - margin: VK must stop");
    is_int(vks_cluster_lease_token(&l, 3710), 0, "no token then");
    ok(3710 < 1010 + 3000, "stopped before Redis could expire the lease");

    /* Redis back, the key still ours: mine again, same token */
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_RENEW, 4000, 4001,
                             won(0));
    is_int(vks_cluster_lease_token(&l, 4001), 7, "renewed late: same token");

    /* the renewal refused: lost, acquire at once */
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_RENEW, 5000, 5001,
                             taken("", -1));
    is_int(vks_cluster_lease_verdict(&l, 5001), VKS_CLUSTER_LEASE_UNKNOWN,
           "refused renewal: not mine");
    is_int(l.losses, 1, "loss counted");
    is_int(vks_cluster_lease_action(&l, 5001), VKS_CLUSTER_LEASE_ACQUIRE,
           "acquire again at once");

    /* another holder, expiring in 200 ms */
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_ACQUIRE, 5001, 5002,
                             taken("9:n2", 200));
    is_int(vks_cluster_lease_verdict(&l, 5002), VKS_CLUSTER_LEASE_THEIRS,
           "theirs");
    is_str(l.holder, "9:n2", "holder recorded");
    is_int(vks_cluster_lease_floor(&l), 9, "their token raises the floor");
    is_int(vks_cluster_lease_wait(&l, 5002), 201,
           "try again when theirs expires");

    /* a token not above the floor is not trusted */
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_ACQUIRE, 5203, 5204,
                             won(9));
    is_int(vks_cluster_lease_verdict(&l, 5204), VKS_CLUSTER_LEASE_UNKNOWN,
           "token not growing: refused");
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_ACQUIRE, 5504, 5505,
                             won(10));
    is_int(vks_cluster_lease_token(&l, 5505), 10, "token grew: mine");
    is_int(l.acquisitions, 2, "two acquisitions");

    /* stale answers are ignored */
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_ACQUIRE, 5505, 5506,
                             taken("11:n3", 100));
    is_int(vks_cluster_lease_token(&l, 5506), 10,
           "acquire answer while holding: ignored");

    is_str(vks_cluster_lease_release(&l), "10:n1", "release gives the value");
    is_int(vks_cluster_lease_verdict(&l, 5507), VKS_CLUSTER_LEASE_UNKNOWN,
           "released: not mine");
    is_int(vks_cluster_lease_action(&l, 99999), VKS_CLUSTER_LEASE_WAIT,
           "released: no more commands");
    ok(vks_cluster_lease_release(&l) == NULL, "second release: nothing");

    /* hostile holders: no PTTL, garbage, huge token */
    vks_cluster_lease_init(&m, "n1", 0);
    is_int(m.ttl_ms, VKS_CLUSTER_TTL_DEFAULT_MS, "default TTL");
    vks_cluster_lease_result(&m, VKS_CLUSTER_LEASE_ACQUIRE, 0, 1,
                             taken("garbage", -1));
    is_int(vks_cluster_lease_verdict(&m, 1), VKS_CLUSTER_LEASE_THEIRS,
           "garbage holder: theirs");
    is_int(vks_cluster_lease_floor(&m), 0, "garbage: floor unchanged");
    is_int(vks_cluster_lease_wait(&m, 1), m.renew_ms,
           "no PTTL: poll every T/3");
    vks_cluster_lease_result(&m, VKS_CLUSTER_LEASE_ACQUIRE, 2000, 2001,
                             taken("99999999999999999999:x", 5));
    is_int(vks_cluster_lease_floor(&m), 0, "token beyond int64: ignored");
    vks_cluster_lease_result(&m, VKS_CLUSTER_LEASE_ACQUIRE, 2010, 2011,
                             failed());
    is_int(vks_cluster_lease_verdict(&m, 2011), VKS_CLUSTER_LEASE_UNKNOWN,
           "theirs, then no answer: unknown");
    vks_cluster_lease_result(&m, VKS_CLUSTER_LEASE_ACQUIRE, 2020, 2021,
                             NULL);
    is_int(m.errors, 2, "NULL reply is an error");

    vks_cluster_lease_init(&m, "n1", 1);
    is_int(m.ttl_ms, VKS_CLUSTER_TTL_MIN_MS, "TTL clamped up");
    vks_cluster_lease_init(&m, "n1", UINT64_MAX);
    is_int(m.ttl_ms, VKS_CLUSTER_TTL_MAX_MS, "TTL clamped down");
}


int
main(void)
{
    test_url();
    test_keys();
    test_lease();

    return done_testing();
}
