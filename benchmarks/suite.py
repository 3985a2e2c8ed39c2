# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The side-by-side benchmark suite (make bench): every variant next to its baseline, same run.

    PYTHONPATH=.tmp/collections .venv/bin/python benchmarks/suite.py [--items N] [--rounds R]
        [--smoke] [--report PATH] [--url URL]

Starts its own Cosmian KMS on 127.0.0.1 (the cached build, as the tests do) unless --url
names one already running on 127.0.0.1, then measures, in each of R rounds:

* per-op latency of one GetAttributes: the raw HTTP floor (the request's JSON prebuilt once,
  posted on a kept-alive connection of the HTTP code the transport uses, http_connection),
  that floor plus json.dumps of the request and json.loads of the answer (the least a JSON
  client does), the same prebuilt request on a kept-alive http.client connection and on a
  requests session (for reference), KmsClient.call, and one ``ckms`` process per op;
* ensure of N key pairs (EC P-256) with kms_keypair as a loop task and as one bulk task
  (``pairs:``), created and again (idempotent);
* N RSA-3072 pairs created by one bulk task next to the server's raw key generation of N
  pairs (CreateKeyPair batched in RequestMessages by KmsClient, no Ansible);
* N leaf certificates (provider kms_ca) as a loop task and as one bulk task (``certificates:``);
* a loop of N ansible.builtin.ping right before and right after the idempotent kms_keypair
  loop: what Ansible itself costs per loop item, at the time that loop ran;
* audit records/s, one transaction per record and grouped (AuditTrail.record_many or
  grouped()), and what auditing one batched call of N GetAttributes costs next to its
  round trip: the audit work inside the call as the modules wire it (records built, then
  written in one transaction; timed in place) over the rest of that same call, plain and
  audited calls in turn, and the records alone written grouped.

Task times are those of the task (its start to its result, from a callback), not of the
ansible-playbook process. Each figure is the median of the rounds, with min-max; ratios
divide medians of this run. The report (Markdown) is printed and, with --report, written.
A bulk row whose module refuses ``pairs:`` / ``certificates:`` reads "n/a (bulk not
available)"; the exit status is 1 when a row that should work failed, never for a target.
"""

from __future__ import absolute_import, division, print_function

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HELPERS = os.path.join(REPO, "tests", "helpers")
sys.path.insert(0, HELPERS)

import requests  # noqa: E402

from kms_server import KmsServer, cleanup  # noqa: E402  pylint: disable=wrong-import-position
from playbook import run_playbook  # noqa: E402  pylint: disable=wrong-import-position

from key_creation import load_average, server_version  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.pkimanager.kms.plugins.module_utils import audit as audit_module  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils import ttlv  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.audited_client import AuditRecorder  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KMIP_PATH, KmsTransport  # noqa: E402

try:
    from ansible_collections.pkimanager.kms.plugins.module_utils.http_connection import HttpConnection
except ImportError:  # a checkout whose transport still used http.client: the floor is that
    HttpConnection = None

NA_BULK = "n/a (bulk not available)"
# What a module says when it does not know the bulk option (or still requires name).
REFUSED = re.compile(r"Unsupported parameters|missing required argument|not a valid option|unknown option", re.I)
CHUNK = 50  # operations per RequestMessage when the suite itself creates objects

TIMER_CALLBACK = '''# Written by benchmarks/suite.py: wall time of each task, start to result.
from __future__ import absolute_import, division, print_function
__metaclass__ = type
DOCUMENTATION = """
name: bench_timer
type: aggregate
short_description: task wall times for benchmarks/suite.py
description: [Appends one JSON line per finished task to $BENCH_TIMER_FILE.]
"""
import json
import os
import time
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task.get_name()] = time.time()

    def _done(self, result):
        name = result._task.get_name()
        with open(os.environ["BENCH_TIMER_FILE"], "a") as handle:
            handle.write(json.dumps({"task": name, "seconds": time.time() - self._started.get(name, time.time())}) + "\\n")

    v2_runner_on_ok = v2_runner_on_skipped = v2_runner_on_unreachable = _done

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result)
'''


# -- figures -------------------------------------------------------------------------------

class Figure:
    """One row of the report: a sample per round (a number), or why there is none."""

    def __init__(self, label, unit, scale=1.0, digits=1):
        self.label, self.unit, self.scale, self.digits = label, unit, scale, digits
        self.samples = []
        self.notes = []
        self.unavailable = None  # "n/a (...)" text
        self.errors = []

    def add(self, value, note=None):
        self.samples.append(value)
        if note and note not in self.notes:
            self.notes.append(note)

    def fail(self, message):
        self.errors.append(" ".join(str(message).split())[:300])

    @property
    def median(self):
        return statistics.median(self.samples) if self.samples else None

    def cell(self, value):
        return "%.*f" % (self.digits, value * self.scale)

    def row(self):
        if self.samples:
            value, spread = self.cell(self.median), "%s – %s" % (self.cell(min(self.samples)), self.cell(max(self.samples)))
        else:
            value, spread = self.unavailable or ("failed" if self.errors else "-"), "-"
        notes = list(self.notes) + ["%d failed: %s" % (len(self.errors), self.errors[0])] if self.errors else list(self.notes)
        cells = (self.label, value, spread, self.unit, len(self.samples), "; ".join(notes).replace("|", "/"))
        return "| %s | %s | %s | %s | %d | %s |" % cells


class Figures(dict):
    def new(self, key, label, unit, scale=1.0, digits=1):
        self[key] = Figure(label, unit, scale, digits)
        return self[key]

    def median(self, key):
        return self[key].median if key in self else None


def guarded(figure, work):
    """Run ``work()``; an exception becomes the row's failure, never the suite's."""
    try:
        return work()
    except Exception as exc:  # pylint: disable=broad-except
        figure.fail("%s: %s" % (type(exc).__name__, exc))
        if os.environ.get("BENCH_DEBUG"):
            traceback.print_exc()
        return None


# -- helpers --------------------------------------------------------------------------------

def machine_facts():
    model = ""
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    return "%s cores, %s, %s %s, Python %s" % (
        os.cpu_count(), model or platform.processor() or "unknown CPU", platform.system(), platform.release(),
        platform.python_version())


def batched(client, operations):
    """client.batch in chunks of CHUNK; raises on the first item that failed."""
    results = []
    for start in range(0, len(operations), CHUNK):
        for result in client.batch(operations[start:start + CHUNK]):
            if not result.ok:
                raise result.error
            results.append(result.value)
    return results


def ec_pairs(client, names, tag):
    batched(client, [ops.create_key_pair(key_type="ec", curve="P-256", private_key_id=name, tags=[tag])
                     for name in names])


# -- per-op latency -----------------------------------------------------------------------

class Latency:
    """GetAttributes of one existing key, three ways; each sample is the mean per op of a round."""

    def __init__(self, server, url, object_id, figures, count):
        self.url, self.object_id, self.count = url, object_id, count
        self.server = server
        self.session = requests.Session()
        self.session.trust_env = False  # no per-request reading of the environment
        self.session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})
        target = urllib.parse.urlsplit(url)
        self.stdlib_connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        if HttpConnection is None:
            self.connection, layer = self.stdlib_connection, "http.client"
        else:
            self.connection, layer = HttpConnection(target.hostname, target.port), "http_connection"
        self.connection.timeout = 60
        self.headers = {"Host": target.netloc, "Content-Type": "application/json", "Accept": "application/json"}
        self.body = json.dumps(ttlv.encode(ops.get_attributes(object_id).payload), separators=(",", ":")).encode("utf-8")
        self.client = KmsClient(KmsTransport(url, timeout=60, retries=1))
        self.raw = figures.new("raw", "GetAttributes: raw HTTP floor (prebuilt JSON, kept-alive connection of the "
                               "transport's own HTTP code, %s)" % layer, "ms/op", 1000, 2)
        self.raw_stdlib = figures.new("raw_stdlib", "GetAttributes: the same on a kept-alive http.client connection "
                                      "(the standard library's HTTP client)", "ms/op", 1000, 2)
        self.raw_requests = figures.new("raw_requests", "GetAttributes: the same on a kept-alive requests session",
                                        "ms/op", 1000, 2)
        self.payload = ttlv.encode(ops.get_attributes(object_id).payload)
        self.raw_json = figures.new("raw_json", "GetAttributes: the raw floor + json.dumps of the request and "
                                    "json.loads of the answer (the least any JSON client does)", "ms/op", 1000, 2)
        self.kms = figures.new("client", "GetAttributes: KmsClient.call", "ms/op", 1000, 2)
        self.ckms = figures.new("ckms", "GetAttributes: one `ckms` process per op", "ms/op", 1000, 1)
        self.ckms_command = None
        if server is None:
            self.ckms.unavailable = "n/a (--url: no ckms configured)"
        else:
            server.ckms("attributes", "get", "-i", object_id)  # writes ckms.toml, checks the command
            self.ckms_command = [os.path.join(os.path.dirname(server.binary), "ckms"), "-c",
                                 os.path.join(server.folder, "ckms.toml"), "attributes", "get", "-i", object_id]
        self.stdlib_connection.connect()
        self.connection.connect()
        for _warm_up in range(3):
            self._raw_once()
            self._raw_stdlib_once()
            self._raw_json_once()
            self._raw_requests_once()
            self.client.call(ops.get_attributes(object_id))

    def _post(self, connection, body):
        """POST ``body`` on ``connection``; the status and the whole answer."""
        connection.request("POST", KMIP_PATH, body, self.headers)
        answer = connection.getresponse()
        pieces = []
        while True:  # read(size) is what both connections offer, and what the transport calls
            piece = answer.read(65536)
            if not piece:
                return answer.status, b"".join(pieces)
            pieces.append(piece)

    def _raw_once(self):
        self._check(*self._post(self.connection, self.body))

    def _raw_stdlib_once(self):
        self._check(*self._post(self.stdlib_connection, self.body))

    def _raw_json_once(self):
        status, content = self._post(self.connection, json.dumps(self.payload, separators=(",", ":")).encode("utf-8"))
        self._check(status, content)
        json.loads(content)

    def _raw_requests_once(self):
        answer = self.session.post(self.url + KMIP_PATH, data=self.body, timeout=60)
        self._check(answer.status_code, answer.content)

    @staticmethod
    def _check(status, content):
        if status != 200 or b"UniqueIdentifier" not in content:
            raise RuntimeError("raw GetAttributes answered %d: %r" % (status, content[:200]))

    def _repeat(self, once):
        start = time.perf_counter()
        for _op in range(self.count):
            once()
        return (time.perf_counter() - start) / self.count

    def _reconnected(self, once, connection=None):
        # A new connection each round, outside the timing: the server closes one left idle
        # while the plays of a round run (the transport finds that before reuse, too).
        connection = connection or self.connection
        connection.close()
        connection.connect()
        return self._repeat(once)

    def raw_round(self):
        return self._reconnected(self._raw_once)

    def raw_stdlib_round(self):
        return self._reconnected(self._raw_stdlib_once, self.stdlib_connection)

    def raw_json_round(self):
        return self._reconnected(self._raw_json_once)

    def raw_requests_round(self):
        return self._repeat(self._raw_requests_once)

    def client_round(self):
        operations = [ops.get_attributes(self.object_id) for _op in range(self.count)]  # built outside the timing
        start = time.perf_counter()
        for operation in operations:
            self.client.call(operation)
        return (time.perf_counter() - start) / self.count

    def ckms_round(self):
        start = time.perf_counter()
        for _op in range(self.count):
            done = subprocess.run(self.ckms_command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
            if done.returncode:
                raise RuntimeError("ckms exited %d: %s" % (done.returncode, (done.stdout + done.stderr)[-300:]))
        return (time.perf_counter() - start) / self.count

    def round(self, index):
        variants = [(self.raw, self.raw_round), (self.kms, self.client_round), (self.raw_json, self.raw_json_round),
                    (self.raw_stdlib, self.raw_stdlib_round), (self.raw_requests, self.raw_requests_round)]
        if self.ckms_command:
            variants.append((self.ckms, self.ckms_round))
        shift = index % len(variants)
        for figure, work in variants[shift:] + variants[:shift]:
            value = guarded(figure, work)
            if value is not None:
                figure.add(value)


# -- audit ----------------------------------------------------------------------------------

# Records written into the store of the audited calls before they are timed (see Audit).
WARM_AUDIT_RECORDS = 6000


def audit_entries(count):
    return [dict(operation="kms.get_attributes", entity_type="key_pair", entity_id="bench-%04d" % index,
                 status="success", details={"result": {"private_key_id": "bench-%04d" % index, "state": "Active"}})
            for index in range(count)]


def grouped_writer():
    """(how, write(trail, entries)) for the grouped writes this checkout has, or (None, None)."""
    trail_class = audit_module.AuditTrail
    if hasattr(trail_class, "record_many"):
        return "AuditTrail.record_many", lambda trail, entries: trail.record_many(entries)
    if hasattr(trail_class, "grouped"):
        def write(trail, entries):
            with trail.grouped():
                for entry in entries:
                    trail.record(**entry)
        return "AuditTrail.grouped()", write
    return None, None


def single_writer(trail, entries):
    for entry in entries:
        trail.record(**entry)


class TimedRecorder(AuditRecorder):
    """The audit observer as the modules wire it, summing the time spent in it: each record
    built, and the group written at the batch's exit."""

    def __init__(self, *args, **kwargs):
        super(TimedRecorder, self).__init__(*args, **kwargs)
        self.spent = 0.0

    def __call__(self, operation, value, error):
        start = time.perf_counter()
        try:
            super(TimedRecorder, self).__call__(operation, value, error)
        finally:
            self.spent += time.perf_counter() - start

    @contextlib.contextmanager
    def batch(self):
        group = super(TimedRecorder, self).batch()
        start = time.perf_counter()
        group.__enter__()
        self.spent += time.perf_counter() - start
        try:
            yield group
        finally:
            start = time.perf_counter()
            try:
                group.__exit__(None, None, None)
            finally:
                self.spent += time.perf_counter() - start


class Audit:
    """Records/s one by one and grouped; a batched call's records next to its round trip."""

    def __init__(self, url, key_ids, figures, records):
        self.url, self.records = url, records
        self.key_ids = key_ids
        self.how, self.grouped = grouped_writer()
        self.single_rate = figures.new("audit_single", "audit: records/s, one transaction per record", "records/s", 1, 0)
        self.grouped_rate = figures.new("audit_grouped", "audit: records/s, grouped (%s)" % (self.how or "-"),
                                        "records/s", 1, 0)
        if self.grouped is None:
            self.grouped_rate.unavailable = "n/a (no grouped writes in audit.py)"
        self.batch = figures.new("batch_rt", "batched call: %d GetAttributes in one RequestMessage, round trip"
                                 % len(key_ids), "ms", 1000, 1)
        self.batch_audit = figures.new("batch_audit", "audit records of that call, written %s"
                                       % ("grouped" if self.grouped else "one by one"), "ms", 1000, 2)
        self.audited = figures.new("batch_audited", "the same call through KmsClient + AuditRecorder (as wired)",
                                   "ms", 1000, 1)
        self.in_place = figures.new("batch_audit_in_place", "audit work inside that call (its records built and "
                                    "written in one transaction), timed in place", "ms", 1000, 2)
        self.share = figures.new("batch_audit_share", "audited call: its audit work / the rest of the same call "
                                 "(median over the calls)", "%", 100, 1)
        self.client = KmsClient(KmsTransport(url, timeout=120, retries=1))
        self.operations = [ops.get_attributes(key_id) for key_id in key_ids]

    def _rate(self, write, count):
        folder = tempfile.mkdtemp(prefix="bench-audit-")
        try:
            with audit_module.AuditTrail(os.path.join(folder, "audit.db"), context={"kms_url": self.url}) as trail:
                trail.ensure_writable()
                entries = audit_entries(count)
                start = time.perf_counter()
                write(trail, entries)
                elapsed = time.perf_counter() - start
                if trail.verify()["records"] != count:
                    raise RuntimeError("the store does not hold the %d records written" % count)
            return elapsed
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _batch_once(self, client):
        start = time.perf_counter()
        results = client.batch(self.operations)
        elapsed = time.perf_counter() - start
        if not all(result.ok for result in results):
            raise RuntimeError("an item of the batched call failed")
        return elapsed

    def _paired_batches(self, repeats):
        """Plain and audited calls in turn (the machine drifts alike for both): the medians
        of the plain calls, of the audited calls and of the audit work inside them, and the
        median over the audited calls of each one's audit work over the rest of that call."""
        folder = tempfile.mkdtemp(prefix="bench-audit-")
        try:
            with audit_module.AuditTrail(os.path.join(folder, "audit.db"), context={"kms_url": self.url}) as trail:
                trail.ensure_writable()
                # A store in use, as a pipeline's is, not a new file: a new store's WAL grows at
                # every commit (which costs a commit of 100 records ~0.1-0.2 ms more) until its
                # first checkpoint, ~40 such groups; from then on commits write over it in place.
                entries, write = audit_entries(len(self.operations)), self.grouped or single_writer
                for _group in range(WARM_AUDIT_RECORDS // len(entries) + 1):
                    write(trail, entries)
                recorder = TimedRecorder(trail, self.url)
                audited_client = KmsClient(KmsTransport(self.url, timeout=120, retries=1), observer=recorder)
                plain, audited, spent = [], [], []
                for repeat in range(repeats):
                    for client in ((self.client, audited_client) if repeat % 2 == 0 else (audited_client, self.client)):
                        recorder.spent = 0.0
                        elapsed = self._batch_once(client)
                        if client is self.client:
                            plain.append(elapsed)
                        else:
                            audited.append(elapsed)
                            spent.append(recorder.spent)
                shares = [work / (call - work) for call, work in zip(audited, spent)]
                return tuple(statistics.median(values) for values in (plain, audited, spent, shares))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def round(self, index, repeats=5):
        rates = [(self.single_rate, single_writer)] + ([(self.grouped_rate, self.grouped)] if self.grouped else [])
        for figure, write in (rates if index % 2 == 0 else rates[::-1]):
            elapsed = guarded(figure, lambda: self._rate(write, self.records))
            if elapsed:
                figure.add(self.records / elapsed)
        # the records of one batched call, as the collection writes them
        write = self.grouped or single_writer
        count = len(self.operations)
        cost = guarded(self.batch_audit, lambda: statistics.median(self._rate(write, count) for _repeat in range(repeats)))
        if cost is not None:
            self.batch_audit.add(cost)
        paired = guarded(self.share, lambda: self._paired_batches(repeats))
        if paired is not None:
            for figure, value in zip((self.batch, self.audited, self.in_place, self.share), paired):
                figure.add(value)


# -- playbooks ------------------------------------------------------------------------------

class Plays:
    """One ansible-playbook run per round, every Ansible row a task of it, timed by a callback."""

    def __init__(self, url, work, figures, items):
        self.url, self.work, self.items = url, work, items
        self.figures = figures
        self.timer_dir = os.path.join(work, "callbacks")
        os.makedirs(self.timer_dir, exist_ok=True)
        with open(os.path.join(self.timer_dir, "bench_timer.py"), "w") as handle:
            handle.write(TIMER_CALLBACK)
        self.audit_log = os.path.join(work, "play-audit.db")
        new = figures.new
        self.rows = {
            "ping": new("ping", "loop task: ansible.builtin.ping x %d (Ansible's floor), right before the "
                        "idempotent kms_keypair loop" % items, "s", 1, 2),
            "ping_after": new("ping_after", "loop task: ansible.builtin.ping x %d, right after it" % items, "s", 1, 2),
            "kp_loop_create": new("kp_loop_create", "kms_keypair loop x %d EC P-256: created" % items, "s", 1, 2),
            "kp_loop_again": new("kp_loop_again", "kms_keypair loop x %d EC P-256: idempotent" % items, "s", 1, 2),
            "kp_bulk_create": new("kp_bulk_create", "kms_keypair bulk (pairs: %d) EC P-256: created" % items, "s", 1, 2),
            "kp_bulk_again": new("kp_bulk_again", "kms_keypair bulk (pairs: %d) EC P-256: idempotent" % items, "s", 1, 2),
            "rsa_bulk": new("rsa_bulk", "kms_keypair bulk (pairs: %d) RSA-3072: created" % items, "s", 1, 2),
            "cert_loop": new("cert_loop", "kms_certificate loop x %d leaf (kms_ca, EC P-256 keys)" % items, "s", 1, 2),
            "cert_bulk": new("cert_bulk", "kms_certificate bulk (certificates: %d) leaf" % items, "s", 1, 2),
        }
        self.ca_error = None
        self.play_wall = new("play_wall", "ansible-playbook process per round (all the tasks above)", "s", 1, 1)

    def env(self, timer_file):
        return {"KMS_URL": self.url, "KMS_AUDIT_LOG": self.audit_log, "BENCH_TIMER_FILE": timer_file,
                "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HELPERS, "callback_plugins") + ":" + self.timer_dir,
                "ANSIBLE_CALLBACKS_ENABLED": "record_results,bench_timer"}

    def play(self, tasks):
        """Run ``tasks`` (their names unique); returns ({task: result}, {task: seconds}, wall, output)."""
        timer_file = os.path.join(self.work, "timer-%s.jsonl" % time.time())
        start = time.perf_counter()
        run = run_playbook(tasks, extra_env=self.env(timer_file))
        wall = time.perf_counter() - start
        seconds = {}
        if os.path.exists(timer_file):
            with open(timer_file) as handle:
                for line in handle:
                    entry = json.loads(line)
                    seconds[entry["task"]] = entry["seconds"]
            os.remove(timer_file)
        results = {}
        for record in run.records:
            results[record["task"]] = dict(record["result"], _status=record["status"])
        return results, seconds, wall, run.output

    def setup_ca(self):
        """A CA (EC P-256 pair, self-signed certificate) the leaf certificates are issued by."""
        tasks = [{"name": "ca pair", "pkimanager.kms.kms_keypair": {"name": "bench-ca-key", "type": "ec", "curve": "P-256"}},
                 {"name": "ca cert", "pkimanager.kms.kms_certificate": {
                     "name": "bench-ca", "provider": "selfsigned", "keypair": "bench-ca-key",
                     "subject": {"CN": "pkimanager bench CA"}, "validity_days": 365}}]
        self.ca_error = None
        results, _seconds, _wall, output = self.play(tasks)
        for task in ("ca pair", "ca cert"):
            result = results.get(task) or {"_status": "missing", "msg": output[-300:]}
            if result["_status"] != "ok":
                self.ca_error = "the benchmark CA could not be made (%s: %s)" % (task, result.get("msg"))
                return

    def tasks(self, index, names):
        loop_opts = {"type": "ec", "curve": "P-256"}
        keypair_loop = {"pkimanager.kms.kms_keypair": dict(name="{{ item }}", **loop_opts), "loop": names["kp_loop"],
                        "ignore_errors": True}
        keypair_bulk = {"pkimanager.kms.kms_keypair": dict(pairs=[{"name": name} for name in names["kp_bulk"]], **loop_opts),
                        "ignore_errors": True}
        cert_common = {"provider": "kms_ca", "issuer": "bench-ca", "validity_days": 30}
        cert_loop = {"pkimanager.kms.kms_certificate": dict(name="{{ item.0 }}", keypair="{{ item.1 }}",
                                                            subject={"CN": "{{ item.0 }}"}, **cert_common),
                     "loop": [list(pair) for pair in zip(names["cert_loop"], names["leaf_loop"])], "ignore_errors": True}
        cert_bulk = {"pkimanager.kms.kms_certificate": dict(certificates=[
            {"name": cert, "keypair": leaf, "subject": {"CN": cert}} for cert, leaf in zip(names["cert_bulk"], names["leaf_bulk"])],
            **cert_common), "ignore_errors": True}
        rsa_bulk = {"pkimanager.kms.kms_keypair": {"pairs": [{"name": name} for name in names["rsa_bulk"]], "type": "rsa",
                                                   "size": 3072}, "ignore_errors": True}
        ping = {"ansible.builtin.ping": {}, "loop": list(range(self.items)), "ignore_errors": True}
        # Ansible's floor brackets the loop it is compared with: a playbook slows down as it
        # runs (and the machine drifts), so a floor taken elsewhere in the round is another time.
        pairs = [[("kp_loop_create", keypair_loop), ("ping", ping), ("kp_loop_again", keypair_loop), ("ping_after", ping)],
                 [("kp_bulk_create", keypair_bulk), ("kp_bulk_again", keypair_bulk)],
                 [("cert_loop", cert_loop)], [("cert_bulk", cert_bulk)]]
        if index % 2:  # every other round the other order, so that drift hits loop and bulk alike
            pairs = pairs[::-1]
        ordered = [task for group in pairs for task in group] + [("rsa_bulk", rsa_bulk)]
        if self.ca_error:
            ordered = [(key, task) for key, task in ordered if not key.startswith("cert_")]
        return [dict(task, name=key) for key, task in ordered]

    def record(self, index, results, seconds, wall):
        self.play_wall.add(wall)
        for key, figure in self.rows.items():
            result = results.get(key)
            if key.startswith("cert_") and self.ca_error:
                figure.fail(self.ca_error)
                continue
            if result is None:
                figure.fail("no result for the task (round %d)" % (index + 1))
                continue
            bulk = "_bulk" in key
            if result["_status"] != "ok":
                message = str(result.get("msg") or "")
                if bulk and REFUSED.search(message):
                    figure.unavailable = NA_BULK
                else:
                    figure.fail(message or "failed")
                continue
            figure.add(seconds[key], self.check(key, result))

    def check(self, key, result):
        """What the task did, for the notes: items changed out of those given."""
        items = result.get("results")
        if not isinstance(items, list):
            return "changed=%s (no per-item results)" % result.get("changed")
        if key.startswith("ping"):
            return "%d/%d pong" % (sum(item.get("ping") == "pong" for item in items), len(items))
        changed = sum(bool(item.get("changed")) for item in items)
        failed = sum(bool(item.get("failed")) for item in items)
        note = "%d/%d changed" % (changed, len(items))
        expected = 0 if key.endswith("_again") else len(items)
        if changed != expected or failed or len(items) != self.items:
            note += " (expected %d/%d changed, %d failed)" % (expected, self.items, failed)
            self.rows[key].fail(note)
        return note


# -- the suite ------------------------------------------------------------------------------

def run_suite(args, url, server, work):
    figures = Figures()
    client = KmsClient(KmsTransport(url, timeout=600, retries=1))
    items = args.items
    # objects every round reads: one key for the latency rows, N for the batched call
    ec_pairs(client, ["bench-read-%04d" % i for i in range(items)], "bench-read")
    latency = Latency(server, url, "bench-read-0000", figures, args.latency_ops)
    raw_keygen = figures.new("rsa_raw", "server's raw keygen: %d CreateKeyPair RSA-3072, KmsClient.batch (%d per message)"
                             % (items, CHUNK), "s", 1, 2)
    plays = Plays(url, work, figures, items)
    plays.setup_ca()
    audit = Audit(url, ["bench-read-%04d" % i for i in range(items)], figures, args.audit_records)

    for index in range(args.rounds):
        prefix = "r%d" % index
        names = dict((kind, ["%s-%s-%04d" % (prefix, kind.replace("_", "-"), i) for i in range(items)])
                     for kind in ("kp_loop", "kp_bulk", "rsa_bulk", "rsa_raw", "cert_loop", "cert_bulk", "leaf_loop", "leaf_bulk"))
        print("round %d/%d: latency" % (index + 1, args.rounds), file=sys.stderr)
        latency.round(index)
        print("round %d/%d: audit" % (index + 1, args.rounds), file=sys.stderr)
        audit.round(index)
        ec_pairs(client, names["leaf_loop"] + names["leaf_bulk"], "bench-leaf")

        def keygen():
            operations = [ops.create_key_pair(3072, private_key_id=name) for name in names["rsa_raw"]]
            start = time.perf_counter()
            batched(client, operations)
            return time.perf_counter() - start

        def raw_round():
            print("round %d/%d: raw RSA-3072 keygen" % (index + 1, args.rounds), file=sys.stderr)
            value = guarded(raw_keygen, keygen)
            if value is not None:
                raw_keygen.add(value)
        if index % 2 == 0:  # every other round after the playbook, so that drift hits both alike
            raw_round()
        if plays.ca_error:  # the module may have been fixed meanwhile (it is edited while the suite runs)
            plays.setup_ca()
        print("round %d/%d: ansible-playbook" % (index + 1, args.rounds), file=sys.stderr)
        results, seconds, wall, output = plays.play(plays.tasks(index, names))
        if not results:
            for figure in plays.rows.values():
                figure.fail("ansible-playbook gave no result: %s" % output[-500:])
        else:
            plays.record(index, results, seconds, wall)
        if index % 2 == 1:
            raw_round()
    return figures


def ratio(figures, numerator, denominator):
    top, bottom = figures.median(numerator), figures.median(denominator)
    return top / bottom if top is not None and bottom else None


def targets(figures, items, smoke=False):
    """(target, measured, goal, result) rows; a ratio of medians of this run."""
    rows = []

    def add(name, measured, passed, goal, missing):
        if measured is None:
            rows.append((name, missing, goal, "–"))
        else:
            rows.append((name, measured, goal, "(smoke)" if smoke else "✅ pass" if passed else "❌ fail"))

    again_bulk, again_loop = figures.median("kp_bulk_again"), figures.median("kp_loop_again")
    na_bulk = figures["kp_bulk_again"].unavailable or "not measured"
    add("idempotent ensure of %d key pairs in one task: wall" % items,
        None if again_bulk is None else "%.2f s" % again_bulk, again_bulk is not None and again_bulk < 3.0, "< 3 s", na_bulk)
    speed = ratio(figures, "kp_loop_again", "kp_bulk_again")
    add("idempotent ensure: %d-item loop / one bulk task" % items, None if speed is None else "%.1fx" % speed,
        speed is not None and speed >= 15, "≥ 15x", na_bulk)
    rsa = ratio(figures, "rsa_bulk", "rsa_raw")
    add("%d RSA-3072 pairs in one task / server's raw keygen" % items, None if rsa is None else "%.2fx" % rsa,
        rsa is not None and rsa <= 1.2, "≤ 1.2x", figures["rsa_bulk"].unavailable or "not measured")
    floor = [figures.median(key) for key in ("ping", "ping_after") if figures.median(key)]
    if again_loop is not None and floor:
        per_item = again_loop / items
        per_ping = statistics.mean(floor) / items  # the loops right before and after it
        loop_ratio = per_item / per_ping
        add("loop task cost per item (kms_keypair idempotent) / ansible.builtin.ping's",
            "%.2fx (%.0f vs %.0f ms)" % (loop_ratio, per_item * 1000, per_ping * 1000), loop_ratio <= 1.15, "≤ 1.15x", "")
    else:
        add("loop task cost per item / ansible.builtin.ping's", None, False, "≤ 1.15x", "not measured")
    client = ratio(figures, "client", "raw")
    add("client per-op (KmsClient.call) / raw HTTP floor", None if client is None else "%.2fx" % client,
        client is not None and client <= 1.10, "≤ 1.10x", "not measured")
    share = figures.median("batch_audit_share")
    add("audit cost per batched call (%d records, as wired) / the rest of the call's round trip" % items,
        None if share is None else "%.1f %%" % (share * 100), share is not None and share < 0.10, "< 10 %", "not measured")
    return rows


def extra_ratios(figures, items):
    lines = []
    for label, top, bottom in (("kms_keypair created, %d-item loop / one bulk task" % items, "kp_loop_create", "kp_bulk_create"),
                               ("leaf certificates, %d-item loop / one bulk task" % items, "cert_loop", "cert_bulk"),
                               ("ckms process per op / KmsClient.call", "ckms", "client"),
                               ("KmsClient.call / raw floor + json.dumps and json.loads", "client", "raw_json"),
                               ("raw floor + json.dumps and json.loads / raw floor", "raw_json", "raw"),
                               ("KmsClient.call / raw floor on an http.client connection", "client", "raw_stdlib"),
                               ("raw floor on an http.client connection / raw floor", "raw_stdlib", "raw"),
                               ("KmsClient.call / raw floor on a requests session", "client", "raw_requests"),
                               ("audit records/s, grouped / one by one", "audit_grouped", "audit_single"),
                               ("batched call through the audited client / plain", "batch_audited", "batch_rt"),
                               ("audit work in place / the plain call (medians of separate calls)",
                                "batch_audit_in_place", "batch_rt"),
                               ("audit records alone, written grouped / the batched call", "batch_audit", "batch_rt")):
        value = ratio(figures, top, bottom)
        lines.append("| %s | %s |" % (label, "–" if value is None else "%.2fx" % value))
    return lines


def report(args, figures, version, url, started, load_before, elapsed):
    out = ["# pkimanager.kms benchmark report", ""]
    out.append("- run: %s UTC, %s, `benchmarks/suite.py --items %d --rounds %d%s` (%.0f s)" % (
        started.strftime("%Y-%m-%d %H:%M"), "smoke" if args.smoke else "full", args.items, args.rounds,
        " --smoke" if args.smoke else "", elapsed))
    out.append("- server: Cosmian KMS %s at %s (SQLite, same machine as the client)" % (version, url))
    out.append("- machine: %s; load average before %s, after %s" % (machine_facts(), load_before, load_average()))
    out.append("- per-op rows: %d GetAttributes of one key per round; audit rates: %d records per round"
               % (args.latency_ops, args.audit_records))
    out.append("")
    out.append("## Targets")
    out.append("")
    smoke = " Smoke run: too few items and rounds for the targets to mean anything; it only shows that every row still runs."
    out.append("Ratios divide medians of this run." + (smoke if args.smoke else ""))
    out.append("")
    out.append("| target | measured | goal | result |")
    out.append("| --- | --- | --- | --- |")
    out.extend("| %s | %s | %s | %s |" % row for row in targets(figures, args.items, args.smoke))
    out.append("")
    out.append("## Figures")
    out.append("")
    out.append("Median of the rounds and min – max. Ansible rows are task wall times (task start to its result).")
    out.append("")
    out.append("| measure | median | min – max | unit | rounds | notes |")
    out.append("| --- | --- | --- | --- | --- | --- |")
    out.extend(figure.row() for figure in figures.values())
    out.append("")
    out.append("## Other ratios")
    out.append("")
    out.append("| ratio | value |")
    out.append("| --- | --- |")
    out.extend(extra_ratios(figures, args.items))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--items", type=int, default=None, help="objects per Ansible row (default 100; 3 with --smoke)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds; each figure is their median (default 3; 1 with --smoke)")
    parser.add_argument("--smoke", action="store_true", help="a few items, one round: checks the suite still runs (CI)")
    parser.add_argument("--latency-ops", type=int, default=None, help="GetAttributes per round in the per-op rows (default 200)")
    parser.add_argument("--audit-records", type=int, default=None, help="records per round in the audit rates (default 500)")
    parser.add_argument("--report", default=None, help="also write the Markdown report to this file")
    parser.add_argument("--url", default=None, help="a KMS already running on 127.0.0.1 (default: start a private one)")
    args = parser.parse_args()
    smoke = args.smoke
    args.items = args.items if args.items is not None else (3 if smoke else 100)
    args.rounds = args.rounds if args.rounds is not None else (1 if smoke else 3)
    args.latency_ops = args.latency_ops if args.latency_ops is not None else (5 if smoke else 200)
    args.audit_records = args.audit_records if args.audit_records is not None else (10 if smoke else 500)
    if min(args.items, args.rounds, args.latency_ops, args.audit_records) < 1:
        parser.error("--items, --rounds, --latency-ops and --audit-records must be at least 1")

    work = tempfile.mkdtemp(prefix="pkimanager-bench-suite-")
    server = None
    try:
        if args.url:
            if urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
                parser.error("--url must point at 127.0.0.1: the figures are meant to exclude the network")
            url = args.url.rstrip("/")
        else:
            os.makedirs(os.path.join(work, "kms"))
            server = KmsServer(os.path.join(work, "kms")).start()
            url = server.url
        version = server_version(url)
        started = datetime.datetime.now(datetime.timezone.utc)
        load_before = load_average()
        clock = time.perf_counter()
        figures = run_suite(args, url, server, work)
        text = report(args, figures, version, url, started, load_before, time.perf_counter() - clock)
    finally:
        if server is not None:
            server.stop()
        cleanup(work)
    print(text)
    if args.report:
        folder = os.path.dirname(os.path.abspath(args.report))
        os.makedirs(folder, exist_ok=True)
        with open(args.report, "w") as handle:
            handle.write(text)
        print("report written to %s" % args.report, file=sys.stderr)
    broken = [figure.label for figure in figures.values() if figure.errors]
    if broken:
        print("rows that failed: %s" % "; ".join(broken), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
