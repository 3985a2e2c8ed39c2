#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_keypair
short_description: Manage RSA key pairs held in a Cosmian KMS
version_added: 0.1.0
description:
  - Creates, revokes and destroys RSA key pairs inside a Cosmian KMS over KMIP 2.1. The private
    key never leaves the KMS.
  - O(name) is the stable handle of the pair; it is used as the private key's unique identifier,
    so the KMS itself refuses a second pair of the same name and concurrent runs end with one pair.
  - Every KMS call is written to the audit trail (see O(audit_log)).
author:
  - pkimanager maintainers (@pkimanager)
extends_documentation_fragment:
  - pkimanager.kms.connection
  - pkimanager.kms.audit
  - pkimanager.kms.audit.context
  - pkimanager.kms.revocation
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Predicts exactly what a real run does and changes nothing on the KMS.
  diff_mode:
    support: full
    description: Shows the pair's state, size, tags and public key fingerprint before and after; never key material.
options:
  name:
    description:
      - Stable name of the key pair, used as the unique identifier of the private key.
      - 1 to 128 characters from V(A-Z), V(a-z), V(0-9), V(.), V(_), V(-), V(:) and V(@),
        starting with a letter or a digit.
    type: str
    required: true
  state:
    description:
      - V(present) creates the pair when it is missing.
      - V(revoked) revokes the pair (private and public key) with O(revocation_reason); the pair stays
        in the KMS for audit.
      - V(absent) revokes the pair if it is active, then destroys both keys and removes them.
    type: str
    choices: [present, revoked, absent]
    default: present
  size:
    description:
      - RSA modulus size in bits.
    type: int
    choices: [2048, 3072, 4096]
    default: 3072
  tags:
    description:
      - Tags of the pair (Cosmian tags, searchable with C(ckms) and KMIP Locate).
      - Tags must not be empty or start with V(_) (reserved by the KMS).
      - Cosmian KMS sets tags when an object is created and cannot change them later, so a pair
        whose tags differ is handled like any other mismatch, according to O(regenerate).
      - When not set, the pair's tags are left as they are.
    type: list
    elements: str
  purge_tags:
    description:
      - When V(true), tags of the existing pair that are not in O(tags) count as a mismatch.
      - When V(false), the pair matches as long as it has every tag in O(tags).
    type: bool
    default: true
  activate:
    description:
      - Create the keys Active (and activate a PreActive pair). Certify and Sign need Active keys.
      - When V(false), new keys are created PreActive.
    type: bool
    default: true
  regenerate:
    description:
      - What to do when a pair of this name exists but does not match O(size) or O(tags), or is revoked.
      - V(never) leaves it as it is and reports the mismatch in RV(mismatch).
      - V(fail) fails with a message saying what differs.
      - V(mismatch) replaces it with a new pair of the same name (the old one is revoked and destroyed).
      - V(always) replaces the pair on every run (key rotation).
    type: str
    choices: [never, fail, mismatch, always]
    default: fail
  public_key_path:
    description:
      - Write the public key (PEM SubjectPublicKeyInfo) to this file. An unchanged file is not rewritten.
      - File attributes such as O(mode) apply to it.
      - Its folder must exist and be writable; this is checked before any KMS call. Should the
        write fail all the same, the task fails with the ids of the pair and whether the KMS changed.
    type: path
notes:
  - Rotation (O(regenerate=always) or a replacement) revokes and destroys the old pair and creates
    a new one under the same name. The server's ReKeyKeyPair is not used for it, because Cosmian KMS
    gives the new pair a new identifier, and the name must stay the private key's identifier.
seealso:
  - module: pkimanager.kms.kms_certificate
  - module: pkimanager.kms.kms_audit
"""

EXAMPLES = r"""
- name: Ensure an RSA-3072 key pair named web-signing exists
  pkimanager.kms.kms_keypair:
    kms_url: http://127.0.0.1:9998
    name: web-signing
    tags: [web, signing]

- name: Create a 4096-bit pair and write its public key
  pkimanager.kms.kms_keypair:
    name: root-ca
    size: 4096
    public_key_path: /etc/pki/root-ca.pub.pem
    mode: "0644"

- name: Connection options once for every module of the collection
  module_defaults:
    group/pkimanager.kms.kms:
      kms_url: "{{ kms_url }}"
      api_key: "{{ vault_kms_api_key }}"
  block:
    - name: Rotate a pair on every run
      pkimanager.kms.kms_keypair:
        name: session-signing
        regenerate: always

- name: Revoke a compromised pair (kept for audit)
  pkimanager.kms.kms_keypair:
    name: web-signing
    state: revoked
    revocation_reason: KeyCompromise
    revocation_message: laptop lost

- name: Remove a pair entirely
  pkimanager.kms.kms_keypair:
    name: web-signing
    state: absent
"""

RETURN = r"""
name:
  description: Name of the pair.
  returned: always
  type: str
  sample: web-signing
private_key_id:
  description: Unique identifier of the private key (the name).
  returned: when the pair exists after the run
  type: str
  sample: web-signing
public_key_id:
  description: Unique identifier of the public key, chosen by the KMS.
  returned: when the pair exists after the run
  type: str
  sample: web-signing_pk
size:
  description: RSA modulus size in bits.
  returned: when the pair exists after the run
  type: int
  sample: 3072
state:
  description: KMIP state of the private key (V(Active), V(PreActive), V(Deactivated), V(Compromised)), or V(absent).
  returned: always
  type: str
  sample: Active
tags:
  description: Tags of the pair.
  returned: when the pair exists after the run
  type: list
  elements: str
  sample: [signing, web]
public_key_pem:
  description: The public key, PEM SubjectPublicKeyInfo.
  returned: when the pair exists and is readable (not revoked)
  type: str
fingerprint_sha256:
  description: SHA-256 of the DER SubjectPublicKeyInfo, colon-separated hex.
  returned: when RV(public_key_pem) is returned
  type: str
activation_date:
  description: Activation date of the private key, ISO 8601 UTC.
  returned: when the pair is or was active
  type: str
  sample: "2026-11-28T12:00:00Z"
changes:
  description: What the run changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: [created]
mismatch:
  description: Why the existing pair does not match the options (empty when it does).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.files import destination_problems, write_text_file
from ansible_collections.pkimanager.kms.plugins.module_utils.kms_module import KmsModule, revocation_argument_spec
from ansible_collections.pkimanager.kms.plugins.module_utils.operations import ACTIVE_STATES, REVOKED_STATES
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import fingerprint_sha256


def validate(params):
    problems = [problem for problem in [ops.object_name_problem(params["name"])] if problem]
    for tag in params["tags"] or []:
        if not tag or tag.startswith("_"):
            problems.append("tags must be non-empty and must not start with '_' (reserved by the KMS), got %r" % tag)
    if params["revocation_message"] and params["state"] == "present" and params["regenerate"] in ("never", "fail"):
        problems.append("revocation_message is only used with state=revoked, state=absent or a regenerate "
                        "that replaces the pair")
    if params["state"] != "absent":
        problems += destination_problems(params, ["public_key_path"])
    return problems


class KeyPairManager:
    """Reads the pair of one name and brings it to the requested state."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = self.params["name"]
        self.changes = []
        module.outcome.update(name=self.name, changes=self.changes)

    # -- reading -----------------------------------------------------------------------

    def read(self):
        """The pair as plain data, or None when no object has this name."""
        attrs = self.module.call_or_none(ops.get_attributes(self.name), entity_type="private_key")
        if attrs is None:
            return None
        if attrs["object_type"] != "PrivateKey":
            self.module.fail_json(msg="The KMS object %r is a %s, not a key pair's private key; choose another name"
                                  % (self.name, attrs["object_type"]))
        if attrs["state"] in ops.DESTROYED_STATES:
            return None
        pair = {"private_key_id": self.name, "public_key_id": attrs["links"].get("PublicKeyLink"),
                "size": attrs["length"], "state": attrs["state"], "tags": attrs["tags"],
                "activation_date": ops.iso_utc(attrs["activation_date"])}
        if pair["public_key_id"] and attrs["state"] in ACTIVE_STATES:
            key = self.module.call(ops.get_public_key(pair["public_key_id"]), entity_type="public_key")
            pair["public_key_pem"] = key["pem"]
            pair["fingerprint_sha256"] = fingerprint_sha256(key["der"])
        return pair

    def mismatch(self, pair):
        """Reasons the existing pair does not satisfy the options."""
        reasons = []
        if pair["size"] != self.params["size"]:
            reasons.append("size is %s, requested %s" % (pair["size"], self.params["size"]))
        wanted = self.params["tags"]
        if wanted is not None:
            have, want = set(pair["tags"]), set(wanted)
            if not want <= have or (self.params["purge_tags"] and have != want):
                reasons.append("tags are %s, requested %s (the KMS cannot change tags of an existing object)"
                               % (sorted(have), sorted(want)))
        if pair["state"] in REVOKED_STATES:
            reasons.append("the pair is revoked (%s)" % pair["state"])
        return reasons

    # -- changing ----------------------------------------------------------------------

    def create(self):
        self.changes.append("created")
        return self.predicted() if self.module.check_mode else self._create()

    def _create(self):
        """Create by name. Losing a race to a concurrent run is not an error: the KMS
        refuses the second pair of a name (Object_Already_Exists, to a request sent once),
        and we report the winner's pair, not created by us.

        A retried create refused the same way because our own earlier attempt made the pair
        (its answer lost) is settled by the client and returns normally: created by us.
        """
        operation = ops.create_key_pair(self.params["size"], self.name, self.params["tags"] or (),
                                        self.params["activate"])
        try:
            ids = self.module.call_raising(operation, entity_type="key_pair")
        except KmsError as error:
            existing = self.read() if error.reason == "Object_Already_Exists" else None
            if existing is None:
                self.module.fail_kms(error)
            # Not ours: a creation is undone from the changes; a replacement still destroyed the old pair.
            self.changes[:] = ["destroyed" if c == "replaced" else c for c in self.changes if c != "created"]
            return existing
        self.module.outcome.update(ids)
        return self.read()

    def replace(self, pair):
        """A new pair under the same name; the old one is revoked and removed first."""
        self.changes.append("replaced")
        if self.module.check_mode:
            return self.predicted()
        if pair["state"] == "Active":
            self.module.call(ops.revoke(self.name, self.params["revocation_reason"],
                                        self.params["revocation_message"], cascade=True), entity_type="key_pair")
        self.module.call(ops.destroy(self.name, cascade=True, remove=True), entity_type="key_pair")
        return self._create()

    def predicted(self):
        """What check mode reports for a pair it would create."""
        return {"private_key_id": self.name, "public_key_id": None, "size": self.params["size"],
                "state": "Active" if self.params["activate"] else "PreActive",
                "tags": sorted(self.params["tags"] or []), "activation_date": None}

    def revoke(self, pair):
        if pair["state"] in REVOKED_STATES:
            return pair
        self.changes.append("revoked")
        if not self.module.check_mode:
            self.module.call(ops.revoke(self.name, self.params["revocation_reason"],
                                        self.params["revocation_message"], cascade=True), entity_type="key_pair")
            return self.read()
        return dict(pair, state="Compromised" if self.params["revocation_reason"] == "KeyCompromise" else "Deactivated")

    def destroy(self, pair):
        if pair["state"] == "Active":
            self.revoke(pair)
        self.changes.append("destroyed")
        if not self.module.check_mode:
            self.module.call(ops.destroy(self.name, cascade=True, remove=True), entity_type="key_pair")

    def activate(self, pair):
        self.changes.append("activated")
        if self.module.check_mode:
            return dict(pair, state="Active")
        for object_id in (pair["private_key_id"], pair["public_key_id"]):
            if object_id:
                self.module.call(ops.activate(object_id), entity_type="key_pair")
        return self.read()

    # -- the state machine -------------------------------------------------------------

    def run(self):
        before = self.read()
        state = self.params["state"]
        mismatch = self.mismatch(before) if before else []
        after = before
        if state == "absent":
            if before:
                self.destroy(before)
            after = None
        elif state == "revoked":
            if before is None:
                self.module.fail_json(msg="There is no key pair named %r to revoke" % self.name, changed=False)
            after = self.revoke(before)
        elif before is None:
            after = self.create()
        else:
            regenerate = self.params["regenerate"]
            if regenerate == "always" or (mismatch and regenerate == "mismatch"):
                after = self.replace(before)
            elif mismatch and regenerate == "fail":
                self.module.fail_json(msg="Key pair %r exists but does not match: %s. Set regenerate=mismatch to "
                                      "replace it, or regenerate=never to keep it." % (self.name, "; ".join(mismatch)),
                                      mismatch=mismatch, changed=False)
            elif self.params["activate"] and before["state"] == "PreActive":
                after = self.activate(before)
        return self.finish(before, after, mismatch)

    def finish(self, before, after, mismatch):
        """The module result; writes the public key file (a failure to write it still reports the pair)."""
        result = {"name": self.name, "changed": bool(self.changes), "changes": self.changes,
                  "mismatch": mismatch if after is before else [], "state": "absent"}
        if after:
            result.update(after)
            self.module.outcome.update((k, after[k]) for k in ("private_key_id", "public_key_id", "state")
                                       if after.get(k))
        path = self.params["public_key_path"]
        if path and after and after.get("public_key_pem"):
            if write_text_file(self.module, path, after["public_key_pem"], option="public_key_path"):
                self.changes.append("public key file written")
                result["changed"] = True
        if self.module._diff:
            result["diff"] = {"before": _diff_view(before), "after": _diff_view(after)}
        return result


def _diff_view(pair):
    if not pair:
        return {"state": "absent"}
    return dict((k, pair.get(k)) for k in ("private_key_id", "public_key_id", "size", "state", "tags",
                                           "fingerprint_sha256"))


def main():
    module = KmsModule(
        argument_spec=dict(
            revocation_argument_spec(),
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "revoked", "absent"]),
            size=dict(type="int", default=3072, choices=list(ops.RSA_SIZES)),
            tags=dict(type="list", elements="str"),
            purge_tags=dict(type="bool", default=True),
            activate=dict(type="bool", default=True),
            regenerate=dict(type="str", default="fail", choices=["never", "fail", "mismatch", "always"]),
            public_key_path=dict(type="path"),
        ),
        validate=validate,
        supports_check_mode=True,
        add_file_common_args=True,
    )
    module.exit_with(KeyPairManager(module).run)


if __name__ == "__main__":
    main()
