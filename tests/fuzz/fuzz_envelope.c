/*
 * fuzz_envelope.c - one input line, as sink.c handles it: envelope_parse(),
 * routing, record_validate() and the result line.  The data object of every
 * line that parses is also walked with jsonscan and checked against
 * jansson: the same members, in the same order, with equal values, and
 * strings decoded by jsonscan_string() to the same bytes.  The record's
 * topic, data and Kafka position are also compared with what jansson
 * reads in the line, so envelope.c's fast path must agree with its slow
 * one.
 *
 * Input: the bytes of one line, without its line ending.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "envelope.h"
#include "fuzz.h"
#include "jsonscan.h"
#include "record.h"
#include "results.h"

/* Abort unless jsonscan_string() decodes M's value as jansson did. */
static void
check_string(const struct json_member *m, const json_t *value)
{
	struct buf decoded;

	buf_init(&decoded, 0);
	if (jsonscan_string(m->value, m->value_len, &decoded) == -1 ||
	    decoded.len != json_string_length(value) ||
	    memcmp(decoded.data != NULL ? decoded.data : "",
	    json_string_value(value), decoded.len) != 0)
		abort();
	buf_free(&decoded);
}

/* Abort unless jsonscan finds exactly the members jansson finds in TEXT. */
static void
check_jsonscan(const char *text, size_t len)
{
	size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL;
	json_t *obj = json_loadb(text, len, flags, NULL), *value, *scanned;
	struct json_member m, found;
	struct jsonscan js;
	const char *key;
	void *it;

	if (!json_is_object(obj))
		abort();	/* envelope_parse() returned data jansson refuses */
	if (jsonscan_init(&js, text, len) == -1)
		abort();
	for (it = json_object_iter(obj); it != NULL;
	    it = json_object_iter_next(obj, it)) {
		key = json_object_iter_key(it);
		value = json_object_iter_value(it);
		if (jsonscan_next(&js, &m) != 1 || !json_member_is(&m, key, false))
			abort();
		scanned = json_loadb(m.value, m.value_len,
		    flags | JSON_DECODE_ANY, NULL);
		if (scanned == NULL || !json_equal(scanned, value))
			abort();
		json_decref(scanned);
		if (json_is_string(value))
			check_string(&m, value);
		if (jsonscan_find(text, len, key, false, &found) != 1 ||
		    found.value != m.value)
			abort();
	}
	if (jsonscan_next(&js, &m) != 0)
		abort();
	json_decref(obj);
}

/* Abort unless jansson finds REC's topic, data and position in LINE. */
static void
check_envelope(const char *line, size_t len, const struct record *rec)
{
	size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL;
	json_t *root = json_loadb(line, len, flags, NULL), *inner = NULL;
	json_t *payload = json_object_get(root, "payload"), *topic, *want, *got;

	topic = json_object_get(root, "topic");
	want = json_object_get(root, "data");
	if (payload != NULL && want == NULL) {
		if (!rec->has_kafka || (double)rec->partition !=
		    json_number_value(json_object_get(root, "partition")) ||
		    (double)rec->offset !=
		    json_number_value(json_object_get(root, "offset")))
			abort();
		inner = json_loadb(json_string_value(payload),
		    json_string_length(payload), flags, NULL);
		want = inner;
		if (json_is_string(json_object_get(inner, "topic")) &&
		    json_is_object(json_object_get(inner, "data"))) {
			topic = json_object_get(inner, "topic");
			want = json_object_get(inner, "data");
		}
	} else if (rec->has_kafka) {
		abort();
	}
	if (!json_is_string(topic) ||
	    strcmp(json_string_value(topic), rec->topic) != 0)
		abort();
	got = json_loadb(rec->data, rec->data_len, flags, NULL);
	if (got == NULL || !json_equal(got, want))
		abort();
	json_decref(got);
	json_decref(inner);
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct results res;
	struct record *rec;
	char *line = fuzz_strndup(data, size), msg[512];
	const char *code = NULL;

	results_init(&res, fuzz_devnull(), "fuzz", fuzz_logger());
	rec = record_new("fuzz", 1);
	rec->raw = line;
	rec->raw_len = size;
	if (envelope_parse(line, size, rec, &code, msg, sizeof(msg)) == -1) {
		results_error(&res, rec, RESULT_REJECTED, code, "%s", msg);
	} else {
		check_jsonscan(rec->data, rec->data_len);
		check_envelope(line, size, rec);
		rec->map = config_find_mapping(fuzz_config(), rec->topic);
		if (rec->map == NULL)
			results_error(&res, rec, RESULT_REJECTED, "UNKNOWN_TOPIC",
			    "topic \"%.200s\"", rec->topic);
		else if (record_validate(rec, &code, msg, sizeof(msg)) == -1)
			results_error(&res, rec, RESULT_REJECTED, code, "%s", msg);
		else
			results_ok(&res, rec, rec->key, -1, NULL);
	}
	if (results_total(&res) != 1)
		abort();
	record_free(rec);	/* frees line as rec->raw */
	results_free(&res);
	return 0;
}
