# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many objects of one kind in one task (``pairs:``, ``keys:``, ``certificates:``).

Each item is ensured by its kind exactly as a task of its own would be: the same plan,
check mode, result and audit records. What changes is the number of round trips: the
reads every item starts with, and the creates of the missing ones, are sent ahead in a
few batched RequestMessages, and each item's kind finds their answers waiting
(:class:`PrefetchedKms`) instead of calling the KMS one operation at a time.

An item that is invalid or fails does not stop the others: its result says why, and the
task fails naming every failed item after all were done.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError, PkiManagerError, TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.kms_module import CHANGING_OPERATIONS, NoneWhenMissing

# The options of a task that are not options of an item (connection, audit, files).
NOT_PER_ITEM = frozenset(("kms_url", "api_key", "ca_cert", "validate_certs", "client_cert", "client_key", "timeout",
                          "retries", "audit_log", "audit_jsonl", "audit_context", "mode", "owner", "group", "seuser",
                          "serole", "selevel", "setype", "unsafe_writes", "attributes"))
# Operations per RequestMessage: large enough to save the round trips, small enough for the
# server's and the transport's answer limits.
BATCH_SIZE = 100


def item_argument_spec(spec):
    """The spec of one item: the task's own options (no default, no fallback: an unset item
    option takes the task's value), ``name`` required."""
    items = {}
    for option, settings in spec.items():
        if option in NOT_PER_ITEM:
            continue
        items[option] = dict((k, v) for k, v in settings.items() if k not in ("default", "fallback", "required"))
    items["name"]["required"] = True
    return items


def _key(operation):
    return json.dumps(ttlv.encode(operation.payload), sort_keys=True) + operation.name


class PrefetchedKms(NoneWhenMissing):
    """What a kind talks through for one item: the module's methods, its own ``outcome``, and
    the answers of operations sent ahead (each used once, in order)."""

    def __init__(self, module, answers):
        self._module = module
        self._answers = answers
        self.outcome = {}

    def __getattr__(self, name):
        return getattr(self._module, name)

    def call(self, operation, entity_type=None):
        waiting = self._answers.get(_key(operation))
        if not waiting:
            return self._module.call(operation, entity_type)
        result = waiting.pop(0)
        if result.error is not None:
            raise result.error
        return result.value


class Bulk:
    """The items of one task, ensured by ``kind`` (a ManagedObject class) with batched reads and creates."""

    def __init__(self, module, kind, list_option, item_spec):
        self.module = module
        self.kind = kind
        self.list_option = list_option
        self.item_spec = item_spec
        self.answers = {}

    def items(self):
        """(params, problems) per item: the task's options with the item's over them."""
        from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
        validator = ArgumentSpecValidator(self.item_spec)
        secret = [option for option, settings in self.item_spec.items() if settings.get("no_log")]
        items, seen = [], set()
        for index, given in enumerate(self.module.params[self.list_option]):
            # The items' secrets are masked in every output, like the task's own.
            self.module.no_log_values.update(str(given[option]) for option in secret if given.get(option))
            checked = validator.validate(dict((k, v) for k, v in given.items() if v is not None))
            params = dict(self.module.params)
            params.update((k, v) for k, v in checked.validated_parameters.items() if v is not None)
            params.pop(self.list_option)
            problems = list(checked.error_messages) or self.kind.validate(params)
            params["name"] = params.get("name") or "#%d" % index
            if params["name"] in seen:
                problems = ["name %r is given twice in %s" % (params["name"], self.list_option)]
            seen.add(params["name"])
            items.append((params, problems))
        return items

    def _send(self, operations):
        """Run ``operations`` in batches; their answers wait for the items' calls."""
        for start in range(0, len(operations), BATCH_SIZE):
            chunk = operations[start:start + BATCH_SIZE]
            for result in self.module.client.batch(chunk):
                self.answers.setdefault(_key(result.operation), []).append(result)
                if result.error is None and result.operation.name in CHANGING_OPERATIONS:
                    self.module.outcome["changed"] = True

    def _prefetch(self, objects):
        """The reads each object starts with, then what follows from them, then the creates."""
        self._send([obj.read_operation() for obj in objects])
        attributes = dict((obj.name, self._answer(obj.read_operation())) for obj in objects)
        self._send([op for obj in objects for op in obj.follow_up_reads(attributes[obj.name])])
        if self.module.check_mode:
            return
        creates = dict((obj.name, obj.create_operation()) for obj in objects
                       if self._will_create(obj, attributes[obj.name]))
        self._send(list(creates.values()))
        self._send([op for obj in objects if obj.name in creates
                    for op in obj.reads_after_create(self._answer(creates[obj.name]))])

    def _answer(self, operation):
        waiting = self.answers.get(_key(operation)) or []
        return waiting[-1].value if waiting and waiting[-1].error is None else None

    def _will_create(self, obj, attributes):
        if obj.params["state"] != "present" or obj.create_operation() is None:
            return False
        if attributes is not None and attributes["state"] not in ops.DESTROYED_STATES:
            return False
        try:
            obj.check_can_create()
        except PkiManagerError:
            return False
        return True

    def ensure(self):
        """The task's result: one result per item, in the order given."""
        items = self.items()
        objects = [self.kind(PrefetchedKms(self.module, self.answers), params) for params, problems in items
                   if not problems]
        self._prefetch(objects)
        by_name = dict((obj.name, obj) for obj in objects)
        results, failed = [], []
        for params, problems in items:
            if problems:
                result = {"name": params["name"], "failed": True, "changed": False,
                          "msg": "Invalid arguments: " + "; ".join(problems)}
            else:
                result = self._ensure_one(by_name[params["name"]])
            results.append(result)
            if result.get("failed"):
                failed.append("%s: %s" % (result["name"], result["msg"]))
        summary = {"changed": any(r["changed"] for r in results), "results": results}
        if self.module._diff:
            summary["diff"] = {"before": dict((r["name"], r["diff"]["before"]) for r in results if "diff" in r),
                               "after": dict((r["name"], r["diff"]["after"]) for r in results if "diff" in r)}
        if failed:
            raise TaskError("%d of %d %s failed: %s" % (len(failed), len(results), self.list_option, "; ".join(failed)),
                            **summary)
        return summary

    @staticmethod
    def _ensure_one(obj):
        try:
            return obj.ensure()
        except KmsError as error:
            return dict(obj.kms.outcome, failed=True, msg=str(error), kms_error=error.to_dict(),
                        changed=bool(obj.changes))
        except PkiManagerError as error:
            result = dict(obj.kms.outcome, failed=True, msg=" ".join(str(error).split()), changed=bool(obj.changes))
            result.update(getattr(error, "result", {}))
            return result


def run_lifecycle_module(kind, argument_spec, list_option, **kwargs):
    """The ``main()`` of a lifecycle module: ensure the object ``name``, or each object of
    ``list_option`` (items take the task's options as defaults)."""
    from ansible_collections.pkimanager.kms.plugins.module_utils.kms_module import KmsModule
    spec = dict(argument_spec)
    spec["name"] = dict(spec["name"], required=False)
    # The items' own secrets are masked one by one (Bulk.items), not the whole list.
    spec[list_option] = dict(type="list", elements="dict", no_log=False)
    module = KmsModule(
        argument_spec=spec,
        validate=lambda params: [] if params.get(list_option) is not None else kind.validate(params),
        mutually_exclusive=[("name", list_option)], required_one_of=[("name", list_option)], **kwargs)
    if module.params[list_option] is None:
        module.exit_with(kind(module, module.params).ensure)
    else:
        module.exit_with(Bulk(module, kind, list_option, item_argument_spec(argument_spec)).ensure)
