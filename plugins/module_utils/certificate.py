# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates as a managed kind: the name is the certificate's unique identifier, a
re-issue (Certify under the same id) replaces it in place, and revoking or destroying it
leaves the key pair it certifies alone (no cascade)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import pkcs12
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.files import destination_problems, write_text_file
from ansible_collections.pkimanager.kms.plugins.module_utils.issuers import BACKENDS
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import ManagedObject, find, option_rule_problems
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import cryptography_problem, der_to_pem
from ansible_collections.pkimanager.kms.plugins.module_utils.x509 import (
    CONTENT_FIELDS,
    content_of,
    differences,
    facts,
    load_csr,
    requested_content,
    validity,
)
from ansible_collections.pkimanager.kms.plugins.module_utils.x509_keys import key_usage_problems, spki_der

DESTINATIONS = ("dest", "chain_dest", "fullchain_dest")
# Which options need which, checked on a task's options or on a bulk item's (with the task's).
REQUIRED_IF = [
    ("state", "present", ["provider"]),
    ("provider", "selfsigned", ["keypair", "subject"]),
    ("provider", "kms_ca", ["keypair", "issuer", "subject"]),
    ("provider", "csr", ["issuer"]),
    ("provider", "csr", ["csr_path", "csr_content"], True),
]
MUTUALLY_EXCLUSIVE = [("csr_path", "csr_content")]
# Options that only one provider uses, and what the others say about them.
MISPLACED = {"selfsigned": ("issuer", "csr_path", "csr_content"), "kms_ca": ("csr_path", "csr_content"),
             "csr": ("keypair", "subject", "pkcs12_dest")}
WHY_MISPLACED = {"subject": " (the subject comes from the CSR)",
                 "pkcs12_dest": " (the CSR's private key is not in the KMS; a PKCS#12 bundle needs it)"}


class Certificate(ManagedObject):
    """The certificate named ``name``, issued by the backend of ``provider``."""

    kind = "certificate"
    object_type = "Certificate"
    entity_type = "certificate"
    read_entity_type = "certificate"
    cascade = False  # revoking a certificate must not revoke the key pair it certifies
    replacement_revokes = False  # Certify re-issues in place; the old certificate is not revoked

    def __init__(self, kms, params):
        super(Certificate, self).__init__(kms, params)
        kms.outcome.update(certificate_id=self.name)
        self._backend = self._wanted = self._issue_params = None

    @classmethod
    def validate(cls, params):
        missing = cryptography_problem()
        return [missing] if missing else super(Certificate, cls).validate(params)

    @classmethod
    def kind_problems(cls, params):
        required = option_rule_problems(params, REQUIRED_IF, MUTUALLY_EXCLUSIVE)
        if params["state"] != "present" or required:
            return required
        problems = []
        for option in ("keypair", "issuer"):
            name_problem = ops.object_name_problem(params[option]) if params.get(option) is not None else None
            if name_problem:
                problems.append("%s: %s" % (option, name_problem))
        provider = params["provider"]
        for option in MISPLACED[provider]:
            if params.get(option) is not None:
                problems.append("%s is not used with provider=%s%s" % (option, provider, WHY_MISPLACED.get(option, "")))
        if params.get("pkcs12_passphrase") and not params.get("pkcs12_dest"):
            problems.append("pkcs12_passphrase is only used with pkcs12_dest")
        if params["validity_days"] is not None and params["validity_days"] < 1:
            problems.append("validity_days must be 1 or more")
        if params["renew_before_days"] < 0:
            problems.append("renew_before_days must be 0 or more")
        problems += destination_problems(params, DESTINATIONS + ("pkcs12_dest",))
        csr = None
        if provider == "csr":
            csr, found = load_csr(params)
            problems += found
            if csr is None:
                return problems
        content, found = requested_content(params, csr)
        if csr is not None:
            found += key_usage_problems(content["key_usage"], csr.public_key(), "the CSR's public key")
        return problems + found

    # -- reading ---------------------------------------------------------------------

    def read(self):
        """state, links and DER of the certificate (revoked ones cannot be read back: DER None)."""
        attrs = find(self.kms, self.name, self.object_type, self.read_entity_type)
        if attrs is None:
            return None
        existing = {"state": attrs["state"], "links": attrs["links"], "der": None}
        for operation in self.follow_up_reads(attrs):
            existing["der"] = self.kms.call(operation)["der"]
        return existing

    def follow_up_reads(self, attributes):
        """The DER of a live certificate."""
        if attributes is None or attributes["state"] not in ops.ACTIVE_STATES:
            return []
        operation = ops.get_certificate(self.name)
        operation.entity_type = self.entity_type
        return [operation]

    def view(self, current):
        if "content" in current:
            return dict(current["content"], state=current["state"])
        shown = facts(current["der"]) if current.get("der") else {}
        return dict(shown, state=current["state"])

    def _plan(self):
        """(requested content, the provider's backend), made once: the backend reads its KMS objects."""
        if self._backend is None:
            csr = load_csr(self.params)[0] if self.params["provider"] == "csr" else None
            self._wanted = requested_content(self.params, csr)[0]
            self._backend = BACKENDS[self.params["provider"]](self.kms, self.params)
            if self.params.get("pkcs12_dest") and not self._backend.key.exportable:
                raise TaskError("pkcs12_dest: the private key of key pair %r is not exportable (the KMS refuses to "
                                "export it), so no PKCS#12 file can hold it; nothing was written. Use a key pair created "
                                "with exportable=true, or leave pkcs12_dest unset." % self._backend.key.name)
        return self._wanted, self._backend

    def mismatch(self, current):
        from cryptography import x509
        wanted, backend = self._plan()
        if current["der"] is None:
            return ["the certificate is %s" % current["state"]]
        cert = x509.load_der_x509_certificate(current["der"])
        reasons = differences(wanted, content_of(cert))
        if spki_der(cert.public_key()) != backend.spki:
            reasons.append("the certificate's public key is not the requested one")
        issuer_mismatch = backend.issuer_mismatch(cert)
        if issuer_mismatch:
            reasons.append(issuer_mismatch)
        not_after, renew_before = validity(cert)[1], self.params["renew_before_days"]
        if not_after - ops.utc_now() <= datetime.timedelta(days=renew_before):
            reasons.append("the certificate expires on %s, within renew_before_days=%d"
                           % (ops.iso_utc(not_after), renew_before))
        return reasons

    # -- changing --------------------------------------------------------------------

    def check_can_create(self):
        wanted, backend = self._plan()
        self._issue_params = dict(self.params, validity_days=backend.validity_days(wanted, self.params))
        backend.check_can_issue(wanted, self._issue_params)

    def predicted(self, current):
        wanted = self._plan()[0]
        return {"state": "Active", "content": dict((k, v) for k, v in wanted.items() if k in CONTENT_FIELDS)}

    def create(self):
        wanted, backend = self._plan()
        backend.issue(self.name, wanted, self._issue_params)
        return self.read()

    def replace(self, current):
        """Certify again under the same name: the KMS replaces the certificate in place."""
        return self.create()

    def after_revoke(self, current):
        """The facts read before the revocation, with the new state (a revoked certificate cannot be read)."""
        return dict(current, state=self.read()["state"])

    def before_destroy(self, current):
        """Unlink the certified public key from this certificate, or the KMS keeps it."""
        public_key_id = current["links"].get("PublicKeyLink")
        if public_key_id:
            key = self.kms.call_or_none(ops.get_attributes(public_key_id), entity_type="public_key")
            if key and key["links"].get("CertificateLink") == self.name:
                self.kms.call(ops.unlink_certificate(public_key_id), entity_type="public_key")

    def export(self, current):
        """Write dest, chain_dest, fullchain_dest and pkcs12_dest; only files whose content differs."""
        if not current.get("der"):
            return
        pem = der_to_pem("CERTIFICATE", current["der"])
        wants_chain = self.params["chain_dest"] or self.params["fullchain_dest"] or self.params.get("pkcs12_dest")
        chain_ders = self._plan()[1].chain() if wants_chain else []
        chain = "".join(der_to_pem("CERTIFICATE", der) for der in chain_ders)
        for option, content in zip(DESTINATIONS, (pem, chain, pem + chain)):
            path = self.params[option]
            if path and write_text_file(self.kms, path, content, option=option):
                self.changes.append("%s %s written" % (option, path))
        if self.params.get("pkcs12_dest"):
            self._export_pkcs12(current["der"], chain_ders)

    def _export_pkcs12(self, cert_der, chain_ders):
        """The key pair's private key (read from the KMS only here), the certificate and the chain as PKCS#12."""
        path = self.params["pkcs12_dest"]
        key = self._plan()[1].key
        key_der = self.kms.call(ops.get_private_key(key.private_key_id), entity_type="private_key")["der"]
        if pkcs12.ensure_file(self.kms, path, "pkcs12_dest", self.name, key_der, cert_der, chain_ders,
                              self.params.get("pkcs12_passphrase")):
            self.changes.append("pkcs12_dest %s written" % path)

    def aliases(self, result, mismatch):
        """``certificate_id`` and ``changed_reason`` (the 0.1.0 names), kept for one release."""
        said = {"created": ["the certificate does not exist"], "replaced": mismatch or ["regenerate=always"],
                "revoked": ["revoked (%s)" % self.params["revocation_reason"]]}
        reasons = [reason for change in self.changes for reason in said.get(change, [change])]
        return {"certificate_id": self.name, "changed_reason": "; ".join(reasons) or None}
