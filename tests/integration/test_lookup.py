"""The kms_pem lookup reads what the modules made, with the modules' env fallbacks."""

import uuid

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from playbook import run_playbook


def test_lookup_public_key_and_certificate(kms_server, tmp_path):
    name = "lookup-%s" % uuid.uuid4().hex[:8]
    client = KmsClient(KmsTransport(kms_server.url))
    ids = client.call(ops.create_key_pair(2048, name))
    cert_id = client.call(ops.certify(certificate_id=name + "-cert", public_key_id=ids["public_key_id"],
                                      subject={"CN": name}, validity_days=5))
    expected_key = client.call(ops.get_public_key(ids["public_key_id"]))["pem"]
    expected_cert = client.call(ops.get_certificate(cert_id))["pem"]
    run = run_playbook([
        {"name": "by pair name", "ansible.builtin.set_fact": {"pem": "{{ lookup('pkimanager.kms.kms_pem', '%s') }}" % name}},
        {"name": "by public key id", "ansible.builtin.set_fact": {
            "pem": "{{ lookup('pkimanager.kms.kms_pem', '%s') }}" % ids["public_key_id"]}},
        {"name": "certificate", "ansible.builtin.set_fact": {
            "pem": "{{ lookup('pkimanager.kms.kms_pem', '%s', type='certificate', kms_url='%s') }}"
                   % (cert_id, kms_server.url)}},
        {"name": "missing", "ignore_errors": True, "ansible.builtin.set_fact": {
            "pem": "{{ lookup('pkimanager.kms.kms_pem', 'no-such-%s') }}" % name}},
    ], extra_env={"COSMIAN_KMS_SERVER_URL": kms_server.url, "KMS_AUDIT_LOG": str(tmp_path / "a.db")})
    assert run.result("by pair name")["ansible_facts"]["pem"].strip() == expected_key.strip(), run.output[-2000:]
    assert run.result("by public key id")["ansible_facts"]["pem"].strip() == expected_key.strip()
    assert run.result("certificate")["ansible_facts"]["pem"].strip() == expected_cert.strip()
    missing = run.result("missing")
    assert missing["_status"] == "failed" and "Object_Not_Found" in missing["msg"]
