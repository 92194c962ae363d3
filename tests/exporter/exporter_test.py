#!/usr/bin/python3
"""Debian's prometheus-redis-exporter (oliver006/redis_exporter) against RespKv and redis-server 7.0.

Starts redis-server 7.0 and the built RespKv executable on free loopback ports, loads the same data shapes into both
(strings with and without a TTL, a list, set, hash, sorted set, HyperLogLog, a stream with a consumer group and a pending
entry, a second database, a failed command, a latency spike and a slow-log entry), keeps a pub/sub subscriber and a
blocked client connected, and scrapes both through one exporter process (its multi-target /scrape endpoint) run with its
optional collectors on (system metrics, client list, config metrics, key, stream and key-count checks). Checks, for both
persistence modes (appendonly no and yes):
  - each scrape reports redis_up 1 and redis_exporter_last_scrape_error 0 with no error text;
  - RespKv's metric names are exactly redis-server's (a missing name fails, listing it; so does an extra one);
  - each metric has the same label names, and the per-key, per-stream, per-config, per-command and per-error series match.
Usage: /usr/bin/python3 tests/exporter/exporter_test.py
Ends with the line "exporter: N passed, N failed"; exits 1 when a check failed or the exporter is not installed.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "conformance"))
import respkv_server  # noqa: E402  (the conformance runner's helpers: build, free port, start/stop)

EXPORTER = shutil.which("prometheus-redis-exporter") or shutil.which("redis_exporter")
EXPORTER_FLAGS = [
    "-include-system-metrics", "-export-client-list", "-include-config-metrics", "-ping-on-connect",
    "-check-keys", "str:*,list:*,hash:*,zset:*,set:*,hll:*", "-check-single-keys", "db0=str:plain",
    "-check-streams", "stream:*", "-count-keys", "db0=*,db1=*",
]
# Series whose labels identify data (keys, streams, settings, commands, errors): compared label set by label set.
COMPARED_SERIES = re.compile(r"^redis_(key_size|key_value|keys_count|stream_[a-z_]+|config_value|commands_total|"
                             r"commands_duration_seconds_total|errors_total|db_keys|db_keys_expiring)$")
# Labels whose values differ between two servers by nature (addresses, ids, versions, timings).
VOLATILE_LABELS = {"id", "addr", "name", "age", "idle", "flags", "omem", "redis_build_id", "run_id", "process_id",
                   "tcp_port", "master_replid", "os", "redis_version", "first_entry_id", "last_entry_id",
                   "last_generated_id", "last_delivered_id", "consumer", "resp", "user", "port", "host"}


class Conn:
    """A minimal RESP2 connection: call(*args) returns the reply (errors as Exception instances)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")

    def send(self, *args):
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))

    def read(self):
        line = self.file.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b":":
            return int(rest)
        if kind == b"-":
            return Exception(rest.decode())
        return rest

    def call(self, *args):
        self.send(*args)
        return self.read()

    def close(self):
        self.sock.close()


def load(port):
    """The same data shapes and activity on a server; returns the connections to keep open during the scrape."""
    c = Conn(port)
    for command in [
        ("FLUSHALL",), ("CONFIG", "RESETSTAT"), ("SLOWLOG", "RESET"), ("LATENCY", "RESET"),
        ("SET", "str:plain", "hello"), ("SET", "str:ttl", "world", "EX", "1000"), ("INCR", "str:counter"),
        ("RPUSH", "list:1", "a", "b", "c"), ("SADD", "set:1", "a", "b", "c"), ("HSET", "hash:1", "f1", "v1", "f2", "v2"),
        ("ZADD", "zset:1", "1", "a", "2", "b"), ("PFADD", "hll:1", "a", "b", "c"),
        ("XADD", "stream:1", "1-1", "f", "v"), ("XADD", "stream:1", "2-1", "f", "w"), ("XGROUP", "CREATE", "stream:1", "g1", "0"),
        ("XREADGROUP", "GROUP", "g1", "c1", "COUNT", "1", "STREAMS", "stream:1", ">"),
        ("SELECT", "1"), ("SET", "other", "x"), ("SELECT", "0"),
        ("CONFIG", "SET", "latency-monitor-threshold", "1"), ("CONFIG", "SET", "slowlog-log-slower-than", "0"),
        ("DEBUG", "SLEEP", "0.01"), ("GET", "str:plain"), ("GET", "str:missing"),
    ]:
        reply = c.call(*command)
        if isinstance(reply, Exception):
            raise RuntimeError(f"{command} on port {port}: {reply}")
    if not isinstance(c.call("INCR", "str:plain"), Exception):
        raise RuntimeError("INCR of a non-integer did not fail")
    subscriber = Conn(port)
    subscriber.call("SUBSCRIBE", "news")
    blocked = Conn(port)
    blocked.send("BLPOP", "list:empty", "30")
    deadline = time.time() + 10
    while b"blocked_clients:1" not in c.call("INFO", "clients") and time.time() < deadline:
        time.sleep(0.05)
    return [c, subscriber, blocked]


def scrape(exporter_port, port):
    url = f"http://127.0.0.1:{exporter_port}/scrape?target=" + urllib.parse.quote(f"redis://127.0.0.1:{port}", safe="")
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read().decode()


def parse(text):
    """{metric name: {frozenset of (label, value)}} of an exposition text."""
    metrics = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$", line)
        if not m:
            raise ValueError(f"unparsable exposition line: {line!r}")
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        metrics.setdefault(m.group(1), set()).add(labels)
    return metrics


def value_of(text, name):
    m = re.search(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.M)
    return m.group(1) if m else None


def wait_http(port, proc, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the exporter exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the exporter did not answer within 30 s")


def main():
    if EXPORTER is None:
        print("prometheus-redis-exporter is not installed (apt-get install prometheus-redis-exporter; .ci/run installs it)")
        print("exporter: 0 passed, 1 failed")
        return 1
    respkv_server.ensure_built()
    check = respkv_server.Checks("exporter")

    work = tempfile.mkdtemp(prefix="respkv-exporter-")
    exporter_port = respkv_server.free_port()
    exporter_log = open(os.path.join(work, "exporter.log"), "w")
    exporter = subprocess.Popen([EXPORTER, "-web.listen-address", f"127.0.0.1:{exporter_port}", "-redis.addr", ""] + EXPORTER_FLAGS,
                                stdout=exporter_log, stderr=subprocess.STDOUT)
    try:
        wait_http(exporter_port, exporter)
        for appendonly in (False, True):
            mode = f"appendonly {'yes' if appendonly else 'no'}"
            procs, conns = [], []
            try:
                redis, redis_port = respkv_server.start_redis(os.path.join(work, f"redis-{mode[-3:].strip()}"), appendonly=appendonly)
                procs.append(redis)
                respkv_log = os.path.join(work, f"respkv-{mode[-3:].strip()}")
                respkv, respkv_port = respkv_server.start_respkv(respkv_log)
                procs.append(respkv)
                setting = Conn(respkv_port)
                setting.call("CONFIG", "SET", "appendonly", "yes" if appendonly else "no")
                setting.close()
                conns += load(redis_port) + load(respkv_port)
                texts = {"redis-server": scrape(exporter_port, redis_port), "RespKv": scrape(exporter_port, respkv_port)}
            finally:
                for c in conns:
                    c.close()
                respkv_server.stop(procs)
            for server, text in texts.items():
                check(f"{mode}: {server}: redis_up 1", value_of(text, "redis_up") == "1", value_of(text, "redis_up"))
                error = re.search(r'^redis_exporter_last_scrape_error\{err="(.*)"\} (\S+)$', text, re.M)
                check(f"{mode}: {server}: redis_exporter_last_scrape_error 0",
                      error is not None and error.group(2) == "0" and error.group(1) == "", error and error.group(0))
            expected, actual = parse(texts["redis-server"]), parse(texts["RespKv"])
            missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
            check(f"{mode}: RespKv exports redis-server's {len(expected)} metric names", not missing and not extra,
                  f"missing {missing}, extra {extra}")
            label_diffs = []
            for name in sorted(set(expected) & set(actual)):
                want = {frozenset(k for k, _ in labels) for labels in expected[name]}
                got = {frozenset(k for k, _ in labels) for labels in actual[name]}
                if want != got:
                    label_diffs.append(f"{name}: {sorted(map(sorted, want))} vs {sorted(map(sorted, got))}")
            check(f"{mode}: every metric has redis-server's label names", not label_diffs, label_diffs)
            series_diffs = []
            for name in sorted(n for n in set(expected) & set(actual) if COMPARED_SERIES.match(n)):
                def stable(series):
                    return {frozenset((k, v) for k, v in labels if k not in VOLATILE_LABELS) for labels in series}
                want, got = stable(expected[name]), stable(actual[name])
                if want != got:
                    series_diffs.append(f"{name}: missing {sorted(map(sorted, want - got))}, extra {sorted(map(sorted, got - want))}")
            check(f"{mode}: key, stream, config, command and error series match redis-server's", not series_diffs, series_diffs)
    finally:
        exporter.terminate()
        exporter.wait(10)
        exporter_log.close()
        if not all(check.results):
            print(open(os.path.join(work, "exporter.log")).read())
        shutil.rmtree(work, ignore_errors=True)

    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
