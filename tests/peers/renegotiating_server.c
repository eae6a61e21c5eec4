/*
 * renegotiating_server.c - a TLS 1.2 server that renegotiates every
 * connection, for the http.tls.enable_renegotiation tests.
 *
 * usage: renegotiating_server CERT_FILE KEY_FILE LOG_FILE
 *
 * Listens on 127.0.0.1 and prints its URL ("https://127.0.0.1:PORT") as
 * the first line on stdout.  It offers TLS 1.2 only, because TLS 1.3 has
 * no renegotiation, and no ALPN, so clients speak HTTP/1.1.  For each
 * connection, one at a time, it reads one request, sends a HelloRequest and
 * appends "renegotiated" or "renegotiation refused: REASON" to LOG_FILE.
 * After a renegotiation it responds as sObject Collections does when every
 * record of the request was created.  It runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define IO_TIMEOUT_MS	10000		/* per wait for the client */
#define MAX_REQUEST	(1024 * 1024)	/* headers and body */
#define MAX_RESPONSE	(256 * 1024)	/* JSON body, over 4000 results */

/* One created record; "001RN" and ID_DIGITS digits make an 18-character id. */
#define RESULT_FORMAT	"{\"id\":\"001RN%0*zu\",\"success\":true,\"errors\":[]}"
#define ID_DIGITS	13

/* Prints the message and OpenSSL's error queue to stderr, and exits 1. */
static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "renegotiating_server: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* Returns the reason of OpenSSL's last queued error. */
static const char *
openssl_reason(void)
{
	const char *reason = ERR_reason_error_string(ERR_peek_last_error());

	return reason != NULL ? reason : "unknown OpenSSL error";
}

/*
 * Waits until the socket is ready for a retry of the OpenSSL call that
 * returned RC.  Returns false with a message in WHY when the call failed for
 * good or the client stayed silent for IO_TIMEOUT_MS.
 */
static bool
wait_for_client(SSL *ssl, int rc, char *why, size_t len)
{
	int err = SSL_get_error(ssl, rc);
	struct pollfd pfd = { .fd = SSL_get_fd(ssl) };
	int ready;

	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		pfd.events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		if ((ready = poll(&pfd, 1, IO_TIMEOUT_MS)) == 1)
			return true;
		snprintf(why, len, "%s", ready == 0 ? "timed out" :
		    strerror(errno));
	} else if (ERR_peek_last_error() != 0)
		snprintf(why, len, "%s", openssl_reason());
	else if (err == SSL_ERROR_SYSCALL && errno != 0)
		snprintf(why, len, "%s", strerror(errno));
	else
		snprintf(why, len, "the client closed the connection");
	ERR_clear_error();
	return false;
}

/* Returns the value of the Content-Length header in HEADERS, or 0. */
static size_t
content_length(const char *headers)
{
	const char *eol;

	/* The header lines end at the blank line, "\r\n\r\n". */
	for (eol = strstr(headers, "\r\n"); eol != NULL && eol[2] != '\r';
	    eol = strstr(eol + 2, "\r\n"))
		if (strncasecmp(eol + 2, "Content-Length:", 15) == 0)
			return strtoul(eol + 17, NULL, 10);
	return 0;
}

/*
 * Reads one request into REQ and NUL-terminates it.  Returns its body, or
 * NULL with a message in WHY.
 */
static char *
read_request(SSL *ssl, char *req, size_t size, char *why, size_t len)
{
	size_t have = 0, want = 0;
	char *body = NULL, *end;
	int rc;

	while (body == NULL || have < want) {
		if (have == size - 1) {
			snprintf(why, len, "larger than %zu bytes", size - 1);
			return NULL;
		}
		rc = SSL_read(ssl, req + have, (int)(size - 1 - have));
		if (rc <= 0) {
			if (!wait_for_client(ssl, rc, why, len))
				return NULL;
			continue;
		}
		have += (size_t)rc;
		req[have] = '\0';
		if (body == NULL && (end = strstr(req, "\r\n\r\n")) != NULL) {
			body = end + 4;
			want = (size_t)(body - req) + content_length(req);
		}
	}
	return body;
}

/*
 * Counts the records of an sObject Collections body.  sfsink writes compact
 * JSON in which each record opens with {"attributes":, and that text cannot
 * occur inside a JSON string, where every quote is escaped.
 * NOTE: a nested object with its own "attributes" member counts as a record.
 */
static size_t
count_records(const char *body)
{
	const char *marker = "{\"attributes\":";
	size_t records = 0;

	for (; (body = strstr(body, marker)) != NULL; body++)
		records++;
	return records;
}

/*
 * Sends a HelloRequest and completes the client's new handshake.  Returns
 * false with OpenSSL's reason in WHY when the client rejects it or fails.
 */
static bool
renegotiate(SSL *ssl, char *why, size_t len)
{
	char unexpected;
	int rc;

	if (SSL_renegotiate(ssl) != 1) {
		snprintf(why, len, "SSL_renegotiate failed: %s",
		    openssl_reason());
		return false;
	}
	while ((rc = SSL_do_handshake(ssl)) != 1)
		if (!wait_for_client(ssl, rc, why, len))
			return false;

	/*
	 * That sent the HelloRequest.  SSL_read processes the client's new
	 * handshake, which is complete once no renegotiation is pending.
	 */
	for (;;) {
		if ((rc = SSL_read(ssl, &unexpected, 1)) > 0) {
			snprintf(why, len, "the client sent data, not a "
			    "handshake");
			return false;
		}
		if (!SSL_renegotiate_pending(ssl) &&
		    SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ)
			return true;
		if (!wait_for_client(ssl, rc, why, len))
			return false;
	}
}

/* Sends a 200 response with the result of each of N created records. */
static bool
send_results(SSL *ssl, size_t n, char *why, size_t len)
{
	static char body[MAX_RESPONSE], response[MAX_RESPONSE + 160];
	size_t used = 0, sent = 0, total, i;
	int rc;

	for (i = 1; i <= n && used + 80 < sizeof(body); i++)
		used += (size_t)snprintf(body + used, sizeof(body) - used,
		    "%s" RESULT_FORMAT, i > 1 ? "," : "", ID_DIGITS, i);
	if (i <= n) {
		snprintf(why, len, "%zu results exceed %d bytes", n,
		    MAX_RESPONSE);
		return false;
	}
	total = (size_t)snprintf(response, sizeof(response),
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n[%s]",
	    used + 2, body);
	while (sent < total) {
		rc = SSL_write(ssl, response + sent, (int)(total - sent));
		if (rc > 0)
			sent += (size_t)rc;
		else if (!wait_for_client(ssl, rc, why, len))
			return false;
	}
	return true;
}

/* Serves one connection and appends its outcome to LOG. */
static void
serve_connection(SSL *ssl, FILE *log)
{
	static char req[MAX_REQUEST];
	char why[256] = "", *body = NULL;
	int rc;

	while ((rc = SSL_accept(ssl)) != 1)
		if (!wait_for_client(ssl, rc, why, sizeof(why)))
			break;
	if (rc != 1)
		fprintf(log, "handshake failed: %s\n", why);
	else if ((body = read_request(ssl, req, sizeof(req), why,
	    sizeof(why))) == NULL)
		fprintf(log, "reading the request failed: %s\n", why);
	else if (!renegotiate(ssl, why, sizeof(why)))
		fprintf(log, "renegotiation refused: %s\n", why);
	else {
		fprintf(log, "renegotiated\n");
		if (send_results(ssl, count_records(body), why, sizeof(why)))
			SSL_shutdown(ssl);
		else
			fprintf(log, "sending the response failed: %s\n", why);
	}
	ERR_clear_error();
}

/* Creates a TLS 1.2 server context with the certificate chain and key. */
static SSL_CTX *
new_context(const char *cert_file, const char *key_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		die("cannot set up TLS with %s and %s", cert_file, key_file);
	return ctx;
}

/* Opens a listening socket on 127.0.0.1 and stores its port in *PORT. */
static int
listen_loopback(unsigned *port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t addr_len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&addr, &addr_len) == -1)
		die("cannot listen on 127.0.0.1: %s", strerror(errno));
	*port = ntohs(addr.sin_port);
	return fd;
}

int
main(int argc, char **argv)
{
	SSL_CTX *ctx;
	SSL *ssl;
	FILE *log;
	unsigned port;
	int listen_fd, fd;

	if (argc != 4) {
		fprintf(stderr, "usage: renegotiating_server CERT_FILE "
		    "KEY_FILE LOG_FILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);	/* a closed client is an error return */
	ctx = new_context(argv[1], argv[2]);
	if ((log = fopen(argv[3], "a")) == NULL)
		die("cannot open %s: %s", argv[3], strerror(errno));
	/* Each outcome is in the file before the response goes out. */
	setvbuf(log, NULL, _IOLBF, 0);
	listen_fd = listen_loopback(&port);
	printf("https://127.0.0.1:%u\n", port);
	fflush(stdout);

	for (;;) {
		if ((fd = accept(listen_fd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept failed: %s", strerror(errno));
		}
		/* Non-blocking, so IO_TIMEOUT_MS limits every wait. */
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
			die("cannot make the connection non-blocking: %s",
			    strerror(errno));
		if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
			die("cannot set up the TLS connection");
		serve_connection(ssl, log);
		SSL_free(ssl);
		close(fd);
		if (fflush(log) != 0)
			die("cannot write %s: %s", argv[3], strerror(errno));
	}
}
