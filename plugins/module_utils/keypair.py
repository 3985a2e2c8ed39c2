# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key pairs as a managed kind: the private key's unique identifier is the name, the public
key is found through its link, and both are revoked and destroyed together (cascade).
RSA, EC (by curve), Ed25519 and Ed448 pairs; see :mod:`key_specs` for the wire form."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.files import write_secret_file, write_text_file
from ansible_collections.pkimanager.kms.plugins.module_utils.keys import Key
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import (
    cryptography_problem,
    fingerprint_sha256,
    holds_private_key,
    private_key_pem,
)

DEFAULT_RSA_SIZE = 3072
PAIR_CURVES = ("P-256", "P-384", "P-521", "secp256k1")


class KeyPair(Key):
    """The pair whose private key is named ``name``."""

    kind = "key pair"
    noun = "pair"
    object_type = "PrivateKey"
    entity_type = "key_pair"
    read_entity_type = "private_key"
    secret_option = "private_key_path"
    file_options = ("public_key_path", "private_key_path")
    diff_fields = ("private_key_id", "public_key_id", "type", "size", "curve", "state", "tags", "exportable",
                   "fingerprint_sha256")
    outcome_fields = ("private_key_id", "public_key_id", "state")

    @classmethod
    def kind_problems(cls, params):
        problems = super(KeyPair, cls).kind_problems(params)
        key_type = params["type"]
        if key_type == "ec" and not params["curve"]:
            problems.append("type=ec needs curve, one of %s" % ", ".join(PAIR_CURVES))
        if key_type != "ec" and params["curve"]:
            problems.append("curve is only used with type=ec, not type=%s" % key_type)
        if key_type != "rsa" and params["size"]:
            problems.append("size is only used with type=rsa (the curve or the type sets the size of a %s key)"
                            % key_type)
        if params["private_key_passphrase"] and not params["private_key_path"]:
            problems.append("private_key_passphrase is only used with private_key_path")
        if params["private_key_path"] and params["state"] != "absent":
            problems += [problem for problem in [cryptography_problem()] if problem]
        return problems

    @property
    def wanted_size(self):
        return (self.params["size"] or DEFAULT_RSA_SIZE) if self.params["type"] == "rsa" else None

    def read(self):
        attrs, pair = self.read_key()
        if attrs is None:
            return None
        pair.update(private_key_id=self.name, public_key_id=attrs["links"].get("PublicKeyLink"),
                    size=attrs["size"], curve=attrs["curve"])
        for operation in self.follow_up_reads(attrs):
            key = self.kms.call(operation)
            pair.update(public_key_pem=key["pem"], fingerprint_sha256=fingerprint_sha256(key["der"]), _spki=key["der"])
        return pair

    def follow_up_reads(self, attributes):
        """The public key of a live pair."""
        public_key_id = (attributes or {}).get("links", {}).get("PublicKeyLink")
        if attributes is None or attributes["state"] not in ops.ACTIVE_STATES or not public_key_id:
            return []
        operation = ops.get_public_key(public_key_id)
        operation.entity_type = "public_key"
        return [operation]

    def view(self, current):
        return dict((k, v) for k, v in current.items() if not k.startswith("_"))

    def mismatch(self, current):
        reasons = []
        if current["type"] != self.params["type"]:
            reasons.append("type is %s, requested %s" % (current["type"], self.params["type"]))
        elif self.params["type"] == "rsa" and current["size"] != self.wanted_size:
            reasons.append("size is %s, requested %s" % (current["size"], self.wanted_size))
        elif self.params["type"] == "ec" and current["curve"] != self.params["curve"]:
            reasons.append("curve is %s, requested %s" % (current["curve"], self.params["curve"]))
        return reasons + self.key_mismatch(current)

    def predicted(self, current):
        predicted = self.predicted_key()
        predicted.update(private_key_id=self.name, public_key_id=None, type=self.params["type"],
                         size=self.wanted_size, curve=self.params["curve"])
        return predicted

    def create(self):
        """Create by name. Losing a race to a concurrent run is not an error: the KMS
        refuses the second pair of a name (Object_Already_Exists, to a request sent once),
        and we report the winner's pair, not created by us.

        A retried create refused the same way because our own earlier attempt made the pair
        (its answer lost) is settled by the client and returns normally: created by us.
        """
        try:
            ids = self.kms.call(self.create_operation())
        except KmsError as error:
            existing = self.read() if error.reason == "Object_Already_Exists" else None
            if existing is None:
                raise
            # Not ours: a creation is undone from the changes; a replacement still destroyed the old pair.
            self.changes[:] = ["destroyed" if c == "replaced" else c for c in self.changes if c != "created"]
            return existing
        self.kms.outcome.update(ids)
        return self.read()

    def build_create_operation(self):
        return ops.create_key_pair(
            self.wanted_size, self.name, self.params["tags"] or (), self.params["activate"],
            key_type=self.params["type"], curve=self.params["curve"], exportable=bool(self.params["exportable"]))

    def reads_after_create(self, created):
        if created is None:
            return []
        return [self.read_operation()] + self.follow_up_reads(
            {"state": "Active" if self.params["activate"] else "PreActive",
             "links": {"PublicKeyLink": created["public_key_id"]}})

    def activate_ids(self, current):
        return [object_id for object_id in (current["private_key_id"], current["public_key_id"]) if object_id]

    def export(self, current):
        """The public key file, and the private key file (checked exportable before any write)."""
        if not current.get("public_key_pem"):
            return
        self.check_can_export(current)
        path = self.params["public_key_path"]
        if path and write_text_file(self.kms, path, current["public_key_pem"], option="public_key_path"):
            self.changes.append("public key file written")
        path, passphrase = self.params["private_key_path"], self.params["private_key_passphrase"]
        if path and write_secret_file(
                self.kms, path, lambda: private_key_pem(self._private_key_der(), passphrase), "private_key_path",
                same=lambda existing: holds_private_key(existing, passphrase, current["_spki"])):
            self.changes.append("private key file written")

    def _private_key_der(self):
        return self.kms.call(ops.get_private_key(self.name), entity_type="private_key")["der"]
