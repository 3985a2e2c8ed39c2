# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option groups: one spec, one set of environment variables and one set of checks,
shared by the modules, the lookup and the transport; and the one error base."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.pkimanager.kms.plugins.doc_fragments import audit as audit_fragment
from ansible_collections.pkimanager.kms.plugins.doc_fragments import connection as connection_fragment
from ansible_collections.pkimanager.kms.plugins.module_utils import errors, transport
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditError, AuditMirrorError
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError, PkiManagerError
from ansible_collections.pkimanager.kms.plugins.module_utils.kms_module import KmsModule
from ansible_collections.pkimanager.kms.plugins.module_utils.options import (
    AuditOptions,
    ConnectionOptions,
    kms_urls,
    url_problems,
)
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport
from ansible_collections.pkimanager.kms.plugins.module_utils.ttlv import TTLVError

URL = "https://kms.example.test:9998"


def test_connection_spec_falls_back_to_the_environment_variables_of_the_group():
    spec = ConnectionOptions.argument_spec()
    assert sorted(spec) == ["api_key", "ca_cert", "client_cert", "client_key", "kms_url", "retries", "timeout",
                            "validate_certs"]
    assert spec["kms_url"]["fallback"][1] == ["KMS_URL", "COSMIAN_KMS_SERVER_URL"]
    assert spec["api_key"]["fallback"][1] == ["KMS_API_KEY", "COSMIAN_KMS_API_KEY"]
    assert spec["api_key"]["no_log"] is True and spec["kms_url"]["required"] is True
    assert (spec["kms_url"]["type"], spec["kms_url"]["elements"]) == ("list", "str")
    assert ConnectionOptions.argument_spec() is not spec


def test_audit_spec_uses_the_environment():
    spec = AuditOptions.argument_spec()
    assert sorted(spec) == ["audit_jsonl", "audit_log"]
    assert spec["audit_log"]["type"] == "path" and spec["audit_log"]["fallback"][1] == ["KMS_AUDIT_LOG"]
    assert spec["audit_jsonl"]["fallback"][1] == ["KMS_AUDIT_JSONL"]
    assert AuditOptions.argument_spec() is not spec
    context = AuditOptions.context_argument_spec()["audit_context"]
    assert context["type"] == "dict" and sorted(context["options"]) == ["playbook", "task"]


def test_ignored_connection_options_keep_names_and_types_but_no_default_or_fallback():
    spec, ignored = ConnectionOptions.argument_spec(), ConnectionOptions.ignored_argument_spec()
    assert sorted(ignored) == sorted(spec)
    for name, settings in ignored.items():
        assert settings["type"] == spec[name]["type"]
        assert not set(settings) & {"required", "default", "fallback"}
    assert ignored["api_key"]["no_log"] is True


def plugins_fragment_env(fragment):
    """option -> the env names of a doc fragment's PLUGINS, in Ansible's order (the last set wins)."""
    options = yaml.safe_load(fragment.PLUGINS)["options"]
    return dict((name, tuple(entry["name"] for entry in spec["env"])) for name, spec in options.items())


@pytest.mark.parametrize("group, fragment", [(ConnectionOptions, connection_fragment), (AuditOptions, audit_fragment)])
def test_the_lookup_fragment_lists_the_modules_env_variables_last_wins(group, fragment):
    assert plugins_fragment_env(fragment.ModuleDocFragment) == dict(
        (option, tuple(reversed(names))) for option, names in group.ENV.items())


def test_setting_problems_name_every_bad_value():
    problems = ConnectionOptions.setting_problems(dict(kms_url="ftp://x", api_key="a b", client_key="/k",
                                                       timeout=0, retries=0))
    named = [problem.split(" ")[0] for problem in problems]
    assert named == ["kms_url", "api_key", "client_key", "timeout", "retries"]
    assert ConnectionOptions.setting_problems(dict(kms_url=URL)) == []


def test_file_problems_are_part_of_the_checks_but_not_of_the_settings(tmp_path):
    params = dict(kms_url=URL, ca_cert=str(tmp_path / "missing.pem"))
    assert ConnectionOptions.setting_problems(params) == []
    assert ConnectionOptions.problems(params) == ["ca_cert %s does not exist" % params["ca_cert"]]
    assert ConnectionOptions.problems(dict(params, validate_certs=False)) == []
    assert AuditOptions.problems({"audit_log": "/x"}) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"retries": 0}, "retries is the number of attempts and must be at least 1, got 0"),
    ({"timeout": -1}, "timeout must be a positive number of seconds, got -1"),
    ({"client_key": "/k"}, "client_key needs client_cert"),
])
def test_the_transport_runs_the_same_checks_with_the_same_words(kwargs, message):
    params = dict(kms_url=URL, **kwargs)
    assert ConnectionOptions.setting_problems(params) == [message]
    with pytest.raises(KmsError) as caught:
        KmsTransport(URL, **kwargs)
    assert (caught.value.message, caught.value.reason) == (message, "Request_Not_Sent")


def test_every_error_of_the_collection_has_one_base():
    for kind in (KmsError, TTLVError, AuditError, AuditMirrorError):
        assert issubclass(kind, PkiManagerError)
    assert issubclass(TTLVError, ValueError)  # as before: callers catching ValueError still do


def test_the_reason_tables_live_with_the_error_and_the_transport_reads_them():
    assert transport.parse_reason is errors.parse_reason
    assert not hasattr(transport, "KMIP_REASONS")  # one home: errors.py
    assert errors.parse_reason(404, "Item_Not_Found: no x") == ("Item_Not_Found", "no x")
    assert errors.parse_reason(422, "ItemNotFound: gone") == ("Item_Not_Found", "gone")


def _raising(error):
    def run():
        raise error
    return run


@pytest.mark.parametrize("error, msg, kms_error", [
    (KmsError("no object web", reason="Item_Not_Found", operation="Get", object_id="web"),
     "Get on 'web' failed: Item_Not_Found: no object web", "Item_Not_Found"),
    (AuditError("audit store /x is not writable:\n  disk full"), "audit store /x is not writable: disk full", None),
    (TTLVError("Integer must be\tan integer"), "Integer must be an integer", None),
    (RuntimeError("a bug"), "General_Failure: unexpected RuntimeError: a bug", "General_Failure"),
])
def test_exit_with_catches_the_base_once(monkeypatch, error, msg, kms_error):
    """Any error of the collection ends the module with its one-line message; a KmsError
    keeps its kms_error, and anything else is a General_Failure."""
    seen = {}
    monkeypatch.setattr(AnsibleModule, "fail_json", lambda self, msg, **kwargs: seen.update(msg=msg, **kwargs))
    monkeypatch.setattr(AnsibleModule, "exit_json", lambda self, **kwargs: seen.update(exited=True))
    module = KmsModule.__new__(KmsModule)
    module.params, module.outcome = {"api_key": None}, {}
    module.exit_with(_raising(error))
    assert seen["msg"] == msg and "exited" not in seen
    assert (seen["kms_error"]["reason"] if "kms_error" in seen else None) == kms_error


# --- several KMS nodes in kms_url -------------------------------------------------------------

NODE_A, NODE_B = "http://127.0.0.1:9998", "http://127.0.0.1:9999"


@pytest.mark.parametrize("value", [
    [NODE_A, NODE_B],
    "%s,%s" % (NODE_A, NODE_B),
    " %s ,\t%s " % (NODE_A, NODE_B),
    [" %s" % NODE_A, "%s " % NODE_B],
])
def test_kms_url_names_nodes_as_a_list_or_a_comma_string_blanks_dropped(value):
    assert kms_urls(value) == [NODE_A, NODE_B]
    assert url_problems(value) == [] and ConnectionOptions.setting_problems(dict(kms_url=value)) == []


def test_one_url_is_one_node_as_before():
    assert kms_urls(URL) == kms_urls([URL]) == [URL]
    assert url_problems("ftp://x") == ["kms_url must start with http:// or https://, got 'ftp://x'"]
    assert url_problems(None) == url_problems("") == ["kms_url must start with http:// or https://, got ''"]


@pytest.mark.parametrize("value, problems", [
    ("%s,,%s" % (NODE_A, NODE_B), ["kms_url item 2 of 3 is empty: remove the extra comma"]),
    ("%s," % NODE_A, ["kms_url item 2 of 2 is empty: remove the extra comma"]),
    ([NODE_A, " "], ["kms_url item 2 of 2 is empty: remove the extra comma"]),
    ("%s,ftp://admin:hunter2@kms" % NODE_A,
     ["kms_url item 2 of 2 must start with http:// or https://, got 'ftp://kms'"]),
    ([NODE_A, "https://admin:hunter2@kms:99 98"],
     ["kms_url item 2 of 2 'https://kms:99 98' contains white space or a control character"]),
    (["kms-a:9998", NODE_B, "kms-c"], ["kms_url item 1 of 3 must start with http:// or https://, got 'kms-a:9998'",
                                       "kms_url item 3 of 3 must start with http:// or https://, got 'kms-c'"]),
])
def test_each_node_is_checked_and_named_by_its_place_without_its_password(value, problems):
    assert url_problems(value) == problems
    assert ConnectionOptions.setting_problems(dict(kms_url=value)) == problems
    with pytest.raises(KmsError) as caught:
        KmsTransport(value)
    assert caught.value.message == "; ".join(problems) and "hunter2" not in str(caught.value)


def test_the_kms_url_env_variable_takes_nodes_separated_by_commas(monkeypatch):
    """Ansible splits a string given to a list option on commas (blanks kept, which kms_urls drops)."""
    monkeypatch.setenv("KMS_URL", "%s, %s" % (NODE_A, NODE_B))
    result = ArgumentSpecValidator(ConnectionOptions.argument_spec()).validate({})
    assert result.error_messages == [] and kms_urls(result.validated_parameters["kms_url"]) == [NODE_A, NODE_B]
    given = ArgumentSpecValidator(ConnectionOptions.argument_spec()).validate({"kms_url": URL})
    assert given.validated_parameters["kms_url"] == [URL]
