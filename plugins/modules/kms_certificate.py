#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_certificate
short_description: Issue, renew, revoke and remove X.509 certificates held in a Cosmian KMS
version_added: 0.1.0
description:
  - Issues X.509 certificates inside a Cosmian KMS over KMIP 2.1 (Certify), keeps them matching the
    task, renews them before they expire, revokes and removes them. Private keys never leave the KMS, except
    in the PKCS#12 bundle O(pkcs12_dest) of an exportable key pair.
  - O(name) is the stable handle of the certificate; it is used as the certificate's unique identifier
    in the KMS, and a re-issued certificate keeps it.
  - Three providers, in the manner of M(community.crypto.x509_certificate)'s, say who signs
    what. V(selfsigned) makes a CA certificate for a key pair of M(pkimanager.kms.kms_keypair), signed
    by its own private key. V(kms_ca) certifies a key pair with an issuer certificate held in the KMS.
    V(csr) certifies a certificate signing request made elsewhere with an issuer certificate held in
    the KMS; the CSR's private key stays with whoever made it.
  - An existing certificate whose subject, subject alternative names, key usage, extended key usage,
    basic constraints, CRL distribution points and authority information access URLs (when set), public key
    and issuer match the task, and that does not expire within
    O(renew_before_days), is left alone. Otherwise it is re-issued under the same name (see O(regenerate))
    and RV(mismatch) says why. Validity dates alone (for example a changed O(validity_days)) do not
    cause a re-issue.
  - Every KMS call is written to the audit trail (see O(audit_log)).
author:
  - pkimanager maintainers (@pkimanager)
requirements:
  - cryptography (Python library) on the managed node
extends_documentation_fragment:
  - pkimanager.kms.connection
  - pkimanager.kms.audit
  - pkimanager.kms.audit.context
  - pkimanager.kms.revocation
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reads the KMS, predicts whether the certificate would be issued, revoked or removed, and changes nothing.
  diff_mode:
    support: full
    description: Shows subject, issuer, names, extensions, validity, serial number and fingerprint before and after.
options:
  name:
    description:
      - Stable name of the certificate, used as its unique identifier in the KMS.
      - 1 to 128 characters from V(A-Z), V(a-z), V(0-9), V(.), V(_), V(-), V(:) and V(@),
        starting with a letter or a digit. It must not be the name of another KMS object, such as a key pair.
      - Required unless O(certificates) is given.
    type: str
  certificates:
    description:
      - Several certificates in one task, each a dictionary of this module's options (O(name) required, any
        other option except the connection, audit and file options). An option an item does not set
        takes the task's value, so O(provider), O(issuer) and the extensions can be given once.
      - The reads each certificate starts with are sent in batches; each certificate's result is in RV(results).
        An item that fails does not stop the others; the task then fails naming each failed item.
      - Mutually exclusive with O(name).
    type: list
    elements: dict
    version_added: 0.2.0
  state:
    description:
      - V(present) issues the certificate when it is missing, does not match, is revoked or expires
        within O(renew_before_days).
      - V(revoked) revokes it (KMIP Revoke) with O(revocation_reason); it stays in the KMS. The key pair it
        certifies is not revoked.
      - V(absent) revokes it if it is active, then destroys it and removes it, so that the name can be
        reused. The key pair it certifies is kept.
    type: str
    choices: [present, revoked, absent]
    default: present
  regenerate:
    description:
      - What to do with O(state=present) when a certificate of this name exists but does not match the task
        (RV(mismatch) says how), is revoked, or expires within O(renew_before_days).
      - V(mismatch) re-issues it under the same name.
      - V(never) leaves it as it is and reports the mismatch in RV(mismatch).
      - V(fail) fails with a message saying what differs.
      - V(always) re-issues it on every run.
    type: str
    choices: [never, fail, mismatch, always]
    default: mismatch
    version_added: 0.2.0
  provider:
    description:
      - Who signs the certificate, and where its public key comes from. Required with O(state=present).
      - V(selfsigned) certifies the key pair O(keypair) with its own private key.
      - V(kms_ca) certifies the key pair O(keypair) with the certificate O(issuer).
      - V(csr) certifies the CSR in O(csr_path) or O(csr_content) with the certificate O(issuer).
    type: str
    choices: [selfsigned, kms_ca, csr]
  keypair:
    description:
      - Name of the key pair (its private key's identifier, as given to M(pkimanager.kms.kms_keypair))
        whose public key is certified. The pair must be Active.
      - Required with O(provider=selfsigned) and O(provider=kms_ca).
    type: str
  issuer:
    description:
      - Name of the certificate in the KMS that signs, for O(provider=kms_ca) and O(provider=csr);
        an Active CA certificate (basicConstraints CA:TRUE) whose private key is in the KMS, such as
        one made by this module with O(provider=selfsigned).
      - The issuer's private key is found through the issuer certificate's link to it.
    type: str
  csr_path:
    description:
      - PEM file of the certificate signing request (PKCS#10), for O(provider=csr).
      - Its subject and extensions are copied into the certificate by the KMS.
    type: path
  csr_content:
    description:
      - The certificate signing request itself, PEM, for O(provider=csr); an alternative to O(csr_path).
    type: str
  subject:
    description:
      - Subject distinguished name, for O(provider=selfsigned) and O(provider=kms_ca). With O(provider=csr)
        the subject is the CSR's.
      - Keys are V(CN), V(O), V(OU), V(C) (two letters), V(ST), V(L) and V(emailAddress).
    type: dict
  subject_alt_names:
    description:
      - Subject alternative names, each with its type prefix V(DNS:), V(IP:), V(email:) or V(URI:), for
        example V(DNS:www.example.com) or V(IP:192.0.2.1).
      - Values cannot contain white space, commas, quotes or backslashes.
      - With O(provider=csr) and a CSR that has subject alternative names, leave this unset or give the same
        names, because the KMS copies the CSR's extensions and cannot replace them.
    type: list
    elements: str
  key_usage:
    description:
      - Key usage bits, by their OpenSSL names V(digitalSignature), V(nonRepudiation), V(keyEncipherment),
        V(dataEncipherment), V(keyAgreement), V(keyCertSign), V(cRLSign), V(encipherOnly) and V(decipherOnly)
        (matched without regard to case).
      - When not set, CA certificates (see O(basic_constraints)) get V(keyCertSign) and V(cRLSign), the
        others none; with O(provider=csr), the CSR's key usage when it has one.
    type: list
    elements: str
  key_usage_critical:
    description:
      - Whether the key usage extension is critical.
    type: bool
    default: true
  extended_key_usage:
    description:
      - Extended key usages, by name. Cosmian KMS knows V(serverAuth), V(clientAuth), V(codeSigning),
        V(emailProtection), V(timeStamping), V(OCSPSigning), V(ipsecIKE), V(msCodeInd), V(msCodeCom),
        V(msCTLSign), V(msSGC), V(msEFS) and V(nsSGC).
    type: list
    elements: str
  extended_key_usage_critical:
    description:
      - Whether the extended key usage extension is critical.
    type: bool
    default: false
  basic_constraints:
    description:
      - The basic constraints extension. When not set, V(selfsigned) certificates are CAs and the
        others are not (or have the CSR's).
    type: dict
    suboptions:
      ca:
        description:
          - Whether the certificate is a CA. Defaults to V(true) for O(provider=selfsigned), V(false) otherwise.
        type: bool
      path_length:
        description:
          - Maximum number of intermediate CAs below this one (pathLenConstraint); only with O(basic_constraints.ca=true).
        type: int
      critical:
        description:
          - Whether the extension is critical.
        type: bool
        default: true
  crl_distribution_points:
    description:
      - URLs where relying parties fetch the CRL of the issuer, written in the certificate's CRL distribution
        points extension (crlDistributionPoints, non-critical), one distribution point per URL, in the order given.
      - Each an absolute V(http://) or V(https://) URL of printable ASCII, without white space, commas, quotes or
        backslashes (percent-encode them); checked before any KMS call.
      - When not set, an existing certificate's CRL distribution points are not compared with the task (Cosmian KMS
        adds one of its own to certificates signed by an issuer when its C(kms_public_url) is set); V([]) asks for
        none.
      - With O(provider=csr) and a CSR that has CRL distribution points, leave this unset or give the same URLs,
        because the KMS copies the CSR's extensions and cannot replace them.
    type: list
    elements: str
    version_added: 0.2.0
  ocsp_responder_urls:
    description:
      - URLs of the OCSP responders for the certificate, written as V(OCSP) access descriptions in its authority
        information access extension (authorityInfoAccess, non-critical), in the order given.
      - URLs are checked as in O(crl_distribution_points); unset, they are not compared, and V([]) asks for none.
      - With O(provider=csr) and a CSR that has an authority information access extension, leave this unset or
        give the CSR's OCSP URLs.
    type: list
    elements: str
    version_added: 0.2.0
  ca_issuers_urls:
    description:
      - URLs where the issuer's certificate can be fetched, written as V(caIssuers) access descriptions in the
        authority information access extension, after the OCSP ones, in the order given.
      - URLs are checked as in O(crl_distribution_points); unset, they are not compared, and V([]) asks for none.
      - With O(provider=csr) and a CSR that has an authority information access extension, leave this unset or
        give the CSR's CA issuers URLs.
    type: list
    elements: str
    version_added: 0.2.0
  validity_days:
    description:
      - Validity of a newly issued certificate, in days from now.
      - It must end before the issuer's certificate does (the KMS would silently shorten it), so a longer
        validity fails before anything is issued.
      - When not set, the default depends on O(basic_constraints.ca) (as resolved for the provider),
        V(3650) days (ten years) for a CA certificate and V(365) days for any other, and a certificate
        signed by an issuer gets no more by default than the issuer's certificate has left. So a
        self-signed CA, an intermediate CA under it and a leaf under either all work with the defaults.
    type: int
  renew_before_days:
    description:
      - Re-issue the certificate when it expires within this many days.
    type: int
    default: 30
  dest:
    description:
      - Write the certificate (PEM) to this file. An unchanged file is not rewritten.
      - File attributes such as O(mode) apply to it, and to O(chain_dest) and O(fullchain_dest).
      - Files are only written with O(state=present).
      - The folder of each of O(dest), O(chain_dest) and O(fullchain_dest) must exist and be writable; this is
        checked before any KMS call. Should a write fail all the same, the task fails with RV(id)
        and whether the KMS changed.
    type: path
  chain_dest:
    description:
      - Write the issuer chain (PEM, the issuer first, up to and including the root) to this file.
        It is empty for a self-signed certificate.
    type: path
  fullchain_dest:
    description:
      - Write the certificate followed by its issuer chain (PEM) to this file.
    type: path
  pkcs12_dest:
    description:
      - Write a PKCS#12 bundle of the key pair's private key, the certificate and its issuer chain (up to and
        including the root) to this file, for O(provider=selfsigned) and O(provider=kms_ca).
      - The key pair must be exportable (M(pkimanager.kms.kms_keypair) with O(pkimanager.kms.kms_keypair#module:exportable=true));
        otherwise the task fails before anything is issued or written. The private key is read from the KMS only when
        this option is set, and never appears in the result, the diff or the audit trail.
      - The file is created with mode V(0600) unless O(mode) says otherwise; the folder must exist and be writable.
      - An existing file is read with O(pkcs12_passphrase) and rewritten only when it cannot be, or when its
        private key, certificate or chain differ (a PKCS#12 file differs byte-wise on each build).
    type: path
    version_added: 0.2.0
  pkcs12_passphrase:
    description:
      - Passphrase protecting O(pkcs12_dest) (encryption with AES-256-CBC and PBKDF2 and a MAC, with
        cryptography 38 or later). Without it, the bundle is not encrypted.
    type: str
    version_added: 0.2.0
notes:
  - A re-issued certificate replaces the previous one under the same name; the previous one is not revoked.
  - A revoked certificate cannot be read back from Cosmian KMS, so with O(state=present) it is re-issued.
  - Cosmian KMS adds the RFC 9608 noRevAvail extension to self-signed certificates that are not CAs.
  - Certificates get a subjectKeyIdentifier, and those signed by an issuer an authorityKeyIdentifier.
  - Issuer and certified keys may be of any type M(pkimanager.kms.kms_keypair) makes (RSA, EC P-256, P-384, P-521 and
    secp256k1, Ed25519, Ed448), mixed freely in a chain. The signature algorithm follows the issuer's key; Cosmian KMS
    5.28 signs V(sha256WithRSAEncryption) with RSA, V(ecdsa-with-SHA256) with every EC curve (P-384 and P-521
    included) and V(ED25519) or V(ED448) with Edwards keys (see RV(signature_algorithm)).
  - Key usage bits that a key type cannot have are refused before anything is issued, following RFC 5480 and
    RFC 8410 (V(keyEncipherment) and V(dataEncipherment) for EC and Edwards keys; V(keyAgreement),
    V(encipherOnly) and V(decipherOnly) for Edwards keys).
seealso:
  - module: pkimanager.kms.kms_keypair
  - module: pkimanager.kms.kms_audit
  - module: community.crypto.x509_certificate
"""

EXAMPLES = r"""
- name: A root CA key pair, and its self-signed certificate
  block:
    - pkimanager.kms.kms_keypair:
        name: root-ca
        size: 4096
    - pkimanager.kms.kms_certificate:
        name: root-ca-cert
        provider: selfsigned
        keypair: root-ca
        subject:
          CN: Example Root CA
          O: Example
          C: FR
        basic_constraints:
          ca: true
          path_length: 1
        validity_days: 3650
        dest: /etc/pki/root-ca.pem

- name: A TLS server certificate for a key pair in the KMS, signed by the root
  pkimanager.kms.kms_certificate:
    name: www-cert
    provider: kms_ca
    keypair: www
    issuer: root-ca-cert
    subject:
      CN: www.example.com
    subject_alt_names:
      - DNS:www.example.com
      - IP:192.0.2.10
    key_usage: [digitalSignature, keyEncipherment]
    extended_key_usage: [serverAuth]
    crl_distribution_points: [http://pki.example.com/root-ca.crl]
    ocsp_responder_urls: [http://ocsp.example.com/]
    ca_issuers_urls: [http://pki.example.com/root-ca.crt]
    validity_days: 90
    renew_before_days: 30
    dest: /etc/pki/www.pem
    fullchain_dest: /etc/pki/www-fullchain.pem
    mode: "0644"

- name: Sign a CSR made on another host
  pkimanager.kms.kms_certificate:
    name: vpn-client-42
    provider: csr
    csr_path: /tmp/vpn-client-42.csr
    issuer: root-ca-cert
    extended_key_usage: [clientAuth]
    validity_days: 365

- name: An Ed25519 TLS server certificate under the root, and a PKCS#12 bundle of it (exportable key pair)
  pkimanager.kms.kms_certificate:
    name: api-cert
    provider: kms_ca
    keypair: api-ed25519
    issuer: root-ca-cert
    subject:
      CN: api.example.com
    subject_alt_names: [DNS:api.example.com]
    key_usage: [digitalSignature]
    extended_key_usage: [serverAuth]
    pkcs12_dest: /etc/pki/private/api.p12
    pkcs12_passphrase: "{{ vault_api_p12_passphrase }}"

- name: Revoke a certificate
  pkimanager.kms.kms_certificate:
    name: vpn-client-42
    state: revoked
    revocation_reason: KeyCompromise
    revocation_message: laptop lost

- name: Remove a certificate (the key pair stays)
  pkimanager.kms.kms_certificate:
    name: www-cert
    state: absent
"""

RETURN = r"""
results:
  description:
    - With O(certificates), one result per item, in the order given, each with the return values below (and
      C(failed) and C(msg) for an item that failed).
  returned: when O(certificates) is given
  type: list
  elements: dict
  version_added: 0.2.0
name:
  description: Name of the certificate.
  returned: always
  type: str
  sample: www-cert
  version_added: 0.2.0
id:
  description: Unique identifier of the certificate in the KMS (the name).
  returned: always
  type: str
  sample: www-cert
  version_added: 0.2.0
certificate_id:
  description: The same as RV(id); its 0.1.0 name, kept until the next release.
  returned: always
  type: str
  sample: www-cert
changes:
  description:
    - What the run changed (or would change in check mode), among V(created), V(replaced), V(revoked), V(destroyed)
      and one V(<option> <path> written) per file written.
  returned: always
  type: list
  elements: str
  sample: [replaced, dest /etc/pki/www.pem written]
  version_added: 0.2.0
mismatch:
  description:
    - Why the existing certificate does not match the task (empty when it does, or when it was replaced).
  returned: always
  type: list
  elements: str
  sample: ["subject_alt_names is ['DNS:old.example.com'], requested ['DNS:www.example.com']"]
  version_added: 0.2.0
state:
  description: KMIP state of the certificate (V(Active), V(Deactivated), V(Compromised)), or V(absent).
  returned: always
  type: str
  sample: Active
changed_reason:
  description:
    - Why the run changed something (or would, in check mode), or null when it changed nothing.
    - Its 0.1.0 form, kept until the next release; use RV(changes) and RV(mismatch).
  returned: always
  type: str
  sample: "subject_alt_names is ['DNS:old.example.com'], requested ['DNS:www.example.com']"
pem:
  description: The certificate, PEM.
  returned: when the certificate is readable (not revoked) after the run, or was before a revocation
  type: str
serial_number:
  description: Serial number of the certificate.
  returned: when RV(pem) is returned
  type: int
subject:
  description: Subject of the certificate; keys as in O(subject), other attributes by dotted OID.
  returned: when RV(pem) is returned, or predicted in check mode
  type: dict
  sample: {CN: www.example.com, O: Example}
issuer:
  description: Issuer distinguished name, as RV(subject).
  returned: when RV(pem) is returned
  type: dict
not_before:
  description: Start of validity, ISO 8601 UTC.
  returned: when RV(pem) is returned
  type: str
  sample: "2026-11-28T12:00:00Z"
not_after:
  description: End of validity, ISO 8601 UTC.
  returned: when RV(pem) is returned
  type: str
fingerprint_sha256:
  description: SHA-256 of the DER certificate, colon-separated hex.
  returned: when RV(pem) is returned
  type: str
subject_alt_names:
  description: Subject alternative names, each with its type prefix, sorted.
  returned: when RV(pem) is returned, or predicted in check mode
  type: list
  elements: str
  sample: ["DNS:www.example.com", "IP:192.0.2.10"]
key_usage:
  description: Key usage bits, by OpenSSL name.
  returned: when RV(pem) is returned, or predicted in check mode
  type: list
  elements: str
key_usage_critical:
  description: Whether the key usage extension is critical (null without one).
  returned: when RV(pem) is returned, or predicted in check mode
  type: bool
extended_key_usage:
  description: Extended key usages, by name (unknown ones by dotted OID).
  returned: when RV(pem) is returned, or predicted in check mode
  type: list
  elements: str
extended_key_usage_critical:
  description: Whether the extended key usage extension is critical (null without one).
  returned: when RV(pem) is returned, or predicted in check mode
  type: bool
basic_constraints:
  description: The basic constraints (V(ca), V(path_length), V(critical)), or null without the extension.
  returned: when RV(pem) is returned, or predicted in check mode
  type: dict
crl_distribution_points:
  description: The URLs of the certificate's CRL distribution points, in order (empty without the extension).
  returned: when RV(pem) is returned, or predicted in check mode (null when O(crl_distribution_points) is unset)
  type: list
  elements: str
  sample: ["http://pki.example.com/root-ca.crl"]
  version_added: 0.2.0
ocsp_responder_urls:
  description: The OCSP responder URLs of the certificate's authority information access extension, in order.
  returned: when RV(pem) is returned, or predicted in check mode (null when O(ocsp_responder_urls) is unset)
  type: list
  elements: str
  sample: ["http://ocsp.example.com/"]
  version_added: 0.2.0
ca_issuers_urls:
  description: The CA issuers URLs of the certificate's authority information access extension, in order.
  returned: when RV(pem) is returned, or predicted in check mode (null when O(ca_issuers_urls) is unset)
  type: list
  elements: str
  sample: ["http://pki.example.com/root-ca.crt"]
  version_added: 0.2.0
public_key_type:
  description: Type of the certified public key, V(rsa), V(ec), V(ed25519) or V(ed448).
  returned: when RV(pem) is returned
  type: str
  sample: ec
  version_added: 0.2.0
signature_algorithm:
  description: The certificate's signature algorithm as OpenSSL names it; it follows the issuer's key type.
  returned: when RV(pem) is returned
  type: str
  sample: ecdsa-with-SHA256
  version_added: 0.2.0
"""

from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once  # noqa: F401  pylint: disable=unused-import  # first: see its doc
from ansible_collections.pkimanager.kms.plugins.module_utils.bulk import run_lifecycle_module
from ansible_collections.pkimanager.kms.plugins.module_utils.certificate import Certificate
from ansible_collections.pkimanager.kms.plugins.module_utils.issuers import PROVIDERS
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import LifecycleOptions


def main():
    run_lifecycle_module(
        Certificate,
        dict(
            LifecycleOptions.argument_spec(regenerate="mismatch"),
            provider=dict(type="str", choices=list(PROVIDERS)),
            keypair=dict(type="str", no_log=False),
            issuer=dict(type="str"),
            csr_path=dict(type="path"),
            csr_content=dict(type="str"),
            subject=dict(type="dict"),
            subject_alt_names=dict(type="list", elements="str"),
            key_usage=dict(type="list", elements="str"),
            key_usage_critical=dict(type="bool", default=True),
            extended_key_usage=dict(type="list", elements="str"),
            extended_key_usage_critical=dict(type="bool", default=False),
            basic_constraints=dict(type="dict", options=dict(
                ca=dict(type="bool"),
                path_length=dict(type="int"),
                critical=dict(type="bool", default=True),
            )),
            crl_distribution_points=dict(type="list", elements="str"),
            ocsp_responder_urls=dict(type="list", elements="str"),
            ca_issuers_urls=dict(type="list", elements="str"),
            validity_days=dict(type="int"),
            renew_before_days=dict(type="int", default=30),
            dest=dict(type="path"),
            chain_dest=dict(type="path"),
            fullchain_dest=dict(type="path"),
            pkcs12_dest=dict(type="path"),
            pkcs12_passphrase=dict(type="str", no_log=True),
        ),
        "certificates",
        supports_check_mode=True,
        add_file_common_args=True,
    )


if __name__ == "__main__":
    main()
