# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Single-process append rate of the audit trail, next to plain baselines run alongside,
so that the cost of the hash chain, WAL with full sync and the locking is visible; and the
rate of group commit (the records of one batched KMS call in one transaction).

    python benchmarks/audit_append.py [-n RECORDS] [-g GROUP] [--query RECORDS] [--kms [-b BATCH] [-r ROUNDS]]

Each variant writes RECORDS records of the same shape, into its own temporary directory:
one transaction (or one write) per record, as single calls do, or one per GROUP records, as
a batched call does. With ``--kms`` it also starts a Cosmian KMS (the cached build, as
batch_vs_single.py does) and times a batch of BATCH GetAttributes without an audit trail,
audited with one transaction per record, and audited with group commit (median of ROUNDS).
With ``--query`` it times what the entity_id filter of kms_audit costs on a store of that
many records, without the entity_id index the store had before 2026-12-03 and with it.
"""

from __future__ import absolute_import, division, print_function

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import sqlite3
import statistics
import sys
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


OBJECTS = 100


def add_entity_index(path):
    """Give the store at ``path`` the entity_id index that stores had before 2026-12-03 (a
    writer that has already prepared its schema leaves it there)."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE INDEX audit_records_entity ON audit_records (entity_id)")


def details(index):
    return {"result": {"private_key_id": "key-%d" % index, "public_key_id": "pub-%d" % index, "state": "Active"}}


def audit_trail(audit, folder, count, mirror=False, group=None, entity_index=False):
    """One transaction per record, or with ``group`` one per ``group`` records (grouped()).
    The records name OBJECTS objects in turn, as tasks that ensure the same objects every
    run do. ``entity_index``: the store as made before 2026-12-03, with an index of entity_id
    (the baseline of dropping it)."""
    jsonl = os.path.join(folder, "audit.jsonl") if mirror else None
    with audit.AuditTrail(os.path.join(folder, "audit.db"), jsonl_path=jsonl,
                          context={"kms_url": "http://127.0.0.1:9998"}) as trail:
        trail.ensure_writable()
        if entity_index:
            add_entity_index(trail.path)
        for first in range(0, count, group or 1):
            with trail.grouped() if group else contextlib.nullcontext():
                for index in range(first, min(first + (group or 1), count)):
                    trail.record("kms.create_key_pair", "key_pair", "key-%d" % (index % OBJECTS), "success",
                                 details(index))


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


def batched_call_cost(batch, rounds):
    """Median wall time of one batch of ``batch`` GetAttributes: unaudited, audited with one
    transaction per record (an observer without ``batch()``), audited with group commit."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(root, "tests", "helpers"))
    from kms_server import KmsServer, cleanup  # pylint: disable=import-outside-toplevel
    from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops  # pylint: disable=import-outside-toplevel
    from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail  # pylint: disable=import-outside-toplevel
    from ansible_collections.pkimanager.kms.plugins.module_utils.audited_client import AuditRecorder  # pylint: disable=import-outside-toplevel
    from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient  # pylint: disable=import-outside-toplevel
    from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport  # pylint: disable=import-outside-toplevel

    folder = tempfile.mkdtemp(prefix="audit-bench-kms-")
    server = KmsServer(folder).start()
    try:
        transport = KmsTransport(server.url, timeout=120)
        names = ["audit-bench-%03d" % index for index in range(batch)]
        KmsClient(transport).batch([ops.create_symmetric_key(unique_identifier=name) for name in names])
        trail = AuditTrail(os.path.join(folder, "audit.db"), jsonl_path=os.path.join(folder, "audit.jsonl"),
                           context={"kms_url": server.url})
        trail.ensure_writable()
        recorder = AuditRecorder(trail, server.url)
        clients = [
            ("no audit trail (the batch's round trip)", KmsClient(transport)),
            # The bound method has no batch(): the client then audits one record per transaction.
            ("audited, one transaction per record", KmsClient(transport, observer=recorder.__call__)),
            ("audited, group commit (one transaction)", KmsClient(transport, observer=recorder)),
        ]
        samples = dict((name, []) for name, _client in clients)
        for _round in range(rounds + 1):  # round robin, the first round a warm-up
            for name, client in clients:
                started = time.perf_counter()
                results = client.batch([ops.get_attributes(key) for key in names])
                elapsed = time.perf_counter() - started
                assert all(result.ok for result in results)
                if _round:
                    samples[name].append(elapsed)
        assert trail.verify()["valid"]
        trail.close()
        return server.version(), [(name, statistics.median(samples[name])) for name, _client in clients]
    finally:
        server.stop()
        cleanup(folder)


def entity_queries(audit, count, objects=5000, rounds=5):
    """What a filter on entity_id costs a reader of a store of ``count`` records naming
    ``objects`` objects, without the entity_id index (the store now) and with it (before):
    median seconds of kms_audit's query (the newest 100) and summary of one object."""
    folder = tempfile.mkdtemp(prefix="audit-bench-query-")
    try:
        path = os.path.join(folder, "audit.db")
        with audit.AuditTrail(path, context={"kms_url": "http://127.0.0.1:9998"}) as trail:
            for first in range(0, count, 1000):
                trail.record_many([dict(operation="kms.get_attributes", entity_type="key_pair",
                                        entity_id="key-%d" % (index % objects), status="success", details=details(index))
                                   for index in range(first, min(first + 1000, count))])
        wanted = "key-%d" % (objects // 2)
        results = []
        for indexed in (False, True):
            if indexed:
                add_entity_index(path)
            reader = audit.AuditTrail(path)
            for name, read in (("query(entity_id=...), newest 100", lambda: reader.query(entity_id=wanted)),
                               ("summary(entity_id=...)", lambda: reader.summary(entity_id=wanted))):
                times = []
                for _round in range(rounds + 1):  # the first one warms the page cache
                    started = time.perf_counter()
                    read()
                    times.append(time.perf_counter() - started)
                results.append(("%s, %s" % (name, "entity_id indexed (before)" if indexed else "no index (now)"),
                                statistics.median(times[1:])))
            reader.close()
        return os.path.getsize(path), results
    finally:
        shutil.rmtree(folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("-n", "--records", type=int, default=2000, help="records per variant (default 2000)")
    parser.add_argument("-g", "--group", type=int, default=100, help="records per group commit (default 100)")
    parser.add_argument("--kms", action="store_true", help="also time a batched call with and without the trail")
    parser.add_argument("-b", "--batch", type=int, default=100, help="GetAttributes per batch with --kms (100)")
    parser.add_argument("-r", "--rounds", type=int, default=15, help="batches per variant with --kms (15)")
    parser.add_argument("--query", type=int, metavar="RECORDS", default=0,
                        help="also time kms_audit's entity_id filter on a store of RECORDS records, "
                             "with and without the entity_id index")
    arguments = parser.parse_args()
    count, group = arguments.records, arguments.group
    audit = load_audit()
    results = [
        timed("AuditTrail.record (chain, WAL, synchronous=FULL)", lambda f, n: audit_trail(audit, f, n), count),
        timed("AuditTrail.record + JSON-lines mirror", lambda f, n: audit_trail(audit, f, n, mirror=True), count),
        timed("AuditTrail grouped(), %d records per transaction" % group,
              lambda f, n: audit_trail(audit, f, n, group=group), count),
        timed("AuditTrail grouped() + mirror, %d per transaction" % group,
              lambda f, n: audit_trail(audit, f, n, mirror=True, group=group), count),
        timed("baseline: grouped(), %d per transaction, entity_id indexed" % group,
              lambda f, n: audit_trail(audit, f, n, group=group, entity_index=True), count),
        timed("baseline: AuditTrail.record, entity_id indexed", lambda f, n: audit_trail(audit, f, n, entity_index=True),
              count),
        timed("baseline: plain SQLite, WAL, synchronous=FULL", lambda f, n: plain_sqlite(f, n, wal=True), count),
        timed("baseline: plain SQLite, default rollback journal", plain_sqlite, count),
        timed("baseline: JSON-lines append per record", jsonl_append, count),
    ]
    reference = results[0][1]
    print("%d records per variant, SQLite %s" % (count, sqlite3.sqlite_version))
    print("%-58s %12s %12s %10s" % ("variant", "records/s", "us/record", "vs audit"))
    for name, rate, micros in results:
        print("%-58s %12.0f %12.1f %9.2fx" % (name, rate, micros, rate / reference))
    if arguments.query:
        size, costs = entity_queries(audit, arguments.query)
        print("\nReading one object's records from a store of %d records (%.0f MB), page cache warm" % (
            arguments.query, size / 1e6))
        for name, seconds in costs:
            print("%-66s %9.1f ms" % (name, seconds * 1000))
    if arguments.kms:
        version, costs = batched_call_cost(arguments.batch, arguments.rounds)
        base = costs[0][1]
        print("\nOne batch of %d GetAttributes on %s, median of %d rounds (mirror on)" % (
            arguments.batch, version, arguments.rounds))
        print("%-58s %12s %12s" % ("variant", "ms", "audit cost"))
        for name, seconds in costs:
            print("%-58s %12.1f %12s" % (name, seconds * 1000, "-" if seconds is base else "%+.1f ms (%+.0f %%)" % (
                (seconds - base) * 1000, (seconds - base) * 100 / base)))


if __name__ == "__main__":
    main()
