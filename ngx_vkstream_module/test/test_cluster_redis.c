
/*
 * Unit tests: cluster/vks_cluster_redis against real redis-server
 * processes this main starts itself (never the system's instance): one on
 * a Unix socket in a temporary directory, one with --requirepass on a free
 * loopback port.  They die with it (PR_SET_PDEATHSIG), even on a crash.
 * Skipped when redis-server is not installed.
 */


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <hiredis/hiredis.h>

#include "cluster/vks_cluster_redis.h"
#include "vks_tap.h"


/*
 * Long enough that a test process descheduled on a busy machine does not
 * lose a lease it renews every TTL/3: the checks are about order (who
 * holds it, when it can be taken), not speed.
 */
#define TTL         1500
#define PASSWORD    "s3cr@t/pw"         /* %-encoded in the URL */


typedef struct {
    pid_t  pid;
    char   log[PATH_MAX];
} server_t;


static char      dir[] = "/tmp/vks-redis-XXXXXX";
static char      sock[PATH_MAX];
static char      redis_bin[PATH_MAX];
static server_t  servers[2];


static uint64_t
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


static uint64_t
wall_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


static void
nap(uint64_t ms)
{
    poll(NULL, 0, (int) ms);
}


static int
find_redis(void)
{
    char        *path, *p, *colon;
    const char  *env;

    env = getenv("VKSTREAM_REDIS_SERVER");
    if (env && env[0]) {
        snprintf(redis_bin, sizeof(redis_bin), "%s", env);
        return access(redis_bin, X_OK) == 0;
    }

    env = getenv("PATH");
    path = strdup(env && env[0] ? env : "/usr/bin:/bin");

    for (p = path; p; p = colon ? colon + 1 : NULL) {
        colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
        }

        snprintf(redis_bin, sizeof(redis_bin), "%s/redis-server", p);

        if (access(redis_bin, X_OK) == 0) {
            free(path);
            return 1;
        }
    }

    free(path);

    snprintf(redis_bin, sizeof(redis_bin), "/usr/sbin/redis-server");

    return access(redis_bin, X_OK) == 0;
}


static void
stop_server(server_t *s, int sig)
{
    int       status;
    uint64_t  deadline;

    if (s->pid <= 0) {
        return;
    }

    kill(s->pid, sig);

    deadline = now_ms() + 5000;

    while (waitpid(s->pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            break;
        }

        nap(10);
    }

    s->pid = 0;
}


static void
cleanup(void)
{
    char  path[PATH_MAX];

    stop_server(&servers[0], SIGTERM);
    stop_server(&servers[1], SIGTERM);

    unlink(sock);
    unlink(servers[0].log);
    unlink(servers[1].log);
    snprintf(path, sizeof(path), "%s/dump.rdb", dir);
    unlink(path);
    rmdir(dir);
}


static void
show_log(server_t *s)
{
    char   line[512];
    FILE  *f;

    f = fopen(s->log, "r");
    if (f == NULL) {
        return;
    }

    while (fgets(line, sizeof(line), f)) {
        printf("# redis: %s", line);
    }

    fclose(f);
}


/* the socket accepts connections: the server is ready */

static int
probe(const char *path, unsigned port)
{
    int                 fd, rc;
    struct sockaddr_un  su;
    struct sockaddr_in  si;

    if (path) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        memset(&su, 0, sizeof(su));
        su.sun_family = AF_UNIX;
        snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
        rc = connect(fd, (struct sockaddr *) &su, sizeof(su));

    } else {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&si, 0, sizeof(si));
        si.sin_family = AF_INET;
        si.sin_port = htons(port);
        si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *) &si, sizeof(si));
    }

    close(fd);

    return rc == 0;
}


static int
start_server(server_t *s, const char *path, unsigned port)
{
    int          fd, status;
    char         portbuf[16];
    pid_t        parent;
    uint64_t     deadline;
    const char  *argv[24];
    int          argc;

    snprintf(s->log, sizeof(s->log), "%s/redis-%s.log", dir,
             path ? "unix" : "tcp");
    snprintf(portbuf, sizeof(portbuf), "%u", port);

    argc = 0;
    argv[argc++] = redis_bin;
    argv[argc++] = "--port";
    argv[argc++] = path ? "0" : portbuf;
    argv[argc++] = "--bind";
    argv[argc++] = "127.0.0.1";

    if (path) {
        argv[argc++] = "--unixsocket";
        argv[argc++] = path;
        argv[argc++] = "--unixsocketperm";
        argv[argc++] = "700";

    } else {
        argv[argc++] = "--requirepass";
        argv[argc++] = PASSWORD;
    }

    argv[argc++] = "--save";
    argv[argc++] = "";
    argv[argc++] = "--appendonly";
    argv[argc++] = "no";
    argv[argc++] = "--dir";
    argv[argc++] = dir;
    argv[argc++] = "--daemonize";
    argv[argc++] = "no";
    argv[argc] = NULL;

    parent = getpid();

    s->pid = fork();
    if (s->pid < 0) {
        return 0;
    }

    if (s->pid == 0) {
        /* never outlive the test, even if it crashes */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(1);
        }

        fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }

        execv(redis_bin, (char **) argv);
        _exit(127);
    }

    deadline = now_ms() + 10000;

    while (!probe(path, port)) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            show_log(s);
            return 0;
        }

        if (now_ms() > deadline) {
            show_log(s);
            stop_server(s, SIGKILL);
            return 0;
        }

        nap(10);
    }

    return 1;
}


static unsigned
free_port(void)
{
    int                 fd;
    unsigned            port;
    socklen_t           len;
    struct sockaddr_in  si;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&si, 0, sizeof(si));
    si.sin_family = AF_INET;
    si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(si);

    if (bind(fd, (struct sockaddr *) &si, sizeof(si)) != 0
        || getsockname(fd, (struct sockaddr *) &si, &len) != 0)
    {
        close(fd);
        return 0;
    }

    port = ntohs(si.sin_port);
    close(fd);

    return port;
}


static int
url(vks_cluster_url_t *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
url(vks_cluster_url_t *u, const char *fmt, ...)
{
    char     buf[PATH_MAX + 64];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    return vks_cluster_url_parse(u, buf, strlen(buf));
}


/* a raw command on the admin connection, to plant and inspect data */

static redisReply *
raw(vks_cluster_redis_t *r, const char *fmt, ...)
{
    void     *rep;
    va_list   args;

    va_start(args, fmt);
    rep = redisvCommand(r->ctx, fmt, args);
    va_end(args);

    if (rep == NULL) {
        printf("# raw command failed: %s\n", r->ctx->errstr);
        exit(1);
    }

    return rep;
}


static long long
raw_int(vks_cluster_redis_t *r, const char *fmt, const char *arg)
{
    long long    v;
    redisReply  *rep;

    rep = raw(r, fmt, arg);
    v = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -999;
    freeReplyObject(rep);

    return v;
}


static void
raw_do(vks_cluster_redis_t *r, const char *fmt, ...)
{
    void     *rep;
    va_list   args;

    va_start(args, fmt);
    rep = redisvCommand(r->ctx, fmt, args);
    va_end(args);

    if (rep) {
        freeReplyObject(rep);
    }
}


typedef struct {
    vks_cluster_redis_t        r;
    vks_cluster_keys_t        *k;
    const char                *node;
    pthread_barrier_t         *go;
    int                        rc;
    vks_cluster_lease_reply_t  reply;
} racer_t;


static void *
racer(void *arg)
{
    racer_t  *c = arg;

    pthread_barrier_wait(c->go);

    c->rc = vks_cluster_redis_lease_acquire(&c->r, c->k, c->node, TTL, 0,
                                            &c->reply);

    return NULL;
}


static void
test_race(vks_cluster_url_t *u, vks_cluster_redis_t *adm)
{
    int                 round, winners, bad;
    char                want[VKS_CLUSTER_LEASE_VALUE_MAX + 1];
    racer_t             c[2];
    uint64_t            last, token;
    pthread_t           t[2];
    pthread_barrier_t   go;
    vks_cluster_keys_t  k;

    vks_cluster_keys_init(&k, "race:", 5);
    memset(c, 0, sizeof(c));
    c[0].node = "node-a";
    c[1].node = "node-b";

    is_int(vks_cluster_redis_connect(&c[0].r, u, 0), VKS_CLUSTER_OK,
           "node a connects");
    is_int(vks_cluster_redis_connect(&c[1].r, u, 0), VKS_CLUSTER_OK,
           "node b connects");

    last = 0;
    bad = 0;

    for (round = 0; round < 20; round++) {
        raw_do(adm, "DEL race:vk:lease");
        pthread_barrier_init(&go, NULL, 2);

        c[0].k = c[1].k = &k;
        c[0].go = c[1].go = &go;

        pthread_create(&t[0], NULL, racer, &c[0]);
        pthread_create(&t[1], NULL, racer, &c[1]);
        pthread_join(t[0], NULL);
        pthread_join(t[1], NULL);
        pthread_barrier_destroy(&go);

        winners = (c[0].reply.status == VKS_CLUSTER_LEASE_WON)
                  + (c[1].reply.status == VKS_CLUSTER_LEASE_WON);

        if (c[0].rc != VKS_CLUSTER_OK || c[1].rc != VKS_CLUSTER_OK
            || winners != 1)
        {
            bad++;
            continue;
        }

        token = c[0].reply.token + c[1].reply.token;
        snprintf(want, sizeof(want), "%llu:%s", (unsigned long long) token,
                 c[0].reply.token ? "node-a" : "node-b");

        /* the loser saw the winner's value and its TTL */
        if (token <= last
            || strcmp(c[0].reply.token ? c[1].reply.holder
                                       : c[0].reply.holder, want) != 0
            || (c[0].reply.token ? c[1].reply.pttl_ms
                                 : c[0].reply.pttl_ms) > TTL)
        {
            bad++;
        }

        last = token;
    }

    is_int(bad, 0, "20 races: exactly one holder each, tokens grow, "
           "the loser sees the winner");

    vks_cluster_redis_close(&c[0].r);
    vks_cluster_redis_close(&c[1].r);
}


/* one step of a node's lease loop; returns the send time */

static uint64_t
step(vks_cluster_lease_t *l, vks_cluster_redis_t *r, vks_cluster_keys_t *k)
{
    uint64_t                    sent;
    vks_cluster_lease_reply_t   reply;
    vks_cluster_lease_action_e  a;

    sent = now_ms();
    a = vks_cluster_lease_action(l, sent);

    if (a == VKS_CLUSTER_LEASE_ACQUIRE) {
        vks_cluster_redis_lease_acquire(r, k, l->node, l->ttl_ms,
                                        vks_cluster_lease_floor(l), &reply);

    } else if (a == VKS_CLUSTER_LEASE_RENEW) {
        vks_cluster_redis_lease_renew(r, k, l->value, l->ttl_ms, &reply);

    } else {
        return 0;
    }

    vks_cluster_lease_result(l, a, sent, now_ms(), &reply);

    return sent;
}


static void
test_lease(vks_cluster_url_t *u, vks_cluster_redis_t *adm)
{
    int                        released, mine_both;
    uint64_t                   t0, deadline, sent, ta, tb, tok_a, tok_b;
    vks_cluster_keys_t         k;
    vks_cluster_redis_t        ra, rb;
    vks_cluster_lease_t        la, lb;
    vks_cluster_lease_reply_t  reply;

    memset(&ra, 0, sizeof(ra));
    memset(&rb, 0, sizeof(rb));
    vks_cluster_keys_init(&k, "ha:", 3);
    vks_cluster_redis_connect(&ra, u, 0);
    vks_cluster_redis_connect(&rb, u, 0);
    vks_cluster_lease_init(&la, "node-a", TTL);
    vks_cluster_lease_init(&lb, "node-b", TTL);

    ta = step(&la, &ra, &k);
    is_int(vks_cluster_lease_verdict(&la, now_ms()), VKS_CLUSTER_LEASE_MINE,
           "a holds the lease");
    tok_a = vks_cluster_lease_token(&la, now_ms());
    ok(tok_a > 0, "a has a fencing token");

    step(&lb, &rb, &k);
    is_int(vks_cluster_lease_verdict(&lb, now_ms()),
           VKS_CLUSTER_LEASE_THEIRS, "b: theirs");
    is_str(lb.holder, la.value, "b knows a holds it");

    /* b pretending to hold it */
    vks_cluster_redis_lease_renew(&rb, &k, "1:node-b", TTL, &reply);
    is_int(reply.status, VKS_CLUSTER_LEASE_TAKEN, "renewal by b refused");
    is_int(vks_cluster_redis_lease_release(&rb, &k, "1:node-b", &released),
           VKS_CLUSTER_OK, "release by b answered");
    is_int(released, 0, "release by b deletes nothing");

    vks_cluster_redis_lease_renew(&ra, &k, la.value, TTL, &reply);
    is_int(reply.status, VKS_CLUSTER_LEASE_WON, "renewal by a");
    ok(raw_int(adm, "PTTL %s", "ha:vk:lease") > TTL / 2,
       "renewal restarted the TTL");

    /* a renews for a while: b never gets it */
    t0 = now_ms();
    mine_both = 0;

    while (now_ms() < t0 + 2 * TTL) {
        step(&la, &ra, &k);
        step(&lb, &rb, &k);

        if (vks_cluster_lease_verdict(&lb, now_ms())
            == VKS_CLUSTER_LEASE_MINE)
        {
            mine_both++;
        }

        nap(5);
    }

    is_int(mine_both, 0, "renewed lease not taken over (2 TTLs)");
    is_int(vks_cluster_lease_token(&la, now_ms()), tok_a,
           "a keeps its token");

    /* a stops renewing (dead or cut off): b takes over after the TTL */
    ta = now_ms();
    deadline = ta + 10 * TTL;
    tb = 0;

    while (now_ms() < deadline) {
        sent = step(&lb, &rb, &k);

        if (vks_cluster_lease_verdict(&lb, now_ms())
            == VKS_CLUSTER_LEASE_MINE)
        {
            tb = sent;
            break;
        }

        nap(vks_cluster_lease_wait(&lb, now_ms()) > 5 ? 5 : 1);
    }

    ok(tb != 0, "b took over in %llu ms (TTL %d)",
       (unsigned long long) (tb - ta), TTL);
    /* a TTL of slack for a loaded machine: the point is TTL, not 10 */
    ok(tb - ta <= 2 * TTL + lb.renew_ms, "within TTL + one poll");
    is_int(vks_cluster_lease_verdict(&la, tb), VKS_CLUSTER_LEASE_UNKNOWN,
           "a had stopped when b took over (never two holders)");
    tok_b = vks_cluster_lease_token(&lb, now_ms());
    ok(tok_b > tok_a, "token grew: %llu > %llu",
       (unsigned long long) tok_b, (unsigned long long) tok_a);

    /* a comes back: its renewal is refused, it sees b */
    step(&la, &ra, &k);
    is_int(la.losses, 1, "a learns it lost the lease");
    step(&la, &ra, &k);
    is_int(vks_cluster_lease_verdict(&la, now_ms()),
           VKS_CLUSTER_LEASE_THEIRS, "a: theirs");
    is_int(vks_cluster_lease_floor(&la), tok_b, "a's floor is b's token");

    /* b leaves cleanly: a gets it at once, with a larger token */
    is_int(vks_cluster_redis_lease_release(&rb, &k,
                                           vks_cluster_lease_release(&lb),
                                           &released),
           VKS_CLUSTER_OK, "b releases");
    is_int(released, 1, "b's release deleted the lease");
    la.next_at = 0;
    step(&la, &ra, &k);
    ok(vks_cluster_lease_token(&la, now_ms()) > tok_b,
       "a again, token %llu > %llu",
       (unsigned long long) vks_cluster_lease_token(&la, now_ms()),
       (unsigned long long) tok_b);

    /* Redis lost the counter (restart without persistence): the floor */
    raw_do(adm, "DEL ha:vk:fence");
    raw_do(adm, "DEL ha:vk:lease");
    tok_a = la.token;
    vks_cluster_lease_init(&la, "node-a", TTL);
    la.seen = tok_a;
    step(&la, &ra, &k);
    is_int(vks_cluster_lease_token(&la, now_ms()), tok_a + 1,
           "counter lost: the token still grows past the floor");

    vks_cluster_redis_close(&ra);
    vks_cluster_redis_close(&rb);
    (void) ta;
}


static void
test_heartbeat(vks_cluster_url_t *u, vks_cluster_redis_t *adm)
{
    int                   rc, found;
    char                  names[8][VKS_CLUSTER_NODE_MAX + 1];
    size_t                n, i;
    uint64_t              deadline;
    long long             pttl;
    vks_cluster_keys_t    k;
    vks_cluster_redis_t   r;
    vks_cluster_record_t  rec;
    vks_cluster_field_t   f[2] = {
        { "url", "http://10.0.0.1:8080", 20 },
        { "streams", "3", 1 }
    };

    memset(&r, 0, sizeof(r));
    vks_cluster_keys_init(&k, "hb:", 3);
    vks_cluster_redis_connect(&r, u, 0);

    is_int(vks_cluster_redis_heartbeat(&r, &k, "web1", f, 2, TTL, wall_ms()),
           VKS_CLUSTER_OK, "heartbeat");
    pttl = raw_int(adm, "PTTL %s", "hb:node:web1");
    ok(pttl > 0 && pttl <= TTL, "node record has the TTL (%lld)", pttl);
    ok(raw_int(adm, "PTTL %s", "hb:nodes") > TTL, "nodes index expires too");

    is_int(vks_cluster_redis_node_read(&r, &k, "web1", &rec),
           VKS_CLUSTER_OK, "node read");
    is_int(rec.nfields, 2, "two fields");
    found = 0;
    for (i = 0; i < rec.nfields; i++) {
        if (strcmp(rec.fields[i].name, "url") == 0
            && strcmp(rec.fields[i].value, "http://10.0.0.1:8080") == 0)
        {
            found = 1;
        }
    }
    ok(found, "url field read back");
    vks_cluster_record_free(&rec);

    /* a heartbeat replaces the record */
    vks_cluster_redis_heartbeat(&r, &k, "web1", f + 1, 1, TTL, wall_ms());
    vks_cluster_redis_node_read(&r, &k, "web1", &rec);
    is_int(rec.nfields, 1, "record replaced, not merged");
    vks_cluster_record_free(&rec);

    vks_cluster_redis_heartbeat(&r, &k, "web2", f, 1, TTL, wall_ms());
    raw_do(adm, "ZADD hb:nodes %llu %s", (unsigned long long) wall_ms(),
           "bad name");
    rc = vks_cluster_redis_nodes(&r, &k, wall_ms() - 10000, names, 8, &n);
    is_int(rc, VKS_CLUSTER_OK, "nodes listed");
    is_int(n, 2, "two nodes, the planted bad name skipped");
    ok(n == 2 && strcmp(names[0], "web1") == 0
       && strcmp(names[1], "web2") == 0, "web1, web2");
    rc = vks_cluster_redis_nodes(&r, &k, wall_ms() + 60000, names, 8, &n);
    is_int(n, 0, "none since a later time");

    /* no more heartbeats: the record goes within the TTL */
    deadline = now_ms() + 10 * TTL;
    do {
        nap(10);
        vks_cluster_redis_node_read(&r, &k, "web1", &rec);
        vks_cluster_record_free(&rec);
    } while (rec.nfields && now_ms() < deadline);

    is_int(rec.nfields, 0, "record expired");

    is_int(vks_cluster_redis_heartbeat(&r, &k, "bad:name", f, 1, TTL, 1),
           VKS_CLUSTER_EREPLY, "bad node name refused");
    is_int(vks_cluster_redis_heartbeat(&r, &k, "web1", f, 0, TTL, 1),
           VKS_CLUSTER_EREPLY, "no fields refused");

    vks_cluster_redis_close(&r);
}


static void
test_stream(vks_cluster_url_t *u, vks_cluster_redis_t *adm)
{
    int                   rc, order;
    char                  id[VKS_CLUSTER_STREAM_ID_MAX + 1];
    char                  last[VKS_CLUSTER_STREAM_ID_MAX + 1];
    char                  num[16];
    size_t                i, n;
    uint64_t              t0;
    long long             len;
    vks_cluster_keys_t    k;
    vks_cluster_redis_t   r;
    vks_cluster_field_t   f[3];
    vks_cluster_record_t  recs[10];

    memset(&r, 0, sizeof(r));
    vks_cluster_keys_init(&k, "st:", 3);
    vks_cluster_redis_connect(&r, u, 0);

    f[0].name = "stream";
    f[0].value = "live/cam1";
    f[0].len = 9;
    f[1].name = "n";
    f[1].value = num;
    f[2].name = "bin";
    f[2].value = "a\0b";
    f[2].len = 3;

    rc = VKS_CLUSTER_OK;

    for (i = 0; i < 1000 && rc == VKS_CLUSTER_OK; i++) {
        f[1].len = snprintf(num, sizeof(num), "%zu", i);
        rc = vks_cluster_redis_event_add(&r, &k, 100, f, 3, id);
    }

    is_int(rc, VKS_CLUSTER_OK, "1000 matches added");
    len = raw_int(adm, "XLEN %s", "st:events");
    ok(len >= 100 && len <= 200, "capped at about 100 (%lld)", len);

    rc = vks_cluster_redis_event_read(&r, &k, "0", 10, 0, recs, &n);
    is_int(rc, VKS_CLUSTER_OK, "read from the start");
    is_int(n, 10, "10 entries (COUNT)");
    ok(n == 10 && recs[0].nfields == 3
       && strcmp(recs[0].fields[0].value, "live/cam1") == 0
       && recs[0].fields[2].len == 3
       && memcmp(recs[0].fields[2].value, "a\0b", 3) == 0,
       "fields read back, binary-safe");
    ok(n == 10 && atoi(recs[0].fields[1].value) >= 800,
       "the oldest kept is among the newest (%s)",
       n ? recs[0].fields[1].value : "-");

    order = 1;
    for (i = 1; i < n; i++) {
        if (atoi(recs[i].fields[1].value)
            != atoi(recs[i - 1].fields[1].value) + 1)
        {
            order = 0;
        }
    }
    ok(order, "in order");

    for (i = 0; i < n; i++) {
        vks_cluster_record_free(&recs[i]);
    }

    snprintf(last, sizeof(last), "%s", id);
    t0 = now_ms();
    rc = vks_cluster_redis_event_read(&r, &k, last, 10, 100, recs, &n);
    is_int(rc, VKS_CLUSTER_OK, "blocking read after the last entry");
    is_int(n, 0, "nothing new");
    ok(now_ms() - t0 >= 90, "blocked about 100 ms (%llu)",
       (unsigned long long) (now_ms() - t0));
    ok(r.ctx != NULL, "connection kept after a block");

    is_int(vks_cluster_redis_event_read(&r, &k, "x-1", 10, 0, recs, &n),
           VKS_CLUSTER_EREPLY, "bad ID refused");
    is_int(vks_cluster_redis_event_read(&r, &k, "0", 0, 0, recs, &n),
           VKS_CLUSTER_EREPLY, "count 0 refused");

    vks_cluster_redis_close(&r);
}


static void
test_hostile(vks_cluster_url_t *u, vks_cluster_redis_t *adm)
{
    int                        rc, i;
    char                       id[VKS_CLUSTER_STREAM_ID_MAX + 1];
    char                      *big;
    size_t                     n;
    vks_cluster_keys_t         k;
    vks_cluster_redis_t        r;
    vks_cluster_lease_t        l;
    vks_cluster_field_t        f = { "a", "b", 1 };
    vks_cluster_record_t       recs[10], rec;
    vks_cluster_lease_reply_t  reply;

    memset(&r, 0, sizeof(r));
    vks_cluster_keys_init(&k, "bad:", 4);
    vks_cluster_redis_connect(&r, u, 0);
    vks_cluster_lease_init(&l, "node-a", TTL);

    raw_do(adm, "HSET bad:vk:lease x y");
    rc = vks_cluster_redis_lease_acquire(&r, &k, "node-a", TTL, 0, &reply);
    is_int(rc, VKS_CLUSTER_EREPLY, "lease of the wrong type: error");
    ok(strstr(r.err, "WRONGTYPE") != NULL, "reason: %s", r.err);
    is_int(reply.status, VKS_CLUSTER_LEASE_ERROR, "reply says error");
    vks_cluster_lease_result(&l, VKS_CLUSTER_LEASE_ACQUIRE, 0, 1, &reply);
    is_int(vks_cluster_lease_verdict(&l, 1), VKS_CLUSTER_LEASE_UNKNOWN,
           "machine: unknown");
    ok(r.ctx != NULL, "connection kept after an error answer");

    vks_cluster_redis_lease_renew(&r, &k, "1:node-a", TTL, &reply);
    is_int(reply.status, VKS_CLUSTER_LEASE_ERROR,
           "renewal of the wrong type: error");

    raw_do(adm, "DEL bad:vk:lease");
    raw_do(adm, "SET bad:vk:fence abc");
    rc = vks_cluster_redis_lease_acquire(&r, &k, "node-a", TTL, 0, &reply);
    is_int(rc, VKS_CLUSTER_EREPLY, "fence not a number: error (%s)", r.err);
    is_int(raw_int(adm, "EXISTS %s", "bad:vk:lease"), 0,
           "and no lease set");

    raw_do(adm, "SET bad:vk:lease %b", "x\n\x01y", (size_t) 4);
    rc = vks_cluster_redis_lease_acquire(&r, &k, "node-a", TTL, 0, &reply);
    is_int(rc, VKS_CLUSTER_OK, "planted lease without TTL");
    is_int(reply.status, VKS_CLUSTER_LEASE_TAKEN, "taken");
    is_str(reply.holder, "x??y", "holder cut to printable");
    is_int(reply.pttl_ms, -1, "no PTTL");

    raw_do(adm, "SET bad:events x");
    is_int(vks_cluster_redis_event_add(&r, &k, 10, &f, 1, id),
           VKS_CLUSTER_EREPLY, "matches of the wrong type: add fails");
    is_int(vks_cluster_redis_event_read(&r, &k, "0", 10, 0, recs, &n),
           VKS_CLUSTER_EREPLY, "and read fails");

    raw_do(adm, "SET bad:nodes x");
    is_int(vks_cluster_redis_heartbeat(&r, &k, "web1", &f, 1, TTL, 5),
           VKS_CLUSTER_EREPLY, "nodes index of the wrong type: error");
    ok(strstr(r.err, "WRONGTYPE") != NULL, "reason: %s", r.err);
    /* EXEC does not roll back: what ran before ZADD stays, with its TTL */
    ok(raw_int(adm, "PTTL %s", "bad:node:web1") > 0,
       "record never without its TTL");
    raw_do(adm, "DEL bad:nodes");
    is_int(vks_cluster_redis_heartbeat(&r, &k, "web1", &f, 1, TTL, 5),
           VKS_CLUSTER_OK, "connection in step after EXEC errors");

    raw_do(adm, "SET bad:node:web2 x");
    is_int(vks_cluster_redis_node_read(&r, &k, "web2", &rec),
           VKS_CLUSTER_EREPLY, "node record of the wrong type");

    raw_do(adm, "DEL bad:node:web2");
    for (i = 0; i < 20; i++) {
        raw_do(adm, "HSET bad:node:web2 f%d v", i);
    }
    is_int(vks_cluster_redis_node_read(&r, &k, "web2", &rec),
           VKS_CLUSTER_EREPLY, "node record with 20 fields: error");
    is_str(r.err, "node read: more than 16 fields", "reason");

    /* entries written by someone else, between two of ours */
    raw_do(adm, "DEL bad:events");
    vks_cluster_redis_event_add(&r, &k, 10, &f, 1, id);
    raw_do(adm, "XADD bad:events * a 1 b 2 c 3 d 4 e 5 f 6 g 7 h 8 i 9 "
           "j 10 k 11 l 12 m 13 n 14 o 15 p 16 q 17");
    big = malloc(VKS_CLUSTER_FIELD_VALUE_MAX + 1);
    memset(big, 'v', VKS_CLUSTER_FIELD_VALUE_MAX + 1);
    raw_do(adm, "XADD bad:events * text %b", big,
           (size_t) VKS_CLUSTER_FIELD_VALUE_MAX + 1);
    free(big);
    vks_cluster_redis_event_add(&r, &k, 10, &f, 1, id);

    rc = vks_cluster_redis_event_read(&r, &k, "0", 10, 0, recs, &n);
    is_int(rc, VKS_CLUSTER_OK, "read past foreign entries");
    is_int(n, 4, "four entries");
    ok(n == 4 && recs[0].invalid == NULL && recs[3].invalid == NULL,
       "ours valid");
    is_str(n == 4 ? recs[1].invalid : NULL, "more than 16 fields",
           "17 fields: invalid, with its ID");
    is_str(n == 4 ? recs[2].invalid : NULL, "a value over 512 KB",
           "huge value: invalid");
    ok(n == 4 && recs[1].id[0] && recs[1].nfields == 0,
       "invalid entry: ID kept, no fields");

    for (i = 0; i < (int) n; i++) {
        vks_cluster_record_free(&recs[i]);
    }

    vks_cluster_redis_close(&r);
}


static void
test_auth(unsigned port)
{
    int                  rc;
    char                 red[VKS_CLUSTER_URL_REDACTED_LEN];
    redisReply          *rep;
    vks_cluster_url_t    u;
    vks_cluster_redis_t  r;

    memset(&r, 0, sizeof(r));

    url(&u, "redis://:s3cr%%40t%%2Fpw@127.0.0.1:%u/3", port);
    vks_cluster_url_redact(&u, red, sizeof(red));
    ok(strstr(red, "s3cr") == NULL, "redacted: %s", red);

    rc = vks_cluster_redis_connect(&r, &u, 0);
    is_int(rc, VKS_CLUSTER_OK, "AUTH with a %%-encoded password (%s)",
           r.err);

    if (rc == VKS_CLUSTER_OK) {
        rep = raw(&r, "CLIENT INFO");
        ok(rep->type == REDIS_REPLY_STRING && strstr(rep->str, " db=3 "),
           "SELECT 3 done");
        freeReplyObject(rep);
    }

    url(&u, "redis://default:s3cr%%40t%%2Fpw@127.0.0.1:%u", port);
    is_int(vks_cluster_redis_connect(&r, &u, 0), VKS_CLUSTER_OK,
           "AUTH user password (%s)", r.err);

    url(&u, "redis://:wrong-s3cret@127.0.0.1:%u", port);
    rc = vks_cluster_redis_connect(&r, &u, 0);
    is_int(rc, VKS_CLUSTER_EREPLY, "wrong password refused");
    ok(strncmp(r.err, "AUTH: ", 6) == 0, "reason: %s", r.err);
    ok(strstr(r.err, "wrong-s3cret") == NULL, "no password in the reason");
    ok(r.ctx == NULL, "not left connected");

    url(&u, "redis://127.0.0.1:%u", port);
    rc = vks_cluster_redis_connect(&r, &u, 0);
    is_int(rc, VKS_CLUSTER_EREPLY, "no password refused");
    ok(strstr(r.err, "NOAUTH") != NULL, "reason: %s", r.err);

    url(&u, "redis://:s3cr%%40t%%2Fpw@127.0.0.1:%u/999999", port);
    rc = vks_cluster_redis_connect(&r, &u, 0);
    is_int(rc, VKS_CLUSTER_EREPLY, "db out of Redis's range refused");
    ok(strncmp(r.err, "SELECT: ", 8) == 0, "reason: %s", r.err);

    vks_cluster_redis_close(&r);
}


static void
test_io(unsigned port)
{
    int                        fd, rc;
    unsigned                   silent;
    uint64_t                   t0, deadline;
    socklen_t                  len;
    vks_cluster_url_t          u;
    vks_cluster_keys_t         k;
    vks_cluster_redis_t        r;
    vks_cluster_lease_t        l;
    struct sockaddr_in         si;

    memset(&r, 0, sizeof(r));
    vks_cluster_keys_init(&k, NULL, 0);

    url(&u, "unix:%s/none.sock", dir);
    is_int(vks_cluster_redis_connect(&r, &u, 0), VKS_CLUSTER_EIO,
           "no socket: EIO");
    ok(strncmp(r.err, "connect: ", 9) == 0, "reason: %s", r.err);

    url(&u, "redis://127.0.0.1:%u", free_port());
    is_int(vks_cluster_redis_connect(&r, &u, 0), VKS_CLUSTER_EIO,
           "closed port: EIO (%s)", r.err);

    /* a server that accepts (backlog) and never answers */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&si, 0, sizeof(si));
    si.sin_family = AF_INET;
    si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(si);
    bind(fd, (struct sockaddr *) &si, sizeof(si));
    listen(fd, 4);
    getsockname(fd, (struct sockaddr *) &si, &len);
    silent = ntohs(si.sin_port);

    url(&u, "redis://127.0.0.1:%u", silent);
    t0 = now_ms();
    rc = vks_cluster_redis_connect(&r, &u, 200);
    is_int(rc, VKS_CLUSTER_EIO, "silent server: EIO");
    is_str(r.err, "PING: timed out", "reason: timed out");
    ok(now_ms() - t0 < 2000, "within the timeout (%llu ms)",
       (unsigned long long) (now_ms() - t0));
    close(fd);

    /* the holder loses Redis: VK stops at TTL less margin */
    url(&u, "redis://:s3cr%%40t%%2Fpw@127.0.0.1:%u", port);
    vks_cluster_redis_connect(&r, &u, 200);
    vks_cluster_lease_init(&l, "node-a", TTL);
    step(&l, &r, &k);
    is_int(vks_cluster_lease_verdict(&l, now_ms()), VKS_CLUSTER_LEASE_MINE,
           "holder on the TCP server");

    stop_server(&servers[1], SIGKILL);

    deadline = now_ms() + 10 * TTL;
    while (vks_cluster_lease_verdict(&l, now_ms()) == VKS_CLUSTER_LEASE_MINE
           && now_ms() < deadline)
    {
        step(&l, &r, &k);
        nap(5);
    }

    is_int(vks_cluster_lease_verdict(&l, now_ms()),
           VKS_CLUSTER_LEASE_UNKNOWN, "Redis gone: verdict unknown");
    ok(l.errors > 0, "renewals failed (%s)", r.err);
    ok(now_ms() <= l.valid_until + 500, "stopped at the lease's end");
    ok(r.ctx == NULL, "connection closed after EIO");
    is_int(vks_cluster_redis_node_read(&r, &k, "x", &(vks_cluster_record_t)
                                       { .nfields = 0 }),
           VKS_CLUSTER_EIO, "then: not connected");
}


int
main(void)
{
    int                  ok_unix, ok_tcp, i;
    unsigned             port;
    vks_cluster_url_t    u;
    vks_cluster_redis_t  adm;

    if (!find_redis()) {
        printf("1..0 # SKIP redis-server not installed\n");
        return 0;
    }

    /* nginx workers ignore it too: a write to a closed connection */
    signal(SIGPIPE, SIG_IGN);

    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    atexit(cleanup);

    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);

    ok_unix = start_server(&servers[0], sock, 0);

    /* the free port may be taken before redis binds it: try again */
    port = 0;
    ok_tcp = 0;
    for (i = 0; i < 3 && !ok_tcp; i++) {
        port = free_port();
        ok_tcp = port && start_server(&servers[1], NULL, port);
    }

    if (!ok(ok_unix && ok_tcp, "redis-server started (%s)", redis_bin)) {
        return done_testing();
    }

    url(&u, "unix:%s", sock);
    memset(&adm, 0, sizeof(adm));

    if (!ok(vks_cluster_redis_connect(&adm, &u, 0) == VKS_CLUSTER_OK,
            "admin connection (%s)", adm.err))
    {
        return done_testing();
    }

    test_race(&u, &adm);
    test_lease(&u, &adm);
    test_heartbeat(&u, &adm);
    test_stream(&u, &adm);
    test_hostile(&u, &adm);
    test_auth(port);
    test_io(port);

    vks_cluster_redis_close(&adm);

    return done_testing();
}
