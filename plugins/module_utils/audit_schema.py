# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit store's SQLite plumbing, shared by its reader (audit_reader.py) and its writer
(audit.py): the records table (its columns ``RECORD_FIELDS``, the ``STATUSES`` its CHECK
allows, its indexes), its creation and the migration of a version 1 store, the checks that a
store's schema version matches its content, the connection, write transactions, the
retries while another process holds the store, and the creation of private files and the
all-or-nothing append of lines (the JSON-lines mirror).

Apart from audit.py and audit_reader.py so that each file stays small enough to read (the
project keeps module_utils files under about 350 lines), and because none of it depends on
how a record is hashed, queried or written. ``AuditStore`` holds the connection;
``audit_reader.AuditReader`` extends it, ``audit.AuditTrail`` extends that. Every name a
caller needs is importable from audit.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import random
import sqlite3
import time

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import PkiManagerError

# not_found: a read (Get, GetAttributes, ...) answered that the object does not exist.
STATUSES = ("success", "not_found", "failure")
RECORD_FIELDS = ("record_id", "operation_id", "timestamp", "operation", "entity_type", "entity_id",
                 "status", "details", "kms_url", "user", "host", "playbook", "task", "prev_hash", "hash")

# 1: statuses success and failure; 2: not_found too; 3: the status CHECK written as equalities
# (``status IN (...)`` made SQLite build its list again for every row: 40 % of inserting a
# group). An older store is migrated by its next writer, records and hashes unchanged.
SCHEMA_VERSION = 3
TABLE = "audit_records"
BUSY_TIMEOUT = 30.0

_TABLE_SQL = """CREATE TABLE %%s (
        record_id INTEGER PRIMARY KEY,
        operation_id TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        operation TEXT NOT NULL,
        entity_type TEXT,
        entity_id TEXT,
        status TEXT NOT NULL CHECK (%s),
        details TEXT NOT NULL,
        kms_url TEXT,
        user TEXT,
        host TEXT,
        playbook TEXT,
        task TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL)""" % " OR ".join("status = '%s'" % status for status in STATUSES)
# The records of a run share their operation_id, and those of a group their timestamp, so
# each of these indexes takes a group's entries on one or two pages. An index of entity_id
# (which stores made before 2026-12-03 have) takes nearly every record of a group on a page
# of its own: a group of 100 records cost ~0.8 ms more with it (48 vs 40 us per record,
# benchmarks/audit_append.py). Writers drop it (_RETIRED_INDEXES); the entity_id filter of
# kms_audit scans the records instead: ~36 ms for a query in 200,000 records (--query).
_INDEXES = (
    "CREATE INDEX audit_records_operation_id ON audit_records (operation_id)",
    "CREATE INDEX audit_records_timestamp ON audit_records (timestamp)",
)
_RETIRED_INDEXES = ("audit_records_entity",)


class AuditError(PkiManagerError):
    """The audit store could not be opened, written or read; the message names the path."""


class AuditStore:
    """The SQLite store at ``path``: its connection, its schema and its write transactions."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self._connection is not None:
            try:
                self._connection.close()
            except sqlite3.Error:
                pass  # nothing is left uncommitted: every write commits or rolls back at once
            self._connection = None

    def _connect(self):
        self._connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        # Each record is a decision someone may have to account for: make commits durable.
        self._connection.execute("PRAGMA synchronous = FULL")

    def _schema_version(self, connection):
        """The store's schema version, 0 for a new store; AuditError when it is damaged or newer."""
        version, problem = self._schema_state(connection)
        if problem:
            raise AuditError(problem)
        return version

    def _schema_state(self, connection):
        """(version, problem): ``problem`` says, naming the store, why its schema version
        cannot be trusted, or is None. A reset version must not make a store with records
        read as a new, empty one (and be written over)."""
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            return version, ("audit store %s has schema version %d; this collection knows up to %d"
                             % (self.path, version, SCHEMA_VERSION))
        tables = sorted(name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        if version == 0 and TABLE in tables:
            return version, ("audit store %s is damaged: its schema version (PRAGMA user_version) is 0, as for "
                             "a new store, but it holds the %s table; the version was reset, by tampering or "
                             "a broken tool. It is neither read as empty nor written to (kms_audit action=verify "
                             "still checks its records)" % (self.path, TABLE))
        if version == 0 and tables:
            return version, ("%s is an SQLite database but not an audit store: it holds the table(s) %s and no %s"
                             % (self.path, ", ".join(tables), TABLE))
        if version > 0 and TABLE not in tables:
            return version, ("audit store %s is damaged: it has schema version %d but no %s table (the records "
                             "were dropped)" % (self.path, version, TABLE))
        return version, None

    @staticmethod
    def _has_table(connection):
        return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                  (TABLE,)).fetchone() is not None

    def _prepare_schema(self, connection):
        version = self._schema_version(connection)
        if version == 0:
            connection.execute(_TABLE_SQL % TABLE)
            for statement in _INDEXES:
                connection.execute(statement)
        elif version < SCHEMA_VERSION:
            # The status CHECK constraint changed (see SCHEMA_VERSION). SQLite cannot alter a
            # constraint: copy the rows, as they are, into a new table, which takes the old one's place.
            connection.execute(_TABLE_SQL % "audit_records_new")
            connection.execute("INSERT INTO audit_records_new (%s) SELECT %s FROM audit_records"
                               % (", ".join(RECORD_FIELDS), ", ".join(RECORD_FIELDS)))
            connection.execute("DROP TABLE audit_records")
            connection.execute("ALTER TABLE audit_records_new RENAME TO audit_records")
            for statement in _INDEXES:
                connection.execute(statement)
        if version != SCHEMA_VERSION:
            connection.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
        for name in _RETIRED_INDEXES:  # not a schema change: older writers of version 3 never look for them
            connection.execute("DROP INDEX IF EXISTS %s" % name)

    def _in_write_transaction(self, work, commit=True):
        """Run ``work(connection)`` inside BEGIN IMMEDIATE, retrying while the store is locked.

        The write lock is taken before anything is read, so concurrent writers append one
        after the other and the chain stays linear. When COMMIT fails (a full disk), the
        transaction is rolled back and the COMMIT's error raised.
        """
        self._execute_when_free("BEGIN IMMEDIATE")
        try:
            result = work(self._connection)
            self._connection.execute("COMMIT" if commit else "ROLLBACK")
            return result
        finally:
            if self._connection.in_transaction:
                try:
                    self._connection.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the error being raised says more than this one

    def _execute_when_free(self, statement):
        """Execute ``statement``, retrying with jittered backoff while another process holds
        the store. SQLite's own busy timeout does not cover every case: switching a new store
        to WAL answers "database is locked" at once when forks open it together."""
        return when_free(lambda: self._connection.execute(statement),
                         lambda exc: isinstance(exc, sqlite3.OperationalError) and _is_busy(exc))


def _is_busy(error):
    message = str(error).lower()
    return "locked" in message or "busy" in message


def when_free(attempt, busy):
    """``attempt()``, retried with jittered backoff for BUSY_TIMEOUT seconds while
    ``busy(error)`` says another process holds what it needs."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    delay = 0.005
    while True:
        try:
            return attempt()
        except (OSError, sqlite3.Error) as exc:
            if not busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.25)


def open_private(path):
    """Open ``path`` for appending; a missing file is created 0600, a missing directory 0700."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        existing = directory
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing):
            # makedirs would only say "File exists"; name the file that is in the way.
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), existing)
        os.makedirs(directory, 0o700, exist_ok=True)
        os.chmod(directory, 0o700)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def append_line(descriptor, line):
    """Append ``line`` (a group's lines joined by newlines) and a newline in one write; on
    failure, cut off whatever part of it reached the file, so that the next line does not
    start in the middle of this one (and a group's lines are all there or none)."""
    data = (line + "\n").encode("ascii")
    size = os.fstat(descriptor).st_size
    try:
        written = os.write(descriptor, data)
        if written != len(data):
            raise OSError(errno.ENOSPC, "only %d of %d bytes could be written" % (written, len(data)))
    except OSError:
        try:
            os.ftruncate(descriptor, size)
        except OSError:
            pass  # a device such as /dev/full cannot be truncated, and holds nothing anyway
        raise
