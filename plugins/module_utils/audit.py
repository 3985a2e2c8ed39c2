# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local audit trail: one tamper-evident record per KMS operation, in SQLite.

Why a hash chain in a local SQLite file: the record must exist before the module goes on
(no KMS operation without a record), it must survive concurrent forks on one host, and an
edit, deletion or reordering of past records must be detectable later.

Public API::

    class AuditError(PkiManagerError)  # any failure to open, write or read the store
    class AuditMirrorError(AuditError)  # the record is stored, its JSON-lines mirror line is not
    class AuditTrail:
        __init__(path=None, jsonl_path=None, operation_id=None, context=None)
            # path None -> default_audit_path(); operation_id None -> a new uuid4;
            # context: optional user, host, playbook, task, kms_url (user and host
            # default to the effective user and this host's name)
        ensure_writable()            # create/open the store and prove it can be written
        record(operation, entity_type, entity_id, status, details=None, kms_url=None) -> dict
        query(operation=None, entity_type=None, entity_id=None, status=None,
              operation_id=None, since=None, until=None, limit=100, newest_first=True) -> [dict]
        verify() -> dict(valid, records, first_broken, last_record_id, last_hash, problem)
        summary(**filters) -> dict(total, success, not_found, failure, operations, first, last, table)
        export(dest, fmt="jsonl", **filters) -> number of rows written
        close()                      # also a context manager
    default_audit_path()             # $XDG_STATE_HOME or ~/.local/state, + pkimanager-kms/audit.db
    scrub(value), canonical_json(record), record_hash(record)

``filters`` are the keyword filters of ``query`` without ``limit`` and ``newest_first``;
``since`` is inclusive, ``until`` exclusive (ISO 8601, UTC when no offset is given).
Readers never create the store: a missing store reads as an empty one. A store whose
content contradicts its schema version (``PRAGMA user_version`` reset to 0 while the records
table exists, or a version without the table) is damaged: ``verify`` reports it as invalid
(``problem``), every other reader and the writer raise AuditError; nothing is re-created.

Record (``RECORD_FIELDS``, one SQLite row, one JSON-lines line): ``record_id`` (1, 2, ...
in chain order), ``operation_id``, ``timestamp`` (UTC, ``2026-11-28T12:00:00.123Z``),
``operation`` (``kms.create_key_pair``), ``entity_type``, ``entity_id``, ``status``
(``success``; ``not_found`` when a read such as Get or GetAttributes answered that the
object does not exist, as existence checks expect; ``failure`` for anything else that
failed), ``details`` (JSON object; ``reason`` and ``message`` unless ``success``),
``kms_url``, ``user``, ``host``, ``playbook``, ``task``, ``prev_hash`` and
``hash``. ``hash`` is the SHA-256 hex of ``canonical_json`` of every other field (sorted
keys, compact separators, ASCII), so anyone can check a JSON-lines line with ``json`` and
``hashlib`` alone; ``prev_hash`` is the previous record's hash, 64 zeros for the first.

Tamper evidence: ``verify`` finds edited records (hash), deleted ones (gap in record ids,
or a prev_hash that is not the predecessor's hash) and moved ones (prev_hash). A rewrite of
the whole chain from some record to the end cannot be detected from the store alone: keep
``last_hash`` of ``verify`` somewhere else to anchor it.

Nothing secret is recorded: before hashing, every value under a key that names a secret
(api_key, token, password, passphrase, secret, private_key, key_material, authorization,
client_key, credential, cookie; any case or separator, at any depth, but not names of
references such as ``private_key_id``) and every string holding a PEM private key block
becomes ``"<redacted>"``; so do bytes. The KMS URL is recorded without its user:password@
part (``redaction.safe_url``, the transport's scrubber).

The JSON-lines mirror gets a record's line only after the record is committed to the store,
under a lock on the mirror file that keeps its lines in chain order. If that write fails
(the record is then in the store, the authoritative copy), ``record`` raises
AuditMirrorError; the mirror then lacks that line, which the next line's ``prev_hash``
shows, and ``export`` can rewrite the mirror from the store.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import errno
import fcntl
import functools
import hashlib
import json
import math
import os
import pwd
import random
import re
import socket
import sqlite3
import time
import uuid

from urllib.parse import quote

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import PkiManagerError
from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import safe_url

GENESIS_HASH = "0" * 64
REDACTED = "<redacted>"
# not_found: a read (Get, GetAttributes, ...) answered that the object does not exist.
STATUSES = ("success", "not_found", "failure")
RECORD_FIELDS = ("record_id", "operation_id", "timestamp", "operation", "entity_type", "entity_id",
                 "status", "details", "kms_url", "user", "host", "playbook", "task", "prev_hash", "hash")
CONTEXT_FIELDS = ("user", "host", "playbook", "task", "kms_url")
FILTER_COLUMNS = ("operation", "entity_type", "entity_id", "status", "operation_id")
EXPORT_FORMATS = ("jsonl", "csv")

# 1: statuses success and failure; 2: not_found too (a version 1 store is migrated by its
# next writer, records and hashes unchanged).
SCHEMA_VERSION = 2
TABLE = "audit_records"
BUSY_TIMEOUT = 30.0

_TABLE_SQL = """CREATE TABLE %%s (
        record_id INTEGER PRIMARY KEY,
        operation_id TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        operation TEXT NOT NULL,
        entity_type TEXT,
        entity_id TEXT,
        status TEXT NOT NULL CHECK (status IN (%s)),
        details TEXT NOT NULL,
        kms_url TEXT,
        user TEXT,
        host TEXT,
        playbook TEXT,
        task TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL)""" % ", ".join("'%s'" % status for status in STATUSES)
_INDEXES = (
    "CREATE INDEX audit_records_entity ON audit_records (entity_id)",
    "CREATE INDEX audit_records_operation_id ON audit_records (operation_id)",
    "CREATE INDEX audit_records_timestamp ON audit_records (timestamp)",
)

_SECRET_NAME = re.compile(
    r"(?:^|_)(?:api_?key|access_?key|token|pass_?word|passwd|pass_?phrase|secret|private_?key|"
    r"key_?material|authori[sz]ation|client_?key|credential|cookie|bearer)s?(?:_|$)")
_CAMEL_CASE = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_REFERENCE_NAME = re.compile(r"_(?:id|ids|uid|uuid|identifier|link|links|fingerprint)$")
_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_ISO_8601 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


class AuditError(PkiManagerError):
    """The audit store could not be opened, written or read; the message names the path."""


class AuditMirrorError(AuditError):
    """``record`` is committed to the store, but its line could not be added to the mirror."""

    def __init__(self, message, record):
        super(AuditMirrorError, self).__init__(message)
        self.record = record


def default_audit_path():
    """The per-user store, in the XDG state directory (a relative XDG_STATE_HOME is ignored)."""
    state_home = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state_home):
        state_home = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state_home, "pkimanager-kms", "audit.db")


@functools.lru_cache(maxsize=1024)
def _is_secret_name(name):
    """Cached: the same few key names come back in every record."""
    words = _CAMEL_CASE.sub(r"\1_\2", name).lower()
    words = _SEPARATORS.sub("_", words).strip("_")
    return bool(_SECRET_NAME.search(words)) and not _REFERENCE_NAME.search(words)


def scrub(value):
    """A JSON-safe copy of ``value`` in which nothing secret is left (see the module doc)."""
    if isinstance(value, dict):
        return dict((str(key), REDACTED if _is_secret_name(str(key)) else scrub(item))
                    for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return REDACTED if _PEM_PRIVATE_KEY.search(value) else value
    if isinstance(value, (bytes, bytearray)):
        return REDACTED
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return scrub(str(value))


def canonical_json(record):
    """The one serialisation that is hashed, mirrored and exported."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def record_hash(record):
    """SHA-256 hex of every field of ``record`` but ``hash``."""
    content = dict((key, value) for key, value in record.items() if key != "hash")
    return hashlib.sha256(canonical_json(content).encode("ascii")).hexdigest()


def _format_timestamp(moment):
    moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def _parse_timestamp(name, value):
    """``value`` (ISO 8601 text or datetime) as a stored timestamp, comparable as text."""
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        match = _ISO_8601.match(str(value).strip())
        if not match:
            raise AuditError("%s must be an ISO 8601 date or time such as 2026-11-28T12:00:00Z, got %r"
                             % (name, value))
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        try:
            moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                                       int(second or 0), int((fraction or "0")[:6].ljust(6, "0")),
                                       tzinfo=_parse_offset(offset))
        except ValueError as exc:
            raise AuditError("%s is not a valid date or time (%s), got %r" % (name, exc, value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return _format_timestamp(moment)


def _parse_offset(offset):
    if not offset or offset.upper() == "Z":
        return datetime.timezone.utc
    digits = offset[1:].replace(":", "")
    delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return datetime.timezone(-delta if offset[0] == "-" else delta)


def _is_busy(error):
    message = str(error).lower()
    return "locked" in message or "busy" in message


def _current_user():
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _open_private(path):
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


class AuditTrail:
    """The audit store of one module run: its writer (one operation id) and its readers."""

    def __init__(self, path=None, jsonl_path=None, operation_id=None, context=None):
        unknown = sorted(set(context or {}) - set(CONTEXT_FIELDS))
        if unknown:
            raise ValueError("unknown audit context field(s) %s; known: %s"
                             % (", ".join(unknown), ", ".join(CONTEXT_FIELDS)))
        self.path = os.path.abspath(os.path.expanduser(path or default_audit_path()))
        self.jsonl_path = os.path.abspath(os.path.expanduser(jsonl_path)) if jsonl_path else None
        self.operation_id = str(operation_id or uuid.uuid4())
        self.context = dict((field, None) for field in CONTEXT_FIELDS)
        self.context.update(user=_current_user(), host=socket.gethostname())
        self.context.update(context or {})
        self._connection = None
        self._schema_ready = False

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
            self._schema_ready = False

    # -- writing -------------------------------------------------------------------------

    def ensure_writable(self):
        """Create or open the store (and the mirror) and prove a record can be written.

        Modules call it before their first KMS call, so that no operation runs that could
        not be recorded. Raises AuditError naming the path and the cause.
        """
        try:
            self._open_for_writing()
            self._in_write_transaction(lambda connection: None, commit=False)
            if self.jsonl_path:
                os.close(_open_private(self.jsonl_path))
        except (OSError, sqlite3.Error) as exc:
            raise AuditError("audit store %s is not writable: %s" % (self._paths(), _cause(exc)))

    def record(self, operation, entity_type, entity_id, status, details=None, kms_url=None):
        """Append one record (and its mirror line); returns it as stored.

        AuditError when nothing was stored; AuditMirrorError (an AuditError) when the record
        was stored but its mirror line could not be written.
        """
        if not operation or not isinstance(operation, str):
            raise AuditError("cannot record an operation without a name, got %r" % (operation,))
        if status not in STATUSES:
            raise AuditError("cannot record %s: status must be one of %s, got %r"
                             % (operation, ", ".join(STATUSES), status))
        if details is not None and not isinstance(details, dict):
            raise AuditError("cannot record %s: details must be a dict, got %s" % (operation, type(details).__name__))
        details = dict(details or {})
        if status != "success":
            details.setdefault("reason", None)
            details.setdefault("message", None)
        url = kms_url or self.context["kms_url"]
        content = scrub(dict(self.context, operation_id=self.operation_id, operation=operation,
                             entity_type=entity_type, entity_id=None if entity_id is None else str(entity_id),
                             status=status, details=details, kms_url=safe_url(url) if url else None))
        mirror = None
        try:
            try:
                self._open_for_writing()
                if self.jsonl_path:
                    mirror = self._lock_mirror()
                record = self._in_write_transaction(lambda connection: self._append(connection, content))
            except (OSError, sqlite3.Error) as exc:
                raise AuditError("cannot write the audit record of %s to %s: %s"
                                 % (operation, self._paths(), _cause(exc)))
            if mirror is not None:
                # Only now that the record is committed, and still under the mirror's lock:
                # no line of a rolled-back record, and the lines in chain order.
                try:
                    _append_line(mirror, canonical_json(record))
                except OSError as exc:
                    raise AuditMirrorError(
                        "audit record %d of %s is in the audit store %s, but its line could not be appended to "
                        "the JSON-lines mirror %s, which now lacks it (kms_audit action=export writes the lines "
                        "again from the store): %s" % (record["record_id"], operation, self.path, self.jsonl_path,
                                                       exc), record)
            return record
        finally:
            if mirror is not None:
                os.close(mirror)

    def _append(self, connection, content):
        """Chain and insert ``content``; runs while holding the store's write lock."""
        last = connection.execute("SELECT record_id, hash FROM audit_records ORDER BY record_id DESC LIMIT 1").fetchone()
        record = dict(content, record_id=last[0] + 1 if last else 1, timestamp=_format_timestamp(
            datetime.datetime.now(datetime.timezone.utc)), prev_hash=last[1] if last else GENESIS_HASH)
        record["hash"] = record_hash(record)
        record = dict((field, record[field]) for field in RECORD_FIELDS)
        row = dict(record, details=canonical_json(record["details"]))
        connection.execute("INSERT INTO audit_records (%s) VALUES (%s)" % (
            ", ".join(RECORD_FIELDS), ", ".join("?" * len(RECORD_FIELDS))), [row[f] for f in RECORD_FIELDS])
        return record

    def _lock_mirror(self):
        """The mirror, open for appending and locked against the other writers (the lock
        goes with the descriptor); waits like a busy store does."""
        descriptor = _open_private(self.jsonl_path)
        try:
            _when_free(lambda: fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB),
                       lambda exc: isinstance(exc, OSError) and exc.errno in (errno.EAGAIN, errno.EACCES))
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    def _open_for_writing(self):
        """Create the store if needed, in WAL mode (readers do not block the writer), and
        bring its schema up to date."""
        if self._connection is None:
            os.close(_open_private(self.path))
            self._connect()
        if not self._schema_ready:
            self._execute_when_free("PRAGMA journal_mode = WAL")
            self._in_write_transaction(self._prepare_schema)
            self._schema_ready = True

    def _prepare_schema(self, connection):
        version = self._schema_version(connection)
        if version == 0:
            connection.execute(_TABLE_SQL % TABLE)
            for statement in _INDEXES:
                connection.execute(statement)
        elif version == 1:
            # The status CHECK constraint gains not_found. SQLite cannot alter a constraint:
            # copy the rows, as they are, into a new table, which takes the old one's place.
            connection.execute(_TABLE_SQL % "audit_records_new")
            connection.execute("INSERT INTO audit_records_new (%s) SELECT %s FROM audit_records"
                               % (", ".join(RECORD_FIELDS), ", ".join(RECORD_FIELDS)))
            connection.execute("DROP TABLE audit_records")
            connection.execute("ALTER TABLE audit_records_new RENAME TO audit_records")
            for statement in _INDEXES:
                connection.execute(statement)
        if version != SCHEMA_VERSION:
            connection.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)

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
        return _when_free(lambda: self._connection.execute(statement),
                          lambda exc: isinstance(exc, sqlite3.OperationalError) and _is_busy(exc))

    # -- reading -------------------------------------------------------------------------

    def query(self, operation=None, entity_type=None, entity_id=None, status=None, operation_id=None,
              since=None, until=None, limit=100, newest_first=True):
        """Matching records as dicts; ``limit`` None or 0 returns them all."""
        if limit is not None and limit < 0:
            raise AuditError("limit must be 0 (no limit) or more, got %r" % (limit,))
        filters = dict(operation=operation, entity_type=entity_type, entity_id=entity_id, status=status,
                       operation_id=operation_id, since=since, until=until)
        return list(self._select(filters, newest_first=newest_first, limit=limit or None))

    def verify(self):
        """Walk the whole chain; the first broken record and why, or valid=True.

        ``problem`` says what is wrong with the store as a whole (its schema version
        contradicts its content), None otherwise; the records are walked all the same when
        the table is there.
        """
        result = dict(valid=True, records=0, first_broken=None, last_record_id=None, last_hash=GENESIS_HASH,
                      problem=None)
        try:
            if not self._open_for_reading():
                return result
            problem = self._schema_state(self._connection)[1]
        except sqlite3.Error as exc:
            raise AuditError("cannot read the audit store %s: %s" % (self.path, _cause(exc)))
        if problem:
            result.update(valid=False, problem=problem)
        if not self._has_table(self._connection):  # a new store, or one whose table was dropped
            return result
        for row in self._rows("SELECT %s FROM audit_records ORDER BY record_id" % ", ".join(RECORD_FIELDS),
                              checked=False):
            record = dict(zip(RECORD_FIELDS, row))
            if result["first_broken"] is None:
                reason = _chain_problem(record, result["last_record_id"], result["last_hash"])
                if reason:
                    result.update(valid=False, first_broken=dict(record_id=record["record_id"], reason=reason))
            result.update(records=result["records"] + 1, last_record_id=record["record_id"], last_hash=record["hash"])
        return result

    def summary(self, **filters):
        """Counts per operation and status, totals, time span, and a text table of them."""
        _check_filters(filters)
        where, params = _where(filters)
        operations = {}
        for operation, status, count in self._rows(
                "SELECT operation, status, COUNT(*) FROM audit_records%s GROUP BY operation, status" % where, params):
            counts = operations.setdefault(operation, dict(dict.fromkeys(STATUSES, 0), total=0))
            counts[status] = counts.get(status, 0) + count
            counts["total"] += count
        totals = dict((key, sum(c.get(key, 0) for c in operations.values())) for key in STATUSES + ("total",))
        span = list(self._rows("SELECT MIN(timestamp), MAX(timestamp) FROM audit_records%s" % where, params))
        first, last = span[0] if span else (None, None)
        return dict(totals, operations=operations, first=first, last=last, table=_table(operations, totals))

    def export(self, dest, fmt="jsonl", **filters):
        """Write the matching records to ``dest`` in chain order; returns the number of rows.

        ``jsonl``: one canonical JSON line per record, as in the mirror (an unfiltered export
        can be verified offline). ``csv``: a header, then ``details`` as canonical JSON.
        A new ``dest`` is created with mode 0600, as private as the store.
        """
        if fmt not in EXPORT_FORMATS:
            raise AuditError("export format must be one of %s, got %r" % (", ".join(EXPORT_FORMATS), fmt))
        _check_filters(filters)
        rows = 0
        try:
            descriptor = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(descriptor, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle) if fmt == "csv" else None
                if writer:
                    writer.writerow(RECORD_FIELDS)
                for record in self._select(filters, newest_first=False, limit=None):
                    if writer:
                        writer.writerow(["" if record[f] is None else canonical_json(record[f]) if f == "details"
                                         else record[f] for f in RECORD_FIELDS])
                    else:
                        handle.write(canonical_json(record) + "\n")
                    rows += 1
        except OSError as exc:
            raise AuditError("cannot export the audit trail to %s: %s" % (dest, exc))
        return rows

    def _select(self, filters, newest_first, limit):
        where, params = _where(filters)
        sql = "SELECT %s FROM audit_records%s ORDER BY record_id %s" % (
            ", ".join(RECORD_FIELDS), where, "DESC" if newest_first else "ASC")
        if limit:
            sql += " LIMIT %d" % limit
        for row in self._rows(sql, params):
            record = dict(zip(RECORD_FIELDS, row))
            try:
                record["details"] = json.loads(record["details"])
            except ValueError:
                raise AuditError("record %s in %s has details that are not JSON: the store was edited (see verify)"
                                 % (record["record_id"], self.path))
            yield record

    def _rows(self, sql, params=(), checked=True):
        """Rows of a read; none when the store does not exist or has no schema yet.

        ``checked``: raise AuditError when the store is damaged (see ``_schema_state``).
        """
        try:
            if not self._open_for_reading():
                return
            if checked and self._schema_version(self._connection) == 0:
                return
            yield from self._connection.execute(sql, params)
        except sqlite3.Error as exc:
            raise AuditError("cannot read the audit store %s: %s" % (self.path, _cause(exc)))

    def _open_for_reading(self):
        """Connect to an existing store; False when there is none (readers never create it).

        On a read-only file system (an archived copy, a read-only mount), SQLite cannot
        create the WAL index it needs to read a store in WAL mode: a store closed cleanly
        there (no -wal file: every record is in the main file) is opened as immutable.
        """
        if self._connection is None:
            if not os.path.exists(self.path):
                return False
            if _on_read_only_file_system(self.path) and not os.path.exists(self.path + "-wal"):
                self._connection = sqlite3.connect("file:%s?immutable=1" % quote(self.path), uri=True,
                                                   isolation_level=None)
            else:
                self._connect()
        return True

    # -- shared --------------------------------------------------------------------------

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

    def _paths(self):
        return "%s (mirror %s)" % (self.path, self.jsonl_path) if self.jsonl_path else self.path


def _on_read_only_file_system(path):
    try:
        return bool(os.statvfs(os.path.dirname(path)).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _cause(exc):
    """The error's text, with SQLite's error name where Python tells it (3.11 and later):
    "disk I/O error" alone does not say that a write failed (SQLITE_IOERR_WRITE)."""
    name = getattr(exc, "sqlite_errorname", None)
    text = str(exc)
    return "%s (%s)" % (text, name) if name and name not in text else text


def _when_free(attempt, busy):
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


def _append_line(descriptor, line):
    """Append ``line`` and a newline in one write; on failure, cut off whatever part of it
    reached the file, so that the next line does not start in the middle of this one."""
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


def _chain_problem(stored, previous_id, previous_hash):
    """Why the ``stored`` row (details as text) does not follow record ``previous_id``, or None."""
    expected_id = (previous_id or 0) + 1
    if stored["record_id"] != expected_id:
        return "record id %d where %d was expected (records deleted or renumbered)" % (stored["record_id"], expected_id)
    try:
        record = dict(stored, details=json.loads(stored["details"]))
    except ValueError:
        return "details are not valid JSON (edited after the record was written)"
    if record_hash(record) != record["hash"]:
        return "hash does not match the record's content (edited after it was written)"
    if record["prev_hash"] != previous_hash:
        if previous_id is None:
            return "prev_hash of the first record is not the genesis value (records before it were deleted)"
        return "prev_hash does not match the hash of record %d (a record was deleted, inserted or moved)" % previous_id
    return None


def _check_filters(filters):
    unknown = sorted(set(filters) - set(FILTER_COLUMNS + ("since", "until")))
    if unknown:
        raise TypeError("unknown audit filter(s): %s" % ", ".join(unknown))


def _where(filters):
    """SQL WHERE clause and parameters for the given filters (None means any)."""
    clauses, params = [], []
    for column in FILTER_COLUMNS:
        if filters.get(column) is not None:
            clauses.append("%s = ?" % column)
            params.append(filters[column])
    for name, comparison in (("since", ">="), ("until", "<")):
        if filters.get(name) is not None:
            clauses.append("timestamp %s ?" % comparison)
            params.append(_parse_timestamp(name, filters[name]))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _table(operations, totals):
    """Fixed-width lines that stay aligned in playbook output: one column per status."""
    columns = STATUSES + ("total",)
    width = max([len("operation"), len("all operations")] + [len(name) for name in operations])
    line = "%-" + str(width) + "s" + "".join("  %" + str(max(7, len(column))) + "s" for column in columns)
    rows = [line % (("operation",) + columns)]
    rows += [line % ((name,) + tuple(c.get(column, 0) for column in columns)) for name, c in sorted(operations.items())]
    rows.append(line % (("all operations",) + tuple(totals[column] for column in columns)))
    return rows
