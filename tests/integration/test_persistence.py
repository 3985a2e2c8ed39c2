"""Keys and certificates survive the server going down and up again on the same data folder.

The pinned server three ways: the plain binary (the ``fresh_kms_server`` fixture), the
repository's docker-compose.yml, and the role pkimanager.kms.kms_server. Each time a key pair
and a certificate are created, the server is stopped and started (containers removed and
created anew), and the public key PEM and the certificate DER must come back byte for byte.

Beside that, what the deployments rest on: one version pin, compose's kms.toml equal to the
role's default, the role's restart on a configuration change, its HTTPS settings and its
failure message. Docker is started (and installed) by kms/start-docker, never skipped.
"""

import datetime
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import urllib.request

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport
from containers import ComposeDeployment, RoleDeployment, prepare_docker, wait_for_version
from kms_server import REPO, free_port, pinned_version
from playbook import run_playbook

ROLE = os.path.join(REPO, "roles", "kms_server")


def create_key_pair_and_certificate(url):
    """A 2048-bit pair and a self-signed certificate of its public key; returns their ids and bytes."""
    client = KmsClient(KmsTransport(url))
    public_key_id = client.call(ops.create_key_pair(2048, "persistence-pair"))["public_key_id"]
    certificate_id = client.call(ops.certify(certificate_id="persistence-cert", public_key_id=public_key_id,
                                             subject={"CN": "persistence"}, validity_days=30))
    return dict(read_back(url, public_key_id, certificate_id), public_key_id=public_key_id,
                certificate_id=certificate_id)


def read_back(url, public_key_id, certificate_id):
    client = KmsClient(KmsTransport(url))
    return {"public_key_pem": client.call(ops.get_public_key(public_key_id))["pem"],
            "certificate_der": client.call(ops.get_certificate(certificate_id))["der"]}


def assert_unchanged(url, created):
    assert read_back(url, created["public_key_id"], created["certificate_id"]) == {
        "public_key_pem": created["public_key_pem"], "certificate_der": created["certificate_der"]}


@pytest.fixture(scope="module")
def docker_image():
    return prepare_docker()


@pytest.fixture
def scratch_folder():
    """A folder removed after the test, also when it failed."""
    folder = tempfile.mkdtemp(prefix="pkimanager-kms-persist-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_kms_version_is_pinned_in_one_place(docker_image):
    """kms/VERSION is the pin; the image tag, compose's .env and the role's default follow it."""
    version = pinned_version()
    assert docker_image == "localhost/pkimanager-kms/cosmian-kms:" + version
    with open(os.path.join(REPO, "kms", ".env")) as handle:
        compose_env = handle.read()
    assert re.search(r"^KMS_VERSION=(\S+)$", compose_env, re.M).group(1) == version
    assert re.search(r"^KMS_IMAGE=(\S+)$", compose_env, re.M).group(1) + ":" + version == docker_image
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        assert yaml.safe_load(handle)["kms_server_version"] == version
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert options["kms_server_version"]["default"] == version


def test_no_image_passes_for_the_vendors(docker_image):
    """The local build has a name of its own; nothing here makes an image under the vendor's
    name (build-image even removes such images that older versions of it made)."""
    listed = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], check=True,
                            stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    assert docker_image in listed
    assert [image for image in listed if image.startswith("ghcr.io/cosmian/")] == []
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        assert yaml.safe_load(handle)["kms_server_image"] == "ghcr.io/cosmian/kms"


def settings(toml_text):
    """The key = value lines of a kms.toml, with their sections; comments and blanks dropped."""
    return [line for line in toml_text.splitlines() if line.strip() and not line.startswith("#")]


def test_compose_config_is_what_the_role_writes_by_default(scratch_folder):
    rendered = os.path.join(scratch_folder, "kms.toml")
    run = run_playbook([
        {"ansible.builtin.include_vars": os.path.join(ROLE, "defaults", "main.yml")},
        {"ansible.builtin.include_vars": os.path.join(ROLE, "vars", "main.yml")},
        {"ansible.builtin.template": {"src": os.path.join(ROLE, "templates", "kms.toml.j2"), "dest": rendered}},
    ])
    assert run.returncode == 0, run.output[-3000:]
    with open(rendered) as role_config, open(os.path.join(REPO, "kms", "kms.toml")) as compose_config:
        assert settings(role_config.read()) == settings(compose_config.read())


def test_binary_server_keeps_keys_across_restart(fresh_kms_server):
    created = create_key_pair_and_certificate(fresh_kms_server.url)
    fresh_kms_server.restart()
    assert_unchanged(fresh_kms_server.url, created)


def test_compose_keeps_keys_across_down_and_up(docker_image, scratch_folder):
    deployment = ComposeDeployment(scratch_folder, free_port())
    try:
        assert deployment.up().startswith(pinned_version() + " ")
        created = create_key_pair_and_certificate(deployment.url)
        deployment.down()
        deployment.up()
        assert_unchanged(deployment.url, created)
    finally:
        deployment.down()


def test_role_keeps_keys_across_restart_absent_and_present(docker_image, scratch_folder):
    deployment = RoleDeployment(scratch_folder, free_port(), docker_image)
    try:
        deployment.apply()
        assert wait_for_version(deployment.url).startswith(pinned_version() + " ")
        created = create_key_pair_and_certificate(deployment.url)

        # A configuration change restarts the container through the handler.
        restarted = deployment.apply(kms_server_log_level="debug")
        assert restarted.result("pkimanager.kms.kms_server : Restart the KMS container")["changed"]
        assert_unchanged(deployment.url, created)

        data_dir = deployment.variables["kms_server_data_dir"]
        deployment.apply(kms_server_state="absent")
        with pytest.raises(OSError):
            urllib.request.urlopen(deployment.url + "/version", timeout=2)
        assert os.listdir(data_dir), "absent without purge_data must keep the data"
        deployment.apply()
        assert_unchanged(deployment.url, created)

        deployment.apply(kms_server_state="absent", kms_server_purge_data=True)
        assert not os.path.exists(data_dir)
    finally:
        deployment.remove()


def test_role_fails_with_the_container_log_when_the_server_does_not_start(docker_image, scratch_folder):
    deployment = RoleDeployment(scratch_folder, free_port(), docker_image)
    try:
        # Nothing listens on port 1: the server exits at start, and the role must say why.
        run = deployment.run(kms_server_database_type="postgresql", kms_server_health_timeout=3,
                             kms_server_database_url="postgresql://kms@127.0.0.1:1/kms")
        assert run.returncode != 0
        failure = run.result("pkimanager.kms.kms_server : Fail with the container's log")
        assert "did not answer" in failure["msg"][0]
        assert any("error connecting to server" in line for line in failure["msg"]), failure["msg"]
    finally:
        deployment.remove()


def self_signed_certificate(folder):
    """A certificate for 127.0.0.1 and its key, as PEM files in ``folder``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    paths = {"cert": os.path.join(folder, "server.pem"), "key": os.path.join(folder, "server.key")}
    with open(paths["cert"], "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(paths["key"], "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return paths


def test_role_serves_https_with_the_given_certificate(docker_image, scratch_folder):
    """The [tls] section, the copied files and their mount are what the server accepts."""
    tls = self_signed_certificate(scratch_folder)
    deployment = RoleDeployment(scratch_folder, free_port(), docker_image)
    try:
        deployment.apply(kms_server_tls_cert_file=tls["cert"], kms_server_tls_key_file=tls["key"],
                         kms_server_health_ca_file=tls["cert"])
        url = deployment.url.replace("http:", "https:")
        context = ssl.create_default_context(cafile=tls["cert"])
        with urllib.request.urlopen(url + "/version", timeout=5, context=context) as answer:
            assert answer.status == 200
    finally:
        deployment.remove()
