# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key types without a KMS: what the builders send (the encodings
tests/integration/test_key_types_kmip.py shows the server accepts) and what a read says."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import key_specs
from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv


def sent(operation, *path):
    return operation.payload.path(*path)


@pytest.mark.parametrize("arguments, algorithm, curve", [
    (dict(size=2048), "RSA", None),
    (dict(key_type="ec", curve="P-256"), "ECDSA", "P256"),
    (dict(key_type="ec", curve="P-384"), "ECDSA", "P384"),
    (dict(key_type="ec", curve="P-521", size=521), "ECDSA", "P521"),
    (dict(key_type="ec", curve="P-224"), "ECDSA", "P224"),
    (dict(key_type="ec", curve="secp256k1"), "ECDSA", "SECP256K1"),
    (dict(key_type="ed25519"), "Ed25519", "CURVEED25519"),
    (dict(key_type="ed448"), "Ed448", "CURVEED448"),
])
def test_the_key_is_named_in_common_attributes_only(arguments, algorithm, curve):
    operation = ops.create_key_pair(private_key_id="k", **arguments)
    common = sent(operation, "CommonAttributes")
    assert common.get("CryptographicAlgorithm") == algorithm
    assert common.get("CryptographicDomainParameters", "RecommendedCurve") == curve
    assert common.get("CryptographicLength") == (2048 if algorithm == "RSA" else None)
    for half in ("PrivateKeyAttributes", "PublicKeyAttributes"):
        assert sent(operation, half, "CryptographicDomainParameters") is None
        assert sent(operation, half, "CryptographicAlgorithm") is None


def test_rsa_callers_of_the_old_signature_get_the_same_pair():
    operation = ops.create_key_pair(3072, "k", ["t"], False)
    assert sent(operation, "CommonAttributes").get("CryptographicLength") == 3072
    assert sent(operation, "PrivateKeyAttributes").get("CryptographicUsageMask") == 2601
    assert sent(operation, "PublicKeyAttributes").get("CryptographicUsageMask") == 2582
    assert sent(operation, "PrivateKeyAttributes").get("UniqueIdentifier") == "k"
    assert sent(operation, "CommonAttributes").get("ActivationDate") is None


@pytest.mark.parametrize("exportable", [False, True])
def test_sensitive_is_sent_for_the_private_key_only(exportable):
    for operation in (ops.create_key_pair(2048, exportable=exportable),
                      ops.create_key_pair(key_type="ed448", exportable=exportable)):
        assert sent(operation, "PrivateKeyAttributes").get("Sensitive") is (not exportable)
        assert sent(operation, "PublicKeyAttributes", "Sensitive") is None
        assert sent(operation, "CommonAttributes", "Sensitive") is None


def test_signing_keys_get_sign_and_verify_usage():
    operation = ops.create_key_pair(key_type="ec", curve="P-384")
    assert sent(operation, "PrivateKeyAttributes").get("CryptographicUsageMask") == key_specs.SIGN
    assert sent(operation, "PublicKeyAttributes").get("CryptographicUsageMask") == key_specs.VERIFY


@pytest.mark.parametrize("arguments", [
    dict(size=1024), dict(), dict(size=2048, curve="P-256"), dict(key_type="ec"), dict(key_type="ec", curve="P-192"),
    dict(key_type="ec", curve="P256"), dict(key_type="ec", curve="P-256", size=384), dict(key_type="ed25519", size=256),
    dict(key_type="ed448", curve="P-256"), dict(key_type="x25519"), dict(key_type="dsa", size=2048),
])
def test_what_the_collection_does_not_create_is_refused_before_sending(arguments):
    with pytest.raises(ValueError):
        ops.create_key_pair(**arguments)


@pytest.mark.parametrize("algorithm, length", [("AES", 128), ("AES", 192), ("AES", 256), ("ChaCha20", 256)])
def test_a_symmetric_key_request(algorithm, length):
    operation = ops.create_symmetric_key(algorithm, length, "s", ["t"], exportable=False)
    attrs = sent(operation, "Attributes")
    assert operation.name == "Create" and operation.payload.get("ObjectType") == "SymmetricKey"
    assert (attrs.get("CryptographicAlgorithm"), attrs.get("CryptographicLength")) == (algorithm, length)
    assert attrs.get("Sensitive") is True and attrs.get("UniqueIdentifier") == "s"
    assert attrs.get("CryptographicUsageMask") == key_specs.SYMMETRIC_USAGE
    assert attrs.get("ActivationDate") is not None


@pytest.mark.parametrize("algorithm, length", [("AES", 512), ("AES", 100), ("ChaCha20", 128), ("DES", 64),
                                               ("aes", 256)])
def test_symmetric_keys_the_server_cannot_use_are_refused(algorithm, length):
    with pytest.raises(ValueError):
        ops.create_symmetric_key(algorithm, length)


def attributes(*nodes):
    return ttlv.structure("Attributes", list(nodes))


def curve(name):
    return ttlv.structure("CryptographicDomainParameters", [ttlv.integer("Qlength", 380),
                                                            ttlv.enumeration("RecommendedCurve", name)])


@pytest.mark.parametrize("nodes, expected", [
    ([ttlv.enumeration("CryptographicAlgorithm", "RSA"), ttlv.integer("CryptographicLength", 4096),
      ttlv.boolean("Sensitive", True), ttlv.boolean("Extractable", True)],
     {"key_type": "rsa", "size": 4096, "curve": None, "exportable": False, "recommended_curve": None}),
    # the server reports 520 for P-521 and 264 for a P-256 public key: the curve tells the size
    ([ttlv.enumeration("CryptographicAlgorithm", "ECDSA"), ttlv.integer("CryptographicLength", 520), curve("P521"),
      ttlv.boolean("Sensitive", False), ttlv.boolean("Extractable", True)],
     {"key_type": "ec", "size": 521, "curve": "P-521", "exportable": True, "recommended_curve": "P521"}),
    ([ttlv.enumeration("CryptographicAlgorithm", "EC"), ttlv.integer("CryptographicLength", 264), curve("P256")],
     {"key_type": "ec", "size": 256, "curve": "P-256", "exportable": None}),
    ([ttlv.enumeration("CryptographicAlgorithm", "Ed448"), ttlv.integer("CryptographicLength", 456),
      curve("CURVEED448"), ttlv.boolean("Sensitive", False), ttlv.boolean("Extractable", False)],
     {"key_type": "ed448", "size": None, "curve": None, "exportable": False}),
    ([ttlv.enumeration("CryptographicAlgorithm", "Ed25519"), curve("CURVEED25519")],
     {"key_type": "ed25519", "size": None}),
    ([ttlv.enumeration("CryptographicAlgorithm", "ECDH"), curve("CURVE25519")],  # X25519: not a type we make
     {"key_type": None, "size": None, "curve": None, "recommended_curve": "CURVE25519"}),
    ([ttlv.enumeration("ObjectType", "SymmetricKey"), ttlv.enumeration("CryptographicAlgorithm", "AES"),
      ttlv.integer("CryptographicLength", 192), ttlv.boolean("Sensitive", True)],
     {"key_type": "symmetric", "size": 192, "exportable": False}),
    ([], {"key_type": None, "size": None, "curve": None, "exportable": None, "sensitive": None}),
])
def test_a_read_tells_type_size_curve_and_exportability(nodes, expected):
    parsed = ops.parse_attributes(attributes(*nodes))
    assert dict((key, parsed[key]) for key in expected) == expected


@pytest.mark.parametrize("node", [
    ttlv.integer("Sensitive", 1), ttlv.text_string("Extractable", "true"),
    ttlv.structure("CryptographicDomainParameters", [ttlv.integer("RecommendedCurve", 3)]),
])
def test_odd_key_attributes_are_refused(node):
    with pytest.raises(ttlv.TTLVError):
        ops.parse_attributes(attributes(node))


def test_the_new_attributes_are_asked_for():
    for name in ("CryptographicDomainParameters", "Sensitive", "Extractable", "Tag"):
        assert name in ops.ATTRIBUTE_REFERENCES
