/*
 * buf.h - growable byte buffers with a hard ceiling.
 *
 * A struct buf owns its bytes.  It grows geometrically up to `max` bytes;
 * an append that would pass the ceiling fails with -1 and leaves the buffer
 * unchanged, so one enormous input line or response cannot take all memory.
 * The data is always followed by a NUL byte that is not counted in `len`.
 * Allocation failure aborts the program (see xalloc.h).
 */
#ifndef SFSINK_BUF_H
#define SFSINK_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;	/* 0 means no ceiling */
};

void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);

/* Append the decimal text of N, without the cost of a format. */
int buf_put_long(struct buf *b, long long n);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Append S as the body of a JSON string (without quotes), escaped.  Bytes
 * that are not part of valid UTF-8 become \ufffd, so the result is always
 * valid JSON.
 */
int buf_json_escape(struct buf *b, const char *s, size_t n);

/* Append S, replacing every byte that is not part of valid UTF-8 by U+FFFD. */
int buf_put_utf8(struct buf *b, const char *s, size_t n);

/* Forget the contents but keep the allocation. */
void buf_clear(struct buf *b);

/* Hand the bytes to the caller, who frees them; the buffer becomes empty. */
char *buf_steal(struct buf *b, size_t *len);

void buf_free(struct buf *b);

#endif
