#!/usr/bin/env python3
"""Bytes per member of a 1,000,000-member set (10-byte members, a hashtable): redis-server 7.0 vs RespKv.

The same method as bench/hash-memory.py (whose server start-up, RSS reading and settling it reuses): each server
starts fresh, the set is loaded over a socket with pipelined SADD batches of 1,000 members, and the growth of VmRSS
after the settle time is divided by the number of members. Also prints each server's MEMORY USAGE of the key.

Usage: python3 bench/set-memory.py [--redis-port 6407] [--respkv-port 7408] [--members 1000000]
"""
import argparse
import importlib.util
import os
import socket

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("hash_memory", os.path.join(HERE, "hash-memory.py"))
hm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hm)

KEY = b"bigs"


def load(port, members, per_command=1000, commands_in_flight=20):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    pending = 0
    for start in range(0, members, per_command):
        args = [b"SADD", KEY] + [b"m%09d" % i for i in range(start, min(members, start + per_command))]  # 10 bytes each
        s.sendall(hm.encode(*args))
        pending += 1
        if pending == commands_in_flight:
            hm.read_replies(f, pending)
            pending = 0
    hm.read_replies(f, pending)
    s.sendall(hm.encode(b"SCARD", KEY))
    count = int(f.readline()[1:])
    s.sendall(hm.encode(b"MEMORY", b"USAGE", KEY, b"SAMPLES", b"0"))
    usage = int(f.readline()[1:])
    s.close()
    if count != members:
        raise RuntimeError("SCARD %d, expected %d" % (count, members))
    print("  MEMORY USAGE %s SAMPLES 0: %d bytes (%.1f per member)" % (KEY.decode(), usage, usage / members))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--redis-port", type=int, default=6407)
    p.add_argument("--respkv-port", type=int, default=7408)
    p.add_argument("--members", type=int, default=1_000_000)
    p.add_argument("--settle", type=float, default=5.0, help="idle seconds before the second RSS reading")
    a = p.parse_args()
    hm.load = load  # measure() loads through the module's load()
    executable = hm.respkv_server.publish_release()
    print("%d members of 10 bytes" % a.members)
    redis = hm.measure("redis-server", ["redis-server", "--port", str(a.redis_port), "--save", "", "--appendonly", "no"],
                       a.redis_port, a.members, a.settle)
    respkv = hm.measure("RespKv", [executable, "--port", str(a.respkv_port), "--appendonly", "no"], a.respkv_port, a.members,
                        a.settle, env=hm.respkv_server.respkv_env())
    print("RespKv uses %.2fx Redis's bytes per member" % (respkv / redis))


if __name__ == "__main__":
    main()
