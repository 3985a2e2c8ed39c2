# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key types as Cosmian KMS 5.28 creates and describes them: the attributes to send, and
what a GetAttributes answer says about a key (type, size or curve, exportability).

Checked on the real server (tests/integration/test_key_types_kmip.py):

- CreateKeyPair reads ``CryptographicAlgorithm`` and ``CryptographicDomainParameters``
  only from ``CommonAttributes``: a curve given in ``PrivateKeyAttributes`` alone is ignored
  and the server makes an X25519 key (its default curve, CURVE25519), without error.
- EC keys: algorithm ``ECDSA`` (``EC`` and ``ECDH`` are accepted too) with a
  ``RecommendedCurve``; ``CryptographicLength`` is ignored (derived from the curve, and
  reported as 520 for P-521, 264 for a P-256 public key), so the curve is what tells a key.
- Edwards keys: algorithm ``Ed25519`` / ``Ed448`` (curve CURVEED25519 / CURVEED448); the
  same curve under algorithm EC/ECDSA/ECDH is refused (Operation_Not_Supported).
- ``Sensitive`` (Boolean) in ``PrivateKeyAttributes`` makes Get/Export of the plaintext key
  fail with reason ``Sensitive`` ("DENIED"); the default is False (exportable). In
  ``CommonAttributes`` it would make the public key sensitive too, and its Get fail.
- Symmetric Create accepts any length (AES 512, or 100 rounded down to 96), so the lengths
  that work for encryption are checked here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv

KEY_TYPES = ("rsa", "ec", "ed25519", "ed448")
RSA_SIZES = (2048, 3072, 4096)
# Curve names as users give them -> KMIP RecommendedCurve, and their size in bits.
CURVES = {"P-256": ("P256", 256), "P-384": ("P384", 384), "P-521": ("P521", 521), "P-224": ("P224", 224),
          "secp256k1": ("SECP256K1", 256)}
EC_ALGORITHMS = ("EC", "ECDSA", "ECDH")
EDWARDS = {"ed25519": ("Ed25519", "CURVEED25519"), "ed448": ("Ed448", "CURVEED448")}

# KMIP CryptographicUsageMask bits.
SIGN, VERIFY, ENCRYPT, DECRYPT, WRAP_KEY, UNWRAP_KEY, DERIVE_KEY, KEY_AGREEMENT = (
    0x0001, 0x0002, 0x0004, 0x0008, 0x0010, 0x0020, 0x0200, 0x0800)
# RSA: Sign|Decrypt|UnwrapKey|DeriveKey|KeyAgreement for the private half,
# Verify|Encrypt|WrapKey|DeriveKey|KeyAgreement for the public half (what 5.28 accepts in FIPS mode too).
PRIVATE_RSA_USAGE = SIGN | DECRYPT | UNWRAP_KEY | DERIVE_KEY | KEY_AGREEMENT
PUBLIC_RSA_USAGE = VERIFY | ENCRYPT | WRAP_KEY | DERIVE_KEY | KEY_AGREEMENT
# EC and Edwards keys of this collection sign (certificates) and verify.
PRIVATE_SIGNING_USAGE = SIGN
PUBLIC_SIGNING_USAGE = VERIFY

SYMMETRIC_LENGTHS = {"AES": (128, 192, 256), "ChaCha20": (256,)}
SYMMETRIC_USAGE = ENCRYPT | DECRYPT | WRAP_KEY | UNWRAP_KEY


def key_pair_spec(key_type="rsa", size=None, curve=None):
    """What a key pair of this type is on the wire: a dict of key_type, algorithm, size,
    curve (user name), recommended_curve (KMIP name), private_usage, public_usage.

    ValueError for a type, size or curve this collection does not create.
    """
    if key_type == "rsa":
        if size not in RSA_SIZES:
            raise ValueError("RSA size must be one of %s, got %r" % (", ".join(map(str, RSA_SIZES)), size))
        if curve is not None:
            raise ValueError("an RSA key has no curve, got %r" % (curve,))
        return {"key_type": "rsa", "algorithm": "RSA", "size": size, "curve": None, "recommended_curve": None,
                "private_usage": PRIVATE_RSA_USAGE, "public_usage": PUBLIC_RSA_USAGE}
    if key_type == "ec":
        if curve not in CURVES:
            raise ValueError("EC curve must be one of %s, got %r" % (", ".join(CURVES), curve))
        kmip_curve, bits = CURVES[curve]
        if size not in (None, bits):
            raise ValueError("curve %s has %d bits, got size %r" % (curve, bits, size))
        return {"key_type": "ec", "algorithm": "ECDSA", "size": bits, "curve": curve, "recommended_curve": kmip_curve,
                "private_usage": PRIVATE_SIGNING_USAGE, "public_usage": PUBLIC_SIGNING_USAGE}
    if key_type in EDWARDS:
        if size is not None or curve not in (None, key_type):
            raise ValueError("a %s key takes no size or curve" % key_type)
        algorithm, kmip_curve = EDWARDS[key_type]
        return {"key_type": key_type, "algorithm": algorithm, "size": None, "curve": None,
                "recommended_curve": kmip_curve, "private_usage": PRIVATE_SIGNING_USAGE,
                "public_usage": PUBLIC_SIGNING_USAGE}
    raise ValueError("key type must be one of %s, got %r" % (", ".join(KEY_TYPES), key_type))


def common_attribute_nodes(spec):
    """The CommonAttributes nodes naming the key: algorithm, and RSA length or the curve."""
    nodes = [ttlv.enumeration("CryptographicAlgorithm", spec["algorithm"])]
    if spec["key_type"] == "rsa":
        nodes.append(ttlv.integer("CryptographicLength", spec["size"]))
    else:
        nodes.append(ttlv.structure("CryptographicDomainParameters", [
            ttlv.enumeration("RecommendedCurve", spec["recommended_curve"])]))
    return nodes


def symmetric_spec(algorithm, length):
    """(algorithm, length) checked against what the server encrypts with; ValueError otherwise."""
    if algorithm not in SYMMETRIC_LENGTHS:
        raise ValueError("symmetric algorithm must be one of %s, got %r" % (", ".join(SYMMETRIC_LENGTHS), algorithm))
    if length not in SYMMETRIC_LENGTHS[algorithm]:
        raise ValueError("%s length must be one of %s, got %r"
                         % (algorithm, ", ".join(map(str, SYMMETRIC_LENGTHS[algorithm])), length))
    return algorithm, length


_CURVE_NAMES = dict((kmip, name) for name, (kmip, bits) in CURVES.items())
_EDWARDS_BY_CURVE = dict((kmip, key_type) for key_type, (algorithm, kmip) in EDWARDS.items())
_EDWARDS_BY_ALGORITHM = dict((algorithm, key_type) for key_type, (algorithm, kmip) in EDWARDS.items())


def describe(algorithm, length, recommended_curve, sensitive, extractable, object_type=None):
    """key_type, size, curve and exportable of a key from its attributes (None where unknown).

    ``exportable`` is False when the key is Sensitive or not Extractable (Get and Export of
    its plaintext are then refused), None when neither attribute was in the answer.
    """
    key_type = size = curve = None
    if algorithm == "RSA":
        key_type, size = "rsa", length
    elif algorithm in EC_ALGORITHMS and recommended_curve in _CURVE_NAMES:
        curve = _CURVE_NAMES[recommended_curve]
        key_type, size = "ec", CURVES[curve][1]
    elif algorithm in _EDWARDS_BY_ALGORITHM or recommended_curve in _EDWARDS_BY_CURVE:
        key_type = _EDWARDS_BY_ALGORITHM.get(algorithm) or _EDWARDS_BY_CURVE[recommended_curve]
    elif object_type == "SymmetricKey" and algorithm:
        key_type, size = "symmetric", length
    if sensitive is None and extractable is None:
        exportable = None
    else:
        exportable = sensitive is not True and extractable is not False
    return {"key_type": key_type, "size": size, "curve": curve, "exportable": exportable}
