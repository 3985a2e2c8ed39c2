"""Lifecycle operations whose answer is lost, against the real server behind a proxy that
holds the first answer back past the client's timeout (the server did the work).

The retry then gets the server's honest answer to a repeated request -- Item_Not_Found for
Revoke and Destroy, Wrong_Key_Lifecycle_State for Activate -- which must not reach the user
as a failure: the client confirms with GetAttributes that the goal is reached.

Creates under a chosen id (CreateKeyPair with the pair's name, Certify with the certificate's)
are settled the same way when their retry is refused, and only when the object found is the one
the request described; a refusal to a request sent once stays what it is: another run's object.
"""

import datetime
import time
import uuid

import pytest
from cryptography import x509

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from kms_checks import exists, play, records
from lossy_proxy import LossyProxy

TIMEOUT = 1.0


@pytest.fixture
def proxy_for(kms_server):
    proxies = []

    def make(*lose):
        proxies.append(LossyProxy(kms_server.url, lose=lose, hold_seconds=3 * TIMEOUT))
        return proxies[-1]
    yield make
    for proxy in proxies:
        proxy.close()


def _lossy_client(proxy, seen):
    transport = KmsTransport(proxy.url, timeout=TIMEOUT, retries=3, backoff=0.1)
    return KmsClient(transport, observer=lambda op, value, error: seen.append((op.name, op.object_id, error)))


@pytest.mark.parametrize("case", ["Revoke", "Destroy", "Activate"])
def test_a_lost_answer_is_not_a_failure(client, proxy_for, case):
    name = "lost-%s-%s" % (case.lower(), uuid.uuid4().hex[:8])
    client.call(ops.create_key_pair(2048, private_key_id=name, activate=case != "Activate"))
    if case == "Destroy":
        client.call(ops.revoke(name, "CessationOfOperation"))
    operation = {"Revoke": lambda: ops.revoke(name, "KeyCompromise", "lost answer"),
                 "Destroy": lambda: ops.destroy(name, cascade=True, remove=True),
                 "Activate": lambda: ops.activate(name)}[case]()
    proxy, seen = proxy_for(case), []

    assert _lossy_client(proxy, seen).call(operation) == name
    assert proxy.lost == [case] and proxy.forwarded == [case, case, "GetAttributes"]
    assert "after 2 attempts" in operation.settled
    assert [(op, error is None) for op, dummy, error in seen] == [("GetAttributes", case != "Destroy"), (case, True)]
    state = {"Revoke": "Compromised", "Activate": "Active"}.get(case)
    if state:
        assert client.call(ops.get_attributes(name))["state"] == state
    else:
        assert not exists(client, name) and not exists(client, name + "_pk")


def test_a_retried_operation_that_did_not_happen_still_fails(client, proxy_for):
    """The confirmation reads the state; it does not turn every retried error into success."""
    name = "lost-never-%s" % uuid.uuid4().hex[:8]
    client.call(ops.create_key_pair(2048, private_key_id=name))
    client.call(ops.revoke(name, "CessationOfOperation"))
    proxy, seen = proxy_for("Activate"), []
    with pytest.raises(KmsError) as caught:
        _lossy_client(proxy, seen).call(ops.activate(name))  # a revoked key never becomes Active
    assert caught.value.retried and caught.value.reason == "Wrong_Key_Lifecycle_State"
    assert client.call(ops.get_attributes(name))["state"] == "Deactivated"


def test_module_absent_survives_lost_answers(env, client, proxy_for):
    """kms_keypair state=absent through the lossy proxy: both Revoke and Destroy lose their
    first answer, the task still reports the pair removed, and the audit trail says how.
    (KeyCompromise, because a second Revoke of a merely Deactivated key succeeds: only a
    Compromised one answers Item_Not_Found.)"""
    name = "lost-module-%s" % uuid.uuid4().hex[:8]
    client.call(ops.create_key_pair(2048, private_key_id=name))
    proxy = proxy_for("Revoke", "Destroy")
    run = play(dict(env, KMS_URL=proxy.url), {"name": "absent", "pkimanager.kms.kms_keypair": {
        "name": name, "state": "absent", "revocation_reason": "KeyCompromise", "timeout": TIMEOUT}})
    result = run.result("absent")
    assert result["_status"] == "ok" and result["changed"], run.output[-3000:]
    assert sorted(proxy.lost) == ["Destroy", "Revoke"]
    assert not exists(client, name) and not exists(client, name + "_pk")
    settled = [r for r in records(env, entity_id=name) if "settled" in r["details"]]
    assert sorted(r["operation"] for r in settled) == ["kms.destroy", "kms.revoke"]
    assert all(r["status"] == "success" for r in settled)


# -- creates under a chosen id ---------------------------------------------------------

@pytest.mark.parametrize("activate", [True, False])
def test_a_lost_create_answer_is_settled_as_created(client, proxy_for, activate):
    """The retry of CreateKeyPair is refused with Object_Already_Exists; the pair of that id is
    the one this request described, so the create counts as done, with both ids returned."""
    name = "lost-create-%s" % uuid.uuid4().hex[:8]
    operation = ops.create_key_pair(2048, private_key_id=name, tags=["lost"], activate=activate)
    proxy, seen = proxy_for("CreateKeyPair"), []

    ids = _lossy_client(proxy, seen).call(operation)
    attributes = client.call(ops.get_attributes(name))
    assert ids == {"private_key_id": name, "public_key_id": attributes["links"]["PublicKeyLink"]}
    assert proxy.lost == ["CreateKeyPair"] and proxy.forwarded == ["CreateKeyPair", "CreateKeyPair", "GetAttributes"]
    assert operation.settled.startswith("Object_Already_Exists after 2 attempts")
    assert [(op, error is None) for op, dummy, error in seen] == [("GetAttributes", True), ("CreateKeyPair", True)]
    assert attributes["state"] == ("Active" if activate else "PreActive") and attributes["tags"] == ["lost"]
    assert exists(client, ids["public_key_id"])


@pytest.mark.parametrize("kind", ["key pair", "symmetric key"])
def test_a_lost_create_built_seconds_before_it_ran_is_still_settled(client, proxy_for, monkeypatch, kind):
    """Cosmian stores its own time as ActivationDate, not the one a create carries: a request
    built 2 s before it ran (a slow key generation or a busy node does the same to any second
    boundary) made an object activated after it, which is this request's, not another run's."""
    name = "lost-late-%s" % uuid.uuid4().hex[:8]
    built = ops.utc_now() - datetime.timedelta(seconds=2)
    monkeypatch.setattr(ops, "utc_now", lambda: built)
    if kind == "key pair":
        operation, lost = ops.create_key_pair(2048, private_key_id=name), "CreateKeyPair"
    else:
        operation, lost = ops.create_symmetric_key(unique_identifier=name), "Create"
    proxy = proxy_for(lost)

    _lossy_client(proxy, []).call(operation)
    assert proxy.lost == [lost] and operation.settled.startswith("Object_Already_Exists after 2 attempts")
    assert client.call(ops.get_attributes(name))["activation_date"] > built  # the server's own time


@pytest.mark.parametrize("differs", ["activation date", "size", "tags"])
def test_a_retried_create_refused_for_another_runs_pair_still_fails(client, proxy_for, differs):
    """Another run made a pair of this name: our first attempt is refused, that answer is lost, and
    the retry is refused too. The pair is not the one our request described, so it stays an error."""
    name = "lost-theirs-%s" % uuid.uuid4().hex[:8]
    client.call(ops.create_key_pair(3072 if differs == "size" else 2048, private_key_id=name,
                                    tags=["theirs"] if differs == "tags" else ["ours"]))
    if differs == "activation date":
        time.sleep(1.1)  # our request's ActivationDate is a later second
    proxy, seen = proxy_for("CreateKeyPair"), []
    operation = ops.create_key_pair(2048, private_key_id=name, tags=["ours"])
    with pytest.raises(KmsError) as caught:
        _lossy_client(proxy, seen).call(operation)
    assert caught.value.reason == "Object_Already_Exists" and caught.value.retried
    assert operation.settled is None and proxy.forwarded == ["CreateKeyPair", "CreateKeyPair", "GetAttributes"]
    assert seen[-1][0] == "CreateKeyPair" and seen[-1][2] is caught.value


def test_a_create_sent_once_and_refused_is_never_settled(client, proxy_for):
    """The genuine race: another run created the pair, our only attempt is refused. Even with
    the very same attributes, nothing is read back and the refusal stands."""
    name = "race-once-%s" % uuid.uuid4().hex[:8]
    mine = ops.create_key_pair(2048, private_key_id=name)
    client.call(ops.create_key_pair(2048, private_key_id=name))
    proxy, seen = proxy_for(), []
    with pytest.raises(KmsError) as caught:
        _lossy_client(proxy, seen).call(mine)
    assert caught.value.reason == "Object_Already_Exists" and not caught.value.retried
    assert proxy.forwarded == ["CreateKeyPair"] and mine.settled is None


def test_module_create_survives_a_lost_answer(env, client, proxy_for):
    """kms_keypair creating a pair whose CreateKeyPair answer is lost: this run created it, so the
    task says changed/created, returns both ids, and the audit trail has the create as a success
    (settled), not as a failure."""
    name = "lost-kp-%s" % uuid.uuid4().hex[:8]
    proxy = proxy_for("CreateKeyPair")
    run = play(dict(env, KMS_URL=proxy.url), {"name": "create", "pkimanager.kms.kms_keypair": {
        "name": name, "size": 2048, "tags": ["lost"], "timeout": TIMEOUT}})
    result = run.result("create")
    assert result["_status"] == "ok", run.output[-3000:]
    assert (result["changed"], result["changes"], proxy.lost) == (True, ["created"], ["CreateKeyPair"]), (
        result, proxy.forwarded)
    assert result["private_key_id"] == name and result["state"] == "Active" and result["tags"] == ["lost"]
    assert result["public_key_id"] == client.call(ops.get_attributes(name))["links"]["PublicKeyLink"]
    creates = records(env, operation="kms.create_key_pair")
    assert [(r["entity_id"], r["status"]) for r in creates] == [(name, "success")]
    assert "Object_Already_Exists after 2 attempts" in creates[0]["details"]["settled"]
    assert creates[0]["details"]["result"]["public_key_id"] == result["public_key_id"]


def test_a_lost_batched_create_answer_is_settled_item_by_item(client, proxy_for):
    """A batch of creates whose answer is lost: the retried batch is refused item by item with
    Object_Already_Exists, and each item is settled as a single create is -- the pairs this
    batch described count as created; another run's pair of the same name stays an error."""
    ours, theirs = ["lost-batch-%s" % uuid.uuid4().hex[:8] for dummy in range(2)], "lost-batch-theirs-%s" % (
        uuid.uuid4().hex[:8])
    client.call(ops.create_key_pair(3072, private_key_id=theirs))
    operations = [ops.create_key_pair(2048, private_key_id=name, tags=["lost"]) for name in ours + [theirs]]
    proxy, seen = proxy_for("RequestMessage:CreateKeyPair"), []

    results = _lossy_client(proxy, seen).batch(operations)
    assert proxy.lost == ["RequestMessage:CreateKeyPair"]
    assert proxy.forwarded == ["RequestMessage:CreateKeyPair"] * 2 + ["GetAttributes"] * 3
    for name, result in zip(ours, results):
        attributes = client.call(ops.get_attributes(name))
        assert result.ok and result.value == {"private_key_id": name,
                                              "public_key_id": attributes["links"]["PublicKeyLink"]}
        assert result.operation.settled.startswith("Object_Already_Exists after 2 attempts")
        assert attributes["tags"] == ["lost"] and exists(client, result.value["public_key_id"])
    refused = results[2]
    assert not refused.ok and refused.error.reason == "Object_Already_Exists" and refused.error.retried
    assert refused.operation.settled is None
    assert [(op, object_id, error is None) for op, object_id, error in seen if op == "CreateKeyPair"] == [
        ("CreateKeyPair", ours[0], True), ("CreateKeyPair", ours[1], True), ("CreateKeyPair", theirs, False)]


def test_module_bulk_create_survives_a_lost_answer(env, client, proxy_for):
    """kms_keypair with ``pairs:`` whose batched CreateKeyPair answer is lost: every item
    says created, as one task per pair would, and each create is audited as a settled success."""
    names = ["lost-bulk-%s" % uuid.uuid4().hex[:8] for dummy in range(3)]
    proxy = proxy_for("RequestMessage:CreateKeyPair")
    run = play(dict(env, KMS_URL=proxy.url), {"name": "bulk", "pkimanager.kms.kms_keypair": {
        "pairs": [{"name": name} for name in names], "size": 2048, "timeout": TIMEOUT}})
    result = run.result("bulk")
    assert result["_status"] == "ok" and result["changed"], run.output[-3000:]
    assert proxy.lost == ["RequestMessage:CreateKeyPair"]
    assert [(r["name"], r["changes"], r["state"]) for r in result["results"]] == [
        (name, ["created"], "Active") for name in names]
    creates = records(env, operation="kms.create_key_pair")
    assert sorted((r["entity_id"], r["status"]) for r in creates) == [(name, "success") for name in sorted(names)]
    assert all("Object_Already_Exists after 2 attempts" in r["details"]["settled"] for r in creates)


@pytest.mark.parametrize("provider", ["selfsigned", "kms_ca"])
def test_module_certify_survives_a_lost_answer(env, client, proxy_for, provider):
    """kms_certificate whose Certify answer is lost. Cosmian 5.28 re-issues a certificate under an
    existing id (an upsert), so the retry itself succeeds: the task reports the certificate issued,
    what it returns is what the KMS holds under the name, it verifies against its issuer, the
    audit trail has the Certify as a success, and the next run leaves it alone."""
    suffix = uuid.uuid4().hex[:8]
    root, pair, name = "lc-root-" + suffix, "lc-kp-" + suffix, "lc-" + suffix
    setup = [{"name": "pair " + n, "pkimanager.kms.kms_keypair": {"name": n, "size": 2048}} for n in (root, pair)]
    setup.append({"name": "root", "pkimanager.kms.kms_certificate": {
        "name": root + "-cert", "provider": "selfsigned", "keypair": root, "subject": {"CN": "Lost Root"}}})
    assert play(env, *setup).result("root")["changed"]
    options = {"name": name, "provider": provider, "keypair": pair, "subject": {"CN": "lost.example.test"},
               "validity_days": 60, "timeout": TIMEOUT}
    if provider == "kms_ca":
        options["issuer"] = root + "-cert"
    proxy = proxy_for("Certify")
    run = play(dict(env, KMS_URL=proxy.url), {"name": "cert", "pkimanager.kms.kms_certificate": options})
    result = run.result("cert")
    assert result["_status"] == "ok" and result["changed"], run.output[-3000:]
    assert proxy.lost == ["Certify"] and proxy.forwarded.count("Certify") == 2
    assert result["pem"] == client.call(ops.get_certificate(name))["pem"]
    issued = x509.load_pem_x509_certificate(result["pem"].encode())
    issuer = issued if provider == "selfsigned" else x509.load_pem_x509_certificate(
        client.call(ops.get_certificate(root + "-cert"))["pem"].encode())
    issued.verify_directly_issued_by(issuer)
    certifies = records(env, operation="kms.certify", entity_id=name)
    assert [r["status"] for r in certifies] == ["success"]
    again = play(env, {"name": "again", "pkimanager.kms.kms_certificate": dict(options, timeout=30)})
    assert not again.result("again")["changed"], again.result("again")["changed_reason"]
