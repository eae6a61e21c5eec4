/*
 * auth.c - OAuth 2.0 access tokens for Salesforce.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"
#include "buf.h"
#include "log.h"
#include "xalloc.h"

/* Append S percent-encoded for an application/x-www-form-urlencoded body. */
static void
form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}

struct http_request *
auth_token_request(const struct config *cfg)
{
	struct http_request *req;
	struct buf body;
	char *url;

	buf_init(&body, 0);
	buf_puts(&body, "grant_type=client_credentials&client_id=");
	form_escape(&body, cfg->client_id);
	buf_puts(&body, "&client_secret=");
	form_escape(&body, cfg->client_secret);

	url = xasprintf("%s/services/oauth2/token", cfg->org_url);
	req = http_request_new("POST", url);
	free(url);
	req->body = buf_steal(&body, &req->body_len);
	req->content_type = "application/x-www-form-urlencoded";
	req->accept = "application/json";
	return req;
}

/* Describe a token error response, quoting error and error_description. */
static void
describe_failure(const struct http_request *req, json_t *root, char *err,
    size_t errlen)
{
	const char *error = json_string_value(json_object_get(root, "error"));
	const char *desc = json_string_value(
	    json_object_get(root, "error_description"));
	char masked_error[128], masked_desc[512];

	if (req->result != CURLE_OK) {
		snprintf(err, errlen, "token request to %s failed: %s",
		    req->url, http_request_error(req));
		return;
	}
	if (req->status == 200) {
		/* Never quote a 200 body: it may contain a token. */
		snprintf(err, errlen, "token response from %s lacks access_token "
		    "or an http(s) instance_url", req->url);
		return;
	}
	if (error == NULL) {
		log_mask(masked_desc, sizeof(masked_desc), req->response.data ?
		    req->response.data : "", req->response.len);
		snprintf(err, errlen, "token request to %s failed with HTTP %ld: %s",
		    req->url, req->status, masked_desc);
		return;
	}
	log_mask(masked_error, sizeof(masked_error), error, strlen(error));
	log_mask(masked_desc, sizeof(masked_desc), desc ? desc : "",
	    desc ? strlen(desc) : 0);
	snprintf(err, errlen, "sign-in rejected by Salesforce (HTTP %ld): %s: %s",
	    req->status, masked_error, masked_desc);
}

int
auth_accept(struct auth *a, const struct http_request *req, char *err,
    size_t errlen)
{
	json_t *root = NULL;
	const char *token, *instance;
	size_t n;

	if (req->result == CURLE_OK && req->response.data != NULL)
		root = json_loadb(req->response.data, req->response.len, 0, NULL);

	token = json_string_value(json_object_get(root, "access_token"));
	instance = json_string_value(json_object_get(root, "instance_url"));
	if (req->status != 200 || token == NULL || instance == NULL ||
	    strncmp(instance, "http", 4) != 0) {
		describe_failure(req, root, err, errlen);
		json_decref(root);
		return -1;
	}

	free(a->access_token);
	free(a->instance_url);
	a->access_token = xstrdup(token);
	n = strlen(instance);
	while (n > 0 && instance[n - 1] == '/')
		n--;
	a->instance_url = xstrndup(instance, n);
	a->generation++;
	json_decref(root);
	return 0;
}

char *
auth_header(const struct auth *a)
{
	return xasprintf("Bearer %s", a->access_token);
}

void
auth_free(struct auth *a)
{
	free(a->access_token);
	free(a->instance_url);
	a->access_token = NULL;
	a->instance_url = NULL;
}
