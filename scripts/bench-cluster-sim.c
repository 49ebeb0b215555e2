/*
 * bench-cluster-sim: many vkstream cluster nodes, simulated with the same
 * Redis traffic as the agent of a real node (ngx_vkstream_module/cluster/
 * vks_cluster_agent.c), for "make bench"'s cluster scenario (scale).
 *
 * Each simulated node is two threads with a blocking hiredis connection
 * each, as a real node's agent and reader threads:
 *   agent, every TTL/3: heartbeat (MULTI, DEL, HSET of its record with a
 *     "streams" JSON of K streams, PEXPIRE, ZADD, ZREMRANGEBYSCORE,
 *     PEXPIRE, EXEC: pipelined), a lease acquire attempt (the agent's
 *     Lua script), and its view: ZRANGEBYSCORE of the live nodes, then
 *     HGETALL of every other node's record, one round trip each; also a
 *     view read at once when the reader saw another node's "node" event;
 *     with churn, its streams change now and then: heartbeat + XADD
 *     type=node at once, which makes every other node read its view;
 *   reader: XREAD COUNT 500 BLOCK 500 on the events stream.
 *
 *   bench-cluster-sim -p PORT [-h 127.0.0.1] [-x PREFIX] [-n NODES]
 *       [-k STREAMS] [-t TTL_MS] [-d SECONDS] [-s TEMPLATE_FILE]
 *       [-c CHANGES_PER_S] [-N NAME_PREFIX]
 *
 * TEMPLATE_FILE holds one stream entry of a real node's "streams" field
 * (JSON object); "@ID@" and "@NAME@" in it are replaced per stream.  At
 * the end (SECONDS, or SIGTERM) it prints one JSON line: counts and the view read's duration
 * (ZRANGEBYSCORE + all HGETALLs) p50/p99/max in ms.
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>


static const char acquire_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  return {0, v, redis.call('PTTL', KEYS[1])}\n"
    "end\n"
    "if redis.call('INCR', KEYS[2]) <= tonumber(ARGV[3]) then\n"
    "  redis.call('SET', KEYS[2], ARGV[3])\n"
    "  redis.call('INCR', KEYS[2])\n"
    "end\n"
    "local t = redis.call('GET', KEYS[2])\n"
    "redis.call('SET', KEYS[1], t .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])\n"
    "return {1, t}\n";


typedef struct {
    int              idx;
    char             name[64];
    char             key[256];
    char            *streams;           /* the "streams" JSON */
    unsigned         gen;               /* bumped by churn */
    pthread_mutex_t  mu;
    pthread_cond_t   cv;
    int              note;              /* another node changed */
    /* results */
    double          *refresh_ms;
    size_t           nrefresh, crefresh;
    unsigned long    heartbeats, leases, notes, changes, errors, late;
    unsigned long    hgetall_bytes;
} node_t;


static const char  *host = "127.0.0.1";
static int          port;
static const char  *prefix = "vkstream:";
static const char  *name_prefix = "sim";
static int          nnodes = 10, nstreams = 20;
static long         ttl_ms = 5000;
static double       duration = 10, churn;
static char        *tmpl;
static volatile sig_atomic_t stop;
static char         k_nodes[256], k_lease[256], k_fence[256], k_events[256];


static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static redisContext *
conn(void)
{
    struct timeval  tv = { 5, 0 };
    redisContext   *c;

    c = redisConnectWithTimeout(host, port, tv);
    if (c == NULL || c->err) {
        fprintf(stderr, "sim: connect: %s\n", c ? c->errstr : "no memory");
        exit(1);
    }
    redisSetTimeout(c, tv);
    return c;
}


/* the template with @ID@ and @NAME@ replaced, K times, as a JSON array */
static char *
make_streams(node_t *n)
{
    size_t  cap, len, i;
    char   *out, *p, *q, buf[128];

    cap = (strlen(tmpl) + 128) * nstreams + 16;
    out = malloc(cap);
    len = 0;
    out[len++] = '[';
    for (i = 0; i < (size_t) nstreams; i++) {
        if (i) {
            out[len++] = ',';
        }
        for (p = tmpl; *p; ) {
            if (strncmp(p, "@ID@", 4) == 0) {
                len += sprintf(out + len, "%zu", i + 1 + 1000 * n->gen);
                p += 4;
            } else if (strncmp(p, "@NAME@", 6) == 0) {
                snprintf(buf, sizeof(buf), "%s-s%zu", n->name, i);
                len += sprintf(out + len, "%s", buf);
                p += 6;
            } else {
                q = p;
                while (*q && *q != '@') {
                    q++;
                }
                if (q == p) {
                    q++;
                }
                memcpy(out + len, p, q - p);
                len += q - p;
                p = q;
            }
        }
    }
    out[len++] = ']';
    out[len] = '\0';
    return out;
}


static int
heartbeat(redisContext *c, node_t *n)
{
    char            now[32], old[32], ttl[32], ttl10[32], tms[32], pid[32];
    const char     *argv[32];
    size_t          lens[32];
    int             argc = 0, i, ok = 1;
    uint64_t        t = now_ms();
    redisReply     *r;

    snprintf(now, sizeof(now), "%llu", (unsigned long long) t);
    snprintf(old, sizeof(old), "(%llu",
             (unsigned long long) (t - ttl_ms * 10));
    snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
    snprintf(ttl10, sizeof(ttl10), "%ld", ttl_ms * 10);
    snprintf(tms, sizeof(tms), "%llu", (unsigned long long) t);
    snprintf(pid, sizeof(pid), "%d", 100000 + n->idx);

#define A(s) (argv[argc] = (s), lens[argc] = strlen(argv[argc]), argc++)
    A("HSET"); A(n->key);
    A("url"); A("http://127.0.0.1:1");
    A("version"); A("0.1.0");
    A("pid"); A(pid);
    A("time_ms"); A(tms);
    A("live"); A("20");
    A("transcodes"); A("20");
    A("max_transcodes"); A("0");
    A("cpu_busy"); A("500");
    A("streams"); A(n->streams);
#undef A

    redisAppendCommand(c, "MULTI");
    redisAppendCommand(c, "DEL %s", n->key);
    redisAppendCommandArgv(c, argc, argv, lens);
    redisAppendCommand(c, "PEXPIRE %s %s", n->key, ttl);
    redisAppendCommand(c, "ZADD %s %s %s", k_nodes, now, n->name);
    redisAppendCommand(c, "ZREMRANGEBYSCORE %s -inf %s", k_nodes, old);
    redisAppendCommand(c, "PEXPIRE %s %s", k_nodes, ttl10);
    redisAppendCommand(c, "EXEC");
    for (i = 0; i < 8; i++) {
        if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            ok = 0;
        }
        freeReplyObject(r);
    }
    n->heartbeats++;
    return ok ? 0 : -1;
}


static int
lease(redisContext *c, node_t *n)
{
    char         ttl[32];
    redisReply  *r;

    snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
    r = redisCommand(c, "EVAL %s 2 %s %s %s %s 0", acquire_lua, k_lease,
                     k_fence, n->name, ttl);
    if (r == NULL) {
        return -1;
    }
    freeReplyObject(r);
    n->leases++;
    return 0;
}


static int
view(redisContext *c, node_t *n)
{
    char         since[32];
    double       t0 = mono(), ms;
    size_t       i, j;
    redisReply  *r, *h;
    char         key[256];

    snprintf(since, sizeof(since), "%llu",
             (unsigned long long) (now_ms() - ttl_ms));
    r = redisCommand(c, "ZRANGEBYSCORE %s %s +inf LIMIT 0 1000", k_nodes,
                     since);
    if (r == NULL) {
        return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->elements; i++) {
            if (r->element[i]->type != REDIS_REPLY_STRING
                || strcmp(r->element[i]->str, n->name) == 0)
            {
                continue;
            }
            snprintf(key, sizeof(key), "%snode:%s", prefix,
                     r->element[i]->str);
            h = redisCommand(c, "HGETALL %s", key);
            if (h == NULL) {
                freeReplyObject(r);
                return -1;
            }
            if (h->type == REDIS_REPLY_ARRAY) {
                for (j = 0; j < h->elements; j++) {
                    n->hgetall_bytes += h->element[j]->len;
                }
            }
            freeReplyObject(h);
        }
    }
    freeReplyObject(r);
    ms = (mono() - t0) * 1000;
    if (n->nrefresh == n->crefresh) {
        n->crefresh = n->crefresh ? n->crefresh * 2 : 64;
        n->refresh_ms = realloc(n->refresh_ms,
                                n->crefresh * sizeof(double));
    }
    n->refresh_ms[n->nrefresh++] = ms;
    return 0;
}


static void *
agent(void *arg)
{
    node_t          *n = arg;
    redisContext    *c = conn();
    double           period = ttl_ms / 3000.0, next, p_change;
    struct timespec  ts;
    int              note;

    /* spread the nodes over the period, as independent starts would */
    next = mono() + period * (double) rand() / RAND_MAX;
    p_change = churn * period / nnodes;

    while (!stop) {
        pthread_mutex_lock(&n->mu);
        while (!stop && !n->note && mono() < next) {
            double  wake = next;
            clock_gettime(CLOCK_REALTIME, &ts);
            double  d = wake - mono();
            ts.tv_sec += (time_t) d;
            ts.tv_nsec += (long) ((d - (time_t) d) * 1e9);
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&n->cv, &n->mu, &ts);
        }
        note = n->note;
        n->note = 0;
        pthread_mutex_unlock(&n->mu);
        if (stop) {
            break;
        }

        if (mono() >= next) {
            if (mono() > next + period) {
                n->late++;
            }
            next += period;
            if (next < mono()) {
                next = mono() + period;
            }
            if (churn > 0 && (double) rand() / RAND_MAX < p_change) {
                free(n->streams);
                n->gen++;
                n->streams = make_streams(n);
                n->changes++;
                if (heartbeat(c, n) < 0) {
                    n->errors++;
                }
                redisReply *r = redisCommand(c,
                    "XADD %s MAXLEN ~ 10000 * type node from %s",
                    k_events, n->name);
                if (r) {
                    freeReplyObject(r);
                }
            } else if (heartbeat(c, n) < 0) {
                n->errors++;
            }
            if (lease(c, n) < 0) {
                n->errors++;
            }
        }
        if (note) {
            n->notes++;
        }
        if (view(c, n) < 0) {
            n->errors++;
        }
        if (c->err) {
            redisFree(c);
            c = conn();
        }
    }
    redisFree(c);
    return NULL;
}


static void *
reader(void *arg)
{
    node_t       *n = arg;
    redisContext *c = conn();
    char          last[64] = "$";
    size_t        i, j;
    redisReply   *r, *s, *e, *f;
    int           other;

    while (!stop) {
        r = redisCommand(c, "XREAD COUNT 500 BLOCK 500 STREAMS %s %s",
                         k_events, last);
        if (r == NULL) {
            n->errors++;
            redisFree(c);
            c = conn();
            continue;
        }
        other = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
            s = r->element[0];
            if (s->type == REDIS_REPLY_ARRAY && s->elements == 2) {
                for (i = 0; i < s->element[1]->elements; i++) {
                    e = s->element[1]->element[i];
                    snprintf(last, sizeof(last), "%s", e->element[0]->str);
                    f = e->element[1];
                    int is_node = 0, mine = 0;
                    for (j = 0; j + 1 < f->elements; j += 2) {
                        if (strcmp(f->element[j]->str, "type") == 0
                            && strcmp(f->element[j + 1]->str, "node") == 0)
                        {
                            is_node = 1;
                        }
                        if (strcmp(f->element[j]->str, "from") == 0
                            && strcmp(f->element[j + 1]->str, n->name) == 0)
                        {
                            mine = 1;
                        }
                    }
                    if (is_node && !mine) {
                        other = 1;
                    }
                }
            }
        }
        freeReplyObject(r);
        if (other) {
            pthread_mutex_lock(&n->mu);
            n->note = 1;
            pthread_cond_signal(&n->cv);
            pthread_mutex_unlock(&n->mu);
        }
    }
    redisFree(c);
    return NULL;
}


static void
on_term(int sig)
{
    (void) sig;
    stop = 1;
}


static int
cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}


static double
pct(double *v, size_t n, double p)
{
    long  i;

    if (n == 0) {
        return -1;
    }
    i = (long) (p / 100 * n + 0.5) - 1;
    if (i < 0) {
        i = 0;
    }
    if (i >= (long) n) {
        i = n - 1;
    }
    return v[i];
}


int
main(int argc, char **argv)
{
    int        o, i;
    FILE      *f;
    long       sz;
    node_t    *nodes;
    pthread_t *th;
    double    *all;
    size_t     nall = 0;
    unsigned long hb = 0, le = 0, no = 0, ch = 0, er = 0, la = 0, rf = 0;
    unsigned long bytes = 0;

    while ((o = getopt(argc, argv, "h:p:x:n:k:t:d:s:c:N:")) != -1) {
        switch (o) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'x': prefix = optarg; break;
        case 'n': nnodes = atoi(optarg); break;
        case 'k': nstreams = atoi(optarg); break;
        case 't': ttl_ms = atol(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 's':
            f = fopen(optarg, "r");
            if (f == NULL) {
                perror(optarg);
                return 1;
            }
            fseek(f, 0, SEEK_END);
            sz = ftell(f);
            rewind(f);
            tmpl = calloc(1, sz + 1);
            if (fread(tmpl, 1, sz, f) != (size_t) sz) {
                return 1;
            }
            fclose(f);
            while (sz > 0 && (tmpl[sz - 1] == '\n' || tmpl[sz - 1] == ' ')) {
                tmpl[--sz] = '\0';
            }
            break;
        case 'c': churn = atof(optarg); break;
        case 'N': name_prefix = optarg; break;
        default:
            fprintf(stderr, "usage: see the comment at the top\n");
            return 2;
        }
    }
    if (port == 0 || nnodes < 1) {
        fprintf(stderr, "sim: -p PORT and -n NODES > 0\n");
        return 2;
    }
    if (tmpl == NULL) {
        tmpl = strdup("{\"id\":@ID@,\"start\":1,\"end\":0,\"app\":\"live\","
                      "\"name\":\"@NAME@\",\"addr\":\"127.0.0.1\"}");
    }
    snprintf(k_nodes, sizeof(k_nodes), "%snodes", prefix);
    snprintf(k_lease, sizeof(k_lease), "%svk:lease", prefix);
    snprintf(k_fence, sizeof(k_fence), "%svk:fence", prefix);
    snprintf(k_events, sizeof(k_events), "%sevents", prefix);
    srand(getpid());

    nodes = calloc(nnodes, sizeof(node_t));
    th = calloc(2 * nnodes, sizeof(pthread_t));
    for (i = 0; i < nnodes; i++) {
        node_t *n = &nodes[i];
        n->idx = i;
        snprintf(n->name, sizeof(n->name), "%s%03d", name_prefix, i);
        snprintf(n->key, sizeof(n->key), "%snode:%s", prefix, n->name);
        n->streams = make_streams(n);
        pthread_mutex_init(&n->mu, NULL);
        pthread_cond_init(&n->cv, NULL);
    }
    for (i = 0; i < nnodes; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 * 1024);
        pthread_create(&th[2 * i], &a, agent, &nodes[i]);
        pthread_create(&th[2 * i + 1], &a, reader, &nodes[i]);
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    {
        double end = mono() + duration;
        while (!stop && mono() < end) {
            usleep(50000);
        }
    }
    stop = 1;
    for (i = 0; i < nnodes; i++) {
        pthread_mutex_lock(&nodes[i].mu);
        pthread_cond_signal(&nodes[i].cv);
        pthread_mutex_unlock(&nodes[i].mu);
    }
    for (i = 0; i < 2 * nnodes; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < nnodes; i++) {
        rf += nodes[i].nrefresh;
    }
    all = malloc((rf + 1) * sizeof(double));
    for (i = 0; i < nnodes; i++) {
        node_t *n = &nodes[i];
        memcpy(all + nall, n->refresh_ms, n->nrefresh * sizeof(double));
        nall += n->nrefresh;
        hb += n->heartbeats; le += n->leases; no += n->notes;
        ch += n->changes; er += n->errors; la += n->late;
        bytes += n->hgetall_bytes;
    }
    qsort(all, nall, sizeof(double), cmp);
    printf("{\"nodes\":%d,\"streams\":%d,\"ttl_ms\":%ld,\"secs\":%.1f,"
           "\"churn\":%.3f,\"record_bytes\":%zu,\"heartbeats\":%lu,"
           "\"leases\":%lu,\"views\":%zu,\"notes\":%lu,\"changes\":%lu,"
           "\"errors\":%lu,\"late\":%lu,\"view_bytes\":%lu,"
           "\"view_p50_ms\":%.2f,\"view_p99_ms\":%.2f,\"view_max_ms\":%.2f}\n",
           nnodes, nstreams, ttl_ms, duration, churn,
           strlen(nodes[0].streams), hb, le, nall, no, ch, er, la, bytes,
           pct(all, nall, 50), pct(all, nall, 99), pct(all, nall, 100));
    return 0;
}
