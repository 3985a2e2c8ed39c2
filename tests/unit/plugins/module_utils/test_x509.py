# -*- coding: utf-8 -*-
"""kms_certificate's pure part: option validation, content comparison, extension-config text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import x509 as certs
from ansible_collections.pkimanager.kms.plugins.module_utils.certificate import Certificate
from ansible_collections.pkimanager.kms.plugins.module_utils.issuers import default_validity_days

PRESENT = {"name": "www-cert", "state": "present", "provider": "kms_ca", "keypair": "www", "issuer": "root",
           "csr_path": None, "csr_content": None, "subject": {"CN": "www.example.test"}, "subject_alt_names": None,
           "key_usage": None, "key_usage_critical": True, "extended_key_usage": None,
           "extended_key_usage_critical": False, "basic_constraints": None, "validity_days": 90,
           "renew_before_days": 30, "revocation_reason": "CessationOfOperation", "revocation_message": None,
           "regenerate": "mismatch", "dest": None, "chain_dest": None, "fullchain_dest": None}


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_csr(key, *extensions, cn="csr.example.test"):
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def key_usage(**bits):
    fields = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                            "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
    fields.update(bits)
    return x509.KeyUsage(**fields)


def csr_params(pem, **options):
    return dict(PRESENT, provider="csr", keypair=None, subject=None, csr_content=pem, **options)


# -- subject alternative names -------------------------------------------------------

@pytest.mark.parametrize("entry, normalized", [
    ("DNS:www.example.test", "DNS:www.example.test"),
    ("dns:*.example.test", "DNS:*.example.test"),
    ("IP:192.0.2.1", "IP:192.0.2.1"),
    ("ip:2001:DB8:0:0::1", "IP:2001:db8::1"),
    ("email:ops@example.test", "email:ops@example.test"),
    ("URI:https://example.test/a;b=c?d#e", "URI:https://example.test/a;b=c?d#e"),
])
def test_san_entries_are_normalized(entry, normalized):
    assert certs.normalize_san(entry) == normalized


@pytest.mark.parametrize("entry, fragment", [
    ("www.example.test", "needs one of the type prefixes DNS:, IP:, email:, URI:"),
    ("RID:1.2.3", "needs one of the type prefixes"),
    ("DNS:", "must be non-empty"),
    ("DNS:a,b", "without spaces, commas"),
    ("DNS:a b", "without spaces, commas"),
    ("URI:http://x/\"a\"", "quotes or backslashes"),
    ("DNS:a\\b", "quotes or backslashes"),
    ("IP:300.1.1.1", "is not an IPv4 or IPv6 address"),
    ("DNS:-bad-.test", "is not a DNS name"),
    ("email:nobody", "is not an e-mail address"),
    ("URI:/relative", "is not an absolute URI"),
])
def test_bad_san_entries_say_what_is_accepted(entry, fragment):
    with pytest.raises(ValueError) as error:
        certs.normalize_san(entry)
    assert fragment in str(error.value) and repr(entry) in str(error.value)


# -- validation ----------------------------------------------------------------------

def test_a_complete_leaf_request_is_valid():
    params = dict(PRESENT, subject_alt_names=["DNS:www.example.test"], key_usage=["digitalSignature"],
                  extended_key_usage=["serverAuth"])
    assert Certificate.validate(params) == []


@pytest.mark.parametrize("options, fragment", [
    ({"name": "-x"}, "name must be 1 to 128 characters"),
    ({"subject": {"CN": "x", "SN": "y"}}, "subject: unknown fields SN; accepted: CN, O, OU, C, ST, L, emailAddress"),
    ({"subject": {"C": "FRA"}}, "subject.C must be a two-letter ISO 3166 country code"),
    ({"subject": {"CN": "x" * 65}}, "subject.CN is longer than the 64 characters"),
    ({"subject": {"CN": " "}}, "subject.CN must be a non-empty string"),
    ({"subject": {}}, "subject must name at least one field"),
    ({"key_usage": ["signEverything"]}, "key_usage: unknown 'signEverything'; accepted: digitalSignature,"),
    ({"extended_key_usage": ["anyExtendedKeyUsage"]}, "extended_key_usage: unknown 'anyExtendedKeyUsage'"),
    ({"basic_constraints": {"ca": False, "path_length": 1, "critical": True}}, "only with basic_constraints.ca=true"),
    ({"validity_days": 0}, "validity_days must be 1 or more"),
    ({"renew_before_days": -1}, "renew_before_days must be 0 or more"),
    ({"csr_content": "x"}, "csr_content is not used with provider=kms_ca"),
    ({"revocation_message": "why"}, "revocation_message is only used with state=revoked or state=absent"),
    ({"subject_alt_names": ["www.example.test"]}, "needs one of the type prefixes"),
    ({"name": "www-cert\n"}, "name must be 1 to 128 characters"),
    ({"keypair": ""}, "keypair: name must be 1 to 128 characters"),
    ({"issuer": "root\n"}, "issuer: name must be 1 to 128 characters"),
    ({"issuer": '["_cert"]'}, "issuer: name must be 1 to 128 characters"),
])
def test_refused_options_say_why(options, fragment):
    problems = Certificate.validate(dict(PRESENT, **options))
    assert len(problems) == 1 and fragment in problems[0], problems


def test_other_states_only_check_the_name():
    assert Certificate.validate(dict(PRESENT, state="absent", provider=None, subject={"bad": 1})) == []
    assert Certificate.validate(dict(PRESENT, state="revoked", revocation_message="lost")) == []


@pytest.mark.parametrize("content, fragment", [
    ("not a csr", "csr_content is not a PEM certificate signing request"),
    ("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
     "csr_content is not a PEM certificate signing request"),
])
def test_garbage_csr_is_refused(content, fragment):
    problems = Certificate.validate(csr_params(content))
    assert len(problems) == 1 and fragment in problems[0]


def test_unreadable_csr_path_is_refused(tmp_path):
    problems = Certificate.validate(dict(csr_params(None), csr_path=str(tmp_path / "missing.csr")))
    assert len(problems) == 1 and "cannot be read" in problems[0]


def test_csr_with_a_broken_signature_is_refused(key):
    csr = x509.load_pem_x509_csr(make_csr(key).encode())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 1
    pem = "-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n" % (
        base64.b64encode(bytes(der)).decode())
    problems = Certificate.validate(csr_params(pem))
    assert problems == ["csr_content: the CSR's signature does not match its public key"]


def test_subject_and_keypair_do_not_go_with_a_csr(key):
    problems = Certificate.validate(dict(csr_params(make_csr(key)), subject={"CN": "x"}, keypair="www"))
    assert problems == ["keypair is not used with provider=csr",
                        "subject is not used with provider=csr (the subject comes from the CSR)"]


# -- what is requested ---------------------------------------------------------------

def test_self_signed_defaults_to_a_ca():
    content, problems = certs.requested_content(dict(PRESENT, provider="selfsigned", issuer=None))
    assert problems == []
    assert content["basic_constraints"] == {"ca": True, "path_length": None, "critical": True}
    assert content["key_usage"] == ["keyCertSign", "cRLSign"] and content["key_usage_critical"] is True


def test_leaf_defaults_to_no_ca_and_no_key_usage():
    content = certs.requested_content(PRESENT)[0]
    assert content["basic_constraints"]["ca"] is False
    assert content["key_usage"] == [] and content["key_usage_critical"] is None
    assert content["subject"] == {"CN": "www.example.test"}


@pytest.mark.parametrize("provider, constraints, days", [
    ("selfsigned", None, 3650), ("selfsigned", {"ca": False}, 365), ("kms_ca", None, 365),
    ("kms_ca", {"ca": True}, 3650),
])
def test_default_validity_is_ca_sized_for_a_ca_only(provider, constraints, days):
    """validity_days unset: ten years for a CA, one for anything else (issued ones are capped by
    their issuer's remaining validity; tests/integration/test_kms_certificate.py shows it)."""
    params = dict(PRESENT, provider=provider, basic_constraints=constraints, validity_days=None,
                  issuer=None if provider == "selfsigned" else "root")
    assert Certificate.validate(params) == []
    assert default_validity_days(certs.requested_content(params)[0]) == days


def test_names_are_matched_without_case_and_deduplicated():
    content = certs.requested_content(dict(PRESENT, key_usage=["crlsign", "KeyCertSign", "cRLSign"],
                                           extended_key_usage=["SERVERAUTH", "clientAuth"],
                                           subject_alt_names=["dns:b.test", "DNS:a.test", "DNS:b.test"]))[0]
    assert content["key_usage"] == ["keyCertSign", "cRLSign"]
    assert content["extended_key_usage"] == ["clientAuth", "serverAuth"]
    assert content["subject_alt_names"] == ["DNS:a.test", "DNS:b.test"]


def test_a_csr_brings_its_subject_and_extensions(key):
    pem = make_csr(key, (x509.SubjectAlternativeName([x509.DNSName("csr.example.test")]), False),
                   (key_usage(digital_signature=True), True),
                   (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False))
    content, problems = certs.requested_content(csr_params(pem, extended_key_usage=["clientAuth"]),
                                                x509.load_pem_x509_csr(pem.encode()))
    assert problems == []
    assert content["subject"] == {"CN": "csr.example.test"}
    assert content["subject_alt_names"] == ["DNS:csr.example.test"]
    assert content["key_usage"] == ["digitalSignature"] and content["key_usage_critical"] is True
    assert content["extended_key_usage"] == ["clientAuth"]
    assert content["basic_constraints"] == {"ca": False, "path_length": None, "critical": True}


def test_options_that_contradict_the_csr_are_refused(key):
    pem = make_csr(key, (x509.SubjectAlternativeName([x509.DNSName("csr.example.test")]), False),
                   (key_usage(digital_signature=True), False))
    problems = Certificate.validate(csr_params(pem, subject_alt_names=["DNS:other.test"], key_usage=["digitalSignature"]))
    assert len(problems) == 2
    assert problems[0].startswith("the CSR already carries subject_alt_names=['DNS:csr.example.test']")
    assert "leave subject_alt_names unset or make it equal" in problems[0]
    assert "key_usage_critical=False" in problems[1]


def test_a_csr_cannot_make_itself_a_ca(key):
    pem = make_csr(key, (x509.BasicConstraints(ca=True, path_length=None), True))
    problems = Certificate.validate(csr_params(pem))
    assert problems == ["the CSR asks for a CA certificate (basicConstraints CA:TRUE); set basic_constraints.ca=true "
                        "to issue one"]
    constraints = {"ca": True, "path_length": None, "critical": True}
    assert Certificate.validate(csr_params(pem, basic_constraints=constraints)) == []


# -- extension-config text -----------------------------------------------------------

def test_self_signed_ca_config():
    content = certs.requested_content(dict(PRESENT, provider="selfsigned", issuer=None,
                                           basic_constraints={"ca": True, "path_length": 1, "critical": True}))[0]
    assert certs.extension_config(content, authority_key_id=False) == (
        "[v3_ca]\n"
        "basicConstraints=critical,CA:TRUE,pathlen:1\n"
        "keyUsage=critical,keyCertSign,crlSign\n"
        "subjectKeyIdentifier=hash\n")


def test_leaf_config_has_every_extension_once_without_spaces():
    content = certs.requested_content(dict(
        PRESENT, subject_alt_names=["DNS:www.example.test", "IP:127.0.0.1", "email:a@example.test"],
        key_usage=["keyEncipherment", "digitalSignature"], extended_key_usage=["serverAuth", "clientAuth"],
        extended_key_usage_critical=True))[0]
    assert certs.extension_config(content, authority_key_id=True) == (
        "[v3_ca]\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=critical,clientAuth,serverAuth\n"
        "subjectAltName=DNS:www.example.test,IP:127.0.0.1,email:a@example.test\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n")


def test_config_leaves_out_what_the_csr_carries(key):
    pem = make_csr(key, (x509.SubjectAlternativeName([x509.DNSName("csr.example.test")]), False),
                   (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False))
    content = certs.requested_content(csr_params(pem), x509.load_pem_x509_csr(pem.encode()))[0]
    assert certs.extension_config(content, True, content["csr_extension_oids"]) == (
        "[v3_ca]\nbasicConstraints=critical,CA:FALSE\nauthorityKeyIdentifier=keyid\n")


# -- comparing with an existing certificate ------------------------------------------

def issue(key, subject, extensions, issuer_key=None, issuer_name=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=10)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key or key, hashes.SHA256())


def test_a_certificate_built_as_requested_has_no_differences(key):
    content = certs.requested_content(dict(
        PRESENT, subject_alt_names=["DNS:www.example.test", "IP:::1"], key_usage=["digitalSignature"],
        extended_key_usage=["serverAuth"]))[0]
    cert = issue(key, "www.example.test", [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (key_usage(digital_signature=True), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("::1")),
                                      x509.DNSName("www.example.test")]), False)])
    assert certs.differences(content, certs.content_of(cert)) == []
    changed = dict(content, subject_alt_names=["DNS:new.example.test"], extended_key_usage_critical=True)
    assert certs.differences(changed, certs.content_of(cert)) == [
        "subject_alt_names is ['DNS:www.example.test', 'IP:::1'], requested ['DNS:new.example.test']",
        "extended_key_usage_critical is False, requested True"]


def test_a_duplicated_extension_is_the_one_difference():
    assert certs.differences(certs.requested_content(PRESENT)[0], {"duplicate_extension": "2.5.29.17"}) == [
        "the certificate carries extension 2.5.29.17 more than once"]


def test_signed_by_checks_names_and_signature(key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = issue(key, "Root", [])
    leaf = issue(other, "leaf", [], issuer_key=key, issuer_name=root.subject)
    forged = issue(other, "leaf", [], issuer_key=other, issuer_name=root.subject)
    assert certs.signed_by(root, root) and certs.signed_by(leaf, root)
    assert not certs.signed_by(forged, root) and not certs.signed_by(leaf, leaf)


def test_facts_have_no_private_material_and_iso_dates(key):
    cert = issue(key, "Root", [(x509.BasicConstraints(ca=True, path_length=0), True)])
    shown = certs.facts(cert.public_bytes(serialization.Encoding.DER))
    assert shown["subject"] == shown["issuer"] == {"CN": "Root"}
    assert shown["basic_constraints"] == {"ca": True, "path_length": 0, "critical": True}
    assert shown["not_after"].endswith("Z") and len(shown["fingerprint_sha256"].split(":")) == 32
    assert shown["pem"].startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE" not in str(shown)


@pytest.mark.parametrize("value", ["fault\ninjected.example", "Evil\x00Corp", "tab\there", "del\x7f", "c1\x85"])
def test_subject_values_with_control_characters_are_refused(value):
    """A newline or NUL in a subject would be issued as is and confuse every reader of it."""
    problems = certs.subject_problems({"CN": value})
    assert problems and "control characters" in problems[0]


def test_subject_values_with_ordinary_unicode_pass():
    assert certs.subject_problems({"CN": "Zürich Root CA", "O": "Ōkami & Co., Ltd."}) == []
