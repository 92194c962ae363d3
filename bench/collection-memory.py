#!/usr/bin/env python3
"""Bytes per element of one 1,000,000-element list, set and sorted set: redis-server 7.0 vs RespKv.

The method of bench/hash-memory.py (whose server start-up, RSS reading and settling it reuses): each server starts
fresh for each type, the collection is loaded over a socket with pipelined batches of 1,000 elements (RPUSH, SADD,
ZADD), and the growth of VmRSS after the settle time is divided by the number of elements. Also prints each
server's MEMORY USAGE of the key. Elements are 10-byte strings (m000000000…), so the set is a hashtable and the
sorted set a skiplist in Redis; sorted-set scores are the element's index (integers, as doubles).

Usage: python3 bench/collection-memory.py [--types list,set,zset] [--elements 1000000] [--settle 5]
"""
import argparse
import importlib.util
import os
import socket

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("hash_memory", os.path.join(HERE, "hash-memory.py"))
hm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hm)

# type: (key, write command, arguments for element i, length command)
TYPES = {
    "list": (b"bigl", b"RPUSH", lambda i: [b"m%09d" % i], b"LLEN"),
    "set": (b"bigs", b"SADD", lambda i: [b"m%09d" % i], b"SCARD"),
    "zset": (b"bigz", b"ZADD", lambda i: [b"%d" % i, b"m%09d" % i], b"ZCARD"),
}


def loader(kind, per_command=1000, commands_in_flight=20):
    key, write, element, length = TYPES[kind]

    def load(port, count):
        s = socket.create_connection(("127.0.0.1", port))
        f = s.makefile("rb")
        pending = 0
        for start in range(0, count, per_command):
            args = [write, key]
            for i in range(start, min(count, start + per_command)):
                args.extend(element(i))
            s.sendall(hm.encode(*args))
            pending += 1
            if pending == commands_in_flight:
                hm.read_replies(f, pending)
                pending = 0
        hm.read_replies(f, pending)
        s.sendall(hm.encode(length, key))
        have = int(f.readline()[1:])
        s.sendall(hm.encode(b"MEMORY", b"USAGE", key, b"SAMPLES", b"0"))
        usage = int(f.readline()[1:])
        s.close()
        if have != count:
            raise RuntimeError("%s %d, expected %d" % (length.decode(), have, count))
        print("  MEMORY USAGE %s SAMPLES 0: %d bytes (%.1f per element)" % (key.decode(), usage, usage / count))
    return load


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--types", default="list,set,zset", help="comma-separated: list, set, zset")
    p.add_argument("--redis-port", type=int, default=6407)
    p.add_argument("--respkv-port", type=int, default=7408)
    p.add_argument("--elements", type=int, default=1_000_000)
    p.add_argument("--settle", type=float, default=5.0, help="idle seconds before the second RSS reading")
    p.add_argument("--executable", help="a RespKv executable to measure instead of publishing this tree")
    a = p.parse_args()
    executable = a.executable or hm.respkv_server.publish_release()
    rows = []
    for kind in a.types.split(","):
        hm.load = loader(kind)  # measure() loads through the module's load()
        print("%s of %d 10-byte elements" % (kind, a.elements))
        redis = hm.measure("redis-server", ["redis-server", "--port", str(a.redis_port), "--save", "", "--appendonly", "no"],
                           a.redis_port, a.elements, a.settle)
        respkv = hm.measure("RespKv", [executable, "--port", str(a.respkv_port), "--save", "", "--appendonly", "no"], a.respkv_port,
                            a.elements, a.settle, env=hm.respkv_server.respkv_env())
        rows.append((kind, redis, respkv))
    print("\n| Type | redis-server 7.0 bytes/element | RespKv bytes/element | RespKv/Redis |\n| --- | ---: | ---: | ---: |")
    for kind, redis, respkv in rows:
        print("| %s | %.1f | %.1f | %.2f |" % (kind, redis, respkv, respkv / redis))


if __name__ == "__main__":
    main()
