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
    error = KmsError("object not found", status=422, reason="Object_Not_Found", operation="Get", object_id="gone")
    recorder(ops.get_public_key("gone"), None, error)
    made, failed = trail.query(newest_first=False)
    assert (made["operation"], made["entity_id"], made["status"]) == ("kms.create_key_pair", "pair", "success")
    assert made["details"]["result"]["public_key_id"] == "pub"
    assert made["task"] == "t" and made["playbook"] == "p.yml" and made["kms_url"] == URL
    assert (failed["operation"], failed["entity_id"], failed["status"]) == ("kms.get", "gone", "failure")
    assert failed["details"]["reason"] == "Object_Not_Found" and failed["details"]["http_status"] == 422
    assert made["operation_id"] == failed["operation_id"]
    assert "settled" not in made["details"]

    revoke = ops.revoke("pair")
    revoke.settled = "Item_Not_Found after 2 attempts: an earlier attempt did it"
    recorder(revoke, "pair", None)
    settled = trail.query()[0]
    assert settled["status"] == "success" and settled["details"]["settled"] == revoke.settled
    assert trail.verify()["valid"]


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


def test_no_client_without_a_writable_store(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(AuditError) as caught:
        audited_client({"kms_url": URL}, AuditTrail(str(blocker / "audit.db")))
    assert "no KMS call was made" in str(caught.value)
