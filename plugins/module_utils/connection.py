# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport the shared connection options build. The options themselves (spec,
environment variables, checks) are :class:`options.ConnectionOptions`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pkimanager.kms.plugins.module_utils.options import ConnectionOptions
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

# The checks of the connection options, under the name callers and tests have used.
validate_connection_params = ConnectionOptions.problems


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
