# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kms_crl's pure parts: option checks, CRL parsing, facts, and when dest must be rewritten."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import crl as crl_utils

NOW = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.timezone.utc)
REVOKED_AT = datetime.datetime(2026, 12, 1, 8, 30, tzinfo=datetime.timezone.utc)


def make_ca(common_name="Unit CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert


def make_crl(ca, revoked=(), this_update=NOW, days=7, number=1):
    key, cert = ca
    builder = (x509.CertificateRevocationListBuilder().issuer_name(cert.subject).last_update(this_update)
               .next_update(this_update + datetime.timedelta(days=days))
               .add_extension(x509.CRLNumber(number), critical=False))
    for serial, reason, when in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(key, hashes.SHA256())


ONE = [(0x1234, x509.ReasonFlags.key_compromise, REVOKED_AT)]


@pytest.fixture(scope="module")
def ca():
    return make_ca()


def test_same_set_not_due_is_unchanged(ca):
    existing = make_crl(ca, ONE, number=1)
    fresh = make_crl(ca, ONE, this_update=NOW + datetime.timedelta(hours=1), number=2)  # new number, new dates
    assert crl_utils.refresh_reason(existing, crl_utils.entries(fresh), ca[1], NOW, 24) is None


def test_a_new_revocation_a_new_reason_or_date_changes(ca):
    existing = make_crl(ca, ONE)
    two = ONE + [(0x99, None, REVOKED_AT)]
    other_reason = [(0x1234, x509.ReasonFlags.superseded, REVOKED_AT)]
    other_date = [(0x1234, x509.ReasonFlags.key_compromise, REVOKED_AT + datetime.timedelta(minutes=1))]
    for revoked in (two, other_reason, other_date, []):
        reason = crl_utils.refresh_reason(existing, crl_utils.entries(make_crl(ca, revoked)), ca[1], NOW, 24)
        assert reason == "the revoked certificates differ"


def test_due_for_refresh(ca):
    existing = make_crl(ca, ONE, this_update=NOW - datetime.timedelta(days=6, hours=1))  # next update in 23 h
    entries = crl_utils.entries(existing)
    assert "due for refresh" in crl_utils.refresh_reason(existing, entries, ca[1], NOW, 24)
    assert crl_utils.refresh_reason(existing, entries, ca[1], NOW, 22) is None
    assert crl_utils.refresh_reason(existing, entries, ca[1], NOW, 0) is None
    expired = make_crl(ca, ONE, this_update=NOW - datetime.timedelta(days=8))
    assert "due for refresh" in crl_utils.refresh_reason(expired, entries, ca[1], NOW, 0)


def test_no_crl_or_another_issuer(ca):
    assert crl_utils.refresh_reason(None, frozenset(), ca[1], NOW, 24) == "dest holds no CRL"
    other = make_ca("Other CA")
    foreign = make_crl(other, ONE)
    assert crl_utils.refresh_reason(foreign, crl_utils.entries(foreign), ca[1], NOW, 24) == \
        "the CRL in dest is not signed by the issuer"
    impostor = make_ca("Unit CA")  # same name, another key
    forged = make_crl(impostor, ONE)
    assert not crl_utils.signed_by(forged, ca[1])
    assert crl_utils.refresh_reason(forged, crl_utils.entries(forged), ca[1], NOW, 24) == \
        "the CRL in dest is not signed by the issuer"
    assert crl_utils.signed_by(make_crl(ca), ca[1])


def test_load_facts_and_entries(ca):
    crl = make_crl(ca, ONE + [(7, None, REVOKED_AT)], number=42)
    for fmt in ("pem", "der"):
        data = crl_utils.encode(crl, fmt)
        assert data.startswith(b"-----BEGIN X509 CRL-----") == (fmt == "pem")
        assert crl_utils.load_crl(data) == crl
    assert crl_utils.load_crl(b"") is None and crl_utils.load_crl(None) is None
    assert crl_utils.load_crl(b"not a crl") is None
    assert crl_utils.load_crl(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n") is None
    assert crl_utils.facts(crl) == dict(crl_number=42, this_update="2026-12-02T12:00:00Z",
                                        next_update="2026-12-09T12:00:00Z", revoked_count=2)
    assert crl_utils.facts(None)["crl_number"] is None
    assert crl_utils.entries(crl) == frozenset([(0x1234, "key_compromise", "2026-12-01T08:30:00Z"),
                                                (7, None, "2026-12-01T08:30:00Z")])


def params(**options):
    base = dict(issuer="ca", dest=None, format="pem", validity_days=7, refresh_before_hours=24)
    base.update(options)
    return base


@pytest.mark.parametrize("options, problem", [
    (dict(issuer=" "), "issuer must name"),
    (dict(validity_days=0), "validity_days must be between 1 and 3650"),
    (dict(validity_days=3651), "validity_days must be between 1 and 3650"),
    (dict(refresh_before_hours=-1), "refresh_before_hours must not be negative"),
    (dict(validity_days=1, refresh_before_hours=24), "must be shorter than validity_days"),
    (dict(dest="/nonexistent-folder/crl.pem"), "does not exist"),
])
def test_validate(options, problem):
    problems = crl_utils.validate(params(**options))
    assert len(problems) == 1 and problem in problems[0], problems


def test_validate_accepts_defaults(tmp_path):
    assert crl_utils.validate(params(dest=str(tmp_path / "crl.pem"))) == []
    assert crl_utils.validate(params(validity_days=1, refresh_before_hours=23)) == []
