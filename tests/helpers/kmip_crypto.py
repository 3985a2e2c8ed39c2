"""Encrypt and Decrypt over raw KMIP, for tests only (the collection ships no such builder):
proof that a key the collection made is a usable key."""

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv


def encrypt(key_id, data, nonce=None):
    """Encrypt (test only): the server's default mode (AES-GCM; ChaCha20 with an 8-byte nonce)."""
    children = [ttlv.text_string("UniqueIdentifier", key_id), ttlv.byte_string("Data", data)]
    if nonce:
        children.append(ttlv.byte_string("IVCounterNonce", nonce))

    def parse(payload):
        return dict((node.tag, node.value) for node in payload.children())
    return ops.Operation("Encrypt", children, parse, key_id)


def decrypt(key_id, encrypted, nonce=None):
    children = [ttlv.text_string("UniqueIdentifier", key_id), ttlv.byte_string("Data", encrypted["Data"])]
    if encrypted.get("IVCounterNonce", nonce):
        children.append(ttlv.byte_string("IVCounterNonce", encrypted.get("IVCounterNonce", nonce)))
    if "AuthenticatedEncryptionTag" in encrypted:
        children.append(ttlv.byte_string("AuthenticatedEncryptionTag", encrypted["AuthenticatedEncryptionTag"]))
    return ops.Operation("Decrypt", children, lambda payload: payload.require("Data").value, key_id)
