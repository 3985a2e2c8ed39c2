"""Lifecycle operations whose answer is lost, against the real server behind a proxy that
holds the first answer back past the client's timeout (the server did the work).

The retry then gets the server's honest answer to a repeated request -- Item_Not_Found for
Revoke and Destroy, Wrong_Key_Lifecycle_State for Activate -- which must not reach the user
as a failure: the client confirms with GetAttributes that the goal is reached.
"""

import uuid

import pytest

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
