# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where relying parties find revocation and issuer data: the CRL distribution points
(crlDistributionPoints) and authority information access (authorityInfoAccess: OCSP
responders and CA issuers) URLs of a certificate, without the KMS.

Each option is a list of http or https URLs, or None when the task leaves it unset: an
unset option is not compared with an existing certificate (Cosmian KMS adds a CRL
distribution point of its own when ``kms_public_url`` is set). ``cryptography`` is
imported inside functions (see :mod:`x509`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import urlsplit
except ImportError:  # Python 2
    from urlparse import urlsplit

CDP_OID = "2.5.29.31"
AIA_OID = "1.3.6.1.5.5.7.1.1"
# The option -> (the OpenSSL config key of its extension, the extension's OID).
URL_OPTIONS = {"crl_distribution_points": ("crlDistributionPoints", CDP_OID),
               "ocsp_responder_urls": ("authorityInfoAccess", AIA_OID),
               "ca_issuers_urls": ("authorityInfoAccess", AIA_OID)}
# An authorityInfoAccess option -> (OpenSSL's access method name, its OID).
ACCESS_METHODS = {"ocsp_responder_urls": ("OCSP", "1.3.6.1.5.5.7.48.1"),
                  "ca_issuers_urls": ("caIssuers", "1.3.6.1.5.5.7.48.2")}
# The value goes into an INI line that Cosmian splits on commas and OpenSSL parses as a list:
# printable ASCII (an IA5String), without commas, quotes, backslashes or white space.
_URL_FORBIDDEN = re.compile(r"[^\x21-\x7e]|[,\"'\\]")


def url_problem(option, url):
    """Why ``url`` cannot be one of ``option``'s URLs, or None."""
    if not isinstance(url, str) or not url:
        return "%s: each entry must be a non-empty URL, got %r" % (option, url)
    if _URL_FORBIDDEN.search(url):
        return ("%s: %r must be printable ASCII without white space, commas, quotes or backslashes "
                "(percent-encode them)" % (option, url))
    try:
        parts = urlsplit(url)
        has_host = bool(parts.hostname) and parts.port != 0  # .port raises ValueError on a bad port
    except ValueError as exc:
        return "%s: %r is not a valid URL (%s)" % (option, url, exc)
    if parts.scheme.lower() not in ("http", "https") or not has_host:
        return "%s: %r must be an absolute http:// or https:// URL with a host" % (option, url)
    return None


def requested_urls(params):
    """({option: URLs in the given order without repeats, or None when unset}, problems)."""
    wanted, problems = {}, []
    for option in URL_OPTIONS:
        urls = params.get(option)
        if urls is None:
            wanted[option] = None
            continue
        found = [p for p in (url_problem(option, url) for url in urls) if p]
        problems += found
        wanted[option] = [] if found else [u for i, u in enumerate(urls) if u not in urls[:i]]
    return wanted, problems


def urls_of(by_oid):
    """The three URL lists of a certificate or CSR, from its extensions by dotted OID ([] without)."""
    content = dict((option, []) for option in URL_OPTIONS)
    points = by_oid.get(CDP_OID)
    for point in points.value if points else []:
        content["crl_distribution_points"] += [_uri(name) for name in point.full_name or []]
    access = by_oid.get(AIA_OID)
    for description in access.value if access else []:
        for option, (_name, oid) in ACCESS_METHODS.items():
            if description.access_method.dotted_string == oid:
                content[option].append(_uri(description.access_location))
    return content


def _uri(name):
    from cryptography import x509
    if isinstance(name, x509.UniformResourceIdentifier):
        return name.value
    return "%s:%s" % (type(name).__name__, name.value)


def config_lines(content):
    """(key, critical, values) lines of the extension config for the requested URLs."""
    lines = []
    if content.get("crl_distribution_points"):
        lines.append(("crlDistributionPoints", False, ["URI:" + url for url in content["crl_distribution_points"]]))
    access = ["%s;URI:%s" % (ACCESS_METHODS[option][0], url) for option in ACCESS_METHODS
              for url in content.get(option) or []]
    if access:
        lines.append(("authorityInfoAccess", False, access))
    return lines


def adopt_csr_urls(content, params, carried):
    """A CSR's CRL distribution points and AIA are what is requested (the KMS copies them); problems
    where options ask for something else, since the extension cannot be added a second time."""
    problems = []
    for option, (key, oid) in URL_OPTIONS.items():
        if oid not in carried["extension_oids"]:
            continue
        if params.get(option) is None:
            content[option] = carried[option]
        elif content[option] != carried[option]:
            problems.append("the CSR already carries %s (%s=%s), and the KMS copies a CSR's extensions into the "
                            "certificate: leave %s unset or make it equal" % (key, option, carried[option], option))
    return problems
