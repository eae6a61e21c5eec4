/*
 * api.c - authenticated Salesforce API calls with retries.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "xalloc.h"

#define NS_PER_S	1000000000LL

struct api {
	const struct config *cfg;
	struct http *http;
	const struct logger *lg;
	struct auth auth;
	bool refreshing;		/* a token request is in flight */
	struct api_call *delayed;	/* calls waiting for their due time */
	struct api_call *token_wait;	/* calls waiting for a new token */
	char *stop_reason;
	char limit_info[64];
	unsigned long requests;
	int login_status;		/* 0 waiting, 1 done, -1 failed */
};

int64_t
clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

struct api *
api_new(const struct config *cfg, struct http *http, const struct logger *lg)
{
	struct api *api = xcalloc(1, sizeof(*api));

	api->cfg = cfg;
	api->http = http;
	api->lg = lg;
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

static void
finish_call(struct api_call *call, enum api_outcome outcome)
{
	call->outcome = outcome;
	call->done(call, call->arg);
}

static void on_response(struct http_request *req, void *arg);
static void start_refresh(struct api *api);

/* Send one attempt of CALL with the current token. */
static void
start_attempt(struct api *api, struct api_call *call)
{
	struct http_request *req;
	char *url;

	if (api->stop_reason != NULL) {
		delay_call(api, call, 0);
		return;
	}

	url = xasprintf("%s%s", api->auth.instance_url, call->path);
	http_request_free(call->req);
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
	req->authorization = auth_header(&api->auth);
	req->fresh_connection = !call->idempotent;
	req->done = on_response;
	req->arg = call;
	call->req = req;
	call->generation = api->auth.generation;
	call->api = api;

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
	call->api = api;
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

	if ((!req->maybe_sent || call->idempotent) &&
	    retry_later(api, call, http_request_error(req)) == 0)
		return;
	finish_call(call, API_TRANSPORT);
}

/* 401: refresh the token once for this call and resend it. */
static void
handle_unauthorized(struct api *api, struct api_call *call)
{
	if (call->refreshed || !body_has(call->req, "INVALID_SESSION_ID", NULL)) {
		finish_call(call, API_RESPONSE);
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

static void
on_response(struct http_request *req, void *arg)
{
	struct api_call *call = arg;
	struct api *api = call->api;
	char why[32];

	if (req->limit_info[0] != '\0') {
		memcpy(api->limit_info, req->limit_info, sizeof(api->limit_info));
		log_debug(api->lg, "Sforce-Limit-Info: %s", req->limit_info);
	}
	if (req->result != CURLE_OK) {
		handle_transport_error(api, call);
		return;
	}

	snprintf(why, sizeof(why), "HTTP %ld", req->status);
	switch (req->status) {
	case 401:
		handle_unauthorized(api, call);
		return;
	case 403:
		if (body_has(req, "REQUEST_LIMIT_EXCEEDED", "TotalRequests")) {
			api_stop(api, "the org's daily API request limit is "
			    "exceeded (403 REQUEST_LIMIT_EXCEEDED: TotalRequests)");
			finish_call(call, API_STOPPED);
			return;
		}
		if (body_has(req, "REQUEST_LIMIT_EXCEEDED", NULL) &&
		    retry_later(api, call, "concurrent request limit exceeded") == 0)
			return;
		break;
	case 429:
	case 503:
		if (retry_later(api, call, why) == 0)
			return;
		break;
	default:
		break;
	}
	finish_call(call, API_RESPONSE);
}

/* Token requests go straight to http: they must not wait for a token. */
static void
on_token(struct http_request *req, void *arg)
{
	struct api *api = arg;
	struct api_call *waiting, *next;
	char err[768];

	api->refreshing = false;

	/* TODO: retry a token request that failed in transit, with back-off. */
	if (auth_accept(&api->auth, req, err, sizeof(err)) == -1) {
		api->login_status = -1;
		http_request_free(req);
		api_stop(api, err);
		return;
	}
	http_request_free(req);
	api->login_status = 1;
	log_debug(api->lg, "signed in; API calls go to %s", api->auth.instance_url);

	waiting = api->token_wait;
	api->token_wait = NULL;
	for (; waiting != NULL; waiting = next) {
		next = waiting->next;
		start_attempt(api, waiting);
	}
}

static void
start_refresh(struct api *api)
{
	struct http_request *req;

	if (api->refreshing)
		return;
	api->refreshing = true;
	req = auth_token_request(api->cfg);
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

int
api_login(struct api *api)
{
	bool ready;

	api->login_status = 0;
	start_refresh(api);
	while (api->login_status == 0 && api->stop_reason == NULL) {
		if (http_wait(api->http, -1, 1000, &ready) == -1 ||
		    http_perform(api->http) == -1)
			return -1;
	}
	return api->login_status == 1 ? 0 : -1;
}

int64_t
api_next_due(const struct api *api)
{
	const struct api_call *c;
	int64_t due = INT64_MAX;

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

	/* Detach first: finishing a call may add new delayed calls. */
	while ((c = *pp) != NULL) {
		if (c->due_ns <= now || api->stop_reason != NULL) {
			*pp = c->next;
			push(&due, c);
		} else {
			pp = &c->next;
		}
	}
	while ((c = due) != NULL) {
		due = c->next;
		if (api->stop_reason != NULL)
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

	if (api->stop_reason != NULL)
		return;
	api->stop_reason = xstrdup(reason);
	log_error(api->lg, "stopping: %s", reason);

	/* Calls waiting for a token end on the next api_run_due(). */
	while ((c = api->token_wait) != NULL) {
		api->token_wait = c->next;
		delay_call(api, c, 0);
	}
}

const char *
api_stop_reason(const struct api *api)
{
	return api->stop_reason;
}

const char *
api_limit_info(const struct api *api)
{
	return api->limit_info;
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
