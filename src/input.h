/*
 * input.h - newline-delimited input from files and stdin, read in steps.
 *
 * The reader never blocks the event loop: the caller polls input_fd() and
 * calls input_read() when it is readable, and each call does at most one
 * read(2).  Lines are passed on as they complete.  A UTF-8 byte order mark
 * at the start of a file and a CR before the LF are removed; blank lines
 * are skipped but still counted, so line numbers stay physical.  A line
 * longer than the cap is not kept in memory: it is reported once with
 * too_long set and its bytes are dropped.
 */
#ifndef SFSINK_INPUT_H
#define SFSINK_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define INPUT_MAX_LINE	(16u * 1024 * 1024)	/* default line cap, bytes */

struct input;

/* Called for each complete non-blank line; LINE is not NUL-terminated. */
typedef void input_line_fn(void *arg, const char *source, long lineno,
    const char *line, size_t len, bool too_long);

/*
 * Prepare to read PATHS in order ("-" is stdin; no paths means stdin).
 * Every file is checked for readability now so that a typo fails before
 * anything is sent: returns NULL after printing the reason.  The strings
 * in PATHS must outlive the reader.
 */
struct input *input_open(char *const *paths, size_t n_paths, size_t max_line,
    const struct logger *lg);

/*
 * The descriptor to poll for reading, opening the next source when the
 * current one is done; -1 once every source is done.
 */
int input_fd(struct input *in);

/* Read once; returns 1 when all input is consumed, 0 if more remains, -1 on a read error. */
int input_read(struct input *in, input_line_fn *fn, void *arg);

/* Number of sources that failed to open or read (each was logged). */
int input_failures(const struct input *in);

void input_free(struct input *in);

#endif
