/*
 * auth.h - OAuth 2.0 access tokens for Salesforce.
 *
 * auth.method picks how sfsink gets its token:
 *   client_credentials (the default) and jwt: a form-encoded POST to
 *     {org_url}/services/oauth2/token, so the client secret or the signed
 *     assertion travels only in a request body, never in a URL or a log
 *     line.  API calls then go to the instance_url of the response, and a
 *     new token can be requested the same way when the old one expires.
 *   access_token: the token and instance URL of the configuration; no
 *     request is made, and an expired token cannot be renewed.
 * The token is treated as an opaque string.
 */
#ifndef SFSINK_AUTH_H
#define SFSINK_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "config.h"
#include "http.h"

struct auth {
	char *access_token;	/* owned; NULL before the first sign-in */
	char *instance_url;	/* owned, without a trailing slash */
	unsigned generation;	/* incremented for every new token */
	EVP_PKEY *jwt_key;	/* owned; loaded by the first JWT request */
};

/* Whether CFG's auth.method can get a new token (all but access_token). */
bool auth_can_refresh(const struct config *cfg);

/*
 * Build a token request for CFG's auth.method; the caller sets `done` and
 * starts it.  Returns NULL with a message in ERR when no request can be
 * built, such as a JWT private key that no longer loads.
 */
struct http_request *auth_token_request(struct auth *a,
    const struct config *cfg, char *err, size_t errlen);

/* Take the token of auth.method access_token from CFG; sends nothing. */
void auth_use_configured(struct auth *a, const struct config *cfg);

/*
 * The aud claim of JWT assertions: auth.audience, or the login host that
 * matches org_url: https://test.salesforce.com for a sandbox's My Domain
 * (*.sandbox.my.salesforce.com), https://login.salesforce.com otherwise.
 * sfsink never connects to it: token requests go to org_url.
 */
const char *auth_audience(const struct config *cfg);

/*
 * Take the token from the finished request REQ.  Returns 0, or -1 with a
 * message in ERR that quotes Salesforce's error_description.
 */
int auth_accept(struct auth *a, const struct http_request *req, char *err,
    size_t errlen);

/* The Authorization header value for the current token (caller frees). */
char *auth_header(const struct auth *a);

void auth_free(struct auth *a);

#endif
