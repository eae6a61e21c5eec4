"""Routing of /services/ requests: auth, limits, faults, the REST resources.

Generic behaviour (REST API Developer Guide, "Status Codes and Error
Responses" and "Limit Info Header"):
  * errors are JSON arrays of {"message", "errorCode"};
  * an unknown or expired token gives 401 INVALID_SESSION_ID;
  * every authenticated response carries Sforce-Limit-Info: api-usage=N/M,
    and once N passes M the call is refused with 403 REQUEST_LIMIT_EXCEEDED;
  * GET /services/data/ needs no token and carries no Sforce-Limit-Info.
"""
import base64
import re
import time
import traceback
from urllib.parse import parse_qs

import jsonpos
import soql
from bulk import BulkError
from sobject_collections import RequestError

JSON_TYPE = "application/json;charset=UTF-8"
CSV_TYPE = "text/csv; charset=UTF-8"
MIN_VERSION, MAX_VERSION = 42, 66
SEASONS = ("Winter", "Spring", "Summer")

DATA_PATH = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
JOB_ID = re.compile(r"/jobs/ingest/(750[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)")


class Response:
    def __init__(self, status, body=b"", content_type=None, headers=None):
        self.status = status
        self.body = body
        self.headers = list(headers or [])
        if content_type:
            self.headers.append(("Content-Type", content_type))
        self.drop = False           # close the connection without a response
        self.trickle = 0.0          # seconds between body bytes, 0 to send at once


def json_response(status, obj, headers=None):
    return Response(status, jsonpos.dumps(obj).encode("utf-8"), JSON_TYPE, headers)


def error(status, code, message):
    return json_response(status, [{"message": message, "errorCode": code}])


def not_found():
    return error(404, "NOT_FOUND", "The requested resource does not exist")


def versions():
    """GET /services/data/ ("List Available REST API Versions"): version is
    a string; labels follow Salesforce's three releases a year
    (v20.0 Winter '11, v42.0 Spring '18, v61.0 Summer '24)."""
    out = []
    for v in range(MIN_VERSION, MAX_VERSION + 1):
        k = v - 20
        out.append({"label": "%s '%02d" % (SEASONS[k % 3], 11 + k // 3),
                    "url": "/services/data/v%d.0" % v, "version": "%d.0" % v})
    return out


class Request:
    def __init__(self, method, path, query, headers, body, peer=None):
        self.method, self.path, self.query_string = method, path, query
        self.query = parse_qs(query, keep_blank_values=True)
        self.headers, self.body = headers, body
        # connection, client_port and body_wait for the request log.
        self.peer = peer or {}

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


class App:
    def __init__(self, ctx):
        self.ctx = ctx

    # -- the pipeline ---------------------------------------------------
    def handle(self, req):
        """Handle one /services/ request, applying fault rules around it."""
        ctx = self.ctx
        ctx.stats.count_request()
        entry = ctx.log.add(req.method, req.path, req.query_string, ctx.header_dict(req.headers),
                            req.text, req.peer)
        is_data = req.path.startswith("/services/data")
        if is_data:
            ctx.stats.enter()
        try:
            resp = self._with_faults(req)
        finally:
            if is_data:
                ctx.stats.leave()
        entry["status"] = None if resp.drop else resp.status
        return resp

    def _with_faults(self, req):
        ctx = self.ctx
        fired = ctx.faults.fire(req.method, req.path)
        delay = ctx.config.latency + sum(float(r.spec.get("seconds", 0)) for r in fired
                                         if r.action == "delay")
        if delay > 0:
            time.sleep(delay)
        if any(r.action == "expire_token" for r in fired):
            ctx.tokens.expire_all()
        terminal = next((r for r in fired if r.action in ("respond", "drop", "drop_after")), None)
        if terminal and terminal.action == "respond":
            resp = self._canned(terminal.spec)
            for r in fired:
                if r.action == "trickle":
                    resp.trickle = float(r.spec.get("seconds", 0.1))
            return resp
        if terminal and terminal.action == "drop":
            resp = Response(0)
            resp.drop = True
            return resp
        m = JOB_ID.search(req.path)
        if m:
            self._job_faults(fired, m.group(1))
        resp = self._safe_route(req)
        if not m and resp.status == 200 and req.method == "POST" and \
                req.path.rstrip("/").endswith("/jobs/ingest"):
            self._job_faults(fired, resp.job_id)
        if terminal and terminal.action == "drop_after":
            resp.drop = True
        for r in fired:
            if r.action == "trickle":
                resp.trickle = float(r.spec.get("seconds", 0.1))
        return resp

    def _job_faults(self, fired, jid):
        for r in fired:
            if r.action == "job_fail":
                self.ctx.bulk.fail(jid, r.spec.get("error_message", "InvalidBatch : Failed by a "
                                                   "fault rule of the fake org"))
            elif r.action == "job_abort":
                self.ctx.bulk.abort(jid)

    @staticmethod
    def _canned(spec):
        body = spec.get("body", "")
        headers = [(str(k), str(v)) for k, v in (spec.get("headers") or {}).items()]
        if "body_base64" in spec:
            # Bytes that are not UTF-8, which a JSON rule cannot hold as text.
            data = base64.b64decode(spec["body_base64"])
            ctype = None if any(k.lower() == "content-type" for k, _ in headers) else JSON_TYPE
            return Response(int(spec.get("status", 500)), data, ctype, headers)
        if isinstance(body, str):
            data = body.encode("utf-8")
            ctype = None if any(k.lower() == "content-type" for k, _ in headers) else JSON_TYPE
        else:
            data = jsonpos.dumps(body).encode("utf-8")
            ctype = None if any(k.lower() == "content-type" for k, _ in headers) else JSON_TYPE
        return Response(int(spec.get("status", 500)), data, ctype, headers)

    def _safe_route(self, req):
        try:
            return self._route(req)
        except Exception:  # a bug in the fake: respond like Salesforce's 500
            traceback.print_exc()
            return error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include "
                         "this ErrorId if you contact support: fake-org")

    # -- routing --------------------------------------------------------
    def _route(self, req):
        if req.path == "/services/oauth2/token":
            if req.method != "POST":
                return error(405, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed "
                             "are POST" % req.method)
            status, body = self.ctx.oauth.handle(req.text, req.headers.get("Authorization"))
            return json_response(status, body)
        if req.path in ("/services/data", "/services/data/"):
            if req.method != "GET":
                return error(405, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed "
                             "are GET,HEAD" % req.method)
            return json_response(200, versions())
        m = DATA_PATH.match(req.path)
        if not m or float(m.group(1)) < MIN_VERSION:
            return not_found()
        denied = self._authenticate(req)
        if denied:
            return denied
        usage, over = self.ctx.stats.use_api(self.ctx.config.api_limit)
        limit = [("Sforce-Limit-Info", "api-usage=%d/%d" % (usage, self.ctx.config.api_limit))]
        if over:
            # Captured 403 body for an exhausted daily allocation.
            resp = error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        else:
            resp = self._resource(req, m.group(1), m.group(2) or "/")
        resp.headers.extend(limit)
        return resp

    def _authenticate(self, req):
        auth = req.headers.get("Authorization")
        if auth is None:
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token.strip():
            # Captured as a code comment: INVALID_AUTH_HEADER / INVALID_HEADER_TYPE.
            # NOTE: status 401 assumed.
            return error(401, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE")
        if not self.ctx.tokens.valid(token.strip()):
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    def _resource(self, req, version_text, rest):
        version = float(version_text)
        parts = [p for p in rest.split("/") if p]
        try:
            if not parts:
                # "Resources by Version": the resources this fake serves.
                base = "/services/data/v%s/" % version_text
                return json_response(200, {name: base + name for name in
                                            ("sobjects", "query", "composite", "jobs/ingest")})
            if parts[:1] == ["sobjects"]:
                return self._sobjects(req, version_text, parts)
            if parts == ["query"]:
                return self._query(req, version_text)
            if parts[:2] == ["composite", "sobjects"]:
                return self._collections(req, version, parts)
            if parts[:2] == ["jobs", "ingest"]:
                return self._jobs(req, version_text, parts[2:])
        except RequestError as exc:
            return json_response(exc.status, exc.body())
        except BulkError as exc:
            return json_response(exc.status, exc.body())
        return not_found()

    @staticmethod
    def _method(req, allowed):
        if req.method in allowed:
            return None
        # Bulk API 2.0 "Errors": MethodNotAllowed "HTTP Method '<method>' not
        # allowed. Allowed are <methods>".
        return error(405, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed are %s"
                     % (req.method, ",".join(allowed)))

    def _sobjects(self, req, version_text, parts):
        bad = self._method(req, ("GET", "HEAD"))
        if bad:
            return bad
        schema = self.ctx.schema
        if len(parts) == 1:
            return json_response(200, schema.summary(version_text))
        if len(parts) == 3 and parts[2] == "describe":
            obj = schema.get(parts[1])
            if obj is None:
                return not_found()
            return json_response(200, schema.describe(obj, version_text))
        return not_found()

    def _query(self, req, version_text):
        bad = self._method(req, ("GET",))
        if bad:
            return bad
        q = (req.query.get("q") or [""])[0]
        try:
            return json_response(200, soql.run(self.ctx.schema, self.ctx.store, q, version_text))
        except soql.QueryError as exc:
            return error(400, exc.code, exc.message)

    def _collections(self, req, version, parts):
        coll = self.ctx.collections
        if len(parts) == 2:
            bad = self._method(req, ("POST", "PATCH", "DELETE"))
            if bad:
                return bad
            if req.method == "POST":
                status, body = coll.create(req.text)
            elif req.method == "PATCH":
                status, body = coll.update(req.text)
            else:
                status, body = coll.delete(req.query)
            return json_response(status, body)
        if len(parts) == 4:
            bad = self._method(req, ("PATCH",))
            if bad:
                return bad
            status, body = coll.upsert(req.text, parts[2], parts[3], version)
            return json_response(status, body)
        return not_found()

    def _jobs(self, req, version_text, parts):
        bulk = self.ctx.bulk
        if not parts:
            bad = self._method(req, ("GET", "POST"))
            if bad:
                return bad
            if req.method == "GET":
                return json_response(200, bulk.list_info())
            status, info = bulk.create(req.text, version_text)
            resp = json_response(status, info)
            resp.job_id = info["id"]
            return resp
        jid = parts[0]
        if len(parts) == 1:
            bad = self._method(req, ("GET", "PATCH", "DELETE"))
            if bad:
                return bad
            if req.method == "GET":
                return json_response(200, bulk.job(jid).info())
            if req.method == "PATCH":
                status, info = bulk.patch(jid, req.text)
                return json_response(status, info)
            status, _ = bulk.delete(jid)
            return Response(status)
        if len(parts) == 2 and parts[1] == "batches":
            bad = self._method(req, ("PUT",))
            if bad:
                return bad
            status, _ = bulk.upload(jid, req.body)
            return Response(status)
        kinds = {"successfulresults": "successful", "failedresults": "failed",
                 "unprocessedrecords": "unprocessed"}
        if len(parts) == 2 and parts[1].lower() in kinds and \
                parts[1] in ("successfulResults", "failedResults", "unprocessedrecords",
                             "unprocessedRecords"):
            bad = self._method(req, ("GET",))
            if bad:
                return bad
            text = bulk.results(jid, kinds[parts[1].lower()])
            return Response(200, text.encode("utf-8"), CSV_TYPE)
        return not_found()
