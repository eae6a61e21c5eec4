/*
 * fakeorg.h - a Salesforce org at the HTTP layer that replies from fuzz input.
 *
 * Harnesses that use it are linked with --wrap for http_start, http_wait,
 * http_perform and clock_now_ns.  Every request that sfsink starts (token
 * requests, API calls, retries) is queued here instead of going to
 * libcurl, http_perform() responds to the queued requests in order, one
 * response of the input each, and the clock jumps to the next delayed
 * call when sfsink waits, so back-off costs no real time.
 *
 * The input is a list of responses separated by NUL bytes.  Each response
 * is a status line holding the HTTP status, header lines, an empty line
 * and the body:
 *
 *   200
 *   Sforce-Limit-Info: api-usage=18/15000
 *
 *   {"access_token": "...", "instance_url": "http://127.0.0.1:9"}
 *
 * A status of 0 is a transfer that failed after the request was sent, a
 * negative one a transfer that failed before.  Once the input is used up,
 * every request fails before it is sent.
 */
#ifndef SFSINK_FAKEORG_H
#define SFSINK_FAKEORG_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"

/* Start serving the responses in DATA (borrowed until fakeorg_run returns). */
void fakeorg_init(const uint8_t *data, size_t size);

/* Let the clock jump to API's delayed calls while sfsink waits (api_login). */
void fakeorg_use(struct api *api);

/*
 * Answer requests and run delayed calls of API until none is left.  After
 * 2000 requests the api is stopped, as a long run would stop it, and the
 * remaining calls end with API_STOPPED.
 */
void fakeorg_run(struct api *api);

/* Number of requests responded to since fakeorg_init(). */
unsigned fakeorg_requests(void);

struct sink;
struct chunk;

/*
 * Set up the parts of a sink that the senders use: the configuration of
 * fuzz.h, an api over the fake org, key queues, and results written to
 * memory so that fakeorg_send() can read them back.
 */
void fakeorg_sink_init(struct sink *s);

/*
 * A record of MAP at input line LINE with the JSON object DATA, validated
 * and in its key's queue; aborts when DATA is not valid for MAP.
 */
struct record *fakeorg_record(struct sink *s, const struct mapping *map,
    long line, const char *data);

/*
 * Send CHUNK through SEND (realtime_send or bulk_send), respond to every
 * request, and abort unless the chunk came back through sink_chunk_done()
 * with exactly one valid JSON result line per record.
 */
void fakeorg_send(struct sink *s, struct chunk *chunk,
    void (*send)(struct sink *, struct chunk *));

void fakeorg_sink_free(struct sink *s);

#endif
