#!/usr/bin/env bats
# TLS against real peers on loopback: the fake org over TLS and with
# mutual TLS, nginx as an HTTP/2 front, tinyproxy tunnelling with CONNECT.
# The certificates are made with openssl for this file.

load helpers
load peers

COLLECTIONS='^/services/data/v[0-9.]+/composite/sobjects'

setup_file() {
	command -v openssl >/dev/null 2>&1 || return 0
	make_pki "$BATS_FILE_TMPDIR/pki"
}

setup() {
	require_programs openssl
	PKI="$BATS_FILE_TMPDIR/pki"
	gen_accounts accounts 2 >"$BATS_TEST_TMPDIR/in.ndjson"
}

teardown() {
	peers_teardown
}

# tls_config URL TLS_LINES [HTTP_LINES]: an upsert config for URL with
# TLS_LINES under http.tls and HTTP_LINES under http.
tls_config() {
	local url=$1
	FAKE_URL=$url write_config "http:
  backoff:
    initial_interval: 10ms
    max_retries: 1
  tls:
    enabled: true
$2
${3:-}" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
}

# Indent the PEM file $1 for a YAML block scalar under a list item.
pem_block() {
	sed 's/^/          /' "$1"
}

# The statuses of the results, sorted and unique.
statuses() {
	jq -r .status "$OUT" | sort -u
}

@test "server verified with root_cas_file" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key"
	[[ "$FAKE_URL" == https://127.0.0.1:* ]]
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]
	[ "$(fake_tls GET /__fake/records/Account | jq length)" -eq 2 ]
}

@test "server verified with inline root_cas" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key"
	cfg=$(tls_config "$FAKE_URL" "    root_cas: |
$(sed 's/^/      /' "$PKI/ca.pem")")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]
}

@test "wrong CA fails verification" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key"
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/other-ca.pem")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = not_processed ]
	grep -q 'token request to .* failed: SSL certificate problem: unable to get local issuer certificate' "$ERR"
	# The handshake failed, so no request reached the fake.
	[ "$(fake_tls GET /__fake/requests | jq length)" -eq 0 ]
}

@test "system CAs do not trust the test CA" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key"
	cfg=$(FAKE_URL=$FAKE_URL write_config "http:
  backoff:
    max_retries: 0" <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q 'SSL certificate problem' "$ERR"
}

@test "skip_cert_verify connects and warns" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key"
	cfg=$(tls_config "$FAKE_URL" "    skip_cert_verify: true")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]
	[ "$(grep -c "^sfsink: warning: http.tls.skip_cert_verify is true: the server's certificate and host name are not verified" "$ERR")" -eq 1 ]
}

@test "mTLS with certificate files" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" --client-ca "$PKI/ca.pem"
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem
    client_certs:
      - cert_file: $PKI/client.pem
        key_file: $PKI/client.key")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]
	[ "$(fake_tls GET /__fake/records/Account | jq length)" -eq 2 ]
}

@test "mTLS with inline certificate and key" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" --client-ca "$PKI/ca.pem"
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem
    client_certs:
      - cert: |
$(pem_block "$PKI/client.pem")
        key: |
$(pem_block "$PKI/client.key")")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]
}

@test "mTLS with encrypted PKCS#8 and PKCS#1 keys" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" --client-ca "$PKI/ca.pem"
	for key in client-pkcs8.key client-pkcs1.key; do
		cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem
    client_certs:
      - cert_file: $PKI/client.pem
        key_file: $PKI/$key
        password: $PKI_PASSWORD")
		run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
		[ "$status" -eq 0 ]
		assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
		[ "$(statuses)" = ok ]
	done
	# An inline encrypted key works too.
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem
    client_certs:
      - cert: |
$(pem_block "$PKI/client.pem")
        key: |
$(pem_block "$PKI/client-pkcs8.key")
        password: $PKI_PASSWORD")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(statuses)" = ok ]
}

@test "mTLS with a wrong password" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" --client-ca "$PKI/ca.pem"
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem
    client_certs:
      - cert_file: $PKI/client.pem
        key_file: $PKI/client-pkcs8.key
        password: not-the-password")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = not_processed ]
	grep -q "^sfsink: http.tls.client_certs\[0\]: cannot decrypt key_file \"$PKI/client-pkcs8.key\": .*; check password$" "$ERR"
	! grep -q 'not-the-password' "$ERR"
	[ "$(fake_tls GET /__fake/requests | jq length)" -eq 0 ]
}

@test "mTLS with an encrypted key and no password" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" --client-ca "$PKI/ca.pem"
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem
    client_certs:
      - cert_file: $PKI/client.pem
        key_file: $PKI/client-pkcs1.key")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q "^sfsink: http.tls.client_certs\[0\]: key_file \"$PKI/client-pkcs1.key\" is encrypted; set password$" "$ERR"
}

@test "mTLS without a client certificate is refused" {
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" --client-ca "$PKI/ca.pem"
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = not_processed ]
	[ "$(fake_tls GET /__fake/requests | jq length)" -eq 0 ]
}

@test "tls_handshake_timeout ends a silent handshake" {
	# A listening socket that never accepts: the kernel completes the TCP
	# handshake, and nobody answers the TLS ClientHello.
	"$PYTHON3" -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$BATS_TEST_TMPDIR/port" &
	SILENT_PID=$!
	for i in $(seq 1 200); do
		[ -s "$BATS_TEST_TMPDIR/port" ] && break
		sleep 0.025
	done
	cfg=$(tls_config "https://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")" \
	    "    root_cas_file: $PKI/ca.pem" "  http:
    tls_handshake_timeout: 300ms")
	start=$(date +%s.%N)
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	end=$(date +%s.%N)
	kill "$SILENT_PID"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q 'failed: TLS handshake not finished within http.http.tls_handshake_timeout (300ms)$' "$ERR"
	# Two attempts of 300 ms, far below http.timeout (5 s).
	awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s >= 0.55 && e - s < 2) }'
}

@test "nginx front negotiates HTTP/2" {
	require_programs nginx
	fake_start
	nginx_start "$(nginx_front)"
	cfg=$(tls_config "$NGINX_URL" "    root_cas_file: $PKI/ca.pem")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]
	grep -q '^POST /services/oauth2/token HTTP/2.0 200 ' "$NGINX_LOG"
	grep -q '^PATCH /services/data/v65.0/composite/sobjects/Account/External_Id__c HTTP/2.0 200 ' "$NGINX_LOG"
	! grep -q 'HTTP/1.1' "$NGINX_LOG"
	[ "$(fake_requests "$COLLECTIONS" | jq length)" -eq 1 ]
}

@test "disable_http2 keeps HTTP/1.1 with nginx" {
	require_programs nginx
	fake_start
	nginx_start "$(nginx_front)"
	cfg=$(tls_config "$NGINX_URL" "    root_cas_file: $PKI/ca.pem" \
	    "  disable_http2: true")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q '^POST /services/oauth2/token HTTP/1.1 200 ' "$NGINX_LOG"
	grep -q '^PATCH /services/data/v65.0/composite/sobjects/Account/External_Id__c HTTP/1.1 200 ' "$NGINX_LOG"
	! grep -q 'HTTP/2.0' "$NGINX_LOG"
}

@test "client certificate chosen by the CAs nginx names" {
	require_programs nginx
	fake_start
	# nginx sends the names of ssl_client_certificate's CAs in its
	# certificate request; the first entry is signed by another CA.
	nginx_start "ssl_client_certificate $PKI/ca.pem;
	        ssl_verify_client on;
	        $(nginx_front)"
	cfg=$(tls_config "$NGINX_URL" "    root_cas_file: $PKI/ca.pem
    client_certs:
      - cert_file: $PKI/other-client.pem
        key_file: $PKI/other-client.key
      - cert_file: $PKI/client.pem
        key_file: $PKI/client.key")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]

	# With only the certificate of the other CA, nginx refuses.
	cfg=$(tls_config "$NGINX_URL" "    root_cas_file: $PKI/ca.pem
    client_certs:
      - cert_file: $PKI/other-client.pem
        key_file: $PKI/other-client.key")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	grep -q 'HTTP 400: .*No required SSL certificate was sent' "$ERR"
}

@test "proxy_url tunnels TLS with CONNECT" {
	require_programs tinyproxy
	fake_start --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key"
	tinyproxy_start
	cfg=$(tls_config "$FAKE_URL" "    root_cas_file: $PKI/ca.pem" \
	    "  proxy_url: $PROXY_URL")
	run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]
	port=${FAKE_URL##*:}
	grep -q "Request (file descriptor [0-9]*): CONNECT 127.0.0.1:$port HTTP/1.1" "$PROXY_LOG"
	[ "$(fake_tls GET /__fake/records/Account | jq length)" -eq 2 ]
}

# ---------------------------------------------------------------------------
# Renegotiation against tests/peers/renegotiating_server (see
# renegotiating_server_start in peers.bash), which offers TLS 1.2 only and
# requests a renegotiation after reading each request.

# renegotiation_config [TLS_LINE]: an insert config that signs in with the
# access token in $SF_TOKEN and sends to the renegotiating server, with
# TLS_LINE under http.tls.  No retries, so each run makes one connection.
renegotiation_config() {
	local path="$BATS_TEST_TMPDIR/sfsink.yaml"
	cat >"$path" <<-YAML
	org_url: $RENEG_URL
	batch_period: 100ms
	auth:
	  method: access_token
	  access_token: \${SF_TOKEN}
	  instance_url: $RENEG_URL
	http:
	  backoff:
	    max_retries: 0
	  tls:
	    enabled: true
	    root_cas_file: $PKI/ca.pem
	    ${1:-}
	topic_mappings:
	  - topic: accounts
	    sobject: Account
	    operation: insert
	YAML
	chmod 600 "$path"
	echo "$path"
}

@test "enable_renegotiation accepts a renegotiation" {
	renegotiating_server_start
	cfg=$(renegotiation_config "enable_renegotiation: true")
	SF_TOKEN=test-token run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$(statuses)" = ok ]
	# The server sends its response, with these ids, only after the
	# renegotiation.
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 1 .id)" = '"001RN0000000000001"' ]
	[ "$(result_of "$BATS_TEST_TMPDIR/in.ndjson" 2 .id)" = '"001RN0000000000002"' ]
	renegotiating_server_wait 1
	[ "$(cat "$RENEG_LOG")" = renegotiated ]
	grep -q '^sfsink: 1 API request' "$ERR"
	! grep -q 'renegotiation' "$ERR"
}

@test "renegotiation refused by default" {
	renegotiating_server_start
	# The key left out, then set to its default.
	for line in "" "enable_renegotiation: false"; do
		: >"$RENEG_LOG"
		cfg=$(renegotiation_config "$line")
		SF_TOKEN=test-token run_sfsink -c "$cfg" "$BATS_TEST_TMPDIR/in.ndjson"
		[ "$status" -eq 1 ]
		assert_one_result_per_record "$BATS_TEST_TMPDIR/in.ndjson"
		# OpenSSL's client answers the HelloRequest with a no_renegotiation
		# alert, and the server ends the connection with a handshake_failure
		# alert.
		renegotiating_server_wait 1
		[ "$(cat "$RENEG_LOG")" = "renegotiation refused: no renegotiation" ]
		# The insert was sent, so sfsink cannot know whether it was written.
		[ "$(statuses)" = unknown ]
		[ "$(jq -r '.errors[0].code' "$OUT" | sort -u)" = CONNECTION_LOST ]
		# The result names the server's alert; the log says why.
		[ "$(jq -r '.errors[0].message' "$OUT" | sort -u | wc -l)" -eq 1 ]
		grep -q 'TLS renegotiation requested by the server was rejected; set http.tls.enabled and http.tls.enable_renegotiation to true' "$ERR"
		jq -r '.errors[0].message' "$OUT" | head -n 1 |
		    grep -q '^OpenSSL SSL_read: .*sslv3 alert handshake failure.*, after the request was sent; the records may or may not have been written$'
		grep -q '^sfsink: 1 API request' "$ERR"
	done
}
