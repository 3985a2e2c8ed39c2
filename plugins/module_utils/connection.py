# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every plugin shares, in one place (documented in the
``pkimanager.kms.connection`` doc fragment), and the transport they build."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

URL_ENV = ("KMS_URL", "COSMIAN_KMS_SERVER_URL")
API_KEY_ENV = ("KMS_API_KEY", "COSMIAN_KMS_API_KEY")


def connection_argument_spec():
    """Argument spec of the shared connection options (a new dict each call)."""
    return dict(
        kms_url=dict(type="str", required=True, fallback=(env_fallback, list(URL_ENV))),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, list(API_KEY_ENV))),
        ca_cert=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="float", default=30.0),
        retries=dict(type="int", default=3),
    )


CONNECTION_REQUIRED_TOGETHER = [("client_cert", "client_key")]


def validate_connection_params(params):
    """Problems with the connection options, as messages (checked before any KMS call)."""
    problems = []
    url = params.get("kms_url") or ""
    if not url.startswith(("http://", "https://")):
        problems.append("kms_url must start with http:// or https://, got %r" % url)
    if params.get("timeout") is not None and params["timeout"] <= 0:
        problems.append("timeout must be a positive number of seconds, got %r" % params["timeout"])
    if params.get("retries") is not None and params["retries"] < 1:
        problems.append("retries is the number of attempts and must be at least 1, got %r" % params["retries"])
    return problems


def transport_from_params(params):
    """A KmsTransport configured from the shared connection options."""
    return KmsTransport(
        params["kms_url"],
        api_key=params.get("api_key"),
        ca_cert=params.get("ca_cert"),
        client_cert=params.get("client_cert"),
        client_key=params.get("client_key"),
        validate_certs=params.get("validate_certs", True),
        timeout=params.get("timeout", 30.0),
        retries=params.get("retries", 3),
    )
