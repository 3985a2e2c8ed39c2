# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keys of certificates, without the KMS: which type a public key is, whether a
certificate's signature verifies with an issuer's key (RSA, ECDSA, Ed25519, Ed448), and
which key usage bits make sense for a key type.

``cryptography`` is imported inside functions (see :mod:`x509`). Verification goes by key
type rather than through ``verify_directly_issued_by``, which only exists since
cryptography 40.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Key usage bits that RFC 5480 / RFC 8813 (EC) and RFC 8410 (Ed25519, Ed448) rule out: these
# keys cannot encrypt, and an Edwards signing key cannot agree on keys either.
_NOT_FOR = {
    "ec": ("keyEncipherment", "dataEncipherment"),
    "ed25519": ("keyEncipherment", "dataEncipherment", "keyAgreement", "encipherOnly", "decipherOnly"),
    "ed448": ("keyEncipherment", "dataEncipherment", "keyAgreement", "encipherOnly", "decipherOnly"),
}
KEY_TYPE_NAMES = {"rsa": "RSA", "ec": "EC", "ed25519": "Ed25519", "ed448": "Ed448"}


def key_type(public_key):
    """``rsa``, ``ec``, ``ed25519``, ``ed448`` (what kms_keypair calls them), or the class name."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    for kind, cls in (("rsa", rsa.RSAPublicKey), ("ec", ec.EllipticCurvePublicKey),
                      ("ed25519", ed25519.Ed25519PublicKey), ("ed448", ed448.Ed448PublicKey)):
        if isinstance(public_key, cls):
            return kind
    return type(public_key).__name__


def spki_der(public_key):
    from cryptography.hazmat.primitives import serialization
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def signed_by(cert, issuer):
    """True when ``issuer`` (a certificate) issued ``cert``: names chain and the signature
    verifies with the issuer's public key, whatever its type (RSA PKCS#1 v1.5, ECDSA, EdDSA)."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    kind = key_type(key)
    try:
        if kind == "rsa":
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        elif kind == "ec":
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif kind in ("ed25519", "ed448"):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        return False
    return True


def key_usage_problems(key_usage, public_key, what="the key"):
    """Why ``key_usage`` (our names) does not fit the type of ``public_key``; empty when it does."""
    kind = key_type(public_key)
    wrong = [usage for usage in key_usage or [] if usage in _NOT_FOR.get(kind, ())]
    if not wrong:
        return []
    return ["key_usage %s cannot be used with %s, an %s key (it signs, it does not encrypt%s); use "
            "digitalSignature%s" % (", ".join(wrong), what, KEY_TYPE_NAMES[kind],
                                    "" if kind == "ec" else " nor agree on keys",
                                    " or keyAgreement" if kind == "ec" else "")]


# Signature algorithms by OID, under the names OpenSSL prints (others show as the dotted OID).
SIGNATURE_ALGORITHMS = {
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption", "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption", "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256", "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512", "1.3.101.112": "ED25519", "1.3.101.113": "ED448",
}


def key_facts(cert):
    """What a result says of a certificate's keys: its public key's type and its signature algorithm."""
    oid = cert.signature_algorithm_oid.dotted_string
    return {"public_key_type": key_type(cert.public_key()), "signature_algorithm": SIGNATURE_ALGORITHMS.get(oid, oid)}
