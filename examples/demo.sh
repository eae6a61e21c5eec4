#!/bin/sh
# Load the example accounts and contacts into a local fake Salesforce org,
# print one result line per record, then list what the org now stores.
#
# usage: demo.sh [DIR]
#
# DIR contains sfsink.yaml and the accounts, contacts and invoices files (default: the
# directory of this script).  `make demo` runs it with these variables set;
# run by hand, they default to the build tree:
#   SFSINK    the sfsink binary
#   FAKE_ORG  tests/fake/fake_org.py
#   PYTHON3   the Python 3 interpreter that runs the fake org
#
# Some records fail on purpose, so the demo exits 0 when sfsink exits 0 or 1,
# and otherwise with sfsink's exit status.
set -u

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here}
: "${SFSINK:=$here/../sfsink}"
: "${FAKE_ORG:=$here/../tests/fake/fake_org.py}"
: "${PYTHON3:=python3}"

# The runs below start in $dir, so relative paths must be made absolute first.
make_absolute() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*/*) printf '%s/%s\n' "$PWD" "$1" ;;
	*) printf '%s\n' "$1" ;;	# a command name, found through PATH
	esac
}
SFSINK=$(make_absolute "$SFSINK")
FAKE_ORG=$(make_absolute "$FAKE_ORG")
dir=$(cd "$dir" && pwd) || exit 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sfsink-demo.XXXXXX") || exit 2
fake_pid=""
cleanup() {
	if [ -n "$fake_pid" ]; then
		kill "$fake_pid" 2>/dev/null
		wait "$fake_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The fake org listens on a free loopback port and prints its base URL as
# the first line of its output.  Wait for that line, for at most 10 seconds.
"$PYTHON3" "$FAKE_ORG" --port 0 > "$tmp/url" 2> "$tmp/fake.log" &
fake_pid=$!
tries=0
while [ "$(wc -l < "$tmp/url")" -lt 1 ]; do
	if ! kill -0 "$fake_pid" 2>/dev/null; then
		echo "demo: the fake org exited before it was ready:" >&2
		cat "$tmp/fake.log" >&2
		exit 2
	fi
	tries=$((tries + 1))
	if [ "$tries" -gt 100 ]; then
		echo "demo: timed out after 10 seconds waiting for the fake org's URL" >&2
		exit 2
	fi
	sleep 0.1
done
url=$(head -n 1 "$tmp/url")
echo "demo: fake org at $url"

# sfsink.yaml takes these from the environment.  The fake org accepts the
# client id sfsink-demo with this secret.
SFSINK_ORG_URL=$url
SFSINK_CLIENT_SECRET=sfsink-demo-secret
export SFSINK_ORG_URL SFSINK_CLIENT_SECRET

# Every contact and invoice refers to its account by external ID, so the
# accounts must be stored before any of them is sent.  In one run,
# sfsink.yaml's max_in_flight of 2 would let the accounts request and the
# contacts request run at the same time.  Two runs, accounts first, keep
# the order; the second loads contacts (realtime) and invoices (bulk).
cd "$dir" || exit 2
status=0
for input in accounts.ndjson "contacts.ndjson invoices.ndjson"; do
	echo "demo: sfsink -c sfsink.yaml $input"
	# shellcheck disable=SC2086 # $input is one or two file names.
	"$SFSINK" -c sfsink.yaml $input >> "$tmp/results.ndjson"
	rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "demo: sfsink exited with status $rc" >&2
		status=$rc
		break
	fi
done

# Result lines come in the order their outcomes are known, so sort them by
# file and line.
echo
echo "Results:"
if command -v jq >/dev/null 2>&1; then
	jq -c -s 'sort_by(.source, .line)[]' "$tmp/results.ndjson"
else
	cat "$tmp/results.ndjson"
fi

echo
echo "Stored in the fake org:"
"$PYTHON3" - "$url" <<'EOF'
import json
import sys
import urllib.request

base = sys.argv[1]


def records(sobject):
    with urllib.request.urlopen(base + "/__fake/records/" + sobject) as resp:
        return json.load(resp)


accounts = records("Account")
names = {a["Id"]: a.get("Name") for a in accounts}
print("%d accounts:" % len(accounts))
for a in accounts:
    print("  %s  %-14s %s" % (a["Id"], a.get("External_Id__c"), a.get("Name")))
contacts = records("Contact")
print("%d contacts:" % len(contacts))
for c in contacts:
    name = "%s %s" % (c.get("FirstName") or "", c.get("LastName") or "")
    print("  %s  %-20s %s" % (c["Id"], name.strip(), names.get(c.get("AccountId"), "")))
invoices = records("Invoice__c")
print("%d invoices (loaded through Bulk API 2.0):" % len(invoices))
for i in invoices:
    print("  %s  %-14s %10s  %s" % (i["Id"], i.get("Invoice_Number__c"),
          i.get("Amount__c"), names.get(i.get("Account__c"), "")))
EOF
exit "$status"
