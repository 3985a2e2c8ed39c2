# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""redact() masks a secret in every form a library, a JSON document or a URL gives it;
safe_url() drops user:password@ from a URL, even when the password holds an '@'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import MASK, redact, safe_url, strip_credentials

# A token as `echo token | ansible-vault encrypt_string` leaves it, with characters that
# each encoding renders differently.
SECRET = "tok/3n+Ab=\"q'\\x\n"


def _renderings(secret):
    return {
        "raw": secret,
        "repr": repr(secret)[1:-1],
        "repr of the bytes": repr(secret.encode("utf-8"))[2:-1],
        "json": json.dumps(secret)[1:-1],
        "quote": quote(secret),
        "quote safe=''": quote(secret, safe=""),
        "quote_plus": quote_plus(secret),
        "upper case": secret.upper(),
        "lower-case percent-encoding": quote(secret, safe="").lower(),
        "white space folded": " ".join(secret.split()),
        "json of the repr": json.dumps(repr(secret))[2:-2],
        "repr of the json": repr(json.dumps(secret))[2:-2],
    }


@pytest.mark.parametrize("form", sorted(_renderings(SECRET)))
def test_every_rendering_of_a_secret_is_masked(form):
    rendered = _renderings(SECRET)[form]
    text = "Invalid header value 'Bearer %s' (sent to kms)" % rendered

    masked = redact(text, [SECRET])
    assert rendered not in masked and "tok/3n" not in masked.lower() and "tok%2f3n" not in masked.lower()
    assert masked == "Invalid header value 'Bearer %s' (sent to kms)" % MASK


def test_non_ascii_secrets_are_masked_in_their_escaped_forms():
    secret = "t\u00f6k\u20ac\n"
    for rendered in (secret, ascii(secret)[1:-1], repr(secret.encode("utf-8"))[2:-1],
                     json.dumps(secret)[1:-1], quote(secret), quote_plus(secret)):
        assert redact("x %s y" % rendered, [secret]) == "x %s y" % MASK, rendered


def test_several_secrets_and_a_text_without_them():
    assert redact("a hunter2 b KEY c", ["key", "hunter2"]) == "a %s b %s c" % (MASK, MASK)
    assert redact("nothing to hide", ["hunter2"]) == "nothing to hide"


@pytest.mark.parametrize("secrets", [None, [], [None, ""], ["   "]])
def test_no_secret_leaves_the_text_alone(secrets):
    assert redact("the KMS said no", secrets) == "the KMS said no"


def test_what_is_not_text_is_returned_as_is():
    assert redact(None, ["x"]) is None
    assert redact(42, ["4"]) == 42


def test_a_bytes_secret_is_masked_too():
    assert redact("Bearer abc\\ndef", [b"abc\ndef"]) == "Bearer %s" % MASK


@pytest.mark.parametrize("url, expected", [
    ("https://kms.example.test:9998", "https://kms.example.test:9998"),
    ("https://admin:hunter2@kms.example.test:9998/", "https://kms.example.test:9998/"),
    # the password holds '@', ':', '#' or '?' that were not percent-encoded
    ("https://user:p@ss@kms.example.test/", "https://kms.example.test/"),
    ("https://user:p@ss:w@rd@kms.example.test:9998", "https://kms.example.test:9998"),
    ("http://user:p#ss@kms/", "http://kms/"),
    ("http://user:p?ss@kms", "http://kms"),
    ("http://token@127.0.0.1:9998/kmip", "http://127.0.0.1:9998/kmip"),
    ("http://admin:hunter2@[::1]:9998", "http://[::1]:9998"),
    ("HTTPS://admin:hunter2@kms", "HTTPS://kms"),
    # no scheme, or one slash only: still scrubbed
    ("admin:hunter2@kms:9998", "kms:9998"),
    ("https:/admin:hunter2@kms", "https:/kms"),
    # an '@' after the host is not a password
    ("https://kms/path/@x?y=@z", "https://kms/path/@x?y=@z"),
    ("", ""),
])
def test_safe_url_drops_the_credentials(url, expected):
    assert safe_url(url) == expected


def test_safe_url_returns_what_is_not_text_as_is():
    assert safe_url(None) is None


@pytest.mark.parametrize("quoted, shown", [
    ("error connecting to postgres://kms:s3cret@127.0.0.1:5432/kms", "error connecting to postgres://127.0.0.1:5432/kms"),
    ("postgres://kms:p@ss@db:5432/kms?sslmode=require", "postgres://db:5432/kms?sslmode=require"),
    ("host=db user=kms password=s3cret dbname=kms", "host=db user=kms password=*** dbname=kms"),
    ("password = 'two words' port=5432", "password = *** port=5432"),
    ("http://kms/objects/a@b", "http://kms/objects/a@b"),
])
def test_strip_credentials_of_quoted_urls_and_settings(quoted, shown):
    assert strip_credentials(quoted) == shown
