# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the action plugin finds the playbook of a task (the end to end path, with real
ansible-playbook and ansible ad-hoc runs, is in tests/integration/test_kms_keypair.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.plugin_utils.audited_module_action import _file_of, _play_of


class Node:
    def __init__(self, parent=None, play=None):
        self._parent = parent
        if play is not None:
            self._play = play


def test_file_of_strips_the_line_number():
    assert _file_of("/srv/site.yml:12") == "/srv/site.yml"
    assert _file_of("") is None and _file_of(None) is None


def test_play_found_through_blocks_and_includes():
    play = object()
    task = Node(parent=Node(parent=Node(play=play)))
    assert _play_of(task) is play
    assert _play_of(Node(parent=Node())) is None
