#!/usr/bin/python3
"""redis-cli 7.0's interactive hints against RespKv and against redis-server 7.0.

In interactive mode (standard input a terminal) redis-cli 7.0 asks the server for COMMAND DOCS when it connects and
builds from the reply the hint it shows in grey after what the user types (redis-cli.c cliInitHelp, hintsCallback;
linenoise draws it as ESC[0;90;49m hint ESC[0m). This test runs `redis-cli -p PORT` on a pseudo-terminal (a fixed
2000-column window: linenoise cuts a hint at the window's width, and never queries the cursor position), types partial commands, reads what it draws, and
requires the same hint from RespKv as from redis-server 7.0 for each — plus a hint for a command redis-server 7.0 does
not have (HEXPIRE, Redis 7.4's): shown from RespKv's COMMAND DOCS, absent against redis-server, which proves the hints
come from the server rather than from redis-cli's built-in help table.

Never hangs: every read is a select() with a deadline, the child is killed (SIGKILL) when each session ends, and an
alarm ends the whole run after 180 s.
Usage: /usr/bin/python3 tests/redis_cli/hints_test.py
Ends with the line "redis-cli-hints: N passed, N failed"; exits 1 when a check failed.
"""
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "conformance"))
import respkv_server  # noqa: E402  (the conformance runner's helpers: build, free port, start/stop)

# Partial commands as a user types them: a command, its arguments so far, subcommands, options.
TYPED = [
    "SET k ", "SET k v", "GET", "get ", "ZADD k ", "ZADD k NX ", "XADD s ", "HSET h f v ", "LPOS k e ", "SORT k ",
    "GEOSEARCH k ", "BITFIELD k ", "CONFIG SET ", "CONFIG GET", "CLIENT KILL ", "CLIENT LIST ", "XGROUP CREATE ",
    "MIGRATE ", "RESTORE k 0 payload ", "FUNCTION RESTORE ", "OBJECT FREQ ", "ACL SETUSER ", "SCAN 0 ", "XREADGROUP ",
    "EVAL ", "LMPOP ", "MEMORY USAGE ",
]
# Redis 7.4's hash-field expiry: RespKv has it (and documents it in COMMAND DOCS), redis-server 7.0 does not.
RESPKV_ONLY = "HEXPIRE h "

# Ctrl-U (linenoise: delete the whole line) before each new partial command.
CLEAR_LINE = b"\x15"


class Session:
    """redis-cli -p PORT on a pseudo-terminal."""

    def __init__(self, port, home):
        self.prompt = f"127.0.0.1:{port}> ".encode()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            env = dict(os.environ, TERM="xterm", HOME=home, REDISCLI_HISTFILE="/dev/null", REDISCLI_RCFILE="/dev/null")
            try:
                os.execvpe("redis-cli", ["redis-cli", "-p", str(port)], env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 2000, 0, 0))
        self.out = b""
        if not self.read_until(lambda: self.prompt in self.out, 15):
            raise RuntimeError(f"no prompt from redis-cli: {self.out[-300:]!r}")

    def read_until(self, done, seconds):
        """Reads until done() or the deadline; True when done()."""
        deadline = time.monotonic() + seconds
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return done()
            if not chunk:
                return done()
            self.out += chunk
        return True

    def hint(self, typed):
        """Types typed on an empty line and returns the hint redis-cli draws after it (None for none)."""
        os.write(self.fd, CLEAR_LINE)
        self.read_until(lambda: self.out.endswith(self.prompt) or self.out.rstrip(b"\r\x1b[0123456789C").endswith(self.prompt), 5)
        mark = len(self.out)
        os.write(self.fd, typed.encode())
        # linenoise redraws the whole line on each key: prompt, buffer, the hint if any, then "\r ESC[nC" (the cursor).
        drawn = re.compile(re.escape(self.prompt + typed.encode()) + rb"(?:\x1b\[0;90;49m(.*?)\x1b\[0m)?\r\x1b\[\d+C", re.S)
        if not self.read_until(lambda: drawn.search(self.out, mark) is not None, 10):
            raise RuntimeError(f"redis-cli did not draw {typed!r}: {self.out[mark:][-300:]!r}")
        hint = drawn.search(self.out, mark).group(1)
        return None if hint is None else hint.decode()

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def hints(port, home, typed_list):
    session = Session(port, home)
    try:
        return {typed: session.hint(typed) for typed in typed_list}
    finally:
        session.close()


def main():
    check = respkv_server.Checks("redis-cli-hints")
    if shutil.which("redis-cli") is None or shutil.which("redis-server") is None:
        check("redis-cli and redis-server installed", False, "apt-get install redis-server redis-tools (.ci/run installs them)")
        return check.summary()
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("redis-cli hints test over 180 s")))
    signal.alarm(180)
    respkv_server.ensure_built()
    work = tempfile.mkdtemp(prefix="respkv-cli-hints-")
    procs = []
    try:
        redis, redis_port = respkv_server.start_redis(os.path.join(work, "redis"))
        procs.append(redis)
        respkv, respkv_port = respkv_server.start_respkv(os.path.join(work, "respkv"))
        procs.append(respkv)
        expected = hints(redis_port, work, TYPED + [RESPKV_ONLY])
        actual = hints(respkv_port, work, TYPED + [RESPKV_ONLY])
        for typed in TYPED:
            check(f"{typed!r} → {expected[typed]!r}", expected[typed] is not None and actual[typed] == expected[typed],
                  f"RespKv shows {actual[typed]!r}")
        check(f"{RESPKV_ONLY!r}: RespKv's COMMAND DOCS gives a hint ({actual[RESPKV_ONLY]!r}), redis-server 7.0 none",
              expected[RESPKV_ONLY] is None and actual[RESPKV_ONLY] is not None and "FIELDS" in actual[RESPKV_ONLY],
              f"redis-server {expected[RESPKV_ONLY]!r}, RespKv {actual[RESPKV_ONLY]!r}")
    except (RuntimeError, TimeoutError, OSError) as e:
        check("redis-cli sessions", False, str(e))
    finally:
        signal.alarm(0)
        respkv_server.stop(procs)
        shutil.rmtree(work, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
