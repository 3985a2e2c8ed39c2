# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only inventory of the keys in the KMS (module kms_key_info).

Keys are private keys (one entry per key pair, under the private key's id; its public key
is not an entry of its own) and symmetric keys. Checked on Cosmian KMS 5.28:

- Locate ANDs the tags (``cosmian/tag``), filters on ObjectType and State, and without a
  State answers the objects that are not destroyed (State Destroyed finds those). It only
  answers the caller's own objects (and those shared with it).
- Locate filters on CryptographicAlgorithm and CryptographicLength too, but
  :func:`operations.locate` does not send them, and a key type (EC vs Edwards, a curve) is
  not one algorithm: the type and size are checked here, on the attributes read anyway.

Nothing here reads key material: only attributes, and the public key of a live pair for its
fingerprint. Errors are raised (KmsError, TaskError); the module file turns them into
``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.key_specs import KEY_TYPES
from ansible_collections.pkimanager.kms.plugins.module_utils.keys import selection_problems
from ansible_collections.pkimanager.kms.plugins.module_utils.pem import fingerprint_sha256

# The KMIP object types that are keys here, and the key types each can hold.
KEY_OBJECT_TYPES = ("PrivateKey", "SymmetricKey")
TYPES = KEY_TYPES + ("symmetric",)
STATES = ops.ACTIVE_STATES + ops.REVOKED_STATES + ops.DESTROYED_STATES
# Every entry has every field (None where it does not apply), in this order.
FIELDS = ("id", "name", "object_type", "type", "size", "curve", "state", "tags", "exportable", "activation_date",
          "initial_date", "deactivation_date", "public_key_id", "fingerprint_sha256")
ENTITY_TYPE = "key"
# Why a pair's public key may be unreadable while the pair is listed.
UNREADABLE_PUBLIC_KEY = ("Object_Destroyed", "Sensitive")


def argument_spec():
    """The options of kms_key_info besides the connection and audit ones."""
    return dict(
        name=dict(type="str"),
        tags=dict(type="list", elements="str"),
        type=dict(type="str", choices=list(TYPES)),
        size=dict(type="int"),
        state=dict(type="str", choices=list(STATES)),
    )


def validate(params):
    """Why the filters cannot be used (before any KMS call); empty when they can."""
    problems = selection_problems(params)
    size = params.get("size")
    if size is not None and size <= 0:
        problems.append("size must be a positive number of bits, got %d" % size)
    if size is not None and params.get("type") in ("ed25519", "ed448"):
        problems.append("a %s key has no size; do not set size with type=%s" % (params["type"], params["type"]))
    return problems


def object_types(key_type):
    """The KMIP object types Locate asks for, for a ``type`` filter (None: any key)."""
    if key_type is None:
        return KEY_OBJECT_TYPES
    return ("SymmetricKey",) if key_type == "symmetric" else ("PrivateKey",)


def matches(attrs, params):
    """Whether an object with these attributes (:func:`operations.parse_attributes`) is a key
    every filter of ``params`` selects. Without a ``state`` filter, destroyed keys are not."""
    if attrs["object_type"] not in KEY_OBJECT_TYPES:
        return False
    state = params.get("state")
    if (state is None and attrs["state"] in ops.DESTROYED_STATES) or state not in (None, attrs["state"]):
        return False
    if params.get("type") not in (None, attrs["key_type"]):
        return False
    if params.get("size") not in (None, attrs["size"]):
        return False
    return set(params.get("tags") or ()) <= set(attrs["tags"])


def has_fingerprint(attrs):
    """Whether the entry shows the public key's fingerprint: a pair that is not revoked or destroyed."""
    return (attrs["object_type"] == "PrivateKey" and attrs["state"] in ops.ACTIVE_STATES
            and bool(attrs["links"].get("PublicKeyLink")))


def entry(object_id, attrs, fingerprint=None):
    """One element of ``kms_keys``: what the attributes say about the key, never key material."""
    public_key_id = attrs["links"].get("PublicKeyLink") if attrs["object_type"] == "PrivateKey" else None
    values = {
        "id": object_id, "name": object_id, "object_type": attrs["object_type"], "type": attrs["key_type"],
        "size": attrs["size"], "curve": attrs["curve"], "state": attrs["state"], "tags": list(attrs["tags"]),
        "exportable": attrs["exportable"], "activation_date": ops.iso_utc(attrs["activation_date"]),
        "initial_date": ops.iso_utc(attrs["initial_date"]), "deactivation_date": ops.iso_utc(attrs["deactivation_date"]),
        "public_key_id": public_key_id, "fingerprint_sha256": fingerprint,
    }
    return dict((field, values[field]) for field in FIELDS)


def sorted_entries(entries):
    """``kms_keys`` as returned: one entry per id, sorted by id."""
    unique = dict((item["id"], item) for item in entries)
    return [unique[key] for key in sorted(unique)]


class KeyInfo:
    """The keys ``params`` select, read through ``kms`` (a KmsModule: ``call``/``call_or_none``)."""

    def __init__(self, kms, params):
        self.kms = kms
        self.params = params

    def candidates(self):
        """Ids that may match: the named object, or what Locate finds by object type, tags and state."""
        if self.params.get("name") is not None:
            return [self.params["name"]]
        found = []
        for object_type in object_types(self.params.get("type")):
            found += self.kms.call(ops.locate(object_type=object_type, tags=self.params.get("tags") or (),
                                              state=self.params.get("state")))
        return sorted(set(found))

    def fingerprint(self, attrs):
        """SHA-256 of the pair's public key (SPKI DER), or None when it is not shown or gone."""
        if not has_fingerprint(attrs):
            return None
        try:
            key = self.kms.call_or_none(ops.get_public_key(attrs["links"]["PublicKeyLink"]), entity_type="public_key")
        except KmsError as error:
            # This one public key cannot be read (destroyed since its attributes were read, or
            # made Sensitive by another tool): the inventory reports the pair without a
            # fingerprint instead of failing. Anything else (no answer, no permission) fails.
            if error.reason in UNREADABLE_PUBLIC_KEY:
                return None
            raise
        return fingerprint_sha256(key["der"]) if key else None

    def keys(self):
        entries = []
        for object_id in self.candidates():
            # An object destroyed and removed since Locate found it is simply no longer there.
            attrs = self.kms.call_or_none(ops.get_attributes(object_id), entity_type=ENTITY_TYPE)
            if attrs is not None and matches(attrs, self.params):
                entries.append(entry(object_id, attrs, self.fingerprint(attrs)))
        return sorted_entries(entries)

    def run(self):
        """The module's result: it reads only, in check mode as in a real run."""
        return {"changed": False, "kms_keys": self.keys()}
