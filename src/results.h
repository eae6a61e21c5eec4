/*
 * results.h - one NDJSON result line per input record.
 *
 * Each line names the record's source and physical line, its topic and
 * mapping, and a status:
 *   ok             written; "id" and, for upsert, "created"
 *   failed         Salesforce rejected it; "errors" as Salesforce sent them
 *   rejected       sfsink refused it before sending
 *   not_processed  never attempted, or not completed
 *   unknown        sent, but the outcome cannot be known
 * Every status but ok carries "errors": [{"code", "message", "fields"}].
 * Lines are written as soon as an outcome is known, so they are not in
 * input order.  Output is flushed by results_flush(), once per response.
 */
#ifndef SFSINK_RESULTS_H
#define SFSINK_RESULTS_H

#include <stdio.h>

#include <jansson.h>

#include "buf.h"
#include "log.h"
#include "record.h"

enum result_status {
	RESULT_OK,
	RESULT_FAILED,
	RESULT_REJECTED,
	RESULT_NOT_PROCESSED,
	RESULT_UNKNOWN,
	RESULT_NSTATUS,
};

struct results {
	FILE *out;
	const char *out_name;		/* for messages: "stdout" or a path */
	struct buf line;		/* reused for every line */
	unsigned long count[RESULT_NSTATUS];
	int write_error;		/* errno of the first failed write, or 0 */
	const struct logger *lg;

	/* Optional: input lines of records that are not ok (--rejects). */
	FILE *rejects;
	const char *rejects_name;
	int rejects_error;		/* errno of the first failed write, or 0 */

	/* Counts per mapping; the last row is for records without one. */
	const struct mapping *mappings;
	size_t n_mappings;
	unsigned long (*topic_count)[RESULT_NSTATUS];
};

void results_init(struct results *res, FILE *out, const char *out_name,
    const struct logger *lg);

/*
 * Count results per mapping from now on: the N entries of MAPPINGS (the
 * configuration's array, which must outlive RES).
 */
void results_count_topics(struct results *res, const struct mapping *mappings,
    size_t n);

/*
 * Also write the original input line (rec->raw) of every record that is
 * not ok to REJECTS, so that the file can be loaded again as it is.
 */
void results_set_rejects(struct results *res, FILE *rejects, const char *name);

/* Write an ok line.  CREATED is 1 or 0 for upsert, -1 to leave it out. */
void results_ok(struct results *res, struct record *rec, const char *id,
    int created, const char *job_id);

/*
 * Write a non-ok line with the errors array ERRORS (borrowed; each element
 * an object with "code", "message" and "fields").  ID is the record Id
 * when Salesforce returned one, otherwise NULL.
 */
void results_errors(struct results *res, struct record *rec,
    enum result_status status, json_t *errors, const char *id,
    const char *job_id);

/* Write a non-ok line with a single error built from CODE and a message. */
void results_error(struct results *res, struct record *rec,
    enum result_status status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Build one {"code", "message", "fields": []} object (new reference). */
json_t *results_make_error(const char *code, const char *message);

/* Flush the output; returns -1 once any write has failed. */
int results_flush(struct results *res);

unsigned long results_total(const struct results *res);

const char *result_status_name(enum result_status status);

/* Print "sfsink: N records in Xs: ..." and one line per topic to the logger's stream. */
void results_summary(const struct results *res, double seconds);

void results_free(struct results *res);

#endif
