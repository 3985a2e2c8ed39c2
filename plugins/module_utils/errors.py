# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The errors of the collection: one base (PkiManagerError) that every error the plugins
raise derives from, so a module catches them once (KmsModule.exit_with); KmsError, the one
type the KMIP client raises; and how the KMS names its failures (the KMIP reason tables and
parse_reason, which reads an error body of the server)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The longest message taken from an answer (a server page must not flood a module result).
MESSAGE_LIMIT = 300

# Cosmian KMS 5.28 says "missing" two ways: Get/Export answer Object_Not_Found, the other
# operations Item_Not_Found.
NOT_FOUND_REASONS = ("Item_Not_Found", "Object_Not_Found")

# The reasons the transport gives a failure the server did not name: the first two are
# KMIP's own, the others this collection's.
TRANSPORT_REASONS = {
    "Internal_Server_Error": "the server answered 5xx, whose body the KMS masks",
    "Response_Too_Large": "the answer is larger than the client reads (transport.MAX_RESPONSE_BYTES)",
    "Invalid_Response": "the answer is not JSON, not a TTLV object, or nested too deeply",
    "HTTP_Error": "an answer below 500 (say, a redirect or a proxy's 404) with no KMS error text",
    "Connection_Failed": "no answer: connection refused or reset, a timeout, or a TLS failure",
    "Request_Not_Sent": "the request could not be built or sent: a setting, or a certificate or "
                        "key file, that cannot be used",
}


class PkiManagerError(Exception):
    """Base of every error this collection raises on purpose (KMS, TTLV codec, audit store):
    a message meant for the user, one line, without credentials."""


class TaskError(PkiManagerError):
    """The task cannot be done as asked (an option the KMS state contradicts, a file that
    cannot be written). ``result`` holds extra fields for the module's failure result."""

    def __init__(self, message, **result):
        super(TaskError, self).__init__(message)
        self.result = result


class KmsError(PkiManagerError):
    """A KMS call that failed: at the HTTP level, in KMIP, or in decoding the answer.

    ``reason`` is the KMIP result reason (e.g. ``Item_Not_Found``) when the server gave
    one; ``operation`` and ``object_id`` say what was attempted on what, so that the
    message alone is enough to act on; ``kms_url`` is the KMS node of the last attempt
    (the one that answered, or the last one tried), without credentials, when the error
    comes from the transport. It never carries credentials.

    When the server gave no reason, the client names one (TRANSPORT_REASONS).
    """

    def __init__(self, message, status=None, reason=None, operation=None, object_id=None,
                 attempts=1, kms_url=None):
        super(KmsError, self).__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.operation = operation
        self.object_id = object_id
        self.attempts = attempts
        self.kms_url = kms_url

    @property
    def retried(self):
        """True when the request was sent more than once before giving up."""
        return self.attempts > 1

    def __str__(self):
        parts = []
        if self.operation:
            parts.append(self.operation)
        if self.object_id:
            parts.append("on %r" % (self.object_id,))
        head = " ".join(parts)
        detail = "%s: %s" % (self.reason, self.message) if self.reason else self.message
        if self.status is not None:
            detail = "%s (HTTP %s" % (detail, self.status)
            detail += ", %d attempts)" % self.attempts if self.attempts > 1 else ")"
        return "%s failed: %s" % (head, detail) if head else detail

    def __repr__(self):
        return "KmsError(%r, status=%r, reason=%r, operation=%r, object_id=%r, attempts=%r, kms_url=%r)" % (
            self.message, self.status, self.reason, self.operation, self.object_id, self.attempts, self.kms_url)

    @property
    def not_found(self):
        """True when the KMS said the object does not exist."""
        return self.reason in NOT_FOUND_REASONS

    def to_dict(self):
        """Plain data for module results and audit details."""
        return {
            "message": self.message,
            "status": self.status,
            "reason": self.reason,
            "operation": self.operation,
            "object_id": self.object_id,
            "attempts": self.attempts,
            "kms_url": self.kms_url,
        }


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


def batch_item_reason(reason, message):
    """The reason of a failed item of a batch: the server's own, except for a duplicate
    object, which a batch item reports as Operation_Not_Supported ("Database Error: ...
    already exist") where a single request gets Object_Already_Exists: one fact, one reason."""
    text = message or ""
    if any(text.startswith(prefix) and needle and needle in text.lower()
           for prefix, needle, mapped in PREFIX_REASONS if mapped == "Object_Already_Exists"):
        return "Object_Already_Exists"
    return reason


_REASON_FORM = re.compile(r"^([A-Za-z0-9_]+): ?(.*)$", re.DOTALL)


def excerpt(text, limit=MESSAGE_LIMIT):
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
        return None, excerpt(text) or "HTTP %s" % status
    match = _REASON_FORM.match(text)
    if match:
        name, detail = match.groups()
        reason = name if name in KMIP_REASONS else KMIP14_REASONS.get(name)
        if reason:
            return reason, excerpt(detail) or reason
    for prefix, needle, reason in PREFIX_REASONS:
        if text.startswith(prefix) and (needle is None or needle in text.lower()):
            return reason, excerpt(text)
    if status == 401:
        return "Authentication_Not_Successful", excerpt(text) or "HTTP 401"
    return None, excerpt(text) or "HTTP %s" % status
