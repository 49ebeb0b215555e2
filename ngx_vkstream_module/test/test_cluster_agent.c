
/*
 * Unit tests: cluster/vks_cluster_agent, three agents (three "nodes" in
 * one cluster prefix) against a real redis-server this main starts on a
 * Unix socket in a temporary directory (never the system's instance; it
 * dies with the test, PR_SET_PDEATHSIG): one VK lease holder, records in
 * each other's views, events between them, global rules, a clean hand-over
 * when the holder stops, and Redis killed and started again.
 *
 * Every wait is on the agents' notify calls (or a short poll of their
 * status) up to a deadline generous for a busy machine; what is asserted
 * is the order of things and the bounds the lease promises (measured from
 * the last moment the test saw the old state, so a descheduled test does
 * not fail them).  Skipped when redis-server is not installed.
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <hiredis/hiredis.h>

#include "cluster/vks_cluster_agent.h"
#include "cluster/vks_cluster_doc.h"
#include "vks_tap.h"


#define TTL         1500                 /* ms, as in test_cluster_redis */
#define SLOW_TTL    30000                /* nothing periodic in a test */
#define PREFIX      "vkt:"
#define NAGENTS     3
#define WAIT_MS     10000                /* deadline of an ordinary wait */
#define EVENTS_A    50
#define EVENTS_C    10
#define EV_MAX      4096


typedef struct {
    char                         name[16];
    vks_cluster_agent_t         *a;
    unsigned long                notified;     /* under mu */
    vks_cluster_view_t           view;         /* the newest taken */
    int                          has_view;
    vks_cluster_record_t         ev[EV_MAX];   /* taken events */
    size_t                       nev;
    int                          no_vk;        /* does not contend */
} node_t;


static char             dir[] = "/tmp/vks-agent-XXXXXX";
static char             sock[100];      /* fits sun_path */
static char             redis_log[PATH_MAX];
static char             redis_bin[PATH_MAX];
static pid_t            redis_pid;
static vks_cluster_url_t  url;

static pthread_mutex_t  mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t   cv;

static node_t           nodes[NAGENTS] = {
    { .name = "node-a" }, { .name = "node-b" }, { .name = "node-c" }
};


static uint64_t
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


static void
nap(uint64_t ms)
{
    poll(NULL, 0, (int) ms);
}


/* --- redis-server -------------------------------------------------------- */

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
stop_redis(int sig)
{
    int       status;
    uint64_t  deadline;

    if (redis_pid <= 0) {
        return;
    }

    kill(redis_pid, sig);

    deadline = now_ms() + 5000;

    while (waitpid(redis_pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(redis_pid, SIGKILL);
            waitpid(redis_pid, &status, 0);
            break;
        }

        nap(10);
    }

    redis_pid = 0;
}


static void
cleanup(void)
{
    char  path[PATH_MAX];

    stop_redis(SIGTERM);
    unlink(sock);
    unlink(redis_log);
    snprintf(path, sizeof(path), "%s/dump.rdb", dir);
    unlink(path);
    rmdir(dir);
}


static void
show_log(void)
{
    char   line[512];
    FILE  *f;

    f = fopen(redis_log, "r");
    if (f == NULL) {
        return;
    }

    while (fgets(line, sizeof(line), f)) {
        printf("# redis: %s", line);
    }

    fclose(f);
}


static int
probe(void)
{
    int                 fd, rc;
    struct sockaddr_un  su;

    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&su, 0, sizeof(su));
    su.sun_family = AF_UNIX;
    snprintf(su.sun_path, sizeof(su.sun_path), "%s", sock);
    rc = connect(fd, (struct sockaddr *) &su, sizeof(su));
    close(fd);

    return rc == 0;
}


/* (again) on the same socket: the agents' URL does not change */

static int
start_redis(void)
{
    int          fd, status;
    pid_t        parent;
    uint64_t     deadline;
    const char  *argv[] = {
        redis_bin, "--port", "0", "--unixsocket", sock,
        "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
        "--dir", dir, "--daemonize", "no", NULL
    };

    unlink(sock);
    parent = getpid();

    redis_pid = fork();
    if (redis_pid < 0) {
        redis_pid = 0;
        return 0;
    }

    if (redis_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(1);
        }

        fd = open(redis_log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }

        execv(redis_bin, (char **) argv);
        _exit(127);
    }

    deadline = now_ms() + 10000;

    while (!probe()) {
        if (waitpid(redis_pid, &status, WNOHANG) == redis_pid
            || now_ms() > deadline)
        {
            show_log();
            stop_redis(SIGKILL);
            return 0;
        }

        nap(10);
    }

    return 1;
}


/* --- agents ------------------------------------------------------------ */

static void
notify(void *data)
{
    node_t  *n = data;

    pthread_mutex_lock(&mu);
    n->notified++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}


static unsigned long
notified(node_t *n)
{
    unsigned long  v;

    pthread_mutex_lock(&mu);
    v = n->notified;
    pthread_mutex_unlock(&mu);

    return v;
}


/* until a notify call, or 20 ms (time-based changes: lease expiry) */

static void
wait_notify(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 20 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }

    pthread_mutex_lock(&mu);
    pthread_cond_timedwait(&cv, &mu, &ts);
    pthread_mutex_unlock(&mu);
}


/* waits until pred() or the deadline; 1 if pred() held */

#define WAIT_FOR(ms, cond)                                                   \
    ({                                                                       \
        uint64_t  dl_ = now_ms() + (ms);                                     \
        int       r_;                                                        \
        while (!(r_ = (cond)) && now_ms() < dl_) {                           \
            wait_notify();                                                   \
        }                                                                    \
        r_;                                                                  \
    })


static vks_cluster_agent_t *
agent_start(node_t *n, const char *prefix, uint64_t ttl, uint32_t seed)
{
    char                      err[128];
    vks_cluster_agent_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.url = url;
    conf.prefix = prefix;
    conf.node = n->name;
    conf.ttl_ms = ttl;
    conf.notify = notify;
    conf.notify_data = n;
    conf.seed = seed;
    conf.contend = !n->no_vk;

    n->a = vks_cluster_agent_start(&conf, err, sizeof(err));

    if (n->a == NULL) {
        printf("# agent %s: %s\n", n->name, err);
    }

    return n->a;
}


static void
drop_events(node_t *n)
{
    size_t  i;

    for (i = 0; i < n->nev; i++) {
        vks_cluster_record_free(&n->ev[i]);
    }

    n->nev = 0;
}


static void
agent_stop(node_t *n)
{
    vks_cluster_agent_stop(n->a);
    n->a = NULL;
    vks_cluster_view_free(&n->view);
    n->has_view = 0;
    drop_events(n);
}


static vks_cluster_agent_status_t
status(node_t *n)
{
    vks_cluster_agent_status_t  st;

    vks_cluster_agent_status(n->a, &st);

    return st;
}


/* the running agents: one MINE, the others THEIRS naming it; its index */

static int
one_holder(int *holder)
{
    int                         i, mine, theirs;
    vks_cluster_agent_status_t  st[NAGENTS];

    mine = -1;
    theirs = 0;

    for (i = 0; i < NAGENTS; i++) {
        if (nodes[i].a == NULL) {
            continue;
        }

        st[i] = status(&nodes[i]);

        if (st[i].verdict == VKS_CLUSTER_LEASE_MINE) {
            if (mine >= 0) {
                return 0;
            }

            mine = i;

        } else if (st[i].verdict == VKS_CLUSTER_LEASE_THEIRS) {
            theirs++;

        } else {
            return 0;
        }
    }

    if (mine < 0) {
        return 0;
    }

    for (i = 0; i < NAGENTS; i++) {
        if (nodes[i].a && i != mine
            && strcmp(st[i].holder, nodes[mine].name) != 0)
        {
            return 0;
        }
    }

    *holder = mine;

    return 1;
}


/* takes what is new; the newest view stays in n->view */

static void
take(node_t *n)
{
    size_t              got;
    vks_cluster_view_t  v;

    if (vks_cluster_agent_take_view(n->a, &v)) {
        vks_cluster_view_free(&n->view);
        n->view = v;
        n->has_view = 1;
    }

    if (n->nev == EV_MAX) {
        drop_events(n);            /* warm-up floods only: never asserted */
    }

    got = vks_cluster_agent_take_events(n->a, n->ev + n->nev,
                                        EV_MAX - n->nev);
    n->nev += got;
}


static const vks_cluster_record_t *
view_rec(node_t *n, const char *name)
{
    size_t  i;

    for (i = 0; i < n->view.n; i++) {
        if (strcmp(n->view.names[i], name) == 0) {
            return &n->view.recs[i];
        }
    }

    return NULL;
}


static int
field_is(const vks_cluster_record_t *rec, const char *name, const char *want)
{
    size_t       len;
    const char  *v;

    if (rec == NULL) {
        return 0;
    }

    v = vks_cluster_record_get(rec, name, &len);

    return v && len == strlen(want) && memcmp(v, want, len) == 0;
}


/* every running agent's view has the others' records (their "url") */

static int
views_show(void)
{
    int   i, j;
    char  want[128];

    for (i = 0; i < NAGENTS; i++) {
        if (nodes[i].a == NULL) {
            continue;
        }

        take(&nodes[i]);

        for (j = 0; j < NAGENTS; j++) {
            if (j == i || nodes[j].a == NULL) {
                continue;
            }

            snprintf(want, sizeof(want), "http://%.16s:8080", nodes[j].name);

            if (!field_is(view_rec(&nodes[i], nodes[j].name), "url", want)) {
                return 0;
            }
        }
    }

    return 1;
}


static int
set_record(node_t *n, const char *gen, int changed)
{
    char                 url_[64];
    vks_cluster_field_t  f[3];

    snprintf(url_, sizeof(url_), "http://%s:8080", n->name);

    f[0] = (vks_cluster_field_t) { "url", url_, strlen(url_) };
    f[1] = (vks_cluster_field_t) { "gen", gen, strlen(gen) };
    f[2] = (vks_cluster_field_t) { "streams", "[]", 2 };

    return vks_cluster_agent_set_record(n->a, f, 3, changed);
}


static int
send_ev(node_t *n, const char *type, const char *key, const char *val)
{
    vks_cluster_field_t  f[3];

    f[0] = (vks_cluster_field_t) { VKS_CLUSTER_F_TYPE, type, strlen(type) };
    f[1] = (vks_cluster_field_t) { key, val, strlen(val) };
    f[2] = (vks_cluster_field_t) { "bin", "\xd0\xba\0\x01", 4 };

    return vks_cluster_agent_send(n->a, f, 3);
}


/* n has taken an entry with key = val (from anyone) */

static int
has_ev(node_t *n, const char *key, const char *val)
{
    size_t  i;

    take(n);

    for (i = 0; i < n->nev; i++) {
        if (field_is(&n->ev[i], key, val)) {
            return 1;
        }
    }

    return 0;
}


/*
 * n sends a "sync" entry; every other running agent takes it and drops
 * whatever it had before: their readers are past all that came earlier
 */

static int
sync_from(node_t *n, const char *tag)
{
    int  i, all;

    if (send_ev(n, "cmd", "sync", tag) != 0) {
        return 0;
    }

    all = 1;

    for (i = 0; i < NAGENTS; i++) {
        if (nodes[i].a == NULL || &nodes[i] == n) {
            continue;
        }

        all &= WAIT_FOR(WAIT_MS, has_ev(&nodes[i], "sync", tag));
        drop_events(&nodes[i]);
    }

    return all;
}


/* --- the tests ---------------------------------------------------------- */

static int
test_lease(int *holder)
{
    int                         i, h, rc;
    vks_cluster_agent_status_t  st;

    rc = WAIT_FOR(WAIT_MS, one_holder(&h));
    if (!ok(rc, "one agent holds the lease, the others see it as theirs")) {
        for (i = 0; i < NAGENTS; i++) {
            st = status(&nodes[i]);
            printf("# %s: redis %d verdict %d holder \"%s\" err \"%s\"\n",
                   nodes[i].name, st.redis, st.verdict, st.holder,
                   st.last_error);
        }

        return 0;
    }

    *holder = h;
    st = status(&nodes[h]);
    ok(st.token > 0, "holder %s has token %llu", nodes[h].name,
       (unsigned long long) st.token);
    is_str(st.holder, nodes[h].name, "holder names itself");
    is_int(st.acquisitions, 1, "one acquisition");

    for (i = 0; i < NAGENTS; i++) {
        vks_cluster_agent_status_t  o = status(&nodes[i]);

        is_int(o.redis, VKS_CLUSTER_REDIS_CONNECTED, "%s: redis connected",
               nodes[i].name);

        if (i != h) {
            is_int(o.verdict, VKS_CLUSTER_LEASE_THEIRS, "%s: THEIRS",
                   nodes[i].name);
            is_str(o.holder, nodes[h].name, "%s: holder is %s",
                   nodes[i].name, nodes[h].name);
            is_int(o.token, 0, "%s: no token", nodes[i].name);
            ok(o.seen == st.token, "%s: saw token %llu", nodes[i].name,
               (unsigned long long) o.seen);
            is_int(o.acquisitions, 0, "%s: never acquired", nodes[i].name);
        }

        /* the verdict shows in the status just before the notification */
        ok(WAIT_FOR(WAIT_MS, notified(&nodes[i]) > 0), "%s: notified",
           nodes[i].name);
    }

    return 1;
}


static void
test_records(void)
{
    int                          i, rc;
    uint64_t                     t0;
    const vks_cluster_record_t  *rec;

    for (i = 0; i < NAGENTS; i++) {
        is_int(set_record(&nodes[i], "1", 1), 0, "%s: record set",
               nodes[i].name);
    }

    ok(WAIT_FOR(WAIT_MS, views_show()),
       "every record in the others' views");

    for (i = 0; i < NAGENTS; i++) {
        take(&nodes[i]);
        is_int(nodes[i].view.n, NAGENTS - 1, "%s: view of %d nodes",
               nodes[i].name, NAGENTS - 1);
        ok(nodes[i].view.valid && nodes[i].view.read_ms > 0,
           "%s: view valid, read at %llu", nodes[i].name,
           (unsigned long long) nodes[i].view.read_ms);
        ok(view_rec(&nodes[i], nodes[i].name) == NULL,
           "%s: not in its own view", nodes[i].name);
        rec = view_rec(&nodes[i], nodes[(i + 1) % NAGENTS].name);
        ok(rec && rec->nfields == 3 && field_is(rec, "gen", "1")
           && field_is(rec, "streams", "[]"),
           "%s: %s's record has its 3 fields", nodes[i].name,
           nodes[(i + 1) % NAGENTS].name);
    }

    /* a changed record: the others re-read at its note */
    t0 = now_ms();
    is_int(set_record(&nodes[0], "2", 1), 0, "node-a: changed record");
    rc = WAIT_FOR(WAIT_MS, (take(&nodes[1]), take(&nodes[2]),
                            field_is(view_rec(&nodes[1], "node-a"), "gen",
                                     "2")
                            && field_is(view_rec(&nodes[2], "node-a"), "gen",
                                        "2")));
    t0 = now_ms() - t0;
    ok(rc, "node-a's change in the others' views after %llu ms",
       (unsigned long long) t0);
}


/*
 * Two more agents with a 30 s TTL: heartbeats and view reads every 10 s,
 * so a record seen within 3 s came by its "node" note, and one set
 * without "changed" is not seen that soon.
 */

static void
test_changed_note(void)
{
    static node_t  p = { .name = "slow-p" }, q = { .name = "slow-q" };
    int            rc;
    uint64_t       t0;

    if (!ok(agent_start(&p, "vkslow:", SLOW_TTL, 7)
            && agent_start(&q, "vkslow:", SLOW_TTL, 8),
            "two agents with a 30 s TTL"))
    {
        goto done;
    }

    /* both readers past "$": they have taken an entry */
    ok(WAIT_FOR(WAIT_MS, (send_ev(&p, "match", "warm", "p"),
                          send_ev(&q, "match", "warm", "q"),
                          has_ev(&p, "warm", "q") && has_ev(&q, "warm", "p"))),
       "both readers running");

    is_int(set_record(&p, "1", 1), 0, "slow-p: record, changed");
    t0 = now_ms();
    rc = WAIT_FOR(3000, (take(&q), field_is(view_rec(&q, "slow-p"), "gen",
                                            "1")));
    t0 = now_ms() - t0;
    ok(rc, "seen by slow-q after %llu ms (heartbeats every 10 s)",
       (unsigned long long) t0);

    is_int(set_record(&p, "2", 0), 0, "slow-p: record, not changed");
    is_int(set_record(&q, "1", 1), 0, "slow-q: record, changed");
    ok(WAIT_FOR(3000, (take(&p), field_is(view_rec(&p, "slow-q"), "gen",
                                          "1"))),
       "slow-q's change seen by slow-p");
    /* slow-q re-read no view for its own note: slow-p still "1" there */
    take(&q);
    ok(field_is(view_rec(&q, "slow-p"), "gen", "1"),
       "an unchanged record waits for the next heartbeat");

done:

    if (p.a) {
        agent_stop(&p);
    }

    if (q.a) {
        agent_stop(&q);
    }
}


static void
test_events(void)
{
    int                          i, order_ok, from_ok;
    char                         seq[32];
    size_t                       k, len;
    unsigned long                before_b;
    const char                  *v;
    node_t                      *a = &nodes[0], *b = &nodes[1], *c = &nodes[2];
    vks_cluster_agent_status_t   st;

    /* every reader running: warm-up entries until each has taken one */
    ok(WAIT_FOR(WAIT_MS, (send_ev(a, "match", "warm", "a"),
                          send_ev(b, "match", "warm", "b"),
                          has_ev(a, "warm", "b") && has_ev(b, "warm", "a")
                          && has_ev(c, "warm", "a"))),
       "every reader running");

    ok(sync_from(a, "s1") && sync_from(b, "s2"), "inboxes synced");
    drop_events(a);
    drop_events(b);
    drop_events(c);

    before_b = notified(b);

    for (i = 0; i < EVENTS_A; i++) {
        snprintf(seq, sizeof(seq), "%d", i);
        if (send_ev(a, "match", "seq", seq) != 0) {
            break;
        }
    }

    is_int(i, EVENTS_A, "node-a queued %d matches", EVENTS_A);

    for (i = 0; i < EVENTS_C; i++) {
        snprintf(seq, sizeof(seq), "c%d", i);
        if (send_ev(c, "cmd", "seq", seq) != 0) {
            break;
        }
    }

    is_int(i, EVENTS_C, "node-c queued %d commands", EVENTS_C);

    (void) WAIT_FOR(WAIT_MS, (take(b), take(c), b->nev == EVENTS_A + EVENTS_C
                              && c->nev == EVENTS_A)
                             || b->nev > EVENTS_A + EVENTS_C
                             || c->nev > EVENTS_A);
    is_int(b->nev, EVENTS_A + EVENTS_C, "node-b took node-a's and node-c's");
    is_int(c->nev, EVENTS_A, "node-c took node-a's");
    ok(notified(b) > before_b, "node-b was notified");

    /* per sender, in order, with "from" and the binary field whole */
    for (i = 0, k = 0, order_ok = 1, from_ok = 1; k < b->nev; k++) {
        v = vks_cluster_record_get(&b->ev[k], "from", &len);

        if (v == NULL) {
            from_ok = 0;
            continue;
        }

        if (field_is(&b->ev[k], "from", "node-a")) {
            snprintf(seq, sizeof(seq), "%d", i++);
            order_ok &= field_is(&b->ev[k], "seq", seq)
                        && field_is(&b->ev[k], "type", "match");

        } else if (!field_is(&b->ev[k], "from", "node-c")
                   || !field_is(&b->ev[k], "type", "cmd"))
        {
            from_ok = 0;
        }

        v = vks_cluster_record_get(&b->ev[k], "bin", &len);
        order_ok &= v && len == 4 && memcmp(v, "\xd0\xba\0\x01", 4) == 0;
    }

    ok(from_ok, "node-b: every entry from node-a or node-c");
    ok(order_ok && i == EVENTS_A,
       "node-b: node-a's %d in order, fields whole", i);

    for (k = 0, order_ok = 1; k < c->nev; k++) {
        snprintf(seq, sizeof(seq), "%zu", k);
        order_ok &= field_is(&c->ev[k], "from", "node-a")
                    && field_is(&c->ev[k], "seq", seq);
    }

    ok(order_ok, "node-c: node-a's, in order, none of its own");

    /*
     * node-b's marker comes after all of them in the stream: when node-a
     * has it, its reader is past its own 50, which it must have skipped
     */
    ok(send_ev(b, "cmd", "marker", "m") == 0
       && WAIT_FOR(WAIT_MS, has_ev(a, "marker", "m")),
       "node-a took node-b's marker");

    for (k = 0, i = 0, order_ok = 1; k < a->nev; k++) {
        if (field_is(&a->ev[k], "from", "node-a")) {
            order_ok = 0;

        } else if (field_is(&a->ev[k], "from", "node-c")) {
            snprintf(seq, sizeof(seq), "c%d", i++);
            order_ok &= field_is(&a->ev[k], "seq", seq);
        }
    }

    ok(order_ok, "node-a: none of its own entries");
    is_int(i, EVENTS_C, "node-a: node-c's %d commands, in order", EVENTS_C);
    is_int(a->nev, EVENTS_C + 1, "node-a: those and the marker");

    st = status(a);
    ok(st.sent >= EVENTS_A, "node-a: sent %llu", (unsigned long long) st.sent);
    is_int(st.dropped, 0, "node-a: none dropped");
    is_int(st.invalid, 0, "node-a: no invalid entries");
    st = status(b);
    ok(st.received >= EVENTS_A + EVENTS_C, "node-b: received %llu",
       (unsigned long long) st.received);

    drop_events(a);
    drop_events(b);
    drop_events(c);
}


static int
rules_are(node_t *n, const char *want, size_t want_len, int *got_null)
{
    int      same;
    char    *json;
    size_t   len;

    if (!vks_cluster_agent_take_rules(n->a, &json, &len)) {
        return 0;
    }

    if (json == NULL) {
        (*got_null)++;            /* none in Redis, read at connection */
        return 0;
    }

    same = len == want_len && memcmp(json, want, len) == 0;
    free(json);

    return same;
}


static void
test_rules(void)
{
    int                      nulls, b_ok, c_ok, rc;
    char                    *json, err[VKS_CLUSTER_DOC_ERR_LEN];
    size_t                   len, n;
    vks_cluster_doc_rule_t   r[2], *out;

    memset(r, 0, sizeof(r));
    memcpy(r[0].tag, "news", 4);
    r[0].tag_len = 4;
    memcpy(r[0].value, "новости", strlen("новости"));
    r[0].value_len = strlen("новости");
    r[0].state = 2;
    memcpy(r[1].tag, "cats", 4);
    r[1].tag_len = 4;
    memcpy(r[1].value, "кот", strlen("кот"));
    r[1].value_len = strlen("кот");

    json = vks_cluster_doc_rules_encode(r, 2, &len);
    if (!ok(json != NULL, "rules document")) {
        return;
    }

    is_int(vks_cluster_agent_set_rules(nodes[0].a, json, len), 0,
           "node-a: set_rules");

    nulls = 0;
    b_ok = 0;
    c_ok = 0;

    rc = WAIT_FOR(WAIT_MS, (b_ok |= rules_are(&nodes[1], json, len, &nulls),
                            c_ok |= rules_are(&nodes[2], json, len, &nulls),
                            b_ok && c_ok));
    ok(rc, "node-a's rules taken by node-b and node-c");

    /* and what they took is the document */
    if (rc) {
        is_int(vks_cluster_doc_rules_decode(json, len, &out, &n, err,
                                            sizeof(err)),
               0, "it decodes");
        ok(n == 2 && out[0].state == 2 && out[1].value_len == strlen("кот"),
           "two rules");
        free(out);
    }

    free(json);
}


static void
test_handover(int *holder)
{
    int                         i, h, nh, rc;
    uint64_t                    t0, t1, old_token;
    redisReply                 *rep;
    vks_cluster_redis_t         adm;
    vks_cluster_agent_status_t  st;

    h = *holder;
    old_token = status(&nodes[h]).token;

    t0 = now_ms();
    agent_stop(&nodes[h]);
    t1 = now_ms();
    printf("# %s stopped in %llu ms\n", nodes[h].name,
           (unsigned long long) (t1 - t0));

    /* released: the lease key is gone, or already another node's */
    memset(&adm, 0, sizeof(adm));
    if (vks_cluster_redis_connect(&adm, &url, 0) == VKS_CLUSTER_OK) {
        rep = redisCommand(adm.ctx, "GET " PREFIX "vk:lease");
        ok(rep && (rep->type == REDIS_REPLY_NIL
                   || (rep->type == REDIS_REPLY_STRING
                       && strstr(rep->str, nodes[h].name) == NULL)),
           "stopping released the lease (%s)",
           rep && rep->type == REDIS_REPLY_STRING ? rep->str : "nil");
        if (rep) {
            freeReplyObject(rep);
        }

        vks_cluster_redis_close(&adm);

    } else {
        ok(0, "admin connection: %s", adm.err);
    }

    /* from the stop's start: the lease is released before the join */
    rc = WAIT_FOR(WAIT_MS, one_holder(&nh));
    t1 = now_ms();

    ok(rc, "another agent took over after %llu ms",
       (unsigned long long) (t1 - t0));

    if (!rc) {
        return;
    }

    /* released, not expired: within one retry (TTL/3), TTL is the bound */
    ok(t1 - t0 <= TTL + TTL / 3,
       "within TTL + a retry (%d ms)", TTL + TTL / 3);

    st = status(&nodes[nh]);
    ok(st.token > old_token, "%s: token %llu > %llu", nodes[nh].name,
       (unsigned long long) st.token, (unsigned long long) old_token);

    for (i = 0; i < NAGENTS; i++) {
        if (nodes[i].a && i != nh) {
            st = status(&nodes[i]);
            ok(strcmp(st.holder, nodes[nh].name) == 0,
               "node %d: new holder \"%s\"", i, st.holder);
        }
    }

    *holder = nh;
}


static void
test_redis_lost(int holder)
{
    int                         i, h, rc, mine_seen_late, all_lost;
    uint64_t                    t_kill, last_mine, last_theirs, t, old_seen;
    vks_cluster_agent_status_t  st;
    unsigned long               before[NAGENTS];

    old_seen = status(&nodes[holder]).token;

    for (i = 0; i < NAGENTS; i++) {
        before[i] = nodes[i].a ? notified(&nodes[i]) : 0;
    }

    t_kill = now_ms();
    stop_redis(SIGKILL);
    t_kill = now_ms();               /* it is gone by now */
    last_mine = t_kill;
    last_theirs = t_kill;
    mine_seen_late = 0;

    /* poll: the last moments anyone was MINE or THEIRS; all disconnected */
    rc = WAIT_FOR(WAIT_MS, ({
        int  done_ = 1;

        for (i = 0; i < NAGENTS; i++) {
            if (nodes[i].a == NULL) {
                continue;
            }

            t = now_ms();
            st = status(&nodes[i]);

            if (st.verdict == VKS_CLUSTER_LEASE_MINE) {
                last_mine = t;
                done_ = 0;

            } else if (st.verdict == VKS_CLUSTER_LEASE_THEIRS) {
                last_theirs = t;
                done_ = 0;
            }

            if (st.redis != VKS_CLUSTER_REDIS_DISCONNECTED) {
                done_ = 0;
            }
        }

        done_;
    }));

    ok(rc, "every agent: redis DISCONNECTED, verdict UNKNOWN");
    ok(last_mine - t_kill < TTL,
       "the holder was last seen MINE %llu ms after the kill (< TTL)",
       (unsigned long long) (last_mine - t_kill));
    /* the others' next acquisition (at most TTL/3 away) fails */
    ok(last_theirs - t_kill < TTL,
       "the others were last seen THEIRS %llu ms after the kill (< TTL)",
       (unsigned long long) (last_theirs - t_kill));

    for (i = 0, all_lost = 1; i < NAGENTS; i++) {
        if (nodes[i].a == NULL) {
            continue;
        }

        st = status(&nodes[i]);
        all_lost &= st.verdict == VKS_CLUSTER_LEASE_UNKNOWN
                    && st.token == 0 && st.holder[0] == '\0'
                    && st.errors > 0 && st.last_error[0] != '\0';
        printf("# %s: redis %d verdict %d holder \"%s\" errors %llu "
               "last_error \"%s\"\n", nodes[i].name, st.redis, st.verdict,
               st.holder, (unsigned long long) st.errors, st.last_error);
        ok(notified(&nodes[i]) > before[i], "%s: notified of the loss",
           nodes[i].name);
    }

    ok(all_lost, "verdicts UNKNOWN, no token, no holder, an error kept");

    /* nobody claims it while Redis is away: a little longer */
    t = now_ms() + TTL / 2;
    while (now_ms() < t) {
        for (i = 0; i < NAGENTS; i++) {
            if (nodes[i].a
                && status(&nodes[i]).verdict == VKS_CLUSTER_LEASE_MINE)
            {
                mine_seen_late = 1;
            }
        }

        wait_notify();
    }

    ok(!mine_seen_late, "no agent MINE while Redis is down");

    /*
     * reconnections back off (0.2 s doubling) and the lease retries every
     * TTL/10: a few dozen errors at most in these 2 s, not a spin
     */
    for (i = 0; i < NAGENTS; i++) {
        if (nodes[i].a) {
            st = status(&nodes[i]);
            ok(st.errors < 60, "%s: %llu errors while Redis was down",
               nodes[i].name, (unsigned long long) st.errors);
        }
    }

    /* back, empty (no persistence), on the same socket */
    if (!ok(start_redis(), "redis-server started again")) {
        return;
    }

    t = now_ms();
    rc = WAIT_FOR(3 * WAIT_MS, ({
        int  c_ = 1;

        for (i = 0; i < NAGENTS; i++) {
            if (nodes[i].a
                && status(&nodes[i]).redis != VKS_CLUSTER_REDIS_CONNECTED)
            {
                c_ = 0;
            }
        }

        c_;
    }));
    ok(rc, "every agent CONNECTED again after %llu ms",
       (unsigned long long) (now_ms() - t));

    rc = WAIT_FOR(WAIT_MS, one_holder(&h));
    ok(rc, "one holder again: %s", rc ? nodes[h].name : "none");

    if (rc) {
        st = status(&nodes[h]);
        ok(st.token > old_seen,
           "new token %llu > %llu: the floor survives an emptied Redis",
           (unsigned long long) st.token, (unsigned long long) old_seen);
    }

    for (i = 0; i < NAGENTS; i++) {
        if (nodes[i].a) {
            ok(status(&nodes[i]).reconnects >= 1, "%s: a reconnection",
               nodes[i].name);
        }
    }

    /* what the nodes hold goes back into the emptied Redis */
    ok(WAIT_FOR(WAIT_MS, views_show()),
       "records back in the views");
}


/*
 * A node without VK never takes the lease, even alone first: VK would run
 * nowhere.  A node with VK that comes later takes it.
 */
static void
test_no_vk(void)
{
    static node_t               nv = { .name = "novk", .no_vk = 1 },
                                wv = { .name = "withvk" };
    vks_cluster_agent_status_t  st;

    if (!ok(agent_start(&nv, "vkn:", TTL, 11) != NULL,
            "an agent without VK started"))
    {
        return;
    }

    ok(WAIT_FOR(WAIT_MS, status(&nv).redis == VKS_CLUSTER_REDIS_CONNECTED),
       "it connects");
    nap(TTL);
    st = status(&nv);
    ok(st.verdict == VKS_CLUSTER_LEASE_UNKNOWN && st.acquisitions == 0
       && st.token == 0, "alone for a TTL, it has not taken the lease");

    if (ok(agent_start(&wv, "vkn:", TTL, 12) != NULL,
           "an agent with VK started"))
    {
        ok(WAIT_FOR(WAIT_MS, status(&wv).verdict == VKS_CLUSTER_LEASE_MINE),
           "the agent with VK holds the lease");
        st = status(&nv);
        ok(st.verdict != VKS_CLUSTER_LEASE_MINE && st.acquisitions == 0,
           "the one without still does not");
        agent_stop(&wv);
    }

    agent_stop(&nv);
}


int
main(void)
{
    int                 i, holder, started;
    uint64_t            t0;
    pthread_condattr_t  ca;

    if (!find_redis()) {
        printf("1..0 # SKIP redis-server not installed\n");
        return 0;
    }

    /* nginx workers ignore it too: a write to a closed connection */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);

    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    atexit(cleanup);

    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    snprintf(redis_log, sizeof(redis_log), "%s/redis.log", dir);

    if (!ok(start_redis(), "redis-server started (%s)", redis_bin)) {
        return done_testing();
    }

    {
        char  u[PATH_MAX + 8];

        snprintf(u, sizeof(u), "unix:%s", sock);
        if (!ok(vks_cluster_url_parse(&url, u, strlen(u)) == 0, "URL %s",
                u))
        {
            return done_testing();
        }
    }

    t0 = now_ms();

    for (i = 0, started = 1; i < NAGENTS; i++) {
        started &= agent_start(&nodes[i], PREFIX, TTL, 1 + i) != NULL;
    }

    if (ok(started, "three agents started")) {
        if (test_lease(&holder)) {
            test_events();
            test_records();
            test_rules();
            test_handover(&holder);
            test_redis_lost(holder);
        }
    }

    for (i = 0; i < NAGENTS; i++) {
        if (nodes[i].a) {
            agent_stop(&nodes[i]);
        }
    }

    test_changed_note();
    test_no_vk();

    printf("# %llu ms\n", (unsigned long long) (now_ms() - t0));

    return done_testing();
}
