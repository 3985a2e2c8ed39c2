# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every plugin shares, in one place (documented in the
``pkimanager.kms.connection`` doc fragment), and the transport they build."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import env_fallback

from ansible_collections.pkimanager.kms.plugins.module_utils.transport import (
    KmsTransport,
    api_key_problem,
    url_problem,
)

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


def _file_problem(option, path, directory_ok=False):
    """Why the file ``path`` given as ``option`` cannot be read, or None."""
    if directory_ok and os.path.isdir(path):
        if os.access(path, os.R_OK | os.X_OK):
            return None
        return "%s %s is a folder that cannot be read" % (option, path)
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except IsADirectoryError:
        return "%s %s is a folder, not a PEM file" % (option, path)
    except FileNotFoundError:
        return "%s %s does not exist" % (option, path)
    except OSError as exc:
        return "%s %s cannot be read: %s" % (option, path, exc.strerror or exc)
    return None


def validate_connection_params(params):
    """Problems with the connection options, as messages (checked before any KMS call).

    No message shows the api_key or the password of a kms_url.
    """
    problems = []
    for problem in (url_problem(params.get("kms_url") or ""), api_key_problem(params.get("api_key"))):
        if problem:
            problems.append(problem)
    # requests reads these files only when it connects, and then fails with an OSError.
    files = [("client_cert", False), ("client_key", False)]
    if params.get("validate_certs", True):
        files.insert(0, ("ca_cert", True))  # requests also takes a folder of hashed CA files
    for option, directory_ok in files:
        if params.get(option):
            problem = _file_problem(option, params[option], directory_ok)
            if problem:
                problems.append(problem)
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
