# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a lifecycle operation's goal counts as reached (what the client checks after a
retried request was refused; tests/integration/test_lost_answers.py shows it on the server)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

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
