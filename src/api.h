/*
 * api.h - authenticated Salesforce API calls with retries.
 *
 * An api_call is one logical request.  The api layer adds the bearer token,
 * resends after a token refresh (401 INVALID_SESSION_ID, once per call),
 * and retries with exponential back-off from http.backoff where resending
 * cannot write anything twice:
 *   - 429, 503 and 403 REQUEST_LIMIT_EXCEEDED for the concurrency limit,
 *     because Salesforce did not process the request;
 *   - 500, 502 and 504, only when the call is idempotent;
 *   - transport failures before the request could have been sent;
 *   - transport failures after sending, only when the call is idempotent,
 *     and never a response refused for its size, which would come again.
 * Token requests are retried the same way after a transport failure or a
 * 429, 500, 502, 503 or 504, because a second token does no harm.
 * 403 REQUEST_LIMIT_EXCEEDED "TotalRequests" means the org's daily API
 * allowance is spent: the api stops (api_stop), and every call still
 * waiting, or made later, ends with API_STOPPED.  So does a 401 with
 * auth.method access_token, whose token cannot be renewed.
 *
 * A signal drains the api instead (api_drain).  Calls marked `essential`
 * (aborting, polling and downloading bulk jobs, which a clean shutdown
 * needs) are still sent, retried and given new tokens.  Every other call
 * ends with API_STOPPED when it would next be sent.  Calls already in
 * flight end normally either way.  A hard stop after a drain ends the
 * essential calls too.
 *
 * http.tps_limit is applied here: every request, token requests and
 * retries included, takes a token from one bucket (ratelimit.h) and waits
 * among the delayed calls until its token is due.
 *
 * Every call ends with exactly one call of its `done` callback, always from
 * http_perform() or api_run_due(), never from inside api_send().
 */
#ifndef SFSINK_API_H
#define SFSINK_API_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"

enum api_outcome {
	API_RESPONSE,	/* a response arrived: see req->status and req->response */
	API_TRANSPORT,	/* no response; req->maybe_sent says if it may have applied */
	API_STOPPED,	/* not sent because the run is stopping */
};

struct api_call;
typedef void api_done_fn(struct api_call *call, void *arg);

struct api_call {
	/* Set through api_call_new(). */
	const char *method;
	char *path;			/* owned, from the instance URL: "/services/..." */
	char *body;			/* owned, may be NULL */
	size_t body_len;
	const char *content_type;
	const char *accept;
	bool idempotent;		/* safe to resend after it may have applied */
	bool unlimited_body;		/* read the whole response, see http.h */
	bool essential;			/* still sent after api_drain() */
	api_done_fn *done;
	void *arg;

	/* Valid in the callback. */
	enum api_outcome outcome;
	struct http_request *req;	/* the last attempt, NULL if none; owned */
	/*
	 * An earlier attempt may have been applied: it was resent after its
	 * connection failed once the request was out, or after a 500, 502 or
	 * 504.  A later failure then shows nothing about the first attempt.
	 */
	bool maybe_applied;

	/* Private to api.c. */
	int retries;
	bool refreshed;
	bool rate_reserved;		/* its rate-limit token is reserved */
	unsigned generation;
	int64_t due_ns;
	struct api_call *next;
	struct api *api;
};

struct api;

struct api *api_new(const struct config *cfg, struct http *http,
    const struct logger *lg);

/* Sign in, blocking until done.  Returns -1 after logging on failure. */
int api_login(struct api *api);

/* A new call; BODY is taken over (may be NULL). */
struct api_call *api_call_new(const char *method, char *path, char *body,
    size_t body_len, const char *content_type, bool idempotent,
    api_done_fn *done, void *arg);

void api_send(struct api *api, struct api_call *call);

/* Send CALL once DELAY_NS nanoseconds have passed (bulk job polling). */
void api_send_later(struct api *api, struct api_call *call, int64_t delay_ns);

/* Earliest time (CLOCK_MONOTONIC, ns) a delayed call is due, or INT64_MAX. */
int64_t api_next_due(const struct api *api);

/* Start or end every delayed call that is due at NOW. */
void api_run_due(struct api *api, int64_t now);

/* Stop sending: every waiting and later call ends with API_STOPPED. */
void api_stop(struct api *api, const char *reason);

/*
 * Stop sending all but essential calls: every other waiting and later
 * call ends with API_STOPPED.  No-op once the api is stopped or draining.
 */
void api_drain(struct api *api, const char *reason);

/* The reason given to api_stop() or api_drain(), or NULL while the api runs. */
const char *api_stop_reason(const struct api *api);

/* Whether api_stop() was called, so that not even essential calls are sent. */
bool api_stopped(const struct api *api);

/*
 * Make CALL due no later than DUE_NS if it is among the delayed calls, so
 * that a shutdown does not wait for a poll.  Otherwise do nothing.
 */
void api_expedite(struct api *api, struct api_call *call, int64_t due_ns);

/* Last Sforce-Limit-Info value seen, or "". */
const char *api_limit_info(const struct api *api);

/*
 * The org's daily API usage from the last Sforce-Limit-Info header
 * ("api-usage=USED/MAX").  Returns 0, or -1 when none was seen.
 */
int api_limit_usage(const struct api *api, long *used, long *max);

/* Number of HTTP requests sent, token requests included. */
unsigned long api_requests(const struct api *api);

void api_call_free(struct api_call *call);
void api_free(struct api *api);

#endif
