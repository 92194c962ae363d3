#!/usr/bin/python3
"""Differential conformance runner: replays the corpus against redis-server 7.0 and RespKv and compares
the replies exactly.

Usage: /usr/bin/python3 conformance/run.py [--family NAME]... [--verbose]
                                          [--redis-port N --respkv-port N]   (use running servers)

Corpus: conformance/corpus/<family>.txt -- one file per command family (adding a family is adding a
file). Inside a file, "=== name" starts a script; every script runs on a new connection after FLUSHALL
(a fresh database). One command per line in redis-cli syntax (see split_args: "double quotes" with
\\n \\r \\t \\xHH escapes, 'single quotes'), "#" starts a comment line. A token %N*text% expands to text
repeated N times (e.g. %1048576*x% is a 1 MB value); inside !raw bytes as well.

A line may start with one directive that changes how its replies are compared:
  (none)          the reply bytes must be identical
  !unordered CMD  arrays compared as multisets (Redis documents the order as unspecified: KEYS, ...)
  !unordered-pairs CMD
                  the reply's top level compared as a multiset of field/value pairs: a flat array
                  (RESP2 HGETALL, HRANDFIELD ... WITHVALUES) is cut into pairs, a map keeps its pairs,
                  an array of arrays (RESP3 HRANDFIELD ... WITHVALUES) keeps its elements; the pairs
                  themselves are not reordered (a field must still come with its own value)
  !keys CMD       the set of names of a name/value reply (CONFIG GET *: a map, or a flat array in RESP2);
                  the values are not compared (dir, port and the like differ between the two servers)
  !scan CMD       a SCAN-family command iterated from its cursor until 0 on each server; the sets of
                  returned elements must be equal (cursors are server-specific); HSCAN's elements
                  are compared as field/value pairs
  !shape CMD      same RESP types and array lengths; scalar contents not compared (TIME, INFO, ...)
  !noint CMD      identical except the values of integers (e.g. HELLO's connection id)
  !closed CMD     identical reply, and the server must then close the connection
  !raw "BYTES"    BYTES sent as they are; everything received until the connection closes or stays
                  quiet for a moment must be identical, and so must whether it closed
  !push CMD       CMD is sent followed by PING "<sentinel>"; every byte received before the PING's reply
                  must be identical: the pushes a (RESP3, subscribed) connection gets around the command's
                  reply -- before it, after it, or between its elements (keyspace notifications of its own
                  writes) -- and the reply itself, in the order the server wrote them
  !send CMD       CMD is sent and its reply not awaited (a blocking command: BLPOP, a SUBSCRIBE's later messages);
                  a later !read on that connection compares what arrived
  !read           (no command) everything the connection receives until it stays quiet for a moment must be
                  identical: messages, pushes and invalidations other connections' commands sent it
  !expect "RESP" CMD
                  for commands the reference (redis-server 7.0) does not have (hash-field expiry, Redis 7.4/8.0):
                  CMD runs on RespKv only and its reply bytes must equal RESP, written from the command's Redis
                  documentation and source; redis-server is not sent CMD, so later lines should not compare keys
                  such a command changed with plain (two-server) lines
A line may start with @N (N = 1..9, before any directive) to run on the script's N-th connection, opened on first
use (default @1, the one the script starts with, after FLUSHALL): multi-connection scripts such as a subscriber on
@2 reading (!read) what @1 publishes. In a command, $IDN stands for connection N's CLIENT ID on each server
(CLIENT TRACKING on REDIRECT $ID2, CLIENT KILL ID $ID2), and in what is compared an integer equal to such an id reads
:$IDN (a tracking-redir-broken push, CLIENT TRACKINGINFO's redirect).
A command that RespKv does not support yet, or a deliberate difference, is listed in conformance/skip.txt
(glob pattern | reason); a matching line is sent to neither server and reported as skipped.

Prints "FAMILY: N passed, N failed, N skipped" per family and a total line; exits 1 on any failure. A failure shows
both servers' replies cut to 300 characters; with CONFORMANCE_FULL=1 in the environment, in full.
Python 3 standard library only (raw sockets), so it runs with Debian's /usr/bin/python3 and no packages.
"""
import argparse
import fnmatch
import os
import re
import socket
import sys
import time

import respkv_server

HERE = respkv_server.HERE
ROOT = respkv_server.ROOT
QUIET_SECONDS = 0.25
SEND_SETTLE_SECONDS = 0.1
REPLY_TIMEOUT = 30.0


# ---------------------------------------------------------------------------------------------- corpus
def split_args(line):
    """redis-cli's sdssplitargs: whitespace-separated tokens, "..." with escapes, '...' with \\'."""
    args, i, n = [], 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return args
        cur, quote, quoted = bytearray(), None, False
        while True:
            if quote:
                if i >= n:
                    raise ValueError("unbalanced quotes")
                c = line[i]
                if quote == '"' and c == "\\" and i + 3 < n and line[i + 1] == "x" and all(h in "0123456789abcdefABCDEF" for h in line[i + 2:i + 4]):
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif quote == '"' and c == "\\" and i + 1 < n:
                    i += 1
                    cur += {"n": b"\n", "r": b"\r", "t": b"\t", "b": b"\b", "a": b"\a"}.get(line[i], line[i].encode())
                elif quote == "'" and c == "\\" and i + 1 < n and line[i + 1] == "'":
                    cur += b"'"
                    i += 1
                elif c == quote:
                    if i + 1 < n and not line[i + 1].isspace():
                        raise ValueError("closing quote must be followed by a space")
                    i += 1
                    break
                else:
                    cur += c.encode()
            else:
                if i >= n or line[i].isspace():
                    break
                c = line[i]
                if c in "\"'":  # as sdssplitargs: a quote opens a quoted part anywhere in a token
                    quote, quoted = c, True
                else:
                    cur += c.encode()
            i += 1
        m = None if quoted else re.fullmatch(rb"%(\d+)\*(.*)%", bytes(cur))
        args.append(m.group(2) * int(m.group(1)) if m else bytes(cur))


DIRECTIVES = ("unordered", "unordered-pairs", "keys", "scan", "shape", "noint", "closed", "raw", "push", "read", "send",
              "expect")


class Step:
    def __init__(self, family, script, lineno, text, mode, args, conn=1, expected=None):
        self.family, self.script, self.lineno, self.text, self.mode, self.args = family, script, lineno, text, mode, args
        self.conn, self.expected = conn, expected

    def where(self):
        return f"{self.family}.txt:{self.lineno} [{self.script}]"


def load_corpus(path, family):
    """Returns [(script name, [Step])]."""
    scripts, current = [], None
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            if text.startswith("==="):
                current = (text[3:].strip() or f"line {lineno}", [])
                scripts.append(current)
                continue
            if current is None:
                current = ("(top)", [])
                scripts.append(current)
            mode, body, conn = "exact", text, 1
            m = re.match(r"@([1-9])\s+(.*)$", body)
            if m:
                conn, body = int(m.group(1)), m.group(2)
            if body.startswith("!"):
                word, _, body = body[1:].partition(" ")
                if word not in DIRECTIVES:
                    raise SystemExit(f"{path}:{lineno}: unknown directive !{word}")
                mode, body = word, body.strip()
            if mode == "read":
                if body:
                    raise SystemExit(f"{path}:{lineno}: !read takes no command")
                current[1].append(Step(family, current[0], lineno, text, mode, [], conn))
                continue
            try:
                args = split_args(body)
            except ValueError as e:
                raise SystemExit(f"{path}:{lineno}: {e}")
            if not args or (mode == "raw" and len(args) != 1):
                raise SystemExit(f"{path}:{lineno}: expected {'one quoted byte string' if mode == 'raw' else 'a command'}")
            if mode == "raw":  # %N*text% repeats inside raw bytes too
                args = [re.sub(rb"%(\d+)\*([^%]*)%", lambda m: m.group(2) * int(m.group(1)), args[0])]
            if mode == "expect":  # the expected reply, then the command
                if len(args) < 2:
                    raise SystemExit(f"{path}:{lineno}: !expect takes the quoted reply bytes and a command")
                current[1].append(Step(family, current[0], lineno, text, mode, args[1:], conn, expected=args[0]))
                continue
            current[1].append(Step(family, current[0], lineno, text, mode, args, conn))
    return scripts


def load_skips(path):
    """skip.txt: 'glob pattern | reason' per line; the pattern is matched case-insensitively against the
    corpus line's text (directive included). Returns [[pattern, reason, times used]]."""
    skips = []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            pattern, sep, reason = text.partition(" | ")
            if not sep or not reason.strip():
                raise SystemExit(f"{path}:{lineno}: expected 'pattern | reason'")
            skips.append([pattern.strip(), reason.strip(), 0])
    return skips


def skip_reason(skips, step):
    for entry in skips:
        if fnmatch.fnmatchcase(step.text.lower(), entry[0].lower()):
            entry[2] += 1
            return entry[1]
    return None


# ---------------------------------------------------------------------------------------------- RESP
class Closed(Exception):
    pass


class Conn:
    """One RESP connection that keeps both the raw bytes and the parsed value of every reply."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.closed = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def send(self, data):
        self.sock.sendall(data)

    def command(self, args):
        out = bytearray(b"*%d\r\n" % len(args))
        for a in args:
            out += b"$%d\r\n" % len(a) + a + b"\r\n"
        self.send(bytes(out))
        return self.read_reply()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            self.closed = True
            raise Closed()
        self.buf += data

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = bytes(self.buf[self.pos:end])
                self.pos = end + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n + 2
        return data

    def read_reply(self):
        """Returns (raw bytes, value); value is (type char, payload) with lists for aggregates."""
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        value = self._parse()
        return bytes(self.buf[:self.pos]), value

    def _parse(self):
        line = self._line()
        t, rest = chr(line[0]), line[1:]
        if t in "+-:(,_#":
            return (t, rest)
        if t in "$=!":
            n = int(rest)
            return (t, None) if n < 0 else (t, self._exact(n))
        if t in "*~>":
            n = int(rest)
            return (t, None) if n < 0 else (t, [self._parse() for _ in range(n)])
        if t in "%|":
            return (t, [self._parse() for _ in range(2 * int(rest))])
        raise ValueError(f"unexpected reply type byte {line[:40]!r}")

    PUSH_SENTINEL = b"conformance-push-sentinel"

    def command_with_pushes(self, args):
        """Sends args then PING <sentinel>; returns every byte received before the PING's reply (the pushes
        around the command's reply and the reply itself, byte for byte, whatever their framing)."""
        end = b"$%d\r\n%s\r\n" % (len(self.PUSH_SENTINEL), self.PUSH_SENTINEL)
        out = bytearray()
        for command in (args, [b"PING", self.PUSH_SENTINEL]):
            out += b"*%d\r\n" % len(command)
            for a in command:
                out += b"$%d\r\n" % len(a) + a + b"\r\n"
        self.send(bytes(out))
        del self.buf[:self.pos]
        self.pos = 0
        while not self.buf.endswith(end):
            self._fill()
        data = bytes(self.buf[:-len(end)])
        self.buf = bytearray()
        return data

    def read_until_quiet(self):
        """Everything received until the server closes the connection or stays quiet; (bytes, closed)."""
        data = bytearray(self.buf[self.pos:])
        self.buf, self.pos = bytearray(), 0
        self.sock.settimeout(QUIET_SECONDS)
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    self.closed = True
                    break
                data += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            self.closed = True
        finally:
            if not self.closed:
                self.sock.settimeout(REPLY_TIMEOUT)
        return bytes(data), self.closed

    def is_closed_soon(self):
        extra, closed = self.read_until_quiet()
        return closed and not extra


def encode(value):
    t, p = value
    if p is None:
        return (t + "-1\r\n").encode()
    if isinstance(p, list):
        n = len(p) // 2 if t in "%|" else len(p)
        return t.encode() + b"%d\r\n" % n + b"".join(encode(v) for v in p)
    if t in "$=!":
        return t.encode() + b"%d\r\n" % len(p) + p + b"\r\n"
    return t.encode() + p + b"\r\n"


def sort_arrays(value):
    """Multiset form of a reply: every array's elements sorted (maps keep their pairs together)."""
    t, p = value
    if not isinstance(p, list):
        return value
    items = [sort_arrays(v) for v in p]
    if t in "%|":
        pairs = sorted(zip(items[0::2], items[1::2]), key=lambda kv: encode(kv[0]) + encode(kv[1]))
        return (t, [x for kv in pairs for x in kv])
    return (t, sorted(items, key=encode))


def sort_pairs(value):
    """Multiset-of-pairs form of a reply's top level (see !unordered-pairs); nested values untouched."""
    t, p = value
    if not isinstance(p, list):
        return value
    if t in "%|" or (p and all(isinstance(v[1], list) for v in p)):
        groups = list(zip(p[0::2], p[1::2])) if t in "%|" else [(v,) for v in p]
    elif len(p) % 2 == 0:
        groups = list(zip(p[0::2], p[1::2]))
    else:  # an odd flat array has no pairs: compare it as it is
        return value
    groups.sort(key=lambda g: b"".join(encode(v) for v in g))
    return (t, [v for g in groups for v in g])


def names_of(value):
    """The sorted names of a name/value reply (see !keys): the first of each pair; anything else as it is."""
    t, p = value
    if not isinstance(p, list) or len(p) % 2 != 0:
        return encode(value)
    return ("names", sorted(p[0::2], key=encode))


def shape(value):
    t, p = value
    if isinstance(p, list):
        return (t, [shape(v) for v in p])
    return (t, None if p is None else "...")


def mask_ints(value):
    t, p = value
    if isinstance(p, list):
        return (t, [mask_ints(v) for v in p])
    return (t, b"?") if t == ":" else value


def show(x, limit=300):
    if os.environ.get("CONFORMANCE_FULL"):
        return repr(x)
    s = repr(x)
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} chars)"


# ---------------------------------------------------------------------------------------------- running
class Side:
    """One server under test: its port and the connections of the running script (@1 first)."""

    def __init__(self, name, port):
        self.name, self.port, self.conns, self.ids = name, port, {}, {}

    @property
    def conn(self):
        return self.conns.get(1)

    def close_all(self):
        for c in self.conns.values():
            c.close()
        self.conns, self.ids = {}, {}

    def fresh(self):
        self.close_all()
        self.conns[1] = Conn(self.port)
        raw, _ = self.conns[1].command([b"FLUSHALL"])
        if raw != b"+OK\r\n":
            raise RuntimeError(f"{self.name}: FLUSHALL answered {raw!r}")

    def ensure(self, n=1):
        conn = self.conns.get(n)
        if conn is None or conn.closed:
            conn = self.conns[n] = Conn(self.port)
            self.ids.pop(n, None)
        return conn

    def client_id(self, n):
        """Connection n's CLIENT ID, asked on a connection of its own the first time (its CLIENT LIST line names it)."""
        if n not in self.ids:
            conn = self.ensure(n)
            port = conn.sock.getsockname()[1]
            probe = Conn(self.port)
            _, value = probe.command([b"CLIENT", b"LIST"])
            probe.close()
            for line in value[1].decode().splitlines():
                fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
                if fields.get("addr", "").endswith(f":{port}"):
                    self.ids[n] = fields["id"].encode()
            if n not in self.ids:
                raise RuntimeError(f"{self.name}: no CLIENT LIST line for connection @{n}")
        return self.ids[n]

    def substitute(self, args):
        return [re.sub(rb"\$ID([1-9])", lambda m: self.client_id(int(m.group(1))), a) if b"$ID" in a else a for a in args]

    def unsubstitute(self, data):
        """data with each RESP integer that is a known connection's id (one a $IDN named) written as :$IDN."""
        for n, cid in self.ids.items():
            data = data.replace(b":" + cid + b"\r\n", b":$ID%d\r\n" % n)
        return data

    def run(self, step):
        """The comparable outcome of one step on this server."""
        conn = self.ensure(step.conn)
        try:
            if step.mode == "read":
                data, closed = conn.read_until_quiet()
                return ("received", self.unsubstitute(data), "closed" if closed else "open")
            if step.mode != "raw":
                step = Step(step.family, step.script, step.lineno, step.text, step.mode, self.substitute(step.args), step.conn)
            if step.mode == "send":
                conn.send(b"*%d\r\n" % len(step.args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in step.args))
                # Give the server time to run it (block the client) before the next step, maybe on another connection.
                time.sleep(SEND_SETTLE_SECONDS)
                return ("sent",)
            if step.mode == "raw":
                conn.send(step.args[0])
                data, closed = conn.read_until_quiet()
                return ("raw", data, "closed" if closed else "open")
            if step.mode == "scan":
                return ("scan", self._scan(conn, step.args))
            if step.mode == "push":
                return ("pushes and reply", conn.command_with_pushes(step.args))
            raw, value = conn.command(step.args)
            if step.mode == "unordered":
                return encode(sort_arrays(value))
            if step.mode == "unordered-pairs":
                return encode(sort_pairs(value))
            if step.mode == "keys":
                return names_of(value)
            if step.mode == "shape":
                return shape(value)
            if step.mode == "noint":
                return encode(mask_ints(value))
            if step.mode == "closed":
                return (raw, "closed" if conn.is_closed_soon() else "open")
            return self.unsubstitute(raw)
        except (Closed, ConnectionError) as e:
            conn.closed = True
            return ("connection lost", type(e).__name__)
        except socket.timeout:
            conn.close()
            return ("no reply within", REPLY_TIMEOUT)

    @staticmethod
    def _scan(conn, args):
        cursor_index = 2 if args[0].upper() in (b"HSCAN", b"SSCAN", b"ZSCAN") else 1
        args = list(args)
        seen, rounds = [], 0
        while True:
            raw, value = conn.command(args)
            if value[0] != "*" or len(value[1]) != 2:
                return ("reply", raw)
            cursor, items = value[1]
            seen.extend(encode(v) for v in items[1])
            rounds += 1
            if cursor[1] == b"0" or rounds > 100000:
                return ("elements", sorted(seen) if args[0].upper() != b"HSCAN" else sorted(zip(seen[0::2], seen[1::2])))
            args[cursor_index] = cursor[1]


def run_family(family, scripts, skips, redis, respkv, verbose):
    passed = failed = skipped = 0
    for name, steps in scripts:
        redis.fresh()
        respkv.fresh()
        for step in steps:
            reason = skip_reason(skips, step)
            if reason:
                skipped += 1
                if verbose:
                    print(f"  skip {step.where()}: {step.text}  ({reason})")
                continue
            # !expect: the documented reply stands in for redis-server's (which lacks the command).
            expected = step.expected if step.mode == "expect" else redis.run(step)
            actual = respkv.run(step)
            if expected == actual:
                passed += 1
            else:
                failed += 1
                print(f"FAIL {step.where()}: {show(step.text, 200)}\n"
                      f"     {'documented' if step.mode == 'expect' else 'redis-server'}: {show(expected)}\n"
                      f"     respkv:       {show(actual)}")
    for side in (redis, respkv):
        side.close_all()
    return passed, failed, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", action="append", help="run only this family (repeatable)")
    ap.add_argument("--verbose", action="store_true", help="list skipped lines")
    ap.add_argument("--redis-port", type=int, help="use a running redis-server 7.0 on this port")
    ap.add_argument("--respkv-port", type=int, help="use a running RespKv on this port")
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--skip-file", default=os.path.join(HERE, "skip.txt"))
    opts = ap.parse_args()

    families = sorted(f[:-4] for f in os.listdir(opts.corpus) if f.endswith(".txt"))
    if opts.family:
        unknown = set(opts.family) - set(families)
        if unknown:
            raise SystemExit(f"no corpus file for: {', '.join(sorted(unknown))}")
        families = [f for f in families if f in opts.family]
    corpus = {f: load_corpus(os.path.join(opts.corpus, f + ".txt"), f) for f in families}
    skips = load_skips(opts.skip_file)

    procs = []
    try:
        if opts.redis_port and opts.respkv_port:
            redis_port, respkv_port = opts.redis_port, opts.respkv_port
        else:
            log_dir = os.path.join(ROOT, "TestResults", "conformance")
            # Both with their append-only file on (RespKv's default), so every write also goes through the AOF path.
            redis_proc, redis_port = respkv_server.start_redis(log_dir, appendonly=True)
            procs.append(redis_proc)
            respkv_proc, respkv_port = respkv_server.start_respkv(log_dir)
            procs.append(respkv_proc)
        redis, respkv = Side("redis-server", redis_port), Side("respkv", respkv_port)
        version = Conn(redis_port).command([b"INFO", b"server"])[1][1]
        m = re.search(rb"redis_version:(\S+)", version or b"")
        print(f"conformance: redis-server {m.group(1).decode() if m else '?'} on {redis_port}, RespKv on {respkv_port}")
        totals = [0, 0, 0]
        for family in families:
            p, f, s = run_family(family, corpus[family], skips, redis, respkv, opts.verbose)
            print(f"{family}: {p} passed, {f} failed, {s} skipped", flush=True)
            totals = [totals[0] + p, totals[1] + f, totals[2] + s]
    finally:
        respkv_server.stop(procs)
    if not opts.family:
        for pattern, reason, used in skips:
            if used == 0:
                print(f"conformance: skip.txt pattern matches no corpus line (stale?): {pattern}")
    print(f"conformance: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] or not totals[0] else 0


if __name__ == "__main__":
    sys.exit(main())
