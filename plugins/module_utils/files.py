# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing exported PEM files the Ansible way: only when the content differs, atomically,
with the file attributes (mode, owner, ...) the task asked for, and not in check mode.

Destinations are checked before any KMS call (:func:`destination_problems`), so a folder
that is missing or not writable stops the task before the KMS changes; a write that fails
all the same raises a TaskError, which ends the module with a one-line message (no traceback), and the module's
result still says what the run changed and which ids exist (``KmsModule.outcome``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import TaskError


def read_file(path):
    """The bytes of ``path``, or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def destination_problem(option, path):
    """Why the file ``path`` (given as ``option``) cannot be written, or None."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return "%s %s is a folder, not a file" % (option, path)
    if not os.path.exists(folder):
        return "%s %s: the folder %s does not exist" % (option, path, folder)
    if not os.path.isdir(folder):
        return "%s %s: %s is not a folder" % (option, path, folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        return "%s %s: the folder %s is not writable" % (option, path, folder)
    return None


def destination_problems(params, options):
    """Problems with the file destinations among ``options`` that are set in ``params``."""
    return [problem for problem in (destination_problem(option, params[option])
                                    for option in options if params.get(option)) if problem]


def write_text_file(module, path, content, option="dest"):
    """Make ``path`` hold ``content`` (text); returns True when anything changed (or would).

    A file that cannot be written raises TaskError naming ``option`` and the cause (the
    module's ``outcome`` goes into the failure result). ``module`` lends the file methods
    of AnsibleModule (atomic_move, file attributes) and ``check_mode``.
    """
    return write_public_file(module, path, content.encode("utf-8"), option)


def write_public_file(module, path, data, option="dest", same=None):
    """Make ``path`` hold the public ``data`` (bytes, such as a CRL), with the default mode
    (or the task's). ``same`` as for :func:`write_secret_file`."""
    return _write(module, path, data, option, same, secret=False)


def write_secret_file(module, path, data, option, same=None):
    """Make ``path`` hold the secret ``data`` (bytes: a private key, a PKCS#12 bundle, a key,
    or a callable that makes them, called only when the file is written).

    The file is mode 0600 unless the task's ``mode`` says otherwise, and never readable by
    others on the way (written 0600 and renamed, not moved with default permissions).
    ``same(existing_bytes)`` says whether an existing file already holds the same content
    when the bytes differ on each encoding (encrypted PEM, PKCS#12, a CRL), and is needed
    when ``data`` is a callable; otherwise the bytes are compared.
    """
    return _write(module, path, data, option, same, secret=True)


def _write(module, path, data, option, same, secret):
    existing = read_file(path)
    changed = existing is None or not (same(existing) if same else existing == data)
    if changed and not module.check_mode:
        directory = os.path.dirname(os.path.abspath(path))
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".pkimanager-kms-")  # created 0600
            with os.fdopen(fd, "wb") as handle:
                handle.write(data() if callable(data) else data)
            if secret:
                os.rename(tmp, path)
        except (IOError, OSError) as exc:
            if tmp and os.path.exists(tmp):
                os.remove(tmp)
            raise TaskError("%s %s could not be written: %s" % (option, path, exc.strerror or exc))
        if not secret:
            try:
                module.atomic_move(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    file_args = module.load_file_common_arguments(module.params, path=path)
    if secret and file_args.get("mode") is None:
        file_args["mode"] = "0600"
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return changed
