#!/usr/bin/env bats
#
# config.bats - loading and checking the YAML configuration.
#
# Each test writes a config (or uses a fixture from config/), runs sfsink
# on empty input, and checks the exit status and the exact messages.  A
# bad config exits 2; a good one exits 0 without touching the network, as
# there is no record to send.  The tests run in $BATS_TEST_TMPDIR so that
# messages name "c.yaml" rather than a long temporary path.

setup() {
	SFSINK=${SFSINK:-$BATS_TEST_DIRNAME/../sfsink}
	FIXTURES=$BATS_TEST_DIRNAME/config
	cd "$BATS_TEST_TMPDIR"
}

# The four required keys, 8 lines: text added by with_base starts at line 9.
base() {
	cat <<'YAML'
org_url: https://127.0.0.1:9
client_id: test-client
client_secret: test-secret
topic_mappings:
  - topic: accounts
    sobject: Account
    operation: insert
# end of base
YAML
}

# Write c.yaml: the base followed by $1.
with_base() {
	{ base; printf '%s\n' "$1"; } >c.yaml
}

# Write c.yaml as $1 alone.
config() {
	printf '%s\n' "$1" >c.yaml
}

# Load c.yaml; -q leaves only errors on stderr.
check() {
	run "$SFSINK" -q -c c.yaml </dev/null
}

# Load c.yaml without -q, so that warnings show.
check_loud() {
	run "$SFSINK" -c c.yaml </dev/null
}

# A mapping list of one entry, for configs that replace the base.
MAPPING='topic_mappings:
  - topic: accounts
    sobject: Account
    operation: insert'

# Loading valid configs

@test "minimal config loads cleanly" {
	run "$SFSINK" -q -c "$FIXTURES/minimal.yaml" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "full config with every key" {
	run "$SFSINK" -q -c "$FIXTURES/full.yaml" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "redpanda output form loads" {
	SFSINK_TEST_SECRET=s3cret run "$SFSINK" -q \
	    -c "$FIXTURES/redpanda-output.yaml" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "redpanda outputs form loads" {
	run "$SFSINK" -q -c "$FIXTURES/redpanda-outputs.yaml" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "null block keeps its defaults" {
	with_base 'http:
  tls:
  backoff: ~'
	check
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

# The file itself

@test "missing config file is reported" {
	run "$SFSINK" -q -c nowhere.yaml </dev/null
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: cannot open config "nowhere.yaml": No such file or directory' ]
}

@test "directory as config is rejected" {
	mkdir d
	run "$SFSINK" -q -c d </dev/null
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: cannot open config "d": Is a directory' ]
}

@test "YAML syntax error gives column" {
	config 'client_id: a
  org_url: https://x'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:2:10: invalid YAML: mapping values are not allowed in this context' ]
}

@test "empty config file is rejected" {
	: >c.yaml
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:1: config is empty; expected the salesforce_sink settings' ]
}

@test "top-level list is rejected" {
	config '- org_url: https://127.0.0.1:9'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:1: expected a mapping of salesforce_sink settings, got a list' ]
}

@test "second YAML document is rejected" {
	with_base '---
client_id: b'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: more than one YAML document; keep only the salesforce_sink settings' ]
}

@test "every error is reported" {
	config 'client_id: a
bulk_batch_size: 0
max_in_flight: many'
	check
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = 'sfsink: c.yaml:2: bulk_batch_size: invalid value "0"; expected an integer from 1 to 10000000' ]
	[ "${lines[1]}" = 'sfsink: c.yaml:3: max_in_flight: invalid value "many"; expected an integer' ]
	[ "${lines[2]}" = 'sfsink: c.yaml:1: org_url: required key is missing' ]
	[ "${lines[3]}" = 'sfsink: c.yaml:1: client_secret: required key is missing' ]
	[ "${lines[4]}" = 'sfsink: c.yaml:1: topic_mappings: required key is missing' ]
	[ "${#lines[@]}" -eq 5 ]
}

# The top level

@test "unknown Redpanda section is rejected" {
	config 'inptu:
  stdin: {}
output:
  salesforce_sink:
    org_url: https://127.0.0.1:9
    client_id: a
    client_secret: b
    topic_mappings:
      - {topic: accounts, sobject: Account, operation: insert}'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:1: inptu: unknown key; did you mean "input"?' ]
}

@test "other output than salesforce_sink" {
	config 'output:
  label: out
  kafka:
    addresses: [localhost]'
	check
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = 'sfsink: c.yaml:3: output.kafka: unknown key; sfsink reads only salesforce_sink (and ignores label) here' ]
	[ "${lines[1]}" = 'sfsink: c.yaml:1: output: missing salesforce_sink block; sfsink writes only to Salesforce' ]
}

@test "output and outputs conflict" {
	config 'output: {}
outputs: {}'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:2: output and outputs are both given; keep one' ]
}

@test "bare salesforce_sink key explained" {
	config 'salesforce_sink:
  client_id: a'
	check
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = 'sfsink: c.yaml:1: salesforce_sink: unknown key; put the block under "output:", or write its keys at the top level' ]
}

@test "unset variable in ignored section" {
	run "$SFSINK" -q -c "$FIXTURES/redpanda-output.yaml" </dev/null
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: '"$FIXTURES"'/redpanda-output.yaml:15: client_secret: environment variable "SFSINK_TEST_SECRET" is not set; export it or give a default: ${SFSINK_TEST_SECRET:default}' ]
}

# Keys

@test "missing required key in mapping" {
	config "org_url: https://127.0.0.1:9
client_id: a
client_secret: b
topic_mappings:
  - topic: accounts
    operation: insert"
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:5: topic_mappings[0].sobject: required key is missing' ]
}

@test "empty required value is rejected" {
	config "org_url: https://127.0.0.1:9
client_id: ''
client_secret:
$MAPPING"
	check
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = 'sfsink: c.yaml:2: client_id: value is empty; this key is required' ]
	[ "${lines[1]}" = 'sfsink: c.yaml:3: client_secret: value is empty; this key is required' ]
}

@test "unknown key suggests closest one" {
	with_base 'http:
  tls:
    skip_cert_verfy: true'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:11: http.tls.skip_cert_verfy: unknown key; did you mean "skip_cert_verify"?' ]
}

@test "unknown key without a suggestion" {
	with_base 'http:
  retries: 3'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.retries: unknown key' ]
}

@test "duplicate key names first line" {
	with_base 'max_in_flight: 2
max_in_flight: 3'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: max_in_flight: duplicate key; first given on line 9' ]
}

@test "NUL byte in value rejected" {
	with_base 'api_version: "v65.0\0"'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: api_version: value contains a NUL byte' ]
}

# Types

@test "integer rejects decimal value" {
	with_base 'bulk_batch_size: 1.5'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: bulk_batch_size: invalid value "1.5"; expected an integer' ]
}

@test "integer rejects quoted value" {
	with_base 'bulk_batch_size: "1000"'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: bulk_batch_size: invalid value "1000"; expected an integer, not a quoted string' ]
}

@test "integer rejects boolean value" {
	with_base 'max_in_flight: true'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: max_in_flight: invalid value "true"; expected an integer' ]
}

@test "integer overflow is out of range" {
	with_base 'http:
  backoff:
    max_retries: 99999999999999999999'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:11: http.backoff.max_retries: invalid value "99999999999999999999"; expected an integer of at least 0' ]
}

@test "integer below its minimum" {
	with_base 'max_concurrent_bulk_jobs: 0'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: max_concurrent_bulk_jobs: invalid value "0"; expected an integer from 1 to 1000' ]
}

@test "float accepts integer and decimal" {
	with_base 'http:
  tps_limit: 3'
	check
	[ "$status" -eq 0 ]
	with_base 'http:
  tps_limit: 0.25'
	check
	[ "$status" -eq 0 ]
}

@test "negative tps_limit is rejected" {
	with_base 'http:
  tps_limit: -1.5'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.tps_limit: invalid value "-1.5"; expected a number of at least 0' ]
}

@test "YAML 1.1 boolean gets hint" {
	with_base 'http:
  disable_http2: yes'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.disable_http2: invalid value "yes"; expected true or false (YAML 1.1 yes/no/on/off are not booleans here)' ]
}

@test "boolean rejects other words" {
	with_base 'http:
  disable_http2: 1'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.disable_http2: invalid value "1"; expected true or false' ]
}

@test "list where scalar is expected" {
	with_base 'http:
  backoff:
    max_retries: [1]'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:11: http.backoff.max_retries: expected an integer, got a list' ]
}

@test "scalar where mapping is expected" {
	with_base 'http: fast'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: http: invalid value "fast"; expected a mapping' ]
}

@test "mapping where list is expected" {
	config "org_url: https://127.0.0.1:9
client_id: a
client_secret: b
topic_mappings:
  topic: accounts"
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:4: topic_mappings: expected a list, got a mapping' ]
}

# Durations

@test "durations in Go syntax load" {
	for d in 300ms 1.5s 1m30s 2h45m 0s 0 +5s -0 1µs 1us 90ns .5s; do
		with_base "batch_period: $d"
		check
		echo "$d: $output"
		[ "$status" -eq 0 ]
	done
}

@test "duration without unit rejected" {
	with_base 'batch_period: 5'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: batch_period: invalid value "5"; a duration needs a unit, such as "5s"' ]
}

@test "duration with unknown unit" {
	with_base 'batch_period: 5d'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: batch_period: invalid value "5d"; unknown unit, expected ns, us, ms, s, m or h' ]
}

@test "duration that is not one" {
	with_base 'batch_period: soon'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: batch_period: invalid value "soon"; expected a duration such as "300ms", "1.5s" or "1m30s"' ]
}

@test "duration overflow is rejected" {
	with_base 'batch_period: 2562048h'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: batch_period: invalid value "2562048h"; a duration must be at most 2562047h47m16.854775807s' ]
}

@test "largest duration is accepted" {
	with_base 'batch_period: 2562047h47m16.854775807s'
	check
	[ "$status" -eq 0 ]
}

@test "negative duration is rejected" {
	with_base 'http:
  timeout: -5s'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.timeout: invalid value "-5s"; expected a duration of at least 0s' ]
}

@test "negative keep_alive idle accepted" {
	with_base 'http:
  tcp:
    keep_alive:
      idle: -1s
    tcp_user_timeout: 30s'
	check
	[ "$status" -eq 0 ]
}

@test "zero poll interval rejected" {
	with_base 'bulk_poll_interval: 0s'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: bulk_poll_interval: invalid value "0s"; expected a duration greater than 0s' ]
}

@test "zero timeout and period accepted" {
	with_base 'batch_period: 0s
http:
  timeout: 0s'
	check
	[ "$status" -eq 0 ]
}

# Checks across keys

@test "keep_alive idle below user timeout" {
	with_base 'http:
  tcp:
    tcp_user_timeout: 30s'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.tcp: keep_alive.idle (15s) must be greater than tcp_user_timeout (30s), see RFC 5482' ]
}

@test "backoff initial above max" {
	with_base 'http:
  backoff:
    initial_interval: 1m
    max_interval: 10s'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.backoff: initial_interval (1m0s) is greater than max_interval (10s)' ]
}

@test "h2 frame size out of range" {
	with_base 'http:
  http:
    h2:
      max_read_frame_size: 16777216'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:12: http.http.h2.max_read_frame_size: invalid value "16777216"; expected an integer from 16384 to 16777215 (16 KiB to 16 MiB, the HTTP/2 limits)' ]
}

@test "h2 header table of 4 MiB" {
	with_base 'http:
  http:
    h2:
      max_decoder_header_table_size: 4194304'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:12: http.http.h2.max_decoder_header_table_size: invalid value "4194304"; expected an integer below 4194304 (4 MiB)' ]
}

@test "h2 connection buffer too small" {
	with_base 'http:
  http:
    h2:
      max_receive_buffer_per_connection: 32768'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:12: http.http.h2.max_receive_buffer_per_connection: invalid value "32768"; expected an integer from 65536 (64 KiB) to 4194303 (below 4 MiB)' ]
}

@test "access log level is checked" {
	with_base 'http:
  access_log_level: VERBOSE'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.access_log_level: invalid value "VERBOSE"; expected "", TRACE, DEBUG, INFO, WARN or ERROR' ]
}

@test "lower-case access log level" {
	with_base 'http:
  access_log_level: warn'
	check
	[ "$status" -eq 0 ]
}

@test "client cert without its key" {
	with_base 'http:
  tls:
    enabled: true
    client_certs:
      - cert_file: client.pem'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:13: http.tls.client_certs[0]: cert_file is given without key_file' ]
}

@test "client cert with both pairs" {
	with_base 'http:
  tls:
    enabled: true
    client_certs:
      - cert: PEM
        key: PEM
        cert_file: client.pem
        key_file: client.key'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:13: http.tls.client_certs[0]: cert and key, and cert_file and key_file, are both given; keep one pair' ]
}

@test "client cert with neither pair" {
	with_base 'http:
  tls:
    enabled: true
    client_certs:
      - password: secret'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:13: http.tls.client_certs[0]: expected cert and key, or cert_file and key_file' ]
}

@test "root CAs given twice" {
	with_base 'http:
  tls:
    enabled: true
    root_cas: PEM
    root_cas_file: ca.pem'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.tls: root_cas and root_cas_file are both set; keep one' ]
}

@test "TLS settings while disabled warn" {
	with_base 'http:
  tls:
    skip_cert_verify: true'
	check_loud
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'sfsink: warning: c.yaml:10: http.tls: settings are ignored while enabled is false; set enabled: true to use them' ]
}

@test "proxy URL is checked" {
	with_base 'http:
  proxy_url: proxy:3128'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.proxy_url: invalid proxy URL; expected SCHEME://HOST[:PORT] with scheme http, https, socks4, socks4a, socks5 or socks5h' ]
}

# org_url and api_version

org_url() {
	config "org_url: $1
client_id: a
client_secret: b
$MAPPING"
	check
}

@test "plain http to remote host" {
	org_url http://acme.my.salesforce.com
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:1: org_url: invalid value "http://acme.my.salesforce.com"; plain http is allowed only for a loopback host (localhost, 127.0.0.0/8, [::1]), use https://' ]
}

@test "plain http to loopback hosts" {
	for u in http://localhost:8080 http://127.0.0.1:8080/ \
	    http://127.10.0.1 'http://[::1]:8080'; do
		org_url "$u"
		echo "$u: $output"
		[ "$status" -eq 0 ]
	done
}

@test "org_url with a path" {
	org_url https://acme.my.salesforce.com/services/data
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:1: org_url: invalid value "https://acme.my.salesforce.com/services/data"; expected no path, query or fragment after the host' ]
}

@test "org_url with user info" {
	org_url https://user:pw@acme.my.salesforce.com
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:1: org_url: invalid URL; a user name or password is not allowed in the URL' ]
}

@test "org_url with another scheme" {
	org_url acme.my.salesforce.com
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:1: org_url: invalid value "acme.my.salesforce.com"; expected https://HOST, such as "https://acme.my.salesforce.com"' ]
}

@test "org_url with a bad port" {
	org_url https://acme.my.salesforce.com:70000
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:1: org_url: invalid value "https://acme.my.salesforce.com:70000"; expected a port from 1 to 65535 after the host' ]
}

@test "api_version with bad format" {
	with_base 'api_version: "65.0"'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: api_version: invalid value "65.0"; expected v<major>.<minor> such as "v65.0"' ]
}

@test "api_version older than v46.0" {
	with_base 'api_version: v45.0'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: api_version: invalid value "v45.0"; expected v46.0 or later, the first version with sObject Collections upsert' ]
}

# topic_mappings

mapping() {
	config "org_url: https://127.0.0.1:9
client_id: a
client_secret: b
topic_mappings:
$1"
	check
}

@test "invalid operation is named" {
	mapping '  - topic: accounts
    sobject: Account
    operation: upsrt'
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:7: topic_mappings[0].operation: invalid value "upsrt"; expected insert, update, upsert, delete or hardDelete' ]
}

@test "hardDelete needs bulk mode" {
	mapping '  - topic: accounts
    sobject: Account
    operation: hardDelete'
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:7: topic_mappings[0].operation: hardDelete is bulk-only; set mode: bulk' ]
}

@test "hardDelete in bulk mode" {
	mapping '  - topic: accounts
    sobject: Account
    operation: hardDelete
    mode: bulk'
	[ "$status" -eq 0 ]
}

@test "invalid mode is named" {
	mapping '  - topic: accounts
    sobject: Account
    operation: insert
    mode: batch'
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:8: topic_mappings[0].mode: invalid value "batch"; expected realtime, bulk or auto' ]
}

@test "sobject must be API name" {
	mapping '  - topic: accounts
    sobject: Account/../Users
    operation: insert'
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:6: topic_mappings[0].sobject: invalid value "Account/../Users"; expected an API name such as "Account" or "My_Object__c" (a letter, then letters, digits or underscores, at most 80)' ]
}

@test "upsert needs external_id_field" {
	mapping '  - topic: accounts
    sobject: Account'
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:5: topic_mappings[0].external_id_field: required key is missing; upsert (the default operation) on topic "accounts" needs it' ]
}

@test "duplicate topic names both lines" {
	mapping '  - topic: accounts
    sobject: Account
    operation: insert
  - topic: accounts
    sobject: Contact
    operation: insert'
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:8: topic_mappings[1].topic: duplicate topic "accounts"; first mapped on line 5' ]
}

@test "empty topic_mappings list" {
	config 'org_url: https://127.0.0.1:9
client_id: a
client_secret: b
topic_mappings: []'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:4: topic_mappings: list is empty; add at least one entry' ]
}

@test "all_or_none in bulk warns" {
	mapping '  - topic: accounts
    sobject: Account
    operation: insert
    mode: bulk
    all_or_none: true'
	check_loud
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'sfsink: warning: c.yaml:9: topic_mappings[0].all_or_none: has no effect in bulk mode' ]
}

@test "unused external_id_field warns" {
	mapping '  - topic: accounts
    sobject: Account
    operation: insert
    external_id_field: Ext__c'
	check_loud
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'sfsink: warning: c.yaml:8: topic_mappings[0].external_id_field: ignored; only upsert uses it' ]
}

# Environment variables

@test "set variable is used" {
	config 'org_url: ${SFSINK_TEST_URL}
client_id: a
client_secret: b
bulk_batch_size: ${SFSINK_TEST_BATCH}'"
$MAPPING"
	SFSINK_TEST_URL=http://acme.example SFSINK_TEST_BATCH=0 check
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = 'sfsink: c.yaml:1: org_url: invalid value "http://acme.example"; plain http is allowed only for a loopback host (localhost, 127.0.0.0/8, [::1]), use https://' ]
	[ "${lines[1]}" = 'sfsink: c.yaml:4: bulk_batch_size: invalid value "0"; expected an integer from 1 to 10000000' ]
}

@test "default used when unset" {
	config 'org_url: ${SFSINK_TEST_UNSET:https://127.0.0.1:9}
client_id: a
client_secret: ${SFSINK_TEST_UNSET:b}
bulk_batch_size: ${SFSINK_TEST_UNSET:2000}'"
$MAPPING"
	check
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "unset variable without default" {
	with_base 'http:
  proxy_url: http://${SFSINK_TEST_UNSET}:3128'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:10: http.proxy_url: environment variable "SFSINK_TEST_UNSET" is not set; export it or give a default: ${SFSINK_TEST_UNSET:default}' ]
}

@test "double dollar stays literal" {
	with_base 'api_version: $${V}'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: api_version: invalid value "${V}"; expected v<major>.<minor> such as "v65.0"' ]
}

@test "malformed reference is rejected" {
	with_base 'api_version: ${V'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: api_version: unterminated "${" reference; add the closing "}"' ]
}

@test "invalid variable name rejected" {
	with_base 'api_version: ${V-1}'
	check
	[ "$status" -eq 2 ]
	[ "$output" = 'sfsink: c.yaml:9: api_version: invalid "${" reference; expected ${NAME} or ${NAME:default}, or $${ for a literal "${"' ]
}
