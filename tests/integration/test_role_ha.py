"""The role pkimanager.kms.kms_server on PostgreSQL: several nodes of one KMS (issue 19).

A real PostgreSQL (tests/helpers/postgres.py) and the role applied through ansible-playbook to
the hosts of an inventory group, each host a container on this machine (host networking,
127.0.0.1, a port of its own; tests/helpers/containers.py RoleCluster). The database password
holds every character a URL must encode, so the role's URL building is exercised too.
"""

import json
import os
import pwd
import shutil
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport
from containers import RoleCluster, RoleDeployment, container_exists, prepare_docker, recap
from kms_server import REPO, free_port
from postgres import PostgresCluster
from throwaway_pki import issue

PASSWORD = "kms p@ss/w:rd%?#&="
ENCODED = urllib.parse.quote(PASSWORD, safe="")
KMS_TOML_TASK = "pkimanager.kms.kms_server : Write kms.toml"
HEALTH_FAILURE = "pkimanager.kms.kms_server : Fail with the container's log"


def free_ports(count):
    ports = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def health(url, cafile=None, timeout=10):
    """(status, JSON body) of GET <url>/health."""
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout, context=context) as answer:
            return answer.status, json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode("utf-8"))


@pytest.fixture(scope="module")
def docker_image():
    return prepare_docker()


@pytest.fixture(scope="module")
def module_folder():
    folder = tempfile.mkdtemp(prefix="pkimanager-kms-ha-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    cluster = PostgresCluster(password=PASSWORD).start()
    try:
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture(scope="module")
def tls(module_folder):
    """One certificate for 127.0.0.1 that every node serves, and its CA."""
    folder = os.path.join(module_folder, "pki")
    os.makedirs(folder)
    ca = issue(folder, "ca", "KMS test CA", ca=True)
    cert, key = issue(folder, "kms", "127.0.0.1", issuer=ca, server=True)[:2]
    return {"kms_server_tls_cert_file": cert, "kms_server_tls_key_file": key, "kms_server_health_ca_file": ca[0]}


def database_parts(postgres, name):
    return {"kms_server_database_type": "postgresql", "kms_server_database_host": "127.0.0.1",
            "kms_server_database_port": postgres.port, "kms_server_database_name": name,
            "kms_server_database_user": postgres.user, "kms_server_database_password": PASSWORD}


def new_database(postgres, prefix="kms_ha"):
    name = "%s_%s" % (prefix, uuid.uuid4().hex[:8])
    postgres.create_database(name)
    return name


@pytest.fixture(scope="module")
def deployed(docker_image, postgres, tls, module_folder):
    """Two nodes on one database, HTTPS with the same certificate; the first run with -vvv."""
    folder = os.path.join(module_folder, "cluster")
    os.makedirs(folder)
    database = new_database(postgres)
    cluster = RoleCluster(folder, docker_image, free_ports(2))
    variables = dict(database_parts(postgres, database), kms_server_database_max_connections=4,
                     kms_server_http_workers=2, **tls)
    try:
        first = cluster.run(args=["-vvv"], **variables)
        assert first.returncode == 0, first.output[-6000:]
        yield {"cluster": cluster, "variables": variables, "first": first, "database": database}
    finally:
        cluster.remove()


def https_client(deployed, node):
    return KmsClient(KmsTransport(deployed["cluster"].url(node, "https"), ca_cert=deployed["variables"]["kms_server_health_ca_file"],
                                  timeout=60))


def test_both_nodes_are_up_on_the_database(deployed, postgres):
    cluster, ca = deployed["cluster"], deployed["variables"]["kms_server_health_ca_file"]
    for node in cluster.nodes:
        status, body = health(cluster.url(node, "https"), ca)
        assert status == 200, body
        assert body["status"] == "UP" and body["dependencies"]["database"] == {"name": "postgres", "status": "UP"}
        with open(os.path.join(cluster.nodes[node]["kms_server_config_dir"], "kms.toml")) as handle:
            config = handle.read()
        assert "max_connections = 4\n" in config and "http_workers = 2\n" in config
        # the password percent-encoded by the role
        assert 'database_url = "postgresql://kms:%s@127.0.0.1:%d/%s"\n' % (ENCODED, postgres.port, deployed["database"]) in config
    # Both nodes hold connections to the one database, each at most its pool's size.
    connections = postgres.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'" % deployed["database"])
    assert 2 <= int(connections) <= 8


def test_an_object_created_on_one_node_is_read_on_the_other(deployed):
    name = "ha-pair-" + uuid.uuid4().hex[:8]
    created = https_client(deployed, "kms-node-1").call(ops.create_key_pair(2048, name))
    on_node_1 = https_client(deployed, "kms-node-1").call(ops.get_public_key(created["public_key_id"]))["pem"]
    on_node_2 = https_client(deployed, "kms-node-2").call(ops.get_public_key(created["public_key_id"]))["pem"]
    assert on_node_2 == on_node_1 and on_node_2.startswith("-----BEGIN PUBLIC KEY-----")


def test_a_second_run_changes_nothing_on_any_node(deployed):
    again = deployed["cluster"].apply(**deployed["variables"])
    assert dict((node, counts["changed"]) for node, counts in recap(again).items()) == {"kms-node-1": 0, "kms-node-2": 0}
    assert [record["task"] for record in again.records if record["result"].get("changed")] == []


def test_the_database_password_is_never_shown(deployed):
    first = deployed["first"]
    assert "ESTABLISH LOCAL CONNECTION" in first.output  # -vvv was on
    for secret in (PASSWORD, ENCODED, urllib.parse.quote(PASSWORD)):
        assert secret not in first.output
    for node in deployed["cluster"].nodes:
        assert first.result(KMS_TOML_TASK, node).get("censored"), node


def test_sqlite_on_a_node_of_two_fails_before_anything_is_made(docker_image, module_folder):
    folder = os.path.join(module_folder, "sqlite")
    os.makedirs(folder)
    cluster = RoleCluster(folder, docker_image, free_ports(2))
    try:
        run = cluster.run()
        assert run.returncode != 0
        message = run.result("pkimanager.kms.kms_server : Refuse SQLite for a node of a cluster", "kms-node-1")["msg"]
        assert "SQLite serves one node only" in message and "kms_server_database_type: postgresql" in message
        assert "kms-node-1, kms-node-2" in message
        assert [name for name in cluster.containers if container_exists(name)] == []
        assert os.listdir(folder) == [name for name in os.listdir(folder) if name.endswith(".yml")]
    finally:
        cluster.remove()


def test_nodes_naming_different_databases_are_refused(docker_image, postgres, module_folder):
    folder = os.path.join(module_folder, "two-databases")
    os.makedirs(folder)
    cluster = RoleCluster(folder, docker_image, free_ports(2))
    cluster.nodes["kms-node-2"]["kms_server_database_name"] = "another"
    try:
        run = cluster.run(**database_parts(postgres, "kms"))
        assert run.returncode != 0
        message = run.result("pkimanager.kms.kms_server : Check that every node of the cluster uses the same database",
                             "kms-node-1")["msg"]
        assert "must share one database" in message
        assert "127.0.0.1:%d/kms" % postgres.port in message and "127.0.0.1:%d/another" % postgres.port in message
        assert PASSWORD not in run.output and ENCODED not in run.output
        assert [name for name in cluster.containers if container_exists(name)] == []
    finally:
        cluster.remove()


def test_deploy_kms_ha_playbook(docker_image, postgres, tls, module_folder):
    """playbooks/deploy_kms_ha.yml on an inventory of two nodes on 127.0.0.1, the database as
    one whole URL this time."""
    folder = os.path.join(module_folder, "playbook")
    os.makedirs(folder)
    database = new_database(postgres, "kms_play")
    cluster = RoleCluster(folder, docker_image, free_ports(2))
    playbook = os.path.join(REPO, "playbooks", "deploy_kms_ha.yml")
    url = "postgresql://%s:%s@127.0.0.1:%d/%s" % (postgres.user, ENCODED, postgres.port, database)
    try:
        first = cluster.apply(playbook, kms_server_database_url=url, **tls)
        assert all(counts["changed"] > 0 for counts in recap(first).values()), recap(first)
        for node in cluster.nodes:
            assert health(cluster.url(node, "https"), tls["kms_server_health_ca_file"])[0] == 200
        again = cluster.apply(playbook, kms_server_database_url=url, **tls)
        assert [counts["changed"] for counts in recap(again).values()] == [0, 0]
        assert PASSWORD not in first.output + again.output and ENCODED not in first.output + again.output
    finally:
        cluster.remove()


@pytest.fixture
def tls_postgres(module_folder):
    """A PostgreSQL of its own that speaks TLS with a certificate for 127.0.0.1 from its own CA."""
    folder = tempfile.mkdtemp(dir=module_folder, prefix="pg-tls-")
    ca = issue(folder, "db-ca", "Database CA", ca=True)
    other_ca = issue(folder, "other-ca", "Another CA", ca=True)
    server = issue(folder, "db", "127.0.0.1", issuer=ca, server=True)
    cluster = PostgresCluster(password=PASSWORD).start()
    try:
        owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        for source, name in zip(server[:2], ("server.crt", "server.key")):
            path = os.path.join(cluster.data, name)
            shutil.copy(source, path)
            os.chmod(path, 0o600)
            if owner:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        cluster.sql("ALTER SYSTEM SET ssl = on")
        cluster.sql("SELECT pg_reload_conf()")
        yield {"cluster": cluster, "ca": ca[0], "other_ca": other_ca[0]}
    finally:
        cluster.cleanup()


def test_database_tls_checked_against_the_given_ca(docker_image, tls_postgres, module_folder):
    """sslmode verify-full with kms_server_database_ssl_ca_file: the CA is copied, mounted and
    named by sslrootcert, and the node's connections use TLS; a CA that did not sign the
    database's certificate keeps the node from starting."""
    postgres = tls_postgres["cluster"]
    database = new_database(postgres, "kms_tls")
    deployment = RoleDeployment(tempfile.mkdtemp(dir=module_folder, prefix="tls-node-"), free_port(), docker_image)
    variables = dict(database_parts(postgres, database), kms_server_database_sslmode="verify-full",
                     kms_server_database_ssl_ca_file=tls_postgres["ca"])
    try:
        deployment.apply(**variables)
        assert health(deployment.url)[0] == 200
        config_dir = deployment.variables["kms_server_config_dir"]
        with open(os.path.join(config_dir, "tls", "database-ca.pem")) as copied, open(tls_postgres["ca"]) as given:
            assert copied.read() == given.read()
        used = postgres.sql("SELECT string_agg(DISTINCT s.ssl::text, ',') FROM pg_stat_ssl s JOIN pg_stat_activity a"
                            " USING (pid) WHERE a.datname = '%s'" % database)
        assert used == "true"

        # Another CA: the copy changes, the container restarts, and the server cannot connect.
        variables.update(kms_server_database_ssl_ca_file=tls_postgres["other_ca"], kms_server_health_timeout=5)
        run = deployment.run(**variables)
        assert run.returncode != 0
        message = run.result(HEALTH_FAILURE)["msg"]
        assert any("error performing TLS handshake" in line for line in message), "\n".join(message)
        assert PASSWORD not in run.output and ENCODED not in run.output
    finally:
        deployment.remove()


def test_without_database_tls_the_server_still_connects_in_plain_text(docker_image, postgres, tls_postgres,
                                                                      module_folder):
    """What the role's documentation warns of (Cosmian KMS 5.28): sslmode verify-full, with a CA,
    against a PostgreSQL that offers no TLS connects without TLS instead of failing."""
    database = new_database(postgres, "kms_plain")
    deployment = RoleDeployment(tempfile.mkdtemp(dir=module_folder, prefix="plain-node-"), free_port(), docker_image)
    try:
        deployment.apply(**dict(database_parts(postgres, database), kms_server_database_sslmode="verify-full",
                                kms_server_database_ssl_ca_file=tls_postgres["ca"]))
        assert health(deployment.url)[0] == 200
        used = postgres.sql("SELECT string_agg(DISTINCT s.ssl::text, ',') FROM pg_stat_ssl s JOIN pg_stat_activity a"
                            " USING (pid) WHERE a.datname = '%s'" % database)
        assert used == "false"
    finally:
        deployment.remove()


def test_health_failure_names_the_database_status(deployed, postgres):
    """Last in this module: PostgreSQL stops, /health answers 503 and the role says why."""
    postgres.stop()
    try:
        run = deployed["cluster"].run(**dict(deployed["variables"], kms_server_health_timeout=3))
        assert run.returncode != 0
        message = run.result(HEALTH_FAILURE, "kms-node-1")["msg"]
        assert "did not answer" in message[0] and "/health with 200" in message[0]
        assert "(HTTP 503; database postgres DOWN: " in message[0], message[0]
        assert PASSWORD not in run.output and ENCODED not in run.output
    finally:
        postgres.start()
        postgres.wait_ready()
