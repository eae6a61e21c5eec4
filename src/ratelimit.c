/*
 * ratelimit.c - a token bucket over every HTTP request of a run.
 */
#include "clock.h"
#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *rl, double rate, int64_t burst,
    int64_t now_ns)
{
	rl->rate = rate;
	rl->burst = burst > 0 ? (double)burst : 1;
	rl->tokens = rl->burst;
	rl->last_ns = now_ns;
}

int64_t
ratelimit_reserve(struct ratelimit *rl, int64_t now_ns)
{
	double elapsed;

	if (rl->rate <= 0)
		return 0;
	if (now_ns > rl->last_ns) {
		elapsed = (double)(now_ns - rl->last_ns) / NS_PER_S;
		rl->tokens += elapsed * rl->rate;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_ns = now_ns;
	}
	rl->tokens -= 1;
	if (rl->tokens >= 0)
		return 0;
	return (int64_t)(-rl->tokens / rl->rate * NS_PER_S + 0.5);
}
