# Helpers for tests against real peers on loopback: certificates made with
# openssl, the fake org over TLS, nginx, tinyproxy and a renegotiating TLS
# server.  Each server runs in the foreground of a background job with its
# files under the test's own directory, and is stopped by peers_teardown.
# Readiness is a ready line or an open port, never a fixed sleep.

PKI_PASSWORD=s3cret-pass

# Skip the test unless every named program is installed.
require_programs() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 ||
		    skip "$p is not installed (bootstrap installs it)"
	done
}

# make_pki DIR: a CA and a server certificate for 127.0.0.1, ::1 and
# localhost.  A client certificate with its key plain, encrypted as PKCS#8
# and encrypted as PKCS#1.  A second CA with a client certificate of its
# own, and an RSA key pair for JWT assertions.
make_pki() {
	local d=$1
	mkdir -p "$d"
	(
	set -e
	cd "$d"
	ossl() { openssl "$@" 2>/dev/null; }
	ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
	    -days 2 -subj "/CN=sfsink test CA"
	ossl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key \
	    -out other-ca.pem -days 2 -subj "/CN=sfsink other CA"
	printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n' >server.ext
	ossl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
	    -subj "/CN=localhost"
	ossl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile server.ext -out server.pem
	ossl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
	    -subj "/CN=sfsink client"
	ossl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 2 -out client.pem
	ossl req -newkey rsa:2048 -nodes -keyout other-client.key \
	    -out other-client.csr -subj "/CN=sfsink other client"
	ossl x509 -req -in other-client.csr -CA other-ca.pem \
	    -CAkey other-ca.key -CAcreateserial -days 2 -out other-client.pem
	ossl pkcs8 -topk8 -in client.key -v2 aes-256-cbc \
	    -passout "pass:$PKI_PASSWORD" -out client-pkcs8.key
	ossl rsa -in client.key -aes256 -traditional \
	    -passout "pass:$PKI_PASSWORD" -out client-pkcs1.key
	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt.key
	ossl pkey -in jwt.key -pubout -out jwt.pub
	)
}

# A free TCP port on 127.0.0.1.
free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID: wait until 127.0.0.1:PORT accepts connections, while
# PID lives.  Fails after 10 seconds.
wait_port() {
	local port=$1 pid=$2 i
	for i in $(seq 1 400); do
		if "$PYTHON3" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$port" 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.025
	done
	echo "nothing listens on port $port" >&2
	return 1
}

# Call the fake org's control API over TLS, as fake does: CA from
# $PKI/ca.pem, and the client certificate when the fake requires one.
fake_tls() {
	"$PYTHON3" - "$FAKE_URL" "$PKI" "$@" <<'PY'
import ssl, sys, urllib.error, urllib.request
base, pki, method, path = sys.argv[1:5]
body = sys.argv[5].encode() if len(sys.argv) > 5 else None
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/client.pem", pki + "/client.key")
req = urllib.request.Request(base + path, data=body, method=method)
if body is not None:
    req.add_header("Content-Type", "application/json")
try:
    with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:
        sys.stdout.write(resp.read().decode())
except urllib.error.HTTPError as err:
    sys.stdout.write(err.read().decode())
    sys.exit(1)
PY
}

# nginx_start CONF_BODY: run nginx with the lines CONF_BODY in its server
# block, where @NGINX_URL@ stands for its own URL, under
# $BATS_TEST_TMPDIR/nginx.  Sets NGINX_URL, NGINX_PID and NGINX_LOG (the
# access log).
nginx_start() {
	local dir="$BATS_TEST_TMPDIR/nginx" port
	mkdir -p "$dir/logs" "$dir/tmp"
	port=$(free_port)
	NGINX_URL="https://127.0.0.1:$port"
	NGINX_LOG="$dir/logs/access.log"
	cat >"$dir/nginx.conf" <<-CONF
	worker_processes 1;
	error_log $dir/logs/error.log warn;
	pid $dir/nginx.pid;
	events { worker_connections 64; }
	http {
	    log_format peer '\$request_method \$request_uri \$server_protocol \$status \$connection';
	    access_log $NGINX_LOG peer;
	    client_body_temp_path $dir/tmp/body;
	    proxy_temp_path $dir/tmp/proxy;
	    fastcgi_temp_path $dir/tmp/fastcgi;
	    uwsgi_temp_path $dir/tmp/uwsgi;
	    scgi_temp_path $dir/tmp/scgi;
	    server {
	        listen 127.0.0.1:$port ssl http2;
	        ssl_certificate $PKI/server.pem;
	        ssl_certificate_key $PKI/server.key;
	        ${1//@NGINX_URL@/$NGINX_URL}
	    }
	}
	CONF
	nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>"$dir/stderr" &
	NGINX_PID=$!
	wait_port "$port" "$NGINX_PID" || { cat "$dir/stderr" "$dir/logs/error.log" >&2; return 1; }
}

# The server block of nginx as a front of the fake org.  The fake names
# itself as instance_url in token responses, so nginx rewrites that to its
# own URL, and API calls pass through nginx too.
nginx_front() {
	cat <<-CONF
	location / {
	    proxy_pass $FAKE_URL;
	    proxy_http_version 1.1;
	    proxy_set_header Accept-Encoding "";
	    sub_filter_types application/json;
	    sub_filter_once off;
	    sub_filter '$FAKE_URL' '@NGINX_URL@';
	}
	CONF
}

# nginx_front with request bodies of any size passed on to the fake as
# they arrive (proxy_request_buffering off), so a fake that stops reading
# a body stops the client's upload too once the buffers on the way fill.
nginx_streaming_front() {
	cat <<-CONF
	client_max_body_size 0;
	proxy_request_buffering off;
	CONF
	nginx_front
}

# tinyproxy_start: run tinyproxy on a loopback port, allowing only
# 127.0.0.1, logging every connection.  Sets PROXY_URL, PROXY_PID and
# PROXY_LOG.
tinyproxy_start() {
	local dir="$BATS_TEST_TMPDIR/tinyproxy" port
	mkdir -p "$dir"
	port=$(free_port)
	PROXY_LOG="$dir/tinyproxy.log"
	cat >"$dir/tinyproxy.conf" <<-CONF
	Port $port
	Listen 127.0.0.1
	Timeout 30
	LogFile "$PROXY_LOG"
	LogLevel Connect
	MaxClients 20
	Allow 127.0.0.1
	DisableViaHeader Yes
	CONF
	tinyproxy -d -c "$dir/tinyproxy.conf" 2>"$dir/stderr" &
	PROXY_PID=$!
	PROXY_URL="http://127.0.0.1:$port"
	wait_port "$port" "$PROXY_PID" || { cat "$dir/stderr" >&2; return 1; }
}

# renegotiating_server_start: run tests/peers/renegotiating_server, which
# make check builds and exports as RENEGOTIATING_SERVER, with the server
# certificate of $PKI.  Sets RENEG_URL, RENEG_PID and RENEG_LOG, where the
# server writes one outcome line per connection.
renegotiating_server_start() {
	local url_file="$BATS_TEST_TMPDIR/reneg.url" i
	if [ ! -x "${RENEGOTIATING_SERVER:-}" ]; then
		echo "RENEGOTIATING_SERVER is not a built renegotiating_server; run the tests through make check" >&2
		return 1
	fi
	RENEG_LOG="$BATS_TEST_TMPDIR/reneg.log"
	: >"$url_file"
	"$RENEGOTIATING_SERVER" "$PKI/server.pem" "$PKI/server.key" "$RENEG_LOG" \
	    >"$url_file" 2>"$BATS_TEST_TMPDIR/reneg.stderr" &
	RENEG_PID=$!
	for i in $(seq 1 400); do
		if grep -q '^https://' "$url_file"; then
			RENEG_URL=$(head -n 1 "$url_file")
			return 0
		fi
		kill -0 "$RENEG_PID" 2>/dev/null || break
		sleep 0.025
	done
	echo "renegotiating server did not start:" >&2
	cat "$BATS_TEST_TMPDIR/reneg.stderr" >&2
	return 1
}

# renegotiating_server_wait N: wait until RENEG_LOG has N lines.  The server
# writes a refusal after the client has seen the connection fail, so a
# client can exit before the line is there.  Fails after 5 seconds.
renegotiating_server_wait() {
	local i
	for i in $(seq 1 200); do
		[ "$(count_lines "$RENEG_LOG")" -lt "$1" ] || return 0
		sleep 0.025
	done
	echo "expected $1 lines in $RENEG_LOG, got:" >&2
	cat "$RENEG_LOG" >&2
	return 1
}

# Stop the servers a test started, then the fake org.
peers_teardown() {
	local pid
	for pid in "${NGINX_PID:-}" "${PROXY_PID:-}" "${RENEG_PID:-}"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	NGINX_PID= PROXY_PID= RENEG_PID=
	fake_stop
}
