#!/usr/bin/python3
"""Three-server comparison: redis-server 7.0, Garnet 2.2.8 and RespKv, side by side.

Usage: /usr/bin/python3 bench/compare-servers.py [--rounds N] [--quick] [--baseline REV] [--rows strings|collections|scripting|data]
                                                [--servers redis,garnet,respkv]

--rows collections runs the list, set and sorted-set rows instead of the string and hash rows:
redis-benchmark's own tests (-t lpush,rpush,lpop,rpop,sadd,spop,zadd,zpopmin and LRANGE mylist 0 99, its
lrange_100) at -P 1 and -P 16; these use redis-benchmark's fixed keys (mylist, myset, myzset), so every client
writes the same key. --servers picks the servers (RespKv always runs; Garnet is skipped when not named).

--rows scripting runs the scripting rows of issue 18: EVALSHA of a small INCR script on one key (ctr:__rand_int__,
loaded with SCRIPT LOAD before the rounds) at -P 1 and -P 16, and EVAL of a script running 10 commands (5 INCR, 5 GET
of one key) at -P 1.

--rows data runs issue 20's rows: XADD and XREADGROUP (one stream, one group reading the next entry), PFADD,
SETBIT/BITCOUNT on one bitmap and GEOSEARCH over 10,000 points (DATA_ROWS); stream memory per entry is
bench/stream-memory.py's.

--baseline REV adds a fourth server to the same interleaved rounds: RespKv built from git revision REV (a
temporary worktree, published the same way), and a column RespKv/baseline — how a change moved RespKv's figures,
measured side by side with redis-server and Garnet rather than against numbers from another day.

Each server runs pinned to CPU 0 and redis-benchmark to CPU 1 (taskset). Every throughput/latency row is
measured in interleaved rounds (Redis, Garnet, RespKv; Redis, Garnet, RespKv; ...): a server's figure
is the median over rounds, and each ratio is the median of the per-round ratios RespKv/Redis and
RespKv/Garnet (for rates, > 1 means RespKv is faster; for latency, CPU and memory, < 1 means RespKv
uses less). Each server first gets one uncounted warm-up pass of every row (the .NET servers' JIT
tiers up). The 1,000,000-key memory figure loads each server freshly started.

Prints the table, writes it to bench/results/latest.md and ends with one summary line. Not part of
.ci/run: it takes several minutes and needs a quiet machine. Python 3 standard library only.
Garnet is installed with `dotnet tool install garnet-server --version 2.2.8 --tool-path bench/.tools/garnet`
when missing and runs with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1.
"""
import argparse
import csv
import datetime
import os
import platform
import socket
import hashlib
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "conformance"))
import respkv_server  # noqa: E402

GARNET_VERSION = "2.2.8"
GARNET_DIR = os.path.join(HERE, ".tools", "garnet")
SERVER_CPU, CLIENT_CPU = 0, 1
CLIENTS, VALUE_SIZE, KEYSPACE = 50, 100, 100_000
MEMORY_KEYS = 1_000_000
SERVERS = ("redis", "garnet", "respkv")
TITLES = {"redis": "redis-server 7.0.15", "garnet": f"Garnet {GARNET_VERSION}", "respkv": "RespKv"}
DATA_SIZE = VALUE_SIZE  # redis-benchmark -d: VALUE_SIZE for the string rows, its default 3 for the collection rows
RATIO_TITLES = {"redis": "Redis", "garnet": "Garnet", "baseline": "baseline"}
RESPKV = None  # the published (ReadyToRun) executable, as the Dockerfile ships it: set by main()
BASELINE = None  # the same, built from --baseline REV: set by main() when given

# Throughput rows: (label, redis-benchmark arguments, pipeline depth, requests per round).
# redis-benchmark's keys are key:__rand_int__ over -r KEYSPACE; GETs hit, because every server is
# preloaded with those keys first. The hash rows use one hash, HASH_KEY (redis-benchmark's -t hset
# writes HSET myhash element:__rand_int__ VALUE); it is preloaded with all KEYSPACE fields, so HGETs hit
# and HSET overwrites existing fields. A family's rows go here.
HASH_KEY, HASH_FIELD_FORMAT = "myhash", "element:%012d"
THROUGHPUT_ROWS = [
    ("SET -P 1", ["-t", "set"], 1, 100_000),
    ("GET -P 1", ["-t", "get"], 1, 100_000),
    ("SET -P 16", ["-t", "set"], 16, 1_000_000),
    ("GET -P 16", ["-t", "get"], 16, 1_000_000),
    ("MSET (10 keys) -P 1", ["-t", "mset"], 1, 50_000),
    ("MSET (10 keys) -P 16", ["-t", "mset"], 16, 200_000),
    ("HSET -P 1", ["-t", "hset"], 1, 100_000),
    ("HGET -P 1", ["HGET", HASH_KEY, "element:__rand_int__"], 1, 100_000),
    ("HSET -P 16", ["-t", "hset"], 16, 1_000_000),
    ("HGET -P 16", ["HGET", HASH_KEY, "element:__rand_int__"], 16, 1_000_000),
    # Keys of their own (ttl:…), so the TTLs never make the GET rows' keys expire.
    ("SET EX 60 -P 1", ["SET", "ttl:__rand_int__", "v" * VALUE_SIZE, "EX", "60"], 1, 100_000),
    ("SET EX 60 -P 16", ["SET", "ttl:__rand_int__", "v" * VALUE_SIZE, "EX", "60"], 16, 1_000_000),
]
# redis-benchmark's collection tests; "LRANGE mylist 0 99" is its lrange_100 (redis-benchmark's own -t lrange_100
# would also run an LPUSH test first). Each round runs the pushes before the pops, the same counts, so the pops
# find elements; mylist is preloaded with 600 elements as redis-benchmark does before LRANGE.
COLLECTION_ROWS = [
    (f"{name} -P {p}", args, p, requests)
    for p, requests in ((1, 100_000), (16, 1_000_000))
    for name, args in (("LPUSH", ["-t", "lpush"]), ("RPUSH", ["-t", "rpush"]), ("LPOP", ["-t", "lpop"]),
                       ("RPOP", ["-t", "rpop"]), ("SADD", ["-t", "sadd"]), ("SPOP", ["-t", "spop"]),
                       ("ZADD", ["-t", "zadd"]), ("ZPOPMIN", ["-t", "zpopmin"]),
                       ("LRANGE_100", ["LRANGE", "mylist", "0", "99"]))
]
# The scripting rows: EVALSHA of INCR_SCRIPT (loaded before the rounds) and EVAL of TEN_COMMAND_SCRIPT.
INCR_SCRIPT = b"return redis.call('INCR', KEYS[1])"
TEN_COMMAND_SCRIPT = ("local n = 0 for i = 1, 5 do n = n + redis.call('INCR', KEYS[1]) "
                      "n = n + tonumber(redis.call('GET', KEYS[1])) end return n")
SCRIPTING_ROWS = [
    ("EVALSHA INCR -P 1", ["EVALSHA", hashlib.sha1(INCR_SCRIPT).hexdigest(), "1", "ctr:__rand_int__"], 1, 100_000),
    ("EVALSHA INCR -P 16", ["EVALSHA", hashlib.sha1(INCR_SCRIPT).hexdigest(), "1", "ctr:__rand_int__"], 16, 1_000_000),
    ("EVAL 10 commands -P 1", ["EVAL", TEN_COMMAND_SCRIPT, "1", "counter:__rand_int__"], 1, 100_000),
]
# The data rows of issue 20: XADD onto one stream (DATA_STREAM), XREADGROUP of the next entry by one group
# (created at 0 before the rounds; each round adds more entries than it reads), PFADD of random elements to one
# HyperLogLog, SETBIT of the last bit of a 12.5 KB bitmap (redis-benchmark's __rand_int__ has leading zeros, which
# Redis refuses as a bit offset) and BITCOUNT of it, GEOSEARCH of the 10
# nearest of GEO_POINTS points within 50 km (preloaded, a grid around 15°E 37°N).
DATA_STREAM, GEO_KEY, GEO_POINTS = "bench:stream", "bench:geo", 10_000
GEOSEARCH_ARGS = ["GEOSEARCH", GEO_KEY, "FROMLONLAT", "15", "37", "BYRADIUS", "50", "km", "ASC", "COUNT", "10"]
DATA_ROWS = [
    ("XADD -P 1", ["XADD", DATA_STREAM, "*", "field", "__rand_int__"], 1, 100_000),
    ("XADD -P 16", ["XADD", DATA_STREAM, "*", "field", "__rand_int__"], 16, 1_000_000),
    ("XREADGROUP -P 1", ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", DATA_STREAM, ">"], 1, 100_000),
    ("XREADGROUP -P 16", ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", DATA_STREAM, ">"], 16, 300_000),
    ("PFADD -P 1", ["PFADD", "bench:hll", "__rand_int__"], 1, 100_000),
    ("PFADD -P 16", ["PFADD", "bench:hll", "__rand_int__"], 16, 1_000_000),
    ("SETBIT -P 1", ["SETBIT", "bench:bits", "99999", "1"], 1, 100_000),
    ("SETBIT -P 16", ["SETBIT", "bench:bits", "99999", "1"], 16, 1_000_000),
    ("BITCOUNT -P 16", ["BITCOUNT", "bench:bits"], 16, 1_000_000),
    ("GEOSEARCH -P 1", GEOSEARCH_ARGS, 1, 10_000),
    ("GEOSEARCH -P 16", GEOSEARCH_ARGS, 16, 20_000),
]
LATENCY_ROW = "GET -P 1"                        # p50/p99 latency taken from this row's runs
CPU_ROWS = ["GET -P 1", "SET -P 16", "GET -P 16"]  # server CPU per request shown for these rows


def taskset(cpu):
    return ["taskset", "-c", str(cpu)]


def ensure_garnet():
    exe = os.path.join(GARNET_DIR, "garnet-server")
    if not os.path.exists(exe):
        print(f"installing garnet-server {GARNET_VERSION} into {GARNET_DIR}", flush=True)
        subprocess.run(["dotnet", "tool", "install", "garnet-server", "--version", GARNET_VERSION,
                        "--tool-path", GARNET_DIR], check=True, stdout=subprocess.DEVNULL)
    return exe


def start(name, log_dir):
    """Starts one server pinned to SERVER_CPU; returns (process, port)."""
    if name == "redis":
        return respkv_server.start_redis(log_dir, cpu=SERVER_CPU)
    if name in ("respkv", "baseline"):
        # Like-for-like with redis-server (started with --save "" --appendonly no): the executable persists by default
        # (AOF and Redis's save points; a dump.rdb left in the run's directory would be loaded by the next start).
        port = respkv_server.free_port()
        log = open(os.path.join(log_dir, f"{name}-server-{port}.log"), "wb")
        exe = RESPKV if name == "respkv" else BASELINE
        proc = subprocess.Popen(taskset(SERVER_CPU) + [exe, "--port", str(port), "--save", "", "--appendonly", "no"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=log_dir, env=respkv_server.respkv_env())
        log.close()
        respkv_server.wait_ready(port, proc, "respkv-server")
        return proc, port
    port = respkv_server.free_port()
    log = open(os.path.join(log_dir, f"garnet-{port}.log"), "wb")
    proc = subprocess.Popen(taskset(SERVER_CPU) + [ensure_garnet(), "--port", str(port), "--bind", "127.0.0.1"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=log_dir,
                            env={**os.environ, "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS": "1"})
    log.close()
    respkv_server.wait_ready(port, proc, "garnet-server")
    return proc, port


def publish_baseline(rev):
    """Publishes RespKv as of git revision rev (checked out in a temporary worktree) to bench/.publish-baseline."""
    tree = os.path.join(ROOT, "TestResults", "bench", "baseline-tree")
    subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", tree, rev], check=True, stdout=subprocess.DEVNULL)
    try:
        return respkv_server.publish_release(root=tree, out=os.path.join(HERE, ".publish-baseline"))
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree], stdout=subprocess.DEVNULL)


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (from /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def load_keys(port, count, name_format, hash_key=None):
    """SETs count keys (name_format % i) with VALUE_SIZE-byte values through redis-cli --pipe; with
    hash_key, HSETs count fields (name_format % i) of that one hash instead."""
    value = b"v" * VALUE_SIZE
    proc = subprocess.Popen(taskset(CLIENT_CPU) + ["redis-cli", "-p", str(port), "--pipe"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    prefix = b"*3\r\n$3\r\nSET\r\n" if hash_key is None else \
        b"*4\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n" % (len(hash_key), hash_key.encode())
    chunk = []
    for i in range(count):
        key = (name_format % i).encode()
        chunk.append(prefix + b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
        if len(chunk) == 10_000:
            proc.stdin.write(b"".join(chunk))
            chunk = []
    proc.stdin.write(b"".join(chunk))
    proc.stdin.close()
    out = proc.stdout.read().decode(errors="replace")
    if proc.wait() != 0 or f"errors: 0, replies: {count}" not in out:
        raise RuntimeError(f"loading {count} keys into port {port} failed: {out}")


def command(port, *args):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return s.recv(4096)


def benchmark(port, pid, args, pipeline, requests):
    """One redis-benchmark run; returns dict(rps, p50_ms, p99_ms, cpu_us_per_request)."""
    cmd = taskset(CLIENT_CPU) + ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(CLIENTS),
                                 "-n", str(requests), "-P", str(pipeline), "-d", str(DATA_SIZE),
                                 "-r", str(KEYSPACE), "--csv"] + args
    before = cpu_seconds(pid)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    used = cpu_seconds(pid) - before
    rows = [line for line in out.splitlines() if line.startswith('"') and not line.startswith('"test"')]
    if len(rows) != 1:
        raise RuntimeError(f"unexpected redis-benchmark output: {out}")
    fields = next(csv.reader([rows[0]]))  # the test name (a script's text) may hold commas
    return {"rps": float(fields[1]), "p50_ms": float(fields[4]), "p99_ms": float(fields[6]),
            "cpu_us": used / requests * 1e6}


def fmt(value, unit):
    if value is None:
        return "n/a"
    if unit == "rps":
        return f"{value / 1e6:.2f} M/s" if value >= 1e6 else f"{value / 1e3:.1f} k/s"
    if unit == "ms":
        return f"{value:.3f} ms"
    if unit == "us":
        return f"{value:.2f} µs"
    if unit == "bytes":
        return f"{value:.0f} B"
    return str(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5: about 7 minutes)")
    ap.add_argument("--quick", action="store_true", help="one round of a tenth of the requests (smoke test)")
    ap.add_argument("--baseline", metavar="REV", help="also run RespKv built from this git revision, interleaved")
    ap.add_argument("--rows", choices=("strings", "collections", "scripting", "data"), default="strings",
                    help="strings: the string and hash rows and the per-key memory (default); collections: list, set, sorted-set rows; scripting: EVALSHA and EVAL rows; data: stream, HyperLogLog, bitmap and geo rows")
    ap.add_argument("--servers", default="redis,garnet,respkv", help="comma-separated subset of redis, garnet, respkv")
    opts = ap.parse_args()
    global THROUGHPUT_ROWS, LATENCY_ROW, CPU_ROWS, DATA_SIZE
    if opts.rows == "collections":
        THROUGHPUT_ROWS, LATENCY_ROW, CPU_ROWS = COLLECTION_ROWS, "LPUSH -P 1", ["LPUSH -P 16", "SADD -P 16", "ZADD -P 16"]
        DATA_SIZE = 3
    elif opts.rows == "scripting":
        THROUGHPUT_ROWS, LATENCY_ROW, CPU_ROWS = SCRIPTING_ROWS, "EVALSHA INCR -P 1", ["EVALSHA INCR -P 1", "EVALSHA INCR -P 16"]
    elif opts.rows == "data":
        THROUGHPUT_ROWS, LATENCY_ROW, CPU_ROWS = DATA_ROWS, "XADD -P 1", ["XADD -P 16", "XREADGROUP -P 16", "GEOSEARCH -P 16"]
    rounds = 1 if opts.quick else opts.rounds
    scale = 0.1 if opts.quick else 1.0
    log_dir = os.path.join(ROOT, "TestResults", "bench")
    os.makedirs(log_dir, exist_ok=True)
    started = time.time()
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]
    global RESPKV, BASELINE, SERVERS
    SERVERS = tuple(s for s in SERVERS if s in opts.servers.split(",") or s == "respkv")
    if "garnet" in SERVERS:
        ensure_garnet()
    RESPKV = respkv_server.publish_release()
    if opts.baseline:
        BASELINE = publish_baseline(opts.baseline)
        SERVERS = SERVERS + ("baseline",)
        TITLES["baseline"] = f"RespKv {opts.baseline}"

    # results[row][server] = list of per-round measurements (dicts)
    results = {label: {s: [] for s in SERVERS} for label, *_ in THROUGHPUT_ROWS}
    procs = {}
    try:
        for s in SERVERS:
            procs[s] = start(s, log_dir)
            load_keys(procs[s][1], KEYSPACE, "key:%012d")  # redis-benchmark's key names, so GETs hit
            load_keys(procs[s][1], KEYSPACE, HASH_FIELD_FORMAT, hash_key=HASH_KEY)  # so HGETs hit
            if opts.rows == "collections":
                command(procs[s][1], b"RPUSH", b"mylist", *[b"x" * 3] * 600)
            if opts.rows == "scripting":
                command(procs[s][1], b"SCRIPT", b"LOAD", INCR_SCRIPT)
                # redis-benchmark counts error replies as requests: each script must answer an integer first.
                for check in ([b"EVALSHA", hashlib.sha1(INCR_SCRIPT).hexdigest().encode(), b"1", b"ctr:check"],
                              [b"EVAL", TEN_COMMAND_SCRIPT.encode(), b"1", b"counter:check"]):
                    reply = command(procs[s][1], *check)
                    if not reply.startswith(b":"):
                        raise RuntimeError(f"{s}: {check[0].decode()} answered {reply!r}, not an integer")
            if opts.rows == "data":
                port = procs[s][1]
                if not command(port, b"XGROUP", b"CREATE", DATA_STREAM.encode(), b"g", b"0", b"MKSTREAM").startswith(b"+OK"):
                    raise RuntimeError(f"{s}: XGROUP CREATE failed")
                points = [b"%.6f" % (13 + (i % 100) * 0.04) + b" " + b"%.6f" % (35.5 + (i // 100) * 0.03) + b" p%d" % i
                          for i in range(GEO_POINTS)]
                for i in range(0, GEO_POINTS, 1000):
                    reply = command(port, b"GEOADD", GEO_KEY.encode(), *b" ".join(points[i:i + 1000]).split(b" "))
                    if not reply.startswith(b":"):
                        raise RuntimeError(f"{s}: GEOADD answered {reply!r}")
            for label, args, pipeline, requests in THROUGHPUT_ROWS:  # warm-up (JIT tiering), not counted
                benchmark(procs[s][1], procs[s][0].pid, args, pipeline, max(1000, int(requests * scale / 2)))
        for r in range(rounds):
            for label, args, pipeline, requests in THROUGHPUT_ROWS:
                for s in SERVERS:
                    proc, port = procs[s]
                    results[label][s].append(benchmark(port, proc.pid, args, pipeline, max(1000, int(requests * scale))))
            print(f"round {r + 1}/{rounds} done ({time.time() - started:.0f} s)", flush=True)
    finally:
        respkv_server.stop([p for p, _ in procs.values()])

    # Memory: each server freshly started, RSS before and after loading MEMORY_KEYS keys (string rows only; the
    # collections' memory is bench/collection-memory.py's).
    memory = {}
    mem_keys = max(10_000, int(MEMORY_KEYS * scale))
    for s in (SERVERS if opts.rows == "strings" else ()):
        proc, port = start(s, log_dir)
        try:
            time.sleep(1)
            before = rss_bytes(proc.pid)
            load_keys(port, mem_keys, "mem:%012d")
            dbsize = int(command(port, b"DBSIZE")[1:].split(b"\r\n")[0])
            time.sleep(2)
            memory[s] = (rss_bytes(proc.pid) - before) / dbsize
        finally:
            respkv_server.stop([proc])
        print(f"memory {s}: {memory[s]:.0f} B per key ({time.time() - started:.0f} s)", flush=True)

    # Table rows: (label, unit, {server: per-round values} or {server: single value}, higher_is_better)
    table = []
    for label, *_ in THROUGHPUT_ROWS:
        table.append((f"{label} requests/s", "rps", {s: [m["rps"] for m in results[label][s]] for s in SERVERS}, True))
    table.append((f"{LATENCY_ROW} p50 latency", "ms", {s: [m["p50_ms"] for m in results[LATENCY_ROW][s]] for s in SERVERS}, False))
    table.append((f"{LATENCY_ROW} p99 latency", "ms", {s: [m["p99_ms"] for m in results[LATENCY_ROW][s]] for s in SERVERS}, False))
    for label in CPU_ROWS:
        table.append((f"{label} server CPU per request", "us", {s: [m["cpu_us"] for m in results[label][s]] for s in SERVERS}, False))
    if memory:
        table.append((f"RSS per key ({mem_keys:,} keys, {VALUE_SIZE}-byte values)", "bytes", {s: [memory[s]] for s in SERVERS}, False))

    def ratio(values, other):
        """(median, min, max) of the per-round ratios RespKv/other."""
        per_round = [a / b for a, b in zip(values["respkv"], values[other]) if b]
        return (statistics.median(per_round), min(per_round), max(per_round)) if per_round else (float("nan"),) * 3

    def fmt_ratio(r):
        return f"{r[0]:.2f}" if r[1] == r[2] else f"{r[0]:.2f} ({r[1]:.2f}–{r[2]:.2f})"

    rivals = [s for s in SERVERS if s != "respkv"]
    header = ["Workload"] + [TITLES[s] for s in SERVERS] + [f"RespKv/{RATIO_TITLES[r]}" for r in rivals]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] * len(header)) + " |"]
    losses = []
    for label, unit, values, higher_better in table:
        medians = {s: statistics.median(values[s]) for s in SERVERS}
        lines.append(f"| {label} | " + " | ".join(fmt(medians[s], unit) for s in SERVERS)
                     + " | " + " | ".join(fmt_ratio(ratio(values, r)) for r in rivals) + " |")
        if unit == "rps":
            # The stronger rival is the one with the smaller RespKv/rival ratio.
            rival, r = min(((r, ratio(values, r)[0]) for r in rivals if r != "baseline"), key=lambda x: x[1])
            if round(r, 2) < 1:
                losses.append(f"{label} ({r:.2f}x of {TITLES[rival]})")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cores = os.cpu_count()
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    context = (f"{when}; {cores} cores, {mem_gib:.0f} GiB, {platform.system()} {platform.release()}; servers pinned to "
               f"CPU {SERVER_CPU}, redis-benchmark to CPU {CLIENT_CPU}; {CLIENTS} clients, {DATA_SIZE}-byte values, "
               f"-r {KEYSPACE}; median of {rounds} interleaved rounds (ratios: median of per-round ratios, with their range); "
               f"1-minute load average at start {load_before}")
    summary = ("RespKv loses on: " + "; ".join(losses)) if losses else "RespKv matches or beats every other server on every throughput row"
    table_text = "\n".join(lines)
    print()
    print(context)
    print(table_text)
    with open(os.path.join(HERE, "results", "latest.md" if opts.rows == "strings" else f"latest-{opts.rows}.md"), "w") as f:
        f.write(f"# Three-server comparison\n\n{context}.\n\n{table_text}\n\n{summary}.\n")
    print(f"\n{summary} ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
