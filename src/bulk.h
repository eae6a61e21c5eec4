/*
 * bulk.h - writes through Bulk API 2.0 ingest jobs.
 *
 * A chunk of a bulk mapping becomes one job: create, upload the CSV,
 * close, poll every bulk_poll_interval until the job ends, then download
 * the successful, failed and unprocessed results and map every row back to
 * its input record.  A chunk whose CSV would pass the upload limit (100 MB,
 * see BULK_MAX_UPLOAD_BYTES) becomes several jobs, run one after the
 * other.  Every record of the chunk gets exactly one result, and every
 * result of a record that reached a job carries the job's id.
 *
 * Polling a closed job gives up after --bulk-wait (sink_options), or
 * --shutdown-wait after a signal.  With --journal, each job's records are
 * appended to the journal (journal.h) before its close, and the entry is
 * marked done once their final results are written.
 */
#ifndef SFSINK_BULK_H
#define SFSINK_BULK_H

#include "batch.h"
#include "sink.h"

/*
 * Largest CSV upload of one job.  Salesforce takes at most 150 MB per job
 * after base64 encoding, which it documents as 100 MB of raw data
 * ("Upload Job Data", Bulk API 2.0 Developer Guide).
 */
#define BULK_MAX_UPLOAD_BYTES	(100UL * 1024 * 1024)

/*
 * Environment variable that lowers BULK_MAX_UPLOAD_BYTES, for tests only:
 * it lets a test cut jobs without sending 100 MB.
 */
#define BULK_MAX_UPLOAD_ENV	"SFSINK_BULK_MAX_UPLOAD_BYTES"

/* Run the jobs of CHUNK; it comes back through sink_chunk_done() with all results written. */
void bulk_send(struct sink *s, struct chunk *chunk);

/*
 * --resume: collect the results of the closed job JOB_ID (created under
 * API_VERSION) whose records, as the journal keeps them, make CHUNK.  The
 * job is polled, its results matched as in the run that created it, and
 * CHUNK comes back through sink_chunk_done().
 */
void bulk_resume(struct sink *s, struct chunk *chunk, const char *job_id,
    const char *api_version);

/*
 * The run is stopping for a signal (s->signal_ns is set): bring every
 * pending poll forward to the job's --shutdown-wait deadline.  Jobs not
 * yet closed are aborted at their next step.
 */
void bulk_stop(struct sink *s);

/*
 * A second signal ends the run at once: write a result, naming the job,
 * for every record of every bulk job under way that has none yet.
 */
void bulk_abandon(struct sink *s);

#endif
