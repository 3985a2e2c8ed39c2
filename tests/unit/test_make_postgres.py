"""`make postgres` installs Debian's package when initdb is missing: the cold path that a
machine with PostgreSQL already installed (CI's) never takes, run with apt-get and sudo
replaced by recorders on PATH (a first version failed there: `$sudo VAR=value apt-get` with
an empty $sudo is not an assignment)."""

import os
import stat
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_make_postgres(initdb, path_prefix=None):
    """Runs `make postgres` as a user would from a shell: without the MAKEFLAGS and MAKELEVEL
    of a `make test` around it (under one, make prints "Entering directory" even with -s)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "DEBIAN_FRONTEND")}
    if path_prefix:
        env["PATH"] = "%s:%s" % (path_prefix, env["PATH"])
    return subprocess.run(["make", "-s", "--no-print-directory", "-C", REPO, "postgres", "POSTGRES_INITDB=%s" % initdb],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)


RECORDER = '#!/bin/sh\necho "$(basename "$0") DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset} $*" >> "%s"\n'


def test_make_postgres_installs_the_package_when_initdb_is_missing(tmp_path):
    calls = tmp_path / "calls"
    for tool in ("apt-get", "sudo"):
        script = tmp_path / tool
        script.write_text(RECORDER % calls)
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    result = run_make_postgres("%s/missing/initdb" % tmp_path, path_prefix=tmp_path)
    assert result.returncode == 0, result.stdout
    lines = calls.read_text().splitlines()
    install = "apt-get DEBIAN_FRONTEND=noninteractive install -y --no-install-recommends postgresql"
    if os.geteuid() == 0:
        assert lines == ["apt-get DEBIAN_FRONTEND=unset update", install]
    else:  # sudo runs apt-get: the recorder stands for both
        assert lines[0] == "sudo DEBIAN_FRONTEND=unset apt-get update"
        assert lines[1].startswith("sudo DEBIAN_FRONTEND=unset env DEBIAN_FRONTEND=noninteractive apt-get install")


def test_make_postgres_does_nothing_when_initdb_is_there(tmp_path):
    initdb = tmp_path / "initdb"
    initdb.write_text("")
    result = run_make_postgres(initdb)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout
