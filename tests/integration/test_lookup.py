"""The kms_pem lookup reads what the modules made, with the modules' env fallbacks, and
leaves an audit record of every KMS call like the modules do."""

import socket
import uuid

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from kms_checks import records
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

    trail = records({"KMS_AUDIT_LOG": str(tmp_path / "a.db")})
    done = [(r["operation"], r["entity_id"], r["status"]) for r in trail]
    assert ("kms.get_attributes", name, "success") in done
    assert ("kms.get", ids["public_key_id"], "success") in done
    assert ("kms.get", cert_id, "success") in done
    failed = [r for r in trail if r["status"] != "success"]
    assert [r["entity_id"] for r in failed] == ["no-such-%s" % name]
    assert failed[0]["details"]["reason"] == "Object_Not_Found" and failed[0]["kms_url"] == kms_server.url
    assert not any("BEGIN" in str(r["details"]) for r in trail)  # PEMs are not recorded


def test_lookup_env_fallbacks_follow_the_modules_order(kms_server, tmp_path):
    """KMS_URL wins over COSMIAN_KMS_SERVER_URL, as for the modules (the PLUGINS doc fragment
    lists them for Ansible, which lets the last one set win); a task's kms_url wins over both."""
    name = "lookup-env-%s" % uuid.uuid4().hex[:8]
    KmsClient(KmsTransport(kms_server.url)).call(ops.create_key_pair(2048, name))
    nothing_there = "http://127.0.0.1:9"
    run = run_playbook([
        {"name": "env", "ansible.builtin.set_fact": {"pem": "{{ lookup('pkimanager.kms.kms_pem', '%s') }}" % name}},
        {"name": "given", "ignore_errors": True, "ansible.builtin.set_fact": {
            "pem": "{{ lookup('pkimanager.kms.kms_pem', '%s', kms_url='%s', retries=1) }}" % (name, nothing_there)}},
    ], extra_env={"KMS_URL": kms_server.url, "COSMIAN_KMS_SERVER_URL": nothing_there,
                  "KMS_AUDIT_LOG": str(tmp_path / "a.db")})
    assert "BEGIN PUBLIC KEY" in run.result("env")["ansible_facts"]["pem"], run.output[-2000:]
    given = run.result("given")
    assert given["_status"] == "failed" and "Connection_Failed" in given["msg"], given


def test_lookup_makes_no_kms_call_without_a_writable_audit_trail(tmp_path):
    """The audit store is checked before the first call: kms_url points at a listener on
    127.0.0.1 that must see no connection at all."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    try:
        run = run_playbook([{"name": "read", "ignore_errors": True, "ansible.builtin.set_fact": {
            "pem": "{{ lookup('pkimanager.kms.kms_pem', 'anything') }}"}}],
            extra_env={"KMS_URL": "http://127.0.0.1:%d" % listener.getsockname()[1],
                       "KMS_AUDIT_LOG": str(blocker / "audit.db")})
        result = run.result("read")
        assert result["_status"] == "failed" and "audit trail is not writable" in result["msg"], result
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()


def test_lookup_never_gets_a_private_key(kms_server, tmp_path):
    """type=certificate given a key pair's name (its private key): the type is read first and the
    lookup fails naming it; the only KMS call about that object is GetAttributes, so the private
    key never travels. Names the modules would refuse are refused before any call."""
    name = "lookup-pk-%s" % uuid.uuid4().hex[:8]
    client = KmsClient(KmsTransport(kms_server.url))
    client.call(ops.create_key_pair(2048, name))
    audit = str(tmp_path / "a.db")
    run = run_playbook([
        {"name": "pair as certificate", "ignore_errors": True, "ansible.builtin.set_fact": {
            "pem": "{{ lookup('pkimanager.kms.kms_pem', '%s', type='certificate') }}" % name}},
        {"name": "tag array", "ignore_errors": True, "ansible.builtin.set_fact": {
            "pem": "{{ lookup('pkimanager.kms.kms_pem', '[\"_sk\"]', type='certificate') }}"}},
    ], extra_env={"KMS_URL": kms_server.url, "KMS_AUDIT_LOG": audit})
    refused = run.result("pair as certificate")
    assert refused["_status"] == "failed", run.output[-3000:]
    assert "%r is a PrivateKey in the KMS, not a certificate" % name in refused["msg"]
    tags = run.result("tag array")
    assert tags["_status"] == "failed" and "name must be 1 to 128 characters" in tags["msg"]
    trail = records({"KMS_AUDIT_LOG": audit})
    assert [(r["operation"], r["entity_id"], r["status"]) for r in trail] == [("kms.get_attributes", name, "success")]
