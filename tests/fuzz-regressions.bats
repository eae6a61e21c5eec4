#!/usr/bin/env bats
# Inputs found by the libFuzzer harnesses of tests/fuzz, replayed through
# the sfsink binary against the fake org.  Each one once crashed, leaked
# or wrote a bad result line; each must now get a clean result.

load helpers

IN="$BATS_TEST_TMPDIR/in.ndjson"

setup() {
	fake_start
}

# bulk_config OPERATION: a bulk topic "t" for Account.
bulk_config() {
	write_config "bulk_poll_interval: 50ms" <<-YAML
	  - topic: t
	    sobject: Account
	    operation: $1
	    mode: bulk
	YAML
}

realtime_config() {
	write_config <<-YAML
	  - topic: t
	    sobject: Account
	    operation: insert
	YAML
}

# respond_csv FILE BYTES: answer the job's result file FILE with BYTES,
# given as printf(1) escapes so that they need not be UTF-8.
respond_csv() {
	local b64
	b64=$(printf "$2" | base64 -w 0)
	fake_faults "[{\"method\": \"GET\", \"path\": \"$1\$\", \"action\": \"respond\", \"status\": 200, \"headers\": {\"Content-Type\": \"text/csv\"}, \"body_base64\": \"$b64\"}]"
}

# Fail unless every line of $OUT is JSON in valid UTF-8.
assert_results_are_utf8_json() {
	"$PYTHON3" -c '
import json, sys
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    for n, line in enumerate(f, 1):
        json.loads(line)
' "$OUT"
}

@test "NUL byte between members" {
	cfg=$(realtime_config)
	printf '{"topic":"t","data":{"Name":"a"\000,"Phone":"1"}}\n' >"$IN"
	printf '{"topic":"t","data":{"Name":"a"}\000}\n' >>"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 1 ]
	# grep, and so count_records, takes a NUL byte for a line end.
	[ "$(count_lines "$OUT")" -eq 2 ]
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code, .errors[0].message]')" = '["rejected","INVALID_JSON","line contains a NUL byte at column 32"]' ]
	[ "$(result_of "$IN" 2 '[.status, .errors[0].code, .errors[0].message]')" = '["rejected","INVALID_JSON","line contains a NUL byte at column 33"]' ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 0 ]
}

@test "kcat partition beyond int32" {
	cfg=$(realtime_config)
	{
		echo '{"topic":"t","partition":1e110,"offset":7,"key":null,"payload":"{\"Name\":\"a\"}"}'
		echo '{"topic":"t","partition":0,"offset":7e19,"key":null,"payload":"{\"Name\":\"a\"}"}'
		echo '{"topic":"t","partition":-1,"offset":7,"key":null,"payload":"{\"Name\":\"a\"}"}'
		echo '{"topic":"t","partition":1.5,"offset":7,"key":null,"payload":"{\"Name\":\"a\"}"}'
	} >"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT" | sort -u)" = "rejected INVALID_PAYLOAD" ]
	[ "$(result_of "$IN" 1 '.errors[0].message')" = '"kcat envelope has no \"partition\" and \"offset\" that are integers from 0"' ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 0 ]
}

@test "result file naming a column twice" {
	cfg=$(bulk_config insert)
	respond_csv successfulResults '"sf__Id","sf__Created",Name,NAME\n"001000000000001AAA","true","a","b"\n'
	echo '{"topic":"t","data":{"Name":"a"}}' >"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .id]')" = '["ok","001000000000001AAA"]' ]
}

@test "result file naming sf__Error twice" {
	cfg=$(bulk_config insert)
	respond_csv successfulResults '"sf__Id","sf__Created",Name\n'
	respond_csv failedResults '"sf__Id","sf__Error","sf__Error",Name\n"","INVALID_FIELD:first:Name --","SECOND:second:--","a"\n'
	echo '{"topic":"t","data":{"Name":"a"}}' >"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code, .errors[0].message]')" = '["failed","INVALID_FIELD","first"]' ]
}

@test "sf__Error that is not UTF-8" {
	cfg=$(bulk_config insert)
	respond_csv successfulResults '"sf__Id","sf__Created",Name\n'
	respond_csv failedResults '"sf__Id","sf__Error",Name\n"","REQUIRED_FIELD_MISSING:caf\351 missing:Name --","a"\n'
	echo '{"topic":"t","data":{"Name":"a"}}' >"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	assert_results_are_utf8_json
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code, .errors[0].message, .errors[0].fields]')" = '["failed","REQUIRED_FIELD_MISSING","caf� missing",["Name"]]' ]
}

@test "sf__Id that is not UTF-8" {
	cfg=$(bulk_config insert)
	respond_csv successfulResults '"sf__Id","sf__Created",Name\n"001\377\376","true","a"\n'
	echo '{"topic":"t","data":{"Name":"a"}}' >"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	assert_results_are_utf8_json
	[ "$(result_of "$IN" 1 '[.status, .id]')" = '["ok","001��"]' ]
}

@test "error body that is not UTF-8" {
	cfg=$(realtime_config)
	b64=$(printf '<html>\377 gone</html>' | base64 -w 0)
	fake_faults "[{\"path\": \"composite/sobjects\", \"action\": \"respond\", \"status\": 404, \"headers\": {\"Content-Type\": \"text/html\"}, \"body_base64\": \"$b64\"}]"
	echo '{"topic":"t","data":{"Name":"a"}}' >"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	assert_results_are_utf8_json
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code, .errors[0].message]')" = '["failed","HTTP_404","<html>� gone</html>"]' ]
}

@test "error text cut inside a character" {
	cfg=$(realtime_config)
	# 1 + 2 * 400 bytes: the 512-byte message ends inside an "é".
	body=$("$PYTHON3" -c 'print("x" + "\u00e9" * 400, end="")')
	fake_faults "[{\"path\": \"composite/sobjects\", \"action\": \"respond\", \"status\": 404, \"headers\": {\"Content-Type\": \"text/plain\"}, \"body\": \"$body\"}]"
	echo '{"topic":"t","data":{"Name":"a"}}' >"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	assert_results_are_utf8_json
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code]')" = '["failed","HTTP_404"]' ]
	[[ "$(result_of "$IN" 1 '.errors[0].message')" == '"xéé'*'..."' ]]
}

@test "daily usage near the int64 limit" {
	cfg=$(realtime_config)
	fake POST /__fake/config '{"api_limit": 9223372036854775807, "api_usage": 9223372036854775000}' >/dev/null
	echo '{"topic":"t","data":{"Name":"a"}}' >"$IN"
	run_sfsink -c "$cfg" "$IN"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 .status)" = '"ok"' ]
	grep -q 'the org has used 922337203685477[0-9]* of its 9223372036854775807 daily API requests' "$ERR"
}

@test "Retry-After too large for nanoseconds" {
	cfg=$(realtime_config)
	fake_faults '[{"path": "composite/sobjects", "action": "respond", "status": 503, "headers": {"Retry-After": "1e300"}, "body": [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}]}]'
	echo '{"topic":"t","data":{"Name":"a"}}' >"$IN"
	OUT="$BATS_TEST_TMPDIR/results.ndjson"
	ERR="$BATS_TEST_TMPDIR/stderr"
	"$SFSINK" -v -c "$cfg" "$IN" >"$OUT" 2>"$ERR" &
	pid=$!
	# The retry is put off by a day; stop the run once it is.
	for i in $(seq 1 400); do
		grep -q 'retry 1 of 3 in 86400.0s' "$ERR" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.025
	done
	kill -TERM "$pid" 2>/dev/null || true
	status=0
	wait "$pid" || status=$?
	grep -q 'HTTP 503; retry 1 of 3 in 86400.0s' "$ERR"
	[ "$status" -eq 143 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .errors[0].code]')" = '["not_processed","RUN_STOPPED"]' ]
}
