# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kms_audit run for real by ansible-playbook on a real temporary store (no KMS needed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.audit import RECORD_FIELDS, AuditTrail
from ansible_collections.pkimanager.kms.plugins.modules import kms_audit

from playbook import COLLECTIONS, REPO, run_playbook


@pytest.fixture
def store(tmp_path):
    """Two module runs' worth of records: 5 KMS calls, one of them an existence check that
    found nothing (not_found), as before each create."""
    path = str(tmp_path / "audit.db")
    with AuditTrail(path, operation_id="run-1", context={"kms_url": "http://127.0.0.1:9998"}) as run:
        run.record("kms.create_key_pair", "key_pair", "web", "success", {"result": {"private_key_id": "web"}})
        run.record("kms.get_attributes", "key_pair", "web", "success", {"result": {"state": "Active"}})
    with AuditTrail(path, operation_id="run-2", context={"kms_url": "http://127.0.0.1:9998"}) as run:
        run.record("kms.get_attributes", "key_pair", "api", "not_found",
                   {"reason": "Item_Not_Found", "message": "no object api"})
        run.record("kms.create_key_pair", "key_pair", "api", "success", {"result": {"private_key_id": "api"}})
        run.record("kms.certify", "certificate", "api-cert", "success", {})
    return path


def audit_task(title, check_mode=False, **options):
    task = {"name": title, "pkimanager.kms.kms_audit": options, "ignore_errors": True}
    if check_mode:
        task["check_mode"] = True
    return task


def play(*tasks, **env):
    run = run_playbook(list(tasks), extra_env=env)
    return run.result


def test_query_filters_and_order(store):
    result = play(
        audit_task("all"),
        audit_task("api absences", entity_id="api", status="not_found"),
        audit_task("failures", status="failure"),
        audit_task("oldest two", newest_first=False, limit=2),
        audit_task("one run", operation_id="run-1"),
        audit_task("by type and time", entity_type="certificate", since="2000-01-01", until="2999-01-01T00:00:00+01:00"),
        audit_task("future", since="2999-01-01"),
        audit_task("every record", limit=0, operation="kms.get_attributes"),
        audit_task("in check mode", check_mode=True, limit=1),
        KMS_AUDIT_LOG=store)
    every = result("all")
    assert every["_status"] == "ok" and not every["changed"] and every["audit_log"] == store
    assert every["count"] == 5 and [r["record_id"] for r in every["records"]] == [5, 4, 3, 2, 1]
    assert every["records"] == AuditTrail(store).query()
    assert [r["details"]["reason"] for r in result("api absences")["records"]] == ["Item_Not_Found"]
    assert result("failures")["_status"] == "ok" and result("failures")["records"] == []
    assert [r["record_id"] for r in result("oldest two")["records"]] == [1, 2]
    assert [r["operation_id"] for r in result("one run")["records"]] == ["run-1", "run-1"]
    assert [r["entity_id"] for r in result("by type and time")["records"]] == ["api-cert"]
    assert result("future")["records"] == [] and result("future")["count"] == 0
    assert [r["record_id"] for r in result("every record")["records"]] == [3, 2]
    checked = result("in check mode")
    assert checked["_status"] == "ok" and not checked["changed"] and checked["count"] == 1


def test_verify_reports_a_broken_chain_and_fails_only_when_asked(store):
    intact = play(audit_task("verify", action="verify", audit_log=store))("verify")
    assert intact["valid"] and intact["first_broken"] is None and intact["count"] == 5 and intact["problem"] is None
    assert intact["last_record_id"] == 5 and intact["last_hash"] == AuditTrail(store).query(limit=1)[0]["hash"]
    assert not intact["changed"]

    with sqlite3.connect(store) as connection:
        connection.execute("UPDATE audit_records SET status = 'failure' WHERE record_id = 3")
    result = play(audit_task("verify", action="verify", audit_log=store, entity_id="ignored"),
                  audit_task("strict", action="verify", audit_log=store, fail_on_broken=True))
    broken = result("verify")
    assert broken["_status"] == "ok" and broken["valid"] is False and broken["count"] == 5
    assert broken["first_broken"] == {"record_id": 3, "reason": "hash does not match the record's content "
                                                                "(edited after it was written)"}
    assert any("filters were ignored" in w for w in broken.get("warnings", [])), broken
    strict = result("strict")
    assert strict["_status"] == "failed" and strict["valid"] is False
    assert strict["msg"] == "The audit trail %s is broken at record 3: %s" % (store, broken["first_broken"]["reason"])


def test_summary(store):
    result = play(audit_task("summary", action="summary", audit_log=store),
                  audit_task("key pairs", action="summary", audit_log=store, entity_type="key_pair", status="success"))
    summary = result("summary")
    assert summary["count"] == 5 and not summary["changed"]
    assert summary["summary"]["operations"]["kms.get_attributes"] == {"success": 1, "not_found": 1, "failure": 0,
                                                                      "total": 2}
    assert (summary["summary"]["success"], summary["summary"]["not_found"], summary["summary"]["failure"]) == (4, 1, 0)
    assert summary["summary"]["table"] == [
        "operation            success  not_found  failure    total",
        "kms.certify                1          0        0        1",
        "kms.create_key_pair        2          0        0        2",
        "kms.get_attributes         1          1        0        2",
        "all operations             4          1        0        5"]
    assert result("key pairs")["count"] == 3 and "kms.certify" not in result("key pairs")["summary"]["operations"]


def test_summary_and_filters_tell_absences_from_failures(store):
    """Defect 8: an existence check that found nothing is not a failure; a refused revoke is."""
    with AuditTrail(store, operation_id="run-3") as run:
        run.record("kms.revoke", "key_pair", "gone", "failure", {"reason": "Item_Not_Found", "message": "no object"})
    result = play(audit_task("summary", action="summary"), audit_task("absent", action="summary", status="not_found"),
                  audit_task("failed", status="failure"), KMS_AUDIT_LOG=store)
    counts = result("summary")["summary"]
    assert (counts["success"], counts["not_found"], counts["failure"], counts["total"]) == (4, 1, 1, 6)
    assert counts["operations"]["kms.revoke"] == {"success": 0, "not_found": 0, "failure": 1, "total": 1}
    assert result("absent")["count"] == 1 and list(result("absent")["summary"]["operations"]) == ["kms.get_attributes"]
    assert [r["operation"] for r in result("failed")["records"]] == ["kms.revoke"]


def read_jsonl(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle]


def test_export_is_idempotent_and_honours_check_mode(store, tmp_path):
    jsonl, table = str(tmp_path / "out" / "audit.jsonl"), str(tmp_path / "out" / "audit.csv")
    os.mkdir(str(tmp_path / "out"))
    first = play(
        audit_task("predict jsonl", check_mode=True, action="export", dest=jsonl),
        audit_task("jsonl", action="export", dest=jsonl, mode="0640"),
        audit_task("jsonl again", action="export", dest=jsonl, mode="0640"),
        audit_task("jsonl again in check mode", check_mode=True, action="export", dest=jsonl, mode="0640"),
        audit_task("only the mode", action="export", dest=jsonl, mode="0600"),
        audit_task("csv", action="export", dest=table, format="csv", status="success"),
        audit_task("csv again", action="export", dest=table, format="csv", status="success"),
        KMS_AUDIT_LOG=store)
    predicted = first("predict jsonl")
    assert predicted["_status"] == "ok" and predicted["changed"] and predicted["rows"] == 5
    written = first("jsonl")
    assert written["changed"] and written["rows"] == 5 and written["dest"] == jsonl
    assert read_jsonl(jsonl) == AuditTrail(store).query(newest_first=False)
    assert not first("jsonl again")["changed"] and not first("jsonl again in check mode")["changed"]
    assert first("only the mode")["changed"] and stat.S_IMODE(os.stat(jsonl).st_mode) == 0o600
    assert first("csv")["changed"] and first("csv")["rows"] == 4 and not first("csv again")["changed"]
    with open(table, newline="") as handle:
        exported = list(csv.DictReader(handle))
    assert [row["record_id"] for row in exported] == ["1", "2", "4", "5"]
    assert tuple(exported[0]) == RECORD_FIELDS

    mtime = os.stat(jsonl).st_mtime_ns
    with AuditTrail(store) as later:
        later.record("kms.revoke", "key_pair", "web", "success")
    second = play(
        audit_task("predict the new record", check_mode=True, action="export", dest=jsonl),
        audit_task("new record", action="export", dest=jsonl),
        audit_task("new csv in check mode", check_mode=True, action="export", dest=str(tmp_path / "out" / "new.csv"),
                   format="csv"),
        KMS_AUDIT_LOG=store)
    assert second("predict the new record")["changed"] and second("new record")["changed"]
    assert second("new record")["rows"] == 6 and len(read_jsonl(jsonl)) == 6 and os.stat(jsonl).st_mtime_ns != mtime
    assert second("new csv in check mode")["changed"] and not os.path.exists(str(tmp_path / "out" / "new.csv"))


def test_bad_arguments_and_missing_store(store, tmp_path):
    missing = str(tmp_path / "nowhere" / "audit.db")
    result = play(
        audit_task("no dest", action="export", audit_log=store),
        audit_task("dest is a directory", action="export", audit_log=store, dest=str(tmp_path)),
        audit_task("no such directory", action="export", audit_log=store, dest=str(tmp_path / "no" / "x.jsonl")),
        audit_task("bad since", audit_log=store, since="last week"),
        audit_task("bad limit", audit_log=store, limit=-1),
        audit_task("bad status", audit_log=store, status="ok"),
        audit_task("missing store", audit_log=missing),
        audit_task("missing store verifies", action="verify", audit_log=missing))
    for title, message in [
            ("no dest", "action is export but all of the following are missing: dest"),
            ("dest is a directory", "is a directory; give the path of the file to write"),
            ("no such directory", "the directory of dest %s does not exist" % (tmp_path / "no" / "x.jsonl")),
            ("bad since", "since must be an ISO 8601 date or time such as 2026-11-28T12:00:00Z, got 'last week'"),
            ("bad limit", "limit must be 0 (no limit) or more, got -1"),
            ("bad status", "value of status must be one of: success, not_found, failure, got: ok")]:
        failed = result(title)
        assert failed["_status"] == "failed" and message in failed["msg"], (title, failed["msg"])
    empty = result("missing store")
    assert empty["_status"] == "ok" and empty["count"] == 0
    assert any("does not exist" in w for w in empty["warnings"]), empty
    assert result("missing store verifies")["valid"] and not os.path.exists(missing)


def test_the_report_playbook_tells_absences_from_failures(store, tmp_path):
    """Defect 8: the report of a clean run showed its existence checks as failures."""
    with AuditTrail(store, operation_id="run-3") as run:
        run.record("kms.revoke", "key_pair", "gone", "failure", {"reason": "Item_Not_Found", "message": "no object"})
    report = run_playbook(playbook=os.path.join(REPO, "playbooks", "audit_report.yml"),
                          extra_env={"KMS_AUDIT_LOG": store}, args=("-e", "audit_report_dir=" + str(tmp_path / "out")))
    assert report.returncode == 0, report.output[-3000:]
    lines = report.result("Print the summary")["msg"]
    assert lines[:2] == ["Audit chain: valid, 6 records",
                         "Outcomes: 4 success, 1 not_found (reads that found no object, e.g. checks before a create), "
                         "1 failure"]
    assert lines[2:] == AuditTrail(store).summary()["table"]
    assert stat.S_IMODE(os.stat(str(tmp_path / "out" / "audit.csv")).st_mode) == 0o600


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_exports_are_private_unless_mode_says_otherwise(store, tmp_path):
    """Defect 7: exports were created 0644 (the umask's mode) while the store is 0600."""
    out = tmp_path / "out"
    out.mkdir()
    new, old, shared = str(out / "new.jsonl"), str(out / "old.jsonl"), str(out / "shared.csv")
    with open(old, "w") as handle:
        handle.write("an export of an earlier version\n")
    os.chmod(old, 0o644)
    previous = os.umask(0o022)
    try:
        result = play(audit_task("new", action="export", dest=new),
                      audit_task("old", action="export", dest=old),
                      audit_task("again", action="export", dest=new),
                      audit_task("shared", action="export", dest=shared, format="csv", mode="0644"),
                      KMS_AUDIT_LOG=store)
    finally:
        os.umask(previous)
    assert result("new")["changed"] and mode(new) == 0o600
    assert result("old")["changed"] and mode(old) == 0o600
    assert not result("again")["changed"] and mode(new) == 0o600
    assert result("shared")["changed"] and mode(shared) == 0o644


def test_a_store_with_a_reset_schema_version_is_reported_broken(store, tmp_path):
    """Defect 4: ``PRAGMA user_version = 0`` made the store read as new and empty."""
    with sqlite3.connect(store) as connection:
        connection.execute("PRAGMA user_version = 0")
    result = play(audit_task("verify", action="verify"), audit_task("strict", action="verify", fail_on_broken=True),
                  audit_task("query"), audit_task("summary", action="summary"),
                  audit_task("export", action="export", dest=str(tmp_path / "x.jsonl")), KMS_AUDIT_LOG=store)
    verified = result("verify")
    assert verified["_status"] == "ok" and verified["valid"] is False and verified["count"] == 5
    assert verified["problem"].startswith("audit store %s is damaged: its schema version (PRAGMA user_version) is 0"
                                          % store)
    strict = result("strict")
    assert strict["_status"] == "failed" and strict["msg"] == "The audit trail is broken: " + verified["problem"]
    for title in ("query", "summary", "export"):
        failed = result(title)
        assert failed["_status"] == "failed" and failed["msg"] == verified["problem"], (title, failed)
    assert not os.path.exists(str(tmp_path / "x.jsonl"))


def test_group_module_defaults_with_connection_options_apply(store, tmp_path):
    """Every option the group's other modules take is accepted and ignored (no mirror is
    written): ansible-core (2.17 to 2.19) fails a module given, through group module_defaults,
    an option it does not take, which the second task shows."""
    mirror = str(tmp_path / "mirror.jsonl")
    defaults = {"kms_url": "http://127.0.0.1:1", "api_key": "not-used", "ca_cert": "/nonexistent/ca.pem",
                "client_cert": "/nonexistent/c.pem", "client_key": "/nonexistent/k.pem", "validate_certs": False,
                "timeout": 5, "retries": 2, "audit_log": store, "audit_jsonl": mirror}
    grouped = {"name": "grouped", "module_defaults": {"group/pkimanager.kms.kms": defaults},
               "pkimanager.kms.kms_audit": {"action": "summary"}}
    unknown = {"name": "unknown", "module_defaults": {"group/pkimanager.kms.kms": dict(defaults, no_such_option=1)},
               "pkimanager.kms.kms_audit": {"action": "summary"}, "ignore_errors": True}
    result = play(grouped, unknown)
    assert result("grouped")["_status"] == "ok" and result("grouped")["count"] == 5
    assert not os.path.exists(mirror)
    assert result("unknown")["_status"] == "failed" and "Unsupported parameters" in result("unknown")["msg"]


def test_documentation_matches_the_argument_spec():
    output = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json",
                             "pkimanager.kms.kms_audit"], stdout=subprocess.PIPE, check=True,
                            env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)).stdout
    documented = json.loads(output)["pkimanager.kms.kms_audit"]["doc"]["options"]
    for name, spec in kms_audit.argument_spec().items():
        doc = documented[name]
        assert doc["type"] == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("choices") == spec.get("choices"), name
        assert bool(doc.get("required")) == bool(spec.get("required")), name
    assert {"audit_log", "audit_jsonl", "mode", "kms_url"} <= set(documented)
