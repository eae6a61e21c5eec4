/*
 * tls.c - client certificates and the OpenSSL settings libcurl has no
 * option for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "tls.h"
#include "xalloc.h"

#define MAX_PEM_FILE	(1024 * 1024)	/* a certificate chain is far smaller */

/* The reason of OpenSSL's last error, clearing its queue. */
static const char *
openssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return why != NULL ? why : "not valid PEM";
}

/* Name the source of PEM text in messages: `key_file "a.pem"` or `key`. */
static const char *
source_name(char *dst, size_t len, const char *what, const char *path)
{
	if (path != NULL)
		snprintf(dst, len, "%s \"%s\"", what, path);
	else
		snprintf(dst, len, "%s", what);
	return dst;
}

/*
 * Read the PEM text of PEM, or of the file PATH, into a memory BIO, and
 * note in *ENCRYPTED whether it contains an encrypted key.  Returns NULL with
 * a message in ERR.
 */
static BIO *
pem_bio(const char *pem, const char *path, const char *what, bool *encrypted,
    char *err, size_t errlen)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *fp;
	BIO *bio;

	if (pem != NULL) {
		*encrypted = strstr(pem, "ENCRYPTED") != NULL;
		return BIO_new_mem_buf(pem, -1);
	}
	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "cannot open %s \"%s\": %s", what, path,
		    strerror(errno));
		return NULL;
	}
	buf_init(&b, MAX_PEM_FILE);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (buf_append(&b, chunk, n) == -1) {
			snprintf(err, errlen, "%s \"%s\" is larger than %d bytes; "
			    "expected PEM text", what, path, MAX_PEM_FILE);
			fclose(fp);
			buf_free(&b);
			return NULL;
		}
	}
	fclose(fp);
	*encrypted = b.data != NULL && strstr(b.data, "ENCRYPTED") != NULL;
	bio = BIO_new(BIO_s_mem());
	BIO_write(bio, b.data != NULL ? b.data : "", (int)b.len);
	OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	return bio;
}

/* Copy the password for OpenSSL, or fail instead of prompting on a terminal. */
static int
password_cb(char *dst, int size, int rwflag, void *arg)
{
	const char *password = arg;
	size_t n;

	if (password == NULL)
		return -1;
	n = strlen(password);
	if (n > (size_t)size)
		return -1;
	memcpy(dst, password, n);
	return (int)n;
}

EVP_PKEY *
tls_read_key(const char *pem, const char *path, const char *password,
    const char *what, bool has_password_key, char *err, size_t errlen)
{
	bool encrypted = false;
	BIO *bio = pem_bio(pem, path, what, &encrypted, err, errlen);
	EVP_PKEY *key;
	char name[300];
	const char *why;

	if (bio == NULL)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, password_cb, (void *)password);
	BIO_free(bio);
	if (key != NULL)
		return key;

	why = openssl_reason();
	source_name(name, sizeof(name), what, path);
	if (encrypted && password == NULL && has_password_key)
		snprintf(err, errlen, "%s is encrypted; set password", name);
	else if (encrypted && password == NULL)
		snprintf(err, errlen, "%s is encrypted; give it unencrypted, "
		    "as \"openssl pkey\" writes it", name);
	else if (encrypted)
		snprintf(err, errlen, "cannot decrypt %s: %s; check password",
		    name, why);
	else
		snprintf(err, errlen, "cannot read a private key from %s: %s",
		    name, why);
	return NULL;
}

/* Read the first certificate and the chain after it. */
static int
read_certs(struct tls_identity *id, BIO *bio, const char *what,
    const char *path, char *err, size_t errlen)
{
	char name[300];
	X509 *x;

	id->cert = PEM_read_bio_X509(bio, NULL, password_cb, NULL);
	if (id->cert == NULL) {
		snprintf(err, errlen, "no PEM certificate in %s: %s",
		    source_name(name, sizeof(name), what, path),
		    openssl_reason());
		return -1;
	}
	id->chain = sk_X509_new_null();
	while ((x = PEM_read_bio_X509(bio, NULL, password_cb, NULL)) != NULL)
		sk_X509_push(id->chain, x);
	ERR_clear_error();	/* the loop ends on "no start line" */
	return 0;
}

int
tls_identity_load(struct tls_identity *id, const struct client_cert *cc,
    char *err, size_t errlen)
{
	bool file = cc->cert_file != NULL, encrypted;
	const char *what = file ? "cert_file" : "cert";
	char name[300];
	BIO *bio;
	int rc;

	memset(id, 0, sizeof(*id));
	bio = pem_bio(cc->cert, cc->cert_file, what, &encrypted, err, errlen);
	if (bio == NULL)
		return -1;
	rc = read_certs(id, bio, what, cc->cert_file, err, errlen);
	BIO_free(bio);
	if (rc == -1)
		return -1;

	id->key = tls_read_key(cc->key, cc->key_file, cc->password,
	    file ? "key_file" : "key", true, err, errlen);
	if (id->key == NULL) {
		tls_identity_clear(id);
		return -1;
	}
	if (X509_check_private_key(id->cert, id->key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "the private key does not belong to the "
		    "certificate in %s",
		    source_name(name, sizeof(name), what, cc->cert_file));
		tls_identity_clear(id);
		return -1;
	}
	return 0;
}

void
tls_identity_clear(struct tls_identity *id)
{
	X509_free(id->cert);
	sk_X509_pop_free(id->chain, X509_free);
	EVP_PKEY_free(id->key);
	memset(id, 0, sizeof(*id));
}

int
tls_check_cas(const char *pem, const char *path, char *err, size_t errlen)
{
	const char *what = path != NULL ? "root_cas_file" : "root_cas";
	bool encrypted;
	BIO *bio = pem_bio(pem, path, what, &encrypted, err, errlen);
	char name[300];
	X509 *x;

	if (bio == NULL)
		return -1;
	x = PEM_read_bio_X509(bio, NULL, password_cb, NULL);
	BIO_free(bio);
	if (x == NULL) {
		snprintf(err, errlen, "no PEM certificate in %s: %s",
		    source_name(name, sizeof(name), what, path),
		    openssl_reason());
		return -1;
	}
	X509_free(x);
	return 0;
}

struct tls *
tls_new(const struct http_config *cfg, char *err, size_t errlen)
{
	struct tls *t = xcalloc(1, sizeof(*t));
	char why[512];
	size_t i;

	t->renegotiation = cfg->tls.enabled && cfg->tls.enable_renegotiation;
	if (!cfg->tls.enabled || cfg->tls.n_client_certs == 0)
		return t;
	t->ids = xcalloc(cfg->tls.n_client_certs, sizeof(*t->ids));
	for (i = 0; i < cfg->tls.n_client_certs; i++, t->n++) {
		if (tls_identity_load(&t->ids[i], &cfg->tls.client_certs[i], why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "http.tls.client_certs[%zu]: %s", i,
			    why);
			tls_free(t);
			return NULL;
		}
	}
	return t;
}

/* Whether NAME is in the list of CA names the server sent. */
static bool
name_listed(const X509_NAME *name, const STACK_OF(X509_NAME) *cas)
{
	int i;

	for (i = 0; i < sk_X509_NAME_num(cas); i++)
		if (X509_NAME_cmp(name, sk_X509_NAME_value(cas, i)) == 0)
			return true;
	return false;
}

/* Whether the server accepts ID: some certificate of it names a listed CA. */
static bool
identity_accepted(const struct tls_identity *id,
    const STACK_OF(X509_NAME) *cas)
{
	int i;

	if (name_listed(X509_get_issuer_name(id->cert), cas))
		return true;
	for (i = 0; i < sk_X509_num(id->chain); i++) {
		X509 *x = sk_X509_value(id->chain, i);

		if (name_listed(X509_get_issuer_name(x), cas) ||
		    name_listed(X509_get_subject_name(x), cas))
			return true;
	}
	return false;
}

/* SSL_CTX_set_cert_cb callback: runs when the server requests a certificate. */
static int
choose_identity(SSL *ssl, void *arg)
{
	const struct tls *t = arg;
	const STACK_OF(X509_NAME) *cas = SSL_get_client_CA_list(ssl);
	const struct tls_identity *id = NULL;
	size_t i;

	if (cas == NULL || sk_X509_NAME_num(cas) == 0)
		id = &t->ids[0];
	for (i = 0; id == NULL && i < t->n; i++)
		if (identity_accepted(&t->ids[i], cas))
			id = &t->ids[i];
	if (id == NULL)
		return 1;	/* send no certificate, as Go does */
	return SSL_use_cert_and_key(ssl, id->cert, id->key, id->chain, 1) == 1;
}

bool
tls_negotiated_h2(CURL *easy)
{
	struct curl_tlssessioninfo *info = NULL;
	const unsigned char *protocol = NULL;
	unsigned int len = 0;

	if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK ||
	    info == NULL || info->backend != CURLSSLBACKEND_OPENSSL ||
	    info->internals == NULL)
		return false;
	SSL_get0_alpn_selected(info->internals, &protocol, &len);
	return len == 2 && memcmp(protocol, "h2", 2) == 0;
}

/* Return the ex_data index under which an SSL_CTX stores its struct tls. */
static int
tls_slot(void)
{
	static int slot = -1;

	if (slot == -1)
		slot = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return slot;
}

/*
 * Log why a connection is about to fail.  A server whose renegotiation is
 * rejected ends the connection with a bare "handshake failure" alert.
 */
static void
on_tls_state(const SSL *ssl, int where, int ret)
{
	const struct tls *t;

	if (!(where & SSL_CB_WRITE_ALERT) ||
	    (ret & 0xff) != SSL_AD_NO_RENEGOTIATION)
		return;
	t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_slot());
	if (t != NULL && t->lg != NULL)
		log_warn(t->lg, "TLS renegotiation requested by the server was "
		    "rejected; set http.tls.enabled and "
		    "http.tls.enable_renegotiation to true to allow it");
}

CURLcode
tls_setup_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
	const struct tls *t = arg;
	SSL_CTX *ctx = ssl_ctx;

	if (!t->renegotiation) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
		if (tls_slot() != -1 &&
		    SSL_CTX_set_ex_data(ctx, tls_slot(), (void *)t) == 1)
			SSL_CTX_set_info_callback(ctx, on_tls_state);
	}
	if (t->n > 0)
		SSL_CTX_set_cert_cb(ctx, choose_identity, (void *)t);
	return CURLE_OK;
}

void
tls_free(struct tls *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		tls_identity_clear(&t->ids[i]);
	free(t->ids);
	free(t);
}
