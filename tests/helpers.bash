# Shared setup for the bats tests: the fake org, configs and runs of sfsink.
#
# The Makefile exports SFSINK (the binary under test), FAKE_ORG (the fake
# org's script), PYTHON3 and TESTS_SRCDIR.  Every test works in its own
# $BATS_TEST_TMPDIR and stops the fake org it started.

: "${SFSINK:?run the tests through make check}"
: "${PYTHON3:=python3}"

# Start the fake org with ARGS; sets FAKE_URL and FAKE_PID.  The fake prints
# its base URL as its first line once it listens, so wait for that line.
fake_start() {
	local url_file="$BATS_TEST_TMPDIR/fake.url" i
	: >"$url_file"
	"$PYTHON3" "$FAKE_ORG" --port 0 "$@" >"$url_file" 2>"$BATS_TEST_TMPDIR/fake.log" &
	FAKE_PID=$!
	for i in $(seq 1 400); do
		if [ -s "$url_file" ] && grep -q '^http' "$url_file"; then
			FAKE_URL=$(head -n 1 "$url_file")
			export FAKE_URL
			return 0
		fi
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.025
	done
	echo "fake org did not start:" >&2
	cat "$BATS_TEST_TMPDIR/fake.log" >&2
	return 1
}

fake_stop() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=
	fi
}

# fake METHOD PATH [BODY]: call the fake's control API, print the response body.
fake() {
	"$PYTHON3" "$TESTS_SRCDIR/fakectl.py" "$FAKE_URL" "$@"
}

# Add fault rules, given as a JSON array.
fake_faults() {
	fake POST /__fake/faults "{\"rules\": $1}" >/dev/null
}

# The requests the fake received whose path matches REGEX, as JSON.
fake_requests() {
	local query
	query=$("$PYTHON3" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")
	fake GET "/__fake/requests?path=$query"
}

# write_config [EXTRA]: a config for the fake with the mappings given on
# stdin (YAML list items), plus EXTRA top-level lines.  Prints its path.
write_config() {
	local path="$BATS_TEST_TMPDIR/sfsink.yaml"
	{
		echo "org_url: $FAKE_URL"
		echo "client_id: sfsink-demo"
		echo "client_secret: sfsink-demo-secret"
		case "${1:-}" in
		*batch_period:*) ;;
		*) echo "batch_period: 100ms" ;;
		esac
		[ -z "${1:-}" ] || printf '%s\n' "$1"
		echo "topic_mappings:"
		cat
	} >"$path"
	# The file contains a literal client_secret, so keep it private as users
	# should.
	chmod 600 "$path"
	echo "$path"
}

# run_sfsink ARGS...: run sfsink with results in $OUT and stderr in $ERR;
# sets $status.  Input comes from the caller's stdin.
run_sfsink() {
	OUT="$BATS_TEST_TMPDIR/results.ndjson"
	ERR="$BATS_TEST_TMPDIR/stderr"
	status=0
	"$SFSINK" "$@" >"$OUT" 2>"$ERR" || status=$?
}

# Number of lines in FILE.
count_lines() {
	wc -l <"$1" | tr -d ' '
}

# Number of non-blank lines in the input FILE: the records owed a result.
count_records() {
	grep -c '[^[:space:]]' "$1" || true
}

# Fail unless $OUT has exactly one result line per record of FILE.
assert_one_result_per_record() {
	local want got
	want=$(count_records "$1")
	got=$(count_lines "$OUT")
	if [ "$want" != "$got" ]; then
		echo "expected $want result lines, got $got" >&2
		cat "$OUT" >&2
		return 1
	fi
}

# Print the JSON value of jq FILTER applied to the result of SOURCE:LINE.
result_of() {
	jq -c --arg s "$1" --argjson l "$2" \
	    "select(.source == \$s and .line == \$l) | $3" "$OUT"
}

# Generate N account records for TOPIC with External_Id__c PREFIX-i.
gen_accounts() {
	local topic=$1 n=$2 prefix=${3:-ACC}
	"$PYTHON3" -c '
import json, sys
topic, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(1, n + 1):
    print(json.dumps({"topic": topic, "data": {"Name": "Account %d" % i,
        "External_Id__c": "%s-%d" % (prefix, i)}}))
' "$topic" "$n" "$prefix"
}

teardown() {
	fake_stop
}

# bulk_config OPERATION [SOBJECT] [EXTRA]: one bulk topic "t".
bulk_config() {
	local extra="bulk_poll_interval: 50ms"
	[ -z "${3:-}" ] || extra=$(printf '%s\n%s' "$extra" "$3")
	write_config "$extra" <<-YAML
	  - topic: t
	    sobject: ${2:-Account}
	    operation: $1
	    mode: bulk
	    external_id_field: External_Id__c
	YAML
}

# records DATA...: records on topic "t", one per data object, into $IN.
records() {
	local d
	for d in "$@"; do
		printf '{"topic":"t","data":%s}\n' "$d"
	done >"$IN"
}
