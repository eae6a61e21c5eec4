#!/usr/bin/env bats
# Hostile input, configuration and peers: names that would enter URLs,
# pathological JSON, and a server that answers nonsense.

load helpers

@test "names that enter URLs are checked" {
	for name in '../Account' 'Account?x=1' 'Account#frag' 'Acc%2Fount' 'Acc ount' $'Acc\tount' 'Account/' '' '__c'; do
		cat >"$BATS_TEST_TMPDIR/c.yaml" <<-YAML
		org_url: http://127.0.0.1:9
		client_id: id
		client_secret: \${NO_SUCH_SECRET:x}
		topic_mappings:
		  - topic: t
		    sobject: "$name"
		    operation: upsert
		    external_id_field: "$name"
		YAML
		run "$SFSINK" -c "$BATS_TEST_TMPDIR/c.yaml" </dev/null
		[ "$status" -eq 2 ] || { echo "accepted: '$name'"; false; }
		[[ "$output" == *"topic_mappings[0].sobject"* ]] || { echo "$output"; false; }
	done
}

# A config for the offline tests: nothing here reaches a server.
offline() {
	cat >"$BATS_TEST_TMPDIR/offline.yaml" <<-YAML
	org_url: http://127.0.0.1:9
	client_id: id
	client_secret: \${NO_SUCH_SECRET:x}
	topic_mappings:
	  - topic: changes
	    sobject: Account
	    operation: update
	YAML
	echo "$BATS_TEST_TMPDIR/offline.yaml"
}

@test "Ids that would enter URLs are rejected" {
	cfg=$(offline)
	for id in '001000000000001/../' '001000000000001?x' '00100000000%2F01' '001 00000000001' '001000000000001#a'; do
		jq -cn --arg id "$id" '{topic: "changes", data: {Id: $id}}'
	done >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT" | sort -u)" = "rejected INVALID_ID" ]
}

@test "deeply nested JSON is rejected" {
	cfg=$(offline)
	"$PYTHON3" -c 'print("{\"topic\":\"changes\",\"data\":{\"a\":" + "[" * 100000 + "]" * 100000 + "}}")' >"$BATS_TEST_TMPDIR/in.ndjson"
	echo '{"topic":"nope","data":{}}' >>"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 '.errors[0].code')" = '"INVALID_JSON"' ]
	[[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 '.errors[0].message')" == *"maximum parsing depth"* ]]
}

@test "very many fields still load" {
	fake_start
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	"$PYTHON3" -c '
import json
data = {"Name": "Wide", "External_Id__c": "W-1"}
for i in range(20000):
    data["Extra_%d__c" % i] = i
print(json.dumps({"topic": "accounts", "data": data}))' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	# The fake knows none of the extra fields: Salesforce's INVALID_FIELD.
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT")" = "failed INVALID_FIELD" ]
}

upsert_config() {
	write_config "http:
  backoff:
    initial_interval: 10ms" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
}

@test "invalid JSON from server is unknown" {
	fake_start
	cfg=$(upsert_config)
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "respond", "status": 200, "body": "{not json", "headers": {"Content-Type": "application/json"}}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT" | sort -u)" = "unknown INVALID_RESPONSE" ]
}

@test "too few results from server" {
	fake_start
	cfg=$(upsert_config)
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "respond", "status": 200, "body": [{"id": "001000000000001AAA", "success": true, "errors": [], "created": true}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	[ "$(jq -r .status "$OUT" | sort -u)" = unknown ]
}

@test "HTML error page is masked and reported" {
	fake_start
	cfg=$(upsert_config)
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "respond", "status": 404, "body": "<html>\u001b[31mgone\r\n</html>", "headers": {"Content-Type": "text/html"}}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT")" = "failed HTTP_404" ]
	[ "$(jq -r '.errors[0].message' "$OUT")" = '<html>?[31mgone??</html>' ]
}

@test "server error on insert is unknown" {
	fake_start
	cfg=$(write_config <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
	)
	echo '{"topic":"contacts","data":{"LastName":"X"}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "respond", "status": 502, "body": "bad gateway"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT")" = "unknown HTTP_502" ]
}

bulk_upsert_config() {
	write_config "bulk_poll_interval: 50ms
http:
  backoff:
    initial_interval: 10ms
    max_retries: 1" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	    mode: bulk
	YAML
}

# Serve BODY (a JSON string) as every successfulResults file of the run.
serve_results() {
	fake_faults "[{\"path\": \"successfulResults\", \"times\": -1, \"action\": \"respond\", \"status\": 200, \"headers\": {\"Content-Type\": \"text/csv\"}, \"body\": $1}]"
}

@test "malformed result CSV leaves records unknown" {
	fake_start --bulk-delay 0.05
	cfg=$(bulk_upsert_config)
	gen_accounts accounts 3 >"$BATS_TEST_TMPDIR/in.ndjson"
	serve_results '"\"sf__Id\",\"sf__Created\",Name,External_Id__c\n\"001000000000001AAA\",\"true\",\"unterminated"'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT" | sort -u)" = unknown ]
	[ "$(jq -r 'has("job_id")' "$OUT" | sort -u)" = true ]
}

@test "result CSV without echoed columns" {
	fake_start --bulk-delay 0.05
	cfg=$(bulk_upsert_config)
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	# Rows that echo no field cannot be matched to either record.
	serve_results '"\"sf__Id\",\"sf__Created\"\n\"001000000000001AAA\",\"true\"\n\"001000000000002AAA\",\"true\"\n"'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT" | sort -u)" = unknown ]
}

@test "result CSV with an extra column still matches" {
	fake_start --bulk-delay 0.05
	cfg=$(bulk_upsert_config)
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	serve_results '"\"sf__Id\",\"sf__Created\",Name,External_Id__c,Surprise\n\"001000000000002AAA\",\"true\",\"Account 2\",\"ACC-2\",\"x\"\n\"001000000000001AAA\",\"false\",\"Account 1\",\"ACC-1\",\"y\"\n"'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 '[.id, .created]')" = '["001000000000001AAA",false]' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '[.id, .created]')" = '["001000000000002AAA",true]' ]
}

@test "JSON job info where CSV was asked" {
	fake_start --bulk-delay 0.05
	cfg=$(bulk_upsert_config)
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	serve_results '"{\"not\": \"csv\"}"'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT" | sort -u)" = unknown ]
}

@test "wrong content type with valid JSON" {
	fake_start
	cfg=$(upsert_config)
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "respond", "status": 200, "headers": {"Content-Type": "text/html"}, "body": [{"id": "001000000000001AAA", "success": true, "errors": [], "created": true}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.status, .id]' "$OUT")" = '["ok","001000000000001AAA"]' ]
}

@test "trickled response is bounded by the timeout" {
	fake_start
	cfg=$(write_config "http:
  timeout: 1s
  backoff:
    initial_interval: 10ms
    max_retries: 1" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	# About 200 body bytes, 0.2 s apart: far beyond the 1 s timeout.
	fake_faults '[{"path": "composite/sobjects", "times": -1, "action": "trickle", "seconds": 0.2}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	# The upsert was applied before its answer stalled: the outcome is unknown.
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT" | sort -u)" = "unknown CONNECTION_LOST" ]
	[[ "$(jq -r '.errors[0].message' "$OUT" | head -n 1)" == *"timed out"* ]]
	[ "$(fake_requests 'composite/sobjects' | jq length)" -eq 2 ]
}
