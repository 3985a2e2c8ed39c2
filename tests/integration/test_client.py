"""The KMIP client against the real server: every operation, its errors, batching."""

import datetime
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport


@pytest.fixture
def client(kms_server):
    seen = []
    kms = KmsClient(KmsTransport(kms_server.url, timeout=60), observer=lambda *a: seen.append(a))
    kms.seen = seen
    yield kms
    kms.transport.close()


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def load_cert(der):
    return x509.load_der_x509_certificate(der)


def verify_signed_by(cert, issuer_public_key):
    issuer_public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                             cert.signature_hash_algorithm)


def test_create_key_pair_with_chosen_id_tags_and_activation(client):
    name, tag = unique("kp"), unique("tag")
    ids = client.call(ops.create_key_pair(2048, name, [tag], activate=True))
    assert ids["private_key_id"] == name and ids["public_key_id"]
    attrs = client.call(ops.get_attributes(name))
    assert attrs["state"] == "Active" and attrs["object_type"] == "PrivateKey"
    assert attrs["algorithm"] == "RSA" and attrs["length"] == 2048
    assert attrs["tags"] == [tag]
    assert attrs["links"]["PublicKeyLink"] == ids["public_key_id"]
    assert isinstance(attrs["activation_date"], datetime.datetime)
    public = client.call(ops.get_public_key(ids["public_key_id"]))
    key = serialization.load_pem_public_key(public["pem"].encode())
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert client.call(ops.get_attributes(ids["public_key_id"]))["links"]["PrivateKeyLink"] == name
    assert [s[0].name for s in client.seen] == ["CreateKeyPair", "GetAttributes", "Get", "GetAttributes"]


@pytest.mark.parametrize("size", [3072, 4096])
def test_other_rsa_sizes(client, size):
    ids = client.call(ops.create_key_pair(size, unique("kp%d" % size)))
    assert client.call(ops.get_attributes(ids["public_key_id"]))["length"] == size


def test_preactive_then_activate(client):
    name = unique("pre")
    ids = client.call(ops.create_key_pair(2048, name, activate=False))
    assert client.call(ops.get_attributes(name))["state"] == "PreActive"
    client.call(ops.activate(name))
    client.call(ops.activate(ids["public_key_id"]))
    assert client.call(ops.get_attributes(name))["state"] == "Active"


def test_second_pair_with_the_same_id_is_refused(client):
    name = unique("dup")
    client.call(ops.create_key_pair(2048, name))
    with pytest.raises(KmsError) as caught:
        client.call(ops.create_key_pair(2048, name))
    assert caught.value.status is not None and caught.value.status < 500
    assert caught.value.attempts == 1


def test_locate_by_tags_type_and_state(client):
    tag = unique("loc")
    first = client.call(ops.create_key_pair(2048, unique("l1"), [tag]))
    second = client.call(ops.create_key_pair(2048, unique("l2"), [tag, "other"], activate=False))
    everything = set(client.call(ops.locate(tags=[tag])))
    assert everything == {first["private_key_id"], first["public_key_id"],
                          second["private_key_id"], second["public_key_id"]}
    assert set(client.call(ops.locate(object_type="PrivateKey", tags=[tag]))) == {
        first["private_key_id"], second["private_key_id"]}
    assert client.call(ops.locate(object_type="PrivateKey", tags=[tag], state="PreActive")) == [
        second["private_key_id"]]


@pytest.mark.parametrize("operation, reason", [
    # Cosmian 5.28 answers Get and GetAttributes of a missing id with Object_Not_Found,
    # the lifecycle operations with Item_Not_Found.
    (ops.get_public_key, "Object_Not_Found"),
    (ops.get_attributes, "Object_Not_Found"),
    (ops.destroy, "Item_Not_Found"),
    (ops.revoke, "Item_Not_Found"),
])
def test_missing_object_is_not_found_without_retry(client, operation, reason):
    missing = unique("missing")
    with pytest.raises(KmsError) as caught:
        client.call(operation(missing))
    assert caught.value.reason == reason and caught.value.not_found
    assert caught.value.attempts == 1 and caught.value.status == 422 and caught.value.object_id == missing
    assert reason in str(caught.value) and missing in str(caught.value)
    last_value, last_error = client.seen[-1][1:]
    assert last_value is None and last_error is caught.value


def test_destroy_of_an_active_key_is_wrong_lifecycle_state(client):
    name = unique("active")
    client.call(ops.create_key_pair(2048, name))
    with pytest.raises(KmsError) as caught:
        client.call(ops.destroy(name))
    assert caught.value.reason == "Wrong_Key_Lifecycle_State"
    assert client.call(ops.get_attributes(name))["state"] == "Active"


def test_revoke_and_destroy_with_cascade_take_both_halves(client):
    name = unique("casc")
    ids = client.call(ops.create_key_pair(2048, name))
    client.call(ops.revoke(name, "KeyCompromise", "test", cascade=True))
    assert client.call(ops.get_attributes(ids["public_key_id"]))["state"] == "Compromised"
    client.call(ops.destroy(name, cascade=True, remove=True))
    for object_id in (name, ids["public_key_id"]):
        with pytest.raises(KmsError) as caught:
            client.call(ops.get_public_key(object_id))
        assert caught.value.not_found
    failures = [s for s in client.seen if s[2] is not None]
    assert [f[0].name for f in failures] == ["Get", "Get"]  # no noise from the cascade


def test_revoke_reasons_set_the_states(client):
    name = unique("rev")
    client.call(ops.create_key_pair(2048, name))
    client.call(ops.revoke(name, "CessationOfOperation", "retired"))
    assert client.call(ops.get_attributes(name))["state"] == "Deactivated"


def test_batch_of_twenty_create_key_pair_in_one_message(client):
    names = [unique("batch%02d" % i) for i in range(20)]
    results = client.batch([ops.create_key_pair(2048, n) for n in names])
    assert [r.ok for r in results] == [True] * 20
    assert [r.value["private_key_id"] for r in results] == names
    assert len(set(r.value["public_key_id"] for r in results)) == 20
    assert len(client.seen) == 20


def test_batch_reports_each_item(client):
    name = unique("bitem")
    client.call(ops.create_key_pair(2048, name))
    results = client.batch([ops.get_attributes(name), ops.get_attributes(unique("nope")),
                            ops.locate(object_type="PrivateKey", unique_identifier=name)])
    assert results[0].ok and results[0].value["state"] == "Active"
    assert not results[1].ok and results[1].error.not_found
    assert results[2].ok


def _subject(cn):
    return {"CN": cn, "O": "pkimanager", "C": "FR"}


def test_certify_self_signed_then_leaf_then_csr(client):
    ca = client.call(ops.create_key_pair(2048, unique("ca")))
    ca_cert_id = client.call(ops.certify(
        certificate_id=unique("ca-cert"), public_key_id=ca["public_key_id"], subject=_subject("Test Root"),
        validity_days=3650,
        extensions="[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature\n"))
    ca_cert = load_cert(client.call(ops.get_certificate(ca_cert_id))["der"])
    ca_public = serialization.load_pem_public_key(client.call(ops.get_public_key(ca["public_key_id"]))["pem"].encode())
    assert ca_cert.public_key().public_numbers() == ca_public.public_numbers()
    verify_signed_by(ca_cert, ca_public)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True

    leaf = client.call(ops.create_key_pair(2048, unique("leaf")))
    leaf_cert_id = client.call(ops.certify(
        certificate_id=unique("leaf-cert"), public_key_id=leaf["public_key_id"], subject=_subject("www.example.test"),
        issuer_private_key_id=ca["private_key_id"], issuer_certificate_id=ca_cert_id, validity_days=30,
        extensions="[v3_ca]\nsubjectAltName=DNS:www.example.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"))
    leaf_cert = load_cert(client.call(ops.get_certificate(leaf_cert_id))["der"])
    verify_signed_by(leaf_cert, ca_public)
    assert leaf_cert.issuer == ca_cert.subject
    assert leaf_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "www.example.test"
    san = leaf_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.test"]

    csr_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr.example.test")]))
           .sign(csr_key, hashes.SHA256()))
    csr_cert_id = client.call(ops.certify(
        certificate_id=unique("csr-cert"), csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode(),
        issuer_private_key_id=ca["private_key_id"], issuer_certificate_id=ca_cert_id, validity_days=10))
    csr_cert = load_cert(client.call(ops.get_certificate(csr_cert_id))["der"])
    verify_signed_by(csr_cert, ca_public)
    assert csr_cert.public_key().public_numbers() == csr_key.public_key().public_numbers()


def test_ckms_sees_what_the_client_made(client, kms_server):
    tag = unique("ckms")
    ids = client.call(ops.create_key_pair(2048, unique("seen"), [tag]))
    listed = kms_server.ckms("locate", "--tag", tag)
    assert ids["private_key_id"] in listed and ids["public_key_id"] in listed
