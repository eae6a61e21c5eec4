#!/usr/bin/env bats
# Bulk jobs at shutdown: aborts, the shutdown wait, --bulk-wait, the
# journal and --resume.

load helpers

JOBS='/jobs/ingest'

setup() {
	fake_start --bulk-delay 0.05
	IN="$BATS_TEST_TMPDIR/in.ndjson"
	JOURNAL="$BATS_TEST_TMPDIR/journal.ndjson"
	OUT="$BATS_TEST_TMPDIR/out"
	ERR="$BATS_TEST_TMPDIR/err"
}

# Start sfsink with ARGS on $IN in the background; sets PID.
start_sfsink() {
	"$SFSINK" "$@" "$IN" >"$OUT" 2>"$ERR" &
	PID=$!
}

# Wait for the sfsink started by start_sfsink; sets status.
wait_sfsink() {
	status=0
	wait "$PID" || status=$?
}

# resume ARGS: sfsink --resume on the journal, results in $OUT.
resume() {
	run_sfsink -c "$cfg" --resume "$JOURNAL" "$@"
}

job_field() {
	fake GET /__fake/jobs | jq -r ".[${1:-0}].$2 // empty"
}

# Run the command ARGS until it succeeds, for about 10 seconds at most.
wait_until() {
	local i
	for i in $(seq 1 400); do
		"$@" && return 0
		sleep 0.025
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# Whether job N exists and its state matches the regex STATES.
job_in_state() {
	[[ "$(job_field "$1" state)" =~ ^($2)$ ]]
}

# Whether the fake has received a request whose path matches REGEX.
has_request() {
	[ "$(fake_requests "$1" | jq length)" -ge 1 ]
}

# Let job N, held InProgress by a long bulk_delay, finish now.
finish_job() {
	fake POST "/__fake/jobs/$(job_field "$1" id)" '{"bulk_delay": 0}' >/dev/null
	wait_until job_in_state "$1" 'JobComplete|Failed'
}

# Run sfsink until its first job has been closed, then SIGTERM it and wait.
# The fake keeps every job InProgress for 30 seconds.
stop_while_job_runs() {
	fake POST /__fake/config '{"bulk_delay": 30}' >/dev/null
	start_sfsink "$@"
	wait_until job_in_state 0 'UploadComplete|InProgress'
	kill -TERM "$PID"
	wait_sfsink
}

# The distinct values of jq FILTER over the result lines, one per line.
distinct() {
	jq -r "$1" "$OUT" | sort -u
}

@test "SIGTERM aborts a job being uploaded" {
	fake_faults '[{"method": "PUT", "path": "/batches$", "action": "delay", "seconds": 2}]'
	cfg=$(bulk_config insert)
	records '{"Name":"A"}' '{"Name":"B"}'
	start_sfsink -c "$cfg" --journal "$JOURNAL"
	wait_until has_request '/batches$'
	kill -TERM "$PID"
	wait_sfsink
	[ "$status" -eq 143 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	[ "$(distinct .status)" = not_processed ]
	[ "$(distinct .job_id)" = "$job" ]
	[ "$(distinct '.errors[0].code')" = RUN_STOPPED ]
	[[ "$(distinct '.errors[0].message')" == "interrupted by SIGTERM before job $job was closed;"* ]]
	# The upload ended, then the job was aborted instead of closed.
	[ "$(fake_requests "$JOBS/$job\$" | jq -c '[.[] | select(.method == "PATCH") | .body]')" = '["{\"state\":\"Aborted\"}"]' ]
	[ "$(job_field 0 state)" = Aborted ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 0 ]
	# A job that was never closed has no journal entry.
	[ ! -s "$JOURNAL" ]
}

@test "SIGTERM waits for a closed job" {
	fake POST /__fake/config '{"bulk_delay": 1}' >/dev/null
	cfg=$(bulk_config insert)
	records '{"Name":"A"}' '{"Name":"B"}' '{"Name":"C"}'
	start_sfsink -c "$cfg" --journal "$JOURNAL"
	wait_until job_in_state 0 'UploadComplete|InProgress'
	kill -TERM "$PID"
	wait_sfsink
	[ "$status" -eq 143 ]
	assert_one_result_per_record "$IN"
	[ "$(distinct .status)" = ok ]
	[ "$(distinct .job_id)" = "$(job_field 0 id)" ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 3 ]
	grep -q 'SIGTERM received' "$ERR"
	# Its results were written, so the journal marks the job done.
	[ "$(jq -c 'select(.entry == "done") | [.job_id, .state]' "$JOURNAL")" = "[\"$(job_field 0 id)\",\"JobComplete\"]" ]
}

@test "shutdown wait leaves job for resume" {
	cfg=$(bulk_config insert)
	records '{"Name":"A","AnnualRevenue":912260031}' '{"Name":"B","AnnualRevenue":912260032}' '{"Name":"C"}'
	printf '%s\n' '{"topic":"t","partition":3,"offset":12345678901,"tstype":"create","ts":1700000000000,"broker":0,"key":null,"payload":"{\"Name\":\"K\"}"}' >>"$IN"
	stop_while_job_runs -c "$cfg" --journal "$JOURNAL" --shutdown-wait 1s
	[ "$status" -eq 143 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	[ "$(distinct '[.status, .job_id, .errors[0].code] | join(" ")')" = "not_processed $job JOB_STILL_RUNNING" ]
	[[ "$(distinct '.errors[0].message')" == *"still InProgress in Salesforce after the 1s shutdown wait"* ]]
	[[ "$(distinct '.errors[0].message')" == *"--resume $JOURNAL" ]]

	# The journal: the job line, then one line per record; no done line.
	[ "$(jq -c 'select(.entry == "job") | [.job_id, .api_version, .sobject, .operation, .records]' "$JOURNAL")" = "[\"$job\",\"v65.0\",\"Account\",\"insert\",4]" ]
	[ "$(jq -c 'select(.entry == "record") | [.source, .line]' "$JOURNAL" | tr -d '\n')" = "[\"$IN\",1][\"$IN\",2][\"$IN\",3][\"$IN\",4]" ]
	grep -qF '"data":{"Name":"A","AnnualRevenue":912260031}' "$JOURNAL"
	[ "$(jq -c 'select(.entry == "record" and .line == 4) | .kafka' "$JOURNAL")" = '{"partition":3,"offset":12345678901}' ]
	[ "$(jq -c 'select(.entry == "done")' "$JOURNAL")" = "" ]

	finish_job 0
	resume
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(distinct '[.status, .job_id, .mode] | join(" ")')" = "ok $job bulk" ]
	[ "$(result_of "$IN" 4 .kafka)" = '{"partition":3,"offset":12345678901}' ]
	# Each line got the Id of the record its own values created.
	for line in 1 2 3 4; do
		id=$(result_of "$IN" "$line" .id | tr -d '"')
		name=$(fake GET /__fake/records/Account | jq -r --arg id "$id" '.[] | select(.Id == $id) | .Name')
		[ "$name" = "$(sed -n "${line}p" "$IN" | jq -r '.data.Name // (.payload | fromjson | .Name)')" ]
	done
	# Nothing was uploaded again.
	[ "$(fake GET /__fake/jobs | jq length)" -eq 1 ]
	[ "$(fake_requests '/batches$' | jq length)" -eq 1 ]
	[ "$(jq -c 'select(.entry == "done") | [.job_id, .state]' "$JOURNAL")" = "[\"$job\",\"JobComplete\"]" ]

	resume
	[ "$status" -eq 0 ]
	[ ! -s "$OUT" ]
}

@test "resume matches upsert by external ID" {
	cfg=$(bulk_config upsert)
	fake POST /__fake/records/Account '[{"Name": "Old", "External_Id__c": "E-2"}]' >/dev/null
	records '{"External_Id__c":"E-1","Name":"One"}' '{"External_Id__c":"E-2","Name":"Two"}' '{"External_Id__c":"e-3","Name":"Three"}'
	stop_while_job_runs -c "$cfg" --journal "$JOURNAL" --shutdown-wait 500ms
	[ "$status" -eq 143 ]
	[ "$(distinct .status)" = not_processed ]
	[ "$(jq -r 'select(.entry == "record") | .key' "$JOURNAL" | tr '\n' ' ')" = "E-1 E-2 e-3 " ]
	[ "$(jq -r 'select(.entry == "job") | .external_id_field' "$JOURNAL")" = External_Id__c ]

	finish_job 0
	resume
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(result_of "$IN" 1 '[.status, .created]')" = '["ok",true]' ]
	[ "$(result_of "$IN" 2 '[.status, .created]')" = '["ok",false]' ]
	[ "$(result_of "$IN" 3 '[.status, .created]')" = '["ok",true]' ]
	for line in 1 2 3; do
		id=$(result_of "$IN" "$line" .id | tr -d '"')
		ext=$(fake GET /__fake/records/Account | jq -r --arg id "$id" '.[] | select(.Id == $id) | .External_Id__c')
		[ "$ext" = "$(sed -n "${line}p" "$IN" | jq -r .data.External_Id__c)" ]
	done
}

@test "resume matches update by Id" {
	cfg=$(bulk_config update)
	fake POST /__fake/records/Account '[{"Name": "a"}, {"Name": "b"}, {"Name": "c"}]' |
	    jq -c '.[] | {topic: "t", data: {Id: ., Name: ("new " + .)}}' >"$IN"
	stop_while_job_runs -c "$cfg" --journal "$JOURNAL" --shutdown-wait 500ms
	[ "$status" -eq 143 ]
	finish_job 0
	resume
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	for line in 1 2 3; do
		want=$(sed -n "${line}p" "$IN" | jq -r .data.Id)
		[ "$(result_of "$IN" "$line" '[.status, .id] | join(" ")')" = "\"ok $want\"" ]
	done
}

@test "resume reports a failed job" {
	fake_faults '[{"method": "PATCH", "path": "/jobs/ingest/", "action": "job_fail", "error_message": "InvalidBatch : Field name not found : Name"}]'
	cfg=$(bulk_config insert)
	records '{"Name":"A"}' '{"Name":"B"}'
	stop_while_job_runs -c "$cfg" --journal "$JOURNAL" --shutdown-wait 500ms
	[ "$status" -eq 143 ]
	finish_job 0
	[ "$(job_field 0 state)" = Failed ]
	resume
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(distinct '[.status, .job_id, .errors[0].code] | join(" ")')" = "failed $(job_field 0 id) InvalidBatch" ]
	[ "$(jq -r 'select(.entry == "done") | .state' "$JOURNAL")" = Failed ]
	resume
	[ "$status" -eq 0 ]
	[ ! -s "$OUT" ]
}

@test "bulk wait gives up on a job" {
	fake POST /__fake/config '{"bulk_delay": 30}' >/dev/null
	cfg=$(bulk_config insert)
	records '{"Name":"A"}' '{"Name":"B"}'
	run_sfsink -c "$cfg" --journal "$JOURNAL" --bulk-wait 1s "$IN"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	[ "$(distinct '[.status, .job_id, .errors[0].code] | join(" ")')" = "unknown $job JOB_TIMEOUT" ]
	[[ "$(distinct '.errors[0].message')" == "job $job still InProgress after 1s (--bulk-wait);"*"--resume $JOURNAL" ]]
	[ "$(job_field 0 state)" = InProgress ]

	# A resume keeps the same limit, and the job stays open.
	resume --bulk-wait 300ms
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[ "$(distinct .errors[0].code)" = JOB_TIMEOUT ]
	[ "$(jq -c 'select(.entry == "done")' "$JOURNAL")" = "" ]

	finish_job 0
	resume
	[ "$status" -eq 0 ]
	[ "$(distinct .status)" = ok ]
}

@test "bulk wait without journal" {
	fake POST /__fake/config '{"bulk_delay": 30}' >/dev/null
	cfg=$(bulk_config insert)
	records '{"Name":"A"}'
	run_sfsink -c "$cfg" --bulk-wait 500ms "$IN"
	[ "$status" -eq 1 ]
	assert_one_result_per_record "$IN"
	[[ "$(distinct '.errors[0].message')" == *"without --journal sfsink cannot collect them later"* ]]
}

@test "second signal ends the wait at once" {
	fake POST /__fake/config '{"bulk_delay": 30}' >/dev/null
	cfg=$(bulk_config insert)
	records '{"Name":"A"}' '{"Name":"B"}'
	start_sfsink -c "$cfg" --journal "$JOURNAL" --shutdown-wait 60s
	wait_until job_in_state 0 'UploadComplete|InProgress'
	SECONDS=0
	kill -TERM "$PID"
	wait_until grep -qF 'SIGTERM received' "$ERR"
	kill -TERM "$PID"
	wait_sfsink
	[ "$status" -eq 143 ]
	[ "$SECONDS" -lt 10 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	[ "$(distinct '[.status, .job_id, .errors[0].code] | join(" ")')" = "not_processed $job JOB_STILL_RUNNING" ]
	[[ "$(distinct '.errors[0].message')" == *"--resume $JOURNAL" ]]
	finish_job 0
	resume
	[ "$status" -eq 0 ]
	[ "$(distinct .status)" = ok ]
}

@test "signal with realtime and bulk topics" {
	fake_faults '[{"path": "composite/sobjects", "action": "delay", "seconds": 0.5, "times": -1}]'
	cfg=$(write_config "max_in_flight: 1
bulk_batch_size: 3
max_concurrent_bulk_jobs: 1
bulk_poll_interval: 50ms
batch_period: 0s" <<-YAML
	  - topic: rt
	    sobject: Contact
	    operation: insert
	  - topic: t
	    sobject: Account
	    operation: insert
	    mode: bulk
	YAML
	)
	for i in 1 2 3 4 5 6; do
		printf '{"topic":"t","data":{"Name":"B%d"}}\n' "$i"
		printf '{"topic":"rt","data":{"LastName":"R%d"}}\n' "$i"
	done >"$IN"
	stop_while_job_runs -c "$cfg" --journal "$JOURNAL" --shutdown-wait 500ms
	[ "$status" -eq 143 ]
	assert_one_result_per_record "$IN"
	job=$(job_field 0 id)
	# The closed job was left running; the second bulk chunk never got a job.
	[ "$(fake GET /__fake/jobs | jq length)" -eq 1 ]
	[ "$(jq -r 'select(.topic == "t" and .job_id != null) | [.status, .errors[0].code] | join(" ")' "$OUT" | sort -u)" = "not_processed JOB_STILL_RUNNING" ]
	[ "$(jq -c 'select(.topic == "t" and .job_id != null)' "$OUT" | wc -l)" -eq 3 ]
	[ "$(jq -r 'select(.topic == "t" and .job_id == null) | .status' "$OUT" | sort -u)" = not_processed ]
	# Realtime records either were written or were never sent.
	[ "$(jq -r 'select(.topic == "rt") | .status' "$OUT" | sort -u | grep -cvE '^(ok|not_processed)$')" -eq 0 ]
	[ "$(jq -c 'select(.topic == "rt" and .status == "ok")' "$OUT" | wc -l)" -eq "$(fake GET /__fake/records/Contact | jq length)" ]
	[ "$(jq -c 'select(.topic == "rt" and .status == "not_processed")' "$OUT" | wc -l)" -ge 1 ]

	finish_job 0
	resume
	[ "$status" -eq 0 ]
	[ "$(count_lines "$OUT")" -eq 3 ]
	[ "$(distinct '[.topic, .status, .job_id] | join(" ")')" = "t ok $job" ]
}

@test "journal write failure aborts job" {
	cfg=$(bulk_config insert)
	records '{"Name":"A"}' '{"Name":"B"}'
	run_sfsink -c "$cfg" --journal /dev/full "$IN"
	[ "$status" -eq 3 ]
	assert_one_result_per_record "$IN"
	grep -qF 'sfsink: cannot write journal "/dev/full": No space left on device' "$ERR"
	[ "$(distinct '[.status, .job_id, .errors[0].code] | join(" ")')" = "not_processed $(job_field 0 id) RUN_STOPPED" ]
	# The job was aborted instead of closed, so nothing was written.
	[ "$(job_field 0 state)" = Aborted ]
	[ "$(fake GET /__fake/records/Account | jq length)" -eq 0 ]
}

@test "resume skips cut and bad lines" {
	cfg=$(bulk_config insert)
	cat >"$JOURNAL" <<-'EOF'
	{"entry":"job","job_id":"750000000000001AAA","api_version":"v65.0","topic":"t","sobject":"Account","operation":"insert","external_id_field":null,"records":2}
	{"entry":"record","job_id":"750000000000001AAA","source":"in","line":1,"topic":"t","data":{"Name":"A"}}
	{"entry":"job","job_id":"../../x","api_version":"v65.0","topic":"t","sobject":"Account","operation":"insert","records":0}
	{"entry":"rec
	EOF
	resume
	[ "$status" -eq 0 ]
	[ ! -s "$OUT" ]
	grep -qF "journal.ndjson:1: the entry of job 750000000000001AAA has 1 of its 2 records" "$ERR"
	grep -qF "journal.ndjson:3: job entry without a valid job_id" "$ERR"
	grep -qF "journal.ndjson:4: not a journal entry" "$ERR"
	[ "$(fake_requests '/jobs/ingest' | jq length)" -eq 0 ]
}

@test "resume and wait usage errors" {
	cfg=$(bulk_config insert)
	records '{"Name":"A"}'
	run_sfsink -c "$cfg" --resume "$JOURNAL" "$IN"
	[ "$status" -eq 2 ]
	grep -qF 'sfsink: --resume reads no input: drop the FILE arguments' "$ERR"
	run_sfsink -c "$cfg" --resume "$BATS_TEST_TMPDIR/missing"
	[ "$status" -eq 2 ]
	grep -qF "sfsink: cannot open journal \"$BATS_TEST_TMPDIR/missing\": No such file or directory" "$ERR"
	run_sfsink -c "$cfg" --shutdown-wait 5 "$IN"
	[ "$status" -eq 2 ]
	grep -qF 'sfsink: invalid --shutdown-wait "5": expected a duration' "$ERR"
}

# Leave three bulk insert jobs open in $JOURNAL: SIGTERM while each of
# them runs in the fake, which keeps them InProgress for 30 seconds.
three_open_jobs() {
	cfg=$(bulk_config insert Account "bulk_batch_size: 1")
	records '{"Name":"A"}' '{"Name":"B"}' '{"Name":"C"}'
	fake POST /__fake/config '{"bulk_delay": 30}' >/dev/null
	start_sfsink -c "$cfg" --journal "$JOURNAL" --shutdown-wait 100ms
	wait_until job_in_state 2 'UploadComplete|InProgress'
	kill -TERM "$PID"
	wait_sfsink
	[ "$status" -eq 143 ]
	[ "$(jq -r 'select(.entry == "job") | .job_id' "$JOURNAL" | wc -l)" -eq 3 ]
}

# job_spans AFTER: for each job, the first and last request sequence
# number at its URL after request AFTER, as "first last" lines in order.
job_spans() {
	fake GET /__fake/requests | jq -r --argjson after "$1" '
	    [.[] | select(.seq > $after) |
	     select(.path | test("/jobs/ingest/[^/]+")) |
	     {job: (.path | capture("/jobs/ingest/(?<id>[^/]+)").id), seq}] |
	    group_by(.job) | map([min_by(.seq).seq, max_by(.seq).seq]) |
	    sort | .[] | "\(.[0]) \(.[1])"'
}

# Whether the spans on stdin follow one another without overlapping.
spans_in_turn() {
	local first last end=0
	while read -r first last; do
		[ "$first" -gt "$end" ] || return 1
		end=$last
	done
}

@test "resume polls one job at a time" {
	three_open_jobs
	finish_job 0
	finish_job 1
	finish_job 2
	after=$(fake GET /__fake/requests | jq 'map(.seq) | max')
	cfg=$(bulk_config insert Account "max_concurrent_bulk_jobs: 1")
	resume
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(distinct .status)" = ok ]
	[ "$(job_spans "$after" | wc -l)" -eq 3 ]
	job_spans "$after" | spans_in_turn
}

@test "resume polls open jobs together by default" {
	three_open_jobs
	finish_job 0
	finish_job 1
	finish_job 2
	after=$(fake GET /__fake/requests | jq 'map(.seq) | max')
	cfg=$(bulk_config insert)
	resume
	[ "$status" -eq 0 ]
	assert_one_result_per_record "$IN"
	[ "$(distinct .status)" = ok ]
	[ "$(job_spans "$after" | wc -l)" -eq 3 ]
	! job_spans "$after" | spans_in_turn
}

@test "SIGTERM polls waiting resume jobs once" {
	three_open_jobs
	after=$(fake GET /__fake/requests | jq 'map(.seq) | max')
	cfg=$(bulk_config insert Account "max_concurrent_bulk_jobs: 1")
	"$SFSINK" -c "$cfg" --resume "$JOURNAL" --shutdown-wait 100ms \
	    >"$OUT" 2>"$ERR" &
	PID=$!
	wait_until [ "$(job_spans "$after" | wc -l)" -ge 1 ]
	kill -TERM "$PID"
	wait_sfsink
	[ "$status" -eq 143 ]
	assert_one_result_per_record "$IN"
	[ "$(distinct .status)" = not_processed ]
	[ "$(distinct '.errors[0].code')" = JOB_STILL_RUNNING ]
	[[ "$(distinct '.errors[0].message')" == *"--resume $JOURNAL" ]]
	# Each job, waiting or not, was polled before the run ended.
	[ "$(job_spans "$after" | wc -l)" -eq 3 ]
	[ "$(jq -r 'select(.entry == "done") | .job_id' "$JOURNAL" | wc -l)" -eq 0 ]
}
