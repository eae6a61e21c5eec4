/*
 * record.c - allocation of input records.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonscan.h"
#include "record.h"
#include "xalloc.h"

struct record *
record_new(const char *source, long line)
{
	struct record *rec = xcalloc(1, sizeof(*rec));

	rec->source = source;
	rec->line = line;
	return rec;
}

void
record_free(struct record *rec)
{
	if (rec == NULL)
		return;
	free(rec->topic);
	free(rec->data);
	free(rec->key);
	free(rec->raw);
	free(rec);
}

static bool
valid_id(const char *s, size_t n)
{
	size_t i;

	if (n != 15 && n != 18)
		return false;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]))
			return false;
	}
	return true;
}

static int
take_id(struct record *rec, const char **code, char *msg, size_t msglen)
{
	struct json_member m;

	if (!jsonscan_find(rec->data, rec->data_len, "Id", true, &m)) {
		*code = "MISSING_ID";
		snprintf(msg, msglen, "%s needs the record's \"Id\" in data",
		    operation_name(rec->map->operation));
		return -1;
	}
	if (m.value_len < 2 || m.value[0] != '"' ||
	    !valid_id(m.value + 1, m.value_len - 2)) {
		*code = "INVALID_ID";
		snprintf(msg, msglen, "\"Id\" is %.*s; expected a string of 15 "
		    "or 18 letters and digits", (int)(m.value_len > 40 ? 40 :
		    m.value_len), m.value);
		return -1;
	}
	rec->key = xstrndup(m.value + 1, m.value_len - 2);
	return 0;
}

static int
take_external_id(struct record *rec, const char **code, char *msg,
    size_t msglen)
{
	const char *field = rec->map->external_id_field;
	struct json_member m;
	struct buf key;

	*code = "MISSING_EXTERNAL_ID";
	if (!jsonscan_find(rec->data, rec->data_len, field, true, &m)) {
		snprintf(msg, msglen, "upsert needs a value for the external ID "
		    "field \"%s\" in data", field);
		return -1;
	}
	if (m.value_len > 2 && m.value[0] == '"' &&
	    memchr(m.value, '\\', m.value_len) == NULL) {
		/* The common case needs no decoding: copy between the quotes. */
		rec->key = xstrndup(m.value + 1, m.value_len - 2);
	} else if (m.value[0] == '-' || isdigit((unsigned char)m.value[0])) {
		rec->key = xstrndup(m.value, m.value_len);
	} else if (m.value[0] == '"') {
		buf_init(&key, 0);
		if (jsonscan_string(m.value, m.value_len, &key) == 0 &&
		    key.len > 0)
			rec->key = buf_steal(&key, NULL);
		buf_free(&key);
	}
	if (rec->key == NULL) {
		snprintf(msg, msglen, "external ID field \"%s\" must be a "
		    "non-empty string or a number", field);
		return -1;
	}
	return 0;
}

int
record_validate(struct record *rec, const char **code, char *msg,
    size_t msglen)
{
	switch (rec->map->operation) {
	case OP_UPDATE:
	case OP_DELETE:
	case OP_HARD_DELETE:
		return take_id(rec, code, msg, msglen);
	case OP_UPSERT:
		return take_external_id(rec, code, msg, msglen);
	case OP_INSERT:
		break;
	}
	return 0;
}
