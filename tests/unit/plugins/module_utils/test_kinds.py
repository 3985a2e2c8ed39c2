# -*- coding: utf-8 -*-
"""The key pair, symmetric key and certificate kinds without a KMS: how they check options,
compare, predict and report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.certificate import Certificate
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.keypair import KeyPair
from ansible_collections.pkimanager.kms.plugins.module_utils.keys import tags_mismatch
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import LifecycleOptions
from ansible_collections.pkimanager.kms.plugins.module_utils.symmetric_key import SymmetricKey


class Kms:
    check_mode = False

    def __init__(self):
        self.outcome = {}


def params(**options):
    values = dict((name, option.get("default")) for name, option in LifecycleOptions.argument_spec().items())
    values.update(name="k1", type="rsa", size=3072, curve=None, tags=None, purge_tags=True, activate=True,
                  exportable=None, public_key_path=None, private_key_path=None, private_key_passphrase=None)
    values.update(options)
    return values


PAIR = {"private_key_id": "k1", "public_key_id": "k1_pk", "type": "rsa", "size": 3072, "curve": None,
        "state": "Active", "tags": ["a", "b"], "exportable": False, "activation_date": None}


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
        "private_key_id": "k1", "public_key_id": None, "type": "rsa", "size": 3072, "curve": None,
        "state": "PreActive", "tags": ["a", "z"], "exportable": False, "activation_date": None}


def test_a_key_pair_diff_holds_ids_size_state_tags_and_fingerprint_only():
    pair = KeyPair(Kms(), params())
    shown = pair.diff_view(dict(PAIR, public_key_pem="-----BEGIN PUBLIC KEY-----", fingerprint_sha256="ab",
                                _spki=b"der"))
    assert shown == {"private_key_id": "k1", "public_key_id": "k1_pk", "type": "rsa", "size": 3072, "curve": None,
                     "state": "Active", "tags": ["a", "b"], "exportable": False, "fingerprint_sha256": "ab"}
    assert "_spki" not in pair.view(dict(PAIR, _spki=b"der"))


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


@pytest.mark.parametrize("options, problem", [
    ({"type": "ec"}, "type=ec needs curve, one of P-256, P-384, P-521, secp256k1"),
    ({"type": "rsa", "curve": "P-256"}, "curve is only used with type=ec, not type=rsa"),
    ({"type": "ed25519", "size": 2048}, "size is only used with type=rsa"),
    ({"type": "ec", "curve": "P-384", "size": 4096}, "size is only used with type=rsa"),
    ({"private_key_passphrase": "x"}, "private_key_passphrase is only used with private_key_path"),
    ({"private_key_path": "/tmp/k.pem", "exportable": False}, "private_key_path needs an exportable key pair"),
])
def test_a_key_pair_refuses_combinations_that_make_no_sense(options, problem):
    problems = KeyPair.validate(params(**dict({"size": None}, **options)))
    assert len(problems) == 1 and problems[0].startswith(problem), problems


@pytest.mark.parametrize("options", [{"type": "ec", "curve": "P-521"}, {"type": "ed448"}, {"type": "rsa", "size": 4096},
                                     {"private_key_path": "/tmp/k.pem", "exportable": True}])
def test_a_key_pair_accepts_each_type_with_its_own_options(options):
    assert KeyPair.validate(params(**dict({"size": None}, **options))) == []


@pytest.mark.parametrize("current, options, reasons", [
    (dict(PAIR, type="ec", size=384, curve="P-384"), {"type": "rsa"}, ["type is ec, requested rsa"]),
    (dict(PAIR, type="ec", size=384, curve="P-384"), {"type": "ec", "curve": "P-256"},
     ["curve is P-384, requested P-256"]),
    (dict(PAIR, type="ed25519", size=None), {"type": "ed25519", "size": None}, []),
    (dict(PAIR, size=3072), {"size": None}, []),
    (dict(PAIR, exportable=True), {"exportable": None}, []),
    (dict(PAIR, exportable=True), {"exportable": False}, ["exportable is True, requested False"]),
])
def test_a_key_pair_compares_type_curve_and_an_explicit_exportable(current, options, reasons):
    assert KeyPair(Kms(), params(**options)).mismatch(current) == reasons


def test_a_new_pair_without_exportable_cannot_have_its_private_key_written():
    pair = KeyPair(Kms(), params(private_key_path="/tmp/k.pem"))
    with pytest.raises(TaskError) as refused:
        pair.check_can_create()
    assert "set exportable=true" in str(refused.value)
    with pytest.raises(TaskError) as refused:
        pair.check_can_export(dict(PAIR, exportable=False))
    assert "'k1' is not exportable" in str(refused.value)
    KeyPair(Kms(), params(private_key_path="/tmp/k.pem", exportable=True)).check_can_create()


def symmetric_params(**options):
    values = dict((name, option.get("default")) for name, option in LifecycleOptions.argument_spec().items())
    values.update(name="s1", algorithm="aes", size=None, tags=None, purge_tags=True, activate=True, exportable=None,
                  key_path=None)
    values.update(options)
    return values


@pytest.mark.parametrize("options, problem", [
    ({"algorithm": "chacha20", "size": 128}, "size must be one of 256 for algorithm=chacha20, got 128"),
    ({"key_path": "/tmp/k", "exportable": False},
     "key_path needs an exportable symmetric key, and exportable=false makes the KMS refuse to export it"),
    ({"algorithm": "aes", "size": 192}, None),
    ({"algorithm": "chacha20"}, None),
])
def test_a_symmetric_key_checks_its_size_per_algorithm(options, problem):
    problems = SymmetricKey.validate(symmetric_params(**options))
    assert problems == ([problem] if problem else []), problems


def test_a_symmetric_key_compares_algorithm_size_tags_and_revocation():
    key = SymmetricKey(Kms(), symmetric_params(size=128, tags=["x"]))
    current = {"algorithm": "aes", "size": 256, "state": "Compromised", "tags": ["x"], "exportable": False}
    assert key.mismatch(current) == ["size is 256, requested 128", "the key is revoked (Compromised)"]
    assert key.mismatch(dict(current, algorithm="chacha20")) == ["algorithm is chacha20, requested aes",
                                                                 "the key is revoked (Compromised)"]
    assert key.predicted(None) == {"type": "symmetric", "algorithm": "aes", "size": 128, "state": "Active",
                                   "tags": ["x"], "exportable": False, "activation_date": None}
