"""Machinery of the fault suite (tests/integration/test_faults.py): many failing tasks in
one ansible-playbook run, and the checks every failure must pass.

A run puts each case on its own inventory host, all running one ``include_tasks`` of the
host's own task file under the ``free`` strategy, so the cases run side by side (forks)
in one Ansible process and each result is found by its host and task name.
"""

import json
import os
import re
import shutil
import sqlite3
import tempfile
from urllib.parse import quote, quote_plus

import yaml

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

from playbook import run_playbook

# Every state Locate can be asked for: the KMS seen through raw Locates is {id: state}.
KMIP_STATES = ("PreActive", "Active", "Deactivated", "Compromised", "Destroyed", "Destroyed_Compromised")
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE", "module_stderr", "module_stdout")


class Case:
    """One bad input or fault: a task that must fail cleanly.

    ``module`` is a module of the collection, or ``lookup`` (then ``args`` are the
    options of ``kms_pem`` and ``terms`` the names it reads). String values in ``args``
    are formatted with the run's context (``{pair}``, ``{http}`` ...). ``expect`` is a
    regular expression the one-line message must match (case-insensitive). ``audit``
    says what the audit store must hold for the case: ``failure`` (a request was sent and
    failed: a failure record with the error's attempts), ``call`` (a request was sent:
    some record), ``none`` (refused before any request: no record) or None (either).
    ``attempts``, when set, is how many requests the error and its record must count.
    Options set to None are left out of the task.
    """

    def __init__(self, case_id, module, args, expect, audit=None, terms=(), attempts=None):
        self.id = case_id
        self.module = module
        self.args = dict((k, v) for k, v in args.items() if v is not None)
        self.expect = expect
        self.audit = audit
        self.terms = list(terms)
        self.attempts = attempts

    def __repr__(self):
        return "Case(%s)" % self.id

    def task(self, context):
        args = _format(self.args, context)
        if self.module == "lookup":
            terms = _format(self.terms, context)
            task = {"ansible.builtin.set_fact": {
                "looked_up": "{{ lookup('pkimanager.kms.kms_pem', *lookup_terms, **lookup_options) }}"},
                "vars": {"lookup_terms": terms, "lookup_options": args}}
        else:
            task = {"pkimanager.kms.%s" % self.module: args}
        task = dict({"name": self.id}, **task)
        task["ignore_errors"] = True
        return task

    def names(self, context):
        """The object names this case uses (checked not to be created by it)."""
        args = _format(self.args, context)
        return [n for n in [args.get("name")] + _format(self.terms, context) if isinstance(n, str) and n]


def _format(value, context):
    if isinstance(value, str):
        return value.format(**context) if "{" in value else value
    if isinstance(value, dict):
        return dict((k, _format(v, context)) for k, v in value.items())
    if isinstance(value, list):
        return [_format(v, context) for v in value]
    return value


def run_cases(cases, context, extra_env, forks=4, verbosity="-vvv"):
    """Run every case in one ansible-playbook; returns the PlaybookRun (results by case id)."""
    folder = tempfile.mkdtemp(prefix="pkimanager-faults-")
    try:
        for case in cases:
            with open(os.path.join(folder, case.id + ".yml"), "w") as handle:
                yaml.safe_dump([case.task(context)], handle, sort_keys=False, allow_unicode=False)
        playbook = os.path.join(folder, "faults.yml")
        with open(playbook, "w") as handle:
            yaml.safe_dump([{"name": "faults", "hosts": "all", "gather_facts": False, "strategy": "free",
                             "vars": {"case_dir": folder},
                             "tasks": [{"ansible.builtin.include_tasks": "{{ case_dir }}/{{ inventory_hostname }}.yml"}]}],
                           handle, sort_keys=False)
        env = dict((k, v) for k, v in extra_env.items() if k != "tmp")
        env.setdefault("ANSIBLE_PIPELINING", "True")
        return run_playbook(hosts=[case.id for case in cases], playbook=playbook, extra_env=env, forks=forks,
                            args=[verbosity] if verbosity else [])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def case_result(run, case):
    found = run.results(case.id, case.id)
    assert found, "no result for case %s:\n%s" % (case.id, run.output[-3000:])
    return dict(found[-1]["result"], _status=found[-1]["status"])


def kms_snapshot(client):
    """{id: state} of every object on the KMS, from one raw Locate per state."""
    seen = {}
    for state in KMIP_STATES:
        for object_id in client.call(ops.locate(state=state)):
            seen[object_id] = state
    return seen


def snapshot_changes(before, after):
    """What differs between two snapshots: {id: (state before, state after)}."""
    return dict((object_id, (before.get(object_id), after.get(object_id)))
                for object_id in set(before) | set(after) if before.get(object_id) != after.get(object_id))


def audit_rows(path):
    """Every record of an audit store, oldest first, read with sqlite3 alone (no writer code)."""
    if not os.path.exists(path):
        return []
    connection = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute("SELECT * FROM audit_records ORDER BY record_id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        connection.close()
    result = []
    for row in rows:
        record = dict(row)
        record["details"] = json.loads(record["details"])
        result.append(record)
    return result


def renderings(secret):
    """Every way a secret could be written out: raw, repr, JSON-escaped, URL-encoded, and
    each run of 5+ letters and digits in it (so a secret split or partly escaped is found)."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             quote(secret, safe=""), quote_plus(secret), secret.encode("unicode_escape").decode("ascii")}
    forms.update(re.findall(r"[A-Za-z0-9]{5,}", secret))
    return sorted(forms, key=len, reverse=True)


def secret_leaks(secrets, texts):
    """[(secret, rendering, where, excerpt)] for every rendering of a secret found in texts
    ({where: str or bytes})."""
    leaks = []
    for secret in secrets:
        for form in renderings(secret):
            for where, text in texts.items():
                haystack = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
                at = haystack.find(form)
                if at >= 0:
                    leaks.append((secret, form, where, haystack[max(0, at - 80):at + len(form) + 80]))
    return leaks


def store_files(folder):
    """{path: bytes} of the audit files in ``folder`` (database, WAL, mirror)."""
    found = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.startswith("audit") and os.path.isfile(path):
            with open(path, "rb") as handle:
                found[path] = handle.read()
    return found


def check_clean_failure(case, result):
    """The failure is the case's own, on one line, and no traceback reached the result."""
    shown = json.dumps(result, default=str)
    assert result["_status"] == "failed", "%s did not fail: %s" % (case.id, shown[:2000])
    for marker in TRACEBACK_MARKERS:
        assert marker not in shown, "%s: %r in the result: %s" % (case.id, marker, shown[:3000])
    exception = result.get("exception")
    assert exception in (None, "(traceback unavailable)"), "%s: a traceback in the result: %s" % (case.id, exception)
    message = result.get("msg") or ""
    assert message and "\n" not in message.strip(), "%s: not a one-line message: %r" % (case.id, message)
    assert re.search(case.expect, message, re.IGNORECASE), "%s: %r does not match %r" % (case.id, message, case.expect)


def check_audit(case, result, records):
    """The case's audit records match what reached the KMS (see Case.audit)."""
    if case.audit is None:
        return
    if case.audit == "none":
        assert records == [], "%s made no request, yet it has audit records: %s" % (case.id, records)
        return
    assert records, "%s sent a request but left no audit record (msg: %s)" % (case.id, result.get("msg"))
    if case.audit == "failure":
        assert [r for r in records if r["status"] == "failure"], "%s: no failure record among %s" % (
            case.id, [(r["operation"], r["status"]) for r in records])
        if result.get("kms_error"):
            assert records_of_error(records, result["kms_error"]), "%s: no failure record of %s among %s" % (
                case.id, result["kms_error"], [(r["operation"], r["details"]) for r in records])
    if case.attempts:
        assert (result.get("kms_error") or {}).get("attempts") == case.attempts, (case.id, result.get("kms_error"))


def records_of_error(records, error):
    """The failure records that tell of ``error`` (a result's kms_error): same reason, same attempts."""
    return [r for r in records if r["status"] == "failure" and r["details"].get("reason") == error.get("reason")
            and r["details"].get("attempts") == error.get("attempts")]
