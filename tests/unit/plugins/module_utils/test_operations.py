# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a lifecycle operation's goal counts as reached (what the client checks after a
retried request was refused; tests/integration/test_lost_answers.py shows it on the server)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv

STATES = ("PreActive", "Active", "Deactivated", "Compromised", "Destroyed", "Destroyed_Compromised")


@pytest.mark.parametrize("operation, reached", [
    (ops.revoke("k"), {"Deactivated", "Compromised"}),
    (ops.destroy("k", remove=True), {"Destroyed", "Destroyed_Compromised", None}),
    (ops.activate("k"), {"Active"}),
])
def test_goal_reached_only_in_the_target_states(operation, reached):
    for state in STATES + (None,):
        attributes = None if state is None else {"state": state}
        assert operation.achieved(attributes) is (state in reached), state


@pytest.mark.parametrize("operation", [ops.create_key_pair(2048), ops.get_attributes("k"),
                                       ops.locate(object_type="PrivateKey")])
def test_other_operations_are_never_settled_by_reading_state(operation):
    assert operation.achieved is None and operation.settled is None


def pair_read(operation, **changes):
    """What parse_attributes says of the pair ``operation`` asked for."""
    private = operation.payload.find("PrivateKeyAttributes")
    common = operation.payload.find("CommonAttributes")
    read = ops.parse_attributes(ttlv.structure("Attributes", [
        ttlv.enumeration("ObjectType", "PrivateKey"), ttlv.enumeration("State", "Active"),
        common.find("CryptographicAlgorithm"),
        ttlv.integer("CryptographicLength", common.get("CryptographicLength") or 520),
        common.find("CryptographicDomainParameters") or ttlv.structure("Unused", []),
        ttlv.boolean("Sensitive", private.get("Sensitive")), ttlv.boolean("Extractable", True),
        common.find("ActivationDate"), ops.link("PublicKeyLink", "k_pk")]))
    read.update(changes)
    return read


@pytest.mark.parametrize("arguments", [dict(size=2048), dict(key_type="ec", curve="P-521"), dict(key_type="ed25519")])
def test_a_create_of_any_type_is_achieved_by_its_own_pair_only(arguments):
    operation = ops.create_key_pair(private_key_id="k", **arguments)
    assert operation.achieved(pair_read(operation))
    for changes in ({"key_type": "ed448"}, {"curve": "P-384"}, {"size": 4096}, {"exportable": True},
                    {"tags": ["x"]}, {"activation_date": None}):
        assert not operation.achieved(pair_read(operation, **changes)), changes


def test_a_symmetric_create_under_a_chosen_id_is_achieved_by_that_key_only():
    operation = ops.create_symmetric_key("AES", 128, "s", ["t"])
    mine = {"object_type": "SymmetricKey", "algorithm": "AES", "length": 128, "exportable": False, "tags": ["t"],
            "state": "Active", "activation_date": operation.payload.find("Attributes").get("ActivationDate")}
    assert operation.achieved(mine) and operation.settled_result(mine) == "s"
    for changes in ({"length": 256}, {"algorithm": "ChaCha20"}, {"exportable": True}, {"activation_date": None}):
        assert not operation.achieved(dict(mine, **changes)), changes
    assert ops.create_symmetric_key().achieved is None


def test_a_private_key_read_is_a_pkcs8_get():
    operation = ops.get_private_key("k")
    assert (operation.name, operation.entity_type) == ("Get", "private_key")
    assert operation.payload.get("KeyFormatType") == "PKCS8" and operation.achieved is None
