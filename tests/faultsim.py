#!/usr/bin/env python3
"""Randomized fault test of sfsink against the fake org.

usage: faultsim.py --seed N [--keep DIR] [--omit KIND[@TARGET]]... [-v]
       faultsim.py --seeds LIST [--keep DIR] [--omit KIND[@TARGET]]... [-v]

For each seed the driver generates an input, a configuration, a schedule of
fault rules and sometimes a SIGTERM.  The input mixes realtime and bulk
topics: upserts by external ID, inserts, updates and deletes by Id of seeded
records, and a few malformed lines.  Realtime and bulk topics share the keys.
The driver starts a fresh fake org, runs sfsink, and checks:

  conservation  one result line per non-blank input line, keyed by
                (source, line); after a stop (exit 3 or 143) the lines
                without a result must be the unread tail of the input
  exit status   0 when every result is ok, 1 when one is not, 3 after the
                TotalRequests limit, 143 after a SIGTERM that sfsink handled
  final state   each key's record carries the Description marker of the
                last ok line for the key (absent after an ok delete); only
                a later line whose result is unknown may have overwritten it
  inserts       each insert carries a unique Description marker SOURCE:LINE;
                ok is stored exactly once, failed, not_processed and rejected
                never, unknown at most once
  ambiguity     the records of a realtime insert whose connection was
                dropped after it reached the fake are unknown, never ok,
                failed or not_processed

LIST is a comma-separated list of seeds and ranges, such as 1-200 or 3,7,10-12.
The SFSINK and FAKE_ORG variables name the binary and the fake (default: the
ones of this source tree).  On failure the driver prints the seed, the
schedule and the offending records.  --keep DIR keeps every file of a run in
DIR/seed-N: input, configuration, results, stderr, and the fake's request
log, jobs and records.  --omit leaves out the rules of one fault kind, such
as drop_after@bk_close, to look past a known bug, and the seed's other rules
stay the same.  Exit status: 0 when every seed passed, 1 otherwise.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))

# A run of sfsink that takes longer than this counts as a hang.
RUN_TIMEOUT_S = 60

# Topics of the generated configuration: (topic, sobject, operation, mode).
TOPICS = [
    ("rt_upsert", "Account", "upsert", "realtime"),
    ("rt_insert", "Account", "insert", "realtime"),
    ("rt_contact", "Contact", "insert", "realtime"),
    ("rt_update", "Account", "update", "realtime"),
    ("rt_delete", "Account", "delete", "realtime"),
    ("bk_upsert", "Account", "upsert", "bulk"),
    ("bk_insert", "Account", "insert", "bulk"),
    ("bk_contact", "Contact", "insert", "bulk"),
    ("bk_update", "Account", "update", "bulk"),
    ("bk_delete", "Account", "delete", "bulk"),
]
TOPIC_INFO = {t[0]: t for t in TOPICS}

# Lines that sfsink must reject before sending anything.
MALFORMED = [
    '{"topic": "rt_upsert", "data": {"Name": ',
    "not json at all",
    '{"topic": "no_such_topic", "data": {"Name": "x"}}',
    '{"data": {"Name": "x"}}',
    '{"topic": "rt_update", "data": {"Name": "no Id"}}',
    '{"topic": "bk_upsert", "data": {"Name": "no external ID"}}',
    '{"topic": "bk_delete", "data": {"Id": "not-an-id"}}',
    '{"topic": "rt_insert", "data": "not an object"}',
]

SF_ERROR = {
    503: [{"message": "Service temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
    429: [{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
    500: [{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}],
    502: "<html><body>Bad Gateway</body></html>",
}
TOTAL_LIMIT = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
CONCURRENT_LIMIT = [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                     "errorCode": "REQUEST_LIMIT_EXCEEDED"}]

# Request classes a fault rule can aim at: (method or None, path regex).
TARGETS = {
    "any": (None, "^/services/data/"),
    "rt_any": (None, "/composite/sobjects"),
    "rt_insert": ("POST", "/composite/sobjects$"),
    "rt_patch": ("PATCH", "/composite/sobjects"),
    "rt_delete": ("DELETE", "/composite/sobjects$"),
    "bk_create": ("POST", "/jobs/ingest$"),
    "bk_upload": ("PUT", "/batches$"),
    "bk_close": ("PATCH", "/jobs/ingest/[^/]+$"),
    "bk_poll": ("GET", "/jobs/ingest/[^/]+$"),
    "bk_results": ("GET", "/(successfulResults|failedResults)$"),
    "bk_unprocessed": ("GET", "/unprocessedrecords$"),
}

ABSENT = "(absent)"


# -- the scenario ----------------------------------------------------------

def parse_seeds(text):
    seeds = []
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            seeds.extend(range(int(lo), int(hi) + 1))
        else:
            seeds.append(int(part))
    return seeds


def gen_config(rng):
    backoff_ms = rng.choice([10, 20, 40])
    return {
        "batch_period_ms": rng.choice([0, 20, 50, 100]),
        "max_in_flight": rng.choice([1, 2, 3, 5, 8]),
        "bulk_batch_size": rng.choice([1, 2, 3, 5, 8, 13, 50]),
        "max_concurrent_bulk_jobs": rng.choice([1, 2, 3, 5]),
        "bulk_poll_interval_ms": rng.choice([20, 40, 80]),
        "backoff_initial_ms": backoff_ms,
        "backoff_max_ms": backoff_ms * rng.choice([2, 4, 8]),
        "max_retries": rng.choice([1, 2, 3, 4]),
        "bulk_delay_s": rng.choice([0.02, 0.05, 0.1, 0.2]),
    }


def gen_record(rng, topic, n_keys, n_seeded):
    """Plan one well-formed record of TOPIC; render_input() adds its marker and key."""
    op = TOPIC_INFO[topic][2]
    plan = {"topic": topic}
    bad = rng.random() < 0.06
    if op == "upsert":
        plan["key"] = "K-%d" % rng.randrange(n_keys)
        plan["data"] = {"Name": "Upsert %d" % rng.randrange(1000)}
    elif op == "insert":
        if TOPIC_INFO[topic][1] == "Contact":
            plan["data"] = {"LastName": "Contact %d" % rng.randrange(1000)}
        else:
            plan["data"] = {"Name": "Insert %d" % rng.randrange(1000)}
    else:
        plan["seed"] = rng.randrange(n_seeded)
        plan["data"] = {} if op == "delete" else {"Name": "Update %d" % rng.randrange(1000)}
    if bad and op != "delete":
        # Salesforce fails this record, because the value has the wrong type.
        field = "NumberOfEmployees" if TOPIC_INFO[topic][1] == "Account" else "Birthdate"
        plan["data"][field] = "not a value"
    return plan


def gen_input(rng):
    n_keys = rng.randint(3, 9)
    n_seeded = rng.randint(4, 10)
    weights = {
        "rt_upsert": 4, "rt_insert": 3, "rt_contact": 1, "rt_update": 2, "rt_delete": 1,
        "bk_upsert": 4, "bk_insert": 3, "bk_contact": 1, "bk_update": 2, "bk_delete": 1,
    }
    topics = list(weights)
    files = ["a.ndjson"] if rng.random() < 0.6 else ["a.ndjson", "b.ndjson"]
    n_records = rng.randint(20, 70)
    plans = []
    for _ in range(n_records):
        r = rng.random()
        if r < 0.04:
            plans.append({"blank": True})
        elif r < 0.09:
            plans.append({"raw": rng.choice(MALFORMED)})
        else:
            topic = rng.choices(topics, [weights[t] for t in topics])[0]
            plans.append(gen_record(rng, topic, n_keys, n_seeded))
    # Split the plans over the files, keeping their order.
    cut = rng.randint(1, len(plans) - 1) if len(files) == 2 else len(plans)
    by_file = [plans[:cut], plans[cut:]][:len(files)]
    return {"files": files, "plans": by_file, "n_seeded": n_seeded, "n_keys": n_keys}


def gen_rule(rng, kind):
    """Generate one fault rule of KIND, aimed at a random class of requests."""
    rule = {"times": rng.choice([1, 1, 2, 3])}

    def aim(*names):
        name = rng.choice(names)
        method, path = TARGETS[name]
        if method:
            rule["method"] = method
        rule["path"] = path
        rule["target"] = name
        # Few requests of the rarer classes are made in a run: skip fewer.
        common = name in ("any", "rt_any", "bk_poll", "bk_results")
        rule["skip"] = rng.choice([0, 0, 1, 2, 3, 5, 8] if common else [0, 0, 1, 2])

    if kind == "503":
        aim(*TARGETS)
        rule.update(action="respond", status=503, body=SF_ERROR[503])
        if rng.random() < 0.3:
            rule["times"] = 6   # more than max_retries, so a 503 is the outcome
    elif kind == "429":
        aim(*TARGETS)
        rule.update(action="respond", status=429, body=SF_ERROR[429])
        if rng.random() < 0.5:
            rule["headers"] = {"Retry-After": rng.choice(["0", "1"])}
    elif kind == "403_concurrent":
        aim(*TARGETS)
        rule.update(action="respond", status=403, body=CONCURRENT_LIMIT)
    elif kind == "403_total":
        aim("any", "rt_any", "bk_create", "bk_poll", "bk_results")
        rule.update(action="respond", status=403, body=TOTAL_LIMIT, times=1)
        rule["skip"] = rng.randint(0, 25)
    elif kind == "5xx":
        aim("rt_any", "rt_insert", "rt_patch", "bk_close", "bk_poll", "bk_create")
        status = rng.choice([500, 502])
        rule.update(action="respond", status=status, body=SF_ERROR[status])
    elif kind == "results_500":
        aim("bk_results", "bk_unprocessed")
        rule.update(action="respond", status=500, body=SF_ERROR[500])
        rule["times"] = rng.choice([1, 2, 6])
    elif kind == "delay":
        aim(*TARGETS)
        rule.update(action="delay", seconds=rng.choice([0.1, 0.2, 0.4, 0.6]))
    elif kind in ("drop", "drop_after"):
        aim("rt_insert", "rt_insert", "rt_patch", "rt_delete", "bk_create", "bk_upload",
            "bk_close", "bk_poll", "bk_results")
        rule.update(action=kind)
    elif kind == "expire_token":
        aim(*TARGETS)
        rule.update(action="expire_token")
    elif kind == "job_fail":
        aim("bk_create", "bk_close", "bk_poll")
        rule.update(action="job_fail", error_message="InvalidBatch : Failed by the fault schedule")
    elif kind == "job_abort":
        aim("bk_close", "bk_poll", "bk_upload")
        rule.update(action="job_abort")
    return rule


FAULT_KINDS = {
    "503": 3, "429": 3, "403_concurrent": 2, "403_total": 1, "5xx": 2, "results_500": 2,
    "delay": 3, "drop": 3, "drop_after": 4, "expire_token": 2, "job_fail": 2, "job_abort": 2,
}


def gen_faults(rng):
    kinds = list(FAULT_KINDS)
    weights = [FAULT_KINDS[k] for k in kinds]
    rules = []
    for _ in range(rng.randint(2, 8)):
        kind = rng.choices(kinds, weights)[0]
        if kind == "403_total" and rng.random() < 0.5:
            kind = "403_concurrent"   # keep stopped runs a minority
        rules.append(dict(gen_rule(rng, kind), kind=kind))
    return rules


def gen_signal(rng):
    r = rng.random()
    if r < 0.1:
        return {"after_s": rng.choice([0.1, 0.2, 0.4, 0.8, 1.2])}
    if r < 0.2:
        return {"after_requests": rng.randint(1, 30)}
    return None


def gen_scenario(seed):
    """Generate the input, configuration, faults and signal of SEED.

    Every random draw here is part of what a seed means: a change to the
    generators changes every seed, and the fixed seeds of faults.bats must
    then be chosen again.
    """
    rng = random.Random(seed)
    return {
        "seed": seed,
        "config": gen_config(rng),
        "input": gen_input(rng),
        "faults": gen_faults(rng),
        "signal": gen_signal(rng),
    }


# -- the fake org ----------------------------------------------------------

class Fake:
    """A fake org process on a free loopback port."""

    def __init__(self, script, workdir, bulk_delay):
        self.log = open(os.path.join(workdir, "fake.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, script, "--port", "0", "--bulk-delay", str(bulk_delay)],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http"):
            self.stop()
            raise RuntimeError("the fake org did not start; see %s/fake.log" % workdir)
        self.url = line

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read().decode() or "null")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()

    def wait_for_jobs(self, timeout_s=15):
        """Wait up to TIMEOUT_S until no bulk job is left to process; return the jobs."""
        deadline = time.monotonic() + timeout_s
        while True:
            jobs = self.call("GET", "/__fake/jobs")
            busy = [j for j in jobs if j.get("state") in ("UploadComplete", "InProgress")]
            if not busy or time.monotonic() > deadline:
                return jobs
            time.sleep(0.02)


# -- one run ---------------------------------------------------------------

def render_config(sc, url):
    c = sc["config"]
    lines = [
        "org_url: %s" % url,
        "client_id: sfsink-demo",
        "client_secret: sfsink-demo-secret",
        "batch_period: %dms" % c["batch_period_ms"],
        "max_in_flight: %d" % c["max_in_flight"],
        "bulk_batch_size: %d" % c["bulk_batch_size"],
        "max_concurrent_bulk_jobs: %d" % c["max_concurrent_bulk_jobs"],
        "bulk_poll_interval: %dms" % c["bulk_poll_interval_ms"],
        "http:",
        "  timeout: 5s",
        "  backoff:",
        "    initial_interval: %dms" % c["backoff_initial_ms"],
        "    max_interval: %dms" % c["backoff_max_ms"],
        "    max_retries: %d" % c["max_retries"],
        "topic_mappings:",
    ]
    for topic, sobject, op, mode in TOPICS:
        lines += ["  - topic: %s" % topic, "    sobject: %s" % sobject,
                  "    operation: %s" % op, "    mode: %s" % mode]
        if op == "upsert":
            lines.append("    external_id_field: External_Id__c")
    return "\n".join(lines) + "\n"


def seed_records(fake, n):
    recs = [{"Name": "Seed %d" % i, "External_Id__c": "SEED-%d" % i,
             "Description": "seed:%d" % i} for i in range(n)]
    return fake.call("POST", "/__fake/records/Account", recs)


def render_input(sc, seeded_ids):
    """List every physical input line as (source, line, text, plan)."""
    out = []
    for source, plans in zip(sc["input"]["files"], sc["input"]["plans"]):
        for i, plan in enumerate(plans, start=1):
            if plan.get("blank"):
                text = ""
            elif "raw" in plan:
                text = plan["raw"]
            else:
                data = dict(plan["data"])
                op = TOPIC_INFO[plan["topic"]][2]
                if op != "delete":
                    data["Description"] = "%s:%d" % (source, i)
                if "key" in plan:
                    data["External_Id__c"] = plan["key"]
                if "seed" in plan:
                    data["Id"] = seeded_ids[plan["seed"]]
                text = json.dumps({"topic": plan["topic"], "data": data})
            out.append((source, i, text, plan))
    return out


def send_signal_later(proc, fake, plan, sent):
    """Send SIGTERM after a delay or after a number of requests, once."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    if "after_s" in plan:
        time.sleep(plan["after_s"])
    else:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if fake.call("GET", "/__fake/stats")["requests"] >= plan["after_requests"]:
                    break
            except (OSError, urllib.error.URLError):
                return
            time.sleep(0.01)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        sent.append(time.monotonic())


def run_scenario(sc, sfsink, fake_script, workdir):
    """Run sfsink on the scenario; return everything the checks need."""
    fake = Fake(fake_script, workdir, sc["config"]["bulk_delay_s"])
    try:
        seeded_ids = seed_records(fake, sc["input"]["n_seeded"])
        lines = render_input(sc, seeded_ids)
        for source in sc["input"]["files"]:
            with open(os.path.join(workdir, source), "w") as f:
                for src, _, text, _ in lines:
                    if src == source:
                        f.write(text + "\n")
        cfg = os.path.join(workdir, "sfsink.yaml")
        with open(cfg, "w") as f:
            f.write(render_config(sc, fake.url))
        os.chmod(cfg, 0o600)
        rules = [{k: v for k, v in r.items() if k not in ("kind", "target")}
                 for r in sc["faults"]]
        fake.call("POST", "/__fake/faults", {"rules": rules})

        out = open(os.path.join(workdir, "results.ndjson"), "w")
        err = open(os.path.join(workdir, "stderr"), "w")
        started = time.monotonic()
        proc = subprocess.Popen([sfsink, "-v", "-c", "sfsink.yaml"] + sc["input"]["files"],
                                cwd=workdir, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        sent = []
        if sc["signal"]:
            threading.Thread(target=send_signal_later, args=(proc, fake, sc["signal"], sent),
                             daemon=True).start()
        hung = False
        try:
            status = proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            hung = True
            proc.kill()
            status = proc.wait()
        elapsed = time.monotonic() - started
        out.close()
        err.close()

        jobs = fake.wait_for_jobs()
        run = {
            "status": status,
            "hung": hung,
            "elapsed": elapsed,
            "signal_sent": bool(sent),
            "seeded_ids": seeded_ids,
            "lines": lines,
            "jobs": jobs,
            "requests": fake.call("GET", "/__fake/requests"),
            "faults": fake.call("GET", "/__fake/faults"),
            "records": {obj: fake.call("GET", "/__fake/records/%s" % obj)
                        for obj in ("Account", "Contact")},
        }
    finally:
        fake.stop()
    with open(os.path.join(workdir, "results.ndjson")) as f:
        run["results_text"] = f.read()
    with open(os.path.join(workdir, "stderr")) as f:
        run["stderr"] = f.read()
    for name in ("jobs", "requests", "faults", "records"):
        with open(os.path.join(workdir, name + ".json"), "w") as f:
            json.dump(run[name], f, indent=1)
    with open(os.path.join(workdir, "run.json"), "w") as f:
        json.dump({k: run[k] for k in ("status", "hung", "elapsed", "signal_sent",
                                       "seeded_ids", "lines")}, f, indent=1)
    return run


# -- the checks ------------------------------------------------------------

class Checker:
    def __init__(self, sc, run):
        self.sc, self.run = sc, run
        self.problems = []
        self.results = {}
        self.inputs = {(s, n): (text, plan) for s, n, text, plan in run["lines"]}
        self.order = [(s, n) for s, n, text, _ in run["lines"] if text.strip()]

    def problem(self, message, keys=()):
        self.problems.append((message, list(keys)))

    def status_of(self, key):
        res = self.results.get(key)
        return res["status"] if res else None

    def check_conservation(self):
        seen = {}
        for n, text in enumerate(self.run["results_text"].splitlines(), start=1):
            try:
                res = json.loads(text)
                key = (res["source"], res["line"])
            except (ValueError, KeyError, TypeError):
                self.problem("result line %d is not a result: %r" % (n, text[:200]))
                continue
            seen[key] = seen.get(key, 0) + 1
            self.results[key] = res
            if key not in self.inputs:
                self.problem("result for %s:%d, which is no input line" % key, [key])
            elif not self.inputs[key][0].strip():
                self.problem("result for blank line %s:%d" % key, [key])
        for key, count in seen.items():
            if count > 1:
                self.problem("%d result lines for %s:%d" % ((count,) + key), [key])
        missing = [k for k in self.order if k not in seen]
        if not missing:
            return
        if self.run["status"] in (3, 143):
            # A stopped run reads no further: only an unread tail may lack results.
            first = self.order.index(missing[0])
            answered = [k for k in self.order[first:] if k in seen]
            if answered:
                self.problem("after the stop, %d lines lack a result but later lines "
                             "have one" % len(missing), missing[:5] + answered[:5])
        else:
            self.problem("%d input lines have no result" % len(missing), missing[:10])

    def check_statuses(self):
        for key in self.order:
            res = self.results.get(key)
            if res is None:
                continue
            plan = self.inputs[key][1]
            malformed = "raw" in plan
            if malformed and res["status"] != "rejected":
                self.problem("malformed line is %s, not rejected" % res["status"], [key])
            if not malformed and res["status"] == "rejected":
                self.problem("well-formed line was rejected", [key])
            if not malformed and res.get("topic") != plan["topic"]:
                self.problem("result names topic %r" % res.get("topic"), [key])
            if res["status"] != "ok" and not res.get("errors"):
                self.problem("%s result without errors" % res["status"], [key])
            if (not malformed and res["status"] == "ok"
                    and TOPIC_INFO[plan["topic"]][3] == "bulk" and not res.get("job_id")):
                self.problem("ok bulk result without job_id", [key])

    def check_exit_status(self):
        status = self.run["status"]
        if self.run["hung"]:
            self.problem("sfsink did not end within %d s and was killed" % RUN_TIMEOUT_S)
            return
        if status < 0:
            self.problem("sfsink died of signal %d" % -status)
            return
        handled = self.run["signal_sent"] and "SIGTERM" in self.run["stderr"]
        total = any(r["fired"] > 0 and r.get("body") == TOTAL_LIMIT
                    for r in self.run["faults"])
        allowed = set()
        if handled:
            allowed.add(143)
        if total:
            allowed.add(3)
        if not allowed:
            all_ok = all(r["status"] == "ok" for r in self.results.values())
            allowed.add(0 if all_ok else 1)
        if status not in allowed:
            self.problem("exit status %d, expected %s (SIGTERM %s, TotalRequests limit %s)"
                         % (status, " or ".join(map(str, sorted(allowed))),
                            "handled" if handled else "sent" if self.run["signal_sent"]
                            else "not sent", "hit" if total else "not hit"))

    def dropped_markers(self):
        """Collect the markers and Ids of realtime records whose request got no response."""
        markers = set()
        for req in self.run["requests"]:
            if req["status"] is not None or "/composite/sobjects" not in req["path"]:
                continue
            if req["method"] == "DELETE":
                ids = urllib.parse.parse_qs(req["query"]).get("ids", [""])[0]
                markers.update(i[:15] for i in ids.split(",") if i)
                continue
            try:
                body = json.loads(req["body"])
            except ValueError:
                continue
            for rec in body.get("records", []):
                if isinstance(rec, dict) and "Description" in rec:
                    markers.add((req["method"], rec["Description"]))
        return markers

    def check_inserts(self):
        stored = {}
        for obj, recs in self.run["records"].items():
            for rec in recs:
                stored.setdefault(rec.get("Description"), []).append(rec)
        dropped = self.dropped_markers()
        for key in self.order:
            plan = self.inputs[key][1]
            if "raw" in plan or TOPIC_INFO[plan["topic"]][2] != "insert":
                continue
            marker = "%s:%d" % key
            copies = stored.get(marker, [])
            status = self.status_of(key)
            if status == "ok":
                if len(copies) != 1:
                    self.problem("ok insert stored %d times" % len(copies), [key])
                elif copies[0]["Id"] != self.results[key].get("id"):
                    self.problem("ok insert has id %s, the stored record %s"
                                 % (self.results[key].get("id"), copies[0]["Id"]), [key])
            elif status == "unknown":
                if len(copies) > 1:
                    self.problem("unknown insert stored %d times" % len(copies), [key])
            elif copies:
                self.problem("%s insert stored %d times" % (status, len(copies)), [key])
            if ("POST", marker) in dropped and status not in ("unknown", None):
                self.problem("insert whose connection was dropped is %s, not unknown"
                             % status, [key])

    def keyed_lines(self):
        """Group the upsert, update and delete lines by key, in input order."""
        by_key = {}
        for key in self.order:
            plan = self.inputs[key][1]
            if "raw" in plan:
                continue
            op = TOPIC_INFO[plan["topic"]][2]
            if op == "upsert":
                by_key.setdefault(("ext", plan["key"]), []).append(key)
            elif op in ("update", "delete"):
                by_key.setdefault(("seed", plan["seed"]), []).append(key)
        return by_key

    def observed(self, k):
        """Return the Description and Id of key K's record, or (ABSENT, None)."""
        recs = self.run["records"]["Account"]
        if k[0] == "ext":
            found = [r for r in recs if r.get("External_Id__c") == k[1]]
        else:
            rid = self.run["seeded_ids"][k[1]]
            found = [r for r in recs if r["Id"] == rid]
        if len(found) > 1:
            self.problem("%d stored records for external ID %s" % (len(found), k[1]))
        return (found[0].get("Description"), found[0]["Id"]) if found else (ABSENT, None)

    def effect(self, key):
        plan = self.inputs[key][1]
        return ABSENT if TOPIC_INFO[plan["topic"]][2] == "delete" else "%s:%d" % key

    def in_dropped_request(self, key, dropped):
        """Was line KEY (or, for a delete, its Id) in a realtime request that got no response?"""
        plan = self.inputs[key][1]
        if TOPIC_INFO[plan["topic"]][3] != "realtime":
            return False
        if TOPIC_INFO[plan["topic"]][2] == "delete":
            return self.run["seeded_ids"][plan["seed"]][:15] in dropped
        return ("PATCH", "%s:%d" % key) in dropped

    def check_final_state(self):
        dropped = self.dropped_markers()
        for k, keys in self.keyed_lines().items():
            oks = [x for x in keys if self.status_of(x) == "ok"]
            last_ok = oks[-1] if oks else None
            later = keys[keys.index(last_ok) + 1:] if last_ok else keys
            initial = ABSENT if k[0] == "ext" else "seed:%d" % k[1]
            allowed = {self.effect(last_ok) if last_ok else initial}
            # Of the statuses that are not ok, only unknown leaves open
            # whether the line wrote.
            allowed.update(self.effect(x) for x in later if self.status_of(x) == "unknown")
            seen, rid = self.observed(k)
            if seen not in allowed:
                writers = [x for x in keys if self.effect(x) == seen]
                hint = ""
                if any(self.in_dropped_request(x, dropped) for x in writers):
                    hint = ("; a request that wrote it lost its connection after the write, "
                            "and the error of a retry became the result")
                self.problem("final state of %s %s is %r; the results allow only %s%s"
                             % ("external ID" if k[0] == "ext" else "seeded record",
                                k[1], seen, sorted(allowed), hint), keys)
                continue
            if k[0] == "ext" and rid is not None:
                for x in oks:
                    if self.results[x].get("id") not in (None, rid):
                        self.problem("ok upsert has id %s, the stored record %s"
                                     % (self.results[x]["id"], rid), [x])
                created = [x for x in oks if self.results[x].get("created") is True]
                if len(created) > 1:
                    self.problem("%d ok upserts of %s report created" % (len(created), k[1]),
                                 created)

    def check(self):
        self.check_conservation()
        self.check_exit_status()
        if self.run["hung"]:
            return self.problems
        self.check_statuses()
        self.check_inserts()
        self.check_final_state()
        return self.problems


# -- reporting -------------------------------------------------------------

def describe_schedule(sc):
    out = ["config: %s" % json.dumps(sc["config"], sort_keys=True)]
    for r in sc["faults"]:
        summary = {k: v for k, v in r.items() if k not in ("body", "path", "method")}
        out.append("fault: %s" % json.dumps(summary, sort_keys=True))
    out.append("signal: %s" % (json.dumps(sc["signal"]) if sc["signal"] else "none"))
    return out


def report(sc, run, checker, keep, omit):
    seed = sc["seed"]
    print("seed %d: FAILED, exit status %d after %.1fs" % (seed, run["status"], run["elapsed"]))
    for line in describe_schedule(sc):
        print("  " + line)
    for r in run["faults"]:
        print("  rule %s %s %s: seen %d, fired %d" % (r.get("action"), r.get("method") or "*",
                                                      r.get("path"), r["seen"], r["fired"]))
    for message, keys in checker.problems:
        print("  problem: %s" % message)
        for key in keys[:8]:
            text = checker.inputs.get(key, ("?", None))[0]
            res = checker.results.get(key)
            print("    input  %s:%d %s" % (key[0], key[1], text))
            print("    result %s" % (json.dumps(res, sort_keys=True) if res else "(none)"))
    print("  replay: tests/faultsim.py --seed %d%s --keep %s"
          % (seed, "".join(" --omit " + o for o in omit), keep or "DIR"))
    tail = run["stderr"].splitlines()[-15:]
    if tail:
        print("  last lines of stderr:")
        for line in tail:
            print("    " + line)


def omit_faults(sc, omit):
    """Drop the rules named KIND or KIND@TARGET in OMIT; the rest stay as generated."""
    def named(rule):
        return rule["kind"] in omit or "%s@%s" % (rule["kind"], rule["target"]) in omit
    sc["faults"] = [r for r in sc["faults"] if not named(r)]


def run_seed(seed, args):
    sc = gen_scenario(seed)
    if args.omit:
        omit_faults(sc, set(args.omit))
    if args.keep:
        workdir = os.path.join(args.keep, "seed-%d" % seed)
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
    else:
        workdir = tempfile.mkdtemp(prefix="faultsim-%d-" % seed)
    with open(os.path.join(workdir, "scenario.json"), "w") as f:
        json.dump(sc, f, indent=1)
    try:
        try:
            run = run_scenario(sc, args.sfsink, args.fake, workdir)
        except (OSError, RuntimeError, ValueError) as exc:
            # The fake org or the control API failed, not sfsink.
            print("seed %d: ERROR, the run could not be checked: %s: %s"
                  % (seed, type(exc).__name__, exc))
            print("  replay: tests/faultsim.py --seed %d%s --keep DIR"
                  % (seed, "".join(" --omit " + o for o in args.omit or [])))
            return False
        checker = Checker(sc, run)
        problems = checker.check()
        if problems:
            report(sc, run, checker, args.keep, args.omit or [])
        elif args.verbose:
            counts = {}
            for res in checker.results.values():
                counts[res["status"]] = counts.get(res["status"], 0) + 1
            print("seed %d: ok, exit status %d after %.1fs, %s" % (
                seed, run["status"], run["elapsed"], json.dumps(counts, sort_keys=True)))
        return not problems
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv):
    ap = argparse.ArgumentParser(description="Randomized fault test of sfsink.")
    seed_choice = ap.add_mutually_exclusive_group(required=True)
    seed_choice.add_argument("--seed", type=int, help="run one seed")
    seed_choice.add_argument("--seeds", help="run seeds such as 1-200 or 3,7,10-12")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep each run's files in DIR/seed-N")
    ap.add_argument("--omit", action="append", metavar="KIND[@TARGET]",
                    help="leave out the fault rules of KIND (such as drop_after@bk_close) "
                    "to look past a known bug; may be repeated")
    ap.add_argument("-v", "--verbose", action="store_true", help="report seeds that pass too")
    ap.add_argument("--sfsink", help="the binary under test (default: $SFSINK, else ../sfsink)",
                    default=os.environ.get("SFSINK", os.path.join(HERE, "..", "sfsink")))
    ap.add_argument("--fake", help="the fake org's script (default: $FAKE_ORG, else "
                    "fake/fake_org.py)",
                    default=os.environ.get("FAKE_ORG", os.path.join(HERE, "fake", "fake_org.py")))
    args = ap.parse_args(argv[1:])
    args.sfsink = os.path.abspath(args.sfsink)
    seeds = [args.seed] if args.seed is not None else parse_seeds(args.seeds)
    failed = [s for s in seeds if not run_seed(s, args)]
    if len(seeds) > 1:
        print("%d of %d seeds failed%s" % (len(failed), len(seeds),
                                           ": " + " ".join(map(str, failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
