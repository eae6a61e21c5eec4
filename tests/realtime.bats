#!/usr/bin/env bats
# Realtime writes through sObject Collections against the local fake org.

load helpers

COLLECTIONS='^/services/data/v[0-9.]+/composite/sobjects'

setup() {
	fake_start
}

# Stored records of SOBJECT, as a JSON array.
stored() {
	fake GET "/__fake/records/$1"
}

# Requests to sObject Collections the fake received.
collections_requests() {
	fake_requests "$COLLECTIONS"
}

accounts_upsert() {
	write_config "${1:-}" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
}

@test "insert stores records and returns ids" {
	cfg=$(write_config <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
	)
	printf '%s\n' '{"topic":"contacts","data":{"LastName":"Lovelace","FirstName":"Ada"}}' \
	    '{"topic":"contacts","data":{"LastName":"Hopper"}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT" | sort -u)" = ok ]
	[ "$(jq -r '.id | test("^003[A-Za-z0-9]{15}$")' "$OUT" | sort -u)" = true ]
	[ "$(stored Contact | jq -r '[.[].LastName] | sort | join(",")')" = Hopper,Lovelace ]
	# The ids in the results are the ids the fake stored.
	[ "$(jq -r .id "$OUT" | sort | tr '\n' ' ')" = "$(stored Contact | jq -r '.[].Id' | sort | tr '\n' ' ')" ]
	# Every record carried attributes.type and went as one POST.
	body=$(collections_requests | jq -r '.[0].body')
	[ "$(collections_requests | jq -r '[.[].method] | join(",")')" = POST ]
	[ "$(jq -r '[.records[].attributes.type] | unique | join(",")' <<<"$body")" = Contact ]
	[ "$(jq -r .allOrNone <<<"$body")" = false ]
}

@test "upsert reports created then updated" {
	cfg=$(accounts_upsert)
	echo '{"topic":"accounts","data":{"Name":"Acme","External_Id__c":"A-1"}}' >"$BATS_TEST_TMPDIR/a.ndjson"
	echo '{"topic":"accounts","data":{"Name":"Acme Corp","External_Id__c":"A-1"}}' >"$BATS_TEST_TMPDIR/b.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/a.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.status, .created, .operation]' "$OUT")" = '["ok",true,"upsert"]' ]
	first_id=$(jq -r .id "$OUT")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/b.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.status, .created, .id]' "$OUT")" = "[\"ok\",false,\"$first_id\"]" ]
	[ "$(stored Account | jq -r '.[0].Name')" = "Acme Corp" ]
	[ "$(collections_requests | jq -r '.[0].path')" = "/services/data/v65.0/composite/sobjects/Account/External_Id__c" ]
	[ "$(collections_requests | jq -r '.[0].method')" = PATCH ]
}

@test "update changes fields by Id" {
	cfg=$(write_config <<-YAML
	  - topic: changes
	    sobject: Account
	    operation: update
	YAML
	)
	id=$(fake POST /__fake/records/Account '[{"Name":"Old","Phone":"1"}]' | jq -r '.[0]')
	echo "{\"topic\":\"changes\",\"data\":{\"Id\":\"$id\",\"Name\":\"New\"}}" >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -r .id "$OUT")" = "$id" ]
	[ "$(stored Account | jq -c '.[0] | [.Name, .Phone]')" = '["New","1"]' ]
	[ "$(collections_requests | jq -r '.[0].method')" = PATCH ]
}

@test "delete removes records by Id" {
	cfg=$(write_config <<-YAML
	  - topic: gone
	    sobject: Account
	    operation: delete
	YAML
	)
	ids=$(fake POST /__fake/records/Account '[{"Name":"A"},{"Name":"B"}]')
	for id in $(jq -r '.[]' <<<"$ids"); do
		echo "{\"topic\":\"gone\",\"data\":{\"Id\":\"$id\"}}"
	done >"$BATS_TEST_TMPDIR/in.ndjson"
	# Deleting the same record again fails: it is already deleted.
	head -n 1 "$BATS_TEST_TMPDIR/in.ndjson" >"$BATS_TEST_TMPDIR/again.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(stored Account | jq length)" -eq 0 ]
	req=$(collections_requests | jq -c '.[0]')
	[ "$(jq -r .method <<<"$req")" = DELETE ]
	[ "$(jq -r .query <<<"$req")" = "ids=$(jq -r 'join(",")' <<<"$ids")&allOrNone=false" ]
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/again.ndjson"
	[ "$status" -eq 1 ]
	[ "$(jq -r '.errors[0].code' "$OUT")" = ENTITY_IS_DELETED ]
}

@test "450 records make three requests" {
	cfg=$(accounts_upsert)
	gen_accounts accounts 450 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq -c '[.[].body | fromjson | .records | length]')" = '[200,200,50]' ]
	[ "$(stored Account | jq length)" -eq 450 ]
	# Every input line got its own record's id.
	[ "$(jq -r .id "$OUT" | sort -u | wc -l)" -eq 450 ]
}

@test "failure without all_or_none keeps neighbours" {
	cfg=$(accounts_upsert)
	printf '%s\n' '{"topic":"accounts","data":{"Name":"Good","External_Id__c":"G-1"}}' \
	    '{"topic":"accounts","data":{"External_Id__c":"BAD-1"}}' \
	    '{"topic":"accounts","data":{"Name":"Good","External_Id__c":"G-2"}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 .status)" = '"ok"' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '[.status, .errors[0].code, .errors[0].fields]')" = '["failed","REQUIRED_FIELD_MISSING",["Name"]]' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 3 .status)" = '"ok"' ]
	[ "$(stored Account | jq length)" -eq 2 ]
}

@test "all_or_none rolls back the request" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	    all_or_none: true
	YAML
	)
	printf '%s\n' '{"topic":"accounts","data":{"Name":"Good","External_Id__c":"G-1"}}' \
	    '{"topic":"accounts","data":{"External_Id__c":"BAD-1"}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 '[.status, .errors[0].code]')" = '["failed","ALL_OR_NONE_OPERATION_ROLLED_BACK"]' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '[.status, .errors[0].code]')" = '["failed","REQUIRED_FIELD_MISSING"]' ]
	[ "$(stored Account | jq length)" -eq 0 ]
	[ "$(collections_requests | jq -r '.[0].body | fromjson | .allOrNone')" = true ]
}

@test "whole-request 400 is isolated to one record" {
	cfg=$(accounts_upsert)
	gen_accounts accounts 200 >"$BATS_TEST_TMPDIR/in.ndjson"
	# Line 137 puts text into a number field: Salesforce rejects the whole
	# request with JSON_PARSER_ERROR and writes nothing.
	sed -i '137s/"Name"/"NumberOfEmployees": "many", "Name"/' "$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r 'select(.status != "ok") | .line' "$OUT")" = 137 ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 137 '.errors[0].code')" = '"JSON_PARSER_ERROR"' ]
	[ "$(jq -r .status "$OUT" | grep -c '^ok$')" -eq 199 ]
	[ "$(stored Account | jq length)" -eq 199 ]
	[ "$(stored Account | jq '[.[] | select(.External_Id__c == "ACC-137")] | length')" -eq 0 ]
}

@test "numbers reach Salesforce with exact text" {
	cfg=$(accounts_upsert)
	echo '{"topic":"accounts","data":{"Name":"N","External_Id__c":"N-1","Big_Number__c":12345678901234567890,"Score__c":0.1000000000000000055511151231257827,"AnnualRevenue":-0.0}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	body=$(collections_requests | jq -r '.[0].body')
	[[ "$body" == *'"Big_Number__c":12345678901234567890'* ]]
	[[ "$body" == *'"Score__c":0.1000000000000000055511151231257827'* ]]
	[[ "$body" == *'"AnnualRevenue":-0.0'* ]]
	# jq would round the numbers; compare the fake's stored text instead.
	records=$(stored Account)
	[[ "$records" == *'"Big_Number__c": 12345678901234567890'* || "$records" == *'"Big_Number__c":12345678901234567890'* ]]
	[[ "$records" == *'0.1000000000000000055511151231257827'* ]]
	[[ "$records" == *'-0.0'* ]]
}

@test "null clears a field" {
	cfg=$(accounts_upsert)
	fake POST /__fake/records/Account '[{"Name":"N","External_Id__c":"N-1","Phone":"555"}]' >/dev/null
	echo '{"topic":"accounts","data":{"External_Id__c":"N-1","Phone":null}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[[ "$(collections_requests | jq -r '.[0].body')" == *'"Phone":null'* ]]
	[ "$(stored Account | jq -c '.[0] | [.Name, .Phone]')" = '["N",null]' ]
}

@test "parent reference by external ID" {
	cfg=$(write_config <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
	)
	account=$(fake POST /__fake/records/Account '[{"Name":"Parent","External_Id__c":"P-1"}]' | jq -r '.[0]')
	printf '%s\n' '{"topic":"contacts","data":{"LastName":"Child","Account":{"External_Id__c":"P-1"}}}' \
	    '{"topic":"contacts","data":{"LastName":"Orphan","Account":{"External_Id__c":"NOPE"}}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	[ "$(stored Contact | jq -r '.[] | select(.LastName == "Child") | .AccountId')" = "$account" ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '[.status, .errors[0].code]')" = '["failed","INVALID_FIELD"]' ]
	[[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '.errors[0].message')" == *"Foreign key external ID: NOPE not found"* ]]
}

@test "token expiry mid-run refreshes once" {
	cfg=$(accounts_upsert "max_in_flight: 1")
	gen_accounts accounts 600 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "skip": 1, "action": "expire_token"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(stored Account | jq length)" -eq 600 ]
	[ "$(fake_requests '^/services/oauth2/token' | jq length)" -eq 2 ]
	[ "$(collections_requests | jq -c '[.[].status]')" = '[200,401,200,200]' ]
}

@test "max_in_flight bounds concurrent requests" {
	fake POST /__fake/config '{"latency": 0.2}' >/dev/null
	cfg=$(accounts_upsert "max_in_flight: 3")
	gen_accounts accounts 2000 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake GET /__fake/stats | jq .max_concurrent)" -eq 3 ]
}

@test "one request at a time by default" {
	fake POST /__fake/config '{"latency": 0.1}' >/dev/null
	cfg=$(accounts_upsert)
	gen_accounts accounts 600 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(fake GET /__fake/stats | jq .max_concurrent)" -eq 1 ]
}

@test "batch_period flushes while input stays open" {
	cfg=$(accounts_upsert)
	mkfifo "$BATS_TEST_TMPDIR/pipe"
	"$SFSINK" -c "$cfg" <"$BATS_TEST_TMPDIR/pipe" >"$BATS_TEST_TMPDIR/live.ndjson" 2>/dev/null &
	pid=$!
	exec 5>"$BATS_TEST_TMPDIR/pipe"
	echo '{"topic":"accounts","data":{"Name":"Live","External_Id__c":"L-1"}}' >&5
	# The result must arrive before the input ends.
	for i in $(seq 1 200); do
		[ -s "$BATS_TEST_TMPDIR/live.ndjson" ] && break
		sleep 0.025
	done
	got=$(cat "$BATS_TEST_TMPDIR/live.ndjson")
	exec 5>&-
	wait "$pid"
	[ "$(jq -r .status <<<"$got")" = ok ]
}

@test "503 is retried" {
	cfg=$(accounts_upsert "http:
  backoff:
    initial_interval: 10ms")
	gen_accounts accounts 3 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "times": 2, "action": "respond", "status": 503, "body": [{"message": "Service unavailable", "errorCode": "SERVER_UNAVAILABLE"}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(collections_requests | jq -c '[.[].status]')" = '[503,503,200]' ]
}

@test "daily limit stops the run" {
	cfg=$(accounts_upsert "max_in_flight: 1")
	gen_accounts accounts 500 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "skip": 1, "action": "respond", "status": 403, "body": [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	[ "$(jq -r .status "$OUT" | grep -c '^ok$')" -eq 200 ]
	[ "$(jq -r 'select(.status != "ok") | .status' "$OUT" | sort -u)" = not_processed ]
	[ "$(count_lines "$OUT")" -eq "$(jq -r '.line' "$OUT" | sort -un | wc -l)" ]
	grep -q "daily API request limit" "$ERR"
}

@test "dropped insert is unknown, never resent" {
	cfg=$(write_config <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
	)
	echo '{"topic":"contacts","data":{"LastName":"Once"}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "drop_after"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.status, .errors[0].code]' "$OUT")" = '["unknown","CONNECTION_LOST"]' ]
	[ "$(collections_requests | jq length)" -eq 1 ]
	[ "$(stored Contact | jq length)" -eq 1 ]
}

@test "dropped upsert is retried" {
	cfg=$(accounts_upsert "http:
  backoff:
    initial_interval: 10ms")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "drop_after"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(collections_requests | jq length)" -eq 2 ]
	[ "$(stored Account | jq length)" -eq 2 ]
}

@test "kcat records reach Salesforce" {
	cfg=$(accounts_upsert)
	printf '%s\n' '{"topic":"accounts","partition":1,"offset":41,"tstype":"create","ts":1,"broker":0,"key":"k","payload":"{\"Name\":\"K\",\"External_Id__c\":\"K-1\"}"}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.status, .kafka]' "$OUT")" = '["ok",{"partition":1,"offset":41}]' ]
	[ "$(stored Account | jq -r '.[0].Name')" = K ]
}

@test "no secret on stderr at trace level" {
	cfg=$(accounts_upsert "http:
  access_log_level: TRACE")
	gen_accounts accounts 3 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "expire_token"}]'
	run_sfsink -vvv -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	! grep -q 'sfsink-demo-secret' "$ERR"
	for token in $(fake_requests '^/services/data' | jq -r '.[].headers.Authorization // empty' | sed 's/^Bearer //' | sort -u); do
		! grep -qF "$token" "$ERR"
	done
	! grep -qi 'authorization' "$ERR"
	grep -q 'POST .*/services/oauth2/token' "$ERR"
}

# A 200 answer in which every record of a two-record request hit a row lock.
LOCKED='[{"success": false, "created": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record or 1 records: 001000000000001AAA", "fields": []}]}, {"success": false, "created": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record or 1 records: 001000000000002AAA", "fields": []}]}]'

@test "row lock is retried for upsert" {
	cfg=$(accounts_upsert "http:
  backoff:
    initial_interval: 10ms")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults "[{\"path\": \"composite/sobjects\", \"action\": \"respond\", \"status\": 200, \"body\": $LOCKED}]"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq length)" -eq 2 ]
	[ "$(collections_requests | jq -r '.[1].body | fromjson | .records | length')" -eq 2 ]
	[ "$(stored Account | jq length)" -eq 2 ]
}

@test "row lock retries end in failed" {
	cfg=$(accounts_upsert "http:
  backoff:
    initial_interval: 10ms
    max_retries: 2")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults "[{\"path\": \"composite/sobjects\", \"times\": -1, \"action\": \"respond\", \"status\": 200, \"body\": $LOCKED}]"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq length)" -eq 3 ]
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT" | sort -u)" = "failed UNABLE_TO_LOCK_ROW" ]
}

@test "row lock on insert is not retried" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: insert
	YAML
	)
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults "[{\"path\": \"composite/sobjects\", \"action\": \"respond\", \"status\": 200, \"body\": $LOCKED}]"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	[ "$(collections_requests | jq length)" -eq 1 ]
	[ "$(jq -r '.errors[0].code' "$OUT" | sort -u)" = UNABLE_TO_LOCK_ROW ]
}
