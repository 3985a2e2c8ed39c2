"""kms_certificate through ansible-playbook against the real server.

Every certificate is checked without the collection's code: ``openssl verify`` on the
chain, extensions parsed by cryptography (which refuses an extension present twice), the
public key compared with what kms_keypair returned, and ckms reading the certificate back.
"""

import datetime
import os
import shutil
import stat
import subprocess
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

from kms_checks import exists, play, records
from lossy_proxy import LossyProxy
from playbook import run_playbook

CA_EXTENSIONS = {ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE, ExtensionOID.SUBJECT_KEY_IDENTIFIER}
LEAF_EXTENSIONS = CA_EXTENSIONS | {ExtensionOID.EXTENDED_KEY_USAGE, ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
                                   ExtensionOID.AUTHORITY_KEY_IDENTIFIER}


@pytest.fixture(scope="module")
def root(kms_server, tmp_path_factory):
    """A root CA valid 30 days, shared by the tests that only need an issuer."""
    folder = tmp_path_factory.mktemp("root")
    suffix = uuid.uuid4().hex[:8]
    names = {"keypair": "root-kp-" + suffix, "name": "root-" + suffix, "pem": str(folder / "root.pem")}
    run = run_playbook([keypair(names["keypair"]),
                        certificate(names["name"], "root", provider="selfsigned", keypair=names["keypair"],
                                    subject={"CN": "Shared Root " + suffix}, validity_days=30, dest=names["pem"])],
                       extra_env={"KMS_URL": kms_server.url, "KMS_AUDIT_LOG": str(folder / "audit.db")})
    assert run.result("root")["changed"], run.output[-3000:]
    return names


def keypair(name):
    return {"name": "keypair " + name, "pkimanager.kms.kms_keypair": {"name": name, "size": 2048}}


def certificate(name, title, **options):
    return {"name": title, "pkimanager.kms.kms_certificate": dict(name=name, **options), "ignore_errors": True}


def read(path):
    with open(path) as handle:
        return handle.read()


def load(pem):
    return x509.load_pem_x509_certificate(pem.encode())


def extensions(cert):
    """Extensions by OID; cryptography raises DuplicateExtension if any appears twice."""
    return dict((ext.oid, ext) for ext in cert.extensions)


def spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def openssl_verify(ca_file, cert_file, untrusted=None):
    command = ["openssl", "verify", "-CAfile", ca_file] + (["-untrusted", untrusted] if untrusted else []) + [cert_file]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    assert proc.returncode == 0 and proc.stdout.strip().endswith(": OK"), proc.stdout


def ckms_pem(kms_server, tmp, certificate_id):
    path = os.path.join(tmp, certificate_id + ".ckms.pem")
    kms_server.ckms("certificates", "export", "--certificate-id", certificate_id, "--format", "pem", path)
    return load(read(path))


def make_csr(common_name, *extensions):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return key, builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_root_leaf_csr_lifecycle(env, client, kms_server):
    suffix = uuid.uuid4().hex[:8]
    ca_kp, server_kp, root_name, leaf, device = ("ca-" + suffix, "srv-" + suffix, "root-" + suffix,
                                                 "www-" + suffix, "device-" + suffix)
    files = dict((n, os.path.join(env["tmp"], n + ".pem")) for n in ("root", "leaf", "chain", "fullchain", "csr"))
    root_options = dict(provider="selfsigned", keypair=ca_kp, subject={"CN": "Test Root " + suffix, "O": "pkimanager",
                                                                       "C": "FR"},
                        basic_constraints={"ca": True, "path_length": 1}, validity_days=3650, dest=files["root"])
    sans = ["DNS:www.example.test", "DNS:api.example.test", "IP:127.0.0.1", "email:ops@example.test",
            "URI:https://www.example.test/"]
    leaf_options = dict(provider="kms_ca", keypair=server_kp, issuer=root_name,
                        subject={"CN": "www.example.test", "O": "pkimanager"}, subject_alt_names=sans,
                        key_usage=["digitalSignature", "keyEncipherment"], extended_key_usage=["serverAuth", "clientAuth"],
                        validity_days=90, dest=files["leaf"], chain_dest=files["chain"],
                        fullchain_dest=files["fullchain"], mode="0640")
    csr_key, csr_pem = make_csr("device.example.test",
                                (x509.SubjectAlternativeName([x509.DNSName("device.example.test")]), False),
                                (x509.KeyUsage(True, False, False, False, False, False, False, False, False), True),
                                (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False))
    csr_options = dict(provider="csr", csr_content=csr_pem, issuer=root_name, extended_key_usage=["clientAuth"],
                       validity_days=60, dest=files["csr"])
    more_sans = dict(leaf_options)
    more_sans["subject_alt_names"] = sans + ["DNS:new.example.test"]
    without_files = dict((k, v) for k, v in leaf_options.items() if not k.endswith("dest"))
    run = play(env,
               keypair(ca_kp), keypair(server_kp),
               certificate(root_name, "root", **root_options),
               certificate(leaf, "leaf", **leaf_options),
               certificate(root_name, "root again", **root_options),
               certificate(leaf, "leaf again", **leaf_options),
               certificate(leaf, "leaf SAN changed", **more_sans),
               certificate(device, "csr", **csr_options),
               certificate(device, "csr again", **csr_options),
               certificate(leaf, "revoke", state="revoked", revocation_reason="Superseded", revocation_message="test"),
               certificate(leaf, "revoke again", state="revoked"),
               certificate(leaf, "present after revoke", **without_files),
               certificate(leaf, "absent", state="absent"),
               certificate(leaf, "absent again", state="absent"))
    ca_pair, server_pair = run.result("keypair " + ca_kp), run.result("keypair " + server_kp)

    root_result = run.result("root")
    assert root_result["changed"] and root_result["changed_reason"].startswith("the certificate does not exist"), \
        run.output[-3000:]
    root_cert = load(read(files["root"]))
    assert root_result["pem"] == read(files["root"]) and root_result["certificate_id"] == root_name
    assert root_result["subject"] == root_result["issuer"] == root_options["subject"]
    openssl_verify(files["root"], files["root"])
    found = extensions(root_cert)
    assert set(found) == CA_EXTENSIONS, "no RFC 9608 noRevAvail on a CA: %s" % found
    assert found[ExtensionOID.BASIC_CONSTRAINTS].critical
    assert found[ExtensionOID.BASIC_CONSTRAINTS].value == x509.BasicConstraints(ca=True, path_length=1)
    assert found[ExtensionOID.KEY_USAGE].value.key_cert_sign and found[ExtensionOID.KEY_USAGE].value.crl_sign
    assert spki(root_cert.public_key()) == spki(serialization.load_pem_public_key(ca_pair["public_key_pem"].encode()))

    first = run.result("leaf")
    assert first["changed"] and not run.result("leaf again")["changed"] and not run.result("root again")["changed"]
    assert run.result("leaf again")["serial_number"] == first["serial_number"]
    changed = run.result("leaf SAN changed")
    assert changed["changed"] and changed["serial_number"] != first["serial_number"]
    assert changed["changed_reason"].startswith("subject_alt_names is ['DNS:api.example.test'")
    assert "DNS:new.example.test" in changed["changed_reason"] and "dest %s written" % files["leaf"] in \
        changed["changed_reason"]
    leaf_cert = load(read(files["leaf"]))
    assert read(files["leaf"]) == changed["pem"] and read(files["chain"]) == root_result["pem"]
    assert read(files["fullchain"]) == changed["pem"] + root_result["pem"]
    assert stat.S_IMODE(os.stat(files["leaf"]).st_mode) == 0o640
    openssl_verify(files["chain"], files["leaf"])
    found = extensions(leaf_cert)
    assert set(found) == LEAF_EXTENSIONS
    names = found[ExtensionOID.SUBJECT_ALTERNATIVE_NAME].value
    assert sorted(names.get_values_for_type(x509.DNSName)) == ["api.example.test", "new.example.test",
                                                               "www.example.test"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.RFC822Name) == ["ops@example.test"]
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == ["https://www.example.test/"]
    usage = found[ExtensionOID.KEY_USAGE]
    assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
    assert not usage.value.key_cert_sign
    assert set(found[ExtensionOID.EXTENDED_KEY_USAGE].value) == {ExtendedKeyUsageOID.SERVER_AUTH,
                                                                 ExtendedKeyUsageOID.CLIENT_AUTH}
    assert found[ExtensionOID.BASIC_CONSTRAINTS].value.ca is False
    assert spki(leaf_cert.public_key()) == spki(serialization.load_pem_public_key(
        server_pair["public_key_pem"].encode()))
    assert leaf_cert.issuer == root_cert.subject

    signed = run.result("csr")
    assert signed["changed"] and not run.result("csr again")["changed"], run.output[-3000:]
    device_cert = load(read(files["csr"]))
    openssl_verify(files["root"], files["csr"])
    found = extensions(device_cert)
    assert set(found) == LEAF_EXTENSIONS
    assert found[ExtensionOID.SUBJECT_ALTERNATIVE_NAME].value.get_values_for_type(x509.DNSName) == [
        "device.example.test"]
    assert list(found[ExtensionOID.EXTENDED_KEY_USAGE].value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert spki(device_cert.public_key()) == spki(csr_key.public_key())
    assert signed["subject"] == {"CN": "device.example.test"}

    for certificate_id, expected in ((root_name, root_cert), (device, device_cert)):
        assert ckms_pem(kms_server, env["tmp"], certificate_id) == expected

    revoked = run.result("revoke")
    assert revoked["changed"] and revoked["state"] == "Deactivated" and revoked["serial_number"] == \
        changed["serial_number"]
    assert not run.result("revoke again")["changed"]
    reissued = run.result("present after revoke")
    assert reissued["changed"] and reissued["changed_reason"] == "the certificate is Deactivated"
    assert run.result("absent")["changed"] and run.result("absent")["state"] == "absent"
    assert not run.result("absent again")["changed"]
    assert not exists(client, leaf)
    server_key = client.call(ops.get_attributes(server_pair["public_key_id"]))
    assert server_key["state"] == "Active" and "CertificateLink" not in server_key["links"]
    assert client.call(ops.get_attributes(server_kp))["state"] == "Active"

    trail = [(r["operation"], r["status"]) for r in records(env, entity_id=leaf)]
    for operation in ("kms.certify", "kms.revoke", "kms.destroy"):
        assert (operation, "success") in trail


def test_intermediate_ca_chain(env, root):
    suffix = uuid.uuid4().hex[:8]
    chain, leaf_pem = os.path.join(env["tmp"], "chain.pem"), os.path.join(env["tmp"], "leaf.pem")
    intermediate = "int-" + suffix
    run = play(env, keypair("int-kp-" + suffix), keypair("leaf-kp-" + suffix),
               certificate(intermediate, "intermediate", provider="kms_ca", keypair="int-kp-" + suffix,
                           issuer=root["name"], subject={"CN": "Intermediate " + suffix},
                           basic_constraints={"ca": True, "path_length": 0}, validity_days=20),
               certificate("leaf-" + suffix, "leaf", provider="kms_ca", keypair="leaf-kp-" + suffix,
                           issuer=intermediate, subject={"CN": "leaf.example.test"},
                           subject_alt_names=["DNS:leaf.example.test"], validity_days=10, dest=leaf_pem,
                           chain_dest=chain),
               certificate("sub-" + suffix, "CA under pathlen 0", provider="kms_ca", keypair="leaf-kp-" + suffix,
                           issuer=intermediate, subject={"CN": "too deep"}, basic_constraints={"ca": True},
                           validity_days=5))
    made = run.result("intermediate")
    assert made["changed"] and made["key_usage"] == ["keyCertSign", "cRLSign"], run.output[-3000:]
    assert made["basic_constraints"] == {"ca": True, "path_length": 0, "critical": True}
    assert [c.subject for c in x509.load_pem_x509_certificates(read(chain).encode())] == [
        load(made["pem"]).subject, load(read(root["pem"])).subject]
    openssl_verify(root["pem"], leaf_pem, untrusted=chain)
    refused = run.result("CA under pathlen 0")
    assert refused["_status"] == "failed" and "has pathlen:0 and cannot issue a CA certificate" in refused["msg"]


def test_renewal_reissues_each_run_and_check_mode_predicts(env, client, root):
    suffix = uuid.uuid4().hex[:8]
    name, pair = "short-" + suffix, "short-kp-" + suffix
    options = dict(provider="kms_ca", keypair=pair, issuer=root["name"], subject={"CN": "short.example.test"},
                   validity_days=2, renew_before_days=5)
    play(env, keypair(pair))
    predicted = play(env, certificate(name, "cert", **options), args=["--check", "--diff"]).result("cert")
    assert predicted["changed"] and predicted["changed_reason"] == "the certificate does not exist"
    assert predicted["diff"]["before"] == {"state": "absent"}
    assert predicted["diff"]["after"]["subject"] == {"CN": "short.example.test"}
    assert not exists(client, name)
    assert not [r for r in records(env, entity_id=name) if r["operation"] == "kms.certify"]

    shorter_window = dict(options)
    shorter_window["renew_before_days"] = 1
    rekey = {"name": "rekey", "pkimanager.kms.kms_keypair": {"name": pair, "size": 2048, "regenerate": "always"}}
    run = play(env, certificate(name, "first", **options), certificate(name, "second", **options),
               certificate(name, "shorter renewal window", **shorter_window), rekey,
               certificate(name, "after rekey", **shorter_window))
    first, second = run.result("first"), run.result("second")
    assert first["changed"] and second["changed"], run.output[-3000:]
    assert second["changed_reason"] == "the certificate expires on %s, within renew_before_days=5" % first["not_after"]
    assert second["serial_number"] != first["serial_number"]
    assert not run.result("shorter renewal window")["changed"]
    rekeyed = run.result("after rekey")
    assert rekeyed["changed_reason"] == "the certificate's public key is not the requested one"
    assert spki(load(rekeyed["pem"]).public_key()) == spki(serialization.load_pem_public_key(
        run.result("rekey")["public_key_pem"].encode()))

    checked = play(env, certificate(name, "check", **options), certificate(name, "check absent", state="absent"),
                   args=["--check", "--diff"])
    assert checked.result("check")["changed"] and "renew_before_days=5" in checked.result("check")["changed_reason"]
    assert checked.result("check")["diff"]["before"]["serial_number"] == rekeyed["serial_number"]
    assert checked.result("check absent")["changed"]
    assert client.call(ops.get_attributes(name))["state"] == "Active"
    assert load(client.call(ops.get_certificate(name))["pem"]).serial_number == rekeyed["serial_number"]


def test_bad_input_fails_before_anything_is_created(env, client, root):
    suffix = uuid.uuid4().hex[:8]
    pair = "bad-kp-" + suffix
    _key, csr_with_san = make_csr("csr.example.test",
                                  (x509.SubjectAlternativeName([x509.DNSName("csr.example.test")]), False))
    _key, csr_for_ca = make_csr("sub-ca.example.test", (x509.BasicConstraints(ca=True, path_length=None), True))
    leaf = dict(provider="kms_ca", keypair=pair, issuer=root["name"], subject={"CN": "bad.example.test"})
    cases = [
        ("garbage CSR", dict(provider="csr", issuer=root["name"],
                             csr_content="-----BEGIN CERTIFICATE REQUEST-----\ngarbage\n"),
         "csr_content is not a PEM certificate signing request"),
        ("unknown issuer", dict(leaf, issuer="no-such-" + suffix),
         "issuer 'no-such-%s': there is no certificate of this name in the KMS" % suffix),
        ("unknown keypair", dict(leaf, keypair="no-such-" + suffix), "there is no key pair of this name"),
        ("SAN without a type", dict(leaf, subject_alt_names=["bad.example.test"]),
         "needs one of the type prefixes DNS:, IP:, email:, URI:"),
        ("validity past the issuer", dict(leaf, validity_days=400), "would end after issuer %r expires" % root["name"]),
        ("unknown key usage", dict(leaf, key_usage=["signEverything"]), "key_usage: unknown 'signEverything'"),
        ("CSR contradicted", dict(provider="csr", issuer=root["name"], csr_content=csr_with_san,
                                  subject_alt_names=["DNS:other.example.test"]),
         "the CSR already carries subject_alt_names=['DNS:csr.example.test']"),
        ("CSR asking for a CA", dict(provider="csr", issuer=root["name"], csr_content=csr_for_ca),
         "the CSR asks for a CA certificate"),
        ("issuer that is a key pair", dict(leaf, issuer=pair), "is a PrivateKey in the KMS, not a certificate"),
    ]
    run = play(env, keypair(pair), *[certificate("bad-%d-%s" % (i, suffix), title, **options)
                                     for i, (title, options, _message) in enumerate(cases)])
    for i, (title, _options, message) in enumerate(cases):
        result = run.result(title)
        assert result["_status"] == "failed" and message in result["msg"], (title, result.get("msg"))
        assert not exists(client, "bad-%d-%s" % (i, suffix))
    assert records(env, operation="kms.certify") == []


def _days(result):
    """Days between a certificate's not_before and not_after."""
    start, end = (datetime.datetime.strptime(result[k], "%Y-%m-%dT%H:%M:%SZ") for k in ("not_before", "not_after"))
    return (end - start).total_seconds() / 86400


def test_defaults_compose_root_intermediate_and_leaf(env):
    """A new user's first try: a root, an intermediate CA and a leaf, none with validity_days.
    A CA gets ten years, a leaf one, and an issued CA no more than its issuer has left."""
    suffix = uuid.uuid4().hex[:8]
    run = play(env, keypair("dr-kp-" + suffix), keypair("di-kp-" + suffix), keypair("dl-kp-" + suffix),
               certificate("dr-" + suffix, "root", provider="selfsigned", keypair="dr-kp-" + suffix,
                           subject={"CN": "Default Root " + suffix}),
               certificate("di-" + suffix, "intermediate", provider="kms_ca", keypair="di-kp-" + suffix,
                           issuer="dr-" + suffix, subject={"CN": "Default Intermediate " + suffix},
                           basic_constraints={"ca": True}),
               certificate("dl-" + suffix, "leaf", provider="kms_ca", keypair="dl-kp-" + suffix,
                           issuer="dr-" + suffix, subject={"CN": "leaf.example.test"}),
               certificate("dl2-" + suffix, "leaf under the intermediate", provider="kms_ca",
                           keypair="dl-kp-" + suffix, issuer="di-" + suffix, subject={"CN": "leaf2.example.test"}),
               certificate("dl-" + suffix, "leaf again", provider="kms_ca", keypair="dl-kp-" + suffix,
                           issuer="dr-" + suffix, subject={"CN": "leaf.example.test"}))
    root, intermediate = run.result("root"), run.result("intermediate")
    leaf, deeper = run.result("leaf"), run.result("leaf under the intermediate")
    for result in (root, intermediate, leaf, deeper):
        assert result["_status"] == "ok" and result["changed"], (result.get("msg"), run.output[-3000:])
    assert root["basic_constraints"]["ca"] and abs(_days(root) - 3650) < 1
    assert intermediate["basic_constraints"]["ca"] and 3648 < _days(intermediate) <= 3650
    assert intermediate["not_after"] <= root["not_after"]
    assert not leaf["basic_constraints"]["ca"] and abs(_days(leaf) - 365) < 1 and abs(_days(deeper) - 365) < 1
    assert not run.result("leaf again")["changed"]


@pytest.mark.parametrize("option", ["dest", "chain_dest", "fullchain_dest"])
def test_destinations_are_checked_before_any_kms_call(env, client, root, option):
    name = "dest-%s" % uuid.uuid4().hex[:8]
    missing = os.path.join(env["tmp"], "missing", "cert.pem")
    options = {"provider": "kms_ca", "keypair": root["keypair"], "issuer": root["name"], "subject": {"CN": name},
               option: missing}
    run = play(env, certificate(name, "cert", **options))
    result = run.result("cert")
    assert result["_status"] == "failed", result
    assert result["msg"] == "Invalid arguments: %s %s: the folder %s does not exist" % (
        option, missing, os.path.dirname(missing))
    assert not exists(client, name) and (not os.path.exists(env["KMS_AUDIT_LOG"]) or records(env) == [])


def test_a_write_that_fails_after_certify_still_returns_the_certificate(env, client, kms_server, root):
    """The folder of dest disappears while the KMS issues (the proxy removes it once Certify is
    answered): a one-line failure that still says the KMS changed and names the certificate."""
    name = "lostdest-%s" % uuid.uuid4().hex[:8]
    folder = os.path.join(env["tmp"], "certs")
    os.mkdir(folder)
    proxy = LossyProxy(kms_server.url, after={"Certify": lambda: shutil.rmtree(folder)})
    try:
        run = play(dict(env, KMS_URL=proxy.url), keypair("lostdest-kp-" + name[-8:]),
                   certificate(name, "cert", provider="kms_ca", keypair="lostdest-kp-" + name[-8:],
                               issuer=root["name"], subject={"CN": name}, validity_days=5,
                               dest=os.path.join(folder, "cert.pem")))
    finally:
        proxy.close()
    result = run.result("cert")
    assert result["_status"] == "failed", run.output[-3000:]
    assert result["msg"] == "dest %s could not be written: No such file or directory" % os.path.join(folder, "cert.pem")
    assert result["changed"] and result["certificate_id"] == name
    assert "Traceback" not in run.output + str(result)
    assert client.call(ops.get_attributes(name))["state"] == "Active"


@pytest.mark.parametrize("options, message", [
    ({"provider": "kms_ca", "keypair": "", "issuer": "root", "subject": {"CN": "x"}},
     "keypair: name must be 1 to 128 characters"),
    ({"provider": "kms_ca", "keypair": "kp", "issuer": "root\n", "subject": {"CN": "x"}},
     "issuer: name must be 1 to 128 characters"),
    ({"provider": "selfsigned", "keypair": "kp", "subject": {"CN": "x"}, "validity_days": 0},
     "validity_days must be 1 or more"),
])
def test_bad_names_fail_before_any_kms_call(env, options, message):
    run = play(env, certificate("bad-name-cert", "cert", **options))
    result = run.result("cert")
    assert result["_status"] == "failed" and message in result["msg"], result
    assert "Traceback" not in run.output + str(result)
    assert not os.path.exists(env["KMS_AUDIT_LOG"]) or records(env) == []
