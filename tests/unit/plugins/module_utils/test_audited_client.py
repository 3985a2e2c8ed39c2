# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit observer every KMS call goes through, against a real SQLite store."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
