# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Symmetric keys as a managed kind: AES 128/192/256 or ChaCha20 256 under the name as
unique identifier, with the lifecycle of key pairs (see :mod:`keys`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.files import write_secret_file
from ansible_collections.pkimanager.kms.plugins.module_utils.key_specs import SYMMETRIC_LENGTHS
from ansible_collections.pkimanager.kms.plugins.module_utils.keys import Key

# The option's value -> the KMIP CryptographicAlgorithm.
ALGORITHMS = {"aes": "AES", "chacha20": "ChaCha20"}
DEFAULT_SIZE = 256


class SymmetricKey(Key):
    """The symmetric key named ``name``."""

    kind = "symmetric key"
    object_type = "SymmetricKey"
    entity_type = "symmetric_key"
    read_entity_type = "symmetric_key"
    cascade = False  # nothing is linked to it
    secret_option = "key_path"
    file_options = ("key_path",)
    diff_fields = ("algorithm", "size", "state", "tags", "exportable")
    outcome_fields = ("state",)

    @classmethod
    def kind_problems(cls, params):
        problems = super(SymmetricKey, cls).kind_problems(params)
        sizes = SYMMETRIC_LENGTHS[ALGORITHMS[params["algorithm"]]]
        if (params["size"] or DEFAULT_SIZE) not in sizes:
            problems.append("size must be one of %s for algorithm=%s, got %s"
                            % (", ".join(map(str, sizes)), params["algorithm"], params["size"]))
        return problems

    @property
    def wanted_size(self):
        return self.params["size"] or DEFAULT_SIZE

    def read(self):
        attrs, key = self.read_key()
        if attrs is None:
            return None
        by_kmip = dict((kmip, name) for name, kmip in ALGORITHMS.items())
        key.update(algorithm=by_kmip.get(attrs["algorithm"], attrs["algorithm"]), size=attrs["size"])
        return key

    def view(self, current):
        return current

    def mismatch(self, current):
        reasons = []
        if current["algorithm"] != self.params["algorithm"]:
            reasons.append("algorithm is %s, requested %s" % (current["algorithm"], self.params["algorithm"]))
        elif current["size"] != self.wanted_size:
            reasons.append("size is %s, requested %s" % (current["size"], self.wanted_size))
        return reasons + self.key_mismatch(current)

    def predicted(self, current):
        return dict(self.predicted_key(), type="symmetric", algorithm=self.params["algorithm"], size=self.wanted_size)

    def build_create_operation(self):
        return ops.create_symmetric_key(
            ALGORITHMS[self.params["algorithm"]], self.wanted_size, self.name, self.params["tags"] or (),
            self.params["activate"], exportable=bool(self.params["exportable"]))

    def create(self):
        self.kms.call(self.create_operation())
        return self.read()

    def reads_after_create(self, created):
        return [self.read_operation()] if created is not None else []

    def export(self, current):
        """The key's raw bytes into ``key_path`` (checked exportable first)."""
        path = self.params["key_path"]
        if not path or current["state"] not in ops.ACTIVE_STATES:
            return
        self.check_can_export(current)
        key = self.kms.call(ops.get_symmetric_key(self.name), entity_type=self.entity_type)["key"]
        if write_secret_file(self.kms, path, key, "key_path"):
            self.changes.append("key file written")
