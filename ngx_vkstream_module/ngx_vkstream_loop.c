
/*
 * vkstream: the scheduling of the workers' event loops
 * (vkstream_loop_sched).  With transcodes, the encoder threads keep every
 * core busy, and a woken event loop waits in the run queue behind them:
 * that wait, not its own work, is the tail of API answers and RTMP joins.
 * At SCHED_RR the loop runs as soon as it is woken; it uses a small share
 * of a core, and the kernel's real-time throttling bounds even a runaway
 * one.
 *
 * A worker has given up root before modules run in it, so it cannot take
 * a real-time policy itself: the master takes it, the workers inherit it
 * through fork(), and each worker marks it reset-on-fork so that the
 * threads it starts (transcoding, VK client, cluster) and the processes it
 * execs are back at SCHED_OTHER.  The master only forks and waits.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <sched.h>
#include <sys/syscall.h>
#include "ngx_vkstream.h"


#define NGX_VKSTREAM_LOOP_PRIORITY  1


#if (NGX_LINUX) && defined(SCHED_RESET_ON_FORK)

static ngx_flag_t
ngx_vkstream_loop_wanted(ngx_cycle_t *cycle)
{
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_vkstream_get_conf(cycle);

    return vcf != NULL && vcf->transcodes
           && vcf->loop_sched == NGX_VKSTREAM_LOOP_REALTIME;
}


static ngx_int_t
ngx_vkstream_loop_set(int policy, int priority)
{
    struct sched_param  sp;

    ngx_memzero(&sp, sizeof(struct sched_param));
    sp.sched_priority = priority;

    return sched_setscheduler(0, policy, &sp) == 0 ? NGX_OK : NGX_ERROR;
}


/* the master (or the single process), each time a configuration loads */
void
ngx_vkstream_loop_init_module(ngx_cycle_t *cycle)
{
    int  policy;

    if (ngx_test_config) {
        return;
    }

    policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;

    if (!ngx_vkstream_loop_wanted(cycle)) {
        if (policy == SCHED_RR) {
            /* an earlier configuration wanted it: the new workers do not */
            (void) ngx_vkstream_loop_set(SCHED_OTHER, 0);
        }

        return;
    }

    if (ngx_vkstream_loop_set(SCHED_RR, NGX_VKSTREAM_LOOP_PRIORITY)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, ngx_errno,
                      "vkstream: no real-time priority for the event "
                      "loops (\"vkstream_loop_sched realtime\" needs "
                      "CAP_SYS_NICE in the master), they run at normal "
                      "priority");
    }
}


/*
 * Threads that modules before this one started (nginx's thread pools)
 * inherited the policy too: only the event loop keeps it.
 */
static void
ngx_vkstream_loop_threads_normal(ngx_cycle_t *cycle)
{
    DIR                 *dir;
    pid_t                tid, self;
    struct dirent       *de;
    struct sched_param   sp;

    dir = opendir("/proc/self/task");
    if (dir == NULL) {
        return;
    }

    self = (pid_t) syscall(SYS_gettid);
    ngx_memzero(&sp, sizeof(struct sched_param));

    while ((de = readdir(dir)) != NULL) {
        tid = (pid_t) atoi(de->d_name);

        if (tid <= 0 || tid == self
            || (sched_getscheduler(tid) & ~SCHED_RESET_ON_FORK) != SCHED_RR)
        {
            continue;
        }

        if (sched_setscheduler(tid, SCHED_OTHER, &sp) != 0) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                          "vkstream: thread %P keeps the real-time "
                          "priority", (ngx_pid_t) tid);
        }
    }

    (void) closedir(dir);
}


/* every process the master starts, before this module starts threads */
ngx_int_t
ngx_vkstream_loop_init_process(ngx_cycle_t *cycle)
{
    int  policy;

    policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;

    if (policy != SCHED_RR) {
        /* not inherited: the master could not, or was not asked to */
        return NGX_OK;
    }

    ngx_vkstream_loop_threads_normal(cycle);

    if ((ngx_process == NGX_PROCESS_WORKER
         || ngx_process == NGX_PROCESS_SINGLE)
        && ngx_vkstream_loop_wanted(cycle))
    {
        /* allowed unprivileged: the same priority, one more restriction */
        if (ngx_vkstream_loop_set(SCHED_RR | SCHED_RESET_ON_FORK,
                                  NGX_VKSTREAM_LOOP_PRIORITY)
            == NGX_OK)
        {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "vkstream: cannot mark the event loop's real-time "
                      "priority reset-on-fork, it runs at normal priority");
    }

    /* cache manager and loader, or the above failed: nothing real-time */
    if (ngx_vkstream_loop_set(SCHED_OTHER, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "vkstream: cannot leave the real-time priority");
        return NGX_ERROR;
    }

    return NGX_OK;
}

#else

void
ngx_vkstream_loop_init_module(ngx_cycle_t *cycle)
{
    return;
}


ngx_int_t
ngx_vkstream_loop_init_process(ngx_cycle_t *cycle)
{
    return NGX_OK;
}

#endif
