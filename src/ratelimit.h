/*
 * ratelimit.h - a token bucket over every HTTP request of a run.
 *
 * The bucket contains at most `burst` tokens and gains `rate` tokens a
 * second.  It starts full.  A request reserves one token before it is sent.
 * When the bucket is empty the reservation still succeeds but returns how
 * long the request must wait, so requests leave in the order they asked,
 * as with Go's rate.Limiter.Reserve that http.tps_limit comes from.
 */
#ifndef SFSINK_RATELIMIT_H
#define SFSINK_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	double rate;		/* tokens per second; 0 means no limit */
	double burst;		/* capacity of the bucket */
	double tokens;		/* may go negative: reserved ahead */
	int64_t last_ns;	/* when `tokens` was last brought up to date */
};

void ratelimit_init(struct ratelimit *rl, double rate, int64_t burst,
    int64_t now_ns);

/* Reserve one token at NOW_NS; returns the nanoseconds to wait first. */
int64_t ratelimit_reserve(struct ratelimit *rl, int64_t now_ns);

#endif
