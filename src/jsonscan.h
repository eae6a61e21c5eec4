/*
 * jsonscan.h - byte spans of members and elements inside JSON text.
 *
 * jansson has no lossless number type, so sfsink never re-serialises field
 * values: it copies their original text.  These functions find that text.
 * They expect text already known to be valid JSON, accepted by jansson or
 * by jsoncheck.h, and only walk its top level.  On anything else they
 * return -1.
 */
#ifndef SFSINK_JSONSCAN_H
#define SFSINK_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

struct jsonscan {
	const char *p;		/* next byte to read */
	const char *end;
};

struct json_member {
	const char *key;	/* raw key text between the quotes, escapes kept */
	size_t key_len;
	const char *value;	/* raw value text */
	size_t value_len;
};

/* Start walking the object in TEXT; returns -1 when TEXT is not an object. */
int jsonscan_init(struct jsonscan *js, const char *text, size_t len);

/* Fetch the next member: 1 when one was read, 0 at the end, -1 on bad text. */
int jsonscan_next(struct jsonscan *js, struct json_member *m);

/*
 * Return nonzero when the member's key equals NAME, ignoring ASCII case
 * when NOCASE is set.  Keys written with escapes are decoded first.
 */
int json_member_is(const struct json_member *m, const char *name, bool nocase);

/* Start walking the array in TEXT; returns -1 when TEXT is not an array. */
int jsonscan_array_init(struct jsonscan *js, const char *text, size_t len);

/* Fetch the next element: 1 when one was read, 0 at the end, -1 on bad text. */
int jsonscan_array_next(struct jsonscan *js, const char **value, size_t *len);

/* Find the first member named NAME (see json_member_is); 1 found, 0 not. */
int jsonscan_find(const char *text, size_t len, const char *name, bool nocase,
    struct json_member *m);

struct buf;

/*
 * Append the decoded value of the JSON string whose text, quotes included,
 * is TEXT to OUT.  Returns 0, or -1 when the value contains a NUL
 * character or the text is not a valid string; OUT may then hold a part.
 */
int jsonscan_string(const char *text, size_t len, struct buf *out);

/* Skip one JSON value starting at P; returns the byte after it, or NULL. */
const char *jsonscan_skip_value(const char *p, const char *end);

#endif
