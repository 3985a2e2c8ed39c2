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
