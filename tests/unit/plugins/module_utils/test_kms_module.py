# -*- coding: utf-8 -*-
"""KmsModule's last line of defence: a failure message never carries the API key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pkimanager.kms.plugins.module_utils.kms_module import KmsModule

API_KEY = "tok3n-\n-half"


@pytest.mark.parametrize("message", [
    "header value %r is invalid" % ("Bearer " + API_KEY),
    "echoed: %s" % API_KEY.upper(),
    "url-encoded: tok3n-%0A-half",
])
def test_fail_json_redacts_every_rendering_of_the_api_key(monkeypatch, message):
    seen = {}
    monkeypatch.setattr(AnsibleModule, "fail_json", lambda self, msg, **kwargs: seen.update(msg=msg, **kwargs))
    module = KmsModule.__new__(KmsModule)
    module.params = {"api_key": API_KEY}
    module.outcome = {"changed": True}
    module.fail_json(msg=message, name="web")
    assert "tok3n" not in seen["msg"].lower() and "half" not in seen["msg"]
    assert "********" in seen["msg"] and seen["changed"] is True and seen["name"] == "web"
