#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_certificate_info
short_description: List the X.509 certificates held in a Cosmian KMS, with their subject, validity and state
version_added: 0.2.0
description:
  - Reports the X.509 certificates of a Cosmian KMS over KMIP 2.1 - one certificate by O(name),
    the certificates carrying O(tags), those in a O(state), or every certificate - with what a
    daily job reads to report on or renew certificates across a fleet - subject, issuer, serial
    number, subject alternative names, validity dates, days left, key type, KMS state and
    whether the certificate is revoked.
  - O(expiring_within_days) keeps only the certificates that need renewal.
  - All filters given must hold. Tags and the state are filtered by the KMS (KMIP Locate);
    the expiry on the certificates read.
  - A revoked certificate cannot be read back from the KMS; it is reported from its attributes
    (RV(kms_certificates[].revoked) true, its state and dates) without the fields read from the
    X.509 certificate, which are null.
  - It reads attributes and certificates only; it never reads a private key.
  - The KMS lists only the certificates the connecting user owns (or that are shared with it).
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
      - Only the certificate with this unique identifier (the name M(pkimanager.kms.kms_certificate) gives it).
      - The id of a key matches nothing; a name that does not exist gives an empty RV(kms_certificates).
    type: str
  tags:
    description:
      - Only certificates that carry every one of these tags (they may have more).
      - Tags must not be empty or start with V(_) (reserved by the KMS).
    type: list
    elements: str
  state:
    description:
      - Only certificates in this KMIP state.
      - Without it, every certificate that is not destroyed is listed, revoked ones included;
        V(Destroyed) and V(Destroyed_Compromised) list destroyed certificates the KMS still remembers.
    type: str
    choices: [PreActive, Active, Deactivated, Compromised, Destroyed, Destroyed_Compromised]
  expiring_within_days:
    description:
      - Only the certificates to renew - those that are not revoked and whose notAfter is at most
        this many days from now (UTC), the ones already expired included.
      - V(0) lists the expired certificates only.
      - Revoked and destroyed certificates are never listed with it - they are out of service,
        and their validity cannot be read from the KMS.
      - Without it, the certificates are listed whatever their expiry.
    type: int
notes:
  - One KMS call lists the candidates (Locate), then each certificate's attributes are read
    (GetAttributes), and each live certificate itself (Get); each call is one audit record.
  - RV(kms_certificates[].days_left) is computed when the module runs on the managed node, from its clock.
seealso:
  - module: pkimanager.kms.kms_certificate
  - module: pkimanager.kms.kms_key_info
  - module: pkimanager.kms.kms_audit
"""

EXAMPLES = r"""
- name: Certificates that expire within 30 days (daily renewal job)
  pkimanager.kms.kms_certificate_info:
    kms_url: http://127.0.0.1:9998
    expiring_within_days: 30
  register: expiring

- name: Report them, soonest first
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.subject.CN | default('') }}) expires in {{ item.days_left }} days"
  loop: "{{ expiring.kms_certificates | sort(attribute='days_left') }}"

- name: Fail the job when any is left (renew them with pkimanager.kms.kms_certificate and renew_before_days)
  ansible.builtin.assert:
    that: expiring.kms_certificates | length == 0
    fail_msg: "To renew: {{ expiring.kms_certificates | map(attribute='name') | join(', ') }}"

- name: One certificate by name
  pkimanager.kms.kms_certificate_info:
    name: web-tls
  register: web

- name: Its expiry
  ansible.builtin.debug:
    msg: "{{ web.kms_certificates[0].not_after if web.kms_certificates else 'no such certificate' }}"

- name: Certificates of the web team
  pkimanager.kms.kms_certificate_info:
    tags: [web]

- name: Revoked certificates
  pkimanager.kms.kms_certificate_info:
  register: all_certificates

- name: Their names
  ansible.builtin.debug:
    msg: "{{ all_certificates.kms_certificates | selectattr('revoked') | map(attribute='name') | list }}"
"""

RETURN = r"""
kms_certificates:
  description:
    - The certificates selected, sorted by id; empty when none is.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Unique identifier of the certificate.
      type: str
      sample: web-tls
    name:
      description: Name of the certificate, which is its id.
      type: str
      sample: web-tls
    state:
      description: KMIP state (V(Active), V(Deactivated), V(Compromised), V(Destroyed), ...).
      type: str
      sample: Active
    revoked:
      description: Whether the certificate is out of service in the KMS - revoked (V(Deactivated),
        V(Compromised)), or destroyed since.
      type: bool
      sample: false
    tags:
      description: Tags of the certificate, sorted (without the KMS's own tags starting with V(_)).
      type: list
      elements: str
      sample: [web]
    subject:
      description: Subject; keys as in the O(pkimanager.kms.kms_certificate#module:subject) option
        of M(pkimanager.kms.kms_certificate), other attributes by dotted OID. Null for a revoked certificate.
      type: dict
      sample: {CN: www.example.com, O: Example}
    issuer:
      description: Issuer, as RV(kms_certificates[].subject). Null for a revoked certificate.
      type: dict
      sample: {CN: Example CA}
    serial_number:
      description: Serial number. Null for a revoked certificate.
      type: int
      sample: 1234567890
    subject_alt_names:
      description: Subject alternative names with their type prefix, sorted. Null for a revoked certificate.
      type: list
      elements: str
      sample: ["DNS:www.example.com", "IP:192.0.2.10"]
    not_before:
      description: Start of validity, ISO 8601 UTC. Null for a revoked certificate.
      type: str
      sample: "2026-11-28T12:00:00Z"
    not_after:
      description: End of validity, ISO 8601 UTC. Null for a revoked certificate.
      type: str
      sample: "2027-11-28T12:00:00Z"
    days_left:
      description: Whole days from now (UTC) to RV(kms_certificates[].not_after), rounded down; negative
        once expired. Null for a revoked certificate.
      type: int
      sample: 364
    expired:
      description: Whether RV(kms_certificates[].not_after) is past. Null for a revoked certificate.
      type: bool
      sample: false
    key_type:
      description: Type of the certified public key, V(rsa), V(ec), V(ed25519) or V(ed448). Null for a revoked certificate.
      type: str
      sample: rsa
    signature_algorithm:
      description: Algorithm the issuer signed with (for example V(sha256WithRSAEncryption)). Null for a revoked certificate.
      type: str
      sample: sha256WithRSAEncryption
    ca:
      description: Whether the certificate is a CA (basicConstraints CA:TRUE). Null for a revoked certificate.
      type: bool
      sample: false
    fingerprint_sha256:
      description: SHA-256 of the certificate's DER, colon-separated hex. Null for a revoked certificate.
      type: str
      sample: "3A:5F:...:C2"
    crl_distribution_points:
      description: URLs of the certificate's CRL distribution points extension; empty without one. Null for a revoked certificate.
      type: list
      elements: str
      sample: [http://pki.example.com/root-ca.crl]
    ocsp_responder_urls:
      description: OCSP responder URLs of its authority information access extension; empty without one. Null for a revoked certificate.
      type: list
      elements: str
      sample: [http://ocsp.example.com/]
    ca_issuers_urls:
      description: CA issuers URLs of its authority information access extension; empty without one. Null for a revoked certificate.
      type: list
      elements: str
      sample: [http://pki.example.com/root-ca.crt]
    public_key_id:
      description: Unique identifier of the certified public key in the KMS; null when it is not linked.
      type: str
      sample: web-tls-key_pk
    issuer_certificate_id:
      description: Unique identifier of the issuer's certificate in the KMS; null when it is not linked.
      type: str
      sample: example-ca
    activation_date:
      description: Activation date, ISO 8601 UTC; null when the certificate was never activated.
      type: str
      sample: "2026-11-28T12:00:00Z"
    initial_date:
      description: Date the certificate was stored in the KMS, ISO 8601 UTC.
      type: str
      sample: "2026-11-28T12:00:00Z"
    deactivation_date:
      description: Date the certificate was revoked, ISO 8601 UTC; null while it is not.
      type: str
      sample: null
"""

from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once  # noqa: F401  pylint: disable=unused-import  # first: see its doc
from ansible_collections.pkimanager.kms.plugins.module_utils.certificate_info import (
    CertificateInfo, argument_spec, validate)
from ansible_collections.pkimanager.kms.plugins.module_utils.kms_module import KmsModule


def main():
    module = KmsModule(argument_spec=argument_spec(), validate=validate, supports_check_mode=True)
    module.exit_with(CertificateInfo(module, module.params).run)


if __name__ == "__main__":
    main()
