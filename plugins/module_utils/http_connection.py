# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One kept-alive HTTP/1.1 connection: the part of http.client the transport uses.

Why not http.client: importing it imports ``email`` and ``ssl``, some 14 ms of every task
on 2 cores, and a loop of tasks is a new Python process per item. This module imports only
``socket``; an https node brings its own ``ssl.SSLContext`` (transport._tls_context).

What it speaks: a request with a Content-Length body, and answers framed by Content-Length,
chunked transfer coding, or the end of the connection; an https node reached directly or
through an HTTP proxy's CONNECT tunnel. A request is refused (ValueError) when its target or
a header holds what HTTP cannot carry (control characters, line breaks, non-Latin-1 text),
before a byte goes out. An answer that breaks HTTP is a BadAnswer; one cut short by the
server a RemoteDisconnected or BadAnswer: both are OSErrors, as every network failure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

# The longest status, header or chunk-size line read, and the most header lines, as
# http.client has them: a server that sends more is broken, not merely verbose.
MAX_LINE_BYTES = 65536
MAX_HEADERS = 100
_NO_BODY_STATUSES = (204, 304)
_FORBIDDEN_IN_TARGET = frozenset("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13"
                                 "\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \x7f")
_FORBIDDEN_IN_HEADER = frozenset("\r\n\x00")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class BadAnswer(OSError):
    """An answer that is not HTTP as this module reads it: asking again may help."""


class RemoteDisconnected(ConnectionResetError):
    """The server closed the connection before the status line of its answer."""


class HttpConnection:
    """A connection to ``host``:``port`` (the node, or the proxy in front of it), opened by
    ``connect`` and kept open between requests while the server keeps it.

    ``tls`` is the SSLContext of an https node; ``tunnel`` is ``(host, port, headers)`` of
    the node behind the proxy for a CONNECT tunnel. ``sock`` is None while closed; ``timeout``
    bounds the connection and each read once connected."""

    def __init__(self, host, port, tls=None, tunnel=None):
        self.host = host
        self.port = port
        self.tls = tls
        self.tunnel = tunnel
        self.timeout = None
        self.sock = None
        self._reader = None
        self._heads = {}  # (method, target, header items): the request's head, checked and encoded

    def connect(self):
        """Open the TCP connection, the proxy's tunnel, then TLS."""
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            server_name = self.host
            if self.tunnel:
                server_name = self._open_tunnel(sock)
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname=server_name)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._reader = sock.makefile("rb")

    def close(self):
        """Close the connection; a later ``connect`` opens a new one."""
        if self._reader is not None:
            self._reader.close()
        if self.sock is not None:
            self.sock.close()
        self.sock = self._reader = None

    def request(self, method, target, body=None, headers=None):
        """Send one request (``headers`` must name Host); raises ValueError, having sent
        nothing, when the target or a header cannot go out as given. The head of a request
        is checked and encoded once per connection: a task repeats the same few."""
        key = (method, target, tuple((headers or {}).items()))
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) > 32:
                self._heads.clear()
            head = self._heads[key] = _request_head(method, target, headers or {})
        length = b"" if body is None else b"Content-Length: %d\r\n" % len(body)
        self.sock.sendall(head + length + b"\r\n" + body if body else head + length + b"\r\n")

    def getresponse(self):
        """The answer to the request just sent, once its headers are in; read its body with
        ``read`` before the next request."""
        while True:
            lines = _head_lines(self._reader)
            status, reason, version = _status(lines[0])
            fields = _fields(lines[1:])
            if not 100 <= status < 200:
                return HttpResponse(self, status, reason, version, fields)

    def _open_tunnel(self, sock):
        """Ask the proxy on ``sock`` to CONNECT to the node; return the node's host name."""
        host, port, headers = self.tunnel
        authority = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
        lines = ["CONNECT %s HTTP/1.1" % authority, "Host: %s" % authority]
        lines += [_header_line(name, value) for name, value in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        with sock.makefile("rb", buffering=0) as reader:  # unbuffered: TLS reads the rest
            status, reason, dummy_version = _status(_head_lines(reader)[0])
        if status != 200:
            raise OSError("Tunnel connection failed: %d %s" % (status, reason))
        return host


class HttpResponse:
    """An answer: ``status``, ``reason``, its headers (``getheader``), and a body read in
    pieces with ``read``; ``length`` is the size the server announced, or None."""

    def __init__(self, connection, status, reason, version, fields):
        self.status = status
        self.reason = reason
        self._fields = {}  # lower-case name: the values of its lines, joined by ", "
        for name, value in fields:
            name = name.lower()
            self._fields[name] = self._fields[name] + ", " + value if name in self._fields else value
        self._connection = connection
        self._reader = connection._reader  # pylint: disable=protected-access
        connection_tokens = self.getheader("Connection", "").lower()
        self._will_close = ("close" in connection_tokens
                            or (version == "HTTP/1.0" and "keep-alive" not in connection_tokens))
        self._chunk_left = None  # bytes left in the current chunk of a chunked body; 0 between chunks
        self.length = None
        if status in _NO_BODY_STATUSES:
            self._left = 0
        elif self.getheader("Transfer-Encoding", "").lower().rsplit(",", 1)[-1].strip() == "chunked":
            self._left, self._chunk_left = None, 0
        else:
            self.length = self._left = _content_length(self.getheader("Content-Length"))
            if self._left is None:
                self._will_close = True  # the body ends with the connection
        if self._left == 0:
            self._finish()

    def getheader(self, name, default=None):
        """The value of header ``name`` (several joined by ", "), else ``default``."""
        return self._fields.get(name.lower(), default)

    def content_charset(self):
        """The charset the Content-Type names, lower case, or None."""
        for parameter in self.getheader("Content-Type", "").split(";")[1:]:
            key, dummy, value = parameter.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip('"').lower() or None
        return None

    def read(self, size):
        """Up to ``size`` bytes of the body (fewer at a chunk's end); b"" once it is all read."""
        if self._reader is None or size <= 0:
            return b""
        if self._chunk_left is not None:
            return self._read_chunked(size)
        data = self._reader.read(size if self._left is None else min(size, self._left))
        if self._left is None:
            if not data:
                self._finish()
            return data
        if not data:
            raise BadAnswer("the answer ended %d bytes before its Content-Length" % self._left)
        self._left -= len(data)
        if not self._left:
            self._finish()
        return data

    def close(self):
        """Stop reading; the caller closes the connection when the body was left unread."""
        self._reader = None

    def _read_chunked(self, size):
        if not self._chunk_left:
            self._chunk_left = _chunk_size(_line(self._reader, "chunk size"))
            if not self._chunk_left:
                _lines_to_blank(self._reader, "trailer")  # trailers, if any, then the blank line
                self._finish()
                return b""
        data = self._reader.read(min(size, self._chunk_left))
        if not data:
            raise BadAnswer("the answer ended inside a chunk")
        self._chunk_left -= len(data)
        if not self._chunk_left and _line(self._reader, "chunk end"):
            raise BadAnswer("a chunk longer than its size")
        return data

    def _finish(self):
        """The body is read: the connection serves the next request, unless it ends here."""
        self._reader = None
        if self._will_close:
            self._connection.close()


def _checked(text, forbidden, what):
    """``text`` when it holds none of ``forbidden`` and is Latin-1, else a ValueError."""
    if not forbidden.isdisjoint(text):
        raise ValueError("the %s %r holds a character HTTP cannot carry" % (what, text))
    text.encode("latin-1")  # UnicodeEncodeError is a ValueError
    return text


def _line(reader, what, when_none=None):
    """One line of the answer, without its end; BadAnswer when too long or cut short, and
    ``when_none`` (if given) when the connection ended before it."""
    line = reader.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise BadAnswer("the answer's %s line is longer than %d bytes" % (what, MAX_LINE_BYTES))
    if not line and when_none is not None:
        raise when_none
    if not line.endswith(b"\n"):
        raise BadAnswer("the answer ended in its %s" % what)
    return line.rstrip(b"\r\n").decode("latin-1")


def _request_head(method, target, headers):
    """The request line and header lines of a request, up to where Content-Length goes."""
    if not method:
        raise ValueError("an empty request method")
    lines = ["%s %s HTTP/1.1" % (_checked(method, _FORBIDDEN_IN_TARGET, "request method"),
                                 _checked(target, _FORBIDDEN_IN_TARGET, "request target"))]
    lines += [_header_line(name, value) for name, value in dict({"Accept-Encoding": "identity"}, **headers).items()]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def _header_line(name, value):
    """``name: value``, when HTTP can carry both as given."""
    if not name or ":" in name or name != name.strip():
        raise ValueError("invalid header name %r" % name)
    return "%s: %s" % (_checked(name, _FORBIDDEN_IN_TARGET, "header name"),
                       _checked(str(value), _FORBIDDEN_IN_HEADER, "header %s" % name))


def _head_lines(reader):
    """The status line and header lines of an answer, without their ends. Taken in one piece
    when the reader already holds them all (an answer's head comes in one packet), else
    line by line."""
    buffered = reader.peek() if hasattr(reader, "peek") else b""  # unbuffered (a tunnel's): line by line
    end = buffered.find(b"\r\n\r\n")
    if end >= 0 and buffered.count(b"\n", 0, end) == buffered.count(b"\r\n", 0, end):
        return reader.read(end + 4)[:end].decode("latin-1").split("\r\n")
    first = _line(reader, "status", RemoteDisconnected("the server closed the connection without answering"))
    return [first] + _lines_to_blank(reader, "header")


def _lines_to_blank(reader, what):
    """The lines up to the blank one (which is read too), at most MAX_HEADERS of them."""
    lines = []
    while True:
        line = _line(reader, what)
        if not line:
            return lines
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise BadAnswer("more than %d %s lines" % (MAX_HEADERS, what))


def _status(line):
    """``(status, reason, version)`` of a status line."""
    version, dummy, rest = line.partition(" ")
    code, dummy, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not (code.isascii() and code.isdigit()):
        raise BadAnswer("not an HTTP/1.x status line: %r" % line[:80])
    return int(code), reason.strip(), version


def _fields(lines):
    """Header ``lines`` as ``[(name, value)]``; a folded line (one starting with a space or
    a tab) continues the one before."""
    if len(lines) > MAX_HEADERS:
        raise BadAnswer("more than %d header lines" % MAX_HEADERS)
    fields = []
    for line in lines:
        if line[0] in " \t" and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise BadAnswer("a header line that is not name: value: %r" % line[:80])
        fields.append((name, value.strip()))
    return fields


def _content_length(value):
    """The Content-Length (one number, however often repeated), or None when absent."""
    if value is None:
        return None
    lengths = set(part.strip() for part in value.split(","))
    if len(lengths) != 1 or not all(length.isascii() and length.isdigit() for length in lengths):
        raise BadAnswer("a Content-Length that is not one number: %r" % value[:80])
    return int(lengths.pop())


def _chunk_size(line):
    """The size a chunk-size line gives (its extensions ignored): hexadecimal digits only, as
    int() would also take a sign, a 0x or digits of other scripts."""
    size = line.split(";", 1)[0].strip()
    if not size or not _HEX_DIGITS.issuperset(size):
        raise BadAnswer("a chunk size that is not hexadecimal: %r" % line[:80])
    return int(size, 16)
