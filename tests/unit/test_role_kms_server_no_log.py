# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kms_server role keeps kms_server_database_url, which may hold a password, out of its
output: every task that uses it runs with no_log when it is set (no Docker needed: the
no_log expressions are evaluated by ansible-playbook itself)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import yaml

from playbook import REPO, run_playbook

ROLE = os.path.join(REPO, "roles", "kms_server")
PASSWORD = "S3cr3t-db-pw"
DATABASE_URL = "postgresql://kms:%s@db.example.com:5432/kms" % PASSWORD
# The variable itself, not the derived kms_server_database_url_given (a boolean).
USES_URL = re.compile(r"\bkms_server_database_url\b(?!_)")


def _tasks(entries):
    for task in entries or ():
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))
        if not any(section in task for section in ("block", "rescue", "always")):
            yield task


def role_tasks():
    for path in sorted(glob.glob(os.path.join(ROLE, "tasks", "*.yml"))) + [os.path.join(ROLE, "handlers", "main.yml")]:
        with open(path) as handle:
            yield from _tasks(yaml.safe_load(handle))


CONDITIONALS = ("that", "when", "failed_when", "changed_when", "until")


def _expressions(value, key=None):
    """The Jinja expressions in a task: ``{{ ... }}`` in any string, and whole conditionals."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _expressions(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _expressions(item, key)
    elif isinstance(value, str):
        if key in CONDITIONALS:
            yield value
        yield from re.findall(r"{{(.*?)}}", value, re.DOTALL)


def uses_database_url(task):
    shown = dict((key, value) for key, value in task.items() if key != "no_log")
    if any(USES_URL.search(expression) for expression in _expressions(shown)):
        return True
    template = task.get("ansible.builtin.template")
    if template:
        with open(os.path.join(ROLE, "templates", template["src"])) as handle:
            return bool(USES_URL.search(handle.read()))
    return False


def test_every_task_using_the_database_url_has_no_log_when_it_is_set():
    """Defect 7: the role's database URL had no no_log (issue 15)."""
    using = [task for task in role_tasks() if uses_database_url(task)]
    assert [task["name"] for task in using] == ["Write kms.toml"]
    assert all("no_log" in task for task in using), [task["name"] for task in using if "no_log" not in task]

    # Each task's own no_log expression, evaluated by Ansible with the role's variables.
    tasks = [{"name": "defaults", "ansible.builtin.include_vars": os.path.join(ROLE, "defaults", "main.yml")},
             {"name": "vars", "ansible.builtin.include_vars": os.path.join(ROLE, "vars", "main.yml")}]
    tasks += [{"name": task["name"], "no_log": task["no_log"],
               "ansible.builtin.debug": {"msg": "{{ kms_server_database_url }}"}} for task in using]
    with_url = run_playbook(tasks, args=("-vvv", "-e", "kms_server_database_type=postgresql",
                                         "-e", "kms_server_database_url=" + DATABASE_URL))
    assert with_url.returncode == 0, with_url.output[-3000:]
    assert PASSWORD not in with_url.output
    for task in using:
        assert "no_log: true" in with_url.result(task["name"]).get("censored", ""), task["name"]

    without = run_playbook(tasks)
    assert without.returncode == 0, without.output[-3000:]
    assert "censored" not in without.result("Write kms.toml")


def test_the_argument_spec_marks_the_database_url_secret():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert options["kms_server_database_url"]["no_log"] is True
    assert "password" in " ".join(options["kms_server_database_url"]["description"])
