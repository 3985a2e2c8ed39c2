"""Helpers of the module integration tests: run tasks, read the audit trail and the KMS."""

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError

from playbook import run_playbook


def play(env, *tasks, **kwargs):
    """ansible-playbook with ``tasks`` in the environment of the ``env`` fixture."""
    return run_playbook(list(tasks), extra_env={k: v for k, v in env.items() if k != "tmp"}, **kwargs)


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
