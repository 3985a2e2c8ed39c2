"""A throw-away PostgreSQL cluster for tests: Debian's `postgresql` binaries, initdb into a
temporary folder, listening on 127.0.0.1 on a free port, run as an unprivileged user.

Why a real one: the nodes of a Cosmian KMS share their state through PostgreSQL, and what
survives a node or a database restart is decided by the server and the database, not by us.
PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from kms_server import file_tail, free_port


def bin_dir():
    """The newest installed PostgreSQL's bin folder (make postgres installs Debian's)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run make postgres")
    return os.path.dirname(found[-1])


class PostgresCluster:
    """One cluster in its own folder: ``start()``, ``stop()``, ``restart()``, and
    ``database_url(database)`` for a KMS node. The KMS role connects with a password over
    TCP (scram-sha-256), as a production server would; setup goes over the cluster's own
    Unix socket."""

    superuser = "postgres"

    def __init__(self, folder=None, port=None, user="kms", password="kms-test-Pa55"):
        self.folder = folder or tempfile.mkdtemp(prefix="pkimanager-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = port or free_port()
        self.user = user
        self.password = password
        self.bin = bin_dir()
        self.log_path = os.path.join(self.folder, "postgres.log")
        self._run_as = self._unprivileged_user()
        self._initialized = False

    @staticmethod
    def _unprivileged_user():
        """The account the cluster runs as: `postgres` when we are root, else ourselves."""
        if os.geteuid() != 0:
            return None
        return pwd.getpwnam("postgres")

    def _command(self, *argv, check=True, input_text=None):
        """Run a PostgreSQL binary as the cluster's owner, in the cluster's folder (the owner
        may not be allowed into ours); a failure raises with the command's output."""
        command = [os.path.join(self.bin, argv[0])] + list(argv[1:])
        if self._run_as:
            command = ["runuser", "-u", self._run_as.pw_name, "--"] + command
        answer = subprocess.run(command, input=input_text, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, timeout=120, cwd=self.folder, check=False)
        if check and answer.returncode:
            raise RuntimeError("%s failed (%d): %s\n%s" % (" ".join(argv), answer.returncode, answer.stdout,
                                                           self.log_tail()))
        return answer

    def _initialize(self):
        if self._run_as:
            os.chown(self.folder, self._run_as.pw_uid, self._run_as.pw_gid)
        os.chmod(self.folder, 0o700)
        password_file = os.path.join(self.folder, "superuser-password")
        with open(password_file, "w") as handle:
            handle.write(self.password)
        if self._run_as:
            os.chown(password_file, self._run_as.pw_uid, self._run_as.pw_gid)
        self._command("initdb", "-D", self.data, "-U", self.superuser, "--auth-local=trust",
                      "--auth-host=scram-sha-256", "--pwfile", password_file, "-E", "UTF8", "--no-locale")
        os.unlink(password_file)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as handle:
            handle.write("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"
                         "max_connections = 200\nfsync = on\n" % (self.port, self.folder))
        self._initialized = True

    def start(self):
        """Create the cluster and its KMS role the first time; start it unless it runs."""
        if not self._initialized:
            self._initialize()
            self._pg_ctl("start")
            self.sql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (self.user, self.password))
        elif not self.running():
            self._pg_ctl("start")
        return self

    def running(self):
        return self._initialized and self._command("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def _pg_ctl(self, action):
        args = ["pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "60", action]
        if action == "stop":
            args += ["-m", "fast"]
        self._command(*args)

    def stop(self):
        """A fast shutdown: open sessions are ended, as a database restart does to KMS nodes."""
        if self.running():
            self._pg_ctl("stop")

    def restart(self):
        self.stop()
        return self.start()

    def kill(self):
        """Stop without a clean shutdown (immediate mode: no checkpoint, recovery at start)."""
        if self.running():
            self._command("pg_ctl", "-D", self.data, "-w", "stop", "-m", "immediate", check=False)

    def sql(self, statement, database="postgres"):
        """Run one statement as the superuser over the Unix socket; returns psql's output."""
        answer = self._command("psql", "-h", self.folder, "-p", str(self.port), "-U", self.superuser,
                               "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement, check=False)
        if answer.returncode:
            raise RuntimeError("psql %r failed: %s" % (statement, answer.stdout))
        return answer.stdout.strip()

    def create_database(self, name):
        """A new empty database owned by the KMS role; returns its URL."""
        self.sql('CREATE DATABASE "%s" OWNER %s' % (name, self.user))
        return self.database_url(name)

    def database_url(self, database):
        return "postgres://%s:%s@127.0.0.1:%d/%s" % (self.user, self.password, self.port, database)

    def log_tail(self, lines=40):
        return file_tail(self.log_path, lines, "(no PostgreSQL log)")

    def cleanup(self):
        if os.path.isdir(self.folder):
            self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self._command("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not accept connections within %ss:\n%s" % (timeout, self.log_tail()))
