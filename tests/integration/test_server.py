"""The real server the suite runs against: pinned version, raw JSON TTLV, seen by ckms."""

import uuid

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from kms_server import pinned_version


def test_version_reports_the_pinned_version(kms_server):
    assert kms_server.version().startswith(pinned_version() + " ")


def test_raw_json_ttlv_key_pair_is_seen_by_ckms(kms_server):
    """No collection code here: a hand-written request, as the server documents it."""
    tag = "raw-%s" % uuid.uuid4().hex[:8]
    rsa_attrs = [{"tag": "CryptographicAlgorithm", "type": "Enumeration", "value": "RSA"},
                 {"tag": "CryptographicLength", "type": "Integer", "value": 2048}]
    request = {"tag": "CreateKeyPair", "value": [
        {"tag": "CommonAttributes", "value": rsa_attrs + [
            # 5.28 reads tags from a vendor attribute under the tag "Attribute" with a
            # TextString JSON array; "VendorAttributes" or a ByteString value is ignored.
            {"tag": "Attribute", "value": [
                {"tag": "VendorIdentification", "type": "TextString", "value": "cosmian"},
                {"tag": "AttributeName", "type": "TextString", "value": "tag"},
                {"tag": "AttributeValue", "type": "TextString", "value": '["%s"]' % tag}]}]},
        {"tag": "PrivateKeyAttributes", "value": rsa_attrs + [
            {"tag": "CryptographicUsageMask", "type": "Integer", "value": 2601}]},
        {"tag": "PublicKeyAttributes", "value": rsa_attrs + [
            {"tag": "CryptographicUsageMask", "type": "Integer", "value": 2582}]},
    ]}
    answer = requests.post(kms_server.url + "/kmip/2_1", json=request, timeout=60)
    assert answer.status_code == 200, answer.text
    fields = {node["tag"]: node["value"] for node in answer.json()["value"]}
    public_id = fields["PublicKeyUniqueIdentifier"]

    got = requests.post(kms_server.url + "/kmip/2_1", timeout=30, json={"tag": "Get", "value": [
        {"tag": "UniqueIdentifier", "type": "TextString", "value": public_id},
        {"tag": "KeyFormatType", "type": "Enumeration", "value": "PKCS8"}]})
    assert got.status_code == 200, got.text
    material = _find(got.json(), "KeyMaterial")
    key = load_der_public_key(bytes.fromhex(material["value"]))
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048

    listed = kms_server.ckms("locate", "--tag", tag)
    assert public_id in listed and fields["PrivateKeyUniqueIdentifier"] in listed


def _find(node, tag):
    if isinstance(node, dict):
        if node.get("tag") == tag:
            return node
        return _find(node.get("value"), tag)
    if isinstance(node, list):
        for child in node:
            found = _find(child, tag)
            if found:
                return found
    return None
