/*
 * http.c - HTTP requests driven by one libcurl multi handle.
 *
 * The loop follows libcurl's own pattern: wait with a timeout, perform,
 * then drain finished transfers.  Each request has its own easy handle and
 * error buffer; connections are reused through the multi handle's cache.
 *
 * libcurl 7.88 has no option for some timeouts of the http block, so a
 * progress callback (CURLOPT_XFERINFOFUNCTION) watches the phase of each
 * transfer and ends it when one phase lasts too long.  curl_multi_perform()
 * runs that callback for every transfer on each call, and http_wait()
 * wakes up when the next such deadline falls due, so a timeout is enforced
 * within a few milliseconds of its value.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accesslog.h"
#include "clock.h"
#include "config.h"
#include "duration.h"
#include "http.h"
#include "tls.h"
#include "xalloc.h"

/* libcurl 7.88's limits for CURLOPT_BUFFERSIZE and CURLOPT_UPLOAD_BUFFERSIZE. */
#define READ_BUFFER_MIN		1024L
#define READ_BUFFER_MAX		(10L * 1024 * 1024)
#define WRITE_BUFFER_MIN	16384L
#define WRITE_BUFFER_MAX	(2L * 1024 * 1024)

/*
 * The longest Retry-After honoured, in seconds.  A longer one is cut to it
 * because the delay becomes nanoseconds in an int64_t, which "inf" or
 * "1e300" would overflow.
 */
#define RETRY_AFTER_MAX		86400.0

struct http {
	CURLM *multi;
	const struct http_config *cfg;
	const struct logger *lg;
	struct tls *tls;		/* NULL until the first request */
	bool tls_failed;		/* loading it failed, and was logged */
	struct http_request *active;	/* running requests, newest first */
	int running;			/* transfers started and not yet finished */
	long read_buffer;		/* clamped read_buffer_size */
	long write_buffer;		/* clamped write_buffer_size */
};

static long
clamp(int64_t v, long lo, long hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return (long)v;
}

/*
 * The cap of libcurl's connection cache.  libcurl keeps no per-host count
 * of idle connections, and sfsink sends all but its token requests to one
 * host, so the smaller of the two limits caps the whole cache.
 */
static long
idle_connection_cap(const struct transport_config *t)
{
	long per_host = (long)t->max_idle_conns_per_host;

	if (per_host == 0)
		per_host = sysconf(_SC_NPROCESSORS_ONLN) + 1;
	if (t->max_idle_conns > 0 && t->max_idle_conns < per_host)
		return (long)t->max_idle_conns;
	return per_host;
}

static void
set_multi_options(struct http *h)
{
	const struct transport_config *t = &h->cfg->http;

	if (t->max_conns_per_host > 0)
		curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
		    (long)t->max_conns_per_host);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, idle_connection_cap(t));
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);

	h->read_buffer = clamp(t->read_buffer_size, READ_BUFFER_MIN,
	    READ_BUFFER_MAX);
	h->write_buffer = clamp(t->write_buffer_size, WRITE_BUFFER_MIN,
	    WRITE_BUFFER_MAX);
	if (h->read_buffer != t->read_buffer_size ||
	    h->write_buffer != t->write_buffer_size)
		log_debug(h->lg, "libcurl buffers: %ld bytes to read, %ld to "
		    "write (read_buffer_size and write_buffer_size are clamped "
		    "to libcurl's ranges)", h->read_buffer, h->write_buffer);
}

/*
 * Load the client certificates, once, before the first request: like the
 * network, the files are needed only once there is something to send.
 * libcurl must use OpenSSL to take them.
 */
static int
load_tls(struct http *h)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	char err[768];

	if (h->tls != NULL || h->tls_failed)
		return h->tls != NULL ? 0 : -1;
	h->tls_failed = true;
	if ((h->tls = tls_new(h->cfg, err, sizeof(err))) == NULL) {
		log_error(h->lg, "%s", err);
		return -1;
	}
	h->tls->lg = h->lg;
	if (h->tls->n > 0 && (v->ssl_version == NULL ||
	    strncmp(v->ssl_version, "OpenSSL", 7) != 0)) {
		log_error(h->lg, "http.tls.client_certs needs libcurl built with "
		    "OpenSSL, but this libcurl uses %s", v->ssl_version ?
		    v->ssl_version : "no TLS library");
		tls_free(h->tls);
		h->tls = NULL;
		return -1;
	}
	h->tls_failed = false;
	return 0;
}

struct http *
http_new(const struct http_config *cfg, const struct logger *lg)
{
	struct http *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error(lg, "cannot initialise libcurl");
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->cfg = cfg;
	h->lg = lg;
	h->multi = curl_multi_init();
	if (h->multi == NULL) {
		log_error(lg, "cannot create a libcurl multi handle");
		http_free(h);
		return NULL;
	}
	set_multi_options(h);
	if (cfg->tls.enabled && cfg->tls.skip_cert_verify)
		log_warn(lg, "http.tls.skip_cert_verify is true: the server's "
		    "certificate and host name are not verified, so anyone on "
		    "the network path can read and change the traffic");
	return h;
}

struct http_request *
http_request_new(const char *method, const char *url)
{
	struct http_request *req = xcalloc(1, sizeof(*req));

	req->method = method;
	req->url = xstrdup(url);
	req->retry_after = -1;
	buf_init(&req->response, 0);
	buf_init(&req->response_headers, 0);
	return req;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_request *req = arg;
	size_t n = size * nmemb;

	/* A short count makes libcurl end the transfer with CURLE_WRITE_ERROR. */
	if (buf_append(&req->response, data, n) == -1) {
		req->body_too_large = true;
		snprintf(req->abort_reason, sizeof(req->abort_reason),
		    "response body longer than http.http.max_response_body_bytes "
		    "(%zu bytes); the response was cut", req->response.max);
		return 0;
	}
	return n;
}

/* Copy the value of header line LINE into DST when its name is NAME. */
static int
header_value(const char *line, size_t n, const char *name, char *dst,
    size_t dstlen)
{
	size_t k = strlen(name), i;

	if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return 0;
	line += k + 1;
	n -= k + 1;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		n--;
	for (i = 0; i < n && i + 1 < dstlen; i++)
		dst[i] = isprint((unsigned char)line[i]) ? line[i] : '?';
	dst[i] = '\0';
	return 1;
}

/* Note a status line: "HTTP/1.1 100 Continue" is not the response yet. */
static void
note_status_line(struct http_request *req, const char *line, size_t n)
{
	const char *sp;

	if (n < 12 || strncmp(line, "HTTP/", 5) != 0)
		return;
	sp = memchr(line, ' ', n);
	if (sp != NULL && sp + 1 < line + n && sp[1] != '1')
		req->final_status = true;
}

static size_t
on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct http_request *req = arg;
	const struct http_config *cfg = req->http->cfg;
	size_t n = size * nmemb;
	char value[64];

	req->header_bytes += n;
	if (req->header_bytes > (size_t)cfg->http.max_response_header_bytes) {
		req->headers_too_large = true;
		snprintf(req->abort_reason, sizeof(req->abort_reason),
		    "response headers longer than "
		    "http.http.max_response_header_bytes (%lld bytes)",
		    (long long)cfg->http.max_response_header_bytes);
		return 0;
	}
	note_status_line(req, line, n);
	if (cfg->access_log && cfg->access_log_body_limit > 0)
		buf_append(&req->response_headers, line, n);
	header_value(line, n, "Sforce-Limit-Info", req->limit_info,
	    sizeof(req->limit_info));
	if (header_value(line, n, "Retry-After", value, sizeof(value))) {
		char *end;
		double s = strtod(value, &end);

		if (end != value && s >= 0)
			req->retry_after = s < RETRY_AFTER_MAX ? s :
			    RETRY_AFTER_MAX;
	}
	return n;
}

/* The timer that runs in one phase of a transfer. */
struct timer {
	int64_t start_ns;
	int64_t limit_ns;	/* 0: this phase has no limit */
	const char *what;	/* the phase, for the message */
	const char *key;	/* the http key that sets the limit */
};

/*
 * Before the request is written: the TCP connect from the moment the
 * socket is opened, then the TLS handshake.  libcurl 7.88 reports its
 * connect time only after the handshake, so getpeername() on the socket
 * shows when TCP is up.  A transfer that waits for a connection of another one has
 * no socket of its own and no timer.
 */
static void
connect_timer(struct http_request *req, struct timer *t, int64_t now)
{
	const struct http_config *cfg = req->http->cfg;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	if (req->socket_ns == 0)
		return;
	if (req->connected_ns == 0 &&
	    getpeername(req->socket, (struct sockaddr *)&peer, &len) == 0)
		req->connected_ns = now;
	if (req->connected_ns == 0) {
		t->start_ns = req->socket_ns;
		t->limit_ns = cfg->tcp.connect_timeout_ns;
		t->what = "TCP connection not established";
		t->key = "http.tcp.connect_timeout";
	} else if (strncasecmp(req->url, "https:", 6) == 0) {
		t->start_ns = req->connected_ns;
		t->limit_ns = cfg->http.tls_handshake_timeout_ns;
		t->what = "TLS handshake not finished";
		t->key = "http.http.tls_handshake_timeout";
	}
}

/* Set the timer of an HTTP/2 upload, which must keep making progress. */
static void
write_timer(struct http_request *req, struct timer *t, curl_off_t ulnow,
    int64_t now)
{
	if (ulnow != req->last_ulnow || req->write_ns == 0) {
		req->last_ulnow = ulnow;
		req->write_ns = now;
	}
	if (!tls_negotiated_h2(req->easy))
		return;
	t->start_ns = req->write_ns;
	t->limit_ns = req->http->cfg->http.h2.write_byte_timeout_ns;
	t->what = "no request bytes written";
	t->key = "http.http.h2.write_byte_timeout";
}

/* The timer of the phase REQ is in at NOW. */
static void
current_timer(struct http_request *req, struct timer *t, curl_off_t ultotal,
    curl_off_t ulnow, int64_t now)
{
	curl_off_t pretransfer_us = 0;

	memset(t, 0, sizeof(*t));
	curl_easy_getinfo(req->easy, CURLINFO_PRETRANSFER_TIME_T,
	    &pretransfer_us);
	if (pretransfer_us == 0) {
		connect_timer(req, t, now);
		return;
	}
	if (ultotal > 0 && ulnow < ultotal) {
		write_timer(req, t, ulnow, now);
		return;
	}
	if (req->sent_ns == 0)
		req->sent_ns = now;
	if (!req->final_status) {
		t->start_ns = req->sent_ns;
		t->limit_ns = req->http->cfg->http.response_header_timeout_ns;
		t->what = "no response headers after the request was sent";
		t->key = "http.http.response_header_timeout";
	}
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct http_request *req = arg;
	int64_t now = clock_now_ns();
	struct timer t;
	char limit[32];

	current_timer(req, &t, ultotal, ulnow, now);
	req->deadline_ns = INT64_MAX;
	if (t.limit_ns <= 0)
		return 0;
	if (now - t.start_ns < t.limit_ns) {
		req->deadline_ns = t.start_ns + t.limit_ns;
		return 0;
	}
	snprintf(req->abort_reason, sizeof(req->abort_reason),
	    "%s within %s (%s)", t.what, t.key,
	    duration_format(t.limit_ns, limit, sizeof(limit)));
	return 1;	/* libcurl ends the transfer: CURLE_ABORTED_BY_CALLBACK */
}

/* Open the socket of a new connection for REQ, noting when and which. */
static curl_socket_t
on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct http_request *req = arg;
	curl_socket_t fd = socket(addr->family, addr->socktype, addr->protocol);

	if (fd != CURL_SOCKET_BAD && purpose == CURLSOCKTYPE_IPCXN) {
		req->socket = fd;
		req->socket_ns = clock_now_ns();
		req->connected_ns = 0;
	}
	return fd;
}

/* Socket options libcurl 7.88 has no setting for. */
static int
on_socket(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	const struct http_config *cfg = arg;
	int count = (int)cfg->tcp.keep_alive_count;
	unsigned int user_timeout;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	if (cfg->tcp.keep_alive_idle_ns >= 0 && count > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
	if (cfg->tcp.tcp_user_timeout_ns > 0) {
		user_timeout = (unsigned int)(cfg->tcp.tcp_user_timeout_ns /
		    NS_PER_MS);
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		    sizeof(user_timeout));
	}
	return CURL_SOCKOPT_OK;
}

/*
 * Server verification and the OpenSSL callback.  Client certificates are
 * not given to libcurl: the callback chooses among them (see tls.h).
 */
static void
set_tls_options(CURL *easy, const struct http *h)
{
	const struct http_config *cfg = h->cfg;
	struct curl_blob blob;

	curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, tls_setup_ctx);
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, h->tls);
	if (!cfg->tls.enabled)
		return;
	if (cfg->tls.skip_cert_verify) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->tls.root_cas != NULL) {
		blob.data = cfg->tls.root_cas;
		blob.len = strlen(cfg->tls.root_cas);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (cfg->tls.root_cas_file != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, cfg->tls.root_cas_file);
}

/*
 * libcurl's connect timeout covers the TCP connect and the TLS handshake
 * together, so it gets their sum; on_progress() bounds each on its own.
 */
static void
set_timeouts(CURL *easy, const struct http_config *cfg)
{
	int64_t connect = cfg->tcp.connect_timeout_ns;
	int64_t handshake = cfg->http.tls_handshake_timeout_ns;

	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
	    (long)(cfg->timeout_ns / NS_PER_MS));
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect > 0 &&
	    handshake > 0 ? (long)((connect + handshake) / NS_PER_MS) : 0L);
	curl_easy_setopt(easy, CURLOPT_EXPECT_100_TIMEOUT_MS,
	    (long)(cfg->http.expect_continue_timeout_ns / NS_PER_MS));
}

/*
 * Convert NS to whole seconds, rounded up and at least 1.  libcurl takes
 * these settings in seconds, and 0 would mean something else: the kernel
 * rejects a keep-alive time of 0, and a maximum age of 0 forbids reuse.
 */
static long
seconds_up(int64_t ns)
{
	int64_t s = (ns + NS_PER_S - 1) / NS_PER_S;

	return s < 1 ? 1L : (long)s;
}

static void
set_connection_options(CURL *easy, const struct http *h)
{
	const struct http_config *cfg = h->cfg;
	const struct transport_config *t = &cfg->http;

	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, cfg->disable_http2 ?
	    (long)CURL_HTTP_VERSION_1_1 : (long)CURL_HTTP_VERSION_2TLS);
	if (cfg->proxy_url != NULL)
		curl_easy_setopt(easy, CURLOPT_PROXY, cfg->proxy_url);
	if (cfg->tcp.keep_alive_idle_ns >= 0) {
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE,
		    seconds_up(cfg->tcp.keep_alive_idle_ns));
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL,
		    seconds_up(cfg->tcp.keep_alive_interval_ns));
	}
	curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, on_socket);
	curl_easy_setopt(easy, CURLOPT_SOCKOPTDATA, cfg);

	if (!t->disable_compression)
		curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
	if (t->disable_keep_alives)
		curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
	if (t->idle_conn_timeout_ns > 0)
		curl_easy_setopt(easy, CURLOPT_MAXAGE_CONN,
		    seconds_up(t->idle_conn_timeout_ns));
	curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, h->read_buffer);
	curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, h->write_buffer);
}

static void
set_callbacks(CURL *easy, struct http_request *req)
{
	curl_easy_setopt(easy, CURLOPT_PRIVATE, req);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, req);
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(easy, CURLOPT_XFERINFODATA, req);
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
}

/* Size of the smallest body sent with "Expect: 100-continue", as for POST. */
#define EXPECT_CONTINUE_MIN	(1024 * 1024)

static struct curl_slist *
build_headers(const struct http_request *req)
{
	struct curl_slist *list = NULL;
	char line[256];

	if (req->content_type != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		list = curl_slist_append(list, line);
	}
	if (req->accept != NULL) {
		snprintf(line, sizeof(line), "Accept: %s", req->accept);
		list = curl_slist_append(list, line);
	}
	if (req->authorization != NULL) {
		char *auth = xasprintf("Authorization: %s", req->authorization);

		list = curl_slist_append(list, auth);
		free(auth);
	}

	/*
	 * libcurl 7.88 waits for 100 Continue before every PUT or PATCH body
	 * over HTTP/1.1, a round trip per request.  Only a large body is worth
	 * that wait, so a smaller one goes without the Expect header.
	 */
	if (req->body != NULL && req->body_len < EXPECT_CONTINUE_MIN)
		list = curl_slist_append(list, "Expect:");
	return list;
}

/* Forget the outcome of an earlier attempt of REQ. */
static size_t
on_read(char *dst, size_t size, size_t nitems, void *arg)
{
	struct http_request *req = arg;
	size_t n = size * nitems;

	if (n > req->body_len - req->body_pos)
		n = req->body_len - req->body_pos;
	memcpy(dst, req->body + req->body_pos, n);
	req->body_pos += n;
	return n;
}

/*
 * libcurl seeks back to send a request again when a reused connection
 * died before any response byte arrived.  By then the request may have
 * been applied, so that silent resend is refused once body bytes went
 * out: the transfer fails with CURLE_SEND_FAIL_REWIND and the api layer
 * decides, knowing whether the request is safe to repeat.
 */
static int
on_seek(void *arg, curl_off_t offset, int origin)
{
	struct http_request *req = arg;

	if (offset == 0 && origin == SEEK_SET && req->body_pos == 0)
		return CURL_SEEKFUNC_OK;
	return CURL_SEEKFUNC_CANTSEEK;
}

/* Hand the body to libcurl through a read callback, see on_seek(). */
static void
set_body(CURL *easy, struct http_request *req)
{
	curl_off_t len = (curl_off_t)req->body_len;

	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, len);
	} else {
		curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, len);
	}
	curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(easy, CURLOPT_READDATA, req);
	curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(easy, CURLOPT_SEEKDATA, req);
}

static void
reset_request(struct http *h, struct http_request *req)
{
	req->http = h;
	req->body_pos = 0;
	req->status = 0;
	req->result = CURLE_OK;
	req->maybe_sent = false;
	req->body_too_large = false;
	req->headers_too_large = false;
	req->retry_after = -1;
	req->limit_info[0] = '\0';
	req->errbuf[0] = '\0';
	req->abort_reason[0] = '\0';
	req->http_version = 0;
	req->header_bytes = 0;
	req->final_status = false;
	req->socket = CURL_SOCKET_BAD;
	req->socket_ns = 0;
	req->connected_ns = 0;
	req->sent_ns = 0;
	req->write_ns = 0;
	req->last_ulnow = 0;
	req->deadline_ns = INT64_MAX;
	buf_free(&req->response);
	buf_init(&req->response, req->unlimited_body ? 0 :
	    (size_t)h->cfg->http.max_response_body_bytes);
	buf_free(&req->response_headers);
	buf_init(&req->response_headers,
	    (size_t)h->cfg->access_log_body_limit);
}

static void
link_request(struct http *h, struct http_request *req)
{
	req->prev = NULL;
	req->next = h->active;
	if (h->active != NULL)
		h->active->prev = req;
	h->active = req;
	h->running++;
}

static void
unlink_request(struct http *h, struct http_request *req)
{
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		h->active = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
	h->running--;
}

int
http_start(struct http *h, struct http_request *req)
{
	CURL *easy;

	if (load_tls(h) == -1)
		return -1;
	if ((easy = curl_easy_init()) == NULL) {
		log_error(h->lg, "cannot create a libcurl handle");
		return -1;
	}
	req->easy = easy;
	reset_request(h, req);

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "sfsink/" PACKAGE_VERSION);
	set_callbacks(easy, req);
	if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL)
		set_body(easy, req);
	else if (strcmp(req->method, "DELETE") == 0)
		/*
		 * Without a body, on_seek() cannot stop libcurl from resending
		 * a DELETE whose reused connection died; a new connection is
		 * never resent that way.
		 */
		curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	set_timeouts(easy, h->cfg);
	set_connection_options(easy, h);
	set_tls_options(easy, h);

	req->headers = build_headers(req);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);

	if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
		log_error(h->lg, "cannot start a request to %s", req->url);
		curl_easy_cleanup(easy);
		req->easy = NULL;
		return -1;
	}
	link_request(h, req);
	return 0;
}

int
http_running(const struct http *h)
{
	return h->running;
}

/* Milliseconds until the earliest timer of a running request, or LIMIT. */
static int
until_deadline(const struct http *h, int limit)
{
	const struct http_request *req;
	int64_t due = INT64_MAX, now, ms;

	for (req = h->active; req != NULL; req = req->next)
		if (req->deadline_ns < due)
			due = req->deadline_ns;
	if (due == INT64_MAX)
		return limit;
	now = clock_now_ns();
	ms = due <= now ? 0 : (due - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms < limit ? (int)ms : limit;
}

int
http_wait(struct http *h, int fd, int timeout_ms, bool *fd_ready)
{
	struct curl_waitfd extra = { .fd = fd, .events = CURL_WAIT_POLLIN };
	int numfds;

	*fd_ready = false;
	timeout_ms = until_deadline(h, timeout_ms);
	if (curl_multi_poll(h->multi, fd == -1 ? NULL : &extra,
	    fd == -1 ? 0 : 1, timeout_ms, &numfds) != CURLM_OK)
		return -1;
	if (fd != -1 && (extra.revents & (CURL_WAIT_POLLIN)))
		*fd_ready = true;
	return 0;
}

/*
 * Decide whether a failed transfer could have delivered the request.  A
 * failure to resolve or connect, or a transfer that wrote no request
 * bytes, cannot have; anything later might have.
 */
static bool
transfer_maybe_sent(CURL *easy, CURLcode result)
{
	long request_size = 0;

	switch (result) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return false;
	default:
		break;
	}
	curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
	return request_size > 0;
}

static void
finish(struct http *h, CURL *easy, CURLcode result)
{
	struct http_request *req = NULL;
	double seconds = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &req->status);
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &seconds);
	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &req->http_version);
	req->seconds = seconds;
	req->result = result;
	req->maybe_sent = result == CURLE_OK || transfer_maybe_sent(easy, result);
	if (result != CURLE_OK)
		req->status = 0;

	curl_multi_remove_handle(h->multi, easy);
	curl_easy_cleanup(easy);
	curl_slist_free_all(req->headers);
	req->headers = NULL;
	req->easy = NULL;
	unlink_request(h, req);

	accesslog_write(h->lg, h->cfg, req);
	req->done(req, req->arg);
}

int
http_perform(struct http *h)
{
	CURLMsg *msg;
	int still, left;

	if (curl_multi_perform(h->multi, &still) != CURLM_OK)
		return -1;
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE)
			finish(h, msg->easy_handle, msg->data.result);
	}
	return 0;
}

const char *
http_request_error(const struct http_request *req)
{
	if (req->abort_reason[0] != '\0')
		return req->abort_reason;
	if (req->errbuf[0] != '\0')
		return req->errbuf;
	return curl_easy_strerror(req->result);
}

void
http_request_free(struct http_request *req)
{
	if (req == NULL)
		return;
	if (req->easy != NULL) {
		curl_multi_remove_handle(req->http->multi, req->easy);
		curl_easy_cleanup(req->easy);
		unlink_request(req->http, req);
	}
	curl_slist_free_all(req->headers);
	free(req->url);
	free(req->body);
	free(req->authorization);
	buf_free(&req->response);
	buf_free(&req->response_headers);
	free(req);
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	tls_free(h->tls);
	curl_global_cleanup();
	free(h);
}
