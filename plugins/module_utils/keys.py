# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the key kinds (key pairs, symmetric keys) share on top of the lifecycle core: tags
that the KMS cannot change, activation, and a secret that leaves the KMS only on purpose.

A key is created non-exportable (Sensitive: the KMS refuses to export it) unless the task
says ``exportable: true``. A key that exists from before keeps whatever it is: only an
explicit ``exportable`` that differs is a mismatch. The secret's file option
(``secret_option``) needs an exportable key, checked before any file is touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.files import destination_problems
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import ManagedObject, find


def tag_problems(tags):
    return ["tags must be non-empty and must not start with '_' (reserved by the KMS), got %r" % tag
            for tag in tags or [] if not tag or tag.startswith("_")]


def selection_problems(params):
    """Problems with the ``name`` and ``tags`` filters of an inventory module (key or certificate info)."""
    problem = ops.object_name_problem(params["name"]) if params.get("name") is not None else None
    return ([problem] if problem else []) + tag_problems(params.get("tags"))


def tags_mismatch(have, want, purge):
    """Why tags ``have`` do not satisfy ``want`` (None: any tags do), or None."""
    if want is None:
        return None
    have, want = set(have), set(want)
    if not want <= have or (purge and have != want):
        return ("tags are %s, requested %s (the KMS cannot change tags of an existing object)"
                % (sorted(have), sorted(want)))
    return None


class Key(ManagedObject):
    """A key kind: ``read`` starts from :meth:`read_key`, ``mismatch`` ends with :meth:`key_mismatch`."""

    noun = "key"  # in "the <noun> is revoked"
    secret_option = None  # the option naming the file the secret is written to
    file_options = ()  # every file option (checked before any KMS call)

    @classmethod
    def kind_problems(cls, params):
        problems = tag_problems(params["tags"])
        if params["state"] != "absent":
            problems += destination_problems(params, cls.file_options)
        if params.get(cls.secret_option) and params.get("exportable") is False:
            problems.append("%s needs an exportable %s, and exportable=false makes the KMS refuse to export it"
                            % (cls.secret_option, cls.kind))
        return problems

    def read_key(self):
        """(attributes, the fields every key reports), or (None, None) when the name is free."""
        attrs = find(self.kms, self.name, self.object_type, self.read_entity_type)
        if attrs is None:
            return None, None
        fields = {"state": attrs["state"], "tags": attrs["tags"], "type": attrs["key_type"],
                  "exportable": attrs["exportable"], "activation_date": ops.iso_utc(attrs["activation_date"])}
        return attrs, fields

    def key_mismatch(self, current):
        """Tags, exportability (only when the task sets it) and revocation."""
        reasons = []
        tags = tags_mismatch(current["tags"], self.params["tags"], self.params["purge_tags"])
        if tags:
            reasons.append(tags)
        wanted = self.params["exportable"]
        if wanted is not None and current["exportable"] is not None and current["exportable"] != wanted:
            reasons.append("exportable is %s, requested %s" % (current["exportable"], wanted))
        if current["state"] in ops.REVOKED_STATES:
            reasons.append("the %s is revoked (%s)" % (self.noun, current["state"]))
        return reasons

    def predicted_key(self):
        """The fields every new key has."""
        return {"state": "Active" if self.params["activate"] else "PreActive",
                "tags": sorted(self.params["tags"] or []), "exportable": bool(self.params["exportable"]),
                "activation_date": None}

    def check_can_create(self):
        if self.params.get(self.secret_option) and not self.params["exportable"]:
            raise TaskError("%s: a new %s is created non-exportable unless exportable=true, and the KMS would refuse "
                            "to export it; set exportable=true" % (self.secret_option, self.kind))

    def check_can_export(self, current):
        """Before any file is written: the secret's file needs an exportable key."""
        if self.params.get(self.secret_option) and current.get("exportable") is False:
            raise TaskError("The %s %r is not exportable (the KMS refuses to export it), so %s cannot be written; "
                            "replace it with exportable=true and regenerate=mismatch, or leave %s unset"
                            % (self.kind, self.name, self.secret_option, self.secret_option))

    def activate_ids(self, current):
        """The ids an activation covers."""
        return [self.name]

    def update(self, current):
        """Activate a PreActive key when the task wants it active."""
        if not (self.params["activate"] and current["state"] == "PreActive"):
            return current
        self.changes.append("activated")
        if self.kms.check_mode:
            return dict(current, state="Active")
        for object_id in self.activate_ids(current):
            self.kms.call(ops.activate(object_id), entity_type=self.entity_type)
        return self.read()
