/*
 * bulkmatch.h - match Bulk API 2.0 result rows to the records of a job.
 *
 * Salesforce returns the rows of successfulResults, failedResults and
 * unprocessedrecords in no particular order, without a row number, and
 * with field values as saved rather than as uploaded (a currency sent as
 * 912260031 comes back as 9.12260031E8).  So rows are never matched by
 * position.  Update, delete and hardDelete rows are matched by Id, upsert
 * rows by the external ID value, and insert rows by their echoed values.
 * Values compare by meaning: numbers as decimal values (never through a
 * double), booleans without case, dates and datetimes as instants, and
 * "#N/A" or an empty cell as null.
 *
 * A record is matched only when exactly one row fits it and it is the
 * only record that row fits.  Records that several rows or several
 * records compete for are reported as ambiguous, never guessed.
 */
#ifndef SFSINK_BULKMATCH_H
#define SFSINK_BULKMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "csv.h"

enum bulk_file {
	BULK_SUCCESSFUL,
	BULK_FAILED,
	BULK_UNPROCESSED,
};

/* One row of a result file. */
struct bulk_row {
	enum bulk_file file;
	char *sf_id;		/* owned; NULL when absent or empty */
	int created;		/* sf__Created: 1, 0, or -1 when absent */
	char *sf_error;		/* owned; NULL when absent */
	char **values;		/* owned; one per job column, NULL when not echoed */
};

#define MATCH_NONE	((size_t)-1)	/* no row fits the record */
#define MATCH_AMBIGUOUS	((size_t)-2)	/* rows fit it and other records alike */

struct bulkmatch {
	enum operation op;
	const struct csv_row *const *recs;	/* the job's rows, by record */
	size_t n_recs;
	size_t n_columns;
	size_t key_column;	/* Id or external ID column; (size_t)-1 for insert */
	const bool *echoed;	/* per column: echoed by every result file read */
	const struct bulk_row *rows;
	size_t n_rows;

	/* Output, arrays of n_recs allocated by bulkmatch_run(). */
	size_t *assign;		/* row index, MATCH_NONE or MATCH_AMBIGUOUS */
	size_t *peers;		/* for MATCH_AMBIGUOUS: records competing */
	size_t unmatched_rows;	/* rows that fit no record */
	bool gave_up;		/* value matching stopped at its work limit */
};

/* Match the rows of M to its records and fill the output fields. */
void bulkmatch_run(struct bulkmatch *m);

void bulkmatch_free(struct bulkmatch *m);

void bulk_row_free(struct bulk_row *row, size_t n_columns);

/*
 * Split an sf__Error value, "CODE:message:Field1,Field2 --" or
 * "CODE:message:--", into a new errors array of one
 * {"code", "message", "fields"} object.
 */
json_t *bulkmatch_parse_error(const char *sf_error);

#endif
