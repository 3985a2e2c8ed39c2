# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport to a Cosmian KMS: one keep-alive session, retries, TLS, and
error bodies turned into KMIP reasons, so callers only ever see JSON or a KmsError."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
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

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import redact, safe_url

COLLECTION_VERSION = "0.1.0"
KMIP_PATH = "/kmip/2_1"
MESSAGE_LIMIT = 300
# The largest answer read, decoded (a KMIP answer is a few KiB; an export of a big
# certificate chain some hundred): a larger one is refused, never held in memory whole.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# The deepest JSON answer accepted (a KMIP answer nests about 20 levels): deeper ones would
# only exhaust the recursion of the decoders that follow.
MAX_JSON_DEPTH = 100
_CHUNK_BYTES = 16 * 1024
# What an api_key may hold: visible ASCII, the characters of RFC 6750 tokens, Cosmian API
# tokens and JWTs. A control character (a line break from `echo token | ansible-vault
# encrypt_string`) would make requests refuse the header and quote the key in its error.
_TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]*")
_CHARACTER_NAMES = {"\n": "a line feed (\\n)", "\r": "a carriage return (\\r)", "\t": "a tab (\\t)",
                    " ": "a space"}

# How the Cosmian KMS 5.28.0 writes an error for a bare KMIP operation (one that is not
# wrapped in a RequestMessage) -- read from its sources under ~/.cargo/registry/src/*/:
#
# * cosmian_kms_server-5.28.0/src/routes/mod.rs, `impl ResponseError for KmsError`: the
#   body is the plain text `KmsError::to_string()` (content type says text/html); 401 for
#   Unauthorized, 404 for RouteNotFound, 422 for request errors, 500 otherwise -- and every
#   5xx body is replaced by "Internal server error", so a 5xx never carries a reason.
# * cosmian_kms_server-5.28.0/src/error.rs, `enum KmsError`: `Kmip21Error` and `Kmip14Error`
#   display as "<reason>: <message>", the other variants as a fixed prefix ("Item not
#   found: ...", "Invalid Request: ...", "Access denied: ...", ...).
# * cosmian_kmip-5.28.0/src/kmip_0/kmip_types.rs, `enum ErrorReason` (strum Display, so the
#   variant name as is, e.g. "Object_Not_Found: object not found for identifier X" from
#   core/retrieve_object_utils.rs, "Item_Not_Found: X" from core/operations/destroy.rs,
#   "Wrong_Key_Lifecycle_State: DENIED"); cosmian_kmip-5.28.0/src/kmip_1_4/kmip_types.rs,
#   `enum ResultReason` (KMIP 1.4 names such as "ItemNotFound") and its conversion to
#   ErrorReason, which KMIP14_REASONS repeats.
# * cosmian_kms_server_database-5.28.0/src/error/db_error.rs and
#   cosmian_kms_interfaces-5.28.0/src/error/mod.rs: a duplicate UID surfaces as
#   "Database Error: Ext. store error: one or more objects already exist" (422 only
#   because it contains "already exist"; stores/sql/sqlite.rs).
# * cosmian_kms_server-5.28.0/src/middlewares/ensure_auth.rs: a request without valid
#   credentials gets 401 "No authentication provided." (a wrong API token falls through
#   to this middleware, middlewares/api_token/api_token_middleware.rs).
# * A body that is not JSON on /kmip/2_1 fails in routes/kmip/handlers.rs
#   (`serde_json::from_str`) and becomes "Invalid Request: <serde error>" with 422.
#
# Where the text carries no KMIP reason, the prefix gets the reason the server itself puts
# in a batch item for that KmsError variant (core/operations/message.rs), with two
# deliberate exceptions: "Invalid Request" -> Invalid_Message (KMIP's reason for a request
# the server could not understand; message.rs folds it into Operation_Not_Supported) and a
# duplicate object -> Object_Already_Exists.

KMIP_REASONS = frozenset((
    "Item_Not_Found", "Response_Too_Large", "Authentication_Not_Successful",
    "Invalid_Message", "Operation_Not_Supported", "Missing_Data", "Invalid_Field",
    "Feature_Not_Supported", "Operation_Canceled_By_Requester", "Cryptographic_Failure",
    "Permission_Denied", "Object_Archived", "Application_Namespace_Not_Supported",
    "Key_Format_Type_Not_Supported", "Key_Compression_Type_Not_Supported",
    "Encoding_Option_Error", "Key_Value_Not_Present", "Attestation_Required",
    "Attestation_Failed", "Sensitive", "Not_Extractable", "Object_Already_Exists",
    "Invalid_Ticket", "Usage_Limit_Exceeded", "Numeric_Range", "Invalid_Data_Type",
    "Read_Only_Attribute", "Multi_Valued_Attribute", "Unsupported_Attribute",
    "Attribute_Instance_Not_Found", "Attribute_Not_Found", "Attribute_Read_Only",
    "Attribute_Single_Valued", "Bad_Cryptographic_Parameters", "Bad_Password",
    "Codec_Error", "Illegal_Object_Type", "Incompatible_Cryptographic_Usage_Mask",
    "Internal_Server_Error", "Invalid_Asynchronous_Correlation_Value", "Invalid_Attribute",
    "Invalid_Attribute_Value", "Invalid_Correlation_Value", "Invalid_CSR",
    "Invalid_Object_Type", "Key_Wrap_Type_Not_Supported", "Missing_Initialization_Vector",
    "Non_Unique_Name_Attribute", "Object_Destroyed", "Object_Not_Found", "Not_Authorised",
    "Server_Limit_Exceeded", "Unknown_Enumeration", "Unknown_Message_Extension",
    "Unknown_Tag", "Unsupported_Cryptographic_Parameters", "Unsupported_Protocol_Version",
    "Wrapping_Object_Archived", "Wrapping_Object_Destroyed", "Wrapping_Object_Not_Found",
    "Wrong_Key_Lifecycle_State", "Protection_Storage_Unavailable", "PKCS_11_Codec_Error",
    "PKCS_11_Invalid_Function", "PKCS_11_Invalid_Interface",
    "Private_Protection_Storage_Unavailable", "Public_Protection_Storage_Unavailable",
    "Unknown_Object_Group", "Constraint_Violation", "Duplicate_Process_Request",
    "General_Failure",
))

KMIP14_REASONS = {
    "ItemNotFound": "Item_Not_Found",
    "ResponseTooLarge": "Response_Too_Large",
    "AuthenticationNotSuccessful": "Authentication_Not_Successful",
    "InvalidMessage": "Invalid_Message",
    "OperationNotSupported": "Operation_Not_Supported",
    "IllegalOperation": "Operation_Not_Supported",
    "MissingData": "Missing_Data",
    "InvalidField": "Invalid_Field",
    "FeatureNotSupported": "Feature_Not_Supported",
    "OperationCanceled": "Operation_Canceled_By_Requester",
    "CryptographicFailure": "Cryptographic_Failure",
    "PermissionDenied": "Permission_Denied",
    "ObjectArchived": "Object_Archived",
    "IndexOutOfBounds": "Codec_Error",
    "ApplicationNamespaceNotSupported": "Application_Namespace_Not_Supported",
    "KeyFormatTypeNotSupported": "Key_Format_Type_Not_Supported",
    "KeyCompressionTypeNotSupported": "Key_Compression_Type_Not_Supported",
    "EncodingOptionError": "Encoding_Option_Error",
    "KeyValueNotPresent": "Key_Value_Not_Present",
    "AttestationRequired": "Attestation_Required",
    "AttestationFailed": "Attestation_Failed",
    "Sensitive": "Sensitive",
    "NotExtractable": "Not_Extractable",
    "ObjectAlreadyExists": "Object_Already_Exists",
    "GeneralFailure": "General_Failure",
}

# The other KmsError variants (server src/error.rs) that reach a client with a status below
# 500: (body prefix, text the body must also contain or None, KMIP reason).
PREFIX_REASONS = (
    ("Item not found: ", None, "Item_Not_Found"),
    ("Invalid Request: ", None, "Invalid_Message"),
    ("Access denied: ", None, "Permission_Denied"),
    ("No authentication provided.", None, "Authentication_Not_Successful"),
    ("Database Error: ", "already exist", "Object_Already_Exists"),
    ("Not Supported: ", None, "Operation_Not_Supported"),
    ("Unexpected server error: ", "not supported", "Operation_Not_Supported"),
    ("Route not supported: ", None, "Operation_Not_Supported"),
    ("Unsupported algorithm: ", None, "Operation_Not_Supported"),
    ("This KMIP server does not yet support ", None, "Operation_Not_Supported"),
    ("Inconsistent operation: ", None, "Operation_Not_Supported"),
    ("REST client connection error: ", None, "Operation_Not_Supported"),
    ("Invalid URL: ", None, "Operation_Not_Supported"),
)

_REASON_FORM = re.compile(r"^([A-Za-z0-9_]+): ?(.*)$", re.DOTALL)


def _excerpt(text, limit=MESSAGE_LIMIT):
    """One line of at most ``limit`` characters, so a server page cannot flood a module result."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 3] + "..."


def parse_reason(status, body):
    """Return ``(reason, message)`` for an error body of the KMS, reason None when unknown.

    The server writes errors as plain text (formats above). A 5xx body is the masked
    "Internal server error" and never yields a reason; a 401 whose body is not recognised
    (say, from a proxy in front) still means Authentication_Not_Successful.
    """
    text = (body or "").strip()
    if status is not None and status >= 500:
        return None, _excerpt(text) or "HTTP %s" % status
    match = _REASON_FORM.match(text)
    if match:
        name, detail = match.groups()
        reason = name if name in KMIP_REASONS else KMIP14_REASONS.get(name)
        if reason:
            return reason, _excerpt(detail) or reason
    for prefix, needle, reason in PREFIX_REASONS:
        if text.startswith(prefix) and (needle is None or needle in text.lower()):
            return reason, _excerpt(text)
    if status == 401:
        return "Authentication_Not_Successful", _excerpt(text) or "HTTP 401"
    return None, _excerpt(text) or "HTTP %s" % status


def api_key_problem(api_key):
    """Why ``api_key`` cannot be sent as a bearer token, or None when it can.

    Accepted: visible ASCII only (``!`` to ``~``, 0x21-0x7E), no space, tab, line break,
    other control character or non-ASCII character. The message names the kind of the first
    offending character and where it is, never the key itself.
    """
    if not api_key or (isinstance(api_key, str) and _TOKEN_CHARACTERS.fullmatch(api_key)):
        return None
    if not isinstance(api_key, str):
        return "api_key must be a string"
    position, character = next((index, char) for index, char in enumerate(api_key)
                               if not _TOKEN_CHARACTERS.fullmatch(char))
    if character in _CHARACTER_NAMES:
        kind = _CHARACTER_NAMES[character]
    elif ord(character) < 0x20 or ord(character) == 0x7f:
        kind = "a control character (U+%04X)" % ord(character)
    else:
        kind = "a non-ASCII character"
    where = ("at its end" if position == len(api_key) - 1 else
             "at its start" if position == 0 else "inside it")
    return ("api_key contains %s %s, but a token is visible ASCII only (0x21-0x7E: no space, tab, "
            "line break or non-ASCII character); a trailing line break usually comes from "
            "`echo token | ansible-vault encrypt_string`: use `printf %%s token` instead"
            % (kind, where))


def url_problem(url):
    """Why ``url`` cannot be the KMS base URL, or None; the message shows no credentials."""
    if not isinstance(url, str) or _scheme(url) not in ("https", "http"):
        return "kms_url must start with http:// or https://, got %r" % safe_url(url if isinstance(url, str) else "")
    if re.search(r"[\x00-\x20\x7f]", url):
        return "kms_url %r contains white space or a control character" % safe_url(url)
    return None


def _scheme(url):
    """The scheme of ``url`` in lower case, '' when it has none or cannot be parsed."""
    try:
        return urlsplit(url).scheme
    except ValueError:
        return ""


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

    5xx, connection errors and timeouts are retried (``retries`` is the total number of
    attempts) with exponential backoff; 4xx never are, because the server already decided.
    A timed-out KMIP call may still have run on the server: the modules create objects under
    chosen ids (a repeat is Object_Already_Exists, not a second object), and KmsClient reads
    the state back when a retried lifecycle operation is refused (Operation.achieved).
    """

    def __init__(self, url, api_key=None, ca_cert=None, client_cert=None, client_key=None,
                 validate_certs=True, timeout=30, retries=3, backoff=1.0, user_agent=None,
                 sleep=time.sleep):
        if not HAS_REQUESTS:
            raise KmsError("the Python library 'requests' is required to talk to the KMS")
        problem = url_problem(url) or api_key_problem(api_key)
        if client_key and not client_cert:
            problem = "client_key needs client_cert"
        elif int(retries) < 1:
            problem = "retries is the total number of attempts and must be at least 1"
        if problem:
            raise KmsError(problem, reason="Request_Not_Sent")
        self.url = url.rstrip("/")
        self.kmip_url = self.url + KMIP_PATH
        self.timeout = timeout
        self.retries = int(retries)
        self.backoff = float(backoff)
        self._sleep = sleep
        self._api_key = api_key
        # Everything that could be echoed back and must not be: the key and the URL's password.
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        self._secrets = tuple(secret for secret in (api_key, password, password and unquote(password))
                              if secret)
        # Passed on every request: a session-level verify loses to REQUESTS_CA_BUNDLE.
        if not validate_certs:
            self._verify = False
        else:
            self._verify = ca_cert or True
        if client_cert and client_key:
            self._cert = (client_cert, client_key)
        else:
            self._cert = client_cert
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent or "pkimanager.kms/%s (+python-requests/%s)" % (
            COLLECTION_VERSION, requests.__version__)
        self._session.headers["Accept"] = "application/json"
        if api_key:
            self._session.headers["Authorization"] = "Bearer %s" % api_key

    def __repr__(self):
        return "KmsTransport(url=%r, auth=%r, verify=%r, client_cert=%r, timeout=%r, retries=%r)" % (
            safe_url(self.url), "bearer" if self._api_key else None, self._verify,
            self._cert[0] if isinstance(self._cert, tuple) else self._cert,
            self.timeout, self.retries)

    def post_kmip(self, payload, operation, object_id=None):
        """POST one KMIP JSON TTLV structure; return the decoded JSON object of the answer."""
        try:
            body = json.dumps(payload, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise KmsError(self._redact("cannot encode the request as JSON: %s" % exc),
                           reason="Request_Not_Sent", operation=operation, object_id=object_id) from None
        response, content, attempts = self._send("POST", self.kmip_url, operation, object_id, data=body,
                                                 headers={"Content-Type": "application/json"})
        return self._decode(response, content, operation, object_id, attempts, expect_object=True)

    def get_json(self, path, operation):
        """GET ``{url}/{path}`` (``/version``, ``/health``) and return its decoded JSON."""
        url = "%s/%s" % (self.url, path.lstrip("/"))
        response, content, attempts = self._send("GET", url, operation, None)
        return self._decode(response, content, operation, None, attempts, expect_object=False)

    def close(self):
        """Release the pooled connections."""
        self._session.close()

    def _send(self, method, url, operation, object_id, **kwargs):
        """Return ``(response, body, attempts)`` for the first answer below 500, retrying the
        rest; ``body`` is the answer's content, read in full but never beyond MAX_RESPONSE_BYTES."""
        last_failure = None
        for attempt in range(1, self.retries + 1):
            try:
                response = self._session.request(
                    method, url, timeout=self.timeout, verify=self._verify, cert=self._cert,
                    allow_redirects=False, stream=True, **kwargs)
                content = self._read(response, url, operation, object_id, attempt)
            except requests.exceptions.SSLError as exc:
                # A certificate problem does not go away by asking again.
                raise self._network_error(url, exc, operation, object_id, attempt,
                                          "TLS failure with") from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                last_failure = exc
            except requests.exceptions.ContentDecodingError as exc:
                raise self._network_error(url, exc, operation, object_id, attempt, "cannot decode the answer of",
                                          reason="Invalid_Response") from None
            except (requests.exceptions.RequestException, OSError, ValueError) as exc:
                # OSError: an unreadable ca_cert, client_cert or client_key; ValueError: a
                # header or URL that http.client refuses. Neither is helped by a retry.
                raise self._network_error(url, exc, operation, object_id, attempt, "cannot send to",
                                          reason="Request_Not_Sent") from None
            else:
                if response.status_code < 500:
                    return response, content, attempt
                last_failure = (response, content)
            if attempt < self.retries:
                self._sleep(self.backoff * 2 ** (attempt - 1))
        if isinstance(last_failure, tuple):
            raise self._http_error(last_failure[0], last_failure[1], operation, object_id, self.retries)
        raise self._network_error(url, last_failure, operation, object_id, self.retries,
                                  "cannot reach the KMS at")

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
        return KmsError("the answer of %s %s, more than the %d bytes accepted" % (
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
        raise KmsError(self._redact("the KMS answered HTTP %d with %s" % (response.status_code, problem)),
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

    def _http_error(self, response, content, operation, object_id, attempts):
        """A KmsError carrying the status and the KMIP reason read from the error body; when
        the body names none, Internal_Server_Error for a 5xx and HTTP_Error otherwise."""
        reason, message = parse_reason(response.status_code, self._redact(self._text(response, content)))
        if 300 <= response.status_code < 400:
            message = "redirected to %s; point url at the final address" % safe_url(response.headers.get(
                "Location", "(no Location)"))
        if reason is None:
            reason = "Internal_Server_Error" if response.status_code >= 500 else "HTTP_Error"
        return KmsError(self._redact(message), status=response.status_code, reason=reason,
                        operation=operation, object_id=object_id, attempts=attempts)

    def _network_error(self, url, exc, operation, object_id, attempts, what, reason="Connection_Failed"):
        """A KmsError naming the URL and the error class; it has no HTTP status."""
        root = _root_cause(exc)
        # Redacted before the excerpt folds white space or cuts a secret in two.
        detail = _excerpt(self._redact(str(root)), 200)
        if root is not exc:
            detail = "%s: %s" % (type(root).__name__, detail)
        message = "%s %s after %d attempt%s: %s (%s)" % (
            what, safe_url(url), attempts, "" if attempts == 1 else "s", type(exc).__name__, detail)
        return KmsError(self._redact(message), reason=reason, operation=operation, object_id=object_id,
                        attempts=attempts)

    def _redact(self, text):
        """Mask every rendering (raw, escaped, URL-encoded) of the API key and of the URL's
        password, should a server or library ever echo one back."""
        return redact(text, self._secrets)


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
