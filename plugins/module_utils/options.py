# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option groups every plugin shares, one small class each (in the style of
community.hashi_vault's connection options): the argument spec, the environment variables
an option falls back to, and the checks that run before any KMS call, in one place.

* :class:`ConnectionOptions`: kms_url (one KMS or several nodes: :func:`kms_urls`), api_key,
  TLS files, timeout, retries (documented in the ``pkimanager.kms.connection`` doc
  fragment). ``KmsTransport`` runs the same :meth:`ConnectionOptions.setting_problems`.
* :class:`AuditOptions`: audit_log, audit_jsonl, and audit_context (``pkimanager.kms.audit``
  and ``pkimanager.kms.audit.context``).

Modules build their spec from them (``KmsModule``), and the lookup, which has no
AnsibleModule, reads the same environment variables and runs the same checks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import safe_url

# What an api_key may hold: visible ASCII, the characters of RFC 6750 tokens, Cosmian API
# tokens and JWTs. A control character (a line break from `echo token | ansible-vault
# encrypt_string`) would make http.client refuse the header and quote the key in its error.
_TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]*")
_CHARACTER_NAMES = {"\n": "a line feed (\\n)", "\r": "a carriage return (\\r)", "\t": "a tab (\\t)",
                    " ": "a space"}


def api_key_problem(api_key):
    """Why ``api_key`` cannot be sent as a bearer token, or None when it can.

    Accepted: visible ASCII only (``!`` to ``~``, 0x21-0x7E), no space, tab, line break,
    other control character or non-ASCII character. The message names the kind of the first
    offending character and where it is, never the key itself.
    """
    if not api_key or (isinstance(api_key, str) and _TOKEN_CHARACTERS.fullmatch(api_key)):
        return None
    if not isinstance(api_key, str):
        return "api_key must be a string"
    position, character = next((index, char) for index, char in enumerate(api_key)
                               if not _TOKEN_CHARACTERS.fullmatch(char))
    if character in _CHARACTER_NAMES:
        kind = _CHARACTER_NAMES[character]
    elif ord(character) < 0x20 or ord(character) == 0x7f:
        kind = "a control character (U+%04X)" % ord(character)
    else:
        kind = "a non-ASCII character"
    where = ("at its end" if position == len(api_key) - 1 else
             "at its start" if position == 0 else "inside it")
    return ("api_key contains %s %s, but a token is visible ASCII only (0x21-0x7E: no space, tab, "
            "line break or non-ASCII character); a trailing line break usually comes from "
            "`echo token | ansible-vault encrypt_string`: use `printf %%s token` instead"
            % (kind, where))


def kms_urls(value):
    """The KMS base URLs a kms_url value names, in order: ``value`` is a list, or a string of
    URLs separated by commas (``KMS_URL=http://a:9998,http://b:9998``). Blanks (spaces, tabs)
    around each URL are dropped, as people write ``a, b``; an empty item stays, for
    :func:`url_problems` to refuse."""
    items = value if isinstance(value, (list, tuple)) else (value or "").split(",")
    return [item.strip(" \t") if isinstance(item, str) else item for item in items]


def url_problems(value):
    """Why the kms_url ``value`` (see :func:`kms_urls`) cannot be used, as messages; each URL
    is checked by :func:`url_problem`, and with several URLs each message says which item."""
    urls = kms_urls(value)
    if len(urls) == 1:
        problem = url_problem(urls[0])
        return [problem] if problem else []
    problems = []
    for position, url in enumerate(urls, 1):
        option = "kms_url item %d of %d" % (position, len(urls))
        if url == "":
            problems.append("%s is empty: remove the extra comma" % option)
        else:
            problem = url_problem(url, option)
            if problem:
                problems.append(problem)
    return problems


def url_problem(url, option="kms_url"):
    """Why ``url`` cannot be a KMS base URL, or None; the message names ``option`` and shows
    no credentials."""
    if not isinstance(url, str) or _scheme(url) not in ("https", "http"):
        return "%s must start with http:// or https://, got %r" % (
            option, safe_url(url if isinstance(url, str) else ""))
    if re.search(r"[\x00-\x20\x7f]", url):
        return "%s %r contains white space or a control character" % (option, safe_url(url))
    return None


def _scheme(url):
    """The scheme of ``url`` in lower case, '' when it has none or cannot be parsed."""
    try:
        return urlsplit(url).scheme
    except ValueError:
        return ""


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


class OptionGroup:
    """A group of options: its argument spec, environment fallbacks and checks.

    ``ENV`` maps an option to the environment variables it falls back to, first one first.
    """

    ENV = {}

    @classmethod
    def argument_spec(cls):
        """The options, as an AnsibleModule argument spec (a new dict each call)."""
        raise NotImplementedError

    @classmethod
    def fallback(cls, option):
        """The ``fallback`` of ``option``'s spec: its environment variables."""
        return (env_fallback, list(cls.ENV[option]))

    @classmethod
    def problems(cls, params):
        """Problems with the group's values in ``params``, as messages (none by default)."""
        return []


class ConnectionOptions(OptionGroup):
    """How to reach the KMS: the ``pkimanager.kms.connection`` doc fragment."""

    ENV = {"kms_url": ("KMS_URL", "COSMIAN_KMS_SERVER_URL"),
           "api_key": ("KMS_API_KEY", "COSMIAN_KMS_API_KEY")}
    REQUIRED_TOGETHER = [("client_cert", "client_key")]

    @classmethod
    def argument_spec(cls):
        return dict(
            kms_url=dict(type="list", elements="str", required=True, fallback=cls.fallback("kms_url")),
            api_key=dict(type="str", no_log=True, fallback=cls.fallback("api_key")),
            ca_cert=dict(type="path"),
            client_cert=dict(type="path"),
            client_key=dict(type="path", no_log=False),
            validate_certs=dict(type="bool", default=True),
            timeout=dict(type="float", default=30.0),
            retries=dict(type="int", default=3),
        )

    @classmethod
    def ignored_argument_spec(cls):
        """The same options with no default, requirement or fallback: for a module that
        accepts them only so that ``module_defaults`` of the action group apply to it."""
        spec = cls.argument_spec()
        for settings in spec.values():
            for key in ("required", "default", "fallback"):
                settings.pop(key, None)
        return spec

    @classmethod
    def setting_problems(cls, params):
        """Problems with the values themselves (no file is read): the checks KmsTransport
        runs when it is built. No message shows the api_key or the password of a kms_url."""
        problems = url_problems(params.get("kms_url"))
        key_problem = api_key_problem(params.get("api_key"))
        if key_problem:
            problems.append(key_problem)
        if params.get("client_key") and not params.get("client_cert"):
            problems.append("client_key needs client_cert")
        if params.get("timeout") is not None and params["timeout"] <= 0:
            problems.append("timeout must be a positive number of seconds, got %r" % params["timeout"])
        if params.get("retries") is not None and params["retries"] < 1:
            problems.append("retries is the number of attempts and must be at least 1, got %r" % params["retries"])
        return problems

    @classmethod
    def file_problems(cls, params):
        """The TLS files that cannot be read (the transport reads them only at its first
        https request, and then fails with an OSError)."""
        files = [("client_cert", False), ("client_key", False)]
        if params.get("validate_certs", True):
            files.insert(0, ("ca_cert", True))  # or a folder of hashed CA files
        problems = []
        for option, directory_ok in files:
            if params.get(option):
                problem = _file_problem(option, params[option], directory_ok)
                if problem:
                    problems.append(problem)
        return problems

    @classmethod
    def problems(cls, params):
        """Every problem with the connection options, checked before any KMS call."""
        return cls.setting_problems(params) + cls.file_problems(params)

    @classmethod
    def values(cls, get):
        """The group's values, read with ``get(option)`` (say, a lookup's get_option)."""
        return dict((option, get(option)) for option in cls.argument_spec())


class AuditOptions(OptionGroup):
    """Where the audit trail goes (``pkimanager.kms.audit``) and where a run comes from
    (``audit_context``, ``pkimanager.kms.audit.context``)."""

    ENV = {"audit_log": ("KMS_AUDIT_LOG",), "audit_jsonl": ("KMS_AUDIT_JSONL",)}

    @classmethod
    def argument_spec(cls):
        return dict(
            audit_log=dict(type="path", fallback=cls.fallback("audit_log")),
            audit_jsonl=dict(type="path", fallback=cls.fallback("audit_jsonl")),
        )

    @classmethod
    def context_argument_spec(cls):
        """audit_context: the playbook and task of a run, filled in by the collection's
        action plugin."""
        return dict(audit_context=dict(type="dict", options=dict(playbook=dict(type="str"), task=dict(type="str"))))
