/*
 * accesslog.h - the access log: one line per HTTP request, and with
 * http.access_log_body_limit the headers and bodies too.
 *
 * Every line is redacted before it is written.  The values of
 * Authorization, Cookie and Set-Cookie headers, of the form and JSON
 * fields access_token, refresh_token, id_token, client_secret, assertion,
 * password and signature, the word after "Bearer", and PEM private key
 * blocks are replaced by "[redacted]", in headers and bodies alike.
 * Control characters are written as \n, \r, \t or '?'.
 */
#ifndef SFSINK_ACCESSLOG_H
#define SFSINK_ACCESSLOG_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "http.h"
#include "log.h"

/* Log the finished request REQ as CFG's access_log keys ask. */
void accesslog_write(const struct logger *lg, const struct http_config *cfg,
    const struct http_request *req);

/* Append N bytes of TEXT to B with credentials redacted and controls escaped. */
void accesslog_redact(struct buf *b, const char *text, size_t n);

#endif
