# -*- coding: utf-8 -*-
"""kms_key_info without a KMS: option checks, filters, the shape of each entry, and the calls\nKeyInfo makes (through a stand-in for KmsModule)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import key_info, ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.key_specs import describe
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import fingerprint_sha256

WHEN = datetime.datetime(2026, 11, 28, 12, 0, 0, tzinfo=datetime.timezone.utc)
CET = datetime.timezone(datetime.timedelta(hours=1))


def params(**options):
    values = dict((name, None) for name in key_info.argument_spec())
    values.update(options)
    return values


def attrs(object_type="PrivateKey", algorithm="RSA", length=2048, curve=None, state="Active", tags=("web",),
          links=None, sensitive=True, deactivation=None):
    result = {"object_type": object_type, "state": state, "algorithm": algorithm, "length": length,
              "recommended_curve": curve, "sensitive": sensitive, "extractable": True,
              "activation_date": WHEN if state != "PreActive" else None, "initial_date": WHEN,
              "deactivation_date": deactivation, "unique_identifier": None, "tags": sorted(tags),
              "links": {"PublicKeyLink": "k1_pk"} if links is None and object_type == "PrivateKey" else links or {},
              "vendor": {}}
    result.update(describe(algorithm, length, curve, sensitive, True, object_type))
    return result


RSA = attrs()
EC = attrs(algorithm="ECDSA", length=256, curve="P256")
ED = attrs(algorithm="Ed25519", length=256, curve="CURVEED25519")
AES = attrs(object_type="SymmetricKey", algorithm="AES", length=256, tags=("vault",), sensitive=False)


def test_options_match_the_choices_of_the_collection():
    spec = key_info.argument_spec()
    assert spec["type"]["choices"] == ["rsa", "ec", "ed25519", "ed448", "symmetric"]
    assert spec["state"]["choices"] == ["PreActive", "Active", "Deactivated", "Compromised", "Destroyed",
                                        "Destroyed_Compromised"]
    assert not any(option.get("required") or "default" in option for option in spec.values())


@pytest.mark.parametrize("options, problem", [
    ({}, None),
    ({"name": "web-signing", "tags": ["web"], "type": "rsa", "size": 2048, "state": "Active"}, None),
    ({"name": ""}, "name must be 1 to 128 characters"),
    ({"name": "web\n"}, "name must be 1 to 128 characters"),
    ({"name": '["web"]'}, "name must be 1 to 128 characters"),
    ({"tags": ["_sk"]}, "must not start with '_'"),
    ({"tags": [""]}, "tags must be non-empty"),
    ({"size": 0}, "size must be a positive number of bits, got 0"),
    ({"type": "ed25519", "size": 256}, "a ed25519 key has no size"),
])
def test_validate(options, problem):
    problems = key_info.validate(params(**options))
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize("key_type, object_types", [
    (None, ("PrivateKey", "SymmetricKey")),
    ("rsa", ("PrivateKey",)), ("ec", ("PrivateKey",)), ("ed448", ("PrivateKey",)),
    ("symmetric", ("SymmetricKey",)),
])
def test_locate_asks_only_for_the_object_types_that_can_match(key_type, object_types):
    assert key_info.object_types(key_type) == object_types


@pytest.mark.parametrize("options, selected", [
    ({}, ["rsa", "ec", "ed", "aes"]),
    ({"type": "rsa"}, ["rsa"]),
    ({"type": "ec"}, ["ec"]),
    ({"type": "ed25519"}, ["ed"]),
    ({"type": "ed448"}, []),
    ({"type": "symmetric"}, ["aes"]),
    ({"size": 256}, ["ec", "aes"]),
    ({"type": "rsa", "size": 2048, "state": "Active"}, ["rsa"]),
    ({"type": "rsa", "size": 3072}, []),
    ({"tags": ["web"]}, ["rsa", "ec", "ed"]),
    ({"tags": ["web", "other"]}, []),
    ({"state": "PreActive"}, []),
])
def test_filters_are_anded(options, selected):
    keys = {"rsa": RSA, "ec": EC, "ed": ED, "aes": AES}
    assert [name for name, key in keys.items() if key_info.matches(key, params(**options))] == selected


def test_public_keys_and_certificates_are_not_keys():
    assert not key_info.matches(attrs(object_type="PublicKey", links={"PrivateKeyLink": "k1"}), params())
    assert not key_info.matches(attrs(object_type="Certificate", algorithm=None, length=None), params())


def test_destroyed_keys_only_with_a_state_filter_that_names_them():
    destroyed = attrs(state="Destroyed", deactivation=WHEN)
    assert not key_info.matches(destroyed, params())
    assert not key_info.matches(destroyed, params(state="Active"))
    assert key_info.matches(destroyed, params(state="Destroyed"))
    assert not key_info.matches(RSA, params(state="Destroyed"))


def test_fingerprint_only_for_live_pairs():
    assert key_info.has_fingerprint(RSA) and key_info.has_fingerprint(attrs(state="PreActive"))
    for revoked in ("Compromised", "Deactivated", "Destroyed"):
        assert not key_info.has_fingerprint(attrs(state=revoked))
    assert not key_info.has_fingerprint(AES)
    assert not key_info.has_fingerprint(attrs(links={}))


def test_entry_of_a_pair_has_every_field_in_utc_and_no_key_material():
    entry = key_info.entry("k1", dict(RSA, activation_date=WHEN.astimezone(CET)), "AB:CD")
    assert list(entry) == list(key_info.FIELDS)
    assert entry == {"id": "k1", "name": "k1", "object_type": "PrivateKey", "type": "rsa", "size": 2048,
                     "curve": None, "state": "Active", "tags": ["web"], "exportable": False,
                     "activation_date": "2026-11-28T12:00:00Z", "initial_date": "2026-11-28T12:00:00Z",
                     "deactivation_date": None, "public_key_id": "k1_pk", "fingerprint_sha256": "AB:CD"}


def test_entry_of_an_ec_key_names_its_curve_and_of_a_symmetric_key_no_public_key():
    assert key_info.entry("e1", EC)["curve"] == "P-256" and key_info.entry("e1", EC)["size"] == 256
    ed = key_info.entry("d1", ED)
    assert ed["type"] == "ed25519" and ed["size"] is None and ed["curve"] is None
    aes = key_info.entry("s1", dict(AES, links={"ReplacementObjectLink": "s0"}))
    assert aes["type"] == "symmetric" and aes["exportable"] is True
    assert aes["public_key_id"] is None and aes["fingerprint_sha256"] is None


def test_entry_of_a_revoked_pair_has_its_deactivation_date():
    entry = key_info.entry("k1", attrs(state="Compromised", deactivation=WHEN))
    assert entry["state"] == "Compromised" and entry["deactivation_date"] == "2026-11-28T12:00:00Z"
    assert entry["fingerprint_sha256"] is None


def test_entries_are_sorted_by_id_once_each():
    entries = [key_info.entry(i, RSA) for i in ("b", "a", "c", "a")]
    assert [e["id"] for e in key_info.sorted_entries(entries)] == ["a", "b", "c"]
    assert key_info.sorted_entries([]) == []


class Kms:
    """Stands in for KmsModule: answers Locate, GetAttributes and Get from dicts, and keeps the calls."""

    def __init__(self, objects, located=None, public_keys=None):
        self.objects, self.located, self.public_keys, self.calls = objects, located or {}, public_keys or {}, []
        self.locates = []

    def call(self, operation, entity_type=None):
        self.calls.append((operation.name, operation.object_id, entity_type))
        assert operation.name == "Locate"
        attributes = operation.payload.require("Attributes")
        tags = [item.get("AttributeValue") for item in ttlv.vector_items(attributes, "Attribute")]
        self.locates.append((attributes.get("ObjectType"), attributes.get("State"), tags))
        return list(self.located.get(attributes.get("ObjectType"), []))

    def call_or_none(self, operation, entity_type=None):
        self.calls.append((operation.name, operation.object_id, entity_type))
        if operation.name == "GetAttributes":
            return self.objects.get(operation.object_id)
        answer = self.public_keys.get(operation.object_id)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_name_is_read_without_locate_and_its_public_key_for_the_fingerprint():
    kms = Kms({"k1": RSA}, public_keys={"k1_pk": {"der": b"spki"}})
    [entry] = key_info.KeyInfo(kms, params(name="k1")).run()["kms_keys"]
    assert entry["fingerprint_sha256"] == fingerprint_sha256(b"spki")
    assert kms.calls == [("GetAttributes", "k1", "key"), ("Get", "k1_pk", "public_key")]


def test_locate_per_object_type_then_filter_and_sort():
    located = {"PrivateKey": ["k2", "k1", "gone"], "SymmetricKey": ["s1"]}
    kms = Kms({"k1": RSA, "k2": EC, "s1": AES}, located, {"k1_pk": {"der": b"a"}})
    result = key_info.KeyInfo(kms, params(size=2048)).run()
    assert result == {"changed": False, "kms_keys": [key_info.entry("k1", RSA, fingerprint_sha256(b"a"))]}
    assert [c[:2] for c in kms.calls if c[0] == "Locate"] == [("Locate", None), ("Locate", None)]
    assert ("GetAttributes", "gone", "key") in kms.calls  # removed since Locate: simply not listed
    assert [c for c in kms.calls if c[0] == "Get"] == [("Get", "k1_pk", "public_key")]


def test_tags_and_state_go_to_the_kms_in_each_locate():
    kms = Kms({}, {})
    assert key_info.KeyInfo(kms, params(tags=["web", "api"], state="Active")).run()["kms_keys"] == []
    assert kms.locates == [("PrivateKey", "Active", ['["api", "web"]']), ("SymmetricKey", "Active", ['["api", "web"]'])]
    kms = Kms({}, {})
    key_info.KeyInfo(kms, params(type="ec")).run()
    assert kms.locates == [("PrivateKey", None, [])]


def test_type_symmetric_locates_symmetric_keys_only_and_reads_no_key():
    kms = Kms({"s1": AES}, {"SymmetricKey": ["s1"], "PrivateKey": ["k1"]})
    assert [e["id"] for e in key_info.KeyInfo(kms, params(type="symmetric", tags=["vault"])).run()["kms_keys"]] == ["s1"]
    assert [c[0] for c in kms.calls] == ["Locate", "GetAttributes"]


def test_a_pair_destroyed_or_sensitive_has_no_fingerprint_and_other_errors_fail():
    destroyed = KmsError("Get on 'k1_pk' failed: Object_Destroyed: DENIED", reason="Object_Destroyed")
    kms = Kms({"k1": RSA}, public_keys={"k1_pk": destroyed})
    assert key_info.KeyInfo(kms, params(name="k1")).run()["kms_keys"][0]["fingerprint_sha256"] is None
    sensitive = KmsError("Get on 'k1_pk' failed: Sensitive: DENIED", reason="Sensitive")
    kms = Kms({"k1": RSA}, public_keys={"k1_pk": sensitive})
    assert key_info.KeyInfo(kms, params(name="k1")).run()["kms_keys"][0]["fingerprint_sha256"] is None
    refused = KmsError("Get on 'k1_pk' failed: Permission_Denied", reason="Permission_Denied")
    with pytest.raises(KmsError):
        key_info.KeyInfo(Kms({"k1": RSA}, public_keys={"k1_pk": refused}), params(name="k1")).run()
