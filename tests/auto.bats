#!/usr/bin/env bats
# mode: auto sends small chunks through sObject Collections and large ones
# through Bulk API 2.0.

load helpers

auto_config() {
	write_config "bulk_batch_size: 500
bulk_poll_interval: 50ms" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	    mode: auto
	    bulk_threshold: 300
	YAML
}

@test "small chunk goes realtime" {
	fake_start --bulk-delay 0.05
	cfg=$(auto_config)
	gen_accounts accounts 250 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .mode "$OUT" | sort -u)" = realtime ]
	[ "$(jq -r 'has("job_id")' "$OUT" | sort -u)" = false ]
	[ "$(fake_requests 'composite/sobjects' | jq -c '[.[].body | fromjson | .records | length]')" = '[200,50]' ]
	[ "$(fake GET /__fake/jobs | jq length)" -eq 0 ]
}

@test "large chunk goes bulk" {
	fake_start --bulk-delay 0.05
	cfg=$(auto_config)
	gen_accounts accounts 1100 >"$BATS_TEST_TMPDIR/in.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	# Two full chunks of 500 through bulk, the last 100 through Collections.
	[ "$(jq -r .mode "$OUT" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" = "bulk=1000 realtime=100 " ]
	[ "$(jq -r 'select(.mode == "bulk") | .job_id' "$OUT" | sort -u | wc -l)" -eq 2 ]
	[ "$(fake GET /__fake/jobs | jq length)" -eq 2 ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 1100 ]
}

@test "threshold outside auto warns" {
	FAKE_URL=http://127.0.0.1:9
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: insert
	    bulk_threshold: 10
	YAML
	)
	run "$SFSINK" -c "$cfg" </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"topic_mappings[0].bulk_threshold: ignored; only mode: auto uses it"* ]]
}

@test "hardDelete is not allowed in auto" {
	FAKE_URL=http://127.0.0.1:9
	cfg=$(write_config <<-YAML
	  - topic: gone
	    sobject: Account
	    operation: hardDelete
	    mode: auto
	YAML
	)
	run "$SFSINK" -c "$cfg" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"hardDelete is bulk-only; set mode: bulk"* ]]
}

@test "invalid mode names auto" {
	FAKE_URL=http://127.0.0.1:9
	cfg=$(write_config <<-YAML
	  - topic: t
	    sobject: Account
	    operation: insert
	    mode: batch
	YAML
	)
	run "$SFSINK" -c "$cfg" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *'invalid value "batch"; expected realtime, bulk or auto'* ]]
}
