/*
 * fuzz_jsoncheck.c - jsoncheck against jansson.
 *
 * jsoncheck_object() and jsoncheck_array() may return "sure" only for
 * text that jansson accepts as an object or an array with the flags
 * envelope.c uses, so the harness aborts on any other text they accept.
 * It also checks the reverse: jsoncheck must accept the object that
 * jansson prints back from that text, when the print has no escapes and
 * no number that jsoncheck leaves to jansson.  A checker that rejects too
 * much would lose the fast path without failing any other test.
 *
 * Input: the bytes of one line, without its line ending.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jsoncheck.h"

#define FLAGS	(JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL)

/* Objects and arrays nested at most 8 deep, with short numbers only. */
static int
plain_enough(const json_t *v, int depth)
{
	const char *key;
	json_t *item;
	size_t i;

	if (depth > 8)
		return 0;
	if (json_is_real(v))
		return json_real_value(v) == 0 ||
		    (json_real_value(v) > -1e200 && json_real_value(v) < 1e200 &&
		    (json_real_value(v) > 1e-200 || json_real_value(v) < -1e-200));
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (!plain_enough(item, depth + 1))
				return 0;
	}
	if (json_is_object(v)) {
		if (json_object_size(v) > 24)
			return 0;
		json_object_foreach((json_t *)v, key, item)
			if (!plain_enough(item, depth + 1))
				return 0;
	}
	return 1;
}

static void
check_print(const json_t *obj)
{
	char *text;

	if (!plain_enough(obj, 1))
		return;
	text = json_dumps(obj, JSON_COMPACT);
	if (text == NULL || strchr(text, '\\') != NULL) {
		free(text);
		return;
	}
	if (!jsoncheck_object(text, strlen(text)))
		abort();	/* jsoncheck refused what jansson printed */
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	json_t *obj = json_loadb(text, size, FLAGS, NULL);

	/* jsoncheck was sure of text jansson refuses, or reads otherwise. */
	if (jsoncheck_object(text, size) && !json_is_object(obj))
		abort();
	if (jsoncheck_array(text, size) && !json_is_array(obj))
		abort();
	if (json_is_object(obj))
		check_print(obj);
	json_decref(obj);
	return 0;
}
