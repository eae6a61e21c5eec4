/*
 * interp.c - replace ${VAR} and ${VAR:default} from the environment.
 *
 * Each reference is looked up with getenv(3) where it occurs.  The result
 * is built in a heap string that grows as needed, with no ceiling, because
 * the scalar and the environment are both under the user's control.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "xalloc.h"

struct out {
	char *s;
	size_t len;
	size_t cap;
};

static void
out_add(struct out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		while (o->len + n + 1 > o->cap)
			o->cap = o->cap ? o->cap * 2 : 64;
		o->s = xrealloc(o->s, o->cap);
	}
	memcpy(o->s + o->len, p, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static bool
is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/*
 * Expand the reference at P, which points just past "${", into O.
 * Returns a pointer past its closing '}', or NULL with a message.
 */
static const char *
expand_ref(const char *p, struct out *o, char *errbuf, size_t errlen)
{
	const char *name = p, *def = NULL, *end, *val;
	char var[256];
	size_t n;

	while (is_name_char(*p))
		p++;
	n = (size_t)(p - name);
	if ((end = strchr(p, '}')) == NULL) {
		snprintf(errbuf, errlen, "unterminated \"${\" reference; add "
		    "the closing \"}\"");
		return NULL;
	}
	if (n == 0 || (*p != '}' && *p != ':')) {
		snprintf(errbuf, errlen, "invalid \"${\" reference; expected "
		    "${NAME} or ${NAME:default}, or $${ for a literal \"${\"");
		return NULL;
	}
	if (*p == ':')
		def = p + 1;
	if (n >= sizeof(var)) {
		snprintf(errbuf, errlen, "environment variable name \"%.40s...\" "
		    "is too long", name);
		return NULL;
	}
	memcpy(var, name, n);
	var[n] = '\0';
	val = getenv(var);
	if (def != NULL && (val == NULL || *val == '\0'))
		out_add(o, def, (size_t)(end - def));
	else if (val != NULL)
		out_add(o, val, strlen(val));
	else {
		snprintf(errbuf, errlen, "environment variable \"%s\" is not "
		    "set; export it or give a default: ${%s:default}", var, var);
		return NULL;
	}
	return end + 1;
}

int
interp_expand(const char *in, char **out, char *errbuf, size_t errlen)
{
	struct out o = { NULL, 0, 0 };
	const char *p = in;
	int refs = 0;

	out_add(&o, "", 0);
	while (*p != '\0') {
		if (strncmp(p, "$${", 3) == 0) {
			out_add(&o, "${", 2);
			p += 3;
		} else if (strncmp(p, "${", 2) == 0) {
			if ((p = expand_ref(p + 2, &o, errbuf, errlen)) == NULL) {
				free(o.s);
				*out = NULL;
				return -1;
			}
			refs++;
		} else
			out_add(&o, p++, 1);
	}
	*out = o.s;
	return refs;
}
