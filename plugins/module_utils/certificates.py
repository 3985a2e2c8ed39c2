# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""X.509 certificates issued by Cosmian KMS: what a task asks for, what exists, how they differ.

The pure part (no KMS, no Ansible) validates the options, reduces a certificate, a CSR or
the options to one comparable *content* (subject, subject alternative names and the
managed extensions), and writes the OpenSSL extension-config text Cosmian's Certify reads.
Then one small backend per provider (where the public key comes from, who signs, how to
issue) and the manager that brings one certificate name to the requested state.

``cryptography`` is imported inside functions, so this file imports with the standard
library alone; :func:`validate` reports when it is missing before any KMS call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import re

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.files import destination_problems, write_text_file
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import der_to_pem, fingerprint_sha256

PROVIDERS = ("selfsigned", "kms_ca", "csr")
# Subject fields: the option's key -> (OID, upper bound OpenSSL enforces on the value).
SUBJECT_OIDS = {"CN": ("2.5.4.3", 64), "O": ("2.5.4.10", 64), "OU": ("2.5.4.11", 64), "C": ("2.5.4.6", 2),
                "ST": ("2.5.4.8", 128), "L": ("2.5.4.7", 128), "emailAddress": ("1.2.840.113549.1.9.1", 128)}
SAN_TYPES = ("DNS", "IP", "email", "URI")
# keyUsage: the OpenSSL name users write -> (the spelling Cosmian 5.28 parses, cryptography's field).
# Cosmian refuses OpenSSL's own "cRLSign" and wants "crlSign".
KEY_USAGES = {
    "digitalSignature": ("digitalSignature", "digital_signature"),
    "nonRepudiation": ("nonRepudiation", "content_commitment"),
    "keyEncipherment": ("keyEncipherment", "key_encipherment"),
    "dataEncipherment": ("dataEncipherment", "data_encipherment"),
    "keyAgreement": ("keyAgreement", "key_agreement"),
    "keyCertSign": ("keyCertSign", "key_cert_sign"),
    "cRLSign": ("crlSign", "crl_sign"),
    "encipherOnly": ("encipherOnly", "encipher_only"),
    "decipherOnly": ("decipherOnly", "decipher_only"),
}
# extendedKeyUsage: the names Cosmian 5.28's extension parser knows, and their OIDs.
EXTENDED_KEY_USAGES = {
    "serverAuth": "1.3.6.1.5.5.7.3.1", "clientAuth": "1.3.6.1.5.5.7.3.2", "codeSigning": "1.3.6.1.5.5.7.3.3",
    "emailProtection": "1.3.6.1.5.5.7.3.4", "timeStamping": "1.3.6.1.5.5.7.3.8", "OCSPSigning": "1.3.6.1.5.5.7.3.9",
    "ipsecIKE": "1.3.6.1.5.5.7.3.17", "msCodeInd": "1.3.6.1.4.1.311.2.1.21", "msCodeCom": "1.3.6.1.4.1.311.2.1.22",
    "msCTLSign": "1.3.6.1.4.1.311.10.3.1", "msSGC": "1.3.6.1.4.1.311.10.3.3", "msEFS": "1.3.6.1.4.1.311.10.3.4",
    "nsSGC": "2.16.840.1.113730.4.1",
}
# The extensions this collection writes, by OpenSSL config key.
EXTENSION_OIDS = {"basicConstraints": "2.5.29.19", "keyUsage": "2.5.29.15", "extendedKeyUsage": "2.5.29.37",
                  "subjectAltName": "2.5.29.17", "subjectKeyIdentifier": "2.5.29.14",
                  "authorityKeyIdentifier": "2.5.29.35"}
# What is compared between the task and an existing certificate (validity dates are not).
CONTENT_FIELDS = ("subject", "subject_alt_names", "key_usage", "key_usage_critical", "extended_key_usage",
                  "extended_key_usage_critical", "basic_constraints")
# A SAN value goes into an INI line that Cosmian splits on commas: no commas, and nothing its
# INI reader would unquote, unescape or cut as a comment (quotes, backslashes, white space).
_SAN_FORBIDDEN = re.compile(r"[\s,\"'\\]")
_DNS_NAME = re.compile(r"^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:.+$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
MAX_CHAIN_LENGTH = 10
# validity_days when the task does not set it: CA-sized for a CA, and a leaf's fits under it.
# A certificate signed by an issuer never gets more by default than the issuer has left.
DEFAULT_CA_VALIDITY_DAYS = 3650
DEFAULT_VALIDITY_DAYS = 365
DESTINATIONS = ("dest", "chain_dest", "fullchain_dest")


# -- the pure part -------------------------------------------------------------------

def cryptography_problem():
    """Why ``cryptography`` cannot be used here, or None."""
    try:
        from cryptography import x509  # noqa: F401  pylint: disable=unused-import
    except ImportError as exc:
        return "the Python library cryptography is required on the managed node (%s)" % exc
    return None


def validity(cert):
    """(notBefore, notAfter) as aware UTC datetimes (``*_utc`` only exists since cryptography 42)."""
    if hasattr(cert, "not_valid_after_utc"):
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    utc = datetime.timezone.utc
    return cert.not_valid_before.replace(tzinfo=utc), cert.not_valid_after.replace(tzinfo=utc)


def normalize_san(entry):
    """``dns:Example.test`` -> ``DNS:Example.test``; raises ValueError saying what is accepted."""
    prefix, sep, value = (entry or "").partition(":")
    kind = dict((t.lower(), t) for t in SAN_TYPES).get(prefix.strip().lower()) if sep else None
    if kind is None:
        raise ValueError("subject_alt_names entry %r needs one of the type prefixes %s (for example "
                         "DNS:www.example.com)" % (entry, ", ".join(t + ":" for t in SAN_TYPES)))
    if not value or _SAN_FORBIDDEN.search(value):
        raise ValueError("subject_alt_names entry %r: the value must be non-empty, without spaces, commas, quotes "
                         "or backslashes" % entry)
    if kind == "IP":
        try:
            return "IP:%s" % ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("subject_alt_names entry %r is not an IPv4 or IPv6 address" % entry)
    if kind == "DNS" and not _DNS_NAME.match(value):
        raise ValueError("subject_alt_names entry %r is not a DNS name (use punycode for IDNs)" % entry)
    if kind == "email" and "@" not in value:
        raise ValueError("subject_alt_names entry %r is not an e-mail address" % entry)
    if kind == "URI" and not _URI.match(value):
        raise ValueError("subject_alt_names entry %r is not an absolute URI (scheme:...)" % entry)
    return "%s:%s" % (kind, value)


def _canonical(names, table, option):
    """Known names in their canonical spelling (matched case-insensitively), and the unknown ones."""
    by_lower = dict((name.lower(), name) for name in table)
    known = sorted(set(by_lower[n.lower()] for n in names if n.lower() in by_lower), key=list(table).index)
    unknown = [n for n in names if n.lower() not in by_lower]
    problems = ["%s: unknown %s; accepted: %s" % (option, ", ".join(repr(n) for n in unknown), ", ".join(table))
                ] if unknown else []
    return known, problems


def subject_problems(subject):
    problems = []
    unknown = sorted(set(subject) - set(SUBJECT_OIDS))
    if unknown:
        problems.append("subject: unknown fields %s; accepted: %s" % (", ".join(unknown), ", ".join(SUBJECT_OIDS)))
    for key, value in sorted(subject.items()):
        if key not in SUBJECT_OIDS:
            continue
        limit = SUBJECT_OIDS[key][1]
        if not isinstance(value, str) or not value.strip():
            problems.append("subject.%s must be a non-empty string" % key)
        elif any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in value):
            problems.append("subject.%s must not hold control characters (newline, tab, NUL...), got %r"
                            % (key, value))
        elif key == "C" and not _COUNTRY.match(value):
            problems.append("subject.C must be a two-letter ISO 3166 country code such as FR, got %r" % value)
        elif len(value) > limit:
            problems.append("subject.%s is longer than the %d characters X.509 allows" % (key, limit))
    if not subject:
        problems.append("subject must name at least one field, for example CN")
    return problems


def name_fields(name):
    """An X.509 Name as a dict: our subject keys where known, dotted OIDs otherwise."""
    by_oid = dict((oid, key) for key, (oid, _limit) in SUBJECT_OIDS.items())
    return dict((by_oid.get(attr.oid.dotted_string, attr.oid.dotted_string), attr.value) for attr in name)


def _general_name(name):
    from cryptography import x509
    kinds = ((x509.DNSName, "DNS"), (x509.IPAddress, "IP"), (x509.RFC822Name, "email"),
             (x509.UniformResourceIdentifier, "URI"))
    for cls, kind in kinds:
        if isinstance(name, cls):
            return "%s:%s" % (kind, name.value)
    return "%s:%s" % (type(name).__name__, name.value)


def content_of(obj):
    """The comparable content of a certificate or CSR (anything with subject and extensions).

    An extension present twice makes cryptography refuse all of them: the content then
    says which one, under ``duplicate_extension``, and has no extension fields.
    """
    from cryptography import x509
    content = {"subject": name_fields(obj.subject)}
    try:
        extensions = obj.extensions
    except x509.DuplicateExtension as exc:
        content["duplicate_extension"] = exc.oid.dotted_string
        return content
    by_oid = dict((ext.oid.dotted_string, ext) for ext in extensions)
    san = by_oid.get(EXTENSION_OIDS["subjectAltName"])
    content["subject_alt_names"] = sorted(_general_name(n) for n in san.value) if san else []
    usage = by_oid.get(EXTENSION_OIDS["keyUsage"])
    content["key_usage"] = [name for name, (_cosmian, field) in KEY_USAGES.items()
                            if usage and _key_usage_bit(usage.value, field)]
    content["key_usage_critical"] = usage.critical if usage else None
    extended = by_oid.get(EXTENSION_OIDS["extendedKeyUsage"])
    by_eku_oid = dict((oid, name) for name, oid in EXTENDED_KEY_USAGES.items())
    content["extended_key_usage"] = sorted(by_eku_oid.get(o.dotted_string, o.dotted_string)
                                           for o in extended.value) if extended else []
    content["extended_key_usage_critical"] = extended.critical if extended else None
    constraints = by_oid.get(EXTENSION_OIDS["basicConstraints"])
    content["basic_constraints"] = {"ca": constraints.value.ca, "path_length": constraints.value.path_length,
                                    "critical": constraints.critical} if constraints else None
    content["extension_oids"] = sorted(by_oid)
    return content


def _key_usage_bit(usage, field):
    """encipherOnly and decipherOnly raise unless keyAgreement is set: then they are off."""
    try:
        return getattr(usage, field)
    except ValueError:
        return False


def load_csr(params):
    """(csr, problems) from csr_content or csr_path: parsed, signature checked, each extension once."""
    from cryptography import x509
    text, source = params.get("csr_content"), "csr_content"
    if params.get("csr_path"):
        source = "csr_path %s" % params["csr_path"]
        try:
            with open(params["csr_path"], "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
        except (IOError, OSError) as exc:
            return None, ["%s cannot be read: %s" % (source, exc)]
    try:
        csr = x509.load_pem_x509_csr((text or "").encode("utf-8"))
    except ValueError:
        return None, ["%s is not a PEM certificate signing request (PKCS#10 between -----BEGIN CERTIFICATE "
                      "REQUEST----- and -----END CERTIFICATE REQUEST-----)" % source]
    if not csr.is_signature_valid:
        return None, ["%s: the CSR's signature does not match its public key" % source]
    duplicate = content_of(csr).get("duplicate_extension")
    if duplicate:
        return None, ["%s: the CSR carries extension %s more than once" % (source, duplicate)]
    return csr, []


def requested_content(params, csr=None):
    """(content, problems): what the certificate must contain, from the options and the CSR.

    Unset options take defaults: a self-signed certificate is a CA, the others are not,
    and a CA gets keyUsage keyCertSign and cRLSign. With a CSR, see :func:`_adopt_csr`.
    """
    problems = []
    sans = []
    for entry in params.get("subject_alt_names") or []:
        try:
            sans.append(normalize_san(entry))
        except ValueError as exc:
            problems.append(str(exc))
    key_usage, found = _canonical(params.get("key_usage") or [], KEY_USAGES, "key_usage")
    problems += found
    extended, found = _canonical(params.get("extended_key_usage") or [], EXTENDED_KEY_USAGES, "extended_key_usage")
    problems += found
    constraints = {"ca": params["provider"] == "selfsigned", "path_length": None, "critical": True}
    constraints.update((k, v) for k, v in (params.get("basic_constraints") or {}).items() if v is not None)
    if constraints["path_length"] is not None and (constraints["path_length"] < 0 or not constraints["ca"]):
        problems.append("basic_constraints.path_length must be 0 or more, and only with basic_constraints.ca=true")
    if params.get("key_usage") is None and constraints["ca"]:
        key_usage = ["keyCertSign", "cRLSign"]
    content = {
        "subject_alt_names": sorted(set(sans)),
        "key_usage": key_usage,
        "key_usage_critical": bool(params.get("key_usage_critical", True)) if key_usage else None,
        "extended_key_usage": sorted(extended),
        "extended_key_usage_critical": bool(params.get("extended_key_usage_critical")) if extended else None,
        "basic_constraints": constraints,
    }
    if csr is None:
        subject = params.get("subject") or {}
        return dict(content, subject=dict(subject)), problems + subject_problems(subject)
    return content, problems + _adopt_csr(content, params, csr)


def _adopt_csr(content, params, csr):
    """Take the CSR's subject and extensions into ``content``; problems where options contradict them.

    The KMS copies every extension of a CSR into the certificate, and adding one again
    would make it appear twice: a CSR's extension is therefore what is requested, and an
    option that asks for something else cannot be honoured. A CSR cannot make itself a CA.
    """
    problems = []
    carried = content_of(csr)
    content["subject"] = carried["subject"]
    content["csr_extension_oids"] = carried["extension_oids"]
    for field in ("subject_alt_names", "key_usage", "extended_key_usage", "basic_constraints"):
        if carried[field] in ([], None):
            continue
        fields = [f for f in (field, field + "_critical") if f in carried]
        if params.get(field) is None:
            content.update((f, carried[f]) for f in fields)
        elif any(content[f] != carried[f] for f in fields):
            problems.append("the CSR already carries %s, and the KMS copies a CSR's extensions into the certificate: "
                            "leave %s unset or make it equal" % (", ".join("%s=%s" % (f, _shown(carried[f]))
                                                                           for f in fields), field))
    if content["basic_constraints"]["ca"] and not (params.get("basic_constraints") or {}).get("ca"):
        problems.append("the CSR asks for a CA certificate (basicConstraints CA:TRUE); set basic_constraints.ca=true "
                        "to issue one")
    return problems


def extension_config(content, authority_key_id, present_oids=()):
    """The ``[v3_ca]`` OpenSSL config text for Certify: each managed extension once.

    Extensions whose OID is in ``present_oids`` (a CSR's, which the KMS copies) are left
    out, so none appears twice. Cosmian's parser splits values on commas without
    trimming, hence no spaces.
    """
    lines = []
    constraints = content["basic_constraints"]
    if constraints:
        value = ["CA:TRUE" if constraints["ca"] else "CA:FALSE"]
        if constraints["path_length"] is not None:
            value.append("pathlen:%d" % constraints["path_length"])
        lines.append(("basicConstraints", constraints["critical"], value))
    if content["key_usage"]:
        lines.append(("keyUsage", content["key_usage_critical"], [KEY_USAGES[k][0] for k in content["key_usage"]]))
    if content["extended_key_usage"]:
        lines.append(("extendedKeyUsage", content["extended_key_usage_critical"], content["extended_key_usage"]))
    if content["subject_alt_names"]:
        lines.append(("subjectAltName", False, content["subject_alt_names"]))
    lines.append(("subjectKeyIdentifier", False, ["hash"]))
    if authority_key_id:
        lines.append(("authorityKeyIdentifier", False, ["keyid"]))
    text = ["[v3_ca]"] + ["%s=%s" % (key, ",".join((["critical"] if critical else []) + values))
                          for key, critical, values in lines if EXTENSION_OIDS[key] not in present_oids]
    return "\n".join(text) + "\n"


def differences(wanted, existing):
    """Why an existing certificate's content is not the requested one (empty when it is)."""
    if existing.get("duplicate_extension"):
        return ["the certificate carries extension %s more than once" % existing["duplicate_extension"]]
    return ["%s is %s, requested %s" % (field, _shown(existing.get(field)), _shown(wanted[field]))
            for field in CONTENT_FIELDS if existing.get(field) != wanted[field]]


def _shown(value):
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (k, value[k]) for k in sorted(value))
    return str(value)


def signed_by(cert, issuer):
    """True when ``issuer`` (a certificate) issued ``cert``: names chain and the RSA signature verifies."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding
    if cert.issuer != issuer.subject:
        return False
    try:
        issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                                   cert.signature_hash_algorithm)
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def spki_der(public_key):
    from cryptography.hazmat.primitives import serialization
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def facts(der):
    """What a module returns about a certificate (``pem`` included, key material never)."""
    from cryptography import x509
    cert = x509.load_der_x509_certificate(der)
    not_before, not_after = validity(cert)
    result = dict((k, v) for k, v in content_of(cert).items() if k != "extension_oids")
    result.update({"pem": der_to_pem("CERTIFICATE", der), "serial_number": cert.serial_number,
                   "issuer": name_fields(cert.issuer), "not_before": ops.iso_utc(not_before),
                   "not_after": ops.iso_utc(not_after), "fingerprint_sha256": fingerprint_sha256(der)})
    return result


def default_validity_days(wanted):
    """validity_days when the task leaves it unset (before an issuer's cap, see IssuedBackend)."""
    return DEFAULT_CA_VALIDITY_DAYS if wanted["basic_constraints"]["ca"] else DEFAULT_VALIDITY_DAYS


def validate(params):
    """Every problem with the options that can be seen without the KMS."""
    missing = cryptography_problem()
    if missing:
        return [missing]
    problems = []
    name_problem = ops.object_name_problem(params["name"])
    if name_problem:
        problems.append(name_problem)
    if params["revocation_message"] and params["state"] == "present":
        problems.append("revocation_message is only used with state=revoked or state=absent")
    if params["state"] != "present":
        return problems
    for option in ("keypair", "issuer"):
        name_problem = ops.object_name_problem(params[option]) if params.get(option) is not None else None
        if name_problem:
            problems.append("%s: %s" % (option, name_problem))
    provider = params["provider"]
    misplaced = {"selfsigned": ("issuer", "csr_path", "csr_content"), "kms_ca": ("csr_path", "csr_content"),
                 "csr": ("keypair", "subject")}[provider]
    for option in misplaced:
        if params.get(option) is not None:
            problems.append("%s is not used with provider=%s%s" % (
                option, provider, " (the subject comes from the CSR)" if option == "subject" else ""))
    if params["validity_days"] is not None and params["validity_days"] < 1:
        problems.append("validity_days must be 1 or more")
    if params["renew_before_days"] < 0:
        problems.append("renew_before_days must be 0 or more")
    problems += destination_problems(params, DESTINATIONS)
    csr = None
    if provider == "csr":
        csr, found = load_csr(params)
        problems += found
        if csr is None:
            return problems
    problems += requested_content(params, csr)[1]
    return problems


# -- backends: one per provider ------------------------------------------------------

class Issuer:
    """A certificate in the KMS that signs others: its certificate and its private key's id."""

    def __init__(self, module, name):
        self.module = module
        self.name = name
        attrs = module.call_or_none(ops.get_attributes(name), entity_type="certificate")
        if attrs is None or attrs["state"] in ops.DESTROYED_STATES:
            module.fail_json(msg="issuer %r: there is no certificate of this name in the KMS; issuer must name a "
                             "certificate made with pkimanager.kms.kms_certificate" % name)
        if attrs["object_type"] != "Certificate":
            module.fail_json(msg="issuer %r is a %s in the KMS, not a certificate" % (name, attrs["object_type"]))
        if attrs["state"] != "Active":
            module.fail_json(msg="issuer %r is %s; only an Active certificate can issue" % (name, attrs["state"]))
        self.links = attrs["links"]
        self.private_key_id = attrs["links"].get("PrivateKeyLink")
        if not self.private_key_id:
            module.fail_json(msg="issuer %r has no private key in the KMS (no PrivateKeyLink: a certificate "
                             "made from a CSR cannot issue)" % name)
        from cryptography import x509
        self.der = module.call(ops.get_certificate(name), entity_type="certificate")["der"]
        self.certificate = x509.load_der_x509_certificate(self.der)
        content = content_of(self.certificate)
        if not (content.get("basic_constraints") or {}).get("ca"):
            module.fail_json(msg="issuer %r is not a CA certificate (basicConstraints CA:TRUE is missing)" % name)
        if content["key_usage"] and "keyCertSign" not in content["key_usage"]:
            module.fail_json(msg="issuer %r may not sign certificates (its keyUsage lacks keyCertSign)" % name)
        self.path_length = content["basic_constraints"]["path_length"]

    def days_left(self):
        """Whole days from now until this issuer's certificate expires."""
        return (validity(self.certificate)[1] - ops.utc_now()).days

    def check_can_issue(self, wanted, validity_days):
        """Refuse what the KMS would silently shorten or what would not verify."""
        not_after = validity(self.certificate)[1]
        days_left = self.days_left()
        if days_left < 1:
            self.module.fail_json(msg="issuer %r expires on %s, in less than a day: it cannot issue a certificate"
                                  % (self.name, ops.iso_utc(not_after)))
        if validity_days > days_left:
            self.module.fail_json(msg="validity_days=%d would end after issuer %r expires (%s): at most %d days "
                                  "are possible" % (validity_days, self.name, ops.iso_utc(not_after), days_left))
        if wanted["basic_constraints"]["ca"] and self.path_length == 0:
            self.module.fail_json(msg="issuer %r has pathlen:0 and cannot issue a CA certificate" % self.name)
        key = self.module.call(ops.get_attributes(self.private_key_id), entity_type="private_key")
        if key["state"] != "Active":
            self.module.fail_json(msg="issuer %r cannot sign: its private key %r is %s"
                                  % (self.name, self.private_key_id, key["state"]))

    def chain(self):
        """PEM of this issuer and each issuer above it, following CertificateLink up to the root."""
        pems, name, links, der = [], self.name, self.links, self.der
        while len(pems) < MAX_CHAIN_LENGTH:
            pems.append(der_to_pem("CERTIFICATE", der))
            parent = links.get("CertificateLink")
            if not parent or parent == name:
                break
            links = self.module.call(ops.get_attributes(parent), entity_type="certificate")["links"]
            name, der = parent, self.module.call(ops.get_certificate(parent), entity_type="certificate")["der"]
        return pems


class KeyPairSource:
    """The key pair (made with kms_keypair) whose public key gets certified."""

    def __init__(self, module, name):
        attrs = module.call_or_none(ops.get_attributes(name), entity_type="key_pair")
        if attrs is None or attrs["state"] in ops.DESTROYED_STATES:
            module.fail_json(msg="keypair %r: there is no key pair of this name in the KMS; create it with "
                             "pkimanager.kms.kms_keypair" % name)
        if attrs["object_type"] != "PrivateKey" or not attrs["links"].get("PublicKeyLink"):
            module.fail_json(msg="keypair %r is a %s in the KMS, not a key pair's private key"
                             % (name, attrs["object_type"]))
        if attrs["state"] != "Active":
            module.fail_json(msg="keypair %r is %s; only an Active key pair can be certified" % (name, attrs["state"]))
        self.private_key_id = name
        self.public_key_id = attrs["links"]["PublicKeyLink"]
        self.spki = module.call(ops.get_public_key(self.public_key_id), entity_type="public_key")["der"]


class SelfSignedBackend:
    """A CA certificate for a key pair, signed by the pair's own private key."""

    def __init__(self, module, params):
        self.module = module
        self.key = KeyPairSource(module, params["keypair"])
        self.spki = self.key.spki

    def issuer_mismatch(self, cert):
        if not signed_by(cert, cert):
            return "the certificate is not self-signed"
        return None

    def check_can_issue(self, wanted, params):
        """Nothing to refuse: an Active key pair can always sign for itself, for any validity."""

    def validity_days(self, wanted, params):
        return params["validity_days"] or default_validity_days(wanted)

    def issue(self, name, wanted, params):
        self.module.call(ops.unlink_certificate(self.key.public_key_id), entity_type="public_key")
        self.module.call(ops.certify(
            certificate_id=name, public_key_id=self.key.public_key_id, subject=wanted["subject"],
            validity_days=params["validity_days"], extensions=extension_config(wanted, authority_key_id=False)),
            entity_type="certificate")

    def chain(self):
        return []


class IssuedBackend:
    """What the providers signed by an issuer certificate in the KMS share."""

    def __init__(self, module, params):
        self.module = module
        self.issuer = Issuer(module, params["issuer"])

    def issuer_mismatch(self, cert):
        if not signed_by(cert, self.issuer.certificate):
            return "the certificate was not issued by the current certificate of issuer %r" % self.issuer.name
        return None

    def check_can_issue(self, wanted, params):
        self.issuer.check_can_issue(wanted, params["validity_days"])

    def validity_days(self, wanted, params):
        return params["validity_days"] or min(default_validity_days(wanted), max(self.issuer.days_left(), 0))

    def certify(self, name, wanted, params, **subject):
        """Certify ``subject`` (a public key id and subject, or a CSR) with the issuer's key."""
        self.module.call(ops.certify(
            certificate_id=name, issuer_private_key_id=self.issuer.private_key_id,
            issuer_certificate_id=self.issuer.name, validity_days=params["validity_days"],
            extensions=extension_config(wanted, authority_key_id=True,
                                        present_oids=wanted.get("csr_extension_oids", ())),
            **subject), entity_type="certificate")

    def chain(self):
        return self.issuer.chain()


class KmsCaBackend(IssuedBackend):
    """A certificate for a key pair, signed by an issuer certificate held in the KMS."""

    def __init__(self, module, params):
        super(KmsCaBackend, self).__init__(module, params)
        self.key = KeyPairSource(module, params["keypair"])
        self.spki = self.key.spki

    def issue(self, name, wanted, params):
        self.certify(name, wanted, params, public_key_id=self.key.public_key_id, subject=wanted["subject"])


class CsrBackend(IssuedBackend):
    """A certificate for a CSR made elsewhere (its private key never comes near the KMS)."""

    def __init__(self, module, params):
        super(CsrBackend, self).__init__(module, params)
        self.csr = load_csr(params)[0]
        self.spki = spki_der(self.csr.public_key())

    def issue(self, name, wanted, params):
        from cryptography.hazmat.primitives import serialization
        self.certify(name, wanted, params, csr_pem=self.csr.public_bytes(serialization.Encoding.PEM))


BACKENDS = {"selfsigned": SelfSignedBackend, "kms_ca": KmsCaBackend, "csr": CsrBackend}


# -- the manager ---------------------------------------------------------------------

class CertificateManager:
    """Reads the certificate of one name and brings it to the requested state."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = self.params["name"]
        self.reasons = []
        module.outcome.update(certificate_id=self.name)

    def read(self):
        """dict(state, links, der) of the certificate, or None when the name is free."""
        attrs = self.module.call_or_none(ops.get_attributes(self.name), entity_type="certificate")
        if attrs is None or attrs["state"] in ops.DESTROYED_STATES:
            return None
        if attrs["object_type"] != "Certificate":
            self.module.fail_json(msg="The KMS object %r is a %s, not a certificate; choose another name"
                                  % (self.name, attrs["object_type"]))
        existing = {"state": attrs["state"], "links": attrs["links"], "der": None}
        if attrs["state"] in ops.ACTIVE_STATES:
            existing["der"] = self.module.call(ops.get_certificate(self.name), entity_type="certificate")["der"]
        return existing

    def view(self, existing):
        """The result fields of an existing certificate (revoked ones cannot be read back)."""
        if existing is None:
            return {"state": "absent"}
        shown = facts(existing["der"]) if existing["der"] else {}
        return dict(shown, state=existing["state"])

    # -- states --------------------------------------------------------------------

    def mismatch(self, existing, wanted, backend):
        """Why the certificate must be issued; empty when the existing one can stay."""
        from cryptography import x509
        if existing is None:
            return ["the certificate does not exist"]
        if existing["der"] is None:
            return ["the certificate is %s" % existing["state"]]
        cert = x509.load_der_x509_certificate(existing["der"])
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

    def present(self, existing):
        csr = load_csr(self.params)[0] if self.params["provider"] == "csr" else None
        wanted = requested_content(self.params, csr)[0]
        backend = BACKENDS[self.params["provider"]](self.module, self.params)
        self.reasons += self.mismatch(existing, wanted, backend)
        if not self.reasons:
            return self.view(existing), backend
        params = dict(self.params, validity_days=backend.validity_days(wanted, self.params))
        backend.check_can_issue(wanted, params)
        if self.module.check_mode:
            predicted = dict((k, v) for k, v in wanted.items() if k in CONTENT_FIELDS)
            return dict(predicted, state="Active"), backend
        backend.issue(self.name, wanted, params)
        return self.view(self.read()), backend

    def revoke(self, existing):
        if existing["state"] in ops.REVOKED_STATES:
            return self.view(existing)
        self.reasons.append("revoked (%s)" % self.params["revocation_reason"])
        shown = self.view(existing)
        if self.module.check_mode:
            return dict(shown, state="Compromised" if self.params["revocation_reason"] == "KeyCompromise"
                        else "Deactivated")
        # No cascade: revoking a certificate must not revoke the key pair it certifies.
        self.module.call(ops.revoke(self.name, self.params["revocation_reason"], self.params["revocation_message"],
                                    cascade=False), entity_type="certificate")
        return dict(shown, state=self.read()["state"])

    def destroy(self, existing):
        if existing["state"] in ops.ACTIVE_STATES:
            self.revoke(existing)
        self.reasons.append("destroyed")
        if self.module.check_mode:
            return
        public_key_id = existing["links"].get("PublicKeyLink")
        if public_key_id:
            key = self.module.call_or_none(ops.get_attributes(public_key_id), entity_type="public_key")
            if key and key["links"].get("CertificateLink") == self.name:
                self.module.call(ops.unlink_certificate(public_key_id), entity_type="public_key")
        self.module.call(ops.destroy(self.name, cascade=False, remove=True), entity_type="certificate")

    # -- the run -------------------------------------------------------------------

    def run(self):
        """The module result."""
        before = self.read()
        state = self.params["state"]
        backend = None
        if state == "absent":
            after = {"state": "absent"}
            if before:
                self.destroy(before)
        elif state == "revoked":
            if before is None:
                self.module.fail_json(msg="There is no certificate named %r to revoke" % self.name, changed=False)
            after = self.revoke(before)
        else:
            after, backend = self.present(before)
        if backend and after.get("pem"):
            self.export(after["pem"], backend)
        result = dict(after, certificate_id=self.name, changed=bool(self.reasons),
                      changed_reason="; ".join(self.reasons) or None)
        if self.module._diff:
            result["diff"] = {"before": _diff_view(self.view(before)), "after": _diff_view(after)}
        return result

    def export(self, pem, backend):
        """Write dest, chain_dest and fullchain_dest; only files whose content differs."""
        chain = "".join(backend.chain()) if self.params["chain_dest"] or self.params["fullchain_dest"] else ""
        for option, content in zip(DESTINATIONS, (pem, chain, pem + chain)):
            path = self.params[option]
            if path and write_text_file(self.module, path, content, option=option):
                self.reasons.append("%s %s written" % (option, path))


def _diff_view(shown):
    return dict((k, v) for k, v in shown.items() if k != "pem")
