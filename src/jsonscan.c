/*
 * jsonscan.c - byte spans of members inside JSON object text.
 *
 * The text has been validated by jansson already, so this walker only has
 * to find boundaries: strings end at an unescaped quote, and nested values
 * end where their brackets balance.
 */
#include <string.h>
#include <strings.h>

#include <jansson.h>

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

int
jsonscan_init(struct jsonscan *js, const char *text, size_t len)
{
	const char *end = text + len;
	const char *p = skip_space(text, end);

	if (p >= end || *p != '{')
		return -1;
	js->p = p + 1;
	js->end = end;
	return 0;
}

int
jsonscan_next(struct jsonscan *js, struct json_member *m)
{
	const char *p = skip_space(js->p, js->end);
	const char *q;

	if (p < js->end && *p == ',')
		p = skip_space(p + 1, js->end);
	if (p >= js->end)
		return -1;
	if (*p == '}') {
		js->p = p;
		return 0;
	}
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
	const char *end = text + len;
	const char *p = skip_space(text, end);

	if (p >= end || *p != '[')
		return -1;
	js->p = p + 1;
	js->end = end;
	return 0;
}

int
jsonscan_array_next(struct jsonscan *js, const char **value, size_t *len)
{
	const char *p = skip_space(js->p, js->end);
	const char *q;

	if (p < js->end && *p == ',')
		p = skip_space(p + 1, js->end);
	if (p >= js->end)
		return -1;
	if (*p == ']') {
		js->p = p;
		return 0;
	}
	q = jsonscan_skip_value(p, js->end);
	if (q == NULL)
		return -1;
	*value = p;
	*len = (size_t)(q - p);
	js->p = q;
	return 1;
}

/* Compare a key written with escapes by letting jansson decode it. */
static int
escaped_key_is(const struct json_member *m, const char *name, bool nocase)
{
	json_t *s;
	int same = 0;

	s = json_loadb(m->key - 1, m->key_len + 2, JSON_DECODE_ANY, NULL);
	if (json_is_string(s)) {
		const char *k = json_string_value(s);

		same = nocase ? strcasecmp(k, name) == 0 : strcmp(k, name) == 0;
	}
	json_decref(s);
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
