"""kms_key_info through ansible-playbook against the real server.

Keys are made with raw KMIP (the client fixture), each test under its own tag, so tests
running in parallel on the session's server do not see each other's keys where it matters.
"""

import os
import uuid

from cryptography.hazmat.primitives import hashes, serialization

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

from kms_checks import play, records


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def info(title, **options):
    return {"name": title, "pkimanager.kms.kms_key_info": options, "ignore_errors": True}


def fingerprint(client, public_key_id):
    """SHA-256 of the public key's DER, computed here with cryptography."""
    der = client.call(ops.get_public_key(public_key_id))["der"]
    spki = serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki)
    return ":".join("%02X" % byte for byte in digest.finalize())


def ids(result):
    return [key["id"] for key in result["kms_keys"]]


def make_keys(client, tag):
    """One key of each kind under ``tag``; returns name -> private/symmetric key id and the pair ids."""
    names = dict((kind, unique(kind)) for kind in ("rsa2048", "rsa3072", "pre", "ec", "ed", "aes", "revoked"))
    pairs = {
        "rsa2048": client.call(ops.create_key_pair(2048, names["rsa2048"], [tag, "web"])),
        "rsa3072": client.call(ops.create_key_pair(3072, names["rsa3072"], [tag])),
        "pre": client.call(ops.create_key_pair(2048, names["pre"], [tag], activate=False)),
        "ec": client.call(ops.create_key_pair(None, names["ec"], [tag], key_type="ec", curve="P-256")),
        "ed": client.call(ops.create_key_pair(None, names["ed"], [tag], key_type="ed25519", exportable=True)),
        "revoked": client.call(ops.create_key_pair(2048, names["revoked"], [tag])),
    }
    client.call(ops.create_symmetric_key("AES", 256, names["aes"], [tag], activate=True, exportable=False))
    client.call(ops.revoke(names["revoked"], "KeyCompromise", "test"))
    return names, pairs


def test_by_name_tag_type_and_state(env, client):
    tag = unique("inv")
    names, pairs = make_keys(client, tag)
    run = play(env,
               info("by name", name=names["rsa2048"]),
               info("by tag", tags=[tag]),
               info("two tags", tags=[tag, "web"]),
               info("compliance in the tag", tags=[tag], type="rsa", size=2048, state="Active"),
               info("compliance everywhere", type="rsa", size=2048, state="Active"),
               info("ec", tags=[tag], type="ec"),
               info("symmetric", tags=[tag], type="symmetric"),
               info("pre-active", tags=[tag], state="PreActive"),
               info("revoked", name=names["revoked"]),
               info("missing", name=unique("missing")),
               info("public key name", name=pairs["rsa2048"]["public_key_id"]),
               info("name and other type", name=names["rsa2048"], type="ec"),
               info("all"))
    for task in ("by name", "by tag", "all", "missing"):
        assert run.result(task)["_status"] == "ok" and not run.result(task)["changed"], run.output[-3000:]

    [key] = run.result("by name")["kms_keys"]
    rsa = pairs["rsa2048"]
    assert key["id"] == key["name"] == names["rsa2048"]
    assert (key["object_type"], key["type"], key["size"], key["curve"], key["state"]) == (
        "PrivateKey", "rsa", 2048, None, "Active")
    assert key["tags"] == sorted([tag, "web"]) and key["exportable"] is False
    assert key["public_key_id"] == rsa["public_key_id"]
    assert key["fingerprint_sha256"] == fingerprint(client, rsa["public_key_id"])
    assert key["activation_date"].endswith("Z") and key["initial_date"].endswith("Z")
    assert key["deactivation_date"] is None

    assert ids(run.result("by tag")) == sorted(names.values())  # no public key among them
    assert ids(run.result("two tags")) == [names["rsa2048"]]
    assert ids(run.result("compliance in the tag")) == [names["rsa2048"]]
    everywhere = run.result("compliance everywhere")["kms_keys"]
    assert names["rsa2048"] in [k["id"] for k in everywhere]
    assert not {names["pre"], names["revoked"], names["rsa3072"]} & set(k["id"] for k in everywhere)
    assert all((k["type"], k["size"], k["state"]) == ("rsa", 2048, "Active") for k in everywhere)
    assert ids(run.result("compliance everywhere")) == sorted(ids(run.result("compliance everywhere")))

    [ec] = run.result("ec")["kms_keys"]
    assert (ec["id"], ec["curve"], ec["size"]) == (names["ec"], "P-256", 256)
    assert ec["fingerprint_sha256"] == fingerprint(client, pairs["ec"]["public_key_id"])
    [aes] = run.result("symmetric")["kms_keys"]
    assert (aes["id"], aes["object_type"], aes["type"], aes["size"]) == (names["aes"], "SymmetricKey", "symmetric", 256)
    assert aes["public_key_id"] is None and aes["fingerprint_sha256"] is None and aes["exportable"] is False
    [pre] = run.result("pre-active")["kms_keys"]
    assert pre["id"] == names["pre"] and pre["activation_date"] is None and pre["fingerprint_sha256"]

    [revoked] = run.result("revoked")["kms_keys"]
    assert revoked["state"] == "Compromised" and revoked["fingerprint_sha256"] is None
    assert revoked["deactivation_date"] and revoked["public_key_id"] == pairs["revoked"]["public_key_id"]

    assert run.result("missing")["kms_keys"] == [] and run.result("missing")["_status"] == "ok"
    assert run.result("public key name")["kms_keys"] == []
    assert run.result("name and other type")["kms_keys"] == []

    everything = run.result("all")["kms_keys"]
    assert set(names.values()) <= set(k["id"] for k in everything)
    assert not set(p["public_key_id"] for p in pairs.values()) & set(k["id"] for k in everything)
    assert set(k["object_type"] for k in everything) <= {"PrivateKey", "SymmetricKey"}
    assert ids(run.result("all")) == sorted(ids(run.result("all")))


def test_destroyed_keys_only_when_asked_for(env, client):
    tag = unique("gone")
    name = unique("gone")
    client.call(ops.create_key_pair(2048, name, [tag]))
    client.call(ops.revoke(name, "Superseded"))
    client.call(ops.destroy(name))
    run = play(env, info("default", tags=[tag]), info("by name", name=name),
               info("destroyed", tags=[tag], state="Destroyed"))
    assert run.result("default")["kms_keys"] == [] and run.result("by name")["kms_keys"] == []
    [key] = run.result("destroyed")["kms_keys"]
    assert key["id"] == name and key["state"] == "Destroyed" and key["fingerprint_sha256"] is None


def test_check_mode_reports_the_same_and_changes_nothing(env, client):
    tag = unique("check")
    names, pairs = make_keys(client, tag)
    objects = list(names.values()) + [p["public_key_id"] for p in pairs.values()]
    before = dict((i, client.call(ops.get_attributes(i))) for i in objects)
    task = info("inventory", tags=[tag])
    checked = play(env, task, args=["--check", "--diff"]).result("inventory")
    real = play(env, task).result("inventory")
    assert checked["_status"] == "ok" and not checked["changed"] and not real["changed"]
    assert checked["kms_keys"] == real["kms_keys"] and len(real["kms_keys"]) == len(names)
    assert "diff" not in checked
    assert dict((i, client.call(ops.get_attributes(i))) for i in objects) == before


def test_no_key_material_and_every_call_audited(env, client):
    tag = unique("secret")
    name = unique("exp")
    pair = client.call(ops.create_key_pair(2048, name, [tag], exportable=True))
    secret = client.call(ops.get_private_key(name))
    aes = unique("aes")
    client.call(ops.create_symmetric_key("AES", 256, aes, [tag], exportable=True))
    run = play(env, info("inventory", tags=[tag]), args=["-vvv"])
    result = run.result("inventory")
    assert ids(result) == sorted([name, aes]) and result["kms_keys"][0]["exportable"] is True
    body = secret["pem"].splitlines()[1]
    for text in (str(result), run.output):
        assert "PRIVATE KEY" not in text and body not in text
    trail = records(env)
    calls = [(r["operation"], r["entity_type"], r["entity_id"], r["status"]) for r in trail]
    # Locate per object type, the attributes of each key, and the public key of the pair only:
    # never a Get of the private or the symmetric key.
    assert sorted(calls) == sorted([
        ("kms.locate", "query", None, "success"), ("kms.locate", "query", None, "success"),
        ("kms.get_attributes", "key", name, "success"), ("kms.get_attributes", "key", aes, "success"),
        ("kms.get", "public_key", pair["public_key_id"], "success")])
    assert len(set(r["operation_id"] for r in trail)) == 1


def test_bad_arguments_fail_before_any_kms_call(env):
    run = play(env, info("bad tag", tags=["_sk"]), info("bad type", type="dsa"),
               info("bad name", name="a b"), info("edwards size", type="ed448", size=448))
    assert "must not start with '_'" in run.result("bad tag")["msg"]
    assert "value of type must be one of: rsa, ec, ed25519, ed448, symmetric" in run.result("bad type")["msg"]
    assert "name must be 1 to 128 characters" in run.result("bad name")["msg"]
    assert "a ed448 key has no size" in run.result("edwards size")["msg"]
    assert all(run.result(t)["_status"] == "failed" for t in ("bad tag", "bad type", "bad name", "edwards size"))
    assert not os.path.exists(env["KMS_AUDIT_LOG"]) or records(env) == []
