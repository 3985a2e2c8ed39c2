# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit record format and the reading side of the store (``AuditReader``: query, verify,
summary, export), apart from audit.py because none of it depends on how records are written;
``audit.AuditTrail``, the public class, is an ``AuditReader`` that also writes. The table
(``RECORD_FIELDS``, ``STATUSES``), its schema checks and the connection are in
audit_schema.py (``AuditReader`` extends its ``AuditStore``).

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

Readers never create the store: a missing store reads as an empty one. A store whose
content contradicts its schema version (``PRAGMA user_version`` reset to 0 while the records
table exists, or a version without the table) is damaged: ``verify`` reports it as invalid
(``problem``), every other reader and the writer raise AuditError; nothing is re-created.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import operator
import os
import re
import sqlite3

from json.encoder import c_make_encoder, encode_basestring_ascii
from urllib.parse import quote

from ansible_collections.pkimanager.kms.plugins.module_utils.audit_schema import (
    RECORD_FIELDS, STATUSES, AuditError, AuditStore)

GENESIS_HASH = "0" * 64
FILTER_COLUMNS = ("operation", "entity_type", "entity_id", "status", "operation_id")
EXPORT_FORMATS = ("jsonl", "csv")

_ISO_8601 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


# What json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
# builds on every call, built once: a batch's records are serialised three times each.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def canonical_json(record):
    """The one serialisation that is hashed, mirrored and exported."""
    return _CANONICAL.encode(record)


def record_hash(record):
    """SHA-256 hex of every field of ``record`` but ``hash``."""
    content = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256(canonical_json(content).encode("ascii")).hexdigest()


# The canonical encoder's C core, built once: JSONEncoder.encode builds it again for every
# value, which was half the cost of encoding a record's details. It does not look for
# cycles: what is written was copied by scrub, which cannot copy one.
_ENCODE = c_make_encoder(None, _CANONICAL.default, encode_basestring_ascii, None, ":", ",", True, False, False)


def _canonical_value(value):
    """``value`` as canonical_json writes it: the scalars of a record written directly (the
    encoder's machinery per field was most of a batch's audit cost), anything else by the
    encoder's core."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return "".join(_ENCODE(value, 0))


# A record's members in canonical (sorted) order: details, entity_id, entity_type, (hash,)
# host, kms_url, operation, operation_id, playbook, prev_hash, record_id, status, task,
# timestamp, user. The records of a group differ in details, entity_id, prev_hash and
# record_id; the two runs of members between them (context, time, operation, node) are
# mostly the same from one record to the next, and encoded once for those that are.
_AROUND_HASH = ("entity_type", "host", "kms_url", "operation", "operation_id", "playbook")
_AT_END = ("status", "task", "timestamp", "user")
_AROUND_HASH_VALUES = operator.itemgetter(*_AROUND_HASH)
_AT_END_VALUES = operator.itemgetter(*_AT_END)


def hashed_record(record, shared=None):
    """(hash, details as stored, the mirror line) of ``record`` (every field of RECORD_FIELDS
    but ``hash``): what record_hash, canonical_json(details) and canonical_json(record with
    hash) give, with every member encoded once. Keys sort, so the line is the hashed text with
    the hash member put in its sorted place. ``shared``: a dict kept across the records of a
    group, in which the runs of members they share are encoded once."""
    shared = {} if shared is None else shared
    details = "".join(_ENCODE(record["details"], 0))
    entity_type, context = _shared_members(shared, _AROUND_HASH, _AROUND_HASH_VALUES(record), 1)
    head = '{"details":%s,"entity_id":%s%s' % (details, _canonical_value(record["entity_id"]), entity_type)
    tail = '%s,"prev_hash":%s,"record_id":%s%s}' % (
        context, _canonical_value(record["prev_hash"]), _canonical_value(record["record_id"]),
        _shared_members(shared, _AT_END, _AT_END_VALUES(record), len(_AT_END))[0])
    digest = hashlib.sha256((head + tail).encode("ascii")).hexdigest()
    return digest, details, '%s,"hash":"%s"%s' % (head, digest, tail)


def _shared_members(shared, fields, values, cut):
    """The members ``fields`` = ``values``, each with its leading comma, as two texts: before
    member ``cut`` and from it. From ``shared`` when a record before had the same values (the
    two runs differ in length: their keys never meet)."""
    try:
        return shared[values]
    except KeyError:
        hashable = True
    except TypeError:  # a list or dict among them
        hashable = False
    members = ["," + encode_basestring_ascii(field) + ":" + _canonical_value(value)
               for field, value in zip(fields, values)]
    texts = "".join(members[:cut]), "".join(members[cut:])
    # Only text and null are kept: equal numbers are written differently (1, 1.0, true).
    if hashable and all(value is None or type(value) is str for value in values):  # pylint: disable=unidiomatic-typecheck
        shared[values] = texts
    return texts


def format_timestamp(moment):
    """``moment`` as stored: UTC, milliseconds, ``Z`` (``2026-11-28T12:00:00.123Z``)."""
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
    return format_timestamp(moment)


def _parse_offset(offset):
    if not offset or offset.upper() == "Z":
        return datetime.timezone.utc
    digits = offset[1:].replace(":", "")
    delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return datetime.timezone(-delta if offset[0] == "-" else delta)


class AuditReader(AuditStore):
    """Read access to the audit store at ``path``: query, verify, summary and export."""

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
            raise AuditError("cannot read the audit store %s: %s" % (self.path, error_cause(exc)))
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
                writer = _csv_writer(handle) if fmt == "csv" else None
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
            raise AuditError("cannot read the audit store %s: %s" % (self.path, error_cause(exc)))

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


def _on_read_only_file_system(path):
    try:
        return bool(os.statvfs(os.path.dirname(path)).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def error_cause(exc):
    """The error's text, with SQLite's error name where Python tells it (3.11 and later):
    "disk I/O error" alone does not say that a write failed (SQLITE_IOERR_WRITE)."""
    name = getattr(exc, "sqlite_errorname", None)
    text = str(exc)
    return "%s (%s)" % (text, name) if name and name not in text else text


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


def _csv_writer(handle):
    """A CSV writer on ``handle``; csv is imported here, by the one export that needs it, not
    by every task that writes a record."""
    import csv
    return csv.writer(handle)
