"""The shipped playbooks against the real server: they do what they say, and a second run
changes nothing."""

import json
import os
import subprocess
import sys

from playbook import REPO, changed_tasks as changed, run_playbook, run_shipped as run


def test_provision_rotate_report_decommission_are_idempotent(kms_server, tmp_path):
    out = str(tmp_path / "out")
    env = {"KMS_URL": kms_server.url, "KMS_AUDIT_LOG": str(tmp_path / "audit.db")}
    first = run("provision.yml", env, "-e", "pki_output_dir=" + out)
    assert "Server certificates issued by the root CA" in changed(first)
    assert changed(run("provision.yml", env, "-e", "pki_output_dir=" + out)) == []
    for chain in ("demo-web-cert-fullchain.pem", "demo-api-cert-fullchain.pem"):
        subprocess.run(["openssl", "verify", "-CAfile", os.path.join(out, "demo-root-ca.pem"),
                        os.path.join(out, chain)], check=True, stdout=subprocess.PIPE)

    # Keys made a minute ago are not due: nothing rotates.
    assert changed(run("rotate.yml", env, "-e", "pki_output_dir=" + out)) == []
    rotated = run("rotate.yml", env, "-e", "pki_output_dir=" + out, "-e", "pki_rotate_after_days=0")
    assert "Replace the pairs that are due" in changed(rotated)
    assert "Re-issue the certificates whose key changed" in changed(rotated)

    report = run("audit_report.yml", env, "-e", "audit_report_dir=" + out)
    summary = [r for r in report.records if r["task"] == "Print the summary"][0]["result"]["msg"]
    assert summary[0].startswith("Audit chain: valid")
    assert any("kms.create_key_pair" in line for line in summary)
    assert changed(run("audit_report.yml", env, "-e", "audit_report_dir=" + out)) == []

    assert "Remove the server key pairs (revoked, then destroyed with their public keys)" in changed(
        run("decommission.yml", env))
    assert changed(run("decommission.yml", env)) == []


def test_built_artifact_installs_and_runs_the_provisioning(kms_server, tmp_path):
    """What users get from Galaxy: the built tarball, installed, its playbooks run by FQCN."""
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--output-path", str(tmp_path), REPO], check=True,
                   stdout=subprocess.PIPE)
    tarball = [f for f in os.listdir(str(tmp_path)) if f.endswith(".tar.gz")][0]
    installed = str(tmp_path / "installed")
    subprocess.run([galaxy, "collection", "install", "--offline", "--no-deps", "--force", "-p", installed,
                    str(tmp_path / tarball)], check=True, stdout=subprocess.PIPE)
    # Only the installed artifact: not the working tree that PYTHONPATH points at.
    env = {"KMS_URL": kms_server.url, "KMS_AUDIT_LOG": str(tmp_path / "audit.db"),
           "ANSIBLE_COLLECTIONS_PATH": installed, "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False", "PYTHONPATH": ""}
    out = str(tmp_path / "out")
    small_pki = {"pki_output_dir": out, "pki_keypairs": [], "pki_certificates": [],
                 "pki_root_ca": {"name": "art-ca", "keypair": "art-ca-key", "size": 2048,
                                 "subject": {"CN": "Artifact CA"}, "validity_days": 90}}
    play = run_playbook(playbook="pkimanager.kms.provision", extra_env=env, args=["-e", json.dumps(small_pki)])
    assert play.returncode == 0, play.output[-4000:]
    assert os.path.exists(os.path.join(out, "art-ca.pem"))
