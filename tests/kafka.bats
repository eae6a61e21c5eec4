#!/usr/bin/env bats
# Kafka end to end: kcat against a local mock broker, piped into sfsink,
# writing to the fake org.
#
# The Makefile exports MOCK_BROKER, the path of tests/kafka/mock_broker,
# which is built only when configure finds librdkafka.

load helpers

setup() {
	if ! command -v kcat >/dev/null 2>&1; then
		skip "kcat is not installed (apt-get install kcat)"
	fi
	if [ ! -x "${MOCK_BROKER:-}" ]; then
		skip "no mock broker: configure did not find librdkafka (apt-get install librdkafka-dev, then ./configure)"
	fi
	fake_start
	broker_start accounts:2 contacts:2
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
	)
}

teardown() {
	broker_stop
	fake_stop
}

# Start the mock broker with topics TOPIC:PARTITIONS; sets BROKER (its
# bootstrap address) and BROKER_PID.  The broker prints the address once it
# listens, so wait for that line.
broker_start() {
	local addr_file="$BATS_TEST_TMPDIR/broker.addr" i
	: >"$addr_file"
	"$MOCK_BROKER" "$@" >"$addr_file" 2>"$BATS_TEST_TMPDIR/broker.log" </dev/null &
	BROKER_PID=$!
	for i in $(seq 1 400); do
		if grep -q ':[0-9]' "$addr_file"; then
			BROKER=$(head -n 1 "$addr_file")
			return 0
		fi
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.025
	done
	echo "mock broker did not start:" >&2
	cat "$BATS_TEST_TMPDIR/broker.log" >&2
	return 1
}

broker_stop() {
	if [ -n "${BROKER_PID:-}" ]; then
		kill "$BROKER_PID" 2>/dev/null || true
		wait "$BROKER_PID" 2>/dev/null || true
		BROKER_PID=
	fi
}

# produce TOPIC PARTITION: send the KEY:VALUE lines of stdin to one partition.
produce() {
	kcat -P -b "$BROKER" -t "$1" -p "$2" -K : 2>>"$BATS_TEST_TMPDIR/kcat.log"
}

# The messages the tests load: three accounts and three contacts over both
# partitions of each topic.  Contact C-2 has no LastName and C-3 names a
# parent account that does not exist, so both fail in Salesforce.
produce_records() {
	produce accounts 0 <<-'EOF'
	A-1:{"Name":"Acme","External_Id__c":"A-1"}
	A-2:{"Name":"Beta","External_Id__c":"A-2"}
	EOF
	produce accounts 1 <<-'EOF'
	A-3:{"Name":"Gamma","External_Id__c":"A-3"}
	EOF
	produce contacts 0 <<-'EOF'
	C-1:{"LastName":"Lovelace","Account":{"External_Id__c":"A-1"}}
	C-2:{"FirstName":"Grace"}
	EOF
	produce contacts 1 <<-'EOF'
	C-3:{"LastName":"Hopper","Account":{"External_Id__c":"A-9"}}
	EOF
}

# consume TOPIC [KCAT ARGS...]: print the topic's messages as kcat -J
# envelopes and exit at the end of every partition.
consume() {
	local topic=$1
	shift
	kcat -C -b "$BROKER" -t "$topic" -J -e "$@" 2>>"$BATS_TEST_TMPDIR/kcat.log"
}

# Run sfsink on stdin like run_sfsink, for the end of a pipeline.
sfsink_stdin() {
	"$SFSINK" -c "$cfg" >"$OUT" 2>"$ERR"
}

# "topic partition offset" of every result, sorted.
result_positions() {
	jq -r '"\(.topic) \(.kafka.partition) \(.kafka.offset)"' "$1" | sort
}

stored() {
	fake GET "/__fake/records/$1"
}

@test "kcat pipeline loads two topics" {
	produce_records
	OUT="$BATS_TEST_TMPDIR/results.ndjson"
	ERR="$BATS_TEST_TMPDIR/stderr"
	status=0
	{ consume accounts; consume contacts; } | sfsink_stdin || status=$?
	[ "$status" -eq 1 ]
	[ "$(count_lines "$OUT")" -eq 6 ]
	# Every result carries its message's partition and offset.
	[ "$(result_positions "$OUT" | tr '\n' ',')" = "accounts 0 0,accounts 0 1,accounts 1 0,contacts 0 0,contacts 0 1,contacts 1 0," ]
	[ "$(jq -r 'select(.kafka.partition == null or .kafka.offset == null)' "$OUT")" = "" ]
	[ "$(jq -r .source "$OUT" | sort -u)" = - ]
	[ "$(jq -r 'select(.topic == "accounts") | .status' "$OUT" | sort -u)" = ok ]
	[ "$(jq -r 'select(.topic == "contacts" and .kafka.partition == 0 and .kafka.offset == 0) | .status' "$OUT")" = ok ]
	[ "$(jq -r 'select(.topic == "contacts" and .kafka.partition == 0 and .kafka.offset == 1) | .errors[0].code' "$OUT")" = REQUIRED_FIELD_MISSING ]
	[ "$(jq -r 'select(.topic == "contacts" and .kafka.partition == 1 and .kafka.offset == 0) | .errors[0].code' "$OUT")" = INVALID_FIELD ]
	# The fake stored what was ok, with the contact under its parent.
	[ "$(stored Account | jq -r '[.[].External_Id__c] | sort | join(",")')" = A-1,A-2,A-3 ]
	[ "$(stored Contact | jq -r '[.[].LastName] | join(",")')" = Lovelace ]
	acme=$(stored Account | jq -r '.[] | select(.External_Id__c == "A-1") | .Id')
	[ "$(stored Contact | jq -r '.[0].AccountId')" = "$acme" ]
}

@test "failed offsets replay from results" {
	produce_records
	OUT="$BATS_TEST_TMPDIR/results.ndjson"
	ERR="$BATS_TEST_TMPDIR/stderr"
	{ consume accounts; consume contacts; } | sfsink_stdin || true
	cp "$OUT" "$BATS_TEST_TMPDIR/first.ndjson"

	# Fetch the message behind every result that is not ok, one kcat call each.
	jq -r 'select(.status != "ok") | "\(.topic) \(.kafka.partition) \(.kafka.offset)"' \
	    "$BATS_TEST_TMPDIR/first.ndjson" |
	while read -r topic partition offset; do
		consume "$topic" -p "$partition" -o "$offset" -c 1
	done >"$BATS_TEST_TMPDIR/replay.ndjson"
	[ "$(count_lines "$BATS_TEST_TMPDIR/replay.ndjson")" -eq 2 ]
	[ "$(jq -r .key "$BATS_TEST_TMPDIR/replay.ndjson" | sort | tr '\n' ,)" = C-2,C-3, ]

	# Once the missing parent exists, the replay loads C-3; C-2 still fails.
	fake POST /__fake/records/Account '[{"Name":"Delta","External_Id__c":"A-9"}]' >/dev/null
	status=0
	sfsink_stdin <"$BATS_TEST_TMPDIR/replay.ndjson" || status=$?
	[ "$status" -eq 1 ]
	[ "$(count_lines "$OUT")" -eq 2 ]
	[ "$(jq -r 'select(.kafka.partition == 1) | .status' "$OUT")" = ok ]
	[ "$(jq -r 'select(.kafka.partition == 0) | "\(.status) \(.kafka.offset)"' "$OUT")" = "failed 1" ]
	[ "$(stored Contact | jq -r '[.[].LastName] | sort | join(",")')" = Hopper,Lovelace ]
}

@test "consumer group loads both topics" {
	produce_records
	OUT="$BATS_TEST_TMPDIR/results.ndjson"
	ERR="$BATS_TEST_TMPDIR/stderr"
	status=0
	kcat -b "$BROKER" -G sfsink-test -o beginning -J -e accounts contacts \
	    2>>"$BATS_TEST_TMPDIR/kcat.log" | sfsink_stdin || status=$?
	[ "$status" -eq 1 ]
	[ "$(result_positions "$OUT" | tr '\n' ',')" = "accounts 0 0,accounts 0 1,accounts 1 0,contacts 0 0,contacts 0 1,contacts 1 0," ]
	[ "$(stored Account | jq -r '[.[].External_Id__c] | sort | join(",")')" = A-1,A-2,A-3 ]
}
