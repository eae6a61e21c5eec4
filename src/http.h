/*
 * http.h - HTTP requests driven by one libcurl multi handle.
 *
 * A struct http_request describes one exchange.  http_start() hands it to
 * the multi handle; http_wait() waits for network activity, the input
 * descriptor or a timeout; http_perform() moves every transfer forward and
 * calls the `done` callback of each finished request exactly once.  The
 * callback owns the request afterwards (free it with http_request_free or
 * start it again).  The http block of the configuration is applied to
 * every transfer here: libcurl options where libcurl has one, and a
 * progress callback for the timeouts it lacks (the TCP connect and TLS
 * handshake phases on their own, response headers, HTTP/2 writes).
 */
#ifndef SFSINK_HTTP_H
#define SFSINK_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "buf.h"
#include "config.h"
#include "log.h"

struct http_request;
typedef void http_done_fn(struct http_request *req, void *arg);

struct http_request {
	/* Set by the caller before http_start(). */
	const char *method;		/* static string: "GET", "POST", ... */
	char *url;			/* owned */
	char *body;			/* owned, NULL for none */
	size_t body_len;
	const char *content_type;	/* static string, or NULL */
	const char *accept;		/* static string, or NULL */
	char *authorization;		/* owned "Bearer ..." value, or NULL */
	bool unlimited_body;		/* ignore max_response_body_bytes */
	http_done_fn *done;
	void *arg;

	/* Filled in when the transfer ends. */
	CURLcode result;		/* CURLE_OK when a response arrived */
	long status;			/* HTTP status, 0 without a response */
	struct buf response;		/* response body */
	bool maybe_sent;		/* the request may have reached the peer */
	bool body_too_large;		/* cut at max_response_body_bytes */
	bool headers_too_large;		/* over max_response_header_bytes */
	double retry_after;		/* seconds from Retry-After, or -1 */
	char limit_info[64];		/* Sforce-Limit-Info value, or "" */
	char errbuf[CURL_ERROR_SIZE];	/* libcurl's message for `result` */
	char abort_reason[192];		/* why sfsink ended it, or "" */
	double seconds;			/* duration of the transfer */
	long http_version;		/* CURL_HTTP_VERSION_1_1, _2_0, ... */
	struct buf response_headers;	/* kept only for the access log */

	/* Private to http.c. */
	CURL *easy;
	size_t body_pos;		/* bytes of body handed to libcurl */
	struct curl_slist *headers;
	struct http *http;
	struct http_request *prev, *next;	/* the running list */
	size_t header_bytes;		/* response header bytes so far */
	bool final_status;		/* a status line of 200 or more arrived */
	curl_socket_t socket;		/* of the connection it opened */
	int64_t socket_ns;		/* when that socket was opened, or 0 */
	int64_t connected_ns;		/* when its TCP connect was seen done */
	int64_t sent_ns;		/* when the whole request was seen sent */
	int64_t write_ns;		/* when the upload last advanced */
	curl_off_t last_ulnow;
	int64_t deadline_ns;		/* of the running timer, or INT64_MAX */
};

struct http;

/*
 * Create the multi handle; returns NULL after logging on failure.  Warns
 * when server verification is off.  The TLS client certificates are read
 * by the first http_start(), which fails, after logging, when they cannot
 * be.
 */
struct http *http_new(const struct http_config *cfg, const struct logger *lg);

/* A zeroed request with an owned copy of URL. */
struct http_request *http_request_new(const char *method, const char *url);

/* Start REQ; on failure calls nothing and returns -1 after logging. */
int http_start(struct http *h, struct http_request *req);

/* Number of transfers in progress. */
int http_running(const struct http *h);

/*
 * Wait up to TIMEOUT_MS for activity, or less when a timeout of a running
 * request falls due sooner.  When FD is not -1 it is polled for reading
 * too, and *FD_READY is set when it is readable.
 */
int http_wait(struct http *h, int fd, int timeout_ms, bool *fd_ready);

/* Drive transfers and call the callbacks of finished ones. */
int http_perform(struct http *h);

/*
 * Describe why a finished request failed: sfsink's own reason (a size
 * limit or a timeout of the http block) or libcurl's message.
 */
const char *http_request_error(const struct http_request *req);

void http_request_free(struct http_request *req);
void http_free(struct http *h);

#endif
