/*
 * envelope.c - the two input line formats.
 *
 * Each line must be JSON that jansson accepts, with no duplicate key (which
 * would make the record ambiguous).  A line that jsoncheck is sure of
 * takes the fast path: jsonscan finds its members in the text, and a kcat
 * payload is decoded with jsonscan_string().  Every other line, all errors
 * included, is parsed by jansson.  Either way the data object is copied
 * from the original text, so that its values travel unchanged.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "envelope.h"
#include "jsoncheck.h"
#include "jsonscan.h"
#include "xalloc.h"

/*
 * Integers are decoded as reals so that a 20-digit number does not make
 * jansson reject the line; the value itself is never used.
 */
#define DECODE_FLAGS	(JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL)

static int
fail(const char **code, const char *what, char *msg, size_t msglen,
    const char *text)
{
	*code = what;
	snprintf(msg, msglen, "%s", text);
	return -1;
}

static json_t *
parse_object(const char *text, size_t len, const char *what, const char **code,
    char *msg, size_t msglen)
{
	const char *nul = memchr(text, '\0', len);
	json_error_t err;
	json_t *root;

	/*
	 * JSON allows no raw NUL byte, but jansson 2.14 accepts one after a
	 * value, and jsonscan stops there: the members after it would be
	 * dropped without a word.
	 */
	if (nul != NULL) {
		*code = "INVALID_JSON";
		snprintf(msg, msglen, "%s contains a NUL byte at column %zu",
		    what, (size_t)(nul - text) + 1);
		return NULL;
	}
	root = json_loadb(text, len, DECODE_FLAGS, &err);
	if (root == NULL) {
		*code = "INVALID_JSON";
		snprintf(msg, msglen, "%s is not valid JSON: %s at column %d",
		    what, err.text, err.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*code = "INVALID_JSON";
		snprintf(msg, msglen, "%s is not a JSON object", what);
		return NULL;
	}
	return root;
}

/* Copy the text of member "data" of the object in TEXT into REC. */
static int
take_data(struct record *rec, json_t *obj, const char *text, size_t len,
    const char **code, char *msg, size_t msglen)
{
	struct json_member m;
	json_t *data = json_object_get(obj, "data");

	if (data == NULL)
		return fail(code, "INVALID_DATA", msg, msglen,
		    "record has no \"data\" member; expected {\"topic\": ..., \"data\": {...}}");
	if (!json_is_object(data))
		return fail(code, "INVALID_DATA", msg, msglen,
		    "\"data\" is not a JSON object");
	if (!jsonscan_find(text, len, "data", false, &m))
		return fail(code, "INVALID_JSON", msg, msglen,
		    "cannot locate \"data\" in the line");

	rec->data = xstrndup(m.value, m.value_len);
	rec->data_len = m.value_len;
	return 0;
}

static int
take_topic(struct record *rec, json_t *obj, const char **code, char *msg,
    size_t msglen)
{
	json_t *topic = json_object_get(obj, "topic");

	if (topic == NULL)
		return fail(code, "MISSING_TOPIC", msg, msglen,
		    "record has no \"topic\" member");
	if (!json_is_string(topic) || json_string_length(topic) == 0)
		return fail(code, "MISSING_TOPIC", msg, msglen,
		    "\"topic\" is not a non-empty string");
	rec->topic = xstrdup(json_string_value(topic));
	return 0;
}

static int
take_kafka_position(struct record *rec, json_t *env)
{
	json_t *partition = json_object_get(env, "partition");
	json_t *offset = json_object_get(env, "offset");
	double p, o;

	if (!json_is_number(partition) || !json_is_number(offset))
		return -1;
	p = json_number_value(partition);
	o = json_number_value(offset);
	/* Kafka's partitions are int32 and its offsets int64, both from 0. */
	if (!(p >= 0 && p <= INT32_MAX && floor(p) == p) ||
	    !(o >= 0 && o < 0x1p63 && floor(o) == o))
		return -1;
	rec->has_kafka = true;
	rec->partition = (int32_t)p;
	rec->offset = (int64_t)o;
	return 0;
}

/* kcat -J: the record is in "payload", a string holding JSON. */
static int
parse_kcat(struct record *rec, json_t *env, const char **code, char *msg,
    size_t msglen)
{
	json_t *payload = json_object_get(env, "payload");
	json_t *inner;
	const char *text;
	size_t len;
	int rc;

	if (take_kafka_position(rec, env) == -1)
		return fail(code, "INVALID_PAYLOAD", msg, msglen,
		    "kcat envelope has no \"partition\" and \"offset\" "
		    "that are integers from 0");
	if (json_is_null(payload))
		return fail(code, "INVALID_PAYLOAD", msg, msglen,
		    "kcat payload is null (a tombstone), not a record");
	if (!json_is_string(payload))
		return fail(code, "INVALID_PAYLOAD", msg, msglen,
		    "kcat payload is not a string");

	text = json_string_value(payload);
	len = json_string_length(payload);
	inner = parse_object(text, len, "kcat payload", code, msg, msglen);
	if (inner == NULL) {
		*code = "INVALID_PAYLOAD";
		return -1;
	}

	if (json_is_string(json_object_get(inner, "topic")) &&
	    json_is_object(json_object_get(inner, "data"))) {
		rc = take_topic(rec, inner, code, msg, msglen);
		if (rc == 0)
			rc = take_data(rec, inner, text, len, code, msg, msglen);
	} else {
		rc = take_topic(rec, env, code, msg, msglen);
		if (rc == 0) {
			rec->data = xstrndup(text, len);
			rec->data_len = len;
		}
	}
	json_decref(inner);
	return rc;
}

/* The members of a line that the fast paths read; a NULL value if absent. */
struct members {
	struct json_member topic, data, payload, partition, offset;
};

/* Find the members of the object TEXT, which jsoncheck accepted. */
static int
find_members(const char *text, size_t len, struct members *f)
{
	struct json_member m;
	struct jsonscan js;

	memset(f, 0, sizeof(*f));
	if (jsonscan_init(&js, text, len) == -1)
		return -1;
	while (jsonscan_next(&js, &m) == 1) {
		if (json_member_is(&m, "topic", false))
			f->topic = m;
		else if (json_member_is(&m, "data", false))
			f->data = m;
		else if (json_member_is(&m, "payload", false))
			f->payload = m;
		else if (json_member_is(&m, "partition", false))
			f->partition = m;
		else if (json_member_is(&m, "offset", false))
			f->offset = m;
	}
	return 0;
}

static bool
is_string(const struct json_member *m)
{
	return m->value != NULL && m->value[0] == '"';
}

/* Return true for a non-empty string without escapes. */
static bool
is_plain_topic(const struct json_member *m)
{
	return is_string(m) && m->value_len >= 3 &&
	    memchr(m->value, '\\', m->value_len) == NULL;
}

/*
 * Take the topic and data of a plain record.  Returns -1, having set
 * nothing, unless the topic is a plain string and data an object: jansson
 * then decodes the topic or words the error.
 */
static int
take_plain(const struct members *f, struct record *rec)
{
	if (!is_plain_topic(&f->topic) || f->data.value == NULL ||
	    f->data.value[0] != '{')
		return -1;

	rec->topic = xstrndup(f->topic.value + 1, f->topic.value_len - 2);
	rec->data = xstrndup(f->data.value, f->data.value_len);
	rec->data_len = f->data.value_len;
	return 0;
}

/* Read a partition or offset written as digits only, at most MAX. */
static int
plain_position(const struct json_member *m, int64_t max, int64_t *out)
{
	int64_t v = 0;
	size_t i;
	int d;

	if (m->value == NULL || m->value_len == 0)
		return -1;
	for (i = 0; i < m->value_len; i++) {
		if (m->value[i] < '0' || m->value[i] > '9')
			return -1;
		d = m->value[i] - '0';
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * Take a kcat -J envelope the way parse_kcat() does, without jansson.
 * Returns -1, having set nothing, for anything but the common case:
 * integer positions, and a payload string holding an object that
 * jsoncheck accepts, either a whole record or the data itself.
 */
static int
take_kcat(const struct members *f, struct record *rec)
{
	struct members inner;
	struct buf payload;
	int64_t partition, offset;
	int rc = -1;

	if (!is_string(&f->payload) ||
	    plain_position(&f->partition, INT32_MAX, &partition) == -1 ||
	    plain_position(&f->offset, INT64_MAX, &offset) == -1)
		return -1;

	buf_init(&payload, 0);
	if (jsonscan_string(f->payload.value, f->payload.value_len,
	    &payload) == 0 && payload.data != NULL &&
	    jsoncheck_object(payload.data, payload.len) &&
	    find_members(payload.data, payload.len, &inner) == 0) {
		if (is_string(&inner.topic) && inner.data.value != NULL &&
		    inner.data.value[0] == '{') {
			rc = take_plain(&inner, rec);
		} else if (is_plain_topic(&f->topic)) {
			rec->topic = xstrndup(f->topic.value + 1,
			    f->topic.value_len - 2);
			rec->data = xstrndup(payload.data, payload.len);
			rec->data_len = payload.len;
			rc = 0;
		}
	}
	buf_free(&payload);
	if (rc == 0) {
		rec->has_kafka = true;
		rec->partition = (int32_t)partition;
		rec->offset = offset;
	}
	return rc;
}

/* Take LINE without jansson when jsoncheck is sure of it; -1 otherwise. */
static int
take_fast(const char *line, size_t len, struct record *rec)
{
	struct members f;

	if (!jsoncheck_object(line, len) || find_members(line, len, &f) == -1)
		return -1;
	if (f.payload.value != NULL && f.data.value == NULL)
		return take_kcat(&f, rec);
	return take_plain(&f, rec);
}

int
envelope_parse(const char *line, size_t len, struct record *rec,
    const char **code, char *msg, size_t msglen)
{
	json_t *root;
	int rc;

	if (take_fast(line, len, rec) == 0)
		return 0;

	root = parse_object(line, len, "line", code, msg, msglen);
	if (root == NULL)
		return -1;

	if (json_object_get(root, "payload") != NULL &&
	    json_object_get(root, "data") == NULL) {
		rc = parse_kcat(rec, root, code, msg, msglen);
	} else {
		rc = take_topic(rec, root, code, msg, msglen);
		if (rc == 0)
			rc = take_data(rec, root, line, len, code, msg, msglen);
	}
	json_decref(root);
	return rc;
}
