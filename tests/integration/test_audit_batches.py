"""Group commit against the real KMS: the N records of a ``KmsClient.batch`` of N operations
are written in one SQLite transaction (one COMMIT, the records consecutive in the chain),
while single calls keep one transaction each."""

import json
import uuid

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.audited_client import audited_client

COUNT = 25


def watch_transactions(trail):
    """The write transactions of ``trail``'s connection from now on, each the list of its
    INSERTs and its end (SQLite's trace callback sees every statement the connection runs)."""
    transactions = []

    def trace(statement):
        if statement.startswith("BEGIN"):
            transactions.append([])
        elif transactions and statement.split()[0] in ("INSERT", "COMMIT", "ROLLBACK"):
            transactions[-1].append(statement.split()[0])
    trail._connection.set_trace_callback(trace)
    return transactions


def test_a_batch_of_n_operations_is_n_records_in_one_transaction(kms_server, tmp_path):
    mirror = str(tmp_path / "audit.jsonl")
    trail = AuditTrail(str(tmp_path / "audit.db"), jsonl_path=mirror, context={"task": "group commit"})
    client = audited_client({"kms_url": kms_server.url, "timeout": 60}, trail)
    transactions = watch_transactions(trail)
    names = ["group-%02d-%s" % (index, uuid.uuid4().hex[:8]) for index in range(COUNT)]
    try:
        created = client.batch([ops.create_symmetric_key(unique_identifier=name) for name in names])
        assert [result.value for result in created] == names
        assert transactions == [["INSERT"] * COUNT + ["COMMIT"]]

        missing = "group-missing-%s" % uuid.uuid4().hex[:8]
        read = client.batch([ops.get_attributes(name) for name in names] + [ops.get_attributes(missing)])
        assert [result.ok for result in read] == [True] * COUNT + [False]
        assert transactions[1:] == [["INSERT"] * (COUNT + 1) + ["COMMIT"]]

        for name in names[:3]:
            client.call(ops.get_attributes(name))
        assert transactions[2:] == [["INSERT", "COMMIT"]] * 3
    finally:
        client.batch([op for name in names for op in (ops.revoke(name), ops.destroy(name))])
    assert transactions[5:] == [["INSERT"] * (2 * COUNT) + ["COMMIT"]]

    records = trail.query(limit=0, newest_first=False)
    assert trail.verify() == dict(trail.verify(), valid=True, records=len(records))
    assert len(records) == COUNT + (COUNT + 1) + 3 + 2 * COUNT
    assert [(r["operation"], r["entity_id"], r["status"]) for r in records[:COUNT]] == [
        ("kms.create", name, "success") for name in names]
    assert [(r["operation"], r["entity_id"], r["status"]) for r in records[COUNT:2 * COUNT + 1]] == [
        ("kms.get_attributes", name, "success") for name in names] + [("kms.get_attributes", missing, "not_found")]
    assert records[2 * COUNT]["details"]["reason"] in ("Item_Not_Found", "Object_Not_Found")
    # a read's record keeps its finding, not every attribute
    assert [r["details"]["result"] for r in records[COUNT:COUNT + 2]] == [
        {"object_type": "SymmetricKey", "state": "Active", "links": {}}] * 2
    assert all(r["task"] == "group commit" and r["kms_url"] == kms_server.url for r in records)
    with open(mirror) as handle:
        assert [json.loads(line) for line in handle] == records
