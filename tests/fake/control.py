"""The control API under /__fake/ (no auth, JSON in and out) used by tests.

POST   /__fake/reset            forget records, jobs, requests, faults, tokens,
                                stats; restore the command-line config
GET    /__fake/records/{Obj}    stored records (?deleted=1 adds deleted ones)
POST   /__fake/records/{Obj}    seed records from a JSON array; returns Ids
GET    /__fake/requests         request log (?path=REGEX&method=M)
GET    /__fake/stats            counters
GET    /__fake/config           current tunables
POST   /__fake/config           change api_limit, api_usage, latency,
                                bulk_delay, bulk_max_upload
POST   /__fake/expire-tokens    invalidate every token issued so far
GET    /__fake/faults           rules with seen/fired counts
POST   /__fake/faults           {"rules": [...]} appends rules
DELETE /__fake/faults           remove all rules
GET    /__fake/jobs             bulk jobs with their raw CSV
POST   /__fake/jobs/{id}        {"bulk_delay": S} for one job
"""
import re

import ids
import jsonpos
import values
from app import error, json_response
from faults import RuleError


class Control:
    def __init__(self, ctx):
        self.ctx = ctx

    def handle(self, req):
        parts = [p for p in req.path.split("/") if p][1:]
        try:
            body = jsonpos.loads(req.text) if req.body.strip() else None
        except jsonpos.JsonError as exc:
            return error(400, "JSON_PARSER_ERROR", exc.jackson())
        route = (req.method, parts[0] if parts else "")
        handler = {
            ("POST", "reset"): self.reset,
            ("GET", "records"): self.get_records,
            ("POST", "records"): self.seed_records,
            ("GET", "requests"): self.requests,
            ("GET", "stats"): lambda *_: json_response(200, self.ctx.stats.view()),
            ("GET", "config"): lambda *_: json_response(200, self._config_view()),
            ("POST", "config"): self.set_config,
            ("POST", "expire-tokens"): self.expire_tokens,
            ("GET", "faults"): lambda *_: json_response(200, self.ctx.faults.list()),
            ("POST", "faults"): self.add_faults,
            ("DELETE", "faults"): self.clear_faults,
            ("GET", "jobs"): lambda *_: json_response(200, self._jobs()),
            ("POST", "jobs"): self.job_config,
        }.get(route)
        if handler is None:
            return error(404, "NOT_FOUND", "No control resource %s %s" % (req.method, req.path))
        try:
            return handler(req, parts[1:], body)
        except ControlError as exc:
            return error(400, "BAD_CONTROL_REQUEST", str(exc))

    def reset(self, *_):
        ctx = self.ctx
        ctx.bulk.reset()
        ctx.store.reset()
        ctx.log.reset()
        ctx.faults.clear()
        ctx.tokens.expire_all()
        ctx.config.restore()
        ctx.stats.reset()
        return json_response(200, {"reset": True})

    def _object(self, parts):
        obj = self.ctx.schema.get(parts[0]) if parts else None
        if obj is None:
            raise ControlError("unknown sObject %r" % (parts[0] if parts else ""))
        return obj

    def get_records(self, req, parts, _body):
        obj = self._object(parts)
        with_deleted = (req.query.get("deleted") or ["0"])[0] in ("1", "true")
        store = self.ctx.store
        with store.lock:
            recs = [dict(r) for r in store.live[obj.name].values()]
            if with_deleted:
                recs += [dict(r) for name, r in store.deleted.values() if name == obj.name]
        system = (req.query.get("system") or ["0"])[0] in ("1", "true")
        hidden = () if system else ("IsDeleted", "CreatedDate", "LastModifiedDate")
        if with_deleted and not system:
            hidden = ("CreatedDate", "LastModifiedDate")
        return json_response(200, [{k: v for k, v in r.items() if k not in hidden} for r in recs])

    def seed_records(self, _req, parts, body):
        obj = self._object(parts)
        if not isinstance(body, list):
            raise ControlError("body must be a JSON array of records")
        prepared = [self._seed_fields(obj, rec) for rec in body]
        store, out = self.ctx.store, []
        with store.lock:
            for fields, rid, deleted in prepared:
                rid = store.insert(obj.name, fields, rid)
                if deleted:
                    store.delete(obj.name, rid)
                out.append(rid)
        return json_response(200, out)

    @staticmethod
    def _seed_fields(obj, rec):
        """Seeding skips Salesforce's checks: any known field may be set."""
        if not isinstance(rec, dict):
            raise ControlError("each record must be a JSON object")
        fields, rid, deleted = {}, None, False
        for key, value in rec.items():
            if key == "attributes":
                continue
            field = obj.field(key)
            if field is None:
                raise ControlError("no field %r on %s" % (key, obj.name))
            if field["name"] == "Id":
                rid = ids.normalize(value)
                if rid is None or rid[:3] != obj.key_prefix:
                    raise ControlError("bad Id %r for %s" % (value, obj.name))
                continue
            if field["name"] == "IsDeleted":
                deleted = value is True
                continue
            try:
                fields[field["name"]] = values.coerce_json(field, value)
            except values.CoerceError:
                raise ControlError("value for %s does not fit type %s" % (key, field["type"]))
        return fields, rid, deleted

    def requests(self, req, *_):
        pattern = (req.query.get("path") or [None])[0]
        method = (req.query.get("method") or [None])[0]
        try:
            path_re = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise ControlError("bad path regex: %s" % exc)
        return json_response(200, self.ctx.log.entries(path_re, method))

    def _config_view(self):
        view = self.ctx.config.view()
        view["api_usage"] = self.ctx.stats.api_usage
        return view

    def set_config(self, _req, _parts, body):
        if not isinstance(body, dict):
            raise ControlError("body must be a JSON object")
        config = self.ctx.config
        for key, value in body.items():
            if key == "api_usage":
                self.ctx.stats.set_api_usage(int(_number(value)))
            elif key in ("api_limit", "bulk_max_upload"):
                setattr(config, key, int(_number(value)))
            elif key in ("latency", "bulk_delay"):
                setattr(config, key, float(_number(value)))
            else:
                raise ControlError("unknown config key %r" % key)
        return json_response(200, self._config_view())

    def expire_tokens(self, *_):
        self.ctx.tokens.expire_all()
        return json_response(200, {"expired": True})

    def add_faults(self, _req, _parts, body):
        rules = body.get("rules") if isinstance(body, dict) else None
        if not isinstance(rules, list):
            raise ControlError('body must be {"rules": [...]}')
        try:
            added = self.ctx.faults.add([_plain(r) for r in rules])
        except RuleError as exc:
            raise ControlError(str(exc))
        return json_response(200, {"added": added})

    def clear_faults(self, *_):
        self.ctx.faults.clear()
        return json_response(200, {"cleared": True})

    def _jobs(self):
        bulk = self.ctx.bulk
        with bulk.lock:
            return [j.control_view() for j in bulk.jobs.values()]

    def job_config(self, _req, parts, body):
        if not parts or not isinstance(body, dict):
            raise ControlError('use POST /__fake/jobs/{id} with {"bulk_delay": S}')
        with self.ctx.bulk.lock:
            job = self.ctx.bulk.jobs.get(parts[0])
            if job is None:
                raise ControlError("unknown job %r" % parts[0])
            if "bulk_delay" in body:
                job.delay = None if body["bulk_delay"] is None else float(_number(body["bulk_delay"]))
            return json_response(200, job.control_view())


class ControlError(Exception):
    pass


def _number(value):
    if isinstance(value, jsonpos.Num):
        return value.decimal()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise ControlError("expected a number, got %r" % (value,))


def _plain(value):
    """Convert parsed JSON (JObj/Num) into plain Python values for rule specs."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, jsonpos.Num):
        dec = value.decimal()
        return int(dec) if dec == dec.to_integral_value() and "." not in value.text \
            and "e" not in value.text.lower() else float(dec)
    return value
