# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection checks that run before any KMS call: credentials http.client would refuse
(and quote in its error), URLs with credentials, and certificate files that are not there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.options import ConnectionOptions
from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import redact
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

URL = "https://kms.example.test:9998"
# Distinctive on both sides of the bad character, so no part of the key can slip through.
HEAD, TAIL = "k3yHeadF0a1c9", "Ta1lOfTheK3y7b"


def _problems(**params):
    params.setdefault("kms_url", URL)
    return ConnectionOptions.problems(params)


def _shows_no_part_of(text, key):
    """No rendering of ``key`` (raw, escaped, URL-encoded) and neither of its halves."""
    return redact(text, [key]) == text and HEAD.lower() not in text.lower() and TAIL.lower() not in text.lower()


@pytest.mark.parametrize("key, kind, where", [
    (HEAD + TAIL + "\n", "a line feed (\\n)", "at its end"),
    (HEAD + "\n" + TAIL, "a line feed (\\n)", "inside it"),
    (HEAD + TAIL + "\r\n", "a carriage return (\\r)", "inside it"),
    ("\t" + HEAD + TAIL, "a tab (\\t)", "at its start"),
    (HEAD + " " + TAIL, "a space", "inside it"),
    (HEAD + "\x00" + TAIL, "a control character (U+0000)", "inside it"),
    (HEAD + "\x7f" + TAIL, "a control character (U+007F)", "inside it"),
    (HEAD + "\u00e9" + TAIL, "a non-ASCII character", "inside it"),  # Latin-1, not ASCII
    (HEAD + "\u20ac" + TAIL, "a non-ASCII character", "inside it"),  # not even Latin-1
])
def test_an_api_key_that_is_not_visible_ascii_is_refused_without_showing_it(key, kind, where):
    problems = _problems(api_key=key)

    assert len(problems) == 1
    assert problems[0].startswith("api_key contains %s %s, but a token is visible ASCII only" % (kind, where))
    assert _shows_no_part_of(problems[0], key), problems[0]


def test_the_transport_refuses_such_a_key_as_well():
    key = HEAD + "\n" + TAIL
    with pytest.raises(KmsError) as caught:
        KmsTransport.from_params({"kms_url": URL, "api_key": key})
    assert caught.value.reason == "Request_Not_Sent"
    for text in (str(caught.value), repr(caught.value), str(caught.value.to_dict())):
        assert _shows_no_part_of(text, key), text


@pytest.mark.parametrize("key", [
    None, "",
    "8mDq0hE7yqZC2QvB9e1o3lJ5m0xGZ6l7c0bmk1t1oYk=",  # a Cosmian API token (base64)
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl-_",  # a JWT (base64url, dots)
    "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\"",  # every other visible ASCII character
])
def test_visible_ascii_keys_are_accepted(key):
    assert _problems(api_key=key) == []


@pytest.mark.parametrize("url, fragment", [
    ("ftp://admin:hunter2@kms", "kms_url must start with http:// or https://, got 'ftp://kms'"),
    ("admin:hunter2@kms:9998", "kms_url must start with http:// or https://, got 'kms:9998'"),
    ("https://admin:hunter2@kms:9998\n", "kms_url 'https://kms:9998\\n' contains white space or a control"),
    ("https://kms:99 98", "contains white space or a control character"),
])
def test_a_bad_url_is_refused_without_its_password(url, fragment):
    problems = _problems(kms_url=url)
    assert len(problems) == 1 and fragment in problems[0], problems
    assert "hunter2" not in problems[0]


@pytest.fixture
def files(tmp_path):
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    folder = tmp_path / "hashed"
    folder.mkdir()
    return {"pem": str(pem), "folder": str(folder), "missing": str(tmp_path / "missing.pem")}


@pytest.mark.parametrize("option", ["ca_cert", "client_cert", "client_key"])
def test_a_missing_certificate_or_key_file_is_refused_before_any_call(files, option):
    params = {"client_cert": files["pem"], "client_key": files["pem"]}
    params[option] = files["missing"]

    assert _problems(**params) == ["%s %s does not exist" % (option, files["missing"])]


@pytest.mark.parametrize("option", ["client_cert", "client_key"])
def test_a_folder_is_no_client_certificate_or_key(files, option):
    params = {"client_cert": files["pem"], "client_key": files["pem"]}
    params[option] = files["folder"]

    assert _problems(**params) == ["%s %s is a folder, not a PEM file" % (option, files["folder"])]


def test_ca_cert_may_be_a_file_or_a_folder_of_hashed_certificates(files):
    assert _problems(ca_cert=files["pem"]) == []
    assert _problems(ca_cert=files["folder"]) == []


def test_ca_cert_is_not_checked_when_certificates_are_not_validated(files):
    """It is not used then, so a stale path in module_defaults must not break the play."""
    assert _problems(ca_cert=files["missing"], validate_certs=False) == []
    assert _problems(ca_cert=files["missing"], validate_certs=True) != []


def test_an_unreadable_file_is_refused(files, monkeypatch):
    """Root reads any file, so the refusal comes from open() itself."""
    real_open = open

    def refusing_open(path, *args, **kwargs):
        if path == files["pem"]:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr("builtins.open", refusing_open)

    assert _problems(ca_cert=files["pem"]) == ["ca_cert %s cannot be read: Permission denied" % files["pem"]]
