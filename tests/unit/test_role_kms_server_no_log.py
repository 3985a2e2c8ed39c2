# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kms_server role keeps the database password out of its output (no Docker needed: the
no_log expressions and the derived variables are evaluated by ansible-playbook itself).

The password is in kms_server_database_url (the whole URL), in kms_server_database_password
(the parts) and in the URL the role builds, kms_server_database_connection_url. Every task
using one of them runs with no_log when it is set; every other variable derived from them
(booleans, the password-free kms_server_database_target, ...) is shown here with -vvv and
must not carry the password."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re

import pytest
import yaml

from playbook import REPO, run_playbook

ROLE = os.path.join(REPO, "roles", "kms_server")
PASSWORD = "S3cr3t-db-pw"
DATABASE_URL = "postgresql://kms:%s@db.example.com:5432/kms" % PASSWORD
SECRET_VARIABLES = ("kms_server_database_url", "kms_server_database_password", "kms_server_database_connection_url")
# The variables themselves, not derived ones such as kms_server_database_url_given (a boolean).
USES_SECRET = re.compile(r"\b(%s)\b" % "|".join(SECRET_VARIABLES))
# Passwords that URL parsing or regular expressions could cut in pieces.
AWKWARD_PASSWORDS = ["S3cr3t-db-pw", "p@ss:w/rd", "a?b=c&d#e", "pct%41+ sp", "@@::", "x@y@z"]


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


def uses_secret(task):
    shown = dict((key, value) for key, value in task.items() if key != "no_log")
    if any(USES_SECRET.search(expression) for expression in _expressions(shown)):
        return True
    template = task.get("ansible.builtin.template")
    if template:
        with open(os.path.join(ROLE, "templates", template["src"])) as handle:
            return bool(USES_SECRET.search(handle.read()))
    return False


def role_variables():
    with open(os.path.join(ROLE, "vars", "main.yml")) as handle:
        return yaml.safe_load(handle)


def derived_from_secrets():
    """The variables of vars/main.yml computed from a secret one, directly or not."""
    variables = role_variables()
    found, grew = set(), True
    while grew:
        names = set(SECRET_VARIABLES) | found
        pattern = re.compile(r"\b(%s)\b" % "|".join(sorted(names)))
        new = set(name for name, value in variables.items()
                  if isinstance(value, str) and pattern.search(value)) - found - set(SECRET_VARIABLES)
        grew = bool(new)
        found |= new
    return sorted(found)


ROLE_VARS = [{"name": "defaults", "ansible.builtin.include_vars": os.path.join(ROLE, "defaults", "main.yml")},
             {"name": "vars", "ansible.builtin.include_vars": os.path.join(ROLE, "vars", "main.yml")}]


def extra_vars(variables):
    """-e for a PostgreSQL node with these variables (JSON: no splitting on spaces)."""
    return json.dumps(dict(variables, kms_server_database_type="postgresql"))


def test_every_task_using_the_database_password_has_no_log_when_it_is_set():
    """Defect 7: the role's database URL had no no_log (issue 15); issue 19 adds the parts."""
    using = [task for task in role_tasks() if uses_secret(task)]
    assert [task["name"] for task in using] == ["Write kms.toml"]
    assert all("no_log" in task for task in using), [task["name"] for task in using if "no_log" not in task]

    # Each task's own no_log expression, evaluated by Ansible with the role's variables.
    tasks = ROLE_VARS + [{"name": task["name"], "no_log": task["no_log"],
                          "ansible.builtin.debug": {"msg": "{{ kms_server_database_connection_url }}"}} for task in using]
    for form in ({"kms_server_database_url": DATABASE_URL},
                 {"kms_server_database_host": "db.example.com", "kms_server_database_password": PASSWORD}):
        with_secret = run_playbook(tasks, args=["-vvv", "-e", extra_vars(form)])
        assert with_secret.returncode == 0, with_secret.output[-3000:]
        assert PASSWORD not in with_secret.output
        for task in using:
            assert "no_log: true" in with_secret.result(task["name"]).get("censored", ""), task["name"]

    without = run_playbook(tasks)
    assert without.returncode == 0, without.output[-3000:]
    assert "censored" not in without.result("Write kms.toml")


def test_the_derived_variables_are_the_ones_this_test_knows():
    """A new variable computed from a secret must be added here, and shown below."""
    assert derived_from_secrets() == [
        "kms_server_config_has_secret", "kms_server_database_password_given", "kms_server_database_target",
        "kms_server_database_url_given", "kms_server_database_url_query_keys"]


@pytest.mark.parametrize("password", AWKWARD_PASSWORDS)
def test_no_derived_variable_shows_the_password(password):
    """Tasks without no_log see these: with either form of the URL, none holds the password
    (nor its percent-encoded form)."""
    encoded = password.replace("%", "%25").replace("@", "%40").replace(":", "%3A").replace("/", "%2F")
    shown = ROLE_VARS + [{"name": name, "ansible.builtin.debug": {"var": name}} for name in derived_from_secrets()]
    for form in ({"kms_server_database_host": "db.example.com", "kms_server_database_password": password},
                 # a whole URL, properly encoded and not
                 {"kms_server_database_url": "postgresql://kms:%s@db1:5432,db2/kms?sslmode=require" % encoded},
                 {"kms_server_database_url": "postgres://kms:%s@db1/kms" % password}):
        run = run_playbook(shown, args=["-vvv", "-e", extra_vars(form)])
        assert run.returncode == 0, run.output[-3000:]
        for name in derived_from_secrets():
            value = str(run.result(name)[name])
            for secret in set([password, encoded]):
                assert secret not in value, (name, value)


@pytest.mark.parametrize("variables, url", [
    ({"kms_server_database_host": "db1", "kms_server_database_password": "p@ss/w:rd%"},
     "postgresql://kms:p%40ss%2Fw%3Ard%25@db1:5432/kms"),
    ({"kms_server_database_host": ["db1", "db2:5433", "[2001:db8::1]"], "kms_server_database_user": "kms user",
      "kms_server_database_name": "keys", "kms_server_database_port": 6432,
      "kms_server_database_target_session_attrs": "read-write", "kms_server_database_sslmode": "verify-full",
      "kms_server_database_ssl_ca_file": "/etc/pki/db-ca.pem"},
     "postgresql://kms%20user@db1:6432,db2:5433,[2001:db8::1]:6432/keys?sslmode=verify-full"
     "&sslrootcert=/etc/cosmian/tls/database-ca.pem&target_session_attrs=read-write"),
    ({"kms_server_database_url": "postgres://u:pw@h/kms?connect_timeout=5", "kms_server_database_sslmode": "require"},
     "postgres://u:pw@h/kms?connect_timeout=5&sslmode=require"),
])
def test_the_url_built_from_its_parts(variables, url):
    run = run_playbook(ROLE_VARS + [{"name": "url", "ansible.builtin.debug": {"var": "kms_server_database_connection_url"}}],
                       args=["-e", extra_vars(variables)])
    assert run.returncode == 0, run.output[-3000:]
    assert run.result("url")["kms_server_database_connection_url"] == url


def test_the_argument_spec_marks_the_database_secrets():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    for name in ("kms_server_database_url", "kms_server_database_password"):
        assert options[name]["no_log"] is True, name
        assert "no_log" in " ".join(options[name]["description"]), name
    assert "password" in " ".join(options["kms_server_database_url"]["description"])
