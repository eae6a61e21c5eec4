/*
 * log.h - leveled messages on stderr.
 *
 * Every message goes through a struct logger so that verbosity is part of
 * the run's context, not a global.  Messages have the form
 * "sfsink: <text>" for errors and "sfsink: warning: <text>" for warnings;
 * the info, debug and trace levels add their level name.  Callers never
 * pass secrets (client_secret, tokens, Authorization headers) to these
 * functions; text that came from a remote peer goes through
 * log_mask() first so that control characters cannot reach the terminal.
 */
#ifndef SFSINK_LOG_H
#define SFSINK_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum log_level {
	LOG_QUIET = -1,		/* only fatal errors */
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
	LOG_TRACE,
};

struct logger {
	enum log_level level;	/* messages above this level are dropped */
	FILE *stream;		/* stderr outside of tests */
	bool status_line;	/* erase a status line before each message */
};

void logger_init(struct logger *lg, enum log_level level, FILE *stream);

/* Return nonzero when a message at LEVEL would be printed. */
int log_enabled(const struct logger *lg, enum log_level level);

void log_msg(const struct logger *lg, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_vmsg(const struct logger *lg, enum log_level level,
    const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#define log_error(lg, ...)	log_msg((lg), LOG_ERROR, __VA_ARGS__)
#define log_warn(lg, ...)	log_msg((lg), LOG_WARN, __VA_ARGS__)
#define log_info(lg, ...)	log_msg((lg), LOG_INFO, __VA_ARGS__)
#define log_debug(lg, ...)	log_msg((lg), LOG_DEBUG, __VA_ARGS__)
#define log_trace(lg, ...)	log_msg((lg), LOG_TRACE, __VA_ARGS__)

/*
 * Copy at most LEN bytes of remote text into DST (of DSTLEN bytes, always
 * terminated), replacing control characters with '?' and cutting the copy
 * with "..." when it does not fit.  Returns DST.
 */
char *log_mask(char *dst, size_t dstlen, const char *src, size_t len);

#endif
