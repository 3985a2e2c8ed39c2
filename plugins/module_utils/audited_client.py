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

The records of one ``KmsClient.batch`` are written in one transaction (group commit, see
``AuditTrail.grouped``) before ``batch`` returns: the client enters the observer's
``batch()`` around it. A single ``call`` keeps a transaction of its own.

Each record's ``kms_url`` names the KMS node that served the call (with several nodes, the
transport may have moved on from a dead one): the node that answered, or the last one tried
when none did; every record of a batch names the node that answered the batch.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import re

from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditError, AuditMirrorError
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

MAX_LISTED_RESULTS = 50
# KMIP operations that only read: an answer that the object does not exist is their finding.
READ_OPERATIONS = frozenset(("Check", "Export", "Get", "GetAttributeList", "GetAttributes", "Locate", "Query"))


@functools.lru_cache(maxsize=64)
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
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {k: audit_summary(v) for k, v in value.items() if k not in ("der", "pem") and not isinstance(v, bytes)}
    if isinstance(value, (list, tuple)):
        return [audit_summary(v) for v in value][:MAX_LISTED_RESULTS]
    return str(value)


class AuditRecorder:
    """Client observer writing one record per KMS call to ``trail``.

    A record that cannot be written becomes an :class:`AuditError` whose message says which
    operation on which object did (or was attempted at) the KMS, since that cannot be undone;
    it is raised, or handed to ``on_failure`` (a module's ``fail_json`` wrapper, so the run
    ends wherever the call happened). Inside ``batch()`` the calls are kept, and their records
    built and written together at its exit; a failure then names every operation of the batch.

    A record names the node that served the call: the error's ``kms_url``, else the
    ``transport``'s ``last_url``, else ``kms_url`` (a recorder without a transport).
    """

    def __init__(self, trail, kms_url, on_failure=None, transport=None):
        self.trail = trail
        self.kms_url = kms_url
        self.on_failure = on_failure
        self.transport = transport
        self._pending = None  # inside batch(): what each call's record is made of (see __call__)

    def batch(self):
        """Context manager (``KmsClient.batch`` enters it): the records of the operations
        reported inside are written in one transaction at its exit, before it returns."""
        return _RecordedBatch(self)

    def __call__(self, operation, value, error):
        if self._pending is not None:
            # Recorded at the batch's exit, all in one pass: built here, between the parsing of
            # one answer item and the next, the records cost about a third more.
            self._pending.append((operation, value, error, self._node(error), operation.settled))
        else:
            self._record(operation, value, error, self._node(error), operation.settled)

    def _record(self, operation, value, error, node, settled):
        """Record the call of ``operation`` that ended in ``value`` or ``error``, served by ``node``."""
        status = audit_status(operation, error)
        if error is None:
            details = {"result": audit_summary(value) if operation.audited is None else operation.audited(value)}
            if settled:
                details["settled"] = settled
        else:
            details = {"reason": error.reason, "message": error.message, "http_status": error.status,
                       "attempts": error.attempts}
        entity_id = operation.object_id or (value.get("private_key_id") if isinstance(value, dict) else None)
        try:
            self.trail.record(audit_operation_name(operation.name), operation.entity_type, entity_id,
                              status, details=details, kms_url=node)
        except AuditError as exc:
            self._failed([(operation, error)], exc)

    def _node(self, error):
        """The KMS node that served the call that ended in ``error`` (None: success)."""
        if error is not None and error.kms_url:
            return error.kms_url
        return (self.transport is not None and self.transport.last_url) or self.kms_url

    def _failed(self, pending, exc):
        """Raise, or hand to ``on_failure``, that the operations ``pending`` ([(operation,
        error)]) reached the KMS but their records could not be written (``exc``)."""
        stored = isinstance(exc, AuditMirrorError)
        if len(pending) == 1:
            what = "%s at the KMS, but %s" % (_done(*pending[0]), "its audit record is in the store only, not in the "
                                              "JSON-lines mirror" if stored else "its audit record could not be written")
        else:
            more = len(pending) - MAX_LISTED_RESULTS
            what = "a batch of %d operations reached the KMS (%s%s), but %s" % (
                len(pending), ", ".join(_done(*item) for item in pending[:MAX_LISTED_RESULTS]),
                ", and %d more" % more if more > 0 else "", "their audit records are in the store only, not in the "
                "JSON-lines mirror" if stored else "their %d audit records could not be written" % len(pending))
        failure = AuditError("%s: %s" % (what, exc))
        if self.on_failure is None:
            raise failure
        self.on_failure(failure)


class _RecordedBatch:
    """What ``AuditRecorder.batch`` returns: the trail's group, whose failure is told as the
    recorder tells one, naming the batch's operations. A nested batch joins the outer one."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.group = recorder.trail.grouped()
        self._outermost = False

    def __enter__(self):
        self._outermost = self.recorder._pending is None
        if self._outermost:
            self.recorder._pending = []
        self.group.__enter__()
        return self

    def __exit__(self, *exc_info):
        pending = self.recorder._pending
        try:
            if self._outermost:
                self.recorder._pending = None
                for call in pending:
                    self.recorder._record(*call)
        finally:
            try:
                self.group.__exit__(*exc_info)
            except AuditError as exc:
                self.recorder._failed([(call[0], call[2]) for call in pending], exc)
        return False


def _done(operation, error):
    """``Destroy on 'pair' was done`` / ``was attempted``, for the messages above."""
    return "%s on %r was %s" % (operation.name, operation.object_id, "done" if error is None else "attempted")


def audited_client(params, trail, on_failure=None):
    """A client for the connection ``params`` that audits into ``trail`` (see AuditRecorder).

    Raises AuditError, before any KMS call, when the store cannot be written.
    """
    try:
        trail.ensure_writable()
    except AuditError as exc:
        raise AuditError("The audit trail is not writable, so no KMS call was made: %s" % exc)
    transport = KmsTransport.from_params(params)
    return KmsClient(transport, observer=AuditRecorder(trail, transport.urls[0], on_failure=on_failure,
                                                       transport=transport))
