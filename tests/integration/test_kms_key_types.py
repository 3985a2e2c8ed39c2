"""kms_keypair with every key type, private keys that leave the KMS on purpose, and
kms_symmetric_key, through ansible-playbook against the real server."""

import hashlib
import os
import stat
import uuid

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError

from kmip_crypto import decrypt, encrypt
from kms_checks import play, records

# (options of kms_keypair, the result's size and curve)
PAIR_TYPES = {
    "rsa-2048": ({"type": "rsa", "size": 2048}, 2048, None),
    "ec-p256": ({"type": "ec", "curve": "P-256"}, 256, "P-256"),
    "ec-p384": ({"type": "ec", "curve": "P-384"}, 384, "P-384"),
    "ec-p521": ({"type": "ec", "curve": "P-521"}, 521, "P-521"),
    "ec-secp256k1": ({"type": "ec", "curve": "secp256k1"}, 256, "secp256k1"),
    "ed25519": ({"type": "ed25519"}, None, None),
    "ed448": ({"type": "ed448"}, None, None),
}
# The same name asked as another type: each type's neighbour.
OTHER = {"rsa-2048": {"type": "ec", "curve": "P-256"}, "ec-p256": {"type": "ec", "curve": "P-384"},
         "ec-p384": {"type": "ed25519"}, "ec-p521": {"type": "ec", "curve": "P-256"},
         "ec-secp256k1": {"type": "rsa", "size": 2048}, "ed25519": {"type": "ed448"}, "ed448": {"type": "ed25519"}}


def task(module, name, title, **options):
    return {"name": title, "pkimanager.kms." + module: dict(name=name, **options), "ignore_errors": True}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def spki_sha256(pem):
    der = serialization.load_pem_public_key(pem.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


@pytest.mark.parametrize("kind", sorted(PAIR_TYPES))
def test_each_type_lives_its_whole_lifecycle(env, client, kms_server, kind):
    options, size, curve = PAIR_TYPES[kind]
    name, pub = unique(kind), os.path.join(env["tmp"], kind + ".pub.pem")
    run = play(env,
               task("kms_keypair", name, "create", public_key_path=pub, **options),
               task("kms_keypair", name, "again", public_key_path=pub, **options),
               task("kms_keypair", name, "other type fails", **OTHER[kind]))
    created = run.result("create")
    assert created["changed"] and created["changes"] == ["created", "public key file written"], run.output[-3000:]
    assert (created["type"], created["size"], created["curve"], created["exportable"], created["state"]) == (
        options["type"], size, curve, False, "Active")
    assert not run.result("again")["changed"]

    # The public key: the file, the result, raw KMIP and ckms agree, and the fingerprint is the SPKI's.
    with open(pub) as handle:
        assert handle.read() == created["public_key_pem"]
    assert client.call(ops.get_public_key(created["public_key_id"]))["pem"] == created["public_key_pem"]
    exported = os.path.join(env["tmp"], kind + ".ckms.pem")
    kms_server.ckms("ec", "keys", "export", "--key-id", created["public_key_id"], "--key-format", "pkcs8-pem", exported)
    with open(exported) as handle:
        assert spki_sha256(handle.read()) == created["fingerprint_sha256"] == spki_sha256(created["public_key_pem"])

    refused = run.result("other type fails")
    assert refused["_status"] == "failed" and "exists but does not match" in refused["msg"], refused
    assert ("type is %s" % options["type"]) in refused["msg"] or ("curve is %s" % curve) in refused["msg"]
    run = play(env, task("kms_keypair", name, "revoke", state="revoked", **options),
               task("kms_keypair", name, "remove", state="absent", **options))
    assert run.result("revoke")["state"] == "Deactivated"
    assert run.result("remove")["changes"] == ["destroyed"] and run.result("remove")["state"] == "absent"
    with pytest.raises(KmsError):
        client.call(ops.get_attributes(name))


def test_a_type_or_curve_mismatch_is_replaced_with_regenerate_mismatch(env):
    name = unique("swap")
    run = play(env,
               task("kms_keypair", name, "p256", type="ec", curve="P-256"),
               task("kms_keypair", name, "p384 kept", type="ec", curve="P-384", regenerate="never"),
               task("kms_keypair", name, "p384", type="ec", curve="P-384", regenerate="mismatch"),
               task("kms_keypair", name, "ed25519", type="ed25519", regenerate="mismatch"),
               task("kms_keypair", name, "cleanup", state="absent"))
    assert run.result("p384 kept")["mismatch"] == ["curve is P-256, requested P-384"], run.output[-3000:]
    assert run.result("p384")["changes"] == ["replaced"] and run.result("p384")["curve"] == "P-384"
    assert run.result("ed25519")["changes"] == ["replaced"] and run.result("ed25519")["type"] == "ed25519"


@pytest.mark.parametrize("options, message", [
    ({"type": "ec"}, "type=ec needs curve"),
    ({"type": "ed25519", "size": 2048}, "size is only used with type=rsa"),
    ({"type": "rsa", "curve": "P-256"}, "curve is only used with type=ec"),
    ({"type": "ec", "curve": "P-224"}, "value of curve must be one of"),
])
def test_a_combination_that_makes_no_sense_is_refused_before_any_kms_call(env, options, message):
    name = unique("bad")
    run = play(env, task("kms_keypair", name, "bad", **options))
    result = run.result("bad")
    assert result["_status"] == "failed" and message in result["msg"], result
    assert not records(env, entity_id=name)


def test_an_exportable_pair_writes_its_private_key_once_with_mode_0600(env, client):
    name, folder = unique("tls"), env["tmp"]
    key_path, pub = os.path.join(folder, "tls.key"), os.path.join(folder, "tls.pub")
    options = dict(type="ec", curve="P-256", exportable=True, private_key_path=key_path,
                   private_key_passphrase="correct horse", public_key_path=pub)
    predicted = play(env, task("kms_keypair", name, "check", **options), args=["--check", "--diff"]).result("check")
    assert predicted["changes"] == ["created"] and not os.path.exists(key_path), predicted
    other = dict(options)
    other["private_key_passphrase"] = "other"
    run = play(env, task("kms_keypair", name, "create", **options), task("kms_keypair", name, "again", **options),
               task("kms_keypair", name, "other passphrase", **other))
    created = run.result("create")
    assert created["changes"] == ["created", "public key file written", "private key file written"], \
        run.output[-3000:]
    assert created["exportable"] is True and stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    with open(key_path, "rb") as handle:
        data = handle.read()
    assert b"ENCRYPTED PRIVATE KEY" in data
    key = serialization.load_pem_private_key(data, password=b"other")  # the last task's passphrase
    assert key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                                         ).decode() == created["public_key_pem"]
    assert not run.result("again")["changed"]
    assert run.result("other passphrase")["changes"] == ["private key file written"]
    # Key material never in results, diff or audit records.
    everything = str(run.results()) + str(predicted) + str(records(env))
    assert "PRIVATE KEY" not in everything and "correct horse" not in everything


def test_a_non_exportable_pair_is_refused_before_any_file_is_touched(env, client):
    name, folder = unique("locked"), env["tmp"]
    key_path, pub = os.path.join(folder, "locked.key"), os.path.join(folder, "locked.pub")
    run = play(env, task("kms_keypair", name, "create", type="ed25519"),
               task("kms_keypair", name, "export", type="ed25519", private_key_path=key_path, public_key_path=pub),
               task("kms_keypair", unique("new"), "new without exportable", private_key_path=key_path))
    refused = run.result("export")
    assert refused["_status"] == "failed" and "is not exportable" in refused["msg"], refused
    assert "set exportable=true" in run.result("new without exportable")["msg"]
    assert not os.path.exists(key_path) and not os.path.exists(pub)
    with pytest.raises(KmsError) as caught:  # the server refuses it too, asked directly
        client.call(ops.get_private_key(name))
    assert caught.value.reason == "Sensitive"


def test_a_pair_made_before_exportable_existed_is_kept_and_reported(env, client):
    """0.1.0 made pairs exportable (the server's default): a task without exportable keeps them."""
    name = unique("old")
    client.call(ops.create_key_pair(2048, name, exportable=True))
    run = play(env, task("kms_keypair", name, "as before", size=2048),
               task("kms_keypair", name, "explicit", size=2048, exportable=False))
    kept = run.result("as before")
    assert not kept["changed"] and kept["exportable"] is True and kept["mismatch"] == [], run.output[-3000:]
    assert "exportable is True, requested False" in run.result("explicit")["msg"]


@pytest.mark.parametrize("algorithm, size", [("aes", 128), ("aes", 192), ("aes", 256), ("chacha20", 256)])
def test_a_symmetric_key_lives_its_lifecycle_and_encrypts(env, client, algorithm, size):
    name = unique(algorithm)
    options = dict(algorithm=algorithm, size=size, tags=["sym"])
    other = dict(options)
    other.update(algorithm="aes", size=256 if size != 256 else 128)
    predicted = play(env, task("kms_symmetric_key", name, "check", **options), args=["--check"]).result("check")
    run = play(env, task("kms_symmetric_key", name, "create", **options),
               task("kms_symmetric_key", name, "again", **options),
               task("kms_symmetric_key", name, "other size", **other))
    created = run.result("create")
    assert predicted["changes"] == created["changes"] == ["created"], run.output[-3000:]
    assert (created["type"], created["algorithm"], created["size"], created["exportable"], created["tags"]) == (
        "symmetric", algorithm, size, False, ["sym"])
    assert not run.result("again")["changed"]
    assert run.result("other size")["_status"] == "failed" and "does not match" in run.result("other size")["msg"]

    data = os.urandom(64)
    nonce = os.urandom(8) if algorithm == "chacha20" else None
    encrypted = client.call(encrypt(name, data, nonce))
    assert client.call(decrypt(name, encrypted, nonce)) == data

    ended = play(env, task("kms_symmetric_key", name, "revoke", state="revoked", revocation_reason="KeyCompromise"),
                 task("kms_symmetric_key", name, "remove", state="absent"))
    assert ended.result("revoke")["state"] == "Compromised" and ended.result("remove")["changes"] == ["destroyed"]


def test_an_exportable_symmetric_key_is_written_only_on_purpose(env, client):
    name, path = unique("aes-out"), os.path.join(env["tmp"], "aes.key")
    run = play(env, task("kms_symmetric_key", name, "create", exportable=True, key_path=path),
               task("kms_symmetric_key", name, "again", exportable=True, key_path=path),
               task("kms_symmetric_key", unique("aes-in"), "locked", key_path=path + ".2"))
    assert run.result("create")["changes"] == ["created", "key file written"], run.output[-3000:]
    assert not run.result("again")["changed"] and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, "rb") as handle:
        assert len(handle.read()) == 32
    assert "set exportable=true" in run.result("locked")["msg"] and not os.path.exists(path + ".2")
    assert all("key" not in record["details"] for record in records(env, entity_id=name))


def test_the_lookup_refuses_private_and_symmetric_material(env, client):
    pair, key = unique("lk-pair"), unique("lk-sym")
    ids = client.call(ops.create_key_pair(private_key_id=pair, key_type="ed25519", exportable=True))
    client.call(ops.create_symmetric_key("AES", 256, key, exportable=True))
    lookup = "{{ lookup('pkimanager.kms.kms_pem', '%s', type='certificate') }}"
    run = play(env, {"name": "sym", "ignore_errors": True, "ansible.builtin.set_fact": {"pem": lookup % key}},
               {"name": "pub", "ansible.builtin.set_fact": {
                   "pem": "{{ lookup('pkimanager.kms.kms_pem', '%s') }}" % pair}},
               {"name": "sym as key", "ignore_errors": True, "ansible.builtin.set_fact": {
                   "pem": "{{ lookup('pkimanager.kms.kms_pem', '%s') }}" % key}})
    assert "SymmetricKey" in run.result("sym")["msg"] and "SymmetricKey" in run.result("sym as key")["msg"]
    assert run.result("pub")["ansible_facts"]["pem"] == client.call(ops.get_public_key(ids["public_key_id"]))["pem"]
    assert "PRIVATE" not in str(run.results())
