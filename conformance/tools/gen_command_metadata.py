#!/usr/bin/python3
"""Generates src/RespKv/Execution/CommandMetadata.jsonl: Redis 7.0's command metadata (arity, flags, legacy key
positions, ACL categories, tips, key specs and COMMAND DOCS documents) for every command and subcommand of the
local redis-server, which RespKv ships as an embedded resource (see CommandMetadata.cs).

Derived only from the running binary's replies: it starts redis-server (--save "" --appendonly no) on a free
loopback port, sends HELLO 3, COMMAND INFO and COMMAND DOCS (no names: every command), and writes what they
answer; then adds the commands the reference server lacks (hash-field expiry, Redis 7.4/8.0) from Redis's command JSON
files kept in conformance/tools/commands-beyond-7.0/ (see add_beyond).

Regenerate (from the repository root, with redis-server 7.0.x on PATH, e.g. Debian's 7.0.15):
    /usr/bin/python3 conformance/tools/gen_command_metadata.py
then rebuild (dotnet build -c Release) and run the metadata tests (--filter CommandMetadata).

Format: JSON lines, compact (no spaces), UTF-8: a first line {"redis_version": "7.0.15"}, then one line per
command or subcommand in ordinal order of full name (get, config|get), each an object whose first member is its
name, {"name": FULL_NAME, ...ENTRY}, where ENTRY is
    {"arity": int, "flags": [str], "first_key": int, "last_key": int, "step": int,
     "acl_categories": ["@write", ...], "tips": [str],
     "key_specs": [{"notes"?: str, "flags": [str],
                    "begin_search": {"type": "index", "index": int}
                                  | {"type": "keyword", "keyword": str, "startfrom": int} | {"type": "unknown"},
                    "find_keys": {"type": "range", "lastkey": int, "keystep": int, "limit": int}
                               | {"type": "keynum", "keynumidx": int, "firstkey": int, "keystep": int}
                               | {"type": "unknown"}}],
     "docs": {"summary"?, "since"?, "group", "complexity"?, "doc_flags"?: [str], "deprecated_since"?,
              "replaced_by"?, "history"?: [[version, text]], "arguments"?: [ARGUMENT]}}
    ARGUMENT = {"name", "type", "key_spec_index"?: int, "token"?, "since"?, "deprecated_since"?,
                "flags"?: [str], "arguments"?: [ARGUMENT]}
Lists keep Redis's order; each object's fields are those Redis sent, in the order it sends them (the generator
checks that order against FIELD_ORDER below, which RespKv's writer follows, and fails on anything new).
Subcommands are entries of their own ("config|get"); a container's reply lists them, RespKv's table attaches them.
JSON rather than a binary format: diffable in review, read with System.Text.Json. One line per command so that
RespKv indexes the file by splitting lines (a vectorised newline search, no JSON tokenising) and parses only the
lines of the commands it implements, when its command table is built (docs only when COMMAND DOCS asks).
Python 3 standard library only.
"""
import json
import os
import socket
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import respkv_server  # noqa: E402

OUT = os.path.join(respkv_server.ROOT, "src", "RespKv", "Execution", "CommandMetadata.jsonl")

# The order in which Redis 7.0 writes each map's fields; RespKv writes them in the same order.
FIELD_ORDER = {
    "key_spec": ["notes", "flags", "begin_search", "find_keys"],
    "docs": ["summary", "since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by", "history",
             "arguments", "subcommands"],
    "argument": ["name", "type", "key_spec_index", "token", "since", "deprecated_since", "flags",
                 "arguments"],
}


class Conn:
    """A RESP3 connection; replies parse to Python values tagged with their RESP type where it matters."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._parse()

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("redis-server closed the connection")
        self.buf += data

    def _parse(self):
        line = self._line()
        t, rest = chr(line[0]), line[1:].decode()
        if t == "+":
            return rest
        if t == "-":
            raise RuntimeError(rest)
        if t == ":":
            return int(rest)
        if t == "$":
            n = int(rest)
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if t == "_":
            return None
        if t in "*~":
            return [self._parse() for _ in range(int(rest))]
        if t == "%":
            pairs = [(self._parse(), self._parse()) for _ in range(int(rest))]
            return dict(pairs)  # Python dicts keep insertion order: Redis's field order
        raise ValueError(f"unexpected RESP3 type {line[:40]!r}")


def check_order(kind, mapping):
    keys = list(mapping)
    order = FIELD_ORDER[kind]
    unknown = [k for k in keys if k not in order]
    if unknown or keys != sorted(keys, key=order.index):
        raise SystemExit(f"{kind} fields {keys} do not follow the known order {order}: update FIELD_ORDER and RespKv's writer")


def key_spec(spec):
    check_order("key_spec", spec)
    out = {}
    if "notes" in spec:
        out["notes"] = spec["notes"]
    out["flags"] = spec["flags"]
    for part in ("begin_search", "find_keys"):
        value = spec[part]
        out[part] = {"type": value["type"], **value["spec"]}
    return out


def argument(arg):
    check_order("argument", arg)
    out = dict(arg)
    if "arguments" in out:
        out["arguments"] = [argument(a) for a in out["arguments"]]
    return out


def docs(doc):
    check_order("docs", doc)
    out = {k: v for k, v in doc.items() if k != "subcommands"}
    if "arguments" in out:
        out["arguments"] = [argument(a) for a in out["arguments"]]
    return out


def collect(info, commands):
    name, arity, flags, first, last, step, categories, tips, specs, subcommands = info
    commands[name] = {"arity": arity, "flags": flags, "first_key": first, "last_key": last, "step": step,
                      "acl_categories": categories, "tips": tips, "key_specs": [key_spec(s) for s in specs]}
    for sub in subcommands:
        collect(sub, commands)


# Commands the reference redis-server (7.0) lacks but RespKv serves: their metadata comes from Redis's own command JSON
# files (src/commands/*.json of Redis 7.4 for HEXPIRE and friends; HGETEX, HSETEX and HGETDEL of Redis 8.0 written in that
# format from their documentation pages), kept in this folder and converted here to what COMMAND INFO/DOCS would answer.
BEYOND = os.path.join(HERE, "commands-beyond-7.0")

# Redis 7.0's orders when it prints command flags, ACL categories and key-spec flags (server.c's tables).
COMMAND_FLAGS = ["write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking", "loading", "stale",
                 "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "may_replicate", "sentinel",
                 "only_sentinel", "no_mandatory_keys", "protected", "no_async_loading", "no_multi", "movablekeys",
                 "allow_busy"]
ACL_CATEGORIES = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
                  "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
                  "transaction", "scripting"]
KEY_SPEC_FLAGS = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
                  "variable_flags"]


def beyond_argument(arg):
    out = {"name": arg["name"], "type": arg["type"]}
    for field in ("key_spec_index", "token", "since", "deprecated_since"):
        if field in arg:
            out[field] = arg[field]
    flags = [f for f in ("optional", "multiple", "multiple_token") if arg.get(f)]
    if flags:
        out["flags"] = flags
    if "arguments" in arg:
        out["arguments"] = [beyond_argument(a) for a in arg["arguments"]]
    return out


def beyond_entry(doc):
    """One Redis command JSON document as COMMAND INFO and COMMAND DOCS of a server that has it would give it."""
    flags = [f.lower() for f in doc.get("command_flags", [])]
    categories = {c.lower() for c in doc.get("acl_categories", [])}
    # Redis's setImplicitACLCategories: write → @write, readonly → @read, fast → @fast, else @slow.
    categories |= {"write"} if "write" in flags else set()
    categories |= {"read"} if "readonly" in flags else set()
    categories |= {"fast" if "fast" in flags else "slow"}
    specs = []
    for spec in doc.get("key_specs", []):
        (begin_type, begin), = spec["begin_search"].items()
        (find_type, find), = spec["find_keys"].items()
        specs.append({"flags": sorted((f if f in ("RO", "RW", "OW", "RM") else f.lower() for f in spec["flags"]),
                                      key=KEY_SPEC_FLAGS.index),
                      "begin_search": {"type": begin_type, "index": begin["pos"]},
                      "find_keys": {"type": find_type, "lastkey": find["lastkey"], "keystep": find["step"],
                                    "limit": find["limit"]}})
    docs_out = {"summary": doc["summary"], "since": doc["since"], "group": doc["group"],
                "complexity": doc["complexity"]}
    if doc.get("history"):
        docs_out["history"] = doc["history"]
    docs_out["arguments"] = [beyond_argument(a) for a in doc.get("arguments", [])]
    first = specs[0]["begin_search"]["index"] if specs else 0
    return {"arity": doc["arity"], "flags": sorted(flags, key=COMMAND_FLAGS.index), "first_key": first,
            "last_key": first, "step": 1 if specs else 0,
            "acl_categories": ["@" + c for c in sorted(categories, key=ACL_CATEGORIES.index)],
            "tips": [t.lower() for t in doc.get("command_tips", [])], "key_specs": specs, "docs": docs_out}


def add_beyond(commands):
    """Adds each command of BEYOND that the reference server does not know (one it knows keeps the server's answer)."""
    for file in sorted(os.listdir(BEYOND)):
        with open(os.path.join(BEYOND, file), encoding="utf-8") as f:
            (name, doc), = json.load(f).items()
        if name.lower() not in commands:
            commands[name.lower()] = beyond_entry(doc)


def main():
    log_dir = tempfile.mkdtemp(prefix="gen-command-metadata-")
    proc, port = respkv_server.start_redis(log_dir)
    try:
        conn = Conn(port)
        hello = conn.command("HELLO", "3")
        commands = {}
        for info in conn.command("COMMAND", "INFO"):
            collect(info, commands)
        all_docs = conn.command("COMMAND", "DOCS")

        def attach(name, doc):
            commands[name]["docs"] = docs(doc)
            for sub_name, sub_doc in doc.get("subcommands", {}).items():
                attach(sub_name, sub_doc)

        for name, doc in all_docs.items():
            attach(name, doc)
        missing = [n for n, c in commands.items() if "docs" not in c]
        if missing:
            raise SystemExit(f"COMMAND DOCS lacks {missing}")
    finally:
        respkv_server.stop([proc])
    add_beyond(commands)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({"redis_version": hello["version"]}, separators=(",", ":")) + "\n")
        for name, entry in sorted(commands.items()):
            f.write(json.dumps({"name": name, **entry}, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(commands)} commands and subcommands of redis-server {hello['version']}, "
          f"{os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
