# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit trail against real SQLite files: schema, hash chain, tampering (done to the
file with sqlite3, as an attacker would), a damaged schema, the schema migration, scrubbing,
file modes, the JSON-lines mirror after the commit, and unwritable or full stores."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import hashlib
import json
import os
import re
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.pkimanager.kms.plugins.module_utils import audit as audit_writer
from ansible_collections.pkimanager.kms.plugins.module_utils import audit_reader
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import (
    GENESIS_HASH,
    RECORD_FIELDS,
    REDACTED,
    SCHEMA_VERSION,
    AuditError,
    AuditMirrorError,
    AuditTrail,
    canonical_json,
    default_audit_path,
    record_hash,
    scrub,
)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PEM_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n"

FIXED_RECORD = dict(
    record_id=1, operation_id="00000000-0000-4000-8000-000000000001", timestamp="2026-11-28T12:00:00.123Z",
    operation="kms.create_key_pair", entity_type="key_pair", entity_id="web-signing", status="success",
    details={"result": {"private_key_id": "web-signing", "public_key_id": "pub-1"}},
    kms_url="http://127.0.0.1:9998", user="pki", host="pki01", playbook=None, task=None, prev_hash=GENESIS_HASH)
FIXED_CANONICAL = (
    '{"details":{"result":{"private_key_id":"web-signing","public_key_id":"pub-1"}},"entity_id":"web-signing",'
    '"entity_type":"key_pair","host":"pki01","kms_url":"http://127.0.0.1:9998","operation":"kms.create_key_pair",'
    '"operation_id":"00000000-0000-4000-8000-000000000001","playbook":null,"prev_hash":"' + "0" * 64 + '",'
    '"record_id":1,"status":"success","task":null,"timestamp":"2026-11-28T12:00:00.123Z","user":"pki"}')
# Computed once with `sha256sum` over FIXED_CANONICAL: a change here breaks every existing store.
FIXED_HASH = "83a6f69016d4376fca62be0ef6c00a71b760bd38f1af7710469501f7aedb4a86"


@pytest.fixture
def store(tmp_path):
    return str(tmp_path / "state" / "audit.db")


@pytest.fixture
def trail(store):
    with AuditTrail(store, context={"kms_url": "http://127.0.0.1:9998"}) as audit:
        yield audit


def fill(trail, count=6):
    """``count`` records alternating between two operations; every third one a failure."""
    for index in range(count):
        failed = index % 3 == 2
        trail.record("kms.create_key_pair" if index % 2 == 0 else "kms.get_attributes", "key_pair",
                     "kp-%d" % (index % 2), "failure" if failed else "success",
                     {"reason": "Item_Not_Found", "message": "no such key"} if failed else {"index": index})


def tamper(store, sql, params=()):
    """Change the store behind the writer's back, as someone with file access could."""
    with sqlite3.connect(store) as connection:
        connection.execute(sql, params)


def rows(store):
    with sqlite3.connect(store) as connection:
        return [dict(zip(RECORD_FIELDS, row)) for row in connection.execute(
            "SELECT %s FROM audit_records ORDER BY record_id" % ", ".join(RECORD_FIELDS))]


def rehash(record):
    """The hash a forger would compute for ``record`` (details as stored text)."""
    return record_hash(dict(record, details=json.loads(record["details"])))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# -- schema and records ----------------------------------------------------------------------

def test_schema_and_store_settings(trail, store):
    trail.record("kms.create_key_pair", "key_pair", "kp", "success")
    with sqlite3.connect(store) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(audit_records)")]
        assert tuple(columns) == RECORD_FIELDS
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute("INSERT INTO audit_records (record_id, operation_id, timestamp, operation, status,"
                               " details, prev_hash, hash) VALUES (9, 'o', 't', 'op', 'ok', '{}', 'p', 'h')")


def test_a_record_holds_every_field(store):
    with AuditTrail(store, context={"kms_url": "http://kms:9998", "playbook": "site.yml", "task": "create"}) as audit:
        stored = audit.record("kms.create_key_pair", "key_pair", "web-signing", "success",
                              {"result": {"private_key_id": "web-signing"}})
    assert list(stored) == list(RECORD_FIELDS)
    assert stored["record_id"] == 1 and stored["prev_hash"] == GENESIS_HASH
    assert TIMESTAMP.match(stored["timestamp"])
    assert stored["hash"] == record_hash(stored) and re.match(r"^[0-9a-f]{64}$", stored["hash"])
    assert stored["user"] and stored["host"]
    assert (stored["kms_url"], stored["playbook"], stored["task"]) == ("http://kms:9998", "site.yml", "create")
    assert AuditTrail(store).query() == [dict(stored)]


def test_record_ids_increase_and_chain(trail):
    stored = [trail.record("kms.get", "certificate", "c%d" % n, "success") for n in range(5)]
    assert [r["record_id"] for r in stored] == [1, 2, 3, 4, 5]
    assert [r["prev_hash"] for r in stored[1:]] == [r["hash"] for r in stored[:-1]]
    assert [r["timestamp"] for r in stored] == sorted(r["timestamp"] for r in stored)


def test_operation_id_is_shared_by_one_trail_and_new_for_the_next(store):
    first, second = AuditTrail(store), AuditTrail(store)
    given_id = AuditTrail(store, operation_id="run-42")
    for audit in (first, first, second, given_id):
        audit.record("kms.locate", "key_pair", None, "success")
    ids = [r["operation_id"] for r in first.query(newest_first=False)]
    assert ids[0] == ids[1] != ids[2] and ids[3] == "run-42"
    assert re.match(r"^[0-9a-f-]{36}$", ids[0])
    assert [r["record_id"] for r in first.query(operation_id=ids[0])] == [2, 1]


def test_kms_url_argument_overrides_the_context(trail):
    assert trail.record("kms.get", "certificate", "c", "success")["kms_url"] == "http://127.0.0.1:9998"
    assert trail.record("kms.get", "certificate", "c", "success", kms_url="https://other")["kms_url"] == "https://other"


def test_failure_details_always_hold_reason_and_message(trail):
    stored = trail.record("kms.revoke", "key_pair", "kp", "failure", {"http_status": 422})
    assert stored["details"] == {"http_status": 422, "reason": None, "message": None}
    stored = trail.record("kms.get_attributes", "key_pair", "kp", "not_found", {"reason": "Object_Not_Found"})
    assert stored["details"] == {"reason": "Object_Not_Found", "message": None}


def test_not_found_is_a_status_of_its_own_and_chained(trail, store):
    """Defect 8: a read that found nothing is recorded as not_found, which the hash covers."""
    stored = trail.record("kms.get_attributes", "key_pair", "kp", "not_found",
                          {"reason": "Object_Not_Found", "message": "no such object"})
    trail.record("kms.create_key_pair", "key_pair", "kp", "success")
    assert stored["status"] == "not_found" and stored["hash"] == record_hash(stored)
    assert [r["record_id"] for r in trail.query(status="not_found")] == [1]
    assert trail.verify()["valid"]
    tamper(store, "UPDATE audit_records SET status = 'failure' WHERE record_id = 1")
    assert broken(store) == (1, "hash does not match the record's content (edited after it was written)")


@pytest.mark.parametrize("arguments, fragment", [
    (("", "key_pair", "kp", "success"), "without a name"),
    (("kms.get", "key_pair", "kp", "ok"), "status must be one of success, not_found, failure, got 'ok'"),
    (("kms.get", "key_pair", "kp", "success", ["not", "a", "dict"]), "details must be a dict"),
])
def test_bad_records_are_refused(trail, arguments, fragment):
    with pytest.raises(AuditError, match=re.escape(fragment)):
        trail.record(*arguments)


def test_unknown_context_fields_are_refused(store):
    with pytest.raises(ValueError, match="unknown audit context field.*api_key"):
        AuditTrail(store, context={"api_key": "x"})


def test_a_newer_schema_is_not_touched(trail, store):
    trail.record("kms.get", "key_pair", "kp", "success")
    tamper(store, "PRAGMA user_version = 99")
    with pytest.raises(AuditError, match="schema version 99"):
        AuditTrail(store).query()
    with pytest.raises(AuditError, match="schema version 99"):
        AuditTrail(store).ensure_writable()


def test_a_locked_store_is_waited_for(trail, store):
    trail.ensure_writable()
    blocker = sqlite3.connect(store, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: blocker.execute("ROLLBACK"))
    release.start()
    started = time.monotonic()
    try:
        assert trail.record("kms.get", "key_pair", "kp", "success")["record_id"] == 1
    finally:
        release.join()
        blocker.close()
    assert time.monotonic() - started >= 0.4


# -- canonical hashing -----------------------------------------------------------------------

def test_canonical_form_and_known_hash():
    assert canonical_json(FIXED_RECORD) == FIXED_CANONICAL
    assert hashlib.sha256(FIXED_CANONICAL.encode("ascii")).hexdigest() == FIXED_HASH
    assert record_hash(FIXED_RECORD) == FIXED_HASH
    assert record_hash(dict(FIXED_RECORD, hash="anything")) == FIXED_HASH


@pytest.mark.parametrize("changes", [
    {},
    {"entity_id": "caf\u00e9 \u2603 \"quoted\" \\ \n", "task": "t\u00e2che", "playbook": "site.yml"},
    {"entity_id": None, "entity_type": None, "kms_url": None, "record_id": 2 ** 40},
    {"details": {"b": [1, 2.5, None, True], "a": {"z": "\u00e9", "y": False}}, "status": "failure"},
    {"user": type("Text", (str,), {})("a str subclass"), "record_id": True},
])
def test_hashed_record_writes_what_the_canonical_encoder_writes(changes):
    """The writer's shortcut (audit_reader.hashed_record) against the plain definition: the
    hash of canonical_json, the details as canonical_json, the line as canonical_json."""
    record = dict(FIXED_RECORD, **changes)
    digest, details, line = audit_reader.hashed_record(record)
    assert digest == record_hash(record)
    assert details == canonical_json(record["details"])
    assert line == canonical_json(dict(record, hash=digest))


# Values of the members the records of a group share (audit_reader._shared_members), among
# them equal values written differently (1, 1.0, true; 0, -0.0, false) and unhashable ones.
SHARED_VALUES = st.sampled_from([None, "a", "b", "caf\u00e9", 1, 1.0, True, 0, -0.0, False, [1], {"a": None}])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({field: SHARED_VALUES for field in (
    "entity_type", "host", "kms_url", "operation", "operation_id", "playbook", "status", "task", "timestamp",
    "user")}), min_size=1, max_size=6))
def test_the_members_a_group_shares_are_each_records_own(changes):
    """One ``shared`` dict across the records of a group gives each record the text it has
    alone, whatever the values before it."""
    shared = {}
    for index, change in enumerate(changes):
        record = dict(FIXED_RECORD, record_id=index + 1, **change)
        digest, details, line = audit_reader.hashed_record(record, shared)
        assert (digest, details, line) == (record_hash(record), canonical_json(record["details"]),
                                           canonical_json(dict(record, hash=digest)))


def test_hash_ignores_key_order_and_sees_every_field():
    reordered = dict(reversed(list(FIXED_RECORD.items())))
    assert record_hash(reordered) == FIXED_HASH
    for field in FIXED_RECORD:
        assert record_hash(dict(FIXED_RECORD, **{field: "changed"})) != FIXED_HASH, field


def test_canonical_json_is_ascii():
    assert canonical_json({"entity_id": "clé"}) == '{"entity_id":"cl\\u00e9"}'


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=20))
def test_hash_survives_the_round_trip_through_the_store(details):
    """What verify recomputes from the stored text equals what the writer hashed."""
    record = dict(FIXED_RECORD, details=scrub({"value": details}))
    stored = json.loads(canonical_json(record))
    assert record_hash(stored) == record_hash(record)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=20), st.sampled_from([None, "t", '","host":"x']))
def test_the_writers_serialisations_are_the_canonical_ones(details, task):
    """The writer encodes details once (hashed_record); the hash, the stored details and the
    mirror line must be exactly what record_hash and canonical_json give."""
    record = dict(FIXED_RECORD, details=scrub({"value": details, "host": details}), task=task)
    digest, stored_details, line = audit_reader.hashed_record(record)
    assert digest == record_hash(record) and stored_details == canonical_json(record["details"])
    assert line == canonical_json(dict(record, hash=digest))
    assert audit_reader.hashed_record(FIXED_RECORD)[0] == FIXED_HASH


def test_jsonl_mirror_lines_are_the_records_and_verify_offline(tmp_path, store):
    mirror = str(tmp_path / "logs" / "audit.jsonl")
    with AuditTrail(store, jsonl_path=mirror) as audit:
        fill(audit, 4)
        stored = audit.query(newest_first=False)
    with open(mirror) as handle:
        lines = handle.read().splitlines()
    assert [json.loads(line) for line in lines] == stored
    previous = GENESIS_HASH
    for line in lines:  # what a log shipper's consumer can do with json and hashlib alone
        record = json.loads(line)
        content = json.dumps(dict((k, v) for k, v in record.items() if k != "hash"),
                             sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        assert hashlib.sha256(content.encode("ascii")).hexdigest() == record["hash"]
        assert record["prev_hash"] == previous
        previous = record["hash"]


# -- verification ----------------------------------------------------------------------------

def test_intact_chain_verifies(trail):
    fill(trail)
    result = trail.verify()
    assert result == dict(valid=True, records=6, first_broken=None, last_record_id=6,
                          last_hash=trail.query(limit=1)[0]["hash"], problem=None)


def test_missing_and_empty_stores_verify_as_empty(store):
    empty = dict(valid=True, records=0, first_broken=None, last_record_id=None, last_hash=GENESIS_HASH,
                 problem=None)
    assert AuditTrail(store).verify() == empty
    assert not os.path.exists(store)
    AuditTrail(store).ensure_writable()
    assert AuditTrail(store).verify() == empty


def broken(store):
    result = AuditTrail(store).verify()
    assert not result["valid"] and result["records"] >= 1
    return result["first_broken"]["record_id"], result["first_broken"]["reason"]


def test_edited_record_is_detected(trail, store):
    fill(trail)
    tamper(store, "UPDATE audit_records SET status = 'success' WHERE record_id = 3")
    record_id, reason = broken(store)
    assert record_id == 3 and "hash does not match" in reason and "edited" in reason


def test_edited_details_are_detected(trail, store):
    fill(trail)
    tamper(store, "UPDATE audit_records SET details = '{\"index\":40}' WHERE record_id = 5")
    assert broken(store) == (5, "hash does not match the record's content (edited after it was written)")


def test_edit_with_a_recomputed_hash_breaks_the_next_link(trail, store):
    fill(trail)
    forged = dict(rows(store)[2], entity_id="someone-else")
    tamper(store, "UPDATE audit_records SET entity_id = ?, hash = ? WHERE record_id = 3",
           (forged["entity_id"], rehash(forged)))
    record_id, reason = broken(store)
    assert record_id == 4 and "prev_hash does not match the hash of record 3" in reason


def test_unparseable_details_are_detected(trail, store):
    fill(trail)
    tamper(store, "UPDATE audit_records SET details = 'not json' WHERE record_id = 2")
    assert broken(store)[0] == 2
    with pytest.raises(AuditError, match="record 2 .* not JSON"):
        AuditTrail(store).query()


def test_deleted_record_is_detected(trail, store):
    fill(trail)
    tamper(store, "DELETE FROM audit_records WHERE record_id = 4")
    record_id, reason = broken(store)
    assert record_id == 5 and "record id 5 where 4 was expected" in reason and "deleted" in reason


def test_deleted_first_record_is_detected(trail, store):
    fill(trail)
    tamper(store, "DELETE FROM audit_records WHERE record_id = 1")
    assert broken(store)[0] == 2


def test_deletion_hidden_by_renumbering_is_detected(trail, store):
    fill(trail)
    tamper(store, "DELETE FROM audit_records WHERE record_id = 4")
    tamper(store, "UPDATE audit_records SET record_id = record_id - 1 WHERE record_id > 4")
    assert broken(store)[0] == 4


def test_deletion_with_renumbering_and_rehashing_breaks_the_chain(trail, store):
    fill(trail)
    tamper(store, "DELETE FROM audit_records WHERE record_id = 4")
    for record in rows(store)[3:]:
        renumbered = dict(record, record_id=record["record_id"] - 1)
        tamper(store, "UPDATE audit_records SET record_id = ?, hash = ? WHERE record_id = ?",
               (renumbered["record_id"], rehash(renumbered), record["record_id"]))
    record_id, reason = broken(store)
    assert record_id == 4 and "prev_hash does not match the hash of record 3" in reason


def swap(store, first, second, forge_hashes):
    """Exchange the places of two records (their ids), optionally recomputing their hashes."""
    by_id = dict((r["record_id"], r) for r in rows(store))
    tamper(store, "UPDATE audit_records SET record_id = -1 WHERE record_id = ?", (first,))
    tamper(store, "UPDATE audit_records SET record_id = ? WHERE record_id = ?", (first, second))
    tamper(store, "UPDATE audit_records SET record_id = ? WHERE record_id = -1", (second,))
    if forge_hashes:
        for old_id, new_id in ((first, second), (second, first)):
            moved = dict(by_id[old_id], record_id=new_id)
            tamper(store, "UPDATE audit_records SET hash = ? WHERE record_id = ?", (rehash(moved), new_id))


def test_reordered_records_are_detected(trail, store):
    fill(trail)
    swap(store, 3, 4, forge_hashes=False)
    assert broken(store)[0] == 3


def test_reordered_records_with_forged_hashes_break_the_chain(trail, store):
    fill(trail)
    swap(store, 3, 4, forge_hashes=True)
    record_id, reason = broken(store)
    assert record_id == 3 and "prev_hash does not match the hash of record 2" in reason and "moved" in reason


def test_verify_counts_every_record_after_a_break(trail, store):
    fill(trail)
    tamper(store, "UPDATE audit_records SET operation = 'kms.destroy' WHERE record_id = 2")
    result = AuditTrail(store).verify()
    assert result["records"] == 6 and result["first_broken"]["record_id"] == 2 and result["last_record_id"] == 6


# -- nothing secret --------------------------------------------------------------------------

@pytest.mark.parametrize("key", [
    "api_key", "API_KEY", "apiKey", "X-Api-Key", "token", "access_token", "refresh_tokens", "password",
    "db_password", "passphrase", "secret", "client_secret", "private_key", "PrivateKey", "private_key_pem",
    "key_material", "KeyMaterial", "authorization", "Authorization", "client_key", "credentials", "cookie",
])
def test_secret_keys_are_redacted(key):
    assert scrub({key: "s3cr3t"}) == {key: REDACTED}
    assert scrub({"outer": [{"inner": {key: {"deep": "s3cr3t"}}}]}) == {"outer": [{"inner": {key: REDACTED}}]}


@pytest.mark.parametrize("key", [
    "private_key_id", "PrivateKeyUniqueIdentifier", "PrivateKeyLink", "public_key_id", "object_id", "name",
    "key_size", "tags", "reason", "message", "token_id", "secret_data_id", "state", "fingerprint_sha256",
])
def test_references_and_plain_keys_are_kept(key):
    assert scrub({key: "value"}) == {key: "value"}


@pytest.mark.parametrize("text", [
    PEM_KEY,
    "key: -----BEGIN PRIVATE KEY-----\nMIIE...",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
])
def test_pem_private_keys_are_redacted_anywhere(text):
    assert scrub({"note": text, "list": ["ok", text]}) == {"note": REDACTED, "list": ["ok", REDACTED]}


def test_public_material_and_other_values_are_kept():
    public = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
    cert = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"
    assert scrub({"pem": public, "cert": cert, "n": 3, "f": 1.5, "b": True, "none": None, "t": (1, "a")}) == \
        {"pem": public, "cert": cert, "n": 3, "f": 1.5, "b": True, "none": None, "t": [1, "a"]}


def test_bytes_and_non_json_values_become_safe():
    scrubbed = scrub({"der": b"\x30\x82", 7: float("nan"), "when": object})
    assert scrubbed["der"] == REDACTED and scrubbed["7"] == "nan" and scrubbed["when"] == str(object)
    canonical_json(scrubbed)


def test_nothing_secret_reaches_the_files(tmp_path, store):
    mirror = str(tmp_path / "audit.jsonl")
    secrets = ["s3cr3t-token", "hunter2", "MIIEowIBAAKCAQEA7", "basicpass"]
    with AuditTrail(store, jsonl_path=mirror, context={"kms_url": "https://admin:basicpass@kms:9998"}) as audit:
        stored = audit.record("kms.create_key_pair", "key_pair", "kp", "success", {
            "request": {"headers": {"Authorization": "Bearer s3cr3t-token"}, "password": "hunter2"},
            "result": {"private_key_id": "kp", "material": PEM_KEY}})
        assert stored["kms_url"] == "https://kms:9998"
        assert stored["details"]["result"] == {"private_key_id": "kp", "material": REDACTED}
        audit.verify()
        written = b"".join(open(os.path.join(os.path.dirname(store), name), "rb").read()
                           for name in os.listdir(os.path.dirname(store)))
    written += open(mirror, "rb").read()
    assert b"kp" in written
    for secret in secrets:
        assert secret.encode() not in written


@pytest.mark.parametrize("url, recorded, secret", [
    ("https://admin:p@ss@kms:9998", "https://kms:9998", "p@ss"),
    ("https://admin:p@ss@kms:9998/kmip?x=1", "https://kms:9998/kmip?x=1", "p@ss"),
    ("http://user:hunter2@127.0.0.1:9998", "http://127.0.0.1:9998", "hunter2"),
    ("https://token@kms", "https://kms", "token"),
    ("https://kms.example.com:9998", "https://kms.example.com:9998", None),
])
def test_credentials_in_the_kms_url_are_dropped(store, url, recorded, secret):
    """Defect 7: ``user:p@ss@host`` kept ``ss@`` of the password; the transport's scrubber is used."""
    from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import safe_url
    with AuditTrail(store, context={"kms_url": url}) as audit:
        assert audit.record("kms.get", "key_pair", "kp", "success")["kms_url"] == recorded == safe_url(url)
        assert audit.record("kms.get", "key_pair", "kp", "success", kms_url=url)["kms_url"] == recorded
    if secret:
        folder = os.path.dirname(store)
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), "rb") as handle:
                assert secret.encode() not in handle.read(), name


# -- files and permissions -------------------------------------------------------------------

@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_store_and_mirror_are_private(tmp_path, umask_022):
    directory = tmp_path / "new" / "audit"
    store, mirror = str(directory / "audit.db"), str(tmp_path / "logs" / "audit.jsonl")
    with AuditTrail(store, jsonl_path=mirror) as audit:
        audit.ensure_writable()
        assert mode(store) == 0o600 and mode(mirror) == 0o600
        assert mode(str(directory)) == 0o700 and mode(str(tmp_path / "logs")) == 0o700
        audit.record("kms.get", "key_pair", "kp", "success")
        for suffix in ("-wal", "-shm"):
            assert mode(store + suffix) == 0o600


def test_existing_directories_and_files_keep_their_modes(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    store = str(tmp_path / "audit.db")
    open(store, "w").close()
    os.chmod(store, 0o640)
    AuditTrail(store).ensure_writable()
    assert mode(str(tmp_path)) == 0o755 and mode(store) == 0o640


def test_default_path_follows_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert default_audit_path() == str(tmp_path / ".local" / "state" / "pkimanager-kms" / "audit.db")
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")
    assert default_audit_path() == str(tmp_path / ".local" / "state" / "pkimanager-kms" / "audit.db")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_audit_path() == str(tmp_path / "state" / "pkimanager-kms" / "audit.db")
    assert AuditTrail().path == default_audit_path()


@pytest.fixture
def regular_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    return str(path)


@pytest.mark.parametrize("relative, cause", [
    ("audit.db", "Not a directory: '{file}'"),
    ("sub/dir/audit.db", "Not a directory: '{file}'"),
])
def test_unwritable_store_under_a_file_fails_clearly(regular_file, relative, cause):
    store = os.path.join(regular_file, relative)
    with pytest.raises(AuditError) as raised:
        AuditTrail(store).ensure_writable()
    message = str(raised.value)
    assert message.startswith("audit store %s is not writable: " % store)
    assert cause.format(file=regular_file) in message


def test_unwritable_store_in_proc_fails_clearly():
    with pytest.raises(AuditError, match=r"audit store /proc/pkimanager-kms/audit.db is not writable: .*No such file"):
        AuditTrail("/proc/pkimanager-kms/audit.db").ensure_writable()


def test_store_that_is_a_directory_fails_clearly(tmp_path):
    with pytest.raises(AuditError, match="is not writable: .*Is a directory"):
        AuditTrail(str(tmp_path)).ensure_writable()


def test_store_that_is_not_sqlite_fails_clearly(tmp_path):
    store = tmp_path / "audit.db"
    store.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AuditError, match="audit store %s is not writable: file is not a database" % re.escape(str(store))):
        AuditTrail(str(store)).ensure_writable()
    with pytest.raises(AuditError, match="cannot read the audit store"):
        AuditTrail(str(store)).query()


def test_unwritable_mirror_fails_ensure_writable(store, regular_file):
    with pytest.raises(AuditError, match=r"\(mirror %s/audit.jsonl\) is not writable" % re.escape(regular_file)):
        AuditTrail(store, jsonl_path=os.path.join(regular_file, "audit.jsonl")).ensure_writable()


def test_record_raises_audit_error_and_keeps_the_store_consistent(store, regular_file):
    with AuditTrail(store, jsonl_path=os.path.join(regular_file, "audit.jsonl")) as audit:
        with pytest.raises(AuditError, match="cannot write the audit record of kms.get to"):
            audit.record("kms.get", "key_pair", "kp", "success")
    assert AuditTrail(store).query() == []
    with pytest.raises(AuditError, match="cannot write the audit record of kms.get to /proc/"):
        AuditTrail("/proc/pkimanager-kms/audit.db").record("kms.get", "key_pair", "kp", "success")


def run_with_file_size_limit(limit, code, **names):
    """Run ``code`` (which sets ``result``) in a new Python process that may not grow any
    file beyond ``limit`` bytes: RLIMIT_FSIZE, the kernel's EFBIG, is a full file system as
    far as SQLite and the mirror can tell, without root or a mount. ``names`` are defined
    for the code. Returns ("ok", result) or (exception type, message), as a caller sees it.
    (A new process rather than a fork: SQLite connections must not cross a fork.)"""
    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    program = "\n".join([
        "import json, os, sys",
        "from ansible_collections.pkimanager.kms.plugins.module_utils import audit",
        "from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail",
        "globals().update(json.loads(sys.argv[1]))",
        "try:",
        "    exec(compile(sys.argv[2], 'code', 'exec'))",
        "    outcome = ['ok', result]",
        "except Exception as exc:",
        "    outcome = [type(exc).__name__, str(exc)]",
        "sys.stdout.write(json.dumps(outcome))"])
    done = subprocess.run([sys.executable, "-c", program, json.dumps(names), code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, preexec_fn=limit_file_size, check=True)
    return tuple(json.loads(done.stdout))


def test_a_full_file_system_gives_an_audit_error_naming_the_store(tmp_path):
    store = str(tmp_path / "audit.db")
    kind, message = run_with_file_size_limit(0, "result = AuditTrail(store).ensure_writable()", store=store)
    assert kind == "AuditError" and message.startswith("audit store %s is not writable: " % store), message

    with AuditTrail(store) as audit:
        audit.record("kms.get", "key_pair", "kp", "success")
        # The open connection keeps the WAL file: its size leaves no room for another commit.
        kind, message = run_with_file_size_limit(
            os.path.getsize(store + "-wal"),
            "result = AuditTrail(store).record('kms.destroy', 'key_pair', 'kp', 'success')", store=store)
    assert kind == "AuditError", message
    assert message.startswith("cannot write the audit record of kms.destroy to %s: " % store), message
    assert [r["operation"] for r in AuditTrail(store).query()] == ["kms.get"]
    assert AuditTrail(store).verify()["valid"]


def test_a_failed_commit_leaves_no_mirror_line(tmp_path):
    """Defect 7: the mirror line was written before the COMMIT, which a full disk refuses;
    the mirror then held a record that the store had rolled back."""
    store, mirror = str(tmp_path / "audit.db"), str(tmp_path / "audit.jsonl")
    with AuditTrail(store, jsonl_path=mirror) as audit:
        audit.record("kms.get", "key_pair", "kp", "success")
        # Room for the mirror's second line, none for the store's second commit (WAL frames).
        limit = os.path.getsize(store + "-wal")
        assert limit > 3 * os.path.getsize(mirror)
        kind, message = run_with_file_size_limit(
            limit, "result = AuditTrail(store, jsonl_path=mirror).record('kms.destroy', 'key_pair', 'kp', 'success')",
            store=store, mirror=mirror)
    assert kind == "AuditError" and "cannot write the audit record of kms.destroy" in message, message
    with open(mirror) as handle:
        assert [json.loads(line) for line in handle] == AuditTrail(store).query()
    assert len(AuditTrail(store).query()) == 1


def test_a_mirror_that_fails_after_the_commit_is_reported_with_the_stored_record(store):
    """The store holds the record (it is the authority); the error says so and names the mirror."""
    with AuditTrail(store, jsonl_path="/dev/full") as audit:
        audit.ensure_writable()
        with pytest.raises(AuditMirrorError) as raised:
            audit.record("kms.destroy", "key_pair", "kp", "success")
    message = str(raised.value)
    assert message.startswith("audit record 1 of kms.destroy is in the audit store %s, but its line could not be "
                              "appended to the JSON-lines mirror /dev/full" % store)
    assert "No space left on device" in message and "kms_audit action=export" in message
    assert isinstance(raised.value, AuditError) and raised.value.record == AuditTrail(store).query()[0]


def test_a_mirror_line_cut_short_is_taken_back(tmp_path):
    """A line only partly written (the file system filled up in the middle) is removed, so
    that the next line does not continue it."""
    mirror = str(tmp_path / "audit.jsonl")
    with open(mirror, "w") as handle:
        handle.write('{"record_id":1}\n')
    kind, message = run_with_file_size_limit(os.path.getsize(mirror) + 20, "\n".join([
        "descriptor = os.open(mirror, os.O_WRONLY | os.O_APPEND)",
        "result = audit._append_line(descriptor, '{\"record_id\":2,\"padding\":\"%s\"}' % ('x' * 200))"]),
        mirror=mirror)
    assert (kind, message) == ("OSError", "[Errno 28] only 20 of 229 bytes could be written")
    with open(mirror) as handle:
        assert handle.read() == '{"record_id":1}\n'


def test_the_mirror_gets_its_lines_in_chain_order_from_writers_of_one_store(tmp_path):
    store, mirror = str(tmp_path / "audit.db"), str(tmp_path / "audit.jsonl")
    first, second, silent = (AuditTrail(store, jsonl_path=mirror), AuditTrail(store, jsonl_path=mirror),
                             AuditTrail(store))
    for audit in (first, second, silent, second, first):
        audit.record("kms.get", "key_pair", "kp", "success")
    with open(mirror) as handle:
        assert [json.loads(line)["record_id"] for line in handle] == [1, 2, 4, 5]


# -- damaged schema and migration --------------------------------------------------------------

def test_a_reset_schema_version_is_a_broken_store_not_a_new_one(trail, store):
    """Defect 4: after ``PRAGMA user_version = 0`` verify said valid with 0 records and
    query returned nothing; the writer would have tried to create the table again."""
    fill(trail)
    tamper(store, "PRAGMA user_version = 0")
    result = AuditTrail(store).verify()
    assert result["valid"] is False and result["records"] == 6 and result["first_broken"] is None
    assert result["problem"].startswith("audit store %s is damaged: its schema version (PRAGMA user_version) is 0"
                                        % store)
    damaged = "audit store %s is damaged" % re.escape(store)
    for read in (lambda audit: audit.query(), lambda audit: audit.summary(),
                 lambda audit: audit.export(store + ".jsonl"), lambda audit: audit.ensure_writable(),
                 lambda audit: audit.record("kms.get", "key_pair", "kp", "success")):
        with pytest.raises(AuditError, match=damaged):
            read(AuditTrail(store))
    with sqlite3.connect(store) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 0
        assert connection.execute("SELECT COUNT(*) FROM audit_records").fetchone()[0] == 6


def test_a_dropped_table_is_a_broken_store(trail, store):
    fill(trail, 2)
    tamper(store, "DROP TABLE audit_records")
    result = AuditTrail(store).verify()
    assert result["valid"] is False and result["records"] == 0
    assert result["problem"] == ("audit store %s is damaged: it has schema version 3 but no audit_records table "
                                 "(the records were dropped)" % store)
    with pytest.raises(AuditError, match="no audit_records table"):
        AuditTrail(store).query()
    with pytest.raises(AuditError, match="no audit_records table"):
        AuditTrail(store).record("kms.get", "key_pair", "kp", "success")


def test_another_sqlite_database_is_not_taken_over(tmp_path):
    other = str(tmp_path / "app.db")
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE users (name TEXT)")
    for use in (lambda audit: audit.ensure_writable(), lambda audit: audit.query()):
        with pytest.raises(AuditError, match="is an SQLite database but not an audit store: it holds the table"
                                             r"\(s\) users and no audit_records"):
            use(AuditTrail(other))
    assert AuditTrail(other).verify()["valid"] is False
    with sqlite3.connect(other) as connection:
        assert [row[0] for row in connection.execute("SELECT name FROM sqlite_master")] == ["users"]


# The records table of older schema versions: only its status CHECK differs.
OLD_TABLES = {1: "status IN ('success', 'failure')", 2: "status IN ('success', 'not_found', 'failure')"}
OLD_TABLE = """CREATE TABLE audit_records (
    record_id INTEGER PRIMARY KEY, operation_id TEXT NOT NULL, timestamp TEXT NOT NULL,
    operation TEXT NOT NULL, entity_type TEXT, entity_id TEXT,
    status TEXT NOT NULL CHECK (%s), details TEXT NOT NULL,
    kms_url TEXT, user TEXT, host TEXT, playbook TEXT, task TEXT, prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL)"""


@pytest.mark.parametrize("version", sorted(OLD_TABLES))
def test_an_older_store_is_migrated_by_its_next_writer(tmp_path, version):
    """Version 1 stores were written before not_found existed (their status CHECK refused it);
    version 2 ones checked the status with IN, which SQLite evaluated slowly."""
    written, old = str(tmp_path / "written.db"), str(tmp_path / "old.db")
    with AuditTrail(written) as audit:
        fill(audit, 3)
    with sqlite3.connect(old) as connection:
        connection.execute(OLD_TABLE % OLD_TABLES[version])
        connection.execute("CREATE INDEX audit_records_entity ON audit_records (entity_id)")
        connection.executemany("INSERT INTO audit_records VALUES (%s)" % ", ".join("?" * len(RECORD_FIELDS)),
                               [tuple(row[f] for f in RECORD_FIELDS) for row in rows(written)])
        connection.execute("PRAGMA user_version = %d" % version)
    before = rows(old)
    assert AuditTrail(old).verify()["valid"] and len(AuditTrail(old).query()) == 3  # readers do not migrate
    with sqlite3.connect(old) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == version

    with AuditTrail(old) as audit:
        audit.record("kms.get_attributes", "key_pair", "kp", "not_found", {"reason": "Object_Not_Found"})
    assert rows(old)[:3] == before
    assert AuditTrail(old).verify() == dict(AuditTrail(old).verify(), valid=True, records=4, problem=None)
    with sqlite3.connect(old) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))
        assert indexes == ["audit_records_operation_id", "audit_records_timestamp"]
        table = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'audit_records'").fetchone()[0]
        assert " IN " not in table
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute("UPDATE audit_records SET status = 'ok' WHERE record_id = 1")


def test_the_entity_index_of_an_older_store_is_dropped_by_its_next_writer(tmp_path):
    """Stores made before 2026-12-03 index entity_id, which cost a group commit more than all
    the rest of its inserts: their next writer drops the index, and the store stays version 3
    (older writers never look for it) with its records, chain and entity filter unchanged."""
    store = str(tmp_path / "audit.db")
    with AuditTrail(store) as audit:
        fill(audit, 3)
    with sqlite3.connect(store) as connection:
        connection.execute("CREATE INDEX audit_records_entity ON audit_records (entity_id)")
    before = rows(store)
    assert [r["entity_id"] for r in AuditTrail(store).query(entity_id=before[1]["entity_id"])] == [before[1]["entity_id"]]
    with AuditTrail(store) as audit:
        audit.record("kms.get_attributes", "key_pair", before[1]["entity_id"], "success", {"result": {}})
    with sqlite3.connect(store) as connection:
        indexes = sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert indexes == ["audit_records_operation_id", "audit_records_timestamp"]
    assert rows(store)[:3] == before
    assert AuditTrail(store).verify() == dict(AuditTrail(store).verify(), valid=True, records=4, problem=None)
    found = AuditTrail(store).query(entity_id=before[1]["entity_id"])
    assert [r["record_id"] for r in found] == [4, before[1]["record_id"]]


def test_a_store_on_a_read_only_file_system_is_read_as_immutable(tmp_path, monkeypatch):
    """SQLite cannot create the WAL index of a store on a read-only mount ("unable to open
    database file"): a store closed cleanly there is opened as immutable. (The mount is
    simulated; the odd characters check the URI quoting.)"""
    store = str(tmp_path / "archive #1?%20" / "audit.db")
    with AuditTrail(store) as audit:
        fill(audit, 3)
    assert not os.path.exists(store + "-wal")
    monkeypatch.setattr(audit_reader, "_on_read_only_file_system", lambda path: True)
    with AuditTrail(store) as reader:
        assert reader.verify()["valid"] and reader.verify()["records"] == 3
        assert len(reader.query()) == 3 and reader.summary()["total"] == 3


def test_readers_never_create_the_store(store):
    audit = AuditTrail(store)
    assert audit.query() == [] and audit.summary()["total"] == 0 and audit.verify()["records"] == 0
    assert not os.path.exists(os.path.dirname(store))


# -- query, summary, export ------------------------------------------------------------------

@pytest.fixture
def timed(trail, store):
    """Six records, one per hour of 2026-11-28 from 10:00Z (set in the file; queries do not verify)."""
    fill(trail)
    for record_id in range(1, 7):
        tamper(store, "UPDATE audit_records SET timestamp = ? WHERE record_id = ?",
               ("2026-11-28T%02d:00:00.000Z" % (9 + record_id), record_id))
    return trail


def ids(records):
    return [r["record_id"] for r in records]


@pytest.mark.parametrize("filters, expected", [
    ({}, [6, 5, 4, 3, 2, 1]),
    ({"newest_first": False}, [1, 2, 3, 4, 5, 6]),
    ({"limit": 2}, [6, 5]),
    ({"limit": 2, "newest_first": False}, [1, 2]),
    ({"limit": 0}, [6, 5, 4, 3, 2, 1]),
    ({"limit": None}, [6, 5, 4, 3, 2, 1]),
    ({"operation": "kms.get_attributes"}, [6, 4, 2]),
    ({"entity_id": "kp-0"}, [5, 3, 1]),
    ({"entity_type": "certificate"}, []),
    ({"status": "failure"}, [6, 3]),
    ({"status": "failure", "operation": "kms.create_key_pair"}, [3]),
    ({"since": "2026-11-28T12:00:00Z"}, [6, 5, 4, 3]),
    ({"until": "2026-11-28T12:00:00Z"}, [2, 1]),
    ({"since": "2026-11-28T11:30", "until": "2026-11-28T13:00:00.000Z"}, [3]),
    ({"since": "2026-11-28T13:00:00+02:00"}, [6, 5, 4, 3, 2]),
    ({"since": "2026-11-28T08:00:00-05:00"}, [6, 5, 4]),
    ({"since": "2026-11-28 14:00:00.5"}, [6]),
    ({"until": "2026-11-28"}, []),
    ({"since": "2026-11-28", "until": "2026-11-29"}, [6, 5, 4, 3, 2, 1]),
])
def test_query_filters(timed, filters, expected):
    assert ids(timed.query(**filters)) == expected


def test_query_by_operation_id(timed):
    assert ids(timed.query(operation_id=timed.operation_id, limit=3)) == [6, 5, 4]
    assert timed.query(operation_id="another-run") == []


@pytest.mark.parametrize("since, fragment", [
    ("yesterday", "since must be an ISO 8601 date or time"),
    ("2026-13-01", "since is not a valid date or time"),
    ("28/11/2026", "since must be an ISO 8601"),
])
def test_bad_times_are_refused(timed, since, fragment):
    with pytest.raises(AuditError, match=fragment):
        timed.query(since=since)


def test_negative_limit_is_refused(timed):
    with pytest.raises(AuditError, match="limit must be 0"):
        timed.query(limit=-1)


def test_summary_counts_per_operation_and_status(timed):
    summary = timed.summary()
    assert summary["operations"] == {
        "kms.create_key_pair": {"success": 2, "not_found": 0, "failure": 1, "total": 3},
        "kms.get_attributes": {"success": 2, "not_found": 0, "failure": 1, "total": 3}}
    assert (summary["total"], summary["success"], summary["not_found"], summary["failure"]) == (6, 4, 0, 2)
    assert (summary["first"], summary["last"]) == ("2026-11-28T10:00:00.000Z", "2026-11-28T15:00:00.000Z")
    assert summary["table"] == [
        "operation            success  not_found  failure    total",
        "kms.create_key_pair        2          0        1        3",
        "kms.get_attributes         2          0        1        3",
        "all operations             4          0        2        6"]


def test_summary_tells_absences_from_failures(trail):
    """Defect 8: existence checks that found nothing are not counted as failures."""
    for status in ("not_found", "success", "not_found", "success", "failure"):
        trail.record("kms.get_attributes" if status != "success" else "kms.create_key_pair", "key_pair", "kp",
                     status, {"reason": "Object_Not_Found"} if status == "not_found" else {})
    summary = trail.summary()
    assert (summary["total"], summary["success"], summary["not_found"], summary["failure"]) == (5, 2, 2, 1)
    assert summary["operations"]["kms.get_attributes"] == {"success": 0, "not_found": 2, "failure": 1, "total": 3}
    assert summary["table"][-1] == "all operations             2          2        1        5"
    assert trail.summary(status="not_found")["total"] == 2


def test_summary_filters(timed):
    summary = timed.summary(status="failure", since="2026-11-28T13:00:00Z")
    assert summary["operations"] == {"kms.get_attributes": {"success": 0, "not_found": 0, "failure": 1, "total": 1}}
    assert summary["total"] == 1 and summary["first"] == summary["last"] == "2026-11-28T15:00:00.000Z"
    with pytest.raises(TypeError, match="unknown audit filter"):
        timed.summary(limit=3)


def test_summary_of_nothing(store):
    summary = AuditTrail(store).summary()
    assert summary["total"] == 0 and summary["operations"] == {} and summary["first"] is None
    assert summary["table"] == ["operation       success  not_found  failure    total",
                                "all operations        0          0        0        0"]


def test_export_jsonl_in_chain_order(trail, tmp_path):
    fill(trail)
    dest = str(tmp_path / "export.jsonl")
    assert trail.export(dest) == 6
    with open(dest) as handle:
        assert [json.loads(line) for line in handle] == trail.query(newest_first=False)
    assert trail.export(dest, operation="kms.get_attributes") == 3
    with open(dest) as handle:
        assert [json.loads(line)["record_id"] for line in handle] == [2, 4, 6]


def test_export_creates_a_private_file(trail, tmp_path, umask_022):
    fill(trail, 1)
    dest = str(tmp_path / "export.jsonl")
    trail.export(dest)
    assert mode(dest) == 0o600


def test_export_csv(trail, tmp_path):
    fill(trail, 3)
    trail.record("kms.get", "certificate", "clé", "success", {"note": "a,b\n\"c\""})
    dest = str(tmp_path / "export.csv")
    assert trail.export(dest, fmt="csv") == 4
    with open(dest, newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    expected = trail.query(newest_first=False)
    assert [tuple(row) for row in exported] == [RECORD_FIELDS] * 4
    for row, record in zip(exported, expected):
        assert json.loads(row["details"]) == record["details"]
        assert row["record_id"] == str(record["record_id"]) and row["entity_id"] == record["entity_id"]
        assert row["playbook"] == "" and row["hash"] == record["hash"]


def test_export_refuses_unknown_formats_and_filters(trail, tmp_path):
    with pytest.raises(AuditError, match="export format must be one of jsonl, csv"):
        trail.export(str(tmp_path / "x"), fmt="xml")
    with pytest.raises(TypeError, match="unknown audit filter"):
        trail.export(str(tmp_path / "x"), newest_first=True)
    with pytest.raises(AuditError, match="cannot export the audit trail to"):
        trail.export(str(tmp_path / "missing" / "x"))


# -- group commit ----------------------------------------------------------------------------

def entries(count=6):
    """``fill``'s records as ``record_many`` entries."""
    made = []
    for index in range(count):
        failed = index % 3 == 2
        made.append(dict(operation="kms.create_key_pair" if index % 2 == 0 else "kms.get_attributes",
                         entity_type="key_pair", entity_id="kp-%d" % (index % 2),
                         status="failure" if failed else "success",
                         details={"reason": "Item_Not_Found", "message": "no such key"} if failed else {"index": index}))
    return made


def transactions(trail):
    """The write transactions ``trail``'s connection runs from now on: a list of
    [statement, ...] from each BEGIN to its COMMIT or ROLLBACK."""
    trail.ensure_writable()
    seen = []

    def trace(statement):
        if statement.startswith("BEGIN"):
            seen.append([])
        if seen:
            seen[-1].append(statement.split()[0])
    trail._connection.set_trace_callback(trace)
    return seen


@pytest.fixture
def fixed_clock(monkeypatch):
    """Every record gets the same timestamp, so that two stores can be compared hash for hash."""
    monkeypatch.setattr(audit_writer, "format_timestamp", lambda moment: "2026-12-02T12:00:00.000Z")


@pytest.mark.parametrize("how", ["grouped", "record_many"])
def test_grouped_records_are_the_records_appended_one_by_one(tmp_path, fixed_clock, how):
    stores = {}
    for way in ("single", how):
        store, mirror = str(tmp_path / way / "audit.db"), str(tmp_path / way / "audit.jsonl")
        with AuditTrail(store, jsonl_path=mirror, operation_id="run-1", context={"task": "t"}) as audit:
            audit.record("kms.query", None, None, "success")  # the group continues an existing chain
            if way == "single":
                returned = [audit.record(**entry) for entry in entries()]
            elif way == "grouped":
                with audit.grouped() as group:
                    assert [audit.record(**entry) for entry in entries()] == [None] * 6
                returned = group.records
            else:
                returned = audit.record_many(entries())
            assert audit.verify() == dict(audit.verify(), valid=True, records=7)
            assert returned == audit.query(newest_first=False)[1:]
        with open(mirror) as handle:
            stores[way] = (rows(store), handle.read())
    assert stores[how] == stores["single"]
    assert [json.loads(line) for line in stores[how][1].splitlines()] == [
        dict(row, details=json.loads(row["details"])) for row in stores[how][0]]


def test_a_group_is_one_transaction_and_single_records_one_each(trail):
    seen = transactions(trail)
    trail.record("kms.get", "key_pair", "kp", "success")
    with trail.grouped():
        for entry in entries(5):
            trail.record(**entry)
        assert seen[1:] == []  # nothing written before the exit
    trail.record_many(entries(3))
    trail.record("kms.get", "key_pair", "kp", "success")
    assert [statements.count("INSERT") for statements in seen] == [1, 5, 3, 1]
    assert all(statements[0] == "BEGIN" and statements[-1] == "COMMIT" for statements in seen)
    assert trail.verify() == dict(trail.verify(), valid=True, records=10)


def test_an_empty_group_writes_nothing(trail):
    seen = transactions(trail)
    with trail.grouped() as group:
        pass
    assert trail.record_many([]) == [] and group.records == [] and seen == []


def test_mirror_lines_of_a_group_are_written_after_its_commit(tmp_path, store, monkeypatch):
    mirror = str(tmp_path / "audit.jsonl")
    audit = AuditTrail(store, jsonl_path=mirror)
    written = []

    def append_line(descriptor, line):
        # Another connection sees the whole group committed before any of its lines is written.
        assert not audit._connection.in_transaction
        assert len(AuditTrail(store).query(limit=0)) == line.count("\n") + 1 + len(written)
        written.extend(line.split("\n"))
        original(descriptor, line)
    original = audit_writer._append_line
    monkeypatch.setattr(audit_writer, "_append_line", append_line)
    audit.record("kms.get", "key_pair", "kp", "success")
    with audit.grouped():
        for entry in entries(4):
            audit.record(**entry)
    with open(mirror) as handle:
        lines = handle.read().splitlines()
    assert lines == written and [json.loads(line) for line in lines] == audit.query(newest_first=False)


def refuse_entity(store, entity_id):
    """A trigger that makes SQLite refuse the insert of a record about ``entity_id``: a write
    that fails in the middle of a group, after the records before it were inserted."""
    tamper(store, "CREATE TRIGGER refuse BEFORE INSERT ON audit_records WHEN NEW.entity_id = '%s' "
                  "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END" % entity_id)


@pytest.mark.parametrize("how", ["grouped", "record_many"])
def test_a_failure_in_the_middle_of_a_group_stores_nothing_of_it(tmp_path, store, how):
    mirror = str(tmp_path / "audit.jsonl")
    audit = AuditTrail(store, jsonl_path=mirror)
    audit.record("kms.get", "key_pair", "kp", "success")
    refuse_entity(store, "poison")
    group = [dict(operation="kms.get", entity_type="key_pair", entity_id=name, status="success")
             for name in ("a", "b", "poison", "c")] + [dict(operation="kms.destroy", entity_type="key_pair",
                                                            entity_id="d", status="success")]
    message = (r"^cannot write the 5 audit records of kms.get x4, kms.destroy \(all 5 lost: none is stored\) "
               r"to %s \(mirror %s\): .*refused by the test" % (re.escape(store), re.escape(mirror)))
    with pytest.raises(AuditError, match=message):
        if how == "grouped":
            with audit.grouped():
                for entry in group:
                    audit.record(**entry)
        else:
            audit.record_many(group)
    assert [r["entity_id"] for r in audit.query()] == ["kp"]
    with open(mirror) as handle:
        assert [json.loads(line) for line in handle] == audit.query()
    tamper(store, "DROP TRIGGER refuse")
    assert audit.record_many(group)[0]["record_id"] == 2  # the chain goes on from the last stored record
    assert audit.verify() == dict(audit.verify(), valid=True, records=6)


def test_a_bad_entry_refuses_the_group_before_anything_is_written(trail):
    with pytest.raises(AuditError, match="status must be one of"):
        trail.record_many(entries(2) + [dict(operation="kms.get", entity_type="key_pair", entity_id="x",
                                             status="maybe")])
    assert trail.query() == []


def test_a_group_is_written_when_its_block_raises(trail):
    with pytest.raises(RuntimeError, match="the batch's request failed"):
        with trail.grouped() as group:
            trail.record("kms.get", "key_pair", "kp", "failure")
            raise RuntimeError("the batch's request failed")
    assert [r["record_id"] for r in group.records] == [1] and len(trail.query()) == 1


def test_a_nested_group_joins_the_outer_one(trail):
    seen = transactions(trail)
    with trail.grouped() as outer:
        trail.record("kms.get", "key_pair", "a", "success")
        with trail.grouped() as inner:
            trail.record("kms.get", "key_pair", "b", "success")
            trail.record_many(entries(2))
        assert inner.records == [] and seen == []
    assert [r["record_id"] for r in outer.records] == [1, 2, 3, 4] and len(seen) == 1


def test_a_group_whose_mirror_fails_is_reported_with_its_stored_records(store):
    with AuditTrail(store, jsonl_path="/dev/full") as audit:
        audit.ensure_writable()
        with pytest.raises(AuditMirrorError) as raised:
            audit.record_many(entries(3))
    message = str(raised.value)
    assert message.startswith("audit records 1 to 3 (kms.create_key_pair x2, kms.get_attributes) are in the audit "
                              "store %s, but their 3 lines could not be appended to the JSON-lines mirror /dev/full, "
                              "which now lacks them" % store), message
    assert raised.value.records == AuditTrail(store).query(newest_first=False)
    assert raised.value.record == raised.value.records[0]


def test_a_new_operation_id_is_a_random_uuid_as_uuid4_writes_it():
    """Made without importing uuid (a task's import cost), read back by uuid as version 4."""
    made = [audit_writer._random_uuid() for dummy in range(200)]
    assert len(set(made)) == 200
    for text in made:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)
