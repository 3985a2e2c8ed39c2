"""Fixtures shared by the test suites: a real Cosmian KMS on 127.0.0.1, and for the tests of
several nodes, a real PostgreSQL cluster with KMS nodes on one of its databases."""

import os
import sys
import tempfile
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers"))

from kms_server import KmsServer, cleanup  # noqa: E402  pylint: disable=wrong-import-position
from postgres import PostgresCluster  # noqa: E402  pylint: disable=wrong-import-position


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


@pytest.fixture(scope="session")
def postgres_cluster():
    """One throw-away PostgreSQL cluster for the session (each test gets a database of its
    own); never skipped: without PostgreSQL the tests that need it fail, saying how to get it."""
    try:
        cluster = PostgresCluster()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield cluster.start()
    finally:
        cluster.cleanup()


@pytest.fixture
def kms_pg_nodes(postgres_cluster):
    """Two KMS nodes (A, B) on one new database: one KMS served by two stateless processes.
    A starts first and creates the schema. A test may stop or restart the cluster: it runs
    again before the next test's database is made."""
    postgres_cluster.start()
    database_url = postgres_cluster.create_database("kms_%s" % uuid.uuid4().hex[:12])
    nodes = []
    try:
        for name in ("a", "b"):
            folder = tempfile.mkdtemp(prefix="pkimanager-kms-node-%s-" % name)
            nodes.append(KmsServer(folder, database_url=database_url))
            nodes[-1].start()
        yield nodes
    finally:
        for node in nodes:  # killed: a node keeps nothing, and a clean stop waits out keep-alive clients
            node.kill()
            cleanup(node.folder)
