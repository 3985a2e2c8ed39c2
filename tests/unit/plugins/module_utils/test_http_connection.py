# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HttpConnection against a raw TCP server on 127.0.0.1 that records the exact bytes of each
request and answers with exact scripted bytes, so the framings, malformed answers and
proxy tunnels http.server cannot produce are read over real sockets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading
import time

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.http_connection import (
    MAX_HEADERS, MAX_LINE_BYTES, BadAnswer, HttpConnection, RemoteDisconnected)

HOST = "kms.test:9998"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
# A header line that makes an answer's head larger than the reader's buffer (8 KiB), so the
# head is read line by line rather than in one piece: both ways must read alike.
PADDING = b"X-Padding: " + b"p" * 9000 + b"\r\n"
HEAD_READS = pytest.mark.parametrize("padding", [b"", PADDING], ids=["head-in-one-piece", "head-line-by-line"])


class Peer:
    """The server's end of one connection, as a script plays it."""

    def __init__(self, sock, received):
        self.sock = sock
        self.received = received
        self._buffer = b""

    def _fill(self):
        data = self.sock.recv(65536)
        self._buffer += data
        return bool(data)

    def request(self):
        """The exact bytes of the next request (its head, and a body of its Content-Length),
        recorded; None when the client closed before a whole head came."""
        while b"\r\n\r\n" not in self._buffer:
            if not self._fill():
                return None
        head = self._buffer.partition(b"\r\n\r\n")[0]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, dummy, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        end = len(head) + 4 + length
        while len(self._buffer) < end and self._fill():
            pass
        request, self._buffer = self._buffer[:end], self._buffer[end:]
        self.received.append(request)
        return request

    def send(self, data):
        """Send ``data``; a client that already gave up (as it should on a bad answer) is fine."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def until_closed(self):
        """Record every byte the client sends until it closes the connection (a reset, when
        it closes with bytes of ours unread, is a close too)."""
        try:
            while self._fill():
                pass
        except ConnectionResetError:
            pass
        self.received.append(self._buffer)
        self._buffer = b""


class ScriptedServer:
    """A TCP server on an ephemeral 127.0.0.1 port; ``play`` runs one script per accepted
    connection, in order, on a thread; ``received`` holds the requests the scripts read."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.received = []
        self.accepted = 0
        self._errors = []
        self._stop = threading.Event()
        self._thread = None

    def play(self, *scripts):
        self._thread = threading.Thread(target=self._run, args=(scripts,), daemon=True)
        self._thread.start()

    def _run(self, scripts):
        try:
            for script in scripts:
                sock = self._accept()
                if sock is None:
                    return
                with sock:
                    sock.settimeout(5)
                    script(Peer(sock, self.received))
        except Exception as exc:  # pylint: disable=broad-except  # raised again by join
            self._errors.append(exc)

    def _accept(self):
        while not self._stop.is_set():
            try:
                sock = self.listener.accept()[0]
            except socket.timeout:
                continue
            self.accepted += 1
            return sock
        return None

    def join(self):
        """Wait for the scripts to end, raising what failed in them."""
        self._thread.join(10)
        assert not self._thread.is_alive(), "the server's script did not end"
        if self._errors:
            raise self._errors[0]

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.listener.close()


def serve(*answers):
    """A script: for each answer, read a request and send the answer; then close."""
    def script(peer):
        for data in answers:
            if peer.request() is None:
                return
            peer.send(data)
    return script


def stall(peer):
    """A script: read the request and never answer, until the client gives up."""
    peer.request()
    peer.until_closed()


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


@pytest.fixture
def connect(server):
    """Open HttpConnections to the server (closed at teardown, before the server stops)."""
    opened = []

    def open_connection(tunnel=None, timeout=5.0):
        connection = HttpConnection("127.0.0.1", server.port, tunnel=tunnel)
        connection.timeout = timeout
        opened.append(connection)
        connection.connect()
        return connection
    yield open_connection
    for connection in opened:
        connection.close()


def get(connection, target="/kmip/2_1"):
    connection.request("GET", target, headers={"Host": HOST})
    return connection.getresponse()


def read_pieces(response, size):
    """The body of ``response`` as the pieces ``read(size)`` returned, none larger than size."""
    pieces = []
    while True:
        piece = response.read(size)
        if not piece:
            return pieces
        assert len(piece) <= size
        pieces.append(piece)


def parse_request(raw):
    """``(request line, sorted [(name, value)], body)`` of a request's exact bytes."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    assert separator, raw
    line, *fields = head.decode("latin-1").split("\r\n")
    return line, sorted(tuple(field.split(": ", 1)) for field in fields), body


# The request as it goes out


@pytest.mark.parametrize("method, body, length", [
    ("POST", b'{"a": 1}', [("Content-Length", "8")]),
    ("POST", b"", [("Content-Length", "0")]),
    ("GET", None, []),
], ids=["body", "empty-body", "no-body"])
def test_request_bytes(server, connect, method, body, length):
    """The server sees the request line, the Host as given, identity encoding, the body's
    Content-Length and the body, byte for byte (Latin-1 text as its one byte)."""
    server.play(serve(OK))
    connection = connect()
    connection.request(method, "/kmip/2_1?q=a%20b", body,
                       {"Host": HOST, "Content-Type": "application/json", "X-Name": "café"})
    assert connection.getresponse().read(10) == b"ok"
    server.join()
    assert server.received[0].startswith(b"%s /kmip/2_1?q=a%%20b HTTP/1.1\r\n" % method.encode())
    assert b"X-Name: caf\xe9\r\n" in server.received[0]
    assert parse_request(server.received[0]) == (
        "%s /kmip/2_1?q=a%%20b HTTP/1.1" % method,
        sorted([("Host", HOST), ("Content-Type", "application/json"), ("X-Name", "café"),
                ("Accept-Encoding", "identity")] + length),
        body or b"")


@pytest.mark.parametrize("method, target, headers", [
    ("GET", "/a b", {}),
    ("GET", "/a\r\nX-Injected: 1", {}),
    ("GET", "/a\nb", {}),
    ("GET", "/a\x00", {}),
    ("GET", "/a\tb", {}),
    ("GET", "/a\x7f", {}),
    ("GET", "/\u20ac", {}),
    ("GET", "/", {"X-A": "v\r\nX-Injected: 1"}),
    ("GET", "/", {"X-A": "v\nX-Injected: 1"}),
    ("GET", "/", {"X-A": "v\rX"}),
    ("GET", "/", {"X-A": "v\x00"}),
    ("GET", "/", {"X-A": "\u20ac"}),
    ("GET", "/", {"X-A\r\nX-Injected": "1"}),
    ("GET", "/", {"X:A": "1"}),
    ("GET", "/", {" X-A": "1"}),
    ("GET", "/", {"": "1"}),
    ("GET", "/", {"X-\u20ac": "1"}),
    ("GET /evil HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET", "/", {}),
], ids=["target-space", "target-crlf", "target-lf", "target-nul", "target-tab", "target-del",
        "target-not-latin-1", "value-crlf", "value-lf", "value-cr", "value-nul", "value-not-latin-1",
        "name-crlf", "name-colon", "name-space", "name-empty", "name-not-latin-1", "method-crlf"])
def test_refused_request_sends_nothing(server, connect, method, target, headers):
    """What HTTP cannot carry raises ValueError before a byte goes out: the server's first
    request is the good one sent next on the same connection, unspoiled."""
    server.play(serve(OK))
    connection = connect()
    with pytest.raises(ValueError):
        connection.request(method, target, b"body", {"Host": HOST, **headers})
    assert get(connection, "/after").read(10) == b"ok"
    server.join()
    assert len(server.received) == 1
    assert server.received[0].startswith(b"GET /after HTTP/1.1\r\n")


def test_repeated_requests_send_their_own_head(server, connect):
    """A request repeated on a connection goes out as the first time, with the Content-Length
    of its own body; a changed header or method goes out changed, also after more distinct
    requests than the connection keeps the heads of."""
    requests = [("POST", "/a", {"X-Id": "1"}, b"one"),
                ("POST", "/a", {"X-Id": "1"}, b"three"),
                ("POST", "/a", {"X-Id": "2"}, None),
                ("GET", "/a", {"X-Id": "2"}, None)]
    requests += [("GET", "/n/%d" % number, {}, None) for number in range(40)]
    requests += [("POST", "/a", {"X-Id": "1"}, b"again")]
    server.play(serve(*[OK] * len(requests)))
    connection = connect()
    for method, target, headers, body in requests:
        connection.request(method, target, body, {"Host": HOST, **headers})
        assert connection.getresponse().read(10) == b"ok"
    server.join()
    assert len(server.received) == len(requests)
    for (method, target, headers, body), raw in zip(requests, server.received):
        fields = [("Accept-Encoding", "identity"), ("Host", HOST)] + list(headers.items())
        if body is not None:
            fields.append(("Content-Length", str(len(body))))
        assert parse_request(raw) == ("%s %s HTTP/1.1" % (method, target), sorted(fields), body or b"")


# Framing of the answer's body


def test_content_length_body_in_pieces_then_keep_alive(server, connect):
    """A Content-Length body is read in pieces and no further, so the next request goes on
    the same socket and reads its own answer."""
    server.play(serve(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", OK))
    connection = connect()
    sock = connection.sock
    response = get(connection)
    assert (response.status, response.reason, response.length) == (200, "OK", 10)
    assert response.read(0) == b""  # as http.client: nothing asked, nothing read
    assert read_pieces(response, 4) == [b"0123", b"4567", b"89"]
    assert response.read(4) == b""
    assert connection.sock is sock
    assert get(connection).read(10) == b"ok"
    server.join()
    assert server.accepted == 1 and len(server.received) == 2


def test_chunked_body_in_pieces_then_keep_alive(server, connect):
    """A chunked body, with chunk extensions and trailers, reads as its data alone; the
    trailers are consumed, so the next answer on the same socket reads right."""
    body = (b"5;name=value\r\nhello\r\n"
            b"7 ; ext=\"q\"\r\n, world\r\n"
            b"1\r\n!\r\n"
            b"0\r\nX-Trailer: t\r\nX-Other: o\r\n\r\n")
    server.play(serve(CHUNKED_HEAD + body, OK))
    connection = connect()
    sock = connection.sock
    response = get(connection)
    assert response.length is None
    pieces = read_pieces(response, 3)
    assert b"".join(pieces) == b"hello, world!"
    assert response.read(3) == b""
    assert connection.sock is sock
    assert get(connection).read(10) == b"ok"
    server.join()
    assert server.accepted == 1


@pytest.mark.parametrize("body, data_before_error", [
    (b"zz\r\nhello\r\n0\r\n\r\n", b""),
    (b"\r\nhello\r\n0\r\n\r\n", b""),
    (b"-1\r\nhello\r\n0\r\n\r\n", b""),
    (b"-5\r\nhello\r\n0\r\n\r\n", b""),
    (b"0x5\r\nhello\r\n0\r\n\r\n", b""),
    (b"+5\r\nhello\r\n0\r\n\r\n", b""),
    (b"1_0\r\nhello\r\n0\r\n\r\n", b""),
    (b"3\r\nhello\r\n0\r\n\r\n", b""),
    (b"5\r\nhel", b"hel"),
    (b"5\r\nhello", b"hel"),
    (b"5\r\nhello\r\n", b"hello"),
    (b"5\r\nhello\r\n0\r\nX-Trailer: t\r\n", b"hello"),
], ids=["not-hex", "empty-size", "negative-one", "negative", "0x-prefix", "plus-sign", "underscore",
        "longer-than-size", "cut-inside-chunk", "cut-before-chunk-end", "cut-before-next-size",
        "cut-in-trailers"])
def test_bad_chunked_body(server, connect, body, data_before_error):
    """A chunked body that breaks the framing (RFC 9112: chunk-size = 1*HEXDIG) or is cut
    short is a BadAnswer, raised by the read that meets the fault: only the good data
    before it was returned, never framing bytes as data."""
    server.play(serve(CHUNKED_HEAD + body))
    response = get(connect())
    pieces = []
    with pytest.raises(BadAnswer):
        while True:
            piece = response.read(3)
            assert piece, "the body ended without an error"
            pieces.append(piece)
    assert b"".join(pieces) == data_before_error


def test_body_cut_before_its_content_length(server, connect):
    """A body that ends before its Content-Length is a BadAnswer, after the bytes that came."""
    server.play(serve(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"))
    response = get(connect())
    assert response.read(4) == b"0123"
    assert response.read(4) == b"4"
    with pytest.raises(BadAnswer, match="5 bytes before"):
        response.read(4)


@pytest.mark.parametrize("fields", [
    b"Content-Length: 5\r\nContent-Length: 6\r\n",
    b"Content-Length: 5, 6\r\n",
    b"Content-Length: -1\r\n",
    b"Content-Length: abc\r\n",
    b"Content-Length: \r\n",
    b"Content-Length: \xb2\r\n",
], ids=["two-fields", "two-in-one", "negative", "not-a-number", "empty", "superscript-digit"])
def test_unusable_content_length(server, connect, fields):
    """Content-Lengths that disagree or are no number make the answer a BadAnswer (an
    OSError the transport retries), not some other exception."""
    server.play(serve(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\nhello!"))
    connection = connect()
    with pytest.raises(BadAnswer):
        get(connection)


def test_repeated_equal_content_length_is_one(server, connect):
    """The same Content-Length sent twice (as some proxies do) is that length."""
    server.play(serve(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\nhello", OK))
    connection = connect()
    response = get(connection)
    assert response.length == 5
    assert read_pieces(response, 10) == [b"hello"]
    assert get(connection).read(10) == b"ok"


def test_body_until_close(server, connect):
    """Without Content-Length or chunked coding, the body is all up to the end of the
    connection, which is then closed."""
    body = bytes(range(256)) * 40
    server.play(serve(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + body))
    connection = connect()
    response = get(connection)
    assert response.length is None
    assert connection.sock is not None
    assert b"".join(read_pieces(response, 4096)) == body
    assert connection.sock is None
    assert response.read(10) == b""


@pytest.mark.parametrize("version, connection_field, framing, kept", [
    ("HTTP/1.1", "", "length", True),
    ("HTTP/1.1", "Connection: keep-alive\r\n", "length", True),
    ("HTTP/1.1", "Connection: close\r\n", "length", False),
    ("HTTP/1.1", "Connection: Close\r\n", "length", False),
    ("HTTP/1.1", "Connection: close\r\n", "chunked", False),
    ("HTTP/1.0", "", "length", False),
    ("HTTP/1.0", "", "chunked", False),
    ("HTTP/1.0", "Connection: keep-alive\r\n", "length", True),
    ("HTTP/1.0", "Connection: Keep-Alive\r\n", "chunked", True),
], ids=["1.1", "1.1-keep-alive", "1.1-close", "1.1-Close", "1.1-close-chunked", "1.0", "1.0-chunked",
        "1.0-keep-alive", "1.0-Keep-Alive-chunked"])
def test_connection_closed_or_kept(server, connect, version, connection_field, framing, kept):
    """``Connection: close`` and HTTP/1.0 without keep-alive close the connection once the
    body is read (not before); otherwise the same socket serves the next request."""
    framed = {"length": b"Content-Length: 4\r\n\r\nbody",
              "chunked": b"Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"}[framing]
    head = ("%s 200 OK\r\n%s" % (version, connection_field)).encode()
    server.play(serve(head + framed, OK))
    connection = connect()
    sock = connection.sock
    response = get(connection)
    assert connection.sock is sock
    assert b"".join(read_pieces(response, 10)) == b"body"
    if kept:
        assert connection.sock is sock
        assert get(connection).read(10) == b"ok"
    else:
        assert connection.sock is None


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
], ids=["204", "204-chunked", "304-with-length"])
def test_answer_without_body(server, connect, answer):
    """204 and 304 have no body whatever their headers say: nothing is read (a read would
    wait for bytes that never come) and the connection serves the next request."""
    server.play(serve(answer, OK))
    connection = connect(timeout=1.0)
    sock = connection.sock
    response = get(connection)
    assert response.read(10) == b""
    assert connection.sock is sock
    assert get(connection).read(10) == b"ok"


def test_informational_answers_are_skipped(server, connect):
    """1xx answers (100 Continue, 103 Early Hints) are passed over, their headers too; the
    final answer is returned and the connection stays usable."""
    server.play(serve(b"HTTP/1.1 100 Continue\r\n\r\n"
                      b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                      b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone", OK))
    connection = connect()
    response = get(connection)
    assert (response.status, response.reason) == (201, "Created")
    assert response.getheader("Link") is None
    assert response.read(10) == b"done"
    assert get(connection).read(10) == b"ok"


# The answer's status line and headers


@HEAD_READS
def test_header_fields(server, connect, padding):
    """Folded lines continue the field before; names match whatever their case; repeated
    fields join with ", "; the reason phrase keeps its spaces."""
    server.play(serve(b"HTTP/1.1 404 Not Found Here\r\n" + padding +
                      b"X-Folded: first\r\n  second\r\n\tthird\r\n"
                      b"Set-Thing: a\r\n"
                      b"set-thing: b\r\n"
                      b"X-Empty:\r\n"
                      b"Content-Length: 0\r\n\r\n"))
    response = get(connect())
    assert (response.status, response.reason) == (404, "Not Found Here")
    assert response.getheader("x-folded") == "first second third"
    assert response.getheader("SET-THING") == "a, b"
    assert response.getheader("X-Empty") == ""
    assert response.getheader("X-Missing") is None
    assert response.getheader("X-Missing", "default") == "default"


@pytest.mark.parametrize("content_type, charset", [
    (b'text/html; charset="UTF-8"', "utf-8"),
    (b"text/plain;CHARSET=ISO-8859-1", "iso-8859-1"),
    (b"text/plain; format=flowed; charset=us-ascii", "us-ascii"),
    (b"text/plain; charset=", None),
    (b"application/json", None),
    (None, None),
])
def test_content_charset(server, connect, content_type, charset):
    """The charset parameter of Content-Type, lower case and unquoted; None without one."""
    field = b"Content-Type: %s\r\n" % content_type if content_type is not None else b""
    server.play(serve(b"HTTP/1.1 200 OK\r\n" + field + b"Content-Length: 0\r\n\r\n"))
    assert get(connect()).content_charset() == charset


def test_closed_without_answering(server, connect):
    """A server that closes before a byte of answer raises RemoteDisconnected, which the
    transport's network errors (OSError) and idle-close check (ConnectionResetError) catch."""
    server.play(serve(b""))
    connection = connect()
    with pytest.raises(RemoteDisconnected) as raised:
        get(connection)
    assert isinstance(raised.value, OSError)
    assert isinstance(raised.value, ConnectionResetError)
    assert not isinstance(raised.value, BadAnswer)


@pytest.mark.parametrize("answer", [
    b"<html>hello</html>\r\n\r\n",
    b"HTTP/1.1 OK\r\n\r\n",
    b"HTTP/1.1 20 OK\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/2 200 OK\r\n\r\n",
    b"ICY 200 OK\r\n\r\n",
    b"HTTP/1.1 \xb200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK",
    b"HTTP/1.1 200 OK\r\nX-A: 1\r\n",
], ids=["html", "no-code", "short-code", "long-code", "http-2", "icy", "superscript-code",
        "cut-in-status", "cut-in-headers"])
def test_not_an_answer(server, connect, answer):
    """What is not an HTTP/1.x status line and header block is a BadAnswer (an OSError)."""
    server.play(serve(answer))
    with pytest.raises(BadAnswer):
        get(connect())


@HEAD_READS
@pytest.mark.parametrize("line", [b"no colon here", b": no name", b"X-A : 1", b" X-Folded-First: 1"],
                         ids=["no-colon", "no-name", "space-before-colon", "fold-first"])
def test_bad_header_line(server, connect, line, padding):
    """A header line that is not ``name: value`` (nor the fold of one) is a BadAnswer."""
    server.play(serve(b"HTTP/1.1 200 OK\r\n" + line + b"\r\n" + padding + b"Content-Length: 0\r\n\r\n"))
    with pytest.raises(BadAnswer, match="not name: value"):
        get(connect())


@pytest.mark.parametrize("answer, body", [
    (b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", b"ok"),
    (b"HTTP/1.1 200 OK\nContent-Length: 6\n\nok\r\n\r\n", b"ok\r\n\r\n"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 6\n\r\nok\r\n\r\n", b"ok\r\n\r\n"),
], ids=["lf-only", "lf-head-crlfs-in-body", "mixed"])
def test_lf_line_ends(server, connect, answer, body):
    """Lines ended by a bare LF are lines: a blank line so ended ends the head, even when
    the body holds a CRLF CRLF that could be taken for the end of the head."""
    server.play(serve(answer, OK))
    connection = connect()
    response = get(connection)
    assert (response.status, response.length) == (200, len(body))
    assert b"".join(read_pieces(response, 10)) == body
    assert get(connection).read(10) == b"ok"


@pytest.mark.parametrize("value_size", [1, 100], ids=["head-in-one-piece", "head-line-by-line"])
@pytest.mark.parametrize("count, allowed", [(MAX_HEADERS, True), (MAX_HEADERS + 1, False)],
                         ids=["max", "max+1"])
def test_header_count_limit(server, connect, count, allowed, value_size):
    """Up to MAX_HEADERS header lines are read; one more is a BadAnswer (100-byte values
    make the head larger than the reader's buffer)."""
    fields = b"".join(b"X-Field-%d: %s\r\n" % (number, b"%d" % number * value_size)
                      for number in range(count - 1))
    server.play(serve(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 2\r\n\r\nok"))
    connection = connect()
    if allowed:
        response = get(connection)
        assert response.getheader("X-Field-%d" % (count - 2)) == str(count - 2) * value_size
        assert response.read(10) == b"ok"
    else:
        with pytest.raises(BadAnswer, match="header lines"):
            get(connection)


def line_of(prefix, length):
    """``prefix`` padded to a line of ``length`` bytes, CRLF included."""
    return prefix + b"a" * (length - len(prefix) - 2) + b"\r\n"


@pytest.mark.parametrize("where", ["status", "header", "chunk-size"])
@pytest.mark.parametrize("length, allowed", [(MAX_LINE_BYTES, True), (MAX_LINE_BYTES + 1, False)],
                         ids=["max", "max+1"])
def test_line_length_limit(server, connect, where, length, allowed):
    """A status, header or chunk-size line of MAX_LINE_BYTES (its CRLF included) is read;
    one byte more is a BadAnswer, however the line goes on."""
    answer = {
        "status": line_of(b"HTTP/1.1 200 ", length) + b"Content-Length: 5\r\n\r\nhello",
        "header": b"HTTP/1.1 200 OK\r\n" + line_of(b"X-Long: ", length) + b"Content-Length: 5\r\n\r\nhello",
        "chunk-size": CHUNKED_HEAD + line_of(b"5;x=", length) + b"hello\r\n0\r\n\r\n",
    }[where]
    server.play(serve(answer))
    connection = connect()
    if allowed:
        assert b"".join(read_pieces(get(connection), 10)) == b"hello"
    else:
        with pytest.raises(BadAnswer, match="longer than"):
            read_pieces(get(connection), 10)


# A proxy's CONNECT tunnel


PROXY_AUTH = {"Proxy-Authorization": "Basic x"}
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: fake\r\n\r\n"


@pytest.mark.parametrize("host, port, authority", [
    ("kms.internal", 9998, "kms.internal:9998"),
    ("10.1.2.3", 80, "10.1.2.3:80"),
    ("::1", 443, "[::1]:443"),
    ("2001:db8::5", 5696, "[2001:db8::5]:5696"),
], ids=["name", "ipv4", "ipv6-loopback", "ipv6"])
def test_connect_request(server, connect, host, port, authority):
    """The proxy is asked to CONNECT host:port (an IPv6 address in brackets), with that
    authority as Host and the proxy headers given."""
    server.play(serve(ESTABLISHED))
    connection = connect(tunnel=(host, port, PROXY_AUTH))
    assert connection.sock is not None
    server.join()
    assert server.received == [("CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic x\r\n\r\n"
                                % (authority, authority)).encode()]


def test_request_through_tunnel(server, connect):
    """After the proxy's 200, the requests go through the tunnel on the same socket (the
    fake proxy answers them itself: no TLS)."""
    server.play(serve(ESTABLISHED, OK, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain"))
    connection = connect(tunnel=("kms.internal", 9998, PROXY_AUTH))
    connection.request("POST", "/kmip/2_1", b"{}", {"Host": "kms.internal:9998"})
    assert connection.getresponse().read(10) == b"ok"
    assert get(connection).read(10) == b"again"
    server.join()
    assert server.accepted == 1
    assert server.received[0].startswith(b"CONNECT kms.internal:9998 HTTP/1.1\r\n")
    assert parse_request(server.received[1]) == (
        "POST /kmip/2_1 HTTP/1.1",
        [("Accept-Encoding", "identity"), ("Content-Length", "2"), ("Host", "kms.internal:9998")],
        b"{}")


def refuse_with(answer):
    """A proxy script: answer the CONNECT with ``answer``, end its side, then wait for the
    client to hang up."""
    def script(peer):
        peer.request()
        peer.send(answer)
        try:
            peer.sock.shutdown(socket.SHUT_WR)
        except OSError:  # the client read enough, hung up, and the unread rest reset the connection
            pass
        peer.until_closed()
    return script


@pytest.mark.parametrize("answer, error, match", [
    (b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n"
     b"Content-Length: 0\r\n\r\n", OSError, "407"),
    (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad", OSError, "502"),
    (b"", RemoteDisconnected, "without answering"),
    (b"SOCKS?\r\n\r\n", BadAnswer, "status line"),
], ids=["407", "502", "no-answer", "not-http"])
def test_tunnel_refused(server, answer, error, match):
    """A proxy that does not open the tunnel fails connect with an OSError naming its
    answer, and the socket to it is closed (the proxy sees the connection end)."""
    server.play(refuse_with(answer))
    connection = HttpConnection("127.0.0.1", server.port, tunnel=("kms.internal", 9998, PROXY_AUTH))
    connection.timeout = 5.0
    with pytest.raises(error, match=match):
        connection.connect()
    assert connection.sock is None
    server.join()  # refuse_with ended: the client closed its end
    assert server.received[-1] == b""


@pytest.mark.parametrize("headers", [
    {"Proxy-Authorization": "Basic x\r\nX-Injected: 1"},
    {"Proxy-Authorization": "Basic \u20ac"},
    {"Proxy-Authorization\r\nX-Injected": "1"},
], ids=["value-crlf", "value-not-latin-1", "name-crlf"])
def test_tunnel_header_refused(server, headers):
    """A proxy header HTTP cannot carry raises ValueError before a byte reaches the proxy
    (one that went out would wait for the proxy's answer: the short timeout ends that)."""
    server.play(lambda peer: peer.until_closed())
    connection = HttpConnection("127.0.0.1", server.port, tunnel=("kms.internal", 9998, headers))
    connection.timeout = 0.5
    with pytest.raises(ValueError):
        connection.connect()
    assert connection.sock is None
    server.join()
    assert server.received == [b""]


# Timeouts


@pytest.mark.parametrize("script", [
    stall,
    lambda peer: (peer.request(), peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012"),
                  peer.until_closed()),
], ids=["no-status-line", "body-stalls"])
def test_read_timeout(server, connect, script):
    """With ``timeout`` set, a server that stops answering raises TimeoutError (socket.timeout)
    within about that time, not a hang."""
    server.play(script)
    connection = connect(timeout=0.2)
    started = time.monotonic()
    with pytest.raises(socket.timeout):
        read_pieces(get(connection), 100)
    assert time.monotonic() - started < 2
    assert issubclass(socket.timeout, TimeoutError)


@pytest.fixture
def full_listener():
    """A 127.0.0.1 listener that never accepts, its backlog filled: a new SYN goes unanswered."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    fillers = []
    for dummy in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    yield listener.getsockname()[1]
    for filler in fillers:
        filler.close()
    listener.close()


def test_connect_timeout(full_listener):
    """``timeout`` bounds the TCP connection too: TimeoutError, and no socket left open."""
    connection = HttpConnection("127.0.0.1", full_listener)
    connection.timeout = 0.2
    started = time.monotonic()
    with pytest.raises(socket.timeout):
        connection.connect()
    assert time.monotonic() - started < 2
    assert connection.sock is None
