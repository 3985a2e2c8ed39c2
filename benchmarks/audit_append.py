# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Single-process append rate of the audit trail, next to plain baselines run alongside,
so that the cost of the hash chain, WAL with full sync and the locking is visible.

    python benchmarks/audit_append.py [-n RECORDS]

Each variant writes RECORDS records of the same shape, one transaction (or one write)
per record, as modules do, into its own temporary directory.
"""

from __future__ import absolute_import, division, print_function

import argparse
import importlib.util
import json
import os
import shutil
import sqlite3
import tempfile
import time

AUDIT_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "plugins", "module_utils", "audit.py")


def load_audit():
    """The collection's audit.py from this checkout, without installing the collection."""
    spec = importlib.util.spec_from_file_location("pkimanager_kms_audit", AUDIT_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def details(index):
    return {"result": {"private_key_id": "key-%d" % index, "public_key_id": "pub-%d" % index, "state": "Active"}}


def audit_trail(audit, folder, count, mirror=False):
    jsonl = os.path.join(folder, "audit.jsonl") if mirror else None
    with audit.AuditTrail(os.path.join(folder, "audit.db"), jsonl_path=jsonl,
                          context={"kms_url": "http://127.0.0.1:9998"}) as trail:
        trail.ensure_writable()
        for index in range(count):
            trail.record("kms.create_key_pair", "key_pair", "key-%d" % index, "success", details(index))


def plain_sqlite(folder, count, wal=False):
    """Similar row, one insert per transaction; no chain, scrubbing or BEGIN IMMEDIATE.

    Default settings (rollback journal) or, with ``wal``, the store's WAL and full sync,
    which leaves the chain's own cost as the difference to AuditTrail.record.
    """
    connection = sqlite3.connect(os.path.join(folder, "plain.db"))
    if wal:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, timestamp TEXT, operation TEXT,"
                       " entity_id TEXT, status TEXT, details TEXT)")
    for index in range(count):
        with connection:
            connection.execute("INSERT INTO records (timestamp, operation, entity_id, status, details)"
                               " VALUES (strftime('%Y-%m-%dT%H:%M:%fZ'), ?, ?, ?, ?)",
                               ("kms.create_key_pair", "key-%d" % index, "success", json.dumps(details(index))))
    connection.close()


def jsonl_append(folder, count):
    """Open, append one line, close: what a naive log file per record costs (no fsync)."""
    path = os.path.join(folder, "plain.jsonl")
    for index in range(count):
        with open(path, "a") as handle:
            handle.write(json.dumps({"operation": "kms.create_key_pair", "entity_id": "key-%d" % index,
                                     "status": "success", "details": details(index)}) + "\n")


def timed(name, run, count):
    folder = tempfile.mkdtemp(prefix="audit-bench-")
    try:
        started = time.perf_counter()
        run(folder, count)
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(folder)
    return name, count / elapsed, elapsed * 1e6 / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("-n", "--records", type=int, default=2000, help="records per variant (default 2000)")
    count = parser.parse_args().records
    audit = load_audit()
    results = [
        timed("AuditTrail.record (chain, WAL, synchronous=FULL)", lambda f, n: audit_trail(audit, f, n), count),
        timed("AuditTrail.record + JSON-lines mirror", lambda f, n: audit_trail(audit, f, n, mirror=True), count),
        timed("baseline: plain SQLite, WAL, synchronous=FULL", lambda f, n: plain_sqlite(f, n, wal=True), count),
        timed("baseline: plain SQLite, default rollback journal", plain_sqlite, count),
        timed("baseline: JSON-lines append per record", jsonl_append, count),
    ]
    reference = results[0][1]
    print("%d records per variant, SQLite %s" % (count, sqlite3.sqlite_version))
    print("%-50s %12s %12s %10s" % ("variant", "records/s", "us/record", "vs audit"))
    for name, rate, micros in results:
        print("%-50s %12.0f %12.1f %9.2fx" % (name, rate, micros, rate / reference))


if __name__ == "__main__":
    main()
