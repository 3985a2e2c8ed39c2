# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compile the collection's module_utils once per task, not twice.

Ansible runs a module from a zip of its code (AnsiballZ), and Python's zipimport (3.11 and
3.12 among others) compiles each module's source twice: once only to name its file
(``find_spec`` asks ``get_filename``, which compiles) and once to run it. Compiling is most
of what a task of this collection costs on the managed node, so every module imports this
first: it puts a finder ahead of zipimport that takes the collection's own modules from the
same zip and compiles each one once. Outside a zip (tests, ansible-test, an installed
collection) it does nothing, and anything it cannot handle it leaves to zipimport.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import zipimport

from importlib.util import spec_from_loader

PACKAGE = __name__.rpartition(".")[0] + "."


class CompileOnceFinder:
    """Finder and loader of the collection's plain modules (not packages) in a zip."""

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

    @staticmethod
    def exec_module(module):
        spec = module.__spec__
        exec(compile(spec.loader_state, spec.origin, "exec", dont_inherit=True), module.__dict__)  # pylint: disable=exec-used


def install():
    """Put the finder first on sys.meta_path, once, when this module came from a zip."""
    if not isinstance(globals().get("__loader__"), zipimport.zipimporter):
        return
    if not any(isinstance(finder, CompileOnceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, CompileOnceFinder())


install()
