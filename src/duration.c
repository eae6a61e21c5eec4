/*
 * duration.c - parse and format Go-style durations.
 *
 * duration_parse() follows Go's time.ParseDuration step by step, fraction
 * rounding included (a fraction is scaled through a double, as Go does, so
 * "1.1h" gives the same nanoseconds in both programs).  Sums are kept in
 * an unsigned 64-bit accumulator and checked before every operation, so an
 * overflow is reported instead of wrapping.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "duration.h"

#define LIMIT	((uint64_t)1 << 63)	/* magnitude of INT64_MIN */

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },		/* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 },		/* U+03BC Greek small mu */
	{ "ms", 1000000 },
	{ "s", 1000000000 },
	{ "m", UINT64_C(60000000000) },
	{ "h", UINT64_C(3600000000000) },
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Consume [0-9]* into *V; returns -1 when the number passes LIMIT. */
static int
leading_int(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t x = 0;

	for (; is_digit(*s); s++) {
		if (x > LIMIT / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
		if (x > LIMIT)
			return -1;
	}
	*sp = s;
	*v = x;
	return 0;
}

/* Consume [0-9]* after a '.', keeping the digits that fit (as Go does). */
static void
leading_fraction(const char **sp, uint64_t *f, double *scale)
{
	const char *s = *sp;
	bool overflow = false;

	*f = 0;
	*scale = 1;
	for (; is_digit(*s); s++) {
		if (overflow || *f > (INT64_MAX - 9) / 10) {
			overflow = true;
			continue;
		}
		*f = *f * 10 + (uint64_t)(*s - '0');
		*scale *= 10;
	}
	*sp = s;
}

/* Consume a unit: every byte up to the next digit or '.'. */
static enum duration_err
read_unit(const char **sp, uint64_t *unit)
{
	const char *s = *sp;
	size_t n = 0, i;

	while (s[n] != '\0' && s[n] != '.' && !is_digit(s[n]))
		n++;
	if (n == 0)
		return DURATION_NO_UNIT;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].name) == n &&
		    memcmp(units[i].name, s, n) == 0) {
			*unit = units[i].ns;
			*sp = s + n;
			return DURATION_OK;
		}
	}
	return DURATION_BAD_UNIT;
}

/* Consume one "<number><unit>" element into *V nanoseconds. */
static enum duration_err
parse_element(const char **sp, uint64_t *v)
{
	const char *s = *sp, *start;
	uint64_t whole, frac = 0, unit;
	double scale = 1;
	bool pre, post = false;
	enum duration_err err;

	if (*s != '.' && !is_digit(*s))
		return DURATION_SYNTAX;
	start = s;
	if (leading_int(&s, &whole) == -1)
		return DURATION_RANGE;
	pre = s != start;
	if (*s == '.') {
		start = ++s;
		leading_fraction(&s, &frac, &scale);
		post = s != start;
	}
	if (!pre && !post)
		return DURATION_SYNTAX;
	if ((err = read_unit(&s, &unit)) != DURATION_OK)
		return err;
	if (whole > LIMIT / unit)
		return DURATION_RANGE;
	whole *= unit;
	if (frac > 0) {
		whole += (uint64_t)((double)frac * ((double)unit / scale));
		if (whole > LIMIT)
			return DURATION_RANGE;
	}
	*sp = s;
	*v = whole;
	return DURATION_OK;
}

enum duration_err
duration_parse(const char *s, int64_t *ns)
{
	uint64_t total = 0, v;
	bool neg = false;
	enum duration_err err;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return DURATION_OK;
	}
	if (*s == '\0')
		return DURATION_SYNTAX;
	while (*s != '\0') {
		if ((err = parse_element(&s, &v)) != DURATION_OK)
			return err;
		if (v > LIMIT - total)
			return DURATION_RANGE;
		total += v;
	}
	if (!neg && total > (uint64_t)INT64_MAX)
		return DURATION_RANGE;
	if (neg)
		*ns = total == LIMIT ? INT64_MIN : -(int64_t)total;
	else
		*ns = (int64_t)total;
	return DURATION_OK;
}

/*
 * Write the PREC-digit fraction of V (V / 10^PREC) before *W, without
 * trailing zeros, and return V / 10^PREC.
 */
static uint64_t
put_frac(char *buf, size_t *w, uint64_t v, int prec)
{
	bool print = false;
	int i;

	for (i = 0; i < prec; i++) {
		char digit = (char)('0' + v % 10);

		print = print || digit != '0';
		if (print)
			buf[--*w] = digit;
		v /= 10;
	}
	if (print)
		buf[--*w] = '.';
	return v;
}

static void
put_int(char *buf, size_t *w, uint64_t v)
{
	do {
		buf[--*w] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
}

/* Sub-second values use the largest unit below a second, like "1.5ms". */
static void
put_small(char *buf, size_t *w, uint64_t u)
{
	int prec = 6;

	buf[--*w] = 's';
	if (u < 1000) {
		buf[--*w] = 'n';
		prec = 0;
	} else if (u < 1000000) {
		buf[--*w] = 'u';
		prec = 3;
	} else
		buf[--*w] = 'm';
	u = put_frac(buf, w, u, prec);
	put_int(buf, w, u);
}

char *
duration_format(int64_t ns, char *buf, size_t len)
{
	char tmp[32];
	size_t w = sizeof(tmp) - 1;
	uint64_t u = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;

	tmp[w] = '\0';
	if (u == 0) {
		tmp[--w] = 's';
		tmp[--w] = '0';
	} else if (u < 1000000000)
		put_small(tmp, &w, u);
	else {
		tmp[--w] = 's';
		u = put_frac(tmp, &w, u, 9);
		put_int(tmp, &w, u % 60);
		if ((u /= 60) > 0) {
			tmp[--w] = 'm';
			put_int(tmp, &w, u % 60);
			if ((u /= 60) > 0) {
				tmp[--w] = 'h';
				put_int(tmp, &w, u);
			}
		}
	}
	if (ns < 0)
		tmp[--w] = '-';
	if (len > 0) {
		strncpy(buf, tmp + w, len - 1);
		buf[len - 1] = '\0';
	}
	return buf;
}
