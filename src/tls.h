/*
 * tls.h - client certificates and the OpenSSL settings libcurl has no
 * option for.
 *
 * libcurl presents at most one client certificate and never refuses a
 * server's renegotiation request.  sfsink loads every entry of
 * http.tls.client_certs itself and installs an OpenSSL callback through
 * CURLOPT_SSL_CTX_FUNCTION on each new TLS connection.  The callback picks
 * the certificate as Go's crypto/tls client does.  It takes the first
 * entry whose chain was issued by a CA that the server names in its
 * certificate request, or the first entry when the server names none.
 * When no entry fits, it sends no certificate.  The callback also sets
 * SSL_OP_NO_RENEGOTIATION unless http.tls.enable_renegotiation is true,
 * and then logs a warning naming that key when it refuses a request.
 *
 * Key material never leaves this file in a message: errors name the key
 * path ("key_file") or say "key" for inline PEM.
 */
#ifndef SFSINK_TLS_H
#define SFSINK_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"
#include "log.h"

/* One client certificate with its chain and private key, all owned. */
struct tls_identity {
	X509 *cert;
	STACK_OF(X509) *chain;	/* certificates after the first; may be empty */
	EVP_PKEY *key;
};

struct tls {
	struct tls_identity *ids;	/* owned array of n */
	size_t n;
	bool renegotiation;		/* accept the server's HelloRequest */
	const struct logger *lg;	/* borrowed; NULL logs nothing */
};

/*
 * Read a private key from PEM text, or from the file PATH when PEM is
 * NULL, decrypting it with PASSWORD (NULL for none).  WHAT names the key
 * in messages ("key_file"); HAS_PASSWORD_KEY is true when the
 * configuration has a password key to suggest.  Returns an owned key, or
 * NULL with a message in ERR.
 */
EVP_PKEY *tls_read_key(const char *pem, const char *path, const char *password,
    const char *what, bool has_password_key, char *err, size_t errlen);

/*
 * Load client certificate CC into ID and check that the key belongs to
 * the certificate.  Returns 0, or -1 with a message in ERR.
 */
int tls_identity_load(struct tls_identity *id, const struct client_cert *cc,
    char *err, size_t errlen);
void tls_identity_clear(struct tls_identity *id);

/* Check that PEM text, or the file PATH, contains at least one certificate. */
int tls_check_cas(const char *pem, const char *path, char *err,
    size_t errlen);

/* Load what CFG's tls block needs; NULL with a message in ERR on failure. */
struct tls *tls_new(const struct http_config *cfg, char *err, size_t errlen);

/*
 * Return true when the TLS connection of EASY negotiated HTTP/2 by ALPN.
 * libcurl 7.88 reports the HTTP version only once response headers
 * arrive, too late for a timeout on the upload before them.
 */
bool tls_negotiated_h2(CURL *easy);

/* The CURLOPT_SSL_CTX_FUNCTION callback; ARG is the struct tls. */
CURLcode tls_setup_ctx(CURL *easy, void *ssl_ctx, void *arg);

void tls_free(struct tls *t);

#endif
