# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kms_crl: the CRL of a CA held in the KMS, signed by the KMS and written to a file only
when its content changed.

Cosmian KMS 5.28 signs a fresh CRL (new CRL Number, new bytes) on every
``GET /certificates/{id}/crl`` (authenticated like /kmip) and stores it; the unauthenticated
``GET /public/certificates/{id}/crl`` serves the last one stored (DER), 404 before the first.
So a run always signs (the stored public CRL changes with it), but ``dest`` is rewritten
only when the file's CRL differs in what matters (:func:`refresh_reason`): the issuer, the
signature, the set of (serial, reason, revocation date), or a nextUpdate closer than
``refresh_before_hours``. Check mode signs nothing: it compares with the public CRL.

Every HTTP call leaves an audit record (``kms.crl_sign``, ``kms.crl_fetch``), failures too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib

from urllib.parse import quote

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditError
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError, TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.files import destination_problem, read_file, write_public_file

SIGN = "kms.crl_sign"
FETCH = "kms.crl_fetch"
FORMATS = ("pem", "der")
MAX_VALIDITY_DAYS = 3650


def argument_spec():
    return dict(
        issuer=dict(type="str", required=True),
        dest=dict(type="path", required=True),
        format=dict(type="str", default="pem", choices=list(FORMATS)),
        validity_days=dict(type="int", default=7),
        refresh_before_hours=dict(type="int", default=24),
    )


def validate(params):
    """Problems with the options, found before any KMS call."""
    problems = []
    if not (params.get("issuer") or "").strip():
        problems.append("issuer must name the CA certificate")
    days = params.get("validity_days")
    if days is not None and not 1 <= days <= MAX_VALIDITY_DAYS:
        problems.append("validity_days must be between 1 and %d, got %d" % (MAX_VALIDITY_DAYS, days))
    hours = params.get("refresh_before_hours")
    if hours is not None and hours < 0:
        problems.append("refresh_before_hours must not be negative, got %d" % hours)
    if days is not None and hours is not None and 1 <= days and hours >= days * 24:
        problems.append("refresh_before_hours (%d) must be shorter than validity_days (%d days): every run "
                        "would find the CRL due" % (hours, days))
    if params.get("dest"):
        problem = destination_problem("dest", params["dest"])
        if problem:
            problems.append(problem)
    return problems


def load_crl(data):
    """The CRL in ``data`` (PEM or DER), or None when it is not one."""
    from cryptography import x509
    if not data:
        return None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        return None


def encode(crl, fmt):
    from cryptography.hazmat.primitives import serialization
    return crl.public_bytes(serialization.Encoding.PEM if fmt == "pem" else serialization.Encoding.DER)


def _utc(crl, name):
    """``last_update`` / ``next_update`` as an aware UTC datetime (cryptography 42+ or older)."""
    value = getattr(crl, name + "_utc", None)
    if value is None and not hasattr(crl, name + "_utc"):
        value = getattr(crl, name)
        if value is not None:
            value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def _iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _revocation_date(entry):
    value = getattr(entry, "revocation_date_utc", None)
    if value is None:
        value = entry.revocation_date.replace(tzinfo=datetime.timezone.utc)
    return value


def entries(crl):
    """The revoked set of ``crl``: a frozenset of (serial, reason name or None, ISO revocation date)."""
    from cryptography import x509
    found = set()
    for entry in crl:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
        except x509.ExtensionNotFound:
            reason = None
        found.add((entry.serial_number, reason, _iso(_revocation_date(entry))))
    return frozenset(found)


def crl_number(crl):
    from cryptography import x509
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None


def facts(crl):
    """What the module returns about ``crl``."""
    if crl is None:
        return dict(crl_number=None, this_update=None, next_update=None, revoked_count=None)
    number = crl_number(crl)
    return dict(crl_number=number, this_update=_iso(_utc(crl, "last_update")),
                next_update=_iso(_utc(crl, "next_update")), revoked_count=len(crl))


def signed_by(crl, ca_cert):
    """True when ``ca_cert`` issued ``crl``: same name, and the signature verifies with its key."""
    if crl.issuer != ca_cert.subject:
        return False
    try:
        return bool(crl.is_signature_valid(ca_cert.public_key()))
    except (TypeError, ValueError):
        return False


def refresh_reason(existing, candidate_entries, ca_cert, now, refresh_before_hours):
    """Why the CRL ``existing`` (None: no readable CRL in the file) must be replaced by one
    whose revoked set is ``candidate_entries``; None when it need not be."""
    if existing is None:
        return "dest holds no CRL"
    if not signed_by(existing, ca_cert):
        return "the CRL in dest is not signed by the issuer"
    if entries(existing) != candidate_entries:
        return "the revoked certificates differ"
    next_update = _utc(existing, "next_update")
    if next_update is None:
        return "the CRL in dest has no nextUpdate"
    if next_update - now <= datetime.timedelta(hours=refresh_before_hours):
        return "the CRL in dest is due for refresh (nextUpdate %s)" % _iso(next_update)
    return None


class Crl:
    """One kms_crl run (``module`` is a KmsModule)."""

    def __init__(self, module, params):
        self.module = module
        self.params = params
        self.issuer = params["issuer"]

    def run(self):
        from cryptography import x509
        ca = self.module.call_or_none(ops.get_certificate(self.issuer), "certificate")
        if ca is None:
            raise TaskError("issuer %s: the KMS holds no certificate with this id" % self.issuer)
        ca_cert = x509.load_der_x509_certificate(ca["der"])
        current = read_file(self.params["dest"])
        existing = load_crl(current)
        now = datetime.datetime.now(datetime.timezone.utc)
        path = "certificates/%s/crl" % quote(self.issuer, safe="")
        if self.module.check_mode:
            candidate = self._http(FETCH, "public/" + path, None)
        else:
            candidate = self._http(SIGN, path, {"format": "der", "validity_days": str(self.params["validity_days"])})
        if candidate is not None and not signed_by(candidate, ca_cert):
            raise TaskError("the CRL the KMS %s for %s does not verify against the issuer's certificate "
                            "(issuer name or signature)" % ("serves" if self.module.check_mode else "signed",
                                                            self.issuer))
        if candidate is None:
            reason = "the KMS has no CRL stored for this issuer yet"
        elif existing is not None and _format_of(current) != self.params["format"]:
            reason = "dest holds the CRL in %s, not %s" % (_format_of(current).upper(), self.params["format"].upper())
        else:
            reason = refresh_reason(existing, entries(candidate), ca_cert, now, self.params["refresh_before_hours"])
        data = encode(candidate, self.params["format"]) if candidate is not None else b""
        changed = write_public_file(self.module, self.params["dest"], data, "dest", same=_Same(reason is None))
        shown = existing if reason is None else candidate
        result = dict(facts(shown), changed=changed, dest=self.params["dest"], issuer=self.issuer,
                      refresh_reason=reason)
        return result

    def _http(self, operation, path, params):
        """The CRL of one GET, audited; None when the public endpoint has none yet (404)."""
        transport = self.module.client.transport  # the client first proves the audit store writable
        details = {"path": "/" + path, "params": params}
        try:
            data = transport.get_bytes(path, operation, params=params, object_id=self.issuer)
        except KmsError as error:
            missing = operation == FETCH and error.status == 404
            details.update(reason=error.reason, message=error.message, http_status=error.status,
                           attempts=error.attempts)
            self._record(operation, "not_found" if missing else "failure", details)
            if missing:
                return None
            raise
        crl = load_crl(data)
        details.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        if crl is None:
            details.update(reason="Invalid_Response", message="the answer is not a CRL")
            self._record(operation, "failure", details)
            raise KmsError("the KMS answered %s with %d bytes that are not a CRL" % (details["path"], len(data)),
                           reason="Invalid_Response", operation=operation, object_id=self.issuer)
        details.update(facts(crl))
        self._record(operation, "success", details)
        return crl

    def _record(self, operation, status, details):
        """One audit record of an HTTP call, naming the node that served it."""
        try:
            self.module.audit.record(operation=operation, entity_type="certificate", entity_id=self.issuer,
                                     status=status, details=details,
                                     kms_url=self.module.client.transport.last_url)
        except AuditError as exc:
            raise AuditError("%s of %s reached the KMS, but its audit record could not be written: %s"
                             % (operation, self.issuer, exc))


class _Same:
    """``same`` of files.write_public_file: the decision taken on the parsed CRLs."""

    def __init__(self, unchanged):
        self.unchanged = unchanged

    def __call__(self, existing):
        return self.unchanged


def _format_of(data):
    return "pem" if data and data.lstrip().startswith(b"-----BEGIN") else "der"
