#!/usr/bin/env python3
"""Crash test of RespKv's append-only file under `appendfsync always`.

Each round starts the real executable (the dotnet build output of src/RespKv.Server) on one data directory
with `--appendonly yes --appendfsync always`, lets several clients write (SET of unique keys, HSET fields,
INCR of a per-client counter, and MULTI/EXEC pairs) while recording every write whose reply arrived, kills
the process with SIGKILL at a random moment, restarts it on the same directory, and checks that every
acknowledged write is present (and that each counter is at least its acknowledged count and at most what was
sent). The directory is kept across rounds, so each round also replays everything written before.

Usage: tests/crash/crash_test.py [--rounds 20] [--clients 6] [--seed N] [--fsync always]
Ends with the line "crash: N passed, N failed" (one count per round; "crash-everysec: …" with --fsync everysec, whose
replies also follow the write of their records, so a killed process loses nothing acknowledged either); exits 1 when
a round failed.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DLL = os.path.join(ROOT, "src", "RespKv.Server", "bin", "Release", "net10.0", "respkv-server.dll")


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A minimal blocking RESP2 client."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-", b":"):
            return line
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            value, self.buf = self.buf[:n], self.buf[n + 2:]
            return value
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("bad reply %r" % line)

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data_dir, port, log_path, fsync="always"):
    log = open(log_path, "ab")
    proc = subprocess.Popen(["dotnet", DLL, "--port", str(port), "--dir", data_dir, "--appendonly", "yes", "--save", "",
                             "--appendfsync", fsync, "--loglevel", "notice"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=data_dir)
    log.close()
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %d during start-up (see %s)" % (proc.returncode, log_path))
        try:
            c = Conn(port, timeout=2)
            try:
                if c.call("PING") == b"+PONG":
                    return proc
            finally:
                c.close()
        except (OSError, ConnectionError):
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server not ready within 60 s")


class Writer(threading.Thread):
    """One client: writes until the server dies, recording what was acknowledged."""

    def __init__(self, port, round_no, ident, rng_seed):
        super().__init__(daemon=True)
        self.port, self.round_no, self.client_no = port, round_no, ident
        self.rng = random.Random(rng_seed)
        self.acked_sets = {}      # key -> value
        self.acked_fields = {}    # (hash, field) -> value
        self.counter_key = "ctr:%d" % ident
        self.counter_acked = None  # value returned by the last acknowledged INCR
        self.counter_sent = 0      # INCRs sent this round (an unacknowledged one may or may not have landed)
        self.errors = []

    def run(self):
        try:
            c = Conn(self.port)
        except OSError as e:
            self.errors.append("connect: %s" % e)
            return
        try:
            seq = 0
            while True:
                seq += 1
                op = self.rng.random()
                key = "r%d:c%d:%d" % (self.round_no, self.client_no, seq)
                value = "v%d-%d" % (seq, self.rng.randrange(1 << 30))
                if op < 0.5:
                    r = c.call("SET", key, value)
                    if r != b"+OK":
                        self.errors.append("SET %s -> %r" % (key, r))
                        return
                    self.acked_sets[key] = value
                elif op < 0.7:
                    h = "h:r%d:c%d" % (self.round_no, self.client_no)
                    r = c.call("HSET", h, "f%d" % seq, value)
                    if r != b":1":
                        self.errors.append("HSET -> %r" % r)
                        return
                    self.acked_fields[(h, "f%d" % seq)] = value
                elif op < 0.85:
                    self.counter_sent += 1
                    r = c.call("INCR", self.counter_key)
                    if not r.startswith(b":"):
                        self.errors.append("INCR -> %r" % r)
                        return
                    self.counter_acked = int(r[1:])
                else:
                    k2 = key + ":tx"
                    c.sock.sendall(encode("MULTI") + encode("SET", key, value) + encode("SET", k2, value))
                    c.sock.sendall(encode("EXEC"))
                    replies = [c.reply() for _ in range(4)]
                    if replies[3] != [b"+OK", b"+OK"]:
                        self.errors.append("EXEC -> %r" % (replies,))
                        return
                    self.acked_sets[key] = value
                    self.acked_sets[k2] = value
        except (OSError, ConnectionError, ValueError):
            return  # the server was killed
        finally:
            c.close()


def verify(port, writers, counters_before):
    """Returns a list of problems: acknowledged writes missing after the restart."""
    problems = []
    c = Conn(port, timeout=30)
    try:
        for w in writers:
            problems.extend(w.errors)
            keys = list(w.acked_sets)
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                values = c.call("MGET", *chunk)
                for k, v in zip(chunk, values):
                    if v is None or v.decode() != w.acked_sets[k]:
                        problems.append("lost SET %s=%s (found %r)" % (k, w.acked_sets[k], v))
            for (h, f), v in w.acked_fields.items():
                got = c.call("HGET", h, f)
                if got is None or got.decode() != v:
                    problems.append("lost HSET %s %s=%s (found %r)" % (h, f, v, got))
            got = c.call("GET", w.counter_key)
            value = int(got) if got is not None else 0
            low = w.counter_acked if w.counter_acked is not None else counters_before.get(w.counter_key, 0)
            high = counters_before.get(w.counter_key, 0) + w.counter_sent
            if not (low <= value <= high):
                problems.append("counter %s=%d outside [%d, %d]" % (w.counter_key, value, low, high))
        if c.call("PING") != b"+PONG":
            problems.append("no PONG after verification")
    finally:
        c.close()
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--fsync", default="always",
                        help="appendfsync of the killed server (every policy replies after the write: a SIGKILL loses nothing acknowledged)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    rng = random.Random(seed)
    if not os.path.exists(DLL):
        subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "RespKv.Server"), "-c", "Release", "-v", "q",
                        "-nologo"], check=True)
    data_dir = tempfile.mkdtemp(prefix="respkv-crash-")
    log_path = os.path.join(data_dir, "server.log")
    print("crash: seed %d, %d rounds, %d clients, data in %s" % (seed, args.rounds, args.clients, data_dir), flush=True)
    passed = failed = 0
    counters = {}
    total_acked = 0
    try:
        for round_no in range(1, args.rounds + 1):
            port = free_port()
            proc = None
            try:
                proc = start(data_dir, port, log_path, args.fsync)
                writers = [Writer(port, round_no, i, rng.randrange(1 << 30)) for i in range(args.clients)]
                for w in writers:
                    w.start()
                time.sleep(rng.uniform(0.2, 1.2))
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(30)
                for w in writers:
                    w.join(30)
                acked = sum(len(w.acked_sets) + len(w.acked_fields) + (1 if w.counter_acked else 0) for w in writers)
                total_acked += acked
                port = free_port()
                proc = start(data_dir, port, log_path)
                problems = verify(port, writers, counters)
                for w in writers:
                    c = Conn(port)
                    got = c.call("GET", w.counter_key)
                    c.close()
                    counters[w.counter_key] = int(got) if got is not None else 0
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
                if proc.returncode != 0:
                    problems.append("exit code %d after SIGTERM" % proc.returncode)
                if problems:
                    failed += 1
                    print("crash: round %d FAILED (%d acknowledged writes): %s" % (round_no, acked, "; ".join(problems[:10])), flush=True)
                else:
                    passed += 1
                    print("crash: round %d ok, %d acknowledged writes all present" % (round_no, acked), flush=True)
            except Exception as e:  # noqa: BLE001 - a round that cannot run is a failed round
                failed += 1
                print("crash: round %d FAILED: %s" % (round_no, e), flush=True)
            finally:
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()
    finally:
        if failed and os.path.exists(log_path):
            with open(log_path, "rb") as f:
                tail = f.read()[-4000:]
            print(tail.decode(errors="replace"))
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    print("crash: %d acknowledged writes checked in total" % total_acked)
    suite = "crash" if args.fsync == "always" else "crash-" + args.fsync
    print("%s: %d passed, %d failed" % (suite, passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
