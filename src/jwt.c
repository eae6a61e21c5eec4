/*
 * jwt.c - RS256 assertions for the OAuth 2.0 JWT bearer flow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "buf.h"
#include "jwt.h"
#include "tls.h"
#include "xalloc.h"

EVP_PKEY *
jwt_load_key(const char *pem, const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = tls_read_key(pem, path, NULL,
	    pem != NULL ? "private_key" : "private_key_file", false, err,
	    errlen);

	if (key != NULL && EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
		snprintf(err, errlen, "%s is not an RSA key; the JWT bearer "
		    "flow signs with RS256", pem != NULL ? "private_key" :
		    "private_key_file");
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

/* Append N bytes of DATA to B in base64url without padding (RFC 7515). */
static void
put_base64url(struct buf *b, const unsigned char *data, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;
	unsigned long v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)data[i] << 16 | data[i + 1] << 8 | data[i + 2];
		buf_putc(b, alphabet[v >> 18 & 63]);
		buf_putc(b, alphabet[v >> 12 & 63]);
		buf_putc(b, alphabet[v >> 6 & 63]);
		buf_putc(b, alphabet[v & 63]);
	}
	if (n - i == 1) {
		v = (unsigned long)data[i] << 16;
		buf_putc(b, alphabet[v >> 18 & 63]);
		buf_putc(b, alphabet[v >> 12 & 63]);
	} else if (n - i == 2) {
		v = (unsigned long)data[i] << 16 | data[i + 1] << 8;
		buf_putc(b, alphabet[v >> 18 & 63]);
		buf_putc(b, alphabet[v >> 12 & 63]);
		buf_putc(b, alphabet[v >> 6 & 63]);
	}
}

/* Append the base64url form of JSON object OBJ (a reference is stolen). */
static void
put_json(struct buf *b, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);

	put_base64url(b, (const unsigned char *)text, strlen(text));
	free(text);
	json_decref(obj);
}

/* Sign B's contents with KEY and append "." and the signature. */
static int
append_signature(struct buf *b, EVP_PKEY *key, char *err, size_t errlen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc = -1;

	if (md != NULL &&
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)b->data,
	    b->len) == 1) {
		sig = xmalloc(siglen);
		if (EVP_DigestSign(md, sig, &siglen,
		    (const unsigned char *)b->data, b->len) == 1) {
			buf_putc(b, '.');
			put_base64url(b, sig, siglen);
			rc = 0;
		}
	}
	if (rc == -1) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());

		snprintf(err, errlen, "cannot sign the JWT assertion: %s",
		    why != NULL ? why : "unknown OpenSSL error");
		ERR_clear_error();
	}
	free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

char *
jwt_assertion(EVP_PKEY *key, const char *iss, const char *sub,
    const char *aud, int64_t now_s, char *err, size_t errlen)
{
	struct buf b;

	buf_init(&b, 0);
	put_json(&b, json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT"));
	buf_putc(&b, '.');
	put_json(&b, json_pack("{s:s, s:s, s:s, s:I}", "iss", iss, "sub", sub,
	    "aud", aud, "exp", (json_int_t)(now_s + JWT_LIFETIME_S)));
	if (append_signature(&b, key, err, errlen) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}
