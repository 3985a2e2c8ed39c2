# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who signs a certificate, and for which public key: one small backend per provider.

``selfsigned`` certifies a key pair with its own private key, ``kms_ca`` a key pair with an
issuer certificate held in the KMS, ``csr`` a CSR made elsewhere with such an issuer. Each
backend reads what it needs when it is made, and raises TaskError when the KMS state rules
the task out (missing issuer, revoked key, an issuer that expires first).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import require, wrong_type_message
from ansible_collections.pkimanager.kms.plugins.module_utils.x509 import (
    content_of,
    extension_config,
    load_csr,
    validity,
)
from ansible_collections.pkimanager.kms.plugins.module_utils.x509_keys import key_usage_problems, signed_by, spki_der

MAX_CHAIN_LENGTH = 10
# validity_days when the task does not set it: CA-sized for a CA, and a leaf's fits under it.
# A certificate signed by an issuer never gets more by default than the issuer has left.
DEFAULT_CA_VALIDITY_DAYS = 3650
DEFAULT_VALIDITY_DAYS = 365


def default_validity_days(wanted):
    """validity_days when the task leaves it unset (before an issuer's cap, see IssuedBackend)."""
    return DEFAULT_CA_VALIDITY_DAYS if wanted["basic_constraints"]["ca"] else DEFAULT_VALIDITY_DAYS


def check_key_usage(wanted, spki, what):
    """Refuse key usage bits that the certified key's type cannot have (keyEncipherment for EC, ...)."""
    from cryptography.hazmat.primitives import serialization
    problems = key_usage_problems(wanted["key_usage"], serialization.load_der_public_key(spki), what)
    if problems:
        raise TaskError("; ".join(problems))


class Issuer:
    """A certificate in the KMS that signs others: its certificate and its private key's id."""

    def __init__(self, kms, name):
        self.kms = kms
        self.name = name
        self._days_left = None
        attrs = require(kms, name, "Certificate", "certificate", "issuer",
                        "issuer must name a certificate made with pkimanager.kms.kms_certificate")
        if attrs["state"] != "Active":
            raise TaskError("issuer %r is %s; only an Active certificate can issue" % (name, attrs["state"]))
        self.links = attrs["links"]
        self.private_key_id = attrs["links"].get("PrivateKeyLink")
        if not self.private_key_id:
            raise TaskError("issuer %r has no private key in the KMS (no PrivateKeyLink: a certificate made from a "
                            "CSR cannot issue)" % name)
        from cryptography import x509
        self.der = kms.call(ops.get_certificate(name), entity_type="certificate")["der"]
        self.certificate = x509.load_der_x509_certificate(self.der)
        content = content_of(self.certificate)
        if not (content.get("basic_constraints") or {}).get("ca"):
            raise TaskError("issuer %r is not a CA certificate (basicConstraints CA:TRUE is missing)" % name)
        if content["key_usage"] and "keyCertSign" not in content["key_usage"]:
            raise TaskError("issuer %r may not sign certificates (its keyUsage lacks keyCertSign)" % name)
        self.path_length = content["basic_constraints"]["path_length"]

    def days_left(self):
        """Whole days from now until this issuer's certificate expires, read once per task: the
        default validity (capped by it) and the check of that validity must agree, even when a
        second ends between them (a leaf issued in the second its root was would get 90 days,
        then be refused for ending after the root, which by then had 89 left)."""
        if self._days_left is None:
            self._days_left = (validity(self.certificate)[1] - ops.utc_now()).days
        return self._days_left

    def check_can_issue(self, wanted, validity_days):
        """Refuse what the KMS would silently shorten or what would not verify."""
        not_after = validity(self.certificate)[1]
        days_left = self.days_left()
        if days_left < 1:
            raise TaskError("issuer %r expires on %s, in less than a day: it cannot issue a certificate"
                            % (self.name, ops.iso_utc(not_after)))
        if validity_days > days_left:
            raise TaskError("validity_days=%d would end after issuer %r expires (%s): at most %d days are possible"
                            % (validity_days, self.name, ops.iso_utc(not_after), days_left))
        if wanted["basic_constraints"]["ca"] and self.path_length == 0:
            raise TaskError("issuer %r has pathlen:0 and cannot issue a CA certificate" % self.name)
        key = self.kms.call(ops.get_attributes(self.private_key_id), entity_type="private_key")
        if key["state"] != "Active":
            raise TaskError("issuer %r cannot sign: its private key %r is %s"
                            % (self.name, self.private_key_id, key["state"]))

    def chain(self):
        """DER of this issuer and each issuer above it, following CertificateLink up to the root."""
        ders, name, links, der = [], self.name, self.links, self.der
        while len(ders) < MAX_CHAIN_LENGTH:
            ders.append(der)
            parent = links.get("CertificateLink")
            if not parent or parent == name:
                break
            links = self.kms.call(ops.get_attributes(parent), entity_type="certificate")["links"]
            name, der = parent, self.kms.call(ops.get_certificate(parent), entity_type="certificate")["der"]
        return ders


class KeyPairSource:
    """The key pair (made with kms_keypair) whose public key gets certified."""

    def __init__(self, kms, name):
        attrs = require(kms, name, "PrivateKey", "key_pair", "keypair", "create it with pkimanager.kms.kms_keypair")
        if not attrs["links"].get("PublicKeyLink"):
            raise TaskError(wrong_type_message(name, attrs["object_type"], "PrivateKey", "keypair"))
        if attrs["state"] != "Active":
            raise TaskError("keypair %r is %s; only an Active key pair can be certified" % (name, attrs["state"]))
        self.name = self.private_key_id = name
        self.exportable = bool(attrs.get("exportable"))
        self.public_key_id = attrs["links"]["PublicKeyLink"]
        self.spki = kms.call(ops.get_public_key(self.public_key_id), entity_type="public_key")["der"]


class SelfSignedBackend:
    """A CA certificate for a key pair, signed by the pair's own private key."""

    def __init__(self, kms, params):
        self.kms = kms
        self.key = KeyPairSource(kms, params["keypair"])
        self.spki = self.key.spki

    def issuer_mismatch(self, cert):
        if not signed_by(cert, cert):
            return "the certificate is not self-signed"
        return None

    def check_can_issue(self, wanted, params):
        """Only key usage that fits the key: an Active key pair can always sign for itself, for any validity."""
        check_key_usage(wanted, self.spki, "key pair %r" % self.key.name)

    def validity_days(self, wanted, params):
        return params["validity_days"] or default_validity_days(wanted)

    def issue(self, name, wanted, params):
        self.kms.call(ops.unlink_certificate(self.key.public_key_id), entity_type="public_key")
        self.kms.call(ops.certify(
            certificate_id=name, public_key_id=self.key.public_key_id, subject=wanted["subject"],
            validity_days=params["validity_days"], extensions=extension_config(wanted, authority_key_id=False)),
            entity_type="certificate")

    def chain(self):
        return []


class IssuedBackend:
    """What the providers signed by an issuer certificate in the KMS share."""

    def __init__(self, kms, params):
        self.kms = kms
        self.issuer = Issuer(kms, params["issuer"])

    def issuer_mismatch(self, cert):
        if not signed_by(cert, self.issuer.certificate):
            return "the certificate was not issued by the current certificate of issuer %r" % self.issuer.name
        return None

    def check_can_issue(self, wanted, params):
        check_key_usage(wanted, self.spki, self.certified)
        self.issuer.check_can_issue(wanted, params["validity_days"])

    def validity_days(self, wanted, params):
        return params["validity_days"] or min(default_validity_days(wanted), max(self.issuer.days_left(), 0))

    def certify(self, name, wanted, params, **subject):
        """Certify ``subject`` (a public key id and subject, or a CSR) with the issuer's key."""
        self.kms.call(ops.certify(
            certificate_id=name, issuer_private_key_id=self.issuer.private_key_id,
            issuer_certificate_id=self.issuer.name, validity_days=params["validity_days"],
            extensions=extension_config(wanted, authority_key_id=True,
                                        present_oids=wanted.get("csr_extension_oids", ())),
            **subject), entity_type="certificate")

    def chain(self):
        return self.issuer.chain()


class KmsCaBackend(IssuedBackend):
    """A certificate for a key pair, signed by an issuer certificate held in the KMS."""

    def __init__(self, kms, params):
        super(KmsCaBackend, self).__init__(kms, params)
        self.key = KeyPairSource(kms, params["keypair"])
        self.spki = self.key.spki
        self.certified = "key pair %r" % self.key.name

    def issue(self, name, wanted, params):
        self.certify(name, wanted, params, public_key_id=self.key.public_key_id, subject=wanted["subject"])


class CsrBackend(IssuedBackend):
    """A certificate for a CSR made elsewhere (its private key never comes near the KMS)."""

    def __init__(self, kms, params):
        super(CsrBackend, self).__init__(kms, params)
        self.csr = load_csr(params)[0]
        self.spki = spki_der(self.csr.public_key())
        self.certified = "the CSR's public key"

    def issue(self, name, wanted, params):
        from cryptography.hazmat.primitives import serialization
        self.certify(name, wanted, params, csr_pem=self.csr.public_bytes(serialization.Encoding.PEM))


BACKENDS = {"selfsigned": SelfSignedBackend, "kms_ca": KmsCaBackend, "csr": CsrBackend}
PROVIDERS = tuple(BACKENDS)
