# -*- coding: utf-8 -*-
"""kms_certificate_info without a KMS: option checks, filters, days left and the expiring set,
the shape of each entry, and the calls CertificateInfo makes (through a stand-in for KmsModule)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import certificate_info as info
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import fingerprint_sha256

NOW = datetime.datetime(2026, 11, 28, 12, 0, 0, tzinfo=datetime.timezone.utc)
CET = datetime.timezone(datetime.timedelta(hours=1))
DAY = datetime.timedelta(days=1)


def params(**options):
    values = dict((name, None) for name in info.argument_spec())
    values.update(options)
    return values


def attrs(state="Active", tags=("web",), links=None, deactivation=None, object_type="Certificate"):
    return {"object_type": object_type, "state": state, "algorithm": None, "length": None, "recommended_curve": None,
            "sensitive": None, "extractable": None, "activation_date": NOW - 10 * DAY, "initial_date": NOW - 10 * DAY,
            "deactivation_date": deactivation, "unique_identifier": None, "tags": sorted(tags),
            "links": {"PublicKeyLink": "k1_pk", "CertificateLink": "ca"} if links is None else links, "vendor": {},
            "key_type": None, "size": None, "curve": None, "exportable": None}


def certificate(not_after, ca=False, cn="www.example.test"):
    """DER of a self-signed EC certificate valid until ``not_after``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ex")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(4242).not_valid_before(NOW - 10 * DAY).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn),
                                                           x509.IPAddress(ipaddress.ip_address("192.0.2.1"))]),
                              critical=False))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_options_have_no_default_and_the_states_of_the_collection():
    spec = info.argument_spec()
    assert sorted(spec) == ["expiring_within_days", "name", "state", "tags"]
    assert spec["state"]["choices"] == ["PreActive", "Active", "Deactivated", "Compromised", "Destroyed",
                                        "Destroyed_Compromised"]
    assert not any(option.get("required") or "default" in option for option in spec.values())


@pytest.mark.parametrize("options, problem", [
    ({}, None),
    ({"name": "web-tls", "tags": ["web"], "state": "Active", "expiring_within_days": 30}, None),
    ({"expiring_within_days": 0}, None),
    ({"name": ""}, "name must be 1 to 128 characters"),
    ({"name": "a b"}, "name must be 1 to 128 characters"),
    ({"tags": ["_cert"]}, "must not start with '_'"),
    ({"tags": [""]}, "tags must be non-empty"),
    ({"expiring_within_days": -1}, "expiring_within_days must be 0 or more, got -1"),
])
def test_validate(options, problem):
    problems = info.validate(params(**options))
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize("options, selected", [
    ({}, ["live", "revoked"]),
    ({"tags": ["web"]}, ["live", "revoked"]),
    ({"tags": ["web", "api"]}, ["live"]),
    ({"state": "Active"}, ["live"]),
    ({"state": "Deactivated"}, ["revoked"]),
    ({"state": "Destroyed"}, ["destroyed"]),
])
def test_filters_are_anded_and_destroyed_only_when_named(options, selected):
    objects = {"live": attrs(tags=("web", "api")), "revoked": attrs(state="Deactivated", deactivation=NOW),
               "destroyed": attrs(state="Destroyed"), "key": attrs(object_type="PrivateKey")}
    assert [name for name, item in objects.items() if info.matches(item, params(**options))] == selected


@pytest.mark.parametrize("state, revoked", [
    ("PreActive", False), ("Active", False), ("Deactivated", True), ("Compromised", True), ("Destroyed", True),
    ("Destroyed_Compromised", True)])
def test_only_live_certificates_are_read_the_others_are_revoked(state, revoked):
    assert info.is_revoked(state) is revoked
    assert info.readable(attrs(state=state)) is not revoked


@pytest.mark.parametrize("not_after, days", [
    ("2026-12-28T12:00:00Z", 30), ("2026-12-28T11:59:59Z", 29), ("2026-11-28T12:00:00Z", 0),
    ("2026-11-28T11:59:59Z", -1), ("2026-11-20T12:00:00Z", -8), (None, None)])
def test_days_left_are_whole_days_rounded_down(not_after, days):
    assert info.days_left(not_after, NOW) == days


def test_entry_of_a_live_certificate_has_its_x509_facts_and_no_pem():
    der = certificate(NOW + 30 * DAY + datetime.timedelta(hours=1), cn="www.example.test")
    entry = info.entry("c1", dict(attrs(), activation_date=(NOW - 10 * DAY).astimezone(CET)), NOW, der)
    assert list(entry) == list(info.FIELDS)
    assert entry == {
        "id": "c1", "name": "c1", "state": "Active", "revoked": False, "tags": ["web"],
        "subject": {"CN": "www.example.test", "O": "Ex"}, "issuer": {"CN": "www.example.test", "O": "Ex"},
        "serial_number": 4242, "subject_alt_names": ["DNS:www.example.test", "IP:192.0.2.1"],
        "not_before": "2026-11-18T12:00:00Z", "not_after": "2026-12-28T13:00:00Z", "days_left": 30,
        "expired": False, "key_type": "ec", "signature_algorithm": "ecdsa-with-SHA256", "ca": False,
        "fingerprint_sha256": fingerprint_sha256(der), "public_key_id": "k1_pk", "issuer_certificate_id": "ca",
        "activation_date": "2026-11-18T12:00:00Z", "initial_date": "2026-11-18T12:00:00Z", "deactivation_date": None,
        "crl_distribution_points": [], "ocsp_responder_urls": [], "ca_issuers_urls": []}
    assert "BEGIN" not in str(entry)
    assert info.entry("c2", attrs(), NOW, certificate(NOW - DAY, ca=True))["expired"] is True
    assert info.entry("c2", attrs(), NOW, certificate(NOW - DAY, ca=True))["ca"] is True


def test_entry_of_a_revoked_certificate_comes_from_its_attributes():
    entry = info.entry("c1", attrs(state="Compromised", deactivation=NOW, links={}), NOW)
    assert entry["revoked"] is True and entry["state"] == "Compromised"
    assert entry["deactivation_date"] == "2026-11-28T12:00:00Z" and entry["public_key_id"] is None
    for field in ("subject", "issuer", "serial_number", "subject_alt_names", "not_before", "not_after", "days_left",
                  "expired", "key_type", "signature_algorithm", "ca", "fingerprint_sha256", "crl_distribution_points",
                  "ocsp_responder_urls", "ca_issuers_urls"):
        assert entry[field] is None, field


def test_the_expiring_set_holds_live_certificates_within_n_days_expired_ones_included():
    ders = dict((days, certificate(NOW + days * DAY)) for days in (-3, 0, 5, 30, 31, 365))
    entries = [info.entry("d%+04d" % days, attrs(), NOW, der) for days, der in ders.items()]
    entries.append(info.entry("revoked", attrs(state="Deactivated"), NOW))
    ids = [e["id"] for e in info.selected(entries, params(expiring_within_days=30), NOW)]
    assert ids == ["d+000", "d+005", "d+030", "d-003"]
    assert [e["id"] for e in info.selected(entries, params(expiring_within_days=0), NOW)] == ["d+000", "d-003"]
    assert len(info.selected(entries, params(), NOW)) == 7
    assert [e["id"] for e in info.selected(entries + entries[:2], params(), NOW)] == sorted(e["id"] for e in entries)


class Kms:
    """Stands in for KmsModule: answers Locate, GetAttributes and Get from dicts, and keeps the calls."""

    def __init__(self, objects, located=(), certificates=None):
        self.objects, self.located, self.certificates, self.calls = objects, list(located), certificates or {}, []
        self.locates = []

    def call(self, operation, entity_type=None):
        self.calls.append((operation.name, operation.object_id, entity_type))
        assert operation.name == "Locate"
        attributes = operation.payload.require("Attributes")
        tags = [item.get("AttributeValue") for item in ttlv.vector_items(attributes, "Attribute")]
        self.locates.append((attributes.get("ObjectType"), attributes.get("State"), tags))
        return list(self.located)

    def call_or_none(self, operation, entity_type=None):
        self.calls.append((operation.name, operation.object_id, entity_type))
        if operation.name == "GetAttributes":
            answer = self.objects.get(operation.object_id)
            return answer.pop(0) if isinstance(answer, list) else answer  # a list: one answer per read
        answer = self.certificates.get(operation.object_id)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_name_is_read_without_locate():
    der = certificate(NOW + 90 * DAY)
    kms = Kms({"c1": attrs()}, certificates={"c1": {"der": der}})
    [entry] = info.CertificateInfo(kms, params(name="c1"), NOW).run()["kms_certificates"]
    assert entry["fingerprint_sha256"] == fingerprint_sha256(der) and entry["days_left"] == 90
    assert kms.calls == [("GetAttributes", "c1", "certificate"), ("Get", "c1", "certificate")]


def test_locate_certificates_then_filter_sort_and_never_get_a_revoked_one():
    kms = Kms({"c2": attrs(), "c1": attrs(state="Compromised"), "k1": attrs(object_type="PrivateKey")},
              ["c2", "c1", "gone", "k1"], {"c2": {"der": certificate(NOW + 3 * DAY)}})
    result = info.CertificateInfo(kms, params(tags=["web", "api"], state="Active"), NOW).run()
    assert result["changed"] is False and [e["id"] for e in result["kms_certificates"]] == []
    assert kms.locates == [("Certificate", "Active", ['["api", "web"]'])]
    kms.calls = []
    result = info.CertificateInfo(kms, params(), NOW).run()
    assert [(e["id"], e["revoked"]) for e in result["kms_certificates"]] == [("c1", True), ("c2", False)]
    assert ("GetAttributes", "gone", "certificate") in kms.calls  # removed since Locate: simply not listed
    assert [c for c in kms.calls if c[0] == "Get"] == [("Get", "c2", "certificate")]
    kms.calls = []
    expiring = info.CertificateInfo(kms, params(expiring_within_days=2), NOW).run()["kms_certificates"]
    assert expiring == []


def test_a_certificate_revoked_or_destroyed_after_its_attributes_is_listed_as_it_is_now():
    revoked = KmsError("Get on 'c1' failed: Wrong_Key_Lifecycle_State: DENIED", reason="Wrong_Key_Lifecycle_State")
    kms = Kms({"c1": [attrs(), attrs(state="Deactivated", deactivation=NOW)]}, certificates={"c1": revoked})
    [entry] = info.CertificateInfo(kms, params(name="c1"), NOW).run()["kms_certificates"]
    assert entry["state"] == "Deactivated" and entry["revoked"] is True and entry["not_after"] is None
    assert [c[0] for c in kms.calls] == ["GetAttributes", "Get", "GetAttributes"]
    destroyed = KmsError("Get on 'c1' failed: Object_Destroyed: DENIED", reason="Object_Destroyed")
    kms = Kms({"c1": [attrs(), attrs(state="Destroyed")]}, certificates={"c1": destroyed})
    assert info.CertificateInfo(kms, params(name="c1"), NOW).run()["kms_certificates"] == []
    kms = Kms({"c1": [attrs(), None]}, certificates={})  # removed in between
    assert info.CertificateInfo(kms, params(name="c1"), NOW).run()["kms_certificates"] == []


def test_other_errors_of_get_fail():
    refused = KmsError("Get on 'c1' failed: Permission_Denied", reason="Permission_Denied")
    with pytest.raises(KmsError):
        info.CertificateInfo(Kms({"c1": attrs()}, certificates={"c1": refused}), params(name="c1"), NOW).run()


def test_now_defaults_to_the_current_utc_time():
    now = info.CertificateInfo(Kms({}), params()).now
    assert now.tzinfo is not None and abs(datetime.datetime.now(datetime.timezone.utc) - now) < datetime.timedelta(minutes=1)
