"""Starting and stopping the servers the conformance runner and the client suites test against:
redis-server 7.0 (Debian package) and the built RespKv executable, each on a free loopback port.
Python 3 standard library only."""
import os
import platform
import shutil
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The runtime settings RespKv ships with (the Dockerfile's ENV and src/RespKv.Server/Properties/launchSettings.json,
# which `dotnet run` applies): a 32 MB gen0 allocation budget. Every SET keeps its new value and entry alive, so
# with the default budget (sized from the CPU cache) the GC runs often and copies live data each time: 32 MB
# gives about 20-25% more pipelined SET/MSET throughput. A larger budget is faster still but stays resident
# (64 MB: 7-10% more pipelined writes, but a 1,000,000-field hash then took 113 bytes of RSS per field against
# redis-server's 96; 32 MB: 82); see README, Performance. The GC reads this setting only from the environment
# (it has no runtimeconfig.json name), so every launcher sets it.
RESPKV_RUNTIME_ENV = {"DOTNET_GCgen0size": "0x2000000"}


def respkv_env(extra=None):
    """The environment to start the RespKv executable with: this process's, RESPKV_RUNTIME_ENV, then extra."""
    return {**os.environ, **RESPKV_RUNTIME_ENV, **(extra or {})}


RESPKV_DLL = os.path.join(ROOT, "src", "RespKv.Server", "bin", "Release", "net10.0", "respkv-server.dll")

PUBLISH_DIR = os.path.join(ROOT, "bench", ".publish")


def publish_release(root=ROOT, out=PUBLISH_DIR):
    """Publishes the server of the source tree at root as the Dockerfile ships it (Release, ReadyToRun,
    framework-dependent, this machine's architecture) to out (default bench/.publish) and returns the executable's
    path: what benchmarks of the shipped server run."""
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), "x64")
    subprocess.run(["dotnet", "publish", os.path.join(root, "src", "RespKv.Server"), "-c", "Release", "-r", f"linux-{arch}",
                    "--self-contained", "false", "-p:PublishReadyToRun=true", "-o", out, "-v", "q", "-nologo"],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "respkv-server")


def free_port():
    """A currently free TCP port on 127.0.0.1 (the OS's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port, timeout=2.0):
    """True when a server on port answers PING with +PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(16) == b"+PONG\r\n"
    except OSError:
        return False


def wait_ready(port, proc, name, seconds=60):
    """Waits until the server answers PING; fails if its process exits first or time runs out."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} during start-up")
        if ping(port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer PING on port {port} within {seconds} s")


def ensure_built():
    """Builds src/RespKv.Server (Release) when the executable is missing."""
    if not os.path.exists(RESPKV_DLL):
        print("building src/RespKv.Server (Release)", flush=True)
        subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "RespKv.Server"), "-c", "Release"],
                       check=True, stdout=subprocess.DEVNULL)


def start_redis(log_dir, port=None, cpu=None, appendonly=False):
    """redis-server --save "" on a free port, --appendonly no unless appendonly (then with an empty
    appendonlydir in log_dir, like RespKv's default persistence); returns (process, port)."""
    os.makedirs(log_dir, exist_ok=True)
    port = port or free_port()
    data_dir = log_dir
    if appendonly:
        # Its own directory: RespKv, started with --dir log_dir, would load a redis-server appendonlydir found there.
        data_dir = os.path.join(log_dir, "redis-data")
        shutil.rmtree(data_dir, ignore_errors=True)
        os.makedirs(data_dir)
    # DEBUG is enabled on both servers (Redis 7.0 refuses it by default) so the corpus can compare DEBUG's replies.
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--enable-debug-command", "yes",
           "--appendonly", "yes" if appendonly else "no",
           "--daemonize", "no", "--dir", data_dir, "--logfile", os.path.join(log_dir, f"redis-server-{port}.log")]
    proc = subprocess.Popen(taskset(cpu) + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, proc, "redis-server")
    return proc, port


def start_respkv(log_dir, port=None, cpu=None, env=None):
    """The built RespKv executable (dotnet respkv-server.dll --port N) on a free port, its log in
    log_dir; returns (process, port). It runs with its default persistence (appendonly yes, so the suites
    exercise the AOF logging path) on an empty AOF in log_dir: a file left by an earlier run is removed."""
    ensure_built()
    os.makedirs(log_dir, exist_ok=True)
    stale_aof = os.path.join(log_dir, "appendonly.aof")
    if os.path.exists(stale_aof):
        os.remove(stale_aof)
    port = port or free_port()
    log = open(os.path.join(log_dir, f"respkv-server-{port}.log"), "wb")
    proc = subprocess.Popen(taskset(cpu) + ["dotnet", RESPKV_DLL, "--port", str(port), "--dir", log_dir, "--save", "",
                                           "--enable-debug-command", "yes"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=log_dir,
                            env=respkv_env(env))
    log.close()
    wait_ready(port, proc, "respkv-server")
    return proc, port


def taskset(cpu):
    return [] if cpu is None else ["taskset", "-c", str(cpu)]


def stop(procs):
    """Terminates the given processes (SIGTERM, then SIGKILL after 10 s) and waits for them."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
