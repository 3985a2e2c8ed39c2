"""Run real ansible-playbook against the collection and read back every task's result."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HELPERS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HELPERS))
COLLECTIONS = os.path.join(REPO, ".tmp", "collections")


class PlaybookRun:
    """The outcome of one ansible-playbook run: exit code, output, per-task results."""

    def __init__(self, returncode, output, records):
        self.returncode = returncode
        self.output = output
        self.records = records

    def results(self, task=None, host=None):
        return [r for r in self.records if (task is None or r["task"] == task) and (host is None or r["host"] == host)]

    def result(self, task, host="localhost"):
        found = self.results(task, host)
        assert found, "no result for task %r on %s:\n%s" % (task, host, self.output[-3000:])
        return found[-1]["result"] | {"_status": found[-1]["status"]}


def _prepare(hosts, extra_env, forks):
    """A work folder with an inventory of ``hosts`` (local connection) and the environment
    every ansible command of the tests runs with; returns (work, inventory, records_file, env)."""
    work = tempfile.mkdtemp(prefix="pkimanager-play-")
    inventory = os.path.join(work, "inventory.yml")
    with open(inventory, "w") as handle:
        local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        yaml.safe_dump({"all": {"hosts": {host: local for host in hosts}}}, handle)
    records_file = os.path.join(work, "records.jsonl")
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HELPERS, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "record_results",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "True",
        "RECORD_RESULTS_FILE": records_file,
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": os.path.join(work, "tmp"),
        "ANSIBLE_REMOTE_TEMP": os.path.join(work, "rtmp"),
    })
    env.update(extra_env or {})
    return work, inventory, records_file, env


def _run(command, work, records_file, env):
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=env, timeout=900, check=False)
    records = []
    if os.path.exists(records_file):
        with open(records_file) as handle:
            records = [json.loads(line) for line in handle if line.strip()]
    shutil.rmtree(work, ignore_errors=True)
    return PlaybookRun(proc.returncode, proc.stdout, records)


def _tool(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def run_playbook(tasks=None, hosts=None, extra_env=None, args=(), forks=5, gather_facts=False, playbook=None):
    """Run ``tasks`` (a list of task dicts), or an existing ``playbook`` file, on ``hosts``
    (default: localhost only)."""
    work, inventory, records_file, env = _prepare(hosts or ["localhost"], extra_env, forks)
    if playbook is None:
        playbook = os.path.join(work, "play.yml")
        with open(playbook, "w") as handle:
            yaml.safe_dump([{"name": "test", "hosts": "all", "gather_facts": gather_facts, "tasks": tasks}], handle,
                           sort_keys=False)
    return _run([_tool("ansible-playbook"), "-i", inventory, playbook] + list(args), work, records_file, env)


def run_adhoc(module, module_args, extra_env=None, args=()):
    """``ansible localhost -m module -a <json args>``; its result is task ``module``'s."""
    work, inventory, records_file, env = _prepare(["localhost"], extra_env, 1)
    command = [_tool("ansible"), "localhost", "-i", inventory, "-m", module, "-a", json.dumps(module_args)]
    return _run(command + list(args), work, records_file, env)


def run_shipped(name, env, *args):
    """playbooks/<name>, which must succeed."""
    play = run_playbook(playbook=os.path.join(REPO, "playbooks", name), extra_env=env, args=list(args))
    assert play.returncode == 0, play.output[-4000:]
    return play


def changed_tasks(play):
    """The names of the tasks that changed something in ``play``."""
    return sorted(set(r["task"] for r in play.records if r["result"].get("changed")))
