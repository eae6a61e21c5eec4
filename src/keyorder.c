/*
 * keyorder.c - one write at a time per Salesforce record, in input order.
 *
 * A hash table maps each key to a FIFO of the records that name it.  Keys
 * are case-folded, because Salesforce matches external ID values without
 * case unless the field is case-sensitive, and folding only ever makes
 * two records wait for each other needlessly.  Ids are shortened to their
 * 15-character form, the case-sensitive one that the 18-character form
 * extends with a checksum.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyorder.h"
#include "xalloc.h"

struct keyslot {
	char *key;
	uint64_t hash;
	struct record *head;
	struct record *tail;
	struct keyslot *next;	/* in the hash bucket */
};

struct keyorder {
	struct keyslot **buckets;
	size_t n_buckets;	/* a power of two */
	size_t n_slots;
};

struct keyorder *
keyorder_new(void)
{
	struct keyorder *ko = xcalloc(1, sizeof(*ko));

	ko->n_buckets = 64;
	ko->buckets = xcalloc(ko->n_buckets, sizeof(*ko->buckets));
	return ko;
}

/* Copy N bytes of S to P in lower case; returns the byte after them. */
static char *
put_lower(char *p, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		*p++ = (char)tolower((unsigned char)s[i]);
	return p;
}

/*
 * Build the scoped, case-folded key of REC; the caller frees it.  Upserts
 * are scoped by sObject and external ID field ("x", 0x1F separators);
 * other operations by the first 15 characters of the Id ("i").
 */
static char *
scoped_key(const struct record *rec)
{
	const struct mapping *map = rec->map;
	size_t obj, field, key = strlen(rec->key);
	char *k, *p;

	if (map->operation != OP_UPSERT) {
		key = key < 15 ? key : 15;
		k = xmalloc(key + 3);
		p = put_lower(k, "i\037", 2);
		*put_lower(p, rec->key, key) = '\0';
		return k;
	}

	obj = strlen(map->sobject);
	field = strlen(map->external_id_field);
	k = xmalloc(obj + field + key + 5);
	p = put_lower(k, "x\037", 2);
	p = put_lower(p, map->sobject, obj);
	*p++ = '\037';
	p = put_lower(p, map->external_id_field, field);
	*p++ = '\037';
	*put_lower(p, rec->key, key) = '\0';
	return k;
}

static uint64_t
hash_string(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
grow(struct keyorder *ko)
{
	size_t n = ko->n_buckets * 2, i;
	struct keyslot **b = xcalloc(n, sizeof(*b)), *s, *next;

	for (i = 0; i < ko->n_buckets; i++) {
		for (s = ko->buckets[i]; s != NULL; s = next) {
			next = s->next;
			s->next = b[s->hash & (n - 1)];
			b[s->hash & (n - 1)] = s;
		}
	}
	free(ko->buckets);
	ko->buckets = b;
	ko->n_buckets = n;
}

/* Find the slot of KEY, creating it when missing; takes KEY over. */
static struct keyslot *
lookup(struct keyorder *ko, char *key)
{
	uint64_t h = hash_string(key);
	struct keyslot *s;

	for (s = ko->buckets[h & (ko->n_buckets - 1)]; s != NULL; s = s->next) {
		if (s->hash == h && strcmp(s->key, key) == 0) {
			free(key);
			return s;
		}
	}
	if (ko->n_slots + 1 > ko->n_buckets / 4 * 3)
		grow(ko);
	s = xcalloc(1, sizeof(*s));
	s->key = key;
	s->hash = h;
	s->next = ko->buckets[h & (ko->n_buckets - 1)];
	ko->buckets[h & (ko->n_buckets - 1)] = s;
	ko->n_slots++;
	return s;
}

void
keyorder_add(struct keyorder *ko, struct record *rec)
{
	struct keyslot *s;

	if (rec->key == NULL)
		return;
	s = lookup(ko, scoped_key(rec));
	rec->key_slot = s;
	rec->key_next = NULL;
	if (s->tail != NULL)
		s->tail->key_next = rec;
	else
		s->head = rec;
	s->tail = rec;
}

bool
keyorder_ready(const struct record *rec)
{
	return rec->key_slot == NULL || rec->key_slot->head == rec;
}

static void
drop_slot(struct keyorder *ko, struct keyslot *slot)
{
	struct keyslot **pp = &ko->buckets[slot->hash & (ko->n_buckets - 1)];

	while (*pp != slot)
		pp = &(*pp)->next;
	*pp = slot->next;
	free(slot->key);
	free(slot);
	ko->n_slots--;
}

void
keyorder_remove(struct keyorder *ko, struct record *rec)
{
	struct keyslot *s = rec->key_slot;
	struct record **pp, *prev = NULL;

	if (s == NULL)
		return;
	for (pp = &s->head; *pp != rec; pp = &(*pp)->key_next)
		prev = *pp;
	*pp = rec->key_next;
	if (s->tail == rec)
		s->tail = prev;
	rec->key_slot = NULL;
	rec->key_next = NULL;
	if (s->head == NULL)
		drop_slot(ko, s);
}

void
keyorder_free(struct keyorder *ko)
{
	struct keyslot *s, *next;
	size_t i;

	if (ko == NULL)
		return;
	for (i = 0; i < ko->n_buckets; i++) {
		for (s = ko->buckets[i]; s != NULL; s = next) {
			next = s->next;
			free(s->key);
			free(s);
		}
	}
	free(ko->buckets);
	free(ko);
}
