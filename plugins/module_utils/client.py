# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The KMIP client: sends :class:`operations.Operation` objects, one or batched.

It joins the transport (HTTP, retries) and the codec, turns every failure into
:class:`KmsError`, and reports each operation's outcome to an observer, which is how
the modules' audit trail sees every KMS call without each module remembering to.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib

from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError, batch_item_reason
from ansible_collections.pkimanager.kms.plugins.module_utils.operations import get_attributes

PROTOCOL_VERSION = (2, 1)


class BatchResult:
    """The outcome of one item of a batch: ``value`` on success, ``error`` otherwise."""

    __slots__ = ("operation", "value", "error")

    def __init__(self, operation, value=None, error=None):
        self.operation = operation
        self.value = value
        self.error = error

    @property
    def ok(self):
        return self.error is None

    def __repr__(self):
        return "BatchResult(%r, ok=%r)" % (self.operation, self.ok)


class KmsClient:
    """Send KMIP operations to a Cosmian KMS (one server, or the nodes the transport fails
    over between; ``transport.last_url`` names the node that served the last call).

    ``observer(operation, value, error)`` is called once per operation after it ran
    (``error`` is a KmsError or None); it must not swallow its own failures, so that a
    module can refuse to go on when its audit record could not be written. An observer
    with a ``batch()`` method returning a context manager gets every ``batch`` inside it
    (the audit recorder writes a batch's records in one transaction at its exit).
    """

    def __init__(self, transport, observer=None):
        self.transport = transport
        self.observer = observer

    def call(self, operation):
        """Run one operation and return its parsed result; KmsError on any failure.

        An operation whose retry failed because an earlier attempt (its answer lost to a
        timeout, a reset or a 5xx) already did the work -- a lifecycle change, or a create
        under a chosen id -- is reported as done, once GetAttributes shows its goal reached;
        it returns what the operation returns (``operation.settled_result``), and
        ``operation.settled`` says how it was settled.
        """
        try:
            answer = self.transport.post_kmip(ttlv.encode(operation.payload), operation.name, operation.object_id)
            value = self._parse(operation, self._decode(operation, answer))
        except KmsError as error:
            value = self._settled(operation, error)
            if value is _NOT_DONE:
                self._notify(operation, None, error)
                raise
        self._notify(operation, value, None)
        return value

    def batch(self, operations):
        """Run several operations in one RequestMessage; one BatchResult per operation.

        The server processes the items in order and answers each with its own status,
        so a failing item does not hide the others' results. When the batch had to be sent
        again, an item refused because the lost first attempt already did it is settled as
        ``call`` settles an operation.
        """
        operations = list(operations)
        if not operations:
            return []
        scope = getattr(self.observer, "batch", None)
        with scope() if callable(scope) else contextlib.nullcontext():
            return self._batch(operations)

    def _batch(self, operations):
        message = ttlv.structure("RequestMessage", [
            ttlv.structure("RequestHeader", [
                ttlv.structure("ProtocolVersion", [
                    ttlv.integer("ProtocolVersionMajor", PROTOCOL_VERSION[0]),
                    ttlv.integer("ProtocolVersionMinor", PROTOCOL_VERSION[1])]),
                ttlv.integer("BatchCount", len(operations))]),
        ] + [ttlv.structure("BatchItem", [
            ttlv.enumeration("Operation", op.name),
            ttlv.byte_string("UniqueBatchItemID", str(index).encode("ascii")),
            ttlv.TTLV("RequestPayload", ttlv.STRUCTURE, op.payload.value),
        ]) for index, op in enumerate(operations)])
        names = ", ".join(sorted(set(op.name for op in operations)))
        try:
            answer = self.transport.post_kmip(ttlv.encode(message), "batch of %d (%s)" % (len(operations), names))
            attempts = self.transport.last_attempts
            response = self._decode_named("batch", None, answer)
            items = self._batch_items(response, len(operations))
        except KmsError as error:
            for op in operations:
                self._notify(op, None, error)
            raise
        results = []
        for index, op in enumerate(operations):
            item = items.get(index)
            try:
                if item is None:
                    raise KmsError("the server's answer has no item for this operation",
                                   reason="Invalid_Response", operation=op.name, object_id=op.object_id)
                if item.get("ResultStatus") != "Success":
                    message = item.get("ResultMessage") or "operation failed"
                    raise KmsError(message, status=200, operation=op.name, object_id=op.object_id, attempts=attempts,
                                   reason=batch_item_reason(_reason_name(item.get("ResultReason")), message))
                value = self._parse(op, item.require("ResponsePayload"))
            except Exception as exc:  # a KmsError, or an answer of an unexpected shape
                error = exc if isinstance(exc, KmsError) else _invalid(op, exc)
                value = self._settled(op, error)
                if value is _NOT_DONE:
                    self._notify(op, None, error)
                    results.append(BatchResult(op, error=error))
                    continue
            self._notify(op, value, None)
            results.append(BatchResult(op, value=value))
        return results

    # -- internals ---------------------------------------------------------------------

    def _settled(self, operation, error):
        """What ``operation`` returns when ``error`` only says that an earlier attempt whose
        answer was lost did it (``operation.settled`` then says so); ``_NOT_DONE`` otherwise."""
        attributes = self._done_by_earlier_attempt(operation, error)
        if attributes is _NOT_DONE:
            return _NOT_DONE
        operation.settled = ("%s after %d attempts: %s" % (error.reason, error.attempts, "an earlier attempt "
                             "whose answer was lost did it (GetAttributes confirms)"))
        return operation.settled_result(attributes)

    def _done_by_earlier_attempt(self, operation, error):
        """The object's attributes (None when it is gone) when ``error``, the server's definite
        answer (4xx) to a retried request, only says that an earlier attempt of the same
        operation succeeded; ``_NOT_DONE`` otherwise.

        A request sent once is never settled this way: its refusal is the server's answer to
        this run (for a create, another run got there first).
        """
        if operation.achieved is None or not error.retried or error.status is None or error.status >= 500:
            return _NOT_DONE
        try:
            attributes = self.call(get_attributes(operation.object_id))
        except KmsError as check_error:
            if not check_error.not_found:
                return _NOT_DONE
            attributes = None
        return attributes if operation.achieved(attributes) else _NOT_DONE

    def _notify(self, operation, value, error):
        if self.observer is not None:
            self.observer(operation, value, error)

    def _decode(self, operation, answer):
        return self._decode_named(operation.name, operation.object_id, answer)

    @staticmethod
    def _decode_named(name, object_id, answer):
        try:
            return ttlv.decode(answer)
        except Exception as exc:  # TTLVError, and whatever else an answer of any shape makes the codec raise
            raise KmsError("the server's answer is not valid TTLV: %s" % _described(exc), reason="Invalid_Response",
                           operation=name, object_id=object_id)

    @staticmethod
    def _parse(operation, payload):
        """The operation's result from its response payload; any parser failure (an answer of
        an unexpected shape or type) is a KmsError with reason Invalid_Response."""
        try:
            return operation.parse(payload)
        except Exception as exc:
            raise _invalid(operation, exc)

    @staticmethod
    def _batch_items(response, expected):
        """Batch items of a ResponseMessage by their index (UniqueBatchItemID)."""
        items = ttlv.vector_items(response, "BatchItem")
        by_index = {}
        for position, item in enumerate(items):
            ident = item.get("UniqueBatchItemID")
            try:
                index = int(ident.decode("ascii")) if isinstance(ident, bytes) else position
            except ValueError:
                index = position
            by_index[index] = item
        if len(by_index) != expected:
            raise KmsError("the server answered %d items for %d operations" % (len(by_index), expected),
                           reason="Invalid_Response", operation="batch")
        return by_index


def _reason_name(value):
    return value if isinstance(value, str) else ("0x%08X" % value if value is not None else None)


def _described(exc):
    """An exception as one line: its message, or its type when the message is empty or huge."""
    text = " ".join(str(exc).split())
    if not text or len(text) > 300:
        text = type(exc).__name__ + (": " + text[:300] + "..." if text else "")
    return text


def _invalid(operation, exc):
    return KmsError("unexpected answer: %s" % _described(exc), reason="Invalid_Response", operation=operation.name,
                    object_id=operation.object_id)


# What _done_by_earlier_attempt returns when the error stands (None means "the object is gone").
_NOT_DONE = object()
