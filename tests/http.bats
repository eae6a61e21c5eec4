#!/usr/bin/env bats
# The http block against the local fake org and a real proxy: rate limit,
# back-off, size limits, timeouts, safe retries and the access log.

load helpers
load peers

COLLECTIONS='^/services/data/v[0-9.]+/composite/sobjects'

setup() {
	fake_start
}

teardown() {
	peers_teardown
}

# A config for upserts of accounts, with HTTP lines under `http:`.
upsert_config() {
	write_config "http:
$1" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
}

insert_config() {
	write_config "http:
$1" <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
}

collections_requests() {
	fake_requests "$COLLECTIONS"
}

# Seconds between request I and request J of the JSON list on stdin.
gap() {
	jq --argjson i "$1" --argjson j "$2" '.[$j].time - .[$i].time'
}

FAST_BACKOFF='  backoff:
    initial_interval: 10ms
    max_interval: 50ms'

@test "tps_limit spaces every request" {
	# bulk_batch_size 1 makes one request per record, max_in_flight lets
	# them all go at once, so only the limit keeps them apart.
	cfg=$(write_config "bulk_batch_size: 1
max_in_flight: 10
http:
  tps_limit: 5
  tps_burst: 1" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	gen_accounts accounts 6 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	all=$(fake_requests '^/services/')
	[ "$(jq length <<<"$all")" -eq 7 ]
	# One token at a time, 5 a second: 0.2 s between any two requests.
	for i in 1 2 3 4 5 6; do
		[ "$(gap $((i - 1)) "$i" <<<"$all" | jq '. >= 0.18')" = true ]
	done
	[ "$(gap 0 6 <<<"$all" | jq '. >= 1.15')" = true ]
}

@test "tps_burst lets a burst through" {
	cfg=$(write_config "bulk_batch_size: 1
max_in_flight: 10
http:
  tps_limit: 2
  tps_burst: 4" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	gen_accounts accounts 5 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	all=$(fake_requests '^/services/')
	# The token request and three calls use the burst of 4; the next two
	# wait 0.5 s each.
	[ "$(gap 0 3 <<<"$all" | jq '. < 0.4')" = true ]
	[ "$(gap 3 4 <<<"$all" | jq '. >= 0.45')" = true ]
	[ "$(gap 4 5 <<<"$all" | jq '. >= 0.45')" = true ]
}

@test "429 waits for Retry-After" {
	cfg=$(upsert_config "$FAST_BACKOFF")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "respond", "status": 429, "headers": {"Retry-After": "1"}, "body": [{"message": "slow down", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]}]'
	run_sfsink -v -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	reqs=$(collections_requests)
	[ "$(jq -c '[.[].status]' <<<"$reqs")" = '[429,200]' ]
	# Retry-After (1 s) wins over initial_interval (10 ms).
	[ "$(gap 0 1 <<<"$reqs" | jq '. >= 0.95')" = true ]
	grep -q 'HTTP 429; retry 1 of 3 in 1.0s' "$ERR"
}

@test "503 retries end in failed" {
	cfg=$(upsert_config "$FAST_BACKOFF
    max_retries: 2")
	gen_accounts accounts 3 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "times": -1, "action": "respond", "status": 503, "body": [{"message": "Server is down for maintenance", "errorCode": "SERVER_UNAVAILABLE"}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq length)" -eq 3 ]
	[ "$(jq -c '[.status, .errors[0].code, .errors[0].message]' "$OUT" | sort -u)" = '["failed","SERVER_UNAVAILABLE","Server is down for maintenance"]' ]
}

@test "concurrent request limit is retried" {
	cfg=$(upsert_config "$FAST_BACKOFF")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "times": 2, "action": "respond", "status": 403, "body": [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq -c '[.[].status]')" = '[403,403,200]' ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 2 ]
}

@test "daily limit is not retried" {
	cfg=$(upsert_config "$FAST_BACKOFF")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "respond", "status": 403, "body": [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq length)" -eq 1 ]
	[ "$(jq -r .status "$OUT" | sort -u)" = not_processed ]
	grep -q "daily API request limit is exceeded" "$ERR"
}

@test "usage near the daily limit warns once" {
	fake POST /__fake/config '{"api_limit": 100, "api_usage": 95}' >/dev/null
	cfg=$(write_config "bulk_batch_size: 1" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(grep -c 'warning: the org has used 9[67] of its 100 daily API requests' "$ERR")" -eq 1 ]
}

@test "500 is retried for upsert only" {
	cfg=$(upsert_config "$FAST_BACKOFF")
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "method": "PATCH", "action": "respond", "status": 500, "body": [{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq -c '[.[].status]')" = '[500,200]' ]

	cfg=$(insert_config "$FAST_BACKOFF")
	echo '{"topic":"contacts","data":{"LastName":"Once"}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "method": "POST", "action": "respond", "status": 500, "body": [{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}]}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake_requests "$COLLECTIONS" | jq '[.[] | select(.method == "POST")] | length')" -eq 1 ]
	[ "$(jq -c '[.status, .errors[0].code]' "$OUT")" = '["unknown","UNKNOWN_EXCEPTION"]' ]
}

@test "connection dropped before the work" {
	# An insert that may have arrived is never sent again.
	cfg=$(insert_config "$FAST_BACKOFF")
	echo '{"topic":"contacts","data":{"LastName":"Once"}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "drop"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq length)" -eq 1 ]
	[ "$(jq -c '[.status, .errors[0].code]' "$OUT")" = '["unknown","CONNECTION_LOST"]' ]
	[[ "$(jq -r '.errors[0].message' "$OUT")" == *"may or may not have been written"* ]]

	# An upsert is sent again and succeeds.
	cfg=$(upsert_config "$FAST_BACKOFF")
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects/Account", "action": "drop"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake_requests 'composite/sobjects/Account' | jq -c '[.[].status]')" = '[null,200]' ]
}

@test "token request is retried" {
	cfg=$(upsert_config "$FAST_BACKOFF")
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "oauth2/token", "action": "drop"}, {"path": "oauth2/token", "skip": 1, "action": "respond", "status": 503, "body": "unavailable"}]'
	run_sfsink -v -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake_requests 'oauth2/token' | jq -c '[.[].status]')" = '[null,503,200]' ]
	[ "$(grep -c 'token request to .*; retry [12] of 3' "$ERR")" -eq 2 ]
}

@test "max_retries exhausted on the token request" {
	cfg=$(upsert_config "$FAST_BACKOFF
    max_retries: 1")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "oauth2/token", "times": -1, "action": "respond", "status": 503, "body": "unavailable"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake_requests 'oauth2/token' | jq length)" -eq 2 ]
	[ "$(jq -r .status "$OUT" | sort -u)" = not_processed ]
	grep -q 'token request to .* failed with HTTP 503: unavailable' "$ERR"
}

@test "long response body is cut with a clear error" {
	cfg=$(upsert_config "$FAST_BACKOFF
  http:
    max_response_body_bytes: 1000")
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	body=$(printf '%02000d' 0)
	fake_faults "[{\"path\": \"composite/sobjects\", \"action\": \"respond\", \"status\": 200, \"body\": \"$body\"}]"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	# The same answer would come again, so it is not retried.
	[ "$(collections_requests | jq length)" -eq 1 ]
	[ "$(jq -r .status "$OUT")" = unknown ]
	[[ "$(jq -r '.errors[0].message' "$OUT")" == *"response body longer than http.http.max_response_body_bytes (1000 bytes); the response was cut"* ]]
}

@test "long response headers fail the request" {
	cfg=$(upsert_config "$FAST_BACKOFF
  http:
    max_response_header_bytes: 2048")
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	big=$(printf 'x%.0s' $(seq 1 3000))
	fake_faults "[{\"path\": \"composite/sobjects\", \"action\": \"respond\", \"status\": 200, \"headers\": {\"X-Padding\": \"$big\"}, \"body\": []}]"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq length)" -eq 1 ]
	[[ "$(jq -r '.errors[0].message' "$OUT")" == *"response headers longer than http.http.max_response_header_bytes (2048 bytes)"* ]]
}

@test "response_header_timeout ends a slow answer" {
	cfg=$(upsert_config "$FAST_BACKOFF
  timeout: 10s
  http:
    response_header_timeout: 300ms")
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "delay", "seconds": 2}]'
	start=$(date +%s.%N)
	run_sfsink -v -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	end=$(date +%s.%N)
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q 'no response headers after the request was sent within http.http.response_header_timeout (300ms); retry 1 of 3' "$ERR"
	[ "$(collections_requests | jq length)" -eq 2 ]
	# sfsink did not wait for the 2 s answer.
	awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s < 1.8) }'
}

@test "timeout bounds the whole request" {
	cfg=$(insert_config "$FAST_BACKOFF
  timeout: 300ms")
	echo '{"topic":"contacts","data":{"LastName":"Slow"}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "delay", "seconds": 2}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT")" = unknown ]
	[[ "$(jq -r '.errors[0].message' "$OUT")" == *"timed out after 30"*" milliseconds"* ]]
}

@test "proxy_url carries plain HTTP" {
	require_programs tinyproxy
	tinyproxy_start
	cfg=$(upsert_config "  proxy_url: $PROXY_URL")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q "Request (file descriptor [0-9]*): POST $FAKE_URL/services/oauth2/token" "$PROXY_LOG"
	grep -q "Request (file descriptor [0-9]*): PATCH $FAKE_URL/services/data/v65.0/composite/sobjects/Account/External_Id__c" "$PROXY_LOG"
	# The fake saw the requests arrive through the proxy.
	[ "$(fake_requests "$COLLECTIONS" | jq length)" -eq 1 ]
}

@test "access log redacts every secret" {
	cfg=$(upsert_config "  access_log_level: TRACE
  access_log_body_limit: 1000000")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "expire_token"}]'
	run_sfsink -vvv -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	# Bodies and headers are there ...
	grep -q 'trace: > body: grant_type=client_credentials&client_id=sfsink-demo&client_secret=\[redacted\]' "$ERR"
	grep -q 'trace: < body: {"access_token":"\[redacted\]"' "$ERR"
	grep -q 'trace: > Authorization: \[redacted\]' "$ERR"
	grep -q 'trace: < Sforce-Limit-Info: api-usage=' "$ERR"
	grep -q '"External_Id__c":"ACC-2"' "$ERR"
	# ... and no secret is.
	! grep -q 'sfsink-demo-secret' "$ERR"
	tokens=$(fake_requests '^/services/data' | jq -r '.[].headers.Authorization // empty' | sed 's/^Bearer //' | sort -u)
	[ "$(wc -l <<<"$tokens")" -eq 2 ]
	for token in $tokens; do
		! grep -qF "$token" "$ERR"
	done
}

@test "access log cuts bodies at the limit" {
	# The limit ends the token request's body in the middle of the secret.
	prefix='grant_type=client_credentials&client_id=sfsink-demo&client_secret='
	cfg=$(upsert_config "  access_log_level: DEBUG
  access_log_body_limit: $((${#prefix} + 6))")
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -vv -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -qx "sfsink: debug: > body: ${prefix}\[redacted\]" "$ERR"
	grep -qx 'sfsink: debug: > body: \[12 more bytes not logged\]' "$ERR"
	grep -q '^sfsink: debug: > body: {"allOrNone":false,"records":\[{"attributes"' "$ERR"
	[ "$(grep -c '^sfsink: debug: > body: \[[0-9]* more bytes not logged\]$' "$ERR")" -eq 2 ]
	! grep -q 'client_secret=sfsink' "$ERR"
}

# ---------------------------------------------------------------------------
# Connection cache and request bodies: idle_conn_timeout, max_idle_conns,
# max_idle_conns_per_host, expect_continue_timeout, h2.write_byte_timeout.
# The fake numbers the client connections in its request log (`connection`)
# and logs how long each body took to start (`body_wait`).

# The connection numbers of the sObject Collections requests, as a JSON list.
collections_connections() {
	collections_requests | jq -c '[.[].connection]'
}

# Feed the file $1, wait $2 seconds, then feed the file $3: two batches
# that sfsink sends apart.
feed_with_pause() {
	cat "$1"
	sleep "$2"
	cat "$3"
}

# run_paused_pair CONFIG: two upserts 2.5 s apart, each its own request;
# sets conns to the JSON list of their connection numbers.
run_paused_pair() {
	gen_accounts accounts 1 A >"$BATS_TEST_TMPDIR/a.ndjson"
	gen_accounts accounts 1 B >"$BATS_TEST_TMPDIR/b.ndjson"
	run_sfsink -c "$1" < <(feed_with_pause "$BATS_TEST_TMPDIR/a.ndjson" 2.5 "$BATS_TEST_TMPDIR/b.ndjson")
	[ "$status" -eq 0 ]
	[ "$(count_lines "$OUT")" -eq 2 ]
	conns=$(collections_connections)
	[ "$(jq length <<<"$conns")" -eq 2 ]
}

@test "idle_conn_timeout drops an idle connection" {
	# libcurl 7.88 compares whole seconds of idle time, so with 1s a
	# connection idle for 1.6 s is still reused: the pause is 2.5 s.
	cfg=$(upsert_config "  http:
    idle_conn_timeout: 1s")
	run_paused_pair "$cfg"
	[ "$(jq '.[0] != .[1]' <<<"$conns")" = true ]
}

@test "idle connection reused by default" {
	# The default idle_conn_timeout is 1m30s.
	cfg=$(upsert_config "$FAST_BACKOFF")
	run_paused_pair "$cfg"
	[ "$(jq '.[0] == .[1]' <<<"$conns")" = true ]
}

# burst_config HTTP_LINES: one request per record, up to 4 at once, with
# HTTP_LINES under http.http.
burst_config() {
	write_config "bulk_batch_size: 1
max_in_flight: 4
http:
  http:
$1" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
}

# run_two_bursts CONFIG: two bursts of 4 records, 1.5 s apart.  Each
# request takes 0.5 s at the fake, so each burst has 4 requests in flight.
run_two_bursts() {
	gen_accounts accounts 4 A >"$BATS_TEST_TMPDIR/a.ndjson"
	gen_accounts accounts 4 B >"$BATS_TEST_TMPDIR/b.ndjson"
	fake POST /__fake/config '{"latency": 0.5}' >/dev/null
	run_sfsink -c "$1" < <(feed_with_pause "$BATS_TEST_TMPDIR/a.ndjson" 1.5 "$BATS_TEST_TMPDIR/b.ndjson")
}

# Check that both bursts ran as planned: 8 results, 8 requests, 4 in
# flight at once, 4 connections in the first burst.
assert_two_bursts() {
	[ "$status" -eq 0 ]
	[ "$(count_lines "$OUT")" -eq 8 ]
	[ "$(collections_requests | jq length)" -eq 8 ]
	[ "$(fake GET /__fake/stats | jq .max_concurrent)" -eq 4 ]
	[ "$(collections_connections | jq '.[0:4] | unique | length')" -eq 4 ]
}

# The number of connections of the first burst that the second burst used.
reused_connections() {
	collections_connections | jq '.[0:4] as $first | .[4:8] | unique | map(select(. as $c | $first | index($c))) | length'
}

@test "max_idle_conns_per_host 1 keeps one connection" {
	cfg=$(burst_config "    max_idle_conns_per_host: 1")
	run_two_bursts "$cfg"
	assert_two_bursts
	[ "$(reused_connections)" -eq 1 ]
}

@test "max_idle_conns_per_host 8 keeps a burst's connections" {
	cfg=$(burst_config "    max_idle_conns_per_host: 8")
	run_two_bursts "$cfg"
	assert_two_bursts
	[ "$(reused_connections)" -eq 4 ]
}

@test "max_idle_conns caps the cache when smaller" {
	cfg=$(burst_config "    max_idle_conns: 2
    max_idle_conns_per_host: 8")
	run_two_bursts "$cfg"
	assert_two_bursts
	[ "$(reused_connections)" -eq 2 ]
}

@test "max_idle_conns_per_host 0 keeps CPUs + 1" {
	cfg=$(burst_config "    max_idle_conns_per_host: 0")
	want=$(($(getconf _NPROCESSORS_ONLN) + 1))
	[ "$want" -le 4 ] || want=4
	run_two_bursts "$cfg"
	assert_two_bursts
	[ "$(reused_connections)" -eq "$want" ]
}

# big_accounts: 200 upserts of about 6 KB each, one Collections request
# of more than 1 MiB.
big_accounts() {
	"$PYTHON3" -c '
import json
text = "d" * 6000
for i in range(1, 201):
    print(json.dumps({"topic": "accounts", "data": {"Name": "Account %d" % i,
        "External_Id__c": "ACC-%d" % i, "Description": text}}))
'
}

@test "Expect: 100-continue only over 1 MiB" {
	cfg=$(upsert_config "$FAST_BACKOFF")
	gen_accounts accounts 1 >"$BATS_TEST_TMPDIR/small.ndjson"
	big_accounts >"$BATS_TEST_TMPDIR/big.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/small.ndjson"
	[ "$status" -eq 0 ]
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/big.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/big.ndjson"

	reqs=$(collections_requests)
	[ "$(jq length <<<"$reqs")" -eq 2 ]
	[ "$(jq -r '.[0].method' <<<"$reqs")" = PATCH ]
	[ "$(jq -r '.[0].headers.Expect' <<<"$reqs")" = null ]
	[ "$(jq '.[1].body | length > 1048576' <<<"$reqs")" = true ]
	[ "$(jq -r '.[1].headers.Expect' <<<"$reqs")" = 100-continue ]
	[ "$(jq '.[1].body_wait < 1' <<<"$reqs")" = true ]
	[ "$(fake_requests 'oauth2/token' | jq -r '.[0].headers.Expect')" = null ]
}

@test "expect_continue_timeout 3s waits for 100 Continue" {
	cfg=$(upsert_config "  http:
    expect_continue_timeout: 3s")
	big_accounts >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "no_continue"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake GET /__fake/faults | jq '.[0].fired')" -eq 1 ]
	reqs=$(collections_requests)
	[ "$(jq -r '.[0].headers.Expect' <<<"$reqs")" = 100-continue ]
	[ "$(jq '.[0].body_wait >= 2.5' <<<"$reqs")" = true ]
	[ "$(jq '.[0].body_wait < 5' <<<"$reqs")" = true ]
}

@test "expect_continue_timeout 200ms sends the body early" {
	cfg=$(upsert_config "  http:
    expect_continue_timeout: 200ms")
	big_accounts >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "composite/sobjects", "action": "no_continue"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake GET /__fake/faults | jq '.[0].fired')" -eq 1 ]
	reqs=$(collections_requests)
	[ "$(jq '.[0].body_wait >= 0.15' <<<"$reqs")" = true ]
	[ "$(jq '.[0].body_wait < 1.5' <<<"$reqs")" = true ]
}

@test "h2.write_byte_timeout ends a stalled upload" {
	require_programs nginx openssl
	PKI="$BATS_TEST_TMPDIR/pki"
	make_pki "$PKI"
	nginx_start "$(nginx_streaming_front)"
	# One bulk job of about 30 MB: batch_period waits for all 1000 records.
	# The fake stops reading the upload for 30 s, so once the buffers on
	# the way fill (about 4 MB on Linux loopback) no byte moves.
	cfg=$(FAKE_URL=$NGINX_URL write_config "batch_period: 10s
bulk_batch_size: 1000
bulk_poll_interval: 50ms
http:
  timeout: 60s
  backoff:
    initial_interval: 10ms
    max_retries: 1
  tls:
    enabled: true
    root_cas_file: $PKI/ca.pem
  http:
    h2:
      write_byte_timeout: 1s" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    mode: bulk
	    external_id_field: External_Id__c
	YAML
	)
	"$PYTHON3" -c '
import json
text = "d" * 30000
for i in range(1, 1001):
    print(json.dumps({"topic": "accounts", "data": {"Name": "Account %d" % i,
        "External_Id__c": "ACC-%d" % i, "Description": text}}))
' >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults '[{"path": "/batches$", "action": "stall_body", "seconds": 30}]'
	start=$(date +%s.%N)
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	end=$(date +%s.%N)
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q 'no request bytes written within http.http.h2.write_byte_timeout (1s)' "$ERR"
	[ "$(fake GET /__fake/jobs | jq length)" -eq 1 ]
	# The job was aborted before it ran, so no record was written.
	[ "$(jq -r .status "$OUT" | sort -u)" = not_processed ]
	[[ "$(jq -r '.errors[0].message' "$OUT" | sort -u)" == *"no request bytes written within http.http.h2.write_byte_timeout (1s)"* ]]
	grep -q '^PUT /services/data/v65.0/jobs/ingest/[0-9A-Za-z]*/batches HTTP/2.0 ' "$NGINX_LOG"
	# sfsink gave up long before the fake read the upload.
	awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s < 15) }'
}

# ---------------------------------------------------------------------------
# Connection and transfer keys against real sockets: disable_keep_alives,
# max_conns_per_host, disable_compression, tcp.connect_timeout,
# write_buffer_size and read_buffer_size.  The buffer tests read sfsink's
# socket calls with strace.

# sequential_config HTTP_LINES: one request per record, one at a time, with
# HTTP_LINES under http.http.
sequential_config() {
	write_config "bulk_batch_size: 1
max_in_flight: 1
http:
  http:
$1" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
}

# The number of distinct connections that carried the requests matching
# REGEX.
distinct_connections() {
	fake_requests "$1" | jq '[.[].connection] | unique | length'
}

@test "keep-alive reuses one connection by default" {
	# Four requests one after the other find the connection of the one before.
	cfg=$(sequential_config "")
	gen_accounts accounts 4 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq length)" -eq 4 ]
	[ "$(distinct_connections "$COLLECTIONS")" -eq 1 ]
}

@test "disable_keep_alives opens a connection per request" {
	# The token request and four calls each get a connection of their own.
	cfg=$(sequential_config "    disable_keep_alives: true")
	gen_accounts accounts 4 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake_requests '^/services/' | jq length)" -eq 5 ]
	[ "$(distinct_connections '^/services/')" -eq 5 ]
}

# run_burst CONFIG: one burst of 4 records, each request held 0.5 s at the
# fake, so up to 4 requests overlap.
run_burst() {
	gen_accounts accounts 4 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake POST /__fake/config '{"latency": 0.5}' >/dev/null
	run_sfsink -c "$1" "$BATS_TEST_TMPDIR/in.ndjson"
}

@test "max_conns_per_host 2 caps connections" {
	# Plain http is HTTP/1.1, one request per connection at a time, so two
	# connections carry at most two requests at once and the others wait.
	cfg=$(burst_config "    max_conns_per_host: 2")
	run_burst "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(collections_requests | jq length)" -eq 4 ]
	[ "$(fake GET /__fake/stats | jq .max_concurrent)" -eq 2 ]
	[ "$(distinct_connections "$COLLECTIONS")" -le 2 ]
}

@test "default max_conns_per_host lets a burst through" {
	# The default of 64 connections lets all 4 requests run at once.
	cfg=$(burst_config "")
	run_burst "$cfg"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake GET /__fake/stats | jq .max_concurrent)" -eq 4 ]
	[ "$(distinct_connections "$COLLECTIONS")" -eq 4 ]
}

# Print a fault rule that answers the Collections request with the results
# for Ids $1 and $2 (created), compressed with gzip.
gzip_results_rule() {
	"$PYTHON3" - "$1" "$2" <<-'PY'
	import base64, gzip, json, sys
	results = [{"id": i, "success": True, "errors": [], "created": True}
	           for i in sys.argv[1:]]
	body = base64.b64encode(gzip.compress(json.dumps(results).encode())).decode()
	print(json.dumps([{"path": "composite/sobjects", "action": "respond",
	                   "status": 200, "headers": {"Content-Encoding": "gzip"},
	                   "body_base64": body}]))
	PY
}

@test "gzip response decoded by default" {
	# The Ids in the results exist only inside the compressed body.
	cfg=$(upsert_config "$FAST_BACKOFF")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	fake_faults "$(gzip_results_rule 001000000000GZ1AAA 001000000000GZ2AAA)"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake GET /__fake/faults | jq '.[0].fired')" -eq 1 ]
	[ "$(fake_requests 'oauth2/token' | jq -r '.[0].headers["Accept-Encoding"]')" = gzip ]
	[ "$(collections_requests | jq -r '.[0].headers["Accept-Encoding"]')" = gzip ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 '[.status, .id]')" = '["ok","001000000000GZ1AAA"]' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 '[.status, .id]')" = '["ok","001000000000GZ2AAA"]' ]
}

@test "disable_compression sends no Accept-Encoding" {
	# The fake answers uncompressed, so the records are written as usual.
	cfg=$(upsert_config "  http:
    disable_compression: true")
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake_requests 'oauth2/token' | jq '.[0].headers | has("Accept-Encoding")')" = false ]
	[ "$(collections_requests | jq '.[0].headers | has("Accept-Encoding")')" = false ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 2 ]
}

# listener_start: a listener on 127.0.0.1 with a listen backlog of 0 that
# never accepts.  It fills its own accept queue with connections until one
# does not complete within 0.3 s, because Linux drops a SYN to a listener
# whose accept queue is full (tcp_conn_request in net/ipv4/tcp_input.c).
# A connect to it then hangs.  Sets LISTENER_URL and LISTENER_PID.  The
# listener exits by itself after 30 s, in case the test stops early.
listener_start() {
	local url_file="$BATS_TEST_TMPDIR/listener.url" i
	: >"$url_file"
	"$PYTHON3" - >"$url_file" 2>"$BATS_TEST_TMPDIR/listener.log" 3>&- <<-'PY' &
	import select, signal, socket, sys
	signal.alarm(30)
	server = socket.socket()
	server.bind(("127.0.0.1", 0))
	server.listen(0)
	address = server.getsockname()
	fillers = []
	for _ in range(16):
	    client = socket.socket()
	    client.setblocking(False)
	    client.connect_ex(address)
	    fillers.append(client)
	    if not select.select([], [client], [], 0.3)[1]:
	        print("http://127.0.0.1:%d" % address[1], flush=True)
	        signal.pause()
	sys.exit("connects to a listener with a full accept queue still complete")
	PY
	LISTENER_PID=$!
	for i in $(seq 1 400); do
		if grep -q '^http://' "$url_file"; then
			LISTENER_URL=$(head -n 1 "$url_file")
			return 0
		fi
		kill -0 "$LISTENER_PID" 2>/dev/null || break
		sleep 0.025
	done
	wait "$LISTENER_PID" 2>/dev/null || true
	skip "no hanging connect on loopback: $(cat "$BATS_TEST_TMPDIR/listener.log")"
}

listener_stop() {
	kill "$LISTENER_PID" 2>/dev/null || true
	wait "$LISTENER_PID" 2>/dev/null || true
}

@test "connect_timeout ends a hanging connect" {
	# A token from the config needs no token request, so the first connect
	# is the Collections request's, to a listener that drops its SYNs.
	listener_start
	cfg="$BATS_TEST_TMPDIR/sfsink.yaml"
	cat >"$cfg" <<-YAML
	org_url: $LISTENER_URL
	batch_period: 100ms
	auth:
	  method: access_token
	  access_token: 00D000000000001!token-of-the-test
	  instance_url: $LISTENER_URL
	http:
	  timeout: 20s
	  backoff:
	    max_retries: 0
	  tcp:
	    connect_timeout: 1s
	topic_mappings:
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	chmod 600 "$cfg"
	gen_accounts accounts 3 >"$BATS_TEST_TMPDIR/in.ndjson"
	start=$(date +%s.%N)
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	end=$(date +%s.%N)
	listener_stop
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -c '[.status, .errors[0].code, .errors[0].message]' "$OUT" | sort -u)" = '["not_processed","CONNECTION_FAILED","TCP connection not established within http.tcp.connect_timeout (1s); nothing was sent"]' ]
	# sfsink waited for the connect timeout, not for http.timeout (20 s).
	awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s >= 0.9 && e - s < 4) }'
}

# run_traced CONFIG INPUT: run sfsink as run_sfsink does, under strace,
# which logs every sendto and recvfrom call to $TRACE.  libcurl 7.88 sends
# and receives on its sockets with send() and recv(), which glibc makes as
# these system calls.  Skips when strace is missing or may not trace.
run_traced() {
	require_programs strace
	strace -f -o /dev/null true 2>/dev/null ||
	    skip "strace cannot trace a process here (ptrace not permitted)"
	TRACE="$BATS_TEST_TMPDIR/strace.log"
	OUT="$BATS_TEST_TMPDIR/results.ndjson"
	ERR="$BATS_TEST_TMPDIR/stderr"
	status=0
	# LeakSanitizer cannot run under ptrace, so a sanitizer build checks
	# no leaks here.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -e trace=sendto,recvfrom -s 0 -o "$TRACE" \
	    "$SFSINK" -c "$1" "$2" >"$OUT" 2>"$ERR" || status=$?
}

# The largest length that a SYSCALL (sendto or recvfrom) of $TRACE asked for.
max_requested_length() {
	sed -En "s/.*$1\([0-9]+, \"\"(\.\.\.)?, ([0-9]+),.*/\2/p" "$TRACE" |
	    sort -n | tail -n 1
}

# The number of bytes that sendto calls of $TRACE sent.
bytes_sent() {
	sed -En 's/.*sendto\(.*\) = ([0-9]+)$/\1/p' "$TRACE" |
	    awk '{ n += $1 } END { print n + 0 }'
}

@test "write_buffer_size 4096 sends 16384 bytes at most" {
	# libcurl sends an upload body one upload buffer at a time, and sfsink
	# raises 4096 to libcurl's minimum buffer of 16384 bytes.
	cfg=$(upsert_config "  http:
    write_buffer_size: 4096")
	big_accounts >"$BATS_TEST_TMPDIR/in.ndjson"
	run_traced "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(bytes_sent)" -gt 1048576 ]
	[ "$(max_requested_length sendto)" -eq 16384 ]
}

@test "write_buffer_size 1048576 sends 1 MiB at once" {
	# The body of more than 1 MiB fills the whole buffer once.
	cfg=$(upsert_config "  http:
    write_buffer_size: 1048576")
	big_accounts >"$BATS_TEST_TMPDIR/in.ndjson"
	run_traced "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(bytes_sent)" -gt 1048576 ]
	[ "$(max_requested_length sendto)" -eq 1048576 ]
}

@test "read_buffer_size sets the receive size" {
	# libcurl asks recv() for a whole read buffer each time.  The 200
	# results make a response body of about 14 KB.
	gen_accounts accounts 200 >"$BATS_TEST_TMPDIR/in.ndjson"
	cfg=$(upsert_config "  http:
    read_buffer_size: 100")
	run_traced "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	# 100 is clamped to libcurl's minimum of 1024.
	[ "$(max_requested_length recvfrom)" -eq 1024 ]
	[ "$(grep -c 'recvfrom(.* = 1024$' "$TRACE")" -ge 10 ]

	cfg=$(upsert_config "  http:
    read_buffer_size: 1048576")
	run_traced "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(max_requested_length recvfrom)" -eq 1048576 ]
}
