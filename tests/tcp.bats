#!/usr/bin/env bats
# http.tcp against the kernel's real behaviour: TCP_USER_TIMEOUT with a peer
# that stops reading, and TCP keep-alive (idle, interval, count) with probes
# that go unanswered because the loopback link of a private network
# namespace is taken down.  With the link down the kernel finds no route
# for a probe, and tcp_keepalive_timer (net/ipv4/tcp_timer.c) counts a
# probe that fails so as sent.  Linux only.  The keep-alive tests need
# unprivileged user namespaces (unshare -rn), ip and ss.

load helpers

# Every test here sends one insert.  An insert is not idempotent, so sfsink
# does not resend it after the connection fails, and each run ends after
# one request.
RECORDS=records.ndjson

setup() {
	[ "$(uname -s)" = Linux ] || skip "TCP_USER_TIMEOUT and TCP_KEEPCNT are Linux socket options"
	PEER_PID=
	write_peer
}

teardown() {
	if [ -n "$PEER_PID" ]; then
		kill "$PEER_PID" 2>/dev/null || true
		wait "$PEER_PID" 2>/dev/null || true
	fi
}

# Skip unless this user may create a network namespace with unshare -rn and
# has ip and ss to manage and inspect it.
require_netns() {
	local p
	for p in unshare ip ss; do
		command -v "$p" >/dev/null 2>&1 || skip "$p is not installed (iproute2, util-linux)"
	done
	unshare -rn true 2>/dev/null ||
	    skip "unshare -rn failed: this system does not let unprivileged users create user and network namespaces"
}

# A peer on 127.0.0.1 that accepts one connection and never responds.  It
# prints its port, then in mode "read" reads one HTTP request and prints
# "request N" with N the body length, and in mode "hold" reads nothing.
# On SIGTERM it prints "queued N": the bytes received but not read.
write_peer() {
	cat >"$BATS_TEST_TMPDIR/peer.py" <<-'PY'
	import fcntl, signal, socket, struct, sys, termios, time

	mode = sys.argv[1]
	listener = socket.socket()
	listener.bind(("127.0.0.1", 0))
	listener.listen(1)
	print(listener.getsockname()[1], flush=True)
	conn, _ = listener.accept()

	def report_queue(signum, frame):
	    queued = fcntl.ioctl(conn, termios.FIONREAD, struct.pack("i", 0))
	    print("queued", struct.unpack("i", queued)[0], flush=True)
	    sys.exit(0)

	def receive():
	    chunk = conn.recv(65536)
	    if not chunk:
	        sys.exit("connection closed before the whole request arrived")
	    return chunk

	signal.signal(signal.SIGTERM, report_queue)
	if mode == "read":
	    data = b""
	    while b"\r\n\r\n" not in data:
	        data += receive()
	    head, body = data.split(b"\r\n\r\n", 1)
	    length = 0
	    for line in head.split(b"\r\n")[1:]:
	        name, value = line.split(b":", 1)
	        if name.strip().lower() == b"content-length":
	            length = int(value)
	    while len(body) < length:
	        body += receive()
	    print("request", len(body), flush=True)
	while True:
	    time.sleep(3600)
	PY
}

# wait_for_line FILE REGEX: wait up to 10 s for a line of FILE that matches
# the extended REGEX, then print it.
wait_for_line() {
	local i
	for i in $(seq 1 400); do
		if grep -Eq "$2" "$1" 2>/dev/null; then
			grep -E -m 1 "$2" "$1"
			return 0
		fi
		sleep 0.025
	done
	echo "no line matching $2 in $1" >&2
	return 1
}

# tcp_config DIR PORT HTTP_LINES: a config in DIR that inserts contacts
# through the peer on PORT.  A ready access token means that no token
# request is made.
tcp_config() {
	cat >"$1/sfsink.yaml" <<-YAML
	org_url: http://127.0.0.1:$2
	auth:
	  method: access_token
	  access_token: test-token
	batch_period: 100ms
	http:
	$3
	topic_mappings:
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
}

# gen_contacts N SIZE: N contact records with a Description of SIZE bytes.
gen_contacts() {
	"$PYTHON3" -c '
import json, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
for i in range(1, n + 1):
    print(json.dumps({"topic": "contacts", "data": {"LastName": "Contact %d" % i,
        "Description": "d" * size}}))
' "$1" "$2"
}

# Milliseconds since the epoch.
now_ms() {
	local t=$EPOCHREALTIME
	echo $(( ${t/[.,]/} / 1000 ))
}

# run_timed: run sfsink on the test's config and records, and set elapsed
# to its run time in milliseconds.
run_timed() {
	local start
	start=$(now_ms)
	run_sfsink -c "$BATS_TEST_TMPDIR/sfsink.yaml" "$BATS_TEST_TMPDIR/$RECORDS"
	elapsed=$(($(now_ms) - start))
	echo "sfsink exited $status after $elapsed ms"
	cat "$ERR"
}

# start_peer DIR MODE: start the peer in this shell's network namespace;
# sets PEER_PID and PEER_PORT.
start_peer() {
	"$PYTHON3" "$1/peer.py" "$2" >"$1/peer.out" 2>"$1/peer.err" &
	PEER_PID=$!
	PEER_PORT=$(wait_for_line "$1/peer.out" '^[0-9]+$')
}

# Fail unless every record has status unknown, code CONNECTION_LOST, and
# the same message, which matches the extended REGEX.
assert_connection_lost() {
	[ "$(jq -r .status "$OUT" | sort -u)" = unknown ]
	[ "$(jq -r '.errors[0].code' "$OUT" | sort -u)" = CONNECTION_LOST ]
	messages=$(jq -r '.errors[0].message' "$OUT" | sort -u)
	echo "messages: $messages"
	[ "$(wc -l <<<"$messages")" -eq 1 ]
	[[ $messages =~ $1 ]]
}

# cut_link_after_request DIR HTTP_LINES, run inside a new network namespace:
# sfsink sends one small insert to a peer that reads it and never responds.
# Once the peer's kernel has acknowledged the whole request, the loopback
# link goes down, so no keep-alive probe gets an answer.  Writes to DIR
# sfsink's results and stderr, its exit status, the ss line of its socket
# taken before the link went down, and the milliseconds from link down to
# sfsink's exit.
cut_link_after_request() {
	local dir=$1 port pid i start end status=0
	ip link set lo up
	"$PYTHON3" "$dir/peer.py" read >"$dir/peer.out" 2>"$dir/peer.err" &
	trap "kill $! 2>/dev/null" EXIT
	port=$(wait_for_line "$dir/peer.out" '^[0-9]+$') || return 1
	tcp_config "$dir" "$port" "$2"
	"$SFSINK" -c "$dir/sfsink.yaml" "$dir/$RECORDS" >"$dir/results.ndjson" 2>"$dir/stderr" &
	pid=$!
	wait_for_line "$dir/peer.out" '^request ' >/dev/null || return 1
	# Send-Q of an established socket is the data not yet acknowledged.
	# With none, the kernel sends keep-alive probes, not retransmissions.
	for i in $(seq 1 400); do
		ss -Htno state established "dport = :$port" >"$dir/ss.txt"
		[ "$(awk '{ print $2 }' "$dir/ss.txt")" = 0 ] && break
		sleep 0.025
	done
	ip link set lo down
	start=$(now_ms)
	wait "$pid" || status=$?
	end=$(now_ms)
	echo "$status" >"$dir/status"
	echo $((end - start)) >"$dir/elapsed_ms"
}

# keep_alive_run HTTP_LINES: run cut_link_after_request in a new network
# namespace; sets $status, $OUT, $ERR, $ELAPSED_MS and $SS_LINE.
keep_alive_run() {
	local dir=$BATS_TEST_TMPDIR
	require_netns
	gen_contacts 3 10 >"$dir/$RECORDS"
	RECORDS=$RECORDS unshare -rn "$BASH" -c "$(declare -f wait_for_line \
	    tcp_config now_ms cut_link_after_request); cut_link_after_request \"\$@\"" \
	    cut_link_after_request "$dir" "$1"
	OUT=$dir/results.ndjson
	ERR=$dir/stderr
	status=$(cat "$dir/status")
	ELAPSED_MS=$(cat "$dir/elapsed_ms")
	SS_LINE=$(cat "$dir/ss.txt")
	echo "sfsink exited $status after ${ELAPSED_MS} ms without a link"
	echo "socket before: $SS_LINE"
	cat "$ERR"
}

# assert_elapsed_near MS: sfsink gave up between 0.6 s before and 0.8 s
# after MS, so one probe or one second more or less fails the test.  The
# start is when the link went down, a few milliseconds after the last
# packet from the peer, from which the kernel counts.  Kernel timers fire
# late, never early.  On 2 cores, with two copies of this file and two
# busy loops running, sfsink gave up 50 ms early to 200 ms late.
assert_elapsed_near() {
	[ "$ELAPSED_MS" -ge $(($1 - 600)) ]
	[ "$ELAPSED_MS" -le $(($1 + 800)) ]
}

KEEP_ALIVE_LOST='^Recv failure: Connection timed out, after the request was sent'

@test "tcp_user_timeout ends a closed send window" {
	# The peer never reads, so its receive window closes long before the
	# 200 records of about 4 KB each have gone out.  Linux then sends
	# zero-window probes, which the peer answers, and aborts the connection
	# once they have gone on for TCP_USER_TIMEOUT.
	gen_contacts 200 4000 >"$BATS_TEST_TMPDIR/$RECORDS"
	start_peer "$BATS_TEST_TMPDIR" hold
	tcp_config "$BATS_TEST_TMPDIR" "$PEER_PORT" '  timeout: 60s
  tcp:
    tcp_user_timeout: 2s'
	run_timed
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/$RECORDS"
	assert_connection_lost '^(Send|Recv) failure: Connection timed out, '
	grep -q '^sfsink: 1 API request$' "$ERR"
	[ "$elapsed" -ge 1800 ]
	[ "$elapsed" -le 6000 ]

	# Most of the request body never reached the peer.
	kill -TERM "$PEER_PID"
	wait "$PEER_PID" || true
	PEER_PID=
	queued=$(wait_for_line "$BATS_TEST_TMPDIR/peer.out" '^queued ' | cut -d' ' -f2)
	echo "peer received $queued of $(wc -c <"$BATS_TEST_TMPDIR/$RECORDS") input bytes"
	[ "$queued" -gt 0 ]
	[ "$queued" -lt 400000 ]
}

@test "closed send window lasts without tcp_user_timeout" {
	# The same peer, without TCP_USER_TIMEOUT: the kernel keeps probing the
	# zero window (tcp_retries2 times, for minutes), so only http.timeout
	# ends the request.
	gen_contacts 200 4000 >"$BATS_TEST_TMPDIR/$RECORDS"
	start_peer "$BATS_TEST_TMPDIR" hold
	tcp_config "$BATS_TEST_TMPDIR" "$PEER_PORT" '  timeout: 6s'
	run_timed
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/$RECORDS"
	assert_connection_lost '^Operation timed out after 6[0-9]{3} milliseconds '
	[ "$elapsed" -ge 5900 ]
}

@test "keep-alive gives up after count probes" {
	keep_alive_run '  timeout: 20s
  tcp:
    keep_alive:
      idle: 1s
      interval: 1s
      count: 2'
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/$RECORDS"
	assert_connection_lost "$KEEP_ALIVE_LOST"
	# SO_KEEPALIVE is on: the socket's timer is the keep-alive timer, with
	# no probe sent yet, due in under the idle time of 1 s.  ss prints
	# 1.5 s as "1.500ms", so digits and "ms" alone are under a second.
	[[ $SS_LINE =~ timer:\(keepalive,[0-9]+ms,0\) ]]
	# idle + count x interval = 1 s + 2 x 1 s.
	assert_elapsed_near 3000
}

@test "keep_alive.count 6 waits for six probes" {
	keep_alive_run '  timeout: 20s
  tcp:
    keep_alive:
      idle: 1s
      interval: 1s
      count: 6'
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/$RECORDS"
	assert_connection_lost "$KEEP_ALIVE_LOST"
	# 1 s + 6 x 1 s.
	assert_elapsed_near 7000
}

@test "keep_alive.interval spaces the probes" {
	keep_alive_run '  timeout: 20s
  tcp:
    keep_alive:
      idle: 1s
      interval: 2s
      count: 2'
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/$RECORDS"
	assert_connection_lost "$KEEP_ALIVE_LOST"
	# 1 s + 2 x 2 s.
	assert_elapsed_near 5000
}

@test "keep_alive.idle delays the first probe" {
	keep_alive_run '  timeout: 20s
  tcp:
    keep_alive:
      idle: 3s
      interval: 1s
      count: 2'
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/$RECORDS"
	assert_connection_lost "$KEEP_ALIVE_LOST"
	# 3 s + 2 x 1 s.
	assert_elapsed_near 5000
}

@test "negative keep_alive.idle sends no probes" {
	# Without probes nothing notices the lost link, so http.timeout ends
	# the request.
	keep_alive_run '  timeout: 4s
  tcp:
    keep_alive:
      idle: -1s'
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/$RECORDS"
	assert_connection_lost '^Operation timed out after 4[0-9]{3} milliseconds '
	[[ $SS_LINE != *timer:* ]]
}

@test "tcp_user_timeout overrides keep_alive.count" {
	# With TCP_USER_TIMEOUT set, Linux drops a connection with unanswered
	# keep-alive probes once the last packet received is older than
	# TCP_USER_TIMEOUT and one probe is out, whatever TCP_KEEPCNT says
	# (tcp_keepalive_timer in net/ipv4/tcp_timer.c).  Here that is at
	# idle + 1 x interval = 4 s, not at idle + count x interval = 11 s.
	keep_alive_run '  timeout: 20s
  tcp:
    keep_alive:
      idle: 3s
      interval: 1s
      count: 8
    tcp_user_timeout: 2s'
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$BATS_TEST_TMPDIR/$RECORDS"
	assert_connection_lost "$KEEP_ALIVE_LOST"
	assert_elapsed_near 4000
}
