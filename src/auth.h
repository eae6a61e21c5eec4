/*
 * auth.h - OAuth 2.0 access tokens for Salesforce.
 *
 * sfsink signs in with the client credentials flow: a form-encoded POST to
 * {org_url}/services/oauth2/token, so the secret travels only in a request
 * body and never in a URL or a log line.  API calls then go to the
 * instance_url of the response.  The token is treated as an opaque string.
 */
#ifndef SFSINK_AUTH_H
#define SFSINK_AUTH_H

#include <stddef.h>

#include "config.h"
#include "http.h"

struct auth {
	char *access_token;	/* owned; NULL before the first sign-in */
	char *instance_url;	/* owned, without a trailing slash */
	unsigned generation;	/* incremented for every new token */
};

/* Build a token request for CFG; the caller sets `done` and starts it. */
struct http_request *auth_token_request(const struct config *cfg);

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
