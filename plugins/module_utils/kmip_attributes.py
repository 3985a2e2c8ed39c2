# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMIP attributes as Cosmian KMS writes and reads them: tags and other vendor attributes,
links, and the plain data modules get from a GetAttributes answer.

(:mod:`operations` re-exports every name here, so ``operations.parse_attributes`` etc. work.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.key_specs import describe

VENDOR_ID = "cosmian"

# What modules read of an object: asking for these by name (rather than for everything)
# is the only way to get the tags in the same answer. Cosmian 5.28 answers Sensitive and
# Extractable (False when never set) and CryptographicDomainParameters (RecommendedCurve,
# Qlength) of EC and Edwards keys; an RSA or symmetric key has no domain parameters.
ATTRIBUTE_REFERENCES = ("ObjectType", "State", "CryptographicAlgorithm", "CryptographicLength",
                        "CryptographicDomainParameters", "Sensitive", "Extractable", "ActivationDate",
                        "DeactivationDate", "InitialDate", "Link", "Tag")


def tags_attribute(tags):
    """Cosmian tags: vendor attribute ``cosmian/tag`` holding the JSON array as a TextString.

    (A ByteString value, or the tag ``VendorAttributes``, is silently ignored by 5.28.)
    """
    if not tags:
        return None
    return vendor_attribute("tag", ttlv.text_string("AttributeValue", json.dumps(sorted(tags))))


def vendor_attribute(name, value_node):
    """A KMIP 2.1 vendor attribute; Cosmian's Attributes carry them under the tag ``Attribute``."""
    return ttlv.structure("Attribute", [
        ttlv.text_string("VendorIdentification", VENDOR_ID),
        ttlv.text_string("AttributeName", name),
        value_node,
    ])


def link(link_type, target):
    return ttlv.structure("Link", [ttlv.enumeration("LinkType", link_type),
                                   ttlv.text_string("LinkedObjectIdentifier", target)])


def _typed(value, types, what):
    """``value`` when it is None or one of ``types``; TTLVError naming ``what`` otherwise."""
    if value is None or (isinstance(value, types) and not isinstance(value, bool)):
        return value
    raise ttlv.TTLVError("%s has an unexpected value of type %s" % (what, type(value).__name__))


def _flag(value, what):
    """A Boolean attribute: True, False or None; TTLVError otherwise."""
    if value is None or isinstance(value, bool):
        return value
    raise ttlv.TTLVError("%s has an unexpected value of type %s" % (what, type(value).__name__))


def parse_attributes(attributes):
    """Plain data from an Attributes Structure: the fields modules compare and return.

    Besides the attributes as read (``recommended_curve`` is the KMIP curve name, e.g.
    ``P384``; ``sensitive``/``extractable`` the Booleans), the key they describe:
    ``key_type`` (rsa, ec, ed25519, ed448, symmetric), ``size``, ``curve`` (P-256 ...)
    and ``exportable`` (see :func:`key_specs.describe`).
    Every field has the type modules rely on, or the answer is refused (TTLVError).
    """
    # Each attribute by its tag, read in one pass: the first of a repeated one, as get finds it.
    by_tag = {child.tag: child for child in reversed(attributes.children())}

    def attribute(tag):
        node = by_tag.get(tag)
        return None if node is None else node.value

    def field(tag, types):
        return _typed(attribute(tag), types, tag)
    parameters = by_tag.get("CryptographicDomainParameters")
    curve = parameters.find("RecommendedCurve") if parameters is not None else None
    result = {
        "object_type": field("ObjectType", str),
        "state": field("State", str),
        "algorithm": field("CryptographicAlgorithm", str),
        "length": field("CryptographicLength", int),
        "recommended_curve": _typed(curve.value if curve is not None else None, str,
                                    "CryptographicDomainParameters/RecommendedCurve"),
        "sensitive": _flag(attribute("Sensitive"), "Sensitive"),
        "extractable": _flag(attribute("Extractable"), "Extractable"),
        "activation_date": field("ActivationDate", datetime.datetime),
        "deactivation_date": field("DeactivationDate", datetime.datetime),
        "initial_date": field("InitialDate", datetime.datetime),
        "unique_identifier": field("UniqueIdentifier", str),
        "tags": [],
        "links": {},
        "vendor": {},
    }
    result.update(describe(result["algorithm"], result["length"], result["recommended_curve"],
                           result["sensitive"], result["extractable"], result["object_type"]))
    for item in ttlv.vector_items(attributes, "Link"):
        result["links"][_typed(item.get("LinkType"), str, "Link/LinkType")] = _typed(
            item.get("LinkedObjectIdentifier"), str, "Link/LinkedObjectIdentifier")
    for item in ttlv.vector_items(attributes, "Attribute"):
        name = _typed(item.get("AttributeName"), str, "Attribute/AttributeName")
        value = item.get("AttributeValue")
        if item.get("VendorIdentification") == VENDOR_ID and name == "tag":
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else _typed(
                value, str, "the tag attribute")
            try:
                tags = json.loads(text or "null")
            except (ValueError, RecursionError):  # not JSON, or JSON nested too deep to read
                tags = None
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise ttlv.TTLVError("the tag attribute is not a JSON array of strings: %.80r" % text)
            result["tags"] = sorted(t for t in tags if not t.startswith("_"))
        else:
            result["vendor"][name] = value
    return result
