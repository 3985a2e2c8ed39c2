"""One action plugin serves every module of the action group ``kms`` (meta/runtime.yml):
each module that writes audit records gets the playbook and the task in them, and a module
without that routing (or without a task here) fails this test instead of silently writing
records that name no playbook."""

import json
import os
import subprocess
import sys
import uuid

import yaml

from kms_checks import play, records
from playbook import COLLECTIONS, REPO

ACTION_PLUGIN = "pkimanager.kms.kms_module"


def runtime():
    with open(os.path.join(REPO, "meta", "runtime.yml")) as handle:
        return yaml.safe_load(handle)


def group_modules():
    return runtime()["action_groups"]["kms"]


def takes_audit_context(module):
    """Whether the module documents the audit_context option, which the action plugin fills."""
    doc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json",
                          "pkimanager.kms." + module], stdout=subprocess.PIPE, universal_newlines=True, check=True,
                         env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS))
    options = json.loads(doc.stdout)["pkimanager.kms." + module]["doc"]["options"]
    return "audit_context" in options


# One cheap task per module of the action group: the audited ones read an object that does
# not exist (one GetAttributes, recorded as not_found).
TASKS = {
    "kms_keypair": lambda name: {"name": name, "state": "absent"},
    "kms_certificate": lambda name: {"name": name, "state": "absent"},
    "kms_audit": lambda name: {"action": "summary"},
    "kms_symmetric_key": lambda name: {"name": name, "state": "absent"},
    "kms_key_info": lambda name: {"name": name},
    "kms_certificate_info": lambda name: {"name": name},
    # No CA of that name: the task fails (ignored below) after its audited read of the issuer.
    "kms_crl": lambda name: {"issuer": name, "dest": "/tmp/%s.crl" % name},
}

# Modules whose task above fails by design (it needs an object the test does not make).
FAILING = ("kms_crl",)


def test_every_module_of_the_group_is_routed_to_the_one_action_plugin():
    routing = runtime().get("plugin_routing", {}).get("modules", {})
    unrouted = [m for m in group_modules() if routing.get(m, {}).get("action_plugin") != ACTION_PLUGIN]
    assert not unrouted, "route %s to %s in meta/runtime.yml (plugin_routing.modules.<module>.action_plugin)" % (
        ", ".join(unrouted), ACTION_PLUGIN)
    assert sorted(TASKS) == sorted(group_modules()), "give every module of the action group a task in TASKS"


def test_every_audited_module_records_the_playbook_and_task(env):
    names = dict((module, "routing-%s-%s" % (module, uuid.uuid4().hex[:8])) for module in group_modules())
    # A module_defaults entry for one module reaches that module only (an action redirect
    # would give every routed module the action plugin's name, and these defaults with it).
    defaults = {"pkimanager.kms.kms_keypair": {"size": 2048}}
    run = play(env, *[{"name": "run %s" % module, "module_defaults": defaults, "ignore_errors": module in FAILING,
                       "pkimanager.kms." + module: TASKS[module](names[module])} for module in group_modules()])
    assert run.returncode == 0, run.output[-3000:]

    audited = [module for module in group_modules() if takes_audit_context(module)]
    assert "kms_keypair" in audited and "kms_certificate" in audited and "kms_audit" not in audited
    for module in audited:
        written = records(env, entity_id=names[module])
        assert written, "%s wrote no audit record" % module
        for record in written:
            assert record["task"] == "run %s" % module, (module, record)
            assert record["playbook"] and record["playbook"].endswith("/play.yml"), (module, record)

    summary = run.result("run kms_audit")
    assert summary["_status"] == "ok" and not summary["changed"], summary
    assert summary["count"] == len(records(env)) > 0, summary
