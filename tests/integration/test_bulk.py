"""Bulk ensure (``pairs:`` on kms_keypair, ``keys:`` on kms_symmetric_key) against the real
server: the same results, files and audit records as one task per object, in a few batched
requests, and a bad item that does not stop the good ones."""

import os
import uuid

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

from kms_checks import play, records
from lossy_proxy import LossyProxy

# What differs between two objects made alike: their names and what the KMS draws for each.
DRAWN = ("name", "id", "private_key_id", "public_key_id", "public_key_pem", "fingerprint_sha256", "activation_date",
         "invocation")


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def same_shape(result):
    return dict((k, v) for k, v in result.items() if k not in DRAWN and not k.startswith("_"))


def trail(env, name):
    """The audit records of one object (and its public key) as (operation, entity_type, status)."""
    return [(r["operation"], r["entity_type"], r["status"]) for r in records(env)
            if r["entity_id"] in (name, name + "_pk")]


def pair_items(prefix, folder):
    return [{"name": "%s-%d" % (prefix, i), "type": t, "curve": c, "tags": ["bulk"],
             "public_key_path": os.path.join(folder, "%s-%d.pub" % (prefix, i))}
            for i, (t, c) in enumerate([("ec", "P-256"), ("ed25519", None), ("ec", "P-384")])]


def single(item):
    return {"name": "single " + item["name"], "pkimanager.kms.kms_keypair": dict(
        (k, v) for k, v in item.items() if v is not None)}


def test_bulk_results_files_and_audit_records_equal_one_task_per_pair(env):
    bulk_items, single_items = pair_items(unique("bulk"), env["tmp"]), pair_items(unique("one"), env["tmp"])
    run = play(env, {"name": "bulk", "pkimanager.kms.kms_keypair": {"pairs": bulk_items, "activate": True}},
               *[single(item) for item in single_items])
    bulk = run.result("bulk")
    assert bulk["changed"] and len(bulk["results"]) == 3, run.output[-3000:]
    for made_in_bulk, bulk_item, single_item in zip(bulk["results"], bulk_items, single_items):
        one = run.result("single " + single_item["name"])
        assert same_shape(made_in_bulk) == same_shape(one), (made_in_bulk, one)
        for item, result in ((bulk_item, made_in_bulk), (single_item, one)):
            with open(item["public_key_path"]) as handle:
                assert handle.read() == result["public_key_pem"]
    for bulk_item, single_item in zip(bulk_items, single_items):
        assert trail(env, bulk_item["name"]) == trail(env, single_item["name"]), bulk_item["name"]

    again = play(env, {"name": "again", "pkimanager.kms.kms_keypair": {"pairs": bulk_items}}).result("again")
    assert not again["changed"] and [r["changes"] for r in again["results"]] == [[], [], []]


def test_bulk_sends_a_few_batched_requests_whatever_the_number_of_pairs(env, kms_server):
    items = [{"name": unique("many")} for _item in range(12)]
    proxy = LossyProxy(kms_server.url)
    try:
        created = play(dict(env, KMS_URL=proxy.url),
                       {"name": "bulk", "pkimanager.kms.kms_keypair": {"pairs": items, "size": 2048}}).result("bulk")
        forwarded_create = list(proxy.forwarded)
        del proxy.forwarded[:]
        again = play(dict(env, KMS_URL=proxy.url),
                     {"name": "bulk", "pkimanager.kms.kms_keypair": {"pairs": items, "size": 2048}}).result("bulk")
    finally:
        proxy.close()
    assert [r["changes"] for r in created["results"]] == [["created"]] * 12, created
    # reads, creates, then the new pairs' public keys and their attributes
    assert forwarded_create == ["RequestMessage:GetAttributes", "RequestMessage:CreateKeyPair",
                                "RequestMessage:Get+GetAttributes"], forwarded_create
    # the pairs' attributes, then their public keys
    assert not again["changed"] and proxy.forwarded == ["RequestMessage:GetAttributes", "RequestMessage:Get"], \
        proxy.forwarded
    # every object still has its own audit records
    assert len([r for r in records(env) if r["operation"] == "kms.create_key_pair"]) == 12


def test_a_bad_item_does_not_stop_the_good_ones_and_is_named(env, client):
    good, taken = [unique("good"), unique("good")], unique("taken")
    client.call(ops.create_symmetric_key("AES", 256, taken))
    items = [{"name": good[0]}, {"name": unique("bad"), "type": "ec"}, {"name": taken},
             {"name": good[1], "size": 4096}, {"name": good[0]}]
    result = play(env, {"name": "bulk", "ignore_errors": True,
                        "pkimanager.kms.kms_keypair": {"pairs": items, "size": 2048}}).result("bulk")
    assert result["_status"] == "failed" and result["msg"].startswith("3 of 5 pairs failed"), result
    assert "type=ec needs curve" in result["msg"] and "is a SymmetricKey, not a key pair's private key" in \
        result["msg"] and "given twice" in result["msg"]
    first, second = result["results"][0], result["results"][3]
    assert first["changes"] == ["created"] and second["size"] == 4096 and result["results"][4]["failed"]
    for name in good:
        assert client.call(ops.get_attributes(name))["state"] == "Active"


def test_check_mode_predicts_each_item_and_creates_nothing(env, client):
    items = [{"name": unique("chk")}, {"name": unique("chk"), "type": "ed448"}]
    predicted = play(env, {"name": "bulk", "pkimanager.kms.kms_keypair": {"pairs": items}},
                     args=["--check", "--diff"]).result("bulk")
    assert [r["changes"] for r in predicted["results"]] == [["created"], ["created"]], predicted
    assert set(predicted["diff"]["after"]) == set(i["name"] for i in items)
    assert not [r for r in records(env) if r["operation"] == "kms.create_key_pair"]


def test_symmetric_keys_in_bulk(env, client):
    items = [{"name": unique("dek"), "size": size} for size in (128, 192, 256)] + [
        {"name": unique("cha"), "algorithm": "chacha20"}]
    run = play(env, {"name": "bulk", "pkimanager.kms.kms_symmetric_key": {"keys": items, "tags": ["dek"]}},
               {"name": "again", "pkimanager.kms.kms_symmetric_key": {"keys": items, "tags": ["dek"]}},
               {"name": "gone", "pkimanager.kms.kms_symmetric_key": {"keys": items, "state": "absent"}})
    created = run.result("bulk")
    assert [(r["algorithm"], r["size"], r["tags"]) for r in created["results"]] == [
        ("aes", 128, ["dek"]), ("aes", 192, ["dek"]), ("aes", 256, ["dek"]), ("chacha20", 256, ["dek"])], \
        run.output[-3000:]
    assert not run.result("again")["changed"]
    assert [r["changes"] for r in run.result("gone")["results"]] == [["revoked", "destroyed"]] * 4


def test_certificates_in_bulk_share_the_task_options(env, client):
    suffix = uuid.uuid4().hex[:8]
    ca, leaves = "bulk-ca-" + suffix, ["bulk-leaf-%d-%s" % (i, suffix) for i in range(3)]
    pairs = [{"name": ca, "type": "ec", "curve": "P-384"}] + [{"name": leaf + "-key"} for leaf in leaves]
    certificates = [{"name": leaf, "keypair": leaf + "-key", "subject": {"CN": leaf + ".example.test"},
                     "subject_alt_names": ["DNS:%s.example.test" % leaf]} for leaf in leaves]
    shared = {"provider": "kms_ca", "issuer": ca + "-cert", "extended_key_usage": ["serverAuth"], "validity_days": 90}
    root = {"name": ca + "-cert", "provider": "selfsigned", "keypair": ca, "subject": {"CN": "Bulk CA"}}
    run = play(env,
               {"name": "pairs", "pkimanager.kms.kms_keypair": {"pairs": pairs}},
               {"name": "ca", "pkimanager.kms.kms_certificate": root},
               {"name": "leaves", "pkimanager.kms.kms_certificate": dict(shared, certificates=certificates)},
               {"name": "again", "pkimanager.kms.kms_certificate": dict(shared, certificates=certificates)},
               {"name": "bad", "ignore_errors": True, "pkimanager.kms.kms_certificate": dict(
                   shared, certificates=[{"name": unique("bulk-nosubject"), "keypair": leaves[0] + "-key"}])})
    made = run.result("leaves")
    assert [r["changes"] for r in made["results"]] == [["created"]] * 3, run.output[-3000:]
    assert [r["subject_alt_names"] for r in made["results"]] == [["DNS:%s.example.test" % leaf] for leaf in leaves]
    assert all(r["extended_key_usage"] == ["serverAuth"] for r in made["results"])
    assert not run.result("again")["changed"]
    bad = run.result("bad")
    assert bad["_status"] == "failed" and "provider is kms_ca but all of the following are missing: subject" in \
        bad["msg"], bad


def test_an_items_secret_is_masked_like_the_tasks_own(env):
    name, path = unique("masked"), os.path.join(env["tmp"], "masked.key")
    items = [{"name": name, "type": "ed25519", "exportable": True, "private_key_path": path,
              "private_key_passphrase": "bulk secret words"}]
    run = play(env, {"name": "bulk", "pkimanager.kms.kms_keypair": {"pairs": items}}, args=["-vvv"])
    assert run.result("bulk")["results"][0]["changes"] == ["created", "private key file written"], run.output[-3000:]
    assert "bulk secret words" not in run.output and "bulk secret words" not in str(run.results())
    assert os.path.exists(path)
