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

#endif
