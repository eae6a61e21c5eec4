/*
 * fuzz_api.c - how api.c takes a response: Sforce-Limit-Info (kept, and
 * the daily usage read from it), Retry-After, 401 with a token refresh,
 * 403 limit errors and the retries.  One GET goes out and the fake org
 * responds to its token requests and attempts from the input.
 *
 * Input: the responses (fakeorg.h).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fakeorg.h"
#include "fuzz.h"
#include "xalloc.h"

static int calls_done;

static void
on_done(struct api_call *call, void *arg)
{
	(void)arg;
	if (call->outcome == API_RESPONSE && call->req == NULL)
		abort();
	calls_done++;
	api_call_free(call);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api *api;
	struct api_call *call;
	long used, max;

	fakeorg_init(data, size);
	api = api_new(fuzz_config(), NULL, fuzz_logger());
	fakeorg_use(api);
	/* After a failed sign-in the call ends with API_STOPPED. */
	api_login(api);
	call = api_call_new("GET", xstrdup("/services/data/v65.0/limits"),
	    NULL, 0, NULL, true, on_done, NULL);
	calls_done = 0;
	api_send(api, call);
	fakeorg_run(api);
	if (calls_done != 1)
		abort();
	if (strlen(api_limit_info(api)) >= 64)
		abort();
	api_limit_usage(api, &used, &max);
	api_free(api);
	return 0;
}
