# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-type half of the KMIP 2.1 JSON TTLV codec: the type names, the check of a
Python value for each type, and each type's JSON encoder and decoder (ttlv.py has the
table of types, Python values and JSON forms).

Apart from ttlv.py, which holds the node (``TTLV``), its constructors and ``encode`` /
``decode``, because these rules are per type and know nothing of nodes; ttlv.py checks
Structures itself and re-exports every name here that callers use.
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


def show_value(value):
    """A short one-line repr of any value for a message (no huge ints, strings or nesting)."""
    try:
        return _REPR.repr(value)
    except (ValueError, RecursionError):  # an int beyond the str conversion limit
        return "<%s of %d bits>" % (type(value).__name__, value.bit_length()) if _is_int(value) else "<%s>" % (
            type(value).__name__)


def tag_label(tag):
    """A tag as a path step in messages: as is when short and printable, else its repr."""
    return tag if len(tag) <= _SHOWN and tag.isprintable() else show_value(tag)


def tag_path(tags):
    """Tags as a ``/``-separated path for messages, its start cut off when long."""
    path = "/".join(tag_label(tag) for tag in tags)
    return path if len(path) <= 3 * _SHOWN else "..." + path[-3 * _SHOWN:]


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_range(value, bounds, what):
    if not _is_int(value) or not bounds[0] <= value <= bounds[1]:
        raise TTLVError("%s must be an integer in [%d, %d], got %s" % (what, bounds[0], bounds[1], show_value(value)))
    return value


def check_value(type_, value):
    """Validate a Python value for a type other than Structure (``TTLV`` checks those), so
    that a bad node fails where it is built."""
    if type_ == INTEGER:
        return _check_range(value, _INT32, "an Integer")
    if type_ == LONG_INTEGER or type_ == DATE_TIME_EXTENDED:
        return _check_range(value, _INT64, "a %s" % type_)
    if type_ == INTERVAL:
        return _check_range(value, _UINT32, "an Interval")
    if type_ == BIG_INTEGER:
        if not _is_int(value):
            raise TTLVError("a BigInteger must be an integer, got %s" % show_value(value))
        return value
    if type_ == ENUMERATION:
        if _is_int(value):
            return _check_range(value, _UINT32, "an Enumeration value")
        # A name cannot look like the hex form of a value: it would decode as a number.
        if isinstance(value, str) and value and value[:2] not in ("0x", "0X"):
            return value
        raise TTLVError("an Enumeration is a variant name (not starting with 0x) or an integer, got %s"
                        % show_value(value))
    if type_ == BOOLEAN:
        if not isinstance(value, bool):
            raise TTLVError("a Boolean must be true or false, got %s" % show_value(value))
        return value
    if type_ == TEXT_STRING:
        if not isinstance(value, str):
            raise TTLVError("a TextString must be a string, got %s" % show_value(value))
        return value
    if type_ == BYTE_STRING:
        if not isinstance(value, (bytes, bytearray)):
            raise TTLVError("a ByteString must be bytes, got %s" % show_value(value))
        return bytes(value)
    if type_ == DATE_TIME:
        if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
            raise TTLVError("a DateTime must be a timezone-aware datetime, got %s" % show_value(value))
        try:
            return value.astimezone(_UTC)
        except OverflowError:
            raise TTLVError("a DateTime must be within years 1 to 9999 in UTC, got %s" % show_value(value))
    raise TTLVError("unknown TTLV type %s (known: %s)" % (show_value(type_), ", ".join(TYPES)))


# -- per-type JSON encoding -----------------------------------------------------------

def _hex_twos_complement(value, width):
    """Uppercase ``0x`` hex of a signed integer in ``width`` bytes (two's complement)."""
    return "0x" + (value & ((1 << (8 * width)) - 1)).to_bytes(width, "big").hex().upper()


def _encode_big_integer(value):
    width = max(1, (value.bit_length() + 8) // 8)  # room for the sign bit
    width = (width + 7) // 8 * 8
    return _hex_twos_complement(value, width)


def _encode_enumeration(value):
    return value if isinstance(value, str) else "0x%08X" % value


def _encode_date_time(value):
    value = value.astimezone(_UTC)
    # Not strftime: its %Y gives "999", not "0999", for years before 1000.
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (value.year, value.month, value.day, value.hour, value.minute,
                                              value.second)
    if value.microsecond:
        text += (".%06d" % value.microsecond).rstrip("0")
    return text + "Z"


ENCODERS = {
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
        return check_value(ENUMERATION, raw)
    if isinstance(raw, str) and raw[:2] in ("0x", "0X"):
        return check_value(ENUMERATION, int(_hex_digits(raw), 16))
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
    zone = _UTC
    if sign:
        offset = datetime.timedelta(hours=int(off_h), minutes=int(off_m))
        zone = datetime.timezone(-offset if sign == "-" else offset)
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    value = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                              micro, tzinfo=zone)
    return value.astimezone(_UTC)


def _decode_unsigned(raw):
    if _is_int(raw):
        return raw
    raise TTLVError("expected a JSON integer")


def _checked(type_, decoder):
    """``decoder`` followed by check_value, for a decoder that can make a value the type does
    not hold (a JSON number of any size, say)."""
    def decode(raw):
        return check_value(type_, decoder(raw))
    return decode


# Each decoder returns only values that check_value accepts unchanged for its type, which
# TTLV.from_json relies on to make nodes without checking them again: those not _checked
# make no others (test_codec_properties.py checks every one).
DECODERS = {
    INTEGER: _checked(INTEGER, _decode_number_or_hex),
    LONG_INTEGER: _checked(LONG_INTEGER, _decode_number_or_hex),
    BIG_INTEGER: _signed_from_hex,
    ENUMERATION: _decode_enumeration,
    BOOLEAN: _decode_boolean,
    TEXT_STRING: _decode_text,
    BYTE_STRING: _decode_bytes,
    DATE_TIME: _decode_date_time,
    INTERVAL: _checked(INTERVAL, _decode_unsigned),
    DATE_TIME_EXTENDED: _checked(DATE_TIME_EXTENDED, _signed_from_hex),
}
