#!/usr/bin/env python3
"""MIGRATE benchmark: keys moved between two redis-servers 7.0, RespKv → redis-server, redis-server → RespKv and
RespKv → RespKv, rounds interleaved (each pair once per round), medians.

Each round fills the source with N string keys of 100 bytes (MSET), then moves them all with
`MIGRATE 127.0.0.1 <target> "" 0 10000 KEYS <batch>` in batches of B keys, and times the MIGRATEs only. Every server
runs without persistence (redis-server --appendonly no; RespKv CONFIG SET appendonly no), from the built Release
executable (conformance/respkv_server.py).

Usage: bench/migrate-benchmark.py [--keys 20000] [--batch 500] [--rounds 5]
"""
import argparse
import os
import socket
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conformance"))
import respkv_server  # noqa: E402


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return self.file.readline()


def run(source, target, target_port, keys, batch):
    target.call("FLUSHALL")
    source.call("FLUSHALL")
    for i in range(0, keys, 1000):
        pairs = []
        for j in range(i, min(i + 1000, keys)):
            pairs += [f"key:{j}", "v" * 100]
        source.call("MSET", *pairs)
    start = time.perf_counter()
    for i in range(0, keys, batch):
        reply = source.call("MIGRATE", "127.0.0.1", target_port, "", 0, 10000, "KEYS", *[f"key:{j}" for j in range(i, min(i + batch, keys))])
        if reply != b"+OK\r\n":
            raise RuntimeError(f"MIGRATE answered {reply!r}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="respkv-migrate-bench-")
    procs = []
    try:
        ports = {}
        for name in ("redis-a", "redis-b"):
            proc, ports[name] = respkv_server.start_redis(os.path.join(work, name))
            procs.append(proc)
        for name in ("respkv-a", "respkv-b"):
            proc, ports[name] = respkv_server.start_respkv(os.path.join(work, name))
            procs.append(proc)
            Conn(ports[name]).call("CONFIG", "SET", "appendonly", "no")
        conns = {name: Conn(port) for name, port in ports.items()}
        pairs = {"redis-server -> redis-server": ("redis-a", "redis-b"), "RespKv -> redis-server": ("respkv-a", "redis-b"),
                 "redis-server -> RespKv": ("redis-a", "respkv-b"), "RespKv -> RespKv": ("respkv-a", "respkv-b")}
        times = {pair: [] for pair in pairs}
        for _ in range(args.rounds):
            for pair, (source, target) in pairs.items():
                times[pair].append(run(conns[source], conns[target], ports[target], args.keys, args.batch))
        for pair, values in times.items():
            median = statistics.median(values)
            print(f"{pair}: median {median * 1000:.0f} ms for {args.keys} keys in batches of {args.batch} ({args.keys / median:,.0f} keys/s)")
    finally:
        respkv_server.stop(procs)


if __name__ == "__main__":
    main()
