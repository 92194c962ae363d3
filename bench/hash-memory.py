#!/usr/bin/env python3
"""Bytes per field of a 1,000,000-field hash (10-byte fields, 20-byte values): redis-server 7.0 vs RespKv.

Starts its own redis-server and RespKv (published as the Dockerfile ships it, ReadyToRun, to bench/.publish),
reads each process's VmRSS from /proc/PID/status, loads the same hash over a
socket with pipelined HSET batches, waits for the process to settle, reads VmRSS again and prints
(after - before) / fields for both. Stops both servers when done.

Usage: python3 bench/hash-memory.py [--redis-port 6405] [--respkv-port 7406] [--fields 1000000]
"""
import argparse
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conformance"))
import respkv_server  # noqa: E402  (respkv_env: the runtime settings RespKv ships with)



def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_replies(f, n):
    for _ in range(n):
        line = f.readline()
        if not line or line[:1] == b"-":
            raise RuntimeError("server replied %r" % line)


def wait_for(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("no server on port %d" % port)


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def load(port, fields, pairs_per_command=1000, commands_in_flight=20):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    pending = 0
    for start in range(0, fields, pairs_per_command):
        args = [b"HSET", b"bigh"]
        for i in range(start, min(fields, start + pairs_per_command)):
            args.append(b"f%09d" % i)   # 10 bytes
            args.append(b"v%019d" % i)  # 20 bytes
        s.sendall(encode(*args))
        pending += 1
        if pending == commands_in_flight:
            read_replies(f, pending)
            pending = 0
    read_replies(f, pending)
    s.sendall(encode(b"HLEN", b"bigh"))
    count = int(f.readline()[1:])
    s.close()
    if count != fields:
        raise RuntimeError("HLEN %d, expected %d" % (count, fields))


def measure(name, argv, port, fields, settle, env=None):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_for(port)
        time.sleep(1)
        before = rss_bytes(proc.pid)
        started = time.time()
        load(port, fields)
        elapsed = time.time() - started
        time.sleep(settle)
        after = rss_bytes(proc.pid)
        per_field = (after - before) / fields
        print("%-13s RSS before %7.1f MB, after %7.1f MB: %6.1f bytes/field (load %.1f s)"
              % (name, before / 1e6, after / 1e6, per_field, elapsed))
        return per_field
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--redis-port", type=int, default=6405)
    p.add_argument("--respkv-port", type=int, default=7406)
    p.add_argument("--fields", type=int, default=1_000_000)
    p.add_argument("--settle", type=float, default=5.0, help="idle seconds before the second RSS reading")
    a = p.parse_args()
    respkv_executable = respkv_server.publish_release()
    print("%d fields, 10-byte fields, 20-byte values" % a.fields)
    redis = measure("redis-server", ["redis-server", "--port", str(a.redis_port), "--save", "", "--appendonly", "no"],
                    a.redis_port, a.fields, a.settle)
    respkv = measure("RespKv", [respkv_executable, "--port", str(a.respkv_port), "--save", "", "--appendonly", "no"], a.respkv_port, a.fields, a.settle,
                     env=respkv_server.respkv_env())
    print("RespKv uses %.2fx Redis's bytes per field" % (respkv / redis))


if __name__ == "__main__":
    main()
