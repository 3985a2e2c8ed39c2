# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PKCS#12 bundles (private key, certificate, chain) written the Ansible way.

A PKCS#12 file differs byte-wise on every build (random salts and IVs), so an existing
file is compared by what it holds: it is loaded with the passphrase, and rewritten only
when that fails or when its key, certificate or chain differ. A file that holds a private
key is mode 0600 (no wider at any moment) unless the task sets ``mode`` (files.py writes it).
Key material never leaves this file: not in a return value, a message or a log.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils.files import write_secret_file


def _passphrase(passphrase):
    return passphrase.encode("utf-8") if passphrase else None


def _contents(key, cert, chain):
    """What a bundle holds, comparably: PKCS#8 DER of the key, DER of the certificate and of the chain."""
    from cryptography.hazmat.primitives import serialization
    der = serialization.Encoding.DER
    key_der = key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()) if key else None
    return key_der, cert.public_bytes(der) if cert else None, [c.public_bytes(der) for c in chain or []]


def held(data, passphrase):
    """(key, certificate, chain) of a PKCS#12 file as DER, or None when it cannot be read with ``passphrase``."""
    from cryptography.hazmat.primitives.serialization import pkcs12
    try:
        return _contents(*pkcs12.load_key_and_certificates(data, _passphrase(passphrase)))
    except Exception:  # pylint: disable=broad-except  # anything unreadable is rewritten
        return None


def build(friendly_name, key_der, cert_der, chain_ders, passphrase):
    """The PKCS#12 bytes of a private key (PKCS#8 DER), its certificate and the issuer chain.

    With a passphrase the key and certificates are encrypted (the strongest encryption this
    cryptography offers: AES-256-CBC with PBKDF2 since 38) and the file has a MAC; without
    one nothing is encrypted.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    key = serialization.load_der_private_key(key_der, None)
    protection = serialization.BestAvailableEncryption(_passphrase(passphrase)) if passphrase else \
        serialization.NoEncryption()
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8"), key, x509.load_der_x509_certificate(cert_der),
        [x509.load_der_x509_certificate(der) for der in chain_ders] or None, protection)


def holds(data, passphrase, key_der, cert_der, chain_ders):
    """Whether the PKCS#12 ``data`` holds exactly this key, certificate and chain, protected by ``passphrase``."""
    if passphrase and held(data, None) is not None:  # readable without the passphrase: not protected by it
        return False
    return held(data, passphrase) == (key_der, cert_der, list(chain_ders))


def ensure_file(module, path, option, friendly_name, key_der, cert_der, chain_ders, passphrase):
    """Make ``path`` hold this bundle; True when anything changed (or would, in check mode).

    The bundle is only built when the file is written; :func:`files.write_secret_file`
    keeps it 0600 on the way and applies the task's file attributes (mode 0600 by default).
    """
    return write_secret_file(module, path, lambda: build(friendly_name, key_der, cert_der, chain_ders, passphrase),
                             option, same=lambda existing: holds(existing, passphrase, key_der, cert_der, chain_ders))
