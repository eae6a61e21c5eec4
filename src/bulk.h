/*
 * bulk.h - writes through Bulk API 2.0 ingest jobs.
 *
 * A chunk of a bulk mapping becomes one job: create, upload the CSV,
 * close, poll every bulk_poll_interval until the job ends, then download
 * the successful, failed and unprocessed results and map every row back to
 * its input record.  Every record of the chunk gets exactly one result.
 */
#ifndef SFSINK_BULK_H
#define SFSINK_BULK_H

#include "batch.h"
#include "sink.h"

/* Run a job for CHUNK; it comes back through sink_chunk_done() with all results written. */
void bulk_send(struct sink *s, struct chunk *chunk);

#endif
