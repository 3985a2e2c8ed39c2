#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_crl
short_description: Write the CRL of a CA held in a Cosmian KMS to a file, refreshed only when needed
version_added: 0.2.0
description:
  - Has the KMS sign the certificate revocation list (X.509 v2 CRL) of the CA certificate O(issuer)
    and writes it to O(dest), in PEM or DER.
  - The CRL carries the Authority Key Identifier of the CA and a CRL number, an entry (serial, revocation
    date, reason) per certificate the CA issued that was revoked (for example by
    M(pkimanager.kms.kms_certificate) with O(pkimanager.kms.kms_certificate#module:state=revoked)),
    and a nextUpdate O(validity_days) after its thisUpdate.
  - Every CRL is checked against the CA certificate (issuer name and signature) before it is used;
    one that does not verify fails the task.
  - O(dest) is rewritten only when its content is out of date - it holds no CRL of O(issuer) in O(format),
    its revoked certificates differ, or its nextUpdate is less than O(refresh_before_hours) away - so
    a scheduled run reports a change only when the published CRL must change.
  - The CA certificate needs the key usage C(cRLSign) (C(crlSign) in Cosmian's spelling; the CA
    default of M(pkimanager.kms.kms_certificate) has it).
  - Every KMS call is written to the audit trail (see O(audit_log)), the CRL requests as
    V(kms.crl_sign) and V(kms.crl_fetch).
author:
  - pkimanager maintainers (@pkimanager)
extends_documentation_fragment:
  - pkimanager.kms.connection
  - pkimanager.kms.audit
  - pkimanager.kms.audit.context
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description:
      - Nothing is signed or written. The file is compared with the last CRL the KMS stored for O(issuer)
        (its public CRL); when there is none yet, a change is predicted. A revocation made since that CRL
        was signed is not seen.
  diff_mode:
    support: none
    description: A CRL is binary; no diff is shown.
options:
  issuer:
    description:
      - Unique identifier of the CA certificate in the KMS (the O(pkimanager.kms.kms_certificate#module:name)
        it was created with). Its private key signs the CRL.
    type: str
    required: true
  dest:
    description:
      - File to write the CRL to. Its folder must exist.
      - The file is public; it gets the default mode unless O(mode) says otherwise.
    type: path
    required: true
  format:
    description: Encoding of O(dest), V(pem) (C(X509 CRL) block) or V(der).
    type: str
    choices: [pem, der]
    default: pem
  validity_days:
    description:
      - Days between the thisUpdate and nextUpdate of a CRL the KMS signs, from 1 to 3650.
    type: int
    default: 7
  refresh_before_hours:
    description:
      - A CRL in O(dest) whose nextUpdate is this many hours away or less is replaced even when
        its revoked certificates did not change. Must be shorter than O(validity_days).
    type: int
    default: 24
notes:
  - The KMS signs a new CRL (new CRL number) on every request, and keeps the last one as the CA's public CRL
    (C(GET /public/certificates/{issuer}/crl), no credentials). So each run outside check mode changes that
    public CRL, even when O(dest) is left as it is; the one in O(dest) stays valid until its nextUpdate.
  - The calls are a Get of the CA certificate (KMIP), then C(GET /certificates/{issuer}/crl) (the same
    credentials as KMIP), or in check mode C(GET /public/certificates/{issuer}/crl); each is one audit record.
seealso:
  - module: pkimanager.kms.kms_certificate
  - module: pkimanager.kms.kms_audit
"""

EXAMPLES = r"""
- name: Revoke a leaf
  pkimanager.kms.kms_certificate:
    name: www-2026
    state: revoked
    revocation_reason: KeyCompromise

- name: Publish the CRL of the issuing CA (rewritten only when needed)
  pkimanager.kms.kms_crl:
    kms_url: http://127.0.0.1:9998
    issuer: issuing-ca
    dest: /var/www/pki/issuing-ca.crl
    format: der
    validity_days: 7
    refresh_before_hours: 48
    mode: "0644"
  register: crl

- name: Say when the next refresh is due
  ansible.builtin.debug:
    msg: "CRL {{ crl.crl_number }} lists {{ crl.revoked_count }} certificates until {{ crl.next_update }}"
"""

RETURN = r"""
dest:
  description: The file written (or left as it was).
  returned: always
  type: str
  sample: /var/www/pki/issuing-ca.crl
issuer:
  description: The CA certificate's unique identifier.
  returned: always
  type: str
  sample: issuing-ca
crl_number:
  description:
    - CRL number of the CRL now in O(dest) (the new one when it changed, the one kept otherwise).
    - In check mode, when a change is predicted, that of the KMS's public CRL; null when it has none.
  returned: always
  type: int
  sample: 3
this_update:
  description: thisUpdate of that CRL, ISO 8601 UTC.
  returned: always
  type: str
  sample: "2026-12-02T16:00:00Z"
next_update:
  description: nextUpdate of that CRL, ISO 8601 UTC.
  returned: always
  type: str
  sample: "2026-12-09T16:00:00Z"
revoked_count:
  description: Number of entries (revoked certificates) of that CRL.
  returned: always
  type: int
  sample: 1
refresh_reason:
  description: Why O(dest) was (or in check mode would be) rewritten; null when it was left as it was.
  returned: always
  type: str
  sample: the revoked certificates differ
"""

from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once  # noqa: F401  pylint: disable=unused-import  # first: see its doc
from ansible_collections.pkimanager.kms.plugins.module_utils.crl import Crl, argument_spec, validate
from ansible_collections.pkimanager.kms.plugins.module_utils.kms_module import KmsModule


def main():
    module = KmsModule(argument_spec=argument_spec(), validate=validate, supports_check_mode=True,
                       add_file_common_args=True)
    module.exit_with(Crl(module, module.params).run)


if __name__ == "__main__":
    main()
