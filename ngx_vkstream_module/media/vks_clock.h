
/*
 * vkstream media: the pipeline's clock.
 */


#ifndef _VKS_CLOCK_H_INCLUDED_
#define _VKS_CLOCK_H_INCLUDED_


#include <stdint.h>


/* CLOCK_MONOTONIC in milliseconds: deadlines and rates, never dates */
int64_t vks_now_ms(void);


#endif /* _VKS_CLOCK_H_INCLUDED_ */
