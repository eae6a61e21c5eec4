/*
 * sink.c - the run: read input, route records, send chunks, write results.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulk.h"
#include "envelope.h"
#include "journal.h"
#include "keyorder.h"
#include "realtime.h"
#include "signals.h"
#include "sink.h"
#include "xalloc.h"

#define NS_PER_MS	1000000LL
#define NS_PER_S	1000000000LL
#define MAX_WAIT_MS	1000

int
sink_init(struct sink *s, const struct config *cfg, const struct logger *lg,
    struct input *input, FILE *out, const char *out_name,
    const struct sink_options *opts)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->lg = lg;
	s->opts = *opts;
	s->input = input;
	s->input_done = input == NULL;
	s->started_ns = clock_now_ns();
	results_init(&s->results, out, out_name, lg);
	results_count_topics(&s->results, cfg->mappings, cfg->n_mappings);
	if (opts->rejects != NULL)
		results_set_rejects(&s->results, opts->rejects,
		    opts->rejects_name);
	batcher_init(&s->batcher, cfg);

	s->http = http_new(&cfg->http, lg);
	if (s->http == NULL)
		return -1;
	s->api = api_new(cfg, s->http, lg);
	s->keys = keyorder_new();
	return 0;
}

static void
reject(struct sink *s, struct record *rec, const char *code, const char *msg)
{
	results_error(&s->results, rec, RESULT_REJECTED, code, "%s", msg);
	log_info(s->lg, "%s:%ld: rejected: %s", rec->source, rec->line, msg);
	record_free(rec);
}

/* Find REC's mapping by its topic; NULL when there is none. */
static const struct mapping *
route(struct sink *s, struct record *rec)
{
	rec->map = config_find_mapping(s->cfg, rec->topic);
	if (rec->map != NULL)
		rec->mode = rec->map->mode;
	return rec->map;
}

/* Route one input line: reject it now, or queue it for its topic. */
static void
on_line(void *arg, const char *source, long lineno, const char *line,
    size_t len, bool too_long)
{
	struct sink *s = arg;
	struct record *rec = record_new(source, lineno);
	const char *code;
	char msg[512];

	s->records_read++;
	if (s->opts.rejects != NULL && !too_long) {
		rec->raw = xstrndup(line, len);
		rec->raw_len = len;
	}

	if (too_long) {
		snprintf(msg, sizeof(msg), "line is longer than the %u-byte "
		    "limit", INPUT_MAX_LINE);
		reject(s, rec, "LINE_TOO_LONG", msg);
		return;
	}
	if (envelope_parse(line, len, rec, &code, msg, sizeof(msg)) == -1) {
		if (rec->topic != NULL)
			route(s, rec);
		reject(s, rec, code, msg);
		return;
	}

	if (route(s, rec) == NULL) {
		snprintf(msg, sizeof(msg), "topic \"%.200s\" has no entry in "
		    "topic_mappings; add one to load it", rec->topic);
		reject(s, rec, "UNKNOWN_TOPIC", msg);
		return;
	}
	if (record_validate(rec, &code, msg, sizeof(msg)) == -1) {
		reject(s, rec, code, msg);
		return;
	}
	keyorder_add(s->keys, rec);
	batcher_add(&s->batcher, rec, clock_now_ns());
}

/* Free CHUNK once its records have results, letting their keys move on. */
static void
release_chunk(struct sink *s, struct chunk *chunk)
{
	size_t i;

	for (i = 0; i < chunk->n; i++)
		keyorder_remove(s->keys, chunk->recs[i]);
	chunk_free(chunk);
}

/* No more sending; the run ends with STATUS unless one is set already. */
static void
stop_run(struct sink *s, int status)
{
	s->stopping = true;
	s->input_done = true;
	if (s->exit_status == 0)
		s->exit_status = status;
}

void
sink_stop(struct sink *s, int status)
{
	stop_run(s, status);
}

/* Give every record of CHUNK a not_processed result and free it. */
static void
abandon_chunk(struct sink *s, struct chunk *chunk, const char *why)
{
	size_t i;

	for (i = 0; i < chunk->n; i++)
		results_error(&s->results, chunk->recs[i], RESULT_NOT_PROCESSED,
		    "RUN_STOPPED", "%s", why);
	release_chunk(s, chunk);
}

char *
sink_write_dry_run(struct sink *s, const char *topic, const char *ext,
    const char *body, size_t len)
{
	char *file;
	FILE *fp;

	s->dry_run_requests++;
	file = xasprintf("%s/%s-%04lu.%s", s->opts.dry_run_dir, topic,
	    s->dry_run_requests, ext);
	fp = fopen(file, "w");
	if (fp == NULL || (len > 0 && fwrite(body, 1, len, fp) != len) ||
	    fclose(fp) == EOF) {
		log_error(s->lg, "cannot write dry-run request \"%s\": %s", file,
		    strerror(errno));
		stop_run(s, EXIT_FATAL);
		free(file);
		return NULL;
	}
	return file;
}

/* --dry-run: write the Collections request for N records of CHUNK from FIRST. */
static void
write_dry_run_part(struct sink *s, struct chunk *chunk, size_t first, size_t n)
{
	const char *method = NULL;
	char *path, *body, *file;
	size_t body_len, i;

	realtime_build(s, chunk, first, n, &method, &path, &body, &body_len);
	if (body == NULL) {
		/* A delete has no body: its Ids are in the URL. */
		body = xasprintf("%s %s\n", method, path);
		body_len = strlen(body);
	}
	file = sink_write_dry_run(s, chunk->map->topic, body[0] == '{' ?
	    "json" : "txt", body, body_len);
	if (file != NULL)
		log_info(s->lg, "dry run: %s %s (%zu records) -> %s", method,
		    path, n, file);
	for (i = first; i < first + n; i++)
		results_error(&s->results, chunk->recs[i], RESULT_NOT_PROCESSED,
		    "DRY_RUN", "dry run: nothing was sent; the request is in %s",
		    file ? file : "no file");
	free(path);
	free(body);
	free(file);
}

/* --dry-run: write the Collections requests CHUNK would make. */
static void
write_dry_run(struct sink *s, struct chunk *chunk)
{
	size_t first, n;

	for (first = 0; first < chunk->n; first += n) {
		n = chunk->n - first < COLLECTIONS_MAX_RECORDS ?
		    chunk->n - first : COLLECTIONS_MAX_RECORDS;
		write_dry_run_part(s, chunk, first, n);
	}
	release_chunk(s, chunk);
}

static void
send_chunk(struct sink *s, struct chunk *chunk)
{
	bool dry_run = s->opts.dry_run_dir != NULL;
	size_t i;

	s->records_sent += chunk->n;
	for (i = 0; i < chunk->n; i++)
		chunk->recs[i]->mode = chunk->mode;
	if (dry_run && !s->stopping && chunk->mode == MODE_REALTIME) {
		write_dry_run(s, chunk);
		return;
	}
	if (!dry_run && !s->logged_in && !s->stopping) {
		if (api_login(s->api) == -1)
			stop_run(s, EXIT_FATAL);
		else
			s->logged_in = true;
	}
	if (s->stopping) {
		abandon_chunk(s, chunk, api_stop_reason(s->api) ?
		    api_stop_reason(s->api) : "the run stopped before the "
		    "record was sent");
		return;
	}

	chunk->sending_next = s->sending;
	s->sending = chunk;
	if (chunk->mode == MODE_REALTIME) {
		s->in_flight++;
		realtime_send(s, chunk);
		return;
	}
	s->bulk_jobs++;
	bulk_send(s, chunk);
}

void
sink_chunk_done(struct sink *s, struct chunk *chunk)
{
	struct chunk **pp = &s->sending;

	while (*pp != chunk)
		pp = &(*pp)->sending_next;
	*pp = chunk->sending_next;

	if (chunk->mode == MODE_REALTIME)
		s->in_flight--;
	else
		s->bulk_jobs--;
	release_chunk(s, chunk);
}

/* A --resume job that waits for a bulk slot. */
struct pending_job {
	struct chunk *chunk;	/* owned until the job is started */
	char *job_id;
	char *api_version;
};

void
sink_resume_job(struct sink *s, struct chunk *chunk, const char *job_id,
    const char *api_version)
{
	struct pending_job *p;

	/* A failed sign-in stops the api, and the job's poll then reports it. */
	if (!s->logged_in && !s->stopping) {
		if (api_login(s->api) == -1)
			stop_run(s, EXIT_FATAL);
		else
			s->logged_in = true;
	}
	s->records_read += chunk->n;
	s->resumes = xreallocarray(s->resumes, s->n_resumes + 1,
	    sizeof(*s->resumes));
	p = &s->resumes[s->n_resumes++];
	p->chunk = chunk;
	p->job_id = xstrdup(job_id);
	p->api_version = xstrdup(api_version);
}

/* Start polling queued --resume jobs while fewer than LIMIT are under way. */
static void
start_resumes(struct sink *s, int64_t limit)
{
	struct pending_job *p;
	struct chunk *chunk;

	while (s->next_resume < s->n_resumes && s->bulk_jobs < limit) {
		p = &s->resumes[s->next_resume++];
		chunk = p->chunk;
		p->chunk = NULL;
		s->records_sent += chunk->n;
		chunk->sending_next = s->sending;
		s->sending = chunk;
		s->bulk_jobs++;
		bulk_resume(s, chunk, p->job_id, p->api_version);
	}
}

/* Give the records of the --resume jobs never polled their result. */
static void
abandon_resumes(struct sink *s)
{
	struct pending_job *p;
	size_t i, j;

	for (i = s->next_resume; i < s->n_resumes; i++) {
		p = &s->resumes[i];
		for (j = 0; j < p->chunk->n; j++)
			results_error(&s->results, p->chunk->recs[j],
			    RESULT_NOT_PROCESSED, "JOB_STILL_RUNNING",
			    "the run ended at a second signal before the "
			    "results of job %s were read; collect them with "
			    "sfsink -c %s --resume %s", p->job_id,
			    s->cfg->path, s->opts.journal->path);
	}
}

/* Send every chunk of MODE that is due while fewer than LIMIT are out. */
static void
dispatch_mode(struct sink *s, enum write_mode mode, const int *out,
    int64_t limit, int64_t now)
{
	bool flush_all = s->input_done;
	struct chunk *chunk;

	while (*out < limit) {
		chunk = batcher_take(&s->batcher, mode, now, flush_all);
		if (chunk == NULL)
			break;
		send_chunk(s, chunk);
	}
}

static void
dispatch(struct sink *s, int64_t now)
{
	struct chunk *chunk;

	if (s->stopping) {
		/* Each --resume job gets one poll, bounded by the shutdown wait. */
		start_resumes(s, INT64_MAX);
		while ((chunk = batcher_take_any(&s->batcher)) != NULL)
			send_chunk(s, chunk);
		return;
	}
	start_resumes(s, s->cfg->max_concurrent_bulk_jobs);
	dispatch_mode(s, MODE_REALTIME, &s->in_flight, s->cfg->max_in_flight,
	    now);
	dispatch_mode(s, MODE_BULK, &s->bulk_jobs,
	    s->cfg->max_concurrent_bulk_jobs, now);
}

static int
wait_ms(const struct sink *s, int64_t now)
{
	int64_t due = batcher_deadline(&s->batcher);
	int64_t retry = api_next_due(s->api);
	int64_t ms;

	if (retry < due)
		due = retry;
	if (due == INT64_MAX)
		return MAX_WAIT_MS;
	ms = (due - now + NS_PER_MS - 1) / NS_PER_MS;
	if (ms < 0)
		return 0;
	return ms > MAX_WAIT_MS ? MAX_WAIT_MS : (int)ms;
}

static bool
finished(const struct sink *s)
{
	return s->input_done && s->batcher.queued == 0 && s->in_flight == 0 &&
	    s->bulk_jobs == 0 && s->next_resume == s->n_resumes &&
	    http_running(s->http) == 0 && api_next_due(s->api) == INT64_MAX;
}

/* Read one step of input, unless reading is paused or over. */
static void
poll_once(struct sink *s, int timeout_ms)
{
	bool readable = false;
	int fd = -1;

	if (!s->input_done &&
	    !batcher_full(&s->batcher, (size_t)s->cfg->max_in_flight)) {
		fd = input_fd(s->input);
		if (fd == -1) {
			s->input_done = true;
			return;
		}
	}
	http_wait(s->http, fd, timeout_ms, &readable);
	if (readable) {
		int rc = input_read(s->input, on_line, s);

		if (rc == 1)
			s->input_done = true;
		else if (rc == -1)
			stop_run(s, EXIT_FATAL);
	}
	http_perform(s->http);
}

/*
 * End the run now: records of requests in flight may or may not have been
 * written, queued ones were not sent.  Only results are written; the
 * process exits without freeing what the transfers still use.
 */
static void
abort_run(struct sink *s, int status)
{
	struct chunk *c, *queued;
	size_t i;

	bulk_abandon(s);
	abandon_resumes(s);
	for (c = s->sending; c != NULL; c = c->sending_next) {
		for (i = 0; i < c->n; i++) {
			if (!c->recs[i]->has_result)
				results_error(&s->results, c->recs[i],
				    RESULT_UNKNOWN, "INTERRUPTED", "the run "
				    "ended while the record's request was in "
				    "flight; it may or may not have been written");
		}
	}
	while ((queued = batcher_take_any(&s->batcher)) != NULL) {
		for (i = 0; i < queued->n; i++)
			results_error(&s->results, queued->recs[i],
			    RESULT_NOT_PROCESSED, "INTERRUPTED",
			    "the run ended before the record was sent");
		chunk_free(queued);
	}
	results_flush(&s->results);
	if (s->opts.rejects != NULL)
		fflush(s->opts.rejects);
	_exit(status);
}

static void
check_signals(struct sink *s)
{
	int n = signals_received(), signo = signals_last();
	char reason[128];

	if (n == 0 || n == s->signals_seen)
		return;
	s->signals_seen = n;
	if (n > 1) {
		log_error(s->lg, "second signal: stopping at once");
		abort_run(s, 128 + signo);
	}
	s->stop_signal = signo == SIGINT ? "SIGINT" : "SIGTERM";
	s->signal_ns = clock_now_ns();
	snprintf(reason, sizeof(reason), "interrupted by %s before the record "
	    "was sent", s->stop_signal);
	log_warn(s->lg, "%s received: finishing requests in flight; send it "
	    "again to stop at once", s->stop_signal);
	stop_run(s, 128 + signo);
	api_drain(s->api, reason);
	bulk_stop(s);
}

static void
check_stop(struct sink *s)
{
	check_signals(s);
	if (api_stopped(s->api))
		stop_run(s, EXIT_FATAL);
	if (s->results.write_error == EPIPE) {
		/* Downstream is gone (as with | head): end quietly. */
		abort_run(s, 128 + SIGPIPE);
	}
	if (s->results.write_error != 0 && !s->write_error_reported) {
		log_error(s->lg, "cannot write results to %s: %s",
		    s->results.out_name, strerror(s->results.write_error));
		s->write_error_reported = true;
		stop_run(s, EXIT_FATAL);
	}
}

/*
 * Redraw the status line on stderr at most once a second; FINAL erases it
 * so that the summary starts on a clean line.
 */
static void
draw_progress(struct sink *s, int64_t now, bool final)
{
	const struct results *res = &s->results;
	double elapsed = (double)(now - s->started_ns) / NS_PER_S;
	const char *usage = api_limit_info(s->api);

	if (!s->opts.progress || (!final && now - s->progress_ns < NS_PER_S))
		return;
	s->progress_ns = now;
	if (final) {
		fputs("\r\033[K", s->lg->stream);
		return;
	}
	fprintf(s->lg->stream, "\r\033[K%lu read, %lu sent, %lu ok, %s%lu "
	    "failed%s, %lu rejected, %.0f/s, %d bulk jobs%s%s",
	    s->records_read, s->records_sent, res->count[RESULT_OK],
	    s->opts.color && res->count[RESULT_FAILED] ? "\033[31m" : "",
	    res->count[RESULT_FAILED], s->opts.color &&
	    res->count[RESULT_FAILED] ? "\033[0m" : "",
	    res->count[RESULT_REJECTED],
	    elapsed > 0 ? (double)results_total(res) / elapsed : 0.0,
	    s->bulk_jobs, *usage ? ", " : "", usage);
	fflush(s->lg->stream);
}

int
sink_run(struct sink *s)
{
	int64_t now;

	for (;;) {
		now = clock_now_ns();
		api_run_due(s->api, now);
		check_stop(s);
		dispatch(s, now);
		results_flush(&s->results);
		draw_progress(s, now, false);
		if (finished(s))
			break;
		poll_once(s, wait_ms(s, now));
	}
	results_flush(&s->results);
	check_stop(s);
	draw_progress(s, clock_now_ns(), true);
	if (s->results.rejects_error != 0) {
		log_error(s->lg, "cannot write rejected lines to %s: %s",
		    s->opts.rejects_name, strerror(s->results.rejects_error));
		stop_run(s, EXIT_FATAL);
	}

	if (s->exit_status != 0)
		return s->exit_status;
	if (s->input != NULL && input_failures(s->input) > 0)
		return EXIT_FATAL;
	if (s->results.count[RESULT_OK] == results_total(&s->results))
		return EXIT_ALL_OK;
	return EXIT_SOME_NOT_OK;
}

void
sink_summary(const struct sink *s)
{
	double seconds = (double)(clock_now_ns() - s->started_ns) / NS_PER_S;
	const char *usage = api_limit_info(s->api);

	results_summary(&s->results, seconds);
	if (api_requests(s->api) > 0)
		log_msg(s->lg, LOG_ERROR, "%lu API request%s%s%s",
		    api_requests(s->api), api_requests(s->api) == 1 ? "" : "s",
		    *usage ? "; last Sforce-Limit-Info: " : "", usage);
	if (s->dry_run_requests > 0)
		log_msg(s->lg, LOG_ERROR, "dry run: %lu requests written to %s",
		    s->dry_run_requests, s->opts.dry_run_dir);
}

void
sink_free(struct sink *s)
{
	size_t i;

	for (i = 0; i < s->n_resumes; i++) {
		chunk_free(s->resumes[i].chunk);
		free(s->resumes[i].job_id);
		free(s->resumes[i].api_version);
	}
	free(s->resumes);
	batcher_free(&s->batcher);
	keyorder_free(s->keys);
	results_free(&s->results);
	api_free(s->api);
	http_free(s->http);
}
