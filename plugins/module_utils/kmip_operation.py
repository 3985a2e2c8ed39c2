# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The :class:`Operation` every builder of :mod:`operations` returns, and the small pieces
builders share (re-exported by :mod:`operations`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv


class Operation:
    """One KMIP operation: what to send and how to read the answer.

    ``object_id`` and ``entity_type`` name what the operation is about (for errors and
    the audit trail; a module may set a more precise ``entity_type``); ``parse``
    receives the response payload Structure.

    ``achieved`` is for lifecycle operations whose retry fails *because* an earlier attempt
    worked: a request that timed out (or got a 5xx) may still have run on the server, and a
    second Revoke or Destroy then gets Item_Not_Found, a second Activate
    Wrong_Key_Lifecycle_State. It is a predicate over the object's attributes (None when the
    object is gone) saying the operation's goal is reached; the client asks GetAttributes
    before it reports such an error (see KmsClient.call). ``settled`` records that it did.
    A create under a chosen id is settled the same way: its retry is refused with
    Object_Already_Exists, and ``achieved`` then checks that the object is the one this
    request asked for. ``settled_result`` turns those attributes into what ``parse`` would
    have returned (by default the object id).

    ``audited`` picks what of the result the audit record keeps, when not all of it, as
    plain data (text, numbers, lists, dicts: the trail scrubs it, as every record);
    ``audited_client.audit_summary`` of the whole result, the default, is for results of a
    few ids.
    """

    __slots__ = ("name", "payload", "parse", "object_id", "entity_type", "achieved", "settled", "settled_result",
                 "audited")

    def __init__(self, name, children, parse, object_id=None, entity_type="object", achieved=None,
                 settled_result=None, audited=None):
        self.name = name
        self.payload = ttlv.structure(name, children)
        self.parse = parse
        self.object_id = object_id
        self.entity_type = entity_type
        self.achieved = achieved
        self.settled = None
        self.settled_result = settled_result or (lambda attributes: object_id)
        self.audited = audited

    def __repr__(self):
        return "Operation(%s, object_id=%r)" % (self.name, self.object_id)


def _uid(value, tag="UniqueIdentifier"):
    return ttlv.text_string(tag, value)


def _check_id(object_id, what="unique identifier"):
    if not isinstance(object_id, str) or not object_id:
        raise ValueError("a non-empty %s is required" % what)
    return object_id


def _parse_uid(payload):
    return payload.require("UniqueIdentifier", types=ttlv.TEXT_STRING).value
