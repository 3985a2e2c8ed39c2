"""Batching N KMIP operations in one RequestMessage vs N single requests, same run.

Starts its own real Cosmian KMS on 127.0.0.1 (the cached build), runs both variants on the
same objects, and prints wall time per variant and the ratio. Usage:
    PYTHONPATH=.tmp/collections .venv/bin/python benchmarks/batch_vs_single.py [N] [rounds]
"""

import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "helpers"))

from kms_server import KmsServer, cleanup  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport  # noqa: E402


def timed(work, rounds):
    samples = []
    for _round in range(rounds):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    folder = tempfile.mkdtemp(prefix="pkimanager-bench-")
    server = KmsServer(folder).start()
    try:
        client = KmsClient(KmsTransport(server.url, timeout=120))
        names = ["bench-%03d" % i for i in range(count)]
        client.batch([ops.create_key_pair(2048, name) for name in names])
        single = timed(lambda: [client.call(ops.get_attributes(name)) for name in names], rounds)
        batched = timed(lambda: client.batch([ops.get_attributes(name) for name in names]), rounds)
        print("GetAttributes x %d on %s (median of %d rounds)" % (count, server.version(), rounds))
        print("  %-26s %8.1f ms" % ("single requests (baseline)", single * 1000))
        print("  %-26s %8.1f ms" % ("one batched RequestMessage", batched * 1000))
        print("  speed-up: %.1fx" % (single / batched))
    finally:
        server.stop()
        cleanup(folder)


if __name__ == "__main__":
    main()
