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
import os
import pwd
import re
import socket
import sqlite3
import uuid

from ansible_collections.pkimanager.kms.plugins.module_utils.audit_reader import (
    GENESIS_HASH, AuditReader, canonical_json, error_cause, format_timestamp, record_hash)
from ansible_collections.pkimanager.kms.plugins.module_utils.audit_reader import (  # noqa: F401  pylint: disable=unused-import
    EXPORT_FORMATS, FILTER_COLUMNS)  # part of this module's API too (kms_audit)
from ansible_collections.pkimanager.kms.plugins.module_utils.audit_schema import (
    RECORD_FIELDS, STATUSES, AuditError, when_free)
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


class AuditTrail(AuditReader):
    """The audit store of one module run: its writer (one operation id) and its readers."""

    def __init__(self, path=None, jsonl_path=None, operation_id=None, context=None):
        unknown = sorted(set(context or {}) - set(CONTEXT_FIELDS))
        if unknown:
            raise ValueError("unknown audit context field(s) %s; known: %s"
                             % (", ".join(unknown), ", ".join(CONTEXT_FIELDS)))
        super(AuditTrail, self).__init__(path or default_audit_path())
        self.jsonl_path = os.path.abspath(os.path.expanduser(jsonl_path)) if jsonl_path else None
        self.operation_id = str(operation_id or uuid.uuid4())
        self.context = dict((field, None) for field in CONTEXT_FIELDS)
        self.context.update(user=_current_user(), host=socket.gethostname())
        self.context.update(context or {})
        self._schema_ready = False

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
                                 % (operation, self._paths(), error_cause(exc)))
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
        record = dict(content, record_id=last[0] + 1 if last else 1, timestamp=format_timestamp(
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
