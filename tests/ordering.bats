#!/usr/bin/env bats
# Per-key ordering: the later input line for a record always wins.

load helpers

setup() {
	fake_start
}

# COUNT upserts cycling over KEYS external IDs; Description is the line.
gen_updates() {
	"$PYTHON3" -c '
import json, sys
count, keys = int(sys.argv[1]), int(sys.argv[2])
for i in range(1, count + 1):
    print(json.dumps({"topic": "accounts", "data": {"Name": "Acc", "External_Id__c": "K-%d" % (i % keys), "Description": "line %d" % i}}))
' "$1" "$2"
}

# The Description the last line for each key set, as "key=value" lines.
expected_final() {
	jq -r '.data | "\(.External_Id__c)=\(.Description)"' "$1" |
	    awk -F= '{ last[$1] = $2 } END { for (k in last) print k "=" last[k] }' | sort
}

@test "later upsert wins at high concurrency" {
	fake POST /__fake/config '{"latency": 0.02}' >/dev/null
	cfg=$(write_config "max_in_flight: 8
batch_period: 0s" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	gen_updates 1000 5 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	got=$(fake GET /__fake/records/Account | jq -r '.[] | "\(.External_Id__c)=\(.Description)"' | sort)
	[ "$got" = "$(expected_final "$BATS_TEST_TMPDIR/in.ndjson")" ]
	# No request carried the same key twice.
	dups=$(fake_requests 'composite/sobjects' | jq '[.[].body | fromjson | [.records[].External_Id__c] | (length - (unique | length))] | add')
	[ "$dups" -eq 0 ]
}

@test "later update by Id wins" {
	fake POST /__fake/config '{"latency": 0.02}' >/dev/null
	cfg=$(write_config "max_in_flight: 8
batch_period: 0s" <<-YAML
	  - topic: changes
	    sobject: Account
	    operation: update
	YAML
	)
	ids=$(fake POST /__fake/records/Account '[{"Name":"A"},{"Name":"B"},{"Name":"C"}]')
	"$PYTHON3" -c '
import json, sys
ids = json.loads(sys.argv[1])
for i in range(1, 601):
    print(json.dumps({"topic": "changes", "data": {"Id": ids[i % 3], "Description": "line %d" % i}}))
' "$ids" >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	want=$(jq -r '.data | "\(.Id)=\(.Description)"' "$BATS_TEST_TMPDIR/in.ndjson" |
	    awk -F= '{ last[$1] = $2 } END { for (k in last) print k "=" last[k] }' | sort)
	got=$(fake GET /__fake/records/Account | jq -r '.[] | "\(.Id)=\(.Description)"' | sort)
	[ "$got" = "$want" ]
	dups=$(fake_requests 'composite/sobjects' | jq '[.[].body | fromjson | [.records[].Id] | (length - (unique | length))] | add')
	[ "$dups" -eq 0 ]
}

@test "distinct keys still share requests" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	gen_accounts accounts 400 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(fake_requests 'composite/sobjects' | jq length)" -eq 2 ]
}
