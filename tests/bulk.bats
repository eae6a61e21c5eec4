#!/usr/bin/env bats
# Bulk API 2.0 ingest jobs against the local fake org.

load helpers

JOBS='/jobs/ingest'

setup() {
	fake_start --bulk-delay 0.05
	IN="$BATS_TEST_TMPDIR/in.ndjson"
}

# The CSV the fake received for job N (0 = first created).
job_csv() {
	fake GET /__fake/jobs | jq -r ".[${1:-0}].csv"
}

job_field() {
	fake GET /__fake/jobs | jq -r ".[${1:-0}].$2"
}

# Stored records of SOBJECT as JSON; numbers keep their text.
stored() {
	fake GET "/__fake/records/${1:-Account}"
}

# The stored value of FIELD of the record with Id ID, as raw JSON text.
stored_raw() {
	stored "${3:-Account}" | "$PYTHON3" -c '
import re, sys
text, rid, field = sys.stdin.read(), sys.argv[1], sys.argv[2]
rec = re.search(r"\{[^{}]*\"Id\": ?\"%s\"[^{}]*\}" % rid, text).group(0)
m = re.search(r"\"%s\": ?(\"(?:[^\"\\\\]|\\\\.)*\"|[^,}]+)" % field, rec)
print(m.group(1) if m else "absent")' "$1" "$2"
}

id_of_line() {
	result_of "$IN" "$1" .id | tr -d '"'
}

run_bulk() {
	run_sfsink -c "$1" "$IN"
}

@test "insert writes one job and maps ids" {
	cfg=$(bulk_config insert)
	records '{"Name":"A"}' '{"Name":"B"}' '{"Name":"C"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(fake GET /__fake/jobs | jq length)" -eq 1 ]
	job=$(job_field 0 id)
	[ "$(jq -r .job_id "$OUT" | sort -u)" = "$job" ]
	[ "$(jq -r .mode "$OUT" | sort -u)" = bulk ]
	for line in 1 2 3; do
		name=$(sed -n "${line}p" "$IN" | jq -r .data.Name)
		[ "$(stored_raw "$(id_of_line $line)" Name)" = "\"$name\"" ]
	done
	# Create, upload, close: the request bodies Salesforce documents.
	create=$(fake_requests "$JOBS\$" | jq -c '.[] | select(.method == "POST") | .body | fromjson')
	[ "$create" = '{"object":"Account","operation":"insert","contentType":"CSV","lineEnding":"LF","columnDelimiter":"COMMA"}' ]
	[ "$(fake_requests "$JOBS/$job/batches" | jq -r '.[0].headers | to_entries[] | select(.key | ascii_downcase == "content-type") | .value')" = text/csv ]
	[ "$(fake_requests "$JOBS/$job\$" | jq -r '.[] | select(.method == "PATCH") | .body')" = '{"state":"UploadComplete"}' ]
	[ "$(job_csv)" = "$(printf 'Name\nA\nB\nC')" ]
}

@test "csv quotes embedded newline" {
	cfg=$(bulk_config insert)
	records '{"Name":"N","Description":"line one\nline two"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name,Description\nN,"line one\nline two"')" ]
	[ "$(job_field 0 lineEnding)" = LF ]
	[ "$(stored_raw "$(id_of_line 1)" Description)" = '"line one\nline two"' ]
}

@test "csv quotes carriage return" {
	cfg=$(bulk_config insert)
	records '{"Name":"N","Description":"a\rb"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name,Description\nN,"a\rb"')" ]
	[ "$(stored_raw "$(id_of_line 1)" Description)" = '"a\rb"' ]
}

@test "csv with CR LF values uses CRLF jobs" {
	cfg=$(bulk_config insert)
	records '{"Name":"N","Description":"a\r\nb"}' '{"Name":"M"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_field 0 lineEnding)" = CRLF ]
	[ "$(job_csv)" = "$(printf 'Name,Description\r\nN,"a\r\nb"\r\nM,\r')" ]
	[ "$(stored_raw "$(id_of_line 1)" Description)" = '"a\r\nb"' ]
}

@test "csv doubles quotes" {
	cfg=$(bulk_config insert)
	records '{"Name":"say \"hi\""}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name\n"say ""hi"""')" ]
	[ "$(stored_raw "$(id_of_line 1)" Name)" = '"say \"hi\""' ]
}

@test "csv quotes comma" {
	cfg=$(bulk_config insert)
	records '{"Name":"Smith, John"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name\n"Smith, John"')" ]
	[ "$(stored_raw "$(id_of_line 1)" Name)" = '"Smith, John"' ]
}

@test "csv keeps leading and trailing spaces" {
	cfg=$(bulk_config insert)
	records '{"Name":"  pad  ","AccountNumber":"x "}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name,AccountNumber\n"  pad  ","x "')" ]
	[ "$(stored_raw "$(id_of_line 1)" Name)" = '"  pad  "' ]
	[ "$(stored_raw "$(id_of_line 1)" AccountNumber)" = '"x "' ]
}

@test "csv writes emoji as utf-8 without bom" {
	cfg=$(bulk_config insert)
	records '{"Name":"grin \ud83d\ude00"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name\ngrin \xf0\x9f\x98\x80')" ]
	[ "$(stored "" | jq -r '.[0].Name')" = "grin 😀" ]
}

@test "csv null clears, empty and missing keep" {
	cfg=$(bulk_config update)
	id=$(fake POST /__fake/records/Account '[{"Name":"Keep","Phone":"1","Website":"w","Description":"d"}]' | jq -r '.[0]')
	records "{\"Id\":\"$id\",\"Phone\":null,\"Website\":\"\"}"
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Id,Phone,Website\n%s,#N/A,' "$id")" ]
	[ "$(stored_raw "$id" Phone)" = null ]
	[ "$(stored_raw "$id" Website)" = '"w"' ]
	[ "$(stored_raw "$id" Description)" = '"d"' ]
	[ "$(id_of_line 1)" = "$id" ]
}

@test "csv keeps number text" {
	cfg=$(bulk_config insert)
	records '{"Name":"zero","NumberOfEmployees":0}' \
	    '{"Name":"neg","Score__c":-0.5}' \
	    '{"Name":"big","Big_Number__c":12345678901234567890}' \
	    '{"Name":"tiny","Score__c":1e-7}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name,NumberOfEmployees,Score__c,Big_Number__c\nzero,0,,\nneg,,-0.5,\nbig,,,12345678901234567890\ntiny,,1e-7,')" ]
	[ "$(stored_raw "$(id_of_line 1)" NumberOfEmployees)" = 0 ]
	[ "$(stored_raw "$(id_of_line 2)" Score__c)" = -0.5 ]
	[ "$(stored_raw "$(id_of_line 3)" Big_Number__c)" = 12345678901234567890 ]
	[ "$(stored_raw "$(id_of_line 4)" Score__c)" = 1e-7 ]
}

@test "csv writes booleans" {
	cfg=$(bulk_config insert)
	records '{"Name":"off","Active__c":false}' '{"Name":"on","Active__c":true}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name,Active__c\noff,false\non,true')" ]
	[ "$(stored_raw "$(id_of_line 1)" Active__c)" = false ]
	[ "$(stored_raw "$(id_of_line 2)" Active__c)" = true ]
}

@test "csv writes parent reference column" {
	cfg=$(bulk_config insert Contact)
	parent=$(fake POST /__fake/records/Account '[{"Name":"P","External_Id__c":"A1"}]' | jq -r '.[0]')
	records '{"LastName":"Kid","Account":{"attributes":{"type":"Account"},"External_Id__c":"A1"}}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'LastName,Account.External_Id__c\nKid,A1')" ]
	[ "$(stored_raw "$(id_of_line 1)" AccountId Contact)" = "\"$parent\"" ]
}

@test "csv joins multi-select array" {
	cfg=$(bulk_config insert)
	records '{"Name":"T","Tags__c":["Gold","Partner"]}' '{"Name":"E","Tags__c":[]}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name,Tags__c\nT,Gold;Partner\nE,#N/A')" ]
	[ "$(stored_raw "$(id_of_line 1)" Tags__c)" = '"Gold;Partner"' ]
	[ "$(stored_raw "$(id_of_line 2)" Tags__c)" = null ]
}

@test "csv rejects values it cannot write" {
	cfg=$(bulk_config insert)
	records '{"Name":"ok"}' \
	    '{"Name":"n","Tags__c":["Gold",1]}' \
	    '{"Name":"s","Tags__c":["Go;ld"]}' \
	    '{"Name":"o","Account":{"A":"1","B":"2"}}' \
	    '{"Name":"d","Account":{"A":{"B":"1"}}}' \
	    '{"Name":"x","name":"y"}' \
	    '{"Name":"#N/A"}' \
	    '{"Name":""}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 .status)" = '"ok"' ]
	for line in 2 3 4 5 6 7 8; do
		[ "$(result_of "$IN" $line .status)" = '"rejected"' ]
		[ "$(result_of "$IN" $line .job_id)" = null ]
	done
	[ "$(result_of "$IN" 2 '.errors[0].message')" = '"field \"Tags__c\" is an array with a value that is not a string; only a multi-select picklist (an array of strings) can be written"' ]
	result_of "$IN" 3 '.errors[0].message' | grep -q "containing ';'"
	result_of "$IN" 4 '.errors[0].message' | grep -q 'field \\"Account\\" is an object but not a parent reference'
	result_of "$IN" 5 '.errors[0].message' | grep -q 'field \\"Account\\" is an object but not a parent reference'
	result_of "$IN" 6 '.errors[0].message' | grep -q 'appears twice'
	result_of "$IN" 7 '.errors[0].message' | grep -q 'reads as null'
	[ "$(result_of "$IN" 8 '.errors[0].code')" = '"NO_FIELDS"' ]
	# Only the valid record reached the job.
	[ "$(job_csv)" = "$(printf 'Name\nok')" ]
}

@test "different field sets share one header" {
	cfg=$(bulk_config insert)
	records '{"Name":"a","Phone":"1"}' '{"name":"b","Website":"w"}' \
	    '{"AccountNumber":"n","NAME":"c"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Name,Phone,Website,AccountNumber\na,1,,\nb,,w,\nc,,,n')" ]
	[ "$(stored_raw "$(id_of_line 2)" Website)" = '"w"' ]
	[ "$(stored_raw "$(id_of_line 3)" AccountNumber)" = '"n"' ]
}

@test "2500 records make three jobs" {
	cfg=$(bulk_config upsert Account "bulk_batch_size: 1000")
	gen_accounts t 2500 >"$IN"
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(fake GET /__fake/jobs | jq -c '[.[].csv | split("\n") | length - 2] | sort')" = '[500,1000,1000]' ]
	[ "$(jq -r .job_id "$OUT" | sort -u | wc -l)" -eq 3 ]
	[ "$(jq -r .created "$OUT" | sort -u)" = true ]
	# Every line got the id of the record with its own external ID.
	stored | jq -r '.[] | "\(.External_Id__c) \(.Id)"' | sort >"$BATS_TEST_TMPDIR/want"
	jq -r '"ACC-\(.line) \(.id)"' "$OUT" | sort >"$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "max_concurrent_bulk_jobs is respected" {
	cfg=$(bulk_config upsert Account "$(printf 'bulk_batch_size: 10\nmax_concurrent_bulk_jobs: 2')")
	fake POST /__fake/config '{"bulk_delay": 0.3}' >/dev/null
	gen_accounts t 60 >"$IN"
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(fake GET /__fake/jobs | jq length)" -eq 6 ]
	[ "$(fake GET /__fake/stats | jq .max_open_jobs)" -eq 2 ]
}

@test "bulk_poll_interval spaces the polls" {
	cfg=$(bulk_config insert Account)
	sed -i 's/bulk_poll_interval: 50ms/bulk_poll_interval: 300ms/' "$cfg"
	fake POST /__fake/config '{"bulk_delay": 1}' >/dev/null
	records '{"Name":"slow"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	closed=$(fake_requests "$JOBS/$job\$" | jq '[.[] | select(.method == "PATCH")][0].time')
	polls=$(fake_requests "$JOBS/$job\$" | jq -c "[$closed] + [.[] | select(.method == \"GET\") | .time]")
	# Three to five polls for a one-second job, each at least 300ms after the last request.
	[ "$(jq 'length - 1' <<<"$polls")" -ge 3 ]
	[ "$(jq 'length - 1' <<<"$polls")" -le 5 ]
	[ "$(jq '[range(1; length) as $i | .[$i] - .[$i - 1]] | min >= 0.29' <<<"$polls")" = true ]
}

@test "failed job fails every record" {
	cfg=$(bulk_config insert)
	records '{"Name":"a","Bogus__c":"x"}' '{"Name":"b"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	[ "$(job_field 0 state)" = Failed ]
	for line in 1 2; do
		[ "$(result_of "$IN" $line '[.status, .job_id, .errors[0].code, .errors[0].message]' )" = "[\"failed\",\"$job\",\"InvalidBatch\",\"InvalidBatch : Field name not found : Bogus__c\"]" ]
	done
}

@test "job_fail fault fails the job's records" {
	cfg=$(bulk_config insert)
	fake_faults '[{"method": "POST", "path": "jobs/ingest$", "action": "job_fail", "error_message": "InvalidBatch : Failed on purpose"}]'
	records '{"Name":"a"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code, .errors[0].message]')" = '["failed","InvalidBatch","InvalidBatch : Failed on purpose"]' ]
	[ "$(stored | jq length)" -eq 0 ]
}

@test "shuffled row failures land on their lines" {
	cfg=$(bulk_config insert)
	long=$(printf 'x%.0s' $(seq 1 256))
	records '{"Name":"ok 1","NumberOfEmployees":1}' \
	    '{"NumberOfEmployees":2,"Phone":"555"}' \
	    '{"Name":"ok 3","NumberOfEmployees":3}' \
	    '{"Name":"bad number","NumberOfEmployees":"many"}' \
	    "{\"Name\":\"$long\"}" \
	    '{"Name":"bad date","Founded__c":"yesterday"}' \
	    '{"Name":"ok 7","NumberOfEmployees":7}' \
	    '{"Name":"bad datetime","Last_Sync__c":"noon"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	for line in 1 3 7; do
		[ "$(result_of "$IN" $line .status)" = '"ok"' ]
		[ "$(stored_raw "$(id_of_line $line)" NumberOfEmployees)" = "$line" ]
	done
	[ "$(result_of "$IN" 2 '[.status, .errors[0].code, .errors[0].fields]')" = '["failed","REQUIRED_FIELD_MISSING",["Name"]]' ]
	[ "$(result_of "$IN" 2 '.errors[0].message')" = '"Required fields are missing: [Name]"' ]
	[ "$(result_of "$IN" 4 '[.errors[0].code, .errors[0].fields]')" = '["INVALID_TYPE_ON_FIELD_IN_RECORD",["NumberOfEmployees"]]' ]
	result_of "$IN" 4 '.errors[0].message' | grep -q 'many'
	[ "$(result_of "$IN" 5 '.errors[0].code')" = '"STRING_TOO_LONG"' ]
	[ "$(result_of "$IN" 6 '[.errors[0].code, .errors[0].fields]')" = '["INVALID_TYPE_ON_FIELD_IN_RECORD",["Founded__c"]]' ]
	[ "$(result_of "$IN" 8 '[.errors[0].code, .errors[0].fields]')" = '["INVALID_TYPE_ON_FIELD_IN_RECORD",["Last_Sync__c"]]' ]
	[ "$(jq -r 'select(.status == "failed") | .job_id' "$OUT" | sort -u)" = "$(job_field 0 id)" ]
}

@test "insert matches values echoed as saved" {
	cfg=$(bulk_config insert)
	records '{"Name":"Same","AnnualRevenue":912260031,"Score__c":0.1}' \
	    '{"Name":"Same","AnnualRevenue":912260032,"Score__c":0.1}' \
	    '{"Name":"Same","AnnualRevenue":5,"Score__c":0.1}' \
	    '{"Name":"Same","AnnualRevenue":5,"Score__c":0.25,"Last_Sync__c":"2024-01-02T03:04:05+02:00"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	# The fake echoes saved values as Salesforce does: currency as a Java
	# double (9.12260031E8) and datetimes in UTC, so matching is by value.
	[ "$(stored_raw "$(id_of_line 1)" AnnualRevenue)" = 912260031 ]
	[ "$(stored_raw "$(id_of_line 2)" AnnualRevenue)" = 912260032 ]
	[ "$(stored_raw "$(id_of_line 3)" AnnualRevenue)" = 5 ]
	[ "$(stored_raw "$(id_of_line 4)" Score__c)" = 0.25 ]
	[ "$(jq -r .id "$OUT" | sort -u | wc -l)" -eq 4 ]
}

@test "identical inserts are ambiguous" {
	cfg=$(bulk_config insert)
	records '{"Name":"Twin"}' '{"Name":"Twin"}' '{"Name":"Solo"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 3 .status)" = '"ok"' ]
	for line in 1 2; do
		[ "$(result_of "$IN" $line '[.status, .errors[0].code]')" = '["unknown","AMBIGUOUS_RESULT"]' ]
	done
	grep -q '2 records have results that cannot be told apart' "$ERR"
}

@test "update matches shuffled rows by Id" {
	cfg=$(bulk_config update)
	ids=$(fake POST /__fake/records/Account '[{"Name":"a"},{"Name":"b"},{"Name":"c"},{"Name":"d"}]')
	id() { jq -r ".[$1]" <<<"$ids"; }
	records "{\"Id\":\"$(id 0)\",\"NumberOfEmployees\":10}" \
	    "{\"Id\":\"$(id 1)\",\"NumberOfEmployees\":\"x\"}" \
	    "{\"Id\":\"$(id 2)\",\"Name\":null}" \
	    "{\"Id\":\"$(id 3)\",\"NumberOfEmployees\":40}"
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	for line in 1 2 3 4; do
		[ "$(id_of_line $line)" = "$(id $((line - 1)))" ]
	done
	[ "$(result_of "$IN" 1 .status)" = '"ok"' ]
	[ "$(result_of "$IN" 2 '.errors[0].code')" = '"INVALID_TYPE_ON_FIELD_IN_RECORD"' ]
	[ "$(result_of "$IN" 3 '.errors[0].code')" = '"REQUIRED_FIELD_MISSING"' ]
	[ "$(result_of "$IN" 4 .status)" = '"ok"' ]
	[ "$(stored_raw "$(id 3)" NumberOfEmployees)" = 40 ]
}

@test "upsert reports created and updated" {
	cfg=$(bulk_config upsert)
	fake POST /__fake/records/Account '[{"Name":"Old","External_Id__c":"E-2"}]' >/dev/null
	records '{"Name":"New","External_Id__c":"E-1"}' '{"Name":"Renamed","External_Id__c":"e-2"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 .created)" = true ]
	[ "$(result_of "$IN" 2 .created)" = false ]
	[ "$(fake_requests "$JOBS\$" | jq -r '.[0].body | fromjson | .externalIdFieldName')" = External_Id__c ]
	[ "$(stored_raw "$(id_of_line 2)" Name)" = '"Renamed"' ]
}

@test "upload failure aborts the job" {
	cfg=$(bulk_config insert)
	fake_faults '[{"method": "PUT", "path": "batches$", "action": "respond", "status": 400, "body": [{"errorCode": "INVALIDJOBSTATE", "message": "upload refused"}]}]'
	records '{"Name":"a"}' '{"Name":"b"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	for line in 1 2; do
		[ "$(result_of "$IN" $line '[.status, .job_id, .errors[0].code, .errors[0].message]')" = "[\"failed\",\"$job\",\"INVALIDJOBSTATE\",\"uploading the job data failed with HTTP 400: upload refused\"]" ]
	done
	[ "$(fake_requests "$JOBS/$job\$" | jq -r '[.[] | select(.method == "PATCH") | .body] | join(" ")')" = '{"state":"Aborted"}' ]
	[ "$(job_field 0 state)" = Aborted ]
}

@test "create failure fails only its job" {
	cfg=$(bulk_config insert Account "bulk_batch_size: 2")
	fake_faults '[{"method": "POST", "path": "jobs/ingest$", "action": "respond", "status": 400, "body": [{"errorCode": "INVALIDJOB", "message": "no"}]}]'
	records '{"Name":"a"}' '{"Name":"b"}' '{"Name":"c"}' '{"Name":"d"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(jq -r 'select(.status == "failed") | .errors[0].code' "$OUT" | sort -u)" = INVALIDJOB ]
	[ "$(jq -r 'select(.status == "failed") | .job_id' "$OUT" | sort -u)" = null ]
	[ "$(jq -r .status "$OUT" | sort | uniq -c | tr -s ' ' | sed 's/^ //' | tr '\n' ' ')" = "2 failed 2 ok " ]
}

@test "close failure aborts and reports" {
	cfg=$(bulk_config insert)
	fake_faults '[{"method": "PATCH", "path": "jobs/ingest/", "action": "respond", "status": 400, "body": [{"errorCode": "INVALIDJOBSTATE", "message": "cannot close"}]}]'
	records '{"Name":"a"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code]')" = '["failed","INVALIDJOBSTATE"]' ]
	[ "$(job_field 0 state)" = Aborted ]
}

@test "upload connection loss is not_processed" {
	cfg=$(bulk_config insert Account "http:
  backoff:
    initial_interval: 10ms
    max_retries: 1")
	fake_faults '[{"method": "PUT", "path": "batches$", "action": "drop"}]'
	records '{"Name":"a"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code]')" = '["not_processed","CONNECTION_LOST"]' ] ||
	    [ "$(result_of "$IN" 1 '[.status, .errors[0].code]')" = '["not_processed","CONNECTION_FAILED"]' ]
	[ "$(job_field 0 state)" = Aborted ]
	[ "$(fake_requests 'batches$' | jq length)" -eq 1 ]
}

@test "result download failure leaves records unknown" {
	cfg=$(bulk_config insert)
	fake_faults '[{"method": "GET", "path": "successfulResults", "action": "respond", "status": 500, "times": -1, "body": [{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}]}]'
	records '{"Name":"a"}' '{"NumberOfEmployees":1}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	[ "$(result_of "$IN" 1 '[.status, .job_id, .errors[0].code]')" = "[\"unknown\",\"$job\",\"RESULTS_UNAVAILABLE\"]" ]
	result_of "$IN" 1 '.errors[0].message' | grep -q 'downloading successfulResults failed: HTTP 500'
	# The failed row could still be read.
	[ "$(result_of "$IN" 2 '.errors[0].code')" = '"REQUIRED_FIELD_MISSING"' ]
}

@test "aborted job leaves records not_processed" {
	cfg=$(bulk_config insert)
	fake POST /__fake/config '{"bulk_delay": 0.5}' >/dev/null
	fake_faults '[{"method": "GET", "path": "jobs/ingest/[^/]+$", "action": "job_abort"}]'
	records '{"Name":"a"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code]')" = '["not_processed","JOB_ABORTED"]' ]
}

@test "polling survives an expired token" {
	cfg=$(bulk_config insert)
	fake POST /__fake/config '{"bulk_delay": 0.3}' >/dev/null
	fake_faults '[{"method": "GET", "path": "jobs/ingest/[^/]+$", "skip": 1, "action": "expire_token"}]'
	records '{"Name":"a"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(fake_requests 'jobs/ingest/[^/]+$' | jq '[.[] | select(.status == 401)] | length')" -eq 1 ]
}

@test "delete uploads only Id" {
	cfg=$(bulk_config delete)
	ids=$(fake POST /__fake/records/Account '[{"Name":"a"},{"Name":"b"}]')
	records "{\"Id\":\"$(jq -r '.[0]' <<<"$ids")\",\"Name\":\"a\"}" "{\"Id\":\"$(jq -r '.[1]' <<<"$ids")\"}"
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_csv)" = "$(printf 'Id\n%s\n%s' "$(jq -r '.[0]' <<<"$ids")" "$(jq -r '.[1]' <<<"$ids")")" ]
	[ "$(stored | jq length)" -eq 0 ]
	[ "$(id_of_line 1)" = "$(jq -r '.[0]' <<<"$ids")" ]
}

@test "hardDelete removes records" {
	cfg=$(bulk_config hardDelete)
	ids=$(fake POST /__fake/records/Account '[{"Name":"a"},{"Name":"b"}]')
	records "{\"Id\":\"$(jq -r '.[1]' <<<"$ids")\"}"
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(job_field 0 operation)" = hardDelete ]
	[ "$(job_csv)" = "$(printf 'Id\n%s' "$(jq -r '.[1]' <<<"$ids")")" ]
	[ "$(fake GET '/__fake/records/Account?deleted=1' | jq -r '[.[].Id] | join(",")')" = "$(jq -r '.[0]' <<<"$ids")" ]
}

@test "realtime and bulk topics mix" {
	cfg=$(write_config "bulk_poll_interval: 50ms" <<-YAML
	  - topic: rt
	    sobject: Account
	    operation: insert
	  - topic: bk
	    sobject: Contact
	    operation: insert
	    mode: bulk
	YAML
	)
	printf '%s\n' '{"topic":"rt","data":{"Name":"R"}}' '{"topic":"bk","data":{"LastName":"B"}}' \
	    '{"topic":"rt","data":{"Name":"S"}}' '{"topic":"bk","data":{"LastName":"C"}}' >"$IN"
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(jq -r 'select(.topic == "rt") | [.mode, .job_id] | join(",")' "$OUT" | sort -u)" = realtime, ]
	[ "$(jq -r 'select(.topic == "bk") | .mode' "$OUT" | sort -u)" = bulk ]
	[ "$(jq -r 'select(.topic == "bk") | .job_id' "$OUT" | sort -u)" = "$(job_field 0 id)" ]
	[ "$(stored Account | jq length)" -eq 2 ]
	[ "$(stored Contact | jq length)" -eq 2 ]
}

@test "upload limit cuts a chunk into jobs" {
	cfg=$(bulk_config upsert)
	fake POST /__fake/config '{"bulk_max_upload": 200}' >/dev/null
	gen_accounts t 20 >"$IN"
	SFSINK_BULK_MAX_UPLOAD_BYTES=200 run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	jobs=$(fake GET /__fake/jobs)
	[ "$(jq length <<<"$jobs")" -ge 3 ]
	[ "$(jq '[.[].csv | utf8bytelength] | max <= 200' <<<"$jobs")" = true ]
	[ "$(jq '[.[].csv | split("\n") | length - 2] | add' <<<"$jobs")" -eq 20 ]
	# One after the other: each job is created after the previous one ended.
	[ "$(jq '[range(1; length) as $i | .[$i].created >= .[$i - 1].closed] | all' <<<"$jobs")" = true ]
}

@test "record missing from results is unknown" {
	cfg=$(bulk_config insert)
	fake_faults '[{"method": "GET", "path": "successfulResults", "action": "respond", "status": 200, "headers": {"Content-Type": "text/csv"}, "body": "\"sf__Id\",\"sf__Created\",Name\n\"001000000000001AAA\",\"true\",\"a\"\n"}]'
	records '{"Name":"a"}' '{"Name":"b"}'
	run_bulk "$cfg"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .id]')" = '["ok","001000000000001AAA"]' ]
	[ "$(result_of "$IN" 2 '[.status, .errors[0].code]')" = '["unknown","NO_RESULT_ROW"]' ]
	grep -q 'the result files have 1 successful and 0 failed rows, but Salesforce reported 2 processed and 0 failed' "$ERR"
}

@test "polling retries a 503" {
	cfg=$(bulk_config insert Account "http:
  backoff:
    initial_interval: 10ms")
	fake_faults '[{"method": "GET", "path": "jobs/ingest/[^/]+$", "action": "respond", "status": 503, "body": [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}]}]'
	records '{"Name":"a"}'
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(fake_requests 'jobs/ingest/[^/]+$' | jq '[.[] | select(.status == 503)] | length')" -eq 1 ]
}

@test "result files ignore the body size limit" {
	cfg=$(bulk_config upsert Account "http:
  http:
    max_response_body_bytes: 1500")
	# JobInfo answers fit in 1500 bytes; the results of 100 records do not.
	gen_accounts t 100 >"$IN"
	run_bulk "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(jq -r .status "$OUT" | sort -u)" = ok ]
}
