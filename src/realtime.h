/*
 * realtime.h - writes through the sObject Collections REST API.
 *
 * Every 200 records of a chunk become one request: POST
 * composite/sobjects (insert), PATCH composite/sobjects (update), PATCH
 * composite/sobjects/{SObject}/{external_id_field} (upsert) or DELETE
 * composite/sobjects?ids=... (delete).  Each record carries
 * attributes.type, and every field value is copied from the input text.
 * When Salesforce rejects a whole request with 400, nothing was written:
 * unless all_or_none is set the chunk is split in halves and resent, one
 * half after the other, until the error lands on the record that causes
 * it.
 */
#ifndef SFSINK_REALTIME_H
#define SFSINK_REALTIME_H

#include "batch.h"
#include "sink.h"

/*
 * Build the request for the N records of CHUNK from FIRST on (at most
 * 200) without sending it, for --dry-run: *PATH (from the instance URL)
 * and *BODY (NULL for delete) are the caller's to free.
 */
void realtime_build(struct sink *s, struct chunk *chunk, size_t first,
    size_t n, const char **method, char **path, char **body,
    size_t *body_len);

/* Send CHUNK; it comes back through sink_chunk_done() with all results written. */
void realtime_send(struct sink *s, struct chunk *chunk);

#endif
