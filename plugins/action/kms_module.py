# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of every module of the collection: meta/runtime.yml routes each module of the
action group ``kms`` here, so its audit records name the playbook and the task."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.plugin_utils.audited_module_action import AuditedModuleAction


class ActionModule(AuditedModuleAction):
    pass
