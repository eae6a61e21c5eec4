"""Mutable run-time state shared by the handlers: config, stats, request log."""
import threading
import time


class Config:
    """Settings from the command line; POST /__fake/config changes some of them
    and POST /__fake/reset puts the command-line values back."""

    TUNABLE = ("api_limit", "latency", "bulk_delay", "bulk_max_upload")

    def __init__(self, args):
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.jwt_public_key = args.jwt_public_key
        self.api_limit = args.api_limit
        self.latency = args.latency
        self.bulk_delay = args.bulk_delay
        self.bulk_max_upload = args.bulk_max_upload
        self._initial = {k: getattr(self, k) for k in self.TUNABLE}

    def restore(self):
        for k, v in self._initial.items():
            setattr(self, k, v)

    def view(self):
        return {k: getattr(self, k) for k in self.TUNABLE}


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.requests = 0
            self.current = 0
            self.max_concurrent = 0
            self.api_usage = 0
            self.open_jobs = 0
            self.max_open_jobs = 0

    def count_request(self):
        with self._lock:
            self.requests += 1

    def enter(self):
        with self._lock:
            self.current += 1
            self.max_concurrent = max(self.max_concurrent, self.current)

    def leave(self):
        with self._lock:
            self.current -= 1

    def use_api(self, limit):
        """Count one authenticated call; return (usage, over_limit)."""
        with self._lock:
            self.api_usage += 1
            return self.api_usage, self.api_usage > limit

    def set_api_usage(self, n):
        with self._lock:
            self.api_usage = n

    def set_open_jobs(self, n):
        with self._lock:
            self.open_jobs = n
            self.max_open_jobs = max(self.max_open_jobs, n)

    def view(self):
        with self._lock:
            return {"requests": self.requests, "max_concurrent": self.max_concurrent,
                    "current": self.current, "api_usage": self.api_usage,
                    "max_open_jobs": self.max_open_jobs}


class ConnectionCounter:
    """Numbers client connections 1, 2, ... as their handler threads start.
    POST /__fake/reset keeps the count, so a number names one connection
    for the whole life of the server."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last = 0

    def next(self):
        with self._lock:
            self._last += 1
            return self._last


class RequestLog:
    """Every /services/ request, oldest first (GET /__fake/requests)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._entries = []
            self._seq = 0

    def add(self, method, path, query, headers, body_text, peer=None):
        """Log one request.  PEER is a dict with the request's `connection`,
        `client_port` and `body_wait`."""
        peer = peer or {}
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "time": time.time(), "method": method, "path": path,
                     "query": query, "headers": headers, "body": body_text, "status": None,
                     "connection": peer.get("connection"),
                     "client_port": peer.get("client_port"),
                     "body_wait": peer.get("body_wait")}
            self._entries.append(entry)
            return entry

    def entries(self, path_re=None, method=None):
        with self._lock:
            items = list(self._entries)
        return [dict(e) for e in items
                if (method is None or e["method"] == method.upper())
                and (path_re is None or path_re.search(e["path"]))]
