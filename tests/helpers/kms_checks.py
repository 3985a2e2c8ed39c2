"""Helpers of the module integration tests: run tasks, read the audit trail and the KMS."""

import os

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError

from playbook import run_adhoc, run_playbook


def _ansible_env(env):
    return {k: v for k, v in env.items() if k != "tmp"}


def play(env, *tasks, **kwargs):
    """ansible-playbook with ``tasks`` in the environment of the ``env`` fixture."""
    return run_playbook(list(tasks), extra_env=_ansible_env(env), **kwargs)


def adhoc(env, module, module_args):
    """An ad-hoc ``ansible localhost -m module`` in the environment of the ``env`` fixture."""
    return run_adhoc(module, module_args, extra_env=_ansible_env(env))


def records(env, **filters):
    """Audit records of the ``env`` fixture's store, oldest first."""
    return AuditTrail(env["KMS_AUDIT_LOG"]).query(newest_first=False, limit=1000, **filters)


def exists(client, object_id):
    """Whether the KMS holds a live (not destroyed) object with this id."""
    try:
        return client.call(ops.get_attributes(object_id))["state"] != "Destroyed"
    except KmsError as error:
        assert error.not_found
        return False


def check_bearer_credential(server_url, token, folder, pair_name):
    """A server that wants a bearer credential (API token or JWT): kms_keypair is refused
    without it (401, not retried), works with it from KMS_API_KEY and from api_key, and the
    credential reaches neither the output nor any audit file."""
    env = {"KMS_URL": server_url, "KMS_AUDIT_LOG": os.path.join(folder, "audit.db"),
           "KMS_AUDIT_JSONL": os.path.join(folder, "audit.jsonl"), "tmp": folder}
    task = {"pkimanager.kms.kms_keypair": {"name": pair_name, "size": 2048}}
    refused = play(env, dict(task, name="no token", ignore_errors=True))
    result = refused.result("no token")
    assert result["_status"] == "failed" and "HTTP 401" in result["msg"], result
    assert result["kms_error"]["reason"] == "Authentication_Not_Successful"
    assert result["kms_error"]["attempts"] == 1  # a 401 is never retried

    accepted = play(dict(env, KMS_API_KEY=token), dict(task, name="env token"),
                    {"name": "option token", "pkimanager.kms.kms_keypair": {
                        "name": pair_name, "size": 2048, "api_key": token}},
                    args=["-vvv"])
    assert accepted.result("env token")["changed"], accepted.output[-3000:]
    assert not accepted.result("option token")["changed"]
    assert accepted.result("option token")["private_key_id"] == pair_name

    assert token not in accepted.output and token not in refused.output
    stores = [name for name in os.listdir(folder) if name.startswith("audit")]
    assert "audit.db" in stores and "audit.jsonl" in stores
    for name in stores:  # the database, its WAL and the JSON-lines mirror
        with open(os.path.join(folder, name), "rb") as handle:
            assert token.encode() not in handle.read(), name
    assert os.stat(env["KMS_AUDIT_LOG"]).st_mode & 0o077 == 0
    trail = records(env)
    assert trail[0]["status"] == "failure" and trail[0]["details"]["reason"] == "Authentication_Not_Successful"
    assert [r["status"] for r in records(env, operation="kms.create_key_pair")] == ["success"]
