# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options shared by every plugin that talks to Cosmian KMS."""

    DOCUMENTATION = r"""
options:
  kms_url:
    description:
      - Base URL of the Cosmian KMS, for example V(http://127.0.0.1:9998) or V(https://kms.example.com),
        or the base URLs of several KMS nodes that share one database, in the order to try them.
      - The plugin sends KMIP 2.1 JSON TTLV requests to C(<kms_url>/kmip/2_1).
      - A list, or one string of URLs separated by commas, such as
        V(http://127.0.0.1:9998,http://127.0.0.1:9999). Spaces around each URL are ignored; an
        empty item (two commas in a row) and a URL that does not start with C(http://) or
        C(https://) are refused before any KMS call, naming the item.
      - If not set, the environment variables E(KMS_URL) then E(COSMIAN_KMS_SERVER_URL) are used,
        in the comma form for several nodes (C(KMS_URL=http://127.0.0.1:9998,http://127.0.0.1:9999)).
      - "Failover between nodes: a request goes first to the node that answered the previous request
        of the task (the first URL at the start). A connection error, a timeout or an HTTP 5xx answer
        moves it to the next node, round robin; O(retries) counts the attempts across all nodes
        (two nodes and O(retries=3): first, second, first). Moving to a node that has not failed
        for this request is immediate; going back to one that has waits first (1 s, 2 s, ...).
        An HTTP 4xx answer never moves the request, because a node has decided; a TLS failure
        neither, because it is a setting to fix. So a dead node costs one failed connection per
        task, not one per request."
      - Errors name the node (or every node tried, and those the attempts did not reach), and each
        audit record names the node that served its call. No URL is ever shown with its
        C(user:password@) part.
      - "When a load balancer is the better answer: a health-checked load balancer in front of the
        nodes (one URL here) is better when many controllers or users share the nodes, when nodes
        come and go, or to terminate TLS in one place. The list here is for small setups without
        one. Either way, every node must present a certificate valid for its URL and all nodes
        must share the same database, or objects made on one are missing on the others."
      - Proxies come from the environment of the host that runs the plugin, E(HTTP_PROXY) for
        C(http://) URLs and E(HTTPS_PROXY) for C(https://) ones (through a C(CONNECT) tunnel), else
        E(ALL_PROXY), the lower-case name first; E(NO_PROXY) lists the hosts, domains and IP
        networks (V(10.0.0.0/8)) reached directly, V(*) all of them. The proxy itself must be an
        C(http://) one; C(user:password@) in its URL is sent as C(Proxy-Authorization).
    type: list
    elements: str
    required: true
  api_key:
    description:
      - "Bearer token sent as C(Authorization: Bearer <api_key>): a Cosmian API token or a JWT."
      - If not set, the environment variables E(KMS_API_KEY) then E(COSMIAN_KMS_API_KEY) are used.
      - Only visible ASCII characters are accepted (C(!) to C(~), 0x21 to 0x7E), which covers API
        tokens and JWTs. A space, tab, line break, other control character or non-ASCII character
        is refused before any KMS call, with a message that does not show the key. A trailing
        line break usually comes from C(echo token | ansible-vault encrypt_string); use
        C(printf %s token) instead.
      - Never written to the audit trail, logs or results, in any form (raw, escaped or URL-encoded).
    type: str
  ca_cert:
    description:
      - PEM file of the certificate authorities that sign the KMS server's TLS certificate, or a
        folder of CA files prepared with C(openssl rehash).
      - Without it, the CA file or folder named by the environment variable E(REQUESTS_CA_BUNDLE)
        (else E(CURL_CA_BUNDLE)) is used when set on the host that runs the plugin, else the
        operating system's trust store, as OpenSSL finds it (E(SSL_CERT_FILE) and
        E(SSL_CERT_DIR) move it). The CA bundle of the Python package C(certifi) is not used.
      - A missing or unreadable file is refused before any KMS call. Ignored when
        O(validate_certs=false).
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS; requires O(client_key).
      - A missing or unreadable file is refused before any KMS call.
    type: path
  client_key:
    description:
      - PEM private key file of O(client_cert) for mutual TLS.
      - A missing or unreadable file is refused before any KMS call.
    type: path
  validate_certs:
    description:
      - Whether to verify the KMS server's TLS certificate. Only set to V(false) on test servers.
    type: bool
    default: true
  timeout:
    description:
      - Timeout in seconds of each HTTP request to the KMS.
      - An answer larger than 16 MiB is refused (reason C(Response_Too_Large)) without being
        read into memory.
    type: float
    default: 30
  retries:
    description:
      - Number of attempts per request, counted across all nodes of O(kms_url). Network errors,
        timeouts and HTTP 5xx answers are retried with a growing delay (1 s, 2 s, ...), at the next
        node when there are several (see O(kms_url)); HTTP 4xx answers never are.
      - A timed-out request may have run on the server. When the retry of a Revoke, Destroy or
        Activate is refused because that earlier attempt already did it (C(Item_Not_Found),
        C(Wrong_Key_Lifecycle_State)), the object's state is read back and, when it is what the
        operation wanted, the operation counts as done; its audit record says so.
    type: int
    default: 3
notes:
  - All modules of this collection belong to the action group C(pkimanager.kms.kms), so the
    connection options can be set once with C(module_defaults) and C(group/pkimanager.kms.kms).
"""

    # For plugins that Ansible configures (the lookup): the environment variables of
    # options.ConnectionOptions.ENV. Ansible lets the last variable set win, so they are listed
    # last-wins (KMS_URL over COSMIAN_KMS_SERVER_URL); tests/unit check both stay in step.
    PLUGINS = r"""
options:
  kms_url:
    env:
      - name: COSMIAN_KMS_SERVER_URL
      - name: KMS_URL
  api_key:
    env:
      - name: COSMIAN_KMS_API_KEY
      - name: KMS_API_KEY
"""

    # For a module that does not talk to the KMS (pkimanager.kms.kms_audit) but belongs to the
    # action group: pkimanager.kms.connection.ignored. The options and types of DOCUMENTATION,
    # without defaults (options.ConnectionOptions.ignored_argument_spec). A literal: ansible-test
    # reads doc fragments without running them.
    IGNORED = r"""
options:
  kms_url:
    description:
      - Ignored. Accepted only so that C(module_defaults) of C(group/pkimanager.kms.kms) apply to
        this module; ansible-core fails a module given an option it does not accept.
    type: list
    elements: str
  api_key:
    description: Ignored, like O(kms_url).
    type: str
  ca_cert:
    description: Ignored, like O(kms_url).
    type: path
  client_cert:
    description: Ignored, like O(kms_url).
    type: path
  client_key:
    description: Ignored, like O(kms_url).
    type: path
  validate_certs:
    description: Ignored, like O(kms_url).
    type: bool
  timeout:
    description: Ignored, like O(kms_url).
    type: float
  retries:
    description: Ignored, like O(kms_url).
    type: int
"""
