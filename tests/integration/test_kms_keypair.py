"""kms_keypair through ansible-playbook against the real server."""

import os
import shutil
import stat
import uuid

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

from kms_checks import adhoc, exists, play, records
from lossy_proxy import LossyProxy


def keypair(name, title=None, **options):
    return {"name": title or "keypair", "pkimanager.kms.kms_keypair": dict(name=name, **options),
            "ignore_errors": True}


def test_lifecycle(env, client):
    name = "kp-%s" % uuid.uuid4().hex[:8]
    pub = os.path.join(env["tmp"], "pub.pem")
    run = play(env,
               keypair(name, "create", size=2048, tags=["web"], public_key_path=pub, mode="0640"),
               keypair(name, "again", size=2048, tags=["web"], public_key_path=pub, mode="0640"),
               keypair(name, "tag change fails", size=2048, tags=["web", "api"]),
               keypair(name, "tag change replaces", size=2048, tags=["web", "api"], regenerate="mismatch"),
               keypair(name, "size mismatch fails", size=3072, tags=["web", "api"]),
               keypair(name, "size mismatch kept", size=3072, tags=["web", "api"], regenerate="never"),
               keypair(name, "size mismatch replaces", size=3072, tags=["web", "api"], regenerate="mismatch"),
               keypair(name, "revoke", state="revoked", revocation_reason="KeyCompromise", revocation_message="lost"),
               keypair(name, "revoke again", state="revoked"),
               keypair(name, "absent", state="absent"),
               keypair(name, "absent again", state="absent"))
    created = run.result("create")
    assert created["changed"] and created["changes"][0] == "created", run.output[-3000:]
    assert created["private_key_id"] == name and created["public_key_id"]
    assert created["state"] == "Active" and created["size"] == 2048 and created["tags"] == ["web"]
    assert created["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert len(created["fingerprint_sha256"].split(":")) == 32 and created["activation_date"]
    assert "public key file written" in created["changes"]
    with open(pub) as handle:
        assert handle.read() == created["public_key_pem"]

    again = run.result("again")
    assert not again["changed"] and again["fingerprint_sha256"] == created["fingerprint_sha256"]

    failed = run.result("tag change fails")
    assert failed["_status"] == "failed" and "tags are ['web'], requested ['api', 'web']" in failed["msg"]
    replaced = run.result("tag change replaces")
    assert replaced["changed"] and replaced["changes"] == ["replaced"] and replaced["tags"] == ["api", "web"]
    assert replaced["fingerprint_sha256"] != created["fingerprint_sha256"]

    assert "size is 2048, requested 3072" in run.result("size mismatch fails")["msg"]
    kept = run.result("size mismatch kept")
    assert not kept["changed"] and kept["size"] == 2048 and kept["mismatch"] == ["size is 2048, requested 3072"]
    bigger = run.result("size mismatch replaces")
    assert bigger["changed"] and bigger["size"] == 3072

    revoked = run.result("revoke")
    assert revoked["changed"] and revoked["state"] == "Compromised"
    assert not run.result("revoke again")["changed"]
    assert run.result("absent")["changed"] and run.result("absent")["state"] == "absent"
    assert not run.result("absent again")["changed"]
    assert not exists(client, name) and not exists(client, bigger["public_key_id"])

    trail = records(env, entity_id=name)
    operations = [(r["operation"], r["status"]) for r in trail]
    assert ("kms.create_key_pair", "success") in operations
    assert ("kms.revoke", "success") in operations and ("kms.destroy", "success") in operations
    assert all(r["status"] == "success" or r["operation"] == "kms.get_attributes" for r in trail)


def test_public_key_file_written_once_with_mode(env):
    name = "file-%s" % uuid.uuid4().hex[:8]
    pub = os.path.join(env["tmp"], "key.pem")
    task = keypair(name, size=2048, public_key_path=pub, mode="0600")
    first = play(env, task).result("keypair")
    mtime = os.stat(pub).st_mtime_ns
    second = play(env, task).result("keypair")
    assert first["changed"] and not second["changed"]
    assert os.stat(pub).st_mtime_ns == mtime
    assert stat.S_IMODE(os.stat(pub).st_mode) == 0o600
    third = play(env, keypair(name, size=2048, public_key_path=pub, mode="0644")).result("keypair")
    assert third["changed"] and stat.S_IMODE(os.stat(pub).st_mode) == 0o644


def test_check_mode_creates_nothing_and_predicts(env, client):
    name = "check-%s" % uuid.uuid4().hex[:8]
    run = play(env, keypair(name, size=2048), args=["--check", "--diff"])
    predicted = run.result("keypair")
    assert predicted["changed"] and predicted["changes"] == ["created"]
    assert predicted["diff"]["before"] == {"state": "absent"} and predicted["diff"]["after"]["size"] == 2048
    assert not exists(client, name)
    assert not [r for r in records(env, entity_id=name) if r["operation"] != "kms.get_attributes"]
    real = play(env, keypair(name, size=2048)).result("keypair")
    assert real["changed"] and real["changes"] == predicted["changes"]
    check_again = play(env, keypair(name, size=2048), args=["--check"]).result("keypair")
    assert not check_again["changed"] and check_again["fingerprint_sha256"] == real["fingerprint_sha256"]
    absent_check = play(env, keypair(name, state="absent"), args=["--check"]).result("keypair")
    assert absent_check["changed"] and exists(client, name)


def test_diff_never_shows_key_material(env):
    name = "diff-%s" % uuid.uuid4().hex[:8]
    run = play(env, keypair(name, size=2048), args=["--diff"])
    result = run.result("keypair")
    assert "BEGIN" not in str(result["diff"]) and result["diff"]["after"]["state"] == "Active"


def test_twenty_forks_on_one_name_make_one_pair(env, client, kms_server):
    name = "race-%s" % uuid.uuid4().hex[:8]
    tag = "race-%s" % uuid.uuid4().hex[:8]
    hosts = ["fork%02d" % i for i in range(20)]
    run = play(env, keypair(name, size=2048, tags=[tag]), hosts=hosts, forks=20)
    results = [run.result("keypair", host) for host in hosts]
    assert all(r["_status"] == "ok" for r in results), run.output[-3000:]
    assert sum(1 for r in results if r["changed"]) == 1
    assert len(set(r["fingerprint_sha256"] for r in results)) == 1
    assert client.call(ops.locate(object_type="PrivateKey", tags=[tag])) == [name]
    listed = kms_server.ckms("locate", "--tag", tag).split()
    assert sum(1 for word in listed if word == name) == 1


@pytest.mark.parametrize("options, message", [
    ({"size": 1024}, "value of size must be one of: 2048, 3072, 4096, got: 1024"),
    ({"size": 5000}, "value of size must be one of: 2048, 3072, 4096, got: 5000"),
    ({"name": ""}, "name must be 1 to 128 characters"),
    ({"name": "web\n"}, "name must be 1 to 128 characters"),
    ({"tags": ["_sk"]}, "must not start with '_'"),
    ({"regenerate": "sometimes"}, "value of regenerate must be one of: never, fail, mismatch, always"),
    ({"kms_url": "ftp://x"}, "kms_url must start with http:// or https://"),
])
def test_bad_arguments_fail_before_any_kms_call(env, options, message):
    task = {"name": "keypair", "pkimanager.kms.kms_keypair": dict({"name": "bad-args"}, **options),
            "ignore_errors": True}
    result = play(env, task).result("keypair")
    assert result["_status"] == "failed" and message in result["msg"]
    assert not os.path.exists(env["KMS_AUDIT_LOG"]) or records(env) == []


def test_kms_answer_is_audited_with_its_reason(env, kms_server):
    """The existence check of a missing pair is audited with the KMS's reason (as a finding,
    not_found; a real failure is audited as failure, see test_an_answer_of_the_wrong_shape...)."""
    name = "fail-%s" % uuid.uuid4().hex[:8]
    run = play(env, keypair(name, state="revoked"))
    assert "no key pair named" in run.result("keypair")["msg"]
    assert [(r["operation"], r["status"], r["details"]["reason"]) for r in records(env, entity_id=name)] == [
        ("kms.get_attributes", "not_found", "Object_Not_Found")]


def test_unwritable_audit_store_stops_before_the_kms(env, client):
    name = "noaudit-%s" % uuid.uuid4().hex[:8]
    blocker = os.path.join(env["tmp"], "a-file")
    open(blocker, "w").close()
    env = dict(env, KMS_AUDIT_LOG=os.path.join(blocker, "audit.db"))
    result = play(env, keypair(name, size=2048)).result("keypair")
    assert result["_status"] == "failed" and "audit trail is not writable" in result["msg"]
    assert not exists(client, name)


def test_audit_records_name_the_playbook_and_task(env):
    """The action plugin tells the module where it runs from; a user's label wins."""
    name = "origin-%s" % uuid.uuid4().hex[:8]
    run = play(env, keypair(name, "make the pair", size=2048),
               keypair(name, "labelled run", size=2048, audit_context={"task": "nightly wrapper"}))
    assert run.result("make the pair")["changed"], run.output[-3000:]
    trail = records(env, entity_id=name)
    made = [r for r in trail if r["operation"] == "kms.create_key_pair"]
    assert made and made[0]["task"] == "make the pair" and made[0]["playbook"].endswith("/play.yml")
    labelled = [r for r in trail if r["task"] == "nightly wrapper"]
    assert labelled and all(r["playbook"] == made[0]["playbook"] for r in labelled)

    adhoc_run = adhoc(env, "pkimanager.kms.kms_keypair", {"name": name, "size": 2048})
    assert adhoc_run.returncode == 0 and not adhoc_run.records[-1]["result"]["changed"], adhoc_run.output[-3000:]
    latest = records(env, entity_id=name)[-1]
    assert latest["playbook"] is None and latest["task"] == adhoc_run.records[-1]["task"]
    assert latest["operation_id"] not in set(r["operation_id"] for r in trail)


def test_module_defaults_group(env, kms_server):
    name = "group-%s" % uuid.uuid4().hex[:8]
    task = {"name": "keypair", "module_defaults": {"group/pkimanager.kms.kms": {"kms_url": kms_server.url}},
            "pkimanager.kms.kms_keypair": {"name": name, "size": 2048}}
    env = dict(env, KMS_URL="http://127.0.0.1:1")
    assert play(env, task).result("keypair")["changed"]


# -- file destinations -------------------------------------------------------------------

@pytest.mark.parametrize("where, message", [
    ("missing/pub.pem", "the folder {tmp}/missing does not exist"),
    ("a-file/pub.pem", "{tmp}/a-file is not a folder"),
    ("a-folder", "public_key_path {tmp}/a-folder is a folder, not a file"),
])
def test_public_key_path_is_checked_before_any_kms_call(env, client, where, message):
    name = "dest-%s" % uuid.uuid4().hex[:8]
    open(os.path.join(env["tmp"], "a-file"), "w").close()
    os.mkdir(os.path.join(env["tmp"], "a-folder"))
    run = play(env, keypair(name, size=2048, public_key_path=os.path.join(env["tmp"], where)))
    result = run.result("keypair")
    assert result["_status"] == "failed" and message.format(tmp=env["tmp"]) in result["msg"], result
    assert result["msg"].startswith("Invalid arguments: ") and "Traceback" not in run.output + str(result)
    assert not exists(client, name)
    assert not os.path.exists(env["KMS_AUDIT_LOG"]) or records(env) == []


def test_a_write_that_fails_after_the_create_still_returns_the_pair(env, client, kms_server):
    """The folder is there when the task starts and gone when the KMS has answered (the proxy
    removes it in between): the task fails with a one-line message, and its result still says
    that the KMS changed and which pair now exists."""
    name = "lostfile-%s" % uuid.uuid4().hex[:8]
    folder = os.path.join(env["tmp"], "keys")
    os.mkdir(folder)
    proxy = LossyProxy(kms_server.url, after={"CreateKeyPair": lambda: shutil.rmtree(folder)})
    try:
        run = play(dict(env, KMS_URL=proxy.url), keypair(name, size=2048,
                                                         public_key_path=os.path.join(folder, "pub.pem")))
    finally:
        proxy.close()
    result = run.result("keypair")
    assert result["_status"] == "failed", run.output[-3000:]
    assert result["msg"] == "public_key_path %s could not be written: No such file or directory" % os.path.join(
        folder, "pub.pem")
    assert result["changed"] and result["changes"] == ["created"] and result["private_key_id"] == name
    assert result["public_key_id"] == client.call(ops.get_attributes(name))["links"]["PublicKeyLink"]
    assert "Traceback" not in run.output + str(result)
    assert [r["status"] for r in records(env, operation="kms.create_key_pair")] == ["success"]


# -- answers of a shape the server never sends -----------------------------------------

def _rewrite_nodes(node, tag, change):
    """A copy of a JSON TTLV tree in which ``change`` rewrote every node of ``tag``."""
    if isinstance(node, dict):
        if node.get("tag") == tag:
            return change(node)
        return dict(node, value=_rewrite_nodes(node.get("value"), tag, change))
    if isinstance(node, list):
        return [_rewrite_nodes(item, tag, change) for item in node]
    return node


def _tag_value(value):
    def change(attribute):
        fields = attribute["value"]
        if not any(f.get("tag") == "AttributeName" and f.get("value") == "tag" for f in fields):
            return attribute
        return dict(attribute, value=[dict(f, value=value) if f.get("tag") == "AttributeValue" else f
                                      for f in fields])
    return lambda answer: _rewrite_nodes(answer, "Attribute", change)


ODD_ANSWERS = {
    "tag value [1]": _tag_value("[1]"),
    "tag value not JSON": _tag_value("web"),
    "ActivationDate as text": lambda answer: _rewrite_nodes(
        answer, "ActivationDate", lambda node: {"tag": "ActivationDate", "type": "TextString", "value": "yesterday"}),
    "CryptographicLength as text": lambda answer: _rewrite_nodes(
        answer, "CryptographicLength", lambda node: {"tag": "CryptographicLength", "type": "TextString",
                                                     "value": "2048"}),
}


@pytest.mark.parametrize("case", sorted(ODD_ANSWERS))
def test_an_answer_of_the_wrong_shape_is_an_audited_error(env, client, kms_server, case):
    """GetAttributes answered, then rewritten on the way: the task fails with Invalid_Response in
    one line, no traceback, and the audit trail has the call as a failure with that reason."""
    name = "odd-%s" % uuid.uuid4().hex[:8]
    client.call(ops.create_key_pair(2048, private_key_id=name, tags=["web"]))
    proxy = LossyProxy(kms_server.url, rewrite={"GetAttributes": ODD_ANSWERS[case]})
    try:
        run = play(dict(env, KMS_URL=proxy.url), keypair(name, size=2048, tags=["web"]))
    finally:
        proxy.close()
    result = run.result("keypair")
    assert proxy.rewritten == ["GetAttributes"]
    assert result["_status"] == "failed" and result["kms_error"]["reason"] == "Invalid_Response", run.output[-3000:]
    assert result["msg"].startswith("GetAttributes on %r failed: Invalid_Response: unexpected answer: " % name)
    assert "\n" not in result["msg"] and "Traceback" not in run.output + str(result) and not result.get("changed")
    failures = records(env, status="failure")
    assert [(r["operation"], r["entity_id"], r["details"]["reason"]) for r in failures] == [
        ("kms.get_attributes", name, "Invalid_Response")]
