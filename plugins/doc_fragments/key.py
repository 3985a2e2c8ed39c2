# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the modules that manage keys (module_utils/keys.py): tags, activation, exportability."""

    DOCUMENTATION = r"""
options:
  tags:
    description:
      - Tags of the key (Cosmian tags, searchable with C(ckms) and KMIP Locate).
      - Tags must not be empty or start with V(_) (reserved by the KMS).
      - Cosmian KMS sets tags when an object is created and cannot change them later, so a key
        whose tags differ is handled like any other mismatch, according to O(regenerate).
      - When not set, the key's tags are left as they are.
    type: list
    elements: str
  purge_tags:
    description:
      - When V(true), tags of the existing key that are not in O(tags) count as a mismatch.
      - When V(false), the key matches as long as it has every tag in O(tags).
    type: bool
    default: true
  activate:
    description:
      - Create the key Active (and activate a PreActive key). Encrypt, Certify and Sign need Active keys.
      - When V(false), a new key is created PreActive.
    type: bool
    default: true
  exportable:
    description:
      - Whether the KMS lets the secret (private or symmetric) key be exported (Cosmian's C(Sensitive)
        attribute, set at creation; the KMS cannot change it).
      - When not set, a new key is created non-exportable, and the exportability of an existing key is not
        compared (keys made by version 0.1.0 are exportable; RV(exportable) says what a key is).
      - When set and different from an existing key's, it is a mismatch (see O(regenerate)).
    type: bool
    version_added: 0.2.0
"""
