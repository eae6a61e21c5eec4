/*
 * bulk.c - writes through Bulk API 2.0 ingest jobs.
 *
 * The wire protocol is Salesforce's "Bulk API 2.0 and Bulk API Developer
 * Guide" (https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/
 * api_asynch/): "Create a Job" (POST .../jobs/ingest), "Upload Job Data"
 * (one PUT .../batches of text/csv, 201 with an empty body), "Close or
 * Abort a Job" (PATCH {"state": ...}), "Get Job Info" (states Open,
 * UploadComplete, InProgress, JobComplete, Failed, Aborted) and the three
 * result resources.
 *
 * Nothing in a job is processed before the close.  So a create or an
 * upload that fails leaves the records unwritten, even when the request
 * may have reached Salesforce.  They get not_processed after a transport
 * failure or failed after an HTTP error, and a created job is aborted.  Create and upload are
 * not resent after they may have arrived, because a second job or a
 * second upload would be left behind; the close, the abort, the polls and
 * the downloads are safe to resend.
 *
 * Shutdown.  Once the run stops (a first SIGINT or SIGTERM), a job that
 * was not closed is aborted, or never created, and its records get
 * not_processed.  A closed job is still polled, since the abort, poll and
 * download calls are essential to the api (api_drain), for up to
 * --shutdown-wait after the signal.  A job still running then, or after
 * --bulk-wait since its close, is left to Salesforce: its records get a
 * result that names the job, and its journal entry (--journal) stays open
 * so that sfsink --resume can write their final results later.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bulk.h"
#include "bulkmatch.h"
#include "csv.h"
#include "duration.h"
#include "journal.h"
#include "xalloc.h"

/* A record of a chunk that can be sent, with its CSV cells. */
struct bulk_item {
	struct record *rec;
	struct csv_row row;
};

/* A chunk on its way: its jobs run one after the other. */
struct bulk_chunk {
	struct sink *sink;
	struct chunk *chunk;
	struct bulk_item *items;
	size_t n_items;
	size_t *starts;			/* first item of each job */
	struct csv_columns *columns;	/* header of each job */
	size_t n_jobs;
	size_t next_job;
};

/* One ingest job and what is known about it. */
struct bulk_job {
	struct bulk_chunk *bc;
	struct bulk_item *items;
	size_t n_items;
	struct csv_columns columns;
	const char *line_ending;	/* "LF" or "CRLF" */
	char *id;			/* Salesforce's job id, NULL before create */
	char *path;			/* "/services/data/vXX.X/jobs/ingest" */
	int64_t closed_ns;
	bool close_uncertain;		/* a lost close response, then an error */
	struct bulk_job *active_next;	/* the sink's list of jobs under way */
	struct api_call *pending_poll;	/* the next poll, until it ends */
	bool closing;			/* the close was sent */
	bool closed;			/* Salesforce accepted the close */
	bool journaled;			/* its entry is in the journal */
	bool resumed;			/* taken from the journal by --resume */
	bool owed;			/* results still to collect: keep the entry open */

	/* The final JobInfo. */
	char *state;
	long long processed;
	long long failed;
	char *error_message;

	/* Results of a job that ended early (abort), written after the abort. */
	enum result_status early_status;
	json_t *early_errors;

	/* Downloads. */
	int downloads;			/* still running */
	struct bulk_row *rows;
	size_t n_rows;
	size_t cap_rows;
	bool *echoed;			/* per column: echoed by every file with rows */
	bool any_file;
	char *download_error;		/* first download that failed */
};

static void start_next_job(struct bulk_chunk *bc);

static const struct config *
job_cfg(const struct bulk_job *job)
{
	return job->bc->sink->cfg;
}

static const struct mapping *
job_map(const struct bulk_job *job)
{
	return job->bc->chunk->map;
}

/* The upload limit: BULK_MAX_UPLOAD_BYTES, or a lower one from the test variable. */
static size_t
max_upload(const struct logger *lg)
{
	const char *s = getenv(BULK_MAX_UPLOAD_ENV);
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0')
		return BULK_MAX_UPLOAD_BYTES;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > BULK_MAX_UPLOAD_BYTES) {
		log_warn(lg, "%s=\"%s\" is not a number of bytes from 1 to %lu; "
		    "using %lu", BULK_MAX_UPLOAD_ENV, s, BULK_MAX_UPLOAD_BYTES,
		    BULK_MAX_UPLOAD_BYTES);
		return BULK_MAX_UPLOAD_BYTES;
	}
	return (size_t)v;
}

static void
reject(struct sink *s, struct record *rec, const char *code, const char *msg)
{
	results_error(&s->results, rec, RESULT_REJECTED, code, "%s", msg);
	log_info(s->lg, "%s:%ld: rejected: %s", rec->source, rec->line, msg);
}

/* Build the CSV cells of REC; on failure REC gets its rejected result. */
static int
build_row(struct sink *s, struct record *rec, struct csv_row *row)
{
	enum operation op = rec->map->operation;
	char msg[512];

	if (op == OP_DELETE || op == OP_HARD_DELETE) {
		/* A delete job's CSV contains only Id ("Prepare CSV Files"). */
		csv_row_single(row, "Id", rec->key);
		return 0;
	}
	if (csv_row_from_json(row, rec->data, rec->data_len, msg,
	    sizeof(msg)) == -1) {
		reject(s, rec, "INVALID_FOR_CSV", msg);
		return -1;
	}
	if (csv_row_is_empty(row)) {
		/* Bulk API skips blank lines, so the record would get no result. */
		reject(s, rec, "NO_FIELDS", "data has no field with a value; "
		    "a bulk job cannot write an empty row");
		csv_row_free(row);
		return -1;
	}
	return 0;
}

/* Bytes of a job's CSV with N_ROWS rows of CELL_BYTES in all, with CRLF rows. */
static size_t
csv_size(const struct csv_columns *c, size_t added, size_t header_growth,
    size_t n_rows, size_t cell_bytes)
{
	size_t columns = c->n + added;

	return c->header_bytes + header_growth + 2 +
	    cell_bytes + n_rows * (columns - 1 + 2);
}

/* Start a new job at item FIRST. */
static void
open_job(struct bulk_chunk *bc, size_t first)
{
	bc->starts = xreallocarray(bc->starts, bc->n_jobs + 1,
	    sizeof(*bc->starts));
	bc->columns = xreallocarray(bc->columns, bc->n_jobs + 1,
	    sizeof(*bc->columns));
	bc->starts[bc->n_jobs] = first;
	csv_columns_init(&bc->columns[bc->n_jobs]);
	bc->n_jobs++;
}

/* Reject REC when its row alone passes LIMIT; returns -1 then. */
static int
check_alone(struct sink *s, struct record *rec, struct csv_row *row,
    size_t limit)
{
	struct csv_columns none;
	size_t added, growth;
	char msg[160];

	csv_columns_init(&none);
	added = csv_columns_growth(&none, row, &growth);
	if (csv_size(&none, added, growth, 1, row->bytes) <= limit)
		return 0;
	snprintf(msg, sizeof(msg), "record is larger as CSV than the %zu-byte "
	    "limit of one bulk job upload", limit);
	reject(s, rec, "RECORD_TOO_LARGE", msg);
	csv_row_free(row);
	return -1;
}

/*
 * Turn the chunk's records into items and cut them into jobs whose CSV
 * stays within LIMIT bytes.  Records that cannot be sent get their
 * rejected result here, before any job is created.
 */
static void
plan_jobs(struct bulk_chunk *bc, size_t limit)
{
	struct chunk *chunk = bc->chunk;
	struct csv_columns *cur = NULL;
	size_t i, rows = 0, cells = 0, added, growth;
	struct csv_row row;

	bc->items = xcalloc(chunk->n ? chunk->n : 1, sizeof(*bc->items));
	for (i = 0; i < chunk->n; i++) {
		struct record *rec = chunk->recs[i];

		if (build_row(bc->sink, rec, &row) == -1 ||
		    check_alone(bc->sink, rec, &row, limit) == -1)
			continue;
		if (cur != NULL) {
			added = csv_columns_growth(cur, &row, &growth);
			if (csv_size(cur, added, growth, rows + 1,
			    cells + row.bytes) > limit)
				cur = NULL;
		}
		if (cur == NULL) {
			open_job(bc, bc->n_items);
			cur = &bc->columns[bc->n_jobs - 1];
			rows = cells = 0;
		}
		csv_columns_add_row(cur, &row);
		bc->items[bc->n_items].rec = rec;
		bc->items[bc->n_items].row = row;
		bc->n_items++;
		rows++;
		cells += row.bytes;
	}
}

static void
finish_chunk(struct bulk_chunk *bc)
{
	size_t i;

	for (i = 0; i < bc->n_items; i++)
		csv_row_free(&bc->items[i].row);
	for (i = bc->next_job; i < bc->n_jobs; i++)
		csv_columns_free(&bc->columns[i]);
	results_flush(&bc->sink->results);
	sink_chunk_done(bc->sink, bc->chunk);
	free(bc->items);
	free(bc->starts);
	free(bc->columns);
	free(bc);
}

void
bulk_send(struct sink *s, struct chunk *chunk)
{
	struct bulk_chunk *bc = xcalloc(1, sizeof(*bc));

	bc->sink = s;
	bc->chunk = chunk;
	plan_jobs(bc, max_upload(s->lg));
	if (bc->n_jobs > 1)
		log_info(s->lg, "topic \"%s\": %zu records make %zu bulk jobs, "
		    "run one after the other to keep each upload within the "
		    "limit", chunk->map->topic, bc->n_items, bc->n_jobs);
	start_next_job(bc);
}

/*
 * Choose the job's lineEnding.  Bulk API 2.0 fails a job whose line breaks
 * do not match its lineEnding ("ClientInputError : LineEnding is invalid
 * on user data. Current LineEnding setting is LF"), and users report that
 * error for files whose quoted values contain line breaks of the other kind.
 * An LF inside a quoted value of an LF job is fine: Salesforce's "Sample
 * CSV Files" page shows one (https://developer.salesforce.com/docs/
 * atlas.en-us.api_asynch.meta/api_asynch/datafiles_csv_samples.htm).  So a job is CRLF only when its values contain
 * CR LF and no bare LF; then every line break in the file is the same
 * sequence.  Values with both kinds cannot be made consistent, and such a
 * job keeps LF, the default.
 */
static const char *
choose_line_ending(const struct bulk_job *job)
{
	bool crlf = false, lf = false;
	size_t i;

	for (i = 0; i < job->n_items; i++) {
		crlf |= job->items[i].row.has_crlf;
		lf |= job->items[i].row.has_bare_lf;
	}
	if (crlf && lf)
		log_warn(job->bc->sink->lg, "topic \"%s\": values contain both LF "
		    "and CR LF line breaks; the job uses LF, and Salesforce may "
		    "fail it with \"LineEnding is invalid\"", job_map(job)->topic);
	return crlf && !lf ? "CRLF" : "LF";
}

static char *
build_csv(const struct bulk_job *job, size_t *len)
{
	const char *eol = strcmp(job->line_ending, "CRLF") == 0 ? "\r\n" : "\n";
	const struct csv_cell **slots;
	struct buf b;
	size_t i;

	slots = xcalloc(job->columns.n ? job->columns.n : 1, sizeof(*slots));
	buf_init(&b, 0);
	csv_write_header(&b, &job->columns, eol);
	for (i = 0; i < job->n_items; i++)
		csv_write_row(&b, &job->items[i].row, job->columns.n, slots, eol);
	free(slots);
	return buf_steal(&b, len);
}

static void
send_call(struct bulk_job *job, struct api_call *call, int64_t delay_ns)
{
	if (delay_ns > 0)
		api_send_later(job->bc->sink->api, call, delay_ns);
	else
		api_send(job->bc->sink->api, call);
}

/* Write the result of every record of JOB that has none yet: all of them. */
static void
give_all(struct bulk_job *job, enum result_status status, json_t *errors)
{
	size_t i;

	for (i = 0; i < job->n_items; i++)
		results_errors(&job->bc->sink->results, job->items[i].rec, status,
		    errors, NULL, job->id);
}

/* A new errors array of one error. */
static json_t *
error_list(const char *code, const char *message)
{
	json_t *errors = json_array();

	json_array_append_new(errors, results_make_error(code, message));
	return errors;
}

static void
give_all_error(struct bulk_job *job, enum result_status status,
    const char *code, const char *message)
{
	json_t *errors = error_list(code, message);

	give_all(job, status, errors);
	json_decref(errors);
}

/* Add JOB to the sink's list of jobs under way. */
static void
track_job(struct bulk_job *job)
{
	struct sink *s = job->bc->sink;

	job->active_next = s->bulk_active;
	s->bulk_active = job;
}

static void
untrack_job(struct bulk_job *job)
{
	struct bulk_job **pp = &job->bc->sink->bulk_active;

	while (*pp != NULL && *pp != job)
		pp = &(*pp)->active_next;
	if (*pp != NULL)
		*pp = job->active_next;
}

static void
free_job(struct bulk_job *job)
{
	size_t i;

	untrack_job(job);
	for (i = 0; i < job->n_rows; i++)
		bulk_row_free(&job->rows[i], job->columns.n);
	free(job->rows);
	free(job->echoed);
	free(job->download_error);
	csv_columns_free(&job->columns);
	json_decref(job->early_errors);
	free(job->id);
	free(job->path);
	free(job->state);
	free(job->error_message);
	free(job);
}

/*
 * The job has every result written: mark its journal entry done unless
 * results are still owed, and go on with the chunk's next job.
 */
static void
end_job(struct bulk_job *job)
{
	struct bulk_chunk *bc = job->bc;
	struct journal *journal = bc->sink->opts.journal;

	results_flush(&bc->sink->results);
	if (job->journaled && !job->owed && journal_mark_done(journal, job->id,
	    job->state ? job->state : "Open") == -1)
		sink_stop(bc->sink, EXIT_FATAL);
	free_job(job);
	start_next_job(bc);
}

/*
 * The errors of STEP ("creating the job", ...) when Salesforce rejected it
 * with an error status: one per element of its [{"errorCode", "message"}]
 * body, or else the HTTP status and the body as text.
 */
static json_t *
http_errors(const struct http_request *req, const char *step)
{
	json_t *root = NULL, *errors = json_array(), *e;
	char code[32], text[512];
	size_t i;

	if (req->response.data != NULL)
		root = json_loadb(req->response.data, req->response.len, 0, NULL);
	json_array_foreach(root, i, e) {
		const char *c = json_string_value(json_object_get(e, "errorCode"));
		const char *m = json_string_value(json_object_get(e, "message"));
		char *message;

		if (c == NULL)
			continue;
		message = xasprintf("%s failed with HTTP %ld: %s", step,
		    req->status, m ? m : "");
		json_array_append_new(errors, results_make_error(c, message));
		free(message);
	}
	json_decref(root);
	if (json_array_size(errors) > 0)
		return errors;

	snprintf(code, sizeof(code), "HTTP_%ld", req->status);
	log_mask(text, sizeof(text), req->response.data ? req->response.data :
	    "", req->response.len);
	json_array_append_new(errors, results_make_error(code, text));
	return errors;
}

/* Log an HTTP error of STEP for JOB, with Salesforce's body masked. */
static void
log_http_error(const struct bulk_job *job, const struct http_request *req,
    const char *step)
{
	char text[512];

	log_mask(text, sizeof(text), req->response.data ? req->response.data :
	    "", req->response.len);
	log_error(job->bc->sink->lg, "bulk job %s for topic \"%s\": %s failed "
	    "with HTTP %ld: %s", job->id ? job->id : "(not created)",
	    job_map(job)->topic, step, req->status, text);
}

static void on_aborted(struct api_call *call, void *arg);

/* Abort JOB; once that is done, its records get STATUS and ERRORS (taken over). */
static void
abort_job(struct bulk_job *job, enum result_status status, json_t *errors)
{
	struct api_call *call;
	char *path = xasprintf("%s/%s", job->path, job->id);
	const char *body = "{\"state\":\"Aborted\"}";

	job->early_status = status;
	job->early_errors = errors;
	call = api_call_new("PATCH", path, xstrdup(body), strlen(body),
	    "application/json", true, on_aborted, job);
	call->essential = true;
	send_call(job, call, 0);
}

static void
on_aborted(struct api_call *call, void *arg)
{
	struct bulk_job *job = arg;
	const struct http_request *req = call->req;

	if (call->outcome == API_RESPONSE && req->status == 200) {
		log_info(job->bc->sink->lg, "bulk job %s aborted", job->id);
		free(job->state);
		job->state = xstrdup("Aborted");
	} else if (call->outcome == API_RESPONSE)
		log_http_error(job, req, "aborting the job");
	else
		log_error(job->bc->sink->lg, "bulk job %s: aborting the job "
		    "failed: %s; it stays open and is never processed", job->id,
		    req ? http_request_error(req) : "the run is stopping");
	api_call_free(call);
	give_all(job, job->early_status, job->early_errors);
	end_job(job);
}

/* Write what stopped the run to DST: "interrupted by SIGTERM", or the api's reason. */
static void
stop_cause(const struct bulk_job *job, char *dst, size_t len)
{
	const struct sink *s = job->bc->sink;

	if (s->stop_signal != NULL && !api_stopped(s->api))
		snprintf(dst, len, "interrupted by %s", s->stop_signal);
	else if (api_stop_reason(s->api) != NULL)
		snprintf(dst, len, "the run stopped (%s)",
		    api_stop_reason(s->api));
	else
		snprintf(dst, len, "the run stopped after an error");
}

/*
 * The run is stopping before JOB was closed: its records get
 * not_processed, or unknown when MAY_RUN (a close was sent and may have
 * taken effect), after an abort when the job exists and calls can still
 * be sent.  A job that is never closed is never processed.
 */
static void
interrupt_job(struct bulk_job *job, bool may_run)
{
	enum result_status status = may_run ? RESULT_UNKNOWN :
	    RESULT_NOT_PROCESSED;
	json_t *errors;
	char msg[768], cause[384];

	stop_cause(job, cause, sizeof(cause));
	if (job->id == NULL)
		snprintf(msg, sizeof(msg), "%s before the record's bulk job "
		    "was created, so nothing was sent", cause);
	else if (may_run)
		snprintf(msg, sizeof(msg), "%s while job %s was being closed; "
		    "sfsink aborts the job, but it may have started, so the "
		    "record may or may not have been written", cause, job->id);
	else
		snprintf(msg, sizeof(msg), "%s before job %s was closed; sfsink "
		    "aborts the job, and an unclosed job is never processed, so "
		    "the record was not written", cause, job->id);
	log_info(job->bc->sink->lg, "bulk job %s for topic \"%s\": %s",
	    job->id ? job->id : "(not created)", job_map(job)->topic, msg);
	errors = error_list("RUN_STOPPED", msg);
	if (job->id == NULL || api_stopped(job->bc->sink->api)) {
		give_all(job, status, errors);
		json_decref(errors);
		end_job(job);
		return;
	}
	abort_job(job, status, errors);
}

/*
 * The message for a transport failure of STEP.  Nothing runs before the
 * close, so only a close that may have arrived leaves the outcome open.
 */
static void
transport_failure(struct bulk_job *job, const struct api_call *call,
    const char *step, bool may_run, enum result_status *status, char *msg,
    size_t msglen)
{
	const struct http_request *req = call->req;

	/* An earlier attempt of the close may have taken effect too. */
	if (may_run && (req->maybe_sent || call->maybe_applied)) {
		*status = RESULT_UNKNOWN;
		snprintf(msg, msglen, "%s failed: %s, after the request was "
		    "sent; job %s may or may not run", step,
		    http_request_error(req), job->id);
		return;
	}
	*status = RESULT_NOT_PROCESSED;
	snprintf(msg, msglen, "%s failed: %s; the job never ran, so nothing "
	    "was written", step, http_request_error(req));
}

static void on_created(struct api_call *call, void *arg);
static void on_uploaded(struct api_call *call, void *arg);
static void on_closed(struct api_call *call, void *arg);
static void poll_job(struct bulk_job *job, int64_t delay_ns);

static char *
create_body(const struct bulk_job *job, size_t *len)
{
	const struct mapping *map = job_map(job);
	json_t *body;
	char *text;

	body = json_pack("{s:s, s:s}", "object", map->sobject, "operation",
	    operation_name(map->operation));
	if (map->operation == OP_UPSERT)
		json_object_set_new(body, "externalIdFieldName",
		    json_string(map->external_id_field));
	json_object_set_new(body, "contentType", json_string("CSV"));
	json_object_set_new(body, "lineEnding", json_string(job->line_ending));
	json_object_set_new(body, "columnDelimiter", json_string("COMMA"));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	*len = strlen(text);
	return text;
}

/* --dry-run: write the job's CSV to a file instead of creating the job. */
static void
dry_run_job(struct bulk_job *job)
{
	struct sink *s = job->bc->sink;
	size_t len, spec_len, i;
	char *csv = build_csv(job, &len), *spec = create_body(job, &spec_len);
	char *file = sink_write_dry_run(s, job_map(job)->topic, "csv", csv, len);

	if (file != NULL)
		log_info(s->lg, "dry run: POST %s %s, then the CSV in %s "
		    "(%zu records)", job->path, spec, file, job->n_items);
	for (i = 0; i < job->n_items; i++)
		results_error(&s->results, job->items[i].rec,
		    RESULT_NOT_PROCESSED, "DRY_RUN", "dry run: nothing was "
		    "sent; the job's CSV is in %s", file ? file : "no file");
	free(csv);
	free(spec);
	free(file);
	end_job(job);
}

static void
create_job(struct bulk_job *job)
{
	struct api_call *call;
	size_t len;
	char *body = create_body(job, &len);

	call = api_call_new("POST", xstrdup(job->path), body, len,
	    "application/json", false, on_created, job);
	send_call(job, call, 0);
}

/*
 * Whether an earlier attempt of CALL, now ended by a stop before it was
 * resent, may have taken effect.  It may when it was sent and no response
 * came, or when the response was a server error that Salesforce can also
 * return after doing the work.
 */
static bool
attempt_may_have_applied(const struct api_call *call)
{
	const struct http_request *req = call->req;

	if (call->maybe_applied)
		return true;
	if (req == NULL)
		return false;
	if (req->result != CURLE_OK)
		return req->maybe_sent;
	return req->status == 500 || req->status == 502 || req->status == 504;
}

/*
 * Handle an outcome other than success of STEP: the records get their
 * results, after an abort when the job exists and has not been closed.
 * MAY_RUN is set once the close was sent.
 */
static void
step_failed(struct bulk_job *job, struct api_call *call, const char *step,
    bool may_run)
{
	const struct http_request *req = call->req;
	enum result_status status = RESULT_FAILED;
	json_t *errors;
	char msg[768];

	if (call->outcome == API_STOPPED && !api_stopped(job->bc->sink->api)) {
		interrupt_job(job, may_run && attempt_may_have_applied(call));
		return;
	}
	if (call->outcome == API_STOPPED) {
		status = may_run ? RESULT_UNKNOWN : RESULT_NOT_PROCESSED;
		snprintf(msg, sizeof(msg), "%s was not sent because the run "
		    "stopped (%s)%s", step, api_stop_reason(job->bc->sink->api),
		    may_run ? "; the job may or may not run" : "");
		give_all_error(job, status, "RUN_STOPPED", msg);
		end_job(job);
		return;
	}
	if (call->outcome == API_TRANSPORT) {
		transport_failure(job, call, step, may_run, &status, msg,
		    sizeof(msg));
		log_error(job->bc->sink->lg, "bulk job %s for topic \"%s\": %s",
		    job->id ? job->id : "(not created)", job_map(job)->topic, msg);
		errors = error_list(status == RESULT_UNKNOWN ? "CONNECTION_LOST" :
		    "CONNECTION_FAILED", msg);
	} else {
		log_http_error(job, req, step);
		/* A server error on the close may hide a close that took effect. */
		if (may_run && req->status >= 500)
			status = RESULT_UNKNOWN;
		errors = http_errors(req, step);
	}
	if (job->id == NULL) {
		give_all(job, status, errors);
		json_decref(errors);
		end_job(job);
		return;
	}
	abort_job(job, status, errors);
}

static void
on_created(struct api_call *call, void *arg)
{
	struct bulk_job *job = arg;
	const struct http_request *req = call->req;
	json_t *info = NULL;
	const char *id = NULL;
	struct api_call *put;
	size_t len;
	char *csv;

	if (call->outcome == API_RESPONSE && req->status == 200) {
		info = json_loadb(req->response.data, req->response.len, 0, NULL);
		id = json_string_value(json_object_get(info, "id"));
	}
	if (id == NULL) {
		step_failed(job, call, "creating the job", false);
		json_decref(info);
		api_call_free(call);
		return;
	}
	job->id = xstrdup(id);
	json_decref(info);
	api_call_free(call);
	if (job->bc->sink->stopping) {
		interrupt_job(job, false);
		return;
	}
	log_info(job->bc->sink->lg, "bulk job %s created for topic \"%s\": "
	    "%zu records, %s %s, lineEnding %s", job->id, job_map(job)->topic,
	    job->n_items, operation_name(job_map(job)->operation),
	    job_map(job)->sobject, job->line_ending);

	csv = build_csv(job, &len);
	put = api_call_new("PUT", xasprintf("%s/%s/batches", job->path, job->id),
	    csv, len, "text/csv", false, on_uploaded, job);
	send_call(job, put, 0);
}

/*
 * With --journal, append JOB's entry before the close, so that a closed
 * job always has one.  Returns -1 after stopping the run when it cannot
 * be written.
 */
static int
write_journal_entry(struct bulk_job *job)
{
	struct sink *s = job->bc->sink;
	struct journal *journal = s->opts.journal;
	size_t i;

	if (journal == NULL)
		return 0;
	journal_begin_job(journal, job->id, job_cfg(job)->api_version,
	    job_map(job), job->n_items);
	for (i = 0; i < job->n_items; i++)
		journal_add_record(journal, job->id, job->items[i].rec);
	if (journal_commit(journal) == -1) {
		sink_stop(s, EXIT_FATAL);
		return -1;
	}
	job->journaled = true;
	return 0;
}

static void
on_uploaded(struct api_call *call, void *arg)
{
	struct bulk_job *job = arg;
	const char *body = "{\"state\":\"UploadComplete\"}";
	struct api_call *patch;

	if (call->outcome != API_RESPONSE || call->req->status != 201) {
		step_failed(job, call, "uploading the job data", false);
		api_call_free(call);
		return;
	}
	api_call_free(call);
	if (job->bc->sink->stopping || write_journal_entry(job) == -1) {
		interrupt_job(job, false);
		return;
	}
	job->closing = true;
	patch = api_call_new("PATCH", xasprintf("%s/%s", job->path, job->id),
	    xstrdup(body), strlen(body), "application/json", true, on_closed,
	    job);
	send_call(job, patch, 0);
}

static void
on_closed(struct api_call *call, void *arg)
{
	struct bulk_job *job = arg;

	if (call->outcome == API_RESPONSE && call->req->status != 200 &&
	    call->maybe_applied) {
		/*
		 * An earlier close may have taken effect before its connection
		 * failed, and the resend was rejected for that very reason, so
		 * the job's state decides.
		 */
		log_info(job->bc->sink->lg, "bulk job %s: closing it again got "
		    "HTTP %ld after a lost response; reading its state",
		    job->id, call->req->status);
		job->close_uncertain = true;
	} else if (call->outcome != API_RESPONSE || call->req->status != 200) {
		step_failed(job, call, "closing the job", true);
		api_call_free(call);
		return;
	}
	api_call_free(call);
	job->closed = true;
	job->closed_ns = clock_now_ns();
	log_debug(job->bc->sink->lg, "bulk job %s closed; polling every %.3fs",
	    job->id, (double)job_cfg(job)->bulk_poll_interval_ns / 1e9);
	poll_job(job, job_cfg(job)->bulk_poll_interval_ns);
}

static void on_polled(struct api_call *call, void *arg);
static void start_downloads(struct bulk_job *job);

static void
poll_job(struct bulk_job *job, int64_t delay_ns)
{
	struct api_call *call;

	call = api_call_new("GET", xasprintf("%s/%s", job->path, job->id),
	    NULL, 0, NULL, true, on_polled, job);
	call->essential = true;
	job->pending_poll = call;
	send_call(job, call, delay_ns);
}

static bool
is_terminal(const char *state)
{
	return strcmp(state, "JobComplete") == 0 ||
	    strcmp(state, "Failed") == 0 || strcmp(state, "Aborted") == 0;
}

/* Keep the final JobInfo's state, counts and errorMessage. */
static void
take_job_info(struct bulk_job *job, json_t *info)
{
	const char *msg;

	job->processed = json_integer_value(json_object_get(info,
	    "numberRecordsProcessed"));
	job->failed = json_integer_value(json_object_get(info,
	    "numberRecordsFailed"));
	msg = json_string_value(json_object_get(info, "errorMessage"));
	if (msg != NULL)
		job->error_message = xstrdup(msg);
}

/* Describe why CALL did not succeed, for a message. */
static void
describe_outcome(const struct bulk_job *job, const struct api_call *call,
    char *dst, size_t len)
{
	const struct http_request *req = call->req;
	char text[256];

	if (call->outcome == API_STOPPED) {
		snprintf(dst, len, "the run stopped (%s)",
		    api_stop_reason(job->bc->sink->api));
	} else if (call->outcome == API_TRANSPORT) {
		snprintf(dst, len, "%s", http_request_error(req));
	} else {
		log_mask(text, sizeof(text), req->response.data ?
		    req->response.data : "", req->response.len);
		snprintf(dst, len, "HTTP %ld: %s", req->status, text);
	}
}

/*
 * How the user can collect JOB's results later, for messages: with
 * --resume from the journal, or only in Salesforce without one.
 */
static void
collect_hint(const struct bulk_job *job, char *dst, size_t len)
{
	const struct sink *s = job->bc->sink;

	if (job->journaled)
		snprintf(dst, len, "collect its results later with sfsink -c %s "
		    "--resume %s", s->cfg->path, s->opts.journal->path);
	else
		snprintf(dst, len, "without --journal sfsink cannot collect "
		    "them later, so look the job up in Salesforce");
}

/*
 * The job ran, but its state cannot be read: every outcome is unknown.
 * The results stay owed unless the job no longer exists (404: Salesforce
 * deletes jobs 7 days after they end).
 */
static void
poll_failed(struct bulk_job *job, struct api_call *call)
{
	char msg[1536], why[384], hint[640];
	bool gone = call->outcome == API_RESPONSE && call->req->status == 404;

	describe_outcome(job, call, why, sizeof(why));
	collect_hint(job, hint, sizeof(hint));
	job->owed = !gone;
	if (gone)
		snprintf(msg, sizeof(msg), "reading the state of job %s failed: "
		    "%s; the job no longer exists in Salesforce, so its results "
		    "cannot be read", job->id, why);
	else
		snprintf(msg, sizeof(msg), "reading the state of job %s failed: "
		    "%s; the job was closed and may have run; %s", job->id, why,
		    hint);
	log_error(job->bc->sink->lg, "bulk job %s for topic \"%s\": %s",
	    job->id, job_map(job)->topic, msg);
	give_all_error(job, RESULT_UNKNOWN, call->outcome == API_STOPPED ?
	    "RUN_STOPPED" : "JOB_STATE_UNKNOWN", msg);
	end_job(job);
}

static int64_t
add_ns(int64_t t, int64_t d)
{
	return t > INT64_MAX - d ? INT64_MAX : t + d;
}

/*
 * When polling JOB gives up: --bulk-wait after its close, or sooner
 * --shutdown-wait after the signal that stopped the run.
 */
static int64_t
poll_deadline(const struct bulk_job *job, bool *by_signal)
{
	const struct sink *s = job->bc->sink;
	int64_t limit = add_ns(job->closed_ns, s->opts.bulk_wait_ns);
	int64_t shutdown;

	*by_signal = false;
	if (s->signal_ns == 0)
		return limit;
	shutdown = add_ns(s->signal_ns, s->opts.shutdown_wait_ns);
	if (shutdown < limit) {
		*by_signal = true;
		return shutdown;
	}
	return limit;
}

/*
 * Stop waiting for JOB, which Salesforce still runs in STATE: its records
 * get not_processed after a signal, unknown at --bulk-wait, and the job's
 * results stay owed.
 */
static void
give_up_waiting(struct bulk_job *job, const char *state, bool by_signal)
{
	const struct sink *s = job->bc->sink;
	char msg[1536], hint[640], wait[32];

	collect_hint(job, hint, sizeof(hint));
	job->owed = true;
	if (by_signal) {
		duration_format(s->opts.shutdown_wait_ns, wait, sizeof(wait));
		snprintf(msg, sizeof(msg), "interrupted by %s: job %s was still "
		    "%s in Salesforce after the %s shutdown wait "
		    "(--shutdown-wait) and goes on running there; %s",
		    s->stop_signal, job->id, state, wait, hint);
	} else {
		duration_format(s->opts.bulk_wait_ns, wait, sizeof(wait));
		snprintf(msg, sizeof(msg), "job %s still %s after %s "
		    "(--bulk-wait); it may still run, so the record may or may "
		    "not be written; %s", job->id, state, wait, hint);
	}
	log_warn(s->lg, "bulk job %s for topic \"%s\": %s", job->id,
	    job_map(job)->topic, msg);
	give_all_error(job, by_signal ? RESULT_NOT_PROCESSED : RESULT_UNKNOWN,
	    by_signal ? "JOB_STILL_RUNNING" : "JOB_TIMEOUT", msg);
	end_job(job);
}

/*
 * Poll JOB, which is in the unfinished STATE, again after
 * bulk_poll_interval, or at its deadline if that comes first; give up at
 * the deadline.  A job still Open was never closed: only --resume meets
 * one (the run that created it ended between its journal entry and its
 * close), and it is aborted.
 */
static void
poll_again(struct bulk_job *job, const char *state)
{
	int64_t now = clock_now_ns(), deadline, delay;
	char msg[512];
	bool by_signal;

	if (job->resumed && strcmp(state, "Open") == 0) {
		snprintf(msg, sizeof(msg), "job %s was never closed (the run "
		    "that created it ended first), so none of its records were "
		    "written; sfsink aborts it", job->id);
		log_warn(job->bc->sink->lg, "%s", msg);
		abort_job(job, RESULT_NOT_PROCESSED, error_list("JOB_NOT_CLOSED",
		    msg));
		return;
	}
	deadline = poll_deadline(job, &by_signal);
	if (now >= deadline) {
		give_up_waiting(job, state, by_signal);
		return;
	}
	delay = job_cfg(job)->bulk_poll_interval_ns;
	if (deadline - now < delay)
		delay = deadline - now;
	poll_job(job, delay);
}

static void
on_polled(struct api_call *call, void *arg)
{
	struct bulk_job *job = arg;
	const struct http_request *req = call->req;
	json_t *info = NULL;
	const char *state = NULL;
	char text[512];

	job->pending_poll = NULL;
	if (call->outcome == API_RESPONSE && req->status == 200) {
		info = json_loadb(req->response.data, req->response.len, 0, NULL);
		state = json_string_value(json_object_get(info, "state"));
	}
	if (state == NULL) {
		poll_failed(job, call);
		json_decref(info);
		api_call_free(call);
		return;
	}
	api_call_free(call);
	log_debug(job->bc->sink->lg, "bulk job %s: %s", job->id, state);
	if (job->close_uncertain && strcmp(state, "Open") == 0) {
		/* The close never took effect: nothing was processed. */
		abort_job(job, RESULT_FAILED, error_list("JOB_NOT_CLOSED",
		    "closing the job failed and Salesforce still shows it Open; "
		    "it was aborted"));
		json_decref(info);
		return;
	}
	if (!is_terminal(state)) {
		poll_again(job, state);
		json_decref(info);
		return;
	}
	job->state = xstrdup(state);
	take_job_info(job, info);
	json_decref(info);
	log_mask(text, sizeof(text), job->error_message ? job->error_message :
	    "", job->error_message ? strlen(job->error_message) : 0);
	log_info(job->bc->sink->lg, "bulk job %s %s after %.1fs: %lld "
	    "processed, %lld failed%s%s", job->id, job->state,
	    (double)(clock_now_ns() - job->closed_ns) / 1e9, job->processed,
	    job->failed, text[0] ? ": " : "", text);
	start_downloads(job);
}

static const char *const file_resources[] = {
	[BULK_SUCCESSFUL] = "successfulResults",
	[BULK_FAILED] = "failedResults",
	[BULK_UNPROCESSED] = "unprocessedrecords",
};

/* Header cells of a result file that are not echoed columns. */
enum {
	HEAD_IGNORE = -1,
	HEAD_ID = -2,
	HEAD_CREATED = -3,
	HEAD_ERROR = -4,
};

static long
header_role(const struct bulk_job *job, const char *name, size_t len)
{
	size_t c;

	if (strcmp(name, "sf__Id") == 0)
		return HEAD_ID;
	if (strcmp(name, "sf__Created") == 0)
		return HEAD_CREATED;
	if (strcmp(name, "sf__Error") == 0)
		return HEAD_ERROR;
	c = csv_columns_find(&job->columns, name, len);
	return c == (size_t)-1 ? HEAD_IGNORE : (long)c;
}

/* Add the result row in F, whose header cells have the roles ROLES. */
static void
add_row(struct bulk_job *job, enum bulk_file file, const struct csv_fields *f,
    const long *roles, size_t n_roles)
{
	struct bulk_row *row;
	size_t i;

	if (job->n_rows == job->cap_rows) {
		job->cap_rows = job->cap_rows ? job->cap_rows * 2 : 64;
		job->rows = xreallocarray(job->rows, job->cap_rows,
		    sizeof(*job->rows));
	}
	row = &job->rows[job->n_rows++];
	memset(row, 0, sizeof(*row));
	row->file = file;
	row->created = -1;
	row->values = xcalloc(job->columns.n ? job->columns.n : 1,
	    sizeof(*row->values));
	for (i = 0; i < f->n && i < n_roles; i++) {
		const char *v = csv_field(f, i);

		/* A column named twice in the header keeps its first cell. */
		if (roles[i] >= 0 && row->values[roles[i]] == NULL)
			row->values[roles[i]] = xstrdup(v);
		else if (roles[i] == HEAD_ID && *v != '\0' && row->sf_id == NULL)
			row->sf_id = xstrdup(v);
		else if (roles[i] == HEAD_CREATED)
			row->created = strcmp(v, "true") == 0;
		else if (roles[i] == HEAD_ERROR && row->sf_error == NULL)
			row->sf_error = xstrdup(v);
	}
}

/* The role of every cell of the header F. */
static long *
read_header(struct bulk_job *job, const struct csv_fields *f)
{
	long *roles = xcalloc(f->n ? f->n : 1, sizeof(*roles));
	size_t i;

	for (i = 0; i < f->n; i++)
		roles[i] = header_role(job, csv_field(f, i), f->lens[i]);
	return roles;
}

/*
 * Note which columns a file whose header has the N_ROLES roles ROLES
 * echoes.  Only files with rows count: a job that failed before reading
 * its CSV returns empty result files whose header names no column.
 */
static void
note_echoed(struct bulk_job *job, const long *roles, size_t n_roles)
{
	bool *echo = xcalloc(job->columns.n ? job->columns.n : 1, sizeof(*echo));
	size_t i;

	for (i = 0; i < n_roles; i++) {
		if (roles[i] >= 0)
			echo[roles[i]] = true;
	}
	for (i = 0; i < job->columns.n; i++)
		job->echoed[i] = job->any_file ? job->echoed[i] && echo[i] : echo[i];
	job->any_file = true;
	free(echo);
}

/* Read one result file; returns -1 when its CSV is not well formed. */
static int
read_result_file(struct bulk_job *job, enum bulk_file file, const char *text,
    size_t len)
{
	struct csv_reader r;
	struct csv_fields f;
	long *roles = NULL;
	size_t n_roles = 0, first_row = job->n_rows;
	int rc;

	csv_reader_init(&r, text, len);
	csv_fields_init(&f);
	rc = csv_read(&r, &f);
	if (rc == 1) {
		roles = read_header(job, &f);
		n_roles = f.n;
		while ((rc = csv_read(&r, &f)) == 1)
			add_row(job, file, &f, roles, n_roles);
		if (job->n_rows > first_row)
			note_echoed(job, roles, n_roles);
	}
	free(roles);
	csv_fields_free(&f);
	return rc;
}

static void resolve(struct bulk_job *job);

static void
on_download(struct api_call *call, struct bulk_job *job, enum bulk_file file)
{
	const struct http_request *req = call->req;
	char why[384];

	if (call->outcome == API_RESPONSE && req->status == 200) {
		if (read_result_file(job, file, req->response.data ?
		    req->response.data : "", req->response.len) == -1 &&
		    job->download_error == NULL)
			job->download_error = xasprintf("%s has a quoted value "
			    "that never ends", file_resources[file]);
	} else if (job->download_error == NULL) {
		describe_outcome(job, call, why, sizeof(why));
		job->download_error = xasprintf("downloading %s failed: %s",
		    file_resources[file], why);
	}
	api_call_free(call);
	if (--job->downloads == 0)
		resolve(job);
}

static void
on_successful(struct api_call *call, void *arg)
{
	on_download(call, arg, BULK_SUCCESSFUL);
}

static void
on_failed_results(struct api_call *call, void *arg)
{
	on_download(call, arg, BULK_FAILED);
}

static void
on_unprocessed(struct api_call *call, void *arg)
{
	on_download(call, arg, BULK_UNPROCESSED);
}

static void
download(struct bulk_job *job, enum bulk_file file)
{
	static api_done_fn *const done[] = {
		[BULK_SUCCESSFUL] = on_successful,
		[BULK_FAILED] = on_failed_results,
		[BULK_UNPROCESSED] = on_unprocessed,
	};
	struct api_call *call;

	call = api_call_new("GET", xasprintf("%s/%s/%s", job->path, job->id,
	    file_resources[file]), NULL, 0, NULL, true, done[file], job);
	call->accept = "text/csv";
	/*
	 * A job's result files echo its upload, up to 100 MB, and cutting one
	 * would leave every record of the job unknown: they are read whole,
	 * whatever http.http.max_response_body_bytes is set to.
	 */
	call->unlimited_body = true;
	call->essential = true;
	job->downloads++;
	send_call(job, call, 0);
}

/*
 * Fetch the result files of a finished job: successful and failed records
 * unless it was aborted (they exist only for JobComplete and Failed), and
 * unprocessed records unless it completed.
 */
static void
start_downloads(struct bulk_job *job)
{
	job->echoed = xcalloc(job->columns.n ? job->columns.n : 1,
	    sizeof(*job->echoed));
	if (strcmp(job->state, "Aborted") != 0) {
		download(job, BULK_SUCCESSFUL);
		download(job, BULK_FAILED);
	}
	if (strcmp(job->state, "JobComplete") != 0)
		download(job, BULK_UNPROCESSED);
}

/* The errors of a Failed job: "InvalidBatch : Field name not found : X" has code InvalidBatch. */
static json_t *
job_errors(const struct bulk_job *job)
{
	const char *msg = job->error_message, *sep;
	char *code, *text;
	json_t *errors;

	if (msg == NULL) {
		text = xasprintf("job %s failed without an errorMessage",
		    job->id);
		errors = error_list("JOB_FAILED", text);
		free(text);
		return errors;
	}
	sep = strstr(msg, " : ");
	code = sep ? xstrndup(msg, (size_t)(sep - msg)) : xstrdup("JOB_FAILED");
	errors = error_list(code, msg);
	free(code);
	return errors;
}

/*
 * A job that failed before it processed any record (a header Salesforce
 * does not accept, say) lists every record as unprocessed, yet its error
 * is the reason for each of them: those records get failed.  After a job
 * failed part way (a daily limit reached), its unprocessed records were
 * never tried and get not_processed.
 */
static bool
failed_as_whole(const struct bulk_job *job)
{
	return strcmp(job->state, "Failed") == 0 && job->processed == 0;
}

/* Errors for a record Salesforce lists as unprocessed. */
static json_t *
unprocessed_errors(const struct bulk_job *job)
{
	char *text;
	json_t *errors;

	if (strcmp(job->state, "Failed") == 0)
		return job_errors(job);
	text = xasprintf("job %s was %s before this record was processed",
	    job->id, strcmp(job->state, "Aborted") == 0 ? "aborted" :
	    "stopped");
	errors = error_list("JOB_ABORTED", text);
	free(text);
	return errors;
}

/* Write the result of record REC from its result row ROW. */
static void
give_row(struct bulk_job *job, struct record *rec, const struct bulk_row *row)
{
	struct results *res = &job->bc->sink->results;
	json_t *errors = NULL;
	int created = -1;

	switch (row->file) {
	case BULK_SUCCESSFUL:
		if (job_map(job)->operation == OP_UPSERT)
			created = row->created;
		results_ok(res, rec, row->sf_id, created, job->id);
		return;
	case BULK_FAILED:
		errors = row->sf_error ? bulkmatch_parse_error(row->sf_error) :
		    error_list("UNKNOWN_ERROR", "failedResults row without "
		    "sf__Error");
		results_errors(res, rec, RESULT_FAILED, errors, row->sf_id,
		    job->id);
		break;
	case BULK_UNPROCESSED:
		errors = unprocessed_errors(job);
		results_errors(res, rec, failed_as_whole(job) ? RESULT_FAILED :
		    RESULT_NOT_PROCESSED, errors, NULL, job->id);
		break;
	}
	json_decref(errors);
}

/* Write the result of record REC, which no single result row matched. */
static void
give_unmatched(struct bulk_job *job, struct record *rec,
    const struct bulkmatch *m, size_t i)
{
	struct results *res = &job->bc->sink->results;
	enum result_status status = RESULT_UNKNOWN;
	const char *code;
	char *text, hint[640];
	json_t *errors;

	if (m->assign[i] == MATCH_AMBIGUOUS) {
		code = "AMBIGUOUS_RESULT";
		text = xasprintf("job %s: %zu input records fit the same result "
		    "rows (the values Salesforce echoed are alike), so which "
		    "result belongs to which line cannot be told", job->id,
		    m->peers[i]);
	} else if (job->download_error != NULL) {
		code = "RESULTS_UNAVAILABLE";
		collect_hint(job, hint, sizeof(hint));
		text = xasprintf("job %s ran, but its results cannot be read: "
		    "%s; %s", job->id, job->download_error, hint);
	} else if (m->gave_up) {
		code = "RESULTS_UNMATCHED";
		text = xasprintf("job %s: too many result rows to match by "
		    "value; look the record up in Salesforce", job->id);
	} else if (strcmp(job->state, "Failed") == 0) {
		errors = job_errors(job);
		results_errors(res, rec, RESULT_FAILED, errors, NULL, job->id);
		json_decref(errors);
		return;
	} else {
		code = "NO_RESULT_ROW";
		text = xasprintf("job %s ended %s, but no result row matches "
		    "this record, so it may or may not have been written",
		    job->id, job->state);
	}
	log_debug(job->bc->sink->lg, "%s:%ld: %s", rec->source, rec->line, text);
	errors = error_list(code, text);
	results_errors(res, rec, status, errors, NULL, job->id);
	json_decref(errors);
	free(text);
}

/* The column rows are matched by: Id, the external ID field, or none for insert. */
static size_t
key_column(const struct bulk_job *job)
{
	const struct mapping *map = job_map(job);
	const char *name;

	if (map->operation == OP_INSERT)
		return (size_t)-1;
	name = map->operation == OP_UPSERT ? map->external_id_field : "Id";
	return csv_columns_find(&job->columns, name, strlen(name));
}

/* Compare the rows read with the counts Salesforce reported, and log differences. */
static void
reconcile(const struct bulk_job *job, const struct bulkmatch *m)
{
	const struct logger *lg = job->bc->sink->lg;
	long long ok = 0, failed = 0;
	size_t i;

	for (i = 0; i < job->n_rows; i++) {
		ok += job->rows[i].file == BULK_SUCCESSFUL;
		failed += job->rows[i].file == BULK_FAILED;
	}
	if (job->download_error == NULL && strcmp(job->state, "Aborted") != 0 &&
	    (ok + failed != job->processed || failed != job->failed))
		log_warn(lg, "bulk job %s: the result files have %lld successful "
		    "and %lld failed rows, but Salesforce reported %lld processed "
		    "and %lld failed", job->id, ok, failed, job->processed,
		    job->failed);
	if (strcmp(job->state, "JobComplete") == 0 &&
	    job->processed != (long long)job->n_items)
		log_warn(lg, "bulk job %s: %zu records were uploaded, but "
		    "Salesforce processed %lld", job->id, job->n_items,
		    job->processed);
	if (m->unmatched_rows > 0)
		log_warn(lg, "bulk job %s: %zu result rows match no uploaded "
		    "record", job->id, m->unmatched_rows);
	if (m->gave_up)
		log_warn(lg, "bulk job %s: matching result rows by value stopped "
		    "at its work limit", job->id);
}

/* Match the downloaded rows to the job's records and write every result. */
static void
resolve(struct bulk_job *job)
{
	const struct csv_row **recs;
	struct bulkmatch m = { 0 };
	size_t i, ambiguous = 0;

	recs = xcalloc(job->n_items ? job->n_items : 1, sizeof(*recs));
	for (i = 0; i < job->n_items; i++)
		recs[i] = &job->items[i].row;
	m.op = job_map(job)->operation;
	m.recs = recs;
	m.n_recs = job->n_items;
	m.n_columns = job->columns.n;
	m.key_column = key_column(job);
	m.echoed = job->echoed;
	m.rows = job->rows;
	m.n_rows = job->n_rows;
	bulkmatch_run(&m);
	job->owed = job->download_error != NULL;

	for (i = 0; i < job->n_items; i++) {
		if (m.assign[i] < job->n_rows) {
			give_row(job, job->items[i].rec, &job->rows[m.assign[i]]);
			continue;
		}
		ambiguous += m.assign[i] == MATCH_AMBIGUOUS;
		give_unmatched(job, job->items[i].rec, &m, i);
	}
	if (ambiguous > 0)
		log_warn(job->bc->sink->lg, "bulk job %s: %zu records have "
		    "results that cannot be told apart; they are reported as "
		    "unknown", job->id, ambiguous);
	reconcile(job, &m);
	bulkmatch_free(&m);
	free(recs);
	end_job(job);
}

/* The next job of BC, with the items of its slice, on the sink's list. */
static struct bulk_job *
new_job(struct bulk_chunk *bc, const char *api_version)
{
	struct bulk_job *job = xcalloc(1, sizeof(*job));
	size_t k = bc->next_job++, end;

	end = k + 1 < bc->n_jobs ? bc->starts[k + 1] : bc->n_items;
	job->bc = bc;
	job->items = bc->items + bc->starts[k];
	job->n_items = end - bc->starts[k];
	job->columns = bc->columns[k];
	job->path = xasprintf("/services/data/%s/jobs/ingest", api_version);
	job->line_ending = choose_line_ending(job);
	track_job(job);
	return job;
}

static void
start_next_job(struct bulk_chunk *bc)
{
	struct bulk_job *job;

	if (bc->next_job == bc->n_jobs) {
		finish_chunk(bc);
		return;
	}
	job = new_job(bc, bc->sink->cfg->api_version);
	if (bc->sink->opts.dry_run_dir != NULL)
		dry_run_job(job);
	else if (bc->sink->stopping)
		interrupt_job(job, false);
	else
		create_job(job);
}

void
bulk_resume(struct sink *s, struct chunk *chunk, const char *job_id,
    const char *api_version)
{
	struct bulk_chunk *bc = xcalloc(1, sizeof(*bc));
	struct bulk_job *job;

	bc->sink = s;
	bc->chunk = chunk;
	/* No size limit: the rows must be those of the job as it was uploaded. */
	plan_jobs(bc, SIZE_MAX);
	if (bc->n_jobs == 0) {
		finish_chunk(bc);
		return;
	}
	job = new_job(bc, api_version);
	job->id = xstrdup(job_id);
	job->journaled = job->resumed = true;
	job->closing = job->closed = true;
	job->closed_ns = clock_now_ns();
	log_info(s->lg, "bulk job %s: collecting the results of %zu records "
	    "of topic \"%s\"", job->id, job->n_items, job_map(job)->topic);
	poll_job(job, 0);
}

void
bulk_stop(struct sink *s)
{
	struct bulk_job *job;
	bool by_signal;

	for (job = s->bulk_active; job != NULL; job = job->active_next) {
		if (job->pending_poll != NULL)
			api_expedite(s->api, job->pending_poll,
			    poll_deadline(job, &by_signal));
	}
}

/* Write the result of every record of JOB's chunk still without one, at a second signal. */
static void
abandon_job(struct bulk_job *job)
{
	struct bulk_chunk *bc = job->bc;
	enum result_status status = RESULT_NOT_PROCESSED;
	const char *code = "INTERRUPTED";
	char msg[1536], hint[640];
	size_t i, first = (size_t)(job->items - bc->items);
	json_t *errors;

	collect_hint(job, hint, sizeof(hint));
	if (job->closed) {
		code = "JOB_STILL_RUNNING";
		snprintf(msg, sizeof(msg), "the run ended at a second signal "
		    "before the results of job %s were read; the job runs on in "
		    "Salesforce; %s", job->id, hint);
	} else if (job->closing) {
		status = RESULT_UNKNOWN;
		snprintf(msg, sizeof(msg), "the run ended at a second signal "
		    "while job %s was being closed or aborted, so the record may "
		    "or may not have been written", job->id);
	} else if (job->id != NULL) {
		snprintf(msg, sizeof(msg), "the run ended at a second signal "
		    "before job %s was closed; an unclosed job is never "
		    "processed, so the record was not written", job->id);
	} else {
		snprintf(msg, sizeof(msg), "the run ended at a second signal "
		    "before the record's bulk job was created");
	}
	errors = error_list(code, msg);
	for (i = first; i < bc->n_items; i++) {
		struct record *rec = bc->items[i].rec;

		if (rec->has_result)
			continue;
		if (i < first + job->n_items)
			results_errors(&bc->sink->results, rec, status, errors,
			    NULL, job->id);
		else
			results_error(&bc->sink->results, rec,
			    RESULT_NOT_PROCESSED, "INTERRUPTED", "the run ended "
			    "at a second signal before the record's bulk job was "
			    "created");
	}
	json_decref(errors);
}

void
bulk_abandon(struct sink *s)
{
	struct bulk_job *job;

	for (job = s->bulk_active; job != NULL; job = job->active_next)
		abandon_job(job);
}
