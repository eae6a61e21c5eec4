/*
 * batch.c - per-topic queues that turn records into chunks.
 */
#include <stdlib.h>

#include "batch.h"
#include "xalloc.h"

void
batcher_init(struct batcher *b, const struct config *cfg)
{
	size_t i;

	b->base = cfg->mappings;
	b->n_queues = cfg->n_mappings;
	b->queues = xcalloc(cfg->n_mappings, sizeof(*b->queues));
	b->period_ns = cfg->batch_period_ns;
	b->queued = 0;
	b->ready = NULL;

	for (i = 0; i < b->n_queues; i++) {
		struct topic_queue *q = &b->queues[i];
		size_t limit = (size_t)cfg->bulk_batch_size;

		if (cfg->mappings[i].mode == MODE_REALTIME &&
		    limit > COLLECTIONS_MAX_RECORDS)
			limit = COLLECTIONS_MAX_RECORDS;
		q->map = &cfg->mappings[i];
		q->limit = limit;
	}
}

/* Turn the records of Q into a chunk and empty Q. */
static struct chunk *
take_queue(struct topic_queue *q)
{
	struct chunk *c = chunk_new(q->map, q->recs, q->n);

	q->recs = NULL;
	q->n = 0;
	q->cap = 0;
	return c;
}

/* Move the full queue Q to the end of the ready list. */
static void
make_ready(struct batcher *b, struct topic_queue *q)
{
	struct chunk *c = take_queue(q), **pp = &b->ready;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = c;
}

void
batcher_add(struct batcher *b, struct record *rec, int64_t now)
{
	struct topic_queue *q = &b->queues[rec->map - b->base];

	if (q->n == 0)
		q->oldest_ns = now;
	if (q->n == q->cap) {
		q->cap = q->cap == 0 ? 16 : q->cap * 2;
		if (q->cap > q->limit)
			q->cap = q->limit;
		q->recs = xreallocarray(q->recs, q->cap, sizeof(*q->recs));
	}
	q->recs[q->n++] = rec;
	b->queued++;
	if (q->n == q->limit)
		make_ready(b, q);
}

/* Unlink the oldest ready chunk of MODE, or return NULL. */
static struct chunk *
take_ready(struct batcher *b, enum write_mode mode)
{
	struct chunk **pp, *c;

	for (pp = &b->ready; (c = *pp) != NULL; pp = &c->next) {
		if (c->map->mode != mode)
			continue;
		*pp = c->next;
		c->next = NULL;
		return c;
	}
	return NULL;
}

struct chunk *
batcher_take(struct batcher *b, enum write_mode mode, int64_t now,
    bool flush_all)
{
	struct chunk *c = take_ready(b, mode);
	size_t i;

	for (i = 0; c == NULL && i < b->n_queues; i++) {
		struct topic_queue *q = &b->queues[i];

		if (q->n == 0 || q->map->mode != mode)
			continue;
		if (flush_all || now - q->oldest_ns >= b->period_ns)
			c = take_queue(q);
	}
	if (c != NULL)
		b->queued -= c->n;
	return c;
}

int64_t
batcher_deadline(const struct batcher *b)
{
	int64_t due = INT64_MAX;
	size_t i;

	for (i = 0; i < b->n_queues; i++) {
		const struct topic_queue *q = &b->queues[i];

		if (q->n > 0 && q->oldest_ns + b->period_ns < due)
			due = q->oldest_ns + b->period_ns;
	}
	return due;
}

int
batcher_full(const struct batcher *b)
{
	return b->ready != NULL;
}

void
batcher_free(struct batcher *b)
{
	struct chunk *c;
	size_t i, j;

	while ((c = b->ready) != NULL) {
		b->ready = c->next;
		chunk_free(c);
	}
	for (i = 0; i < b->n_queues; i++) {
		for (j = 0; j < b->queues[i].n; j++)
			record_free(b->queues[i].recs[j]);
		free(b->queues[i].recs);
	}
	free(b->queues);
	b->queues = NULL;
	b->n_queues = 0;
}

struct chunk *
chunk_new(const struct mapping *map, struct record **recs, size_t n)
{
	struct chunk *c = xcalloc(1, sizeof(*c));

	c->map = map;
	c->recs = recs;
	c->n = n;
	return c;
}

void
chunk_free(struct chunk *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		record_free(c->recs[i]);
	free(c->recs);
	free(c);
}
