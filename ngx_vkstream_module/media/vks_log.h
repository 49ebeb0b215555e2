
/*
 * vkstream media: how the pipeline's threads log.  A line goes to a
 * vks_log_pt with its level; the glue's is vks_logq_log() (vks_logq.h),
 * which queues it for the event loop.
 */


#ifndef _VKS_LOG_H_INCLUDED_
#define _VKS_LOG_H_INCLUDED_


#define VKS_LOG_ERR     0
#define VKS_LOG_WARN    1
#define VKS_LOG_INFO    2
#define VKS_LOG_DEBUG   3

typedef void (*vks_log_pt)(void *data, int level, const char *msg);


#endif /* _VKS_LOG_H_INCLUDED_ */
