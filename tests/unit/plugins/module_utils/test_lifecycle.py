# -*- coding: utf-8 -*-
"""The lifecycle core on its own: the plan from state and regenerate, check mode, the result
shape and the diff, with an in-memory kind (no KMS, no AnsibleModule). The KMS calls of
revocation and destruction are recorded by a stand-in for ``kms``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import (
    LifecycleOptions,
    ManagedObject,
    revoked_state,
    wrong_type_message,
)


class Kms:
    """What the core uses of a KmsModule: check mode, diff, the outcome and KMIP calls (recorded)."""

    def __init__(self, check_mode=False, diff=False):
        self.check_mode = check_mode
        self._diff = diff
        self.outcome = {}
        self.calls = []

    def call(self, operation, entity_type=None):
        self.calls.append(operation.name)


class Thing(ManagedObject):
    """A kind whose objects live in a dict: ``size`` is its one compared property."""

    kind = "thing"
    entity_type = "thing"

    def __init__(self, kms, params, store):
        super(Thing, self).__init__(kms, params)
        self.store = store

    def read(self):
        return dict(self.store[self.name]) if self.name in self.store else None

    def view(self, current):
        return dict(current)

    def mismatch(self, current):
        reasons = ["size is %s, requested %s" % (current["size"], self.params["size"])
                   ] if current["size"] != self.params["size"] else []
        return reasons + (["revoked"] if current["state"] != "Active" else [])

    def predicted(self, current):
        return {"size": self.params["size"], "state": "Active"}

    def create(self):
        self.store[self.name] = {"size": self.params["size"], "state": "Active", "pem": "PUBLIC"}
        return self.read()

    def after_revoke(self, current):
        self.store[self.name]["state"] = revoked_state(self.params["revocation_reason"])
        return self.read()

    def before_destroy(self, current):
        del self.store[self.name]


def params(**options):
    spec = LifecycleOptions.argument_spec()
    values = dict((name, option.get("default")) for name, option in spec.items())
    values.update(name="t1", size=2048)
    values.update(options)
    return values


def ensure(store, check_mode=False, diff=False, **options):
    kms = Kms(check_mode, diff)
    return Thing(kms, params(**options), store).ensure(), kms


def test_a_missing_object_is_created_and_a_second_run_changes_nothing():
    store = {}
    first, kms = ensure(store)
    assert first["changed"] and first["changes"] == ["created"] and store["t1"]["size"] == 2048
    assert first["name"] == first["id"] == "t1" and first["mismatch"] == [] and first["state"] == "Active"
    again, kms = ensure(store)
    assert not again["changed"] and again["changes"] == [] and kms.calls == []


def test_check_mode_predicts_the_real_run_and_changes_nothing():
    store = {}
    predicted, _kms = ensure(store, check_mode=True)
    assert store == {} and predicted["changes"] == ["created"]
    real, _kms = ensure(store)
    assert real["changes"] == predicted["changes"] and real["state"] == predicted["state"]


@pytest.mark.parametrize("regenerate, changes, size, kept_mismatch", [
    ("never", [], 4096, ["size is 4096, requested 2048"]),
    ("mismatch", ["replaced"], 2048, []),
    ("always", ["replaced"], 2048, []),
])
def test_regenerate_decides_what_a_mismatch_does(regenerate, changes, size, kept_mismatch):
    store = {"t1": {"size": 4096, "state": "Active"}}
    result, kms = ensure(store, regenerate=regenerate)
    assert result["changes"] == changes and store["t1"]["size"] == size and result["mismatch"] == kept_mismatch
    # A replacement revokes the Active object and destroys it before making the new one.
    assert kms.calls == (["Revoke", "Destroy"] if changes else [])


def test_regenerate_always_replaces_a_matching_object():
    store = {"t1": {"size": 2048, "state": "Active"}}
    assert ensure(store, regenerate="always")[0]["changes"] == ["replaced"]


def test_regenerate_fail_says_what_differs_and_changes_nothing():
    store = {"t1": {"size": 4096, "state": "Active"}}
    with pytest.raises(TaskError) as failed:
        ensure(store, regenerate="fail")
    assert str(failed.value) == ("Thing 't1' exists but does not match: size is 4096, requested 2048. Set "
                                 "regenerate=mismatch to replace it, or regenerate=never to keep it.")
    assert failed.value.result == {"mismatch": ["size is 4096, requested 2048"], "changed": False}
    assert store["t1"]["size"] == 4096


@pytest.mark.parametrize("reason, state", [("KeyCompromise", "Compromised"), ("Superseded", "Deactivated")])
def test_revocation_and_its_prediction_agree(reason, state):
    store = {"t1": {"size": 2048, "state": "Active"}}
    predicted, _kms = ensure(store, check_mode=True, state="revoked", revocation_reason=reason)
    assert predicted["state"] == state and store["t1"]["state"] == "Active"
    real, kms = ensure(store, state="revoked", revocation_reason=reason)
    assert real["state"] == state and real["changes"] == ["revoked"] and kms.calls == ["Revoke"]
    again, kms = ensure(store, state="revoked", revocation_reason=reason)
    assert not again["changed"] and kms.calls == []


def test_revoking_a_missing_object_fails_without_change():
    with pytest.raises(TaskError) as failed:
        ensure({}, state="revoked")
    assert str(failed.value) == "There is no thing named 't1' to revoke" and failed.value.result == {"changed": False}


def test_absent_revokes_an_active_object_then_destroys_it():
    store = {"t1": {"size": 2048, "state": "Active"}}
    predicted, kms = ensure(store, check_mode=True, state="absent")
    assert predicted["changes"] == ["revoked", "destroyed"] and kms.calls == [] and "t1" in store
    real, kms = ensure(store, state="absent")
    assert real["changes"] == predicted["changes"] and real["state"] == "absent" and store == {}
    assert kms.calls == ["Revoke", "Destroy"]
    assert not ensure(store, state="absent")[0]["changed"]


def test_the_diff_shows_before_and_after_without_pem():
    result, _kms = ensure({}, diff=True)
    assert result["diff"] == {"before": {"state": "absent"}, "after": {"size": 2048, "state": "Active"}}
    assert "pem" in result and "diff" not in ensure({}, diff=False)[0]


def test_a_failure_result_names_the_object_and_the_changes_so_far():
    kms = Kms()
    thing = Thing(kms, params(), {})
    thing.ensure()
    assert kms.outcome == {"name": "t1", "id": "t1", "changes": ["created"]}


@pytest.mark.parametrize("options, problem", [
    ({"revocation_message": "why"}, "revocation_message is only used with state=revoked, state=absent or a "
                                    "regenerate that replaces the thing"),
    ({"revocation_message": "why", "state": "absent"}, None),
    ({"revocation_message": "why", "regenerate": "mismatch"}, None),
    ({"name": "-bad"}, "1 to 128 characters"),
])
def test_options_common_to_every_kind(options, problem):
    problems = Thing.validate(params(**options))
    assert (problem in problems[0]) if problem else problems == []


def test_a_kind_whose_replacement_does_not_revoke_takes_no_revocation_message_with_present():
    class InPlace(Thing):
        replacement_revokes = False
    assert InPlace.validate(params(revocation_message="why", regenerate="always")) == [
        "revocation_message is only used with state=revoked or state=absent"]


def test_wrong_type_messages_name_the_option_when_there_is_one():
    assert wrong_type_message("ca", "Certificate", "PrivateKey") == (
        "The KMS object 'ca' is a Certificate, not a key pair's private key; choose another name")
    assert wrong_type_message("k", "PrivateKey", "Certificate", role="issuer") == (
        "issuer 'k' is a PrivateKey in the KMS, not a certificate")
