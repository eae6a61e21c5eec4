/*
 * interp.h - ${VAR} and ${VAR:default} from the environment.
 *
 * The syntax follows Redpanda Connect's, so a pasted config keeps working.
 * ${NAME} is replaced by the value of NAME, and ${NAME:text} by that value
 * or by "text" when NAME is unset or empty.  $${ is a literal "${".  NAME
 * is one or more of A-Z a-z 0-9 _ and '.', and the default runs to the
 * first '}'.  Redpanda Connect rewrites the whole file before parsing it.
 * sfsink instead expands each scalar value after parsing, so a variable
 * cannot inject YAML structure, and any other "${" is an error.
 */
#ifndef SFSINK_INTERP_H
#define SFSINK_INTERP_H

#include <stddef.h>

/*
 * Expand IN into a new string stored in *OUT (the caller frees it).
 * Returns the number of references replaced (0 when IN had none), or -1
 * with a message in ERRBUF (lower case, no "sfsink: " prefix, no key
 * path) and *OUT set to NULL.
 */
int interp_expand(const char *in, char **out, char *errbuf, size_t errlen);

#endif
