#!/usr/bin/env bats
# Shutdown: SIGTERM, a second signal, a closed stdout and a full disk.

load helpers

setup() {
	fake_start
}

# One record per request, one request at a time, so records queue up
# behind a slow first request.
one_by_one_config() {
	write_config "max_in_flight: 1
bulk_batch_size: 1
batch_period: 0s" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
}

# Wait until the fake is handling a request.
wait_for_request_in_flight() {
	local i
	for i in $(seq 1 400); do
		[ "$(fake GET /__fake/stats | jq .current)" -ge 1 ] && return 0
		sleep 0.025
	done
	return 1
}

@test "SIGTERM finishes requests in flight" {
	fake POST /__fake/config '{"latency": 1}' >/dev/null
	cfg=$(one_by_one_config)
	gen_accounts accounts 3 >"$BATS_TEST_TMPDIR/in.ndjson"
	"$SFSINK" -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for_request_in_flight
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	OUT="$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 143 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 .status)" = '"ok"' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 .status)" = '"not_processed"' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 3 .status)" = '"not_processed"' ]
	[[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '.errors[0].message')" == *"interrupted by SIGTERM"* ]]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 1 ]
	grep -q 'SIGTERM received: finishing requests in flight' "$BATS_TEST_TMPDIR/err"
}

@test "second signal stops at once" {
	fake POST /__fake/config '{"latency": 3}' >/dev/null
	cfg=$(one_by_one_config)
	gen_accounts accounts 3 >"$BATS_TEST_TMPDIR/in.ndjson"
	"$SFSINK" -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for_request_in_flight
	kill -INT "$pid"
	# Signals of one kind do not queue: send the second once the first
	# has been handled.
	for i in $(seq 1 400); do
		grep -q 'SIGINT received' "$BATS_TEST_TMPDIR/err" && break
		sleep 0.025
	done
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	OUT="$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 130 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	# The first request was still waiting for its response.
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 '[.status, .errors[0].code]')" = '["unknown","INTERRUPTED"]' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 .status)" = '"not_processed"' ]
}

@test "closed stdout ends the run quietly" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	gen_accounts accounts 3000 >"$BATS_TEST_TMPDIR/in.ndjson"
	set +e
	"$SFSINK" -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson" 2>"$BATS_TEST_TMPDIR/err" | head -n 1 >"$BATS_TEST_TMPDIR/first"
	codes=("${PIPESTATUS[@]}")
	set -e
	[ "${codes[0]}" -eq 141 ]
	[ "$(jq -r .status "$BATS_TEST_TMPDIR/first")" = ok ]
	! grep -q 'cannot write' "$BATS_TEST_TMPDIR/err"
}

@test "full disk is a fatal error" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	gen_accounts accounts 10 >"$BATS_TEST_TMPDIR/in.ndjson"
	run "$SFSINK" -c "$cfg" -o /dev/full "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"sfsink: cannot write results to /dev/full: No space left on device"* ]]
}
