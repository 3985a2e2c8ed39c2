# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMIP 2.1 JSON TTLV codec: typed values and their JSON form as Cosmian KMS speaks it.

A node is ``TTLV(tag, type, value)``. Python values per type:

============== ================================ =====================================
type           Python value                     JSON form sent (and also accepted)
============== ================================ =====================================
Structure      list of TTLV                     array of nodes, ``type`` left out
Integer        int (32-bit signed)              number (or ``"0x"`` + 8/16 hex)
LongInteger    int (64-bit signed)              ``"0x"`` + 16 hex, two's complement
BigInteger     int (any size)                   ``"0x"`` + hex, two's complement,
                                                sign-extended to a multiple of 8 bytes
Enumeration    str (variant name) or int        name, or ``"0x"`` + 8 hex when unknown
Boolean        bool                             true / false
TextString     str                              string
ByteString     bytes                            uppercase hex (either case accepted)
DateTime       aware datetime (UTC)             RFC 3339 ``2024-01-01T00:00:00Z``
                                                (or ``"0x"`` + hex seconds)
Interval       int (32-bit unsigned seconds)    number
DateTimeExtended int (microseconds)             ``"0x"`` + 16 hex
============== ================================ =====================================

Decoding anything that is not valid TTLV raises :class:`TTLVError` naming where, never
a bare KeyError/IndexError/TypeError/RecursionError, so callers have one thing to catch;
its message is one line of bounded length however large or odd the input. Structures
nest at most :data:`MAX_DEPTH` levels. The property-based tests (test_codec_properties.py
in tests/unit; ``make fuzz`` runs 10,000 examples per property) check this, and the round
trip of every type, with generated input.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import datetime
import re
import reprlib

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import PkiManagerError

STRUCTURE = "Structure"
INTEGER = "Integer"
LONG_INTEGER = "LongInteger"
BIG_INTEGER = "BigInteger"
ENUMERATION = "Enumeration"
BOOLEAN = "Boolean"
TEXT_STRING = "TextString"
BYTE_STRING = "ByteString"
DATE_TIME = "DateTime"
INTERVAL = "Interval"
DATE_TIME_EXTENDED = "DateTimeExtended"

TYPES = (STRUCTURE, INTEGER, LONG_INTEGER, BIG_INTEGER, ENUMERATION, BOOLEAN, TEXT_STRING,
         BYTE_STRING, DATE_TIME, INTERVAL, DATE_TIME_EXTENDED)

_INT32 = (-(1 << 31), (1 << 31) - 1)
_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT32 = (0, (1 << 32) - 1)
_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?", re.ASCII)
_HEX = re.compile(r"[0-9A-Fa-f]*")
# How deep decoded Structures may nest: KMIP messages use about ten levels, and a deeper
# answer would otherwise end in a RecursionError rather than a TTLVError.
MAX_DEPTH = 64
# How much of an offending value or path an error message shows.
_SHOWN = 80
_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = _SHOWN
_REPR.maxother = _SHOWN
_REPR.maxlong = _SHOWN


class TTLVError(PkiManagerError, ValueError):
    """Input that is not valid TTLV (wrong shape, type or range), with where it was found.
    (A ValueError too, as it has always been.)"""


def _show(value):
    """A short one-line repr of any value for a message (no huge ints, strings or nesting)."""
    try:
        return _REPR.repr(value)
    except (ValueError, RecursionError):  # an int beyond the str conversion limit
        return "<%s of %d bits>" % (type(value).__name__, value.bit_length()) if _is_int(value) else "<%s>" % (
            type(value).__name__)


def _label(tag):
    """A tag as a path step in messages: as is when short and printable, else its repr."""
    return tag if len(tag) <= _SHOWN and tag.isprintable() else _show(tag)


def _path(tags):
    path = "/".join(_label(tag) for tag in tags)
    return path if len(path) <= 3 * _SHOWN else "..." + path[-3 * _SHOWN:]


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_range(value, bounds, what):
    if not _is_int(value) or not bounds[0] <= value <= bounds[1]:
        raise TTLVError("%s must be an integer in [%d, %d], got %s" % (what, bounds[0], bounds[1], _show(value)))
    return value


def _check_value(type_, value):
    """Validate a Python value for a type, so a bad node fails where it is built."""
    if type_ == STRUCTURE:
        if not isinstance(value, (list, tuple)) or not all(isinstance(c, TTLV) for c in value):
            raise TTLVError("a Structure holds a list of TTLV nodes, got %s" % _show(value))
        return list(value)
    if type_ == INTEGER:
        return _check_range(value, _INT32, "an Integer")
    if type_ == LONG_INTEGER or type_ == DATE_TIME_EXTENDED:
        return _check_range(value, _INT64, "a %s" % type_)
    if type_ == INTERVAL:
        return _check_range(value, _UINT32, "an Interval")
    if type_ == BIG_INTEGER:
        if not _is_int(value):
            raise TTLVError("a BigInteger must be an integer, got %s" % _show(value))
        return value
    if type_ == ENUMERATION:
        if _is_int(value):
            return _check_range(value, _UINT32, "an Enumeration value")
        # A name cannot look like the hex form of a value: it would decode as a number.
        if isinstance(value, str) and value and value[:2] not in ("0x", "0X"):
            return value
        raise TTLVError("an Enumeration is a variant name (not starting with 0x) or an integer, got %s"
                        % _show(value))
    if type_ == BOOLEAN:
        if not isinstance(value, bool):
            raise TTLVError("a Boolean must be true or false, got %s" % _show(value))
        return value
    if type_ == TEXT_STRING:
        if not isinstance(value, str):
            raise TTLVError("a TextString must be a string, got %s" % _show(value))
        return value
    if type_ == BYTE_STRING:
        if not isinstance(value, (bytes, bytearray)):
            raise TTLVError("a ByteString must be bytes, got %s" % _show(value))
        return bytes(value)
    if type_ == DATE_TIME:
        if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
            raise TTLVError("a DateTime must be a timezone-aware datetime, got %s" % _show(value))
        try:
            return value.astimezone(_UTC)
        except OverflowError:
            raise TTLVError("a DateTime must be within years 1 to 9999 in UTC, got %s" % _show(value))
    raise TTLVError("unknown TTLV type %s (known: %s)" % (_show(type_), ", ".join(TYPES)))


class TTLV:
    """One KMIP node: a tag, a type from :data:`TYPES` and a Python value."""

    __slots__ = ("tag", "type", "value")

    def __init__(self, tag, type_, value):
        if not isinstance(tag, str) or not tag:
            raise TTLVError("a tag must be a non-empty string, got %s" % _show(tag))
        self.tag = tag
        self.type = type_
        self.value = _check_value(type_, value)

    def __eq__(self, other):
        return (isinstance(other, TTLV) and self.tag == other.tag and self.type == other.type
                and self.value == other.value)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return "TTLV(%r, %r, %r)" % (self.tag, self.type, self.value)

    # -- navigation ---------------------------------------------------------------------

    def children(self):
        """The child nodes of a Structure (empty for other types)."""
        return self.value if self.type == STRUCTURE else []

    def find(self, tag):
        """The first child with this tag, or None."""
        for child in self.children():
            if child.tag == tag:
                return child
        return None

    def find_all(self, tag):
        """Every child with this tag, in order (repeated fields)."""
        return [child for child in self.children() if child.tag == tag]

    def path(self, *tags):
        """The node at a path of tags (first match at each level), or None."""
        node = self
        for tag in tags:
            node = node.find(tag)
            if node is None:
                return None
        return node

    def get(self, *tags, **kwargs):
        """The Python value at a path of tags, or ``default`` when any step is missing.

        With ``types`` (a TTLV type or a tuple of them), a node found with another type
        is a TTLVError, so that a parser never hands on a value of the wrong Python type.
        """
        node = self.path(*tags)
        if node is None:
            return kwargs.get("default")
        return _of_type(node, (self.tag,) + tags, kwargs.get("types")).value

    def require(self, *tags, **kwargs):
        """The node at a path of tags; TTLVError naming the missing step otherwise
        (or naming the type found, when it is not one of ``types``, as for :meth:`get`)."""
        node = self
        for depth, tag in enumerate(tags):
            child = node.find(tag)
            if child is None:
                raise TTLVError("%s has no %s" % (_path((self.tag,) + tags[:depth]), _label(tag)))
            node = child
        return _of_type(node, (self.tag,) + tags, kwargs.get("types"))

    # -- JSON ---------------------------------------------------------------------------

    def to_json(self):
        """The JSON-ready dict Cosmian KMS accepts (Structures without ``type``)."""
        if self.type == STRUCTURE:
            return {"tag": self.tag, "value": [child.to_json() for child in self.value]}
        return {"tag": self.tag, "type": self.type, "value": _ENCODERS[self.type](self.value)}

    @classmethod
    def from_json(cls, data, _where=()):
        """Decode a node from its JSON form (parsed JSON: dicts and lists)."""
        if not isinstance(data, dict):
            raise TTLVError("%sa TTLV node must be a JSON object, got %s" % (_at(_where), type(data).__name__))
        tag = data.get("tag")
        if not isinstance(tag, str) or not tag:
            raise TTLVError("%sa TTLV node needs a non-empty string 'tag'" % _at(_where))
        where = _where + (tag,)
        if len(where) > MAX_DEPTH:
            raise TTLVError("%s: Structures nested more than %d deep" % (_path(where), MAX_DEPTH))
        if "value" not in data:
            raise TTLVError("%s: a TTLV node needs a 'value'" % _path(where))
        unknown = sorted(_label(key) if isinstance(key, str) and key else _show(key)
                         for key in data if key not in ("tag", "type", "value"))
        if unknown:
            raise TTLVError("%s: unexpected keys %s%s" % (_path(where), ", ".join(unknown[:5]),
                                                          ", ..." if len(unknown) > 5 else ""))
        type_ = data.get("type", STRUCTURE)
        raw = data["value"]
        if type_ == STRUCTURE:
            if not isinstance(raw, list):
                raise TTLVError("%s: a Structure's value must be an array" % _path(where))
            return cls(tag, STRUCTURE, [cls.from_json(item, where) for item in raw])
        decoder = _DECODERS.get(type_) if isinstance(type_, str) else None
        if decoder is None:
            raise TTLVError("%s: unknown TTLV type %s" % (_path(where), _show(type_)))
        try:
            return cls(tag, type_, decoder(raw))
        except (TTLVError, ValueError, TypeError, OverflowError) as exc:
            raise TTLVError("%s: invalid %s %s: %s" % (_path(where), type_, _show(raw), exc))


def _at(where):
    return "%s: " % _path(where) if where else ""


def _of_type(node, where, types):
    """``node`` when ``types`` is None or names its type (one type or a tuple of them)."""
    types = (types,) if isinstance(types, str) else types
    if types is None or node.type in types:
        return node
    raise TTLVError("%s is a %s, expected a %s" % (_path(where), node.type, " or ".join(types)))


# -- constructors: read as the KMIP spec does -----------------------------------------

def structure(tag, children=()):
    """A Structure of the given children, leaving out None (optional fields not set)."""
    return TTLV(tag, STRUCTURE, [c for c in children if c is not None])


def _constructor(type_):
    def build(tag, value):
        return TTLV(tag, type_, value)
    build.__doc__ = "A %s node." % type_
    return build


integer = _constructor(INTEGER)
long_integer = _constructor(LONG_INTEGER)
big_integer = _constructor(BIG_INTEGER)
enumeration = _constructor(ENUMERATION)
boolean = _constructor(BOOLEAN)
text_string = _constructor(TEXT_STRING)
byte_string = _constructor(BYTE_STRING)
date_time = _constructor(DATE_TIME)
interval = _constructor(INTERVAL)
date_time_extended = _constructor(DATE_TIME_EXTENDED)


def vector_items(node, tag, types=None):
    """Items of a repeated field, whether sent as repeated children (what Cosmian 5.28
    sends) or wrapped in one Structure of the same tag (how its serde model reads).

    With ``types`` (a type or a tuple of them), an item of another type is a TTLVError,
    and an empty wrapper, when the items are not Structures, means no items.
    """
    found = node.find_all(tag)
    expected = (types,) if isinstance(types, str) else types
    if len(found) == 1 and found[0].type == STRUCTURE and all(child.tag == tag for child in found[0].value):
        if found[0].value or (expected is not None and STRUCTURE not in expected):
            found = found[0].value
    return [_of_type(item, (node.tag, tag), expected) for item in found]


# -- per-type JSON encoding -----------------------------------------------------------

def _hex_twos_complement(value, width):
    """Uppercase ``0x`` hex of a signed integer in ``width`` bytes (two's complement)."""
    return "0x" + (value & ((1 << (8 * width)) - 1)).to_bytes(width, "big").hex().upper()


def _encode_big_integer(value):
    width = max(1, (value.bit_length() + 8) // 8)  # room for the sign bit
    width = (width + 7) // 8 * 8
    return _hex_twos_complement(value, width)


def _encode_enumeration(value):
    return "0x%08X" % value if _is_int(value) else value


def _encode_date_time(value):
    value = value.astimezone(_UTC)
    # Not strftime: its %Y gives "999", not "0999", for years before 1000.
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (value.year, value.month, value.day, value.hour, value.minute,
                                              value.second)
    if value.microsecond:
        text += (".%06d" % value.microsecond).rstrip("0")
    return text + "Z"


_ENCODERS = {
    INTEGER: lambda v: v,
    LONG_INTEGER: lambda v: _hex_twos_complement(v, 8),
    BIG_INTEGER: _encode_big_integer,
    ENUMERATION: _encode_enumeration,
    BOOLEAN: lambda v: v,
    TEXT_STRING: lambda v: v,
    BYTE_STRING: lambda v: binascii.hexlify(v).decode("ascii").upper(),
    DATE_TIME: _encode_date_time,
    INTERVAL: lambda v: v,
    DATE_TIME_EXTENDED: lambda v: _hex_twos_complement(v, 8),
}


# -- per-type JSON decoding -----------------------------------------------------------

def _hex_digits(raw):
    if not isinstance(raw, str) or not raw[:2] in ("0x", "0X") or len(raw) < 3:
        raise TTLVError("expected a '0x'-prefixed hex string")
    digits = raw[2:]
    if len(digits) % 2 or not _HEX.fullmatch(digits):
        raise TTLVError("expected an even number of hex digits")
    return digits


def _signed_from_hex(raw):
    digits = _hex_digits(raw)
    return int.from_bytes(bytes.fromhex(digits), "big", signed=True)


def _decode_number_or_hex(raw):
    if _is_int(raw):
        return raw
    if isinstance(raw, str):
        digits = _hex_digits(raw)
        if len(digits) not in (8, 16):
            raise TTLVError("hex integers have 8 or 16 digits")
        return int.from_bytes(bytes.fromhex(digits.rjust(16, "0")), "big", signed=True)
    raise TTLVError("expected a JSON integer or a '0x' hex string")


def _decode_enumeration(raw):
    if _is_int(raw):
        return raw
    if isinstance(raw, str) and raw[:2] in ("0x", "0X"):
        return int(_hex_digits(raw), 16)
    if isinstance(raw, str) and raw:
        return raw
    raise TTLVError("expected a variant name, an integer or a '0x' hex string")


def _decode_boolean(raw):
    if isinstance(raw, bool):
        return raw
    raise TTLVError("expected true or false")


def _decode_text(raw):
    if isinstance(raw, str):
        return raw
    raise TTLVError("expected a string")


def _decode_bytes(raw):
    if not isinstance(raw, str) or len(raw) % 2 or not _HEX.fullmatch(raw):
        raise TTLVError("expected an even-length hex string")
    return bytes.fromhex(raw)


def _decode_date_time(raw):
    if isinstance(raw, str) and raw[:2] in ("0x", "0X"):
        return _EPOCH + datetime.timedelta(seconds=_signed_from_hex(raw))
    match = _RFC3339.fullmatch(raw) if isinstance(raw, str) else None
    if not match:
        raise TTLVError("expected an RFC 3339 date-time such as 2024-01-01T00:00:00Z")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    offset = datetime.timedelta(0)
    if sign:
        offset = datetime.timedelta(hours=int(off_h), minutes=int(off_m))
        offset = -offset if sign == "-" else offset
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    value = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                              micro, tzinfo=datetime.timezone(offset))
    return value.astimezone(_UTC)


def _decode_unsigned(raw):
    if _is_int(raw):
        return raw
    raise TTLVError("expected a JSON integer")


_DECODERS = {
    INTEGER: _decode_number_or_hex,
    LONG_INTEGER: _decode_number_or_hex,
    BIG_INTEGER: _signed_from_hex,
    ENUMERATION: _decode_enumeration,
    BOOLEAN: _decode_boolean,
    TEXT_STRING: _decode_text,
    BYTE_STRING: _decode_bytes,
    DATE_TIME: _decode_date_time,
    INTERVAL: _decode_unsigned,
    DATE_TIME_EXTENDED: _signed_from_hex,
}


def decode(data):
    """Decode parsed JSON into a TTLV node (see :meth:`TTLV.from_json`)."""
    return TTLV.from_json(data)


def encode(node):
    """Encode a TTLV node into its JSON-ready form (see :meth:`TTLV.to_json`)."""
    if not isinstance(node, TTLV):
        raise TTLVError("can only encode TTLV nodes, got %r" % (node,))
    return node.to_json()
