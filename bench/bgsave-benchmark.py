#!/usr/bin/env python3
"""BGSAVE benchmark: RespKv beside redis-server 7.0 on the same data, rounds interleaved.

Each server (both with `--save "" --appendonly no`, RespKv with its shipped runtime settings) is filled with KEYS string
keys (`key:000000000042` -> 100-byte value, loaded with `redis-cli --pipe`). Then, per round, idle then under a write
load, per server in turn:
  - under load: a write load starts (redis-benchmark SET overwriting random keys among the same KEYS, 20 clients, -P 16),
    so the snapshot is taken while the data changes (Redis's fork then copies the pages the writes touch; RespKv's snapshot
    keeps the values it holds alive while newer ones replace them);
  - BGSAVE; the server's memory is sampled every 20 ms until `rdb_bgsave_in_progress:0`: the proportional set size
    (Pss, /proc/PID/smaps_rollup) of the server and, for redis-server, of its fork child too, so pages the two share
    count once;
  - the load stops.
Reported per server: BGSAVE wall time (BGSAVE sent -> rdb_bgsave_in_progress:0), the memory before the BGSAVE, the peak
during it, and the extra memory (peak - before) as a percentage of the memory before. Medians over the rounds.

Usage: bench/bgsave-benchmark.py [--keys 1000000] [--rounds 3]
Needs redis-server, redis-cli, redis-benchmark and the Release build of src/RespKv.Server.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conformance"))
import respkv_server  # noqa: E402


def pss_kb(pid):
    """Pss of one process in KB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def memory_kb(pid):
    """The server's memory: its Pss plus its children's (redis-server's fork child during BGSAVE)."""
    return pss_kb(pid) + sum(pss_kb(c) for c in children(pid))


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=120).stdout


def fill(port, keys):
    value = "v" * 100
    proto = []
    for i in range(keys):
        k = f"key:{i:012d}"  # redis-benchmark's key:__rand_int__ form, so the write load overwrites these keys
        proto.append(f"*3\r\n$3\r\nSET\r\n${len(k)}\r\n{k}\r\n$100\r\n{value}\r\n")
    data = "".join(proto).encode()
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=data, capture_output=True, timeout=600, check=True)


def bgsave(port, pid, keys, loaded):
    load = None
    if loaded:
        load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-r", str(keys), "-n", "100000000",
                                 "-c", "20", "-P", "16", "-d", "100", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    else:
        time.sleep(0.5)
    before = memory_kb(pid)
    start = time.monotonic()
    reply = cli(port, "BGSAVE").strip()
    assert reply.startswith("Background saving started"), reply
    peak = before
    while True:
        peak = max(peak, memory_kb(pid))
        if "rdb_bgsave_in_progress:0" in cli(port, "INFO", "persistence"):
            break
        time.sleep(0.02)
    seconds = time.monotonic() - start
    if load:
        load.kill()
        load.wait()
    status = re.search(r"rdb_last_bgsave_status:(\w+)", cli(port, "INFO", "persistence")).group(1)
    assert status == "ok", status
    return seconds, before, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    respkv_server.ensure_built()
    work = tempfile.mkdtemp(prefix="bgsave-bench-")
    servers = {}
    try:
        for name in ("redis", "respkv"):
            d = os.path.join(work, name)
            os.makedirs(d)
            port = respkv_server.free_port()
            if name == "redis":
                cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                       "--dir", d, "--daemonize", "no", "--logfile", os.path.join(d, "log")]
                env = os.environ
            else:
                cmd = ["dotnet", respkv_server.RESPKV_DLL, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", d]
                env = respkv_server.respkv_env()
            proc = subprocess.Popen(cmd, stdout=open(os.path.join(d, "stdout"), "wb"), stderr=subprocess.STDOUT, env=env, cwd=d)
            respkv_server.wait_ready(port, proc, name)
            fill(port, args.keys)
            servers[name] = (proc, port)
            print(f"{name}: {cli(port, 'DBSIZE').strip()} keys, pid {proc.pid}", flush=True)
        results = {(name, mode): [] for name in servers for mode in ("idle", "write load")}
        for r in range(args.rounds):
            for mode in ("idle", "write load"):
                for name, (proc, port) in servers.items():
                    seconds, before, peak = bgsave(port, proc.pid, args.keys, mode != "idle")
                    results[(name, mode)].append((seconds, before, peak))
                    print(f"round {r + 1} {name} ({mode}): BGSAVE {seconds:.2f} s, memory {before / 1024:.0f} MB before, "
                          f"{peak / 1024:.0f} MB peak (+{(peak - before) * 100 / before:.1f}%)", flush=True)
        print()
        print("| Server | During BGSAVE | BGSAVE time | Memory before | Peak during BGSAVE | Extra |")
        print("| --- | --- | --- | --- | --- | --- |")
        for (name, mode), rows in results.items():
            t = statistics.median(x[0] for x in rows)
            b = statistics.median(x[1] for x in rows)
            p = statistics.median(x[2] for x in rows)
            extra = statistics.median((x[2] - x[1]) * 100 / x[1] for x in rows)
            print(f"| {name} | {mode} | {t:.2f} s | {b / 1024:.0f} MB | {p / 1024:.0f} MB | +{extra:.1f}% |")
    finally:
        for proc, _ in servers.values():
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
