# -*- coding: utf-8 -*-
"""Codec tests: every type round-trips, the server's JSON forms decode, bad input is typed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.ttlv import TTLV, TTLVError

UTC = datetime.timezone.utc


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


# -- regressions: each of these escaped as another exception, or did not round-trip --------
# (tests/unit/plugins/module_utils/test_codec_properties.py found them; it checks the
# whole class with generated input)

class _NoOffset(datetime.tzinfo):
    """A tzinfo that knows no offset: the datetime is naive in all but name."""

    def utcoffset(self, dt):
        return None


def _nested(depth, leaf, wrap):
    for dummy in range(depth):
        leaf = wrap(leaf)
    return leaf


@pytest.mark.parametrize("wire, message", [
    ({"tag": "X", "type": [], "value": 1}, "unknown TTLV type"),  # was TypeError (unhashable)
    ({"tag": "X", "type": {"a": 1}, "value": 1}, "unknown TTLV type"),
    ({"tag": "X", "value": [], 1: None}, "unexpected keys 1"),  # was TypeError (join of an int)
    (_nested(3000, {"tag": "L", "value": []}, lambda node: {"tag": "S", "value": [node]}),
     "nested more than 64 deep"),  # was RecursionError
    ({"tag": "X", "type": "Integer", "value": _nested(3000, [], lambda inner: [inner])},
     "invalid Integer"),  # was RecursionError from repr() of the value in the message
    ({"tag": "X", "type": "Integer", "value": 10 ** 5000}, "int of 16610 bits"),  # was ValueError from repr()
    ({"tag": "X", "type": "DateTime", "value": "2024-01-01T00:00:00Z\n"}, "RFC 3339"),  # "$" took the newline
    ({"tag": "X", "type": "DateTime", "value": "\uff12\uff10\uff12\uff14-01-01T00:00:00Z"}, "RFC 3339"),
])
def test_odd_input_raises_the_typed_error(wire, message):
    with pytest.raises(TTLVError, match=message):
        ttlv.decode(wire)


# The ranges the constructor checks, which decoding checks in the decoders (it makes nodes
# without the constructor): out of range, a value is refused with the constructor's words.
# (And keys besides tag, type and value, which decoding finds by counting keys, are named.)
@pytest.mark.parametrize("wire, message", [
    ({"tag": "X", "type": "Integer", "value": 1 << 31},
     "X: invalid Integer 2147483648: an Integer must be an integer in [-2147483648, 2147483647], got 2147483648"),
    ({"tag": "X", "type": "Integer", "value": "0x0000000100000000"},
     "X: invalid Integer '0x0000000100000000': an Integer must be an integer in [-2147483648, 2147483647], "
     "got 4294967296"),
    ({"tag": "X", "type": "LongInteger", "value": 1 << 63},
     "X: invalid LongInteger 9223372036854775808: a LongInteger must be an integer in [-9223372036854775808, "
     "9223372036854775807], got 9223372036854775808"),
    ({"tag": "X", "type": "Interval", "value": 1 << 32},
     "X: invalid Interval 4294967296: an Interval must be an integer in [0, 4294967295], got 4294967296"),
    ({"tag": "X", "type": "Enumeration", "value": -1},
     "X: invalid Enumeration -1: an Enumeration value must be an integer in [0, 4294967295], got -1"),
    ({"tag": "X", "type": "Enumeration", "value": "0x0000000100000000"},
     "X: invalid Enumeration '0x0000000100000000': an Enumeration value must be an integer in [0, 4294967295], "
     "got 4294967296"),
    ({"tag": "X", "type": "DateTimeExtended", "value": "0x008000000000000000"},
     "X: invalid DateTimeExtended '0x008000000000000000': a DateTimeExtended must be an integer in "
     "[-9223372036854775808, 9223372036854775807], got 9223372036854775808"),
    ({"tag": "S", "value": [{"tag": "X", "value": [], "a": 1, "b": 2}]}, "S/X: unexpected keys a, b"),
    ({"tag": "S", "value": [{"tag": "X", "type": "Integer", "value": 1, "types": 2}]}, "S/X: unexpected keys types"),
])
def test_out_of_range_values_are_refused_as_the_constructor_refuses_them(wire, message):
    with pytest.raises(TTLVError) as caught:
        ttlv.decode(wire)
    assert str(caught.value) == message


def test_decoded_values_are_those_the_constructor_makes():
    wire = {"tag": "S", "value": [
        {"tag": "D", "type": "DateTime", "value": "2024-01-01T01:00:00+01:00"},
        {"tag": "Z", "type": "DateTime", "value": "2024-01-01T00:00:00z"},
        {"tag": "B", "type": "ByteString", "value": "ab"},
        {"tag": "E", "type": "Enumeration", "value": "0x0000000B"}]}
    node = ttlv.decode(wire)
    assert [type(child) for child in node.value] == [TTLV] * 4
    assert node == ttlv.structure("S", [ttlv.date_time("D", datetime.datetime(2024, 1, 1, tzinfo=UTC)),
                                        ttlv.date_time("Z", datetime.datetime(2024, 1, 1, tzinfo=UTC)),
                                        ttlv.byte_string("B", b"\xab"), ttlv.enumeration("E", 11)])
    assert all(child.value.tzinfo is UTC for child in node.value[:2])


def test_messages_are_one_bounded_line():
    with pytest.raises(TTLVError) as caught:
        ttlv.decode({"tag": "A\nB" * 100, "value": [{"tag": "C", "type": "Integer", "value": "x\n" * 10000}]})
    text = str(caught.value)
    assert "\n" not in text and len(text) < 600


@pytest.mark.parametrize("moment", [datetime.datetime(1, 1, 1, tzinfo=UTC),
                                    datetime.datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)])
def test_date_times_before_year_1000_round_trip(moment):
    node = ttlv.date_time("D", moment)  # strftime's %Y wrote "999", which does not decode
    assert ttlv.encode(node)["value"][:4] == "%04d" % moment.year
    assert roundtrip(node) == node


def test_constructors_refuse_with_the_typed_error():
    east = datetime.timezone(datetime.timedelta(hours=1))
    with pytest.raises(TTLVError, match="years 1 to 9999"):  # was OverflowError
        ttlv.date_time("D", datetime.datetime(1, 1, 1, tzinfo=east))
    with pytest.raises(TTLVError, match="timezone-aware"):  # was read as local time
        ttlv.date_time("D", datetime.datetime(2024, 1, 1, tzinfo=_NoOffset()))
    with pytest.raises(TTLVError, match="not starting with 0x"):  # "0xZZ" encoded, then failed to decode
        ttlv.enumeration("E", "0xZZ")


def test_date_time_extended_has_a_constructor():
    node = ttlv.date_time_extended("X", -1)
    assert ttlv.encode(node) == {"tag": "X", "type": "DateTimeExtended", "value": "0xFFFFFFFFFFFFFFFF"}
    assert roundtrip(node) == node


def test_typed_access_refuses_a_node_of_another_type():
    node = ttlv.structure("R", [ttlv.integer("UniqueIdentifier", 1), ttlv.text_string("Name", "n"),
                                ttlv.structure("Id", []), ttlv.text_string("Item", "a"), ttlv.integer("Item", 2)])
    with pytest.raises(TTLVError, match="R/UniqueIdentifier is a Integer, expected a TextString"):
        node.require("UniqueIdentifier", types=ttlv.TEXT_STRING)
    with pytest.raises(TTLVError, match="expected a Enumeration or TextString"):
        node.get("UniqueIdentifier", types=(ttlv.ENUMERATION, ttlv.TEXT_STRING))
    assert node.get("Name", types=ttlv.TEXT_STRING) == "n"
    assert node.get("Missing", types=ttlv.TEXT_STRING, default="d") == "d"
    with pytest.raises(TTLVError, match="R/Item is a Integer"):
        ttlv.vector_items(node, "Item", types=ttlv.TEXT_STRING)
    assert ttlv.vector_items(node, "Id", types=ttlv.TEXT_STRING) == []  # an empty wrapper: no items
    assert ttlv.vector_items(node, "Id") == [ttlv.structure("Id", [])]
