/*
 * fuzz_auth.c - the OAuth token response: auth_accept() on a finished
 * request, as api.c calls it for every token request.
 *
 * Input: the first line is the HTTP status (0 for a transfer that ended
 * without a response); the rest is the response body.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fuzz.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - (const char *)data) + 1 : size;
	char *status_line = fuzz_strndup(data, head), err[768];
	struct http_request *req;
	struct auth a;
	size_t i;

	memset(&a, 0, sizeof(a));
	req = http_request_new("POST", "https://127.0.0.1:9/services/oauth2/token");
	req->status = strtol(status_line, NULL, 10);
	req->result = req->status == 0 ? CURLE_RECV_ERROR : CURLE_OK;
	buf_append(&req->response, data + head, size - head);

	if (auth_accept(&a, req, err, sizeof(err)) == 0) {
		if (a.access_token == NULL || a.instance_url == NULL ||
		    strncmp(a.instance_url, "http", 4) != 0)
			abort();
		free(auth_header(&a));
	} else if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0') {
		abort();
	} else {
		/* Remote text in the message must have its control characters masked. */
		for (i = 0; err[i] != '\0'; i++) {
			if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
				abort();
		}
	}
	auth_free(&a);
	http_request_free(req);
	free(status_line);
	return 0;
}
