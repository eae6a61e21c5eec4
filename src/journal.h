/*
 * journal.h - the journal of open bulk jobs (--journal FILE).
 *
 * A bulk job that was closed runs in Salesforce whether or not sfsink
 * waits for it.  The journal keeps what is needed to write its records'
 * result lines later (sfsink --resume FILE) without uploading anything
 * again.  It is NDJSON, appended to and never rewritten; every line is an
 * object whose "entry" member gives its kind:
 *
 *   {"entry":"job","job_id":J,"api_version":"v65.0","topic":T,
 *    "sobject":S,"operation":O,"external_id_field":F|null,"records":N}
 *   N lines {"entry":"record","job_id":J,"source":PATH,"line":L,"topic":T,
 *    "kafka":{"partition":P,"offset":X}?,"key":K?,"data":{...}}
 *   {"entry":"done","job_id":J,"state":STATE}
 *
 * The job line and its N record lines are one entry, written in one
 * write(2) and synced with fsync(2) before the job is closed, so a closed
 * job always has a complete entry.  "data" is the record's data object as
 * it was read, byte for byte (number texts included), because insert
 * results are matched by value.  "key" is the Id or external ID value.  The
 * done line follows once every record of the job has its final result.
 * An entry cut short by a crash belongs to a job that was never closed.
 */
#ifndef SFSINK_JOURNAL_H
#define SFSINK_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "record.h"

/* Maximum length of a journal line read back: an input line plus its metadata. */
#define JOURNAL_MAX_LINE	(16u * 1024 * 1024 + 64 * 1024)

struct journal {
	char *path;
	int fd;
	struct buf entry;	/* the entry being built */
	const struct logger *lg;
};

/*
 * Open PATH for appending, creating it with mode 0600 (it contains record
 * data).  Returns NULL after logging.  The caller frees with journal_close.
 */
struct journal *journal_open(const char *path, const struct logger *lg);

/* Start the entry of job JOB_ID of MAP, which contains N_RECORDS records. */
void journal_begin_job(struct journal *j, const char *job_id,
    const char *api_version, const struct mapping *map, size_t n_records);

/* Add REC to the entry being built. */
void journal_add_record(struct journal *j, const char *job_id,
    const struct record *rec);

/* Append the entry built and fsync it.  Returns -1 after logging. */
int journal_commit(struct journal *j);

/* Append and fsync the line that marks JOB_ID done.  Returns -1 after logging. */
int journal_mark_done(struct journal *j, const char *job_id,
    const char *state);

void journal_close(struct journal *j);

/* A record of a job read back; every string is owned. */
struct journal_record {
	char *source;
	long line;
	char *topic;
	bool has_kafka;
	int32_t partition;
	int64_t offset;
	char *key;		/* NULL when the entry has none */
	char *data;		/* the data object's text */
	size_t data_len;
};

/* A job read back; every string is owned. */
struct journal_job {
	char *job_id;
	char *api_version;
	struct mapping map;	/* topic, sobject, operation, external_id_field */
	struct journal_record *recs;
	size_t n_recs;
	size_t expected;	/* "records" of its job line */
	long line;		/* line of its job line in the file */
	bool done;
};

struct journal_contents {
	struct journal_job *jobs;
	size_t n_jobs;
};

/*
 * Read every entry of the journal at PATH into JC.  Lines that are not
 * valid entries are skipped with a warning naming FILE:LINE.  Returns -1
 * after logging when the file cannot be read; JC is then empty.
 */
int journal_read(const char *path, struct journal_contents *jc,
    const struct logger *lg);

void journal_contents_free(struct journal_contents *jc);

#endif
