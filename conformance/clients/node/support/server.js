'use strict';
// Starts the built RespKv executable (dotnet respkv-server.dll --port N) on a free loopback port for the
// suite, building it first when missing; RESPKV_PORT=N uses a running server instead.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DLL = path.join(ROOT, 'src', 'RespKv.Server', 'bin', 'Release', 'net10.0', 'respkv-server.dll');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(2000, () => { socket.destroy(); resolve(false); });
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n')) { socket.destroy(); resolve(data === '+PONG\r\n'); }
    });
  });
}

/** Returns { port, stop() } for a running server. */
async function startServer() {
  if (process.env.RESPKV_PORT) return { port: Number(process.env.RESPKV_PORT), stop: async () => {} };
  if (!fs.existsSync(DLL)) {
    execFileSync('dotnet', ['build', path.join(ROOT, 'src', 'RespKv.Server'), '-c', 'Release'], { stdio: 'ignore' });
  }
  const port = await freePort();
  const logDir = path.join(ROOT, 'TestResults', 'clients-node');
  fs.mkdirSync(logDir, { recursive: true });
  const log = fs.openSync(path.join(logDir, `respkv-server-${port}.log`), 'w');
  // No AOF and no save points: each run starts empty (a reloaded earlier run would change what the tests read).
  const child = spawn('dotnet', [DLL, '--port', String(port), '--dir', logDir, '--appendonly', 'no', '--save', ''], { cwd: logDir, stdio: ['ignore', log, log] });
  let exited = null;
  child.on('exit', (code) => { exited = code; });
  const deadline = Date.now() + 60_000;
  while (!(await ping(port))) {
    if (exited !== null) throw new Error(`respkv-server exited with code ${exited} during start-up`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('respkv-server did not answer PING within 60 s'); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    stop: () => new Promise((resolve) => {
      if (exited !== null) { resolve(); return; }
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('exit', () => { clearTimeout(timer); fs.closeSync(log); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

module.exports = { startServer };
