#!/usr/bin/env bats
# Ways to sign in: client credentials, the JWT bearer flow with a key made
# by openssl for this file, and an access token obtained elsewhere.

load helpers
load peers

COLLECTIONS='^/services/data/v[0-9.]+/composite/sobjects'

setup_file() {
	command -v openssl >/dev/null 2>&1 || return 0
	make_pki "$BATS_FILE_TMPDIR/pki"
	# A second key pair, unknown to the fake.
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$BATS_FILE_TMPDIR/pki/stranger.key" 2>/dev/null
}

setup() {
	require_programs openssl
	PKI="$BATS_FILE_TMPDIR/pki"
	fake_start --jwt-public-key "$PKI/jwt.pub"
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
}

teardown() {
	peers_teardown
}

# auth_config AUTH_LINES [TOP_LINES]: an upsert config for the fake without
# client_secret, with AUTH_LINES under auth.
auth_config() {
	local path="$BATS_TEST_TMPDIR/sfsink.yaml"
	{
		echo "org_url: $FAKE_URL"
		echo "batch_period: 100ms"
		[ -z "${2:-}" ] || printf '%s\n' "$2"
		echo "auth:"
		printf '%s\n' "$1"
		echo "topic_mappings:"
		echo "  - topic: accounts"
		echo "    sobject: Account"
		echo "    operation: upsert"
		echo "    external_id_field: External_Id__c"
	} >"$path"
	echo "$path"
}

# The claims of the JWT assertion in the Nth token request (0-based).
assertion_claims() {
	fake_requests 'oauth2/token' | jq -r ".[$1].body" | "$PYTHON3" -c '
import base64, json, sys, urllib.parse
form = urllib.parse.parse_qs(sys.stdin.read())
payload = form["assertion"][0].split(".")[1]
print(json.dumps(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))))'
}

# A token issued by the fake to its client credentials.
issue_token() {
	"$PYTHON3" -c '
import json, sys, urllib.request
body = b"grant_type=client_credentials&client_id=sfsink-demo&client_secret=sfsink-demo-secret"
with urllib.request.urlopen(sys.argv[1] + "/services/oauth2/token", body, timeout=30) as r:
    print(json.load(r)["access_token"])' "$FAKE_URL"
}

@test "JWT bearer flow signs in" {
	cfg=$(auth_config "  method: jwt
  username: ada@example.com
  private_key_file: $PKI/jwt.key" "client_id: sfsink-demo")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT" | sort -u)" = ok ]
	form=$(fake_requests 'oauth2/token' | jq -r '.[0].body')
	[[ "$form" == grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer\&assertion=* ]]
	claims=$(assertion_claims 0)
	[ "$(jq -c '[.iss, .sub, .aud]' <<<"$claims")" = '["sfsink-demo","ada@example.com","https://login.salesforce.com"]' ]
	# exp is three minutes ahead.
	[ "$(jq --argjson now "$(date +%s)" '.exp - $now | . > 170 and . <= 181' <<<"$claims")" = true ]
}

@test "JWT with an inline key and a sandbox audience" {
	cfg=$(auth_config "  method: jwt
  username: ada@example.com.staging
  audience: https://test.salesforce.com
  private_key: |
$(sed 's/^/    /' "$PKI/jwt.key")" "client_id: sfsink-demo")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(assertion_claims 0 | jq -r .aud)" = https://test.salesforce.com ]
}

@test "JWT token is renewed after expiry" {
	cfg=$(auth_config "  method: jwt
  username: ada@example.com
  private_key_file: $PKI/jwt.key" "client_id: sfsink-demo
max_in_flight: 1
bulk_batch_size: 1")
	fake_faults '[{"path": "composite/sobjects", "skip": 1, "action": "expire_token"}]'
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(fake_requests 'oauth2/token' | jq length)" -eq 2 ]
	[ "$(fake_requests "$COLLECTIONS" | jq -c '[.[].status]')" = '[200,401,200]' ]
}

@test "JWT signed by an unknown key is rejected" {
	cfg=$(auth_config "  method: jwt
  username: ada@example.com
  private_key_file: $PKI/stranger.key" "client_id: sfsink-demo")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT" | sort -u)" = not_processed ]
	grep -qx 'sfsink: stopping: sign-in rejected by Salesforce (HTTP 400): invalid_grant: invalid assertion' "$ERR"
	# A rejected sign-in is not retried.
	[ "$(fake_requests 'oauth2/token' | jq length)" -eq 1 ]
}

@test "JWT with a wrong audience is rejected" {
	cfg=$(auth_config "  method: jwt
  username: ada@example.com
  audience: https://login.example.com
  private_key_file: $PKI/jwt.key" "client_id: sfsink-demo")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q 'invalid_grant: audience is invalid$' "$ERR"
}

@test "JWT key that cannot be read stops the run" {
	cfg=$(auth_config "  method: jwt
  username: ada@example.com
  private_key_file: $PKI/client-pkcs8.key" "client_id: sfsink-demo")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -qx "sfsink: stopping: private_key_file \"$PKI/client-pkcs8.key\" is encrypted; give it unencrypted, as \"openssl pkey\" writes it" "$ERR"
	[ "$(fake_requests 'oauth2/token' | jq length)" -eq 0 ]
}

@test "no assertion or key on stderr at trace level" {
	cfg=$(auth_config "  method: jwt
  username: ada@example.com
  private_key_file: $PKI/jwt.key" "client_id: sfsink-demo
http:
  access_log_level: TRACE
  access_log_body_limit: 1000000")
	run_sfsink -vvv -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q 'assertion=\[redacted\]' "$ERR"
	assertion=$(fake_requests 'oauth2/token' | jq -r '.[0].body' | sed 's/.*assertion=//')
	[ -n "$assertion" ]
	! grep -qF "$assertion" "$ERR"
	! grep -qF "${assertion##*.}" "$ERR"
	! grep -q 'PRIVATE KEY' "$ERR"
	! grep -qF "$(sed -n 2p "$PKI/jwt.key")" "$ERR"
	token=$(fake_requests "$COLLECTIONS" | jq -r '.[0].headers.Authorization' | sed 's/^Bearer //')
	! grep -qF "$token" "$ERR"
}

@test "access token from elsewhere is used as is" {
	token=$(issue_token)
	cfg=$(auth_config "  method: access_token
  access_token: \${SF_TOKEN}
  instance_url: $FAKE_URL")
	SF_TOKEN=$token run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT" | sort -u)" = ok ]
	# Only the token request of issue_token reached the token endpoint.
	[ "$(fake_requests 'oauth2/token' | jq length)" -eq 1 ]
	[ "$(fake_requests "$COLLECTIONS" | jq -r '.[0].headers.Authorization')" = "Bearer $token" ]
}

@test "expired access token stops the run" {
	token=$(issue_token)
	fake POST /__fake/expire-tokens >/dev/null
	cfg=$(auth_config "  method: access_token
  access_token: $token")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(jq -r .status "$OUT" | sort -u)" = not_processed ]
	grep -q 'stopping: Salesforce rejected the access token (HTTP 401: .*INVALID_SESSION_ID.*); auth.method access_token cannot renew it' "$ERR"
	[ "$(fake_requests 'oauth2/token' | jq length)" -eq 1 ]
	[ "$(fake_requests "$COLLECTIONS" | jq length)" -eq 1 ]
}

@test "rejected client secret exits 3" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	sed -i 's/^client_secret: .*/client_secret: wrong-secret/' "$cfg"
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -qx 'sfsink: stopping: sign-in rejected by Salesforce (HTTP 400): invalid_client: invalid client credentials' "$ERR"
	! grep -q 'wrong-secret' "$ERR"
}

# Configuration rules of the auth block.

@test "jwt needs no client_secret but a user and a key" {
	printf '%s\n' "org_url: $FAKE_URL" 'client_id: a' 'auth:' '  method: jwt' \
	    'topic_mappings:' '  - {topic: t, sobject: Account, operation: insert}' \
	    >"$BATS_TEST_TMPDIR/c.yaml"
	run "$SFSINK" -q -c "$BATS_TEST_TMPDIR/c.yaml" </dev/null
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "sfsink: $BATS_TEST_TMPDIR/c.yaml:3: auth.username: required key is missing; method jwt needs the Salesforce user name" ]
	[ "${lines[1]}" = "sfsink: $BATS_TEST_TMPDIR/c.yaml:3: auth.private_key_file: required key is missing; method jwt needs private_key or private_key_file" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "access_token needs neither client_id nor secret" {
	printf '%s\n' "org_url: $FAKE_URL" 'client_secret: s' 'auth:' \
	    '  method: access_token' '  access_token: t' '  username: u' \
	    'topic_mappings:' '  - {topic: t, sobject: Account, operation: insert}' \
	    >"$BATS_TEST_TMPDIR/c.yaml"
	run "$SFSINK" -c "$BATS_TEST_TMPDIR/c.yaml" </dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "sfsink: warning: $BATS_TEST_TMPDIR/c.yaml:6: auth.username: ignored with method access_token" ]
	[ "${lines[1]}" = "sfsink: warning: $BATS_TEST_TMPDIR/c.yaml:2: client_secret: ignored with auth.method access_token" ]
}

@test "auth keys are checked like every other" {
	printf '%s\n' "org_url: $FAKE_URL" 'client_id: a' 'client_secret: b' 'auth:' \
	    '  method: saml' '  audiense: x' '  instance_url: ftp://x' \
	    'topic_mappings:' '  - {topic: t, sobject: Account, operation: insert}' \
	    >"$BATS_TEST_TMPDIR/c.yaml"
	run "$SFSINK" -q -c "$BATS_TEST_TMPDIR/c.yaml" </dev/null
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "sfsink: $BATS_TEST_TMPDIR/c.yaml:5: auth.method: invalid value \"saml\"; expected client_credentials, jwt or access_token" ]
	[ "${lines[1]}" = "sfsink: $BATS_TEST_TMPDIR/c.yaml:6: auth.audiense: unknown key; did you mean \"audience\"?" ]
	[[ "${lines[2]}" == "sfsink: $BATS_TEST_TMPDIR/c.yaml:7: auth.instance_url: invalid value \"ftp://x\"; expected https://HOST"* ]]
	[ "${#lines[@]}" -eq 3 ]
}
