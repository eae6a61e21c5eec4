/*
 * realtime.c - writes through the sObject Collections REST API.
 *
 * Request and response shapes follow Salesforce's REST API Developer
 * Guide, "sObject Collections": results come back in request order, one
 * per record, with HTTP 200 even when records fail; a request that is not
 * well formed gets 400 and writes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "jsonscan.h"
#include "realtime.h"
#include "xalloc.h"

/* A range of a chunk's records still to be sent. */
struct range {
	size_t start;
	size_t n;
};

/* One chunk on its way: the ranges still to send, last one first. */
struct realtime_job {
	struct sink *sink;
	struct chunk *chunk;
	struct range *todo;
	size_t n_todo;
	struct range current;
};

static void send_next(struct realtime_job *job);

static bool
is_idempotent(enum operation op)
{
	return op != OP_INSERT;
}

/* Copy REC's data members after an attributes member naming the sObject. */
static void
append_record(struct buf *b, const struct record *rec, const char *sobject)
{
	struct jsonscan js;
	struct json_member m;

	buf_printf(b, "{\"attributes\":{\"type\":\"%s\"}", sobject);
	if (jsonscan_init(&js, rec->data, rec->data_len) == 0) {
		while (jsonscan_next(&js, &m) == 1) {
			/* sfsink sets attributes itself, e.g. for exported records. */
			if (json_member_is(&m, "attributes", true))
				continue;
			buf_putc(b, ',');
			buf_append(b, m.key - 1, m.key_len + 2);
			buf_putc(b, ':');
			buf_append(b, m.value, m.value_len);
		}
	}
	buf_putc(b, '}');
}

static char *
build_body(const struct realtime_job *job, size_t *len)
{
	const struct mapping *map = job->chunk->map;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_printf(&b, "{\"allOrNone\":%s,\"records\":[",
	    map->all_or_none ? "true" : "false");
	for (i = 0; i < job->current.n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		append_record(&b, job->chunk->recs[job->current.start + i],
		    map->sobject);
	}
	buf_puts(&b, "]}");
	return buf_steal(&b, len);
}

static char *
build_path(const struct realtime_job *job, const char **method)
{
	const struct config *cfg = job->sink->cfg;
	const struct mapping *map = job->chunk->map;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_printf(&b, "/services/data/%s/composite/sobjects", cfg->api_version);
	switch (map->operation) {
	case OP_INSERT:
		*method = "POST";
		break;
	case OP_UPDATE:
		*method = "PATCH";
		break;
	case OP_UPSERT:
		*method = "PATCH";
		buf_printf(&b, "/%s/%s", map->sobject, map->external_id_field);
		break;
	case OP_DELETE:
	case OP_HARD_DELETE:
		/* Only DELETE takes allOrNone in the query string. */
		*method = "DELETE";
		buf_puts(&b, "?ids=");
		for (i = 0; i < job->current.n; i++) {
			if (i > 0)
				buf_putc(&b, ',');
			buf_puts(&b, job->chunk->recs[job->current.start + i]->key);
		}
		buf_printf(&b, "&allOrNone=%s", map->all_or_none ? "true" : "false");
		break;
	}
	return buf_steal(&b, NULL);
}

static struct record *
current_record(const struct realtime_job *job, size_t i)
{
	return job->chunk->recs[job->current.start + i];
}

/* Give every record of the current range the same error result. */
static void
fail_range(struct realtime_job *job, enum result_status status,
    json_t *errors)
{
	size_t i;

	for (i = 0; i < job->current.n; i++)
		results_errors(&job->sink->results, current_record(job, i),
		    status, errors, NULL, NULL);
}

static void
fail_range_with(struct realtime_job *job, enum result_status status,
    const char *code, const char *message)
{
	json_t *errors = json_array();

	json_array_append_new(errors, results_make_error(code, message));
	fail_range(job, status, errors);
	json_decref(errors);
}

/* Write one record's result from its SaveResult or UpsertResult. */
static void
take_save_result(struct realtime_job *job, struct record *rec, json_t *sr)
{
	struct results *res = &job->sink->results;
	const char *id = json_string_value(json_object_get(sr, "id"));
	json_t *created = json_object_get(sr, "created");
	json_t *errors = json_object_get(sr, "errors");
	int created_flag = -1;

	if (job->chunk->map->operation == OP_UPSERT && json_is_boolean(created))
		created_flag = json_is_true(created);

	if (json_is_true(json_object_get(sr, "success"))) {
		results_ok(res, rec, id, created_flag, NULL);
		return;
	}
	if (!json_is_array(errors) || json_array_size(errors) == 0) {
		results_error(res, rec, RESULT_FAILED, "UNKNOWN_ERROR",
		    "Salesforce reported a failure without errors");
		return;
	}
	results_errors(res, rec, RESULT_FAILED, errors, id, NULL);
}

static void
take_results(struct realtime_job *job, const struct http_request *req)
{
	json_t *root = NULL;
	size_t i;

	if (req->response.data != NULL)
		root = json_loadb(req->response.data, req->response.len, 0, NULL);
	if (!json_is_array(root) || json_array_size(root) != job->current.n) {
		/* Salesforce processed the request, but the outcome is unreadable. */
		fail_range_with(job, RESULT_UNKNOWN, "INVALID_RESPONSE",
		    "HTTP 200 without one result per record; the records may "
		    "or may not have been written");
		json_decref(root);
		return;
	}
	for (i = 0; i < job->current.n; i++)
		take_save_result(job, current_record(job, i),
		    json_array_get(root, i));
	json_decref(root);
}

/*
 * The errors of a whole-request failure: Salesforce's error array when the
 * body is one, otherwise one error naming the HTTP status.
 */
static json_t *
request_errors(const struct http_request *req)
{
	json_t *root = NULL, *errors;
	char code[32], message[512];

	if (req->response.data != NULL)
		root = json_loadb(req->response.data, req->response.len, 0, NULL);
	if (json_is_object(root)) {
		errors = json_array();
		json_array_append_new(errors, root);
		root = errors;
	}
	if (json_is_array(root) && json_array_size(root) > 0)
		return root;
	json_decref(root);

	snprintf(code, sizeof(code), "HTTP_%ld", req->status);
	log_mask(message, sizeof(message), req->response.data ?
	    req->response.data : "", req->response.len);
	errors = json_array();
	json_array_append_new(errors, results_make_error(code, message));
	return errors;
}

static void
push_range(struct realtime_job *job, size_t start, size_t n)
{
	job->todo[job->n_todo].start = start;
	job->todo[job->n_todo].n = n;
	job->n_todo++;
}

/* 400: nothing was written; bisect to find the record at fault. */
static void
handle_bad_request(struct realtime_job *job, const struct http_request *req)
{
	struct range r = job->current;
	json_t *errors;

	if (r.n > 1 && !job->chunk->map->all_or_none) {
		log_debug(job->sink->lg, "HTTP 400 for %zu records of topic "
		    "\"%s\"; splitting the request", r.n, job->chunk->map->topic);
		push_range(job, r.start + r.n / 2, r.n - r.n / 2);
		push_range(job, r.start, r.n / 2);
		return;
	}
	errors = request_errors(req);
	fail_range(job, RESULT_FAILED, errors);
	json_decref(errors);
}

static void
handle_error_status(struct realtime_job *job, const struct http_request *req)
{
	json_t *errors = request_errors(req);
	enum result_status status = RESULT_FAILED;

	/* A gateway or server error on an insert leaves its effect unknown. */
	if (req->status >= 500 && req->status != 503 &&
	    !is_idempotent(job->chunk->map->operation))
		status = RESULT_UNKNOWN;
	fail_range(job, status, errors);
	json_decref(errors);
}

static void
handle_transport(struct realtime_job *job, const struct http_request *req)
{
	char message[512];

	if (req->maybe_sent) {
		snprintf(message, sizeof(message), "%s, after the request was "
		    "sent; the records may or may not have been written",
		    http_request_error(req));
		fail_range_with(job, RESULT_UNKNOWN, "CONNECTION_LOST", message);
	} else {
		snprintf(message, sizeof(message), "%s; nothing was sent",
		    http_request_error(req));
		fail_range_with(job, RESULT_NOT_PROCESSED, "CONNECTION_FAILED",
		    message);
	}
}

static void
on_done(struct api_call *call, void *arg)
{
	struct realtime_job *job = arg;
	const struct http_request *req = call->req;

	switch (call->outcome) {
	case API_STOPPED:
		fail_range_with(job, RESULT_NOT_PROCESSED, "RUN_STOPPED",
		    api_stop_reason(job->sink->api));
		break;
	case API_TRANSPORT:
		handle_transport(job, req);
		break;
	case API_RESPONSE:
		if (req->status == 200)
			take_results(job, req);
		else if (req->status == 400)
			handle_bad_request(job, req);
		else
			handle_error_status(job, req);
		break;
	}
	api_call_free(call);
	results_flush(&job->sink->results);
	send_next(job);
}

static void
send_next(struct realtime_job *job)
{
	const struct mapping *map = job->chunk->map;
	struct api_call *call;
	const char *method = NULL;
	char *path, *body = NULL;
	size_t body_len = 0;

	if (job->n_todo == 0) {
		sink_chunk_done(job->sink, job->chunk);
		free(job->todo);
		free(job);
		return;
	}
	job->current = job->todo[--job->n_todo];

	path = build_path(job, &method);
	if (map->operation != OP_DELETE && map->operation != OP_HARD_DELETE)
		body = build_body(job, &body_len);
	call = api_call_new(method, path, body, body_len,
	    body ? "application/json" : NULL, is_idempotent(map->operation),
	    on_done, job);
	api_send(job->sink->api, call);
}

void
realtime_send(struct sink *s, struct chunk *chunk)
{
	struct realtime_job *job = xcalloc(1, sizeof(*job));

	job->sink = s;
	job->chunk = chunk;

	/* Bisection never holds more than one pending range per level. */
	job->todo = xcalloc(2 * 64, sizeof(*job->todo));
	push_range(job, 0, chunk->n);
	send_next(job);
}
