/*
 * sink.h - the run: read input, route records, send chunks, write results.
 *
 * struct sink is the context every module of a run shares; there are no
 * globals.  sink_run() drives one event loop: it reads input while no
 * queue is full, sends due chunks while fewer than max_in_flight requests
 * are out, and returns when every record read has its result.
 */
#ifndef SFSINK_SINK_H
#define SFSINK_SINK_H

#include <stdbool.h>

#include "api.h"
#include "batch.h"
#include "config.h"
#include "http.h"
#include "input.h"
#include "keyorder.h"
#include "log.h"
#include "results.h"

/* Exit statuses, as documented in sfsink(1). */
enum {
	EXIT_ALL_OK = 0,
	EXIT_SOME_NOT_OK = 1,
	EXIT_USAGE = 2,
	EXIT_FATAL = 3,
};

/* Choices from the command line that change how a run goes. */
struct sink_options {
	FILE *rejects;		/* --rejects FILE, or NULL */
	const char *rejects_name;
	const char *dry_run_dir; /* --dry-run DIR, or NULL */
	bool progress;		/* draw a status line on stderr */
	bool color;		/* the status line may use colour */
	struct journal *journal; /* --journal or --resume FILE, or NULL */
	int64_t shutdown_wait_ns; /* --shutdown-wait: closed jobs after a signal */
	int64_t bulk_wait_ns;	/* --bulk-wait: a closed job, from its close */
};

/* Defaults of --shutdown-wait and --bulk-wait, documented in sfsink(1). */
#define SHUTDOWN_WAIT_DEFAULT	"60s"
#define BULK_WAIT_DEFAULT	"24h"

struct bulk_job;
struct journal;

struct pending_job;

struct sink {
	const struct config *cfg;
	const struct logger *lg;
	struct sink_options opts;
	struct http *http;
	struct api *api;
	struct input *input;
	struct results results;
	struct batcher batcher;
	struct keyorder *keys;	/* per-record write order */
	bool logged_in;
	bool input_done;	/* no more lines will be read */
	int in_flight;		/* realtime chunks being sent */
	int bulk_jobs;		/* bulk chunks whose jobs are not finished */
	bool stopping;		/* send nothing more; see exit_status */
	int exit_status;	/* set when the run stops early, else 0 */
	int signals_seen;	/* SIGINT and SIGTERM handled so far */
	const char *stop_signal;	/* "SIGINT" or "SIGTERM" once one stopped the run */
	int64_t signal_ns;	/* when that first signal was handled, or 0 */
	struct bulk_job *bulk_active;	/* bulk jobs under way, see bulk.c */
	bool write_error_reported;
	struct chunk *sending;	/* chunks being sent, by sending_next */
	struct pending_job *resumes;	/* owned: --resume jobs, in order */
	size_t n_resumes;
	size_t next_resume;		/* the first of resumes not yet polled */
	unsigned long records_read;	/* input lines that became records */
	unsigned long records_sent;	/* records handed to a sender */
	unsigned long dry_run_requests;	/* requests written by --dry-run */
	int64_t started_ns;
	int64_t progress_ns;		/* last time the status line was drawn */
};

/*
 * Set up a run; the sink borrows CFG, LG, INPUT, OUT and the options'
 * files.  INPUT is NULL for --resume, which reads no input.
 */
int sink_init(struct sink *s, const struct config *cfg,
    const struct logger *lg, struct input *input, FILE *out,
    const char *out_name, const struct sink_options *opts);

/*
 * Run to the end of input; returns the exit status.  After a first SIGINT
 * or SIGTERM nothing more is read or sent, and requests in flight end.
 * Bulk jobs not yet closed are aborted, and closed ones are waited for up
 * to opts.shutdown_wait_ns.  Every record read gets its result, and the
 * status is then 128 plus the signal number.  A second signal, or a
 * closed stdout (EPIPE), ends the process at once (status 128 + signal,
 * 141 for EPIPE) after writing a result for every record read that still
 * lacks one.
 */
int sink_run(struct sink *s);

/* Called by the senders once every record of CHUNK has its result. */
void sink_chunk_done(struct sink *s, struct chunk *chunk);

/*
 * --resume: sign in if needed and collect the results of the closed bulk
 * job JOB_ID, whose records make CHUNK (taken over); then run sink_run().
 */
void sink_resume_job(struct sink *s, struct chunk *chunk, const char *job_id,
    const char *api_version);

/* Send nothing more; the run ends with STATUS unless one is set already. */
void sink_stop(struct sink *s, int status);

/*
 * --dry-run: write LEN bytes of BODY to a new file of the dry-run
 * directory, named TOPIC-SEQUENCE.EXT.  Returns the file's path (the
 * caller frees it), or NULL after logging and stopping the run.
 */
char *sink_write_dry_run(struct sink *s, const char *topic, const char *ext,
    const char *body, size_t len);

/* Print the end-of-run summary: counts per status and topic, API use. */
void sink_summary(const struct sink *s);

void sink_free(struct sink *s);

#endif
