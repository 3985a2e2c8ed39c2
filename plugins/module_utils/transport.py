# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport to a Cosmian KMS (one server, or several nodes sharing one database): one
kept-alive connection per node, retries that fail over from node to node, TLS, and error
bodies turned into KMIP reasons, so callers only ever see JSON or a KmsError.

Standard library only, and the least of it: every Ansible task is a new Python process.
Importing requests cost some 60 ms of each, http.client (email, ssl) some 14 ms, so HTTP is
http_connection's, and ssl is imported by the first https request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import select
import sys
import time

from urllib.parse import unquote, urlencode, urlsplit

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError, excerpt as _excerpt, parse_reason
from ansible_collections.pkimanager.kms.plugins.module_utils.http_connection import HttpConnection
from ansible_collections.pkimanager.kms.plugins.module_utils.options import ConnectionOptions, kms_urls
from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import redact, safe_url, strip_credentials

COLLECTION_VERSION = "0.2.0"
KMIP_PATH = "/kmip/2_1"
HEALTH_PATH = "/health"
# The largest answer read, decoded (a KMIP answer is a few KiB; an export of a big
# certificate chain some hundred): a larger one is refused, never held in memory whole.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# The deepest JSON answer accepted (a KMIP answer nests about 20 levels): deeper ones would
# only exhaust the recursion of the decoders that follow.
MAX_JSON_DEPTH = 100
_CHUNK_BYTES = 16 * 1024
# The encoder of every request, made once (json.dumps with options makes one per call); a
# TTLV payload is a tree, so the check for cycles is skipped.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), check_circular=False)


class _Failure(Exception):
    """Why a request got no answer. ``kind`` names it in messages and in the list of nodes
    tried; the text quotes the error beneath, ``cause``: its class (unless ``kind`` already
    says it) and its words, after ``about`` (say, which file) when they do not say it."""

    def __init__(self, kind, cause, about=None):
        words = str(cause) if about is None else "%s: %s" % (about, cause)
        if type(cause).__name__ != kind:
            words = "%s: %s" % (type(cause).__name__, words)
        super().__init__(words)
        self.kind = kind


class _NoAnswer(_Failure):
    """A node that did not answer, or not in full: asking again may help. The kinds keep the
    names requests gave them, which messages, audit records and users know: ConnectTimeout,
    ReadTimeout, ConnectionError."""

    def __init__(self, cause, connecting):
        if isinstance(cause, TimeoutError):
            kind = "ConnectTimeout" if connecting else "ReadTimeout"
        else:
            kind = "ConnectionError"
        super().__init__(kind, cause)


class _TlsFailure(_Failure):
    """TLS refused the node: a certificate problem does not go away by asking again, nor by
    asking another node, since all of them must present a certificate valid for their URL."""

    def __init__(self, cause):
        super().__init__("SSLError", cause)


class _CannotSend(_Failure):
    """A request that cannot go out as set up (a URL, credentials or proxy that cannot be
    used, a TLS file that does not load): asking again would not help."""

    def __init__(self, cause, about=None):
        super().__init__(type(cause).__name__, cause, about)


class KmsTransport:
    """Send KMIP JSON TTLV to ``{url}/kmip/2_1`` and read JSON GET endpoints.

    ``url`` names one KMS or several nodes (a list, or URLs separated by commas;
    options.kms_urls). 5xx, connection errors and timeouts are retried (``retries`` is the
    total number of attempts, counted across nodes): each retry goes to the next node, round
    robin from the one that failed, so with two nodes and three attempts: A, B, A. Moving to
    a node that has not failed in this request goes at once; coming back to one that has
    waits first, with exponential backoff (one node: 1 s, 2 s, ... as ever). 4xx are neither
    retried nor moved, because a server already decided; a TLS failure neither, because it is
    a setting to fix (the message names the node). A request starts at the node that last
    answered (``last_url`` after a request), so a dead node costs one failed connection per
    transport, not one per request.

    A timed-out KMIP call may still have run on the server: the modules create objects under
    chosen ids (a repeat is Object_Already_Exists, not a second object), and KmsClient reads
    the state back when a retried lifecycle operation is refused (Operation.achieved).
    """

    def __init__(self, url, api_key=None, ca_cert=None, client_cert=None, client_key=None,
                 validate_certs=True, timeout=30, retries=3, backoff=1.0, user_agent=None,
                 sleep=time.sleep):
        problems = ConnectionOptions.setting_problems(dict(
            kms_url=url, api_key=api_key, client_cert=client_cert, client_key=client_key,
            timeout=timeout, retries=retries))
        if problems:
            raise KmsError("; ".join(problems), reason="Request_Not_Sent")
        self.urls = [node.rstrip("/") for node in kms_urls(url)]
        # The node of the last attempt: the one that answered, or the last one tried.
        self.last_url = None
        self._start = 0  # the node the next request goes to first: the one that last answered
        self._attempts = []  # [node, what went wrong or None] of each attempt of the current request
        self.timeout = timeout
        self.retries = int(retries)
        self.backoff = float(backoff)
        self._sleep = sleep
        self._api_key = api_key
        # The environment as requests read it (proxy variables, the CA bundle), read once:
        # every request of the transport goes the same way.
        self._proxies = dict((node, _environment_proxy(node)) for node in self.urls)
        # Everything that could be echoed back and must not be: the key and the URLs' passwords.
        passwords = [_password(url) for url in self.urls + [proxy for proxy in self._proxies.values() if proxy]]
        self._secrets = tuple(secret for secret in [api_key] + passwords + [p and unquote(p) for p in passwords]
                              if secret)
        if not validate_certs:
            self._verify = False
        else:
            self._verify = ca_cert or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._client_cert = client_cert
        self._client_key = client_key
        self._tls = None  # the TLS settings of every https node, made at the first https request
        self._routes = {}  # node: (connection, target prefix, headers), made at the node's first request
        self._headers = {"User-Agent": user_agent or "pkimanager.kms/%s (+python)" % COLLECTION_VERSION,
                         "Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = "Bearer %s" % api_key

    @property
    def last_attempts(self):
        """How many attempts the last request took (1 when it was sent once)."""
        return len(self._attempts)

    @classmethod
    def from_params(cls, params):
        """A transport configured from the shared connection options (options.ConnectionOptions)."""
        return cls(params["kms_url"], api_key=params.get("api_key"), ca_cert=params.get("ca_cert"),
                   client_cert=params.get("client_cert"), client_key=params.get("client_key"),
                   validate_certs=params.get("validate_certs", True), timeout=params.get("timeout", 30.0),
                   retries=params.get("retries", 3))

    def __repr__(self):
        return "KmsTransport(urls=%r, auth=%r, verify=%r, client_cert=%r, timeout=%r, retries=%r)" % (
            [safe_url(node) for node in self.urls], "bearer" if self._api_key else None, self._verify,
            self._client_cert, self.timeout, self.retries)

    def post_kmip(self, payload, operation, object_id=None):
        """POST one KMIP JSON TTLV structure; return the decoded JSON object of the answer."""
        try:
            body = _COMPACT_JSON.encode(payload)
        except (TypeError, ValueError) as exc:
            raise KmsError(self._redact("cannot encode the request as JSON: %s" % exc), reason="Request_Not_Sent",
                           operation=operation, object_id=object_id,
                           kms_url=safe_url(self.urls[self._start])) from None
        response, content, attempts = self._send("POST", KMIP_PATH, operation, object_id, body=body.encode("utf-8"),
                                                 headers={"Content-Type": "application/json"})
        return self._decode(response, content, operation, object_id, attempts, expect_object=True)

    def get_json(self, path, operation):
        """GET ``{url}/{path}`` (``/version``, ``/health``) and return its decoded JSON."""
        response, content, attempts = self._send("GET", "/" + path.lstrip("/"), operation, None)
        return self._decode(response, content, operation, None, attempts, expect_object=False)

    def get_bytes(self, path, operation, params=None, object_id=None, accept="*/*"):
        """GET ``{url}/{path}`` (a CRL), ``params`` in its query string, and return the bytes of
        its 2xx answer, read within MAX_RESPONSE_BYTES, with the retries and errors of every
        call (a 404 is a KmsError with ``status`` 404)."""
        path = "/" + path.lstrip("/")
        if params:
            path += "?" + urlencode(params)
        response, content, attempts = self._send("GET", path, operation, object_id, headers={"Accept": accept})
        if not 200 <= response.status < 300:
            raise self._http_error(response, content, operation, object_id, attempts)
        return content

    def close(self):
        """Close the kept-alive connections (a later request opens new ones)."""
        for connection, dummy_prefix, dummy_headers in self._routes.values():
            connection.close()

    def _send(self, method, path, operation, object_id, body=None, headers=None):
        """Return ``(response, content, attempts)`` for the first answer below 500, moving on to
        the next node after a network error, a timeout or a 5xx (see the class); ``content`` is
        the answer's body, read in full but never beyond MAX_RESPONSE_BYTES."""
        self._attempts = []
        node, pauses, last_failure = self._start, 0, None
        for attempt in range(1, self.retries + 1):
            if attempt > 1:
                node = (node + 1) % len(self.urls)
                if self._tried(self.urls[node]):
                    self._sleep(self.backoff * 2 ** pauses)
                    pauses += 1
            self.last_url = self.urls[node]
            self._attempts.append([self.last_url, None])
            url = self.last_url + path
            try:
                response = self._request(method, path, self.timeout, body, headers)
                content = self._read(response, url, operation, object_id, attempt)
            except _NoAnswer as exc:
                last_failure = exc
                self._attempts[-1][1] = exc.kind
            except _TlsFailure as exc:
                raise self._network_error(url, exc, operation, object_id, attempt, "TLS failure with") from None
            except _CannotSend as exc:
                raise self._network_error(url, exc, operation, object_id, attempt, "cannot send to",
                                          reason="Request_Not_Sent") from None
            else:
                self._attempts[-1][1] = "HTTP %d" % response.status
                if response.status < 500:
                    self._start = node
                    return response, content, attempt
                last_failure = (response, content)
        if isinstance(last_failure, tuple):
            error = self._http_error(last_failure[0], last_failure[1], operation, object_id, self.retries,
                                     exhausted=True)
            if path != HEALTH_PATH:
                error.message += self._database_note()
            raise error
        raise self._network_error(url, last_failure, operation, object_id, self.retries,
                                  "cannot reach the KMS at", exhausted=True)

    def _request(self, method, path, timeout, body=None, headers=None):
        """Send one request to the node ``last_url`` and return its answer once the headers are
        in (``_read`` reads the body); redirects are not followed. ``timeout`` bounds the
        connection and each read.

        The node's connection is kept alive between requests. One the server closed while it
        sat idle (its keep-alive ran out) is found before it is used (urllib3's check: an idle
        socket that turns readable was hung up) and replaced; when it fails while the request
        is still being sent, the request goes once more on a new connection. Neither is
        another attempt. A failure after the request went out counts as one (the server may
        have run it).

        Raises _TlsFailure when TLS refuses the node, _NoAnswer when the node does not
        answer and _CannotSend when the request cannot be sent as set up.
        """
        try:
            connection, prefix, node_headers = self._route(self.last_url)
        except ValueError as exc:  # a port that is no number, credentials that are not Latin-1, ...
            raise _CannotSend(exc) from exc
        request_headers = {**self._headers, **node_headers, **(headers or {})}
        while True:
            reused = connection.sock is not None and not _hung_up(connection.sock)
            if reused:
                connection.sock.settimeout(timeout)
            else:
                connection.close()
                _connect(connection, timeout)
            sent = False
            try:
                connection.request(method, prefix + path, body, request_headers)
                sent = True
                return connection.getresponse()
            except ValueError as exc:  # a header or path HTTP cannot carry
                connection.close()
                raise _CannotSend(exc) from exc
            except OSError as exc:
                connection.close()
                if sent or not reused or not _closed_while_idle(exc):
                    raise _NoAnswer(exc, connecting=False) from exc

    def _route(self, node):
        """``(connection, prefix, headers)`` of ``node`` (``_open_route``), made at its first
        request, so a URL or a TLS file that cannot be used fails a request, as any other
        problem of a node does, and not the transport's construction."""
        if node not in self._routes:
            self._routes[node] = self._open_route(node)
        return self._routes[node]

    def _open_route(self, node):
        """How requests reach ``node``: its connection, kept alive; what goes before each
        path in the request line (the node's own path, or its whole URL when an HTTP proxy
        forwards the request); the headers of the node (Host, the Basic credentials of its
        URL, as requests sent them in place of the bearer token, and those of its proxy).

        An https URL through a proxy goes through a CONNECT tunnel."""
        parts = urlsplit(node)
        port = parts.port
        if not parts.hostname:
            raise ValueError("%s names no host" % safe_url(node))
        headers = {"Host": parts.netloc.rpartition("@")[2]}
        if parts.username or parts.password:
            headers["Authorization"] = _basic_credentials(parts)
        address, prefix, tunnel = (parts.hostname, port), parts.path, None
        if self._proxies[node]:
            proxy = urlsplit(self._proxies[node])
            if proxy.scheme != "http" or not proxy.hostname:
                raise ValueError("the proxy %s of the environment is not an http://host:port proxy, the only "
                                 "kind supported" % safe_url(self._proxies[node]))
            address = (proxy.hostname, proxy.port or 80)
            proxy_headers = {"Proxy-Authorization": _basic_credentials(proxy)} if proxy.username else {}
            if parts.scheme == "https":
                tunnel = (parts.hostname, port or 443, proxy_headers)
            else:
                prefix = safe_url(node)
                headers.update(proxy_headers)
        tls = self._tls_context() if parts.scheme == "https" else None
        return HttpConnection(address[0], address[1] or (443 if tls else 80), tls, tunnel), prefix, headers

    def _tls_context(self):
        """The TLS settings of every https node, made at the first https request (a transport
        that only speaks http reads no certificate file): the server's certificate and host
        name are verified with ``ca_cert`` (a PEM file, or a folder of hashed CA files), else
        REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, else the system's trust store; not at all with
        validate_certs=false. A file that does not load is a _CannotSend naming it."""
        if self._tls is None:
            import ssl  # only here: a task that speaks http does not pay for it
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificate and host name
            context.set_alpn_protocols(["http/1.1"])
            if self._verify is False:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif self._verify is True:
                context.load_default_certs()
            elif os.path.isdir(self._verify):
                _load(context.load_verify_locations, "the CA folder %s" % self._verify, capath=self._verify)
            else:
                _load(context.load_verify_locations, "the CA file %s" % self._verify, cafile=self._verify)
            if self._client_cert:
                _load(context.load_cert_chain, "client_cert %s" % self._client_cert, self._client_cert,
                      self._client_key)
                # A server may ask for the certificate after the handshake (TLS 1.3), per path.
                context.post_handshake_auth = True
            self._tls = context
        return self._tls

    def _database_note(self):
        """Why the last node answered 5xx, when its ``GET /health`` says that its database is
        down: Cosmian masks a database outage as "Internal server error". One attempt, at most
        5 s; '' when the node is healthy or does not say."""
        url = self.last_url + HEALTH_PATH
        try:
            response = self._request("GET", HEALTH_PATH, min(self.timeout, 5))
            database = json.loads(self._read(response, url, "health", None, 1))["dependencies"]["database"]
            if database["status"] == "UP":
                return ""
            return "; %s says its database (%s) is %s: %s" % (
                safe_url(url), database.get("name"), database["status"],
                _excerpt(strip_credentials(self._redact(str(database.get("message") or "no message"))), 200))
        except (_Failure, KmsError, ValueError, KeyError, TypeError):
            return ""

    def _tried(self, node):
        """Whether the current request already went to ``node``: every attempt before the one
        under way failed, so going back to it waits."""
        return any(tried == node for tried, dummy in self._attempts)

    def _read(self, response, url, operation, object_id, attempt):
        """The body of ``response`` (of node ``last_url``), read in pieces: an answer larger
        than MAX_RESPONSE_BYTES is refused without being read further."""
        if response.length is not None and response.length > MAX_RESPONSE_BYTES:
            self._hang_up(response)
            raise self._too_large(url, "announced %d bytes" % response.length, response.status,
                                  operation, object_id, attempt)
        chunks, size = [], 0
        while True:
            try:
                chunk = response.read(_CHUNK_BYTES)
            except OSError as exc:
                self._hang_up(response)
                raise _NoAnswer(exc, connecting=False) from exc
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                self._hang_up(response)
                raise self._too_large(url, "sent more than %d bytes" % MAX_RESPONSE_BYTES,
                                      response.status, operation, object_id, attempt)
            chunks.append(chunk)

    def _hang_up(self, response):
        """Close ``response`` and the connection of node ``last_url`` it came on: the rest of
        an answer left unread must not be taken for the next one."""
        response.close()
        self._routes[self.last_url][0].close()

    def _too_large(self, url, what, status, operation, object_id, attempts):
        return self._error("the answer of %s %s, more than the %d bytes accepted" % (
            safe_url(url), what, MAX_RESPONSE_BYTES), status=status, reason="Response_Too_Large",
            operation=operation, object_id=object_id, attempts=attempts)

    def _decode(self, response, content, operation, object_id, attempts, expect_object):
        """The JSON of a 2xx answer; anything else becomes a KmsError."""
        if not 200 <= response.status < 300:
            raise self._http_error(response, content, operation, object_id, attempts)
        try:
            answer = json.loads(content)
        except RecursionError:
            problem = "JSON nested too deeply to decode"
        except ValueError:
            problem = "a body that is not JSON: %s" % (
                _excerpt(self._redact(self._text(response, content))) or "(empty)")
        else:
            # Each level opens with a byte [ or { (in every encoding json reads): a body with no
            # more of them than the limit, as most answers, is not walked.
            if content.count(b"[") + content.count(b"{") > MAX_JSON_DEPTH and _nesting_exceeds(answer, MAX_JSON_DEPTH):
                problem = "JSON nested more than %d levels deep" % MAX_JSON_DEPTH
            elif not expect_object or isinstance(answer, dict):
                return answer
            else:
                problem = "JSON that is not a TTLV object: %s" % _excerpt(self._redact(self._text(response, content)))
        raise self._error("the KMS answered HTTP %d with %s" % (response.status, problem),
                          status=response.status, reason="Invalid_Response", operation=operation,
                          object_id=object_id, attempts=attempts)

    @staticmethod
    def _text(response, content):
        """``content`` as text, in the charset the answer declares (UTF-8 when it names none
        or one Python does not know); undecodable bytes become U+FFFD."""
        try:
            return content.decode(response.content_charset() or "utf-8", "replace")
        except (LookupError, ValueError):  # ValueError: a charset with a NUL in it
            return content.decode("utf-8", "replace")

    def _http_error(self, response, content, operation, object_id, attempts, exhausted=False):
        """A KmsError carrying the status and the KMIP reason read from the error body; when
        the body names none, Internal_Server_Error for a 5xx and HTTP_Error otherwise."""
        reason, message = parse_reason(response.status, self._redact(self._text(response, content)))
        if 300 <= response.status < 400:
            message = "redirected to %s; point url at the final address" % safe_url(
                response.getheader("Location", "(no Location)"))
        if reason is None:
            reason = "Internal_Server_Error" if response.status >= 500 else "HTTP_Error"
        return self._error(message, exhausted, status=response.status, reason=reason,
                           operation=operation, object_id=object_id, attempts=attempts)

    def _network_error(self, url, failure, operation, object_id, attempts, what, reason="Connection_Failed",
                       exhausted=False):
        """A KmsError naming the URL, the kind of ``failure`` and the error under it; it has no
        HTTP status."""
        self._attempts[-1][1] = failure.kind
        # Redacted before the excerpt folds white space or cuts a secret in two.
        message = "%s %s after %d attempt%s: %s (%s)" % (
            what, safe_url(url), attempts, "" if attempts == 1 else "s", failure.kind,
            _excerpt(self._redact(str(failure)), 200))
        return self._error(message, exhausted, reason=reason, operation=operation, object_id=object_id,
                           attempts=attempts)

    def _error(self, message, exhausted=False, **fields):
        """A KmsError of the current request: redacted, with ``kms_url`` naming the node of its
        last attempt and, when there are several nodes, the message listing every attempt (and,
        once the attempts are ``exhausted``, the nodes they never reached)."""
        if len(self.urls) > 1:
            message += "; tried " + ", ".join("%s (%s)" % (safe_url(node), failure) if failure else safe_url(node)
                                              for node, failure in self._attempts)
            untried = [safe_url(node) for node in self.urls if not self._tried(node)]
            if exhausted and untried:
                message += "; not tried, all %d attempts (retries) spent: %s" % (self.retries, ", ".join(untried))
        return KmsError(self._redact(message), kms_url=safe_url(self.last_url), **fields)

    def _redact(self, text):
        """Mask every rendering (raw, escaped, URL-encoded) of the API key and of the URLs'
        passwords, should a server or library ever echo one back."""
        return redact(text, self._secrets)


def _hung_up(sock):
    """Whether an idle kept-alive socket was closed by its peer: it has something to read
    (the end of the stream) while no request is under way."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _connect(connection, timeout):
    """Open ``connection`` (TCP, the proxy's tunnel, TLS) within ``timeout``, which then bounds
    each read. A TLS failure is a _TlsFailure, a host or proxy header that cannot be sent a
    _CannotSend, any other failure a _NoAnswer."""
    connection.timeout = timeout
    try:
        connection.connect()
    except OSError as exc:  # first: a failed certificate check is also a ValueError
        connection.close()
        if isinstance(exc, _tls_errors("SSLError")):
            raise _TlsFailure(exc) from exc
        raise _NoAnswer(exc, connecting=True) from exc
    except ValueError as exc:  # a host name IDNA cannot encode, a header HTTP cannot carry
        connection.close()
        raise _CannotSend(exc) from exc


def _tls_errors(*names):
    """The ssl exceptions ``names``; none while ssl is not imported, as no https request
    was made then."""
    ssl = sys.modules.get("ssl")
    return tuple(getattr(ssl, name) for name in names) if ssl else ()


def _closed_while_idle(exc):
    """Whether ``exc`` is how a kept-alive connection that the server closed while it sat
    idle fails a request being sent: over TCP, over TLS."""
    return isinstance(exc, (BrokenPipeError, ConnectionResetError) + _tls_errors("SSLEOFError", "SSLZeroReturnError"))


def _load(loader, about, *args, **kwargs):
    """Load a certificate or key file into a TLS context with ``loader``; a file that does not
    load (missing, unreadable, not PEM) is a _CannotSend ``about`` it."""
    try:
        loader(*args, **kwargs)
    except OSError as exc:  # ssl.SSLError included
        raise _CannotSend(exc, "cannot load %s" % about) from exc


def _basic_credentials(parts):
    """The Basic authorization of the ``user:password@`` of URL ``parts``, percent-decoded
    and Latin-1 encoded, as requests sent it."""
    pair = "%s:%s" % (unquote(parts.username or ""), unquote(parts.password or ""))
    return "Basic " + base64.b64encode(pair.encode("latin-1")).decode("ascii")


def _environment(name):
    """The environment variable ``name`` (lower case), else its upper-case twin: the lower-case
    one wins even when empty, as in urllib and so in requests."""
    value = os.environ.get(name)
    return os.environ.get(name.upper(), "") if value is None else value


def _environment_proxy(url):
    """The proxy the environment names for ``url``, chosen as requests chose it:
    ``<scheme>_proxy``, else ``all_proxy``, with ``http://`` when it names no scheme; None
    when there is none or ``no_proxy`` exempts the URL's host."""
    try:
        parts = urlsplit(url)
        if not parts.hostname or _no_proxy_covers(parts, _environment("no_proxy")):
            return None
    except ValueError:
        return None  # the request reports the URL it cannot use
    proxy = _environment(parts.scheme + "_proxy") or _environment("all_proxy")
    if not proxy:
        return None
    return proxy if "://" in proxy else "http://" + proxy


def _no_proxy_covers(parts, no_proxy):
    """Whether ``no_proxy`` (comma-separated) exempts the host of URL ``parts``, by requests'
    rules: ``*`` exempts all; an IP address is exempt by itself (with its port or not) or by a
    network holding it (``10.0.0.0/8``); a name is exempt by any entry it ends with, with its
    port or not (``example.com``, ``.example.com``, ``kms.example.com:9998``)."""
    if not no_proxy.strip():
        return False
    import ipaddress  # only here: a task without NO_PROXY does not pay for it
    host = parts.hostname
    host_and_port = "%s:%d" % (host, parts.port) if parts.port else host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in no_proxy.replace(" ", "").lower().split(","):
        if entry == "*":
            return True
        if not entry:
            continue
        if address is None:
            if host.endswith(entry) or host_and_port.endswith(entry):
                return True
        elif entry in (host, host_and_port) or ("/" in entry and _in_network(address, entry)):
            return True
    return False


def _in_network(address, network):
    """Whether IP ``address`` is in ``network`` (``10.0.0.0/8``); False when that is no network."""
    import ipaddress
    try:
        return address in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _password(url):
    """The password of ``url``'s ``user:password@`` part, or None."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _nesting_exceeds(document, limit):
    """Whether JSON ``document`` nests lists and objects more than ``limit`` levels deep
    (walked a level at a time, without recursion)."""
    level, depth = [document] if isinstance(document, (dict, list)) else [], 1
    while level and depth <= limit:
        # Only the containers go to the next level: most values of an answer are scalars.
        level = [item for value in level for item in (value.values() if isinstance(value, dict) else value)
                 if isinstance(item, (dict, list))]
        depth += 1
    return bool(level)
