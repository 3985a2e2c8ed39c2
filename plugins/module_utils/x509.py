# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""X.509 without the KMS: what a task asks a certificate to contain, what a certificate or a
CSR contains, how they differ, and the OpenSSL extension-config text Cosmian's Certify reads.

Options, certificates and CSRs are reduced to one comparable *content* (subject, subject
alternative names and the managed extensions). ``cryptography`` is imported inside
functions, so this file imports with the standard library alone; the module reports a
missing ``cryptography`` (:func:`pem.cryptography_problem`) before any KMS call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import re

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import der_to_pem, fingerprint_sha256
from ansible_collections.pkimanager.kms.plugins.module_utils.x509_keys import key_facts
from ansible_collections.pkimanager.kms.plugins.module_utils.x509_urls import (
    AIA_OID, CDP_OID, URL_OPTIONS, adopt_csr_urls, config_lines, requested_urls, urls_of)

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
                  "authorityKeyIdentifier": "2.5.29.35", "crlDistributionPoints": CDP_OID,
                  "authorityInfoAccess": AIA_OID}
# What is compared between the task and an existing certificate (validity dates are not); the
# URL options only when the task sets them.
CONTENT_FIELDS = ("subject", "subject_alt_names", "key_usage", "key_usage_critical", "extended_key_usage",
                  "extended_key_usage_critical", "basic_constraints") + tuple(URL_OPTIONS)
# A SAN value goes into an INI line that Cosmian splits on commas: no commas, and nothing its
# INI reader would unquote, unescape or cut as a comment (quotes, backslashes, white space).
_SAN_FORBIDDEN = re.compile(r"[\s,\"'\\]")
_DNS_NAME = re.compile(r"^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:.+$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


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
    content.update(urls_of(by_oid))
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
    urls, found = requested_urls(params)
    content.update(urls)
    problems += found
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
    return problems + adopt_csr_urls(content, params, carried)


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
    lines += config_lines(content)
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
            for field in CONTENT_FIELDS if existing.get(field) != wanted[field]
            and not (field in URL_OPTIONS and wanted[field] is None)]


def _shown(value):
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (k, value[k]) for k in sorted(value))
    return str(value)


def facts(der):
    """What a module returns about a certificate (``pem`` included, key material never)."""
    from cryptography import x509
    cert = x509.load_der_x509_certificate(der)
    not_before, not_after = validity(cert)
    result = dict((k, v) for k, v in content_of(cert).items() if k != "extension_oids")
    result.update({"pem": der_to_pem("CERTIFICATE", der), "serial_number": cert.serial_number,
                   "issuer": name_fields(cert.issuer), "not_before": ops.iso_utc(not_before),
                   "not_after": ops.iso_utc(not_after), "fingerprint_sha256": fingerprint_sha256(der)})
    result.update(key_facts(cert))
    return result
