# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A KMIP client whose every call leaves an audit record, success or failure.

Shared by the modules (through :class:`kms_module.KmsModule`) and the lookup, so that
whatever in the collection talks to the KMS is audited the same way: the store is proved
writable before the first call, and a record that cannot be written after a call stops the
caller with a message naming the operation and the object.

A record's status is ``success``, ``not_found`` for a read (:data:`READ_OPERATIONS`) that the
KMS answered with a not-found reason (the existence check before a create expects that
answer: it is a finding, not a failure), or ``failure`` for every other error, not-found
answers to writes such as Revoke or Destroy included.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditError, AuditMirrorError
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

MAX_LISTED_RESULTS = 50
# KMIP operations that only read: an answer that the object does not exist is their finding.
READ_OPERATIONS = frozenset(("Check", "Export", "Get", "GetAttributeList", "GetAttributes", "Locate", "Query"))


def audit_operation_name(kmip_name):
    """``CreateKeyPair`` -> ``kms.create_key_pair``: the audit trail's operation names."""
    return "kms." + re.sub(r"(?<!^)(?=[A-Z])", "_", kmip_name).lower()


def audit_status(operation, error):
    """``success``, ``not_found`` (a read told the object does not exist) or ``failure``."""
    if error is None:
        return "success"
    if error.not_found and operation.name in READ_OPERATIONS:
        return "not_found"
    return "failure"


def audit_summary(value):
    """What of an operation's result goes into the audit trail: ids and states, no bytes."""
    if isinstance(value, dict):
        return dict((k, audit_summary(v)) for k, v in value.items()
                    if k not in ("der", "pem") and not isinstance(v, bytes))
    if isinstance(value, (list, tuple)):
        return [audit_summary(v) for v in value][:MAX_LISTED_RESULTS]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class AuditRecorder:
    """Client observer writing one record per KMS call to ``trail``.

    A record that cannot be written becomes an :class:`AuditError` whose message says which
    operation on which object did (or was attempted at) the KMS, since that cannot be undone;
    it is raised, or handed to ``on_failure`` (a module's ``fail_json`` wrapper, so the run
    ends wherever the call happened).
    """

    def __init__(self, trail, kms_url, on_failure=None):
        self.trail = trail
        self.kms_url = kms_url
        self.on_failure = on_failure

    def __call__(self, operation, value, error):
        status = audit_status(operation, error)
        if error is None:
            details = {"result": audit_summary(value)}
            if operation.settled:
                details["settled"] = operation.settled
        else:
            details = {"reason": error.reason, "message": error.message, "http_status": error.status,
                       "attempts": error.attempts}
        entity_id = operation.object_id or (value.get("private_key_id") if isinstance(value, dict) else None)
        try:
            self.trail.record(audit_operation_name(operation.name), operation.entity_type, entity_id,
                              status, details=details, kms_url=self.kms_url)
        except AuditError as exc:
            failure = AuditError("%s on %r was %s at the KMS, but %s: %s" % (
                operation.name, operation.object_id, "done" if error is None else "attempted",
                "its audit record is in the store only, not in the JSON-lines mirror"
                if isinstance(exc, AuditMirrorError) else "its audit record could not be written", exc))
            if self.on_failure is None:
                raise failure
            self.on_failure(failure)


def audited_client(params, trail, on_failure=None):
    """A client for the connection ``params`` that audits into ``trail`` (see AuditRecorder).

    Raises AuditError, before any KMS call, when the store cannot be written.
    """
    try:
        trail.ensure_writable()
    except AuditError as exc:
        raise AuditError("The audit trail is not writable, so no KMS call was made: %s" % exc)
    return KmsClient(KmsTransport.from_params(params),
                     observer=AuditRecorder(trail, params["kms_url"], on_failure=on_failure))
