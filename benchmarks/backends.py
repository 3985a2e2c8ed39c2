# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key-pair creation and reads through one node on SQLite, one node on PostgreSQL and two
nodes on one PostgreSQL database, side by side in the same run (make bench-backends).

    PYTHONPATH=.tmp/collections .venv/bin/python benchmarks/backends.py [--pairs N]
        [--reads M] [--clients W] [--rounds R] [--report PATH]

Starts everything itself on 127.0.0.1 (the cached server build, a throw-away PostgreSQL
cluster from tests/helpers/postgres.py) and measures, in each of R rounds and for each
setup (their order rotates every round):

* one client: N CreateKeyPair (EC P-256, one request each, as a module sends them) and
  M GetAttributes, per-op latency;
* W clients at once (processes, each with its own connection): N pairs and M reads shared
  among them, operations per second; on two nodes, half of the clients use each node.

EC P-256 keeps key generation cheap, so the figures show what the database and the nodes
cost. Client and server share the machine: on 2 cores, two nodes compete for the same CPUs.
"""

from __future__ import absolute_import, division, print_function

import argparse
import datetime
import multiprocessing
import os
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "helpers"))
sys.path.insert(0, HERE)

from kms_server import KmsServer, cleanup  # noqa: E402  pylint: disable=wrong-import-position
from postgres import PostgresCluster  # noqa: E402  pylint: disable=wrong-import-position
from suite import Figures, machine_facts  # noqa: E402  pylint: disable=wrong-import-position
from key_creation import load_average, server_version  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient  # noqa: E402
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport  # noqa: E402

SETUPS = (("sqlite1", "1 node, SQLite"), ("pg1", "1 node, PostgreSQL"), ("pg2", "2 nodes, one PostgreSQL"))


def _work(job):
    """One client's share: create its pairs, then read them round robin; returns
    (seconds creating, seconds reading)."""
    url, names, reads = job
    client = KmsClient(KmsTransport(url, timeout=120))
    started = time.perf_counter()
    for name in names:
        client.call(ops.create_key_pair(key_type="ec", curve="P-256", private_key_id=name))
    created = time.perf_counter()
    for index in range(reads):
        client.call(ops.get_attributes(names[index % len(names)]))
    return created - started, time.perf_counter() - created


class Setup:
    """The nodes of one setup and what its rounds measured."""

    def __init__(self, key, label, nodes, figures):
        self.key, self.label, self.nodes = key, label, nodes
        self.create_latency = figures.new(key + "_create_ms", "%s: CreateKeyPair, one client" % label, "ms/op", 1000, 2)
        self.read_latency = figures.new(key + "_read_ms", "%s: GetAttributes, one client" % label, "ms/op", 1000, 2)
        self.create_rate = figures.new(key + "_create_rate", "%s: CreateKeyPair, clients at once" % label, "ops/s", 1, 1)
        self.read_rate = figures.new(key + "_read_rate", "%s: GetAttributes, clients at once" % label, "ops/s", 1, 1)

    def round(self, pool, pairs, reads, clients):
        prefix = "bench-%s-%s" % (self.key, uuid.uuid4().hex[:8])
        create, read = _work((self.nodes[0].url, ["%s-one-%04d" % (prefix, i) for i in range(pairs)], reads))
        self.create_latency.add(create / pairs)
        self.read_latency.add(read / reads)
        jobs = [(self.nodes[worker % len(self.nodes)].url,
                 ["%s-w%d-%04d" % (prefix, worker, i) for i in range(worker, pairs, clients)], reads // clients)
                for worker in range(clients)]
        timings = pool.map(_work, jobs)
        # Every client starts creating at once; reads start when its creations end.
        self.create_rate.add(pairs / max(create for create, _read in timings))
        self.read_rate.add(reads // clients * clients / max(read for _create, read in timings))


def start_setups(cluster, started, figures):
    """The three setups, each on its own database (the pg ones on one cluster); every
    server started is appended to ``started`` at once, for the cleanup."""
    def node(database_url=None):
        started.append(KmsServer(tempfile.mkdtemp(prefix="bench-backends-"), database_url=database_url))
        return started[-1].start()

    sqlite = [node()]
    pg1 = [node(cluster.create_database("bench_pg1_%s" % uuid.uuid4().hex[:8]))]
    shared = cluster.create_database("bench_pg2_%s" % uuid.uuid4().hex[:8])
    pg2 = [node(shared)]
    pg2.append(node(shared))  # the second node starts once the first has made the schema
    return [Setup(key, label, nodes, figures) for (key, label), nodes in zip(SETUPS, (sqlite, pg1, pg2))]


def report(args, figures, setups, version, started, load_before):
    out = ["# Key pairs on SQLite and PostgreSQL, one and two nodes (benchmarks/backends.py)", "",
           "- run: %s UTC, %.0f s; Cosmian KMS %s; %s" % (
               started.strftime("%Y-%m-%d %H:%M"), (datetime.datetime.utcnow() - started).total_seconds(),
               version, machine_facts()),
           "- load average before / after: %s / %s" % (load_before, load_average()),
           "- per round and setup: %d EC P-256 pairs and %d reads by one client, then as many by %d "
           "clients at once (on two nodes, half of them on each); %d round(s), setups in rotating order"
           % (args.pairs, args.reads, args.clients, args.rounds), "",
           "| figure | median | min – max | unit | rounds | notes |", "|---|---|---|---|---|---|"]
    out += [figures[key].row() for key in figures]
    base = setups[0]
    out += ["", "| ratio (same run) | value |", "|---|---|"]
    for setup in setups[1:]:
        for what, key in (("one-client CreateKeyPair latency", "_create_ms"), ("one-client read latency", "_read_ms"),
                          ("CreateKeyPair ops/s, clients at once", "_create_rate"),
                          ("GetAttributes ops/s, clients at once", "_read_rate")):
            mine, theirs = figures.median(setup.key + key), figures.median(base.key + key)
            if mine and theirs:
                out.append("| %s: %s / %s | %.2fx |" % (what, setup.label, base.label, mine / theirs))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--pairs", type=int, default=100, help="pairs per setup and round (default 100)")
    parser.add_argument("--reads", type=int, default=400, help="GetAttributes per setup and round (default 400)")
    parser.add_argument("--clients", type=int, default=4, help="clients at once (default 4)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--report", help="also write the Markdown report here")
    args = parser.parse_args()
    started, load_before = datetime.datetime.utcnow(), load_average()
    figures, servers = Figures(), []
    cluster = PostgresCluster().start()
    try:
        setups = start_setups(cluster, servers, figures)
        version = server_version(setups[0].nodes[0].url)
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            for index in range(args.rounds):
                for setup in setups[index % len(setups):] + setups[:index % len(setups)]:
                    print("round %d/%d: %s" % (index + 1, args.rounds, setup.label), file=sys.stderr)
                    setup.round(pool, args.pairs, args.reads, args.clients)
    finally:
        for server in servers:
            server.stop()
            cleanup(server.folder)
        cluster.cleanup()
    text = report(args, figures, setups, version, started, load_before)
    print(text)
    if args.report:
        os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
        with open(args.report, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
