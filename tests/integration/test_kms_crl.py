"""kms_crl through ansible-playbook against the real server.

The CRL is checked without the collection's code: ``openssl verify -crl_check`` with the
CA and the CRL written, ``openssl crl -text`` for its AKI, CRL number and reasons, and
cryptography for the signature against the CA certificate.
"""

import os
import subprocess
import uuid

from cryptography import x509

from kms_checks import play, records


def keypair(name, **options):
    return {"name": "keypair " + name, "pkimanager.kms.kms_keypair": dict(name=name, **options)}


def certificate(name, title, **options):
    return {"name": title, "pkimanager.kms.kms_certificate": dict(name=name, **options)}


def crl_task(title, **options):
    return {"name": title, "pkimanager.kms.kms_crl": options, "ignore_errors": True}


def openssl(*args):
    proc = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False, timeout=120)
    return proc.returncode, proc.stdout


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def make_pki(env, suffix):
    """A root CA (kms_certificate's CA defaults: keyCertSign, cRLSign) and two EC leaves, as PEM files."""
    names = {"ca": "crlca-" + suffix, "good": "good-" + suffix, "bad": "bad-" + suffix}
    files = dict((key, os.path.join(env["tmp"], key + ".pem")) for key in names)
    tasks = [keypair("ca-kp-" + suffix, size=2048),
             certificate(names["ca"], "ca", provider="selfsigned", keypair="ca-kp-" + suffix,
                         subject={"CN": "CRL Root " + suffix}, validity_days=30, dest=files["ca"])]
    for leaf in ("good", "bad"):
        tasks += [keypair("%s-kp-%s" % (leaf, suffix), type="ec", curve="P-256"),
                  certificate(names[leaf], leaf, provider="kms_ca", keypair="%s-kp-%s" % (leaf, suffix),
                              issuer=names["ca"], subject={"CN": "%s.example.test" % leaf},
                              validity_days=10, dest=files[leaf])]
    run = play(env, *tasks)
    assert run.returncode == 0, run.output[-3000:]
    return names, files


def verify(files, crl, leaf):
    return openssl("verify", "-crl_check", "-CAfile", files["ca"], "-CRLfile", crl, files[leaf])


def test_crl_lifecycle(env):
    suffix = uuid.uuid4().hex[:8]
    names, files = make_pki(env, suffix)
    dest = os.path.join(env["tmp"], "ca.crl.pem")
    options = dict(issuer=names["ca"], dest=dest)

    # Check mode before any CRL was signed: the KMS has no public CRL, a change is predicted, nothing written.
    run = play(env, certificate(names["bad"], "revoke bad", state="revoked", revocation_reason="KeyCompromise"),
               dict(crl_task("predict", **options), check_mode=True),
               crl_task("first", **options), crl_task("again", **options))
    assert run.returncode == 0, run.output[-3000:]
    assert run.result("revoke bad")["changed"]
    predicted = run.result("predict")
    assert predicted["_status"] == "ok" and predicted["changed"] and predicted["crl_number"] is None, predicted

    first = run.result("first")
    assert first["_status"] == "ok" and first["changed"], first
    assert first["revoked_count"] == 1 and first["dest"] == dest and first["crl_number"] is not None
    assert first["this_update"].endswith("Z") and first["next_update"].endswith("Z")
    pem = read_bytes(dest)
    assert pem.startswith(b"-----BEGIN X509 CRL-----")
    crl = x509.load_pem_x509_crl(pem)
    ca = x509.load_pem_x509_certificate(read_bytes(files["ca"]))
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())
    assert (crl.next_update_utc - crl.last_update_utc).days == 7  # validity_days default
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == first["crl_number"]

    code, out = verify(files, dest, "bad")
    assert code != 0 and "certificate revoked" in out, out
    code, out = verify(files, dest, "good")
    assert code == 0 and out.strip().endswith(": OK"), out
    code, out = openssl("crl", "-in", dest, "-noout", "-text")
    assert code == 0, out
    assert "X509v3 Authority Key Identifier" in out and "X509v3 CRL Number" in out and "Key Compromise" in out, out

    # Same revoked set, not due: nothing written (the KMS signed a new CRL all the same).
    again = run.result("again")
    assert again["_status"] == "ok" and not again["changed"], again
    assert again["crl_number"] == first["crl_number"] and again["refresh_reason"] is None
    assert read_bytes(dest) == pem

    # Check mode after a CRL was signed: compared with the public CRL, same set -> no change.
    run = play(env, dict(crl_task("check same", **options), check_mode=True),
               certificate(names["good"], "revoke good", state="revoked", revocation_reason="Superseded"),
               dict(crl_task("check stale", **dict(options, refresh_before_hours=24 * 7)), check_mode=True),
               crl_task("second revoked", **options), crl_task("der", **dict(options, format="der")))
    assert run.returncode == 0, run.output[-3000:]
    same = run.result("check same")
    assert same["_status"] == "ok" and not same["changed"], same
    stale = run.result("check stale")  # refresh_before_hours as long as the validity: always due
    assert stale["_status"] == "failed" and "refresh_before_hours" in stale["msg"], stale
    second = run.result("second revoked")
    assert second["_status"] == "ok" and second["changed"] and second["revoked_count"] == 2, second
    assert second["crl_number"] > first["crl_number"]
    assert second["refresh_reason"] == "the revoked certificates differ"
    code, out = verify(files, dest, "good")
    assert code != 0 and "certificate revoked" in out, out
    der = run.result("der")
    assert der["_status"] == "ok" and der["changed"] and der["refresh_reason"] == "dest holds the CRL in PEM, not DER", der
    assert x509.load_der_x509_crl(read_bytes(dest)).is_signature_valid(ca.public_key())

    # Audit: every HTTP call is one record, the public fetch 404 included, with no CRL bytes.
    fetched = records(env, operation="kms.crl_fetch", entity_id=names["ca"])
    signed = records(env, operation="kms.crl_sign", entity_id=names["ca"])
    assert [r["status"] for r in fetched] == ["not_found", "success"], fetched
    assert [r["status"] for r in signed] == ["success"] * 4, signed
    assert signed[0]["details"]["crl_number"] == first["crl_number"] and signed[0]["entity_type"] == "certificate"
    assert fetched[0]["details"]["http_status"] == 404


def test_check_mode_writes_nothing_and_missing_issuer_is_audited(env):
    missing = "no-such-ca-" + uuid.uuid4().hex[:8]
    dest = os.path.join(env["tmp"], "none.crl")
    run = play(env, crl_task("missing", issuer=missing, dest=dest),
               dict(crl_task("missing check", issuer=missing, dest=dest), check_mode=True))
    for title in ("missing", "missing check"):
        result = run.result(title)
        assert result["_status"] == "failed" and missing in result["msg"], result
    assert not os.path.exists(dest)
    assert [r["status"] for r in records(env, entity_id=missing)] == ["not_found", "not_found"]
