#!/usr/bin/python3
"""Replication figures, RespKv beside redis-server 7.0 (each replicating from its own kind):

- full sync: a primary holding N keys (default 1,000,000 strings, one SET each, loaded pipelined), a fresh empty
  replica sent REPLICAOF; seconds from the command until its link is up and DBSIZE is N (repl-diskless-sync yes with
  delay 0, as both servers default to diskless; the replica receives the RDB to disk, then loads it);
- catch-up: the replica process stopped (SIGSTOP) while N more SETs (new keys) are written to the primary
  (backlog and replica output limit large enough to keep them), then continued (SIGCONT); seconds until its
  replication offset equals the primary's, and the commands it applied per second meanwhile.

Both servers run without persistence (appendonly no, save ""). Rounds are interleaved (redis, RespKv, redis, …);
figures are medians. RespKv runs as shipped: published like the Dockerfile's image (Release, ReadyToRun).

    /usr/bin/python3 bench/replication-benchmark.py --rounds 2 --keys 1000000 [--rdbcompression no]
"""
import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conformance"))
import respkv_server  # noqa: E402

RESPKV = None


def call(port, *args):
    """One command over a fresh connection; the reply's first line (bulk replies: their text)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(encode(args))
        data = b""
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
            if data.startswith(b"$"):
                head, _, rest = data.partition(b"\r\n")
                if len(rest) >= int(head[1:]) + 2:
                    return rest[:int(head[1:])].decode()
            elif b"\r\n" in data:
                return data.split(b"\r\n", 1)[0].decode()
    return ""


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def info(port, field):
    for line in call(port, "INFO", "replication").split("\r\n"):
        if line.startswith(field + ":"):
            return line[len(field) + 1:]
    return ""


def load(port, first, count):
    """count pipelined SETs of key:<n> (n from first), 10,000 per batch."""
    with socket.create_connection(("127.0.0.1", port), timeout=300) as s:
        for start in range(first, first + count, 10000):
            n = min(10000, first + count - start)
            s.sendall(b"".join(encode((b"SET", b"key:%09d" % i, b"value:%09d:xxxxxxxxxxxxxxxx" % i)) for i in range(start, start + n)))
            got = 0
            while got < n:
                got += s.recv(1 << 20).count(b"\r\n")


RDBCOMPRESSION = "yes"


def start(kind, port, data_dir, *extra):
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", data_dir, "--loglevel", "warning"]
        env = None
    else:
        cmd = [RESPKV, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", data_dir, "--loglevel", "warning"]
        env = respkv_server.respkv_env()
    cmd += ["--rdbcompression", RDBCOMPRESSION, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--repl-backlog-size", "512mb",
            "--client-output-buffer-limit", "replica 0 0 0"] + list(extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)
    respkv_server.wait_ready(port, proc, kind, seconds=120)
    return proc


def stop(proc):
    try:
        os.kill(proc.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    proc.kill()
    proc.wait()


def wait(condition, seconds=600):
    began = time.perf_counter()
    while not condition():
        if time.perf_counter() - began > seconds:
            raise RuntimeError("timed out")
        time.sleep(0.01)


def round_for(kind, keys):
    with tempfile.TemporaryDirectory() as d:
        pport, rport = respkv_server.free_port(), respkv_server.free_port()
        for sub in ("p", "r"):
            os.makedirs(os.path.join(d, sub))
        primary = start(kind, pport, os.path.join(d, "p"))
        replica = None
        try:
            load(pport, 0, keys)
            replica = start(kind, rport, os.path.join(d, "r"))
            began = time.perf_counter()
            assert call(rport, "REPLICAOF", "127.0.0.1", pport) == "+OK"
            wait(lambda: info(rport, "master_link_status") == "up" and call(rport, "DBSIZE") == ":%d" % keys)
            full = time.perf_counter() - began
            os.kill(replica.pid, signal.SIGSTOP)
            load(pport, keys, keys)
            target = int(info(pport, "master_repl_offset"))
            began = time.perf_counter()
            os.kill(replica.pid, signal.SIGCONT)
            # >=: the primary's periodic PING may follow the writes.
            wait(lambda: int(info(rport, "slave_repl_offset") or 0) >= target)
            catchup = time.perf_counter() - began
            assert call(rport, "DBSIZE") == ":%d" % (2 * keys)
            return full, catchup
        finally:
            if replica:
                stop(replica)
            stop(primary)


def main():
    global RESPKV, RDBCOMPRESSION
    parser = argparse.ArgumentParser()
    parser.add_argument("--rdbcompression", choices=["yes", "no"], default="yes", help="both servers' rdbcompression")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keys", type=int, default=1000000)
    args = parser.parse_args()
    RDBCOMPRESSION = args.rdbcompression
    RESPKV = respkv_server.publish_release()
    results = {"redis": [], "respkv": []}
    for r in range(args.rounds):
        for kind in ("redis", "respkv"):
            full, catchup = round_for(kind, args.keys)
            results[kind].append((full, catchup))
            print(f"round {r + 1} {kind}: full sync {full:.2f} s, catch-up {catchup:.2f} s ({args.keys / catchup:,.0f} commands/s)", flush=True)
    print()
    print("| Measure | redis-server 7.0.15 | RespKv | RespKv/Redis |")
    print("| --- | ---: | ---: | ---: |")
    f = {k: statistics.median(x[0] for x in v) for k, v in results.items()}
    c = {k: statistics.median(x[1] for x in v) for k, v in results.items()}
    print(f"| full sync of {args.keys:,} keys (REPLICAOF to link up and all keys) | {f['redis']:.2f} s | {f['respkv']:.2f} s | {f['respkv'] / f['redis']:.2f} |")
    print(f"| catch-up of {args.keys:,} SETs after SIGSTOP | {c['redis']:.2f} s | {c['respkv']:.2f} s | {c['respkv'] / c['redis']:.2f} |")
    print(f"| replica apply rate while catching up | {args.keys / c['redis']:,.0f}/s | {args.keys / c['respkv']:,.0f}/s | {c['redis'] / c['respkv']:.2f} |")


if __name__ == "__main__":
    main()
