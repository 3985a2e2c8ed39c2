"""Several Cosmian KMS nodes on one real PostgreSQL database (issue 19), through ansible-playbook.

The nodes keep no state of their own: what one node made, another reads, revokes and destroys;
concurrent runs on both nodes make each name once; a node killed in the middle of a run is
failed over (kms_url lists both nodes) and the audit trail names the node of every call; a
database restart ends the run cleanly or not at all, and the rerun neither duplicates nor loses
anything; everything survives all nodes and the database going down at once.

The cluster (tests/helpers/postgres.py) is Debian's PostgreSQL on 127.0.0.1, one per session;
each test has a database of its own and two nodes on it (fixture ``kms_pg_nodes``). EC P-256
keys, because the tests are about where objects live, not about key generation.
"""

import contextlib
import json
import re
import threading
import time
import uuid

import pytest
from cryptography import x509

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from fault_cases import audit_rows
from kms_checks import exists, play, records
from playbook import run_playbook

EC = {"type": "ec", "curve": "P-256"}
CA_LOOKUP = "{{ lookup('pkimanager.kms.kms_pem', '%s', type='certificate', kms_url='%s') }}"


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def audit_env(tmp_path):
    """The environment of a run: a private audit store; each task names its node(s) in kms_url."""
    return {"KMS_AUDIT_LOG": str(tmp_path / "audit.db"), "tmp": str(tmp_path)}


def keypair(title, kms_url, **options):
    return {"name": title, "pkimanager.kms.kms_keypair": dict(EC, kms_url=kms_url, **options)}


def certificate(title, kms_url, **options):
    return {"name": title, "pkimanager.kms.kms_certificate": dict(kms_url=kms_url, **options)}


@contextlib.contextmanager
def client_of(node):
    """A plain KMIP client of one node (no modules, no audit), its connection closed after."""
    client = KmsClient(KmsTransport(node.url, timeout=60))
    try:
        yield client
    finally:
        client.transport.close()


def stored(node, object_type):
    """Ids of every object of this type in the node's database."""
    with client_of(node) as client:
        return sorted(client.call(ops.locate(object_type=object_type)))


def assert_pairs(node, names):
    """The KMS holds exactly these key pairs: a private key of each name, one public key each."""
    assert stored(node, "PrivateKey") == sorted(names)
    assert len(stored(node, "PublicKey")) == len(names)


def successful_creates(env):
    return [r for r in audit_rows(env["KMS_AUDIT_LOG"]) if r["operation"] == "kms.create_key_pair"
            and r["status"] == "success"]


def created_names(env):
    """The names of the pairs with a successful create record; none may have two."""
    created = [r["entity_id"] for r in successful_creates(env)]
    assert len(created) == len(set(created)), "a pair was created twice: %s" % sorted(created)
    return set(created)


def wait_for(condition, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(step)
    return condition()


def in_background(function):
    """Start ``function`` in a thread; returns (thread, list that receives its result)."""
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(function()))
    thread.start()
    return thread, outcome


@pytest.mark.slow
def test_what_one_node_makes_the_other_reads_revokes_and_destroys(kms_pg_nodes, tmp_path):
    """A pair made through node A is read (unchanged), revoked and destroyed through node B,
    and A sees it gone; a certificate issued on A verifies with its CA read from B (kms_pem)."""
    node_a, node_b = kms_pg_nodes
    env = audit_env(tmp_path)
    pair, ca, leaf = unique("ha-pair"), unique("ha-ca"), unique("ha-leaf")
    run = play(env,
               keypair("create on A", node_a.url, name=pair),
               keypair("read on B", node_b.url, name=pair),
               keypair("revoke on B", node_b.url, name=pair, state="revoked", revocation_reason="KeyCompromise"),
               keypair("destroy on B", node_b.url, name=pair, state="absent"),
               # Each node keeps the objects it served in a cache that it checks against the
               # database only when the entry is older than 2 s (cosmian_kms_server_database
               # 5.28 object_cache.rs, DEFAULT_REVALIDATION_INTERVAL): until then A may still
               # serve the pair it created as Active. CI met it: A tried to revoke a destroyed pair.
               {"name": "past A's cache revalidation", "ansible.builtin.pause": {"seconds": 3}},
               keypair("gone on A", node_a.url, name=pair, state="absent"),
               keypair("CA pair on A", node_a.url, name=ca),
               certificate("CA on A", node_a.url, name=ca + "-cert", provider="selfsigned", keypair=ca,
                           subject={"CN": "HA Root"}),
               keypair("leaf pair on A", node_a.url, name=leaf),
               certificate("leaf on A", node_a.url, name=leaf + "-cert", provider="kms_ca", keypair=leaf,
                           issuer=ca + "-cert", subject={"CN": "ha.example.test"}),
               {"name": "CA from B", "ansible.builtin.set_fact": {"ca_pem": CA_LOOKUP % (ca + "-cert", node_b.url)}})
    assert run.returncode == 0, run.output[-4000:]
    created, read = run.result("create on A"), run.result("read on B")
    assert created["changed"] and not read["changed"]
    for field in ("private_key_id", "public_key_id", "fingerprint_sha256", "public_key_pem", "state"):
        assert read[field] == created[field], field
    assert run.result("revoke on B")["state"] == "Compromised"
    assert run.result("destroy on B")["changed"] and not run.result("gone on A")["changed"]
    with client_of(node_a) as client:
        assert not exists(client, pair) and not exists(client, created["public_key_id"])

    ca_from_b = x509.load_pem_x509_certificate(run.result("CA from B")["ansible_facts"]["ca_pem"].encode())
    issued_on_a = x509.load_pem_x509_certificate(run.result("leaf on A")["pem"].encode())
    issued_on_a.verify_directly_issued_by(ca_from_b)
    served = set(r["kms_url"] for r in records(env))
    assert served == {node_a.url, node_b.url}, served


@pytest.mark.slow
@pytest.mark.parametrize("form", ["a task per name", "pairs in bulk"])
def test_twenty_forks_on_both_nodes_make_each_name_once(kms_pg_nodes, tmp_path, form):
    """20 hosts at once (forks=20), even ones on node A and odd ones on node B, each ensure
    the same 5 pairs (a loop of single pairs, or one bulk task whose creates go in one KMIP
    batch): every run succeeds, the KMS holds exactly 5 pairs, made once each."""
    env = audit_env(tmp_path)
    names = [unique("race") for _name in range(5)]
    hosts = ["host%02d" % index for index in range(20)]
    urls = [node.url for node in kms_pg_nodes]
    node_url = "{{ node_urls[(inventory_hostname[4:] | int) % 2] }}"
    if form == "pairs in bulk":
        task = keypair("pairs", node_url, pairs=[{"name": name} for name in names])
    else:
        task = dict(keypair("pairs", node_url, name="{{ item }}"), loop=names)
    task["ignore_errors"] = True
    run = run_playbook([task], hosts=hosts, forks=20, extra_env={"KMS_AUDIT_LOG": env["KMS_AUDIT_LOG"]},
                       args=["-e", json.dumps({"node_urls": urls})])
    results = dict((host, run.result("pairs", host)) for host in hosts)
    failed = dict((host, [item["msg"] for item in result["results"] if item.get("failed")])
                  for host, result in results.items() if result["_status"] != "ok")
    assert failed == {}, failed
    for host, result in results.items():
        assert [item["private_key_id"] for item in result["results"]] == names, host
    made = [(host, item["private_key_id"]) for host, result in results.items() for item in result["results"]
            if "created" in item["changes"]]
    assert sorted(name for dummy, name in made) == sorted(names), made
    assert_pairs(kms_pg_nodes[1], names)
    assert created_names(env) == set(names)
    assert set(r["kms_url"] for r in records(env)) == set(urls)


@pytest.mark.slow
def test_a_node_killed_mid_run_is_failed_over_and_every_call_names_its_node(kms_pg_nodes, tmp_path):
    """30 pairs in a loop with kms_url [A, B]; A gets SIGKILL once 10 pairs exist. The run
    completes on B, the KMS holds exactly the 30 pairs, each audit record names the node
    that served the call (B only, after the kill), and the chain verifies."""
    node_a, node_b = kms_pg_nodes
    env = audit_env(tmp_path)
    names = ["failover-%02d-%s" % (index, uuid.uuid4().hex[:6]) for index in range(30)]
    task = keypair("pairs", [node_a.url, node_b.url], name="{{ item }}")
    task.update(loop=names, ignore_errors=True)
    thread, outcome = in_background(lambda: play(env, task))
    assert wait_for(lambda: len(successful_creates(env)) >= 10 or not thread.is_alive(), 180)
    assert thread.is_alive(), "the run ended before node A was killed"
    node_a.kill()
    time.sleep(0.5)  # a call A answered just before its death has its record written by now
    last_record_before = audit_rows(env["KMS_AUDIT_LOG"])[-1]["record_id"]
    thread.join(300)
    assert outcome, "the run did not finish"
    result = outcome[0].result("pairs")
    assert result["_status"] == "ok", [item.get("msg") for item in result["results"] if item.get("failed")]
    assert [item["private_key_id"] for item in result["results"]] == names
    assert_pairs(node_b, names)
    assert created_names(env) == set(names)

    trail = records(env)
    assert set(r["kms_url"] for r in trail) == {node_a.url, node_b.url}
    after_kill = [r for r in trail if r["record_id"] > last_record_before]
    assert after_kill and set(r["kms_url"] for r in after_kill) == {node_b.url}
    verified = play(env, {"name": "verify", "pkimanager.kms.kms_audit": {"action": "verify"}}).result("verify")
    assert verified["valid"] and verified["count"] == len(trail), verified


@pytest.mark.slow
def test_a_database_restart_mid_run_ends_cleanly_and_the_rerun_completes(kms_pg_nodes, postgres_cluster,
                                                                         tmp_path):
    """PostgreSQL stopped during a loop of 15 pairs on node A, and started again once a call
    has failed for good (the outage outlasts the modules' retries, so the failure path is always
    taken). While it is down, /health says so (503, the database named); once it is back the
    nodes serve again without a restart. Items caught by the outage fail with a message naming
    the database; the rerun completes with exactly the 15 pairs, each made once."""
    node_a, node_b = kms_pg_nodes
    env = audit_env(tmp_path)
    names = ["pgrestart-%02d-%s" % (index, uuid.uuid4().hex[:6]) for index in range(15)]
    task = keypair("pairs", node_a.url, name="{{ item }}")
    task.update(loop=names, ignore_errors=True)
    thread, outcome = in_background(lambda: play(env, task))
    assert wait_for(lambda: len(successful_creates(env)) >= 5 or not thread.is_alive(), 180)
    assert thread.is_alive(), "the run ended before the database restart"
    postgres_cluster.stop()
    status, health = node_b.health()
    assert status == 503 and health["status"] == "DOWN", health
    assert health["dependencies"]["database"]["name"] == "postgres" and health["dependencies"]["database"]["message"]
    print("while PostgreSQL is down, node B's /health answers %d: %s" % (status, health))
    wait_for(lambda: any(r["status"] == "failure" for r in audit_rows(env["KMS_AUDIT_LOG"])), 30)
    postgres_cluster.start()
    back = time.monotonic()
    assert wait_for(lambda: node_b.health()[0] == 200, 30, step=0.1), node_b.log_tail()
    print("node B healthy %.1f s after PostgreSQL started again" % (time.monotonic() - back))
    thread.join(300)
    assert outcome, "the run did not finish"

    first = outcome[0].result("pairs")["results"]
    caught = [item for item in first if item.get("failed")]
    print("first run: %d of %d items failed in the outage: %s" % (
        len(caught), len(names), [item["msg"] for item in caught]))
    for item in caught:  # one line that says the KMS's database is what failed
        assert "\n" not in item["msg"].strip() and re.search(r"database|postgres", item["msg"], re.I), item["msg"]

    rerun = play(env, task).result("pairs")
    assert rerun["_status"] == "ok", [item.get("msg") for item in rerun["results"] if item.get("failed")]
    assert_pairs(node_b, names)
    # A create the server committed as the database went away may have lost its answer: that
    # item failed in the first run, and the rerun found its pair.
    assert set(names) - created_names(env) <= set(item["item"] for item in caught)
    assert AuditTrail(env["KMS_AUDIT_LOG"]).verify()["valid"]


@pytest.mark.slow
def test_everything_survives_all_nodes_and_the_database_going_down(kms_pg_nodes, postgres_cluster, tmp_path):
    """A pair and a certificate made on node A; both nodes get SIGKILL and the database an
    immediate shutdown (no checkpoint); once all are started again, node B reads the same
    public key and certificate, byte for byte, and the pair is not made anew."""
    node_a, node_b = kms_pg_nodes
    env = audit_env(tmp_path)
    pair = unique("survivor")
    made = play(env, keypair("pair", node_a.url, name=pair),
                certificate("cert", node_a.url, name=pair + "-cert", provider="selfsigned", keypair=pair,
                            subject={"CN": "survivor"}))
    assert made.returncode == 0, made.output[-4000:]
    for node in kms_pg_nodes:
        node.kill()
    postgres_cluster.kill()
    postgres_cluster.start()
    for node in kms_pg_nodes:
        node.start()

    again = play(env, keypair("pair", node_b.url, name=pair),
                 certificate("cert", node_b.url, name=pair + "-cert", provider="selfsigned", keypair=pair,
                             subject={"CN": "survivor"}))
    assert again.returncode == 0, again.output[-4000:]
    for task, fields in (("pair", ("public_key_id", "public_key_pem", "fingerprint_sha256")), ("cert", ("pem",))):
        assert not again.result(task)["changed"], again.result(task)
        for field in fields:
            assert again.result(task)[field] == made.result(task)[field], (task, field)
    assert_pairs(node_a, [pair])
