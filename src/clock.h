/*
 * clock.h - the monotonic clock every timer of sfsink reads.
 */
#ifndef SFSINK_CLOCK_H
#define SFSINK_CLOCK_H

#include <stdint.h>

#define NS_PER_US	1000LL
#define NS_PER_MS	1000000LL
#define NS_PER_S	1000000000LL

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t clock_now_ns(void);

#endif
