# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport to a Cosmian KMS (one server, or several nodes sharing one database): one
keep-alive session, retries that fail over from node to node, TLS, and error bodies turned
into KMIP reasons, so callers only ever see JSON or a KmsError."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time
import traceback

from urllib.parse import unquote, urlsplit

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError, excerpt as _excerpt, parse_reason
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


def _root_cause(exc):
    """The innermost exception that requests and urllib3 wrapped: it names the actual
    problem (refused, reset, certificate) where the outer text is mostly pool details."""
    for dummy in range(10):
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return exc


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
        if not HAS_REQUESTS:
            raise KmsError("the Python library 'requests' is required to talk to the KMS")
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
        # Everything that could be echoed back and must not be: the key and the URLs' passwords.
        passwords = [_password(node) for node in self.urls]
        self._secrets = tuple(secret for secret in [api_key] + passwords + [p and unquote(p) for p in passwords]
                              if secret)
        # What requests would read from the environment on every request (a tenth of a small
        # request's time: proxy variables, the CA bundle), read once: the session does not.
        if not validate_certs:
            self._verify = False
        else:
            self._verify = ca_cert or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._proxies = dict((node, requests.utils.get_environ_proxies(node)) for node in self.urls)
        if client_cert and client_key:
            self._cert = (client_cert, client_key)
        else:
            self._cert = client_cert
        self._session = requests.Session()
        self._session.trust_env = False
        self._session.headers["User-Agent"] = user_agent or "pkimanager.kms/%s (+python-requests/%s)" % (
            COLLECTION_VERSION, requests.__version__)
        self._session.headers["Accept"] = "application/json"
        if api_key:
            self._session.headers["Authorization"] = "Bearer %s" % api_key

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
            self._cert[0] if isinstance(self._cert, tuple) else self._cert,
            self.timeout, self.retries)

    def post_kmip(self, payload, operation, object_id=None):
        """POST one KMIP JSON TTLV structure; return the decoded JSON object of the answer."""
        try:
            body = json.dumps(payload, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise KmsError(self._redact("cannot encode the request as JSON: %s" % exc), reason="Request_Not_Sent",
                           operation=operation, object_id=object_id,
                           kms_url=safe_url(self.urls[self._start])) from None
        response, content, attempts = self._send("POST", KMIP_PATH, operation, object_id, data=body,
                                                 headers={"Content-Type": "application/json"})
        return self._decode(response, content, operation, object_id, attempts, expect_object=True)

    def get_json(self, path, operation):
        """GET ``{url}/{path}`` (``/version``, ``/health``) and return its decoded JSON."""
        response, content, attempts = self._send("GET", "/" + path.lstrip("/"), operation, None)
        return self._decode(response, content, operation, None, attempts, expect_object=False)

    def get_bytes(self, path, operation, params=None, object_id=None, accept="*/*"):
        """GET ``{url}/{path}`` (a CRL) and return the bytes of its 2xx answer, read within
        MAX_RESPONSE_BYTES, with the retries and errors of every call (a 404 is a KmsError
        with ``status`` 404)."""
        response, content, attempts = self._send("GET", "/" + path.lstrip("/"), operation, object_id,
                                                 params=params, headers={"Accept": accept})
        if not 200 <= response.status_code < 300:
            raise self._http_error(response, content, operation, object_id, attempts)
        return content

    def close(self):
        """Release the pooled connections."""
        self._session.close()

    def _send(self, method, path, operation, object_id, **kwargs):
        """Return ``(response, body, attempts)`` for the first answer below 500, moving on to
        the next node after a network error, a timeout or a 5xx (see the class); ``body`` is
        the answer's content, read in full but never beyond MAX_RESPONSE_BYTES."""
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
                response = self._request(method, url, self.timeout, **kwargs)
                content = self._read(response, url, operation, object_id, attempt)
            except requests.exceptions.SSLError as exc:
                # A certificate problem does not go away by asking again, nor by asking
                # another node: all of them must present a certificate valid for their URL.
                raise self._network_error(url, exc, operation, object_id, attempt,
                                          "TLS failure with") from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                last_failure = exc
                self._attempts[-1][1] = type(exc).__name__
            except requests.exceptions.ContentDecodingError as exc:
                raise self._network_error(url, exc, operation, object_id, attempt, "cannot decode the answer of",
                                          reason="Invalid_Response") from None
            except (requests.exceptions.RequestException, OSError, ValueError) as exc:
                # OSError: an unreadable ca_cert, client_cert or client_key; ValueError: a
                # header or URL that http.client refuses. Neither is helped by a retry.
                raise self._network_error(url, exc, operation, object_id, attempt, "cannot send to",
                                          reason="Request_Not_Sent") from None
            else:
                self._attempts[-1][1] = "HTTP %d" % response.status_code
                if response.status_code < 500:
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

    def _request(self, method, url, timeout, **kwargs):
        """One request to the node ``last_url``, with the transport's TLS and proxy settings,
        streamed (``_read`` caps the body), redirects not followed."""
        return self._session.request(method, url, timeout=timeout, verify=self._verify, cert=self._cert,
                                     proxies=self._proxies[self.last_url], allow_redirects=False, stream=True,
                                     **kwargs)

    def _database_note(self):
        """Why the last node answered 5xx, when its ``GET /health`` says that its database is
        down: Cosmian masks a database outage as "Internal server error". One attempt, at most
        5 s; '' when the node is healthy or does not say."""
        url = self.last_url + HEALTH_PATH
        try:
            response = self._request("GET", url, min(self.timeout, 5))
            database = json.loads(self._read(response, url, "health", None, 1))["dependencies"]["database"]
            if database["status"] == "UP":
                return ""
            return "; %s says its database (%s) is %s: %s" % (
                safe_url(url), database.get("name"), database["status"],
                _excerpt(strip_credentials(self._redact(str(database.get("message") or "no message"))), 200))
        except (requests.exceptions.RequestException, KmsError, ValueError, KeyError, TypeError):
            return ""

    def _tried(self, node):
        """Whether the current request already went to ``node``: every attempt before the one
        under way failed, so going back to it waits."""
        return any(tried == node for tried, dummy in self._attempts)

    def _read(self, response, url, operation, object_id, attempt):
        """The body of ``response``, streamed: an answer larger than MAX_RESPONSE_BYTES is
        refused without being read further."""
        try:
            declared = int(response.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_RESPONSE_BYTES:
            response.close()
            raise self._too_large(url, "announced %d bytes" % declared, response.status_code,
                                  operation, object_id, attempt)
        chunks, size = [], 0
        for chunk in response.iter_content(_CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                response.close()
                raise self._too_large(url, "sent more than %d bytes" % MAX_RESPONSE_BYTES,
                                      response.status_code, operation, object_id, attempt)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, url, what, status, operation, object_id, attempts):
        return self._error("the answer of %s %s, more than the %d bytes accepted" % (
            safe_url(url), what, MAX_RESPONSE_BYTES), status=status, reason="Response_Too_Large",
            operation=operation, object_id=object_id, attempts=attempts)

    def _decode(self, response, content, operation, object_id, attempts, expect_object):
        """The JSON of a 2xx answer; anything else becomes a KmsError."""
        if not 200 <= response.status_code < 300:
            raise self._http_error(response, content, operation, object_id, attempts)
        try:
            answer = json.loads(content)
        except RecursionError:
            problem = "JSON nested too deeply to decode"
        except ValueError:
            problem = "a body that is not JSON: %s" % (
                _excerpt(self._redact(self._text(response, content))) or "(empty)")
        else:
            if _nesting_exceeds(answer, MAX_JSON_DEPTH):
                problem = "JSON nested more than %d levels deep" % MAX_JSON_DEPTH
            elif not expect_object or isinstance(answer, dict):
                return answer
            else:
                problem = "JSON that is not a TTLV object: %s" % _excerpt(self._redact(self._text(response, content)))
        raise self._error("the KMS answered HTTP %d with %s" % (response.status_code, problem),
                          status=response.status_code, reason="Invalid_Response", operation=operation,
                          object_id=object_id, attempts=attempts)

    @staticmethod
    def _text(response, content):
        """``content`` as text, in the charset the answer declares (UTF-8 when it names none
        or one Python does not know); undecodable bytes become U+FFFD."""
        try:
            return content.decode(response.encoding or "utf-8", "replace")
        except LookupError:
            return content.decode("utf-8", "replace")

    def _http_error(self, response, content, operation, object_id, attempts, exhausted=False):
        """A KmsError carrying the status and the KMIP reason read from the error body; when
        the body names none, Internal_Server_Error for a 5xx and HTTP_Error otherwise."""
        reason, message = parse_reason(response.status_code, self._redact(self._text(response, content)))
        if 300 <= response.status_code < 400:
            message = "redirected to %s; point url at the final address" % safe_url(response.headers.get(
                "Location", "(no Location)"))
        if reason is None:
            reason = "Internal_Server_Error" if response.status_code >= 500 else "HTTP_Error"
        return self._error(message, exhausted, status=response.status_code, reason=reason,
                           operation=operation, object_id=object_id, attempts=attempts)

    def _network_error(self, url, exc, operation, object_id, attempts, what, reason="Connection_Failed",
                       exhausted=False):
        """A KmsError naming the URL and the error class; it has no HTTP status."""
        self._attempts[-1][1] = type(exc).__name__
        root = _root_cause(exc)
        # Redacted before the excerpt folds white space or cuts a secret in two.
        detail = _excerpt(self._redact(str(root)), 200)
        if root is not exc:
            detail = "%s: %s" % (type(root).__name__, detail)
        message = "%s %s after %d attempt%s: %s (%s)" % (
            what, safe_url(url), attempts, "" if attempts == 1 else "s", type(exc).__name__, detail)
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
        """Mask every rendering (raw, escaped, URL-encoded) of the API key and of the URL's
        password, should a server or library ever echo one back."""
        return redact(text, self._secrets)


def _password(url):
    """The password of ``url``'s ``user:password@`` part, or None."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _nesting_exceeds(document, limit):
    """Whether JSON ``document`` nests lists and objects more than ``limit`` levels deep
    (walked without recursion)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False
