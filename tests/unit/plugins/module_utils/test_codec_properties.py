# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based tests (hypothesis) of the TTLV codec and of the parsers of KMS answers.

=====================================  =================================================
property                               input
=====================================  =================================================
every type round-trips                 trees of every TTLV type, nested, through JSON
                                       text: decode(encode(x)) == x, encoding canonical
each type round-trips at its bounds    one type at a time, its whole value range
BigInteger is padded two's complement  integers of up to 2048 bits
constructors refuse or round-trip      any Python value for any type: TTLVError or a
                                       node that round-trips
decoders make what constructors keep   each type's decoder given any JSON value: what it
                                       returns passes check_value unchanged
decode raises only TTLVError           arbitrary JSON; TTLV-shaped objects with wrong
                                       types and values; valid messages with one node
                                       broken; Structures nested thousands deep. The
                                       error is one line of bounded length; what decodes
                                       round-trips
parsers raise only TTLVError           every ``parse`` of operations.py, given any
                                       payload of the tags it reads or a well-formed
                                       answer with one node broken; what they return has
                                       the types callers rely on
the client raises only KmsError        KmsClient.call and .batch with any JSON answer
parse_reason never raises              any status and error body: a known reason or
                                       None, and a bounded one-line message
=====================================  =================================================

The codec's contract is TTLVError (a ValueError); the parsers keep to it too, so that the
client's Invalid_Response says what was wrong (the client turns anything a parser raises
into KmsError, which the client properties check end to end).

CI runs 200 examples per property (a few seconds); ``HYPOTHESIS_PROFILE=fuzz`` (``make
fuzz``) runs 10,000.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import json
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import errors, ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.ttlv import TTLV, TTLVError

EXAMPLES = {"fuzz": 10000}.get(os.environ.get("HYPOTHESIS_PROFILE"), 200)
PROFILE = settings(max_examples=EXAMPLES, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MESSAGE_LIMIT = 1000
UTC = datetime.timezone.utc
INT32 = (-(1 << 31), (1 << 31) - 1)
INT64 = (-(1 << 63), (1 << 63) - 1)
UINT32 = (0, (1 << 32) - 1)


def roundtrip(node):
    """Through real JSON text, as it travels."""
    return ttlv.decode(json.loads(json.dumps(ttlv.encode(node))))


def check_error(exc):
    """A codec or parser error is one line of bounded length."""
    text = str(exc)
    assert text and "\n" not in text and "\r" not in text and len(text) <= MESSAGE_LIMIT, text


# -- valid trees -------------------------------------------------------------------------

REAL_TAGS = ["UniqueIdentifier", "Attributes", "Attribute", "AttributeValue", "Link", "Object", "KeyBlock",
             "KeyValue", "KeyMaterial", "CertificateValue", "State", "RequestPayload", "BatchItem"]
TAGS = st.one_of(st.sampled_from(REAL_TAGS), st.text(min_size=1, max_size=12))
OFFSETS = st.builds(datetime.timezone, st.timedeltas(min_value=-datetime.timedelta(hours=23, minutes=59),
                                                     max_value=datetime.timedelta(hours=23, minutes=59)))
DATETIMES = st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30),
                         timezones=st.one_of(st.just(UTC), OFFSETS))
ENUM_NAMES = st.one_of(st.sampled_from(["RSA", "PKCS8", "Active", "PublicKeyLink", "X509"]),
                       st.text(min_size=1).filter(lambda name: name[:2] not in ("0x", "0X")))
VALUES = {
    ttlv.INTEGER: st.integers(*INT32),
    ttlv.LONG_INTEGER: st.integers(*INT64),
    ttlv.BIG_INTEGER: st.one_of(st.integers(), st.integers(-(1 << 4100), 1 << 4100)),
    ttlv.ENUMERATION: st.one_of(ENUM_NAMES, st.integers(*UINT32)),
    ttlv.BOOLEAN: st.booleans(),
    ttlv.TEXT_STRING: st.text(),
    ttlv.BYTE_STRING: st.binary(max_size=64),
    ttlv.DATE_TIME: DATETIMES,
    ttlv.INTERVAL: st.integers(*UINT32),
    ttlv.DATE_TIME_EXTENDED: st.integers(*INT64),
}
assert set(VALUES) == set(ttlv.TYPES) - {ttlv.STRUCTURE}


def leaves(tags, values=None):
    return st.one_of([st.builds(TTLV, tags, st.just(type_), strategy)
                      for type_, strategy in sorted((values or VALUES).items())])


def trees(tags, max_leaves=25, values=None):
    return st.recursive(leaves(tags, values), lambda kids: st.builds(ttlv.structure, tags, st.lists(kids, max_size=5)),
                        max_leaves=max_leaves)


TREES = trees(TAGS)


@PROFILE
@given(TREES)
def test_every_type_round_trips_at_any_nesting(node):
    assert roundtrip(node) == node
    assert ttlv.encode(roundtrip(node)) == ttlv.encode(node)  # one canonical encoding


@pytest.mark.parametrize("type_", sorted(VALUES))
@PROFILE
@given(data=st.data())
def test_each_type_round_trips_over_its_range(type_, data):
    node = TTLV(data.draw(TAGS), type_, data.draw(VALUES[type_]))
    assert roundtrip(node) == node
    wire = ttlv.encode(node)
    assert set(wire) == {"tag", "type", "value"} and wire["type"] == type_


@PROFILE
@given(st.integers(-(1 << 2048), 1 << 2048))
def test_big_integers_are_padded_twos_complement(value):
    text = ttlv.encode(ttlv.big_integer("B", value))["value"]
    digits = text[2:]
    assert text.startswith("0x") and digits == digits.upper() and len(digits) % 16 == 0
    assert int.from_bytes(bytes.fromhex(digits), "big", signed=True) == value


ANY_PYTHON = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(1 << 70), 1 << 70), st.floats(), st.text(), st.binary(),
    st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), OFFSETS)), st.dates(), st.timedeltas(),
    st.lists(st.one_of(st.integers(), leaves(TAGS)), max_size=3), st.dictionaries(st.text(), st.integers()),
    st.sampled_from(["0x", "0x00", "0XAB", "", "2024-01-01T00:00:00Z"]))


@PROFILE
@given(st.one_of(TAGS, ANY_PYTHON), st.one_of(st.sampled_from(ttlv.TYPES), ANY_PYTHON), ANY_PYTHON)
def test_constructors_refuse_with_ttlv_error_or_round_trip(tag, type_, value):
    try:
        node = TTLV(tag, type_, value)
    except TTLVError as exc:
        check_error(exc)
        return
    assert roundtrip(node) == node


# -- decoding anything -------------------------------------------------------------------

def decodes_or_refuses(data):
    """decode raises nothing but a one-line TTLVError; what it accepts round-trips."""
    try:
        node = ttlv.decode(data)
    except TTLVError as exc:
        check_error(exc)
        return None
    assert roundtrip(node) == node
    return node


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
JSON = st.recursive(JSON_SCALARS, lambda kids: st.one_of(
    st.lists(kids, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(["tag", "type", "value"]), st.text(max_size=5)), kids, max_size=4)),
    max_leaves=20)


@PROFILE
@given(JSON)
def test_decoding_arbitrary_json_raises_only_ttlv_errors(data):
    decodes_or_refuses(data)


HEX = st.one_of(
    st.builds(lambda prefix, raw, upper: prefix + (raw.hex().upper() if upper else raw.hex()),
              st.sampled_from(["0x", "0X", ""]), st.binary(max_size=20), st.booleans()),
    st.from_regex(r"0[xX][0-9A-Fa-fg \n]{0,40}", fullmatch=True))
DATE_TEXT = st.from_regex(r"\d{1,5}-\d{1,2}-\d{1,2}[Tt ]\d{1,2}:\d{2}:\d{2}(\.\d{0,9})?([Zz]|[+-]\d{2}:?\d{2})?\n?",
                          fullmatch=True)
EDGES = st.sampled_from([INT32[0] - 1, INT32[0], INT32[1], INT32[1] + 1, UINT32[1], UINT32[1] + 1, INT64[0] - 1,
                         INT64[0], INT64[1], INT64[1] + 1, -1, 0, 1, 1 << 200]) | st.builds(pow, st.just(10), st.just(5000))
RAW_VALUES = st.one_of(JSON_SCALARS, HEX, DATE_TEXT, EDGES, st.integers(-(1 << 70), 1 << 70),
                       st.sampled_from(["", "0x", "RSA", "true", "1.5", "NaN"]), st.lists(JSON_SCALARS, max_size=2))
TYPE_NAMES = st.one_of(st.sampled_from(ttlv.TYPES), st.sampled_from(["structure", "Float", "", "Integer "]),
                       JSON_SCALARS, st.lists(st.none(), max_size=1), st.dictionaries(st.text(max_size=2), st.none()))
TAG_VALUES = st.one_of(TAGS, st.just(""), JSON_SCALARS, st.lists(st.text(), max_size=1))


def ttlv_shaped(children):
    return st.fixed_dictionaries({}, optional={
        "tag": TAG_VALUES, "type": TYPE_NAMES, "value": st.one_of(RAW_VALUES, st.lists(children, max_size=4)),
        "extra": JSON_SCALARS, 1: st.none()})


TTLV_SHAPED = st.recursive(st.fixed_dictionaries({"tag": TAGS, "type": TYPE_NAMES, "value": RAW_VALUES}),
                           ttlv_shaped, max_leaves=20)


@PROFILE
@given(TTLV_SHAPED)
def test_decoding_ttlv_shaped_objects_of_wrong_types_raises_only_ttlv_errors(data):
    decodes_or_refuses(data)


def json_nodes(wire):
    """Every node (dict) of an encoded tree, depth first."""
    found = [wire]
    if isinstance(wire.get("value"), list):
        for child in wire["value"]:
            found.extend(json_nodes(child))
    return found


@PROFILE
@given(TREES, st.data())
def test_decoding_a_valid_message_with_one_node_broken_raises_only_ttlv_errors(node, data):
    wire = ttlv.encode(node)
    target = data.draw(st.sampled_from(json_nodes(wire)))
    key = data.draw(st.sampled_from(["tag", "type", "value", "extra"]))
    if data.draw(st.booleans()) and key in target:
        del target[key]
    else:
        target[key] = data.draw(st.one_of(RAW_VALUES, TYPE_NAMES, TAG_VALUES, TTLV_SHAPED))
    decodes_or_refuses(wire)


@PROFILE
@given(st.integers(1, 3000), st.sampled_from(["structure", "list", "dict"]))
def test_deep_nesting_raises_a_ttlv_error_not_a_recursion_error(depth, shape):
    data = {"tag": "Leaf", "type": "Integer", "value": 1}
    for dummy in range(depth):
        if shape == "structure":
            data = {"tag": "S", "value": [data]}
        elif shape == "list":
            data = [data]
        else:
            data = {"tag": "S", "type": "Integer", "value": data}
    node = decodes_or_refuses({"tag": "Top", "value": [data]})
    if shape == "structure":
        assert (node is not None) == (depth + 2 <= ttlv.MAX_DEPTH)


@pytest.mark.parametrize("type_", sorted(VALUES))
@PROFILE
@given(data=st.data())
def test_what_a_decoder_makes_its_type_accepts_unchanged(type_, data):
    """TTLV.from_json makes nodes of what DECODERS return without the constructor's check."""
    raw = data.draw(st.one_of(RAW_VALUES, VALUES[type_].map(ttlv.ENCODERS[type_])))
    try:
        value = ttlv.DECODERS[type_](raw)
    except (TTLVError, ValueError, TypeError, OverflowError):
        return
    checked = ttlv.check_value(type_, value)
    assert checked == value and checked.__class__ is value.__class__
    assert getattr(checked, "tzinfo", None) is getattr(value, "tzinfo", None)


# -- the parsers of operations.py -------------------------------------------------------

def _der_samples():
    """A real SubjectPublicKeyInfo and certificate (DER), for answers that should parse."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "prop")])
    now = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return spki, cert.public_bytes(serialization.Encoding.DER)


SPKI_DER, CERT_DER = _der_samples()
IDS = st.one_of(st.sampled_from(["k", "pair-1", "3f2a"]), st.text(max_size=10))
UID = st.builds(ttlv.text_string, st.just("UniqueIdentifier"), IDS)


def _named(tag, strategy):
    return strategy.map(lambda node: TTLV(tag, node.type, node.value))


def _answer(*children):
    """A response payload Structure from child strategies (None children are left out)."""
    return st.tuples(*children).map(lambda kids: ttlv.structure("ResponsePayload", kids))


def _maybe(strategy):
    return st.one_of(st.none(), strategy)


TAG_ARRAYS = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["_kms_internal", "team:pki"])), max_size=4)
TAG_TEXTS = st.one_of(TAG_ARRAYS.map(json.dumps), JSON.map(json.dumps), st.text())
ATTRIBUTES = st.builds(lambda fields, links, tags: ttlv.structure("Attributes", fields + links + tags), st.tuples(
    _maybe(st.builds(ttlv.enumeration, st.just("ObjectType"), st.sampled_from(["PrivateKey", "PublicKey"]))),
    _maybe(st.builds(ttlv.enumeration, st.just("State"), st.sampled_from(["PreActive", "Active", "Deactivated"]))),
    _maybe(st.builds(ttlv.enumeration, st.just("CryptographicAlgorithm"), st.just("RSA"))),
    _maybe(st.builds(ttlv.integer, st.just("CryptographicLength"), st.sampled_from(ops.RSA_SIZES))),
    _maybe(st.builds(ttlv.date_time, st.just("ActivationDate"), DATETIMES)),
    _maybe(st.builds(ttlv.date_time, st.just("InitialDate"), DATETIMES)),
    _maybe(UID)).map(list),
    st.lists(st.builds(ops.link, st.sampled_from(["PublicKeyLink", "PrivateKeyLink", "CertificateLink"]), IDS),
             max_size=3),
    st.lists(st.builds(ops.vendor_attribute, st.sampled_from(["tag", "other"]),
                       st.one_of(st.builds(ttlv.text_string, st.just("AttributeValue"), TAG_ARRAYS.map(json.dumps)),
                                 st.builds(ttlv.byte_string, st.just("AttributeValue"),
                                           TAG_ARRAYS.map(lambda tags: json.dumps(tags).encode("ascii"))))),
             max_size=2))


def _id_list(tag, ids):
    return [ttlv.text_string(tag, value) for value in ids]


# For each distinct parse function: a representative operation, well-formed answers, the
# tags it reads (for random payloads), and what its result must look like.
PARSERS = {
    "uid": (ops.revoke("k"), _answer(UID)),
    "create_key_pair": (ops.create_key_pair(2048, "k"), _answer(
        st.builds(ttlv.text_string, st.just("PrivateKeyUniqueIdentifier"), IDS),
        st.builds(ttlv.text_string, st.just("PublicKeyUniqueIdentifier"), IDS))),
    "get_public_key": (ops.get_public_key("k"), _answer(
        UID, st.just(ttlv.enumeration("ObjectType", "PublicKey")),
        st.just(ttlv.structure("Object", [ttlv.structure("KeyBlock", [
            ttlv.enumeration("KeyFormatType", "PKCS8"),
            ttlv.structure("KeyValue", [ttlv.byte_string("KeyMaterial", SPKI_DER)])])])))),
    "get_certificate": (ops.get_certificate("k"), _answer(
        UID, st.just(ttlv.enumeration("ObjectType", "Certificate")),
        st.just(ttlv.structure("Object", [ttlv.enumeration("CertificateType", "X509"),
                                          ttlv.byte_string("CertificateValue", CERT_DER)])))),
    "get_attributes": (ops.get_attributes("k"), _answer(UID, ATTRIBUTES)),
    "get_symmetric_key": (ops.get_symmetric_key("k"), _answer(
        UID, st.just(ttlv.enumeration("ObjectType", "SymmetricKey")),
        st.binary(min_size=1, max_size=32).map(lambda key: ttlv.structure("Object", [ttlv.structure("KeyBlock", [
            ttlv.enumeration("KeyFormatType", "Raw"), ttlv.structure("KeyValue", [
                ttlv.byte_string("KeyMaterial", key)])])])))),
    "locate": (ops.locate(object_type="PrivateKey"), st.lists(IDS, max_size=4).map(
        lambda ids: ttlv.structure("ResponsePayload", [ttlv.integer("LocatedItems", len(ids))]
                                   + _id_list("UniqueIdentifier", ids)))),
}
# Tags the parsers read: random payloads are made of these, at any type and nesting.
PARSER_TAGS = st.sampled_from([
    "UniqueIdentifier", "PrivateKeyUniqueIdentifier", "PublicKeyUniqueIdentifier", "Object", "PublicKey",
    "Certificate", "SymmetricKey", "KeyBlock", "KeyValue", "KeyMaterial", "CertificateValue", "Attributes", "ObjectType",
    "State", "CryptographicAlgorithm", "CryptographicLength", "ActivationDate", "DeactivationDate",
    "InitialDate", "Link", "LinkType", "LinkedObjectIdentifier", "Attribute", "VendorIdentification",
    "AttributeName", "AttributeValue"])
# Values of every type, small: what matters to a parser is the type, and small values keep it fast.
SMALL_VALUES = dict(VALUES, **{
    ttlv.BIG_INTEGER: st.integers(-(1 << 70), 1 << 70),
    ttlv.ENUMERATION: st.one_of(st.sampled_from(["PublicKey", "PrivateKey", "Certificate", "Active", "RSA",
                                                 "PublicKeyLink", "Get", "0"]), st.integers(*UINT32)),
    ttlv.TEXT_STRING: st.one_of(st.sampled_from(["tag", "cosmian", "", '["a"]', "[1]", "{}"]), st.text(max_size=8)),
    ttlv.BYTE_STRING: st.one_of(st.sampled_from([b"", b'["a"]', b"\xff", SPKI_DER, CERT_DER]), st.binary(max_size=8)),
})
PARSER_TREES = trees(PARSER_TAGS, 8, SMALL_VALUES)
PAYLOADS = st.builds(ttlv.structure, st.just("ResponsePayload"), st.lists(PARSER_TREES, max_size=6))


def _optional(value, types):
    return value is None or (isinstance(value, types) and not isinstance(value, bool))


def _is_id_pair(value):
    return set(value) == {"private_key_id", "public_key_id"} and all(isinstance(v, str) for v in value.values())


def _is_material(value):
    return (_optional(value["object_id"], str) and isinstance(value["der"], bytes)
            and value["pem"].startswith("-----BEGIN "))


def _is_attributes(value):
    dates = [value[key] for key in ("activation_date", "deactivation_date", "initial_date")]
    return (all(_optional(value[key], (str, int)) for key in ("object_type", "state", "algorithm"))
            and _optional(value["length"], int) and _optional(value["unique_identifier"], str)
            and all(date is None or (isinstance(date, datetime.datetime) and date.utcoffset() is not None)
                    for date in dates)
            and isinstance(value["tags"], list) and all(isinstance(tag, str) for tag in value["tags"])
            and all(_optional(k, (str, int)) and _optional(v, str) for k, v in value["links"].items())
            and isinstance(value["vendor"], dict))


SHAPES = {
    "uid": lambda value: isinstance(value, str),
    "create_key_pair": _is_id_pair,
    "get_public_key": _is_material,
    "get_certificate": _is_material,
    "get_attributes": _is_attributes,
    "get_symmetric_key": lambda value: isinstance(value["key"], bytes) and _optional(value["object_id"], str),
    "locate": lambda value: isinstance(value, list) and all(isinstance(v, str) for v in value),
}


def parses_or_refuses(kind, payload):
    """A parser raises nothing but a one-line TTLVError; its result has the expected shape."""
    operation = PARSERS[kind][0]
    try:
        value = operation.parse(payload)
    except TTLVError as exc:
        check_error(exc)
        return None
    assert SHAPES[kind](value), value
    return value


@pytest.mark.parametrize("kind", sorted(PARSERS))
@PROFILE
@given(data=st.data())
def test_well_formed_answers_parse(kind, data):
    assert parses_or_refuses(kind, data.draw(PARSERS[kind][1])) is not None


@PROFILE
@given(TAG_TEXTS, st.booleans())
def test_the_tag_attribute_parses_exactly_when_it_is_a_json_array_of_strings(text, as_bytes):
    if as_bytes:
        try:
            value = ttlv.byte_string("AttributeValue", text.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: not what a server can send as UTF-8
            value = ttlv.byte_string("AttributeValue", text.encode("utf-8", "surrogatepass"))
            text = value.value.decode("utf-8", "replace")
    else:
        value = ttlv.text_string("AttributeValue", text)
    try:
        expected = json.loads(text)
    except (ValueError, RecursionError):
        expected = None
    result = parses_or_refuses("get_attributes", ttlv.structure("ResponsePayload", [
        ttlv.structure("Attributes", [ops.vendor_attribute("tag", value)])]))
    if isinstance(expected, list) and all(isinstance(tag, str) for tag in expected):
        assert result["tags"] == sorted(tag for tag in expected if not tag.startswith("_"))
    else:
        assert result is None


@PROFILE
@given(PAYLOADS)
def test_parsers_given_any_payload_raise_only_ttlv_errors(payload):
    for kind in PARSERS:  # every parser reads the same payload: cheaper than one payload each
        parses_or_refuses(kind, payload)


def tree_nodes(node):
    """(parent, index, node) of every node below the root, depth first."""
    found = []
    for index, child in enumerate(node.children()):
        found.append((node, index, child))
        found.extend(tree_nodes(child))
    return found


@PROFILE
@given(st.sampled_from(sorted(PARSERS)), st.data())
def test_parsers_given_a_well_formed_answer_with_one_node_broken_raise_only_ttlv_errors(kind, data):
    payload = copy.deepcopy(data.draw(PARSERS[kind][1]))  # some answers are shared (st.just)
    places = tree_nodes(payload)
    assume(places)
    parent, index, node = data.draw(st.sampled_from(places))
    change = data.draw(st.sampled_from(["retype", "drop", "repeat", "wrap"]))
    if change == "retype":
        parent.value[index] = data.draw(_named(node.tag, PARSER_TREES))
    elif change == "drop":
        del parent.value[index]
    elif change == "repeat":
        parent.value.insert(index, copy.deepcopy(node))
    else:
        parent.value[index] = ttlv.structure(node.tag, [node])
    for other in PARSERS:  # the answer of one operation given to every parser
        parses_or_refuses(other, payload)


def _tags_answer(text):
    return ttlv.structure("ResponsePayload", [ttlv.structure("Attributes", [
        ops.vendor_attribute("tag", ttlv.text_string("AttributeValue", text))])])


# Answers the properties found: each was returned as a value of the wrong type, or raised
# something other than TTLVError.
@pytest.mark.parametrize("kind, payload, message", [
    ("uid", ttlv.structure("P", [ttlv.integer("UniqueIdentifier", 0)]), "P/UniqueIdentifier is a Integer"),
    ("create_key_pair", ttlv.structure("P", [ttlv.structure("PrivateKeyUniqueIdentifier", []),
                                             ttlv.text_string("PublicKeyUniqueIdentifier", "p")]), "is a Structure"),
    ("locate", ttlv.structure("P", [ttlv.integer("UniqueIdentifier", 0)]), "is a Integer"),
    ("get_certificate", ttlv.structure("P", [ttlv.integer("UniqueIdentifier", 7), ttlv.structure("Object", [
        ttlv.byte_string("CertificateValue", CERT_DER)])]), "is a Integer"),
    ("get_attributes", ttlv.structure("P", [ttlv.text_string("Attributes", "x")]), "P/Attributes is a TextString"),
    ("get_attributes", _tags_answer("[1]"), "not a JSON array of strings"),  # was AttributeError
    ("get_attributes", _tags_answer("not json"), "not a JSON array of strings"),  # was JSONDecodeError
    ("get_attributes", _tags_answer("[" * 100000), "not a JSON array of strings"),  # was RecursionError
])
def test_answers_the_properties_found(kind, payload, message):
    with pytest.raises(TTLVError, match=message):
        PARSERS[kind][0].parse(payload)


# -- the client, end to end --------------------------------------------------------------

class FakeTransport:
    """Answers every request with the same parsed JSON."""

    last_attempts = 1  # every request is answered at once

    def __init__(self, answer):
        self.answer = answer

    def post_kmip(self, payload, operation, object_id=None):
        json.dumps(payload)  # what the real transport sends
        return self.answer


ANSWERS = st.one_of(JSON, TTLV_SHAPED, PAYLOADS.map(ttlv.encode),
                    st.sampled_from(sorted(PARSERS)).flatmap(lambda kind: PARSERS[kind][1]).map(ttlv.encode))


@PROFILE
@given(st.sampled_from(sorted(PARSERS)), ANSWERS)
def test_the_client_raises_only_kms_errors_whatever_the_answer(kind, answer):
    operation = PARSERS[kind][0]
    try:
        value = KmsClient(FakeTransport(answer)).call(operation)
    except KmsError as exc:
        check_error(exc)
        assert exc.operation == operation.name
        return
    assert SHAPES[kind](value), value


def _batch_answer(items):
    return ttlv.encode(ttlv.structure("ResponseMessage", [
        ttlv.structure("ResponseHeader", [ttlv.integer("BatchCount", len(items))])] + items))


BATCH_ITEMS = st.lists(st.one_of(
    st.builds(lambda index, status, reason, payload: ttlv.structure("BatchItem", [
        ttlv.byte_string("UniqueBatchItemID", str(index).encode("ascii")), status, reason,
        TTLV("ResponsePayload", ttlv.STRUCTURE, payload.value)]),
        st.integers(0, 3),
        st.one_of(st.builds(ttlv.enumeration, st.just("ResultStatus"), st.sampled_from(["Success", "OperationFailed"])),
                  _named("ResultStatus", leaves(TAGS))),
        _named("ResultReason", leaves(TAGS)),
        st.one_of(PAYLOADS, st.sampled_from(sorted(PARSERS)).flatmap(lambda kind: PARSERS[kind][1]))),
    _named("BatchItem", trees(st.sampled_from(["UniqueBatchItemID", "ResultStatus", "ResultReason",
                                               "ResultMessage", "ResponsePayload"]), 10))), max_size=4)


BATCHED = ("uid", "get_attributes", "locate")


@PROFILE
@given(st.one_of(JSON, TTLV_SHAPED, BATCH_ITEMS.map(_batch_answer)))
def test_a_batch_raises_only_kms_errors_and_answers_every_operation(answer):
    operations = [PARSERS[kind][0] for kind in BATCHED]
    try:
        results = KmsClient(FakeTransport(answer)).batch(operations)
    except KmsError as exc:
        check_error(exc)
        return
    assert [result.operation for result in results] == operations
    for kind, result in zip(BATCHED, results):
        if result.ok:
            assert SHAPES[kind](result.value), result.value
        else:
            assert isinstance(result.error, KmsError)


# -- error bodies ------------------------------------------------------------------------

BODIES = st.one_of(
    st.none(), st.text(), st.text(alphabet=st.characters(codec="utf-8")),
    st.builds(lambda reason, sep, detail: reason + sep + detail,
              st.sampled_from(sorted(errors.KMIP_REASONS) + sorted(errors.KMIP14_REASONS) + ["Nope", ""]),
              st.sampled_from([": ", ":", " : ", ":\n"]), st.text()),
    st.builds(lambda prefix, detail: prefix[0] + detail, st.sampled_from(errors.PREFIX_REASONS), st.text()))


@PROFILE
@given(st.one_of(st.none(), st.integers(100, 599), st.integers()), BODIES)
def test_parse_reason_never_raises_and_names_only_known_reasons(status, body):
    reason, message = errors.parse_reason(status, body)
    assert reason is None or reason in errors.KMIP_REASONS
    assert isinstance(message, str) and message and "\n" not in message
    assert len(message) <= errors.MESSAGE_LIMIT + 20
    if status is not None and status >= 500:
        assert reason is None
