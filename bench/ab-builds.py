#!/usr/bin/python3
"""A/B of two RespKv builds beside redis-server: interleaved rounds of redis-benchmark rows, one process each.

Usage: /usr/bin/python3 bench/ab-builds.py DIR_A DIR_B ROUNDS 'NAME|redis-benchmark args' ...
  e.g. /usr/bin/python3 bench/ab-builds.py /tmp/before /tmp/after 3 "SET -P16|-P 16 -t set" "HGET -P16|-P 16 HGET myhash element:__rand_int__"

DIR_A and DIR_B are `dotnet publish` outputs (each holding respkv-server), e.g.
`dotnet publish src/RespKv.Server -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o DIR`.
The three servers start once (no persistence: --save "" --appendonly no; RespKv with its shipped runtime settings),
pinned to CPU 0, redis-benchmark on CPU 1 with 50 clients, -r 100000 and 100-byte values, N requests per row (environment
N, default 300000; options go before a custom command). Environment SERVER_ARGS (e.g. "--appendonly yes --appendfsync
everysec") replaces the persistence settings for all three servers, each then in its own temporary --dir. Environment
PRELOAD names a file of RESP commands piped into each server (`redis-cli --pipe`) before the rows, e.g. the geo grid of
bench/compare-servers.py's data rows. Each row first gets an uncounted warm-up pass (a third of N) on every server;
then rounds run redis, A, B for every row. Prints, per row, the median rates and the medians of the per-round ratios B/A
and B/redis. This is the quick check bench/PROFILE.md's A/B figures come from; bench/compare-servers.py is the full one.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conformance"))
import respkv_server  # noqa: E402

A, B, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3])
ROWS = [r.split("|", 1) for r in sys.argv[4:]]
PORTS = {"redis": 7101, "A": 7102, "B": 7103}


SERVER_ARGS = os.environ.get("SERVER_ARGS", "").split()


def start(name, port):
    persistence = ["--save", "", "--appendonly", "no"]
    if SERVER_ARGS:
        persistence = ["--save", ""] + SERVER_ARGS + ["--dir", tempfile.mkdtemp(prefix=f"ab-{name}-")]
        if name == "redis":
            persistence += ["--aof-use-rdb-preamble", "no"]
    if name == "redis":
        cmd, env = ["redis-server", "--port", str(port)] + persistence, None
    else:
        build = A if name == "A" else B
        cmd = [os.path.join(build, "respkv-server"), "--port", str(port)] + persistence
        env = respkv_server.respkv_env()
    proc = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(100):
        if respkv_server.ping(port):
            break
        time.sleep(0.1)
    return proc


def bench(port, args, n):
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-c", "50", "-r", "100000", "-d", "100",
                          "-n", str(n), "-q"] + args.split(), capture_output=True, text=True).stdout
    rates = re.findall(r"([\d.]+) requests per second", out)
    return float(rates[-1]) if rates else 0.0


def ratio(top, bottom):
    pairs = [t / b for t, b in zip(top, bottom) if b]
    return statistics.median(pairs) if pairs else 0.0


procs = [start(name, port) for name, port in PORTS.items()]
try:
    if os.environ.get("PRELOAD"):
        for port in PORTS.values():
            with open(os.environ["PRELOAD"], "rb") as preload:
                subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=preload, check=True, capture_output=True)
    results = {(row, name): [] for row, _ in ROWS for name in PORTS}
    for _, args in ROWS:
        for port in PORTS.values():
            bench(port, args, max(1000, int(os.environ.get("N", "300000")) // 3))
    for _ in range(ROUNDS):
        for row, args in ROWS:
            for name, port in PORTS.items():
                results[(row, name)].append(bench(port, args, int(os.environ.get("N", "300000"))))
    for row, _ in ROWS:
        a, b, r = results[(row, "A")], results[(row, "B")], results[(row, "redis")]
        print(f"{row:24s} redis {statistics.median(r) / 1e3:7.1f}k  A {statistics.median(a) / 1e3:7.1f}k  "
              f"B {statistics.median(b) / 1e3:7.1f}k  B/A {ratio(b, a):.2f}  B/redis {ratio(b, r):.2f}")
finally:
    for p in procs:
        p.kill()
