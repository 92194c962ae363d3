#!/usr/bin/python3
"""RespKv as NuGet packages: `dotnet pack` of src/RespKv (the RespKv library) and src/RespKv.Server (the respkv-server
.NET tool) into a temporary folder, then, from that folder only:
  - both packages carry their metadata (id, description, MIT license expression, README, git repository, the tool's
    DotnetTool type and command name; the library's assembly, XML docs and dependencies);
  - `dotnet tool install respkv-server --tool-path <tmp> --add-source <folder>` installs the tool, which starts on a free
    port, answers PING, SET/GET and INFO (its tcp_port), and exits 0 on SIGTERM;
  - a new console project referencing the RespKv package starts RespKvHost.StartNewAsync() in-process on port 0, talks RESP
    to its EndPoint, and stops it (the port then refuses connections).
NuGet runs with a temporary global packages folder, so what is tested is what was just packed, never a cached copy.
Usage: /usr/bin/python3 tests/package/package_test.py
Ends with the line "package: N passed, N failed"; exits 1 when a check failed.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "conformance"))
import respkv_server  # noqa: E402  (free port, PING)

NUSPEC_NS = "{http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd}"


def run(args, cwd=None, env=None, timeout=600):
    result = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}")
    return result.stdout


def call(port, *args):
    """One RESP2 command on a new connection; returns the raw reply bytes (first read)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args))
        data = b""
        while not data.endswith(b"\r\n") or (data.startswith(b"$") and data.count(b"\r\n") < 2):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def nuspec(package):
    """The package's .nuspec metadata as {element name: element} plus the file list."""
    with zipfile.ZipFile(package) as z:
        names = z.namelist()
        spec = next(n for n in names if n.endswith(".nuspec") and "/" not in n)
        root = ET.fromstring(z.read(spec))
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    metadata = root.find(f"{ns}metadata")
    return {child.tag[len(ns):]: child for child in metadata}, names, ns


CONSUMER_PROGRAM = r"""
using System.Net.Sockets;
using System.Text;
using RespKv.Server;

await using (RespKvHost host = await RespKvHost.StartNewAsync())
{
    if (host.Port == 0) throw new Exception("no port bound");
    using var client = new TcpClient();
    await client.ConnectAsync(host.EndPoint);
    NetworkStream stream = client.GetStream();
    await stream.WriteAsync(Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"));
    var received = new StringBuilder();
    var buffer = new byte[1024];
    while (received.ToString() != "+PONG\r\n+OK\r\n$5\r\nhello\r\n")
    {
        int n = await stream.ReadAsync(buffer);
        if (n == 0) break;
        received.Append(Encoding.ASCII.GetString(buffer, 0, n));
    }
    Console.WriteLine($"endpoint {host.ConnectionString}");
    Console.WriteLine("replies " + received.ToString().Replace("\r\n", "|"));
    Console.Out.Flush();
    File.WriteAllText(args[0], host.Port.ToString());
}
Console.WriteLine("stopped");
"""


def main():
    results = []

    def check(name, ok, detail=""):
        results.append(bool(ok))
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)

    work = tempfile.mkdtemp(prefix="respkv-package-")
    env = {**os.environ, "NUGET_PACKAGES": os.path.join(work, "nuget-packages"), "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
           "DOTNET_NOLOGO": "1"}
    feed = os.path.join(work, "feed")
    # Sources for the consumer's other dependencies (KeraLua): this user's global packages folder as an offline feed, then nuget.org.
    user_packages = os.environ.get("NUGET_PACKAGES") or os.path.expanduser("~/.nuget/packages")
    tool = None
    try:
        for project in ("src/RespKv", "src/RespKv.Server"):
            run(["dotnet", "pack", os.path.join(ROOT, project), "-c", "Release", "-o", feed, "-nologo", "-v", "q"], env=env)
        library = glob.glob(os.path.join(feed, "RespKv.*.nupkg"))
        tool_package = glob.glob(os.path.join(feed, "respkv-server.*.nupkg"))
        check("dotnet pack produced RespKv.<version>.nupkg and respkv-server.<version>.nupkg",
              len(library) == 1 and len(tool_package) == 1, os.listdir(feed))
        if len(library) != 1 or len(tool_package) != 1:
            raise RuntimeError("packages missing")

        for package, package_id in ((library[0], "RespKv"), (tool_package[0], "respkv-server")):
            meta, names, ns = nuspec(package)
            text = lambda tag: (meta[tag].text or "").strip() if tag in meta else ""  # noqa: E731
            check(f"{package_id}: id and version", text("id") == package_id and text("version") == os.path.basename(package)[len(package_id) + 1:-6],
                  (text("id"), text("version")))
            check(f"{package_id}: description", len(text("description")) > 40 and "Redis" in text("description"), text("description"))
            license = meta.get("license")
            check(f"{package_id}: license expression MIT", license is not None and license.get("type") == "expression" and license.text == "MIT",
                  license is not None and (license.get("type"), license.text))
            check(f"{package_id}: README packed and declared", text("readme") == "README.md" and "README.md" in names, (text("readme"), names[:10]))
            repository = meta.get("repository")
            check(f"{package_id}: git repository with commit", repository is not None and repository.get("type") == "git"
                  and len(repository.get("commit", "")) == 40, repository is not None and repository.attrib)
            if package_id == "RespKv":
                check("RespKv: lib/net10.0 has the assembly and its XML docs",
                      "lib/net10.0/RespKv.dll" in names and "lib/net10.0/RespKv.xml" in names, [n for n in names if n.startswith("lib/")])
                deps = [d.get("id") for d in meta["dependencies"].iter(f"{ns}dependency")] if "dependencies" in meta else []
                frameworks = [f.get("name") for f in meta["frameworkReferences"].iter(f"{ns}frameworkReference")] if "frameworkReferences" in meta else []
                check("RespKv: depends on KeraLua and the ASP.NET Core shared framework", "KeraLua" in deps and "Microsoft.AspNetCore.App" in frameworks,
                      (deps, frameworks))
            else:
                types = [t.get("name") for t in meta["packageTypes"]] if "packageTypes" in meta else []
                check("respkv-server: a DotnetTool package with command respkv-server",
                      types == ["DotnetTool"] and any(n.endswith("DotnetToolSettings.xml") for n in names), (types, names[:10]))

        # The tool, installed from the local folder only into a temporary tool path.
        tool_path = os.path.join(work, "tools")
        run(["dotnet", "tool", "install", "respkv-server", "--tool-path", tool_path, "--add-source", feed], env=env)
        executable = os.path.join(tool_path, "respkv-server")
        check("dotnet tool install respkv-server --tool-path --add-source <folder>", os.path.exists(executable), os.listdir(tool_path))
        port = respkv_server.free_port()
        data = os.path.join(work, "data")
        os.mkdir(data)
        log = open(os.path.join(work, "tool.log"), "w")
        tool = subprocess.Popen([executable, "--port", str(port), "--dir", data, "--appendonly", "no"], cwd=data, env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        respkv_server.wait_ready(port, tool, "respkv-server (tool)")
        check("the tool answers PING", call(port, "PING") == b"+PONG\r\n")
        check("the tool answers SET/GET", call(port, "SET", "k", "v") == b"+OK\r\n" and call(port, "GET", "k") == b"$1\r\nv\r\n")
        info = call(port, "INFO", "server")
        check("the tool's INFO names its port", f"\r\ntcp_port:{port}\r\n".encode() in info, info[:200])
        tool.send_signal(signal.SIGTERM)
        code = tool.wait(30)
        tool = None
        log.close()
        check("the tool exits 0 on SIGTERM", code == 0, (code, open(os.path.join(work, "tool.log")).read()[-2000:]))

        # The library, in-process, from a new project restored from the local folder.
        consumer = os.path.join(work, "consumer")
        os.mkdir(consumer)
        version = os.path.basename(library[0])[len("RespKv."):-len(".nupkg")]
        with open(os.path.join(consumer, "Consumer.csproj"), "w") as f:
            f.write(f"""<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="RespKv" Version="{version}" />
  </ItemGroup>
</Project>
""")
        with open(os.path.join(consumer, "Program.cs"), "w") as f:
            f.write(CONSUMER_PROGRAM)
        sources = [feed] + ([user_packages] if os.path.isdir(user_packages) else []) + ["https://api.nuget.org/v3/index.json"]
        run(["dotnet", "restore"] + [a for s in sources for a in ("--source", s)], cwd=consumer, env=env)
        port_file = os.path.join(work, "consumer-port")
        output = run(["dotnet", "run", "--no-restore", "-c", "Release", "--", port_file], cwd=consumer, env=env)
        check("in-process: StartNewAsync serves PING/SET/GET on its EndPoint", "replies +PONG|+OK|$5|hello|" in output, output[-2000:])
        check("in-process: ConnectionString is 127.0.0.1:<port>", os.path.exists(port_file)
              and f"endpoint 127.0.0.1:{open(port_file).read()}" in output, output[-2000:])
        check("in-process: disposed, it stopped", output.rstrip().endswith("stopped")
              and not respkv_server.ping(int(open(port_file).read()), timeout=1), output[-500:])
    except Exception as e:  # a failed step fails the suite with its output
        check("package steps ran", False, e)
    finally:
        if tool is not None:
            tool.kill()
            tool.wait()
        shutil.rmtree(work, ignore_errors=True)

    passed = sum(results)
    print(f"package: {passed} passed, {len(results) - passed} failed")
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
