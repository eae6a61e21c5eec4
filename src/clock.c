/*
 * clock.c - the monotonic clock every timer of sfsink reads.
 */
#include <time.h>

#include "clock.h"

int64_t
clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}
