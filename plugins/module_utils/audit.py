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
            # inside grouped(): buffered, returns None
        record_many(entries) -> [dict]   # entries: dicts of record's arguments; one transaction
        grouped()                    # context manager: the record() calls inside are written
            # at its exit in one transaction (``as group``: group.records, as stored)
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
This file writes; the record format and the readers are in audit_reader.py (``AuditTrail``
extends its ``AuditReader``), the table, its creation and migration, the schema checks and
the SQLite plumbing in audit_schema.py (``AuditReader`` extends its ``AuditStore``). Every
name above is importable from here.

Nothing secret is recorded: before hashing, every value under a key that names a secret
(api_key, token, password, passphrase, secret, private_key, key_material, authorization,
client_key, credential, cookie; any case or separator, at any depth, but not names of
references such as ``private_key_id``) and every string holding a PEM private key block
becomes ``"<redacted>"``; so do bytes. The KMS URL is recorded without its user:password@
part (``redaction.safe_url``, the transport's scrubber).

Group commit: ``record_many`` and ``grouped`` write several records in one write
transaction (one fsync instead of one per record), chained, hashed and mirrored exactly as
the same records appended one by one at that moment (timestamps are those of the write).
The transaction is as durable as a single record's (WAL, synchronous=FULL), and done before
``record_many`` or the ``with`` block returns. It holds the store's write lock from the
first record to the last, so another process's records come before or after the group,
never inside it. If it fails, nothing of the group is stored: the AuditError says how many
records were lost. A ``grouped`` block nested in another joins the outer group.

The JSON-lines mirror gets a record's line only after the record is committed to the store,
under a lock on the mirror file that keeps its lines in chain order. If that write fails
(the record is then in the store, the authoritative copy), ``record`` raises
AuditMirrorError; the mirror then lacks that line, which the next line's ``prev_hash``
shows, and ``export`` can rewrite the mirror from the store.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import fcntl
import functools
import math
import operator
import os
import pwd
import re
import socket
import sqlite3

from ansible_collections.pkimanager.kms.plugins.module_utils.audit_reader import (
    GENESIS_HASH, AuditReader, error_cause, format_timestamp, hashed_record)
from ansible_collections.pkimanager.kms.plugins.module_utils.audit_reader import (  # noqa: F401  pylint: disable=unused-import
    EXPORT_FORMATS, FILTER_COLUMNS, canonical_json, record_hash)  # part of this module's API too (kms_audit, tests)
from ansible_collections.pkimanager.kms.plugins.module_utils.audit_schema import (
    RECORD_FIELDS, STATUSES, AuditError, append_line as _append_line, open_private as _open_private, when_free)
from ansible_collections.pkimanager.kms.plugins.module_utils.audit_schema import (  # noqa: F401  pylint: disable=unused-import
    SCHEMA_VERSION)  # part of this module's API too (tests)
from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import safe_url

REDACTED = "<redacted>"
CONTEXT_FIELDS = ("user", "host", "playbook", "task", "kms_url")

_SECRET_NAME = re.compile(
    r"(?:^|_)(?:api_?key|access_?key|token|pass_?word|passwd|pass_?phrase|secret|private_?key|"
    r"key_?material|authori[sz]ation|client_?key|credential|cookie|bearer)s?(?:_|$)")
_CAMEL_CASE = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_REFERENCE_NAME = re.compile(r"_(?:id|ids|uid|uuid|identifier|link|links|fingerprint)$")
_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
# Text without this holds no PEM private key block: the regular expression is left unasked.
_PEM_MARK = "PRIVATE KEY-----"
# A row as inserted: every value of the record but ``details``, then ``details`` as its JSON.
_INSERTED = tuple(field for field in RECORD_FIELDS if field != "details")
_INSERTED_VALUES = operator.itemgetter(*_INSERTED)
_INSERT = "INSERT INTO audit_records (%s, details) VALUES (%s)" % (
    ", ".join(_INSERTED), ", ".join("?" * len(RECORD_FIELDS)))


class AuditMirrorError(AuditError):
    """``record`` is committed to the store, but its line could not be added to the mirror."""

    def __init__(self, message, record, records=None):
        super(AuditMirrorError, self).__init__(message)
        self.record = record  # of a group: its first record; ``records`` holds them all
        self.records = records or [record]


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
    if isinstance(value, str):  # the most common first: every record of a batch comes here
        return REDACTED if _PEM_MARK in value and _PEM_PRIVATE_KEY.search(value) else value
    if isinstance(value, dict):
        # Plain text, most of a record, is kept without a call (a third of building a batch's
        # records went into scrub's calls on it).
        return {str(key): REDACTED if _is_secret_name(str(key)) else
                item if item.__class__ is str and _PEM_MARK not in item else scrub(item)
                for key, item in value.items()}
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return REDACTED
    if isinstance(value, float) and math.isfinite(value):
        return value
    return scrub(str(value))


def _current_user():
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


class AuditTrail(AuditReader):
    """The audit store of one module run: its writer (one operation id) and its readers."""

    def __init__(self, path=None, jsonl_path=None, operation_id=None, context=None):
        unknown = sorted(set(context or {}) - set(CONTEXT_FIELDS))
        if unknown:
            raise ValueError("unknown audit context field(s) %s; known: %s"
                             % (", ".join(unknown), ", ".join(CONTEXT_FIELDS)))
        super(AuditTrail, self).__init__(path or default_audit_path())
        self.jsonl_path = os.path.abspath(os.path.expanduser(jsonl_path)) if jsonl_path else None
        self.operation_id = str(operation_id or _random_uuid())
        self.context = dict((field, None) for field in CONTEXT_FIELDS)
        self.context.update(user=_current_user(), host=socket.gethostname())
        self.context.update(context or {})
        self._schema_ready = False
        self._group = None  # the contents buffered by grouped(), while it is open
        # Every field of a record in column order, with the context scrubbed once: every
        # record of the run carries the same.
        self._record_template = dict.fromkeys(RECORD_FIELDS)
        self._record_template.update(scrub(self.context), operation_id=self.operation_id)
        self._recorded_urls = {}

    def close(self):
        super(AuditTrail, self).close()
        self._schema_ready = False

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
            raise AuditError("audit store %s is not writable: %s" % (self._paths(), error_cause(exc)))

    def record(self, operation, entity_type, entity_id, status, details=None, kms_url=None):
        """Append one record (and its mirror line); returns it as stored.

        AuditError when nothing was stored; AuditMirrorError (an AuditError) when the record
        was stored but its mirror line could not be written. Inside ``grouped()`` the record
        is checked and buffered, written at the block's exit, and None is returned.
        """
        content = self._content(operation, entity_type, entity_id, status, details, kms_url)
        if self._group is not None:
            self._group.append(content)
            return None
        return self._write([content])[0]

    def record_many(self, entries):
        """Append the records ``entries`` (dicts of ``record``'s arguments, in order) in one
        write transaction, and their mirror lines after it; returns them as stored.

        Every entry is checked before anything is written. AuditError when nothing was
        stored (it says how many records were lost), AuditMirrorError when they were stored
        but their mirror lines were not. Inside ``grouped()``, joins that group (returns []).
        """
        contents = [self._content(**entry) for entry in entries]
        if self._group is not None:
            self._group.extend(contents)
            return []
        return self._write(contents) if contents else []

    def grouped(self):
        """Context manager: the ``record`` calls made inside are written at its exit in one
        transaction (also when the block raised: those operations happened), which is done
        before the ``with`` statement returns. Its value's ``records`` then holds them."""
        return _Group(self)

    def _content(self, operation, entity_type, entity_id, status, details=None, kms_url=None):
        """A record's fields, checked and scrubbed, in column order (id, timestamp and hashes
        are None until it is written)."""
        if not operation or not isinstance(operation, str):
            raise AuditError("cannot record an operation without a name, got %r" % (operation,))
        if status not in STATUSES:
            raise AuditError("cannot record %s: status must be one of %s, got %r"
                             % (operation, ", ".join(STATUSES), status))
        if details is not None and not isinstance(details, dict):
            raise AuditError("cannot record %s: details must be a dict, got %s" % (operation, type(details).__name__))
        details = scrub(details or {})  # a copy: the caller's dict is left as it was
        if status != "success":
            details.setdefault("reason", None)
            details.setdefault("message", None)
        # The values scrubbed one by one: none of these field names names a secret.
        return dict(self._record_template, operation=scrub(operation),
                    entity_type=scrub(entity_type), status=status, details=details,
                    entity_id=None if entity_id is None else scrub(str(entity_id)),
                    kms_url=self._recorded_url(kms_url or self.context["kms_url"]))

    def _recorded_url(self, url):
        """``url`` as recorded (safe_url, scrubbed), worked out once per URL: every record
        of a batch names the same node."""
        if not isinstance(url, str):  # None, or something odd a caller passed
            return scrub(url) if url else None
        if url not in self._recorded_urls:
            self._recorded_urls[url] = scrub(safe_url(url)) if url else None
        return self._recorded_urls[url]

    def _write(self, contents):
        """Chain, insert and commit ``contents`` in one transaction, then mirror them."""
        mirror = None
        try:
            try:
                self._open_for_writing()
                if self.jsonl_path:
                    mirror = self._lock_mirror()
                records, lines = self._in_write_transaction(lambda connection: self._append_all(connection, contents))
            except (OSError, sqlite3.Error) as exc:
                what = ("the audit record of %s" % contents[0]["operation"] if len(contents) == 1 else
                        "the %d audit records of %s (all %d lost: none is stored)"
                        % (len(contents), _operations(contents), len(contents)))
                raise AuditError("cannot write %s to %s: %s" % (what, self._paths(), error_cause(exc)))
            if mirror is not None:
                # Only now that the records are committed, and still under the mirror's lock:
                # no line of a rolled-back record, and the lines in chain order.
                try:
                    _append_line(mirror, "\n".join(lines))
                except OSError as exc:
                    raise _mirror_error(records, self.path, self.jsonl_path, exc)
            return records
        finally:
            if mirror is not None:
                os.close(mirror)

    def _append_all(self, connection, contents):
        """Chain ``contents`` in order to the last stored record and insert them (one
        statement for them all); runs while holding the store's write lock. Returns the
        records as stored, and their mirror lines."""
        last = connection.execute("SELECT record_id, hash FROM audit_records ORDER BY record_id DESC LIMIT 1").fetchone()
        record_id, prev_hash = last or (0, GENESIS_HASH)
        records, rows, lines, shared = [], [], [], {}
        # The time the records are stored: one transaction, one time (formatting it per record
        # was a tenth of a batch's audit cost).
        timestamp = format_timestamp(datetime.datetime.now(datetime.timezone.utc))
        for content in contents:
            record_id += 1
            record = dict(content, record_id=record_id, timestamp=timestamp, prev_hash=prev_hash)
            digest, details, line = hashed_record(record, shared)
            record["hash"] = prev_hash = digest  # the next record chains to this one
            records.append(record)
            rows.append(_INSERTED_VALUES(record) + (details,))
            lines.append(line)
        connection.executemany(_INSERT, rows)
        return records, lines

    def _lock_mirror(self):
        """The mirror, open for appending and locked against the other writers (the lock
        goes with the descriptor); waits like a busy store does."""
        descriptor = _open_private(self.jsonl_path)
        try:
            when_free(lambda: fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB),
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

    def _paths(self):
        return "%s (mirror %s)" % (self.path, self.jsonl_path) if self.jsonl_path else self.path


class _Group:
    """What ``AuditTrail.grouped`` returns; ``records`` holds the records as stored after the
    exit of the outermost group (a nested group joins it and leaves its own empty)."""

    def __init__(self, trail):
        self.trail = trail
        self.records = []
        self._outermost = False

    def __enter__(self):
        self._outermost = self.trail._group is None
        if self._outermost:
            self.trail._group = []
        return self

    def __exit__(self, *exc_info):
        if self._outermost:
            contents, self.trail._group = self.trail._group, None
            if contents:
                self.records = self.trail._write(contents)
        return False


def _mirror_error(records, store, mirror, exc):
    one = len(records) == 1
    return AuditMirrorError(
        "%s the audit store %s, but %s could not be appended to the JSON-lines mirror %s, which now lacks %s "
        "(kms_audit action=export writes the lines again from the store): %s" % (
            "audit record %d of %s is in" % (records[0]["record_id"], records[0]["operation"]) if one else
            "audit records %d to %d (%s) are in" % (records[0]["record_id"], records[-1]["record_id"],
                                                    _operations(records)),
            store, "its line" if one else "their %d lines" % len(records), mirror, "it" if one else "them", exc),
        records[0], records)


def _operations(records):
    """``kms.get_attributes x3, kms.destroy``: the operations of a group, in first-seen order."""
    counts = {}
    for record in records:
        counts[record["operation"]] = counts.get(record["operation"], 0) + 1
    return ", ".join(name if count == 1 else "%s x%d" % (name, count) for name, count in counts.items())


def _random_uuid():
    """A random (version 4) UUID in its usual text form, as str(uuid.uuid4()) gives: made
    here because importing uuid cost ~0.7 ms of every task."""
    value = bytearray(os.urandom(16))
    value[6] = value[6] & 0x0F | 0x40  # version 4
    value[8] = value[8] & 0x3F | 0x80  # RFC 4122 variant
    text = value.hex()
    return "-".join((text[:8], text[8:12], text[12:16], text[16:20], text[20:]))
