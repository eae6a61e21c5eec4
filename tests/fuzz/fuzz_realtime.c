/*
 * fuzz_realtime.c - sObject Collections responses: a chunk goes out
 * through realtime_send() and the fake org replies to its token request,
 * every request, every half after a 400 and every resend after
 * UNABLE_TO_LOCK_ROW from the input.  Every record must end with exactly
 * one result.
 *
 * Input: one byte picking the mapping (insert, update, upsert, delete)
 * and the number of records (1 to 6), then the responses (fakeorg.h).
 */
#include <stdlib.h>

#include "batch.h"
#include "fakeorg.h"
#include "fuzz.h"
#include "realtime.h"
#include "sink.h"
#include "xalloc.h"

static const char *const topics[] = { "insert", "update", "upsert", "delete" };

/* Records valid for every operation; the last two share their keys. */
static const char *const records[] = {
	"{\"Id\":\"001000000000001AAA\",\"External_Id__c\":\"E-1\","
	    "\"Name\":\"Acme\",\"NumberOfEmployees\":10}",
	"{\"Id\":\"001000000000002AAA\",\"External_Id__c\":\"E-2\","
	    "\"Name\":\"Globex\",\"attributes\":{\"type\":\"Account\"}}",
	"{\"Id\":\"001000000000003\",\"External_Id__c\":3,"
	    "\"Name\":null,\"Active__c\":true}",
	"{\"Id\":\"001000000000004AAA\",\"External_Id__c\":\"E-4\","
	    "\"Name\":\"Init\\u00e9ch\"}",
	"{\"Id\":\"001000000000005AAA\",\"External_Id__c\":\"E-5\","
	    "\"Name\":\"Same\"}",
	"{\"Id\":\"001000000000005AAA\",\"External_Id__c\":\"E-5\","
	    "\"Name\":\"Same again\"}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mapping *map;
	struct record **recs;
	struct sink s;
	size_t i, n;

	if (size < 1)
		return 0;
	map = fuzz_mapping(topics[data[0] % 4]);
	n = 1 + (data[0] >> 2) % 6;

	fakeorg_init(data + 1, size - 1);
	fakeorg_sink_init(&s);
	recs = xcalloc(n, sizeof(*recs));
	for (i = 0; i < n; i++)
		recs[i] = fakeorg_record(&s, map, (long)i + 1, records[i]);
	fakeorg_send(&s, chunk_new(map, recs, n), realtime_send);
	fakeorg_sink_free(&s);
	return 0;
}
