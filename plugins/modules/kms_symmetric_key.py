#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_symmetric_key
short_description: Manage AES and ChaCha20 keys held in a Cosmian KMS
version_added: 0.2.0
description:
  - Creates, revokes and destroys symmetric keys (AES 128, 192 or 256 bits, ChaCha20 256 bits) inside a
    Cosmian KMS over KMIP 2.1, for encryption and key wrapping done by the KMS.
  - O(name) is the stable handle of the key; it is used as its unique identifier, so the KMS itself
    refuses a second key of the same name.
  - The key never leaves the KMS, unless it is created with O(exportable=true) and the task asks for it
    with O(key_path).
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
    description: Shows the key's algorithm, size, state, tags and exportability before and after; never key material.
options:
  name:
    description:
      - Stable name of the key, used as its unique identifier.
      - 1 to 128 characters from V(A-Z), V(a-z), V(0-9), V(.), V(_), V(-), V(:) and V(@),
        starting with a letter or a digit.
      - Required unless O(keys) is given.
    type: str
  keys:
    description:
      - Several keys in one task, each a dictionary of this module's options (O(name) required, any
        other option except the connection, audit and file options). An option an item does not set
        takes the task's value.
      - Reads and creates are sent in batches (one KMIP request for many keys), so a long list costs a
        few round trips instead of one task per key.
      - Each key's result is in RV(results). An item that fails does not stop the others; the task then
        fails naming each failed item.
      - Mutually exclusive with O(name).
    type: list
    elements: dict
    version_added: 0.2.0
  state:
    description:
      - V(present) creates the key when it is missing.
      - V(revoked) revokes it with O(revocation_reason); it stays in the KMS for audit (and to decrypt
        what it encrypted, where the KMS allows).
      - V(absent) revokes the key if it is active, then destroys and removes it.
    type: str
    choices: [present, revoked, absent]
    default: present
  algorithm:
    description:
      - The cipher the key is for.
    type: str
    choices: [aes, chacha20]
    default: aes
  size:
    description:
      - Key size in bits; V(128), V(192) or V(256) for AES, V(256) for ChaCha20. V(256) when not set.
    type: int
    choices: [128, 192, 256]
  regenerate:
    description:
      - What to do when a key of this name exists but does not match O(algorithm), O(size), O(tags) or
        O(exportable), or is revoked.
      - V(never) leaves it as it is and reports the mismatch in RV(mismatch).
      - V(fail) fails with a message saying what differs.
      - V(mismatch) replaces it with a new key of the same name (the old one is revoked and destroyed, and
        what it encrypted cannot be decrypted any more).
      - V(always) replaces the key on every run.
    type: str
    choices: [never, fail, mismatch, always]
    default: fail
  key_path:
    description:
      - Write the key's raw bytes to this file. The key must be exportable (O(exportable=true) when it is
        created); asking for a non-exportable key fails before any file is written.
      - The file gets mode V(0600) unless O(mode) says otherwise, and is rewritten only when its content
        differs.
      - Its folder must exist and be writable; this is checked before any KMS call.
    type: path
seealso:
  - module: pkimanager.kms.kms_keypair
  - module: pkimanager.kms.kms_key_info
"""

EXAMPLES = r"""
- name: Ensure an AES-256 key for the backup service
  pkimanager.kms.kms_symmetric_key:
    kms_url: http://127.0.0.1:9998
    name: backup-dek
    tags: [backup]

- name: A ChaCha20 key that an application may read once
  pkimanager.kms.kms_symmetric_key:
    name: app-session-key
    algorithm: chacha20
    exportable: true
    key_path: /etc/app/session.key
    owner: app
    mode: "0400"

- name: Remove a key
  pkimanager.kms.kms_symmetric_key:
    name: backup-dek
    state: absent
"""

RETURN = r"""
results:
  description:
    - With O(keys), one result per item, in the order given, each with the return values below (and
      C(failed) and C(msg) for an item that failed).
  returned: when O(keys) is given
  type: list
  elements: dict
  version_added: 0.2.0
name:
  description: Name of the key.
  returned: always
  type: str
  sample: backup-dek
id:
  description: Unique identifier of the key in the KMS (the name).
  returned: always
  type: str
  sample: backup-dek
state:
  description: KMIP state of the key (V(Active), V(PreActive), V(Deactivated), V(Compromised)), or V(absent).
  returned: always
  type: str
  sample: Active
type:
  description: Always V(symmetric).
  returned: when the key exists after the run
  type: str
  sample: symmetric
algorithm:
  description: V(aes) or V(chacha20).
  returned: when the key exists after the run
  type: str
  sample: aes
size:
  description: Key size in bits.
  returned: when the key exists after the run
  type: int
  sample: 256
tags:
  description: Tags of the key.
  returned: when the key exists after the run
  type: list
  elements: str
exportable:
  description: Whether the KMS lets the key be exported; null when the KMS does not say.
  returned: when the key exists after the run
  type: bool
activation_date:
  description: Activation date, ISO 8601 UTC.
  returned: when the key is or was active
  type: str
changes:
  description:
    - What the run changed (or would change in check mode), among V(created), V(replaced), V(activated),
      V(revoked), V(destroyed) and V(key file written).
  returned: always
  type: list
  elements: str
  sample: [created]
mismatch:
  description: Why the existing key does not match the options (empty when it does, or when it was replaced).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once  # noqa: F401  pylint: disable=unused-import  # first: see its doc
from ansible_collections.pkimanager.kms.plugins.module_utils.bulk import run_lifecycle_module
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import LifecycleOptions
from ansible_collections.pkimanager.kms.plugins.module_utils.symmetric_key import ALGORITHMS, SymmetricKey


def main():
    run_lifecycle_module(
        SymmetricKey,
        dict(
            LifecycleOptions.argument_spec(regenerate="fail"),
            algorithm=dict(type="str", default="aes", choices=list(ALGORITHMS)),
            size=dict(type="int", choices=[128, 192, 256]),
            tags=dict(type="list", elements="str"),
            purge_tags=dict(type="bool", default=True),
            activate=dict(type="bool", default=True),
            exportable=dict(type="bool"),
            key_path=dict(type="path"),
        ),
        "keys",
        supports_check_mode=True,
        add_file_common_args=True,
    )


if __name__ == "__main__":
    main()
