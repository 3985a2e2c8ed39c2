# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Revocation options of the modules that revoke KMS objects."""

    DOCUMENTATION = r"""
options:
  revocation_reason:
    description:
      - KMIP revocation reason used whenever the module revokes (O(state=revoked), O(state=absent),
        or a replacement of the object).
      - V(KeyCompromise) puts the object in the Compromised state, the others in Deactivated.
    type: str
    choices: [Unspecified, KeyCompromise, CACompromise, AffiliationChanged, Superseded, CessationOfOperation, PrivilegeWithdrawn]
    default: CessationOfOperation
  revocation_message:
    description:
      - Free text stored with the revocation.
    type: str
"""
