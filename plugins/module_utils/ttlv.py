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

This file holds the node, its constructors and ``encode`` / ``decode``; the per-type value
checks, encoders and decoders are in ttlv_values.py, whose names callers use are importable
from here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils.ttlv_values import (
    BIG_INTEGER, BOOLEAN, BYTE_STRING, DATE_TIME, DATE_TIME_EXTENDED, DECODERS, ENCODERS, ENUMERATION, INTEGER,
    INTERVAL, LONG_INTEGER, STRUCTURE, TEXT_STRING, TTLVError, check_value, show_value, tag_label, tag_path)
from ansible_collections.pkimanager.kms.plugins.module_utils.ttlv_values import (  # noqa: F401  pylint: disable=unused-import
    TYPES)  # part of this module's API too

# How deep decoded Structures may nest: KMIP messages use about ten levels, and a deeper
# answer would otherwise end in a RecursionError rather than a TTLVError.
MAX_DEPTH = 64
# The keys of a node's JSON object.
_NODE_KEYS = frozenset(("tag", "type", "value"))


class TTLV:
    """One KMIP node: a tag, a type from :data:`TYPES` and a Python value."""

    __slots__ = ("tag", "type", "value")

    def __init__(self, tag, type_, value):
        if not isinstance(tag, str) or not tag:
            raise TTLVError("a tag must be a non-empty string, got %s" % show_value(tag))
        self.tag = tag
        self.type = type_
        self.value = _children(value) if type_ == STRUCTURE else check_value(type_, value)

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
        return _of_type(node, kwargs.get("types"), self.tag, tags).value

    def require(self, *tags, **kwargs):
        """The node at a path of tags; TTLVError naming the missing step otherwise
        (or naming the type found, when it is not one of ``types``, as for :meth:`get`)."""
        node = self
        for depth, tag in enumerate(tags):
            child = node.find(tag)
            if child is None:
                raise TTLVError("%s has no %s" % (tag_path((self.tag,) + tags[:depth]), tag_label(tag)))
            node = child
        return _of_type(node, kwargs.get("types"), self.tag, tags)

    # -- JSON ---------------------------------------------------------------------------

    def to_json(self):
        """The JSON-ready dict Cosmian KMS accepts (Structures without ``type``)."""
        if self.type == STRUCTURE:
            return {"tag": self.tag, "value": [child.to_json() for child in self.value]}
        return {"tag": self.tag, "type": self.type, "value": ENCODERS[self.type](self.value)}

    @classmethod
    def from_json(cls, data):
        """Decode a node from its JSON form (parsed JSON: dicts and lists)."""
        return _from_json(cls, data, ())


def _from_json(cls, data, parents):
    """The node of JSON ``data`` found in the Structures tagged ``parents`` (the path that
    messages name, and the depth). DECODERS make only values that check_value accepts, so
    the nodes are made without the constructor, which would check them again."""
    if not isinstance(data, dict):
        raise TTLVError("%sa TTLV node must be a JSON object, got %s" % (_at(parents), type(data).__name__))
    tag = data.get("tag")
    if not isinstance(tag, str) or not tag:
        raise TTLVError("%sa TTLV node needs a non-empty string 'tag'" % _at(parents))
    if len(parents) >= MAX_DEPTH:
        raise TTLVError("%s: Structures nested more than %d deep" % (tag_path(parents + (tag,)), MAX_DEPTH))
    if "value" not in data:
        raise TTLVError("%s: a TTLV node needs a 'value'" % tag_path(parents + (tag,)))
    if len(data) > 2 and (len(data) > 3 or "type" not in data):  # a key besides tag, value and type
        unknown = sorted(tag_label(key) if isinstance(key, str) and key else show_value(key)
                         for key in data if key not in _NODE_KEYS)
        raise TTLVError("%s: unexpected keys %s%s" % (tag_path(parents + (tag,)), ", ".join(unknown[:5]),
                                                      ", ..." if len(unknown) > 5 else ""))
    type_ = data.get("type", STRUCTURE)
    raw = data["value"]
    if type_ == STRUCTURE:
        if not isinstance(raw, list):
            raise TTLVError("%s: a Structure's value must be an array" % tag_path(parents + (tag,)))
        where = parents + (tag,)
        type_, value = STRUCTURE, [_from_json(cls, item, where) for item in raw]
    else:
        decoder = DECODERS.get(type_) if isinstance(type_, str) else None
        if decoder is None:
            raise TTLVError("%s: unknown TTLV type %s" % (tag_path(parents + (tag,)), show_value(type_)))
        try:
            value = decoder(raw)
        except (TTLVError, ValueError, TypeError, OverflowError) as exc:
            raise TTLVError("%s: invalid %s %s: %s" % (tag_path(parents + (tag,)), type_, show_value(raw), exc))
    node = object.__new__(cls)
    node.tag, node.type, node.value = tag, type_, value
    return node


def _children(value):
    """The value of a Structure: a list of TTLV nodes."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(c, TTLV) for c in value):
        raise TTLVError("a Structure holds a list of TTLV nodes, got %s" % show_value(value))
    return list(value)


def _at(where):
    return "%s: " % tag_path(where) if where else ""


def _of_type(node, types, root, tags):
    """``node``, found at the path of ``tags`` from the node tagged ``root``, when ``types`` is
    None or names its type (one type or a tuple of them)."""
    if types is None:
        return node
    types = (types,) if isinstance(types, str) else types
    if node.type in types:
        return node
    raise TTLVError("%s is a %s, expected a %s" % (tag_path((root,) + tags), node.type, " or ".join(types)))


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
    return [_of_type(item, expected, node.tag, (tag,)) for item in found]


def decode(data):
    """Decode parsed JSON into a TTLV node (see :meth:`TTLV.from_json`)."""
    return TTLV.from_json(data)


def encode(node):
    """Encode a TTLV node into its JSON-ready form (see :meth:`TTLV.to_json`)."""
    if not isinstance(node, TTLV):
        raise TTLVError("can only encode TTLV nodes, got %r" % (node,))
    return node.to_json()
