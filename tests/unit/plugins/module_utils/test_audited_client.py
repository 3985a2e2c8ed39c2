# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit observer every KMS call goes through, against a real SQLite store."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import sqlite3

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditError, AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.audited_client import (
    MAX_LISTED_RESULTS,
    AuditRecorder,
    audit_operation_name,
    audit_status,
    audit_summary,
    audited_client,
)
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError

URL = "http://127.0.0.1:9"


@pytest.mark.parametrize("kmip, audited", [
    ("CreateKeyPair", "kms.create_key_pair"), ("Get", "kms.get"), ("GetAttributes", "kms.get_attributes"),
    ("ReKeyKeyPair", "kms.re_key_key_pair"), ("Certify", "kms.certify"),
])
def test_operation_names(kmip, audited):
    assert audit_operation_name(kmip) == audited


def test_summary_keeps_ids_and_drops_key_material():
    value = {"certificate_id": "c", "pem": "-----BEGIN CERTIFICATE-----", "der": b"\x30\x82",
             "raw": b"bytes", "links": {"PublicKeyLink": "p"}, "ids": list(range(MAX_LISTED_RESULTS + 10))}
    summary = audit_summary(value)
    assert summary["certificate_id"] == "c" and summary["links"] == {"PublicKeyLink": "p"}
    assert "pem" not in summary and "der" not in summary and "raw" not in summary
    assert len(summary["ids"]) == MAX_LISTED_RESULTS


def test_a_read_record_keeps_the_finding_not_every_attribute(tmp_path):
    trail = AuditTrail(str(tmp_path / "a.db"))
    attributes = {"object_type": "PrivateKey", "state": "Active", "links": {"PublicKeyLink": "pair_pk"},
                  "algorithm": "ECDSA", "length": 256, "tags": ["web"], "vendor": {"x": "y"},
                  "activation_date": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)}
    AuditRecorder(trail, URL)(ops.get_attributes("pair"), attributes, None)
    assert trail.query()[0]["details"] == {"result": {"object_type": "PrivateKey", "state": "Active",
                                                      "links": {"PublicKeyLink": "pair_pk"}}}


def test_success_and_failure_records(tmp_path):
    trail = AuditTrail(str(tmp_path / "a.db"), context={"task": "t", "playbook": "p.yml"})
    recorder = AuditRecorder(trail, URL)
    recorder(ops.create_key_pair(2048, private_key_id="pair"), {"private_key_id": "pair", "public_key_id": "pub"},
             None)
    error = KmsError("denied", status=403, reason="Permission_Denied", operation="Get", object_id="theirs")
    recorder(ops.get_public_key("theirs"), None, error)
    made, failed = trail.query(newest_first=False)
    assert (made["operation"], made["entity_id"], made["status"]) == ("kms.create_key_pair", "pair", "success")
    assert made["details"]["result"]["public_key_id"] == "pub"
    assert made["task"] == "t" and made["playbook"] == "p.yml" and made["kms_url"] == URL
    assert (failed["operation"], failed["entity_id"], failed["status"]) == ("kms.get", "theirs", "failure")
    assert failed["details"]["reason"] == "Permission_Denied" and failed["details"]["http_status"] == 403
    assert made["operation_id"] == failed["operation_id"]
    assert "settled" not in made["details"]

    revoke = ops.revoke("pair")
    revoke.settled = "Item_Not_Found after 2 attempts: an earlier attempt did it"
    recorder(revoke, "pair", None)
    settled = trail.query()[0]
    assert settled["status"] == "success" and settled["details"]["settled"] == revoke.settled
    assert trail.verify()["valid"]


def not_found(operation, reason="Object_Not_Found"):
    return KmsError("object not found", status=422, reason=reason, operation=operation.name,
                    object_id=operation.object_id)


@pytest.mark.parametrize("operation, reason, status", [
    # Reads: the KMS's "no such object" is what they found (existence checks expect it).
    (ops.get_attributes("web"), "Object_Not_Found", "not_found"),
    (ops.get_attributes("web"), "Item_Not_Found", "not_found"),
    (ops.get_public_key("web"), "Object_Not_Found", "not_found"),
    (ops.get_certificate("web"), "Item_Not_Found", "not_found"),
    (ops.locate(tags=["x"]), "Item_Not_Found", "not_found"),
    # Reads that failed otherwise, and writes whose object is missing: failures.
    (ops.get_attributes("web"), "Permission_Denied", "failure"),
    (ops.get_attributes("web"), None, "failure"),
    (ops.revoke("web"), "Item_Not_Found", "failure"),
    (ops.destroy("web"), "Object_Not_Found", "failure"),
    (ops.activate("web"), "Item_Not_Found", "failure"),
    (ops.certify(public_key_id="web", subject={"CN": "web"}, issuer_private_key_id="ca"), "Item_Not_Found", "failure"),
])
def test_a_read_that_finds_nothing_is_not_a_failure(tmp_path, operation, reason, status):
    """Defect 8: the existence check before each create counted as a failure."""
    trail = AuditTrail(str(tmp_path / "a.db"))
    AuditRecorder(trail, URL)(operation, None, not_found(operation, reason))
    (stored,) = trail.query()
    assert stored["status"] == status == audit_status(operation, not_found(operation, reason))
    assert stored["details"]["reason"] == reason and stored["details"]["http_status"] == 422
    assert trail.verify()["valid"]
    assert audit_status(operation, None) == "success"


def test_the_existence_check_before_a_create_reads_as_such_in_the_summary(tmp_path):
    trail = AuditTrail(str(tmp_path / "a.db"))
    recorder = AuditRecorder(trail, URL)
    for name in ("root", "web"):
        check = ops.get_attributes(name)
        recorder(check, None, not_found(check))
        recorder(ops.create_key_pair(2048, private_key_id=name), {"private_key_id": name, "public_key_id": "p"}, None)
    summary = trail.summary()
    assert (summary["success"], summary["not_found"], summary["failure"]) == (2, 2, 0)
    assert summary["operations"]["kms.get_attributes"] == {"success": 0, "not_found": 2, "failure": 0, "total": 2}


def _broken_trail(tmp_path):
    trail = AuditTrail(str(tmp_path / "a.db"))

    def refuse(*args, **kwargs):
        raise AuditError("disk full")
    trail.record = refuse
    return trail


def test_unrecordable_call_names_what_happened(tmp_path):
    recorder = AuditRecorder(_broken_trail(tmp_path), URL)
    with pytest.raises(AuditError) as caught:
        recorder(ops.destroy("pair"), {}, None)
    assert "Destroy on 'pair' was done at the KMS" in str(caught.value) and "disk full" in str(caught.value)

    seen = []
    AuditRecorder(_broken_trail(tmp_path), URL, on_failure=seen.append)(
        ops.revoke("pair"), None, KmsError("denied", reason="Permission_Denied"))
    assert len(seen) == 1 and "Revoke on 'pair' was attempted at the KMS" in str(seen[0])


def test_a_record_missing_from_the_mirror_only_is_told_apart(tmp_path):
    trail = AuditTrail(str(tmp_path / "a.db"), jsonl_path="/dev/full")
    with pytest.raises(AuditError) as caught:
        AuditRecorder(trail, URL)(ops.destroy("pair"), "pair", None)
    message = str(caught.value)
    assert message.startswith("Destroy on 'pair' was done at the KMS, but its audit record is in the store only, "
                              "not in the JSON-lines mirror: audit record 1 of kms.destroy is in the audit store")
    assert [r["operation"] for r in AuditTrail(str(tmp_path / "a.db")).query()] == ["kms.destroy"]


def test_no_client_without_a_writable_store(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(AuditError) as caught:
        audited_client({"kms_url": URL}, AuditTrail(str(blocker / "audit.db")))
    assert "no KMS call was made" in str(caught.value)


# -- a batch's records: one transaction ------------------------------------------------------

class UnreachableTransport:
    """Every request fails as a refused connection does: ``KmsClient.batch`` then reports each
    of its operations as attempted, which is all these tests need of a KMS."""

    def __init__(self):
        self.requests = 0

    def post_kmip(self, payload, operation, object_id=None):
        self.requests += 1
        raise KmsError("connection refused", reason="Connection_Failed", operation=operation, object_id=object_id)


def commits(trail):
    """The COMMITs ``trail``'s connection runs from now on."""
    trail.ensure_writable()
    seen = []
    trail._connection.set_trace_callback(lambda statement: seen.append(statement) if statement == "COMMIT" else None)
    return seen


def checks(count):
    return [ops.get_attributes("key-%d" % index) for index in range(count)]


def test_the_records_of_a_batch_are_written_in_one_transaction(tmp_path):
    trail = AuditTrail(str(tmp_path / "a.db"))
    seen = commits(trail)
    client = KmsClient(UnreachableTransport(), observer=AuditRecorder(trail, URL))
    with pytest.raises(KmsError, match="connection refused"):
        client.batch(checks(7))
    assert len(seen) == 1
    records = trail.query(newest_first=False)
    assert [(r["operation"], r["entity_id"], r["status"]) for r in records] == [
        ("kms.get_attributes", "key-%d" % index, "failure") for index in range(7)]
    assert records[0]["details"]["reason"] == "Connection_Failed" and trail.verify()["valid"]


def test_single_calls_keep_one_transaction_each(tmp_path):
    trail = AuditTrail(str(tmp_path / "a.db"))
    seen = commits(trail)
    client = KmsClient(UnreachableTransport(), observer=AuditRecorder(trail, URL))
    for operation in checks(3):
        with pytest.raises(KmsError):
            client.call(operation)
        assert len(seen) == len(trail.query(limit=0))
    assert len(seen) == 3


def test_an_observer_without_batch_sees_a_batch_as_before():
    seen = []
    client = KmsClient(UnreachableTransport(), observer=lambda op, value, error: seen.append(op.object_id))
    with pytest.raises(KmsError):
        client.batch(checks(3))
    assert seen == ["key-0", "key-1", "key-2"]


def refusing_trail(tmp_path):
    """A writable store that refuses every record from now on (a trigger aborts the insert)."""
    trail = AuditTrail(str(tmp_path / "a.db"))
    trail.ensure_writable()
    with sqlite3.connect(trail.path) as connection:
        connection.execute("CREATE TRIGGER refuse BEFORE INSERT ON audit_records "
                           "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    return trail


def test_an_unrecordable_batch_names_its_operations_and_the_records_lost(tmp_path):
    trail = refusing_trail(tmp_path)
    client = KmsClient(UnreachableTransport(), observer=AuditRecorder(trail, URL))
    with pytest.raises(AuditError) as caught:
        client.batch([ops.revoke("a"), ops.destroy("a"), ops.get_attributes("b")])
    message = str(caught.value)
    assert message.startswith("a batch of 3 operations reached the KMS (Revoke on 'a' was attempted, Destroy on 'a' "
                              "was attempted, GetAttributes on 'b' was attempted), but their 3 audit records could "
                              "not be written: cannot write the 3 audit records of kms.revoke, kms.destroy, "
                              "kms.get_attributes (all 3 lost: none is stored)"), message
    assert "disk full" in message and trail.query() == []


def test_an_unrecordable_batch_goes_to_on_failure_and_the_kms_error_still_stands(tmp_path):
    failures = []
    client = KmsClient(UnreachableTransport(), observer=AuditRecorder(refusing_trail(tmp_path), URL,
                                                                      on_failure=failures.append))
    with pytest.raises(KmsError, match="connection refused"):
        client.batch(checks(2))
    assert len(failures) == 1 and "their 2 audit records could not be written" in str(failures[0])


def test_a_batch_of_one_is_told_as_one_call(tmp_path):
    client = KmsClient(UnreachableTransport(), observer=AuditRecorder(refusing_trail(tmp_path), URL))
    with pytest.raises(AuditError, match="^GetAttributes on 'key-0' was attempted at the KMS, but its audit record "
                                         "could not be written: cannot write the audit record of kms.get_attributes"):
        client.batch(checks(1))


def test_recorder_batches_nest_into_one_transaction(tmp_path):
    trail = AuditTrail(str(tmp_path / "a.db"))
    seen = commits(trail)
    recorder = AuditRecorder(trail, URL)
    with recorder.batch():
        recorder(ops.get_attributes("a"), {"unique_identifier": "a"}, None)
        with recorder.batch():
            recorder(ops.get_attributes("b"), {"unique_identifier": "b"}, None)
        assert seen == []
    assert len(seen) == 1 and [r["entity_id"] for r in trail.query(newest_first=False)] == ["a", "b"]


def test_a_batch_record_tells_the_call_as_it_was_when_it_ran(tmp_path):
    """A batch's records are built at its exit, from what each call was when it ran: the node
    that served it and what settled it, not what the transport or the operation say later."""
    class Transport:
        last_url = "http://node-1:9998"

    trail = AuditTrail(str(tmp_path / "a.db"))
    transport = Transport()
    recorder = AuditRecorder(trail, URL, transport=transport)
    check = ops.get_attributes("a")
    with recorder.batch():
        recorder(check, {"object_type": "PrivateKey"}, None)
        transport.last_url = "http://node-2:9998"
        check.settled = "Item_Not_Found after 2 attempts"
        recorder(check, {"object_type": "PrivateKey"}, None)
        assert trail.query() == []
    first, second = trail.query(newest_first=False)
    assert (first["kms_url"], second["kms_url"]) == ("http://node-1:9998", "http://node-2:9998")
    assert "settled" not in first["details"] and second["details"]["settled"] == check.settled
