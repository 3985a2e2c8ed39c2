# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An issuer's days left, as a task sees them: once, whatever the clock does meanwhile."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.pkimanager.kms.plugins.module_utils import issuers
from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

ISSUED = datetime.datetime(2026, 12, 3, 7, 29, 9, tzinfo=datetime.timezone.utc)


def root_of_90_days():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "root")])
    return x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(
        1).not_valid_before(ISSUED).not_valid_after(ISSUED + datetime.timedelta(days=90)).add_extension(
        x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256())


def test_an_issuers_days_left_are_read_once_per_task(monkeypatch):
    """A leaf issued in the second its root was: the default validity (90 days, the root's
    days left then) is checked a second later, when the root has 89 whole days left."""
    issuer = object.__new__(issuers.Issuer)  # no KMS: only the certificate and the clock matter
    issuer.name, issuer.certificate, issuer.path_length, issuer._days_left = "root", root_of_90_days(), None, None
    ticks = iter([ISSUED, ISSUED + datetime.timedelta(seconds=1)])
    monkeypatch.setattr(ops, "utc_now", lambda: next(ticks))
    assert issuer.days_left() == 90
    assert issuer.days_left() == 90  # not 89: the task's answer stays what it was
