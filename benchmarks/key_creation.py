# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key creation time per key type against a real Cosmian KMS, next to a GetAttributes baseline in the same run.

    PYTHONPATH=.tmp/collections .venv/bin/python benchmarks/key_creation.py [-n N] [--rsa4096-n M] [--url URL]

Starts its own Cosmian KMS on 127.0.0.1 (the cached build, as the tests do) unless --url
names one already running on 127.0.0.1. Each measured sample is one KMIP request
(CreateKeyPair or Create, one attempt, no retry) timed on the client, so it includes
HTTP, JSON TTLV encoding and the server's database write; the baseline is a
GetAttributes round trip on an existing key, so "median - baseline" is what generating
and storing the key costs on top of the request overhead.

Types are interleaved round robin (the starting type rotates every round), so drift in
machine load hits all alike. One unmeasured warm-up request per type comes first. The
keys created are revoked and destroyed at the end (cascade: the public keys go too).
"""

from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "helpers"))

from kms_server import KmsServer, cleanup  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport  # noqa: E402

BASELINE = "baseline: GetAttributes"
TAG = "bench-key-creation"

# name -> a function returning a fresh Operation (built outside the timed section)
KEY_TYPES = [
    ("RSA-2048", lambda: ops.create_key_pair(2048, tags=[TAG])),
    ("RSA-3072", lambda: ops.create_key_pair(3072, tags=[TAG])),
    ("RSA-4096", lambda: ops.create_key_pair(4096, tags=[TAG])),
    ("EC P-256", lambda: ops.create_key_pair(key_type="ec", curve="P-256", tags=[TAG])),
    ("EC P-384", lambda: ops.create_key_pair(key_type="ec", curve="P-384", tags=[TAG])),
    ("Ed25519", lambda: ops.create_key_pair(key_type="ed25519", tags=[TAG])),
    ("AES-256", lambda: ops.create_symmetric_key("AES", 256, tags=[TAG])),
]


def created_ids(value):
    """(id to revoke/destroy, public key id or None): the private key of a pair, whose
    cascade takes the public key along, or the symmetric key."""
    return (value["private_key_id"], value["public_key_id"]) if isinstance(value, dict) else (value, None)


def percentile(samples, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(samples)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))  # ceil(fraction * n), at least 1
    return ordered[min(rank, len(ordered)) - 1]


def machine_facts():
    model = ""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return "%s cores (%s usable), %s, %s %s, Python %s" % (
        os.cpu_count(), usable, model or platform.processor() or "unknown CPU", platform.system(),
        platform.release(), platform.python_version())


def load_average():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "n/a"


def server_version(url):
    with urllib.request.urlopen(url.rstrip("/") + "/version", timeout=5) as answer:
        return json.loads(answer.read().decode("utf-8"))


def plan(args):
    """(name, repetitions, make_operation) per measured variant, baseline first."""
    rows = [(BASELINE, args.n, None)]
    for name, make in KEY_TYPES:
        count = args.rsa4096_n if name == "RSA-4096" and args.rsa4096_n is not None else args.n
        rows.append((name, count, make))
    return rows


def measure(client, rows, baseline_id, created, verbose=False):
    """Round robin over ``rows``; returns {name: [seconds, ...]} and {name: error count}."""
    samples = {name: [] for name, _count, _make in rows}
    errors = {name: 0 for name, _count, _make in rows}
    rounds = max(count for _name, count, _make in rows)
    for index in range(rounds):
        shift = index % len(rows)
        for name, count, make in rows[shift:] + rows[:shift]:
            if index >= count:
                continue
            operation = ops.get_attributes(baseline_id) if make is None else make()
            start = time.perf_counter()
            try:
                value = client.call(operation)
            except KmsError as error:
                errors[name] += 1
                print("  %s failed: %s" % (name, error), file=sys.stderr)
                continue
            samples[name].append(time.perf_counter() - start)
            if make is not None:
                created.append(created_ids(value))
        if verbose:
            print("  round %d/%d done" % (index + 1, rounds), file=sys.stderr)
    return samples, errors


def batched(client, operations, chunk=50):
    """client.batch in chunks; a chunk that fails as a whole counts as that many failures."""
    results = []
    for start in range(0, len(operations), chunk):
        part = operations[start:start + chunk]
        try:
            results.extend(client.batch(part))
        except KmsError as error:
            print("clean-up batch failed: %s" % error, file=sys.stderr)
            results.extend([None] * len(part))
    return results


def clean_up(client, created):
    """Revoke then destroy (cascade) every key created, then check with GetAttributes that
    each object, public keys included, is Destroyed. Returns a one-line summary."""
    heads = [head for head, _public in created]
    failures = 0
    for make in (lambda object_id: ops.revoke(object_id, message="benchmark clean-up"), ops.destroy):
        failures += sum(result is None or not result.ok for result in batched(client, [make(head) for head in heads]))
    every = heads + [public for _head, public in created if public]
    checks = batched(client, [ops.get_attributes(object_id) for object_id in every])
    left = sum(result is None or (result.ok and result.value["state"] not in ops.DESTROYED_STATES) for result in checks)
    return "%d keys revoked and destroyed (%d objects with the public keys), %d revoke/destroy requests failed, " \
           "%d objects not Destroyed" % (len(heads), len(every), failures, left)


def report(rows, samples, errors, version, url, started, load_before):
    base = statistics.median(samples[BASELINE]) if samples[BASELINE] else None
    print("Key creation on Cosmian KMS %s at %s, %s" % (version, url, started.strftime("%Y-%m-%d %H:%M UTC")))
    print("Machine: %s; load average before %s, after %s" % (machine_facts(), load_before, load_average()))
    print("Client and server on the same machine; one request per sample, interleaved round robin.")
    print()
    print("%-24s %4s %10s %10s %10s %12s" % ("type", "n", "median ms", "p90 ms", "min ms", "median-base"))
    for name, _count, _make in rows:
        values = samples[name]
        if not values:
            print("%-24s %4d %10s %10s %10s %12s" % (name, 0, "-", "-", "-", "-"))
            continue
        median = statistics.median(values)
        extra = "-" if name == BASELINE or base is None else "%.1f" % ((median - base) * 1000)
        print("%-24s %4d %10.1f %10.1f %10.1f %12s" % (name, len(values), median * 1000,
                                                       percentile(values, 0.9) * 1000, min(values) * 1000, extra))
    failed = {name: count for name, count in errors.items() if count}
    if failed:
        print("\nfailed requests (not in the figures): %s" % ", ".join("%s %d" % item for item in sorted(failed.items())))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("-n", type=int, default=20, help="repetitions per key type and for the baseline (default 20)")
    parser.add_argument("--rsa4096-n", type=int, default=None,
                        help="repetitions for RSA-4096 only, which is slow (default: the same as -n)")
    parser.add_argument("--url", default=None,
                        help="an already running KMS on 127.0.0.1 (default: start a private one for this run)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print progress per round on stderr")
    args = parser.parse_args()
    if args.n < 1 or (args.rsa4096_n is not None and args.rsa4096_n < 1):
        parser.error("repetitions must be at least 1")

    folder = server = None
    if args.url:
        if urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
            parser.error("--url must point at 127.0.0.1: the figures are meant to exclude the network")
        url = args.url
    else:
        folder = tempfile.mkdtemp(prefix="pkimanager-bench-")
        server = KmsServer(folder).start()
        url = server.url
    created = []
    client = None
    try:
        version = server_version(url)
        # one attempt per request: a retry would hide inside a sample
        client = KmsClient(KmsTransport(url, timeout=300, retries=1))
        rows = plan(args)
        # warm-up: one unmeasured request per type; the AES key doubles as the baseline's object
        for _name, _count, make in rows[1:]:
            created.append(created_ids(client.call(make())))
        baseline_id = created[-1][0]
        for _warm_up in range(3):
            client.call(ops.get_attributes(baseline_id))
        started = datetime.datetime.now(datetime.timezone.utc)
        load_before = load_average()
        samples, errors = measure(client, rows, baseline_id, created, args.verbose)
        report(rows, samples, errors, version, url, started, load_before)
    finally:
        if client is not None and created:
            print("\nclean-up: %s" % clean_up(client, created))
        if server is not None:
            server.stop()
            cleanup(folder)


if __name__ == "__main__":
    main()
