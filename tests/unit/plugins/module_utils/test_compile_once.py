"""compile_once: in a zip laid out as Ansible ships a module (AnsiballZ), each of the
collection's modules is compiled once instead of twice, runs as before, and anything else
is left to zipimport. Run in a clean interpreter (-I -S) with builtins.compile counted."""

import json
import os
import subprocess
import sys
import zipfile

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
from ansible_collections.pkimanager.kms.plugins.module_utils import probe
print(json.dumps({"answer": probe.ANSWER, "compiled": compiled, "file": probe.__file__,
                  "loader": type(probe.__loader__).__name__}))
"""


def payload(tmp_path):
    """A zip with the collection's package path, compile_once and two small modules."""
    archive = str(tmp_path / "payload.zip")
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


def run(archive, mode):
    result = subprocess.run([sys.executable, "-I", "-S", "-c", RUN, archive, mode], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, check=True)
    return json.loads(result.stdout)


def test_each_module_of_the_collection_compiles_once_from_a_zip(tmp_path):
    archive = payload(tmp_path)
    before, after = run(archive, "without"), run(archive, "with")
    assert before["compiled"]["probe.py"] == 2 and before["compiled"]["helper.py"] == 2, before
    assert after["compiled"]["probe.py"] == 1 and after["compiled"]["helper.py"] == 1, after
    assert after["answer"] == before["answer"] == 42
    assert after["file"] == before["file"] == os.path.join(archive, PACKAGE, "probe.py")
    assert (before["loader"], after["loader"]) == ("zipimporter", "CompileOnceFinder")


def test_outside_a_zip_nothing_changes():
    assert not any(isinstance(finder, compile_once.CompileOnceFinder) for finder in sys.meta_path)
