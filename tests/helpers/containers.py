"""Run the pinned Cosmian KMS in Docker for tests: with docker-compose.yml and with the role.

Containers here always use host networking and listen on 127.0.0.1 only (a bridge network
would route to private-range addresses, which this project never sends traffic to).
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import yaml

from kms_server import REPO
from playbook import run_playbook

KMS = os.path.join(REPO, "kms")


def _run(command, **kwargs):
    return subprocess.run(command, check=True, stdout=subprocess.PIPE, universal_newlines=True, **kwargs)


def prepare_docker():
    """Start the engine (installing it if needed) and build the local image; returns its
    reference (repository:tag).

    Not a skip when Docker is missing: CI must run these tests, so this installs it.
    """
    _run([os.path.join(KMS, "start-docker")])
    return _run([os.path.join(KMS, "build-image")]).stdout.strip()


def docker_collections():
    """The folder holding community.docker (kms/fetch-collections)."""
    return _run([os.path.join(KMS, "fetch-collections")]).stdout.strip()


def unique_name(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def wait_for_version(url, timeout=60):
    """GET <url>/version until it answers; returns the version string."""
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/version", timeout=2) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except (OSError, urllib.error.URLError, ValueError):
            if time.time() > deadline:
                raise
            time.sleep(0.2)


class ComposeDeployment:
    """The repository's docker-compose.yml and kms/kms.toml in ``folder``, switched to host
    networking on ``port``: compose refuses published ports with host networking, and the
    server must then listen on 127.0.0.1:<port> itself. Everything else is used as shipped."""

    def __init__(self, folder, port):
        self.url = "http://127.0.0.1:%d" % port
        self.project = unique_name("pkimanager-kms-compose")
        with open(os.path.join(REPO, "docker-compose.yml")) as handle:
            compose = yaml.safe_load(handle)
        service = compose["services"]["kms"]
        service.pop("ports")
        service["network_mode"] = "host"
        self.compose_file = os.path.join(folder, "docker-compose.yml")
        with open(self.compose_file, "w") as handle:
            yaml.safe_dump(compose, handle, sort_keys=False)

        with open(os.path.join(KMS, "kms.toml")) as handle:
            config = handle.read()
        for shipped, local in (("port = 9998\n", "port = %d\n" % port),
                               ('hostname = "0.0.0.0"\n', 'hostname = "127.0.0.1"\n')):
            assert config.count(shipped) == 1, "kms/kms.toml no longer has %r" % shipped
            config = config.replace(shipped, local)
        os.makedirs(os.path.join(folder, "kms", "data"), mode=0o700)
        config_path = os.path.join(folder, "kms", "kms.toml")
        with open(os.open(config_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write(config)

    def compose(self, *args):
        return subprocess.run(["docker-compose", "--env-file", os.path.join(KMS, ".env"), "--project-name",
                               self.project, "--file", self.compose_file] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              check=False)

    def up(self):
        started = self.compose("up", "--detach")
        assert started.returncode == 0, started.stdout
        try:
            return wait_for_version(self.url)
        except OSError as error:
            raise AssertionError("compose service did not answer: %s\n%s" % (error, self.logs())) from error

    def down(self):
        stopped = self.compose("down", "--remove-orphans")
        assert stopped.returncode == 0, stopped.stdout

    def logs(self):
        return self.compose("logs", "--no-color", "--tail", "40").stdout


def shared_role_variables(image):
    """What every node the tests deploy with the role has: the local image, host networking on
    127.0.0.1."""
    repository, version = image.rsplit(":", 1)
    return {"kms_server_image": repository, "kms_server_version": version,
            "kms_server_network_mode": "host", "kms_server_bind_address": "127.0.0.1"}


def node_role_variables(port, container, folder):
    """What differs between nodes on one machine: port, container name, folders."""
    return {"kms_server_port": port, "kms_server_container_name": container,
            "kms_server_data_dir": os.path.join(folder, "data"), "kms_server_config_dir": os.path.join(folder, "config")}


class RoleDeployment:
    """The role pkimanager.kms.kms_server applied to localhost through ansible-playbook."""

    def __init__(self, folder, port, image):
        self.url = "http://127.0.0.1:%d" % port
        self.container = unique_name("pkimanager-kms-role")
        self.variables = dict(shared_role_variables(image), kms_server_health_timeout=30,
                              **node_role_variables(port, self.container, folder))
        self.collections_path = os.path.join(REPO, ".tmp", "collections") + ":" + docker_collections()

    def run(self, **variables):
        """ansible-playbook with the role and these variables over the ones above."""
        return run_playbook([{"name": "Apply the role", "ansible.builtin.include_role": {
            "name": "pkimanager.kms.kms_server"}, "vars": dict(self.variables, **variables)}],
            extra_env={"ANSIBLE_COLLECTIONS_PATH": self.collections_path})

    def apply(self, **variables):
        """Like run(), and the play must succeed."""
        run = self.run(**variables)
        assert run.returncode == 0, run.output[-4000:]
        return run

    def remove(self):
        """Whatever happened to ansible-playbook, no container stays behind."""
        subprocess.run(["docker", "rm", "--force", self.container], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)


def container_exists(name):
    """Whether a container of this exact name exists (running or not)."""
    listed = subprocess.run(["docker", "ps", "--all", "--filter", "name=^/%s$" % name, "--format", "{{.Names}}"],
                            stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.split()
    return name in listed


def recap(run):
    """PLAY RECAP of an ansible-playbook output: {host: {"ok": n, "changed": n, ...}}."""
    found = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", run.output, re.M):
        found[host] = dict((key, int(value)) for key, value in re.findall(r"(\w+)=(\d+)", counts))
    return found


class RoleCluster:
    """The role applied to every host of the inventory group ``group`` (one play, ``hosts:
    <group>``), the way several machines become the nodes of one KMS.

    Here every node is a container on this machine: the hosts of the group connect locally and
    differ by port, container name and folders (host variables); the group's variables (the
    database, the TLS files, ...) are the same for all of them. In production each node is a
    machine of its own, with the same port and folders.
    """

    def __init__(self, folder, image, ports, group="kms_nodes", prefix="pkimanager-kms-node"):
        self.folder = folder
        self.group = group
        self.group_vars = dict(shared_role_variables(image), kms_server_health_timeout=60)
        self.nodes = {}
        for number, port in enumerate(ports, 1):
            self.nodes["kms-node-%d" % number] = dict(
                node_role_variables(port, unique_name("%s%d" % (prefix, number)),
                                    os.path.join(folder, "node%d" % number)),
                ansible_connection="local", ansible_python_interpreter=sys.executable)
        self.collections_path = os.path.join(REPO, ".tmp", "collections") + ":" + docker_collections()

    def url(self, node, scheme="http"):
        return "%s://127.0.0.1:%d" % (scheme, self.nodes[node]["kms_server_port"])

    @property
    def containers(self):
        return [variables["kms_server_container_name"] for variables in self.nodes.values()]

    def inventory(self, **group_vars):
        """An inventory file: the group with its hosts and variables (the ones above, then these)."""
        path = os.path.join(self.folder, "inventory-%s.yml" % uuid.uuid4().hex[:8])
        with open(path, "w") as handle:
            yaml.safe_dump({"all": {"children": {self.group: {
                "hosts": self.nodes, "vars": dict(self.group_vars, **group_vars)}}}}, handle, sort_keys=False)
        return path

    def run(self, playbook=None, args=(), **group_vars):
        """ansible-playbook on the group: ``playbook`` (a shipped one), or one play applying the
        role to ``hosts: <group>``; ``group_vars`` over the group's variables."""
        if playbook is None:
            playbook = os.path.join(self.folder, "play-%s.yml" % uuid.uuid4().hex[:8])
            with open(playbook, "w") as handle:
                yaml.safe_dump([{"name": "Apply the role to every node", "hosts": self.group, "gather_facts": False,
                                 "roles": [{"role": "pkimanager.kms.kms_server"}]}], handle, sort_keys=False)
        return run_playbook(playbook=playbook, args=["-i", self.inventory(**group_vars)] + list(args),
                            extra_env={"ANSIBLE_COLLECTIONS_PATH": self.collections_path})

    def apply(self, playbook=None, args=(), **group_vars):
        """Like run(), and the play must succeed."""
        run = self.run(playbook, args, **group_vars)
        assert run.returncode == 0, run.output[-6000:]
        return run

    def remove(self):
        """Whatever happened to ansible-playbook, no container stays behind."""
        for name in self.containers:
            subprocess.run(["docker", "rm", "--force", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
