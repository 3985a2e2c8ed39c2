"""A forwarding proxy on 127.0.0.1 in front of the real KMS that loses answers on purpose.

It sends every request on to the server and, for the first request of each KMIP operation
named in ``lose`` (a batch by its items' operations, see ``_operation``), holds the
server's answer back longer than the client waits: the server has done the work, the
client sees a timeout. That is the failure the transport's retries must survive without
reporting a lifecycle operation as failed.

Two more faults, each for the first answer of an operation: ``after`` runs a callable once
the server has answered and before the client gets the answer (to change the world in
between, e.g. remove a folder the module will write to), and ``rewrite`` hands the answer's
JSON to a function and sends what it returns (an answer of a shape the server never sends).
"""

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LossyProxy:
    def __init__(self, upstream, lose=(), hold_seconds=3.0, after=None, rewrite=None):
        self.upstream = upstream.rstrip("/")
        self.pending = set(lose)
        self.hold_seconds = hold_seconds
        self.after = dict(after or {})
        self.rewrite = dict(rewrite or {})
        self.rewritten = []
        self.forwarded = []  # KMIP operation names, in order
        self.lost = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                self._forward(None)

            def do_POST(self):  # noqa: N802
                self._forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _forward(self, body):
                operation = proxy._operation(body)
                request = urllib.request.Request(proxy.upstream + self.path, data=body, method=self.command)
                for name in ("Content-Type", "Authorization"):
                    if self.headers.get(name):
                        request.add_header(name, self.headers[name])
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        status, payload = answer.status, answer.read()
                except urllib.error.HTTPError as answer:
                    status, payload = answer.code, answer.read()
                if operation:
                    proxy.forwarded.append(operation)
                payload = proxy._fault(operation, payload)
                if proxy._lose(operation):
                    time.sleep(proxy.hold_seconds)  # the client has given up by now
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _operation(body):
        """The KMIP operation of a request; a batch is ``RequestMessage:`` and the operations
        of its items (``RequestMessage:CreateKeyPair``, ``RequestMessage:Activate+Revoke``)."""
        try:
            message = json.loads(body.decode("utf-8")) if body else {}
            if message.get("tag") != "RequestMessage":
                return message.get("tag")
            return "RequestMessage:" + "+".join(sorted(set(
                field["value"] for item in message["value"] if item["tag"] == "BatchItem"
                for field in item["value"] if field["tag"] == "Operation")))
        except (ValueError, AttributeError, KeyError, TypeError):
            return None

    def _fault(self, operation, payload):
        """Run the ``after`` callable, and apply the ``rewrite``, due for this answer."""
        with self._lock:
            action, rewrite = self.after.pop(operation, None), self.rewrite.pop(operation, None)
        if action:
            action()
        if rewrite:
            self.rewritten.append(operation)
            payload = json.dumps(rewrite(json.loads(payload.decode("utf-8")))).encode("utf-8")
        return payload

    def _lose(self, operation):
        with self._lock:
            if operation in self.pending:
                self.pending.discard(operation)
                self.lost.append(operation)
                return True
        return False

    def close(self):
        self.server.shutdown()
        self.server.server_close()
