"""API token authentication against the real server: the modules authenticate with
api_key (or KMS_API_KEY), are refused without it, and never record or return the token."""

import base64
import datetime
import tempfile

import pytest
import requests

from kms_checks import check_bearer_credential
from kms_server import KmsServer, cleanup

TOKEN_ID = "api-token"


def _create_token_key(url):
    """An Active AES-256 key whose raw bytes, base64, are the API token (server's rule)."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = requests.post(url + "/kmip/2_1", timeout=30, json={"tag": "Create", "value": [
        {"tag": "ObjectType", "type": "Enumeration", "value": "SymmetricKey"},
        {"tag": "Attributes", "value": [
            {"tag": "CryptographicAlgorithm", "type": "Enumeration", "value": "AES"},
            {"tag": "CryptographicLength", "type": "Integer", "value": 256},
            {"tag": "CryptographicUsageMask", "type": "Integer", "value": 12},
            {"tag": "ObjectType", "type": "Enumeration", "value": "SymmetricKey"},
            {"tag": "UniqueIdentifier", "type": "TextString", "value": TOKEN_ID},
            {"tag": "ActivationDate", "type": "DateTime", "value": now}]}]})
    assert created.status_code == 200, created.text
    got = requests.post(url + "/kmip/2_1", timeout=30, json={"tag": "Get", "value": [
        {"tag": "UniqueIdentifier", "type": "TextString", "value": TOKEN_ID},
        {"tag": "KeyFormatType", "type": "Enumeration", "value": "Raw"}]})
    assert got.status_code == 200, got.text
    material = _find(got.json(), "KeyMaterial")["value"]
    return base64.b64encode(bytes.fromhex(material)).decode("ascii")


def _find(node, tag):
    if isinstance(node, dict):
        return node if node.get("tag") == tag else _find(node.get("value"), tag)
    for child in node if isinstance(node, list) else []:
        found = _find(child, tag)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def token_server():
    """A server that first runs open (to make the token key), then with api_token_id."""
    folder = tempfile.mkdtemp(prefix="pkimanager-kms-auth-")
    server = KmsServer(folder).start()
    try:
        token = _create_token_key(server.url)
        server.stop()
        server = KmsServer(folder, port=server.port, http_extra='api_token_id = "%s"\n' % TOKEN_ID).start()
        yield server, token
    finally:
        server.stop()
        cleanup(folder)


def test_api_key_authenticates_and_stays_secret(token_server, tmp_path):
    server, token = token_server
    check_bearer_credential(server.url, token, str(tmp_path), "auth-pair")
