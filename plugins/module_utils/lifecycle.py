# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lifecycle core: a named object in the KMS that a module ensures.

Each kind of object (key pair, certificate, ...) is a small subclass of
:class:`ManagedObject` that says how to read, compare and create its object. The rest is
written once here: the plan from ``state`` and ``regenerate`` (create, replace, revoke,
destroy), check mode, the result shape and a diff without key material.

Kinds raise (KmsError, TaskError) and never end the module; ``KmsModule.exit_with``
catches once. They talk to the KMS through ``kms``: ``call`` and ``call_or_none``
(raising KmsError), ``check_mode``, ``outcome`` (what a failure result reports) and the
file methods :func:`files.write_text_file` uses -- a KmsModule in production, a small
fake in unit tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.options import OptionGroup

STATES = ("present", "revoked", "absent")
REGENERATE = ("never", "fail", "mismatch", "always")
# KMIP object type -> (what users call it, what a wrong-type message says it must be).
OBJECT_TYPES = {"PrivateKey": ("key pair", "a key pair's private key"),
                "Certificate": ("certificate", "a certificate")}


class LifecycleOptions(OptionGroup):
    """``state``, ``regenerate`` and the ``pkimanager.kms.revocation`` doc fragment's options:
    what every lifecycle module's argument spec shares (``name`` is documented per kind)."""

    @classmethod
    def argument_spec(cls, regenerate="fail"):
        return dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=list(STATES)),
            regenerate=dict(type="str", default=regenerate, choices=list(REGENERATE)),
            revocation_reason=dict(type="str", default="CessationOfOperation", choices=list(ops.REVOCATION_REASONS)),
            revocation_message=dict(type="str"),
        )


def wrong_type_message(name, found, wanted, role=None):
    """Why ``name`` cannot be used: it is a ``found`` object, not a ``wanted`` one."""
    must_be = OBJECT_TYPES[wanted][1]
    if role:
        return "%s %r is a %s in the KMS, not %s" % (role, name, found, must_be)
    return "The KMS object %r is a %s, not %s; choose another name" % (name, found, must_be)


def find(kms, name, object_type, entity_type, role=None):
    """The attributes of the live object ``name``; None when it is missing or destroyed.
    Another type of object under that name is a TaskError (``role`` names the option)."""
    attrs = kms.call_or_none(ops.get_attributes(name), entity_type=entity_type)
    if attrs is None:
        return None
    if attrs["object_type"] != object_type:
        raise TaskError(wrong_type_message(name, attrs["object_type"], object_type, role))
    return None if attrs["state"] in ops.DESTROYED_STATES else attrs


def require(kms, name, object_type, entity_type, role, hint):
    """Like :func:`find`, but a missing object is a TaskError naming ``role`` and ``hint``."""
    attrs = find(kms, name, object_type, entity_type, role)
    if attrs is None:
        raise TaskError("%s %r: there is no %s of this name in the KMS; %s"
                        % (role, name, OBJECT_TYPES[object_type][0], hint))
    return attrs


def option_rule_problems(params, required_if=(), mutually_exclusive=()):
    """AnsibleModule's ``required_if`` and ``mutually_exclusive`` checks, with its messages, as
    problems: run by a kind on the options it ensures with (a task's, or a bulk item's merged
    with the task's)."""
    from ansible.module_utils.common.validation import check_mutually_exclusive, check_required_if
    problems = []
    given = dict((k, v) for k, v in params.items() if v is not None)
    for check, rules in ((check_mutually_exclusive, mutually_exclusive), (check_required_if, required_if)):
        try:
            check(list(rules), given)
        except TypeError as exc:
            problems.append(str(exc))
    return problems


def revoked_state(reason):
    """The KMIP state a revocation with ``reason`` leads to."""
    return "Compromised" if reason == "KeyCompromise" else "Deactivated"


class ManagedObject:
    """One named object of one kind; :meth:`ensure` brings it to the task's state.

    A kind sets the class attributes and implements :meth:`read`, :meth:`mismatch`,
    :meth:`create`, :meth:`predicted` and :meth:`view`; the other hooks have defaults.
    ``read`` returns the kind's own description of the object (a dict with ``state``), or
    None when the name is free; ``view`` turns one into result fields.
    """

    kind = "object"  # in messages: "There is no <kind> named ..."
    object_type = None  # the KMIP object type the name must hold
    entity_type = None  # the audit records' entity type for changes
    read_entity_type = None  # the audit records' entity type for reading the object
    cascade = True  # revoke and destroy the linked objects with it
    replacement_revokes = True  # a replacement revokes the old object (revocation_message applies)
    diff_fields = None  # result fields shown in a diff (None: every field but PEM)
    outcome_fields = ()  # result fields a failure after a change still reports

    def __init__(self, kms, params):
        self.kms = kms
        self.params = params
        self.name = params["name"]
        self.changes = []
        self.only_predicted = False  # check mode: the object after the run does not exist yet
        self._create_operation = None
        kms.outcome.update(name=self.name, id=self.name, changes=self.changes)

    # -- the options -----------------------------------------------------------------

    @classmethod
    def validate(cls, params):
        """Every problem with the options that can be seen without the KMS."""
        problems = [problem for problem in [ops.object_name_problem(params["name"])] if problem]
        replaces = cls.replacement_revokes and params["regenerate"] in ("mismatch", "always")
        if params["revocation_message"] and params["state"] == "present" and not replaces:
            problems.append("revocation_message is only used with state=revoked, state=absent or a regenerate that "
                            "replaces the %s" % cls.kind if cls.replacement_revokes else
                            "revocation_message is only used with state=revoked or state=absent")
        return problems + cls.kind_problems(params)

    @classmethod
    def kind_problems(cls, params):
        """The kind's own option checks."""
        return []

    # -- what a kind implements ------------------------------------------------------

    def read(self):
        raise NotImplementedError

    def mismatch(self, current):
        """Why the existing object does not satisfy the task (empty when it does)."""
        raise NotImplementedError

    def create(self):
        """Make the object (the name is free) and return it as :meth:`read` would."""
        raise NotImplementedError

    def predicted(self, current):
        """What check mode reports for the object a create or replace would make."""
        raise NotImplementedError

    def view(self, current):
        """The result fields of an object (``state`` included); key material never."""
        raise NotImplementedError

    # -- hooks with defaults ---------------------------------------------------------

    def check_can_create(self):
        """Raise when the KMS would refuse a create or a replacement (runs in check mode too)."""

    def replace(self, current):
        """A new object under the same name: the old one is revoked (when Active) and removed first."""
        if current["state"] == "Active":
            self._call_revoke()
        self._call_destroy()
        return self.create()

    def update(self, current):
        """Changes made in place to an object that matches (none by default)."""
        return current

    def after_revoke(self, current):
        """The object after a real revocation."""
        return self.read()

    def before_destroy(self, current):
        """Undo what would keep the KMS from destroying the object."""

    def export(self, current):
        """Write the files the task asks for (``current`` exists); ``changes`` says which were written."""

    def aliases(self, result, mismatch):
        """Result fields under older names, kept for one release."""
        return {}

    # -- what a bulk task sends ahead (bulk.py); each must be what the kind itself calls --

    def read_operation(self):
        """The GetAttributes that :meth:`read` starts with."""
        operation = ops.get_attributes(self.name)
        operation.entity_type = self.read_entity_type
        return operation

    def follow_up_reads(self, attributes):
        """The reads :meth:`read` makes after its GetAttributes answered ``attributes``."""
        return []

    def create_operation(self):
        """The one operation :meth:`create` sends, built once (a bulk task sends it ahead), or None."""
        if self._create_operation is None:
            self._create_operation = self.build_create_operation()
            if self._create_operation is not None:
                self._create_operation.entity_type = self.entity_type
        return self._create_operation

    def build_create_operation(self):
        """The kind's create operation, when :meth:`create` is that one call."""
        return None

    def reads_after_create(self, created):
        """The reads :meth:`create` makes after its operation answered ``created`` (None if it failed)."""
        return []

    # -- the plan --------------------------------------------------------------------

    def ensure(self):
        """The module result, after bringing the object to ``state``."""
        before = self.read()
        state = self.params["state"]
        mismatch = []
        after = before
        if state == "absent":
            if before:
                self.destroy(before)
            after = None
        elif state == "revoked":
            if before is None:
                raise TaskError("There is no %s named %r to revoke" % (self.kind, self.name), changed=False)
            after = self.revoke(before)
        elif before is None:
            after = self._make(None, "created")
        else:
            mismatch = self.mismatch(before)
            regenerate = self.params["regenerate"]
            if regenerate == "always" or (mismatch and regenerate == "mismatch"):
                after = self._make(before, "replaced")
            elif mismatch and regenerate == "fail":
                raise TaskError("%s %r exists but does not match: %s. Set regenerate=mismatch to replace it, or "
                                "regenerate=never to keep it." % (self.kind.capitalize(), self.name, "; ".join(mismatch)),
                                mismatch=mismatch, changed=False)
            else:
                after = self.update(before)
        return self._result(before, after, mismatch)

    def _make(self, current, change):
        self.changes.append(change)
        self.check_can_create()
        if self.kms.check_mode:
            self.only_predicted = True
            return self.predicted(current)
        return self.create() if current is None else self.replace(current)

    def revoke(self, current):
        if current["state"] in ops.REVOKED_STATES:
            return current
        self.changes.append("revoked")
        if self.kms.check_mode:
            return dict(current, state=revoked_state(self.params["revocation_reason"]))
        self._call_revoke()
        return self.after_revoke(current)

    def destroy(self, current):
        if current["state"] == "Active":
            self.revoke(current)
        self.changes.append("destroyed")
        if not self.kms.check_mode:
            self.before_destroy(current)
            self._call_destroy()

    def _call_revoke(self):
        self.kms.call(ops.revoke(self.name, self.params["revocation_reason"], self.params["revocation_message"],
                                 cascade=self.cascade), entity_type=self.entity_type)

    def _call_destroy(self):
        self.kms.call(ops.destroy(self.name, cascade=self.cascade, remove=True), entity_type=self.entity_type)

    # -- the result ------------------------------------------------------------------

    def _result(self, before, after, mismatch):
        """One shape for every kind; ``mismatch`` is reported when the object was kept as it is."""
        result = {"name": self.name, "id": self.name, "state": "absent"}
        if after:
            result.update(self.view(after))
            self.kms.outcome.update((k, result[k]) for k in self.outcome_fields if result.get(k))
            if self.params["state"] == "present" and not self.only_predicted:
                self.export(after)
        result.update(changed=bool(self.changes), changes=self.changes, mismatch=mismatch if after is before else [])
        result.update(self.aliases(result, mismatch))
        if getattr(self.kms, "_diff", False):
            result["diff"] = {"before": self.diff_view(before), "after": self.diff_view(after)}
        return result

    def diff_view(self, current):
        if not current:
            return {"state": "absent"}
        shown = self.view(current)
        if self.diff_fields is None:
            return dict((k, v) for k, v in shown.items() if k != "pem" and not k.endswith("_pem"))
        return dict((k, shown.get(k)) for k in self.diff_fields)
