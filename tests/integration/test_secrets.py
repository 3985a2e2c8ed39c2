"""Credentials that an HTTP header cannot carry (a line break from `echo token | ansible-vault
encrypt_string`, a tab, a character outside Latin-1), given to kms_keypair and the kms_pem
lookup through the option and through KMS_API_KEY, at -vvv: each run fails before any KMS
call with a clear one-line error, and no rendering of the token (raw, repr-escaped,
JSON-escaped, URL-encoded) reaches the output, the task results or the audit store.

The tokens come from an extra-vars file, as they would from a vault: ansible-core 2.19 quotes
the playbook lines around a failed task, so a token written into the playbook itself would
be shown by Ansible, whatever the collection does.

Each token is two random hexadecimal halves around the bad character. Every rendering of
the token holds its halves unchanged (hex digits are escaped and percent-encoded by no
encoding), so asserting that neither half appears anywhere covers all of them."""

import json
import os
import uuid

import pytest

from kms_checks import exists, play, records

BAD_CHARACTERS = {
    "a trailing newline": ("\n", "a line feed (\\n) at its end"),
    "a CR LF inside": ("\r\n", "a carriage return (\\r) inside it"),
    "a tab inside": ("\t", "a tab (\\t) inside it"),
    "a character outside Latin-1": ("\u20ac", "a non-ASCII character inside it"),
}


def _token(bad, at_end=False):
    """A token with ``bad`` inside it or at its end, and its two halves."""
    head, tail = uuid.uuid4().hex, uuid.uuid4().hex
    return (head + tail + bad if at_end else head + bad + tail), (head, tail)


@pytest.fixture
def secret_env(env):
    folder = env["tmp"]
    return dict(env, KMS_AUDIT_JSONL=os.path.join(folder, "audit.jsonl"))


def _keypair(task_name, pair_name, **options):
    return {"name": task_name, "ignore_errors": True,
            "pkimanager.kms.kms_keypair": dict({"name": pair_name, "size": 2048}, **options)}


def _lookup(task_name, pair_name, token_var=None):
    call = "lookup('pkimanager.kms.kms_pem', '%s'%s)" % (pair_name, ", api_key=" + token_var if token_var else "")
    return {"name": task_name, "ignore_errors": True, "ansible.builtin.set_fact": {"pem": "{{ %s }}" % call}}


def _assert_refused(result, prefix, problem):
    """``prefix`` None: the message (a lookup's, which Ansible wraps) only has to hold the problem."""
    assert result["_status"] == "failed", result
    message = "api_key contains " + problem
    assert result["msg"].startswith(prefix + message) if prefix is not None else message in result["msg"], \
        result["msg"]
    assert "\n" not in result["msg"]
    assert "Traceback" not in json.dumps(result) and "MODULE FAILURE" not in result["msg"], result


def _assert_nowhere(halves, run, folder):
    shown = (run.output + repr(run.records)).lower()
    for half in halves:
        assert half not in shown, "a part of the token is in the output or the results"
    stores = [name for name in os.listdir(folder) if name.startswith("audit")]
    assert "audit.db" in stores and "audit.jsonl" in stores, stores
    for name in stores:  # the database, its WAL and the JSON-lines mirror
        with open(os.path.join(folder, name), "rb") as handle:
            content = handle.read().lower()
        assert not any(half.encode("ascii") in content for half in halves), name


def test_bad_tokens_given_as_options_fail_cleanly_and_leak_nowhere(secret_env, client):
    prefix = "pair-%s-" % uuid.uuid4().hex[:8]
    tasks, expected, halves, tokens = [], {}, [], {}
    for index, (label, (bad, problem)) in enumerate(sorted(BAD_CHARACTERS.items())):
        token_var = "token_%d" % index
        tokens[token_var], parts = _token(bad, at_end=problem.endswith("at its end"))
        halves.extend(parts)
        pair = "%s%d" % (prefix, index)
        tasks.append(_keypair("module, " + label, pair, api_key="{{ %s }}" % token_var))
        tasks.append(_lookup("lookup, " + label, pair, token_var))
        expected[label] = (pair, problem)
    tasks.append(_keypair("control", prefix + "control"))  # no token: the server is open
    tokens_file = os.path.join(secret_env["tmp"], "tokens.json")
    with open(tokens_file, "w") as handle:
        json.dump(tokens, handle)

    run = play(secret_env, *tasks, args=["-vvv", "-e", "@" + tokens_file])

    assert run.result("control")["changed"], run.output[-3000:]
    for label, (pair, problem) in expected.items():
        _assert_refused(run.result("module, " + label), "Invalid arguments: ", problem)
        _assert_refused(run.result("lookup, " + label), None, problem)
        assert not exists(client, pair)
        assert records(secret_env, entity_id=pair) == []  # refused before any call, so nothing to audit
    assert [r["status"] for r in records(secret_env, entity_id=prefix + "control",
                                         operation="kms.create_key_pair")] == ["success"]
    _assert_nowhere(halves, run, secret_env["tmp"])


def test_a_token_ending_in_cr_in_kms_api_key_fails_cleanly_and_leaks_nowhere(secret_env, client):
    """`export KMS_API_KEY="$(cat token.txt)"` of a file saved with CRLF line ends keeps the CR."""
    token, halves = _token("\r", at_end=True)
    pair = "envpair-%s" % uuid.uuid4().hex[:8]
    # The control task runs first, while the variable is unset, so that the store exists.
    control = play(secret_env, _keypair("control", pair + "-control"))
    assert control.result("control")["changed"], control.output[-3000:]

    run = play(dict(secret_env, KMS_API_KEY=token), _keypair("module", pair),
               _lookup("lookup", pair), args=["-vvv"])

    problem = "a carriage return (\\r) at its end"
    _assert_refused(run.result("module"), "Invalid arguments: ", problem)
    _assert_refused(run.result("lookup"), None, problem)
    assert not exists(client, pair) and records(secret_env, entity_id=pair) == []
    _assert_nowhere(halves, run, secret_env["tmp"])
