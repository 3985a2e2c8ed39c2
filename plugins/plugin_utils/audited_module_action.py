# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind every module of the collection (plugins/action/kms_module.py; meta/runtime.yml
routes each module of the action group ``kms`` to it).

A module runs on the managed host and cannot see which playbook and task called it, yet
the audit trail should say so. The controller can: this action fills the module's
``audit_context`` option from the running play (keys the user set win) and then runs the
module exactly as Ansible's default action would (check mode, diff and async included).
Modules that write no KMS audit records and take no ``audit_context`` are listed in
``WITHOUT_AUDIT_CONTEXT`` and run unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

MAX_PARENTS = 50
# Modules of the collection without an audit_context option (they write no KMS audit records).
WITHOUT_AUDIT_CONTEXT = frozenset(("kms_audit",))


def _play_of(task):
    """The Play a task belongs to, through its blocks and includes; None when unknown."""
    node = task
    for dummy in range(MAX_PARENTS):
        play = getattr(node, "_play", None)
        if play is not None:
            return play
        node = getattr(node, "_parent", None)
        if node is None:
            break
    return None


def _file_of(path):
    """``/x/site.yml:12`` -> ``/x/site.yml``; None for an object that came from no file."""
    return path.rsplit(":", 1)[0] if path else None


class AuditedModuleAction(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(AuditedModuleAction, self).run(tmp, task_vars)
        del tmp  # no longer used by ActionBase

        module_name = self.module_name()
        args = dict(self._task.args)
        if module_name.rpartition(".")[2] not in WITHOUT_AUDIT_CONTEXT:
            context = dict(args.get("audit_context") or {})
            for key, value in self.task_origin().items():
                if value and not context.get(key):
                    context[key] = value
            if context:
                args["audit_context"] = context

        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(
            module_name=module_name, module_args=args, task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def module_name(self):
        """The module the task names, fully qualified. (The task's ``resolved_action`` may name
        this action plugin instead, the one meta/runtime.yml routes every module to.)"""
        module = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections)
        return module.resolved_fqcn if module.resolved else self._task.action

    def task_origin(self):
        """The playbook file and the task name of the running task, as far as known."""
        play = _play_of(self._task)
        return {
            "playbook": _file_of(play.get_path()) if play is not None else None,
            "task": self._task.get_name() or None,
        }
