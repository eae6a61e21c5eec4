/*
 * jwt.h - RS256 assertions for the OAuth 2.0 JWT bearer flow.
 *
 * Salesforce's JWT bearer flow takes a JWT signed with RS256
 * (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3).  Its claims are
 * iss (the connected app's consumer key), sub (the user name), aud (the
 * login host, such as https://login.salesforce.com) and exp (seconds since
 * the epoch).  The assertion is a credential: callers put it only in the
 * body of the token request and never log it.
 */
#ifndef SFSINK_JWT_H
#define SFSINK_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* Lifetime of an assertion; Salesforce allows at most 3 minutes. */
#define JWT_LIFETIME_S	180

/*
 * Load the RSA private key from PEM text, or from the file PATH when PEM
 * is NULL.  Returns an owned key, or NULL with a message in ERR.
 */
EVP_PKEY *jwt_load_key(const char *pem, const char *path, char *err,
    size_t errlen);

/*
 * Build and sign an assertion that expires JWT_LIFETIME_S after NOW_S.
 * Returns an owned string, or NULL with a message in ERR.
 */
char *jwt_assertion(EVP_PKEY *key, const char *iss, const char *sub,
    const char *aud, int64_t now_s, char *err, size_t errlen);

#endif
