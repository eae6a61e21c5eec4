#!/usr/bin/env python3
"""A local fake Salesforce org for sfsink's tests.

Serves, on loopback only, the OAuth token endpoint, the REST versions list,
describe, a small SOQL subset, sObject Collections and Bulk API 2.0 ingest,
plus a control API under /__fake/ (see README.md).  Prints the base URL as
its only line on stdout, then serves until SIGTERM or SIGINT.
"""
import argparse
import gzip
import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ids  # noqa: E402
import oauth  # noqa: E402
from app import App, Request, Response, error  # noqa: E402
from bulk import Bulk  # noqa: E402
from control import Control  # noqa: E402
from dml import Engine  # noqa: E402
from faults import Faults  # noqa: E402
from runtime import Config, ConnectionCounter, RequestLog, Stats  # noqa: E402
from schema import Schema  # noqa: E402
from sobject_collections import Collections  # noqa: E402
from store import Store  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv):
    p = argparse.ArgumentParser(description="Local fake Salesforce org for sfsink tests.")
    p.add_argument("--port", type=int, default=0, help="port (default 0 = any free port)")
    p.add_argument("--ipv6", action="store_true", help="bind ::1 instead of 127.0.0.1")
    p.add_argument("--schema", default=os.path.join(HERE, "schema.json"))
    p.add_argument("--client-id", default="sfsink-demo")
    p.add_argument("--client-secret", default="sfsink-demo-secret")
    p.add_argument("--api-limit", type=int, default=15000)
    p.add_argument("--latency", type=float, default=0.0,
                   help="seconds added to every /services/ request")
    p.add_argument("--bulk-delay", type=float, default=0.2,
                   help="seconds a bulk job stays InProgress")
    p.add_argument("--bulk-max-upload", type=int, default=100 * 1024 * 1024,
                   help="largest accepted bulk upload in bytes (default 100 MB)")
    p.add_argument("--jwt-public-key", help="PEM public key that verifies JWT bearer assertions")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca", help="require client certificates signed by this CA")
    p.add_argument("--verbose", action="store_true", help="log one line per request to stderr")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        p.error("--client-ca needs --tls-cert and --tls-key")
    return args


class Context:
    """Everything the handlers share."""

    def __init__(self, args):
        self.args = args
        self.base_url = ""
        self.config = Config(args)
        self.schema = Schema(args.schema)
        self.ids = ids.IdFactory()
        self.org_id = self.ids.next(ids.ORG_PREFIX)
        self.user_id = self.ids.next(ids.USER_PREFIX)
        self.stats = Stats()
        self.log = RequestLog()
        self.connections = ConnectionCounter()
        self.faults = Faults()
        self.store = Store(self.schema, self.ids)
        self.engine = Engine(self.schema, self.store)
        self.collections = Collections(self.schema, self.store, self.engine)
        self.bulk = Bulk(self.schema, self.store, self.engine, self.config, self.ids,
                         self.user_id, self.stats)
        self.tokens = oauth.Tokens(self.org_id)
        self.oauth = oauth.TokenEndpoint(self.config, self.tokens, self.user_id,
                                         lambda: self.base_url)
        self.app = App(self)
        self.control = Control(self)

    @staticmethod
    def header_dict(headers):
        out = {}
        for key, value in headers.items():
            out[key] = out[key] + ", " + value if key in out else value
        return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSalesforce/1.0"
    ctx = None  # set on the subclass made in serve()

    def version_string(self):
        return self.server_version

    def setup(self):
        self.connection_number = self.ctx.connections.next()
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()   # in this thread, not in accept()

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, socket.timeout):
            pass

    def parse_request(self):
        self.before_body = None
        ok = super().parse_request()
        self.headers_end = time.monotonic()
        return ok

    def handle_expect_100(self):
        """Send the interim 100 Continue unless a no_continue rule fires."""
        if any(r.action == "no_continue" for r in self._before_body_rules()):
            return True
        return super().handle_expect_100()

    def _before_body_rules(self):
        """The no_continue and stall_body rules for this request, fired once."""
        if self.before_body is None:
            path = urlsplit(self.path).path
            self.before_body = []
            if path.startswith("/services/"):
                self.before_body = self.ctx.faults.fire_before_body(self.command, path)
        return self.before_body

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _dispatch(self):
        rules = self._before_body_rules()
        body_wait = self._wait_for_body()
        stall = sum(float(r.spec.get("seconds", 10)) for r in rules if r.action == "stall_body")
        if stall > 0:
            time.sleep(stall)
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        peer = {"connection": self.connection_number, "client_port": self.client_address[1],
                "body_wait": body_wait}
        req = Request(self.command, url.path, url.query, self.headers, body, peer)
        if url.path.startswith("/__fake/"):
            resp = self.ctx.control.handle(req)
        elif url.path.startswith("/services/"):
            resp = self.ctx.app.handle(req)
        else:
            resp = error(404, "NOT_FOUND", "The requested resource does not exist")
        if resp.drop:
            self._drop()
        else:
            self._send(resp)

    def _wait_for_body(self):
        """Wait until the first byte of the body can be read, without
        consuming it.  Return the seconds since the end of the request
        headers, or None for a request without a body."""
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not chunked and length <= 0:
            return None
        try:
            self.rfile.peek(1)
        except OSError:
            return None
        return round(time.monotonic() - self.headers_end, 6)

    def _read_body(self):
        """Read a Content-Length or chunked body; undo Content-Encoding: gzip."""
        try:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                data = self._read_chunked()
            else:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if (self.headers.get("Content-Encoding") or "").lower() == "gzip" and data:
                data = gzip.decompress(data)
        except (ValueError, OSError, EOFError):
            self._send(error(400, "JSON_PARSER_ERROR", "Could not read the request body"))
            self.close_connection = True
            return None
        return data

    def _read_chunked(self):
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, resp):
        self.send_response(resp.status)
        for key, value in resp.headers:
            self.send_header(key, value)
        body = b"" if resp.status in (204, 304) or self.command == "HEAD" else resp.body
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and resp.trickle > 0:
            self._trickle(body, resp.trickle)
        elif body:
            self.wfile.write(body)

    def _trickle(self, body, seconds):
        """Send BODY one byte at a time, SECONDS apart, as a slow peer would."""
        try:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(seconds)
        except OSError:
            self.close_connection = True

    def _drop(self):
        """Close the TCP connection without writing a response."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.ctx.args.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    verbose = False

    def handle_error(self, request, client_address):
        """Stay quiet about clients that hang up or fail the TLS handshake."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, socket.timeout)) and not self.verbose:
            return
        super().handle_error(request, client_address)


class Server6(Server):
    address_family = socket.AF_INET6


def tls_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def serve(args):
    ctx = Context(args)
    handler = type("BoundHandler", (Handler,), {"ctx": ctx})
    host = "::1" if args.ipv6 else "127.0.0.1"
    server = (Server6 if args.ipv6 else Server)((host, args.port), handler)
    server.verbose = args.verbose
    scheme = "http"
    if args.tls_cert:
        server.socket = tls_context(args).wrap_socket(server.socket, server_side=True,
                                                      do_handshake_on_connect=False)
        scheme = "https"
    port = server.server_address[1]
    ctx.base_url = "%s://%s:%d" % (scheme, "[::1]" if args.ipv6 else host, port)
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
    print(ctx.base_url, flush=True)
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()


def main(argv=None):
    serve(parse_args(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
