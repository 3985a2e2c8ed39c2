# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only inventory of the X.509 certificates in the KMS (module kms_certificate_info).

Checked on Cosmian KMS 5.28:

- Locate with ObjectType Certificate ANDs the tags and filters on State; without a State it
  answers the certificates that are not destroyed, revoked ones included. It only answers
  the caller's own objects (and those shared with it).
- A revoked certificate (Deactivated, Compromised) cannot be read back by Get: it is
  reported from its attributes alone, ``revoked`` true and no X.509 facts. Only live
  certificates (PreActive, Active) are read.

``days_left`` is the number of whole days from now (UTC) to notAfter, rounded down (negative
once expired). ``expiring_within_days`` N keeps the live certificates whose notAfter is at most
N days from now, the expired ones included; revoked certificates are never in it (they are
out of service and their notAfter cannot be read).

Nothing here reads key material: attributes, and the certificate itself. Errors are raised
(KmsError, TaskError); the module file turns them into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.keys import selection_problems
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import cryptography_problem
from ansible_collections.pkimanager.kms.plugins.module_utils.x509 import facts
from ansible_collections.pkimanager.kms.plugins.module_utils.x509_urls import URL_OPTIONS

OBJECT_TYPE = "Certificate"
ENTITY_TYPE = "certificate"
STATES = ops.ACTIVE_STATES + ops.REVOKED_STATES + ops.DESTROYED_STATES
# Every entry has every field (None where it does not apply), in this order.
FIELDS = ("id", "name", "state", "revoked", "tags", "subject", "issuer", "serial_number", "subject_alt_names",
          "not_before", "not_after", "days_left", "expired", "key_type", "signature_algorithm", "ca",
          "fingerprint_sha256", "public_key_id", "issuer_certificate_id", "activation_date", "initial_date",
          "deactivation_date") + tuple(URL_OPTIONS)
# The fields taken as they are from :func:`x509.facts` (never its ``pem``).
X509_FACTS = ("subject", "issuer", "serial_number", "subject_alt_names", "not_before", "not_after",
              "signature_algorithm", "fingerprint_sha256") + tuple(URL_OPTIONS)
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# What Cosmian 5.28 answers a Get of a certificate revoked (or destroyed) since its attributes were read.
UNREADABLE = ("Wrong_Key_Lifecycle_State", "Object_Destroyed")


def argument_spec():
    """The options of kms_certificate_info besides the connection and audit ones."""
    return dict(
        name=dict(type="str"),
        tags=dict(type="list", elements="str"),
        state=dict(type="str", choices=list(STATES)),
        expiring_within_days=dict(type="int"),
    )


def validate(params):
    """Why the filters cannot be used (before any KMS call); empty when they can."""
    problems = selection_problems(params)
    days = params.get("expiring_within_days")
    if days is not None and days < 0:
        problems.append("expiring_within_days must be 0 or more, got %d" % days)
    missing = cryptography_problem()
    if missing:
        problems.append(missing)
    return problems


def is_revoked(state):
    """Whether a certificate in this KMIP state is out of service (revoked, or destroyed since)."""
    return state not in ops.ACTIVE_STATES


def readable(attrs):
    """Whether the certificate can be read back (Get): a live one."""
    return attrs["state"] in ops.ACTIVE_STATES


def matches(attrs, params):
    """Whether an object with these attributes (:func:`operations.parse_attributes`) is a
    certificate the name, tags and state filters select. Without a ``state`` filter,
    destroyed certificates are not."""
    if attrs["object_type"] != OBJECT_TYPE:
        return False
    state = params.get("state")
    if (state is None and attrs["state"] in ops.DESTROYED_STATES) or state not in (None, attrs["state"]):
        return False
    return set(params.get("tags") or ()) <= set(attrs["tags"])


def days_left(not_after, now):
    """Whole days from ``now`` to ``not_after`` (ISO 8601 UTC), rounded down; None without a date."""
    if not not_after:
        return None
    end = datetime.datetime.strptime(not_after, _DATE_FORMAT).replace(tzinfo=datetime.timezone.utc)
    return (end - now).days


def expiring(item, within_days, now):
    """Whether an entry belongs to ``expiring_within_days``: a live certificate whose notAfter is
    at most ``within_days`` days from ``now`` (expired ones included)."""
    if item["revoked"] or not item["not_after"]:
        return False
    end = datetime.datetime.strptime(item["not_after"], _DATE_FORMAT).replace(tzinfo=datetime.timezone.utc)
    return end <= now + datetime.timedelta(days=within_days)


def entry(object_id, attrs, now, der=None):
    """One element of ``kms_certificates``: the attributes, and the X.509 facts when ``der`` is given."""
    values = dict.fromkeys(FIELDS)
    values.update({
        "id": object_id, "name": object_id, "state": attrs["state"], "revoked": is_revoked(attrs["state"]),
        "tags": list(attrs["tags"]), "public_key_id": attrs["links"].get("PublicKeyLink"),
        "issuer_certificate_id": attrs["links"].get("CertificateLink"),
        "activation_date": ops.iso_utc(attrs["activation_date"]), "initial_date": ops.iso_utc(attrs["initial_date"]),
        "deactivation_date": ops.iso_utc(attrs["deactivation_date"]),
    })
    if der is not None:
        shown = facts(der)
        constraints = shown.get("basic_constraints") or {}
        values.update((field, shown.get(field)) for field in X509_FACTS)
        values["key_type"] = shown.get("public_key_type")
        values["ca"] = bool(constraints.get("ca"))
        values["days_left"] = days_left(values["not_after"], now)
        values["expired"] = values["days_left"] is not None and values["days_left"] < 0
    return dict((field, values[field]) for field in FIELDS)


def selected(entries, params, now):
    """``kms_certificates`` as returned: one entry per id, sorted by id, only the expiring ones
    when ``expiring_within_days`` is set."""
    unique = dict((item["id"], item) for item in entries)
    within = params.get("expiring_within_days")
    return [unique[key] for key in sorted(unique) if within is None or expiring(unique[key], within, now)]


class CertificateInfo:
    """The certificates ``params`` select, read through ``kms`` (a KmsModule: ``call``/``call_or_none``)."""

    def __init__(self, kms, params, now=None):
        self.kms = kms
        self.params = params
        self.now = now or ops.utc_now()

    def candidates(self):
        """Ids that may match: the named object, or what Locate finds by object type, tags and state."""
        if self.params.get("name") is not None:
            return [self.params["name"]]
        return sorted(set(self.kms.call(ops.locate(object_type=OBJECT_TYPE, tags=self.params.get("tags") or (),
                                                   state=self.params.get("state")))))

    def attributes(self, object_id):
        """The object's attributes, or None when it is gone or not a certificate the filters select."""
        # An object destroyed and removed since Locate found it is simply no longer there.
        attrs = self.kms.call_or_none(ops.get_attributes(object_id), entity_type=ENTITY_TYPE)
        return attrs if attrs is not None and matches(attrs, self.params) else None

    def read(self, object_id):
        """The certificate's DER, or None when it can no longer be read (revoked, destroyed or removed
        since its attributes were read). Anything else (no answer, no permission) fails."""
        try:
            cert = self.kms.call_or_none(ops.get_certificate(object_id), entity_type=ENTITY_TYPE)
        except KmsError as error:
            if error.reason in UNREADABLE:
                return None
            raise
        return cert["der"] if cert else None

    def certificates(self):
        entries = []
        for object_id in self.candidates():
            attrs = self.attributes(object_id)
            der = self.read(object_id) if attrs is not None and readable(attrs) else None
            if der is None and attrs is not None and readable(attrs):
                # Revoked or destroyed in between: reported as it is now, from its attributes.
                attrs = self.attributes(object_id)
            if attrs is not None:
                entries.append(entry(object_id, attrs, self.now, der))
        return selected(entries, self.params, self.now)

    def run(self):
        """The module's result: it reads only, in check mode as in a real run."""
        return {"changed": False, "kms_certificates": self.certificates()}
