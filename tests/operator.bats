#!/usr/bin/env bats
# Operator features: --rejects, --dry-run, the status line, the summary,
# and the warning about a readable secret.

load helpers

mixed_config() {
	write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
}

# Two good accounts, one failing account, one rejected line, one contact.
mixed_input() {
	printf '%s\n' \
	    '{"topic":"accounts","data":{"Name":"A","External_Id__c":"A-1"}}' \
	    '{"topic":"accounts","data":{"External_Id__c":"A-2"}}' \
	    'not json' \
	    '{"topic":"accounts","data":{"Name":"C","External_Id__c":"A-3"}}' \
	    '{"topic":"contacts","data":{"LastName":"Lee"}}'
}

@test "rejects file holds lines not ok" {
	fake_start
	cfg=$(mixed_config)
	mixed_input >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" --rejects "$BATS_TEST_TMPDIR/rejects.ndjson" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	# Lines come in the order their results were known, not input order.
	[ "$(sort "$BATS_TEST_TMPDIR/rejects.ndjson")" = "$(sed -n '2p;3p' "$BATS_TEST_TMPDIR/in.ndjson" | sort)" ]
}

@test "rejects file loads again as it is" {
	fake_start
	cfg=$(mixed_config)
	mixed_input >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" --rejects "$BATS_TEST_TMPDIR/rejects.ndjson" "$BATS_TEST_TMPDIR/in.ndjson"
	# Fix the failing record with jq, keep the rest unchanged, load again.
	grep -vx 'not json' "$BATS_TEST_TMPDIR/rejects.ndjson" |
	    jq -c 'if .data.External_Id__c == "A-2" then .data.Name = "B" else . end' \
	    >"$BATS_TEST_TMPDIR/retry.ndjson"
	[ "$(count_lines "$BATS_TEST_TMPDIR/retry.ndjson")" -eq 1 ]
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/retry.ndjson"
	[ "$status" -eq 0 ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 3 ]
}

@test "rejects file that cannot be opened" {
	cfg=$(BATS_TEST_TMPDIR=$BATS_TEST_TMPDIR FAKE_URL=http://127.0.0.1:9 mixed_config)
	run "$SFSINK" -c "$cfg" --rejects "$BATS_TEST_TMPDIR/no/such/dir/r.ndjson" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"cannot open rejects file \"$BATS_TEST_TMPDIR/no/such/dir/r.ndjson\": No such file or directory"* ]]
}

@test "dry run writes requests, sends nothing" {
	# No fake org runs: a dry run needs no network and no credentials.
	FAKE_URL=http://127.0.0.1:9
	cfg=$(mixed_config)
	{ mixed_input; gen_accounts accounts 250 B; } >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" --dry-run "$BATS_TEST_TMPDIR/requests" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r 'select(.status != "rejected") | [.status, .errors[0].code] | join(" ")' "$OUT" | sort -u)" = "not_processed DRY_RUN" ]
	[ "$(jq -r 'select(.status == "rejected") | .line' "$OUT")" = 3 ]
	ls "$BATS_TEST_TMPDIR/requests" >"$BATS_TEST_TMPDIR/files"
	[ "$(grep -c '^accounts-' "$BATS_TEST_TMPDIR/files")" -eq 2 ]
	[ "$(grep -c '^contacts-' "$BATS_TEST_TMPDIR/files")" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR"/requests/accounts-*.json | jq -s 'map(.records | length) | add')" -eq 253 ]
	[ "$(jq -r '.records[0].attributes.type' "$BATS_TEST_TMPDIR"/requests/contacts-*.json)" = Contact ]
	grep -q 'dry run: 3 requests written to' "$ERR"
}

@test "summary counts per topic" {
	fake_start
	cfg=$(mixed_config)
	mixed_input >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	grep -qx 'sfsink: 5 records in [0-9.]*s: 3 ok, 1 failed, 1 rejected, 0 not_processed, 0 unknown' "$ERR"
	grep -qx 'sfsink:   accounts: 3 records: 2 ok, 1 failed' "$ERR"
	grep -qx 'sfsink:   contacts: 1 records: 1 ok' "$ERR"
	grep -qx 'sfsink:   (no mapping): 1 records: 1 rejected' "$ERR"
	grep -q '^sfsink: [0-9]* API requests\?; last Sforce-Limit-Info: api-usage=[0-9]*/15000$' "$ERR"
}

@test "progress line only when asked" {
	fake_start
	cfg=$(mixed_config)
	mixed_input >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	! grep -q $'\r' "$ERR"
	run_sfsink -c "$cfg" --progress "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q $'\r\033\[K[0-9]* read, [0-9]* sent, ' "$ERR"
	run_sfsink -c "$cfg" --progress --no-progress "$BATS_TEST_TMPDIR/in.ndjson"
	! grep -q $'\r' "$ERR"
}

@test "readable literal secret warns" {
	FAKE_URL=http://127.0.0.1:9
	cfg=$(mixed_config)
	chmod 644 "$cfg"
	run "$SFSINK" -c "$cfg" </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"sfsink: warning: $cfg holds a literal client_secret and can be read by group or others; run chmod 600 on it"* ]]
	chmod 600 "$cfg"
	run "$SFSINK" -c "$cfg" </dev/null
	[[ "$output" != *"literal client_secret"* ]]
	sed -i 's/^client_secret: .*/client_secret: ${SFSINK_TEST_SECRET:x}/' "$cfg"
	chmod 644 "$cfg"
	run "$SFSINK" -c "$cfg" </dev/null
	[[ "$output" != *"literal client_secret"* ]]
}

@test "dry run writes bulk CSVs" {
	FAKE_URL=http://127.0.0.1:9
	cfg=$(write_config "bulk_batch_size: 100" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	    mode: bulk
	YAML
	)
	gen_accounts accounts 150 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" --dry-run "$BATS_TEST_TMPDIR/requests" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r '[.status, .errors[0].code] | join(" ")' "$OUT" | sort -u)" = "not_processed DRY_RUN" ]
	[ "$(ls "$BATS_TEST_TMPDIR/requests" | tr '\n' ' ')" = "accounts-0001.csv accounts-0002.csv " ]
	[ "$(head -n 1 "$BATS_TEST_TMPDIR/requests/accounts-0001.csv")" = "Name,External_Id__c" ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/requests/accounts-0002.csv")" -eq 51 ]
}

@test "status line colour obeys NO_COLOR" {
	command -v script >/dev/null || skip "script(1) is needed for a terminal"
	fake_start
	# Slow answers let the line be drawn again once the failure is known.
	fake POST /__fake/config '{"latency": 1.2}' >/dev/null
	cfg=$(mixed_config)
	mixed_input >"$BATS_TEST_TMPDIR/in.ndjson"
	export TERM=xterm
	# script(1) gives sfsink a terminal, so the status line is drawn.
	script -qec "'$SFSINK' -c '$cfg' '$BATS_TEST_TMPDIR/in.ndjson' >/dev/null" \
	    "$BATS_TEST_TMPDIR/tty" >/dev/null 2>&1 || true
	grep -q $'\033\\[31m' "$BATS_TEST_TMPDIR/tty"
	NO_COLOR=1 script -qec "'$SFSINK' -c '$cfg' '$BATS_TEST_TMPDIR/in.ndjson' >/dev/null" \
	    "$BATS_TEST_TMPDIR/tty" >/dev/null 2>&1 || true
	grep -q $'\r\033\\[K' "$BATS_TEST_TMPDIR/tty"
	! grep -q $'\033\\[31m' "$BATS_TEST_TMPDIR/tty"
}
