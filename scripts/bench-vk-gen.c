
/*
 * vkstream benchmark VK feed: a VK Streaming API server in C
 * (libwebsockets, one thread) that generates stream events fast enough
 * not to be the bench's limit.  scripts/vk-emulator (Perl) stays the
 * protocol reference for the tests; this program serves the same things
 * the module's client uses, in the same shapes, on one TLS port:
 *
 *   GET /method/streaming.getServerUrl?access_token=T&v=V
 *       {"response":{"endpoint":"HOST:PORT","key":K}}, error 5 on a bad
 *       token, 8 without v
 *   GET|POST|DELETE /rules?key=K (and /rules/): list (null when empty),
 *       add {"rule":{"value","tag"}}, delete {"tag"}; errors 1001-1004,
 *       2000-2003, 2006 in the VK envelope, HTTP 400
 *   /stream?key=K[&stream_id=N] (and /stream/): the WebSocket; one at a
 *       time.  A bad key or stream_id or a second connection is refused
 *       at the handshake; a plain GET answers 1003/1004/1005/1006/1000 in
 *       the envelope, HTTP 400
 *
 * and a plain-HTTP admin port like the emulator's:
 *
 *   POST /admin/generator {"rate":N,"match":F,"stamp":0|1,
 *                          "deliver_all":0|1,"coalesce":0|1}
 *   GET /admin/stats, GET|POST|DELETE /admin/rules
 *
 * Events are the emulator's generator's (post 60%, comment 30%, share
 * 10%; Russian texts with <br> and &quot;; keys sorted as Mojo::JSON
 * writes them, "/" written "\/"); with match F a share F carries the
 * positive words and the tag of one rule, the rest have no tag and are
 * not sent unless deliver_all.  With stamp each text starts with
 * "#SEQ@TIME " (TIME: epoch seconds with microseconds, taken just before
 * the write).  Each message is a write, so a TLS record, of its own;
 * with coalesce the frames made in one writable callback go out together
 * (up to 16 KB a write).  The rate is kept with a credit refilled every
 * millisecond (a clock thread wakes the loop); while the socket's send
 * buffer is full nothing is made ("throttled", the credit is dropped), so
 * events_sent is what was really written.  No server pings (the bench
 * runs the emulator with --ping-interval 0 too).
 *
 *     bench-vk-gen --cert C --key-file K [--host A] [--port N]
 *                  [--admin-port N] [--token T] [--key K] [--rate N]
 *                  [--match F] [--seed N]
 *     {"api":"https://127.0.0.1:P","stream_host":"127.0.0.1:P",
 *      "admin":"http://127.0.0.1:A","token":...,"key":...,"pid":...}
 */


#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <jansson.h>
#include <libwebsockets.h>


#define GEN_MAX_RULES    300
#define GEN_MAX_TAG      256
#define GEN_MAX_VALUE    4096
#define GEN_MSG_MAX      8192
#define GEN_BODY_MAX     65536
#define GEN_BATCH        512        /* messages per writable callback */
#define GEN_TICK_US      1000
#define GEN_COALESCE_MAX 16000      /* bytes of frames per coalesced write */


typedef struct {
    char       *value;
    char       *tag;
    char       *tag_json;           /* escaped, without quotes */
    char       *words_json;         /* positive words, escaped */
} gen_rule_t;


typedef struct {
    int         admin;
    int         method;             /* 'G', 'P', 'D', other */
    int         json;               /* Content-Type: application/json */
    char        path[128];
    char        key[1100];
    int         has_key;
    char       *body;
    size_t      len;
    char       *resp;
    size_t      resp_len;
    int         status;
} gen_pss_t;


static struct {
    struct lws_context      *ctx;
    struct lws_vhost        *api;
    struct lws_vhost        *adm;
    struct lws              *stream;
    const char              *host;
    int                      port;
    int                      admin_port;
    char                     token[128];
    char                     key[128];
    double                   rate;
    double                   match;
    int                      stamp;
    int                      deliver_all;
    int                      coalesce;
    double                   credit;
    double                   last;
    uint64_t                 seq;
    uint64_t                 post_seq;
    uint64_t                 rnd;
    gen_rule_t               rules[GEN_MAX_RULES];
    int                      nrules;
    /* counters */
    uint64_t                 events_sent;
    uint64_t                 generated;
    uint64_t                 throttled;
    uint64_t                 bytes;
    uint64_t                 ws_accepted;
    uint64_t                 ws_rejected;
    uint64_t                 ws_closed;
    uint64_t                 api_calls;
    uint64_t                 rules_get;
    uint64_t                 rules_post;
    uint64_t                 rules_delete;
    volatile sig_atomic_t    stop;      /* also read by gen_clock() */
} g;


static const char *gen_openers[] = { "Сегодня", "Вчера вечером",
    "Наконец-то", "Друзья,", "Кто знает,", "Смотрите:", "Честно говоря,",
    "Утром", "Не поверите," };
static const char *gen_middles[] = { "были на концерте в парке",
    "приготовили борщ по бабушкиному рецепту", "смотрели трансляцию матча",
    "гуляли по набережной", "купили новый велосипед", "ждём выходных",
    "читаем Достоевского", "ездили на дачу", "сломался ноутбук",
    "открылась новая кофейня на углу" };
static const char *gen_endings[] = { "!", ".", "...", " 😊",
    "<br>Всем хорошего дня!", " &quot;Как вам?&quot;",
    ", подписывайтесь." };

#define NELTS(a)  (sizeof(a) / sizeof((a)[0]))


static double
gen_mono(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static double
gen_wall(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* xorshift64*: the generator's choices, not worth more */
static uint64_t
gen_rand(void)
{
    g.rnd ^= g.rnd >> 12;
    g.rnd ^= g.rnd << 25;
    g.rnd ^= g.rnd >> 27;
    return g.rnd * 2685821657736338717ULL;
}


static double
gen_frand(void)
{
    return (gen_rand() >> 11) * (1.0 / 9007199254740992.0);
}


/* JSON string body as Mojo::JSON writes it: "/" as "\/", UTF-8 as is */
static char *
gen_json_escape(const char *s)
{
    char        *out, *p;
    const char  *q;

    out = malloc(strlen(s) * 6 + 1);
    if (out == NULL) {
        return NULL;
    }

    for (p = out, q = s; *q; q++) {
        unsigned char  ch = (unsigned char) *q;

        switch (ch) {
        case '"':  *p++ = '\\'; *p++ = '"'; break;
        case '\\': *p++ = '\\'; *p++ = '\\'; break;
        case '/':  *p++ = '\\'; *p++ = '/'; break;
        case '\n': *p++ = '\\'; *p++ = 'n'; break;
        case '\r': *p++ = '\\'; *p++ = 'r'; break;
        case '\t': *p++ = '\\'; *p++ = 't'; break;
        default:
            if (ch < 0x20) {
                p += sprintf(p, "\\u%04x", ch);
            } else {
                *p++ = (char) ch;
            }
        }
    }

    *p = '\0';
    return out;
}


/* the positive keywords of a rule value, quotes dropped, space-joined */
static char *
gen_rule_words(const char *value)
{
    char        *w, *p, *out;
    const char  *q;
    int          neg, quoted;

    w = malloc(strlen(value) + 1);
    if (w == NULL) {
        return NULL;
    }

    p = w;
    q = value;

    for ( ;; ) {
        while (*q == ' ' || *q == '\t' || *q == '\n') {
            q++;
        }

        if (*q == '\0') {
            break;
        }

        neg = (*q == '-');
        q += neg;
        quoted = (*q == '"');
        q += quoted;

        if (!neg && p != w) {
            *p++ = ' ';
        }

        while (*q && (quoted ? *q != '"'
                             : (*q != ' ' && *q != '\t' && *q != '\n')))
        {
            if (!neg) {
                *p++ = *q;
            }
            q++;
        }

        q += (quoted && *q == '"');
    }

    *p = '\0';
    out = gen_json_escape(w);
    free(w);
    return out;
}


/* --- events -------------------------------------------------------------- */

/* One code-100 message into buf; its length, 0 if not delivered. */
static size_t
gen_event(char *buf, size_t size)
{
    int          type, n;
    char        *p, *end;
    char         stamp[64], text[2048], eid[160], url[160], author[320];
    double       x;
    long long    owner, post, cid, sid, aid;
    time_t       now;
    gen_rule_t  *r;

    x = gen_frand();
    type = x < 0.6 ? 0 : x < 0.9 ? 1 : 2;

    r = NULL;
    if (g.nrules && gen_frand() < g.match) {
        r = &g.rules[gen_rand() % g.nrules];
    }

    stamp[0] = '\0';
    if (g.stamp) {
        snprintf(stamp, sizeof(stamp), "#%llu@", (unsigned long long) ++g.seq);
    }

    if (r == NULL && !g.deliver_all) {
        return 0;
    }

    now = time(NULL);
    owner = -(100000 + (long long) (gen_rand() % 900000));
    post = ++g.post_seq;
    aid = (gen_rand() & 1) ? 1 + (long long) (gen_rand() % 900000000) : owner;

    n = snprintf(author, sizeof(author), "\"author\":{\"author_url\":"
                 "\"https:\\/\\/vk.com\\/%s%lld\",\"id\":%lld,\"platform\":4",
                 aid < 0 ? "club" : "id", aid < 0 ? -aid : aid, aid);

    if (type == 1) {
        cid = ++g.post_seq;
        snprintf(eid, sizeof(eid), "{\"comment_id\":%lld,\"post_id\":%lld,"
                 "\"post_owner_id\":%lld}", cid, post, owner);
        snprintf(url, sizeof(url), "https:\\/\\/vk.com\\/wall%lld_%lld"
                 "?reply=%lld", owner, post, cid);
        snprintf(author + n, sizeof(author) - n, "}");

    } else if (type == 2) {
        sid = ++g.post_seq;
        snprintf(eid, sizeof(eid), "{\"post_id\":%lld,\"post_owner_id\":%lld,"
                 "\"shared_post_id\":%lld}", post, owner, sid);
        snprintf(url, sizeof(url), "https:\\/\\/vk.com\\/wall%lld_%lld",
                 owner, post);
        snprintf(author + n, sizeof(author) - n, ",\"shared_post_author_id\""
                 ":-1,\"shared_post_author_url\":\"https:\\/\\/vk.com\\/"
                 "club1\"}");

    } else {
        snprintf(eid, sizeof(eid), "{\"post_id\":%lld,\"post_owner_id\":%lld}",
                 post, owner);
        snprintf(url, sizeof(url), "https:\\/\\/vk.com\\/wall%lld_%lld",
                 owner, post);
        snprintf(author + n, sizeof(author) - n, "}");
    }

    snprintf(text, sizeof(text), "%s %s%s%s%s",
             gen_openers[gen_rand() % NELTS(gen_openers)],
             gen_middles[gen_rand() % NELTS(gen_middles)],
             r ? " " : "", r ? r->words_json : "",
             gen_endings[gen_rand() % NELTS(gen_endings)]);

    p = buf;
    end = buf + size;

    p += snprintf(p, end - p, "{\"code\":100,\"event\":{\"action\":\"new\","
                  "\"action_time\":%lld,\"attachments\":[],%s,"
                  "\"creation_time\":%lld,\"event_id\":%s,\"event_type\":"
                  "\"%s\",\"event_url\":\"%s\",", (long long) now, author,
                  (long long) now, eid,
                  type == 0 ? "post" : type == 1 ? "comment" : "share", url);

    if (type == 2 && p < end) {
        p += snprintf(p, end - p, "\"shared_post_creation_time\":%lld,"
                      "\"shared_post_text\":\"Репост\",",
                      (long long) now - 3600);
    }

    if (p < end) {
        p += snprintf(p, end - p, "\"signer_id\":0,\"tags\":[%s%s%s],",
                      r ? "\"" : "", r ? r->tag_json : "", r ? "\"" : "");
    }

    /* the stamp's time last, just before the write */
    if (p < end) {
        if (g.stamp) {
            p += snprintf(p, end - p, "\"text\":\"%s%.6f %s\"}}", stamp,
                          gen_wall(), text);
        } else {
            p += snprintf(p, end - p, "\"text\":\"%s\"}}", text);
        }
    }

    return p < end ? (size_t) (p - buf) : 0;
}


/* a server's (unmasked) text frame header for len bytes; its size */
static size_t
gen_frame_head(unsigned char *h, size_t len)
{
    int  i;

    h[0] = 0x81;

    if (len < 126) {
        h[1] = (unsigned char) len;
        return 2;
    }

    if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char) (len >> 8);
        h[3] = (unsigned char) len;
        return 4;
    }

    h[1] = 127;
    for (i = 0; i < 8; i++) {
        h[2 + i] = (unsigned char) (len >> (56 - 8 * i));
    }

    return 10;
}


static int
gen_write_events(struct lws *wsi)
{
    int            i, n;
    size_t         len, off;
    double         now;
    unsigned char  buf[LWS_PRE + GEN_COALESCE_MAX + GEN_MSG_MAX + 16];
    unsigned char  head[10];

    now = gen_mono();
    g.credit += g.rate * (now - g.last);
    g.last = now;

    /* no bursts past 100 ms of the rate */
    if (g.credit > g.rate / 10 + 1) {
        g.credit = g.rate / 10 + 1;
    }

    off = 0;

    for (i = 0; i < GEN_BATCH && g.credit >= 1; i++) {
        if (lws_send_pipe_choked(wsi)) {
            g.throttled++;
            g.credit = 0;
            break;
        }

        g.credit--;
        g.generated++;

        if (!g.coalesce) {
            len = gen_event((char *) buf + LWS_PRE, GEN_MSG_MAX);
            if (len == 0) {
                continue;
            }

            n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
            if (n < (int) len) {
                return -1;
            }

        } else {
            /*
             * "coalesce": whole frames of several events in one write
             * (one TLS record) instead of one each, to tell the client's
             * cost per record from its cost per message
             */
            len = gen_event((char *) buf + LWS_PRE + off + 10, GEN_MSG_MAX);
            if (len == 0) {
                continue;
            }

            n = (int) gen_frame_head(head, len);
            memmove(buf + LWS_PRE + off + n, buf + LWS_PRE + off + 10, len);
            memcpy(buf + LWS_PRE + off, head, n);
            off += n + len;

            if (off >= GEN_COALESCE_MAX) {
                if (lws_write(wsi, buf + LWS_PRE, off, LWS_WRITE_RAW)
                    < (int) off)
                {
                    return -1;
                }
                off = 0;
            }
        }

        g.events_sent++;
        g.bytes += len;
    }

    if (off && lws_write(wsi, buf + LWS_PRE, off, LWS_WRITE_RAW) < (int) off) {
        return -1;
    }

    if (g.credit >= 1) {
        lws_callback_on_writable(wsi);
    }

    return 0;
}


/*
 * The clock: a thread that wakes the service loop every millisecond.  Not
 * an lws timer: libwebsockets turns the last part of a millisecond into a
 * poll() timeout of 0 and would spin.
 */
static void *
gen_clock(void *data)
{
    struct timespec  ts;

    (void) data;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    while (!g.stop) {
        ts.tv_nsec += GEN_TICK_US * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_nsec -= 1000000000;
            ts.tv_sec++;
        }

        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

        if (g.rate > 0) {
            lws_cancel_service(g.ctx);
        }
    }

    return NULL;
}


/* --- HTTP ---------------------------------------------------------------- */

static void
gen_answer(gen_pss_t *pss, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
gen_answer(gen_pss_t *pss, int status, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    free(pss->resp);
    pss->resp = malloc(n + 1);
    if (pss->resp == NULL) {
        pss->resp_len = 0;
        pss->status = 500;
        return;
    }

    va_start(ap, fmt);
    vsnprintf(pss->resp, n + 1, fmt, ap);
    va_end(ap);

    pss->resp_len = n;
    pss->status = status;
}


static const char *
gen_errmsg(int code)
{
    switch (code) {
    case 1000: return "Upgrade expected";
    case 1001: return "Wrong method";
    case 1002: return "Wrong content type";
    case 1003: return "Missing key";
    case 1004: return "Invalid key";
    case 1005: return "Invalid stream_id";
    case 1006: return "Connection already established";
    case 2000: return "Can't parse json";
    case 2001: return "Tag already exist";
    case 2002: return "Tag does not exist";
    case 2003: return "Can't parse rule";
    case 2006: return "Too many rules";
    default:   return "Error";
    }
}


static void
gen_vk_error(gen_pss_t *pss, int code, const char *msg)
{
    gen_answer(pss, 400, "{\"code\":400,\"error\":{\"error_code\":%d,"
               "\"message\":\"%s\"}}", code, msg ? msg : gen_errmsg(code));
}


static int
gen_find_rule(const char *tag)
{
    int  i;

    for (i = 0; i < g.nrules; i++) {
        if (strcmp(g.rules[i].tag, tag) == 0) {
            return i;
        }
    }

    return -1;
}


static void
gen_free_rule(gen_rule_t *r)
{
    free(r->value);
    free(r->tag);
    free(r->tag_json);
    free(r->words_json);
}


static int
gen_add_rule(const char *value, const char *tag)
{
    gen_rule_t  *r;

    if (g.nrules == GEN_MAX_RULES) {
        return -1;
    }

    r = &g.rules[g.nrules];
    r->value = strdup(value);
    r->tag = strdup(tag);
    r->tag_json = gen_json_escape(tag);
    r->words_json = gen_rule_words(value);

    if (!r->value || !r->tag || !r->tag_json || !r->words_json) {
        gen_free_rule(r);
        return -1;
    }

    g.nrules++;
    return 0;
}


static void
gen_del_rule(int i)
{
    gen_free_rule(&g.rules[i]);
    memmove(&g.rules[i], &g.rules[i + 1],
            (g.nrules - i - 1) * sizeof(gen_rule_t));
    g.nrules--;
}


static char *
gen_rules_json(void)
{
    int      i;
    json_t  *a, *o;
    char    *s;

    o = json_object();

    if (g.nrules == 0) {
        json_object_set_new(o, "rules", json_null());
    } else {
        a = json_array();
        for (i = 0; i < g.nrules; i++) {
            json_array_append_new(a, json_pack("{s:s,s:s}",
                "tag", g.rules[i].tag, "value", g.rules[i].value));
        }
        json_object_set_new(o, "rules", a);
    }

    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}


static void
gen_rules(gen_pss_t *pss)
{
    int          i;
    char        *s;
    json_t      *j, *rule, *v, *t;
    const char  *value, *tag;

    if (!pss->has_key || pss->key[0] == '\0') {
        gen_vk_error(pss, 1003, NULL);
        return;
    }

    if (strcmp(pss->key, g.key) != 0) {
        gen_vk_error(pss, 1004, NULL);
        return;
    }

    if (pss->method == 'G') {
        g.rules_get++;
        s = gen_rules_json();
        /* {"rules":...} as {"code":200,"rules":...} */
        gen_answer(pss, 200, "{\"code\":200,%s", s ? s + 1 : "}");
        free(s);
        return;
    }

    if (pss->method != 'P' && pss->method != 'D') {
        gen_vk_error(pss, 1001, NULL);
        return;
    }

    if (!pss->json) {
        gen_vk_error(pss, 1002, NULL);
        return;
    }

    j = pss->body ? json_loadb(pss->body, pss->len, 0, NULL) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        gen_vk_error(pss, 2000, NULL);
        return;
    }

    if (pss->method == 'P') {
        g.rules_post++;
        rule = json_object_get(j, "rule");
        v = json_object_get(rule, "value");
        t = json_object_get(rule, "tag");

        if (!json_is_string(v) || !json_is_string(t)) {
            gen_vk_error(pss, 2000, NULL);

        } else if ((tag = json_string_value(t))[0] == '\0') {
            gen_vk_error(pss, 2003, "Tag is empty");

        } else if (strlen(tag) > GEN_MAX_TAG) {
            gen_vk_error(pss, 2003, "Tag is too long");

        } else if ((value = json_string_value(v))[0] == '\0'
                   || strlen(value) > GEN_MAX_VALUE)
        {
            gen_vk_error(pss, 2003, NULL);

        } else if (gen_find_rule(tag) >= 0) {
            gen_vk_error(pss, 2001, NULL);

        } else if (gen_add_rule(value, tag) != 0) {
            gen_vk_error(pss, 2006, NULL);

        } else {
            gen_answer(pss, 200, "{\"code\":200}");
        }

        json_decref(j);
        return;
    }

    g.rules_delete++;
    t = json_object_get(j, "tag");

    if (!json_is_string(t)) {
        gen_vk_error(pss, 2000, NULL);

    } else if ((i = gen_find_rule(json_string_value(t))) < 0) {
        gen_vk_error(pss, 2002, NULL);

    } else {
        gen_del_rule(i);
        gen_answer(pss, 200, "{\"code\":200}");
    }

    json_decref(j);
}


static void
gen_method(struct lws *wsi, gen_pss_t *pss)
{
    char         tok[1024], v[1024];  /* lws stops at any bigger arg */
    const char  *m;

    g.api_calls++;
    m = pss->path + sizeof("/method/") - 1;

    if (lws_get_urlarg_by_name(wsi, "access_token=", tok, sizeof(tok))
           == NULL
        || strcmp(tok + sizeof("access_token=") - 1, g.token) != 0)
    {
        gen_answer(pss, 200, "{\"error\":{\"error_code\":5,\"error_msg\":"
                   "\"User authorization failed: invalid access_token (4).\","
                   "\"request_params\":[]}}");
        return;
    }

    if (lws_get_urlarg_by_name(wsi, "v=", v, sizeof(v)) == NULL) {
        gen_answer(pss, 200, "{\"error\":{\"error_code\":8,\"error_msg\":"
                   "\"Invalid request: v (version) is required\","
                   "\"request_params\":[]}}");
        return;
    }

    if (strcmp(m, "streaming.getServerUrl") == 0) {
        /* the real endpoint is a bare host; ours carries the port */
        gen_answer(pss, 200, "{\"response\":{\"endpoint\":\"%s:%d\","
                   "\"key\":\"%s\"}}", g.host, g.port, g.key);

    } else if (strcmp(m, "streaming.getSettings") == 0) {
        gen_answer(pss, 200,
                   "{\"response\":{\"monthly_limit\":\"tier_6\"}}");

    } else {
        gen_answer(pss, 200, "{\"error\":{\"error_code\":3,\"error_msg\":"
                   "\"Unknown method passed\",\"request_params\":[]}}");
    }
}


/* a number as Perl sees it: "1000" and 1000 alike, true 1 */
static double
gen_num(json_t *x)
{
    if (json_is_number(x)) {
        return json_number_value(x);
    }

    if (json_is_string(x)) {
        return atof(json_string_value(x));
    }

    return json_is_true(x) ? 1 : 0;
}


/* POST /admin/rules: rules without the API's checks, as the emulator's */
static void
gen_admin_rules(gen_pss_t *pss)
{
    int          i;
    size_t       k;
    json_t      *j, *a, *x, *v, *t;

    j = pss->body ? json_loadb(pss->body, pss->len, 0, NULL) : NULL;
    a = json_object_get(j, "rules");

    json_array_foreach(a, k, x) {
        v = json_object_get(x, "value");
        t = json_object_get(x, "tag");
        if (!json_is_string(t)) {
            continue;
        }

        if ((i = gen_find_rule(json_string_value(t))) >= 0) {
            gen_del_rule(i);
        }

        (void) gen_add_rule(json_is_string(v) ? json_string_value(v) : "",
                            json_string_value(t));
    }

    json_decref(j);
}


static void
gen_admin(gen_pss_t *pss)
{
    int            fd, q;
    char          *s, conn[160];
    json_t        *j, *x;

    if (strcmp(pss->path, "/admin/generator") == 0 && pss->method == 'P') {
        j = pss->body ? json_loadb(pss->body, pss->len, 0, NULL) : NULL;
        if (!json_is_object(j)) {
            json_decref(j);
            gen_answer(pss, 400, "{\"error\":\"bad json\"}");
            return;
        }

        if ((x = json_object_get(j, "rate"))) {
            g.rate = gen_num(x);
        }
        if ((x = json_object_get(j, "match"))) {
            g.match = gen_num(x);
        }
        if ((x = json_object_get(j, "stamp"))) {
            g.stamp = gen_num(x) != 0;
        }
        if ((x = json_object_get(j, "deliver_all"))) {
            g.deliver_all = gen_num(x) != 0;
        }
        if ((x = json_object_get(j, "coalesce"))) {
            g.coalesce = gen_num(x) != 0;
        }

        g.credit = 0;
        g.last = gen_mono();
        json_decref(j);

        gen_answer(pss, 200, "{\"match\":%g,\"rate\":%g,\"seq\":%llu,"
                   "\"stamp\":%s}", g.match, g.rate,
                   (unsigned long long) g.seq, g.stamp ? "true" : "false");
        return;
    }

    if (strcmp(pss->path, "/admin/stats") == 0) {
        q = 0;
        if (g.stream) {
            fd = lws_get_socket_fd(g.stream);
            if (fd < 0 || ioctl(fd, SIOCOUTQ, &q) != 0) {
                q = 0;
            }
        }

        conn[0] = '\0';
        if (g.stream) {
            snprintf(conn, sizeof(conn), "{\"bytes\":%llu,\"messages\":%llu,"
                     "\"open\":true,\"queued\":%d}",
                     (unsigned long long) g.bytes,
                     (unsigned long long) g.events_sent, q);
        }

        gen_answer(pss, 200, "{\"connections\":[%s],"
            "\"counters\":{\"api_calls\":%llu,\"events_sent\":%llu,"
            "\"generated\":%llu,\"generator_throttled\":%llu,"
            "\"messages_sent\":%llu,\"rules_delete\":%llu,"
            "\"rules_get\":%llu,\"rules_post\":%llu,\"ws_accepted\":%llu,"
            "\"ws_closed\":%llu,\"ws_rejected\":%llu},"
            "\"generator\":{\"deliver_all\":%s,\"match\":%g,\"rate\":%g,"
            "\"seq\":%llu,\"stamp\":%s},\"key\":\"%s\",\"open\":%d,"
            "\"rules\":%d}",
            conn,
            (unsigned long long) g.api_calls,
            (unsigned long long) g.events_sent,
            (unsigned long long) g.generated,
            (unsigned long long) g.throttled,
            (unsigned long long) g.events_sent,
            (unsigned long long) g.rules_delete,
            (unsigned long long) g.rules_get,
            (unsigned long long) g.rules_post,
            (unsigned long long) g.ws_accepted,
            (unsigned long long) g.ws_closed,
            (unsigned long long) g.ws_rejected,
            g.deliver_all ? "true" : "false", g.match, g.rate,
            (unsigned long long) g.seq, g.stamp ? "true" : "false", g.key,
            g.stream ? 1 : 0, g.nrules);
        return;
    }

    if (strcmp(pss->path, "/admin/rules") == 0) {
        if (pss->method == 'D') {
            while (g.nrules) {
                gen_del_rule(g.nrules - 1);
            }
        }

        /* preload {"rules":[{"value","tag"}]}, replacing same tags */
        if (pss->method == 'P') {
            gen_admin_rules(pss);
        }

        s = gen_rules_json();
        if (s && g.nrules == 0) {
            gen_answer(pss, 200, "{\"rules\":[]}");
        } else {
            gen_answer(pss, 200, "%s", s ? s : "{}");
        }
        free(s);
        return;
    }

    gen_answer(pss, 404, "{\"error\":\"not found\"}");
}


/* "stream_id", when given, is digits (error 1005 otherwise) */
static int
gen_stream_id_ok(struct lws *wsi)
{
    char        buf[1024];
    const char *p;

    if (lws_get_urlarg_by_name(wsi, "stream_id=", buf, sizeof(buf)) == NULL) {
        return 1;
    }

    for (p = buf + sizeof("stream_id=") - 1; *p; p++) {
        if (*p < '0' || *p > '9') {
            return 0;
        }
    }

    return 1;
}


static void
gen_route(struct lws *wsi, gen_pss_t *pss)
{
    const char  *p = pss->path;

    if (pss->admin) {
        gen_admin(pss);

    } else if (strncmp(p, "/method/", 8) == 0) {
        gen_method(wsi, pss);

    } else if (strcmp(p, "/rules") == 0 || strcmp(p, "/rules/") == 0) {
        gen_rules(pss);

    } else if (strcmp(p, "/stream") == 0 || strcmp(p, "/stream/") == 0) {
        /* a plain request where the WebSocket is: say why it fails */
        gen_vk_error(pss, !pss->has_key || pss->key[0] == '\0' ? 1003
                          : strcmp(pss->key, g.key) ? 1004
                          : !gen_stream_id_ok(wsi) ? 1005
                          : g.stream ? 1006 : 1000, NULL);
    } else {
        gen_answer(pss, 404, "{\"code\":404,\"error\":{\"error_code\":404,"
                   "\"message\":\"Not found\"}}");
    }
}


static void
gen_request(struct lws *wsi, gen_pss_t *pss, const char *uri)
{
    char  ct[64], key[1024];

    memset(pss, 0, sizeof(*pss));
    pss->admin = (lws_get_vhost(wsi) == g.adm);
    snprintf(pss->path, sizeof(pss->path), "%s", uri);

    pss->method = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) ? 'G'
                  : lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) ? 'P'
                  : lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) ? 'D'
                  : '?';

    if (lws_hdr_copy(wsi, ct, sizeof(ct), WSI_TOKEN_HTTP_CONTENT_TYPE) > 0) {
        pss->json = strncasecmp(ct, "application/json", 16) == 0
                    && (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
    }

    if (lws_get_urlarg_by_name(wsi, "key=", key, sizeof(key))) {
        pss->has_key = 1;
        snprintf(pss->key, sizeof(pss->key), "%s", key + 4);
    }
}


static int
gen_http_write(struct lws *wsi, gen_pss_t *pss)
{
    unsigned char   *buf, *p, *end;
    size_t           size;
    int              n;

    size = LWS_PRE + 512 + pss->resp_len;
    buf = malloc(size);
    if (buf == NULL) {
        return -1;
    }

    p = buf + LWS_PRE;
    end = buf + size;

    if (lws_add_http_common_headers(wsi, pss->status, "application/json",
                                    pss->resp_len, &p, end)
        || lws_finalize_write_http_header(wsi, buf + LWS_PRE, &p, end))
    {
        free(buf);
        return -1;
    }

    memcpy(buf + LWS_PRE, pss->resp, pss->resp_len);
    n = lws_write(wsi, buf + LWS_PRE, pss->resp_len, LWS_WRITE_HTTP_FINAL);
    free(buf);

    free(pss->resp);
    pss->resp = NULL;
    free(pss->body);
    pss->body = NULL;

    if (n < 0) {
        return -1;
    }

    return lws_http_transaction_completed(wsi) ? -1 : 0;
}


static int
gen_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
    char        key[1024];
    gen_pss_t  *pss = user;

    switch (reason) {

    case LWS_CALLBACK_HTTP:
        gen_request(wsi, pss, in);

        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)
            && (pss->method == 'P' || pss->method == 'D'))
        {
            return 0;                   /* the body first */
        }

        gen_route(wsi, pss);
        lws_callback_on_writable(wsi);
        return 0;

    case LWS_CALLBACK_HTTP_BODY:
        if (pss->len + len > GEN_BODY_MAX) {
            return -1;
        }

        pss->body = realloc(pss->body, pss->len + len + 1);
        if (pss->body == NULL) {
            return -1;
        }

        memcpy(pss->body + pss->len, in, len);
        pss->len += len;
        pss->body[pss->len] = '\0';
        return 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        gen_route(wsi, pss);
        lws_callback_on_writable(wsi);
        return 0;

    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (pss->resp == NULL) {
            return 0;
        }

        return gen_http_write(wsi, pss);

    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss == NULL) {
            return 0;
        }

        free(pss->resp);
        pss->resp = NULL;
        free(pss->body);
        pss->body = NULL;
        return 0;

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* refused handshakes: the client asks again plainly (gen_route) */
        if (lws_get_vhost(wsi) == g.adm || g.stream
            || lws_get_urlarg_by_name(wsi, "key=", key, sizeof(key)) == NULL
            || strcmp(key + 4, g.key) != 0 || !gen_stream_id_ok(wsi))
        {
            g.ws_rejected++;
            return -1;
        }

        return 0;

    case LWS_CALLBACK_ESTABLISHED:
        memset(pss, 0, sizeof(*pss));
        g.stream = wsi;
        g.ws_accepted++;
        g.credit = 0;
        g.last = gen_mono();
        return 0;

    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (wsi != g.stream || g.rate <= 0) {
            return 0;
        }

        return gen_write_events(wsi);

    case LWS_CALLBACK_RECEIVE:
        return 0;                       /* pongs and closes: lws's own */

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (g.stream && g.rate > 0) {   /* gen_clock()'s tick */
            lws_callback_on_writable(g.stream);
        }
        return 0;

    case LWS_CALLBACK_CLOSED:
        if (wsi == g.stream) {
            g.stream = NULL;
            g.ws_closed++;
        }
        return 0;

    default:
        break;
    }

    return lws_callback_http_dummy(wsi, reason, user, in, len);
}


static const struct lws_protocols  gen_protocols[] = {
    { "vk", gen_callback, sizeof(gen_pss_t), 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};


static void
gen_signal(int sig)
{
    (void) sig;
    g.stop = 1;
    if (g.ctx) {
        lws_cancel_service(g.ctx);
    }
}


static void
gen_usage(void)
{
    fprintf(stderr, "usage: bench-vk-gen --cert FILE --key-file FILE "
            "[--host ADDR] [--port N]\n    [--admin-port N] [--token T] "
            "[--key K] [--rate N] [--match F] [--seed N]\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int                                 c, i;
    pthread_t                           clock;
    const char                         *cert, *keyf;
    struct lws_context_creation_info    info;
    static const struct option          opts[] = {
        { "host", 1, NULL, 'h' }, { "port", 1, NULL, 'p' },
        { "admin-port", 1, NULL, 'a' }, { "cert", 1, NULL, 'c' },
        { "key-file", 1, NULL, 'K' }, { "token", 1, NULL, 't' },
        { "key", 1, NULL, 'k' }, { "rate", 1, NULL, 'r' },
        { "match", 1, NULL, 'm' }, { "seed", 1, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };

    memset(&g, 0, sizeof(g));
    g.host = "127.0.0.1";
    g.match = 0.3;
    g.post_seq = 1000;
    g.rnd = (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 32);
    cert = keyf = NULL;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'h': g.host = optarg; break;
        case 'p': g.port = atoi(optarg); break;
        case 'a': g.admin_port = atoi(optarg); break;
        case 'c': cert = optarg; break;
        case 'K': keyf = optarg; break;
        case 't': snprintf(g.token, sizeof(g.token), "%s", optarg); break;
        case 'k': snprintf(g.key, sizeof(g.key), "%s", optarg); break;
        case 'r': g.rate = atof(optarg); break;
        case 'm': g.match = atof(optarg); break;
        case 's': g.rnd = strtoull(optarg, NULL, 10) | 1; break;
        default: gen_usage();
        }
    }

    if (cert == NULL || keyf == NULL) {
        gen_usage();
    }

    for (i = 0; g.token[i * 2] == '\0' && i < 32; i++) {
        sprintf(g.token + i * 2, "%02x", (unsigned) (gen_rand() & 0xff));
    }
    for (i = 0; g.key[i * 2] == '\0' && i < 20; i++) {
        sprintf(g.key + i * 2, "%02x", (unsigned) (gen_rand() & 0xff));
    }

    lws_set_log_level(LLL_ERR, NULL);

    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT
                   | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.gid = -1;
    info.uid = -1;

    g.ctx = lws_create_context(&info);
    if (g.ctx == NULL) {
        fprintf(stderr, "bench-vk-gen: lws_create_context failed\n");
        return 1;
    }

    info.port = g.port;
    info.iface = g.host;
    info.protocols = gen_protocols;
    info.vhost_name = "api";
    info.ssl_cert_filepath = cert;
    info.ssl_private_key_filepath = keyf;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.alpn = "http/1.1";             /* as the client asks */

    g.api = lws_create_vhost(g.ctx, &info);
    if (g.api == NULL) {
        fprintf(stderr, "bench-vk-gen: the TLS vhost failed\n");
        return 1;
    }
    g.port = lws_get_vhost_listen_port(g.api);

    info.port = g.admin_port;
    info.vhost_name = "admin";
    info.ssl_cert_filepath = NULL;
    info.ssl_private_key_filepath = NULL;
    info.options = 0;

    g.adm = lws_create_vhost(g.ctx, &info);
    if (g.adm == NULL) {
        fprintf(stderr, "bench-vk-gen: the admin vhost failed\n");
        return 1;
    }
    g.admin_port = lws_get_vhost_listen_port(g.adm);

    signal(SIGINT, gen_signal);
    signal(SIGTERM, gen_signal);
    signal(SIGPIPE, SIG_IGN);

    printf("{\"admin\":\"http://%s:%d\",\"api\":\"https://%s:%d\","
           "\"key\":\"%s\",\"pid\":%d,\"stream_host\":\"%s:%d\","
           "\"token\":\"%s\"}\n", g.host, g.admin_port, g.host, g.port,
           g.key, (int) getpid(), g.host, g.port, g.token);
    fflush(stdout);

    g.last = gen_mono();
    if (pthread_create(&clock, NULL, gen_clock, NULL) != 0) {
        fprintf(stderr, "bench-vk-gen: pthread_create failed\n");
        return 1;
    }

    while (!g.stop) {
        if (lws_service(g.ctx, 0) < 0) {
            break;
        }
    }

    g.stop = 1;
    pthread_join(clock, NULL);
    lws_context_destroy(g.ctx);
    return 0;
}
