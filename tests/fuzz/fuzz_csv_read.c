/*
 * fuzz_csv_read.c - a Bulk API 2.0 result file: csv_read() over the whole
 * text, and bulkmatch_parse_error() on every cell of an sf__Error column,
 * as bulk.c does for each failedResults row.
 *
 * Input: the CSV text as downloaded.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bulkmatch.h"
#include "csv.h"
#include "fuzz.h"

/* Abort unless ERRORS is an array of one {"code", "message", "fields"}. */
static void
check_errors(json_t *errors)
{
	json_t *e = json_array_get(errors, 0);

	if (!json_is_array(errors) || json_array_size(errors) != 1 ||
	    !json_is_string(json_object_get(e, "code")) ||
	    !json_is_string(json_object_get(e, "message")) ||
	    !json_is_array(json_object_get(e, "fields")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader r;
	struct csv_fields f;
	size_t i, error_column = (size_t)-1, lines = 0;
	int rc;

	csv_reader_init(&r, (const char *)data, size);
	csv_fields_init(&f);
	while ((rc = csv_read(&r, &f)) == 1) {
		if (f.n == 0)
			abort();
		for (i = 0; i < f.n; i++) {
			const char *v = csv_field(&f, i);

			if (strlen(v) > f.lens[i] || v + f.lens[i] >
			    f.text.data + f.text.len)
				abort();
			if (lines == 0 && strcmp(v, "sf__Error") == 0)
				error_column = i;
			if (lines > 0 && i == error_column) {
				json_t *errors = bulkmatch_parse_error(v);

				check_errors(errors);
				json_decref(errors);
			}
		}
		lines++;
	}
	if (rc != 0 && rc != -1)
		abort();
	csv_fields_free(&f);
	return 0;
}
