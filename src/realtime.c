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
#include "jsoncheck.h"
#include "jsonscan.h"
#include "realtime.h"
#include "xalloc.h"

/*
 * Records of a chunk that go out in one request.  The array is owned; the
 * records are borrowed from the chunk.
 */
struct part {
	struct record **recs;
	size_t n;
	int64_t delay_ns;	/* wait this long before sending */
};

/* One chunk on its way: the parts still to send, last one first. */
struct realtime_job {
	struct sink *sink;
	struct chunk *chunk;
	struct part *todo;
	size_t n_todo;
	size_t cap_todo;
	struct part current;
	struct part retry;	/* records to resend after a transient error */
};

static void send_next(struct realtime_job *job);

static bool
is_idempotent(enum operation op)
{
	return op != OP_INSERT;
}

/*
 * Copy REC's data members after PREFIX, the opening of the record with its
 * attributes member naming the sObject.
 */
static void
append_record(struct buf *b, const struct record *rec, const char *prefix,
    size_t prefix_len)
{
	struct jsonscan js;
	struct json_member m;

	buf_append(b, prefix, prefix_len);
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
	char *prefix = xasprintf("{\"attributes\":{\"type\":\"%s\"}",
	    map->sobject);
	size_t i, prefix_len = strlen(prefix);
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "{\"allOrNone\":%s,\"records\":[",
	    map->all_or_none ? "true" : "false");
	for (i = 0; i < job->current.n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		append_record(&b, job->current.recs[i], prefix, prefix_len);
	}
	free(prefix);
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
			buf_puts(&b, job->current.recs[i]->key);
		}
		buf_printf(&b, "&allOrNone=%s", map->all_or_none ? "true" : "false");
		break;
	}
	return buf_steal(&b, NULL);
}

static struct record *
current_record(const struct realtime_job *job, size_t i)
{
	return job->current.recs[i];
}

/* Give every record of the current part the same error result. */
static void
fail_part(struct realtime_job *job, enum result_status status,
    json_t *errors)
{
	size_t i;

	for (i = 0; i < job->current.n; i++)
		results_errors(&job->sink->results, current_record(job, i),
		    status, errors, NULL, NULL);
}

static void
fail_part_with(struct realtime_job *job, enum result_status status,
    const char *code, const char *message)
{
	json_t *errors = json_array();

	json_array_append_new(errors, results_make_error(code, message));
	fail_part(job, status, errors);
	json_decref(errors);
}

/* Queue N records from RECS (copied) to be sent after DELAY_NS. */
static void
push_part(struct realtime_job *job, struct record **recs, size_t n,
    int64_t delay_ns)
{
	struct part *p;

	if (job->n_todo == job->cap_todo) {
		job->cap_todo = job->cap_todo ? job->cap_todo * 2 : 8;
		job->todo = xreallocarray(job->todo, job->cap_todo,
		    sizeof(*job->todo));
	}
	p = &job->todo[job->n_todo++];
	p->recs = xreallocarray(NULL, n, sizeof(*p->recs));
	memcpy(p->recs, recs, n * sizeof(*recs));
	p->n = n;
	p->delay_ns = delay_ns;
}

/*
 * Per-record errors worth a resend of that record alone: Salesforce could
 * not lock the row this time.  Records rolled back with it are resent too.
 */
static bool
is_transient(json_t *sr)
{
	json_t *errors = json_object_get(sr, "errors");
	const char *code;
	size_t i;
	json_t *err;

	json_array_foreach(errors, i, err) {
		code = json_string_value(json_object_get(err, "statusCode"));
		if (code != NULL && strcmp(code, "UNABLE_TO_LOCK_ROW") == 0)
			return true;
	}
	return false;
}

static bool
is_rolled_back(json_t *sr)
{
	json_t *err = json_array_get(json_object_get(sr, "errors"), 0);
	const char *code = json_string_value(json_object_get(err, "statusCode"));

	return code != NULL &&
	    strcmp(code, "ALL_OR_NONE_OPERATION_ROLLED_BACK") == 0;
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

/* Does the part have a transient failure that allows resending records? */
static bool
part_has_transient(const struct realtime_job *job, json_t *root)
{
	size_t i;

	if (!is_idempotent(job->chunk->map->operation))
		return false;
	for (i = 0; i < job->current.n; i++) {
		if (is_transient(json_array_get(root, i)))
			return true;
	}
	return false;
}

/* Set the records to resend aside; returns false when REC's result is due now. */
static bool
hold_for_retry(struct realtime_job *job, struct record *rec, json_t *sr,
    bool transient_seen)
{
	const struct config *cfg = job->sink->cfg;

	if (!transient_seen || json_is_true(json_object_get(sr, "success")))
		return false;
	if (!is_transient(sr) && !is_rolled_back(sr))
		return false;
	if (rec->retries >= (unsigned int)cfg->http.backoff.max_retries)
		return false;

	rec->retries++;
	job->retry.recs = xreallocarray(job->retry.recs, job->retry.n + 1,
	    sizeof(*job->retry.recs));
	job->retry.recs[job->retry.n++] = rec;
	return true;
}

/* Queue the records set aside, after the back-off for their attempt. */
static void
queue_retries(struct realtime_job *job)
{
	const struct config *cfg = job->sink->cfg;
	int64_t delay = cfg->http.backoff.initial_interval_ns;
	unsigned int n = job->retry.recs[0]->retries;

	while (--n > 0 && delay < cfg->http.backoff.max_interval_ns)
		delay *= 2;
	if (delay > cfg->http.backoff.max_interval_ns)
		delay = cfg->http.backoff.max_interval_ns;

	log_info(job->sink->lg, "resending %zu records of topic \"%s\" after "
	    "UNABLE_TO_LOCK_ROW in %.1fs", job->retry.n, job->chunk->map->topic,
	    (double)delay / 1e9);
	push_part(job, job->retry.recs, job->retry.n, delay);
	free(job->retry.recs);
	job->retry.recs = NULL;
	job->retry.n = 0;
}

/*
 * A resent request failed for REC, but an earlier attempt may have written
 * it: the outcome is unknown.  ERRORS (borrowed) are the errors of the resend's response.
 */
static void
give_unknown(struct realtime_job *job, struct record *rec, json_t *errors)
{
	json_t *err = json_array_get(errors, 0);
	const char *code = json_string_value(json_object_get(err, "statusCode"));
	const char *message = json_string_value(json_object_get(err, "message"));

	results_error(&job->sink->results, rec, RESULT_UNKNOWN,
	    "CONNECTION_LOST", "an earlier attempt may have been applied, as "
	    "its response was lost or a server error; the resend got %s: %s",
	    code ? code : "an error", message ? message : "");
}

/* A successful save result as read from the text: Ids have 18 characters. */
struct saved {
	char id[32];
	int created;		/* 1, 0, or -1 when absent */
};

static bool
literal_is(const struct json_member *m, const char *word)
{
	return m->value_len == strlen(word) &&
	    memcmp(m->value, word, m->value_len) == 0;
}

/* Read one save result; false unless it has "success": true and an Id. */
static bool
read_saved(const char *text, size_t len, struct saved *out)
{
	struct jsonscan js;
	struct json_member m;
	bool success = false;

	out->id[0] = '\0';
	out->created = -1;
	if (jsonscan_init(&js, text, len) == -1)
		return false;
	while (jsonscan_next(&js, &m) == 1) {
		if (json_member_is(&m, "success", false))
			success = literal_is(&m, "true");
		else if (json_member_is(&m, "created", false))
			out->created = literal_is(&m, "true") ? 1 :
			    literal_is(&m, "false") ? 0 : -1;
		else if (json_member_is(&m, "id", false)) {
			if (m.value[0] != '"' || m.value_len - 2 >= sizeof(out->id) ||
			    memchr(m.value, '\\', m.value_len) != NULL)
				return false;
			memcpy(out->id, m.value + 1, m.value_len - 2);
			out->id[m.value_len - 2] = '\0';
		}
	}
	return success && out->id[0] != '\0';
}

/*
 * The common response: one save result per record, each a success.  The
 * Ids are read straight from the text, which jsoncheck has found valid,
 * without building a jansson tree.  Returns false, having written no
 * result, for any other response; take_results() then reads it with
 * jansson.
 */
static bool
take_all_saved(struct realtime_job *job, const struct http_request *req)
{
	bool upsert = job->chunk->map->operation == OP_UPSERT;
	size_t i = 0, n = job->current.n, len;
	struct saved *saved;
	struct jsonscan js;
	const char *value;
	int rc;

	if (req->response.data == NULL ||
	    !jsoncheck_array(req->response.data, req->response.len))
		return false;
	saved = xreallocarray(NULL, n, sizeof(*saved));
	jsonscan_array_init(&js, req->response.data, req->response.len);
	while ((rc = jsonscan_array_next(&js, &value, &len)) == 1) {
		if (i == n || !read_saved(value, len, &saved[i]))
			break;
		i++;
	}
	if (rc != 0 || i != n) {
		free(saved);
		return false;
	}

	for (i = 0; i < n; i++)
		results_ok(&job->sink->results, current_record(job, i),
		    saved[i].id, upsert ? saved[i].created : -1, NULL);
	free(saved);
	return true;
}

static void
take_results(struct realtime_job *job, const struct http_request *req,
    bool maybe_applied)
{
	json_t *root = NULL;
	bool transient;
	size_t i;

	if (take_all_saved(job, req))
		return;
	if (req->response.data != NULL)
		root = json_loadb(req->response.data, req->response.len, 0, NULL);
	if (!json_is_array(root) || json_array_size(root) != job->current.n) {
		/* Salesforce processed the request, but the outcome is unreadable. */
		fail_part_with(job, RESULT_UNKNOWN, "INVALID_RESPONSE",
		    "HTTP 200 without one result per record; the records may "
		    "or may not have been written");
		json_decref(root);
		return;
	}

	transient = part_has_transient(job, root);
	for (i = 0; i < job->current.n; i++) {
		struct record *rec = current_record(job, i);
		json_t *sr = json_array_get(root, i);

		if (maybe_applied &&
		    !json_is_true(json_object_get(sr, "success")))
			give_unknown(job, rec, json_object_get(sr, "errors"));
		else if (maybe_applied || !hold_for_retry(job, rec, sr,
		    transient))
			take_save_result(job, rec, sr);
	}
	if (job->retry.n > 0)
		queue_retries(job);
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

/* 400: nothing was written; bisect to find the record at fault. */
static void
handle_bad_request(struct realtime_job *job, const struct http_request *req)
{
	struct part *cur = &job->current;
	size_t half = cur->n / 2;
	json_t *errors;

	if (cur->n > 1 && !job->chunk->map->all_or_none) {
		log_debug(job->sink->lg, "HTTP 400 for %zu records of topic "
		    "\"%s\"; splitting the request", cur->n,
		    job->chunk->map->topic);
		push_part(job, cur->recs + half, cur->n - half, 0);
		push_part(job, cur->recs, half, 0);
		return;
	}
	errors = request_errors(req);
	fail_part(job, RESULT_FAILED, errors);
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
	fail_part(job, status, errors);
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
		fail_part_with(job, RESULT_UNKNOWN, "CONNECTION_LOST", message);
	} else {
		snprintf(message, sizeof(message), "%s; nothing was sent",
		    http_request_error(req));
		fail_part_with(job, RESULT_NOT_PROCESSED, "CONNECTION_FAILED",
		    message);
	}
}

/* A resend ended without results, but an earlier attempt may have applied. */
static void
handle_maybe_applied(struct realtime_job *job, const struct api_call *call)
{
	const struct http_request *req = call->req;
	char how[256], message[512];

	if (call->outcome == API_STOPPED)
		snprintf(how, sizeof(how), "the run stopping");
	else if (req->result != CURLE_OK)
		snprintf(how, sizeof(how), "%s", http_request_error(req));
	else
		snprintf(how, sizeof(how), "HTTP %ld", req->status);
	snprintf(message, sizeof(message), "an earlier attempt may have been "
	    "applied, as its response was lost or a server error; the last "
	    "attempt ended with %s", how);
	fail_part_with(job, RESULT_UNKNOWN, "CONNECTION_LOST", message);
}

static void
on_done(struct api_call *call, void *arg)
{
	struct realtime_job *job = arg;
	const struct http_request *req = call->req;

	if (call->maybe_applied && (call->outcome != API_RESPONSE ||
	    req->status != 200)) {
		handle_maybe_applied(job, call);
		goto next;
	}

	switch (call->outcome) {
	case API_STOPPED:
		fail_part_with(job, RESULT_NOT_PROCESSED, "RUN_STOPPED",
		    api_stop_reason(job->sink->api));
		break;
	case API_TRANSPORT:
		handle_transport(job, req);
		break;
	case API_RESPONSE:
		if (req->status == 200)
			take_results(job, req, call->maybe_applied);
		else if (req->status == 400)
			handle_bad_request(job, req);
		else
			handle_error_status(job, req);
		break;
	}
next:
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

	free(job->current.recs);
	job->current.recs = NULL;
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
	if (job->current.delay_ns > 0)
		api_send_later(job->sink->api, call, job->current.delay_ns);
	else
		api_send(job->sink->api, call);
}

void
realtime_build(struct sink *s, struct chunk *chunk, size_t first, size_t n,
    const char **method, char **path, char **body, size_t *body_len)
{
	struct realtime_job job;

	memset(&job, 0, sizeof(job));
	job.sink = s;
	job.chunk = chunk;
	job.current.recs = chunk->recs + first;
	job.current.n = n;

	*path = build_path(&job, method);
	*body = NULL;
	*body_len = 0;
	if (chunk->map->operation != OP_DELETE &&
	    chunk->map->operation != OP_HARD_DELETE)
		*body = build_body(&job, body_len);
}

void
realtime_send(struct sink *s, struct chunk *chunk)
{
	struct realtime_job *job = xcalloc(1, sizeof(*job));
	size_t start;

	job->sink = s;
	job->chunk = chunk;

	/*
	 * An auto-mode chunk may hold more than one request's worth: its
	 * parts go out one after the other, first records first.
	 */
	start = chunk->n - (chunk->n - 1) % COLLECTIONS_MAX_RECORDS - 1;
	for (;;) {
		size_t n = chunk->n - start < COLLECTIONS_MAX_RECORDS ?
		    chunk->n - start : COLLECTIONS_MAX_RECORDS;

		push_part(job, chunk->recs + start, n, 0);
		if (start == 0)
			break;
		start -= COLLECTIONS_MAX_RECORDS;
	}
	send_next(job);
}
