"""Run a real Cosmian KMS (the binary kms/build-server made) on 127.0.0.1 for tests.

Why a process and not a mock: every KMS behaviour this collection relies on is defined by
how the real server answers, so tests talk to the pinned server over HTTP.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pinned_version():
    with open(os.path.join(REPO, "kms", "VERSION")) as handle:
        return handle.read().strip()


def bin_dir():
    """The cache folder holding cosmian_kms and ckms (built once by kms/build-server),
    or $PKIMANAGER_KMS_BIN_DIR when set."""
    if os.environ.get("PKIMANAGER_KMS_BIN_DIR"):
        return os.environ["PKIMANAGER_KMS_BIN_DIR"]
    prefix = subprocess.run([os.path.join(REPO, "kms", "build-server")], check=True,
                            stdout=subprocess.PIPE, universal_newlines=True).stdout.strip().splitlines()[-1]
    return os.path.join(prefix, "bin")


def file_tail(path, lines, missing):
    """The last ``lines`` lines of a log file as text, ``missing`` when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return b"\n".join(handle.read().splitlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return missing


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_section(folder, database_url=None):
    """The [db] table: the PostgreSQL database at ``database_url`` (postgres://user:pass@host:port/db,
    shared by every node given the same URL), else SQLite in ``folder``/data."""
    if database_url:
        return '[db]\ndatabase_type = "postgresql"\ndatabase_url = "%s"\nclear_database = false\n' % database_url
    return ('[db]\ndatabase_type = "sqlite"\nsqlite_path = "%s"\nclear_database = false\n'
            % os.path.join(folder, "data"))


def write_config(folder, port, http_extra="", tls=None, extra_sections="", top_level="", database_url=None):
    """A minimal kms.toml: sqlite in ``folder`` (or the PostgreSQL ``database_url``), HTTP on
    127.0.0.1 only; ``http_extra`` adds lines to its [http] section (e.g. ``api_token_id =
    "..."``), ``tls`` (a dict of [tls] keys such as tls_cert_file) turns on HTTPS,
    ``extra_sections`` is TOML appended as is (e.g. an ``[idp_auth]`` section), ``top_level``
    is TOML written before the first table (root keys such as ``kms_public_url = "..."``)."""
    tls_section = "[tls]\n" + "".join('%s = "%s"\n' % item for item in sorted(tls.items())) if tls else ""
    path = os.path.join(folder, "kms.toml")
    with open(path, "w") as handle:
        handle.write(
            'default_username = "admin"\n%s%s'
            "[http]\n"
            "port = %d\n"
            'hostname = "127.0.0.1"\n%s%s'
            "[workspace]\n"
            'root_data_path = "%s"\n'
            'tmp_path = "%s"\n'
            "[logging]\n"
            'rust_log = "info,cosmian_kms=info"\n%s'
            % (top_level, database_section(folder, database_url), port, http_extra, tls_section,
               os.path.join(folder, "workspace"), os.path.join(folder, "tmp"), extra_sections))
    for sub in ("data", "workspace", "tmp"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    return path


class KmsServer:
    """One server process on a data folder; ``restart()`` keeps the folder (and the database).

    With a ``database_url`` the node keeps nothing of its own: several nodes on one PostgreSQL
    database are one KMS, and a node is ready when ``GET /health`` says the database is up
    (200). On SQLite, ready is ``GET /version`` answering.
    """

    def __init__(self, folder, binary=None, port=None, startup_timeout=60, http_extra="", tls=None,
                 ssl_context=None, extra_sections="", env=None, top_level="", database_url=None):
        self.folder = folder
        self.binary = binary or os.path.join(bin_dir(), "cosmian_kms")
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self.ssl_context = ssl_context
        self.database_url = database_url
        self.config = write_config(folder, self.port, http_extra, tls, extra_sections, top_level, database_url)
        self.log_path = os.path.join(folder, "server.log")
        self.env = dict(env or {})
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        env = dict(os.environ, COSMIAN_KMS_CONF=self.config, **self.env)
        self.process = subprocess.Popen([self.binary, "-c", self.config], stdout=log, stderr=subprocess.STDOUT,
                                        cwd=self.folder, env=env)
        log.close()
        deadline = time.time() + self.startup_timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("cosmian_kms exited with %s:\n%s" % (self.process.returncode, self.log_tail()))
            if self.ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("cosmian_kms did not answer GET %s within %ss:\n%s"
                           % ("/health with 200" if self.database_url else "/version", self.startup_timeout,
                              self.log_tail()))

    def ready(self):
        """Whether the node serves requests: its database is up (PostgreSQL), or it answers (SQLite)."""
        try:
            if self.database_url:
                return self.health()[0] == 200
            self.version()
            return True
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def version(self):
        with urllib.request.urlopen(self.url + "/version", timeout=2, context=self.ssl_context) as answer:
            return json.loads(answer.read().decode("utf-8"))

    def health(self):
        """``GET /health`` as (HTTP status, decoded JSON): 200 with status UP, or 503 with status
        DOWN and the database's error under dependencies.database.message."""
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=5, context=self.ssl_context) as answer:
                return answer.status, json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode("utf-8"))

    def stop(self):
        """A clean shutdown (SIGTERM), SIGKILL after 20 s."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def kill(self):
        """SIGKILL: the node dies at once, in the middle of whatever it serves (a crash)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self):
        """Stop and start again on the same data folder and port (persistence tests)."""
        self.stop()
        return self.start()

    def log_tail(self, lines=40):
        return file_tail(self.log_path, lines, "(no server log)")

    def ckms(self, *args):
        """Run the independent ckms CLI against this server; returns parsed stdout text."""
        conf = os.path.join(self.folder, "ckms.toml")
        if not os.path.exists(conf):
            with open(conf, "w") as handle:
                handle.write('[http_config]\nserver_url = "%s"\n' % self.url)
        binary = os.path.join(os.path.dirname(self.binary), "ckms")
        result = subprocess.run([binary, "-c", conf] + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True, timeout=60, check=False)
        if result.returncode:
            raise RuntimeError("ckms %s failed (%d): %s%s" % (" ".join(args), result.returncode,
                                                              result.stdout, result.stderr))
        return result.stdout


def cleanup(folder):
    shutil.rmtree(folder, ignore_errors=True)
