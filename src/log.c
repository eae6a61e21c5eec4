/*
 * log.c - leveled messages on stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *const level_prefix[] = {
	[LOG_ERROR] = "",
	[LOG_WARN] = "warning: ",
	[LOG_INFO] = "info: ",
	[LOG_DEBUG] = "debug: ",
	[LOG_TRACE] = "trace: ",
};

void
logger_init(struct logger *lg, enum log_level level, FILE *stream)
{
	lg->level = level;
	lg->stream = stream;
	lg->status_line = false;
}

int
log_enabled(const struct logger *lg, enum log_level level)
{
	return level <= lg->level;
}

void
log_vmsg(const struct logger *lg, enum log_level level, const char *fmt,
    va_list ap)
{
	char line[4096];

	if (!log_enabled(lg, level))
		return;

	/* One write per message, so lines from one run never interleave. */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(lg->stream, "%ssfsink: %s%s\n", lg->status_line ? "\r\033[K" : "",
	    level_prefix[level], line);
	fflush(lg->stream);
}

void
log_msg(const struct logger *lg, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, level, fmt, ap);
	va_end(ap);
}

char *
log_mask(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t i, o = 0;

	if (dstlen == 0)
		return dst;

	for (i = 0; i < len && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[o] = '\0';

	if (i < len && dstlen >= 4)
		memcpy(dst + dstlen - 4, "...", 4);
	return dst;
}
