# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key pairs as a managed kind: the private key's unique identifier is the name, the public
key is found through its link, and both are revoked and destroyed together (cascade)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.files import destination_problems, write_text_file
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import ManagedObject, find
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import fingerprint_sha256


def tag_problems(tags):
    return ["tags must be non-empty and must not start with '_' (reserved by the KMS), got %r" % tag
            for tag in tags or [] if not tag or tag.startswith("_")]


def tags_mismatch(have, want, purge):
    """Why tags ``have`` do not satisfy ``want`` (None: any tags do), or None."""
    if want is None:
        return None
    have, want = set(have), set(want)
    if not want <= have or (purge and have != want):
        return ("tags are %s, requested %s (the KMS cannot change tags of an existing object)"
                % (sorted(have), sorted(want)))
    return None


class KeyPair(ManagedObject):
    """The pair whose private key is named ``name``."""

    kind = "key pair"
    object_type = "PrivateKey"
    entity_type = "key_pair"
    diff_fields = ("private_key_id", "public_key_id", "size", "state", "tags", "fingerprint_sha256")
    outcome_fields = ("private_key_id", "public_key_id", "state")

    @classmethod
    def kind_problems(cls, params):
        problems = tag_problems(params["tags"])
        if params["state"] != "absent":
            problems += destination_problems(params, ["public_key_path"])
        return problems

    def read(self):
        attrs = find(self.kms, self.name, self.object_type, "private_key")
        if attrs is None:
            return None
        pair = {"private_key_id": self.name, "public_key_id": attrs["links"].get("PublicKeyLink"),
                "size": attrs["length"], "state": attrs["state"], "tags": attrs["tags"],
                "activation_date": ops.iso_utc(attrs["activation_date"])}
        if pair["public_key_id"] and attrs["state"] in ops.ACTIVE_STATES:
            key = self.kms.call(ops.get_public_key(pair["public_key_id"]), entity_type="public_key")
            pair["public_key_pem"] = key["pem"]
            pair["fingerprint_sha256"] = fingerprint_sha256(key["der"])
        return pair

    def view(self, current):
        return current

    def mismatch(self, current):
        reasons = []
        if current["size"] != self.params["size"]:
            reasons.append("size is %s, requested %s" % (current["size"], self.params["size"]))
        tags = tags_mismatch(current["tags"], self.params["tags"], self.params["purge_tags"])
        if tags:
            reasons.append(tags)
        if current["state"] in ops.REVOKED_STATES:
            reasons.append("the pair is revoked (%s)" % current["state"])
        return reasons

    def predicted(self, current):
        return {"private_key_id": self.name, "public_key_id": None, "size": self.params["size"],
                "state": "Active" if self.params["activate"] else "PreActive",
                "tags": sorted(self.params["tags"] or []), "activation_date": None}

    def create(self):
        """Create by name. Losing a race to a concurrent run is not an error: the KMS
        refuses the second pair of a name (Object_Already_Exists, to a request sent once),
        and we report the winner's pair, not created by us.

        A retried create refused the same way because our own earlier attempt made the pair
        (its answer lost) is settled by the client and returns normally: created by us.
        """
        operation = ops.create_key_pair(self.params["size"], self.name, self.params["tags"] or (),
                                        self.params["activate"])
        try:
            ids = self.kms.call(operation, entity_type=self.entity_type)
        except KmsError as error:
            existing = self.read() if error.reason == "Object_Already_Exists" else None
            if existing is None:
                raise
            # Not ours: a creation is undone from the changes; a replacement still destroyed the old pair.
            self.changes[:] = ["destroyed" if c == "replaced" else c for c in self.changes if c != "created"]
            return existing
        self.kms.outcome.update(ids)
        return self.read()

    def update(self, current):
        """Activate a PreActive pair when the task wants it active."""
        if not (self.params["activate"] and current["state"] == "PreActive"):
            return current
        self.changes.append("activated")
        if self.kms.check_mode:
            return dict(current, state="Active")
        for object_id in (current["private_key_id"], current["public_key_id"]):
            if object_id:
                self.kms.call(ops.activate(object_id), entity_type=self.entity_type)
        return self.read()

    def export(self, current):
        path = self.params["public_key_path"]
        if path and current.get("public_key_pem") and write_text_file(self.kms, path, current["public_key_pem"],
                                                                      option="public_key_path"):
            self.changes.append("public key file written")
