#!/usr/bin/python3
"""RespKv on Debian's stock /etc/redis/redis.conf (installed with the redis-server package).

Starts the built executable (src/RespKv.Server, Release) as a packaged redis-server would be started, with only the
overrides a foreground test run needs: `/etc/redis/redis.conf --port N --dir D --daemonize no --supervised no`
(and `--logfile ""` when the stock log file, /var/log/redis/redis-server.log, is not writable by this user), and checks:
  - it starts and answers PING, and CONFIG GET answers the stock file's values;
  - CONFIG GET * lists the same names as redis-server 7.0 started on the same file and overrides;
  - --pidfile: the file holds the process id while it runs and is removed at shutdown (SIGTERM, exit 0);
  - without --daemonize no (the stock file says daemonize yes) it refuses to start, exit 1.
Usage: /usr/bin/python3 tests/stock_config/stock_config_test.py
Ends with the line "stock-config: N passed, N failed"; exits 1 when a check failed or the stock file is missing.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "conformance"))
import respkv_server  # noqa: E402  (the conformance runner's helpers: build, free port, start/stop)

STOCK = "/etc/redis/redis.conf"


def command(port, *args):
    """One RESP2 command; returns the reply as bytes (a flat array's elements joined by newlines)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args)))
        f = s.makefile("rb")
        return read_reply(f)


def read_reply(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"*":
        return [read_reply(f) for _ in range(int(rest))]
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    return line


def overrides(port, data_dir):
    args = ["--port", str(port), "--dir", data_dir, "--daemonize", "no", "--supervised", "no"]
    if not os.access(os.path.dirname("/var/log/redis/redis-server.log"), os.W_OK):
        args += ["--logfile", ""]
    return args


def main():
    if not os.path.exists(STOCK):
        print(f"{STOCK} is missing: install the redis-server package")
        print("stock-config: 0 passed, 1 failed")
        return 1
    respkv_server.ensure_built()
    check = respkv_server.Checks("stock-config")

    work = tempfile.mkdtemp(prefix="respkv-stock-")
    try:
        port = respkv_server.free_port()
        pidfile = os.path.join(work, "respkv.pid")
        log = open(os.path.join(work, "respkv.out"), "w")
        proc = subprocess.Popen(["dotnet", respkv_server.RESPKV_DLL, STOCK] + overrides(port, work) + ["--pidfile", pidfile],
                                stdout=log, stderr=subprocess.STDOUT, env=respkv_server.respkv_env())
        try:
            respkv_server.wait_ready(port, proc, "respkv-server")
            check("starts on the stock file and answers PING", command(port, "PING") == b"+PONG")
            values = command(port, "CONFIG", "GET", "hash-max-ziplist-entries")
            check("CONFIG GET answers the stock file's values", values == [b"hash-max-ziplist-entries", b"512"], values)
            pid = open(pidfile).read() if os.path.exists(pidfile) else None
            check("pidfile holds the process id", pid == f"{proc.pid}\n", pid)
            respkv_names = sorted(command(port, "CONFIG", "GET", "*")[0::2])

            redis_port = respkv_server.free_port()
            redis_dir = os.path.join(work, "redis")
            os.mkdir(redis_dir)
            redis = subprocess.Popen(["redis-server", STOCK] + overrides(redis_port, redis_dir) + ["--logfile", "", "--pidfile", ""],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                respkv_server.wait_ready(redis_port, redis, "redis-server")
                redis_names = sorted(command(redis_port, "CONFIG", "GET", "*")[0::2])
            finally:
                respkv_server.stop([redis])
            missing = sorted(set(redis_names) - set(respkv_names))
            extra = sorted(set(respkv_names) - set(redis_names))
            check(f"CONFIG GET * lists redis-server's {len(redis_names)} names", not missing and not extra, f"missing {missing}, extra {extra}")
        finally:
            respkv_server.stop([proc])
            log.close()
        check("exits 0 on SIGTERM", proc.returncode == 0, proc.returncode)
        check("pidfile removed at shutdown", not os.path.exists(pidfile))
        if not all(check.results):
            print(open(os.path.join(work, "respkv.out")).read())

        refused = subprocess.run(["dotnet", respkv_server.RESPKV_DLL, STOCK, "--port", str(respkv_server.free_port()), "--dir", work],
                                 capture_output=True, text=True, timeout=60, env=respkv_server.respkv_env())
        check("daemonize yes (the stock file's) is refused with exit 1",
              refused.returncode == 1 and "daemonize yes is not supported by RespKv" in refused.stderr, (refused.returncode, refused.stderr))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
