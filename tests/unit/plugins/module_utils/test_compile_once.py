"""compile_once: in a zip laid out as Ansible ships a module (AnsiballZ), each of the
collection's modules is compiled once instead of twice, and not at all once a task has
kept its code; it runs as before, names the zip of its own task in tracebacks, and anything
else is left to zipimport. Each run is a clean interpreter (-I -S) with compile counted."""

import json
import os
import stat
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once

PACKAGE = "ansible_collections/pkimanager/kms/plugins/module_utils"
PROBE = "from ansible_collections.pkimanager.kms.plugins.module_utils.helper import twice\nANSWER = twice(21)\n"
HELPER = "def twice(value):\n    return 2 * value\n"
RUN = """
import builtins, collections, json, sys
sys.path.insert(0, sys.argv[1])
compiled = collections.Counter()
real_compile = builtins.compile
def counting(source, filename, *args, **kwargs):
    compiled[filename.rpartition("/")[2]] += 1
    return real_compile(source, filename, *args, **kwargs)
builtins.compile = counting
if sys.argv[2] == "with":
    from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once
from ansible_collections.pkimanager.kms.plugins.module_utils import probe, helper
print(json.dumps({"answer": probe.ANSWER, "compiled": compiled, "file": probe.__file__,
                  "function_file": helper.twice.__code__.co_filename,
                  "loader": type(probe.__loader__).__name__}))
"""


def payload(folder, name="payload.zip"):
    """A zip with the collection's package path, compile_once and two small modules."""
    archive = str(folder / name)
    with open(compile_once.__file__) as handle:
        real = handle.read()
    with zipfile.ZipFile(archive, "w") as bundle:
        parts = PACKAGE.split("/")
        for depth in range(1, len(parts) + 1):
            bundle.writestr("/".join(parts[:depth]) + "/__init__.py", "")
        bundle.writestr(PACKAGE + "/compile_once.py", real)
        bundle.writestr(PACKAGE + "/probe.py", PROBE)
        bundle.writestr(PACKAGE + "/helper.py", HELPER)
    return archive


def run(archive, mode, cache, **env):
    environ = {key: value for key, value in os.environ.items() if key != compile_once.CACHE_VARIABLE}
    environ.update(XDG_CACHE_HOME=str(cache), **env)
    result = subprocess.run([sys.executable, "-I", "-S", "-c", RUN, archive, mode], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, check=True, env=environ)
    return json.loads(result.stdout)


def kept(cache):
    folder = cache / "pkimanager.kms" / "bytecode"
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_compiled_once_then_kept_for_the_next_task(tmp_path):
    archive, cache = payload(tmp_path), tmp_path / "cache"
    without = run(archive, "without", cache)
    assert (without["compiled"]["probe.py"], without["compiled"]["helper.py"]) == (2, 2), without
    first = run(archive, "with", cache)
    assert (first["compiled"]["probe.py"], first["compiled"]["helper.py"]) == (1, 1), first
    assert len(kept(cache)) == 2
    assert stat.S_IMODE(os.stat(cache / "pkimanager.kms" / "bytecode").st_mode) == 0o700
    moved = payload(tmp_path, "next-task.zip")  # every task unpacks to a new path
    second = run(moved, "with", cache)
    assert "probe.py" not in second["compiled"] and "helper.py" not in second["compiled"], second
    assert without["answer"] == first["answer"] == second["answer"] == 42
    assert without["file"] == first["file"] == os.path.join(archive, PACKAGE, "probe.py")
    assert second["file"] == os.path.join(moved, PACKAGE, "probe.py")
    assert second["function_file"] == os.path.join(moved, PACKAGE, "helper.py")
    assert (without["loader"], first["loader"]) == ("zipimporter", "CompileOnceFinder")


def test_a_damaged_entry_is_compiled_again(tmp_path):
    archive, cache = payload(tmp_path), tmp_path / "cache"
    run(archive, "with", cache)
    folder = cache / "pkimanager.kms" / "bytecode"
    for name in kept(cache):
        (folder / name).write_bytes(b"not marshal data")
    again = run(archive, "with", cache)
    assert again["answer"] == 42 and again["compiled"]["probe.py"] == 1, again


@pytest.mark.parametrize("setting", ["off", "unsafe"])
def test_no_keeping_when_turned_off_or_the_folder_is_open_to_others(tmp_path, setting):
    archive, cache = payload(tmp_path), tmp_path / "cache"
    env = {}
    if setting == "off":
        env[compile_once.CACHE_VARIABLE] = "off"
    else:
        folder = cache / "pkimanager.kms" / "bytecode"
        folder.mkdir(parents=True)
        folder.chmod(0o777)
    for dummy in range(2):
        result = run(archive, "with", cache, **env)
        assert result["answer"] == 42 and result["compiled"]["probe.py"] == 1, result
    assert kept(cache) == []


def test_the_cache_folder_can_be_moved(tmp_path):
    archive, chosen = payload(tmp_path), tmp_path / "elsewhere"
    run(archive, "with", tmp_path / "cache", **{compile_once.CACHE_VARIABLE: str(chosen)})
    assert len(os.listdir(chosen)) == 2 and kept(tmp_path / "cache") == []


def test_outside_a_zip_nothing_changes():
    assert not any(isinstance(finder, compile_once.CompileOnceFinder) for finder in sys.meta_path)
