"""JWT (OIDC bearer token) authentication against the real server.

A tiny identity provider on 127.0.0.1 publishes a JWKS over HTTPS (the server refuses a
plain-http JWKS URI), under a throw-away CA the server trusts through SSL_CERT_FILE; the
server is configured with ``[idp_auth] jwt_auth_provider`` pointing at it, exactly as a
user would point it at their IdP. Tokens are minted here with ``cryptography`` (RS256), so
the server's whole validation path (signature through the JWKS, issuer, audience, expiry)
is what the tests exercise.
"""

import base64
import json
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from kms_checks import check_bearer_credential
from kms_server import KmsServer, cleanup
from throwaway_pki import issue

AUDIENCE = "pkimanager-kms"
KEY_ID = "test-signing-key"


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(number):
    return _b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class IdentityProvider:
    """Serves ``/.well-known/jwks.json`` over HTTPS on 127.0.0.1 and signs tokens with its key."""

    def __init__(self, tls_cert, tls_key):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.key.public_key().public_numbers()
        jwks = json.dumps({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID,
                                     "n": _int_b64url(numbers.n), "e": _int_b64url(numbers.e)}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                found = self.path == "/.well-known/jwks.json"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(jwks if found else b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.issuer = "https://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, email, audience=AUDIENCE, lifetime=600, key=None, issuer=None):
        """An RS256 JWT for ``email``; ``key`` signs it instead of the published one."""
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
        claims = {"iss": issuer or self.issuer, "sub": email, "email": email, "aud": audience,
                  "iat": now, "exp": now + lifetime}
        signing_input = "%s.%s" % (_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()))
        signature = (key or self.key).sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return "%s.%s" % (signing_input, _b64url(signature))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def jwt_server():
    """A server that accepts only JWTs of the local identity provider, for one audience."""
    folder = tempfile.mkdtemp(prefix="pkimanager-kms-jwt-")
    ca = issue(folder, "idp-ca", "Test IdP CA", ca=True)
    idp_tls = issue(folder, "idp", "127.0.0.1", issuer=ca, server=True)
    idp = IdentityProvider(idp_tls[0], idp_tls[1])
    server = KmsServer(folder, env={"SSL_CERT_FILE": ca[0]},
                       extra_sections='[idp_auth]\njwt_auth_provider = ["%s,,%s"]\n' % (idp.issuer, AUDIENCE))
    try:
        server.start()
        yield server, idp
    finally:
        server.stop()
        idp.close()
        cleanup(folder)


def _client(server, token):
    return KmsClient(KmsTransport(server.url, api_key=token, retries=1))


def test_modules_authenticate_with_a_jwt_that_stays_secret(jwt_server, tmp_path):
    server, idp = jwt_server
    check_bearer_credential(server.url, idp.token("alice@example.com"), str(tmp_path), "jwt-pair")


@pytest.mark.parametrize("case", ["expired", "foreign_key", "wrong_audience", "wrong_issuer"])
def test_the_server_refuses_tokens_it_cannot_trust(jwt_server, case):
    server, idp = jwt_server
    token = {
        "expired": lambda: idp.token("alice@example.com", lifetime=-3600),
        "foreign_key": lambda: idp.token("alice@example.com",
                                         key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "wrong_audience": lambda: idp.token("alice@example.com", audience="someone-else"),
        "wrong_issuer": lambda: idp.token("alice@example.com", issuer="https://127.0.0.1:1"),
    }[case]()
    with pytest.raises(KmsError) as caught:
        _client(server, token).call(ops.locate(object_type="PrivateKey"))
    assert caught.value.status == 401 and caught.value.reason == "Authentication_Not_Successful"
    assert token not in str(caught.value) and token not in repr(caught.value)


def test_objects_belong_to_the_token_email(jwt_server):
    """The JWT's email is the owner: another user's token neither sees nor reads the pair."""
    server, idp = jwt_server
    alice = _client(server, idp.token("alice@example.com"))
    alice.call(ops.create_key_pair(2048, private_key_id="jwt-owned", tags=["jwt-owned"]))
    assert "jwt-owned" in alice.call(ops.locate(object_type="PrivateKey", tags=["jwt-owned"]))
    bob = _client(server, idp.token("bob@example.com"))
    assert bob.call(ops.locate(object_type="PrivateKey", tags=["jwt-owned"])) == []
    with pytest.raises(KmsError) as caught:
        bob.call(ops.get_attributes("jwt-owned"))
    assert caught.value.reason in ("Object_Not_Found", "Permission_Denied"), repr(caught.value)
