# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMIP 2.1 operations as Cosmian KMS accepts them: one builder per operation.

Each function returns an :class:`Operation`: the request payload (a TTLV Structure) and
the function that turns the response payload into plain Python data. Nothing here does
I/O, so a module can send one operation or batch several in one round trip
(:mod:`client`). Wire details were checked against the real server (see the tests in
``tests/integration``); the comments say where Cosmian differs from the KMIP spec.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.pkimanager.kms.plugins.module_utils import key_specs, ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.kmip_attributes import (  # noqa: F401  pylint: disable=W0611
    ATTRIBUTE_REFERENCES, VENDOR_ID, link, parse_attributes, tags_attribute, vendor_attribute)
from ansible_collections.pkimanager.kms.plugins.module_utils.key_specs import (  # noqa: F401  pylint: disable=W0611
    KEY_TYPES, PRIVATE_RSA_USAGE, PUBLIC_RSA_USAGE, RSA_SIZES)
from ansible_collections.pkimanager.kms.plugins.module_utils.kmip_operation import (  # noqa: F401  pylint: disable=W0611
    Operation, _check_id, _parse_uid, _uid)
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import der_problem, der_to_pem

# KMIP object states: usable (Certify and Sign need Active), and revoked.
ACTIVE_STATES = ("PreActive", "Active")
REVOKED_STATES = ("Deactivated", "Compromised")
DESTROYED_STATES = ("Destroyed", "Destroyed_Compromised")
REVOCATION_REASONS = ("Unspecified", "KeyCompromise", "CACompromise", "AffiliationChanged",
                      "Superseded", "CessationOfOperation", "PrivilegeWithdrawn")
# Subject fields of a Certify request: KMIP names in Cosmian's spelling (serde PascalCase of
# certificate_subject_cn etc., so "CertificateSubjectCn", not "...CN"); all 24 are required.
SUBJECT_FIELDS = ("CN", "O", "OU", "emailAddress", "C", "ST", "L")
_DN_PARTS = ("Cn", "O", "Ou", "Email", "C", "St", "L", "Uid", "SerialNumber", "Title", "Dc",
             "DnQualifier")
_SUBJECT_TO_PART = {"CN": "Cn", "O": "O", "OU": "Ou", "emailAddress": "Email", "C": "C",
                    "ST": "St", "L": "L"}


# -- shared pieces ---------------------------------------------------------------------

# The stable names modules give objects (used as their unique identifiers): safe in URLs,
# file names and tags, and never a JSON tag array, which the server would resolve as tags.
# Used with fullmatch: "$" would also accept a trailing newline.
OBJECT_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")


def object_name_problem(name):
    """Why ``name`` cannot be an object's stable name, or None when it can."""
    if isinstance(name, str) and OBJECT_NAME_PATTERN.fullmatch(name):
        return None
    return ("name must be 1 to 128 characters from A-Z a-z 0-9 . _ - : @, starting with a letter or digit, "
            "got %r" % (name,))


def iso_utc(moment):
    """A DateTime as modules return it: ISO 8601 UTC to the second, or None."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def activated_since(attributes, moment):
    """Whether the object was activated at ``moment`` (a request's ActivationDate, to the
    second) or later. Cosmian 5.28 stores its own time when it creates the object, not the
    ActivationDate a create carries: an object the request made was activated no earlier
    than the request was built (later by the key generation and the way there), while one
    another run made before it was activated earlier."""
    return attributes.get("activation_date") is not None and attributes["activation_date"] >= moment


# -- key pairs -------------------------------------------------------------------------

def create_key_pair(size=None, private_key_id=None, tags=(), activate=True, key_type="rsa", curve=None,
                    exportable=False):
    """CreateKeyPair: returns dict(private_key_id, public_key_id).

    ``key_type`` is rsa (``size`` 2048, 3072 or 4096), ec (``curve`` P-256, P-384, P-521,
    P-224 or secp256k1), ed25519 or ed448 (see :mod:`key_specs`). Unless ``exportable``, the
    private key is Sensitive: the server then refuses Get/Export of it (reason Sensitive),
    while Certify and Sign still use it. (The server's own default is exportable.)

    ``private_key_id`` makes the server use that id, and refuse a second pair with it,
    which is what makes concurrent creation by name race-safe. With ``activate`` the keys
    are created Active (ActivationDate = now) instead of PreActive.

    With a ``private_key_id``, a retry whose first attempt did create the pair (its answer
    lost) is refused with Object_Already_Exists; the client then settles it when the pair of
    that id is the one this request describes: this type and size or curve, these tags,
    this exportability, and activated no earlier than this request was built (or
    PreActive when not activating; see ``activated_since``). A pair another run created
    earlier was activated earlier, or is not retried at all.
    """
    spec = key_specs.key_pair_spec(key_type, size, curve)
    activation = utc_now() if activate else None
    when = [ttlv.date_time("ActivationDate", activation)] if activate else []
    common = ttlv.structure("CommonAttributes", key_specs.common_attribute_nodes(spec) + [tags_attribute(tags)] + when)
    # Sensitive belongs to the private key only: in CommonAttributes it makes the public key
    # Sensitive too, and its Get fails.
    private = ttlv.structure("PrivateKeyAttributes", [
        ttlv.integer("CryptographicUsageMask", spec["private_usage"]),
        ttlv.enumeration("ObjectType", "PrivateKey"),
        ttlv.boolean("Sensitive", not exportable),
        _uid(private_key_id) if private_key_id else None] + when)
    public = ttlv.structure("PublicKeyAttributes", [
        ttlv.integer("CryptographicUsageMask", spec["public_usage"]),
        ttlv.enumeration("ObjectType", "PublicKey")] + when)

    def parse(payload):
        return {"private_key_id": payload.require("PrivateKeyUniqueIdentifier", types=ttlv.TEXT_STRING).value,
                "public_key_id": payload.require("PublicKeyUniqueIdentifier", types=ttlv.TEXT_STRING).value}

    def achieved(attributes):
        if attributes is None:
            return False
        described = key_specs.describe(attributes.get("algorithm"), attributes.get("length"),
                                       attributes.get("recommended_curve"), attributes.get("sensitive"),
                                       attributes.get("extractable"))
        described.update((key, attributes[key]) for key in list(described) if key in attributes)
        return (attributes["object_type"] == "PrivateKey"
                and described["key_type"] == spec["key_type"] and described["size"] == spec["size"]
                and described["curve"] == spec["curve"] and described["exportable"] in (None, exportable)
                and attributes["tags"] == sorted(set(tags)) and bool(attributes["links"].get("PublicKeyLink"))
                and (activated_since(attributes, activation) if activate else attributes["state"] == "PreActive"))

    def settled_result(attributes):
        return {"private_key_id": private_key_id, "public_key_id": attributes["links"]["PublicKeyLink"]}
    return Operation("CreateKeyPair", [common, private, public], parse, private_key_id, "key_pair",
                     achieved=achieved if private_key_id else None, settled_result=settled_result)


def create_symmetric_key(algorithm="AES", length=256, unique_identifier=None, tags=(), activate=True,
                         exportable=False):
    """Create a symmetric key (AES 128/192/256 or ChaCha20 256): returns its id.

    Usable to Encrypt/Decrypt and wrap keys; unless ``exportable`` it is Sensitive (Get and
    Export of it refused, encryption with it still works).
    """
    algorithm, length = key_specs.symmetric_spec(algorithm, length)
    activation = utc_now() if activate else None
    attrs = [ttlv.enumeration("CryptographicAlgorithm", algorithm), ttlv.integer("CryptographicLength", length),
             ttlv.integer("CryptographicUsageMask", key_specs.SYMMETRIC_USAGE),
             ttlv.enumeration("ObjectType", "SymmetricKey"), ttlv.boolean("Sensitive", not exportable),
             _uid(unique_identifier) if unique_identifier else None, tags_attribute(tags),
             ttlv.date_time("ActivationDate", activation) if activate else None]

    def achieved(attributes):
        return (attributes is not None and attributes["object_type"] == "SymmetricKey"
                and attributes["algorithm"] == algorithm and attributes["length"] == length
                and attributes.get("exportable") in (None, exportable) and attributes["tags"] == sorted(set(tags))
                and (activated_since(attributes, activation) if activate else attributes["state"] == "PreActive"))
    return Operation("Create", [ttlv.enumeration("ObjectType", "SymmetricKey"), ttlv.structure("Attributes", attrs)],
                     _parse_uid, unique_identifier, "symmetric_key", achieved=achieved if unique_identifier else None)


def activate(object_id):
    """Activate a PreActive object (Certify and Sign need Active keys)."""
    return Operation("Activate", [_uid(_check_id(object_id))], _parse_uid, object_id,
                     achieved=lambda attributes: attributes is not None and attributes["state"] == "Active")


# -- reading objects -------------------------------------------------------------------

def _key_material(payload, object_type, what):
    """The KeyMaterial bytes of the ``object_type`` key a Get answered, or TTLVError."""
    if payload.get("ObjectType") not in (None, object_type):
        raise ttlv.TTLVError("the object is a %.80r, not a %s" % (payload.get("ObjectType"), what))
    key = payload.require("Object") if payload.find("Object") else payload.require(object_type)
    material = key.path("KeyBlock", "KeyValue", "KeyMaterial")
    if material is None or material.type != ttlv.BYTE_STRING:
        raise ttlv.TTLVError("%s has no KeyBlock/KeyValue/KeyMaterial bytes" % key.tag)
    return material.value


def _get_pkcs8(object_id, object_type, what, label, entity_type):
    """Get a key in KeyFormatType PKCS8 (SPKI DER for a public key, PKCS#8 DER for a private one)."""
    def parse(payload):
        der = _checked_der(entity_type, _key_material(payload, object_type, what))
        return {"object_id": payload.get("UniqueIdentifier", types=ttlv.TEXT_STRING), "der": der,
                "pem": der_to_pem(label, der)}
    return Operation("Get", [_uid(_check_id(object_id)), ttlv.enumeration("KeyFormatType", "PKCS8")],
                     parse, object_id, entity_type)


def get_public_key(object_id):
    """Get a public key as PEM SubjectPublicKeyInfo (KeyFormatType PKCS8 gives SPKI DER); any key type."""
    return _get_pkcs8(object_id, "PublicKey", "public key", "PUBLIC KEY", "public_key")


def get_private_key(object_id):
    """Get a private key as unencrypted PKCS#8 (DER, and PEM ``PRIVATE KEY``); any key type.

    The server refuses it for a Sensitive key (reason Sensitive) or one not Extractable
    (Not_Extractable), and for a revoked key. The result holds key material: keep it out
    of logs (the audit trail drops ``der``/``pem``).
    """
    return _get_pkcs8(object_id, "PrivateKey", "private key", "PRIVATE KEY", "private_key")


def get_symmetric_key(object_id):
    """Get a symmetric key's bytes (KeyFormatType Raw); refused like :func:`get_private_key`.
    The result holds key material (``key``, bytes, which the audit trail drops)."""
    def parse(payload):
        return {"object_id": payload.get("UniqueIdentifier", types=ttlv.TEXT_STRING),
                "key": _key_material(payload, "SymmetricKey", "symmetric key")}
    return Operation("Get", [_uid(_check_id(object_id)), ttlv.enumeration("KeyFormatType", "Raw")],
                     parse, object_id, "symmetric_key")


def get_certificate(object_id):
    """Get an X.509 certificate as PEM."""
    def parse(payload):
        cert = payload.find("Object") or payload.require("Certificate")
        der = _checked_der("certificate", cert.require("CertificateValue").value)
        return {"object_id": payload.get("UniqueIdentifier", types=ttlv.TEXT_STRING), "der": der,
                "pem": der_to_pem("CERTIFICATE", der)}
    return Operation("Get", [_uid(_check_id(object_id))], parse, object_id, "certificate")


def _checked_der(kind, der):
    """``der`` when it is bytes in the outline of a ``kind``: the check needs no cryptography,
    which reading a key pair that exists should not import."""
    if not isinstance(der, bytes):
        raise ttlv.TTLVError("the %s value is not bytes" % kind.replace("_", " "))
    problem = der_problem(kind, der)
    if problem:
        raise ttlv.TTLVError("the %s is not DER that parses (%s)" % (kind.replace("_", " "), problem))
    return der


def get_attributes(object_id):
    """GetAttributes: type, state, algorithm, length, dates, links and tags."""
    def parse(payload):
        return parse_attributes(payload.require("Attributes", types=ttlv.STRUCTURE))
    refs = [ttlv.enumeration("AttributeReference", name) for name in ATTRIBUTE_REFERENCES]
    return Operation("GetAttributes", [_uid(_check_id(object_id))] + refs, parse, object_id,
                     audited=_attributes_finding)


def _attributes_finding(attributes):
    """What the audit record of a GetAttributes keeps: the object's type, state and links,
    not every attribute (a bulk task reads hundreds of objects on every run)."""
    return {key: attributes.get(key) for key in ("object_type", "state", "links")}


def locate(object_type=None, tags=(), state=None, maximum_items=None, unique_identifier=None):
    """Locate: ids of objects matching type, tags (ANDed) and state."""
    attrs = [ttlv.enumeration("ObjectType", object_type) if object_type else None,
             ttlv.enumeration("State", state) if state else None,
             _uid(unique_identifier) if unique_identifier else None,
             tags_attribute(tags)]
    children = [ttlv.integer("MaximumItems", maximum_items) if maximum_items else None,
                ttlv.structure("Attributes", attrs)]

    def parse(payload):
        return [item.value for item in ttlv.vector_items(payload, "UniqueIdentifier", types=ttlv.TEXT_STRING)]
    return Operation("Locate", children, parse, None, "query")


# -- lifecycle -------------------------------------------------------------------------

def revoke(object_id, reason="Unspecified", message=None, cascade=True):
    """Revoke with a reason; ``cascade`` (Cosmian extension) revokes linked objects too."""
    if reason not in REVOCATION_REASONS:
        raise ValueError("revocation reason must be one of %s, got %r" % (", ".join(REVOCATION_REASONS), reason))
    revocation = [ttlv.enumeration("RevocationReasonCode", reason)]
    if message:
        revocation.append(ttlv.text_string("RevocationMessage", message))
    children = [_uid(_check_id(object_id)), ttlv.structure("RevocationReason", revocation)]
    if cascade:
        children.append(ttlv.boolean("Cascade", True))
    return Operation("Revoke", children, _parse_uid, object_id,
                     achieved=lambda attributes: attributes is not None and attributes["state"] in REVOKED_STATES)


def destroy(object_id, cascade=True, remove=False):
    """Destroy; ``cascade`` also destroys the linked public key, ``remove`` deletes the row."""
    children = [_uid(_check_id(object_id))]
    if remove:
        children.append(ttlv.boolean("Remove", True))
    if cascade:
        children.append(ttlv.boolean("Cascade", True))
    return Operation("Destroy", children, _parse_uid, object_id,
                     achieved=lambda attributes: attributes is None or attributes["state"] in DESTROYED_STATES)


# -- certificates ----------------------------------------------------------------------

def certificate_attributes(subject):
    """The 24 Certificate{Subject,Issuer}* TextStrings Cosmian requires, from a subject dict."""
    unknown = set(subject) - set(SUBJECT_FIELDS)
    if unknown:
        raise ValueError("unknown subject fields %s (accepted: %s)"
                         % (", ".join(sorted(unknown)), ", ".join(SUBJECT_FIELDS)))
    given = {_SUBJECT_TO_PART[key]: value for key, value in subject.items()}
    fields = [ttlv.text_string("CertificateSubject" + part, given.get(part, "")) for part in _DN_PARTS]
    fields += [ttlv.text_string("CertificateIssuer" + part, "") for part in _DN_PARTS]
    return ttlv.structure("CertificateAttributes", fields)


def certify(certificate_id=None, public_key_id=None, csr_pem=None, subject=None, issuer_private_key_id=None,
            issuer_certificate_id=None, validity_days=None, extensions=None, tags=()):
    """Certify a public key held in the KMS (``public_key_id`` + ``subject``) or a CSR.

    ``extensions`` is OpenSSL extension-config text (a ``[v3_ca]`` section); the issuer
    is given by its private key and/or certificate; without one the result is
    self-signed. Returns the certificate id.
    """
    if (public_key_id is None) == (csr_pem is None):
        raise ValueError("certify needs exactly one of public_key_id or csr_pem")
    extension_attribute = vendor_attribute(
        "x509-extension", ttlv.byte_string("AttributeValue", extensions.encode("utf-8"))) if extensions else None
    # Cosmian 5.28 decides "self-signed end entity, add RFC 9608 noRevAvail" by looking for
    # CA:TRUE in this attribute after it has consumed it, so a self-signed CA would get the
    # extension RFC 9608 section 3 forbids there. A second copy is what that check reads.
    self_signed_ca = extensions and "CA:TRUE" in extensions and not (issuer_private_key_id or issuer_certificate_id)
    activation = utc_now()
    attrs = [
        ttlv.enumeration("ObjectType", "Certificate"),
        _uid(certificate_id) if certificate_id else None,
        certificate_attributes(subject or {}) if public_key_id else None,
        link("PrivateKeyLink", issuer_private_key_id) if issuer_private_key_id else None,
        link("CertificateLink", issuer_certificate_id) if issuer_certificate_id else None,
        ttlv.date_time("ActivationDate", activation),
        tags_attribute(tags),
        vendor_attribute("requested_validity_days", ttlv.integer("AttributeValue", validity_days))
        if validity_days else None,
        extension_attribute,
        extension_attribute if self_signed_ca else None,
    ]
    children = [_uid(public_key_id)] if public_key_id else [
        ttlv.enumeration("CertificateRequestType", "PEM"),
        ttlv.byte_string("CertificateRequestValue", csr_pem.encode("ascii") if isinstance(csr_pem, str) else csr_pem)]
    children.append(ttlv.structure("Attributes", attrs))

    def achieved(attributes):
        """A refused retry under ``certificate_id`` is settled by the certificate this request made:
        Active, with the ActivationDate it carried (which Cosmian keeps for a certificate, unlike
        for keys). (Cosmian 5.28 upserts a certificate, so a retry re-issues and succeeds; this
        covers a server that refuses it as Object_Already_Exists.)"""
        return (attributes is not None and attributes["object_type"] == "Certificate"
                and attributes["state"] == "Active" and attributes["activation_date"] == activation)
    return Operation("Certify", children, _parse_uid, certificate_id or public_key_id, "certificate",
                     achieved=achieved if certificate_id else None)


def unlink_certificate(public_key_id):
    """DeleteAttribute of a public key's CertificateLink (a no-op when it has none).

    Certify of a public key without an issuer signs with the key's own private key, but
    takes the issuer name, and a cap on the validity, from the certificate that link
    points to; and fails once that certificate is removed. Re-issuing a self-signed
    certificate therefore needs the link gone.
    """
    return Operation("DeleteAttribute", [
        _uid(_check_id(public_key_id)),
        ttlv.structure("CurrentAttribute", [link("CertificateLink", "")]),
    ], _parse_uid, public_key_id, "public_key")
