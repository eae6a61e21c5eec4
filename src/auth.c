/*
 * auth.c - OAuth 2.0 access tokens for Salesforce.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "auth.h"
#include "buf.h"
#include "jwt.h"
#include "log.h"
#include "xalloc.h"

#define JWT_GRANT	"urn:ietf:params:oauth:grant-type:jwt-bearer"
#define SANDBOX_SUFFIX	".sandbox.my.salesforce.com"

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

bool
auth_can_refresh(const struct config *cfg)
{
	return cfg->auth.method != AUTH_ACCESS_TOKEN;
}

const char *
auth_audience(const struct config *cfg)
{
	const char *host = strstr(cfg->org_url, "://");
	size_t n, k = strlen(SANDBOX_SUFFIX);

	if (cfg->auth.audience != NULL)
		return cfg->auth.audience;
	host = host != NULL ? host + 3 : cfg->org_url;
	n = strcspn(host, ":/");
	if (n > k && strncasecmp(host + n - k, SANDBOX_SUFFIX, k) == 0)
		return "https://test.salesforce.com";
	return "https://login.salesforce.com";
}

/* Append the JWT bearer grant with a new assertion to BODY. */
static int
put_jwt_grant(struct auth *a, const struct config *cfg, struct buf *body,
    char *err, size_t errlen)
{
	const struct auth_config *ac = &cfg->auth;
	char *assertion;

	if (a->jwt_key == NULL) {
		a->jwt_key = jwt_load_key(ac->private_key, ac->private_key_file,
		    err, errlen);
		if (a->jwt_key == NULL)
			return -1;
	}
	assertion = jwt_assertion(a->jwt_key, cfg->client_id, ac->username,
	    auth_audience(cfg), (int64_t)time(NULL), err, errlen);
	if (assertion == NULL)
		return -1;
	buf_puts(body, "grant_type=");
	form_escape(body, JWT_GRANT);
	buf_puts(body, "&assertion=");
	form_escape(body, assertion);
	free(assertion);
	return 0;
}

struct http_request *
auth_token_request(struct auth *a, const struct config *cfg, char *err,
    size_t errlen)
{
	struct http_request *req;
	struct buf body;
	char *url;

	buf_init(&body, 0);
	if (cfg->auth.method == AUTH_JWT) {
		if (put_jwt_grant(a, cfg, &body, err, errlen) == -1) {
			buf_free(&body);
			return NULL;
		}
	} else {
		buf_puts(&body, "grant_type=client_credentials&client_id=");
		form_escape(&body, cfg->client_id);
		buf_puts(&body, "&client_secret=");
		form_escape(&body, cfg->client_secret);
	}

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

/* Store TOKEN and INSTANCE, without trailing slashes, as the new token. */
static void
set_token(struct auth *a, const char *token, const char *instance)
{
	size_t n = strlen(instance);

	free(a->access_token);
	free(a->instance_url);
	a->access_token = xstrdup(token);
	while (n > 0 && instance[n - 1] == '/')
		n--;
	a->instance_url = xstrndup(instance, n);
	a->generation++;
}

void
auth_use_configured(struct auth *a, const struct config *cfg)
{
	set_token(a, cfg->auth.access_token, cfg->auth.instance_url != NULL ?
	    cfg->auth.instance_url : cfg->org_url);
}

int
auth_accept(struct auth *a, const struct http_request *req, char *err,
    size_t errlen)
{
	json_t *root = NULL;
	const char *token, *instance;

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

	set_token(a, token, instance);
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
	EVP_PKEY_free(a->jwt_key);
	a->access_token = NULL;
	a->instance_url = NULL;
	a->jwt_key = NULL;
}
