"""Fixtures of the module integration tests: the environment a playbook runs with and a
client for checks that do not go through the modules."""

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport


@pytest.fixture
def env(kms_server, tmp_path):
    """Connection through the documented env fallbacks, and a private audit store."""
    return {"KMS_URL": kms_server.url, "KMS_AUDIT_LOG": str(tmp_path / "audit.db"), "tmp": str(tmp_path)}


@pytest.fixture
def client(kms_server):
    return KmsClient(KmsTransport(kms_server.url, timeout=60))
