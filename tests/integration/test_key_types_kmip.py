"""Key types on the real server over raw KMIP: RSA, EC (P-256, P-384, P-521, P-224,
secp256k1), Ed25519, Ed448 key pairs and AES/ChaCha20 keys; what GetAttributes tells of
them; exportability (Sensitive); private keys as PKCS#8; Certify across key types.

Every test makes its own objects under unique names, so they run in any order and in
parallel (pytest-xdist). No key material is printed: assertions compare keys, not bytes.
"""

import datetime
import hashlib
import os
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import fingerprint_sha256

from kmip_crypto import decrypt, encrypt

# (key_type, size, curve) -> the cryptography class and curve of its public key
KEY_PAIRS = {
    "rsa-2048": (dict(size=2048), rsa.RSAPublicKey, None),
    "rsa-3072": (dict(size=3072), rsa.RSAPublicKey, None),
    "rsa-4096": (dict(size=4096), rsa.RSAPublicKey, None),
    "ec-P-256": (dict(key_type="ec", curve="P-256"), ec.EllipticCurvePublicKey, ec.SECP256R1),
    "ec-P-384": (dict(key_type="ec", curve="P-384"), ec.EllipticCurvePublicKey, ec.SECP384R1),
    "ec-P-521": (dict(key_type="ec", curve="P-521"), ec.EllipticCurvePublicKey, ec.SECP521R1),
    "ec-P-224": (dict(key_type="ec", curve="P-224"), ec.EllipticCurvePublicKey, ec.SECP224R1),
    "ec-secp256k1": (dict(key_type="ec", curve="secp256k1"), ec.EllipticCurvePublicKey, ec.SECP256K1),
    "ed25519": (dict(key_type="ed25519"), ed25519.Ed25519PublicKey, None),
    "ed448": (dict(key_type="ed448"), ed448.Ed448PublicKey, None),
}
FAST_PAIRS = [name for name in KEY_PAIRS if name not in ("rsa-3072", "rsa-4096")]
# What GetAttributes of the private key says, per kind: algorithm, KMIP curve, key_type, size, curve
DESCRIBED = {
    "rsa-2048": ("RSA", None, "rsa", 2048, None),
    "rsa-3072": ("RSA", None, "rsa", 3072, None),
    "rsa-4096": ("RSA", None, "rsa", 4096, None),
    "ec-P-256": ("ECDSA", "P256", "ec", 256, "P-256"),
    "ec-P-384": ("ECDSA", "P384", "ec", 384, "P-384"),
    "ec-P-521": ("ECDSA", "P521", "ec", 521, "P-521"),
    "ec-P-224": ("ECDSA", "P224", "ec", 224, "P-224"),
    "ec-secp256k1": ("ECDSA", "SECP256K1", "ec", 256, "secp256k1"),
    "ed25519": ("Ed25519", "CURVEED25519", "ed25519", None, None),
    "ed448": ("Ed448", "CURVEED448", "ed448", None, None),
}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def raw(name, children, object_id=None):
    """An operation whose answer is the raw response payload (for wire checks)."""
    return ops.Operation(name, children, lambda payload: payload, object_id)


def create_raw_pair(client, common, private=(), public=()):
    name = unique("raw")
    client.call(raw("CreateKeyPair", [
        ttlv.structure("CommonAttributes", list(common)),
        ttlv.structure("PrivateKeyAttributes", [ttlv.text_string("UniqueIdentifier", name)] + list(private)),
        ttlv.structure("PublicKeyAttributes", list(public))]))
    return name


def curve_node(curve):
    return ttlv.structure("CryptographicDomainParameters", [ttlv.enumeration("RecommendedCurve", curve)])


# -- key pairs of every type -----------------------------------------------------------

@pytest.mark.parametrize("kind", list(KEY_PAIRS))
def test_a_key_pair_of_every_type_is_described_by_its_attributes(client, kind):
    arguments, public_class, curve_class = KEY_PAIRS[kind]
    name, tag = unique(kind), unique("tag")
    ids = client.call(ops.create_key_pair(private_key_id=name, tags=[tag], **arguments))
    assert ids == {"private_key_id": name, "public_key_id": name + "_pk"}

    algorithm, kmip_curve, key_type, size, curve = DESCRIBED[kind]
    attrs = client.call(ops.get_attributes(name))
    assert (attrs["object_type"], attrs["state"], attrs["tags"]) == ("PrivateKey", "Active", [tag])
    assert (attrs["algorithm"], attrs["recommended_curve"]) == (algorithm, kmip_curve)
    assert (attrs["key_type"], attrs["size"], attrs["curve"]) == (key_type, size, curve)
    # the collection's default: not exportable (Sensitive), the server's own default is the opposite
    assert (attrs["sensitive"], attrs["extractable"], attrs["exportable"]) == (True, True, False)
    assert attrs["links"]["PublicKeyLink"] == ids["public_key_id"]

    public_attrs = client.call(ops.get_attributes(ids["public_key_id"]))
    assert public_attrs["object_type"] == "PublicKey" and public_attrs["key_type"] == key_type
    assert public_attrs["curve"] == curve and public_attrs["sensitive"] is False
    assert public_attrs["links"]["PrivateKeyLink"] == name

    public = client.call(ops.get_public_key(ids["public_key_id"]))
    key = serialization.load_pem_public_key(public["pem"].encode())
    assert isinstance(key, public_class) and spki(key) == public["der"]
    if curve_class:
        assert isinstance(key.curve, curve_class)
    if key_type == "rsa":
        assert key.key_size == size
    assert fingerprint_sha256(public["der"]) == ":".join(
        "%02X" % b for b in hashlib.sha256(spki(key)).digest())

    # the lost-answer settlement recognises the pair this request made, with real attributes
    operation = ops.create_key_pair(private_key_id=name, tags=[tag], **arguments)
    sent = operation.payload.find("CommonAttributes").get("ActivationDate")
    assert operation.achieved(dict(attrs, activation_date=sent))
    assert operation.achieved(dict(attrs, activation_date=sent + datetime.timedelta(seconds=1)))  # the server's time
    assert not operation.achieved(dict(attrs, activation_date=sent - datetime.timedelta(seconds=1)))
    assert not ops.create_key_pair(private_key_id=name, tags=[tag], exportable=True, **arguments).achieved(
        dict(attrs, activation_date=sent))


@pytest.mark.parametrize("kind", FAST_PAIRS)
def test_a_sensitive_private_key_is_refused_and_still_signs_certificates(client, kind):
    arguments = KEY_PAIRS[kind][0]
    name = unique(kind)
    client.call(ops.create_key_pair(private_key_id=name, **arguments))
    with pytest.raises(KmsError) as caught:
        client.call(ops.get_private_key(name))
    assert caught.value.reason == "Sensitive" and caught.value.status == 422
    assert "DENIED" in str(caught.value)
    for operation in ("Get", "Export"):  # Export is refused the same way
        with pytest.raises(KmsError) as caught:
            client.call(raw(operation, [ttlv.text_string("UniqueIdentifier", name),
                                        ttlv.enumeration("KeyFormatType", "PKCS8")], name))
        assert caught.value.reason == "Sensitive"
    # the server still uses it: a self-signed certificate
    cert_id = client.call(ops.certify(certificate_id=unique("self"), public_key_id=name + "_pk",
                                      subject={"CN": kind}))
    cert = x509.load_der_x509_certificate(client.call(ops.get_certificate(cert_id))["der"])
    cert.verify_directly_issued_by(cert)


@pytest.mark.parametrize("kind", FAST_PAIRS)
def test_an_exportable_private_key_comes_back_as_pkcs8_matching_its_public_key(client, kind):
    arguments = KEY_PAIRS[kind][0]
    name = unique(kind)
    ids = client.call(ops.create_key_pair(private_key_id=name, exportable=True, activate=False, **arguments))
    attrs = client.call(ops.get_attributes(name))
    assert (attrs["sensitive"], attrs["exportable"], attrs["state"]) == (False, True, "PreActive")

    private = client.call(ops.get_private_key(name))
    assert private["object_id"] == name and private["pem"].startswith("-----BEGIN PRIVATE KEY-----\n")
    key = serialization.load_der_private_key(private["der"], None)
    assert private["der"] == key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption())
    public = client.call(ops.get_public_key(ids["public_key_id"]))
    assert spki(key.public_key()) == public["der"]


def test_a_public_key_is_not_a_private_key(client):
    name = unique("pub")
    ids = client.call(ops.create_key_pair(key_type="ed25519", private_key_id=name, exportable=True))
    with pytest.raises(KmsError) as caught:
        client.call(ops.get_private_key(ids["public_key_id"]))
    assert caught.value.reason == "Invalid_Response" and "not a private key" in caught.value.message


# -- how the server reads the attributes (raw KMIP) ------------------------------------

def test_the_curve_is_read_from_common_attributes_only(client):
    """A curve only in PrivateKeyAttributes is silently ignored: the server makes X25519."""
    name = create_raw_pair(client, [ttlv.enumeration("CryptographicAlgorithm", "ECDSA")], [curve_node("P384")])
    attrs = client.call(ops.get_attributes(name))
    assert attrs["recommended_curve"] == "CURVE25519" and attrs["key_type"] is None


def test_an_edwards_curve_under_ecdsa_is_refused(client):
    with pytest.raises(KmsError) as caught:
        create_raw_pair(client, [ttlv.enumeration("CryptographicAlgorithm", "ECDSA"), curve_node("CURVEED25519")])
    assert caught.value.reason == "Operation_Not_Supported"
    assert "Edwards curve can't be created for EC or ECDSA" in str(caught.value)


def test_sensitive_in_common_attributes_hides_the_public_key_too(client):
    name = create_raw_pair(client, [ttlv.enumeration("CryptographicAlgorithm", "ECDSA"), curve_node("P256"),
                                    ttlv.boolean("Sensitive", True)])
    assert client.call(ops.get_attributes(name + "_pk"))["sensitive"] is True
    with pytest.raises(KmsError) as caught:
        client.call(ops.get_public_key(name + "_pk"))
    assert caught.value.reason == "Sensitive"


def test_a_key_not_extractable_is_refused_with_its_own_reason(client):
    name = create_raw_pair(client, [ttlv.enumeration("CryptographicAlgorithm", "ECDSA"), curve_node("P256")],
                           [ttlv.boolean("Extractable", False)])
    attrs = client.call(ops.get_attributes(name))
    assert (attrs["sensitive"], attrs["extractable"], attrs["exportable"]) == (False, False, False)
    with pytest.raises(KmsError) as caught:
        client.call(ops.get_private_key(name))
    assert caught.value.reason == "Not_Extractable" and "DENIED" in str(caught.value)


def test_the_server_default_is_exportable(client):
    name = create_raw_pair(client, [ttlv.enumeration("CryptographicAlgorithm", "Ed448")])
    attrs = client.call(ops.get_attributes(name))
    assert (attrs["key_type"], attrs["sensitive"], attrs["exportable"]) == ("ed448", False, True)
    assert isinstance(serialization.load_der_private_key(client.call(ops.get_private_key(name))["der"], None),
                      ed448.Ed448PrivateKey)


# -- symmetric keys --------------------------------------------------------------------

@pytest.mark.parametrize("algorithm, length", [("AES", 128), ("AES", 192), ("AES", 256), ("ChaCha20", 256)])
def test_a_symmetric_key_encrypts_and_decrypts(client, algorithm, length):
    name, tag = unique(algorithm.lower()), unique("tag")
    assert client.call(ops.create_symmetric_key(algorithm, length, name, [tag])) == name
    attrs = client.call(ops.get_attributes(name))
    assert (attrs["object_type"], attrs["state"], attrs["algorithm"], attrs["length"]) == (
        "SymmetricKey", "Active", algorithm, length)
    assert (attrs["key_type"], attrs["size"], attrs["exportable"], attrs["tags"]) == ("symmetric", length, False, [tag])

    data = os.urandom(40)
    nonce = os.urandom(8) if algorithm == "ChaCha20" else None  # 5.28 wants 8 bytes for ChaCha20
    encrypted = client.call(encrypt(name, data, nonce))
    assert encrypted["Data"] != data
    assert client.call(decrypt(name, encrypted, nonce)) == data
    with pytest.raises(KmsError) as caught:  # Sensitive: usable, not readable
        client.call(raw("Get", [ttlv.text_string("UniqueIdentifier", name), ttlv.enumeration("KeyFormatType", "Raw")]))
    assert caught.value.reason == "Sensitive"


def test_an_exportable_symmetric_key_can_be_read(client):
    name = client.call(ops.create_symmetric_key("AES", 192, unique("aes"), exportable=True, activate=False))
    attrs = client.call(ops.get_attributes(name))
    assert (attrs["state"], attrs["exportable"]) == ("PreActive", True)
    answer = client.call(raw("Get", [ttlv.text_string("UniqueIdentifier", name),
                                     ttlv.enumeration("KeyFormatType", "Raw")]))
    assert len(answer.path("SymmetricKey", "KeyBlock", "KeyValue", "KeyMaterial").value) == 24


def test_the_server_creates_aes_keys_it_cannot_use_so_the_builder_refuses_them(client):
    name = unique("aes512")
    client.call(raw("Create", [ttlv.enumeration("ObjectType", "SymmetricKey"), ttlv.structure("Attributes", [
        ttlv.enumeration("CryptographicAlgorithm", "AES"), ttlv.integer("CryptographicLength", 512),
        ttlv.enumeration("ObjectType", "SymmetricKey"), ttlv.text_string("UniqueIdentifier", name),
        ttlv.date_time("ActivationDate", ops.utc_now())])]))
    with pytest.raises(KmsError) as caught:
        client.call(encrypt(name, b"data"))
    assert caught.value.reason == "Operation_Not_Supported"
    with pytest.raises(ValueError):
        ops.create_symmetric_key("AES", 512)


# -- Certify across key types ----------------------------------------------------------

CA_EXTENSIONS = "[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"


@pytest.mark.parametrize("issuer, subject, signature", [
    ("ec-P-384", "rsa-2048", "ecdsa-with-SHA256"),  # SHA-256 even for P-384 (and P-521)
    ("ed25519", "rsa-2048", "ed25519"),
    ("ed448", "ec-P-256", "ed448"),
    ("rsa-2048", "ec-P-384", "sha256WithRSAEncryption"),
    ("rsa-2048", "ed25519", "sha256WithRSAEncryption"),
])
def test_certify_signs_with_every_issuer_key_type(client, issuer, subject, signature):
    ca = unique("ca")
    client.call(ops.create_key_pair(private_key_id=ca, **KEY_PAIRS[issuer][0]))
    ca_cert_id = client.call(ops.certify(certificate_id=unique("cacert"), public_key_id=ca + "_pk",
                                         subject={"CN": "CA " + issuer}, extensions=CA_EXTENSIONS))
    ca_cert = x509.load_der_x509_certificate(client.call(ops.get_certificate(ca_cert_id))["der"])
    assert ca_cert.signature_algorithm_oid._name == signature

    leaf = unique("leaf")
    client.call(ops.create_key_pair(private_key_id=leaf, **KEY_PAIRS[subject][0]))
    cert_id = client.call(ops.certify(certificate_id=unique("cert"), public_key_id=leaf + "_pk",
                                      subject={"CN": "leaf " + subject}, issuer_private_key_id=ca,
                                      issuer_certificate_id=ca_cert_id))
    cert = x509.load_der_x509_certificate(client.call(ops.get_certificate(cert_id))["der"])
    assert cert.signature_algorithm_oid._name == signature
    cert.verify_directly_issued_by(ca_cert)
    assert isinstance(cert.public_key(), KEY_PAIRS[subject][1])
    assert spki(cert.public_key()) == client.call(ops.get_public_key(leaf + "_pk"))["der"]
