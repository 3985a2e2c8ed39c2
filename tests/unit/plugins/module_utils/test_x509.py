# -*- coding: utf-8 -*-
"""kms_certificate's pure part: option validation, content comparison, extension-config text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import ipaddress
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import x509 as certs
from ansible_collections.pkimanager.kms.plugins.module_utils.certificate import Certificate
from ansible_collections.pkimanager.kms.plugins.module_utils.issuers import default_validity_days
from ansible_collections.pkimanager.kms.plugins.module_utils import x509_keys as keys

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
    assert keys.signed_by(root, root) and keys.signed_by(leaf, root)
    assert not keys.signed_by(forged, root) and not keys.signed_by(leaf, leaf)


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


# -- every key type: signatures, key usage, PKCS#12 -------------------------------------

def new_key(kind):
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
    curves = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1, "secp256k1": ec.SECP256K1}
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind in curves:
        return ec.generate_private_key(curves[kind]())
    return {"ed25519": ed25519.Ed25519PrivateKey, "ed448": ed448.Ed448PrivateKey}[kind].generate()


def signed(subject_key, subject, issuer_key, issuer_name=None, digest=hashes.SHA256()):
    """A certificate for ``subject_key`` signed by ``issuer_key`` (EdDSA takes no digest)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=10)))
    eddsa = keys.key_type(issuer_key.public_key()) in ("ed25519", "ed448")
    return builder.sign(issuer_key, None if eddsa else digest)


KINDS = ["rsa", "P-256", "P-384", "P-521", "secp256k1", "ed25519", "ed448"]
TYPES = {"rsa": "rsa", "ed25519": "ed25519", "ed448": "ed448"}


@pytest.mark.parametrize("issuer_kind", KINDS)
@pytest.mark.parametrize("subject_kind", ["rsa", "P-256", "ed25519"])
def test_signed_by_verifies_every_issuer_key_type(issuer_kind, subject_kind):
    issuer_key, subject_key, stranger = new_key(issuer_kind), new_key(subject_kind), new_key(issuer_kind)
    root = signed(issuer_key, "Root", issuer_key)
    leaf = signed(subject_key, "leaf", issuer_key, root.subject)
    forged = signed(subject_key, "leaf", stranger, root.subject)
    assert keys.signed_by(root, root) and keys.signed_by(leaf, root)
    assert not keys.signed_by(forged, root)
    assert not keys.signed_by(leaf, leaf)  # the names do not chain
    assert keys.key_facts(leaf)["public_key_type"] == TYPES.get(subject_kind, "ec")


def test_ecdsa_signatures_verify_with_any_digest_and_are_named_like_openssl():
    key = new_key("P-384")
    for digest, name in ((hashes.SHA256(), "ecdsa-with-SHA256"), (hashes.SHA384(), "ecdsa-with-SHA384")):
        cert = signed(key, "Root", key, digest=digest)
        assert keys.signed_by(cert, cert) and keys.key_facts(cert)["signature_algorithm"] == name
    ed = new_key("ed25519")
    assert keys.key_facts(signed(ed, "Root", ed)) == {"public_key_type": "ed25519", "signature_algorithm": "ED25519"}
    rsa_key = new_key("rsa")
    assert keys.key_facts(signed(rsa_key, "Root", rsa_key))["signature_algorithm"] == "sha256WithRSAEncryption"


def test_a_signature_of_another_key_type_does_not_verify():
    rsa_key, ec_key = new_key("rsa"), new_key("P-256")
    rsa_root, ec_root = signed(rsa_key, "Root", rsa_key), signed(ec_key, "Root", ec_key)
    assert not keys.signed_by(rsa_root, ec_root) and not keys.signed_by(ec_root, rsa_root)


@pytest.mark.parametrize("kind, usage, refused", [
    ("rsa", ["digitalSignature", "keyEncipherment"], []),
    ("P-256", ["digitalSignature", "keyAgreement"], []),
    ("P-384", ["digitalSignature", "keyEncipherment"], ["keyEncipherment"]),
    ("ed25519", ["digitalSignature", "keyCertSign", "cRLSign", "nonRepudiation"], []),
    ("ed25519", ["digitalSignature", "keyAgreement", "dataEncipherment"], ["dataEncipherment", "keyAgreement"]),
    ("ed448", ["keyEncipherment"], ["keyEncipherment"]),
])
def test_key_usage_that_a_key_type_cannot_have_is_refused(kind, usage, refused):
    problems = keys.key_usage_problems(usage, new_key(kind).public_key(), "key pair 'k'")
    assert bool(problems) == bool(refused)
    for name in refused:
        assert name in problems[0] and "key pair 'k'" in problems[0]


def test_a_csr_with_an_ec_key_and_key_encipherment_is_refused_before_the_kms():
    key = new_key("P-256")
    pem = make_csr(key, (key_usage(digital_signature=True, key_encipherment=True), True))
    problems = Certificate.validate(csr_params(pem))
    assert any("keyEncipherment cannot be used with the CSR's public key, an EC key" in p for p in problems), problems
    for kind in ("P-256", "ed25519"):
        key = new_key(kind)
        builder = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kind + ".example.test")]))
        csr = builder.sign(key, None if kind == "ed25519" else hashes.SHA256())
        assert Certificate.validate(csr_params(csr.public_bytes(serialization.Encoding.PEM).decode())) == []


def test_pkcs12_options_are_checked_before_the_kms(tmp_path, key):
    pem = make_csr(key)
    assert any("pkcs12_dest is not used with provider=csr" in p
               for p in Certificate.validate(csr_params(pem, pkcs12_dest=str(tmp_path / "x.p12"))))
    assert Certificate.validate(dict(PRESENT, pkcs12_passphrase="secret")) == [
        "pkcs12_passphrase is only used with pkcs12_dest"]
    assert Certificate.validate(dict(PRESENT, pkcs12_dest=str(tmp_path / "missing" / "x.p12"))) == [
        "pkcs12_dest %s: the folder %s does not exist" % (tmp_path / "missing" / "x.p12", tmp_path / "missing")]
    assert Certificate.validate(dict(PRESENT, pkcs12_dest=str(tmp_path / "x.p12"), pkcs12_passphrase="s")) == []


class PrivateFileModule:
    """The few AnsibleModule methods pkcs12.ensure_file uses; records the file arguments."""

    check_mode = False
    params = {}
    applied = None

    @staticmethod
    def atomic_move(src, dest):
        os.rename(src, dest)

    @staticmethod
    def load_file_common_arguments(params, path):
        return {"path": path, "mode": params.get("mode")}

    def set_fs_attributes_if_different(self, file_args, changed):
        self.applied = file_args
        mode = int(file_args["mode"], 8) if isinstance(file_args["mode"], str) else file_args["mode"]
        if mode is not None and os.stat(file_args["path"]).st_mode & 0o777 != mode:
            if not self.check_mode:
                os.chmod(file_args["path"], mode)
            return True
        return changed


@pytest.mark.parametrize("kind", ["rsa", "P-384", "ed25519", "ed448"])
def test_a_pkcs12_bundle_is_rewritten_only_when_what_it_holds_changes(tmp_path, kind):
    from cryptography.hazmat.primitives.serialization import pkcs12 as p12
    from ansible_collections.pkimanager.kms.plugins.module_utils import pkcs12
    root_key, leaf_key = new_key("ed25519"), new_key(kind)
    root = signed(root_key, "Root", root_key)
    leaf = signed(leaf_key, "leaf", root_key, root.subject)
    der = serialization.Encoding.DER
    key_der = leaf_key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    bundle = (key_der, leaf.public_bytes(der), [root.public_bytes(der)])
    path, module = str(tmp_path / "leaf.p12"), PrivateFileModule()

    assert pkcs12.ensure_file(module, path, "pkcs12_dest", "leaf", *bundle, passphrase="pw")
    assert os.stat(path).st_mode & 0o777 == 0o600 and module.applied["mode"] == "0600"
    loaded_key, loaded_cert, loaded_chain = p12.load_key_and_certificates(open(path, "rb").read(), b"pw")
    assert loaded_cert == leaf and loaded_chain == [root]
    assert keys.spki_der(loaded_key.public_key()) == keys.spki_der(leaf_key.public_key())
    first = open(path, "rb").read()
    assert not pkcs12.ensure_file(module, path, "pkcs12_dest", "leaf", *bundle, passphrase="pw")
    assert open(path, "rb").read() == first  # same content: not rebuilt (a rebuild differs byte-wise)
    assert pkcs12.ensure_file(module, path, "pkcs12_dest", "leaf", *bundle, passphrase="other")
    assert p12.load_key_and_certificates(open(path, "rb").read(), b"other")[1] == leaf
    assert pkcs12.ensure_file(module, path, "pkcs12_dest", "leaf", *bundle, passphrase=None)  # now unprotected
    assert p12.load_key_and_certificates(open(path, "rb").read(), None)[1] == leaf
    assert pkcs12.ensure_file(module, path, "pkcs12_dest", "leaf", *bundle, passphrase="pw")  # protected again
    assert pkcs12.ensure_file(module, path, "pkcs12_dest", "leaf", bundle[0], bundle[1], [], passphrase="pw")
    assert p12.load_key_and_certificates(open(path, "rb").read(), b"pw")[2] == []

    module.params = {"mode": 0o640}
    assert pkcs12.ensure_file(module, path, "pkcs12_dest", "leaf", *bundle, passphrase="pw")
    assert os.stat(path).st_mode & 0o777 == 0o640
    module.check_mode, before = True, open(path, "rb").read()
    assert pkcs12.ensure_file(module, path, "pkcs12_dest", "leaf", *bundle, passphrase="changed")
    assert open(path, "rb").read() == before


# -- CRL distribution points and authority information access (CDP/AIA) ---------------

CDP = ["http://pki.example.test/root.crl", "https://pki2.example.test/root.crl"]
OCSP = ["http://ocsp.example.test/"]
CA_ISSUERS = ["http://pki.example.test/root.crt"]


def cdp_aia(cdp=None, ocsp=None, ca_issuers=None):
    """The CRLDistributionPoints and AuthorityInformationAccess extensions, as (extension, critical)."""
    uri = x509.UniformResourceIdentifier
    found = []
    if cdp:
        found.append((x509.CRLDistributionPoints([x509.DistributionPoint([uri(u)], None, None, None) for u in cdp]),
                      False))
    access = [x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, uri(u)) for u in ocsp or []] + [
        x509.AccessDescription(x509.AuthorityInformationAccessOID.CA_ISSUERS, uri(u)) for u in ca_issuers or []]
    if access:
        found.append((x509.AuthorityInformationAccess(access), False))
    return found


def test_cdp_and_aia_go_into_the_config_after_the_names():
    content, problems = certs.requested_content(dict(
        PRESENT, subject_alt_names=["DNS:www.example.test"], crl_distribution_points=CDP + CDP[:1],
        ocsp_responder_urls=OCSP, ca_issuers_urls=CA_ISSUERS))
    assert problems == []
    assert content["crl_distribution_points"] == CDP
    assert certs.extension_config(content, authority_key_id=True) == (
        "[v3_ca]\n"
        "basicConstraints=critical,CA:FALSE\n"
        "subjectAltName=DNS:www.example.test\n"
        "crlDistributionPoints=URI:http://pki.example.test/root.crl,URI:https://pki2.example.test/root.crl\n"
        "authorityInfoAccess=OCSP;URI:http://ocsp.example.test/,caIssuers;URI:http://pki.example.test/root.crt\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n")


def test_only_ocsp_makes_an_aia_without_ca_issuers_and_no_cdp():
    content = certs.requested_content(dict(PRESENT, ocsp_responder_urls=OCSP, crl_distribution_points=[]))[0]
    text = certs.extension_config(content, authority_key_id=False)
    assert "authorityInfoAccess=OCSP;URI:http://ocsp.example.test/\n" in text
    assert "crlDistributionPoints" not in text and "caIssuers" not in text


@pytest.mark.parametrize("url, fragment", [
    ("ftp://pki.example.test/root.crl", "absolute http:// or https:// URL"),
    ("pki.example.test/root.crl", "absolute http:// or https:// URL"),
    ("http:///root.crl", "absolute http:// or https:// URL"),
    ("http://pki.example.test/a,b.crl", "without white space, commas"),
    ("http://pki.example.test/a b.crl", "without white space, commas"),
    ("http://pki.example.test/\"a\".crl", "without white space, commas"),
    ("http://pki.example.test/a\\b.crl", "without white space, commas"),
    ("http://pki.example.test/é.crl", "printable ASCII"),
    ("http://pki.example.test:99999/root.crl", "not a valid URL"),
    ("", "non-empty URL"),
])
@pytest.mark.parametrize("option", ["crl_distribution_points", "ocsp_responder_urls", "ca_issuers_urls"])
def test_bad_urls_are_refused_before_the_kms(option, url, fragment):
    problems = Certificate.validate(dict(PRESENT, **{option: [CDP[0], url]}))
    assert len(problems) == 1 and problems[0].startswith(option + ": ") and fragment in problems[0], problems


def test_urls_with_query_fragment_and_semicolons_pass():
    params = dict(PRESENT, crl_distribution_points=["https://pki.example.test:8443/crl?ca=root;x=1#f"])
    assert Certificate.validate(params) == []


def test_cdp_and_aia_are_read_back_and_compared(key):
    content = certs.requested_content(dict(PRESENT, crl_distribution_points=CDP, ocsp_responder_urls=OCSP,
                                           ca_issuers_urls=CA_ISSUERS))[0]
    constraints = [(x509.BasicConstraints(ca=False, path_length=None), True)]
    cert = issue(key, "www.example.test", constraints + cdp_aia(CDP, OCSP, CA_ISSUERS))
    found = certs.content_of(cert)
    assert (found["crl_distribution_points"], found["ocsp_responder_urls"], found["ca_issuers_urls"]) == (
        CDP, OCSP, CA_ISSUERS)
    assert certs.differences(content, found) == []
    facts = certs.facts(cert.public_bytes(serialization.Encoding.DER))
    assert facts["crl_distribution_points"] == CDP and facts["ca_issuers_urls"] == CA_ISSUERS
    other = issue(key, "www.example.test", constraints + cdp_aia(CDP[:1], ["http://ocsp2.example.test/"]))
    assert certs.differences(content, certs.content_of(other)) == [
        "crl_distribution_points is ['http://pki.example.test/root.crl'], requested %s" % CDP,
        "ocsp_responder_urls is ['http://ocsp2.example.test/'], requested %s" % OCSP,
        "ca_issuers_urls is [], requested %s" % CA_ISSUERS]


def test_unset_url_options_are_not_compared_but_an_empty_list_is(key):
    cert = issue(key, "www.example.test", [(x509.BasicConstraints(ca=False, path_length=None), True)]
                 + cdp_aia(["http://kms.example.test/public/certificates/root/crl"]))
    assert certs.differences(certs.requested_content(PRESENT)[0], certs.content_of(cert)) == []
    none = certs.requested_content(dict(PRESENT, crl_distribution_points=[]))[0]
    assert certs.differences(none, certs.content_of(cert)) == [
        "crl_distribution_points is ['http://kms.example.test/public/certificates/root/crl'], requested []"]


def test_a_csr_brings_its_cdp_and_aia_and_they_are_left_out_of_the_config(key):
    pem = make_csr(key, *cdp_aia(CDP, OCSP))
    csr = x509.load_pem_x509_csr(pem.encode())
    content, problems = certs.requested_content(csr_params(pem, ocsp_responder_urls=OCSP), csr)
    assert problems == []
    assert (content["crl_distribution_points"], content["ocsp_responder_urls"], content["ca_issuers_urls"]) == (
        CDP, OCSP, [])
    text = certs.extension_config(content, True, content["csr_extension_oids"])
    assert "crlDistributionPoints" not in text and "authorityInfoAccess" not in text


def test_url_options_that_contradict_the_csr_are_refused(key):
    pem = make_csr(key, *cdp_aia(CDP, OCSP))
    problems = Certificate.validate(csr_params(pem, crl_distribution_points=CDP[:1], ca_issuers_urls=CA_ISSUERS))
    assert len(problems) == 2, problems
    assert problems[0].startswith("the CSR already carries crlDistributionPoints (crl_distribution_points=")
    assert "leave ca_issuers_urls unset or make it equal" in problems[1]


def test_a_csr_without_cdp_or_aia_takes_them_from_the_options(key):
    pem = make_csr(key)
    content, problems = certs.requested_content(csr_params(pem, crl_distribution_points=CDP, ca_issuers_urls=CA_ISSUERS),
                                                x509.load_pem_x509_csr(pem.encode()))
    assert problems == []
    text = certs.extension_config(content, True, content["csr_extension_oids"])
    assert "crlDistributionPoints=URI:%s,URI:%s\n" % tuple(CDP) in text
    assert "authorityInfoAccess=caIssuers;URI:%s\n" % CA_ISSUERS[0] in text
