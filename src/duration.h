/*
 * duration.h - Go-style durations ("300ms", "1.5s", "1m30s").
 *
 * The syntax is the one of Go's time.ParseDuration, so a value that
 * Redpanda Connect accepts means the same here.  A duration is an optional
 * sign, then one or more decimal numbers each followed by a unit (ns, us,
 * µs, ms, s, m, h), or the bare "0".  Values are int64 nanoseconds, and
 * anything beyond about 292 years is reported as an overflow.
 */
#ifndef SFSINK_DURATION_H
#define SFSINK_DURATION_H

#include <stddef.h>
#include <stdint.h>

enum duration_err {
	DURATION_OK = 0,
	DURATION_SYNTAX,	/* not a number, or empty */
	DURATION_NO_UNIT,	/* "5": a number without a unit */
	DURATION_BAD_UNIT,	/* "5x": a unit Go does not know */
	DURATION_RANGE,		/* does not fit in int64 nanoseconds */
};

/* Parse S into *NS.  Returns DURATION_OK, or the reason it failed. */
enum duration_err duration_parse(const char *s, int64_t *ns);

/*
 * Format NS the way Go's Duration.String does ("1m30s", "1.5ms", "0s"),
 * but with "us" for microseconds.  Writes at most LEN bytes to BUF, which
 * 32 bytes always suffice for, and returns BUF.
 */
char *duration_format(int64_t ns, char *buf, size_t len);

#endif
