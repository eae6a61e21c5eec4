"""Fault rules that tests install through POST /__fake/faults.

A rule matches a /services/ request by method and by a regular expression
searched in the path.  It lets `skip` matching requests through, then fires
`times` times (-1 = forever).  Actions:
  respond       respond with status/body/headers instead of doing the work;
                body_base64 in place of body gives the body as raw bytes
  drop          close the connection without a response, before the work
  drop_after    do the work, then close the connection without a response
  delay         sleep `seconds`, then handle normally
  trickle       handle normally, but send the response body one byte at a
                time, `seconds` (default 0.1) apart
  expire_token  invalidate every token, then handle normally (gives 401)
  job_fail      the bulk job named in the path ends Failed with error_message
  job_abort     the bulk job named in the path becomes Aborted
  no_continue   send no "100 Continue" to a request with Expect: 100-continue,
                so the client waits for its own timeout before the body
  stall_body    once the first bytes of the body arrive, wait `seconds`
                (default 10) before reading the rest
The handler fires the last two through fire_before_body() while it reads
the request headers, and the others through fire() once the body is read.
"""
import re
import threading

BEFORE_BODY_ACTIONS = {"no_continue", "stall_body"}
ACTIONS = {"respond", "drop", "drop_after", "delay", "trickle", "expire_token", "job_fail",
           "job_abort"} | BEFORE_BODY_ACTIONS


class RuleError(ValueError):
    pass


class Rule:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise RuleError("a rule must be a JSON object")
        self.spec = dict(spec)
        self.action = spec.get("action")
        if self.action not in ACTIONS:
            raise RuleError("unknown action %r; expected one of %s"
                            % (self.action, ", ".join(sorted(ACTIONS))))
        self.method = (spec.get("method") or "").upper() or None
        try:
            self.path = re.compile(spec["path"]) if spec.get("path") else None
        except re.error as exc:
            raise RuleError("bad path regex: %s" % exc)
        self.skip = int(spec.get("skip", 0))
        self.times = int(spec.get("times", 1))
        self.seen = 0
        self.fired = 0

    def matches(self, method, path):
        return ((self.method is None or self.method == method)
                and (self.path is None or self.path.search(path) is not None))

    def try_fire(self):
        """Count one matching request; return True when the rule fires for it."""
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times != -1 and self.fired >= self.times:
            return False
        self.fired += 1
        return True

    def describe(self):
        out = dict(self.spec)
        out.update(seen=self.seen, fired=self.fired)
        return out


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    def add(self, specs):
        rules = [Rule(s) for s in specs]  # validate all before adding any
        with self._lock:
            self._rules.extend(rules)
        return len(rules)

    def clear(self):
        with self._lock:
            self._rules = []

    def list(self):
        with self._lock:
            return [r.describe() for r in self._rules]

    def fire(self, method, path):
        """Return the rules that fire for this request once its body is read,
        in installation order."""
        return self._fire(method, path, before_body=False)

    def fire_before_body(self, method, path):
        """Return the no_continue and stall_body rules that fire for this
        request, in installation order.  Call it once per request."""
        return self._fire(method, path, before_body=True)

    def _fire(self, method, path, before_body):
        with self._lock:
            return [r for r in self._rules
                    if (r.action in BEFORE_BODY_ACTIONS) == before_body
                    and r.matches(method, path) and r.try_fire()]
