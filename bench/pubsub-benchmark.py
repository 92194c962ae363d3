#!/usr/bin/python3
"""PUBLISH benchmark: redis-server 7.0 and RespKv fanning messages out to 1, 10 and 1,000 subscribers.

Usage: /usr/bin/python3 bench/pubsub-benchmark.py [--rounds N] [--quick] [--scale F]

The publisher is redis-benchmark (50 clients, -P 1 and -P 16) running `PUBLISH ch <64-byte message>`; the
subscribers are raw sockets of this script (SUBSCRIBE ch) that drain and count what they receive. Every frame a
subscriber gets is the same `*3 $7 message $2 ch $64 <message>` (RESP2), so counting is counting bytes: after each
run the script waits until every subscriber received exactly requests x frame bytes and fails (naming the server,
the row and the shortfall) when one got fewer, more, or was disconnected -- a published message lost or duplicated.
Both servers run with `client-output-buffer-limit pubsub 0 0 0`, so a subscriber that lags behind the publisher
is never cut off by the default 32 MB/8 MB limits (the subscribers share CPU 1 with redis-benchmark).

Conventions of bench/compare-servers.py (whose server start-up and redis-benchmark runner this reuses): RespKv runs
as shipped (published Release, ReadyToRun, to bench/.publish), each server pinned to CPU 0 and the load (redis-benchmark
and this script's subscribers) to CPU 1 with taskset; rows measured in interleaved rounds (Redis, RespKv; Redis,
RespKv; ...) after one uncounted warm-up pass per server; a server's figure is the median over rounds and the ratio
RespKv/Redis the median of the per-round ratios (> 1: RespKv publishes faster). Prints the table and, unless --quick,
writes it to bench/results/pubsub-latest.md. Not part of .ci/run: it needs a quiet machine.
Python 3 standard library only.
"""
import argparse
import datetime
import importlib.util
import os
import resource
import selectors
import socket
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "conformance"))
import respkv_server  # noqa: E402

_spec = importlib.util.spec_from_file_location("compare_servers", os.path.join(HERE, "compare-servers.py"))
compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare)

SERVERS = ("redis", "respkv")
TITLES = {"redis": "redis-server 7.0.15", "respkv": "RespKv"}
CHANNEL = b"ch"
MESSAGE = b"m" * 64
# What each subscriber receives per PUBLISH (RESP2 message frame).
FRAME = b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL, len(MESSAGE), MESSAGE)
SUBSCRIBERS = (1, 10, 1000)
# Requests per run by (subscribers, pipeline): the fan-out grows with the subscribers, so fewer publishes keep each
# run's delivered bytes (requests x subscribers x frame) within what one Python thread drains in seconds.
REQUESTS = {(1, 1): 200_000, (1, 16): 1_000_000, (10, 1): 100_000, (10, 16): 300_000,
            (1000, 1): 5_000, (1000, 16): 10_000}
DRAIN_TIMEOUT = 120.0


class Subscribers:
    """n raw sockets subscribed to CHANNEL; a thread drains them all and counts the bytes each received."""

    def __init__(self, port, n):
        self.socks, self.received = [], {}
        self.closed = set()
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL))
            expected = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(CHANNEL), CHANNEL)
            got = b""
            while len(got) < len(expected):
                chunk = s.recv(len(expected) - len(got))
                if not chunk:
                    raise RuntimeError(f"subscriber closed during SUBSCRIBE on port {port}")
                got += chunk
            if got != expected:
                raise RuntimeError(f"unexpected SUBSCRIBE reply on port {port}: {got!r}")
            s.setblocking(False)
            self.socks.append(s)
            self.received[s] = 0
        self._stop = False
        self._tail = {s: b"" for s in self.socks}  # the last bytes received, to check the frames' content
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self):
        sel = selectors.DefaultSelector()
        for s in self.socks:
            sel.register(s, selectors.EVENT_READ)
        while not self._stop:
            for key, _ in sel.select(timeout=0.1):
                s = key.fileobj
                try:
                    data = s.recv(1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    self.closed.add(s)
                    continue
                self.received[s] += len(data)
                self._tail[s] = (self._tail[s] + data)[-len(FRAME):]
        sel.close()

    def wait_for(self, messages, label):
        """Waits until every subscriber received exactly `messages` frames; raises naming the shortfall otherwise."""
        want = messages * len(FRAME)
        deadline = time.time() + DRAIN_TIMEOUT
        while time.time() < deadline and not self.closed and any(v < want for v in self.received.values()):
            time.sleep(0.01)
        time.sleep(0.05)  # anything beyond the expected bytes would be a duplicate: let it arrive before checking
        counts = sorted(self.received.values())
        if self.closed:
            raise RuntimeError(f"{label}: {len(self.closed)} subscriber(s) disconnected by the server")
        if counts[0] != want or counts[-1] != want:
            raise RuntimeError(f"{label}: subscribers received {counts[0] / len(FRAME):.2f}..{counts[-1] / len(FRAME):.2f} "
                               f"messages each, expected {messages}")
        if any(tail != FRAME for tail in self._tail.values()):
            raise RuntimeError(f"{label}: a subscriber's last frame is not {FRAME!r}")

    def close(self):
        self._stop = True
        self._thread.join()
        for s in self.socks:
            s.close()


def whole_batches(requests, pipeline):
    """requests rounded up to a multiple of pipeline: redis-benchmark sends whole pipelines (-n 500 -P 16 publishes 512
    messages), and the subscribers must receive exactly what was published."""
    return -(-requests // pipeline) * pipeline


def run(server, proc, port, subscribers, pipeline, requests):
    """One measured run: attach the subscribers, publish `requests` messages, check every delivery."""
    label = f"{TITLES[server]}, {subscribers} subscriber(s), -P {pipeline}"
    subs = Subscribers(port, subscribers)
    try:
        result = compare.benchmark(port, proc.pid, ["PUBLISH", CHANNEL.decode(), MESSAGE.decode()], pipeline, requests)
        subs.wait_for(requests, label)
    finally:
        subs.close()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--quick", action="store_true", help="a tenth of the requests (smoke test; no results file)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every row's request count (e.g. 0.01)")
    opts = ap.parse_args()
    scale = opts.scale * (0.1 if opts.quick else 1.0)
    # 1,000 subscriber sockets plus the servers' own: raise the descriptor limit to its hard maximum.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    log_dir = os.path.join(ROOT, "TestResults", "bench")
    os.makedirs(log_dir, exist_ok=True)
    started = time.time()
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]
    compare.RESPKV = respkv_server.publish_release()
    # This script's subscribers are load, like redis-benchmark: on the client CPU (set after publishing, which builds).
    os.sched_setaffinity(0, {compare.CLIENT_CPU})
    rows = [(n, p, whole_batches(max(100, int(REQUESTS[(n, p)] * scale)), p)) for n in SUBSCRIBERS for p in (1, 16)]
    results = {(n, p): {s: [] for s in SERVERS} for n, p, _ in rows}
    procs = {}
    try:
        for s in SERVERS:
            procs[s] = compare.start(s, log_dir)
            compare.command(procs[s][1], b"CONFIG", b"SET", b"client-output-buffer-limit", b"pubsub 0 0 0")
            for n, p, requests in rows:  # warm-up (JIT tiering), not counted
                run(s, *procs[s], n, p, whole_batches(requests // 2, p))
        for r in range(opts.rounds):
            for n, p, requests in rows:
                for s in SERVERS:
                    results[(n, p)][s].append(run(s, *procs[s], n, p, requests))
            print(f"round {r + 1}/{opts.rounds} done ({time.time() - started:.0f} s)", flush=True)
    finally:
        respkv_server.stop([proc for proc, _ in procs.values()])

    header = ["Workload"] + [TITLES[s] for s in SERVERS] + ["RespKv/Redis"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] * len(header)) + " |"]
    for n, p, requests in rows:
        for metric, unit, name in (("rps", "rps", "PUBLISH/s"), ("cpu_us", "us", "server CPU per PUBLISH")):
            values = {s: [m[metric] for m in results[(n, p)][s]] for s in SERVERS}
            per_round = [a / b for a, b in zip(values["respkv"], values["redis"]) if b]
            if not per_round:  # no CPU time measurable in a tiny run
                ratio = "n/a"
            elif min(per_round) == max(per_round):
                ratio = f"{statistics.median(per_round):.2f}"
            else:
                ratio = f"{statistics.median(per_round):.2f} ({min(per_round):.2f}–{max(per_round):.2f})"
            lines.append(f"| {name}, {n:,} subscriber{'s' if n > 1 else ''}, -P {p} ({requests:,} messages) | "
                         + " | ".join(compare.fmt(statistics.median(values[s]), unit) for s in SERVERS) + f" | {ratio} |")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    context = (f"{when}; {os.cpu_count()} cores; servers pinned to CPU {compare.SERVER_CPU}, redis-benchmark and the "
               f"subscribers to CPU {compare.CLIENT_CPU}; {compare.CLIENTS} publishing clients, {len(MESSAGE)}-byte messages, "
               f"every delivery checked; median of {opts.rounds} interleaved rounds (ratio: median of per-round ratios, "
               f"with their range); 1-minute load average at start {load_before}")
    table = "\n".join(lines)
    print()
    print(context)
    print(table)
    if not opts.quick:
        with open(os.path.join(HERE, "results", "pubsub-latest.md"), "w") as f:
            f.write(f"# PUBLISH fan-out: redis-server 7.0 and RespKv\n\n{context}.\n\n{table}\n")
    print(f"\ndone ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
