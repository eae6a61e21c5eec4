/*
 * csv.h - CSV for Bulk API 2.0: rows to upload and result files to read.
 *
 * Writing follows RFC 4180 and Bulk API 2.0 "Prepare CSV Files": UTF-8
 * without a byte order mark, comma delimiters, a header of field names,
 * "#N/A" for null and an empty cell for "leave the field unchanged".
 * A cell is quoted when it contains a comma, a quote, CR or LF, and also
 * when it starts or ends with a space or tab.  Salesforce does not trim
 * values, so those need no quotes, but quotes keep the spaces safe from any
 * tool that does trim.  Quotes inside a quoted cell are doubled.
 *
 * One csv_row is built from the JSON data object of one record; the
 * csv_columns of a job are the union of the field names of its rows, in
 * first-seen order, compared without ASCII case because Salesforce field
 * names are case-insensitive (the first spelling is the one written).
 *
 * Reading accepts what Salesforce's result files contain: quoted and bare
 * cells, LF or CRLF row ends, and line breaks inside quoted cells.
 */
#ifndef SFSINK_CSV_H
#define SFSINK_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define CSV_NULL_TEXT	"#N/A"

enum csv_kind {
	CSV_NULL,		/* JSON null, written as #N/A */
	CSV_STRING,
	CSV_NUMBER,		/* the JSON number text, unchanged */
	CSV_BOOLEAN,
};

struct csv_cell {
	const char *name;	/* field name, or "Relationship.Field" */
	const char *value;	/* cell text before quoting */
	size_t value_len;
	enum csv_kind kind;
	size_t column;		/* index in the job's columns */
};

/* The cells of one record; owns one block of text that all cells point into. */
struct csv_row {
	struct csv_cell *cells;
	size_t n;
	char *text;
	size_t bytes;		/* sum of the quoted lengths of the cells */
	bool has_crlf;		/* some value contains CR LF */
	bool has_bare_lf;	/* some value contains an LF without a CR before it */
};

/*
 * Build ROW from the JSON object text DATA (already validated by jansson).
 * Members named "attributes" are dropped.  Strings, numbers, booleans and
 * null become cells; {"Rel": {"Field": scalar}} becomes the cell
 * "Rel.Field"; an array of strings becomes one cell joined with ';'
 * (a multi-select picklist).  Returns 0, or -1 with a message in ERR when
 * the record cannot be written as CSV; ROW is then empty.
 */
int csv_row_from_json(struct csv_row *row, const char *data, size_t len,
    char *err, size_t errlen);

/* Build ROW with the single cell NAME = VALUE (a string). */
void csv_row_single(struct csv_row *row, const char *name, const char *value);

/* Return nonzero when no cell of ROW has a value (the CSV line would be blank or all empty). */
int csv_row_is_empty(const struct csv_row *row);

void csv_row_free(struct csv_row *row);

/* Length of VALUE as a CSV cell, with quotes when it needs them. */
size_t csv_cell_len(const char *value, size_t len);

struct csv_columns {
	char **names;		/* owned; the first spelling seen */
	size_t n;
	size_t cap;
	size_t *slots;		/* hash table of index + 1; 0 is empty */
	size_t n_slots;
	size_t header_bytes;	/* header line length, without its line ending */
};

void csv_columns_init(struct csv_columns *c);

/* Index of NAME (ASCII case ignored), or (size_t)-1. */
size_t csv_columns_find(const struct csv_columns *c, const char *name,
    size_t len);

/* How many columns ROW would add to C, and by how many bytes the header would grow. */
size_t csv_columns_growth(const struct csv_columns *c, const struct csv_row *row,
    size_t *header_growth);

/* Add the names of ROW that C lacks and set the column of every cell of ROW. */
void csv_columns_add_row(struct csv_columns *c, struct csv_row *row);

void csv_columns_free(struct csv_columns *c);

/* Append the header line and EOL to B. */
void csv_write_header(struct buf *b, const struct csv_columns *c,
    const char *eol);

/*
 * Append ROW as one line of N_COLUMNS cells and EOL to B; SLOTS is caller
 * scratch space of N_COLUMNS pointers.
 */
void csv_write_row(struct buf *b, const struct csv_row *row, size_t n_columns,
    const struct csv_cell **slots, const char *eol);

/* A reader over result CSV text, which it borrows. */
struct csv_reader {
	const char *p;
	const char *end;
};

/* The cells of one line read; reused from line to line. */
struct csv_fields {
	struct buf text;	/* cell texts, each followed by a NUL */
	size_t *offsets;
	size_t *lens;
	size_t n;
	size_t cap;
};

void csv_reader_init(struct csv_reader *r, const char *text, size_t len);
void csv_fields_init(struct csv_fields *f);

/*
 * Read the next line into F, skipping blank lines.  Returns 1 when a line
 * was read, 0 at the end of the text, -1 on a quote that is never closed.
 */
int csv_read(struct csv_reader *r, struct csv_fields *f);

/* Text of field I of F (NUL-terminated). */
const char *csv_field(const struct csv_fields *f, size_t i);

void csv_fields_free(struct csv_fields *f);

#endif
