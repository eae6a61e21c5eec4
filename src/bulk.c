/*
 * bulk.c - writes through Bulk API 2.0 ingest jobs.
 */
#include "bulk.h"

void
bulk_send(struct sink *s, struct chunk *chunk)
{
	size_t i;

	/* TODO: Bulk API 2.0 jobs; until then bulk records are not sent. */
	for (i = 0; i < chunk->n; i++)
		results_error(&s->results, chunk->recs[i], RESULT_NOT_PROCESSED,
		    "NOT_IMPLEMENTED", "mode bulk is not implemented yet");
	sink_chunk_done(s, chunk);
}
