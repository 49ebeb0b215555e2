
/*
 * vkstream: the one way threads are started inside an nginx worker.
 */


#ifndef _VKS_THREAD_H_INCLUDED_
#define _VKS_THREAD_H_INCLUDED_


#include <pthread.h>


/*
 * pthread_create() with the asynchronous signals blocked in the new thread
 * (it inherits the mask at birth, so there is no window): nginx's signals
 * (reload, quit, SIGIO, SIGCHLD) must reach the event-loop thread, whose
 * handlers set its flags and whose epoll_wait() they interrupt.  As in
 * nginx's thread pool, faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE) stay
 * unblocked, and no attributes are set.  Returns 0 or an errno value.
 */
int vks_thread_create(pthread_t *thread, void *(*start)(void *), void *arg);


#endif /* _VKS_THREAD_H_INCLUDED_ */
