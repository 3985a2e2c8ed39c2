# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep secrets out of text: one place that knows how a secret can be rendered.

Standard library only, so that every plugin (modules, lookups, the audit store) can use it.

Public API::

    redact(text, secrets)  # text with every rendering of every secret replaced by ********
    safe_url(url)          # url without its user:password@ part
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from urllib.parse import quote, quote_plus

MASK = "********"

_SCHEME_AND_SLASHES = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:/+")


def _renderings(secret):
    """Every form in which ``secret`` may show up in a message.

    A library that refuses a header quotes its value with ``repr`` (``\\n``, ``\\t``,
    ``\\xe9``); a JSON document escapes it; a URL percent-encodes it; a one-line excerpt
    folds its white space. Each of those forms may itself be rendered again (the ``repr`` of
    a message inside a JSON document), so the forms are applied twice.
    """
    def once(value):
        forms = set([value, " ".join(value.split())])
        forms.add(repr(value)[1:-1])
        forms.add(ascii(value)[1:-1])
        forms.add(json.dumps(value)[1:-1])
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(value.encode("unicode_escape").decode("ascii"))
        forms.add(quote(value))
        forms.add(quote(value, safe=""))
        forms.add(quote_plus(value))
        for encoding in ("utf-8", "latin-1"):
            try:
                forms.add(repr(value.encode(encoding))[2:-1])
            except UnicodeEncodeError:
                pass
        return forms

    result = set()
    for form in once(secret):
        result.update(once(form))
    return result


def redact(text, secrets):
    """``text`` with every rendering of each secret replaced by ``********``.

    Renderings: raw, ``repr``/``ascii``-escaped (of the text and of its UTF-8 or Latin-1
    bytes), JSON-escaped, percent-encoded (``quote``, ``quote_plus``) and with its white
    space folded, each of them once more, matched without regard to case. Secrets that are
    empty or None are ignored; ``text`` that is not a string is returned as is.
    """
    if not isinstance(text, str):
        return text
    forms = set()
    for secret in secrets or ():
        if isinstance(secret, bytes):
            secret = secret.decode("latin-1")
        if isinstance(secret, str) and secret:
            forms.update(form for form in _renderings(secret) if form.strip())
    if not forms:
        return text
    # Longest first, so that a form is not left half-masked by a shorter one it contains.
    pattern = "|".join(re.escape(form) for form in sorted(forms, key=lambda form: (-len(form), form)))
    return re.sub(pattern, MASK, text, flags=re.IGNORECASE)


def safe_url(url):
    """``url`` without the ``user:password@`` part, so that it can be shown and recorded.

    The credentials end at the last ``@`` before the first ``/`` after ``scheme://``: a password
    may hold an unencoded ``@``, ``?`` or ``#`` (``https://user:p@ss#1@kms/``), and a path
    or query of a KMS URL has no use for ``@`` (when one does, the part before it is dropped
    too: a URL shown too short is better than a password shown). A URL without a scheme
    (``user:pw@kms:9998``) is scrubbed alike. Anything that is not a string is returned
    unchanged.
    """
    if not isinstance(url, str):
        return url
    prefix = _SCHEME_AND_SLASHES.match(url)
    start = prefix.end() if prefix else 0
    end = url.find("/", start)
    if end < 0:
        end = len(url)
    at = url.rfind("@", start, end)
    if at < 0:
        return url
    return url[:start] + url[at + 1:]


# The credentials of URLs and of libpq key=value strings inside free text (a database error
# quoted by a server): "postgres://kms:secret@db/kms", "password=secret".
_URL_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s]*@")
_PASSWORD_SETTING = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def strip_credentials(text):
    """``text`` with the ``user:password@`` part of every URL in it removed and every
    ``password=...`` setting masked, for messages that quote a third party's error."""
    return _PASSWORD_SETTING.sub(r"\1***", _URL_CREDENTIALS.sub(r"\1", text))
