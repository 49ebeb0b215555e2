
/*
 * Unit tests: vk/vks_vk_client without a server: URL splitting, a client
 * whose endpoint refuses connections (it must report the failure, wake its
 * owner, back off, and stop promptly), and one whose endpoint answers the
 * TLS ClientHello in plain HTTP (the log must say it does not speak TLS).
 */


#define _GNU_SOURCE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vk/vks_vk_client.h"
#include "vks_tap.h"


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int           plain_fd;
static volatile int  plain_stop;


/* answers every connection in plain HTTP, as a non-TLS port would */
static void *
plain_server(void *data)
{
    int            s;
    char           buf[4096];
    struct pollfd  pfd;
    static const char  answer[] =
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

    while (!plain_stop) {
        pfd.fd = plain_fd;
        pfd.events = POLLIN;

        if (poll(&pfd, 1, 50) != 1) {
            continue;
        }

        s = accept(plain_fd, NULL, NULL);
        if (s < 0) {
            continue;
        }

        (void) !read(s, buf, sizeof(buf));
        (void) !write(s, answer, sizeof(answer) - 1);
        close(s);
    }

    return NULL;
}


/* the client's wake-up, from its thread: an eventfd as nginx's glue has */
static void
notify(void *data)
{
    uint64_t  one = 1;

    (void) !write(*(int *) data, &one, sizeof(one));
}


/* waits up to 100 ms for the client's eventfd, then takes what it sent */
static vks_vk_out_t *
take_outputs(vks_vk_client_t *c, int fd)
{
    uint64_t       n;
    struct pollfd  pfd;

    pfd.fd = fd;
    pfd.events = POLLIN;

    if (poll(&pfd, 1, 100) == 1) {
        (void) !read(fd, &n, sizeof(n));
    }

    return vks_vk_client_take(c);
}


/* runs the client until an error log line holding want comes */
static int
wait_log(vks_vk_client_t *c, int fd, const char *want, char *line,
    size_t size)
{
    int            found;
    double         t0;
    vks_vk_out_t  *list, *o;

    found = 0;
    t0 = now();

    while (now() - t0 < 5 && !found) {
        list = take_outputs(c, fd);

        for (o = list; o; o = o->next) {
            if (!found && o->kind == VKS_VK_OUT_LOG
                && o->level == VKS_VK_LOG_ERR && strstr(o->text, want))
            {
                snprintf(line, size, "%s", o->text);
                found = 1;
            }
        }

        vks_vk_out_free(list);
    }

    return found;
}


int
main(void)
{
    int                    fd, tls, got_log, got_backoff;
    char                   host[VKS_VK_HOST_MAX + 1], prefix[VKS_VK_STR_MAX];
    char                   err[256], line[VKS_VK_TEXT_MAX + 1];
    char                   ep[64];
    socklen_t              alen;
    pthread_t              tid;
    struct sockaddr_in     sin;
    double                 t0;
    unsigned               port;
    vks_vk_out_t          *list, *o;
    vks_vk_rule_t          rule;
    vks_vk_status_t        st;
    vks_vk_client_t       *c;
    vks_vk_client_conf_t   cf;

    /* URLs */

    is_int(vks_vk_url_split("https://api.vk.com", host, &port, &tls, prefix),
           0, "https URL");
    is_str(host, "api.vk.com", "host");
    is_int(port, 443, "default https port");
    is_int(tls, 1, "tls");
    is_str(prefix, "", "no prefix");

    is_int(vks_vk_url_split("http://127.0.0.1:8080/vk/", host, &port, &tls,
                            prefix), 0, "http URL with port and prefix");
    is_str(host, "127.0.0.1", "host");
    is_int(port, 8080, "port");
    is_int(tls, 0, "no tls");
    is_str(prefix, "/vk", "prefix without the trailing slash");

    is_int(vks_vk_url_split("http://example.com", host, &port, &tls, prefix),
           0, "http URL");
    is_int(port, 80, "default http port");

    is_int(vks_vk_url_split("ftp://x", host, &port, &tls, prefix), -1,
           "other scheme refused");
    is_int(vks_vk_url_split("https://", host, &port, &tls, prefix), -1,
           "no host refused");
    is_int(vks_vk_url_split("https://a b/", host, &port, &tls, prefix), -1,
           "space refused");

    /* bad configurations */

    memset(&cf, 0, sizeof(cf));
    cf.api = "gopher://x";
    cf.token = "t";
    cf.notify = NULL;
    ok(vks_vk_client_start(&cf, err, sizeof(err)) == NULL, "bad API URL");
    is_str(err, "bad API URL", "reason");

    cf.api = NULL;
    cf.token = NULL;
    cf.endpoint = "127.0.0.1:1";
    ok(vks_vk_client_start(&cf, err, sizeof(err)) == NULL,
       "endpoint without key");

    /* a refused endpoint */

    fd = eventfd(0, EFD_NONBLOCK);
    cf.key = "secret-key";
    cf.verify = 1;
    cf.notify = notify;
    cf.notify_data = &fd;
    cf.seed = 1;

    c = vks_vk_client_start(&cf, err, sizeof(err));
    ok(c != NULL, "client started");
    if (c == NULL) {
        printf("# %s\n", err);
        return done_testing();
    }

    rule.tag = "vks:s:live/cam1";
    rule.value = "кот";
    is_int(vks_vk_client_set_rules(c, &rule, 1), 0, "rules handed over");

    got_log = 0;
    got_backoff = 0;
    t0 = now();

    while (now() - t0 < 5 && !(got_log && got_backoff)) {
        list = take_outputs(c, fd);

        for (o = list; o; o = o->next) {
            if (o->kind == VKS_VK_OUT_LOG && o->level == VKS_VK_LOG_ERR
                && strstr(o->text, "GET /rules failed")
                && strstr(o->text, "reconnecting in"))
            {
                got_log = 1;
            }

            if (strstr(o->text, "secret-key")) {
                got_log = -100;
            }
        }

        vks_vk_out_free(list);

        if (vks_vk_client_status(c, &st) && st.state == VKS_VK_ST_BACKOFF) {
            got_backoff = 1;
        }
    }

    ok(got_log == 1, "the failure is logged, without the key");
    ok(got_backoff, "state backoff");
    is_str(st.endpoint, "127.0.0.1:1", "endpoint in the status");
    ok(strstr(st.last_error, "GET /rules failed") != NULL,
       "last_error says what failed");
    ok(strstr(st.last_error, "secret-key") == NULL, "no key in last_error");

    t0 = now();
    is_int(vks_vk_client_stop(c, 1000), 0, "stopped and joined");
    ok(now() - t0 < 1.0, "within a second");

    /* an endpoint that is no TLS server */

    plain_fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    alen = sizeof(sin);

    if (plain_fd < 0
        || bind(plain_fd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || listen(plain_fd, 8) != 0
        || getsockname(plain_fd, (struct sockaddr *) &sin, &alen) != 0
        || pthread_create(&tid, NULL, plain_server, NULL) != 0)
    {
        ok(0, "plain listener");
        return done_testing();
    }

    snprintf(ep, sizeof(ep), "127.0.0.1:%u", ntohs(sin.sin_port));
    cf.endpoint = ep;

    c = vks_vk_client_start(&cf, err, sizeof(err));
    ok(c != NULL, "client for the plain port started");

    if (c) {
        ok(wait_log(c, fd, "does not speak TLS", line, sizeof(line)),
           "a plain HTTP port is named as not speaking TLS");
        ok(strstr(line, ep) != NULL, "with its address");
        ok(strstr(line, "signed by the CA") == NULL,
           "and not blamed on the CA");
        printf("# %s\n", line);
        is_int(vks_vk_client_stop(c, 1000), 0, "stopped");
    }

    plain_stop = 1;
    pthread_join(tid, NULL);
    close(plain_fd);
    close(fd);

    return done_testing();
}
