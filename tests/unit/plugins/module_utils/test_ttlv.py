# -*- coding: utf-8 -*-
"""Codec tests: every type round-trips, the server's JSON forms decode, bad input is typed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.ttlv import TTLV, TTLVError

UTC = datetime.timezone.utc
TAGS = st.sampled_from(["UniqueIdentifier", "Attributes", "Tag", "X", "RequestPayload"])


def roundtrip(node):
    """Through real JSON text, as it travels."""
    return ttlv.decode(json.loads(json.dumps(ttlv.encode(node))))


# -- server wire forms (cosmian_kmip ttlv/serialize.rs) -----------------------------------

@pytest.mark.parametrize("node, wire", [
    (ttlv.integer("I", 2601), {"tag": "I", "type": "Integer", "value": 2601}),
    (ttlv.long_integer("L", 1), {"tag": "L", "type": "LongInteger", "value": "0x0000000000000001"}),
    (ttlv.long_integer("L", -1), {"tag": "L", "type": "LongInteger", "value": "0xFFFFFFFFFFFFFFFF"}),
    (ttlv.big_integer("B", 0), {"tag": "B", "type": "BigInteger", "value": "0x0000000000000000"}),
    (ttlv.big_integer("B", 255), {"tag": "B", "type": "BigInteger", "value": "0x00000000000000FF"}),
    (ttlv.big_integer("B", -1), {"tag": "B", "type": "BigInteger", "value": "0xFFFFFFFFFFFFFFFF"}),
    (ttlv.big_integer("B", 1 << 63), {"tag": "B", "type": "BigInteger",
                                      "value": "0x00000000000000008000000000000000"}),
    (ttlv.enumeration("E", "RSA"), {"tag": "E", "type": "Enumeration", "value": "RSA"}),
    (ttlv.enumeration("E", 11), {"tag": "E", "type": "Enumeration", "value": "0x0000000B"}),
    (ttlv.boolean("F", True), {"tag": "F", "type": "Boolean", "value": True}),
    (ttlv.text_string("T", "é"), {"tag": "T", "type": "TextString", "value": "é"}),
    (ttlv.byte_string("S", b'["myKey"]'), {"tag": "S", "type": "ByteString", "value": "5B226D794B6579225D"}),
    (ttlv.date_time("D", datetime.datetime(2024, 1, 1, tzinfo=UTC)),
     {"tag": "D", "type": "DateTime", "value": "2024-01-01T00:00:00Z"}),
    (ttlv.interval("V", 86400), {"tag": "V", "type": "Interval", "value": 86400}),
    (ttlv.structure("S", [ttlv.integer("I", 1)]),
     {"tag": "S", "value": [{"tag": "I", "type": "Integer", "value": 1}]}),
])
def test_encodes_as_the_server_does_and_decodes_back(node, wire):
    assert ttlv.encode(node) == wire
    assert ttlv.decode(wire) == node


@pytest.mark.parametrize("wire, expected", [
    ({"tag": "I", "type": "Integer", "value": "0x00000A29"}, 2601),
    ({"tag": "I", "type": "Integer", "value": "0xFFFFFFFF"}, None),  # out of i32 after sign
    ({"tag": "L", "type": "LongInteger", "value": 42}, 42),
    ({"tag": "E", "type": "Enumeration", "value": 4}, 4),
    ({"tag": "S", "type": "ByteString", "value": "5b22"}, b'["'),
    ({"tag": "D", "type": "DateTime", "value": "2024-01-01T02:00:00+02:00"},
     datetime.datetime(2024, 1, 1, tzinfo=UTC)),
    ({"tag": "D", "type": "DateTime", "value": "2024-01-01T00:00:00.5Z"},
     datetime.datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ({"tag": "D", "type": "DateTime", "value": "0x0000000065920080"},
     datetime.datetime(2024, 1, 1, tzinfo=UTC)),
])
def test_accepts_the_alternative_forms_the_server_accepts(wire, expected):
    if expected is None:
        # 0xFFFFFFFF as 8 hex digits is zero-extended by the server, so it exceeds i32.
        with pytest.raises(TTLVError):
            ttlv.decode(wire)
    else:
        assert ttlv.decode(wire).value == expected


def test_structure_navigation():
    node = ttlv.structure("R", [
        ttlv.text_string("UniqueIdentifier", "a"),
        ttlv.text_string("UniqueIdentifier", "b"),
        ttlv.structure("Attributes", [ttlv.enumeration("CryptographicAlgorithm", "RSA")]),
    ])
    assert node.find("UniqueIdentifier").value == "a"
    assert [n.value for n in node.find_all("UniqueIdentifier")] == ["a", "b"]
    assert node.get("Attributes", "CryptographicAlgorithm") == "RSA"
    assert node.get("Attributes", "Missing", default=7) == 7
    with pytest.raises(TTLVError, match="R/Attributes has no Missing"):
        node.require("Attributes", "Missing")
    assert ttlv.integer("I", 1).children() == []


@pytest.mark.parametrize("wire, message", [
    ([], "JSON object"),
    ({"value": 1}, "tag"),
    ({"tag": "X"}, "needs a 'value'"),
    ({"tag": "X", "value": 1}, "Structure's value must be an array"),
    ({"tag": "X", "type": "Nope", "value": 1}, "unknown TTLV type"),
    ({"tag": "X", "type": "Integer", "value": 1.5}, "invalid Integer"),
    ({"tag": "X", "type": "Integer", "value": True}, "invalid Integer"),
    ({"tag": "X", "type": "Integer", "value": 1 << 40}, "invalid Integer"),
    ({"tag": "X", "type": "LongInteger", "value": "0x12"}, "8 or 16"),
    ({"tag": "X", "type": "BigInteger", "value": "12"}, "0x"),
    ({"tag": "X", "type": "BigInteger", "value": "0xZZ"}, "hex"),
    ({"tag": "X", "type": "ByteString", "value": "ABC"}, "hex"),
    ({"tag": "X", "type": "Boolean", "value": 1}, "true or false"),
    ({"tag": "X", "type": "TextString", "value": 1}, "string"),
    ({"tag": "X", "type": "DateTime", "value": "yesterday"}, "RFC 3339"),
    ({"tag": "X", "type": "DateTime", "value": "2024-13-01T00:00:00Z"}, "DateTime"),
    ({"tag": "X", "type": "Interval", "value": -1}, "Interval"),
    ({"tag": "X", "type": "Enumeration", "value": ""}, "Enumeration"),
    ({"tag": "X", "value": [{"tag": "Y", "type": "Integer"}]}, "X/Y"),
    ({"tag": "X", "value": [], "extra": 1}, "unexpected keys"),
])
def test_malformed_input_raises_the_typed_error(wire, message):
    with pytest.raises(TTLVError, match=message):
        ttlv.decode(wire)


def test_constructors_refuse_wrong_python_values():
    for build, bad in [(ttlv.integer, "1"), (ttlv.byte_string, "AB"), (ttlv.boolean, 0),
                       (ttlv.date_time, datetime.datetime(2024, 1, 1)), (ttlv.text_string, b"x")]:
        with pytest.raises(TTLVError):
            build("T", bad)
    with pytest.raises(TTLVError):
        TTLV("T", "Float", 1.0)
    with pytest.raises(TTLVError):
        ttlv.encode({"tag": "T"})


# -- property tests --------------------------------------------------------------------

DATETIMES = st.datetimes(min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(9999, 12, 31),
                         timezones=st.just(UTC))
LEAVES = st.one_of(
    st.builds(ttlv.integer, TAGS, st.integers(-(1 << 31), (1 << 31) - 1)),
    st.builds(ttlv.long_integer, TAGS, st.integers(-(1 << 63), (1 << 63) - 1)),
    st.builds(ttlv.big_integer, TAGS, st.integers(-(1 << 4100), 1 << 4100)),
    st.builds(ttlv.enumeration, TAGS, st.one_of(st.sampled_from(["RSA", "PKCS8", "Active"]),
                                                st.integers(0, (1 << 32) - 1))),
    st.builds(ttlv.boolean, TAGS, st.booleans()),
    st.builds(ttlv.text_string, TAGS, st.text()),
    st.builds(ttlv.byte_string, TAGS, st.binary(max_size=64)),
    st.builds(ttlv.date_time, TAGS, DATETIMES),
    st.builds(ttlv.interval, TAGS, st.integers(0, (1 << 32) - 1)),
)
TREES = st.recursive(LEAVES, lambda kids: st.builds(ttlv.structure, TAGS, st.lists(kids, max_size=5)),
                     max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_any_tree_round_trips(node):
    assert roundtrip(node) == node


@settings(max_examples=300, deadline=None)
@given(st.integers(-(1 << 2048), 1 << 2048))
def test_big_integers_are_padded_twos_complement(value):
    text = ttlv.encode(ttlv.big_integer("B", value))["value"]
    digits = text[2:]
    assert text.startswith("0x") and digits == digits.upper() and len(digits) % 16 == 0
    assert int.from_bytes(bytes.fromhex(digits), "big", signed=True) == value


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
                    lambda kids: st.one_of(st.lists(kids, max_size=4),
                                           st.dictionaries(st.sampled_from(["tag", "type", "value", "x"]),
                                                           kids, max_size=4)),
                    max_leaves=10))
def test_arbitrary_json_never_leaks_untyped_errors(data):
    try:
        ttlv.decode(data)
    except TTLVError:
        pass
