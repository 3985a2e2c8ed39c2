"""Mutual TLS against the real server: the modules verify the server with ca_cert and
authenticate with client_cert/client_key; a client without a certificate is refused."""

import datetime
import ipaddress
import os
import ssl
import tempfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kms_checks import play
from kms_server import KmsServer, cleanup


def _issue(folder, name, common_name, issuer=None, server=False, ca=False):
    """Key and certificate PEM files for a test PKI; returns (cert_path, key_path, key, cert)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer_key, issuer_cert = (issuer[2], issuer[3]) if issuer else (key, None)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                        critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    cert_path, key_path = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return cert_path, key_path, key, cert


@pytest.fixture(scope="module")
def mtls_server():
    folder = tempfile.mkdtemp(prefix="pkimanager-kms-mtls-")
    ca = _issue(folder, "ca", "Test CA", ca=True)
    server_cert = _issue(folder, "server", "127.0.0.1", issuer=ca, server=True)
    client = _issue(folder, "client", "alice@example.test", issuer=ca)
    context = ssl.create_default_context(cafile=ca[0])
    context.load_cert_chain(client[0], client[1])
    server = KmsServer(folder, ssl_context=context, tls={
        "tls_cert_file": server_cert[0], "tls_key_file": server_cert[1], "clients_ca_cert_file": ca[0]}).start()
    try:
        yield server, {"ca_cert": ca[0], "client_cert": client[0], "client_key": client[1]}
    finally:
        server.stop()
        cleanup(folder)


def test_mutual_tls(mtls_server, tmp_path):
    server, files = mtls_server
    env = {"KMS_URL": server.url, "KMS_AUDIT_LOG": str(tmp_path / "audit.db"), "tmp": str(tmp_path)}
    run = play(env,
               {"name": "mtls", "pkimanager.kms.kms_keypair": dict(files, name="mtls-pair", size=2048)},
               {"name": "no client certificate", "ignore_errors": True,
                "pkimanager.kms.kms_keypair": {"name": "mtls-pair", "size": 2048, "ca_cert": files["ca_cert"],
                                               "retries": 1}},
               {"name": "unknown server CA", "ignore_errors": True,
                "pkimanager.kms.kms_keypair": {"name": "mtls-pair", "size": 2048, "client_cert": files["client_cert"],
                                               "client_key": files["client_key"], "retries": 1}})
    assert run.result("mtls")["changed"] and run.result("mtls")["state"] == "Active", run.output[-3000:]
    refused = run.result("no client certificate")
    # The handshake accepts a client without a certificate; the request is then refused.
    assert refused["_status"] == "failed" and refused["kms_error"]["attempts"] == 1
    assert refused["kms_error"]["status"] == 401 and refused["kms_error"]["reason"] == "Authentication_Not_Successful"
    untrusted = run.result("unknown server CA")
    assert untrusted["_status"] == "failed" and "SSLError" in untrusted["msg"]
