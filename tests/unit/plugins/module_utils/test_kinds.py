# -*- coding: utf-8 -*-
"""The key pair and certificate kinds without a KMS: how they compare, predict and report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.certificate import Certificate
from ansible_collections.pkimanager.kms.plugins.module_utils.keypair import KeyPair, tags_mismatch
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import LifecycleOptions


class Kms:
    check_mode = False

    def __init__(self):
        self.outcome = {}


def params(**options):
    values = dict((name, option.get("default")) for name, option in LifecycleOptions.argument_spec().items())
    values.update(name="k1", size=3072, tags=None, purge_tags=True, activate=True, public_key_path=None)
    values.update(options)
    return values


PAIR = {"private_key_id": "k1", "public_key_id": "k1_pk", "size": 3072, "state": "Active", "tags": ["a", "b"],
        "activation_date": None}


@pytest.mark.parametrize("have, want, purge, reason", [
    (["a", "b"], None, True, None),
    (["a", "b"], ["b", "a"], True, None),
    (["a", "b"], ["a"], False, None),
    (["a", "b"], ["a"], True, "tags are ['a', 'b'], requested ['a']"),
    (["a"], ["a", "c"], False, "tags are ['a'], requested ['a', 'c']"),
])
def test_tags_match_as_sets_and_purge_tags_decides_about_extra_ones(have, want, purge, reason):
    found = tags_mismatch(have, want, purge)
    assert (found or "").startswith(reason or "") and bool(found) == bool(reason)


def test_a_key_pair_compares_size_tags_and_revocation():
    pair = KeyPair(Kms(), params(size=4096, tags=["a"]))
    assert pair.mismatch(dict(PAIR, state="Deactivated")) == [
        "size is 3072, requested 4096",
        "tags are ['a', 'b'], requested ['a'] (the KMS cannot change tags of an existing object)",
        "the pair is revoked (Deactivated)"]
    assert KeyPair(Kms(), params(tags=["b", "a"])).mismatch(PAIR) == []


def test_a_key_pair_prediction_is_what_create_makes():
    assert KeyPair(Kms(), params(tags=["z", "a"], activate=False)).predicted(None) == {
        "private_key_id": "k1", "public_key_id": None, "size": 3072, "state": "PreActive", "tags": ["a", "z"],
        "activation_date": None}


def test_a_key_pair_diff_holds_ids_size_state_tags_and_fingerprint_only():
    pair = KeyPair(Kms(), params())
    shown = pair.diff_view(dict(PAIR, public_key_pem="-----BEGIN PUBLIC KEY-----", fingerprint_sha256="ab"))
    assert shown == {"private_key_id": "k1", "public_key_id": "k1_pk", "size": 3072, "state": "Active",
                     "tags": ["a", "b"], "fingerprint_sha256": "ab"}


def test_a_key_pair_checks_tags_and_the_public_key_folder(tmp_path):
    problems = KeyPair.validate(params(tags=["_x"], public_key_path=str(tmp_path / "no" / "k.pem")))
    assert len(problems) == 2 and "reserved by the KMS" in problems[0] and "does not exist" in problems[1]
    assert KeyPair.validate(params(state="absent", public_key_path=str(tmp_path / "no" / "k.pem"))) == []


CERT_PARAMS = dict(params(name="c1", regenerate="mismatch"), provider="selfsigned", keypair="k1", issuer=None,
                   csr_path=None, csr_content=None, subject={"CN": "c1"}, subject_alt_names=None, key_usage=None,
                   key_usage_critical=True, extended_key_usage=None, extended_key_usage_critical=False,
                   basic_constraints=None, validity_days=None, renew_before_days=30, dest=None, chain_dest=None,
                   fullchain_dest=None)


@pytest.mark.parametrize("changes, mismatch, reason", [
    ([], [], None),
    (["created"], [], "the certificate does not exist"),
    (["replaced", "dest /x written"], ["subject is a", "expires"], "subject is a; expires; dest /x written"),
    (["replaced"], [], "regenerate=always"),
    (["revoked", "destroyed"], [], "revoked (CessationOfOperation); destroyed"),
])
def test_a_certificate_keeps_its_0_1_0_result_names(changes, mismatch, reason):
    cert = Certificate(Kms(), CERT_PARAMS)
    cert.changes[:] = changes
    assert cert.aliases({}, mismatch) == {"certificate_id": "c1", "changed_reason": reason}


def test_a_certificate_prediction_shows_the_requested_content():
    cert = Certificate(Kms(), CERT_PARAMS)
    cert._backend = object()  # no KMS: the content alone is predicted
    cert._wanted = {"subject": {"CN": "c1"}, "key_usage": ["keyCertSign"], "csr_extension_oids": ["2.5.29.17"]}
    assert cert.view(cert.predicted(None)) == {"subject": {"CN": "c1"}, "key_usage": ["keyCertSign"],
                                               "state": "Active"}
    assert cert.view({"state": "Deactivated", "der": None, "links": {}}) == {"state": "Deactivated"}


def test_a_certificate_takes_no_revocation_message_with_present():
    assert Certificate.validate(dict(CERT_PARAMS, revocation_message="why")) == [
        "revocation_message is only used with state=revoked or state=absent"]
