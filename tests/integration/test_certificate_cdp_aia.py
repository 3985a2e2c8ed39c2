"""kms_certificate's crl_distribution_points, ocsp_responder_urls and ca_issuers_urls through
ansible-playbook against the real server (Cosmian KMS 5.28).

The issued certificates are checked without the collection's code: the CRLDistributionPoints
and AuthorityInformationAccess extensions parsed by cryptography (which refuses an extension
present twice), ``openssl x509 -text`` and ``openssl verify`` on the chain.
"""

import os
import subprocess
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

import pytest

from kms_checks import exists, play, records
from playbook import run_playbook

CDP = ["http://pki.example.test/root.crl", "https://pki2.example.test:8443/crl?ca=root;x=1"]
OCSP = ["http://ocsp.example.test/"]
CA_ISSUERS = ["http://pki.example.test/root.crt"]


def keypair(name):
    return {"name": "keypair " + name, "pkimanager.kms.kms_keypair": {"name": name, "type": "ec", "curve": "P-256"}}


def certificate(name, title, **options):
    return {"name": title, "pkimanager.kms.kms_certificate": dict(name=name, **options), "ignore_errors": True}


def read(path):
    with open(path) as handle:
        return handle.read()


def urls(pem):
    """(CRL distribution point URIs, OCSP URIs, CA issuers URIs) of a certificate, each extension at most once."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    by_oid = dict((ext.oid, ext) for ext in cert.extensions)  # DuplicateExtension if any appears twice
    cdp = by_oid.get(ExtensionOID.CRL_DISTRIBUTION_POINTS)
    aia = by_oid.get(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    assert not (cdp and cdp.critical) and not (aia and aia.critical)
    points = [name.value for point in (cdp.value if cdp else []) for name in point.full_name]
    access = [(d.access_method, d.access_location.value) for d in (aia.value if aia else [])]
    return (points, [u for m, u in access if m == AuthorityInformationAccessOID.OCSP],
            [u for m, u in access if m == AuthorityInformationAccessOID.CA_ISSUERS])


@pytest.fixture(scope="module")
def root_for_csr(kms_server, tmp_path_factory):
    """A root CA valid a year, without CDP or AIA, for the CSR test."""
    folder = tmp_path_factory.mktemp("cdp-root")
    suffix = uuid.uuid4().hex[:8]
    run = run_playbook([keypair("cdp-csr-ca-" + suffix),
                        certificate("cdp-csr-root-" + suffix, "root", provider="selfsigned", keypair="cdp-csr-ca-" + suffix,
                                    subject={"CN": "CDP CSR Root " + suffix}, validity_days=365)],
                       extra_env={"KMS_URL": kms_server.url, "KMS_AUDIT_LOG": str(folder / "audit.db")})
    assert run.result("root")["changed"], run.output[-3000:]
    return "cdp-csr-root-" + suffix


def openssl(*args):
    proc = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def test_cdp_and_aia_are_issued_kept_and_reissued_when_changed(env, client):
    suffix = uuid.uuid4().hex[:8]
    ca_kp, leaf_kp, root, leaf = "cdp-ca-" + suffix, "cdp-leaf-" + suffix, "cdp-root-" + suffix, "cdp-www-" + suffix
    files = dict((n, os.path.join(env["tmp"], n + ".pem")) for n in ("root", "leaf"))
    root_options = dict(provider="selfsigned", keypair=ca_kp, subject={"CN": "CDP Root " + suffix},
                        crl_distribution_points=CDP[:1], validity_days=365, dest=files["root"])
    leaf_options = dict(provider="kms_ca", keypair=leaf_kp, issuer=root, subject={"CN": "www.example.test"},
                        subject_alt_names=["DNS:www.example.test"], extended_key_usage=["serverAuth"],
                        crl_distribution_points=CDP, ocsp_responder_urls=OCSP, ca_issuers_urls=CA_ISSUERS,
                        validity_days=90, dest=files["leaf"])
    new_ocsp = dict(leaf_options)
    new_ocsp["ocsp_responder_urls"] = ["http://ocsp2.example.test/status"]
    kept = dict(new_ocsp)
    kept.update(regenerate="never", crl_distribution_points=CDP[:1])
    run = play(env, keypair(ca_kp), keypair(leaf_kp),
               certificate(root, "root", **root_options),
               certificate(leaf, "leaf", **leaf_options),
               certificate(root, "root again", **root_options),
               certificate(leaf, "leaf again", **leaf_options),
               certificate(leaf, "leaf OCSP changed", **new_ocsp),
               certificate(leaf, "leaf OCSP changed again", **new_ocsp),
               certificate(leaf, "leaf CDP changed, kept", **kept))

    root_result, leaf_result = run.result("root"), run.result("leaf")
    assert root_result["changed"] and leaf_result["changed"], run.output[-3000:]
    root_pem, leaf_pem = read(files["root"]), leaf_result["pem"]  # the leaf's dest is rewritten later in the play
    assert urls(root_pem) == (CDP[:1], [], [])
    assert urls(leaf_pem) == (CDP, OCSP, CA_ISSUERS)
    assert (leaf_result["crl_distribution_points"], leaf_result["ocsp_responder_urls"],
            leaf_result["ca_issuers_urls"]) == (CDP, OCSP, CA_ISSUERS)
    assert root_result["crl_distribution_points"] == CDP[:1] and root_result["ocsp_responder_urls"] == []

    first_leaf = os.path.join(env["tmp"], "first-leaf.pem")
    with open(first_leaf, "w") as handle:
        handle.write(leaf_pem)
    text = openssl("x509", "-in", first_leaf, "-noout", "-text")
    assert "X509v3 CRL Distribution Points" in text and "Authority Information Access" in text, text
    for url in CDP:
        assert "URI:" + url in text, text
    assert "OCSP - URI:" + OCSP[0] in text and "CA Issuers - URI:" + CA_ISSUERS[0] in text, text
    assert openssl("verify", "-CAfile", files["root"], first_leaf).strip().endswith(": OK")

    for title in ("root again", "leaf again"):
        result = run.result(title)
        assert not result["changed"] and result["changes"] == [] and result["mismatch"] == [], (title, result["changed_reason"])

    changed = run.result("leaf OCSP changed")
    assert changed["changed"] and changed["changes"] == ["replaced", "dest %s written" % files["leaf"]], changed
    assert "ocsp_responder_urls is ['http://ocsp.example.test/'], requested ['http://ocsp2.example.test/status']" \
        in changed["changed_reason"], changed["changed_reason"]
    assert changed["serial_number"] != leaf_result["serial_number"]
    assert urls(read(files["leaf"])) == (CDP, ["http://ocsp2.example.test/status"], CA_ISSUERS)
    assert urls(changed["pem"]) == urls(read(files["leaf"]))
    assert not run.result("leaf OCSP changed again")["changed"]

    never = run.result("leaf CDP changed, kept")
    assert not never["changed"] and never["mismatch"] == [
        "crl_distribution_points is %s, requested %s" % (CDP, CDP[:1])], never
    assert urls(read(files["leaf"]))[0] == CDP


def test_a_csr_brings_its_own_cdp_and_the_options_add_aia(env, root_for_csr):
    name = "cdp-csr-" + uuid.uuid4().hex[:8]
    key = ec.generate_private_key(ec.SECP256R1())
    cdp = x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier("http://device.example.test/ca.crl")], None, None, None)])
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device.example.test")]))
           .add_extension(cdp, False).sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    options = dict(provider="csr", csr_content=csr, issuer=root_for_csr, ocsp_responder_urls=OCSP, validity_days=90)
    contradicting = dict(options, crl_distribution_points=CDP)
    run = play(env, certificate(name, "csr", **options), certificate(name, "csr again", **options),
               certificate(name, "csr contradicted", **contradicting))
    first = run.result("csr")
    assert first["changed"], run.output[-3000:]
    assert urls(first["pem"]) == (["http://device.example.test/ca.crl"], OCSP, [])
    again = run.result("csr again")
    assert not again["changed"], again["changed_reason"]
    refused = run.result("csr contradicted")
    assert refused["_status"] == "failed" and "the CSR already carries crlDistributionPoints" in refused["msg"], refused


def test_invalid_urls_are_refused_before_any_kms_call(env, client):
    suffix = uuid.uuid4().hex[:8]
    base = dict(provider="kms_ca", keypair="nokp-" + suffix, issuer="noca-" + suffix, subject={"CN": "x.example.test"})
    cases = [
        ("ftp CDP", dict(base, crl_distribution_points=["ftp://pki.example.test/root.crl"]),
         "crl_distribution_points: 'ftp://pki.example.test/root.crl' must be an absolute http:// or https:// URL"),
        ("comma OCSP", dict(base, ocsp_responder_urls=["http://ocsp.example.test/a,b"]),
         "ocsp_responder_urls: 'http://ocsp.example.test/a,b' must be printable ASCII without white space, commas"),
        ("space CA issuers", dict(base, ca_issuers_urls=["http://pki.example.test/root ca.crt"]),
         "ca_issuers_urls: 'http://pki.example.test/root ca.crt' must be printable ASCII"),
        ("quote CDP", dict(base, crl_distribution_points=['http://pki.example.test/"x"']), "without white space, commas, quotes"),
        ("relative OCSP", dict(base, ocsp_responder_urls=["/ocsp"]), "must be an absolute http:// or https:// URL"),
    ]
    run = play(env, *[certificate("bad-url-%d-%s" % (i, suffix), title, **options)
                      for i, (title, options, _message) in enumerate(cases)])
    for i, (title, _options, message) in enumerate(cases):
        result = run.result(title)
        assert result["_status"] == "failed" and message in result["msg"], (title, result.get("msg"))
        assert result["msg"].startswith("Invalid arguments: "), result["msg"]
        assert not exists(client, "bad-url-%d-%s" % (i, suffix))
    assert not os.path.exists(env["KMS_AUDIT_LOG"]) or records(env) == []
