/*
 * bulkmatch.c - match Bulk API 2.0 result rows to the records of a job.
 *
 * Two passes.  The strict pass groups records by the canonical form of
 * their echoed values (key included) and pairs a group of one record with
 * a single row of the same form.  The lenient pass handles the rows left,
 * typically because Salesforce saved a value in another form: rounded to
 * the field's scale, a double that lost digits, or a default filled into
 * an empty cell.  There numbers match any number, text matches without
 * case and surrounding blanks, and a cell the record left empty matches
 * anything.  A row that fits one open record takes it;
 * this repeats until nothing changes, and what is left is ambiguous.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "bulkmatch.h"
#include "xalloc.h"

/* Comparisons the lenient pass may make before it gives up (an estimate of a few seconds of work). */
#define LENIENT_MAX_COMPARISONS	200000000ULL

#define NO_CLASS	((size_t)-1)

enum canon_mode {
	CANON_VALUE,
	CANON_ID,	/* a record Id: 15- and 18-character forms are equal */
	CANON_FOLD,	/* an external ID: text compares without case */
};

/*
 * Append the canonical form of the decimal number S to B, or return -1
 * when S is not one.  The form is sign, significant digits without leading
 * or trailing zeros, and the exponent of the last digit, so 912260031 and
 * 9.12260031E8 are both "n+912260031e0".
 */
static int
canon_number(struct buf *b, const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	char sign = '+';
	long long exp = 0, e = 0;
	size_t start, digits = 0, chars = 0;
	int esign = 1, seen_dot = 0;

	if (p < end && (*p == '-' || *p == '+'))
		sign = *p++ == '-' ? '-' : '+';
	start = b->len;
	buf_putc(b, 'n');
	buf_putc(b, sign);
	for (; p < end && (isdigit((unsigned char)*p) || *p == '.'); p++) {
		if (*p == '.') {
			if (seen_dot++)
				goto bad;
			continue;
		}
		chars++;
		if (seen_dot)
			exp--;
		if (*p == '0' && b->len == start + 2)
			continue;	/* leading zero */
		buf_putc(b, *p);
		digits++;
	}
	if (chars == 0)
		goto bad;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '-' || *p == '+'))
			esign = *p++ == '-' ? -1 : 1;
		if (p == end)
			goto bad;
		for (; p < end && isdigit((unsigned char)*p); p++)
			e = e < 100000000 ? e * 10 + (*p - '0') : e;
	}
	if (p != end)
		goto bad;
	exp += esign * e;
	if (digits == 0) {
		b->len = start;
		buf_puts(b, "n0");
		return 0;
	}
	while (b->data[b->len - 1] == '0') {
		b->len--;
		exp++;
	}
	b->data[b->len] = '\0';
	buf_putc(b, 'e');
	buf_put_long(b, exp);
	return 0;
bad:
	b->len = start;
	b->data[b->len] = '\0';
	return -1;
}

static int
digits_at(const char *s, size_t n, size_t at, size_t count, int *out)
{
	size_t i;

	*out = 0;
	if (at + count > n)
		return -1;
	for (i = at; i < at + count; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long long
days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Parse "+HH:MM", "+HHMM", "+HH" or "Z" at S[AT..N) into minutes east of UTC. */
static int
parse_zone(const char *s, size_t n, size_t at, long long *minutes)
{
	int hh, mm = 0, sign;

	*minutes = 0;
	if (at == n)
		return 0;
	if (s[at] == 'Z' && at + 1 == n)
		return 0;
	if (s[at] != '+' && s[at] != '-')
		return -1;
	sign = s[at] == '-' ? -1 : 1;
	if (digits_at(s, n, at + 1, 2, &hh) == -1)
		return -1;
	at += 3;
	if (at < n && s[at] == ':')
		at++;
	if (at < n && (digits_at(s, n, at, 2, &mm) == -1 || at + 2 != n))
		return -1;
	*minutes = sign * (hh * 60LL + mm);
	return 0;
}

/*
 * Append "t" and the UTC instant in milliseconds of a date (yyyy-MM-dd)
 * or dateTime (yyyy-MM-ddTHH:mm[:ss[.fff]][zone]) to B, or return -1.
 */
static int
canon_instant(struct buf *b, const char *s, size_t n)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, scale = 100;
	size_t at = 10;
	long long zone, t;

	if (digits_at(s, n, 0, 4, &y) == -1 || n < 10 || s[4] != '-' ||
	    s[7] != '-' || digits_at(s, n, 5, 2, &mo) == -1 ||
	    digits_at(s, n, 8, 2, &d) == -1 || mo < 1 || mo > 12 || d < 1 ||
	    d > 31)
		return -1;
	if (n > 10) {
		if (s[10] != 'T' || digits_at(s, n, 11, 2, &h) == -1 ||
		    n < 16 || s[13] != ':' || digits_at(s, n, 14, 2, &mi) == -1)
			return -1;
		at = 16;
		if (at < n && s[at] == ':') {
			if (digits_at(s, n, at + 1, 2, &sec) == -1)
				return -1;
			at += 3;
		}
		if (at < n && s[at] == '.') {
			for (at++; at < n && isdigit((unsigned char)s[at]); at++) {
				ms += (s[at] - '0') * scale;
				scale /= 10;
			}
		}
	}
	if (parse_zone(s, n, at, &zone) == -1)
		return -1;
	t = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi - zone) * 60 + sec;
	buf_putc(b, 't');
	buf_put_long(b, t * 1000 + ms);
	return 0;
}

/* Append the canonical form of the cell text S to B. */
static void
canon(struct buf *b, const char *s, size_t n, enum canon_mode mode)
{
	size_t i;

	if (s == NULL || n == 0 || (n == 4 && memcmp(s, CSV_NULL_TEXT, 4) == 0)) {
		buf_putc(b, 'z');
		return;
	}
	if (mode == CANON_ID) {
		buf_putc(b, 'i');
		buf_append(b, s, n > 15 ? 15 : n);
		return;
	}
	if (canon_number(b, s, n) == 0 || canon_instant(b, s, n) == 0)
		return;
	if ((n == 4 && strncasecmp(s, "true", 4) == 0) ||
	    (n == 5 && strncasecmp(s, "false", 5) == 0)) {
		buf_puts(b, n == 4 ? "b1" : "b0");
		return;
	}
	buf_putc(b, 's');
	if (mode != CANON_FOLD) {
		buf_append(b, s, n);
		return;
	}
	for (i = 0; i < n; i++)
		buf_putc(b, (char)tolower((unsigned char)s[i]));
}

/* Canonical keys mapped to chains of records (open addressing). */
struct key_table {
	char **keys;		/* owned, NULL for an empty slot */
	size_t *key_lens;
	size_t *heads;		/* first record of the slot's chain */
	size_t *counts;		/* records in the chain */
	size_t n_slots;
};

/* Work state of one bulkmatch_run(). */
struct matcher {
	struct bulkmatch *m;
	const struct csv_cell **slots;	/* scratch: one record's cells by column */
	struct buf key;			/* scratch key */
	struct buf a, b;		/* scratch for lenient comparison */
	size_t *next;			/* chain links of the strict table */
	size_t *key_next;		/* chain links of the key table */
	bool *open;			/* record neither matched nor ambiguous */
	struct key_table strict;
	struct key_table by_key;
	unsigned long long comparisons;
	size_t found;			/* the candidate take() saw */
};

static uint64_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
table_init(struct key_table *t, size_t n)
{
	t->n_slots = 16;
	while (t->n_slots < 2 * n + 2)
		t->n_slots *= 2;
	t->keys = xcalloc(t->n_slots, sizeof(*t->keys));
	t->key_lens = xcalloc(t->n_slots, sizeof(*t->key_lens));
	t->heads = xcalloc(t->n_slots, sizeof(*t->heads));
	t->counts = xcalloc(t->n_slots, sizeof(*t->counts));
}

/* Slot of KEY: the one holding it, or the empty one where it would go. */
static size_t
table_slot(const struct key_table *t, const char *key, size_t len)
{
	size_t i = hash_bytes(key, len) & (t->n_slots - 1);

	while (t->keys[i] != NULL && (t->key_lens[i] != len ||
	    memcmp(t->keys[i], key, len) != 0))
		i = (i + 1) & (t->n_slots - 1);
	return i;
}

/* Add record REC under KEY, linking it through NEXT. */
static void
table_add(struct key_table *t, const char *key, size_t len, size_t rec,
    size_t *next)
{
	size_t i = table_slot(t, key, len);

	if (t->keys[i] == NULL) {
		t->keys[i] = xmalloc(len + 1);
		memcpy(t->keys[i], key, len + 1);
		t->key_lens[i] = len;
		next[rec] = MATCH_NONE;
	} else {
		next[rec] = t->heads[i];
	}
	t->heads[i] = rec;
	t->counts[i]++;
}

/* Slot of KEY, or NO_CLASS when no record has it. */
static size_t
table_find(const struct key_table *t, const char *key, size_t len)
{
	size_t i;

	if (t->n_slots == 0)
		return NO_CLASS;
	i = table_slot(t, key, len);
	return t->keys[i] == NULL ? NO_CLASS : i;
}

static void
table_free(struct key_table *t)
{
	size_t i;

	for (i = 0; i < t->n_slots; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->key_lens);
	free(t->heads);
	free(t->counts);
	memset(t, 0, sizeof(*t));
}

static enum canon_mode
column_mode(const struct bulkmatch *m, size_t column)
{
	if (column != m->key_column)
		return CANON_VALUE;
	return m->op == OP_UPSERT ? CANON_FOLD : CANON_ID;
}

/* Point mt->slots at the cells of record I, by column. */
static void
fill_slots(struct matcher *mt, size_t i)
{
	const struct csv_row *row = mt->m->recs[i];
	size_t c;

	memset(mt->slots, 0, mt->m->n_columns * sizeof(*mt->slots));
	for (c = 0; c < row->n; c++)
		mt->slots[row->cells[c].column] = &row->cells[c];
}

/* Build in mt->key the strict key of record I over the echoed columns. */
static void
record_key(struct matcher *mt, size_t i)
{
	const struct bulkmatch *m = mt->m;
	const struct csv_cell *cell;
	size_t c;

	buf_clear(&mt->key);
	buf_putc(&mt->key, 'k');
	fill_slots(mt, i);
	for (c = 0; c < m->n_columns; c++) {
		if (!m->echoed[c])
			continue;
		cell = mt->slots[c];
		canon(&mt->key, cell ? cell->value : NULL,
		    cell ? cell->value_len : 0, column_mode(m, c));
		buf_putc(&mt->key, '\0');
	}
}

/* Build in mt->key the strict key of result row R. */
static void
row_key(struct matcher *mt, const struct bulk_row *r)
{
	const struct bulkmatch *m = mt->m;
	const char *v;
	size_t c;

	buf_clear(&mt->key);
	buf_putc(&mt->key, 'k');
	for (c = 0; c < m->n_columns; c++) {
		if (!m->echoed[c])
			continue;
		v = r->values[c];
		canon(&mt->key, v, v ? strlen(v) : 0, column_mode(m, c));
		buf_putc(&mt->key, '\0');
	}
}

/* Mark every record of the strict class in SLOT ambiguous among N peers. */
static void
class_ambiguous(struct matcher *mt, size_t slot)
{
	struct bulkmatch *m = mt->m;
	size_t i;

	for (i = mt->strict.heads[slot]; i != MATCH_NONE; i = mt->next[i]) {
		m->assign[i] = MATCH_AMBIGUOUS;
		m->peers[i] = mt->strict.counts[slot];
		mt->open[i] = false;
	}
}

/*
 * Group records by strict key, then pair each group of one record with
 * the one row that has its key.  Returns per row its group slot, or
 * NO_CLASS for rows left to the lenient pass.
 */
static size_t *
strict_pass(struct matcher *mt)
{
	struct bulkmatch *m = mt->m;
	size_t *row_class = xreallocarray(NULL, m->n_rows ? m->n_rows : 1,
	    sizeof(*row_class));
	size_t *rows_in = xcalloc(mt->strict.n_slots, sizeof(*rows_in));
	size_t *last_row = xcalloc(mt->strict.n_slots, sizeof(*last_row));
	size_t i, slot;

	for (i = 0; i < m->n_recs; i++) {
		record_key(mt, i);
		table_add(&mt->strict, mt->key.data, mt->key.len, i, mt->next);
	}
	for (i = 0; i < m->n_rows; i++) {
		row_key(mt, &m->rows[i]);
		slot = table_find(&mt->strict, mt->key.data, mt->key.len);
		row_class[i] = slot;
		if (slot == NO_CLASS)
			continue;
		rows_in[slot]++;
		last_row[slot] = i;
	}
	for (slot = 0; slot < mt->strict.n_slots; slot++) {
		if (rows_in[slot] == 0)
			continue;
		if (mt->strict.counts[slot] == 1 && rows_in[slot] == 1) {
			i = mt->strict.heads[slot];
			m->assign[i] = last_row[slot];
			mt->open[i] = false;
		} else {
			class_ambiguous(mt, slot);
		}
	}
	free(rows_in);
	free(last_row);
	return row_class;
}

/* Trim ASCII blanks from both ends of *S, *N. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Does the saved value SAVED plausibly come from the uploaded cell? */
static bool
lenient_equal(struct matcher *mt, const struct csv_cell *cell,
    const char *saved, enum canon_mode mode)
{
	size_t n = saved ? strlen(saved) : 0, un;
	const char *u;

	if (cell == NULL || cell->value_len == 0)
		return true;	/* left empty: the saved value may be a default */
	buf_clear(&mt->a);
	buf_clear(&mt->b);
	canon(&mt->a, cell->value, cell->value_len, mode);
	canon(&mt->b, saved, n, mode);
	if (mt->a.len == mt->b.len && memcmp(mt->a.data, mt->b.data,
	    mt->a.len) == 0)
		return true;
	if (mt->a.data[0] == 'n' && mt->b.data[0] == 'n')
		return true;	/* rounded to the field's scale, or a double */
	if (mt->a.data[0] != 's' || mt->b.data[0] != 's')
		return false;
	u = cell->value;
	un = cell->value_len;
	trim(&u, &un);
	trim(&saved, &n);
	return un == n && strncasecmp(u, saved, n) == 0;
}

static bool
lenient_fits(struct matcher *mt, size_t rec, const struct bulk_row *r)
{
	const struct bulkmatch *m = mt->m;
	size_t c;

	mt->comparisons++;
	fill_slots(mt, rec);
	for (c = 0; c < m->n_columns; c++) {
		if (m->echoed[c] && !lenient_equal(mt, mt->slots[c],
		    r->values[c], column_mode(m, c)))
			return false;
	}
	return true;
}

/* The key of row R for the key table: its key column, else sf__Id. */
static const char *
row_key_value(const struct bulkmatch *m, const struct bulk_row *r)
{
	const char *v = NULL;

	if (m->echoed[m->key_column])
		v = r->values[m->key_column];
	if ((v == NULL || *v == '\0') && m->op != OP_UPSERT)
		v = r->sf_id;
	return v;
}

/*
 * Visit the open records row R may belong to, calling VISIT for each, and
 * return how many there were.  For update, upsert and delete these are
 * the records with its key that fit leniently, or all records with its key
 * when none fits.  For insert they are the open records that fit leniently.
 */
static size_t
candidates(struct matcher *mt, const struct bulk_row *r,
    void (*visit)(struct matcher *, size_t, size_t), size_t arg)
{
	const struct bulkmatch *m = mt->m;
	const char *v;
	size_t i, slot, n = 0, keyed = 0;

	if (m->key_column == (size_t)-1) {
		for (i = 0; i < m->n_recs; i++) {
			if (!mt->open[i] || !lenient_fits(mt, i, r))
				continue;
			if (visit)
				visit(mt, i, arg);
			n++;
		}
		return n;
	}
	v = row_key_value(m, r);
	buf_clear(&mt->key);
	canon(&mt->key, v, v ? strlen(v) : 0, column_mode(m, m->key_column));
	slot = table_find(&mt->by_key, mt->key.data, mt->key.len);
	if (slot == NO_CLASS)
		return 0;
	for (i = mt->by_key.heads[slot]; i != MATCH_NONE; i = mt->key_next[i]) {
		if (!mt->open[i])
			continue;
		keyed++;
		if (!lenient_fits(mt, i, r))
			continue;
		if (visit)
			visit(mt, i, arg);
		n++;
	}
	if (n > 0 || keyed == 0)
		return n;
	/* Every value was saved in another form: the key alone decides. */
	for (i = mt->by_key.heads[slot]; i != MATCH_NONE; i = mt->key_next[i]) {
		if (mt->open[i] && visit)
			visit(mt, i, arg);
	}
	return keyed;
}

static void
take(struct matcher *mt, size_t rec, size_t arg)
{
	(void)arg;
	mt->found = rec;
}

static void
make_ambiguous(struct matcher *mt, size_t rec, size_t peers)
{
	mt->m->assign[rec] = MATCH_AMBIGUOUS;
	mt->m->peers[rec] = peers;
	mt->open[rec] = false;
}

/* Index the records by key (update, upsert, delete, hardDelete). */
static void
index_keys(struct matcher *mt)
{
	struct bulkmatch *m = mt->m;
	const struct csv_cell *cell;
	size_t i;

	table_init(&mt->by_key, m->n_recs);
	for (i = 0; i < m->n_recs; i++) {
		fill_slots(mt, i);
		cell = mt->slots[m->key_column];
		buf_clear(&mt->key);
		canon(&mt->key, cell ? cell->value : NULL,
		    cell ? cell->value_len : 0, column_mode(m, m->key_column));
		table_add(&mt->by_key, mt->key.data, mt->key.len, i,
		    mt->key_next);
	}
}

/*
 * Place the rows the strict pass left (ROW_CLASS NO_CLASS): a row that
 * fits exactly one open record takes it, repeated while that changes
 * anything.  Rows that still fit several records make them ambiguous.
 */
static void
lenient_pass(struct matcher *mt, const size_t *row_class)
{
	struct bulkmatch *m = mt->m;
	bool *done = xcalloc(m->n_rows ? m->n_rows : 1, sizeof(*done));
	bool progress = true;
	size_t i, n;

	if (m->key_column != (size_t)-1)
		index_keys(mt);
	for (i = 0; i < m->n_rows; i++)
		done[i] = row_class[i] != NO_CLASS;
	while (progress && !m->gave_up) {
		progress = false;
		for (i = 0; i < m->n_rows && !m->gave_up; i++) {
			if (done[i])
				continue;
			n = candidates(mt, &m->rows[i], take, 0);
			if (n == 1) {
				m->assign[mt->found] = i;
				mt->open[mt->found] = false;
				progress = true;
			}
			if (n == 0)
				m->unmatched_rows++;
			done[i] = n <= 1;
			if (mt->comparisons > LENIENT_MAX_COMPARISONS)
				m->gave_up = true;
		}
	}
	for (i = 0; i < m->n_rows; i++) {
		if (done[i])
			continue;
		if (m->gave_up) {
			m->unmatched_rows++;
			continue;
		}
		n = candidates(mt, &m->rows[i], NULL, 0);
		candidates(mt, &m->rows[i], make_ambiguous, n);
	}
	free(done);
}

void
bulkmatch_run(struct bulkmatch *m)
{
	struct matcher mt = { .m = m };
	size_t *row_class, i, n = m->n_recs ? m->n_recs : 1;

	m->assign = xreallocarray(NULL, n, sizeof(*m->assign));
	m->peers = xcalloc(n, sizeof(*m->peers));
	m->unmatched_rows = 0;
	m->gave_up = false;
	mt.slots = xcalloc(m->n_columns ? m->n_columns : 1, sizeof(*mt.slots));
	mt.next = xreallocarray(NULL, n, sizeof(*mt.next));
	mt.key_next = xreallocarray(NULL, n, sizeof(*mt.key_next));
	mt.open = xreallocarray(NULL, n, sizeof(*mt.open));
	buf_init(&mt.key, 0);
	buf_init(&mt.a, 0);
	buf_init(&mt.b, 0);
	for (i = 0; i < m->n_recs; i++) {
		m->assign[i] = MATCH_NONE;
		mt.open[i] = true;
	}
	table_init(&mt.strict, m->n_recs);

	row_class = strict_pass(&mt);
	lenient_pass(&mt, row_class);

	free(row_class);
	table_free(&mt.strict);
	table_free(&mt.by_key);
	buf_free(&mt.key);
	buf_free(&mt.a);
	buf_free(&mt.b);
	free(mt.slots);
	free(mt.next);
	free(mt.key_next);
	free(mt.open);
}

void
bulkmatch_free(struct bulkmatch *m)
{
	free(m->assign);
	free(m->peers);
	m->assign = m->peers = NULL;
}

void
bulk_row_free(struct bulk_row *row, size_t n_columns)
{
	size_t i;

	free(row->sf_id);
	free(row->sf_error);
	if (row->values != NULL) {
		for (i = 0; i < n_columns; i++)
			free(row->values[i]);
	}
	free(row->values);
}

/* Split "A,B" into a new JSON array of trimmed, non-empty names. */
static json_t *
split_fields(const char *s, size_t n)
{
	json_t *fields = json_array();
	const char *comma;
	size_t len;

	while (n > 0) {
		const char *f = s;

		comma = memchr(s, ',', n);
		len = comma ? (size_t)(comma - s) : n;
		s += len;
		n -= len;
		if (comma != NULL) {
			s++;
			n--;
		}
		trim(&f, &len);
		if (len > 0)
			json_array_append_new(fields, json_stringn(f, len));
	}
	return fields;
}

/*
 * sf__Error is "<CODE>:<message>:<fields> --", or "<CODE>:<message>:--"
 * when no field is named (Bulk API 2.0 Developer Guide, "Get Job Failed
 * Record Results").  The message may contain colons itself, so the fields
 * are what follows the last colon.
 */
json_t *
bulkmatch_parse_error(const char *sf_error)
{
	const char *colon, *rest, *last;
	size_t n, fn;
	json_t *err, *errors;
	struct buf clean;

	/* jansson rejects invalid UTF-8, which the result file may contain. */
	buf_init(&clean, 0);
	buf_put_utf8(&clean, sf_error, strlen(sf_error));
	sf_error = clean.data ? clean.data : "";
	colon = strchr(sf_error, ':');
	if (colon == NULL) {
		err = json_pack("{s:s, s:s, s:[]}", "code", "UNKNOWN_ERROR",
		    "message", sf_error, "fields");
		goto out;
	}
	rest = colon + 1;
	n = strlen(rest);
	while (n > 0 && isspace((unsigned char)rest[n - 1]))
		n--;
	last = rest;
	if (n >= 2 && memcmp(rest + n - 2, "--", 2) == 0) {
		n -= 2;
		for (last = rest + n; last > rest && last[-1] != ':'; last--)
			;
	}
	if (last == rest) {	/* no fields part */
		fn = 0;
		last = rest + n + 1;
	} else {
		fn = (size_t)(rest + n - last);
	}
	err = json_object();
	json_object_set_new(err, "code", json_stringn(sf_error,
	    (size_t)(colon - sf_error)));
	json_object_set_new(err, "message", json_stringn(rest,
	    (size_t)(last - 1 - rest)));
	json_object_set_new(err, "fields", split_fields(last, fn));
out:
	errors = json_array();
	json_array_append_new(errors, err);
	buf_free(&clean);
	return errors;
}
