#!/usr/bin/env bats
# Input lines: envelopes, malformed lines, physical line numbers.  Nothing
# here is sent: every record is rejected before sign-in.

load helpers

setup() {
	cat >"$BATS_TEST_TMPDIR/offline.yaml" <<-YAML
	org_url: http://127.0.0.1:9
	client_id: id
	client_secret: secret
	topic_mappings:
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	  - topic: changes
	    sobject: Account
	    operation: update
	YAML
	chmod 600 "$BATS_TEST_TMPDIR/offline.yaml"
	CFG="$BATS_TEST_TMPDIR/offline.yaml"
}

# Run sfsink on the input in $BATS_TEST_TMPDIR/in.ndjson.
run_input() {
	run_sfsink -c "$CFG" "$BATS_TEST_TMPDIR/in.ndjson"
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
}

@test "invalid JSON is rejected" {
	printf 'not json\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$status" -eq 1 ]
	[ "$(jq -r '.errors[0].code' "$OUT")" = INVALID_JSON ]
	[ "$(jq -r .status "$OUT")" = rejected ]
}

@test "missing topic is rejected" {
	printf '{"data":{}}\n{"topic":7,"data":{}}\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r '.errors[0].code' "$OUT" | sort -u)" = MISSING_TOPIC ]
}

@test "data that is not an object" {
	printf '{"topic":"accounts","data":[1]}\n{"topic":"accounts"}\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r '.errors[0].code' "$OUT" | sort -u)" = INVALID_DATA ]
	[ "$(jq -r '.sobject' "$OUT" | sort -u)" = Account ]
}

@test "unknown topic is rejected" {
	printf '{"topic":"leads","data":{"LastName":"X"}}\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r '.errors[0].code' "$OUT")" = UNKNOWN_TOPIC ]
	[ "$(jq -r '.errors[0].message' "$OUT")" = 'topic "leads" has no entry in topic_mappings; add one to load it' ]
}

@test "duplicate keys are rejected" {
	printf '{"topic":"accounts","data":{"Name":"a","Name":"b"}}\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r '.errors[0].code' "$OUT")" = INVALID_JSON ]
	[[ "$(jq -r '.errors[0].message' "$OUT")" == *"duplicate object key"* ]]
}

@test "line numbers stay physical" {
	printf '\n\n  \nbad\r\n\n{"topic":"x","data":{}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r .line "$OUT" | tr '\n' ' ')" = "4 6 " ]
}

@test "byte order mark is removed" {
	printf '\xef\xbb\xbf{"topic":"x","data":{}}\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r '.errors[0].code' "$OUT")" = UNKNOWN_TOPIC ]
}

@test "update without Id is rejected" {
	printf '%s\n' '{"topic":"changes","data":{"Name":"a"}}' \
	    '{"topic":"changes","data":{"Id":"001abc","Name":"a"}}' \
	    '{"topic":"changes","data":{"Id":5}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 '.errors[0].code')" = '"MISSING_ID"' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '.errors[0].code')" = '"INVALID_ID"' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 3 '.errors[0].code')" = '"INVALID_ID"' ]
}

@test "upsert without external ID is rejected" {
	printf '%s\n' '{"topic":"accounts","data":{"Name":"a"}}' \
	    '{"topic":"accounts","data":{"External_Id__c":""}}' \
	    '{"topic":"accounts","data":{"External_Id__c":null}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r '.errors[0].code' "$OUT" | sort -u)" = MISSING_EXTERNAL_ID ]
}

@test "kcat envelope keeps partition and offset" {
	printf '%s\n' '{"topic":"leads","partition":3,"offset":12345678901,"tstype":"create","ts":1700000000000,"broker":0,"key":null,"payload":"{\"LastName\":\"X\"}"}' \
	    >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -c .kafka "$OUT")" = '{"partition":3,"offset":12345678901}' ]
	[ "$(jq -r .topic "$OUT")" = leads ]
}

@test "kcat payload may carry a record" {
	printf '%s\n' '{"topic":"raw","partition":0,"offset":1,"key":null,"payload":"{\"topic\":\"leads\",\"data\":{}}"}' \
	    >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r .topic "$OUT")" = leads ]
}

@test "kcat payload that is not an object" {
	printf '%s\n' '{"topic":"t","partition":0,"offset":1,"key":null,"payload":"[1]"}' \
	    '{"topic":"t","partition":0,"offset":2,"key":null,"payload":null}' \
	    '{"topic":"t","partition":0,"offset":3,"key":null,"payload":"{bad"}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r '.errors[0].code' "$OUT" | sort -u)" = INVALID_PAYLOAD ]
	[ "$(jq -r '.kafka.offset' "$OUT" | tr '\n' ' ')" = "1 2 3 " ]
}

@test "line over the cap is rejected" {
	"$PYTHON3" -c '
import sys
sys.stdout.write("{\"topic\":\"x\",\"data\":{\"a\":\"" + "y" * (17 * 1024 * 1024) + "\"}}\n")
sys.stdout.write("{\"topic\":\"x\",\"data\":{}}\n")' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 '.errors[0].code')" = '"LINE_TOO_LONG"' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '.errors[0].code')" = '"UNKNOWN_TOPIC"' ]
}

@test "invalid UTF-8 and NUL bytes are rejected" {
	printf '{"topic":"x","data":{"a":"\xff"}}\n{"topic":"x","data":{"a":"\\u0000"}}\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_input
	[ "$(jq -r '.errors[0].code' "$OUT" | sort -u)" = INVALID_JSON ]
}
