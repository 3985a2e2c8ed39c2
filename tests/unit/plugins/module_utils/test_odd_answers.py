# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answers of a shape the server never sends become a KmsError with reason Invalid_Response,
audited like any failed call, never another exception; and when a create under a chosen id
counts as the one a request made (what the client settles a refused retry with)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError

WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def tag_attribute(value_node):
    return ttlv.structure("Attribute", [ttlv.text_string("VendorIdentification", "cosmian"),
                                        ttlv.text_string("AttributeName", "tag"), value_node])


def attributes(*extra):
    """Attributes of an Active private key; ``extra`` nodes come first, so they are what is read."""
    return ttlv.structure("Attributes", list(extra) + [ttlv.enumeration("ObjectType", "PrivateKey"),
                                                       ttlv.enumeration("State", "Active")])


class AnsweringTransport:
    """Stands in for the HTTP transport: every request gets ``answer`` (a JSON TTLV tree)."""

    last_attempts = 1  # every request is answered at once

    def __init__(self, answer):
        self.answer = answer

    def post_kmip(self, payload, operation, object_id=None):
        return self.answer


def test_well_formed_attributes_parse():
    parsed = ops.parse_attributes(attributes(
        ttlv.integer("CryptographicLength", 2048), ttlv.date_time("ActivationDate", WHEN),
        ttlv.structure("Link", [ttlv.enumeration("LinkType", "PublicKeyLink"),
                                ttlv.text_string("LinkedObjectIdentifier", "k_pk")]),
        tag_attribute(ttlv.text_string("AttributeValue", json.dumps(["_sk", "web"])))))
    assert parsed["tags"] == ["web"] and parsed["links"] == {"PublicKeyLink": "k_pk"}
    assert parsed["activation_date"] == WHEN and parsed["length"] == 2048


@pytest.mark.parametrize("node", [
    tag_attribute(ttlv.text_string("AttributeValue", "[1]")),
    tag_attribute(ttlv.text_string("AttributeValue", '{"web": 1}')),
    tag_attribute(ttlv.text_string("AttributeValue", "web")),
    tag_attribute(ttlv.text_string("AttributeValue", "")),
    tag_attribute(ttlv.integer("AttributeValue", 1)),
    tag_attribute(ttlv.byte_string("AttributeValue", b"\xff\xfe")),
    tag_attribute(ttlv.text_string("AttributeValue", "[" * 5000 + "]" * 5000)),
    ttlv.text_string("ActivationDate", "yesterday"),
    ttlv.integer("InitialDate", 7),
    ttlv.text_string("CryptographicLength", "2048"),
    ttlv.boolean("CryptographicLength", True),
    ttlv.integer("State", 1),
    ttlv.structure("Link", [ttlv.structure("LinkType", []), ttlv.text_string("LinkedObjectIdentifier", "x")]),
    ttlv.structure("Attribute", [ttlv.structure("AttributeName", []), ttlv.text_string("AttributeValue", "x")]),
], ids=lambda node: node.tag)
def test_odd_attributes_are_an_invalid_response_that_is_audited(node):
    answer = ttlv.structure("GetAttributesResponse", [ttlv.text_string("UniqueIdentifier", "k"),
                                                      attributes(node)]).to_json()
    seen = []
    client = KmsClient(AnsweringTransport(answer), observer=lambda op, value, error: seen.append((op.name, error)))
    with pytest.raises(KmsError) as caught:
        client.call(ops.get_attributes("k"))
    error = caught.value
    assert error.reason == "Invalid_Response" and error.operation == "GetAttributes" and error.object_id == "k"
    assert str(error).startswith("GetAttributes on 'k' failed: Invalid_Response: unexpected answer: ")
    assert "\n" not in str(error) and len(str(error)) < 500
    assert seen == [("GetAttributes", error)]


@pytest.mark.parametrize("answer", [
    None, [], "text", {"tag": "GetResponse"}, {"tag": "GetResponse", "value": [{"tag": "x", "type": "Nope", "value": 1}]},
    ttlv.structure("GetResponse", [ttlv.enumeration("ObjectType", "Certificate")]).to_json(),
    ttlv.structure("GetResponse", [ttlv.structure("Object", [ttlv.text_string("CertificateValue", "MII")])]).to_json(),
    ttlv.structure("GetResponse", [ttlv.structure("Object", [
        ttlv.byte_string("CertificateValue", b"not DER")])]).to_json(),
])
def test_any_answer_to_get_is_a_result_or_an_invalid_response(answer):
    seen = []
    client = KmsClient(AnsweringTransport(answer), observer=lambda op, value, error: seen.append(error))
    with pytest.raises(KmsError) as caught:
        client.call(ops.get_certificate("c"))
    assert caught.value.reason == "Invalid_Response" and seen == [caught.value]


def test_a_private_key_is_never_returned_as_a_public_key():
    """Should the server answer a public key Get with a private key, it is refused, not returned."""
    answer = ttlv.structure("GetResponse", [
        ttlv.enumeration("ObjectType", "PrivateKey"), ttlv.text_string("UniqueIdentifier", "k"),
        ttlv.structure("Object", [ttlv.structure("KeyBlock", [ttlv.structure("KeyValue", [
            ttlv.byte_string("KeyMaterial", b"0\x82private")])])])]).to_json()
    with pytest.raises(KmsError) as caught:
        KmsClient(AnsweringTransport(answer)).call(ops.get_public_key("k"))
    assert caught.value.reason == "Invalid_Response" and "not a public key" in caught.value.message


# -- creates under a chosen id -------------------------------------------------------

def pair_attributes(operation, **changes):
    """The attributes GetAttributes would show for the pair ``operation`` asks for."""
    sent = operation.payload.find("PrivateKeyAttributes")
    found = {"object_type": "PrivateKey", "algorithm": "RSA", "length": 2048, "tags": ["a", "b"],
             "links": {"PublicKeyLink": "k_pk"}, "activation_date": sent.get("ActivationDate"),
             "state": "Active" if sent.get("ActivationDate") else "PreActive"}
    found.update(changes)
    return found


def test_a_create_is_achieved_by_the_pair_it_describes_only():
    operation = ops.create_key_pair(2048, private_key_id="k", tags=["b", "a", "b"])
    assert operation.achieved(pair_attributes(operation))
    assert operation.settled_result(pair_attributes(operation)) == {"private_key_id": "k", "public_key_id": "k_pk"}
    # Cosmian stamps a key with its own time: a second or more after the request was built is
    # still this request's pair; a second before it, another run's.
    sent = pair_attributes(operation)["activation_date"]
    assert operation.achieved(pair_attributes(operation, activation_date=sent + datetime.timedelta(seconds=3)))
    earlier = sent - datetime.timedelta(seconds=1)
    for changes in ({"length": 3072}, {"tags": ["a"]}, {"tags": ["a", "b", "c"]}, {"activation_date": earlier},
                    {"activation_date": None}, {"object_type": "Certificate"}, {"links": {}},
                    {"algorithm": "ECDH"}):
        assert not operation.achieved(pair_attributes(operation, **changes)), changes
    assert not operation.achieved(None)


def test_a_preactive_create_is_achieved_by_a_preactive_pair():
    operation = ops.create_key_pair(2048, private_key_id="k", tags=["a", "b"], activate=False)
    assert operation.achieved(pair_attributes(operation))
    assert not operation.achieved(pair_attributes(operation, state="Active", activation_date=WHEN))


def test_a_create_without_a_chosen_id_is_never_settled():
    assert ops.create_key_pair(2048).achieved is None


@pytest.mark.parametrize("name", ["web\n", "web\r\n", "\nweb", "web\x00", "w\u00e9b", 7, None, ["web"]])
def test_names_are_matched_in_full(name):
    assert "1 to 128 characters" in ops.object_name_problem(name)


def test_a_certify_under_a_chosen_id_is_achieved_by_its_own_certificate_only():
    """Cosmian keeps a Certify's ActivationDate (checked on 5.28): the certificate found under the
    id is this request's when it carries that date and is Active."""
    operation = ops.certify(certificate_id="c", public_key_id="k_pk", subject={"CN": "x"})
    sent = operation.payload.find("Attributes").get("ActivationDate")
    mine = {"object_type": "Certificate", "state": "Active", "activation_date": sent}
    assert operation.achieved(mine) and operation.settled_result(mine) == "c"
    for changes in ({"activation_date": sent + datetime.timedelta(seconds=1)}, {"state": "Deactivated"},
                    {"object_type": "PublicKey"}):
        assert not operation.achieved(dict(mine, **changes)), changes
    assert not operation.achieved(None)
    assert ops.certify(public_key_id="k_pk", subject={"CN": "x"}).achieved is None
