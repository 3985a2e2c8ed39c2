"""The DER outline check that stands in for cryptography on the read paths: it accepts
every kind of key and certificate the KMS hands out and refuses the others and garbage."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from ansible_collections.pkimanager.kms.plugins.module_utils.pem import der_problem

KEYS = [rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP384R1()),
        ed25519.Ed25519PrivateKey.generate(), ed448.Ed448PrivateKey.generate()]


def self_signed(key):
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "der outline")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(datetime.datetime(2026, 1, 1))
            .not_valid_after(datetime.datetime(2027, 1, 1))
            .sign(key, None if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256())
            .public_bytes(serialization.Encoding.DER))


def ders(key):
    return {"public_key": key.public_key().public_bytes(serialization.Encoding.DER,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo),
            "private_key": key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()),
            "certificate": self_signed(key)}


@pytest.mark.parametrize("key", KEYS, ids=lambda key: type(key).__name__)
def test_each_kind_passes_as_itself_and_no_other(key):
    for kind, der in ders(key).items():
        for other in ders(key):
            problem = der_problem(other, der)
            assert (problem is None) == (other == kind), (kind, other, problem)


@pytest.mark.parametrize("der", [b"", b"not DER", b"0\x82private", b"\x30\x80\x00\x00", b"\x30\x85\x00\x00\x00\x00\x01\x00",
                                 b"\x30\x03\x02\x01", b"\x30\x00", b"\x30\x00\x30\x00"])
def test_garbage_is_refused_with_a_reason(der):
    for kind in ("public_key", "private_key", "certificate"):
        assert der_problem(kind, der)


def test_cut_or_padded_der_is_refused():
    cert = ders(KEYS[1])["certificate"]
    assert der_problem("certificate", cert) is None
    assert der_problem("certificate", cert[:-1]) and der_problem("certificate", cert + b"\x00")
