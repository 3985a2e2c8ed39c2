"""Fixtures shared by the test suites: a real Cosmian KMS on 127.0.0.1."""

import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers"))

from kms_server import KmsServer, cleanup  # noqa: E402  pylint: disable=wrong-import-position


def _serve(prefix):
    folder = tempfile.mkdtemp(prefix=prefix)
    server = KmsServer(folder).start()
    try:
        yield server
    finally:
        server.stop()
        cleanup(folder)


@pytest.fixture(scope="session")
def kms_server():
    """One server for the whole session (tests use unique names, so they do not collide)."""
    yield from _serve("pkimanager-kms-session-")


@pytest.fixture
def fresh_kms_server():
    """A server with an empty database, for tests that count or list every object."""
    yield from _serve("pkimanager-kms-fresh-")


@pytest.fixture
def kms_url(kms_server):
    return kms_server.url
