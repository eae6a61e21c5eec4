/*
 * batch.c - per-topic queues that turn records into chunks.
 */
#include <stdlib.h>

#include "batch.h"
#include "keyorder.h"
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
		if (c->mode != mode)
			continue;
		*pp = c->next;
		c->next = NULL;
		return c;
	}
	return NULL;
}

static void
hold(struct topic_queue *q, struct record *rec)
{
	if (q->n_held == q->cap_held) {
		q->cap_held = q->cap_held ? q->cap_held * 2 : 16;
		q->held = xreallocarray(q->held, q->cap_held, sizeof(*q->held));
	}
	q->held[q->n_held++] = rec;
}

/* Hold back the records of C whose key is busy; C may become empty. */
static void
hold_busy(struct batcher *b, struct chunk *c)
{
	struct topic_queue *q = &b->queues[c->map - b->base];
	size_t i, kept = 0;

	for (i = 0; i < c->n; i++) {
		if (keyorder_ready(c->recs[i]))
			c->recs[kept++] = c->recs[i];
		else
			hold(q, c->recs[i]);
	}
	b->queued -= kept;
	c->n = kept;
}

/* How many held records of Q take_held() would take now. */
static size_t
count_held(const struct topic_queue *q)
{
	size_t i, n = 0;

	for (i = 0; i < q->n_held && n < q->limit; i++) {
		if (keyorder_ready(q->held[i]))
			n++;
	}
	return n;
}

/* A chunk of the held records of Q whose key is free, or NULL. */
static struct chunk *
take_held(struct topic_queue *q)
{
	struct record **recs = NULL;
	size_t i, n = 0, kept = 0;

	for (i = 0; i < q->n_held; i++) {
		struct record *rec = q->held[i];

		if (n < q->limit && keyorder_ready(rec)) {
			if (recs == NULL)
				recs = xcalloc(q->limit, sizeof(*recs));
			recs[n++] = rec;
		} else {
			q->held[kept++] = rec;
		}
	}
	q->n_held = kept;
	return n == 0 ? NULL : chunk_new(q->map, recs, n);
}

/* The next chunk of MODE before holding busy keys back, or NULL. */
static struct chunk *
take_due(struct batcher *b, enum write_mode mode, int64_t now, bool flush_all)
{
	struct chunk *c = take_ready(b, mode);
	size_t i;

	for (i = 0; c == NULL && i < b->n_queues; i++) {
		struct topic_queue *q = &b->queues[i];

		if (q->n == 0 || chunk_mode(q->map, q->n) != mode)
			continue;
		if (flush_all || now - q->oldest_ns >= b->period_ns)
			c = take_queue(q);
	}
	return c;
}

struct chunk *
batcher_take(struct batcher *b, enum write_mode mode, int64_t now,
    bool flush_all)
{
	struct chunk *c;
	size_t i;

	for (i = 0; i < b->n_queues; i++) {
		if (b->queues[i].n_held == 0 ||
		    chunk_mode(b->queues[i].map, count_held(&b->queues[i])) != mode)
			continue;
		c = take_held(&b->queues[i]);
		if (c != NULL) {
			b->queued -= c->n;
			return c;
		}
	}

	while ((c = take_due(b, mode, now, flush_all)) != NULL) {
		hold_busy(b, c);
		if (c->n > 0)
			return c;
		chunk_free(c);
	}
	return NULL;
}

struct chunk *
batcher_take_any(struct batcher *b)
{
	struct chunk *c = NULL;
	size_t i;

	for (i = 0; c == NULL && i < b->n_queues; i++) {
		struct topic_queue *q = &b->queues[i];

		if (q->n_held > 0) {
			c = chunk_new(q->map, q->held, q->n_held);
			q->held = NULL;
			q->n_held = q->cap_held = 0;
		}
	}
	if (c == NULL)
		c = take_due(b, MODE_REALTIME, 0, true);
	if (c == NULL)
		c = take_due(b, MODE_BULK, 0, true);
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
batcher_full(const struct batcher *b, size_t limit)
{
	const struct chunk *c;
	size_t n = 0;

	for (c = b->ready; c != NULL && n < limit; c = c->next)
		n++;
	return n >= limit;
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
		for (j = 0; j < b->queues[i].n_held; j++)
			record_free(b->queues[i].held[j]);
		free(b->queues[i].recs);
		free(b->queues[i].held);
	}
	free(b->queues);
	b->queues = NULL;
	b->n_queues = 0;
}

enum write_mode
chunk_mode(const struct mapping *map, size_t n)
{
	if (map->mode != MODE_AUTO)
		return map->mode;
	return (int64_t)n >= map->bulk_threshold ? MODE_BULK : MODE_REALTIME;
}

struct chunk *
chunk_new(const struct mapping *map, struct record **recs, size_t n)
{
	struct chunk *c = xcalloc(1, sizeof(*c));

	c->map = map;
	c->mode = chunk_mode(map, n);
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
