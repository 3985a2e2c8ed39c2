"""Mutual TLS against the real server: the modules verify the server with ca_cert and
authenticate with client_cert/client_key; a client without a certificate is refused."""

import ssl
import tempfile

import pytest

from kms_checks import play
from kms_server import KmsServer, cleanup
from throwaway_pki import issue


@pytest.fixture(scope="module")
def mtls_server():
    folder = tempfile.mkdtemp(prefix="pkimanager-kms-mtls-")
    ca = issue(folder, "ca", "Test CA", ca=True)
    server_cert = issue(folder, "server", "127.0.0.1", issuer=ca, server=True)
    client = issue(folder, "client", "alice@example.test", issuer=ca)
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
