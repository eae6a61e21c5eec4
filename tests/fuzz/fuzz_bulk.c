/*
 * fuzz_bulk.c - Bulk API 2.0 responses: a chunk goes out through
 * bulk_send() and the fake org replies to the token request, the job create,
 * the upload, the close, every JobInfo poll and the result downloads
 * (successfulResults, failedResults, unprocessedrecords) from the input.
 * Every record must end with exactly one result.
 *
 * Input: one byte picking the mapping (insert, update, upsert, delete,
 * hardDelete) and the number of records (1 to 6), then the responses
 * (fakeorg.h).
 */
#include <stdlib.h>

#include "batch.h"
#include "bulk.h"
#include "fakeorg.h"
#include "fuzz.h"
#include "sink.h"
#include "xalloc.h"

static const char *const topics[] = {
	"bulk-insert", "bulk-update", "bulk-upsert", "bulk-delete",
	"bulk-hard-delete",
};

/*
 * Records valid for every operation, with values of every kind that
 * bulkmatch.c compares.  The last two echo the same values for insert.
 */
static const char *const records[] = {
	"{\"Id\":\"001000000000001AAA\",\"External_Id__c\":\"E-1\","
	    "\"Name\":\"Acme\",\"NumberOfEmployees\":10,"
	    "\"AnnualRevenue\":912260031}",
	"{\"Id\":\"001000000000002AAA\",\"External_Id__c\":\"E-2\","
	    "\"Name\":\"Globex, \\\"Inc\\\"\",\"Active__c\":true,"
	    "\"SLAExpirationDate__c\":\"2024-05-01\"}",
	"{\"Id\":\"001000000000003\",\"External_Id__c\":3,"
	    "\"Name\":null,\"Parent\":{\"External_Id__c\":\"E-1\"}}",
	"{\"Id\":\"001000000000004AAA\",\"External_Id__c\":\"E-4\","
	    "\"Name\":\"line\\nbreak\",\"Tags__c\":[\"a\",\"b\"],"
	    "\"LastSeen__c\":\"2024-05-01T10:00:00.000+0200\"}",
	"{\"Id\":\"001000000000005AAA\",\"External_Id__c\":\"E-5\","
	    "\"Name\":\"Same\"}",
	"{\"Id\":\"001000000000006AAA\",\"External_Id__c\":\"E-6\","
	    "\"Name\":\"Same\"}",
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
	map = fuzz_mapping(topics[data[0] % 5]);
	n = 1 + (data[0] / 5) % 6;

	fakeorg_init(data + 1, size - 1);
	fakeorg_sink_init(&s);
	recs = xcalloc(n, sizeof(*recs));
	for (i = 0; i < n; i++)
		recs[i] = fakeorg_record(&s, map, (long)i + 1, records[i]);
	fakeorg_send(&s, chunk_new(map, recs, n), bulk_send);
	fakeorg_sink_free(&s);
	return 0;
}
