"""kms_certificate with every key type, through ansible-playbook against the real server.

Key pairs are made over raw KMIP (``ops.create_key_pair``) so these tests depend on the
certificate module only. Every provider (selfsigned, kms_ca, csr) is run with issuer and
subject keys of every type (RSA, EC P-256/P-384/P-521/secp256k1, Ed25519, Ed448), chains
mix them, and each certificate is checked without the collection's code: ``openssl
verify``, cryptography's ``verify_directly_issued_by``, the signature algorithm OID.

What Cosmian KMS 5.28 really does: the signature algorithm follows the issuer's key type,
but an EC issuer signs ecdsa-with-SHA256 whatever its curve (P-384 and P-521 included, not
ecdsa-with-SHA384/512); Ed25519 and Ed448 issuers sign ED25519 and ED448.

PKCS#12: an exportable leaf's bundle makes a working TLS server (``openssl s_server`` on
127.0.0.1, ``openssl s_client`` verifying against the root); a non-exportable pair is
refused before anything is issued or written. Key material never shows in the output or
the audit trail. Every test uses its own names (uuid), so they run in parallel.
"""

import os
import socket
import stat
import subprocess
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

from kms_checks import exists, play, records

KEYS = {
    "rsa": dict(size=2048), "P-256": dict(key_type="ec", curve="P-256"), "P-384": dict(key_type="ec", curve="P-384"),
    "P-521": dict(key_type="ec", curve="P-521"), "secp256k1": dict(key_type="ec", curve="secp256k1"),
    "ed25519": dict(key_type="ed25519"), "ed448": dict(key_type="ed448"),
}
KINDS = list(KEYS)
# What the server signs with, per issuer key type (observed on Cosmian KMS 5.28).
SIGNATURES = {"rsa": ("sha256WithRSAEncryption", "1.2.840.113549.1.1.11"),
              "ed25519": ("ED25519", "1.3.101.112"), "ed448": ("ED448", "1.3.101.113")}
ECDSA_SHA256 = ("ecdsa-with-SHA256", "1.2.840.10045.4.3.2")
PUBLIC_KEY_TYPES = {"rsa": "rsa", "ed25519": "ed25519", "ed448": "ed448"}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def new_pair(client, kind, exportable=False):
    name = unique("kp-" + kind.lower())
    client.call(ops.create_key_pair(private_key_id=name, exportable=exportable, **KEYS[kind]))
    return name


def task(title, name, **options):
    return {"name": title, "pkimanager.kms.kms_certificate": dict(name=name, **options), "ignore_errors": True}


def read(path, mode="r"):
    with open(path, mode) as handle:
        return handle.read()


def load(pem):
    return x509.load_pem_x509_certificate(pem.encode())


def spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def openssl(*args, **kwargs):
    return subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False, **kwargs)


def openssl_verify(root, cert, untrusted=None):
    proc = openssl("verify", "-CAfile", root, *((["-untrusted", untrusted] if untrusted else []) + [cert]))
    assert proc.returncode == 0 and proc.stdout.strip().endswith(": OK"), proc.stdout


def check_signature(cert, issuer_kind):
    name, oid = SIGNATURES.get(issuer_kind, ECDSA_SHA256)
    assert cert.signature_algorithm_oid.dotted_string == oid, (issuer_kind, cert.signature_algorithm_oid)
    return name


def check_issued(result, issuer_cert, issuer_kind, subject_spki, subject_kind):
    """The task's certificate: issued by ``issuer_cert`` with its key's signature, for ``subject_spki``."""
    assert result["_status"] == "ok", result.get("msg")
    cert = load(result["pem"])
    cert.verify_directly_issued_by(issuer_cert)
    assert spki(cert.public_key()) == subject_spki
    assert result["signature_algorithm"] == check_signature(cert, issuer_kind)
    assert result["public_key_type"] == PUBLIC_KEY_TYPES.get(subject_kind, "ec")
    return cert


def make_csr(kind, common_name):
    key = {"P-256": lambda: ec.generate_private_key(ec.SECP256R1()), "ed25519": ed25519.Ed25519PrivateKey.generate,
           "P-384": lambda: ec.generate_private_key(ec.SECP384R1())}[kind]()
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(common_name)]), False).sign(
        key, None if kind == "ed25519" else hashes.SHA256())
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


# -- every provider with every key type, twice (the second run changes nothing) ----------

@pytest.mark.parametrize("issuer_kind", KINDS)
def test_every_provider_with_every_key_type(env, client, issuer_kind):
    """Root of ``issuer_kind`` (selfsigned); under it a kms_ca leaf of the next type in KINDS
    (so each type is a kms_ca subject once), a leaf of another family (RSA, or Ed25519 under
    RSA), and CSRs with P-256 and Ed25519 keys. Then all again: nothing changes."""
    leaf_kind = KINDS[(KINDS.index(issuer_kind) + 1) % len(KINDS)]
    other_kind = "ed25519" if issuer_kind == "rsa" else "rsa"
    pairs = dict((role, new_pair(client, kind)) for role, kind in
                 (("root", issuer_kind), ("leaf", leaf_kind), ("other", other_kind)))
    names = dict((role, unique(role)) for role in ("root", "leaf", "other", "csr-ec", "csr-ed"))
    root_pem = os.path.join(env["tmp"], "root.pem")
    csr_keys = {}
    tasks = [task("root", names["root"], provider="selfsigned", keypair=pairs["root"], dest=root_pem,
                  subject={"CN": "Root " + issuer_kind}, validity_days=90)]
    for role in ("leaf", "other"):
        tasks.append(task(role, names[role], provider="kms_ca", keypair=pairs[role], issuer=names["root"],
                          subject={"CN": "%s.example.test" % role}, key_usage=["digitalSignature"],
                          extended_key_usage=["serverAuth"], chain_dest=os.path.join(env["tmp"], role + ".chain")))
    for role, kind in (("csr-ec", "P-256"), ("csr-ed", "ed25519")):
        csr_keys[role], csr_pem = make_csr(kind, "%s.example.test" % role)
        tasks.append(task(role, names[role], provider="csr", csr_content=csr_pem, issuer=names["root"],
                          extended_key_usage=["clientAuth"]))
    again = [dict(t, name=t["name"] + " again") for t in tasks]
    run = play(env, *(tasks + again))

    root = run.result("root")
    assert root["_status"] == "ok" and root["changed"], root.get("msg", run.output[-3000:])
    root_cert = check_issued(root, load(root["pem"]), issuer_kind,
                             client.call(ops.get_public_key(pairs["root"] + "_pk"))["der"], issuer_kind)
    openssl_verify(root_pem, root_pem)
    for role, kind in (("leaf", leaf_kind), ("other", other_kind)):
        public = client.call(ops.get_public_key(pairs[role] + "_pk"))["der"]
        check_issued(run.result(role), root_cert, issuer_kind, public, kind)
        path = os.path.join(env["tmp"], role + ".pem")
        with open(path, "w") as handle:
            handle.write(run.result(role)["pem"])
        assert read(os.path.join(env["tmp"], role + ".chain")) == root["pem"]
        openssl_verify(root_pem, path)
    for role, kind in (("csr-ec", "P-256"), ("csr-ed", "ed25519")):
        cert = check_issued(run.result(role), root_cert, issuer_kind, spki(csr_keys[role].public_key()), kind)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "%s.example.test" % role
    for t in again:
        result = run.result(t["name"])
        assert result["_status"] == "ok" and not result["changed"] and result["mismatch"] == [], (t["name"], result)
    assert run.result("leaf again")["serial_number"] == run.result("leaf")["serial_number"]


def test_a_three_level_chain_of_mixed_key_types(env, client):
    """P-384 root -> RSA intermediate -> P-256 leaf, and Ed448 root -> Ed25519 intermediate -> RSA leaf."""
    for root_kind, middle_kind, leaf_kind in (("P-384", "rsa", "P-256"), ("ed448", "ed25519", "rsa")):
        pairs = [new_pair(client, kind) for kind in (root_kind, middle_kind, leaf_kind)]
        names = [unique(role) for role in ("root", "ca", "leaf")]
        files = dict((n, os.path.join(env["tmp"], "%s-%s.pem" % (root_kind, n)))
                     for n in ("root", "ca", "leaf", "chain", "full"))
        run = play(env,
                   task("root", names[0], provider="selfsigned", keypair=pairs[0], subject={"CN": "Root"},
                        basic_constraints={"ca": True, "path_length": 1}, dest=files["root"]),
                   task("ca", names[1], provider="kms_ca", keypair=pairs[1], issuer=names[0], subject={"CN": "CA"},
                        basic_constraints={"ca": True, "path_length": 0}, dest=files["ca"]),
                   task("leaf", names[2], provider="kms_ca", keypair=pairs[2], issuer=names[1],
                        subject={"CN": "leaf.example.test"}, subject_alt_names=["DNS:leaf.example.test"],
                        key_usage=["digitalSignature"], dest=files["leaf"], chain_dest=files["chain"],
                        fullchain_dest=files["full"]),
                   task("leaf again", names[2], provider="kms_ca", keypair=pairs[2], issuer=names[1],
                        subject={"CN": "leaf.example.test"}, subject_alt_names=["DNS:leaf.example.test"],
                        key_usage=["digitalSignature"], dest=files["leaf"], chain_dest=files["chain"],
                        fullchain_dest=files["full"]))
        root, ca, leaf = (load(read(files[n])) for n in ("root", "ca", "leaf"))
        assert read(files["chain"]) == read(files["ca"]) + read(files["root"])
        openssl_verify(files["root"], files["leaf"], untrusted=files["chain"])
        ca.verify_directly_issued_by(root)
        leaf.verify_directly_issued_by(ca)
        check_signature(ca, root_kind)
        check_signature(leaf, middle_kind)
        assert run.result("leaf")["signature_algorithm"] == SIGNATURES.get(middle_kind, ECDSA_SHA256)[0]
        assert not run.result("leaf again")["changed"], run.result("leaf again")


def test_ecdsa_issuers_sign_with_sha256_whatever_the_curve(env, client):
    """The issue asked for ecdsa-with-SHA384 under a P-384 root: Cosmian 5.28 signs SHA-256."""
    pair, leaf_pair = new_pair(client, "P-384"), new_pair(client, "rsa")
    root_name, leaf_name = unique("root"), unique("leaf")
    run = play(env, task("root", root_name, provider="selfsigned", keypair=pair, subject={"CN": "P-384 root"}),
               task("leaf", leaf_name, provider="kms_ca", keypair=leaf_pair, issuer=root_name,
                    subject={"CN": "rsa leaf"}))
    for title in ("root", "leaf"):
        cert = load(run.result(title)["pem"])
        assert cert.signature_algorithm_oid.dotted_string == "1.2.840.10045.4.3.2"  # not 4.3.3 (SHA-384)
        assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
        assert run.result(title)["signature_algorithm"] == "ecdsa-with-SHA256"


def test_key_usage_an_ec_or_edwards_key_cannot_have_is_refused_before_issuing(env, client):
    pair, ed_pair = new_pair(client, "P-256"), new_pair(client, "ed25519")
    names = [unique("ec"), unique("ed")]
    run = play(env, task("ec", names[0], provider="selfsigned", keypair=pair, subject={"CN": "ec"},
                         key_usage=["digitalSignature", "keyEncipherment"]),
               task("ed", names[1], provider="selfsigned", keypair=ed_pair, subject={"CN": "ed"},
                    key_usage=["keyCertSign", "keyAgreement"]))
    ec_result, ed_result = run.result("ec"), run.result("ed")
    assert ec_result["_status"] == "failed" and "keyEncipherment cannot be used with key pair %r, an EC key" % pair \
        in ec_result["msg"]
    assert ed_result["_status"] == "failed" and "keyAgreement cannot be used with key pair %r, an Ed25519 key" \
        % ed_pair in ed_result["msg"]
    assert not exists(client, names[0]) and not exists(client, names[1])


# -- PKCS#12 ---------------------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tls_handshake(folder, cert_pem, key_pem, chain_pem, root_file):
    """openssl s_server with the pair on 127.0.0.1, s_client verifying against the root: its output."""
    files = dict((n, os.path.join(folder, "tls-" + n)) for n in ("cert.pem", "key.pem", "chain.pem"))
    for name, content in (("cert.pem", cert_pem), ("key.pem", key_pem), ("chain.pem", chain_pem)):
        with open(files[name], "wb") as handle:
            handle.write(content)
    os.chmod(files["key.pem"], 0o600)
    port = free_port()
    server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", files["cert.pem"],
                               "-key", files["key.pem"], "-cert_chain", files["chain.pem"], "-naccept", "1"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        line, deadline = b"", time.time() + 20
        while b"ACCEPT" not in line and time.time() < deadline:
            line = server.stdout.readline()
            assert line or server.poll() is None, "openssl s_server stopped"
        client = openssl("s_client", "-connect", "127.0.0.1:%d" % port, "-verify_return_error", "-CAfile",
                         root_file, "-servername", "localhost", "-verify_hostname", "localhost",
                         input="Q\n", timeout=30)
    finally:
        server.kill()
        server.wait()
    assert client.returncode == 0 and "Verify return code: 0 (ok)" in client.stdout, client.stdout
    return client.stdout


def secret_forms(der):
    """How a private key's bytes could show in text: base64 lines of its PEM, and hex."""
    pem = serialization.load_der_private_key(der, None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return [line for line in pem.splitlines() if line and not line.startswith("-----")] + [der.hex()]


@pytest.mark.parametrize("root_kind, leaf_kind", [("ed25519", "rsa"), ("P-384", "P-256"), ("rsa", "ed25519")])
def test_a_pkcs12_bundle_of_an_exportable_pair_serves_tls(env, client, root_kind, leaf_kind):
    root_pair, leaf_pair = new_pair(client, root_kind), new_pair(client, leaf_kind, exportable=True)
    root_name, leaf_name = unique("root"), unique("tls")
    root_file, bundle = os.path.join(env["tmp"], "root.pem"), os.path.join(env["tmp"], "leaf.p12")
    passphrase = "p12-" + uuid.uuid4().hex
    leaf = task("leaf", leaf_name, provider="kms_ca", keypair=leaf_pair, issuer=root_name,
                subject={"CN": "localhost"}, subject_alt_names=["DNS:localhost", "IP:127.0.0.1"],
                key_usage=["digitalSignature"], extended_key_usage=["serverAuth"],
                pkcs12_dest=bundle, pkcs12_passphrase=passphrase)
    env = dict(env, KMS_AUDIT_JSONL=os.path.join(env["tmp"], "audit.jsonl"))
    run = play(env, task("root", root_name, provider="selfsigned", keypair=root_pair, subject={"CN": "TLS root"},
                         dest=root_file),
               leaf, dict(leaf, name="leaf again"), args=["--diff", "-v"])
    first, again = run.result("leaf"), run.result("leaf again")
    assert first["_status"] == "ok" and first["changed"], first.get("msg", run.output[-3000:])
    assert "pkcs12_dest %s written" % bundle in first["changes"]
    assert again["_status"] == "ok" and not again["changed"] and again["changes"] == [], again
    assert stat.S_IMODE(os.stat(bundle).st_mode) == 0o600

    key, cert, chain = pkcs12.load_key_and_certificates(read(bundle, "rb"), passphrase.encode())
    assert cert == load(first["pem"]) and [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain] == [
        read(root_file)]
    assert spki(key.public_key()) == client.call(ops.get_public_key(leaf_pair + "_pk"))["der"]
    cert.verify_directly_issued_by(chain[0])
    assert first["signature_algorithm"] == check_signature(cert, root_kind)
    # openssl reads the bundle too
    proc = openssl("pkcs12", "-in", bundle, "-passin", "pass:" + passphrase, "-nokeys")
    assert proc.returncode == 0 and "BEGIN CERTIFICATE" in proc.stdout, proc.stdout

    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    shown = tls_handshake(env["tmp"], first["pem"].encode(), key_pem, read(root_file).encode(), root_file)
    assert "subject=CN = localhost" in shown

    key_der = client.call(ops.get_private_key(leaf_pair))["der"]
    stores = [os.path.join(env["tmp"], n) for n in os.listdir(env["tmp"]) if n.startswith("audit")]
    texts = [run.output] + [read(path, "rb").decode("utf-8", "replace") for path in stores]
    for form in secret_forms(key_der) + [passphrase]:
        assert not any(form in text for text in texts)
    gets = [r for r in records(env, operation="kms.get") if r["entity_type"] == "private_key"]
    assert [r["entity_id"] for r in gets] == [leaf_pair, leaf_pair] and all(
        r["status"] == "success" and "der" not in r["details"] and "pem" not in str(r["details"]) for r in gets)


def test_a_non_exportable_pair_gets_no_pkcs12_bundle(env, client):
    pair, root_pair = new_pair(client, "P-256"), new_pair(client, "rsa")
    root_name, leaf_name = unique("root"), unique("leaf")
    bundle, pem = os.path.join(env["tmp"], "leaf.p12"), os.path.join(env["tmp"], "leaf.pem")
    options = dict(provider="kms_ca", keypair=pair, issuer=root_name, subject={"CN": "sensitive"}, dest=pem,
                   pkcs12_dest=bundle, pkcs12_passphrase="secret-passphrase")
    run_for_real = play(env, task("root", root_name, provider="selfsigned", keypair=root_pair, subject={"CN": "root"}),
                        task("leaf", leaf_name, **options))
    run = play(env, task("check", leaf_name, **options), args=["--check"])
    for result in (run.result("check"), run_for_real.result("leaf")):
        assert result["_status"] == "failed"
        assert result["msg"] == (
            "pkcs12_dest: the private key of key pair %r is not exportable (the KMS refuses to export it), so no "
            "PKCS#12 file can hold it; nothing was written. Use a key pair created with exportable=true, or leave "
            "pkcs12_dest unset." % pair)
    assert not os.path.exists(bundle) and not os.path.exists(pem) and not exists(client, leaf_name)
    assert "secret-passphrase" not in run.output + run_for_real.output
    assert not [r for r in records(env) if r["entity_type"] == "private_key" and r["operation"] == "kms.get"]

    # a CSR's private key is not in the KMS: refused before any KMS call
    _key, csr_pem = make_csr("P-256", "csr.example.test")
    refused = play(env, task("csr", unique("csr"), provider="csr", csr_content=csr_pem, issuer=root_name,
                             pkcs12_dest=bundle)).result("csr")
    assert refused["_status"] == "failed" and "pkcs12_dest is not used with provider=csr" in refused["msg"]


def test_a_self_signed_pkcs12_bundle_follows_mode_and_passphrase(env, client):
    """selfsigned, Ed448, no passphrase then one: the task's mode wins over 0600, and only a
    change of what the file holds (or of how it is protected) rewrites it."""
    pair, name = new_pair(client, "ed448", exportable=True), unique("self")
    bundle = os.path.join(env["tmp"], "self.p12")
    options = dict(provider="selfsigned", keypair=pair, subject={"CN": "self"}, pkcs12_dest=bundle, mode="0640")
    run = play(env, task("plain", name, **options), task("plain again", name, **options),
               dict(task("check", name, **dict(options, pkcs12_passphrase="pw")), check_mode=True),
               task("protected", name, **dict(options, pkcs12_passphrase="pw")),
               task("protected again", name, **dict(options, pkcs12_passphrase="pw")),
               task("default mode", name, **dict((k, v) for k, v in options.items() if k != "mode")))
    assert run.result("plain")["changes"] == ["created", "pkcs12_dest %s written" % bundle], run.result("plain")
    assert not run.result("plain again")["changed"]
    assert run.result("check")["changes"] == ["pkcs12_dest %s written" % bundle]
    assert run.result("protected")["changes"] == ["pkcs12_dest %s written" % bundle]
    assert not run.result("protected again")["changed"]
    # without a passphrase the file is rewritten unprotected, and its mode goes back to 0600
    assert run.result("default mode")["changes"] == ["pkcs12_dest %s written" % bundle]
    assert stat.S_IMODE(os.stat(bundle).st_mode) == 0o600
    key, cert, chain = pkcs12.load_key_and_certificates(read(bundle, "rb"), None)
    assert cert == load(run.result("plain")["pem"]) and chain == []
    assert spki(key.public_key()) == spki(cert.public_key())
    assert run.result("plain")["signature_algorithm"] == "ED448"
