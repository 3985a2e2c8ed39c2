#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_keypair
short_description: Manage RSA, EC, Ed25519 and Ed448 key pairs held in a Cosmian KMS
version_added: 0.1.0
description:
  - Creates, revokes and destroys RSA, EC (P-256, P-384, P-521, secp256k1), Ed25519 and Ed448 key pairs
    inside a Cosmian KMS over KMIP 2.1.
  - The private key never leaves the KMS, unless the pair is created with O(exportable=true) and the task asks
    for it with O(private_key_path).
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
  - pkimanager.kms.key
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
      - Required unless O(pairs) is given.
    type: str
  pairs:
    description:
      - Several pairs in one task, each a dictionary of this module's options (O(name) required, any
        other option except the connection, audit and file options). An option an item does not set
        takes the task's value.
      - Reads and creates are sent in batches (one KMIP request for many pairs), so a long list costs a
        few round trips instead of one task per pair.
      - Each pair's result is in RV(results). An item that fails does not stop the others; the task then
        fails naming each failed item.
      - Mutually exclusive with O(name).
    type: list
    elements: dict
    version_added: 0.2.0
  state:
    description:
      - V(present) creates the pair when it is missing.
      - V(revoked) revokes the pair (private and public key) with O(revocation_reason); the pair stays
        in the KMS for audit.
      - V(absent) revokes the pair if it is active, then destroys both keys and removes them.
    type: str
    choices: [present, revoked, absent]
    default: present
  type:
    description:
      - Type of the pair. V(rsa) signs and encrypts; V(ec) (ECDSA), V(ed25519) and V(ed448) sign.
      - A pair of this name and another type is a mismatch (see O(regenerate)).
    type: str
    choices: [rsa, ec, ed25519, ed448]
    default: rsa
    version_added: 0.2.0
  size:
    description:
      - RSA modulus size in bits, only with O(type=rsa); V(3072) when not set.
    type: int
    choices: [2048, 3072, 4096]
  curve:
    description:
      - Curve of an EC pair; required with O(type=ec) and only used with it.
    type: str
    choices: [P-256, P-384, P-521, secp256k1]
    version_added: 0.2.0
  private_key_path:
    description:
      - Write the private key (PKCS#8 PEM) to this file, for a host that needs it (such as a TLS server).
      - The pair must be exportable (O(exportable=true) when it is created); asking for a non-exportable
        pair's private key fails before any file is written.
      - The file gets mode V(0600) unless O(mode) says otherwise, and is rewritten only when it does not
        hold this pair's private key (with this O(private_key_passphrase)).
      - Needs the Python library cryptography on the managed node.
    type: path
    version_added: 0.2.0
  private_key_passphrase:
    description:
      - Encrypt the private key file with this passphrase (PKCS#8 with the best available encryption).
    type: str
    version_added: 0.2.0
  regenerate:
    description:
      - What to do when a pair of this name exists but does not match O(type), O(size), O(curve), O(tags) or
        O(exportable), or is revoked.
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

- name: An EC P-384 pair for a CA, and an Ed25519 pair
  pkimanager.kms.kms_keypair:
    name: "{{ item.name }}"
    type: "{{ item.type }}"
    curve: "{{ item.curve | default(omit) }}"
  loop:
    - {name: root-ca, type: ec, curve: P-384}
    - {name: ssh-signing, type: ed25519}

- name: A TLS server key that leaves the KMS on purpose
  pkimanager.kms.kms_keypair:
    name: www-tls
    type: ec
    curve: P-256
    exportable: true
    private_key_path: /etc/pki/private/www.key
    private_key_passphrase: "{{ vault_www_key_passphrase }}"

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
results:
  description:
    - With O(pairs), one result per item, in the order given, each with the return values below (and
      C(failed) and C(msg) for an item that failed).
  returned: when O(pairs) is given
  type: list
  elements: dict
  version_added: 0.2.0
name:
  description: Name of the pair.
  returned: always
  type: str
  sample: web-signing
id:
  description: Unique identifier of the pair in the KMS (its private key's, the name).
  returned: always
  type: str
  sample: web-signing
  version_added: 0.2.0
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
type:
  description: Type of the pair (V(rsa), V(ec), V(ed25519), V(ed448)).
  returned: when the pair exists after the run
  type: str
  sample: rsa
  version_added: 0.2.0
size:
  description: Key size in bits (the RSA modulus, or the EC curve's size); null for Ed25519 and Ed448.
  returned: when the pair exists after the run
  type: int
  sample: 3072
curve:
  description: Curve of an EC pair (V(P-256), V(P-384), V(P-521), V(secp256k1)); null for other types.
  returned: when the pair exists after the run
  type: str
  sample: P-384
  version_added: 0.2.0
exportable:
  description:
    - Whether the KMS lets the private key be exported; null when the KMS does not say.
  returned: when the pair exists after the run
  type: bool
  sample: false
  version_added: 0.2.0
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
  description:
    - What the run changed (or would change in check mode), among V(created), V(replaced), V(activated),
      V(revoked), V(destroyed), V(public key file written) and V(private key file written).
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

from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once  # noqa: F401  pylint: disable=unused-import  # first: see its doc
from ansible_collections.pkimanager.kms.plugins.module_utils.bulk import run_lifecycle_module
from ansible_collections.pkimanager.kms.plugins.module_utils.key_specs import KEY_TYPES, RSA_SIZES
from ansible_collections.pkimanager.kms.plugins.module_utils.keypair import PAIR_CURVES, KeyPair
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import LifecycleOptions


def main():
    run_lifecycle_module(
        KeyPair,
        dict(
            LifecycleOptions.argument_spec(regenerate="fail"),
            type=dict(type="str", default="rsa", choices=list(KEY_TYPES)),
            size=dict(type="int", choices=list(RSA_SIZES)),
            curve=dict(type="str", choices=list(PAIR_CURVES)),
            tags=dict(type="list", elements="str"),
            purge_tags=dict(type="bool", default=True),
            activate=dict(type="bool", default=True),
            exportable=dict(type="bool"),
            public_key_path=dict(type="path"),
            private_key_path=dict(type="path"),
            private_key_passphrase=dict(type="str", no_log=True),
        ),
        "pairs",
        supports_check_mode=True,
        add_file_common_args=True,
    )


if __name__ == "__main__":
    main()
