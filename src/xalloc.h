/*
 * xalloc.h - allocation that never returns NULL.
 *
 * sfsink cannot do anything useful after malloc fails, and checking every
 * call site would hide the real logic, so these wrappers print a message
 * and exit with status 3 instead.
 */
#ifndef SFSINK_XALLOC_H
#define SFSINK_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array of NMEMB elements of SIZE bytes, checking for overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Return a newly allocated formatted string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
