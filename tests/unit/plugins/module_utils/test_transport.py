# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KmsTransport against a real HTTP(S) server on 127.0.0.1 whose answers each test scripts,
so retries, timeouts, TLS, proxies and headers are exercised over real sockets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import ipaddress
import json
import select
import shutil
import socket
import ssl
import struct
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fake_servers import closed_port_url

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import transport
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.audited_client import AuditRecorder
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import (
    MESSAGE_LIMIT, KmsError, batch_item_reason, parse_reason)
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import COLLECTION_VERSION, KmsTransport

API_KEY = "kms-test-token-5f1c9a"
KMIP_OK = {"tag": "GetResponse", "type": "Structure", "value": []}
TEXT_HTML = "text/html; charset=utf-8"


def answer(status, body, content_type=TEXT_HTML, headers=None):
    """A scripted step that replies like the KMS does (its error bodies are text/html)."""
    data = body if isinstance(body, bytes) else body.encode("utf-8")

    def step(handler):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
    return step


def answer_json(document, status=200):
    return answer(status, json.dumps(document), "application/json")


def hang_up(handler):
    """Reset the connection without a byte of answer: with SO_LINGER 0 the close sends RST."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()


def answer_then_hang_up(handler):
    """Answer with keep-alive, then close the connection, as a server whose keep-alive ran out."""
    answer_json(KMIP_OK)(handler)
    handler.close_connection = True


def tunnel(handler):
    """Play a proxy's CONNECT: answer 200, then carry bytes both ways until a side closes."""
    host, port = handler.path.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as upstream:
        handler.send_response(200)
        handler.end_headers()
        ends = {handler.connection: upstream, upstream: handler.connection}
        while True:
            readable = select.select(list(ends), [], [], 5)[0]
            data = readable[0].recv(65536) if readable else b""
            if not data:
                break
            ends[readable[0]].sendall(data)
    handler.close_connection = True


def stall(handler):
    """Say nothing until the test ends, which is longer than any client timeout used here."""
    handler.server.released.wait(5)
    handler.close_connection = True


class ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is observable

    def do_GET(self):
        self.serve_next_step()

    def do_POST(self):
        self.serve_next_step()

    def do_CONNECT(self):
        self.serve_next_step()

    def serve_next_step(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        peer_cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        self.server.seen.append({
            "method": self.command, "path": self.path, "headers": dict(self.headers),
            "body": body, "client_port": self.client_address[1], "peer_cert": peer_cert,
        })
        script = self.server.script
        step = script.pop(0) if len(script) > 1 else script[0]
        step(self)

    def log_message(self, *args):
        """Keep pytest output free of access logs."""


class ScriptedServer(ThreadingHTTPServer):
    """Answers request N with script step N; the last step repeats once the script runs out."""

    def __init__(self, ssl_context=None):
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True)
        self.script = [answer_json(KMIP_OK)]
        self.seen = []
        self.released = threading.Event()
        # A short poll keeps shutdown() (and so each test's teardown) quick.
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def url(self, scheme="http"):
        return "%s://127.0.0.1:%d" % (scheme, self.server_address[1])

    def stop(self):
        self.released.set()
        self.shutdown()
        self.server_close()


@pytest.fixture(autouse=True)
def local_only_environment(monkeypatch, pki):
    """Proxy variables would carry test traffic off 127.0.0.1; the CA bundle variable stays
    set on purpose, to a CA that signed nothing here, so that ca_cert is seen to win over it."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["unrelated_ca"])


def kmip_requests(server):
    """What reached /kmip/2_1 (a 5xx to the end also asks /health)."""
    return [seen for seen in server.seen if seen["path"] == "/kmip/2_1"]


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def transport_to(sleeps):
    """Build transports that record their backoff instead of sleeping, and close them after."""
    opened = []

    def build(url, **options):
        options.setdefault("api_key", API_KEY)
        options.setdefault("timeout", 2)
        transport = KmsTransport(url, sleep=sleeps.append, **options)
        opened.append(transport)
        return transport
    yield build
    for transport in opened:
        transport.close()


def test_a_5xx_is_retried_with_backoff_until_the_server_answers(server, transport_to, sleeps):
    server.script = [answer(503, "Service unavailable"), answer_json(KMIP_OK)]

    assert transport_to(server.url()).post_kmip({"tag": "Get"}, "Get") == KMIP_OK
    assert len(server.seen) == 2
    assert sleeps == [1.0]


def test_three_500s_give_up_after_three_attempts_and_two_growing_pauses(server, transport_to, sleeps):
    server.script = [answer(500, "Internal server error")]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({"tag": "Create"}, "Create")
    assert len(kmip_requests(server)) == 3
    assert sleeps == [1.0, 2.0]
    error = caught.value
    assert (error.status, error.reason, error.attempts) == (500, "Internal_Server_Error", 3)
    assert error.message == "Internal server error"
    assert "3 attempts" in str(error)


def test_backoff_scales_with_the_backoff_argument(server, transport_to, sleeps):
    server.script = [answer(502, "Bad gateway")]

    with pytest.raises(KmsError):
        transport_to(server.url(), retries=4, backoff=0.5).post_kmip({}, "Query")
    assert sleeps == [0.5, 1.0, 2.0]


def test_retries_one_means_a_single_attempt(server, transport_to, sleeps):
    server.script = [answer(503, "Service unavailable")]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url(), retries=1).post_kmip({}, "Query")
    assert (len(kmip_requests(server)), sleeps, caught.value.attempts) == (1, [], 1)


def test_a_422_is_not_retried_and_carries_the_kmip_reason(server, transport_to, sleeps):
    server.script = [answer(422, "Item_Not_Found: 0b6f2d3e-9c51-4f43-a2c4-5c1e8a7d3f10")]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({"tag": "Destroy"}, "Destroy",
                                             object_id="0b6f2d3e-9c51-4f43-a2c4-5c1e8a7d3f10")
    error = caught.value
    assert (len(server.seen), sleeps) == (1, [])
    assert (error.status, error.reason, error.attempts) == (422, "Item_Not_Found", 1)
    assert error.message == "0b6f2d3e-9c51-4f43-a2c4-5c1e8a7d3f10"
    assert (error.operation, error.object_id) == ("Destroy", "0b6f2d3e-9c51-4f43-a2c4-5c1e8a7d3f10")


def test_a_401_is_not_retried(server, transport_to, sleeps):
    server.script = [answer(401, "No authentication provided.")]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({}, "Query")
    assert (len(server.seen), sleeps) == (1, [])
    assert (caught.value.status, caught.value.reason) == (401, "Authentication_Not_Successful")


def test_a_redirect_is_not_followed_so_the_token_stays_put(server, transport_to):
    server.script = [answer(302, "", headers={"Location": "http://127.0.0.1:9/elsewhere"})]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({}, "Query")
    assert len(server.seen) == 1
    assert caught.value.status == 302
    assert "http://127.0.0.1:9/elsewhere" in caught.value.message


def test_a_connection_reset_is_retried_then_reported_with_url_and_error_class(server, transport_to, sleeps):
    server.script = [hang_up]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({}, "Query")
    error = caught.value
    assert len(server.seen) == 3
    assert sleeps == [1.0, 2.0]
    assert (error.status, error.attempts) == (None, 3)
    assert server.url() + "/kmip/2_1" in error.message
    assert "ConnectionError" in error.message


def test_a_stalled_server_times_out_and_is_retried(server, transport_to, sleeps):
    server.script = [stall]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url(), timeout=0.2).post_kmip({}, "Query")
    assert len(server.seen) == 3
    assert sleeps == [1.0, 2.0]
    assert caught.value.status is None
    assert "ReadTimeout" in caught.value.message


def test_a_timeout_then_an_answer_succeeds(server, transport_to, sleeps):
    server.script = [stall, answer_json(KMIP_OK)]

    assert transport_to(server.url(), timeout=0.2).post_kmip({}, "Query") == KMIP_OK
    assert (len(server.seen), sleeps) == (2, [1.0])


def test_the_request_carries_json_bearer_token_and_user_agent(server, transport_to):
    payload = {"tag": "Get", "type": "Structure", "value": [
        {"tag": "UniqueIdentifier", "type": "TextString", "value": "k1"}]}

    transport_to(server.url() + "/").post_kmip(payload, "Get", object_id="k1")
    request = server.seen[0]
    assert (request["method"], request["path"]) == ("POST", "/kmip/2_1")
    assert json.loads(request["body"]) == payload
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"] == "Bearer " + API_KEY
    assert request["headers"]["User-Agent"] == "pkimanager.kms/%s (+python)" % COLLECTION_VERSION
    assert request["headers"]["Accept-Encoding"] == "identity"  # an answer is never compressed


def test_no_authorization_header_without_api_key(server, transport_to):
    transport_to(server.url(), api_key=None).post_kmip({}, "Query")
    assert "Authorization" not in server.seen[0]["headers"]


def test_one_transport_reuses_the_connection(server, transport_to):
    transport = transport_to(server.url())
    transport.post_kmip({}, "Query")
    transport.post_kmip({}, "Query")
    assert server.seen[0]["client_port"] == server.seen[1]["client_port"]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_connection_the_server_closed_while_idle_is_reopened_without_costing_an_attempt(
        scheme, server, tls_server, transport_to, pki, sleeps):
    kms = server if scheme == "http" else tls_server()
    kms.script = [answer_then_hang_up, answer_json(KMIP_OK)]
    transport = transport_to(kms.url(scheme), retries=1, ca_cert=pki["ca"])

    transport.post_kmip({}, "Query")
    kms.released.wait(0.1)  # the server has hung up by now, as when its keep-alive runs out
    assert transport.post_kmip({}, "Query") == KMIP_OK
    assert (len(kms.seen), sleeps) == (2, [])
    assert kms.seen[0]["client_port"] != kms.seen[1]["client_port"]


@pytest.mark.parametrize("cause, connecting, kind", [
    (TimeoutError("timed out"), True, "ConnectTimeout"),
    (TimeoutError("timed out"), False, "ReadTimeout"),
    (ConnectionRefusedError(111, "Connection refused"), True, "ConnectionError"),
    (ConnectionResetError(104, "Connection reset by peer"), False, "ConnectionError"),
])
def test_failures_keep_the_names_messages_always_gave_them(cause, connecting, kind):
    failure = transport._NoAnswer(cause, connecting)
    assert (failure.kind, str(failure)) == (kind, "%s: %s" % (type(cause).__name__, cause))


def test_get_bytes_sends_its_params_in_the_query_string(server, transport_to):
    server.script = [answer(200, b"DER", "application/pkix-crl")]

    client = transport_to(server.url())
    data = client.get_bytes("certificates/ca/crl", "kms.crl_sign", params={"format": "der", "validity_days": "30"})
    assert (data, server.seen[0]["path"]) == (b"DER", "/certificates/ca/crl?format=der&validity_days=30")


def test_get_json_reads_version_endpoint(server, transport_to):
    server.script = [answer_json("5.28.0 (OpenSSL 3.5.0-FIPS)")]

    assert transport_to(server.url()).get_json("/version", "version") == "5.28.0 (OpenSSL 3.5.0-FIPS)"
    assert (server.seen[0]["method"], server.seen[0]["path"]) == ("GET", "/version")


@pytest.mark.parametrize("body", ["<html>maintenance</html>", "[1, 2]"])
def test_a_2xx_that_is_not_a_ttlv_object_is_an_error(server, transport_to, body):
    server.script = [answer(200, body)]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({}, "Query")
    assert caught.value.status == 200
    assert len(server.seen) == 1


def _basic(user_and_password):
    return "Basic " + base64.b64encode(user_and_password.encode("latin-1")).decode("ascii")


def test_proxies_come_from_the_environment(server, transport_to, monkeypatch):
    """The scripted server plays the proxy: it receives the absolute URL of the KMS, and the
    proxy's credentials."""
    monkeypatch.setenv("HTTP_PROXY", server.url().replace("http://", "http://proxy-user:proxy%20pw@"))

    transport_to("http://kms.example.test:9998").post_kmip({}, "Query")
    request = server.seen[0]
    assert request["path"] == "http://kms.example.test:9998/kmip/2_1"
    assert request["headers"]["Host"] == "kms.example.test:9998"
    assert request["headers"]["Proxy-Authorization"] == _basic("proxy-user:proxy pw")
    assert request["headers"]["Authorization"] == "Bearer " + API_KEY


def test_an_https_node_behind_a_proxy_is_reached_through_a_connect_tunnel(server, tls_server, transport_to, pki,
                                                                          monkeypatch):
    kms = tls_server()
    server.script = [tunnel]
    monkeypatch.setenv("HTTPS_PROXY", server.url().replace("http://", "http://proxy-user:proxy%20pw@"))

    assert transport_to(kms.url("https"), ca_cert=pki["ca"]).post_kmip({}, "Query") == KMIP_OK
    connect = server.seen[0]
    assert (connect["method"], connect["path"]) == ("CONNECT", "127.0.0.1:%d" % kms.server_address[1])
    assert connect["headers"]["Proxy-Authorization"] == _basic("proxy-user:proxy pw")
    assert kms.seen[0]["path"] == "/kmip/2_1" and "Proxy-Authorization" not in kms.seen[0]["headers"]


def test_a_proxy_that_is_not_http_is_refused_before_anything_is_sent(transport_to, monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "socks5://admin:hunter2@127.0.0.1:1080")

    with pytest.raises(KmsError) as caught:
        transport_to("http://kms.example.test:9998").post_kmip({}, "Query")
    error = caught.value
    assert (error.reason, error.attempts) == ("Request_Not_Sent", 1)
    assert "not an http://host:port proxy" in error.message and "hunter2" not in error.message


@pytest.mark.parametrize("url, environment, proxy", [
    ("http://kms:9998", {"HTTP_PROXY": "proxy:3128"}, "http://proxy:3128"),
    ("https://kms:9998", {"HTTP_PROXY": "http://p1:3128"}, None),
    ("https://kms:9998", {"HTTPS_PROXY": "http://p2:3128"}, "http://p2:3128"),
    ("https://kms:9998", {"ALL_PROXY": "http://p3:3128"}, "http://p3:3128"),
    ("http://kms:9998", {"http_proxy": "", "HTTP_PROXY": "http://p1:3128"}, None),  # lower case wins
    ("http://kms:9998", {"http_proxy": "http://p4:3128", "HTTP_PROXY": "http://p1:3128"}, "http://p4:3128"),
    ("http://kms:9998", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "*"}, None),
    ("http://kms.example.com", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "example.com"}, None),
    ("http://kms.example.com", {"HTTP_PROXY": "http://p1:3128", "no_proxy": "other.org, .EXAMPLE.com"}, None),
    ("http://kms.example.com:9998", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "kms.example.com:9998"}, None),
    ("http://kms.example.com:9999", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "kms.example.com:9998"},
     "http://p1:3128"),
    ("http://10.1.2.3:9998", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "10.0.0.0/8"}, None),
    ("http://11.1.2.3:9998", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "10.0.0.0/8"}, "http://p1:3128"),
    ("http://[::1]:9998", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "::1"}, None),
    ("http://127.0.0.1:9998", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "localhost,127.0.0.1"}, None),
    ("http://127.0.0.1:9998", {"HTTP_PROXY": "http://p1:3128", "NO_PROXY": "27.0.0.1"}, "http://p1:3128"),
])
def test_the_environment_picks_the_proxy_as_requests_did(monkeypatch, url, environment, proxy):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert transport._environment_proxy(url) == proxy


def test_the_api_key_never_shows_in_errors_or_repr(server, transport_to):
    server.script = [answer(401, "Access denied: bearer %s is not allowed" % API_KEY)]
    transport = transport_to(server.url())

    with pytest.raises(KmsError) as http_failure:
        transport.post_kmip({}, "Get", object_id="k1")
    server.script = [hang_up]
    with pytest.raises(KmsError) as network_failure:
        transport.post_kmip({}, "Get", object_id="k1")
    shown = [repr(transport), str(transport)]
    for error in (http_failure.value, network_failure.value):
        shown += [str(error), repr(error), json.dumps(error.to_dict())]
    assert http_failure.value.reason == "Permission_Denied"
    assert all(API_KEY not in text for text in shown), shown


def test_user_and_password_in_the_url_are_sent_as_basic_authentication(server, transport_to):
    """As requests did: in place of the bearer token."""
    transport_to(server.url().replace("http://", "http://admin:p%40ss@")).post_kmip({}, "Query")
    assert server.seen[0]["headers"]["Authorization"] == _basic("admin:p@ss")


def test_user_and_password_in_the_url_stay_out_of_messages(server, transport_to):
    server.script = [hang_up]
    url = server.url().replace("http://", "http://admin:hunter2@")

    with pytest.raises(KmsError) as caught:
        transport_to(url, retries=1).post_kmip({}, "Query")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(transport_to(url))


@pytest.mark.parametrize("status, body, expected", [
    # KmsError::Kmip21Error, "<ErrorReason>: <message>" (error.rs, kmip_0/kmip_types.rs)
    (422, "Item_Not_Found: 0b6f2d3e", ("Item_Not_Found", "0b6f2d3e")),
    (422, "Object_Not_Found: object not found for identifier k1",
     ("Object_Not_Found", "object not found for identifier k1")),
    (422, "Wrong_Key_Lifecycle_State: DENIED", ("Wrong_Key_Lifecycle_State", "DENIED")),
    (422, "Permission_Denied: user bob cannot Get k1", ("Permission_Denied", "user bob cannot Get k1")),
    # KmsError::Kmip14Error, KMIP 1.4 names converted as the server converts them
    (422, "ItemNotFound: k1", ("Item_Not_Found", "k1")),
    (422, "IllegalOperation: no", ("Operation_Not_Supported", "no")),
    # the other KmsError variants that reach a client
    (422, "Item not found: k1", ("Item_Not_Found", "Item not found: k1")),
    (422, "Invalid Request: expected value at line 1 column 1",
     ("Invalid_Message", "Invalid Request: expected value at line 1 column 1")),
    (401, "Access denied: bob may not Destroy k1", ("Permission_Denied", "Access denied: bob may not Destroy k1")),
    (401, "No authentication provided.", ("Authentication_Not_Successful", "No authentication provided.")),
    (422, "Database Error: Ext. store error: one or more objects already exist",
     ("Object_Already_Exists", "Database Error: Ext. store error: one or more objects already exist")),
    (422, "Not Supported: RSA 1024", ("Operation_Not_Supported", "Not Supported: RSA 1024")),
    (422, "Unexpected server error: wrapping not supported",
     ("Operation_Not_Supported", "Unexpected server error: wrapping not supported")),
    (404, "Route not supported: Operation: Frobnicate",
     ("Operation_Not_Supported", "Route not supported: Operation: Frobnicate")),
    (422, "This KMIP server does not yet support protection masks",
     ("Operation_Not_Supported", "This KMIP server does not yet support protection masks")),
    (422, "Inconsistent operation: Specified object type does not match",
     ("Operation_Not_Supported", "Inconsistent operation: Specified object type does not match")),
    # 5xx bodies are masked by the server, so they never yield a reason
    (500, "Internal server error", (None, "Internal server error")),
    (500, "Item_Not_Found: k1", (None, "Item_Not_Found: k1")),
    # nothing recognisable
    (401, "", ("Authentication_Not_Successful", "HTTP 401")),
    (422, "Not_A_Reason: k1", (None, "Not_A_Reason: k1")),
    (429, "", (None, "HTTP 429")),
])
def test_parse_reason_reads_each_server_format(status, body, expected):
    assert parse_reason(status, body) == expected


@pytest.mark.parametrize("reason, message, expected", [
    # Cosmian 5.28, a duplicate CreateKeyPair inside a batch (HTTP 200, item failed).
    ("Operation_Not_Supported", "Database Error: Ext. store error: Database Error: one or more objects already exist",
     "Object_Already_Exists"),
    ("Operation_Not_Supported", "Not Supported: CreateKeyPair of this type", "Operation_Not_Supported"),
    ("Item_Not_Found", "Item_Not_Found: k1", "Item_Not_Found"),
    (None, None, None),
])
def test_a_batch_item_reports_a_duplicate_as_a_single_request_does(reason, message, expected):
    assert batch_item_reason(reason, message) == expected


def test_parse_reason_keeps_messages_short_and_on_one_line():
    reason, message = parse_reason(422, "Invalid Request: " + "x\n" * 1000)
    assert reason == "Invalid_Message"
    assert len(message) == MESSAGE_LIMIT and "\n" not in message


# --- TLS ----------------------------------------------------------------------------------

def _certificate(subject_cn, key, issuer_cn, issuer_key, is_ca, san_ip=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if san_ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san_ip))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A throw-away CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    unrelated_key = ec.generate_private_key(ec.SECP256R1())
    files = {"ca": _certificate("test CA", ca_key, "test CA", ca_key, True),
             "unrelated_ca": _certificate("unrelated CA", unrelated_key, "unrelated CA", unrelated_key, True)}
    for name, cn, san_ip in (("server", "127.0.0.1", "127.0.0.1"), ("client", "ansible-client", None)):
        key = ec.generate_private_key(ec.SECP256R1())
        files[name] = _certificate(cn, key, "test CA", ca_key, False, san_ip)
        files[name + "_key"] = key
    paths = {}
    for name, item in files.items():
        path = folder / (name + ".pem")
        if name.endswith("_key"):
            path.write_bytes(item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
        else:
            path.write_bytes(item.public_bytes(serialization.Encoding.PEM))
        paths[name] = str(path)
    return paths


@pytest.fixture
def tls_server(pki):
    def start(require_client_cert=False):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki["server"], pki["server_key"])
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(pki["ca"])
        started.append(ScriptedServer(context))
        return started[-1]
    started = []
    yield start
    for scripted in started:
        scripted.stop()


def test_tls_is_verified_by_default_and_a_bad_certificate_is_not_retried(tls_server, transport_to, sleeps):
    scripted = tls_server()

    with pytest.raises(KmsError) as caught:
        transport_to(scripted.url("https")).post_kmip({}, "Query")
    assert "SSLError" in caught.value.message
    assert (caught.value.attempts, sleeps, scripted.seen) == (1, [], [])


def test_ca_cert_wins_over_the_requests_ca_bundle_variable(tls_server, transport_to, pki):
    scripted = tls_server()

    assert transport_to(scripted.url("https"), ca_cert=pki["ca"]).post_kmip({}, "Query") == KMIP_OK


def test_validate_certs_false_skips_verification(tls_server, transport_to):
    scripted = tls_server()

    assert transport_to(scripted.url("https"), validate_certs=False).post_kmip({}, "Query") == KMIP_OK


def test_without_ca_cert_or_bundle_variable_the_system_trust_store_is_used(tls_server, transport_to, pki,
                                                                           monkeypatch):
    """OpenSSL's default store, which SSL_CERT_FILE moves: not certifi's bundle."""
    scripted = tls_server()
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("SSL_CERT_FILE", pki["ca"])

    assert transport_to(scripted.url("https")).post_kmip({}, "Query") == KMIP_OK


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl rehash names the files of a CA folder")
def test_ca_cert_may_be_a_folder_of_hashed_ca_files(tls_server, transport_to, pki, tmp_path):
    folder = tmp_path / "cas"
    folder.mkdir()
    shutil.copy(pki["ca"], str(folder / "test-ca.pem"))
    subprocess.run(["openssl", "rehash", str(folder)], check=True)
    scripted = tls_server()

    assert transport_to(scripted.url("https"), ca_cert=str(folder)).post_kmip({}, "Query") == KMIP_OK


def test_a_ca_file_that_is_not_pem_is_not_sent_and_named(tls_server, transport_to, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a certificate\n")
    scripted = tls_server()

    with pytest.raises(KmsError) as caught:
        transport_to(scripted.url("https"), ca_cert=str(junk)).post_kmip({}, "Query")
    error = caught.value
    assert (error.reason, error.attempts, scripted.seen) == ("Request_Not_Sent", 1, [])
    assert "SSLError (cannot load the CA file %s: " % junk in error.message


def test_client_certificate_and_key_give_mutual_tls(tls_server, transport_to, pki):
    scripted = tls_server(require_client_cert=True)

    transport = transport_to(scripted.url("https"), ca_cert=pki["ca"],
                             client_cert=pki["client"], client_key=pki["client_key"])
    assert transport.post_kmip({}, "Query") == KMIP_OK
    assert ((("commonName", "ansible-client"),),) == scripted.seen[0]["peer_cert"]["subject"]


@pytest.mark.parametrize("url, options", [
    ("https://127.0.0.1:9998", {"client_key": "/tmp/key.pem"}),
    ("127.0.0.1:9998", {}),
    ("https://127.0.0.1:9998", {"retries": 0}),
])
def test_settings_that_cannot_work_are_refused_up_front(url, options):
    with pytest.raises(KmsError):
        KmsTransport(url, **options)


# --- hardening: secrets, unreadable answers, huge answers, local files ----------------------

# Visible ASCII, so the transport accepts it, yet every encoding renders it differently.
ODD_KEY = "kms/tok+en=\"q'\\x"


@pytest.mark.parametrize("form", ["raw", "repr", "json", "quote", "quote_plus", "upper case"])
@pytest.mark.parametrize("status", [401, 200, 500])
def test_an_echoed_api_key_is_masked_in_every_rendering(server, transport_to, form, status):
    """A server (or proxy) that quotes the token back, escaped or URL-encoded, in an error
    body (401), an answer that is not JSON (200) or a 5xx, shows it to nobody."""
    rendered = {"raw": ODD_KEY, "repr": repr(ODD_KEY)[1:-1], "json": json.dumps(ODD_KEY)[1:-1],
                "quote": quote(ODD_KEY), "quote_plus": quote_plus(ODD_KEY), "upper case": ODD_KEY.upper()}[form]
    server.script = [answer(status, "Access denied: token %s is unknown" % rendered)]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url(), api_key=ODD_KEY, retries=1).post_kmip({}, "Get", object_id="k1")
    error = caught.value
    shown = " ".join([str(error), repr(error), json.dumps(error.to_dict())])
    assert rendered not in shown and "tok+en" not in shown.lower() and "tok%2ben" not in shown.lower(), shown
    assert "token ******** is unknown" in error.message


def test_a_password_of_the_url_is_masked_when_echoed(server, transport_to):
    server.script = [answer(422, "Invalid Request: who is p%40ss:hunter2 or p@ss:hunter2?")]
    url = server.url().replace("http://", "http://admin:p%40ss:hunter2@")

    with pytest.raises(KmsError) as caught:
        transport_to(url, retries=1).post_kmip({}, "Query")
    assert "hunter2" not in str(caught.value), str(caught.value)


@pytest.mark.parametrize("key", ["Zq7Kx\n", "Zq7\r\nKx", "Zq7\tKx", "Zq7\u00f6\u20acKx"])
def test_a_key_requests_would_refuse_is_refused_before_anything_is_sent(server, key):
    """http.client would raise ValueError (quoting the key) or UnicodeEncodeError."""
    with pytest.raises(KmsError) as caught:
        KmsTransport(server.url(), api_key=key)
    assert caught.value.message.startswith("api_key contains ")
    assert "zq7" not in str(caught.value).lower() and "kx" not in str(caught.value).lower()
    assert server.seen == []


def test_a_deeply_nested_answer_is_an_invalid_response_not_a_recursion_error(server, transport_to):
    server.script = [answer(200, "[" * 200000 + "]" * 200000, "application/json")]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({}, "Query")
    assert (caught.value.status, caught.value.reason) == (200, "Invalid_Response")
    assert "nested too deeply" in caught.value.message


def test_an_answer_nested_deeper_than_any_kmip_answer_is_refused(server, transport_to):
    """json decodes it, but the TTLV decoder after it would recurse as deep."""
    deep = {"tag": "GetResponse", "value": []}
    for dummy in range(transport.MAX_JSON_DEPTH):
        deep = {"tag": "Structure", "value": [deep]}
    server.script = [answer_json(deep)]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({}, "Query")
    assert caught.value.reason == "Invalid_Response"
    assert "nested more than %d levels" % transport.MAX_JSON_DEPTH in caught.value.message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32-be"])
def test_json_nested_as_deep_as_allowed_is_read_and_one_level_deeper_is_refused(server, transport_to, encoding):
    """Exactly, in every encoding json reads, whether or not strings hold brackets (a body
    with too few brackets to nest that deep is not walked)."""
    deep = []
    for dummy in range(transport.MAX_JSON_DEPTH - 2):
        deep = [deep]
    allowed = [{"padding": "[{" * transport.MAX_JSON_DEPTH}, deep]
    server.script = [answer(200, json.dumps(body).encode(encoding), "application/json")
                     for body in (deep, allowed, [deep, [allowed]], [allowed])]
    client = transport_to(server.url())

    assert client.get_json("/version", "version") == deep
    assert client.get_json("/version", "version") == allowed
    for dummy in range(2):
        with pytest.raises(KmsError) as caught:
            client.get_json("/version", "version")
        assert caught.value.reason == "Invalid_Response"
        assert "nested more than %d levels" % transport.MAX_JSON_DEPTH in caught.value.message


@pytest.mark.parametrize("body", ["<html>maintenance</html>", "[1, 2]", "{\"tag\": ", "\xff\xfe{}"])
def test_an_unreadable_2xx_says_invalid_response(server, transport_to, body):
    server.script = [answer(200, body.encode("latin-1"), "application/json")]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({}, "Query")
    assert (caught.value.reason, caught.value.attempts, len(server.seen)) == ("Invalid_Response", 1, 1)


def _huge(with_length):
    """50 MB of answer, written in 1 MiB pieces until the client hangs up; the handler
    notes how much it got to write."""
    size, piece = 50 * 1000 * 1000, b" " * (1024 * 1024)

    def step(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if with_length:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        written = 0
        try:
            while written < size:
                data = piece[:size - written]
                handler.wfile.write(data if with_length else b"%x\r\n%s\r\n" % (len(data), data))
                written += len(data)
            if not with_length:
                handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        handler.server.written.append(written)
        handler.close_connection = True
    return step


@pytest.mark.parametrize("with_length", [True, False], ids=["announced", "chunked"])
def test_a_50_mb_answer_is_refused_without_being_read_whole(server, transport_to, with_length):
    server.written = []
    server.script = [_huge(with_length)]

    client = transport_to(server.url(), timeout=10)
    with pytest.raises(KmsError) as caught:
        client.post_kmip({}, "Get", object_id="k1")
    error = caught.value
    assert (error.reason, error.status, error.attempts, len(server.seen)) == ("Response_Too_Large", 200, 1, 1)
    assert "%d bytes" % transport.MAX_RESPONSE_BYTES in error.message
    server.released.wait(0.2)
    for dummy in range(100):  # the handler notices the hang-up on its next write
        if server.written:
            break
        server.released.wait(0.05)
    # Announced: not a byte read; chunked: the client stops soon after the limit (what the
    # kernel buffers on the way is not the client's memory).
    assert server.written and server.written[0] < 50 * 1000 * 1000
    server.script = [answer_json(KMIP_OK)]
    assert client.post_kmip({}, "Query") == KMIP_OK  # the session still works


@pytest.mark.parametrize("option", ["ca_cert", "client_cert"])
def test_a_missing_certificate_file_is_an_error_not_a_traceback(server, transport_to, tmp_path, option):
    """Connection validation refuses this before a module runs; the transport must still not
    let the OSError of loading it through (say, the file vanished in between)."""
    missing = str(tmp_path / "gone.pem")

    with pytest.raises(KmsError) as caught:
        transport_to(server.url("https"), **{option: missing}).post_kmip({}, "Query")
    error = caught.value
    assert (error.reason, error.attempts, server.seen) == ("Request_Not_Sent", 1, [])
    assert error.message.startswith("cannot send to %s/kmip/2_1" % server.url("https"))
    assert missing in error.message


def test_transport_failures_all_carry_a_reason(server, transport_to):
    server.script = [hang_up]
    with pytest.raises(KmsError) as refused:
        transport_to(server.url(), retries=1).post_kmip({}, "Query")
    server.script = [answer(302, "", headers={"Location": "http://admin:hunter2@127.0.0.1:9/x"})]
    with pytest.raises(KmsError) as redirected:
        transport_to(server.url()).post_kmip({}, "Query")
    assert refused.value.reason == "Connection_Failed"
    assert redirected.value.reason == "HTTP_Error" and "hunter2" not in str(redirected.value)


# --- several KMS nodes: failover, budget, stickiness ----------------------------------------

@pytest.fixture
def servers():
    """Start scripted servers on demand; each is a node of a multi-node kms_url."""
    started = []

    def start():
        started.append(ScriptedServer())
        return started[-1]
    yield start
    for scripted in started:
        scripted.stop()


def test_nodes_come_from_a_list_or_a_comma_string():
    nodes = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    assert KmsTransport(" http://127.0.0.1:1/, http://127.0.0.1:2").urls == nodes
    assert KmsTransport(["http://127.0.0.1:1", "http://127.0.0.1:2/"]).urls == nodes
    assert KmsTransport("http://127.0.0.1:1").urls == ["http://127.0.0.1:1"]


def test_a_dead_node_moves_the_request_to_the_next_without_a_pause(server, transport_to, sleeps):
    dead = closed_port_url()
    transport = transport_to([dead, server.url()])

    assert transport.post_kmip({}, "Query") == KMIP_OK
    assert (len(server.seen), sleeps, transport.last_url) == (1, [], server.url())


def test_later_requests_start_at_the_node_that_last_answered(servers, transport_to, sleeps):
    first, second = servers(), servers()
    first.script = [answer(503, "Service unavailable"), answer_json(KMIP_OK)]
    transport = transport_to([first.url(), second.url()])

    for dummy in range(3):
        assert transport.post_kmip({}, "Query") == KMIP_OK
    assert (len(first.seen), len(second.seen), sleeps) == (1, 3, [])
    assert transport.last_url == second.url()


def test_retries_count_across_nodes_round_robin_and_only_a_return_waits(servers, transport_to, sleeps):
    first, second = servers(), servers()
    first.script = second.script = [answer(503, "Service unavailable")]

    with pytest.raises(KmsError) as caught:
        transport_to([first.url(), second.url()], retries=4).post_kmip({}, "Create")
    error = caught.value
    assert (len(kmip_requests(first)), len(kmip_requests(second)), sleeps) == (2, 2, [1.0, 2.0])
    assert (error.status, error.reason, error.attempts, error.kms_url) == (503, "Internal_Server_Error", 4,
                                                                           second.url())
    assert error.message == "Service unavailable; tried %s (HTTP 503), %s (HTTP 503), %s (HTTP 503), %s (HTTP 503)" % (
        first.url(), second.url(), first.url(), second.url())
    assert error.to_dict()["kms_url"] == second.url()


def test_a_4xx_neither_moves_nor_retries(servers, transport_to, sleeps):
    first, second = servers(), servers()
    first.script = [answer(422, "Item_Not_Found: k1")]

    with pytest.raises(KmsError) as caught:
        transport_to([first.url(), second.url()]).post_kmip({}, "Get", object_id="k1")
    error = caught.value
    assert (len(first.seen), second.seen, sleeps) == (1, [], [])
    assert (error.reason, error.attempts, error.kms_url) == ("Item_Not_Found", 1, first.url())
    assert error.message == "k1; tried %s (HTTP 422)" % first.url()


def test_the_budget_stops_before_every_node_is_tried_and_says_so(transport_to, sleeps):
    dead = [closed_port_url() for dummy in range(3)]

    with pytest.raises(KmsError) as caught:
        transport_to(dead, retries=2).post_kmip({}, "Query")
    error = caught.value
    assert (error.attempts, error.reason, error.kms_url, sleeps) == (2, "Connection_Failed", dead[1], [])
    assert error.message.startswith("cannot reach the KMS at %s/kmip/2_1 after 2 attempts: ConnectionError" % dead[1])
    assert error.message.endswith("; tried %s (ConnectionError), %s (ConnectionError); not tried, all 2 attempts "
                                  "(retries) spent: %s" % tuple(dead))


def test_with_one_node_messages_stay_as_they_were(transport_to):
    dead = closed_port_url()

    with pytest.raises(KmsError) as caught:
        transport_to(dead, retries=1).post_kmip({}, "Query")
    assert "tried" not in caught.value.message and caught.value.kms_url == dead


def test_a_tls_failure_on_a_node_is_not_moved_and_names_it(tls_server, server, transport_to, sleeps):
    untrusted = tls_server()

    with pytest.raises(KmsError) as caught:
        transport_to([untrusted.url("https"), server.url()]).post_kmip({}, "Query")
    error = caught.value
    assert (error.attempts, error.kms_url, server.seen, sleeps) == (1, untrusted.url("https"), [], [])
    assert error.message.startswith("TLS failure with %s/kmip/2_1 after 1 attempt: SSLError" % untrusted.url("https"))


def test_get_json_and_get_bytes_fail_over_too(server, transport_to):
    server.script = [answer_json("5.28.0")]
    transport = transport_to([closed_port_url(), server.url()])

    assert transport.get_json("/version", "version") == "5.28.0"
    assert transport.get_bytes("certificates/ca/crl", "kms.crl_sign") == b'"5.28.0"'
    assert [request["path"] for request in server.seen] == ["/version", "/certificates/ca/crl"]


def test_node_passwords_stay_out_of_messages_and_kms_url(transport_to):
    dead = [closed_port_url().replace("http://", "http://admin:hunter%d@" % index) for index in (1, 2)]

    with pytest.raises(KmsError) as caught:
        transport_to(dead, retries=2).post_kmip({}, "Query")
    shown = " ".join([str(caught.value), repr(caught.value), json.dumps(caught.value.to_dict()),
                      repr(transport_to(dead))])
    assert "hunter" not in shown and "admin" not in shown, shown
    assert caught.value.kms_url == dead[1].replace("admin:hunter2@", "")


def test_audit_records_name_the_node_that_served_the_call(server, transport_to, tmp_path):
    """A failure names the node of its last attempt, a success the node that answered, and an
    error the client makes of an answer (no kms_url of its own) the node that gave it."""
    dead = closed_port_url()
    server.script = [answer(503, "Service unavailable"), answer_json(KMIP_OK)]
    transport = transport_to([server.url(), dead], retries=2)
    recorder = AuditRecorder(AuditTrail(str(tmp_path / "a.db")), "http://127.0.0.1:1", transport=transport)

    with pytest.raises(KmsError) as caught:
        transport.post_kmip({}, "GetAttributes", object_id="k1")
    recorder(ops.get_attributes("k1"), None, caught.value)
    transport.post_kmip({}, "GetAttributes", object_id="k1")
    recorder(ops.get_attributes("k1"), {"unique_identifier": "k1"}, None)
    recorder(ops.get_attributes("k1"), None, KmsError("unexpected answer", reason="Invalid_Response"))
    records = recorder.trail.query(newest_first=False)
    assert [(r["status"], r["kms_url"]) for r in records] == [
        ("failure", dead), ("success", server.url()), ("failure", server.url())]


def test_proxy_variables_are_read_once_and_still_honoured(server, transport_to, monkeypatch):
    """The transport reads proxies and NO_PROXY once, per node, not on every request."""
    monkeypatch.setenv("HTTP_PROXY", server.url())
    kms = "http://kms.invalid:9998"
    transport = transport_to(kms)
    monkeypatch.delenv("HTTP_PROXY")  # read at construction, not per request

    assert transport.post_kmip({"tag": "Get"}, "Get") == KMIP_OK
    assert server.seen[-1]["path"] == kms + "/kmip/2_1"  # the absolute URL a proxy receives

    monkeypatch.setenv("HTTP_PROXY", server.url())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = transport_to(server.url())
    assert direct.post_kmip({"tag": "Get"}, "Get") == KMIP_OK
    assert server.seen[-1]["path"] == "/kmip/2_1"


def test_the_ca_bundle_variable_applies_when_no_ca_cert_is_given(monkeypatch, tmp_path):
    bundle = str(tmp_path / "bundle.pem")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    assert KmsTransport("https://127.0.0.1:1")._verify == bundle
    assert KmsTransport("https://127.0.0.1:1", ca_cert="/etc/kms-ca.pem")._verify == "/etc/kms-ca.pem"
    assert KmsTransport("https://127.0.0.1:1", validate_certs=False)._verify is False


HEALTH_DOWN = {"status": "DOWN", "latency_ms": 1, "dependencies": {"database": {
    "name": "postgres", "status": "DOWN",
    "message": "Database Error: error connecting to server postgres://kms:s3cret@127.0.0.1:5432/kms"}}}


def test_a_5xx_to_the_end_asks_health_and_names_a_database_that_is_down(server, transport_to, sleeps):
    """Cosmian answers "Internal server error" while its database is down; its /health says so."""
    server.script = [answer(500, "Internal server error")] * 3 + [answer_json(HEALTH_DOWN, 503)]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({"tag": "GetAttributes"}, "GetAttributes")
    assert [seen["path"] for seen in server.seen] == ["/kmip/2_1"] * 3 + ["/health"]
    message = caught.value.message
    assert "/health says its database (postgres) is DOWN: Database Error: error connecting to server" in message
    assert "s3cret" not in message and caught.value.reason == "Internal_Server_Error"


def test_a_5xx_from_a_healthy_node_adds_nothing(server, transport_to, sleeps):
    server.script = [answer(500, "Internal server error")] * 3 + [answer_json({
        "status": "UP", "dependencies": {"database": {"name": "postgres", "status": "UP"}}})]

    with pytest.raises(KmsError) as caught:
        transport_to(server.url()).post_kmip({"tag": "Get"}, "Get")
    assert caught.value.message == "Internal server error"
