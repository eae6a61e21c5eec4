/*
 * batch.h - per-topic queues that turn records into chunks.
 *
 * Every mapping has one queue.  A queue becomes a chunk when it is full,
 * when batch_period has passed since its oldest record, or when the caller
 * flushes everything at the end of input.  A realtime queue takes at most
 * 200 records (the sObject Collections maximum), or bulk_batch_size when
 * that is smaller; a bulk or auto queue takes bulk_batch_size records.
 * A chunk of an auto mapping goes through Bulk API 2.0 when it holds at
 * least bulk_threshold records and through sObject Collections otherwise.  A full
 * queue becomes a ready chunk at once and the queue starts again; the
 * caller stops reading while enough chunks are ready and not yet taken
 * (batcher_full()), which bounds memory by that many chunks plus what one
 * read brings in.
 */
#ifndef SFSINK_BATCH_H
#define SFSINK_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "record.h"

#define COLLECTIONS_MAX_RECORDS	200

/* Records of one mapping, sent together; owns the records. */
struct chunk {
	const struct mapping *map;
	enum write_mode mode;	/* how it is sent: realtime or bulk, never auto */
	struct record **recs;
	size_t n;
	struct chunk *next;	/* free for the owner's lists */
	struct chunk *sending_next;	/* the sink's list of chunks in flight */
};

struct topic_queue {
	const struct mapping *map;
	struct record **recs;
	size_t n;
	size_t cap;		/* allocated entries of recs */
	size_t limit;
	int64_t oldest_ns;	/* arrival of recs[0] */
	struct record **held;	/* taken, but waiting for their key */
	size_t n_held;
	size_t cap_held;
};

struct batcher {
	const struct mapping *base;	/* cfg->mappings, to index queues */
	struct topic_queue *queues;
	size_t n_queues;
	int64_t period_ns;
	size_t queued;			/* records in queues and ready chunks */
	struct chunk *ready;		/* full chunks, oldest first */
};

void batcher_init(struct batcher *b, const struct config *cfg);

/* Queue REC (whose map is set) at time NOW. */
void batcher_add(struct batcher *b, struct record *rec, int64_t now);

/*
 * Take one chunk of a mapping in MODE that is due at NOW: held records
 * whose key has become free, a full queue, one whose period has passed,
 * or, with FLUSH_ALL, any non-empty queue.  Records whose key is still
 * busy (see keyorder.h) are held back, in input order, and are not part
 * of the chunk.  NULL when nothing can be sent.
 */
struct chunk *batcher_take(struct batcher *b, enum write_mode mode,
    int64_t now, bool flush_all);

/* Earliest time a partial queue becomes due, or INT64_MAX. */
int64_t batcher_deadline(const struct batcher *b);

/* Take every queued and held record, whatever its key (the run is ending). */
struct chunk *batcher_take_any(struct batcher *b);

/*
 * Nonzero while at least LIMIT full chunks wait to be taken: reading must
 * pause.  Keeping as many ready as requests can be in flight lets every
 * slot freed by one batch of responses be filled at once.
 */
int batcher_full(const struct batcher *b, size_t limit);

void batcher_free(struct batcher *b);

/* The mode a chunk of N records of MAP is sent with: MODE_REALTIME or MODE_BULK. */
enum write_mode chunk_mode(const struct mapping *map, size_t n);

/* A chunk of the N records in RECS, whose array it takes over. */
struct chunk *chunk_new(const struct mapping *map, struct record **recs,
    size_t n);

/* Free the chunk and every record still in it. */
void chunk_free(struct chunk *c);

#endif
