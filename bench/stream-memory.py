#!/usr/bin/env python3
"""Bytes per entry of one 1,000,000-entry stream (`XADD s * f v`): redis-server 7.0 vs RespKv.

The method of bench/hash-memory.py (whose server start-up, RSS reading and settling it reuses): each server starts
fresh, the stream is loaded over a socket with pipelined batches of 1,000 `XADD s * f v` commands (IDs from the
clock, so nodes hold 100 entries each, stream-node-max-entries), and the growth of VmRSS after the settle time is
divided by the number of entries. Also prints each server's MEMORY USAGE of the key.

Usage: python3 bench/stream-memory.py [--entries 1000000] [--settle 5] [--executable PATH]
"""
import argparse
import importlib.util
import os
import socket

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("hash_memory", os.path.join(HERE, "hash-memory.py"))
hm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hm)


def load(port, count, per_batch=1000):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    one = hm.encode(b"XADD", b"s", b"*", b"f", b"v")
    for start in range(0, count, per_batch):
        n = min(per_batch, count - start)
        s.sendall(one * n)
        for _ in range(n):  # each reply is a bulk string: its length line, then the ID
            if f.readline()[:1] == b"$":
                f.readline()
    s.sendall(hm.encode(b"XLEN", b"s"))
    have = int(f.readline()[1:])
    s.sendall(hm.encode(b"MEMORY", b"USAGE", b"s", b"SAMPLES", b"0"))
    usage = int(f.readline()[1:])
    s.close()
    if have != count:
        raise RuntimeError("XLEN %d, expected %d" % (have, count))
    print("  MEMORY USAGE s SAMPLES 0: %d bytes (%.1f per entry)" % (usage, usage / count))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--redis-port", type=int, default=6409)
    p.add_argument("--respkv-port", type=int, default=7410)
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--settle", type=float, default=5.0, help="idle seconds before the second RSS reading")
    p.add_argument("--executable", help="a RespKv executable to measure instead of publishing this tree")
    a = p.parse_args()
    executable = a.executable or hm.respkv_server.publish_release()
    hm.load = load  # measure() loads through the module's load()
    print("stream of %d entries (XADD s * f v)" % a.entries)
    redis = hm.measure("redis-server", ["redis-server", "--port", str(a.redis_port), "--save", "", "--appendonly", "no"],
                       a.redis_port, a.entries, a.settle)
    respkv = hm.measure("RespKv", [executable, "--port", str(a.respkv_port), "--save", "", "--appendonly", "no"], a.respkv_port,
                        a.entries, a.settle, env=hm.respkv_server.respkv_env())
    print("\n| Stream | redis-server 7.0 bytes/entry | RespKv bytes/entry | RespKv/Redis |\n| --- | ---: | ---: | ---: |")
    print("| XADD s * f v | %.1f | %.1f | %.2f |" % (redis, respkv, respkv / redis))


if __name__ == "__main__":
    main()
