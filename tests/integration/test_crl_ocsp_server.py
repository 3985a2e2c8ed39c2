"""How the real Cosmian KMS 5.28 publishes revocation: CRLs and an OCSP responder.

Facts shown here (each test builds its own CA and leaves under unique names, so tests run
in any order and in parallel under pytest-xdist; every server listens on 127.0.0.1 only):

* ``GET /certificates/{ca_cert_id}/crl[?format=der|pem][&validity_days=N]`` (authenticated
  like /kmip) signs a *fresh* X.509 v2 CRL on every call (new CRL Number each time) with
  the CA's private key (PrivateKeyLink of the CA certificate); DER by default
  (application/pkix-crl), PEM with ``format=pem`` (application/x-pem-file).
* ``GET /public/certificates/{ca_cert_id}/crl`` needs no credentials and serves the last
  signed CRL (always DER) from the database; 404 until one was signed. A Revoke signs one
  automatically only when ``kms_public_url`` (a root key of kms.toml) is set.
* The CRL has the AKI (= CA SKI), a CRL Number, nextUpdate = thisUpdate + 7 days (or
  ``crl_default_validity_days`` / ``validity_days``), and per entry the reason code.
* The CA certificate must carry keyUsage cRLSign; Cosmian's x509-extension parser spells
  it ``crlSign`` and rejects OpenSSL's ``cRLSign``.
* ``[ocsp] ocsp_enabled = true`` + ``ocsp_ca_uid`` (one CA per server) turns on the
  unauthenticated responder ``POST /ocsp/`` and ``GET /ocsp/{base64url(request)}``,
  signed by the CA itself, nonce echoed; 404 when disabled.
* Both survive a restart (SQLite): the public CRL is the same bytes, OCSP still says revoked,
  and the next CRL Number is larger.
"""

import base64
import datetime
import os
import subprocess
import tempfile
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtensionOID

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from kms_server import KmsServer, cleanup, free_port

# Cosmian's own x509-extension parser: "crlSign" (OpenSSL's spelling "cRLSign" is refused).
CA_EXTENSIONS = ("[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,crlSign\n"
                 "subjectKeyIdentifier=hash\n")
CA_WITHOUT_CRLSIGN = "[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
TOKEN_ID = "crl-api-token"


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def ocsp_section(ca_cert_id, extra=""):
    return '[ocsp]\nocsp_enabled = true\nocsp_ca_uid = "%s"\n%s' % (ca_cert_id, extra)


def public_url(port):
    return 'kms_public_url = "http://127.0.0.1:%d"\n' % port


class Pki:
    """A CA (RSA-2048) and two EC leaves it issued, as PEM files in ``folder``."""

    def __init__(self, client, folder, ca_cert_id=None, extensions=CA_EXTENSIONS):
        self.client, self.folder = client, folder
        self.ca_key = unique("crl-ca")
        self.ca_id = ca_cert_id or unique("crl-cacert")
        client.call(ops.create_key_pair(private_key_id=self.ca_key, size=2048))
        client.call(ops.certify(certificate_id=self.ca_id, public_key_id=self.ca_key + "_pk",
                                subject={"CN": "CRL test " + self.ca_id}, extensions=extensions))
        self.ca = self.save("ca", self.ca_id)
        self.leaf_ids = {}
        self.leaves = {}
        for name in ("good", "bad"):
            key = unique("crl-leaf")
            client.call(ops.create_key_pair(private_key_id=key, key_type="ec", curve="P-256"))
            cert_id = client.call(ops.certify(certificate_id=unique("crl-cert"), public_key_id=key + "_pk",
                                              subject={"CN": "leaf " + name}, issuer_private_key_id=self.ca_key,
                                              issuer_certificate_id=self.ca_id))
            self.leaf_ids[name] = cert_id
            self.leaves[name] = self.save(name, cert_id)

    def save(self, name, cert_id):
        path = os.path.join(self.folder, "%s-%s.pem" % (self.ca_id, name))
        with open(path, "w") as handle:
            handle.write(self.client.call(ops.get_certificate(cert_id))["pem"])
        return path

    def cert(self, name):
        with open(self.ca if name == "ca" else self.leaves[name], "rb") as handle:
            return x509.load_pem_x509_certificate(handle.read())

    def revoke_bad(self):
        self.client.call(ops.revoke(self.leaf_ids["bad"], "KeyCompromise", cascade=False))


def openssl(*args):
    result = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120, check=False)
    return result.returncode, result.stdout


def write_crl_pem(folder, crl):
    path = os.path.join(folder, "crl-%s.pem" % uuid.uuid4().hex[:8])
    with open(path, "wb") as handle:
        handle.write(crl.public_bytes(serialization.Encoding.PEM))
    return path


def crl_number(crl):
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def ocsp_request(pki, name, nonce=None):
    builder = ocsp.OCSPRequestBuilder().add_certificate(pki.cert(name), pki.cert("ca"), hashes.SHA1())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def pki_server():
    """kms_public_url + [ocsp] for a CA whose id is chosen before the server starts."""
    folder = tempfile.mkdtemp(prefix="pkimanager-kms-crl-")
    port = free_port()
    ca_id = unique("crl-ocspca")
    server = KmsServer(folder, port=port, top_level=public_url(port), extra_sections=ocsp_section(ca_id)).start()
    try:
        client = KmsClient(KmsTransport(server.url, timeout=60))
        pki = Pki(client, folder, ca_cert_id=ca_id)
        pki.revoke_bad()
        yield server, pki
    finally:
        server.stop()
        cleanup(folder)


def test_revoke_primes_public_crl_with_v2_fields(pki_server):
    server, pki = pki_server
    answer = requests.get("%s/public/certificates/%s/crl" % (server.url, pki.ca_id), timeout=60)  # no credentials
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/pkix-crl"
    assert answer.headers["Cache-Control"].startswith("public, max-age=")
    assert "Last-Modified" in answer.headers and "Expires" in answer.headers
    crl = x509.load_der_x509_crl(answer.content)  # DER, not PEM
    ca = pki.cert("ca")
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())
    assert crl.signature_hash_algorithm.name == "sha256"
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert crl_number(crl) > 10 ** 9  # seeded from the unix time, not from 1
    assert crl.next_update_utc - crl.last_update_utc == datetime.timedelta(days=7)  # crl_default_validity_days
    assert [entry.serial_number for entry in crl] == [pki.cert("bad").serial_number]
    entry = crl.get_revoked_certificate_by_serial_number(pki.cert("bad").serial_number)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(pki.cert("good").serial_number) is None

    crl_pem = write_crl_pem(server.folder, crl)
    code, text = openssl("crl", "-in", crl_pem, "-noout", "-text")
    assert code == 0, text
    for expected in ("Version 2 (0x1)", "X509v3 Authority Key Identifier", "X509v3 CRL Number",
                     "X509v3 CRL Reason Code", "Key Compromise", "Next Update"):
        assert expected in text, text
    code, text = openssl("verify", "-crl_check", "-CAfile", pki.ca, "-CRLfile", crl_pem, pki.leaves["good"])
    assert code == 0 and "OK" in text, text
    code, text = openssl("verify", "-crl_check", "-CAfile", pki.ca, "-CRLfile", crl_pem, pki.leaves["bad"])
    assert code != 0 and "certificate revoked" in text, text


def test_authenticated_crl_is_signed_fresh_on_every_call(pki_server):
    server, pki = pki_server
    url = "%s/certificates/%s/crl" % (server.url, pki.ca_id)
    first = requests.get(url, timeout=60)
    assert first.status_code == 200 and first.headers["Content-Type"] == "application/pkix-crl"
    pem = requests.get(url, params={"format": "pem", "validity_days": "30"}, timeout=60)
    assert pem.status_code == 200 and pem.headers["Content-Type"] == "application/x-pem-file"
    assert pem.text.startswith("-----BEGIN X509 CRL-----")
    der_crl, pem_crl = x509.load_der_x509_crl(first.content), x509.load_pem_x509_crl(pem.content)
    assert crl_number(pem_crl) > crl_number(der_crl)  # a new CRL (and number) per call: not byte-stable
    assert pem_crl.next_update_utc - pem_crl.last_update_utc == datetime.timedelta(days=30)
    assert [entry.serial_number for entry in pem_crl] == [pki.cert("bad").serial_number]
    # ... and the public distribution point now serves that latest one
    public = requests.get("%s/public/certificates/%s/crl" % (server.url, pki.ca_id), timeout=60)
    assert x509.load_der_x509_crl(public.content) == pem_crl
    assert requests.get(url, params={"format": "txt"}, timeout=60).status_code in (400, 422)


def test_ocsp_post_good_and_revoked_with_openssl(pki_server):
    server, pki = pki_server
    for name, status in (("good", "good"), ("bad", "revoked")):
        code, text = openssl("ocsp", "-issuer", pki.ca, "-cert", pki.leaves[name], "-url", server.url + "/ocsp/",
                             "-CAfile", pki.ca, "-resp_text")
        assert code == 0, text
        assert "Response verify OK" in text and "%s: %s" % (pki.leaves[name], status) in text, text
        assert "OCSP Nonce" in text  # openssl sends one by default; the responder echoes it
        assert "Responder Id: CN = CRL test %s" % pki.ca_id in text  # signed by the CA itself
    assert "Reason: keyCompromise" in text
    code, text = openssl("ocsp", "-issuer", pki.ca, "-cert", pki.leaves["bad"], "-url", server.url + "/ocsp/",
                         "-CAfile", pki.ca, "-resp_text", "-no_nonce")
    assert code == 0 and "OCSP Nonce" not in text and ": revoked" in text, text


def test_ocsp_get_base64url_nonce_and_signer(pki_server):
    server, pki = pki_server
    nonce = os.urandom(16)
    request = ocsp_request(pki, "good", nonce)
    answer = requests.get(server.url + "/ocsp/" + base64.urlsafe_b64encode(request).decode(), timeout=60)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/ocsp-response"
    assert "max-age=86400" in answer.headers["Cache-Control"] and "ETag" in answer.headers
    response = ocsp.load_der_ocsp_response(answer.content)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    assert response.responder_name == pki.cert("ca").subject
    # ocsp_include_cert_chain = true embeds the signer (the CA) -- in 5.28 twice over
    assert response.certificates == [pki.cert("ca")] * 2
    assert response.next_update_utc - response.this_update_utc == datetime.timedelta(seconds=86400)
    # RFC 6960 Appendix A's url-encoded standard base64 is refused when it holds '/' or '+'
    standard = base64.b64encode(request).decode()
    if "/" in standard or "+" in standard:
        refused = requests.get(server.url + "/ocsp/" + requests.utils.quote(standard, safe=""), timeout=60)
        assert refused.status_code in (400, 404, 422), refused.text


def test_ocsp_revoked_reason_and_unknown_serial(pki_server):
    server, pki = pki_server
    answer = requests.post(server.url + "/ocsp/", data=ocsp_request(pki, "bad"),
                           headers={"Content-Type": "application/ocsp-request"}, timeout=60)
    response = ocsp.load_der_ocsp_response(answer.content)
    assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason == x509.ReasonFlags.key_compromise
    code, text = openssl("ocsp", "-issuer", pki.ca, "-serial", "0x1234567890abcdef", "-url", server.url + "/ocsp/",
                         "-CAfile", pki.ca, "-no_nonce")
    assert code == 0 and "0x1234567890abcdef: unknown" in text, text


def test_ocsp_for_another_ca_is_unauthorized(pki_server):
    server = pki_server[0]
    other = Pki(KmsClient(KmsTransport(server.url, timeout=60)), server.folder)  # not the ocsp_ca_uid
    answer = requests.post(server.url + "/ocsp/", data=ocsp_request(other, "good"), timeout=60)
    assert answer.status_code == 200
    assert ocsp.load_der_ocsp_response(answer.content).response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_without_public_url_revoke_does_not_publish(kms_server, client, tmp_path):
    """The default test server has no kms_public_url and no [ocsp]."""
    pki = Pki(client, str(tmp_path))
    public = "%s/public/certificates/%s/crl" % (kms_server.url, pki.ca_id)
    pki.revoke_bad()
    assert requests.get(public, timeout=60).status_code == 404
    signed = requests.get("%s/certificates/%s/crl" % (kms_server.url, pki.ca_id), timeout=60)
    assert signed.status_code == 200
    served = requests.get(public, timeout=60)
    assert served.status_code == 200 and served.content == signed.content
    assert len(list(x509.load_der_x509_crl(served.content))) == 1
    request = ocsp_request(pki, "good")
    assert requests.post(kms_server.url + "/ocsp/", data=request, timeout=60).status_code == 404
    assert requests.get(kms_server.url + "/ocsp/" + base64.urlsafe_b64encode(request).decode(),
                        timeout=60).status_code == 404


def test_crl_needs_crlsign_spelled_the_cosmian_way(client, kms_server, tmp_path):
    key = unique("crl-ca")
    client.call(ops.create_key_pair(private_key_id=key, size=2048))
    with pytest.raises(KmsError, match="HTTP 500"):
        client.call(ops.certify(certificate_id=unique("crl-cacert"), public_key_id=key + "_pk", subject={"CN": "x"},
                                extensions=CA_EXTENSIONS.replace("crlSign", "cRLSign")))
    pki = Pki(client, str(tmp_path), extensions=CA_WITHOUT_CRLSIGN)
    refused = requests.get("%s/certificates/%s/crl" % (kms_server.url, pki.ca_id), timeout=60)
    assert 400 <= refused.status_code < 500 and "cRLSign" in refused.text, refused.text


def _create_token_key(url):
    """An Active AES-256 key whose raw bytes, base64, are the API token (as in test_auth)."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = requests.post(url + "/kmip/2_1", timeout=60, json={"tag": "Create", "value": [
        {"tag": "ObjectType", "type": "Enumeration", "value": "SymmetricKey"},
        {"tag": "Attributes", "value": [
            {"tag": "CryptographicAlgorithm", "type": "Enumeration", "value": "AES"},
            {"tag": "CryptographicLength", "type": "Integer", "value": 256},
            {"tag": "CryptographicUsageMask", "type": "Integer", "value": 12},
            {"tag": "ObjectType", "type": "Enumeration", "value": "SymmetricKey"},
            {"tag": "UniqueIdentifier", "type": "TextString", "value": TOKEN_ID},
            {"tag": "ActivationDate", "type": "DateTime", "value": now}]}]})
    assert created.status_code == 200, created.text
    got = requests.post(url + "/kmip/2_1", timeout=60, json={"tag": "Get", "value": [
        {"tag": "UniqueIdentifier", "type": "TextString", "value": TOKEN_ID},
        {"tag": "KeyFormatType", "type": "Enumeration", "value": "Raw"}]})
    assert got.status_code == 200, got.text
    material = [None]

    def walk(node):
        if isinstance(node, dict):
            if node.get("tag") == "KeyMaterial":
                material[0] = node["value"]
            walk(node.get("value"))
        elif isinstance(node, list):
            for child in node:
                walk(child)
    walk(got.json())
    return base64.b64encode(bytes.fromhex(material[0])).decode("ascii")


def test_restart_keeps_crl_and_ocsp_and_auth_guards_signing():
    """SQLite data folder: after a restart (now with an API token) the public CRL and OCSP
    still answer without credentials; signing a new CRL needs the token."""
    folder = tempfile.mkdtemp(prefix="pkimanager-kms-crl-restart-")
    port = free_port()
    ca_id = unique("crl-ocspca")
    server = KmsServer(folder, port=port, top_level=public_url(port), extra_sections=ocsp_section(ca_id)).start()
    try:
        token = _create_token_key(server.url)
        pki = Pki(KmsClient(KmsTransport(server.url, timeout=60)), folder, ca_cert_id=ca_id)
        pki.revoke_bad()
        public = "%s/public/certificates/%s/crl" % (server.url, ca_id)
        before = requests.get(public, timeout=60).content
        server.stop()
        server = KmsServer(folder, port=port, top_level=public_url(port), extra_sections=ocsp_section(ca_id),
                           http_extra='api_token_id = "%s"\n' % TOKEN_ID).start()
        assert requests.get(public, timeout=60).content == before  # same signed bytes, from the database
        answer = requests.post(server.url + "/ocsp/", data=ocsp_request(pki, "bad"), timeout=60)
        assert ocsp.load_der_ocsp_response(answer.content).certificate_status == ocsp.OCSPCertStatus.REVOKED
        url = "%s/certificates/%s/crl" % (server.url, ca_id)
        assert requests.get(url, timeout=60).status_code == 401
        signed = requests.get(url, headers={"Authorization": "Bearer " + token}, timeout=60)
        assert signed.status_code == 200, signed.text
        assert crl_number(x509.load_der_x509_crl(signed.content)) > crl_number(x509.load_der_x509_crl(before))
        assert requests.get(public, timeout=60).content == signed.content
    finally:
        server.stop()
        cleanup(folder)


def test_crl_section_sets_default_validity(tmp_path):
    """[crl] crl_default_validity_days (a table in kms.toml, not root keys)."""
    folder = str(tmp_path / "srv")
    os.makedirs(folder)
    server = KmsServer(folder, extra_sections="[crl]\ncrl_default_validity_days = 3\n").start()
    try:
        pki = Pki(KmsClient(KmsTransport(server.url, timeout=60)), folder)
        crl = x509.load_der_x509_crl(requests.get("%s/certificates/%s/crl" % (server.url, pki.ca_id), timeout=60).content)
        assert crl.next_update_utc - crl.last_update_utc == datetime.timedelta(days=3)
        assert list(crl) == []  # an empty CRL is signed fine before any revocation
        assert not crl.extensions.get_extension_for_oid(ExtensionOID.CRL_NUMBER).critical
    finally:
        server.stop()


def test_ocsp_delegated_responder_signs(tmp_path):
    """ocsp_responder_cert_uid: a CA-issued certificate with EKU OCSPSigning signs instead
    of the CA (the server warns in its log when id-pkix-ocsp-nocheck is missing)."""
    folder = str(tmp_path / "srv")
    os.makedirs(folder)
    ca_id, responder_id = unique("crl-ocspca"), unique("crl-responder")
    server = KmsServer(folder, extra_sections=ocsp_section(ca_id, 'ocsp_responder_cert_uid = "%s"\n' % responder_id)).start()
    try:
        client = KmsClient(KmsTransport(server.url, timeout=60))
        pki = Pki(client, folder, ca_cert_id=ca_id)
        pki.revoke_bad()
        key = unique("crl-responder-key")
        client.call(ops.create_key_pair(private_key_id=key, key_type="ec", curve="P-256"))
        client.call(ops.certify(certificate_id=responder_id, public_key_id=key + "_pk", subject={"CN": "OCSP responder"},
                                issuer_private_key_id=pki.ca_key, issuer_certificate_id=ca_id,
                                extensions="[v3_ca]\nbasicConstraints=critical,CA:FALSE\n"
                                           "keyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n"))
        answer = requests.post(server.url + "/ocsp/", data=ocsp_request(pki, "bad"), timeout=60)
        response = ocsp.load_der_ocsp_response(answer.content)
        assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
        assert response.responder_name == x509.Name.from_rfc4514_string("CN=OCSP responder")
        response_file = os.path.join(folder, "response.der")
        with open(response_file, "wb") as handle:
            handle.write(answer.content)
        code, text = openssl("ocsp", "-respin", response_file, "-CAfile", pki.ca, "-issuer", pki.ca, "-cert", pki.leaves["bad"])
        assert code == 0 and "Response verify OK" in text and ": revoked" in text, text
    finally:
        server.stop()
