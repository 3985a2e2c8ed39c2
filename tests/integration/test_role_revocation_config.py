"""The revocation settings of the role pkimanager.kms.kms_server, against the real server.

``kms_server_public_url``, ``kms_server_crl`` and ``kms_server_ocsp`` are rendered by the
role's own template (its defaults and vars included, as the role's "Write kms.toml" task
does) and the pinned ``cosmian_kms`` binary is started with that very file on 127.0.0.1
(host networking: the template's listen address and port are the host's). Only the
container paths the role's mounts provide (data folder, workspace) are replaced by folders
of the test. The server must start, and each setting must show in how it answers: the
public CRL (404, then signed on Revoke thanks to ``kms_public_url``, with the configured
validity), the OCSP responder (CA only, nonce policy, TTL, no chain). The role's argument
specs refuse an enabled responder without ``ca_uid`` and an unknown nonce policy, before
any task runs.
"""

import datetime
import json
import os
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from containers import docker_collections
from kms_server import REPO, KmsServer, free_port
from playbook import run_playbook

ROLE = os.path.join(REPO, "roles", "kms_server")
SPECS = os.path.join(ROLE, "meta", "argument_specs.yml")
CA_EXTENSIONS = ("[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,crlSign\n"
                 "subjectKeyIdentifier=hash\n")


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def render(folder, port, **variables):
    """kms.toml as the role writes it with ``variables`` (extra vars, over the role's
    defaults), listening on 127.0.0.1:``port``; returns its text."""
    rendered = os.path.join(folder, "rendered.toml")
    variables = dict(variables, kms_server_network_mode="host", kms_server_bind_address="127.0.0.1",
                     kms_server_port=port, kms_server_container_data_dir=os.path.join(folder, "data"))
    run = run_playbook([
        {"ansible.builtin.include_vars": os.path.join(ROLE, "defaults", "main.yml")},
        {"ansible.builtin.include_vars": os.path.join(ROLE, "vars", "main.yml")},
        {"ansible.builtin.template": {"src": os.path.join(ROLE, "templates", "kms.toml.j2"), "dest": rendered}},
    ], args=["-e", json.dumps(variables)])
    assert run.returncode == 0, run.output[-3000:]
    with open(rendered) as handle:
        return handle.read()


def start(folder, port, text):
    """The real server on ``text`` (the rendered kms.toml), the workspace moved from the
    container's /cosmian-kms to the test folder."""
    server = KmsServer(folder, port=port)  # writes folder/kms.toml and the sub-folders ...
    text = text.replace('root_data_path = "/cosmian-kms"', 'root_data_path = %s' % json.dumps(os.path.join(folder, "workspace")))
    text = text.replace('tmp_path = "/tmp"', 'tmp_path = %s' % json.dumps(os.path.join(folder, "tmp")))
    with open(server.config, "w") as handle:  # ... then runs on the role's file instead
        handle.write(text)
    return server.start()


def table(text, name):
    """The key = value lines of one [table] of a kms.toml (the root keys for name None)."""
    lines, current = [], None
    for line in text.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif line.strip() and not line.startswith("#") and current == name:
            lines.append(line)
    return lines


class Pki:
    """A CA and two EC leaves it issued, created through KMIP."""

    def __init__(self, client, ca_id=None):
        self.client = client
        self.ca_key, self.ca_id = unique("role-ca"), ca_id or unique("role-cacert")
        client.call(ops.create_key_pair(private_key_id=self.ca_key, size=2048))
        client.call(ops.certify(certificate_id=self.ca_id, public_key_id=self.ca_key + "_pk",
                                subject={"CN": "Role CA " + self.ca_id}, extensions=CA_EXTENSIONS))
        self.ids = {}
        for name in ("good", "bad"):
            key = unique("role-leaf")
            client.call(ops.create_key_pair(private_key_id=key, key_type="ec", curve="P-256"))
            self.ids[name] = client.call(ops.certify(certificate_id=unique("role-cert"), public_key_id=key + "_pk",
                                                     subject={"CN": "leaf " + name}, issuer_private_key_id=self.ca_key,
                                                     issuer_certificate_id=self.ca_id))

        self.certs = {name: self._read(cert_id) for name, cert_id in dict(self.ids, ca=self.ca_id).items()}

    def _read(self, cert_id):
        return x509.load_pem_x509_certificate(self.client.call(ops.get_certificate(cert_id))["pem"].encode())

    def cert(self, name):
        return self.certs[name]

    def serial(self, name):
        return self.certs[name].serial_number

    def ocsp_request(self, name, nonce=None):
        builder = ocsp.OCSPRequestBuilder().add_certificate(self.cert(name), self.cert("ca"), hashes.SHA1())
        if nonce:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return builder.build().public_bytes(serialization.Encoding.DER)


def post_ocsp(server, request):
    answer = requests.post(server.url + "/ocsp/", data=request, headers={"Content-Type": "application/ocsp-request"},
                           timeout=60)
    assert answer.status_code == 200, answer.text
    return ocsp.load_der_ocsp_response(answer.content)


def test_defaults_write_no_revocation_settings(tmp_path):
    """Current users: without the new variables kms.toml has no kms_public_url, [crl] or [ocsp],
    and the server runs on it with the responder off."""
    folder, port = str(tmp_path), free_port()
    text = render(folder, port)
    assert "kms_public_url" not in text and "[crl]" not in text and "[ocsp]" not in text
    # An empty dict and keys set to null write nothing either.
    assert render(folder, port, kms_server_crl={}, kms_server_ocsp={"enabled": None}) == text
    server = start(folder, port, text)
    try:
        pki = Pki(KmsClient(KmsTransport(server.url, timeout=60)))
        assert requests.post(server.url + "/ocsp/", data=pki.ocsp_request("good"), timeout=60).status_code == 404
        pki.client.call(ops.revoke(pki.ids["bad"], "KeyCompromise", cascade=False))
        # no kms_public_url: the Revoke signs no CRL
        assert requests.get("%s/public/certificates/%s/crl" % (server.url, pki.ca_id), timeout=60).status_code == 404
    finally:
        server.stop()


def test_rendered_revocation_settings_start_the_real_server(tmp_path):
    folder, port = str(tmp_path), free_port()
    ca_id = unique("role-ocspca")  # chosen before the server starts; the CA is created after
    text = render(folder, port,
                  kms_server_public_url="http://127.0.0.1:%d" % port,
                  kms_server_crl={"default_validity_days": 5, "refresh_check_hours": 2, "refresh_overlap_hours": 12},
                  kms_server_ocsp={"enabled": True, "ca_uid": ca_id, "cache_ttl_secs": 3600, "nonce_policy": "required",
                                   "include_cert_chain": False, "archive_cutoff_secs": 31536000})
    # kms_public_url is a root key: before the first table, or TOML would put it in that table
    assert table(text, None) == ['default_username = "admin"', 'kms_public_url = "http://127.0.0.1:%d"' % port]
    assert table(text, "crl") == ["crl_default_validity_days = 5", "crl_refresh_check_hours = 2",
                                  "crl_refresh_overlap_hours = 12"]
    assert table(text, "ocsp") == ["ocsp_enabled = true", 'ocsp_ca_uid = "%s"' % ca_id, "ocsp_cache_ttl_secs = 3600",
                                   'ocsp_nonce_policy = "required"', "ocsp_include_cert_chain = false",
                                   "ocsp_archive_cutoff_secs = 31536000"]
    server = start(folder, port, text)
    try:
        public = "%s/public/certificates/%s/crl" % (server.url, ca_id)
        assert requests.get(public, timeout=60).status_code == 404  # no CA, no CRL yet
        client = KmsClient(KmsTransport(server.url, timeout=60))
        pki = Pki(client, ca_id)
        assert requests.get(public, timeout=60).status_code == 404  # a CA, but no CRL signed yet

        # ocsp_nonce_policy = "required": no nonce is a malformed request
        assert post_ocsp(server, pki.ocsp_request("good")).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
        nonce = os.urandom(16)
        good = post_ocsp(server, pki.ocsp_request("good", nonce))
        assert good.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        assert good.certificate_status == ocsp.OCSPCertStatus.GOOD
        assert good.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
        assert good.next_update_utc - good.this_update_utc == datetime.timedelta(seconds=3600)  # ocsp_cache_ttl_secs
        # ocsp_include_cert_chain = false: 5.28 still embeds the signer, once (twice with true)
        assert good.certificates == [pki.cert("ca")]
        other = Pki(client)  # not ocsp_ca_uid
        assert post_ocsp(server, other.ocsp_request("good", nonce)).response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED

        # kms_public_url: the Revoke signs the issuer's CRL, valid crl_default_validity_days
        client.call(ops.revoke(pki.ids["bad"], "KeyCompromise", cascade=False))
        answer = requests.get(public, timeout=60)
        assert answer.status_code == 200, answer.text
        crl = x509.load_der_x509_crl(answer.content)
        assert crl.is_signature_valid(pki.cert("ca").public_key())
        assert [entry.serial_number for entry in crl] == [pki.serial("bad")]
        assert crl.next_update_utc - crl.last_update_utc == datetime.timedelta(days=5)
        revoked = post_ocsp(server, pki.ocsp_request("bad", nonce))
        assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED
        assert revoked.revocation_reason == x509.ReasonFlags.key_compromise
    finally:
        server.stop()


VALIDATE = "Validate against the role's argument specs"


def validate(variables):
    """ansible.builtin.validate_argument_spec with the role's own specs (entry point main)."""
    return run_playbook([
        {"ansible.builtin.include_vars": {"file": SPECS, "name": "role_specs"}},
        {"name": VALIDATE, "ansible.builtin.validate_argument_spec": {
            "argument_spec": "{{ role_specs.argument_specs.main.options }}", "provided_arguments": variables}},
    ])


@pytest.mark.parametrize("variables", [
    {},
    {"kms_server_public_url": "https://kms.example.com:42998"},
    {"kms_server_crl": {"default_validity_days": 7}, "kms_server_ocsp": {"enabled": False}},
    {"kms_server_ocsp": {"enabled": True, "ca_uid": "issuing-ca", "nonce_policy": "ignore"}},
])
def test_argument_specs_accept(variables):
    run = validate(variables)
    assert run.returncode == 0, run.output[-3000:]


@pytest.mark.parametrize("variables, message", [
    ({"kms_server_ocsp": {"enabled": True}}, "ca_uid"),
    ({"kms_server_ocsp": {"enabled": True, "ca_uid": "ca", "nonce_policy": "sometimes"}}, "nonce_policy"),
    ({"kms_server_ocsp": {"enabled": True, "ca_uid": "ca", "cache_ttl": 60}}, "cache_ttl"),
    ({"kms_server_crl": {"default_validity_days": "a week"}}, "default_validity_days"),
    ({"kms_server_crl": ["default_validity_days"]}, "kms_server_crl"),
])
def test_argument_specs_refuse(variables, message):
    run = validate(variables)
    assert run.returncode != 0
    assert message in str(run.result(VALIDATE).get("msg")), run.output[-3000:]


def test_role_refuses_an_ocsp_responder_without_ca_before_any_task(tmp_path):
    """The role itself validates on entry: nothing is created, no container is touched."""
    config_dir = str(tmp_path / "config")
    run = run_playbook([{"name": "Apply the role", "ansible.builtin.include_role": {"name": "pkimanager.kms.kms_server"},
                         "vars": {"kms_server_ocsp": {"enabled": True}, "kms_server_config_dir": config_dir,
                                  "kms_server_data_dir": str(tmp_path / "data")}}],
                       extra_env={"ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".tmp", "collections") + ":" + docker_collections()})
    assert run.returncode != 0
    assert "ca_uid" in run.output, run.output[-3000:]
    assert not os.path.exists(config_dir)
