/*
 * csv.c - CSV for Bulk API 2.0: rows to upload and result files to read.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "csv.h"
#include "jsonscan.h"
#include "xalloc.h"

/* A cell while its row is being built: offsets into the row's text buffer. */
struct cell_draft {
	size_t name;
	size_t value;
	size_t value_len;
	enum csv_kind kind;
};

struct row_builder {
	struct buf text;
	struct cell_draft *cells;
	size_t n;
	size_t cap;
	char *err;
	size_t errlen;
};

static int
needs_quotes(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
		return 1;
	return memchr(s, ',', n) != NULL || memchr(s, '"', n) != NULL ||
	    memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL;
}

size_t
csv_cell_len(const char *value, size_t len)
{
	size_t i, quotes = 0;

	if (!needs_quotes(value, len))
		return len;
	for (i = 0; i < len; i++) {
		if (value[i] == '"')
			quotes++;
	}
	return len + quotes + 2;
}

static void
put_cell(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;

	if (!needs_quotes(s, n)) {
		buf_append(b, s, n);
		return;
	}
	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		if (s[i] != '"')
			continue;
		buf_append(b, s + start, i + 1 - start);
		buf_putc(b, '"');
		start = i + 1;
	}
	buf_append(b, s + start, n - start);
	buf_putc(b, '"');
}

/* Salesforce API names: letters, digits and underscores. */
static int
valid_name(const char *s, bool relationship)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || *s == '_')
			continue;
		/* "Type:Relationship" names the parent type of a polymorphic lookup. */
		if (relationship && *s == ':')
			continue;
		return 0;
	}
	return 1;
}

/* Decode the key of M into a new string; NULL when it contains a NUL. */
static char *
member_name(const struct json_member *m)
{
	struct buf name;
	char *decoded = NULL;

	if (memchr(m->key, '\\', m->key_len) == NULL)
		return xstrndup(m->key, m->key_len);
	buf_init(&name, 0);
	if (jsonscan_string(m->key - 1, m->key_len + 2, &name) == 0)
		decoded = buf_steal(&name, NULL);
	buf_free(&name);
	return decoded;
}

static void
add_cell(struct row_builder *rb, const char *name, const char *value,
    size_t len, enum csv_kind kind)
{
	struct cell_draft *d;

	if (rb->n == rb->cap) {
		rb->cap = rb->cap ? rb->cap * 2 : 8;
		rb->cells = xreallocarray(rb->cells, rb->cap, sizeof(*rb->cells));
	}
	d = &rb->cells[rb->n++];
	d->name = rb->text.len;
	buf_append(&rb->text, name, strlen(name) + 1);
	d->value = rb->text.len;
	d->value_len = len;
	d->kind = kind;
	buf_append(&rb->text, value, len);
	buf_putc(&rb->text, '\0');
}

static int fail(struct row_builder *rb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Store the message for a record that cannot be written; returns -1. */
static int
fail(struct row_builder *rb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rb->err, rb->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Add the JSON string whose text is V as a cell. */
static int
add_string(struct row_builder *rb, const char *name, const char *v, size_t n)
{
	struct buf s;
	int rc = 0;

	/* Most strings have no escapes: their text between the quotes is the value. */
	if (n >= 2 && memchr(v, '\\', n) == NULL) {
		if (n - 2 == strlen(CSV_NULL_TEXT) &&
		    memcmp(v + 1, CSV_NULL_TEXT, n - 2) == 0)
			return fail(rb, "field \"%s\" is the string \"#N/A\", "
			    "which Bulk API 2.0 reads as null; send null to clear "
			    "a field", name);
		add_cell(rb, name, v + 1, n - 2, CSV_STRING);
		return 0;
	}

	buf_init(&s, 0);
	if (jsonscan_string(v, n, &s) == -1)
		rc = fail(rb, "field \"%s\" contains a NUL character, which "
		    "CSV cannot carry", name);
	else if (s.len == strlen(CSV_NULL_TEXT) &&
	    memcmp(s.data, CSV_NULL_TEXT, s.len) == 0)
		rc = fail(rb, "field \"%s\" is the string \"#N/A\", which Bulk "
		    "API 2.0 reads as null; send null to clear a field", name);
	else
		add_cell(rb, name, s.data != NULL ? s.data : "", s.len,
		    CSV_STRING);
	buf_free(&s);
	return rc;
}

/* Add a JSON scalar (string, number, true, false, null) as a cell. */
static int
add_scalar(struct row_builder *rb, const char *name, const char *v, size_t n)
{
	if (v[0] == '"')
		return add_string(rb, name, v, n);
	if (v[0] == 'n')
		add_cell(rb, name, CSV_NULL_TEXT, strlen(CSV_NULL_TEXT), CSV_NULL);
	else if (v[0] == 't' || v[0] == 'f')
		add_cell(rb, name, v, n, CSV_BOOLEAN);
	else
		add_cell(rb, name, v, n, CSV_NUMBER);
	return 0;
}

/* An array of strings is a multi-select picklist: values joined with ';'. */
static int
add_array(struct row_builder *rb, const char *name, const char *v, size_t n)
{
	json_t *arr = json_loadb(v, n, 0, NULL), *e;
	struct buf joined;
	size_t i;
	int rc = 0;

	if (arr == NULL) {
		/* The text is valid JSON, so only a NUL character gets here. */
		return fail(rb, "field \"%s\" contains a NUL character, which "
		    "CSV cannot carry", name);
	}
	buf_init(&joined, 0);
	json_array_foreach(arr, i, e) {
		if (!json_is_string(e)) {
			rc = fail(rb, "field \"%s\" is an array with a value that "
			    "is not a string; only a multi-select picklist (an "
			    "array of strings) can be written", name);
			break;
		}
		if (strchr(json_string_value(e), ';') != NULL) {
			rc = fail(rb, "field \"%s\" has a multi-select value "
			    "containing ';', the separator of picklist values",
			    name);
			break;
		}
		if (i > 0)
			buf_putc(&joined, ';');
		buf_puts(&joined, json_string_value(e));
	}
	/* No values selected is a null multi-select picklist. */
	if (rc == 0 && json_array_size(arr) == 0)
		add_cell(rb, name, CSV_NULL_TEXT, strlen(CSV_NULL_TEXT), CSV_NULL);
	else if (rc == 0)
		add_cell(rb, name, joined.data, joined.len, CSV_STRING);
	buf_free(&joined);
	json_decref(arr);
	return rc;
}

/*
 * A parent reference by external ID, {"Account": {"External_Id__c": "A1"}},
 * is the column "Account.External_Id__c" (Bulk API 2.0 "Relationship
 * Fields in a Header Row").  Only one level with one scalar is possible.
 */
static int
add_reference(struct row_builder *rb, const char *name, const char *v,
    size_t n)
{
	struct jsonscan js;
	struct json_member m, found = { 0 };
	char *field, *column;
	int count = 0, rc;

	if (jsonscan_init(&js, v, n) == -1)
		return fail(rb, "field \"%s\" is not a valid object", name);
	while (jsonscan_next(&js, &m) == 1) {
		/* NOTE: a type given in attributes is dropped, so polymorphic
		 * lookups must be named "Type:Relationship" in the key. */
		if (json_member_is(&m, "attributes", true))
			continue;
		found = m;
		count++;
	}
	if (count != 1 || found.value[0] == '{' || found.value[0] == '[')
		return fail(rb, "field \"%s\" is an object but not a parent "
		    "reference: expected exactly one external ID field with "
		    "a string, number, boolean or null value", name);
	field = member_name(&found);
	if (field == NULL || !valid_name(field, false)) {
		free(field);
		return fail(rb, "field \"%s\" refers to its parent through an "
		    "invalid field name", name);
	}
	column = xasprintf("%s.%s", name, field);
	rc = add_scalar(rb, column, found.value, found.value_len);
	free(column);
	free(field);
	return rc;
}

static int
add_member(struct row_builder *rb, const struct json_member *m)
{
	char *name = member_name(m);
	int rc;

	if (name == NULL || !valid_name(name, m->value[0] == '{')) {
		snprintf(rb->err, rb->errlen, "field name \"%.*s\" is not a "
		    "Salesforce field name (letters, digits and underscores)",
		    (int)(m->key_len > 80 ? 80 : m->key_len), m->key);
		free(name);
		return -1;
	}
	if (m->value[0] == '{')
		rc = add_reference(rb, name, m->value, m->value_len);
	else if (m->value[0] == '[')
		rc = add_array(rb, name, m->value, m->value_len);
	else
		rc = add_scalar(rb, name, m->value, m->value_len);
	free(name);
	return rc;
}

static int
compare_names(const void *a, const void *b)
{
	const struct csv_cell *x = *(const struct csv_cell *const *)a;
	const struct csv_cell *y = *(const struct csv_cell *const *)b;

	return strcasecmp(x->name, y->name);
}

/* Reject a row that names one column twice ("Name" and "name"). */
static int
check_duplicates(const struct csv_row *row, char *err, size_t errlen)
{
	const struct csv_cell **sorted;
	size_t i;
	int rc = 0;

	if (row->n < 2)
		return 0;
	sorted = xreallocarray(NULL, row->n, sizeof(*sorted));
	for (i = 0; i < row->n; i++)
		sorted[i] = &row->cells[i];
	qsort(sorted, row->n, sizeof(*sorted), compare_names);
	for (i = 1; i < row->n && rc == 0; i++) {
		if (strcasecmp(sorted[i - 1]->name, sorted[i]->name) != 0)
			continue;
		snprintf(err, errlen, "field \"%s\" appears twice (field names "
		    "are case-insensitive)", sorted[i]->name);
		rc = -1;
	}
	free(sorted);
	return rc;
}

/* Turn the drafts into cells that point into the finished text. */
static void
finish_row(struct csv_row *row, struct row_builder *rb)
{
	size_t i;

	row->text = buf_steal(&rb->text, NULL);
	row->n = rb->n;
	row->cells = xcalloc(rb->n ? rb->n : 1, sizeof(*row->cells));
	row->bytes = 0;
	row->has_crlf = row->has_bare_lf = false;
	for (i = 0; i < rb->n; i++) {
		struct csv_cell *c = &row->cells[i];
		const char *v, *lf;

		c->name = row->text + rb->cells[i].name;
		c->value = v = row->text + rb->cells[i].value;
		c->value_len = rb->cells[i].value_len;
		c->kind = rb->cells[i].kind;
		row->bytes += csv_cell_len(v, c->value_len);
		for (lf = memchr(v, '\n', c->value_len); lf != NULL;
		    lf = memchr(lf + 1, '\n', c->value_len - (size_t)(lf + 1 - v))) {
			if (lf > v && lf[-1] == '\r')
				row->has_crlf = true;
			else
				row->has_bare_lf = true;
		}
	}
	free(rb->cells);
}

int
csv_row_from_json(struct csv_row *row, const char *data, size_t len,
    char *err, size_t errlen)
{
	struct row_builder rb = { .err = err, .errlen = errlen };
	struct jsonscan js;
	struct json_member m;
	int rc = 0;

	memset(row, 0, sizeof(*row));
	buf_init(&rb.text, 0);
	if (jsonscan_init(&js, data, len) == -1) {
		snprintf(err, errlen, "data is not a JSON object");
		rc = -1;
	}
	while (rc == 0 && jsonscan_next(&js, &m) == 1) {
		/* sObject metadata, as in exported records, is not a field. */
		if (json_member_is(&m, "attributes", true))
			continue;
		rc = add_member(&rb, &m);
	}
	finish_row(row, &rb);
	if (rc == 0)
		rc = check_duplicates(row, err, errlen);
	if (rc == -1)
		csv_row_free(row);
	return rc;
}

void
csv_row_single(struct csv_row *row, const char *name, const char *value)
{
	struct row_builder rb = { 0 };

	memset(row, 0, sizeof(*row));
	buf_init(&rb.text, 0);
	add_cell(&rb, name, value, strlen(value), CSV_STRING);
	finish_row(row, &rb);
}

int
csv_row_is_empty(const struct csv_row *row)
{
	size_t i;

	for (i = 0; i < row->n; i++) {
		if (row->cells[i].value_len > 0)
			return 0;
	}
	return 1;
}

void
csv_row_free(struct csv_row *row)
{
	free(row->cells);
	free(row->text);
	memset(row, 0, sizeof(*row));
}

/* FNV-1a over the ASCII-lowercased name. */
static uint64_t
hash_name(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)tolower((unsigned char)s[i]);
		h *= 1099511628211ULL;
	}
	return h;
}

void
csv_columns_init(struct csv_columns *c)
{
	memset(c, 0, sizeof(*c));
}

size_t
csv_columns_find(const struct csv_columns *c, const char *name, size_t len)
{
	size_t i, idx;

	if (c->n_slots == 0)
		return (size_t)-1;
	for (i = hash_name(name, len) & (c->n_slots - 1);
	    c->slots[i] != 0; i = (i + 1) & (c->n_slots - 1)) {
		idx = c->slots[i] - 1;
		if (strlen(c->names[idx]) == len &&
		    strncasecmp(c->names[idx], name, len) == 0)
			return idx;
	}
	return (size_t)-1;
}

/* Keep the hash table at most half full. */
static void
rehash(struct csv_columns *c)
{
	size_t i, j;

	if (c->n_slots >= 2 * (c->n + 1))
		return;
	free(c->slots);
	c->n_slots = c->n_slots ? c->n_slots * 2 : 16;
	while (c->n_slots < 2 * (c->n + 1))
		c->n_slots *= 2;
	c->slots = xcalloc(c->n_slots, sizeof(*c->slots));
	for (i = 0; i < c->n; i++) {
		j = hash_name(c->names[i], strlen(c->names[i])) &
		    (c->n_slots - 1);
		while (c->slots[j] != 0)
			j = (j + 1) & (c->n_slots - 1);
		c->slots[j] = i + 1;
	}
}

static size_t
add_column(struct csv_columns *c, const char *name)
{
	size_t len = strlen(name), idx = csv_columns_find(c, name, len);

	if (idx != (size_t)-1)
		return idx;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->names = xreallocarray(c->names, c->cap, sizeof(*c->names));
	}
	c->names[c->n++] = xstrdup(name);
	c->header_bytes += len + (c->n > 1 ? 1 : 0);
	if (c->n_slots < 2 * (c->n + 1)) {
		/* rehash() inserts every name, the new one included. */
		rehash(c);
		return c->n - 1;
	}
	idx = hash_name(name, len) & (c->n_slots - 1);
	while (c->slots[idx] != 0)
		idx = (idx + 1) & (c->n_slots - 1);
	c->slots[idx] = c->n;
	return c->n - 1;
}

size_t
csv_columns_growth(const struct csv_columns *c, const struct csv_row *row,
    size_t *header_growth)
{
	size_t i, added = 0, bytes = 0, n = c->n;

	for (i = 0; i < row->n; i++) {
		const char *name = row->cells[i].name;

		if (csv_columns_find(c, name, strlen(name)) != (size_t)-1)
			continue;
		bytes += strlen(name) + (n + added > 0 ? 1 : 0);
		added++;
	}
	*header_growth = bytes;
	return added;
}

void
csv_columns_add_row(struct csv_columns *c, struct csv_row *row)
{
	size_t i;

	for (i = 0; i < row->n; i++)
		row->cells[i].column = add_column(c, row->cells[i].name);
}

void
csv_columns_free(struct csv_columns *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->slots);
	memset(c, 0, sizeof(*c));
}

void
csv_write_header(struct buf *b, const struct csv_columns *c, const char *eol)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, c->names[i]);
	}
	buf_puts(b, eol);
}

void
csv_write_row(struct buf *b, const struct csv_row *row, size_t n_columns,
    const struct csv_cell **slots, const char *eol)
{
	size_t i;

	memset(slots, 0, n_columns * sizeof(*slots));
	for (i = 0; i < row->n; i++)
		slots[row->cells[i].column] = &row->cells[i];
	for (i = 0; i < n_columns; i++) {
		if (i > 0)
			buf_putc(b, ',');
		if (slots[i] != NULL)
			put_cell(b, slots[i]->value, slots[i]->value_len);
	}
	buf_puts(b, eol);
}

void
csv_reader_init(struct csv_reader *r, const char *text, size_t len)
{
	r->p = text;
	r->end = text + len;
}

void
csv_fields_init(struct csv_fields *f)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->text, 0);
}

static void
start_field(struct csv_fields *f)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->offsets = xreallocarray(f->offsets, f->cap, sizeof(*f->offsets));
		f->lens = xreallocarray(f->lens, f->cap, sizeof(*f->lens));
	}
	f->offsets[f->n] = f->text.len;
	f->lens[f->n] = 0;
	f->n++;
}

static void
end_field(struct csv_fields *f)
{
	f->lens[f->n - 1] = f->text.len - f->offsets[f->n - 1];
	buf_putc(&f->text, '\0');
}

/* Read a quoted cell whose opening quote is at P; returns the byte after the closing quote. */
static const char *
read_quoted(struct csv_reader *r, const char *p, struct csv_fields *f)
{
	const char *run = ++p;	/* start of the text not yet copied */

	for (; p < r->end; p++) {
		if (*p != '"')
			continue;
		buf_append(&f->text, run, (size_t)(p - run));
		if (p + 1 < r->end && p[1] == '"') {
			buf_putc(&f->text, '"');
			p++;
			run = p + 1;
			continue;
		}
		return p + 1;
	}
	return NULL;
}

/* Return nonzero when P starts a row end (LF or CR LF), and step over it. */
static int
row_end(const struct csv_reader *r, const char **p)
{
	if (**p == '\n') {
		(*p)++;
		return 1;
	}
	if (**p == '\r' && *p + 1 < r->end && (*p)[1] == '\n') {
		*p += 2;
		return 1;
	}
	return 0;
}

int
csv_read(struct csv_reader *r, struct csv_fields *f)
{
	const char *p = r->p;

	buf_clear(&f->text);
	f->n = 0;
	while (p < r->end && row_end(r, &p))
		;	/* blank lines */
	if (p >= r->end) {
		r->p = p;
		return 0;
	}
	start_field(f);
	while (p < r->end) {
		if (row_end(r, &p))
			break;
		if (*p == ',') {
			end_field(f);
			start_field(f);
			p++;
		} else if (*p == '"') {
			p = read_quoted(r, p, f);
			if (p == NULL)
				return -1;
		} else {
			buf_putc(&f->text, *p++);
		}
	}
	end_field(f);
	r->p = p;
	return 1;
}

const char *
csv_field(const struct csv_fields *f, size_t i)
{
	return f->text.data + f->offsets[i];
}

void
csv_fields_free(struct csv_fields *f)
{
	buf_free(&f->text);
	free(f->offsets);
	free(f->lens);
	memset(f, 0, sizeof(*f));
}
