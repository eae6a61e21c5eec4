/*
 * fuzz_csv_write.c - the CSV a bulk job uploads: csv_row_from_json(), the
 * job's columns, csv_write_header() and csv_write_row().  The CSV written
 * is read back with csv_read() and must give the header names and every
 * cell value unchanged.
 *
 * Input: a JSON object, the data of one record.  The first byte picks the
 * line ending (bit 0) and whether a second row, {"Id": ...}, joins the
 * job before the fuzzed one (bit 1); the rest is the object.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "csv.h"
#include "fuzz.h"

/* Abort unless line F has exactly the cells of ROW under COLUMNS. */
static void
check_line(const struct csv_fields *f, const struct csv_columns *c,
    const struct csv_row *row)
{
	size_t i;

	if (f->n != c->n)
		abort();
	for (i = 0; i < row->n; i++) {
		const struct csv_cell *cell = &row->cells[i];

		if (f->lens[cell->column] != cell->value_len ||
		    memcmp(csv_field(f, cell->column), cell->value,
		    cell->value_len) != 0)
			abort();
	}
}

/* Write the header and ROWS, read them back and compare. */
static void
check_round_trip(struct csv_row *rows, size_t n, const char *eol)
{
	struct csv_columns c;
	struct csv_reader r;
	struct csv_fields f;
	const struct csv_cell **slots;
	struct buf b;
	size_t i;

	csv_columns_init(&c);
	for (i = 0; i < n; i++)
		csv_columns_add_row(&c, &rows[i]);
	buf_init(&b, 0);
	csv_write_header(&b, &c, eol);
	if (b.len != c.header_bytes + strlen(eol))
		abort();
	slots = calloc(c.n ? c.n : 1, sizeof(*slots));
	for (i = 0; i < n; i++)
		csv_write_row(&b, &rows[i], c.n, slots, eol);

	csv_reader_init(&r, b.data, b.len);
	csv_fields_init(&f);
	if (csv_read(&r, &f) != 1 || f.n != c.n)
		abort();
	for (i = 0; i < c.n; i++) {
		if (strcmp(csv_field(&f, i), c.names[i]) != 0)
			abort();
	}
	for (i = 0; i < n; i++) {
		if (csv_read(&r, &f) != 1)
			abort();
		check_line(&f, &c, &rows[i]);
	}
	if (csv_read(&r, &f) != 0)
		abort();

	csv_fields_free(&f);
	free(slots);
	buf_free(&b);
	csv_columns_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_row rows[2];
	size_t n = 0;
	char *text, err[256];
	json_t *obj;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0];
	text = fuzz_strndup(data + 1, size - 1);
	/* envelope_parse() hands on only objects that jansson accepts. */
	obj = json_loadb(text, size - 1, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_INT_AS_REAL, NULL);
	if (!json_is_object(obj))
		goto out;

	if (flags & 2)
		csv_row_single(&rows[n++], "Id", "001000000000001AAA");
	if (csv_row_from_json(&rows[n], text, size - 1, err, sizeof(err)) == 0) {
		/* bulk.c rejects a row without any value: its line would be blank. */
		if (!csv_row_is_empty(&rows[n]))
			n++;
		else
			csv_row_free(&rows[n]);
	}
	if (n > 0)
		check_round_trip(rows, n, flags & 1 ? "\r\n" : "\n");
	while (n > 0)
		csv_row_free(&rows[--n]);
out:
	json_decref(obj);
	free(text);
	return 0;
}
