/*
 * jsoncheck.c - a fast check that text is JSON that jansson accepts.
 *
 * A recursive descent over RFC 8259's grammar.  Each function returns 1
 * when its part of the text is surely valid and moves the cursor past it,
 * 0 otherwise; 0 never means "invalid", only "ask jansson".  The limits
 * below keep the stack and the key table bounded: text beyond them goes
 * to jansson like any other text this file does not decide.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsoncheck.h"

#define MAX_DEPTH	64	/* nested objects and arrays */
#define MAX_KEYS	512	/* keys of the open objects, all levels */
#define MAX_DIGITS	300	/* digits plus exponent of a number */
#define FEW_KEYS	24	/* up to this many keys, compare pairwise */

struct key {
	const char *text;	/* between the quotes, no escapes */
	size_t len;
};

struct check {
	const char *p;		/* next byte to read */
	const char *end;
	int depth;
	size_t nkeys;
	struct key keys[MAX_KEYS];
};

static int value(struct check *c);

static void
skip_space(struct check *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	    *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static bool
at(const struct check *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static int
hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Check a \u escape, with C->p after the 'u'.  jansson rejects \u0000
 * without JSON_ALLOW_NUL and checks surrogate pairs, so both go to jansson.
 */
static int
unicode_escape(struct check *c)
{
	long v = 0;
	int i, d;

	if (c->end - c->p < 4)
		return 0;
	for (i = 0; i < 4; i++) {
		d = hex((unsigned char)c->p[i]);
		if (d < 0)
			return 0;
		v = v * 16 + d;
	}
	if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	c->p += 4;
	return 1;
}

/* Check one escape, with C->p after the backslash. */
static int
escape(struct check *c)
{
	if (c->p >= c->end)
		return 0;
	switch (*c->p++) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n':
	case 'r': case 't':
		return 1;
	case 'u':
		return unicode_escape(c);
	default:
		return 0;
	}
}

static bool
continuation(const unsigned char *s, int i, unsigned char lo,
    unsigned char hi)
{
	return s[i] >= lo && s[i] <= hi;
}

/*
 * Check one UTF-8 sequence of two to four bytes against the table of
 * well-formed sequences in the Unicode Standard (section 3.9).  It rejects
 * overlong forms, surrogates and code points above U+10FFFF, as jansson does.
 */
static int
utf8_sequence(struct check *c)
{
	const unsigned char *s = (const unsigned char *)c->p;
	size_t left = (size_t)(c->end - c->p);
	unsigned char lo = 0x80, hi = 0xBF;
	int n;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (left < (size_t)n)
		return 0;

	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (!continuation(s, 1, lo, hi))
		return 0;
	if (n >= 3 && !continuation(s, 2, 0x80, 0xBF))
		return 0;
	if (n == 4 && !continuation(s, 3, 0x80, 0xBF))
		return 0;
	c->p += n;
	return 1;
}

static bool
is_plain(unsigned char ch)
{
	return ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\';
}

/* Return nonzero when a byte of W is below N, for N up to 0x80. */
#define BYTE_BELOW(w, n) \
	(((w) - BYTES(n)) & ~(w) & BYTES(0x80))
#define BYTES(b)	((uint64_t)(b) * 0x0101010101010101ULL)

/*
 * Skip the bytes of a string that need no check, eight at a time: printable
 * ASCII other than the quote and the backslash.  Stops at the first other
 * byte, which string() then checks.
 */
static void
skip_plain(struct check *c)
{
	uint64_t w;

	while (c->end - c->p >= 8) {
		memcpy(&w, c->p, sizeof(w));
		if (BYTE_BELOW(w, 0x20) | BYTE_BELOW(w ^ BYTES('"'), 1) |
		    BYTE_BELOW(w ^ BYTES('\\'), 1) | (w & BYTES(0x80)))
			break;
		c->p += 8;
	}
	while (c->p < c->end && is_plain((unsigned char)*c->p))
		c->p++;
}

/*
 * Check a string, with C->p at the opening quote.  Sets *ESCAPED when the
 * string has escapes.
 */
static int
string(struct check *c, bool *escaped)
{
	unsigned char ch;

	*escaped = false;
	c->p++;
	while (c->p < c->end) {
		skip_plain(c);
		if (c->p == c->end)
			break;
		ch = (unsigned char)*c->p;
		if (ch == '"') {
			c->p++;
			return 1;
		}
		if (ch == '\\') {
			c->p++;
			*escaped = true;
			if (!escape(c))
				return 0;
		} else if (ch < 0x20) {
			return 0;	/* control characters must be escaped */
		} else if (ch < 0x80) {
			c->p++;
		} else if (!utf8_sequence(c)) {
			return 0;
		}
	}
	return 0;
}

static size_t
digits(struct check *c)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return (size_t)(c->p - start);
}

/* Read the digits of an exponent: returns their value, sets *NDIGITS. */
static size_t
exponent(struct check *c, size_t *ndigits)
{
	size_t v = 0;

	*ndigits = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (v <= MAX_DIGITS)
			v = v * 10 + (size_t)(*c->p - '0');
		c->p++;
		(*ndigits)++;
	}
	return v;
}

/*
 * Check a number.  With JSON_DECODE_INT_AS_REAL jansson converts every
 * number to a double and rejects one that overflows.  A number whose digits
 * plus the value of its exponent are at most MAX_DIGITS is zero or between
 * 1e-300 and 1e300 in size, well inside a double's range.  Any other number
 * goes to jansson.
 */
static int
number(struct check *c)
{
	size_t n, frac = 0, exp_digits;

	if (at(c, '-'))
		c->p++;
	if (at(c, '0')) {
		c->p++;
		n = 1;
	} else {
		if (c->p >= c->end || *c->p < '1' || *c->p > '9')
			return 0;
		n = digits(c);
	}
	if (at(c, '.')) {
		c->p++;
		frac = digits(c);
		if (frac == 0)
			return 0;
	}
	if (at(c, 'e') || at(c, 'E')) {
		c->p++;
		if (at(c, '+') || at(c, '-'))
			c->p++;
		n += exponent(c, &exp_digits);
		if (exp_digits == 0)
			return 0;
	}
	return n + frac <= MAX_DIGITS;
}

static int
literal(struct check *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

static int
key_compare(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->text, y->text, x->len);
}

/* Return 1 when the N keys at K are all different.  May reorder them. */
static int
keys_unique(struct key *k, size_t n)
{
	size_t i, j;

	if (n <= FEW_KEYS) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (key_compare(&k[i], &k[j]) == 0)
					return 0;
		return 1;
	}
	qsort(k, n, sizeof(*k), key_compare);
	for (i = 1; i < n; i++)
		if (key_compare(&k[i - 1], &k[i]) == 0)
			return 0;
	return 1;
}

/* Check one "key": value member and push its key on the table of open keys. */
static int
member(struct check *c)
{
	const char *start = c->p + 1;
	bool escaped;

	if (!at(c, '"') || !string(c, &escaped) || escaped)
		return 0;
	if (c->nkeys == MAX_KEYS)
		return 0;
	c->keys[c->nkeys].text = start;
	c->keys[c->nkeys].len = (size_t)(c->p - 1 - start);
	c->nkeys++;

	skip_space(c);
	if (!at(c, ':'))
		return 0;
	c->p++;
	skip_space(c);
	return value(c);
}

/* Check the comma-separated items after an opening bracket, up to CLOSE. */
static int
items(struct check *c, char close, int (*item)(struct check *))
{
	c->p++;
	skip_space(c);
	if (!at(c, close)) {
		for (;;) {
			if (!item(c))
				return 0;
			skip_space(c);
			if (!at(c, ','))
				break;
			c->p++;
			skip_space(c);
		}
		if (!at(c, close))
			return 0;
	}
	c->p++;
	return 1;
}

static int
object(struct check *c)
{
	size_t base = c->nkeys;

	if (!items(c, '}', member))
		return 0;
	if (!keys_unique(&c->keys[base], c->nkeys - base))
		return 0;
	c->nkeys = base;
	return 1;
}

static int
array(struct check *c)
{
	return items(c, ']', value);
}

/* Check an object or array one level deeper, within MAX_DEPTH. */
static int
nested(struct check *c, int (*walk)(struct check *))
{
	int ok;

	if (c->depth == MAX_DEPTH)
		return 0;
	c->depth++;
	ok = walk(c);
	c->depth--;
	return ok;
}

static int
value(struct check *c)
{
	bool escaped;

	if (c->p >= c->end)
		return 0;
	switch (*c->p) {
	case '{':
		return nested(c, object);
	case '[':
		return nested(c, array);
	case '"':
		return string(c, &escaped);
	case 't':
		return literal(c, "true");
	case 'f':
		return literal(c, "false");
	case 'n':
		return literal(c, "null");
	default:
		return number(c);
	}
}

/* Check that TEXT is one value that starts with FIRST, or any value for 0. */
static int
check_text(const char *text, size_t len, char first)
{
	struct check c;

	c.p = text;
	c.end = text + len;
	c.depth = 0;
	c.nkeys = 0;

	skip_space(&c);
	if (first != 0 && !at(&c, first))
		return 0;
	if (!value(&c))
		return 0;
	skip_space(&c);
	return c.p == c.end;
}

int
jsoncheck_object(const char *text, size_t len)
{
	return check_text(text, len, '{');
}

int
jsoncheck_array(const char *text, size_t len)
{
	return check_text(text, len, '[');
}
