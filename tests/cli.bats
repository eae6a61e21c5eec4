#!/usr/bin/env bats
# Command line: options, usage errors, output file, exit statuses.

load helpers

# A config whose org is never contacted: these tests send nothing.
offline_config() {
	cat >"$BATS_TEST_TMPDIR/offline.yaml" <<-YAML
	org_url: http://127.0.0.1:9
	client_id: id
	client_secret: secret
	topic_mappings:
	  - topic: accounts
	    sobject: Account
	    operation: insert
	YAML
	chmod 600 "$BATS_TEST_TMPDIR/offline.yaml"
	echo "$BATS_TEST_TMPDIR/offline.yaml"
}

@test "help lists every option" {
	run "$SFSINK" --help
	[ "$status" -eq 0 ]
	for opt in --config --output --verbose --quiet --help --version; do
		[[ "$output" == *"$opt"* ]] || { echo "missing $opt"; false; }
	done
}

@test "version prints name and version" {
	run "$SFSINK" -V
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sfsink\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "missing config is a usage error" {
	run "$SFSINK"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "sfsink: missing -c FILE: the YAML configuration is required" ]
}

@test "unknown option is a usage error" {
	run "$SFSINK" --bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"Try 'sfsink --help'"* ]]
}

@test "unreadable input file fails first" {
	cfg=$(offline_config)
	run "$SFSINK" -c "$cfg" "$BATS_TEST_TMPDIR/missing.ndjson"
	[ "$status" -eq 2 ]
	[ "$output" = "sfsink: cannot open input \"$BATS_TEST_TMPDIR/missing.ndjson\": No such file or directory" ]
}

@test "empty input needs no sign-in" {
	cfg=$(offline_config)
	run_sfsink -c "$cfg" </dev/null
	[ "$status" -eq 0 ]
	[ "$(count_lines "$OUT")" -eq 0 ]
	grep -q '^sfsink: 0 records in' "$ERR"
}

@test "output option writes results to file" {
	cfg=$(offline_config)
	echo '{"topic":"unmapped","data":{}}' >"$BATS_TEST_TMPDIR/in.ndjson"
	run "$SFSINK" -c "$cfg" -o "$BATS_TEST_TMPDIR/res.ndjson" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 1 ]
	[ "$(count_lines "$BATS_TEST_TMPDIR/res.ndjson")" -eq 1 ]
	[ "$(jq -r .status "$BATS_TEST_TMPDIR/res.ndjson")" = rejected ]
}

@test "quiet drops the summary" {
	cfg=$(offline_config)
	run_sfsink -q -c "$cfg" </dev/null
	[ "$status" -eq 0 ]
	[ ! -s "$ERR" ]
}

@test "several files are read in order" {
	cfg=$(offline_config)
	printf '{"topic":"a","data":{}}\n' >"$BATS_TEST_TMPDIR/one.ndjson"
	printf '\n{"topic":"b","data":{}}\n' >"$BATS_TEST_TMPDIR/two.ndjson"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/one.ndjson" - "$BATS_TEST_TMPDIR/two.ndjson" \
	    <<<'{"topic":"c","data":{}}'
	[ "$status" -eq 1 ]
	[ "$(jq -r '[.source, .line, .topic] | join(":")' "$OUT" | tr '\n' ' ')" = \
	    "$BATS_TEST_TMPDIR/one.ndjson:1:a -:1:c $BATS_TEST_TMPDIR/two.ndjson:2:b " ]
}

@test "unreachable org exits fatal with results" {
	cfg=$(offline_config)
	run_sfsink -c "$cfg" <<<'{"topic":"accounts","data":{"Name":"A"}}'
	[ "$status" -eq 3 ]
	[ "$(count_lines "$OUT")" -eq 1 ]
	[ "$(jq -r .status "$OUT")" = not_processed ]
	grep -q 'token request to http://127.0.0.1:9/services/oauth2/token failed' "$ERR"
}
