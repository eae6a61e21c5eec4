/*
 * api.c - authenticated Salesforce API calls with retries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ratelimit.h"
#include "xalloc.h"

/* Share of the daily API limit at which sfsink warns, in percent. */
#define USAGE_WARN_PERCENT	90

struct api {
	const struct config *cfg;
	struct http *http;
	const struct logger *lg;
	struct auth auth;
	struct ratelimit rate;
	bool refreshing;		/* a token request is due or in flight */
	int64_t refresh_due_ns;		/* when a delayed token request starts */
	int token_retries;
	struct api_call *delayed;	/* calls waiting for their due time */
	struct api_call *token_wait;	/* calls waiting for a new token */
	char *stop_reason;		/* set by api_stop() or api_drain() */
	bool stopped;			/* api_stop(): even essential calls end */
	char limit_info[64];
	bool usage_warned;
	unsigned long requests;
	int login_status;		/* 0 waiting, 1 done, -1 failed */
};

struct api *
api_new(const struct config *cfg, struct http *http, const struct logger *lg)
{
	struct api *api = xcalloc(1, sizeof(*api));

	api->cfg = cfg;
	api->http = http;
	api->lg = lg;
	api->refresh_due_ns = INT64_MAX;
	ratelimit_init(&api->rate, cfg->http.tps_limit, cfg->http.tps_burst,
	    clock_now_ns());
	return api;
}

struct api_call *
api_call_new(const char *method, char *path, char *body, size_t body_len,
    const char *content_type, bool idempotent, api_done_fn *done, void *arg)
{
	struct api_call *call = xcalloc(1, sizeof(*call));

	call->method = method;
	call->path = path;
	call->body = body;
	call->body_len = body_len;
	call->content_type = content_type;
	call->accept = "application/json";
	call->idempotent = idempotent;
	call->done = done;
	call->arg = arg;
	return call;
}

static void
push(struct api_call **list, struct api_call *call)
{
	call->next = *list;
	*list = call;
}

/* Park CALL until NOW + DELAY_NS; with a stopped api it ends at once. */
static void
delay_call(struct api *api, struct api_call *call, int64_t delay_ns)
{
	call->due_ns = clock_now_ns() + delay_ns;
	push(&api->delayed, call);
}

/* Whether CALL must end with API_STOPPED instead of being sent. */
static bool
call_stopped(const struct api *api, const struct api_call *call)
{
	return api->stop_reason != NULL && (api->stopped || !call->essential);
}

static void
finish_call(struct api_call *call, enum api_outcome outcome)
{
	call->outcome = outcome;
	call->done(call, call->arg);
}

/*
 * Reserve a token of http.tps_limit for CALL.  Returns 0 when it may be
 * sent now, or -1 after parking it until its token is due.
 */
static int
wait_for_rate(struct api *api, struct api_call *call)
{
	int64_t wait;

	if (call->rate_reserved)
		return 0;
	wait = ratelimit_reserve(&api->rate, clock_now_ns());
	if (wait == 0)
		return 0;
	call->rate_reserved = true;
	log_trace(api->lg, "%s %s: waiting %.3fs for http.tps_limit",
	    call->method, call->path, (double)wait / NS_PER_S);
	delay_call(api, call, wait);
	return -1;
}

static void on_response(struct http_request *req, void *arg);
static void start_refresh(struct api *api);

static struct http_request *
build_request(const struct api *api, const struct api_call *call)
{
	struct http_request *req;
	char *url;

	url = xasprintf("%s%s", api->auth.instance_url, call->path);
	req = http_request_new(call->method, url);
	free(url);
	if (call->body != NULL) {
		req->body = xmalloc(call->body_len + 1);
		memcpy(req->body, call->body, call->body_len);
		req->body[call->body_len] = '\0';
		req->body_len = call->body_len;
	}
	req->content_type = call->content_type;
	req->accept = call->accept;
	req->unlimited_body = call->unlimited_body;
	req->authorization = auth_header(&api->auth);
	return req;
}

/* Send one attempt of CALL with the current token. */
static void
start_attempt(struct api *api, struct api_call *call)
{
	struct http_request *req;

	call->api = api;
	if (call_stopped(api, call)) {
		delay_call(api, call, 0);
		return;
	}
	if (wait_for_rate(api, call) == -1)
		return;
	call->rate_reserved = false;

	http_request_free(call->req);
	req = build_request(api, call);
	req->done = on_response;
	req->arg = call;
	call->req = req;
	call->generation = api->auth.generation;

	api->requests++;
	if (http_start(api->http, req) == -1) {
		req->result = CURLE_FAILED_INIT;
		delay_call(api, call, 0);
		call->retries = INT32_MAX;
	}
}

void
api_send(struct api *api, struct api_call *call)
{
	start_attempt(api, call);
}

void
api_send_later(struct api *api, struct api_call *call, int64_t delay_ns)
{
	call->api = api;
	delay_call(api, call, delay_ns);
}

/* Back-off before retry number N (0-based), honouring Retry-After. */
static int64_t
backoff_ns(const struct api *api, int n, double retry_after)
{
	int64_t delay = api->cfg->http.backoff.initial_interval_ns;
	int64_t max = api->cfg->http.backoff.max_interval_ns;

	if (retry_after >= 0)
		return (int64_t)(retry_after * NS_PER_S);
	while (n-- > 0 && delay < max)
		delay *= 2;
	return delay < max ? delay : max;
}

/* Retry CALL after a back-off if retries remain; returns 0 if it will. */
static int
retry_later(struct api *api, struct api_call *call, const char *why)
{
	int64_t delay;

	if (call->retries >= api->cfg->http.backoff.max_retries)
		return -1;
	delay = backoff_ns(api, call->retries, call->req->retry_after);
	call->retries++;
	log_info(api->lg, "%s %s: %s; retry %d of %lld in %.1fs", call->method,
	    call->path, why, call->retries,
	    (long long)api->cfg->http.backoff.max_retries,
	    (double)delay / NS_PER_S);
	delay_call(api, call, delay);
	return 0;
}

/* Does the response body contain the error code CODE (and TEXT, if set)? */
static bool
body_has(const struct http_request *req, const char *code, const char *text)
{
	const char *body = req->response.data;

	if (body == NULL || strstr(body, code) == NULL)
		return false;
	return text == NULL || strstr(body, text) != NULL;
}

static void
handle_transport_error(struct api *api, struct api_call *call)
{
	struct http_request *req = call->req;
	bool refused = req->body_too_large || req->headers_too_large;

	if (!refused && (!req->maybe_sent || call->idempotent) &&
	    retry_later(api, call, http_request_error(req)) == 0) {
		if (req->maybe_sent)
			call->maybe_applied = true;
		return;
	}
	finish_call(call, API_TRANSPORT);
}

/* 401 with auth.method access_token: the token cannot be renewed. */
static void
stop_on_rejected_token(struct api *api, struct api_call *call)
{
	const struct http_request *req = call->req;
	char body[256], *why;

	log_mask(body, sizeof(body), req->response.data ? req->response.data :
	    "", req->response.len);
	why = xasprintf("Salesforce rejected the access token (HTTP 401: %s); "
	    "auth.method access_token cannot renew it, so get a new token "
	    "(for example with \"sf org display --json\") and set "
	    "auth.access_token", body);
	api_stop(api, why);
	free(why);
	finish_call(call, API_STOPPED);
}

/* 401: refresh the token once for this call and resend it. */
static void
handle_unauthorized(struct api *api, struct api_call *call)
{
	if (call->refreshed || !body_has(call->req, "INVALID_SESSION_ID", NULL)) {
		finish_call(call, API_RESPONSE);
		return;
	}
	if (!auth_can_refresh(api->cfg)) {
		stop_on_rejected_token(api, call);
		return;
	}
	call->refreshed = true;

	/* A token newer than the one this call used is already here. */
	if (call->generation != api->auth.generation && !api->refreshing) {
		start_attempt(api, call);
		return;
	}
	push(&api->token_wait, call);
	start_refresh(api);
}

/* Keep the last Sforce-Limit-Info and warn once when the limit is near. */
static void
note_limit_info(struct api *api, const struct http_request *req)
{
	long used, max;

	if (req->limit_info[0] == '\0')
		return;
	memcpy(api->limit_info, req->limit_info, sizeof(api->limit_info));
	log_debug(api->lg, "Sforce-Limit-Info: %s", req->limit_info);
	if (api->usage_warned || api_limit_usage(api, &used, &max) == -1 ||
	    max <= 0 || (double)used * 100 < (double)max * USAGE_WARN_PERCENT)
		return;
	api->usage_warned = true;
	log_warn(api->lg, "the org has used %ld of its %ld daily API requests "
	    "(Sforce-Limit-Info); at the limit Salesforce refuses every call",
	    used, max);
}

/* Retry CALL for STATUS when Salesforce did not or may safely redo it. */
static int
retry_status(struct api *api, struct api_call *call, long status)
{
	struct http_request *req = call->req;
	char why[32];

	snprintf(why, sizeof(why), "HTTP %ld", status);
	switch (status) {
	case 403:
		if (body_has(req, "REQUEST_LIMIT_EXCEEDED", NULL))
			return retry_later(api, call,
			    "concurrent request limit exceeded");
		return -1;
	case 429:
	case 503:
		return retry_later(api, call, why);
	case 500:
	case 502:
	case 504:
		if (!call->idempotent || retry_later(api, call, why) == -1)
			return -1;
		call->maybe_applied = true;
		return 0;
	default:
		return -1;
	}
}

static void
on_response(struct http_request *req, void *arg)
{
	struct api_call *call = arg;
	struct api *api = call->api;

	note_limit_info(api, req);
	if (req->result != CURLE_OK) {
		handle_transport_error(api, call);
		return;
	}
	if (req->status == 401) {
		handle_unauthorized(api, call);
		return;
	}
	if (req->status == 403 &&
	    body_has(req, "REQUEST_LIMIT_EXCEEDED", "TotalRequests")) {
		api_stop(api, "the org's daily API request limit is exceeded "
		    "(403 REQUEST_LIMIT_EXCEEDED: TotalRequests)");
		finish_call(call, API_STOPPED);
		return;
	}
	if (retry_status(api, call, req->status) == 0)
		return;
	finish_call(call, API_RESPONSE);
}

/* Whether a failed token request may be sent again after a back-off. */
static bool
token_retryable(const struct http_request *req)
{
	if (req->result != CURLE_OK)
		return !req->body_too_large && !req->headers_too_large;
	return req->status == 429 || req->status == 500 ||
	    req->status == 502 || req->status == 503 || req->status == 504;
}

/* Schedule the token request again; returns 0 if it will be sent. */
static int
retry_token(struct api *api, const struct http_request *req)
{
	int64_t delay;
	char why[32];

	if (!token_retryable(req) ||
	    api->token_retries >= api->cfg->http.backoff.max_retries)
		return -1;
	delay = backoff_ns(api, api->token_retries, req->retry_after);
	api->token_retries++;
	snprintf(why, sizeof(why), "HTTP %ld", req->status);
	log_info(api->lg, "token request to %s: %s; retry %d of %lld in %.1fs",
	    req->url, req->result != CURLE_OK ? http_request_error(req) : why,
	    api->token_retries, (long long)api->cfg->http.backoff.max_retries,
	    (double)delay / NS_PER_S);
	api->refresh_due_ns = clock_now_ns() + delay;
	return 0;
}

/* Send every call that waited for the new token. */
static void
release_token_wait(struct api *api)
{
	struct api_call *waiting = api->token_wait, *next;

	api->token_wait = NULL;
	for (; waiting != NULL; waiting = next) {
		next = waiting->next;
		start_attempt(api, waiting);
	}
}

/* Token requests go straight to http: they must not wait for a token. */
static void
on_token(struct http_request *req, void *arg)
{
	struct api *api = arg;
	char err[768];

	if (retry_token(api, req) == 0) {
		http_request_free(req);
		return;
	}
	api->refreshing = false;
	api->token_retries = 0;
	if (auth_accept(&api->auth, req, err, sizeof(err)) == -1) {
		api->login_status = -1;
		http_request_free(req);
		api_stop(api, err);
		return;
	}
	http_request_free(req);
	api->login_status = 1;
	log_debug(api->lg, "signed in; API calls go to %s", api->auth.instance_url);
	release_token_wait(api);
}

/* Build and start a token request now. */
static void
send_token_request(struct api *api)
{
	struct http_request *req;
	char err[768];

	api->refresh_due_ns = INT64_MAX;
	if ((req = auth_token_request(&api->auth, api->cfg, err,
	    sizeof(err))) == NULL) {
		api->refreshing = false;
		api->login_status = -1;
		api_stop(api, err);
		return;
	}
	req->done = on_token;
	req->arg = api;
	api->requests++;
	log_info(api->lg, "requesting an access token from %s", req->url);
	if (http_start(api->http, req) == -1) {
		api->refreshing = false;
		http_request_free(req);
		api_stop(api, "cannot start the token request");
	}
}

/* Request a new token unless one is on its way; http.tps_limit applies. */
static void
start_refresh(struct api *api)
{
	int64_t wait;

	if (api->refreshing)
		return;
	api->refreshing = true;
	wait = ratelimit_reserve(&api->rate, clock_now_ns());
	if (wait > 0)
		api->refresh_due_ns = clock_now_ns() + wait;
	else
		send_token_request(api);
}

int
api_login(struct api *api)
{
	bool ready;
	int64_t due, now;
	int ms;

	api->login_status = 0;
	if (!auth_can_refresh(api->cfg)) {
		auth_use_configured(&api->auth, api->cfg);
		log_debug(api->lg, "using auth.access_token; API calls go to %s",
		    api->auth.instance_url);
		api->login_status = 1;
		return 0;
	}
	start_refresh(api);
	while (api->login_status == 0 && !api->stopped) {
		now = clock_now_ns();
		due = api_next_due(api);
		ms = due == INT64_MAX || due - now > 1000 * NS_PER_MS ? 1000 :
		    due <= now ? 0 : (int)((due - now) / NS_PER_MS) + 1;
		if (http_wait(api->http, -1, ms, &ready) == -1 ||
		    http_perform(api->http) == -1)
			return -1;
		api_run_due(api, clock_now_ns());
	}
	return api->login_status == 1 ? 0 : -1;
}

int64_t
api_next_due(const struct api *api)
{
	const struct api_call *c;
	int64_t due = api->refresh_due_ns;

	for (c = api->delayed; c != NULL; c = c->next) {
		if (c->due_ns < due)
			due = c->due_ns;
	}
	return due;
}

void
api_run_due(struct api *api, int64_t now)
{
	struct api_call **pp = &api->delayed, *due = NULL, *c;

	if (api->refresh_due_ns <= now && !api->stopped)
		send_token_request(api);

	/* Detach first: finishing a call may add new delayed calls. */
	while ((c = *pp) != NULL) {
		if (c->due_ns <= now || call_stopped(api, c)) {
			*pp = c->next;
			push(&due, c);
		} else {
			pp = &c->next;
		}
	}
	while ((c = due) != NULL) {
		due = c->next;
		if (call_stopped(api, c))
			finish_call(c, API_STOPPED);
		else if (c->retries == INT32_MAX)
			finish_call(c, API_TRANSPORT);
		else
			start_attempt(api, c);
	}
}

void
api_stop(struct api *api, const char *reason)
{
	struct api_call *c;

	if (api->stopped)
		return;
	free(api->stop_reason);
	api->stop_reason = xstrdup(reason);
	api->stopped = true;
	api->refresh_due_ns = INT64_MAX;
	log_error(api->lg, "stopping: %s", reason);

	/* Calls waiting for a token end on the next api_run_due(). */
	while ((c = api->token_wait) != NULL) {
		api->token_wait = c->next;
		delay_call(api, c, 0);
	}
}

/*
 * Calls waiting for a token stay: essential ones go on once it arrives,
 * the others end then in start_attempt().
 */
void
api_drain(struct api *api, const char *reason)
{
	if (api->stop_reason != NULL)
		return;
	api->stop_reason = xstrdup(reason);
	log_debug(api->lg, "draining: only aborts, polls and result downloads "
	    "are still sent");
}

const char *
api_stop_reason(const struct api *api)
{
	return api->stop_reason;
}

bool
api_stopped(const struct api *api)
{
	return api->stopped;
}

void
api_expedite(struct api *api, struct api_call *call, int64_t due_ns)
{
	struct api_call *c;

	for (c = api->delayed; c != NULL; c = c->next) {
		if (c == call && c->due_ns > due_ns)
			c->due_ns = due_ns;
	}
}

const char *
api_limit_info(const struct api *api)
{
	return api->limit_info;
}

int
api_limit_usage(const struct api *api, long *used, long *max)
{
	const char *p = strstr(api->limit_info, "api-usage=");

	if (p == NULL || sscanf(p, "api-usage=%ld/%ld", used, max) != 2)
		return -1;
	return 0;
}

unsigned long
api_requests(const struct api *api)
{
	return api->requests;
}

void
api_call_free(struct api_call *call)
{
	if (call == NULL)
		return;
	http_request_free(call->req);
	free(call->path);
	free(call->body);
	free(call);
}

void
api_free(struct api *api)
{
	if (api == NULL)
		return;
	auth_free(&api->auth);
	free(api->stop_reason);
	free(api);
}
