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


# The outline of each kind of DER the KMS hands out, as the universal tags of the outer
# SEQUENCE's first elements: enough to tell a key or certificate from anything else
# without importing cryptography (a tenth of a second per task) on the paths that only
# pass the bytes on.
_SEQUENCE, _INTEGER, _BIT_STRING, _OCTET_STRING = 0x30, 0x02, 0x03, 0x04
DER_OUTLINES = {
    "public_key": (_SEQUENCE, _BIT_STRING),  # SubjectPublicKeyInfo: algorithm, key
    "private_key": (_INTEGER, _SEQUENCE, _OCTET_STRING),  # PKCS#8: version, algorithm, key
    "certificate": (_SEQUENCE, _SEQUENCE, _BIT_STRING),  # to-be-signed, algorithm, signature
}


def _der_elements(der):
    """The ``(tag, content)`` pairs that ``der`` is made of, in order; ValueError when a
    length is indefinite, longer than 4 bytes or runs past the end."""
    elements, offset = [], 0
    while offset < len(der):
        if offset + 2 > len(der):
            raise ValueError("truncated element at byte %d" % offset)
        tag, length = der[offset], der[offset + 1]
        offset += 2
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 4 or offset + count > len(der):
                raise ValueError("bad length at byte %d" % (offset - 1))
            length = int.from_bytes(der[offset:offset + count], "big")
            offset += count
        if offset + length > len(der):
            raise ValueError("element at byte %d runs past the end" % offset)
        elements.append((tag, der[offset:offset + length]))
        offset += length
    return elements


def der_problem(kind, der):
    """Why ``der`` is not the outline of a ``kind`` (a key of DER_OUTLINES), or None."""
    try:
        outer = _der_elements(der)
        if len(outer) != 1 or outer[0][0] != _SEQUENCE:
            return "not one DER SEQUENCE"
        tags = tuple(tag for tag, content in _der_elements(outer[0][1]))
    except ValueError as exc:
        return str(exc)
    expected = DER_OUTLINES[kind]
    if tags[:len(expected)] != expected:
        return "not the outline of a %s" % kind.replace("_", " ")
    return None


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
