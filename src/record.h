/*
 * record.h - one input record on its way to Salesforce.
 *
 * A record is created for every non-blank input line, including lines that
 * are rejected before anything is sent, because every line is owed exactly
 * one result.  The record owns its strings; `source` and `map` are borrowed
 * from the input and the configuration, which outlive every record.
 */
#ifndef SFSINK_RECORD_H
#define SFSINK_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct keyslot;

struct record {
	const char *source;		/* file name as given, "-" for stdin */
	long line;			/* 1-based physical line */
	char *topic;			/* NULL when the line had none */
	const struct mapping *map;	/* NULL until routed */
	enum write_mode mode;		/* map's mode; once sent, the mode used */
	char *data;			/* original text of the data object */
	size_t data_len;
	char *key;	/* Id (update, delete) or external ID value (upsert) */
	char *raw;	/* the input line, kept only for --rejects */
	size_t raw_len;
	struct keyslot *key_slot;	/* the key's queue, see keyorder.h */
	struct record *key_next;	/* next record with the same key */
	bool has_result;		/* set once its result line is written */
	unsigned int retries;	/* resends after a transient per-record error */
	bool has_kafka;
	int32_t partition;
	int64_t offset;
};

struct record *record_new(const char *source, long line);
void record_free(struct record *rec);



/*
 * Check that REC can be sent for its mapping and set rec->key: update and
 * delete need an "Id" of 15 or 18 letters and digits, upsert a non-empty
 * string or number in the external ID field (names match without case, as
 * in Salesforce).  Returns 0, or -1 with a static code and a message.
 */
int record_validate(struct record *rec, const char **code, char *msg,
    size_t msglen);
#endif
