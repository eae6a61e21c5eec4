/*
 * jsonscan.c - byte spans of members and elements inside JSON text.
 *
 * The text is known to be valid JSON already, so this walker only has to
 * find boundaries: strings end at an unescaped quote, and nested values
 * end where their brackets balance.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "jsonscan.h"

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * P points at the opening quote; returns the byte after the closing one:
 * the first quote after P that follows an even run of backslashes.
 */
static const char *
skip_string(const char *p, const char *end)
{
	const char *q, *b;

	for (p++; p < end; p = q + 1) {
		q = memchr(p, '"', (size_t)(end - p));
		if (q == NULL)
			return NULL;
		for (b = q; b > p && b[-1] == '\\'; b--)
			continue;
		if ((q - b) % 2 == 0)
			return q + 1;
	}
	return NULL;
}

/* P points at '{' or '['; returns the byte after the matching bracket. */
static const char *
skip_nested(const char *p, const char *end)
{
	size_t depth = 0;

	while (p < end) {
		if (*p == '"') {
			p = skip_string(p, end);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

static bool
is_delimiter(char c)
{
	switch (c) {
	case ',': case '}': case ']': case ' ': case '\t': case '\r': case '\n':
		return true;
	default:
		return false;
	}
}

const char *
jsonscan_skip_value(const char *p, const char *end)
{
	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '{' || *p == '[')
		return skip_nested(p, end);

	/* A number or a literal: up to the next delimiter. */
	while (p < end && !is_delimiter(*p))
		p++;
	return p;
}

/* Start walking the container in TEXT that opens with BRACKET. */
static int
open_container(struct jsonscan *js, const char *text, size_t len,
    char bracket)
{
	const char *end = text + len;
	const char *p = skip_space(text, end);

	if (p >= end || *p != bracket)
		return -1;
	js->p = p + 1;
	js->end = end;
	return 0;
}

/*
 * Move past the comma before the next item.  Returns 1 with *AT on the
 * item, 0 at the closing BRACKET, -1 at the end of the text.
 */
static int
next_item(struct jsonscan *js, char bracket, const char **at)
{
	const char *p = skip_space(js->p, js->end);

	if (p < js->end && *p == ',')
		p = skip_space(p + 1, js->end);
	if (p >= js->end)
		return -1;
	if (*p == bracket) {
		js->p = p;
		return 0;
	}
	*at = p;
	return 1;
}

int
jsonscan_init(struct jsonscan *js, const char *text, size_t len)
{
	return open_container(js, text, len, '{');
}

int
jsonscan_next(struct jsonscan *js, struct json_member *m)
{
	const char *p = NULL, *q;
	int rc = next_item(js, '}', &p);

	if (rc != 1)
		return rc;
	if (*p != '"')
		return -1;

	q = skip_string(p, js->end);
	if (q == NULL)
		return -1;
	m->key = p + 1;
	m->key_len = (size_t)(q - p - 2);

	p = skip_space(q, js->end);
	if (p >= js->end || *p != ':')
		return -1;
	p = skip_space(p + 1, js->end);
	q = jsonscan_skip_value(p, js->end);
	if (q == NULL)
		return -1;
	m->value = p;
	m->value_len = (size_t)(q - p);
	js->p = q;
	return 1;
}

int
jsonscan_array_init(struct jsonscan *js, const char *text, size_t len)
{
	return open_container(js, text, len, '[');
}

int
jsonscan_array_next(struct jsonscan *js, const char **value, size_t *len)
{
	const char *p = NULL, *q;
	int rc = next_item(js, ']', &p);

	if (rc != 1)
		return rc;
	q = jsonscan_skip_value(p, js->end);
	if (q == NULL)
		return -1;
	*value = p;
	*len = (size_t)(q - p);
	js->p = q;
	return 1;
}

static int
hex4(const char *p, const char *end, unsigned long *out)
{
	int i, d;

	*out = 0;
	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return -1;
		*out = *out * 16 + (unsigned long)d;
	}
	return 0;
}

static void
put_code_point(struct buf *out, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_append(out, u, n);
}

/*
 * Decode the \u escape at P (after the 'u'), with the low half of a
 * surrogate pair when one follows.  Returns the byte after it, or NULL.
 */
static const char *
unicode_escape(const char *p, const char *end, unsigned long *cp)
{
	unsigned long low;

	if (hex4(p, end, cp) == -1)
		return NULL;
	p += 4;
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return NULL;
	if (*cp >= 0xD800 && *cp <= 0xDBFF) {
		if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
		    hex4(p + 2, end, &low) == -1 || low < 0xDC00 ||
		    low > 0xDFFF)
			return NULL;
		*cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
		p += 6;
	}
	return p;
}

int
jsonscan_string(const char *text, size_t len, struct buf *out)
{
	const char *p, *end, *esc;
	unsigned long cp;

	if (len < 2 || text[0] != '"' || text[len - 1] != '"')
		return -1;
	p = text + 1;
	end = text + len - 1;
	while (p < end) {
		esc = memchr(p, '\\', (size_t)(end - p));
		if (esc == NULL)
			esc = end;
		buf_append(out, p, (size_t)(esc - p));
		if (esc == end || esc + 1 == end)
			return esc == end ? 0 : -1;

		p = esc + 2;
		switch (esc[1]) {
		case '"': case '\\': case '/':
			buf_putc(out, esc[1]);
			break;
		case 'b':
			buf_putc(out, '\b');
			break;
		case 'f':
			buf_putc(out, '\f');
			break;
		case 'n':
			buf_putc(out, '\n');
			break;
		case 'r':
			buf_putc(out, '\r');
			break;
		case 't':
			buf_putc(out, '\t');
			break;
		case 'u':
			p = unicode_escape(p, end, &cp);
			if (p == NULL || cp == 0)
				return -1;
			put_code_point(out, cp);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* Compare a key written with escapes, once decoded. */
static int
escaped_key_is(const struct json_member *m, const char *name, bool nocase)
{
	struct buf key;
	char *k;
	int same = 0;

	buf_init(&key, 0);
	if (jsonscan_string(m->key - 1, m->key_len + 2, &key) == 0) {
		k = buf_steal(&key, NULL);
		same = nocase ? strcasecmp(k, name) == 0 : strcmp(k, name) == 0;
		free(k);
	}
	buf_free(&key);
	return same;
}

int
json_member_is(const struct json_member *m, const char *name, bool nocase)
{
	size_t n = strlen(name);

	if (memchr(m->key, '\\', m->key_len) != NULL)
		return escaped_key_is(m, name, nocase);
	if (m->key_len != n)
		return 0;
	return nocase ? strncasecmp(m->key, name, n) == 0 :
	    memcmp(m->key, name, n) == 0;
}

int
jsonscan_find(const char *text, size_t len, const char *name, bool nocase,
    struct json_member *m)
{
	struct jsonscan js;

	if (jsonscan_init(&js, text, len) == -1)
		return 0;
	while (jsonscan_next(&js, m) == 1) {
		if (json_member_is(m, name, nocase))
			return 1;
	}
	return 0;
}
