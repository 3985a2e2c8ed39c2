"""`make postgres` installs Debian's package when initdb is missing: the cold path that a
machine with PostgreSQL already installed (CI's) never takes, run with apt-get and sudo
replaced by recorders on PATH (a first version failed there: `$sudo VAR=value apt-get` with
an empty $sudo is not an assignment)."""

import os
import stat
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDER = '#!/bin/sh\necho "$(basename "$0") DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset} $*" >> "%s"\n'


def test_make_postgres_installs_the_package_when_initdb_is_missing(tmp_path):
    calls = tmp_path / "calls"
    for tool in ("apt-get", "sudo"):
        script = tmp_path / tool
        script.write_text(RECORDER % calls)
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]))
    env.pop("DEBIAN_FRONTEND", None)
    result = subprocess.run(["make", "-s", "-C", REPO, "postgres", "POSTGRES_INITDB=%s/missing/initdb" % tmp_path],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                            check=False)
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
    result = subprocess.run(["make", "-s", "-C", REPO, "postgres", "POSTGRES_INITDB=%s" % initdb],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout
