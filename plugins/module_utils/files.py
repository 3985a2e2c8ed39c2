# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing exported PEM files the Ansible way: only when the content differs, atomically,
with the file attributes (mode, owner, ...) the task asked for, and not in check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_text_file(module, path, content):
    """Make ``path`` hold ``content``; returns True when anything changed (or would)."""
    data = content.encode("utf-8")
    changed = _read(path) != data
    if changed and not module.check_mode:
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".pkimanager-kms-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            module.atomic_move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    file_args = module.load_file_common_arguments(module.params, path=path)
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return changed
