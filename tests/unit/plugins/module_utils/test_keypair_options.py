# -*- coding: utf-8 -*-
"""kms_keypair argument validation: what is refused before any KMS call, and why."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.options import ConnectionOptions
from ansible_collections.pkimanager.kms.plugins.module_utils.keypair import KeyPair

BASE = {"name": "web-signing", "tags": None, "public_key_path": None, "private_key_path": None,
        "private_key_passphrase": None, "type": "rsa", "size": None, "curve": None, "exportable": None,
        "state": "present", "regenerate": "fail", "revocation_message": None}


@pytest.mark.parametrize("name", ["a", "web-signing", "ns:key@v1.2_x", "A" * 128])
def test_accepted_names(name):
    assert KeyPair.validate(dict(BASE, name=name)) == []


@pytest.mark.parametrize("name", ["", " ", "-lead", "_sk", "with space", "A" * 129, '["tag"]', "a/b", "a\n", "\na",
                                  "caf\u00e9", None])
def test_refused_names_say_what_is_accepted(name):
    problems = KeyPair.validate(dict(BASE, name=name))
    assert len(problems) == 1 and "1 to 128 characters" in problems[0] and repr(name) in problems[0]


@pytest.mark.parametrize("tag", ["", "_sk", "_anything"])
def test_reserved_or_empty_tags_are_refused(tag):
    problems = KeyPair.validate(dict(BASE, tags=["ok", tag]))
    assert problems == ["tags must be non-empty and must not start with '_' (reserved by the KMS), got %r" % tag]


def test_revocation_message_without_revocation_is_a_conflict():
    assert KeyPair.validate(dict(BASE, revocation_message="why")) != []
    assert KeyPair.validate(dict(BASE, revocation_message="why", state="revoked")) == []
    assert KeyPair.validate(dict(BASE, revocation_message="why", regenerate="always")) == []


@pytest.mark.parametrize("params, fragment", [
    ({"kms_url": "127.0.0.1:9998"}, "kms_url must start with http:// or https://"),
    ({"kms_url": "http://h", "timeout": 0}, "timeout must be a positive number"),
    ({"kms_url": "http://h", "retries": 0}, "retries is the number of attempts"),
])
def test_connection_checks(params, fragment):
    problems = ConnectionOptions.problems(params)
    assert len(problems) == 1 and fragment in problems[0]


def test_valid_connection():
    assert ConnectionOptions.problems({"kms_url": "https://kms", "timeout": 5, "retries": 1}) == []
