# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type the KMIP client raises, so modules handle every KMS failure alike."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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


class KmsError(Exception):
    """A KMS call that failed: at the HTTP level, in KMIP, or in decoding the answer.

    ``reason`` is the KMIP result reason (e.g. ``Item_Not_Found``) when the server gave
    one; ``operation`` and ``object_id`` say what was attempted on what, so that the
    message alone is enough to act on. It never carries credentials.

    When the server gave no reason, the client names one (TRANSPORT_REASONS).
    """

    def __init__(self, message, status=None, reason=None, operation=None, object_id=None,
                 attempts=1):
        super(KmsError, self).__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.operation = operation
        self.object_id = object_id
        self.attempts = attempts

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
        return "KmsError(%r, status=%r, reason=%r, operation=%r, object_id=%r, attempts=%r)" % (
            self.message, self.status, self.reason, self.operation, self.object_id, self.attempts)

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
        }
