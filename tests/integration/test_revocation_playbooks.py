"""playbooks/revoke.yml and playbooks/renewal_report.yml against the real server, on the PKI
that playbooks/provision.yml makes (vars/pki.yml: root CA 3650 days, demo-web-cert 90 days,
demo-api-cert 60 days).

A fresh server per test: renewal_report.yml lists every certificate of the KMS, and the
provisioned names are fixed, so nothing else may be in it.
"""

import os
import subprocess

from cryptography import x509
from playbook import REPO, changed_tasks as changed, run_playbook, run_shipped as run

WEB, API, CA = "demo-web-cert", "demo-api-cert", "demo-root-ca"


def provision(server, tmp_path):
    out = str(tmp_path / "out")
    env = {"KMS_URL": server.url, "KMS_AUDIT_LOG": str(tmp_path / "audit.db")}
    run("provision.yml", env, "-e", "pki_output_dir=" + out)
    return env, out


def verify(out, crl, cert):
    return subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", os.path.join(out, CA + ".pem"), "-CRLfile", crl,
                           os.path.join(out, cert + ".pem")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def serial(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read()).serial_number


def test_revoke_publishes_a_crl_that_openssl_honours(fresh_kms_server, tmp_path):
    env, out = provision(fresh_kms_server, tmp_path)
    first = run("revoke.yml", env, "-e", "pki_output_dir=" + out, "-e", "revoke_certificate=" + WEB,
                "-e", "revoke_reason=KeyCompromise")
    assert changed(first) == ["Publish the CRL of the issuer (rewritten only when it changed or nears its nextUpdate)",
                              "Revoke the certificate"]
    crl_path = os.path.join(out, CA + "-crl.pem")
    assert os.path.exists(crl_path)
    with open(crl_path, "rb") as handle:
        crl = x509.load_pem_x509_crl(handle.read())
    entry = crl.get_revoked_certificate_by_serial_number(serial(os.path.join(out, WEB + ".pem")))
    assert entry is not None and len(list(crl)) == 1
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise

    refused = verify(out, crl_path, WEB)
    assert refused.returncode != 0 and "certificate revoked" in refused.stdout, refused.stdout
    accepted = verify(out, crl_path, API)
    assert accepted.returncode == 0 and "OK" in accepted.stdout, accepted.stdout

    # Already revoked, CRL up to date: nothing changes.
    assert changed(run("revoke.yml", env, "-e", "pki_output_dir=" + out, "-e", "revoke_certificate=" + WEB,
                       "-e", "revoke_reason=KeyCompromise")) == []

    # DER to another file
    der = str(tmp_path / "root.crl")
    run("revoke.yml", env, "-e", "pki_output_dir=" + out, "-e", "revoke_certificate=" + WEB,
        "-e", "revoke_crl_format=der", "-e", "revoke_crl_dest=" + der)
    with open(der, "rb") as handle:
        assert [item.serial_number for item in x509.load_der_x509_crl(handle.read())] == [entry.serial_number]

    # The revoked certificate is out of service: never to renew.
    report = run("renewal_report.yml", env, "-e", "renewal_report_dir=" + out, "-e", "renewal_within_days=100")
    assert listed(report) == ("Certificates expiring within 100 days: 1", [API])


def test_revoke_needs_a_leaf_name(fresh_kms_server, tmp_path):
    env = {"KMS_URL": fresh_kms_server.url, "KMS_AUDIT_LOG": str(tmp_path / "audit.db")}
    for args in ([], ["-e", "revoke_certificate=" + CA]):
        play = run_playbook(playbook=os.path.join(REPO, "playbooks", "revoke.yml"), extra_env=env, args=args)
        assert play.returncode != 0
        assert "Name the leaf certificate to revoke" in play.output, play.output[-3000:]


def listed(play):
    lines = play.result("Print the report")["msg"]
    return lines[0], [line.split(":")[0] for line in lines[1:]]


def test_renewal_report_lists_exactly_the_certificates_in_the_window(fresh_kms_server, tmp_path):
    env, out = provision(fresh_kms_server, tmp_path)
    report_file = os.path.join(out, "renewal-report.txt")
    cases = [("0", []), ("45", []), ("75", [API]), ("120", [API, WEB]), ("4000", [API, WEB, CA])]
    for days, expected in cases:
        play = run("renewal_report.yml", env, "-e", "renewal_report_dir=" + out, "-e", "renewal_within_days=" + days)
        header, names = listed(play)
        assert header == "Certificates expiring within %s days: %d" % (days, len(expected))
        assert names == expected, play.result("Print the report")["msg"]  # soonest first
        with open(report_file) as handle:
            assert handle.read().splitlines() == play.result("Print the report")["msg"]
        assert play.result("Re-issue the expiring certificates of vars/pki.yml")["_status"] == "skipped"

    # Same window twice: the report file is left as it is.
    run("renewal_report.yml", env, "-e", "renewal_report_dir=" + out, "-e", "renewal_within_days=75")
    again = run("renewal_report.yml", env, "-e", "renewal_report_dir=" + out, "-e", "renewal_within_days=75")
    assert changed(again) == []

    # The optional renewal re-issues only what is in the window.
    before = {name: serial(os.path.join(out, name + ".pem")) for name in (WEB, API)}
    renewed = run("renewal_report.yml", env, "-e", "renewal_report_dir=" + out, "-e", "renewal_within_days=75",
                  "-e", "pki_output_dir=" + out, "-e", "renewal_renew=true")
    assert "Re-issue the expiring certificates of vars/pki.yml" in changed(renewed)
    items = renewed.result("Re-issue the expiring certificates of vars/pki.yml")["results"]
    assert [item["item"]["name"] for item in items] == [API]
    assert serial(os.path.join(out, API + ".pem")) != before[API]
    assert serial(os.path.join(out, WEB + ".pem")) == before[WEB]
    subprocess.run(["openssl", "verify", "-CAfile", os.path.join(out, CA + ".pem"), os.path.join(out, API + "-fullchain.pem")],
                   check=True, stdout=subprocess.PIPE)
