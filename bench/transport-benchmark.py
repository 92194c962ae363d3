#!/usr/bin/python3
"""Transport comparison (issue 19, point 4): RespKv on each of its three transports beside redis-server, in one run.

Usage: /usr/bin/python3 bench/transport-benchmark.py [--rounds N] [--requests N]

The same published build (bench/.publish, ReadyToRun, RespKv's shipped runtime settings) runs three times, once per
RESPKV_TRANSPORT value: kestrel (Kestrel's socket transport, the default), pipelines-sockets (Pipelines.Sockets.Unofficial
2.2.16's SocketConnection) and socket-loop (RespKv's own Socket loop); see src/RespKv/Server/SocketTransports.cs.
redis-server 7.0 runs beside them as the reference. Every server is pinned to CPU 0, redis-benchmark to CPU 1, 50 clients,
100-byte values, 100,000 random keys (bench/compare-servers.py's settings). Rows: SET and GET at -P 1 and -P 16, and
redis-benchmark's MSET (10 keys) at -P 1. Each server gets one uncounted warm-up pass of every row; then rounds run every row on every server in
turn, in an order that rotates with the round. Reports per row and server the median requests per second, p50/p99 latency and server CPU per request, and the
medians of the per-round ratios to Kestrel and to redis-server.
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "conformance"))
import respkv_server  # noqa: E402

_spec = importlib.util.spec_from_file_location("compare_servers", os.path.join(HERE, "compare-servers.py"))
compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare)

TRANSPORTS = ["kestrel", "pipelines-sockets", "socket-loop"]
# SET before GET, so the GETs mostly hit.
ROWS = [
    ("SET -P1", ["-t", "set"], 1),
    ("GET -P1", ["-t", "get"], 1),
    ("SET -P16", ["-t", "set"], 16),
    ("GET -P16", ["-t", "get"], 16),
    ("MSET 10 keys -P1", ["-t", "mset"], 1),
]


def start_respkv(exe, transport, log_dir):
    port = respkv_server.free_port()
    log = open(os.path.join(log_dir, f"respkv-{transport}-{port}.log"), "wb")
    env = respkv_server.respkv_env({"RESPKV_TRANSPORT": transport})
    proc = subprocess.Popen(compare.taskset(compare.SERVER_CPU) + [exe, "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=log_dir, env=env)
    log.close()
    respkv_server.wait_ready(port, proc, "respkv-server")
    return proc, port


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=200_000, help="requests per -P 1 row (ten times as many at -P 16)")
    opts = ap.parse_args()
    exe = respkv_server.publish_release()
    log_dir = tempfile.mkdtemp(prefix="respkv-transports-")
    servers = {"redis": respkv_server.start_redis(log_dir, cpu=compare.SERVER_CPU)}
    for t in TRANSPORTS:
        servers[t] = start_respkv(exe, t, log_dir)
    try:
        results = {(row, name): [] for row, _, _ in ROWS for name in servers}

        def run(row, args, pipeline, requests, turn=0):
            # The order rotates with the round, so no server always runs right after the same neighbour.
            names = list(servers)
            names = names[turn % len(names):] + names[:turn % len(names)]
            out = {}
            for name in names:
                proc, port = servers[name]
                out[name] = compare.benchmark(port, proc.pid, args, pipeline, requests)
            return {name: out[name] for name in servers}

        for row, args, pipeline in ROWS:
            run(row, args, pipeline, opts.requests // 4)
        for r in range(opts.rounds):
            for row, args, pipeline in ROWS:
                measured = run(row, args, pipeline, opts.requests * (10 if pipeline > 1 else 1), r)
                for name, m in measured.items():
                    results[(row, name)].append(m)
                print(f"round {r + 1} {row}: " + ", ".join(f"{n} {m['rps'] / 1e3:.1f}k" for n, m in measured.items()), flush=True)

        def med(row, name, key):
            return statistics.median(m[key] for m in results[(row, name)])

        def ratio(row, name, other, key):
            pairs = [a[key] / b[key] for a, b in zip(results[(row, name)], results[(row, other)]) if b[key]]
            return statistics.median(pairs)

        print()
        print(f"| Workload | transport | req/s | /kestrel | /redis | p50 | p99 | server CPU per request (/redis) |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for row, _, _ in ROWS:
            for name in servers:
                rel_k = "" if name in ("redis", "kestrel") else f"{ratio(row, name, 'kestrel', 'rps'):.2f}"
                rel_r = "" if name == "redis" else f"{ratio(row, name, 'redis', 'rps'):.2f}"
                cpu = f"{med(row, name, 'cpu_us'):.2f} µs" + ("" if name == "redis" else f" ({ratio(row, name, 'redis', 'cpu_us'):.2f})")
                print(f"| {row} | {name} | {med(row, name, 'rps') / 1e3:.1f}k | {rel_k} | {rel_r} | "
                      f"{med(row, name, 'p50_ms'):.3f} ms | {med(row, name, 'p99_ms'):.3f} ms | {cpu} |")
    finally:
        for proc, _ in servers.values():
            proc.kill()


if __name__ == "__main__":
    main()
