#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_key_info
short_description: List the keys held in a Cosmian KMS, with their type, size, state, tags and dates
version_added: 0.2.0
description:
  - Reports the keys of a Cosmian KMS over KMIP 2.1 - one key by O(name), the keys carrying
    O(tags), the keys of a O(type), O(size) or O(state), or every key - with what an inventory
    or a compliance job reads (for example every RSA-2048 key still active).
  - Keys are private keys and symmetric keys. A key pair is one entry, under its private key's
    id (the name M(pkimanager.kms.kms_keypair) gives it); its public key is not an entry of its
    own but shows as RV(kms_keys[].public_key_id) and RV(kms_keys[].fingerprint_sha256). Certificates
    are not listed.
  - All filters given must hold. Tags, the object type and the state are filtered by the KMS
    (KMIP Locate); the key type and size on the attributes of the keys found.
  - It reads attributes only, and the public key of a pair to compute its fingerprint; it never
    reads a private or symmetric key's material.
  - The KMS lists only the keys the connecting user owns (or that are shared with it).
  - Every KMS call is written to the audit trail (see O(audit_log)).
author:
  - pkimanager maintainers (@pkimanager)
extends_documentation_fragment:
  - pkimanager.kms.connection
  - pkimanager.kms.audit
  - pkimanager.kms.audit.context
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode, and never reports a change.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  name:
    description:
      - Only the key with this unique identifier (a key pair's name, which is its private key's id).
      - The id of a public key or of a certificate matches nothing; a name that does not exist
        gives an empty RV(kms_keys).
    type: str
  tags:
    description:
      - Only keys that carry every one of these tags (they may have more).
      - Tags must not be empty or start with V(_) (reserved by the KMS).
    type: list
    elements: str
  type:
    description:
      - Only keys of this type. V(rsa), V(ec), V(ed25519) and V(ed448) are key pairs,
        V(symmetric) are symmetric keys (AES, ChaCha20).
    type: str
    choices: [rsa, ec, ed25519, ed448, symmetric]
  size:
    description:
      - Only keys of this size in bits - the RSA modulus, the EC curve's size (V(256) for P-256),
        or a symmetric key's length. Edwards keys have no size.
    type: int
  state:
    description:
      - Only keys in this KMIP state.
      - Without it, every key that is not destroyed is listed; V(Destroyed) and
        V(Destroyed_Compromised) list destroyed keys the KMS still remembers.
    type: str
    choices: [PreActive, Active, Deactivated, Compromised, Destroyed, Destroyed_Compromised]
notes:
  - One KMS call lists the candidates per object type (Locate), then each key's attributes are read
    (GetAttributes), and the public key of each live pair (Get); each call is one audit record.
seealso:
  - module: pkimanager.kms.kms_keypair
  - module: pkimanager.kms.kms_audit
"""

EXAMPLES = r"""
- name: Every RSA-2048 key still active (compliance)
  pkimanager.kms.kms_key_info:
    kms_url: http://127.0.0.1:9998
    type: rsa
    size: 2048
    state: Active
  register: weak

- name: Fail when any is left
  ansible.builtin.assert:
    that: weak.kms_keys | length == 0
    fail_msg: "RSA-2048 keys to rotate: {{ weak.kms_keys | map(attribute='id') | join(', ') }}"

- name: One key pair by name
  pkimanager.kms.kms_key_info:
    name: web-signing
  register: web

- name: Its fingerprint
  ansible.builtin.debug:
    msg: "{{ web.kms_keys[0].fingerprint_sha256 if web.kms_keys else 'no such key' }}"

- name: Daily inventory of every key
  pkimanager.kms.kms_key_info:
  register: inventory

- name: Keys of the web team
  pkimanager.kms.kms_key_info:
    tags: [web]
"""

RETURN = r"""
kms_keys:
  description:
    - The keys selected, sorted by id; empty when none is.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Unique identifier of the key (of the private key for a pair).
      type: str
      sample: web-signing
    name:
      description: Name of the key, which is its id.
      type: str
      sample: web-signing
    object_type:
      description: KMIP object type, V(PrivateKey) (a key pair) or V(SymmetricKey).
      type: str
      sample: PrivateKey
    type:
      description: Key type, V(rsa), V(ec), V(ed25519), V(ed448) or V(symmetric); null when the KMS
        holds a kind of key this collection does not know.
      type: str
      sample: rsa
    size:
      description: Size in bits (RSA modulus, EC curve size, symmetric length); null for Edwards keys.
      type: int
      sample: 2048
    curve:
      description: Curve of an EC key (V(P-256), V(P-384), V(P-521), V(P-224), V(secp256k1)); null otherwise.
      type: str
      sample: null
    state:
      description: KMIP state (V(PreActive), V(Active), V(Deactivated), V(Compromised), V(Destroyed), ...).
      type: str
      sample: Active
    tags:
      description: Tags of the key, sorted (without the KMS's own tags starting with V(_)).
      type: list
      elements: str
      sample: [signing, web]
    exportable:
      description: Whether the KMS would hand out the key's material (neither Sensitive nor non-Extractable);
        null when the KMS does not say.
      type: bool
      sample: false
    activation_date:
      description: Activation date, ISO 8601 UTC; null when the key was never activated.
      type: str
      sample: "2026-11-28T12:00:00Z"
    initial_date:
      description: Creation date, ISO 8601 UTC.
      type: str
      sample: "2026-11-28T12:00:00Z"
    deactivation_date:
      description: Date the key was revoked, ISO 8601 UTC; null while it is not.
      type: str
      sample: null
    public_key_id:
      description: Unique identifier of the pair's public key; null for a symmetric key.
      type: str
      sample: web-signing_pk
    fingerprint_sha256:
      description: SHA-256 of the public key's DER SubjectPublicKeyInfo, colon-separated hex; null for a
        symmetric key and for a pair that is revoked or destroyed.
      type: str
      sample: "3A:5F:...:C2"
"""

from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once  # noqa: F401  pylint: disable=unused-import  # first: see its doc
from ansible_collections.pkimanager.kms.plugins.module_utils.key_info import KeyInfo, argument_spec, validate
from ansible_collections.pkimanager.kms.plugins.module_utils.kms_module import KmsModule


def main():
    module = KmsModule(argument_spec=argument_spec(), validate=validate, supports_check_mode=True)
    module.exit_with(KeyInfo(module, module.params).run)


if __name__ == "__main__":
    main()
