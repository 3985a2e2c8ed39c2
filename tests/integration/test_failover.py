"""Several KMS nodes in kms_url, against the real server: a dead node, a node answering 5xx
and one answering 4xx in front of it, the retry budget across nodes, the comma form of
KMS_URL for a module and the lookup, and audit records naming the node that served each
call. Every address is on 127.0.0.1."""

import uuid

import pytest

from fake_servers import NotKmsServer, closed_port_url
from kms_checks import exists, play, records


def keypair(name, title="keypair", **options):
    return {"name": title, "pkimanager.kms.kms_keypair": dict(name=name, size=2048, **options),
            "ignore_errors": True}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


@pytest.fixture
def fake_node():
    """A node that is not a KMS: its answers are chosen by the first path segment."""
    node = NotKmsServer()
    yield node
    node.close()


def test_a_dead_first_node_is_passed_by_and_the_records_name_the_real_one(env, client, kms_server):
    name = unique("failover-dead")
    run = play(env, keypair(name, kms_url=[closed_port_url(), kms_server.url]))
    result = run.result("keypair")
    assert result["_status"] == "ok" and result["changed"], run.output[-3000:]
    assert exists(client, name)
    trail = records(env)
    assert ("kms.create_key_pair", "success") in [(r["operation"], r["status"]) for r in trail]
    assert set(r["kms_url"] for r in trail) == {kms_server.url}


def test_a_node_answering_5xx_is_passed_by_once_per_task(env, client, kms_server, fake_node):
    name = unique("failover-5xx")
    run = play(env, keypair(name, kms_url=[fake_node.url("unavailable"), kms_server.url]))
    result = run.result("keypair")
    assert result["_status"] == "ok" and result["changed"], run.output[-3000:]
    assert exists(client, name)
    # The task's later requests start at the node that answered: the 503 node saw one.
    assert len(fake_node.hits["unavailable"]) == 1
    assert set(r["kms_url"] for r in records(env)) == {kms_server.url}


@pytest.mark.parametrize("mode, status", [("forbidden", 403), ("notfound", 404)])
def test_a_4xx_does_not_move_to_the_next_node(env, client, kms_server, fake_node, mode, status):
    name = unique("failover-4xx")
    node = fake_node.url(mode)
    run = play(env, keypair(name, kms_url=[node, kms_server.url]))
    result = run.result("keypair")
    assert result["_status"] == "failed", run.output[-3000:]
    error = result["kms_error"]
    assert (error["status"], error["attempts"], error["kms_url"]) == (status, 1, node)
    assert "tried %s (HTTP %d)" % (node, status) in result["msg"]
    assert len(fake_node.hits[mode]) == 1 and not exists(client, name)
    trail = records(env)
    assert [(r["entity_id"], r["status"], r["kms_url"]) for r in trail] == [(name, "failure", node)]


def test_kms_url_env_with_commas_serves_a_module_and_the_lookup(env, kms_server):
    name = unique("failover-env")
    dead = closed_port_url()
    lookup = "{{ lookup('pkimanager.kms.kms_pem', '%s') }}" % name
    listed = "{{ lookup('pkimanager.kms.kms_pem', '%s', kms_url=['%s', '%s']) }}" % (name, dead, kms_server.url)
    run = play(dict(env, KMS_URL="%s , %s" % (dead, kms_server.url)),
               keypair(name),
               {"name": "lookup", "ansible.builtin.set_fact": {"pem": lookup}},
               {"name": "lookup list", "ansible.builtin.set_fact": {"pem": listed}})
    created = run.result("keypair")
    assert created["_status"] == "ok" and created["changed"], run.output[-3000:]
    for task in ("lookup", "lookup list"):
        assert run.result(task)["ansible_facts"]["pem"].strip() == created["public_key_pem"].strip()
    trail = records(env)
    assert ("kms.get", "success") in [(r["operation"], r["status"]) for r in trail]  # the lookup's reads
    assert set(r["kms_url"] for r in trail) == {kms_server.url}


def test_all_nodes_dead_is_one_clear_failure_naming_every_node(env):
    name = unique("failover-none")
    dead = [closed_port_url(), closed_port_url()]
    run = play(env, keypair(name, kms_url=dead, retries=3))
    result = run.result("keypair")
    assert result["_status"] == "failed", run.output[-3000:]
    assert "cannot reach the KMS at %s/kmip/2_1 after 3 attempts" % dead[0] in result["msg"]
    assert "tried %s (ConnectionError), %s (ConnectionError), %s (ConnectionError)" % (
        dead[0], dead[1], dead[0]) in result["msg"]
    assert (result["kms_error"]["reason"], result["kms_error"]["attempts"]) == ("Connection_Failed", 3)
    [record] = records(env)
    assert (record["entity_id"], record["status"], record["kms_url"]) == (name, "failure", dead[0])
    assert record["details"]["attempts"] == 3 and dead[1] in record["details"]["message"]


def test_the_retry_budget_counts_across_nodes(env):
    name = unique("failover-budget")
    dead = [closed_port_url() for dummy in range(3)]
    run = play(env, keypair(name, kms_url=",".join(dead), retries=2))
    result = run.result("keypair")
    assert result["_status"] == "failed", run.output[-3000:]
    assert result["kms_error"]["attempts"] == 2 and "after 2 attempts" in result["msg"]
    assert ("tried %s (ConnectionError), %s (ConnectionError); not tried, all 2 attempts (retries) spent: %s"
            % tuple(dead)) in result["msg"]
    assert [r["kms_url"] for r in records(env)] == [dead[1]]


def test_a_list_with_an_empty_item_is_refused_before_any_call(env, kms_server):
    run = play(env, keypair(unique("failover-empty"), kms_url="%s,,%s" % (kms_server.url, kms_server.url)))
    result = run.result("keypair")
    assert result["_status"] == "failed"
    assert "kms_url item 2 of 3 is empty: remove the extra comma" in result["msg"]
    assert records(env) == []
