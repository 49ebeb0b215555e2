
/*
 * Unit tests: vk/vks_vk_client without a server: URL splitting, and a
 * client whose endpoint refuses connections (it must report the failure,
 * wake its owner, back off, and stop promptly).
 */


#define _GNU_SOURCE

#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vk/vks_vk_client.h"
#include "vks_vk_tap.h"


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


int
main(void)
{
    int                    fd, tls, got_log, got_backoff;
    char                   host[VKS_VK_HOST_MAX + 1], prefix[VKS_VK_STR_MAX];
    char                   err[256];
    double                 t0;
    unsigned               port;
    uint64_t               n;
    vks_vk_out_t          *list, *o;
    vks_vk_rule_t          rule;
    vks_vk_status_t        st;
    struct pollfd          pfd;
    vks_vk_client_t       *c;
    vks_vk_client_conf_t   cf;

    /* URLs */

    IS_INT(vks_vk_url_split("https://api.vk.com", host, &port, &tls, prefix),
           0, "https URL");
    IS_STR(host, "api.vk.com", "host");
    IS_INT(port, 443, "default https port");
    IS_INT(tls, 1, "tls");
    IS_STR(prefix, "", "no prefix");

    IS_INT(vks_vk_url_split("http://127.0.0.1:8080/vk/", host, &port, &tls,
                            prefix), 0, "http URL with port and prefix");
    IS_STR(host, "127.0.0.1", "host");
    IS_INT(port, 8080, "port");
    IS_INT(tls, 0, "no tls");
    IS_STR(prefix, "/vk", "prefix without the trailing slash");

    IS_INT(vks_vk_url_split("http://example.com", host, &port, &tls, prefix),
           0, "http URL");
    IS_INT(port, 80, "default http port");

    IS_INT(vks_vk_url_split("ftp://x", host, &port, &tls, prefix), -1,
           "other scheme refused");
    IS_INT(vks_vk_url_split("https://", host, &port, &tls, prefix), -1,
           "no host refused");
    IS_INT(vks_vk_url_split("https://a b/", host, &port, &tls, prefix), -1,
           "space refused");

    /* bad configurations */

    memset(&cf, 0, sizeof(cf));
    cf.api = "gopher://x";
    cf.token = "t";
    cf.notify_fd = -1;
    OK(vks_vk_client_start(&cf, err, sizeof(err)) == NULL, "bad API URL");
    IS_STR(err, "bad API URL", "reason");

    cf.api = NULL;
    cf.token = NULL;
    cf.endpoint = "127.0.0.1:1";
    OK(vks_vk_client_start(&cf, err, sizeof(err)) == NULL,
       "endpoint without key");

    /* a refused endpoint */

    fd = eventfd(0, EFD_NONBLOCK);
    cf.key = "secret-key";
    cf.verify = 1;
    cf.notify_fd = fd;
    cf.seed = 1;

    c = vks_vk_client_start(&cf, err, sizeof(err));
    OK(c != NULL, "client started");
    if (c == NULL) {
        printf("# %s\n", err);
        return tap_done();
    }

    rule.tag = "vks:s:live/cam1";
    rule.value = "кот";
    IS_INT(vks_vk_client_set_rules(c, &rule, 1), 0, "rules handed over");

    got_log = 0;
    got_backoff = 0;
    t0 = now();

    while (now() - t0 < 5 && !(got_log && got_backoff)) {
        pfd.fd = fd;
        pfd.events = POLLIN;

        if (poll(&pfd, 1, 100) == 1) {
            (void) !read(fd, &n, sizeof(n));
        }

        list = vks_vk_client_take(c);

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

    OK(got_log == 1, "the failure is logged, without the key");
    OK(got_backoff, "state backoff");
    IS_STR(st.endpoint, "127.0.0.1:1", "endpoint in the status");
    OK(strstr(st.last_error, "GET /rules failed") != NULL,
       "last_error says what failed");
    OK(strstr(st.last_error, "secret-key") == NULL, "no key in last_error");

    t0 = now();
    IS_INT(vks_vk_client_stop(c, 1000), 0, "stopped and joined");
    OK(now() - t0 < 1.0, "within a second");

    close(fd);

    return tap_done();
}
