# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compile the collection's module_utils at most once per task, and once per version.

Ansible runs a module from a zip of its code (AnsiballZ), and compiling that code is most
of what a task of this collection costs on the managed node: Python's zipimport (3.11 and
3.12 among others) compiles each module twice (once only to name its file: ``find_spec``
asks ``get_filename``, which compiles), and it cannot keep the result the way Python keeps
``__pycache__`` for files. Every module imports this first: it puts a finder ahead of
zipimport that takes the collection's own modules from the same zip, compiles each once,
and keeps the compiled code in a private folder of the user's cache
(``$XDG_CACHE_HOME/pkimanager.kms/bytecode``, default ``~/.cache/...``), keyed by the hash
of the source and the Python version, so that later tasks only load it.

The environment variable ``PKIMANAGER_KMS_BYTECODE_CACHE`` names another folder, or turns
the keeping off (``off``). A folder that is not the user's own, or that others may write
to, is not used. Outside a zip (tests, ansible-test, an installed collection) nothing here
runs, and anything the finder cannot handle it leaves to zipimport.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import marshal
import os
import stat
import sys
import tempfile
import time
import zipimport

from importlib.util import MAGIC_NUMBER, spec_from_loader

PACKAGE = __name__.rpartition(".")[0] + "."
CACHE_VARIABLE = "PKIMANAGER_KMS_BYTECODE_CACHE"
# Entries of earlier versions go when a new one is written and they are this old.
STALE_SECONDS = 30 * 24 * 3600


class CompileOnceFinder:
    """Finder and loader of the collection's plain modules (not packages) in a zip."""

    def __init__(self, cache_folder):
        self.cache_folder = cache_folder

    def find_spec(self, fullname, path=None, target=None):
        """A spec for ``fullname`` when a zipimporter on ``path`` holds its source, else None."""
        del target  # the finder protocol passes it; a module is never reloaded here
        if not fullname.startswith(PACKAGE) or not path:
            return None
        for entry in path:
            importer = sys.path_importer_cache.get(entry)
            if not isinstance(importer, zipimport.zipimporter):
                continue
            try:
                if importer.is_package(fullname):
                    return None
                source = importer.get_source(fullname)
            except zipimport.ZipImportError:
                continue
            if source is None:
                continue
            origin = os.path.join(entry, fullname.rpartition(".")[2] + ".py")
            spec = spec_from_loader(fullname, self, origin=origin)
            spec.has_location = True  # __file__ as zipimport would set it
            spec.loader_state = source
            return spec
        return None

    @staticmethod
    def create_module(spec):
        del spec  # the default module object
        return None

    def exec_module(self, module):
        spec = module.__spec__
        exec(self.code(spec.name, spec.loader_state, spec.origin), module.__dict__)  # pylint: disable=exec-used

    @staticmethod
    def get_source(fullname):
        """The source, for tracebacks (linecache asks the module's loader)."""
        module = sys.modules.get(fullname)
        return getattr(getattr(module, "__spec__", None), "loader_state", None)

    def code(self, fullname, source, origin):
        """The code of ``source``: kept from an earlier task when the cache has it, else
        compiled (and kept)."""
        if self.cache_folder is None:
            return compile(source, origin, "exec", dont_inherit=True)
        digest = hashlib.sha256(MAGIC_NUMBER + fullname.encode("utf-8") + b"\0" + source.encode("utf-8"))
        path = os.path.join(self.cache_folder, digest.hexdigest())
        try:
            with open(path, "rb") as handle:
                return _located(marshal.loads(handle.read()), origin)
        except (OSError, ValueError, EOFError, TypeError):
            pass  # not kept yet, or unreadable: compiled below
        code = compile(source, origin, "exec", dont_inherit=True)
        _keep(self.cache_folder, path, code)
        return code


def _located(code, origin):
    """``code`` (and the functions and classes in it) naming ``origin`` as its file: the zip
    of this task, not the one of the task that compiled it."""
    if code.co_filename == origin:
        return code
    constants = tuple(_located(value, origin) if isinstance(value, type(code)) else value
                      for value in code.co_consts)
    return code.replace(co_filename=origin, co_consts=constants)


def _keep(folder, path, code):
    """Write ``code`` to ``path`` (atomically, private) and drop stale entries; a failure
    only means the next task compiles again."""
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(handle, "wb") as output:
            output.write(marshal.dumps(code))
        os.replace(temporary, path)
        now = time.time()
        for name in os.listdir(folder):
            entry = os.path.join(folder, name)
            if entry != path and now - os.lstat(entry).st_mtime > STALE_SECONDS:
                os.remove(entry)
    except (OSError, ValueError):
        pass


def cache_folder(environ=None):
    """The private folder compiled code is kept in, created when missing; None when keeping
    is off or the folder is not safe (not a directory of this user's that only it may write)."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(CACHE_VARIABLE, "")
    if chosen.lower() in ("off", "0", "false", "no"):
        return None
    if not chosen:
        base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        chosen = os.path.join(base, "pkimanager.kms", "bytecode")
    try:
        os.makedirs(chosen, mode=0o700, exist_ok=True)
        status = os.lstat(chosen)
    except OSError:
        return None
    if (not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid()
            or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        return None
    return chosen


def install():
    """Put the finder first on sys.meta_path, once, when this module came from a zip."""
    if not isinstance(globals().get("__loader__"), zipimport.zipimporter):
        return
    if not any(isinstance(finder, CompileOnceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, CompileOnceFinder(cache_folder()))


install()
