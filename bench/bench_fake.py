#!/usr/bin/env python3
"""A light fake Salesforce org for the benchmarks.

tests/fake/fake_org.py checks every value the way Salesforce does, in pure
Python, and spends about 30 ms of CPU on one 200-record sObject Collections
request.  That caps it near 6,000 records per second on this class of
machine, below the 16,000 records per second that sfsink must reach with
8 requests in flight and 100 ms of latency.  This server speaks the same
wire format for the endpoints that sfsink, jsforce and the Salesforce CLI
use in the benchmarks, and checks only the shape of each request:

  * POST /services/oauth2/token (client_credentials, id and secret in the
    body or HTTP Basic), GET /services/oauth2/userinfo;
  * GET /services/data/ (versions), GET .../sobjects/User/{Id},
    GET .../query (an empty result, or 400 INVALID_TYPE for objects that
    schema.json does not define);
  * PATCH .../composite/sobjects/{SObject}/{ExternalIdField} (upsert) and
    POST .../composite/sobjects (insert), at most 200 records;
  * Bulk API 2.0 ingest: POST .../jobs/ingest, PUT .../batches,
    PATCH (UploadComplete, Aborted), GET job info, successfulResults,
    failedResults, unprocessedrecords, DELETE.

Field names are checked against tests/fake/schema.json, upsert keys are
kept, so a second load of the same key reports created false, and an
external ID written twice in one request fails with DUPLICATE_VALUE.
Values are not type-checked, parent references are not resolved, and the
bulk results echo each uploaded cell as it was sent.

Latency model: the response to every /services/ request leaves LATENCY
seconds after the request body has arrived.  The work of the fake happens inside that time, so it
adds nothing unless it takes longer than LATENCY; such a request is counted
in "late_requests" of /__fake/stats.  "mean_overrun_ms" and "max_overrun_ms"
give how much later than LATENCY the responses left.  "request_seconds" is
the sum of the response times, so request_seconds divided by the wall time
of a run is the mean number of requests in flight.  A closed bulk job reports
JobComplete BULK_DELAY seconds after the close, or when its rows are
processed, if that takes longer ("late_jobs").

Control API (no auth, JSON): GET and POST /__fake/config (latency,
bulk_delay), GET /__fake/stats, POST /__fake/reset.  The server binds to
127.0.0.1 only, prints its base URL as its first line on stdout, and serves
until SIGTERM or SIGINT.
"""
import argparse
import base64
import csv
import gzip
import io
import json
import os
import random
import re
import resource
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "..", "tests", "fake", "schema.json")

JSON_TYPE = "application/json;charset=UTF-8"
CSV_TYPE = "text/csv; charset=UTF-8"
MAX_COLLECTION = 200
DATA_PATH = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
DELIMITERS = {"BACKQUOTE": "`", "CARET": "^", "COMMA": ",", "PIPE": "|",
              "SEMICOLON": ";", "TAB": "\t"}
ORG_ID = "00D8d000000BENCHAAA"
USER_ID = "0058d000000BENCHAAA"
USERNAME = "bench@sfsink.invalid"


class ApiError(Exception):
    """A whole-request error: HTTP status and Salesforce's error array."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class SObject:
    """Field names of one object from schema.json, compared without case."""

    def __init__(self, name, spec):
        self.name = name
        self.key_prefix = spec["keyPrefix"]
        fields = spec["fields"] + [{"name": "Id", "type": "id"}]
        self.fields = {f["name"].lower(): f for f in fields}
        self.relationships = {f["relationshipName"].lower(): f for f in fields
                              if f.get("relationshipName")}

    def known(self, name):
        key = name.lower()
        return key in self.fields or key in self.relationships

    def external_id(self, name):
        field = self.fields.get(name.lower())
        if field and (field.get("externalId") or field.get("idLookup")):
            return field
        return None


class Org:
    """Upsert keys, bulk jobs, settings and counters, all guarded by one lock."""

    def __init__(self, schema_path, latency, bulk_delay, client_id, client_secret):
        with open(schema_path, encoding="utf-8") as fh:
            spec = json.load(fh)["objects"]
        self.objects = {name.lower(): SObject(name, s) for name, s in spec.items()}
        self.client_id, self.client_secret = client_id, client_secret
        self.initial = {"latency": latency, "bulk_delay": bulk_delay}
        self.lock = threading.Lock()
        self.base_url = ""
        self.next_id = 0
        self.tokens = set()
        self.reset()

    def reset(self):
        with self.lock:
            self.latency = self.initial["latency"]
            self.bulk_delay = self.initial["bulk_delay"]
            self.keys = {}            # (object, key field, value) -> Id
            self.records = 0
            self.jobs = {}
            self.requests = 0
            self.current = self.max_concurrent = 0
            self.open_jobs = self.max_open_jobs = 0
            self.late_requests = 0
            self.max_overrun = 0.0
            self.sum_overrun = 0.0
            self.answered = 0
            self.request_seconds = 0.0
            self.late_jobs = 0

    def new_id(self, prefix):
        """Return a new 18-character Id: prefix, "8d0", nine digits and the
        case suffix, which is AAA because no character is upper case."""
        with self.lock:
            self.next_id += 1
            n = self.next_id
        return "%s8d0%09dAAA" % (prefix, n)

    def sobject(self, name):
        obj = self.objects.get((name or "").lower())
        if obj is None:
            raise ApiError(400, "INVALID_TYPE", "sObject type '%s' is not supported." % name)
        return obj

    def stats(self):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with self.lock:
            return {"requests": self.requests, "current": self.current,
                    "max_concurrent": self.max_concurrent,
                    "max_open_jobs": self.max_open_jobs, "records": self.records,
                    "late_requests": self.late_requests,
                    "max_overrun_ms": round(self.max_overrun * 1000, 1),
                    "mean_overrun_ms": round(self.sum_overrun * 1000 / max(1, self.answered), 2),
                    "late_jobs": self.late_jobs,
                    "request_seconds": round(self.request_seconds, 3),
                    "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3)}

    def enter(self):
        with self.lock:
            self.requests += 1
            self.current += 1
            self.max_concurrent = max(self.max_concurrent, self.current)

    def leave(self, busy, elapsed):
        """Count the end of a request that took busy seconds of work and
        whose response left elapsed seconds after its body arrived."""
        with self.lock:
            self.current -= 1
            if self.latency > 0 and busy > self.latency:
                self.late_requests += 1
            self.max_overrun = max(self.max_overrun, elapsed - self.latency)
            self.sum_overrun += max(0.0, elapsed - self.latency)
            self.answered += 1
            self.request_seconds += elapsed

    def count_open_jobs(self):
        """Update the count and peak of open jobs.  The caller holds the lock."""
        self.open_jobs = sum(1 for j in self.jobs.values() if j.open)
        self.max_open_jobs = max(self.max_open_jobs, self.open_jobs)

    # -- sObject Collections ------------------------------------------
    def collection(self, body, sobject, ext_name):
        """Upsert (ext_name set) or insert the records of one request."""
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, "JSON_PARSER_ERROR", str(exc))
        records = doc.get("records") if isinstance(doc, dict) else None
        if not isinstance(records, list):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of "
                           "SObjectCollection: records is not an array")
        if len(records) > MAX_COLLECTION:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit "
                           "more than 200 records into this call")
        target = self.sobject(sobject) if sobject else None
        ext = None
        if target is not None:
            ext = target.external_id(ext_name)
            if ext is None:
                raise ApiError(400, "INVALID_FIELD", "Field name provided, %s is not an "
                               "External ID or indexed field for %s" % (ext_name, target.name))
        checked = [self._check_record(rec, target) for rec in records]
        if ext is None:
            return [self._insert(obj) for obj, _ in checked]
        values = [self._key_value(rec, ext["name"]) for _, rec in checked]
        seen, duplicated = set(), set()
        for value in values:
            if value is not None:
                (duplicated if value in seen else seen).add(value)
        return [self._upsert(target, ext["name"], value, value in duplicated)
                for value in values]

    def _check_record(self, rec, target):
        if not isinstance(rec, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject "
                           "from non-object value")
        attrs = rec.get("attributes")
        type_name = attrs.get("type") if isinstance(attrs, dict) else None
        obj = self.sobject(type_name)
        if target is not None and obj is not target:
            raise ApiError(400, "INVALID_TYPE", "sObject type '%s' does not match the upsert "
                           "object %s" % (type_name, target.name))
        for key in rec:
            if key != "attributes" and not obj.known(key):
                raise ApiError(400, "INVALID_FIELD", "No such column '%s' on sobject of type %s"
                               % (key, obj.name))
        return obj, rec

    @staticmethod
    def _key_value(rec, ext_name):
        lowered = ext_name.lower()
        for key, value in rec.items():
            if key.lower() == lowered and value not in (None, ""):
                return str(value)
        return None

    def _insert(self, obj):
        rid = self.new_id(obj.key_prefix)
        with self.lock:
            self.records += 1
        return {"id": rid, "success": True, "errors": []}

    def _upsert(self, obj, ext_name, value, duplicated):
        if value is None:
            return {"success": False, "created": False, "errors": [
                {"statusCode": "MISSING_ARGUMENT", "message": "%s not specified" % ext_name,
                 "fields": []}]}
        if duplicated:
            return {"success": False, "created": False, "errors": [
                {"statusCode": "DUPLICATE_VALUE",
                 "message": "Duplicate external id specified: %s" % value, "fields": []}]}
        created, rid = self.upsert_key(obj, ext_name, value)
        return {"id": rid, "success": True, "errors": [], "created": created}

    def upsert_key(self, obj, ext_name, value):
        """Return (created, Id) for the record whose key field has value."""
        key = (obj.name, ext_name, value.lower())
        with self.lock:
            rid = self.keys.get(key)
            if rid is not None:
                return False, rid
        rid = self.new_id(obj.key_prefix)
        with self.lock:
            self.keys[key] = rid
            self.records += 1
        return True, rid


class Job:
    """One Bulk API 2.0 ingest job."""

    def __init__(self, jid, obj, operation, ext, line_ending, delimiter, version):
        self.id, self.obj, self.operation, self.ext = jid, obj, operation, ext
        self.line_ending, self.delimiter_name, self.version = line_ending, delimiter, version
        self.state = "Open"
        self.data = None
        self.deadline = None
        self.processed = self.failed = 0
        self.done = False
        self.successful = self.failed_csv = self.unprocessed = ""
        self.error_message = None

    @property
    def open(self):
        return self.state in ("Open", "UploadComplete", "InProgress")

    def info(self):
        out = {"id": self.id, "operation": self.operation, "object": self.obj.name,
               "createdById": USER_ID, "createdDate": "2025-01-01T00:00:00.000+0000",
               "systemModstamp": "2025-01-01T00:00:00.000+0000", "state": self.state}
        if self.ext:
            out["externalIdFieldName"] = self.ext
        out.update(concurrencyMode="Parallel", contentType="CSV",
                   apiVersion=float(self.version), jobType="V2Ingest",
                   lineEnding=self.line_ending, columnDelimiter=self.delimiter_name)
        if self.state == "Open":
            out["contentUrl"] = "services/data/v%s/jobs/ingest/%s/batches" % (self.version,
                                                                               self.id)
        else:
            out.update(numberRecordsProcessed=self.processed,
                       numberRecordsFailed=self.failed)
        out.update(retries=0, totalProcessingTime=0, apiActiveProcessingTime=0,
                   apexProcessingTime=0)
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out


def quote(cell):
    return '"' + cell.replace('"', '""') + '"'


class Bulk:
    def __init__(self, org):
        self.org = org

    def job(self, jid):
        with self.org.lock:
            job = self.org.jobs.get(jid)
        if job is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def create(self, body, version):
        try:
            spec = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, "JSON_PARSER_ERROR", str(exc))
        obj = self.org.sobject(spec.get("object"))
        operation = spec.get("operation")
        if operation not in ("insert", "upsert", "update", "delete", "hardDelete"):
            raise ApiError(400, "INVALIDJOB", "InvalidJob : Invalid operation: %s" % operation)
        ext = None
        if operation == "upsert":
            field = obj.external_id(spec.get("externalIdFieldName") or "")
            if field is None:
                raise ApiError(400, "INVALIDJOB", "InvalidJob : Field name provided, %s is not "
                               "an External ID or indexed field for %s"
                               % (spec.get("externalIdFieldName"), obj.name))
            ext = field["name"]
        line_ending = spec.get("lineEnding") or "LF"
        delimiter = spec.get("columnDelimiter") or "COMMA"
        if line_ending not in ("LF", "CRLF") or delimiter not in DELIMITERS:
            raise ApiError(400, "INVALIDJOB", "InvalidJob : Invalid lineEnding or "
                           "columnDelimiter")
        job = Job(self.org.new_id("750"), obj, operation, ext, line_ending, delimiter, version)
        with self.org.lock:
            self.org.jobs[job.id] = job
            self.org.count_open_jobs()
        return job.info()

    def upload(self, jid, data):
        job = self.job(jid)
        with self.org.lock:
            if job.state != "Open":
                raise ApiError(400, "INVALIDJOBSTATE", "Job is not in Open state: %s" % job.state)
            if job.data is not None:
                raise ApiError(400, "BULK_API_ERROR", "Found multiple contents for job: <%s>"
                               % job.id)
            job.data = data

    def patch(self, jid, body):
        job = self.job(jid)
        state = json.loads(body).get("state")
        with self.org.lock:
            if state == "UploadComplete" and job.state == "Open":
                job.state = "UploadComplete"
                job.deadline = time.monotonic() + self.org.bulk_delay
                threading.Thread(target=self._process, args=(job,), daemon=True).start()
                return job.info()
            if state == "Aborted" and job.open:
                job.state = "Aborted"
                self.org.count_open_jobs()
                return job.info()
        raise ApiError(400, "INVALIDJOBSTATE", "Invalid state transition from %s to %s"
                       % (job.state, state))

    def info(self, jid):
        job = self.job(jid)
        with self.org.lock:
            if job.state in ("UploadComplete", "InProgress"):
                if job.done and time.monotonic() >= job.deadline:
                    job.state = "Failed" if job.error_message else "JobComplete"
                    self.org.count_open_jobs()
                else:
                    job.state = "InProgress"
            return job.info()

    def _process(self, job):
        """Parse the upload and build the result files, then mark the job done."""
        text = (job.data or b"").decode("utf-8", "replace")
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""),
                                   delimiter=DELIMITERS[job.delimiter_name], strict=True))
        except csv.Error as exc:
            # NOTE: the errorMessage text is this fake's, not Salesforce's.
            with self.org.lock:
                job.error_message = "ClientInputError : invalid CSV: %s" % exc
                job.done = True
            return
        header, rows = (rows[0], rows[1:]) if rows else ([], [])

        d = DELIMITERS[job.delimiter_name]
        eol = "\r\n" if job.line_ending == "CRLF" else "\n"
        names = d.join(header)
        ok, bad = [], []
        key_index = None
        if job.ext:
            lowered = [h.lower() for h in header]
            key_index = lowered.index(job.ext.lower()) if job.ext.lower() in lowered else None

        for row in rows:
            echoed = d.join(quote(c) for c in row)
            if len(row) != len(header):
                bad.append('""%s%s%s%s' % (d, quote("INVALID_FIELD:Row has %d columns but the "
                                                    "header has %d:--" % (len(row), len(header))),
                                           d, echoed))
                continue
            if job.operation == "upsert":
                value = row[key_index] if key_index is not None else ""
                if value == "":
                    bad.append('""%s%s%s%s' % (d, quote("MISSING_ARGUMENT:%s not specified:--"
                                                        % job.ext), d, echoed))
                    continue
                created, rid = self.org.upsert_key(job.obj, job.ext, value)
            else:
                created, rid = True, self.org.new_id(job.obj.key_prefix)
                with self.org.lock:
                    self.org.records += 1
            ok.append('"%s"%s"%s"%s%s' % (rid, d, "true" if created else "false", d, echoed))

        # Salesforce does not promise the input order in result files.
        random.shuffle(ok)
        random.shuffle(bad)
        job.successful = "".join(line + eol for line in
                                 [d.join(('"sf__Id"', '"sf__Created"', names))] + ok)
        job.failed_csv = "".join(line + eol for line in
                                 [d.join(('"sf__Id"', '"sf__Error"', names))] + bad)
        job.unprocessed = names + eol
        with self.org.lock:
            job.processed, job.failed = len(rows), len(bad)
            job.done = True
            if time.monotonic() > job.deadline:
                self.org.late_jobs += 1

    def results(self, jid, kind):
        job = self.job(jid)
        with self.org.lock:
            if job.state not in ("JobComplete", "Failed", "Aborted"):
                raise ApiError(400, "INVALIDJOBSTATE", "Job is not in a completed state: %s"
                               % job.state)
        if kind == "successfulresults":
            return job.successful
        if kind == "failedresults":
            return job.failed_csv
        return job.unprocessed

    def delete(self, jid):
        job = self.job(jid)
        with self.org.lock:
            if job.state in ("Open", "InProgress"):
                raise ApiError(400, "INVALIDJOBSTATE", "Job in state %s cannot be deleted"
                               % job.state)
            del self.org.jobs[jid]
            self.org.count_open_jobs()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BenchFakeSalesforce/1.0"
    disable_nagle_algorithm = True
    org = None
    bulk = None

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, socket.timeout):
            pass

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self):
        body = self._read_body()
        arrived = time.monotonic()
        url = urlsplit(self.path)
        if url.path.startswith("/__fake/"):
            self._send(*self._control(url.path, body))
            return
        if not url.path.startswith("/services/"):
            self._send(404, json_error("NOT_FOUND", "The requested resource does not exist"))
            return
        org = self.org
        org.enter()
        busy = 0.0
        try:
            try:
                status, payload, ctype = self._services(url, body)
            except ApiError as exc:
                status, payload, ctype = exc.status, json_error(exc.code, exc.message), JSON_TYPE
            except Exception:  # a bug in this fake, or a request it cannot read
                sys.stderr.write("bench_fake: %s %s failed:\n%s" % (self.command, url.path,
                                                                     traceback.format_exc()))
                status, payload, ctype = 500, json_error(
                    "UNKNOWN_EXCEPTION", "An unexpected error occurred in the bench fake org"), \
                    JSON_TYPE
            busy = time.monotonic() - arrived
            wait = arrived + org.latency - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._send(status, payload, ctype)
        finally:
            org.leave(busy, time.monotonic() - arrived)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            data = b"".join(parts)
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip" and data:
            data = gzip.decompress(data)
        return data

    def _send(self, status, payload, ctype=JSON_TYPE):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        elif payload is not None and not isinstance(payload, bytes):
            payload = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        payload = payload or b""
        head = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("",))[0]),
                "Server: " + self.server_version, "Content-Length: %d" % len(payload)]
        if payload:
            head.append("Content-Type: " + ctype)
        # One write for the head and the body, so that no small segment
        # waits for a delayed ACK.
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        self.log_request(status)

    # -- control API ------------------------------------------------------
    def _control(self, path, body):
        org = self.org
        if path == "/__fake/stats" and self.command == "GET":
            return 200, org.stats()
        if path == "/__fake/reset" and self.command == "POST":
            org.reset()
            return 200, {"reset": True}
        if path == "/__fake/config":
            if self.command == "POST":
                changes = json.loads(body or b"{}")
                with org.lock:
                    for key in ("latency", "bulk_delay"):
                        if key in changes:
                            setattr(org, key, float(changes[key]))
            return 200, {"latency": org.latency, "bulk_delay": org.bulk_delay}
        return 404, json_error("NOT_FOUND", "No control resource %s %s" % (self.command, path))

    # -- Salesforce API ---------------------------------------------------
    def _services(self, url, body):
        org = self.org
        path = url.path
        if path == "/services/oauth2/token":
            return self._token(body)
        if path in ("/services/data", "/services/data/"):
            return 200, [{"label": "v%d.0" % v, "url": "/services/data/v%d.0" % v,
                          "version": "%d.0" % v} for v in range(42, 67)], JSON_TYPE

        self._authenticate()
        if path == "/services/oauth2/userinfo":
            return 200, {"sub": "%s/id/%s/%s" % (org.base_url, ORG_ID, USER_ID),
                         "user_id": USER_ID, "organization_id": ORG_ID,
                         "preferred_username": USERNAME, "active": True}, JSON_TYPE
        match = DATA_PATH.match(path)
        if not match:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        version = match.group(1)
        parts = [p for p in (match.group(2) or "/").split("/") if p]
        method = self.command

        if parts[:2] == ["composite", "sobjects"]:
            if method == "PATCH" and len(parts) == 4:
                return 200, org.collection(body, parts[2], parts[3]), JSON_TYPE
            if method == "POST" and len(parts) == 2:
                return 200, org.collection(body, None, None), JSON_TYPE
        if parts[:2] == ["jobs", "ingest"]:
            return self._jobs(method, parts[2:], body, version)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["sobjects", "User"]:
            return 200, {"attributes": {"type": "User", "url": path}, "Id": parts[2],
                         "Username": USERNAME}, JSON_TYPE
        if method == "GET" and parts == ["query"]:
            return 200, self._query(url.query), JSON_TYPE
        if method == "GET" and not parts:
            return 200, {name: "/services/data/v%s/%s" % (version, name)
                         for name in ("sobjects", "query", "composite", "jobs/ingest")}, JSON_TYPE
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _token(self, body):
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"),
                                             keep_blank_values=True).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
        org = self.org
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "grant type not supported"}, JSON_TYPE
        if client_id != org.client_id or secret != org.client_secret:
            return 400, {"error": "invalid_client",
                         "error_description": "invalid client credentials"}, JSON_TYPE
        token = "%s!AQ%s" % (ORG_ID[:15], secrets.token_urlsafe(48))
        with org.lock:
            org.tokens.add(token)
        return 200, {"access_token": token, "instance_url": org.base_url,
                     "id": "%s/id/%s/%s" % (org.base_url, ORG_ID, USER_ID),
                     "token_type": "Bearer", "issued_at": str(int(time.time() * 1000)),
                     "signature": "bench", "scope": "api"}, JSON_TYPE

    def _authenticate(self):
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        with self.org.lock:
            valid = scheme.lower() in ("bearer", "oauth") and token.strip() in self.org.tokens
        if not valid:
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def _query(self, query_string):
        soql = (parse_qs(query_string).get("q") or [""])[0]
        match = re.search(r"\bFROM\s+(\w+)", soql, re.IGNORECASE)
        name = match.group(1) if match else ""
        if name.lower() not in self.org.objects and name.lower() not in ("user", "organization"):
            raise ApiError(400, "INVALID_TYPE", "sObject type '%s' is not supported." % name)
        return {"totalSize": 0, "done": True, "records": []}

    def _jobs(self, method, parts, body, version):
        bulk = self.bulk
        if not parts and method == "POST":
            return 200, bulk.create(body, version), JSON_TYPE
        if len(parts) == 1:
            if method == "GET":
                return 200, bulk.info(parts[0]), JSON_TYPE
            if method == "PATCH":
                return 200, bulk.patch(parts[0], body), JSON_TYPE
            if method == "DELETE":
                bulk.delete(parts[0])
                return 204, None, JSON_TYPE
        if len(parts) == 2 and parts[1] == "batches" and method == "PUT":
            bulk.upload(parts[0], body)
            return 201, None, JSON_TYPE
        if len(parts) == 2 and method == "GET" and parts[1].lower() in (
                "successfulresults", "failedresults", "unprocessedrecords"):
            return 200, bulk.results(parts[0], parts[1].lower()), CSV_TYPE
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def json_error(code, message):
    return [{"message": message, "errorCode": code}]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops connections that several
    # clients open at once, and a dropped SYN costs a 1 s retransmission.
    request_queue_size = 512


def main(argv):
    p = argparse.ArgumentParser(description="Light fake Salesforce org for sfsink's "
                                "benchmarks (loopback only).")
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    p.add_argument("--latency", type=float, default=0.0,
                   help="seconds from the arrival of a request body to its response")
    p.add_argument("--bulk-delay", type=float, default=0.2,
                   help="seconds from the close of a bulk job to JobComplete")
    p.add_argument("--schema", default=DEFAULT_SCHEMA, help="schema.json of the fake org")
    p.add_argument("--client-id", default="sfsink-demo")
    p.add_argument("--client-secret", default="sfsink-demo-secret")
    args = p.parse_args(argv)

    org = Org(args.schema, args.latency, args.bulk_delay, args.client_id, args.client_secret)
    handler = type("BoundHandler", (Handler,), {"org": org, "bulk": Bulk(org)})
    server = Server(("127.0.0.1", args.port), handler)
    org.base_url = "http://127.0.0.1:%d" % server.server_address[1]

    stop = threading.Event()
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    for sig in stop_signals:
        signal.signal(sig, lambda *_: stop.set())
    # Worker threads inherit a mask that blocks the stop signals, so the
    # kernel delivers them to the main thread, which runs the handler.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
    print(org.base_url, flush=True)
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
