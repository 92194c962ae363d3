#!/usr/bin/env python3
"""AOF benchmark: RespKv beside redis-server 7.0 with the same persistence settings, in one run.

1. Write throughput: redis-benchmark -t set, 50 clients, -P 1 and -P 16, under `appendfsync always` and
   `everysec` (both servers `appendonly yes`; redis-server with `aof-use-rdb-preamble no`), rounds interleaved
   (redis, respkv, redis, respkv...) after one uncounted warm-up pass per server, servers pinned to SERVER_CPU
   and redis-benchmark to CLIENT_CPU.
2. Start-up: time from process start to the first +PONG (LOADING replies do not count) on a 1,000,000-key AOF
   (one SET per key, written by this script), each server started on its own fresh copy of the file.

Usage: bench/aof-benchmark.py [--rounds 3] [--requests 100000] [--keys 1000000] [--startup-only]
Prints every measurement, then a summary table with medians and RespKv/Redis ratios (medians of per-round ratios).
RespKv runs as shipped: published like the Dockerfile's image (Release, ReadyToRun) to bench/.publish.
Needs redis-server, redis-benchmark, taskset and the .NET SDK.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conformance"))
import respkv_server  # noqa: E402  (RESPKV_RUNTIME_ENV: the runtime settings RespKv ships with)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESPKV = None  # the published (ReadyToRun) executable, set by main()
SERVER_CPU = os.environ.get("SERVER_CPU", "0")
CLIENT_CPU = os.environ.get("CLIENT_CPU", "1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port):
    """The first reply line to PING, or None when the server does not answer yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(256)
                if not chunk:
                    return None
                data += chunk
            return data.split(b"\r\n", 1)[0]
    except OSError:
        return None


def start(name, data_dir, port, fsync):
    """Starts a server pinned to SERVER_CPU with the AOF on; returns (process, seconds to first +PONG)."""
    if name == "redis":
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "yes", "--appendfsync", fsync,
               "--aof-use-rdb-preamble", "no", "--dir", data_dir, "--loglevel", "warning",
               "--auto-aof-rewrite-percentage", "0"]
    else:
        cmd = [RESPKV, "--port", str(port), "--save", "", "--appendonly", "yes", "--appendfsync", fsync, "--dir", data_dir,
               "--loglevel", "warning", "--auto-aof-rewrite-percentage", "0"]
    began = time.perf_counter()
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            env=None if name == "redis" else respkv_server.respkv_env())
    while True:
        if ping(port) == b"+PONG":
            return proc, time.perf_counter() - began
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        if time.perf_counter() - began > 600:
            proc.kill()
            raise RuntimeError(f"{name} not ready in 600 s")
        time.sleep(0.005)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def set_rate(port, requests, pipeline):
    out = subprocess.run(["taskset", "-c", CLIENT_CPU, "redis-benchmark", "-p", str(port), "-q", "-t", "set",
                          "-n", str(requests), "-c", "50", "-r", "100000", "-P", str(pipeline)],
                         capture_output=True, text=True, check=True).stdout
    m = re.findall(r"SET: ([0-9.]+) requests per second", out.replace("\r", "\n"))
    return float(m[-1])


def write_aof(path, keys):
    with open(path, "wb") as f:
        f.write(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
        chunk = []
        for i in range(keys):
            k = b"key:%09d" % i
            v = b"value:%09d:xxxxxxxxxxxxxxxx" % i
            chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=100000)
    p.add_argument("--keys", type=int, default=1_000_000)
    p.add_argument("--startup-only", action="store_true", help="skip the throughput rows")
    args = p.parse_args()
    global RESPKV
    RESPKV = respkv_server.publish_release()
    work = tempfile.mkdtemp(prefix="respkv-aof-bench-")
    results = {}  # (workload, server) -> [rates]
    try:
        for fsync in () if args.startup_only else ("always", "everysec"):
            procs = {}
            for name in ("redis", "respkv"):
                d = os.path.join(work, f"{name}-{fsync}")
                os.makedirs(d)
                port = free_port()
                procs[name] = (start(name, d, port, fsync)[0], port)
            try:
                # One uncounted pass each, a few seconds long: RespKv's tiered JIT recompiles the hot paths (ReadyToRun
                # code, then instrumented, then final optimised code) during its first seconds of load, and the
                # rounds measure the steady state a long-running server is in. redis-server needs no warm-up.
                for name in ("redis", "respkv"):
                    set_rate(procs[name][1], args.requests, 16)
                    set_rate(procs[name][1], args.requests * 2, 1)
                for r in range(1, args.rounds + 1):
                    for pipeline in (1, 16):
                        for name in ("redis", "respkv"):
                            n = args.requests * (4 if pipeline > 1 else 1)
                            rate = set_rate(procs[name][1], n, pipeline)
                            key = f"SET -P {pipeline}, appendfsync {fsync}"
                            results.setdefault((key, name), []).append(rate)
                            print(f"round {r}: {name:6} {key}: {rate:,.0f} requests/s", flush=True)
            finally:
                for proc, _ in procs.values():
                    stop(proc)
        aof = os.path.join(work, "source.aof")
        write_aof(aof, args.keys)
        size = os.path.getsize(aof)
        print(f"start-up AOF: {args.keys:,} keys, {size:,} bytes", flush=True)
        for r in range(1, args.rounds + 1):
            for name in ("redis", "respkv"):
                d = os.path.join(work, f"startup-{name}-{r}")
                os.makedirs(d)
                shutil.copy(aof, os.path.join(d, "appendonly.aof"))
                subprocess.run(["sync"], check=False)
                port = free_port()
                proc, seconds = start(name, d, port, "everysec")
                stop(proc)
                key = f"start-up to first PONG, {args.keys:,}-key AOF (s)"
                results.setdefault((key, name), []).append(seconds)
                print(f"round {r}: {name:6} {key}: {seconds:.2f}", flush=True)
                shutil.rmtree(d, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("| Workload | redis-server 7.0.15 | RespKv | RespKv/Redis |")
    print("|---|---:|---:|---:|")
    for key in dict.fromkeys(k for k, _ in results):
        red, kv = results[(key, "redis")], results[(key, "respkv")]
        ratio = statistics.median(b / a for a, b in zip(red, kv))
        fmt = (lambda v: f"{v:.2f} s") if "start-up" in key else (lambda v: f"{v:,.0f}/s")
        print(f"| {key} | {fmt(statistics.median(red))} | {fmt(statistics.median(kv))} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
