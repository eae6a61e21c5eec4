/*
 * input.c - newline-delimited input from files and stdin, read in steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "input.h"
#include "xalloc.h"

#define READ_SIZE	(64 * 1024)

struct input {
	char *const *paths;
	size_t n_paths;
	size_t next_path;	/* index of the next source to open */
	const char *source;	/* name of the current source */
	int fd;			/* current descriptor, -1 between sources */
	long lineno;		/* lines completed in the current source */
	int failures;		/* sources that could not be read */
	bool skipping;		/* inside a line longer than the cap */
	struct buf line;	/* the incomplete line so far */
	const struct logger *lg;
};

static const char stdin_name[] = "-";

static int
check_readable(const char *path, const struct logger *lg)
{
	int fd;

	if (strcmp(path, "-") == 0)
		return 0;
	fd = open(path, O_RDONLY);
	if (fd == -1) {
		log_error(lg, "cannot open input \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

struct input *
input_open(char *const *paths, size_t n_paths, size_t max_line,
    const struct logger *lg)
{
	static char *const only_stdin[] = { (char *)stdin_name };
	struct input *in;
	size_t i;

	if (n_paths == 0) {
		paths = only_stdin;
		n_paths = 1;
	}
	for (i = 0; i < n_paths; i++) {
		if (check_readable(paths[i], lg) == -1)
			return NULL;
	}

	in = xcalloc(1, sizeof(*in));
	in->paths = paths;
	in->n_paths = n_paths;
	in->fd = -1;
	in->lg = lg;
	buf_init(&in->line, max_line);
	return in;
}

/* Open the next source; returns -1 when there is none left. */
static int
open_next(struct input *in)
{
	const char *path;

	while (in->next_path < in->n_paths) {
		path = in->paths[in->next_path++];
		in->lineno = 0;
		in->skipping = false;
		buf_clear(&in->line);

		if (strcmp(path, "-") == 0) {
			in->source = stdin_name;
			in->fd = STDIN_FILENO;
			return 0;
		}
		in->source = path;
		in->fd = open(path, O_RDONLY);
		if (in->fd != -1)
			return 0;
		log_error(in->lg, "cannot open input \"%s\": %s", path,
		    strerror(errno));
		in->failures++;
	}
	return -1;
}

int
input_fd(struct input *in)
{
	if (in->fd == -1 && open_next(in) == -1)
		return -1;
	return in->fd;
}

static bool
is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	}
	return true;
}

/* Hand one complete line (without its LF) to FN. */
static void
emit_line(struct input *in, const char *s, size_t n, input_line_fn *fn,
    void *arg)
{
	in->lineno++;
	if (in->skipping) {
		in->skipping = false;
		fn(arg, in->source, in->lineno, NULL, 0, true);
		return;
	}
	if (in->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (!is_blank(s, n))
		fn(arg, in->source, in->lineno, s, n, false);
}

/* Add the start of a line to the buffer, or start skipping it. */
static void
keep_partial(struct input *in, const char *s, size_t n)
{
	if (in->skipping)
		return;
	if (buf_append(&in->line, s, n) == -1) {
		in->skipping = true;
		buf_clear(&in->line);
	}
}

static void
split_lines(struct input *in, const char *p, size_t n, input_line_fn *fn,
    void *arg)
{
	const char *nl;

	while ((nl = memchr(p, '\n', n)) != NULL) {
		size_t part = (size_t)(nl - p);

		if (in->line.len == 0 && !in->skipping) {
			emit_line(in, p, part, fn, arg);
		} else {
			keep_partial(in, p, part);
			emit_line(in, in->line.data, in->line.len, fn, arg);
			buf_clear(&in->line);
		}
		p = nl + 1;
		n -= part + 1;
	}
	keep_partial(in, p, n);
}

/* End of the current source: a last line without LF still counts. */
static void
finish_source(struct input *in, input_line_fn *fn, void *arg)
{
	if (in->line.len > 0 || in->skipping)
		emit_line(in, in->line.data, in->line.len, fn, arg);
	buf_clear(&in->line);
	if (in->fd != STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
}

int
input_read(struct input *in, input_line_fn *fn, void *arg)
{
	char chunk[READ_SIZE];
	ssize_t n;

	if (in->fd == -1 && open_next(in) == -1)
		return 1;

	n = read(in->fd, chunk, sizeof(chunk));
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		log_error(in->lg, "read error on input \"%s\": %s", in->source,
		    strerror(errno));
		in->failures++;
		finish_source(in, fn, arg);
		return -1;
	}
	if (n == 0) {
		finish_source(in, fn, arg);
		return in->next_path < in->n_paths ? 0 : 1;
	}

	split_lines(in, chunk, (size_t)n, fn, arg);
	return 0;
}

int
input_failures(const struct input *in)
{
	return in->failures;
}

void
input_free(struct input *in)
{
	if (in == NULL)
		return;
	if (in->fd != -1 && in->fd != STDIN_FILENO)
		close(in->fd);
	buf_free(&in->line);
	free(in);
}
