/*
 * fakeorg.c - a Salesforce org at the HTTP layer that replies from fuzz input.
 *
 * http.c is included so that response headers go through its own header
 * callback, and so that the harness gets every http.c function without
 * linking http.o; http_start() itself is replaced through --wrap.
 */
#include "http.c"	/* found through -I src */

#include "fakeorg.h"
#include "keyorder.h"
#include "results.h"
#include "sink.h"
#include "fuzz.h"

#define FAKEORG_MAX_REQUESTS	2000

int __wrap_http_start(struct http *h, struct http_request *req);
int __wrap_http_wait(struct http *h, int fd, int timeout_ms, bool *fd_ready);
int __wrap_http_perform(struct http *h);
int64_t __wrap_clock_now_ns(void);

static struct {
	const uint8_t *p;
	const uint8_t *end;
	struct http http;
	struct http_request **queue;	/* FIFO of started requests */
	size_t head;
	size_t n;
	size_t cap;
	unsigned requests;
	int64_t now_ns;			/* the clock every module reads */
	struct api *api;		/* whose delayed calls the clock jumps to */
} org;

void
fakeorg_init(const uint8_t *data, size_t size)
{
	org.p = data;
	org.end = data + size;
	org.http.cfg = &fuzz_config()->http;
	org.http.lg = fuzz_logger();
	org.head = 0;
	org.n = 0;
	org.requests = 0;
	org.now_ns = 1000000000;
	org.api = NULL;
}

unsigned
fakeorg_requests(void)
{
	return org.requests;
}

int
__wrap_http_start(struct http *h, struct http_request *req)
{
	(void)h;
	reset_request(&org.http, req);
	if (org.head + org.n == org.cap) {
		org.cap = org.cap ? org.cap * 2 : 16;
		org.queue = xreallocarray(org.queue, org.cap,
		    sizeof(*org.queue));
	}
	org.queue[org.head + org.n++] = req;
	return 0;
}

/* Take the next response of the input, up to a NUL or the end. */
static int
next_response(const uint8_t **start, const uint8_t **end)
{
	const uint8_t *nul;

	if (org.p >= org.end)
		return -1;
	nul = memchr(org.p, '\0', (size_t)(org.end - org.p));
	*start = org.p;
	*end = nul ? nul : org.end;
	org.p = nul ? nul + 1 : org.end;
	return 0;
}

/* Take one line of [*P, END) without its LF; returns its length. */
static size_t
take_line(const uint8_t **p, const uint8_t *end, const uint8_t **line)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);

	*line = *p;
	*p = nl ? nl + 1 : end;
	return n;
}

/* Fill REQ with the next response, as http.c's callbacks would. */
static void
respond_to(struct http_request *req)
{
	const uint8_t *p, *end, *line;
	char status[32], header[1024];
	size_t n;
	long code;

	if (next_response(&p, &end) == -1) {
		req->result = CURLE_COULDNT_CONNECT;
		snprintf(req->errbuf, sizeof(req->errbuf), "fake: no response");
		return;
	}
	n = take_line(&p, end, &line);
	snprintf(status, sizeof(status), "%.*s", (int)(n < 31 ? n : 31),
	    (const char *)line);
	code = strtol(status, NULL, 10);
	if (code <= 0) {
		req->result = code == 0 ? CURLE_RECV_ERROR : CURLE_COULDNT_CONNECT;
		req->maybe_sent = code == 0;
		snprintf(req->errbuf, sizeof(req->errbuf), "fake: failure %ld",
		    code);
		return;
	}
	snprintf(header, sizeof(header), "HTTP/1.1 %03ld Fuzz\r\n", code);
	on_header(header, 1, strlen(header), req);
	while (p < end) {
		n = take_line(&p, end, &line);
		if (n == 0 || (n == 1 && line[0] == '\r'))
			break;
		if (n > sizeof(header) - 3)
			n = sizeof(header) - 3;
		memcpy(header, line, n);
		memcpy(header + n, "\r\n", 3);
		if (on_header(header, 1, n + 2, req) != n + 2) {
			req->result = CURLE_WRITE_ERROR;
			break;
		}
	}
	if (req->result == CURLE_OK && p < end &&
	    on_body((char *)p, 1, (size_t)(end - p), req) != (size_t)(end - p))
		req->result = CURLE_WRITE_ERROR;
	req->status = req->result == CURLE_OK ? code : 0;
	req->maybe_sent = true;
}

/*
 * Time stands still while sfsink works and jumps ahead when it waits, so
 * back-off delays and Retry-After cost no real time.
 */
int64_t
__wrap_clock_now_ns(void)
{
	return org.now_ns;
}

/* Jump the clock to the first delayed call of the api, or by TIMEOUT_MS. */
int
__wrap_http_wait(struct http *h, int fd, int timeout_ms, bool *fd_ready)
{
	int64_t due = org.api ? api_next_due(org.api) : INT64_MAX;

	(void)h;
	(void)fd;
	if (fd_ready != NULL)
		*fd_ready = false;
	if (org.n > 0)
		return 0;
	if (due != INT64_MAX && due > org.now_ns)
		org.now_ns = due;
	else if (due == INT64_MAX)
		org.now_ns += (int64_t)timeout_ms * 1000000;
	return 0;
}

/* Answer every request started so far, oldest first. */
int
__wrap_http_perform(struct http *h)
{
	struct http_request *req;

	(void)h;
	while (org.n > 0) {
		req = org.queue[org.head++];
		if (--org.n == 0)
			org.head = 0;
		org.requests++;
		respond_to(req);
		req->done(req, req->arg);
		if (org.api != NULL && org.requests >= FAKEORG_MAX_REQUESTS &&
		    api_stop_reason(org.api) == NULL)
			api_stop(org.api, "fake: too many requests");
		if (org.requests > 2 * FAKEORG_MAX_REQUESTS)
			abort();	/* requests go on after api_stop() */
	}
	return 0;
}

void
fakeorg_use(struct api *api)
{
	org.api = api;
}

void
fakeorg_run(struct api *api)
{
	int64_t due;

	org.api = api;
	for (;;) {
		__wrap_http_perform(NULL);
		due = api_next_due(api);
		if (due == INT64_MAX)
			break;
		if (due > org.now_ns)
			org.now_ns = due;
		api_run_due(api, org.now_ns);
	}
}

/* The result lines of a run, written to memory. */
static char *results_text;
static size_t results_len;

void
fakeorg_sink_init(struct sink *s)
{
	const struct config *cfg = fuzz_config();
	FILE *out = open_memstream(&results_text, &results_len);

	if (out == NULL)
		abort();
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->lg = fuzz_logger();
	results_init(&s->results, out, "fuzz", s->lg);
	results_count_topics(&s->results, cfg->mappings, cfg->n_mappings);
	s->api = api_new(cfg, NULL, s->lg);
	s->keys = keyorder_new();
	fakeorg_use(s->api);
	/* A failed sign-in stops the api: every call then ends API_STOPPED. */
	s->logged_in = api_login(s->api) == 0;
}

struct record *
fakeorg_record(struct sink *s, const struct mapping *map, long line,
    const char *data)
{
	struct record *rec = record_new("fuzz", line);
	const char *code;
	char msg[512];

	rec->topic = xstrdup(map->topic);
	rec->map = map;
	rec->mode = map->mode;
	rec->data = xstrdup(data);
	rec->data_len = strlen(data);
	if (record_validate(rec, &code, msg, sizeof(msg)) == -1) {
		fprintf(stderr, "fuzz: record %ld: %s\n", line, msg);
		abort();
	}
	keyorder_add(s->keys, rec);
	return rec;
}

/* Abort unless LINE is a result: a status, and errors unless it is ok. */
static void
check_result(json_t *line)
{
	const char *status = json_string_value(json_object_get(line, "status"));
	json_t *errors = json_object_get(line, "errors"), *e;
	size_t i;

	if (status == NULL)
		abort();
	if (strcmp(status, "ok") == 0)
		return;
	if (json_array_size(errors) == 0)
		abort();
	json_array_foreach(errors, i, e) {
		if (!json_is_string(json_object_get(e, "code")) ||
		    !json_is_string(json_object_get(e, "message")) ||
		    !json_is_array(json_object_get(e, "fields")))
			abort();
	}
}

/* Abort unless the result text has N lines, each a valid result. */
static void
check_results(size_t n)
{
	const char *p = results_text, *end = results_text + results_len, *nl;
	size_t lines = 0;
	json_t *line;

	if (getenv("SFSINK_FUZZ_DEBUG") != NULL)
		fwrite(results_text, 1, results_len, stderr);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			abort();	/* a result line without its newline */
		line = json_loadb(p, (size_t)(nl - p), 0, NULL);
		check_result(line);
		json_decref(line);
		lines++;
		p = nl + 1;
	}
	if (lines != n)
		abort();
}

void
fakeorg_send(struct sink *s, struct chunk *chunk,
    void (*send)(struct sink *, struct chunk *))
{
	size_t n = chunk->n;

	chunk->sending_next = s->sending;
	s->sending = chunk;
	if (chunk->mode == MODE_REALTIME)
		s->in_flight++;
	else
		s->bulk_jobs++;
	send(s, chunk);
	fakeorg_run(s->api);
	if (s->sending != NULL || s->in_flight != 0 || s->bulk_jobs != 0)
		abort();	/* the chunk never came back */
	if (results_flush(&s->results) == -1)
		abort();
	check_results(n);
}

void
fakeorg_sink_free(struct sink *s)
{
	api_free(s->api);
	keyorder_free(s->keys);
	fclose(s->results.out);
	results_free(&s->results);
	free(results_text);
	results_text = NULL;
	results_len = 0;
}
