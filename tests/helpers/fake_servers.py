"""Servers on 127.0.0.1 that are not a KMS, for the fault suite: what a module meets when
kms_url points at the wrong thing (a web server, a proxy, a dead or hanging port, a TLS
endpoint with a certificate that must not be trusted).

``NotKmsServer`` answers by the first segment of the path, so one server gives every
behaviour: ``url("html")`` is a base URL whose ``/kmip/2_1`` answers 200 with an HTML page.
Each answer that can carry text echoes the request's credential (raw, JSON-escaped or
URL-encoded), as a careless server or proxy would: a client must never repeat it.
"""

import datetime
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

from throwaway_pki import issue

BIG_BODY_BYTES = 50 * 1024 * 1024
DEEP_NESTING = 100000
CHUNK = 1024 * 1024


def _credential(handler):
    value = handler.headers.get("Authorization", "")
    return value[len("Bearer "):] if value.startswith("Bearer ") else value


def _echo(handler):
    """403 whose page repeats the credential in every common rendering."""
    secret = _credential(handler)
    page = "denied: raw=%s json=%s repr=%r url=%s" % (secret, json.dumps(secret), secret, quote(secret, safe=""))
    _send(handler, 403, page)


def _ttlv_answer(attributes):
    """A GetAttributesResponse that is valid TTLV but says impossible things."""
    return {"tag": "GetAttributesResponse", "type": "Structure", "value": [
        {"tag": "UniqueIdentifier", "type": "TextString", "value": "fault"},
        {"tag": "Attributes", "type": "Structure", "value": attributes}]}


WRONG_TYPES = _ttlv_answer([
    {"tag": "ObjectType", "type": "Enumeration", "value": "PrivateKey"},
    {"tag": "State", "type": "Enumeration", "value": "Active"},
    {"tag": "CryptographicLength", "type": "Integer", "value": 2048},
    {"tag": "ActivationDate", "type": "TextString", "value": "yesterday"},
])
TAG_NOT_TEXT = _ttlv_answer([
    {"tag": "ObjectType", "type": "Enumeration", "value": "PrivateKey"},
    {"tag": "State", "type": "Enumeration", "value": "Active"},
    {"tag": "Attribute", "type": "Structure", "value": [
        {"tag": "VendorIdentification", "type": "TextString", "value": "cosmian"},
        {"tag": "AttributeName", "type": "TextString", "value": "tag"},
        {"tag": "AttributeValue", "type": "TextString", "value": "[1]"}]},
])


def _send(handler, status, body, content_type="text/html; charset=utf-8", headers=()):
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def _big(handler):
    """50 MB of a JSON document that would parse, if a client read it all."""
    head = b'{"tag":"GetAttributesResponse","type":"Structure","value":[{"tag":"Padding","type":"TextString","value":"'
    tail = b'"}]}'
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(BIG_BODY_BYTES))
    handler.end_headers()
    try:
        handler.wfile.write(head)
        left = BIG_BODY_BYTES - len(head) - len(tail)
        block = b"A" * CHUNK
        while left > 0:
            handler.wfile.write(block[:min(left, CHUNK)])
            left -= CHUNK
        handler.wfile.write(tail)
    except OSError:
        pass  # the client stopped reading: what a size cap does


def _hang(handler):
    """Read the request, then say nothing until the server is closed."""
    handler.server.released.wait(60)
    handler.close_connection = True


ANSWERS = {
    "html": lambda h: _send(h, 200, "<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head>"
                                    "<body><p>Hello %s</p></body></html>" % _credential(h)),
    "empty": lambda h: _send(h, 200, b"", "application/json"),
    "truncated": lambda h: _send(h, 200, '{"tag": "GetAttributesResponse", "type": "Structure", "value": [{"tag": "Uni',
                                 "application/json"),
    "array": lambda h: _send(h, 200, json.dumps(["tag", "value", _credential(h)]), "application/json"),
    "notttlv": lambda h: _send(h, 200, json.dumps({"status": "ok", "echo": _credential(h)}), "application/json"),
    "wrongtypes": lambda h: _send(h, 200, json.dumps(WRONG_TYPES), "application/json"),
    "tagnottext": lambda h: _send(h, 200, json.dumps(TAG_NOT_TEXT), "application/json"),
    "deep": lambda h: _send(h, 200, '{"tag":"x","value":' * DEEP_NESTING + "1" + "}" * DEEP_NESTING,
                            "application/json"),
    "big": _big,
    "redirect": lambda h: _send(h, 302, "", headers=[
        ("Location", "http://127.0.0.1:1/login?next=%2Fkmip%2F2_1&token=" + quote(_credential(h), safe=""))]),
    "forbidden": lambda h: _send(h, 403, "<html><body>403 Forbidden: bearer %s is not allowed here</body></html>"
                                 % _credential(h)),
    "notfound": lambda h: _send(h, 404, "<html><body><h1>404 Not Found</h1></body></html>"),
    "error": lambda h: _send(h, 500, "<html><body>500 Internal Server Error (%s)</body></html>"
                             % json.dumps(_credential(h))),
    "unavailable": lambda h: _send(h, 503, "<html><body>503 Service Unavailable</body></html>",
                                   headers=[("Retry-After", "1")]),
    "hang": _hang,
    "echo": _echo,
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._answer()

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self):
        mode = self.path.strip("/").split("/")[0]
        # A request that ended on a 5xx asks <url>/health once: counted apart, answered alike.
        counted = mode + "/health" if self.path.rstrip("/").endswith("/health") else mode
        self.server.hits.setdefault(counted, []).append(time.monotonic())
        ANSWERS.get(mode, ANSWERS["notfound"])(self)

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (size cap, timeout, failed handshake) are expected here


class NotKmsServer:
    """An HTTP server whose answers are chosen by the first path segment (see ANSWERS);
    ``hits[mode]`` holds the monotonic arrival time of each request (``hits[mode + "/health"]``
    those of its /health)."""

    def __init__(self, context=None):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hits = {}
        self._server.released = threading.Event()
        if context is not None:
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True,
                                                      do_handshake_on_connect=False)
        scheme = "https" if context is not None else "http"
        self.base = "%s://127.0.0.1:%d" % (scheme, self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def hits(self):
        return self._server.hits

    def url(self, mode):
        return "%s/%s" % (self.base, mode)

    def close(self):
        self._server.released.set()
        self._server.shutdown()
        self._server.server_close()


def closed_port_url():
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % sock.getsockname()[1]


def _tls_context(cert_path, key_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


class TlsServers:
    """Three HTTPS servers for TLS faults, and the files a client would be given:

    * ``good``: a certificate for 127.0.0.1 from ``ca`` (so only a bad client setting fails);
    * ``wrong_name``: a certificate from ``ca`` for ``wrong.example`` only;
    * ``unknown_ca``: a certificate for 127.0.0.1 from a CA no client is given.

    ``files`` holds ``ca`` (the CA's PEM) and bad inputs in place of a CA or client file.
    """

    def __init__(self, folder):
        ca = issue(folder, "fault-ca", "Fault Test CA", ca=True)
        other_ca = issue(folder, "other-ca", "Somebody Else's CA", ca=True)
        good = issue(folder, "good-server", "127.0.0.1", issuer=ca, server=True)
        # CA:TRUE and no SAN: the chain verifies, only the name is wrong.
        wrong = issue(folder, "wrong-name", "wrong.example", issuer=ca, ca=True)
        unknown = issue(folder, "unknown-server", "127.0.0.1", issuer=other_ca, server=True)
        client = issue(folder, "client", "client@example.test", issuer=ca)
        self.servers = {"good": NotKmsServer(_tls_context(good[0], good[1])),
                        "wrong_name": NotKmsServer(_tls_context(wrong[0], wrong[1])),
                        "unknown_ca": NotKmsServer(_tls_context(unknown[0], unknown[1]))}
        self.files = {"ca": ca[0], "client_cert": client[0], "client_key": client[1]}
        self.files.update(bad_pem_files(folder, ca[3], ca[2]))

    def url(self, name):
        return self.servers[name].url("notfound")

    def close(self):
        for server in self.servers.values():
            server.close()


def bad_pem_files(folder, certificate, private_key):
    """Files that are not what a PEM certificate option expects: garbage, truncated PEM,
    DER, a private key, an empty file; returns {kind: path}."""
    from cryptography.hazmat.primitives import serialization
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    contents = {
        "garbage": b"this is not a certificate\n\x00\xff\xfe binary junk\n",
        "truncated": pem[:len(pem) // 2],
        "der": certificate.public_bytes(serialization.Encoding.DER),
        "public_key": private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo),
        "empty": b"",
    }
    paths = {}
    for kind, data in contents.items():
        paths[kind] = "%s/bad-%s.pem" % (folder, kind)
        with open(paths[kind], "wb") as handle:
            handle.write(data)
    return paths


def bad_csrs(folder):
    """CSR inputs that must be refused: {kind: (path, pem_text_or_None)} for a truncated
    CSR, a certificate where a CSR belongs, a CSR whose signature is broken, a DER CSR,
    and one that asks to be a CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fault.example")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    ca_csr = (x509.CertificateSigningRequestBuilder().subject_name(name)
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .sign(key, hashes.SHA256()))
    der = csr.public_bytes(serialization.Encoding.DER)
    # Flip a byte of the signature (the last bytes of the DER): parses, does not verify.
    broken = x509.load_der_x509_csr(der[:-8] + bytes([der[-8] ^ 0xFF]) + der[-7:])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    pem = csr.public_bytes(serialization.Encoding.PEM)
    contents = {
        "truncated": pem[:len(pem) // 2],
        "certificate": cert.public_bytes(serialization.Encoding.PEM),
        "bad_signature": broken.public_bytes(serialization.Encoding.PEM),
        "der": der,
        "ca": ca_csr.public_bytes(serialization.Encoding.PEM),
        "garbage": b"-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all!\n-----END CERTIFICATE REQUEST-----\n",
    }
    result = {}
    for kind, data in contents.items():
        path = "%s/csr-%s" % (folder, kind)
        with open(path, "wb") as handle:
            handle.write(data)
        result[kind] = (path, None if kind == "der" else data.decode("ascii"))
    return result
