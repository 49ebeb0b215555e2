
/*
 * vkstream: thread creation for the media and VK threads.
 */


#include <pthread.h>
#include <signal.h>

#include "vks_thread.h"


int
vks_thread_create(pthread_t *thread, void *(*start)(void *), void *arg)
{
    int       rc;
    sigset_t  set, old;

    sigfillset(&set);

    /* a fault while blocked kills at once, past the sanitizers' handlers */
    sigdelset(&set, SIGILL);
    sigdelset(&set, SIGFPE);
    sigdelset(&set, SIGSEGV);
    sigdelset(&set, SIGBUS);

    rc = pthread_sigmask(SIG_BLOCK, &set, &old);
    if (rc != 0) {
        return rc;
    }

    rc = pthread_create(thread, NULL, start, arg);

    (void) pthread_sigmask(SIG_SETMASK, &old, NULL);

    return rc;
}
