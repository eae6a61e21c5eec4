/*
 * http.c - HTTP requests driven by one libcurl multi handle.
 *
 * The loop follows libcurl's own pattern: wait with a timeout, perform,
 * then drain finished transfers.  Each request has its own easy handle and
 * error buffer; connections are reused through the multi handle's cache.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "http.h"
#include "xalloc.h"

#define NS_PER_MS	1000000LL
#define NS_PER_S	1000000000LL

struct http {
	CURLM *multi;
	const struct http_config *cfg;
	const struct logger *lg;
	int running;		/* transfers started and not yet finished */
};

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
		free(h);
		return NULL;
	}

	if (cfg->http.max_conns_per_host > 0)
		curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
		    (long)cfg->http.max_conns_per_host);
	if (cfg->http.max_idle_conns > 0)
		curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
		    (long)cfg->http.max_idle_conns);
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
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

static size_t
on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct http_request *req = arg;
	size_t n = size * nmemb;
	char value[64];

	header_value(line, n, "Sforce-Limit-Info", req->limit_info,
	    sizeof(req->limit_info));
	if (header_value(line, n, "Retry-After", value, sizeof(value))) {
		char *end;
		double s = strtod(value, &end);

		if (end != value && s >= 0)
			req->retry_after = s;
	}
	return n;
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

static void
set_tls_options(CURL *easy, const struct http_config *cfg)
{
	const struct client_cert *cc;
	struct curl_blob blob;

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
	if (cfg->tls.n_client_certs == 0)
		return;

	/* libcurl presents one client certificate: the first configured. */
	cc = &cfg->tls.client_certs[0];
	if (cc->cert_file != NULL) {
		curl_easy_setopt(easy, CURLOPT_SSLCERT, cc->cert_file);
		curl_easy_setopt(easy, CURLOPT_SSLKEY, cc->key_file);
	} else {
		blob.data = cc->cert;
		blob.len = strlen(cc->cert);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &blob);
		blob.data = cc->key;
		blob.len = strlen(cc->key);
		curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &blob);
	}
	curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
	if (cc->password != NULL)
		curl_easy_setopt(easy, CURLOPT_KEYPASSWD, cc->password);
}

static void
set_transport_options(CURL *easy, const struct http_config *cfg)
{
	const struct transport_config *t = &cfg->http;

	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
	    (long)(cfg->timeout_ns / NS_PER_MS));
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(cfg->tcp.connect_timeout_ns / NS_PER_MS));
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, cfg->disable_http2 ?
	    (long)CURL_HTTP_VERSION_1_1 : (long)CURL_HTTP_VERSION_2TLS);
	if (cfg->proxy_url != NULL)
		curl_easy_setopt(easy, CURLOPT_PROXY, cfg->proxy_url);

	if (cfg->tcp.keep_alive_idle_ns >= 0) {
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE,
		    (long)(cfg->tcp.keep_alive_idle_ns / NS_PER_S));
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL,
		    (long)(cfg->tcp.keep_alive_interval_ns / NS_PER_S));
	}
	curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, on_socket);
	curl_easy_setopt(easy, CURLOPT_SOCKOPTDATA, cfg);

	if (!t->disable_compression)
		curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
	if (t->disable_keep_alives)
		curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
	if (t->idle_conn_timeout_ns > 0)
		curl_easy_setopt(easy, CURLOPT_MAXAGE_CONN,
		    (long)(t->idle_conn_timeout_ns / NS_PER_S));
	curl_easy_setopt(easy, CURLOPT_EXPECT_100_TIMEOUT_MS,
	    (long)(t->expect_continue_timeout_ns / NS_PER_MS));
	set_tls_options(easy, cfg);
}

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
	return list;
}

int
http_start(struct http *h, struct http_request *req)
{
	CURL *easy = curl_easy_init();

	if (easy == NULL) {
		log_error(h->lg, "cannot create a libcurl handle");
		return -1;
	}
	req->easy = easy;
	req->http = h;
	req->status = 0;
	req->result = CURLE_OK;
	req->maybe_sent = false;
	req->body_too_large = false;
	req->retry_after = -1;
	req->limit_info[0] = '\0';
	req->errbuf[0] = '\0';
	buf_free(&req->response);
	buf_init(&req->response, (size_t)h->cfg->http.max_response_body_bytes);

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, req);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "sfsink/" PACKAGE_VERSION);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, req);
	if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
	}
	set_transport_options(easy, h->cfg);

	/*
	 * libcurl silently sends a request again when a reused connection
	 * closes before any response byte, which could write an insert twice.
	 * A new connection is never retried that way.
	 */
	if (req->fresh_connection)
		curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);

	req->headers = build_headers(req);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);

	if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
		log_error(h->lg, "cannot start a request to %s", req->url);
		curl_easy_cleanup(easy);
		req->easy = NULL;
		return -1;
	}
	h->running++;
	return 0;
}

int
http_running(const struct http *h)
{
	return h->running;
}

int
http_wait(struct http *h, int fd, int timeout_ms, bool *fd_ready)
{
	struct curl_waitfd extra = { .fd = fd, .events = CURL_WAIT_POLLIN };
	int numfds;

	*fd_ready = false;
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
access_log(struct http *h, const struct http_request *req)
{
	if (!h->cfg->access_log || !log_enabled(h->lg, h->cfg->access_log_level))
		return;
	log_msg(h->lg, h->cfg->access_log_level,
	    "%s %s -> %ld (%.3fs, %zu bytes out, %zu bytes in)%s%s",
	    req->method, req->url, req->status, req->seconds, req->body_len,
	    req->response.len, req->result == CURLE_OK ? "" : ": ",
	    req->result == CURLE_OK ? "" : http_request_error(req));
}

static void
finish(struct http *h, CURL *easy, CURLcode result)
{
	struct http_request *req = NULL;
	double seconds = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &req->status);
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &seconds);
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
	h->running--;

	access_log(h, req);
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
	if (req->body_too_large)
		return "response body larger than http.http.max_response_body_bytes";
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
		req->http->running--;
	}
	curl_slist_free_all(req->headers);
	free(req->url);
	free(req->body);
	free(req->authorization);
	buf_free(&req->response);
	free(req);
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_multi_cleanup(h->multi);
	curl_global_cleanup();
	free(h);
}
