/*
 * accesslog.c - the access log, with every credential redacted.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "accesslog.h"

#define LINE_CHUNK	2048	/* body bytes per log line, below log.c's 4 KiB */

/* Names whose values are credentials, in forms, JSON and headers. */
static const char *const secret_names[] = {
	"access_token", "refresh_token", "id_token", "client_secret",
	"assertion", "password", "signature", "authorization", "set-cookie",
	"cookie",
};

/* Header names whose whole value, up to the end of the line, is secret. */
static bool
is_line_value(const char *name)
{
	return strcasecmp(name, "authorization") == 0 ||
	    strcasecmp(name, "cookie") == 0 || strcasecmp(name, "set-cookie") == 0;
}

static bool
is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static void
put_escaped(struct buf *b, char c)
{
	if (c == '\n')
		buf_puts(b, "\\n");
	else if (c == '\r')
		buf_puts(b, "\\r");
	else if (c == '\t')
		buf_puts(b, "\\t");
	else if ((unsigned char)c < 0x20 || c == 0x7f)
		buf_putc(b, '?');
	else
		buf_putc(b, c);
}

/* Length of a case-insensitive match of WORD at S (of N bytes), or 0. */
static size_t
match_word(const char *s, size_t n, const char *word)
{
	size_t k = strlen(word);

	return k <= n && strncasecmp(s, word, k) == 0 ? k : 0;
}

/*
 * The end of a value starting at V: a quoted value ends at its closing
 * quote, a header value at the end of the line, any other value at a
 * form, JSON or cookie separator.
 */
static size_t
value_end(const char *t, size_t v, size_t n, const char *quote,
    bool whole_line)
{
	size_t q = strlen(quote);

	for (; v < n; v++) {
		if (q == 1 && t[v] == '\\' && v + 1 < n) {
			v++;
			continue;
		}
		if (q > 0 && strncmp(t + v, quote, q) == 0)
			return v;
		if (q == 0 && whole_line && (t[v] == '\r' || t[v] == '\n'))
			return v;
		if (q == 0 && !whole_line && strchr("&,;}] \t\r\n\"", t[v]))
			return v;
	}
	return n;
}

/*
 * At T[I] a secret name may start.  When it does, followed by a separator,
 * append the name and "[redacted]" for its value, and return the index
 * after the value; otherwise return I.
 */
static size_t
redact_field(struct buf *b, const char *t, size_t i, size_t n)
{
	const char *quote;
	size_t k, j, v, e, w;

	if (i > 0 && is_name_char(t[i - 1]))
		return i;
	for (w = 0; w < sizeof(secret_names) / sizeof(secret_names[0]); w++) {
		k = match_word(t + i, n - i, secret_names[w]);
		if (k == 0 || (i + k < n && is_name_char(t[i + k])))
			continue;
		j = i + k;
		while (j < n && (t[j] == '"' || t[j] == '\\'))
			j++;
		while (j < n && t[j] == ' ')
			j++;
		if (j >= n || (t[j] != '=' && t[j] != ':'))
			continue;
		for (v = j + 1; v < n && t[v] == ' '; v++)
			;
		quote = strncmp(t + v, "\\\"", 2) == 0 ? "\\\"" :
		    (v < n && t[v] == '"') ? "\"" : "";
		e = value_end(t, v + strlen(quote), n,
		    quote, is_line_value(secret_names[w]));
		for (; i < v + strlen(quote); i++)
			put_escaped(b, t[i]);
		buf_puts(b, "[redacted]");
		return e;
	}
	return i;
}

/* At T[I]: "Bearer TOKEN" or a PEM private key block; returns the index after. */
static size_t
redact_token(struct buf *b, const char *t, size_t i, size_t n)
{
	size_t k, e;

	if ((k = match_word(t + i, n - i, "bearer ")) > 0 &&
	    (i == 0 || !is_name_char(t[i - 1]))) {
		buf_append(b, t + i, k);
		buf_puts(b, "[redacted]");
		for (e = i + k; e < n && !isspace((unsigned char)t[e]) &&
		    t[e] != '"' && t[e] != ','; e++)
			;
		return e;
	}
	if (match_word(t + i, n - i, "-----BEGIN ") > 0) {
		e = i + 11;
		while (e < n && t[e] != '-' && t[e] != '\n')
			e++;
		if (e - i >= 11 + 11 &&
		    match_word(t + e - 11, 11, "PRIVATE KEY") > 0) {
			const char *end = strstr(t + e, "-----END ");

			buf_puts(b, "[redacted private key]");
			if (end == NULL || (size_t)(end - t) >= n)
				return n;
			e = (size_t)(end - t) + 9;
			while (e < n && t[e] != '\n' && t[e] != '"')
				e++;
			return e;
		}
	}
	return i;
}

void
accesslog_redact(struct buf *b, const char *t, size_t n)
{
	size_t i = 0, next;

	while (i < n) {
		next = redact_field(b, t, i, n);
		if (next == i)
			next = redact_token(b, t, i, n);
		if (next == i)
			put_escaped(b, t[i++]);
		else
			i = next;
	}
}

/* Log TEXT (N bytes) redacted, in lines of LINE_CHUNK bytes after PREFIX. */
static void
log_redacted(const struct logger *lg, enum log_level level,
    const char *prefix, const char *text, size_t n)
{
	struct buf b;
	size_t off, part;

	buf_init(&b, 0);
	accesslog_redact(&b, text, n);
	off = 0;
	do {
		part = b.len - off > LINE_CHUNK ? LINE_CHUNK : b.len - off;
		log_msg(lg, level, "%s%.*s", prefix, (int)part,
		    b.data != NULL ? b.data + off : "");
		off += part;
	} while (off < b.len);
	buf_free(&b);
}

/* Log a body cut at LIMIT bytes, saying how much was left out. */
static void
log_body(const struct logger *lg, enum log_level level, const char *prefix,
    const char *body, size_t len, size_t limit)
{
	char cut[64];

	if (body == NULL || len == 0)
		return;
	log_redacted(lg, level, prefix, body, len < limit ? len : limit);
	if (len > limit) {
		snprintf(cut, sizeof(cut), "[%zu more bytes not logged]",
		    len - limit);
		log_msg(lg, level, "%s%s", prefix, cut);
	}
}

/* Log the request headers that sfsink sets. */
static void
log_request_headers(const struct logger *lg, enum log_level level,
    const struct http_request *req)
{
	if (req->content_type != NULL)
		log_msg(lg, level, "> Content-Type: %s", req->content_type);
	if (req->accept != NULL)
		log_msg(lg, level, "> Accept: %s", req->accept);
	if (req->authorization != NULL)
		log_msg(lg, level, "> Authorization: [redacted]");
}

/* Log each response header line that was kept, redacted. */
static void
log_response_headers(const struct logger *lg, enum log_level level,
    const struct http_request *req)
{
	const char *p, *end, *nl;

	if (req->response_headers.data == NULL)
		return;
	p = req->response_headers.data;
	end = p + req->response_headers.len;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl - p > 1)
			log_redacted(lg, level, "< ", p, (size_t)(nl - p) -
			    (nl[-1] == '\r'));
	}
}

static const char *
version_name(long version)
{
	switch (version) {
	case CURL_HTTP_VERSION_1_0:
		return "HTTP/1.0";
	case CURL_HTTP_VERSION_1_1:
		return "HTTP/1.1";
	case CURL_HTTP_VERSION_2_0:
		return "HTTP/2";
	default:
		return "no HTTP";
	}
}

void
accesslog_write(const struct logger *lg, const struct http_config *cfg,
    const struct http_request *req)
{
	enum log_level level = cfg->access_log_level;
	size_t limit = (size_t)cfg->access_log_body_limit;
	struct buf line;

	if (!cfg->access_log || !log_enabled(lg, level))
		return;
	buf_init(&line, 0);
	buf_printf(&line, "%s ", req->method);
	accesslog_redact(&line, req->url, strlen(req->url));
	buf_printf(&line, " -> %ld %s (%.3fs, %zu bytes out, %zu bytes in)",
	    req->status, version_name(req->http_version), req->seconds,
	    req->body_len, req->response.len);
	if (req->result != CURLE_OK)
		buf_printf(&line, ": %s", http_request_error(req));
	log_msg(lg, level, "%s", line.data);
	buf_free(&line);

	if (limit == 0)
		return;
	log_request_headers(lg, level, req);
	log_body(lg, level, "> body: ", req->body, req->body_len, limit);
	log_response_headers(lg, level, req);
	log_body(lg, level, "< body: ", req->response.data, req->response.len,
	    limit);
}
