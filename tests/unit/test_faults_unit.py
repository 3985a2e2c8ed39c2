# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault suite's cases that need no KMS (issue 15): credentials a header cannot carry,
secrets echoed back in any rendering, answers of a server that is not a KMS, names, URLs
with a password, and a tampered or mis-queried audit store. Every failure is the library's
own error (KmsError, AuditError, a problem message), never a bare Python exception, and no
rendering of a secret survives in it. The integration half is tests/integration/test_faults.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sqlite3
import time

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditError, AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.options import ConnectionOptions
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from fake_servers import NotKmsServer, closed_port_url
from fault_cases import secret_leaks

TOKEN = 'FltTok9+qXenSec"rt/Zq9f2e=='
PASSWORD = "Pw9Fault@Secr"
UNSENDABLE_KEYS = {
    "newline": "FaultNl9Alpha\nBravo4Lf",
    "trailing-newline": "FaultEnd9AlphaBravo4Lf\n",
    "carriage-return": "FaultCr9Alpha\rBravo4Cr",
    "tab": "FaultTab9Alpha\tBravo4Tab",
    "nul": "FaultNul9Alpha\x00Bravo4Nul",
    "delete": "FaultDel9Alpha\x7fBravo4Del",
    "non-latin-1": "FaultUni9Alpha-\u043a\u043b\u044e\u0447",
    "line-separator": "FaultLs9Alpha\u2028Bravo4Ls",
}


@pytest.fixture(scope="module")
def peer():
    server = NotKmsServer()
    yield server
    server.close()


def _params(url, **options):
    params = {"kms_url": url, "api_key": None, "ca_cert": None, "client_cert": None, "client_key": None,
              "validate_certs": True, "timeout": 5.0, "retries": 1}
    params.update(options)
    return params


def _all_text(error):
    return {"str": str(error), "repr": repr(error), "dict": json.dumps(error.to_dict(), ensure_ascii=False)}


def _client(url, **options):
    return KmsClient(KmsTransport(url, **dict({"retries": 1, "timeout": 5}, **options)))


@pytest.mark.parametrize("key", list(UNSENDABLE_KEYS.values()), ids=list(UNSENDABLE_KEYS))
def test_a_key_a_header_cannot_carry_is_refused_by_name_and_never_shown(peer, key):
    problems = ConnectionOptions.problems(_params(peer.url("echo"), api_key=key))
    assert len(problems) == 1 and "api_key" in problems[0], problems
    assert not secret_leaks([key], {"problem": problems[0]})
    before = len(peer.hits.get("echo", []))
    with pytest.raises(KmsError) as caught:  # a caller that skips the checks gets a KmsError too
        _client(peer.url("echo"), api_key=key).call(ops.get_attributes("fault"))
    assert "api_key" in str(caught.value)
    assert not secret_leaks([key], _all_text(caught.value))
    assert len(peer.hits.get("echo", [])) == before, "a request went out with an unsendable key"


def test_a_key_echoed_back_in_any_rendering_is_masked_everywhere(peer):
    with pytest.raises(KmsError) as caught:
        _client(peer.url("echo"), api_key=TOKEN).call(ops.get_attributes("fault"))
    assert caught.value.status == 403
    assert not secret_leaks([TOKEN], _all_text(caught.value)), _all_text(caught.value)


@pytest.mark.parametrize("mode", ["html", "forbidden", "error", "redirect", "array", "notttlv"])
def test_pages_that_repeat_the_key_never_repeat_it_to_the_user(peer, mode):
    with pytest.raises(KmsError) as caught:
        _client(peer.url(mode), api_key=TOKEN).call(ops.get_attributes("fault"))
    assert not secret_leaks([TOKEN], _all_text(caught.value)), _all_text(caught.value)


@pytest.mark.parametrize("mode", ["html", "empty", "truncated", "array", "notttlv", "wrongtypes", "tagnottext", "deep",
                                  "big", "redirect", "forbidden", "notfound", "error", "unavailable"])
@pytest.mark.parametrize("operation", ["get_attributes", "get_public_key", "get_certificate", "locate"])
def test_any_answer_of_a_non_kms_server_is_a_kms_error(peer, mode, operation):
    """Nothing but a KmsError with a one-line message; only Locate, which reads any
    UniqueIdentifier it finds, may make sense of a well-formed TTLV answer."""
    build = getattr(ops, operation)
    try:
        value = _client(peer.url(mode)).call(build() if operation == "locate" else build("fault"))
    except KmsError as error:
        message = str(error)
        assert message and "\n" not in message and len(message) < 1000, message
    else:
        assert operation == "locate" and mode in ("wrongtypes", "tagnottext"), value


def test_a_hanging_server_costs_the_timeout_per_attempt_and_says_how_many(peer):
    started = time.monotonic()
    with pytest.raises(KmsError) as caught:
        KmsClient(KmsTransport(peer.url("hang"), timeout=0.5, retries=2, backoff=0.1)).call(ops.get_attributes("x"))
    assert time.monotonic() - started < 5
    assert caught.value.attempts == 2 and "2 attempts" in str(caught.value)


@pytest.mark.parametrize("option", ["ca_cert", "client_cert"])
def test_a_missing_tls_file_is_named_before_and_at_sending(peer, tmp_path, option):
    missing = str(tmp_path / "nothing.pem")
    files = {"ca_cert": missing} if option == "ca_cert" else {"client_cert": missing, "client_key": missing}
    problems = ConnectionOptions.problems(_params(peer.url("notfound"), **files))
    assert problems and option in problems[0] and missing in problems[0], problems
    with pytest.raises(KmsError) as caught:
        _client(peer.base.replace("http:", "https:") + "/notfound", **files).call(ops.get_attributes("x"))
    assert missing in str(caught.value) or option in str(caught.value), str(caught.value)


def test_a_password_in_the_url_never_shows_whole_or_in_part():
    url = closed_port_url().replace("http://", "http://user:%s@" % PASSWORD)
    problems = ConnectionOptions.problems(_params(url))
    assert not secret_leaks([PASSWORD, "Secr@"], {"problems": json.dumps(problems)})
    with pytest.raises(KmsError) as caught:
        _client(url).call(ops.get_attributes("x"))
    assert not secret_leaks([PASSWORD], _all_text(caught.value)), str(caught.value)
    assert "Secr@" not in str(caught.value) and "@Secr" not in str(caught.value)


def test_the_audit_store_keeps_no_part_of_a_password_in_a_url(tmp_path):
    store = str(tmp_path / "audit.db")
    url = "http://user:%s@127.0.0.1:9998" % PASSWORD
    with AuditTrail(store, context={"kms_url": url}) as trail:
        trail.record("kms.get_attributes", "key_pair", "x", "failure", {"reason": "Connection_Failed"})
    with open(store, "rb") as handle:
        data = handle.read()
    stored = AuditTrail(store).query()[0]
    assert not secret_leaks([PASSWORD], {"kms_url": stored["kms_url"], "file": data}), stored["kms_url"]
    assert "Secr@" not in stored["kms_url"], stored["kms_url"]


@pytest.mark.parametrize("name", ["web\n", "web\r", "web\t", "\nweb", "w\u00e9b", "web/x", "", "a" * 129, "web\x00"])
def test_names_are_matched_whole(name):
    assert ops.object_name_problem(name), name


def test_a_store_whose_version_was_reset_is_broken_not_empty(tmp_path):
    store = str(tmp_path / "audit.db")
    with AuditTrail(store) as trail:
        for index in range(3):
            trail.record("kms.seed", "test", "seed-%d" % index, "success", {})
    connection = sqlite3.connect(store)
    connection.execute("PRAGMA user_version = 0")
    connection.close()
    try:
        outcome = AuditTrail(store).verify()
    except AuditError as exc:
        assert store in str(exc)
    else:
        assert not outcome["valid"], outcome


@pytest.mark.parametrize("since", ["2026-01-01T00:00:00+25:99", "2026-02-30", "yesterday", "2026-01-01T25:00:00Z"])
def test_a_bad_time_filter_is_an_audit_error(tmp_path, since):
    store = str(tmp_path / "audit.db")
    with AuditTrail(store) as trail:
        trail.record("kms.seed", "test", "seed", "success", {})
        with pytest.raises(AuditError) as caught:
            trail.query(since=since)
    assert "since" in str(caught.value)


@pytest.mark.parametrize("document", [
    None, 1, "x", [], {}, {"tag": ""}, {"tag": 1, "value": 1}, {"tag": "x"}, {"tag": "x", "type": "Nope", "value": 1},
    {"tag": "x", "type": "Integer", "value": "12"}, {"tag": "x", "type": "Integer", "value": 2 ** 40},
    {"tag": "x", "type": "Structure", "value": "not a list"}, {"tag": "x", "type": "Structure", "value": [1]},
    {"tag": "x", "type": "ByteString", "value": "abc"}, {"tag": "x", "type": "DateTime", "value": "yesterday"},
    {"tag": "x", "type": "Boolean", "value": "true"}, {"tag": "x", "type": "TextString", "value": ["a"]},
    {"tag": "x", "type": "Enumeration", "value": 1.5}, {"tag": "x", "value": [{"tag": "y", "value": {}}]},
    {"tag": "x", "type": "Integer", "value": 1, "extra": True},
])
def test_the_codec_refuses_garbage_with_its_own_error(document):
    with pytest.raises(ttlv.TTLVError):
        ttlv.decode(document)
