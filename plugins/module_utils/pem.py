# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PEM wrapping and fingerprints: the KMS answers in DER, users want PEM."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib


def der_to_pem(label, der):
    """PEM text (64-column base64) of DER bytes under ``label``, e.g. ``CERTIFICATE``."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


def fingerprint_sha256(der):
    """Colon-separated uppercase SHA-256 of DER bytes, as ``openssl -fingerprint`` prints it."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def cryptography_problem():
    """Why ``cryptography`` cannot be used here, or None (checked before any KMS call by the
    modules that need it; this file and x509.py import it only inside functions)."""
    try:
        from cryptography import x509  # noqa: F401  pylint: disable=unused-import
    except ImportError as exc:
        return "the Python library cryptography is required on the managed node (%s)" % exc
    return None


def private_key_pem(der, passphrase=None):
    """PKCS#8 PEM of a private key given as PKCS#8 DER, encrypted when a passphrase is given."""
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_der_private_key(der, password=None)
    encryption = (serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def holds_private_key(data, passphrase, spki_der):
    """True when ``data`` is a PEM private key, opened by ``passphrase`` (or unencrypted when
    None), whose public key is ``spki_der``."""
    from cryptography.hazmat.primitives import serialization
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode("utf-8") if passphrase else None)
    except Exception:  # pylint: disable=broad-except  # wrong passphrase, not a key, unsupported type
        return False
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public == spki_der
