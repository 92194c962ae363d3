'use strict';
// node-redis (the `redis` npm package, v4), unchanged, against the real RespKv executable: connect
// handshake (CLIENT SETNAME, CLIENT SETINFO), pipelined writes, MGET, INFO, error handling, SCAN,
// binary values, databases. Each `it` is one workload; a new command family adds one (e.g. hashes with
// HSCAN, a transaction with WATCH once those land). Run: `node --test` in this directory.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { createClient, commandOptions } = require('redis');
const { startServer } = require('../support/server');

describe('node-redis against RespKv', () => {
  let server;
  const clients = [];

  async function connect(options = {}) {
    const client = createClient({ socket: { host: '127.0.0.1', port: server.port, reconnectStrategy: false }, ...options });
    client.on('error', () => {}); // connection errors surface through the awaited commands
    await client.connect();
    clients.push(client);
    return client;
  }

  before(async () => { server = await startServer(); });
  after(async () => {
    for (const c of clients) if (c.isOpen) await c.quit();
    await server.stop();
  });

  it('connects with a name and answers PING/ECHO/CLIENT', async () => {
    const client = await connect({ name: 'node-suite' });
    assert.equal(await client.ping(), 'PONG');
    assert.equal(await client.ping('hi'), 'hi');
    assert.equal(await client.echo('hello'), 'hello');
    assert.equal(await client.clientGetName(), 'node-suite');
    assert.equal(typeof await client.clientId(), 'number');
    const list = await client.clientList();
    assert.ok(list.some((c) => c.name === 'node-suite'), 'CLIENT LIST names this connection');
    const info = await client.sendCommand(['CLIENT', 'INFO']);
    assert.match(info, /lib-name=node-redis/); // sent by node-redis as CLIENT SETINFO during the handshake
  });

  it('sets, gets and runs string commands', async () => {
    const client = await connect();
    assert.equal(await client.set('node:k', 'v'), 'OK');
    assert.equal(await client.get('node:k'), 'v');
    assert.equal(await client.get('node:missing'), null);
    assert.equal(await client.set('node:k', 'x', { NX: true }), null);
    assert.equal(await client.set('node:k', 'w', { XX: true, GET: true }), 'v');
    assert.equal(await client.append('node:k', '12'), 3);
    assert.equal(await client.strLen('node:k'), 3);
    assert.equal(await client.getRange('node:k', 1, -1), '12');
    assert.equal(await client.setRange('node:k', 0, 'z'), 3);
    assert.equal(await client.getDel('node:k'), 'z12');
    assert.equal(await client.incr('node:n'), 1);
    assert.equal(await client.incrBy('node:n', 99), 100);
    assert.equal(await client.decrBy('node:n', 101), -1);
    assert.equal(await client.incrByFloat('node:f', 2.5), '2.5');
    assert.equal(await client.incrByFloat('node:f', -0.25), '2.25');
  });

  it('round-trips binary and 1 MB values', async () => {
    const client = await connect();
    const binary = Buffer.from([0, 1, 2, 13, 10, 255, 254]);
    await client.set('node:bin', binary);
    assert.deepEqual(await client.get(commandOptions({ returnBuffers: true }), 'node:bin'), binary);
    const big = Buffer.alloc(1024 * 1024, 'x');
    await client.set('node:big', big);
    assert.equal(await client.strLen('node:big'), big.length);
    assert.deepEqual(await client.get(commandOptions({ returnBuffers: true }), 'node:big'), big);
  });

  it('pipelines 10,000 writes, then MGET returns every value in order', async () => {
    const client = await connect();
    const count = 10_000;
    const keys = Array.from({ length: count }, (_, i) => `node:p:${i}`);
    // Commands issued in the same tick are written to the socket together (auto-pipelining).
    const replies = await Promise.all(keys.map((k, i) => client.set(k, `value-${i}`)));
    assert.ok(replies.every((r) => r === 'OK'));
    const multi = client.multi(); // only as a batch: execAsPipeline sends no MULTI/EXEC
    for (let i = 0; i < 100; i++) multi.incr('node:p:counter');
    const counters = await multi.execAsPipeline();
    assert.deepEqual(counters, Array.from({ length: 100 }, (_, i) => i + 1));
    const values = await client.mGet([...keys, 'node:p:missing']);
    assert.equal(values.length, count + 1);
    for (let i = 0; i < count; i++) assert.equal(values[i], `value-${i}`);
    assert.equal(values[count], null);
    assert.equal(await client.mSet(['node:a', '1', 'node:b', '2']), 'OK');
    assert.deepEqual(await client.mGet(['node:a', 'node:b']), ['1', '2']);
    assert.equal(await client.mSetNX(['node:a', '3', 'node:c', '4']), false);
    assert.equal(await client.del(keys), count);
  });

  it('reads INFO', async () => {
    const client = await connect();
    await client.set('node:info', 'v');
    const info = await client.info();
    assert.match(info, /^# Server\r\n/);
    assert.match(info, /\r\nredis_version:7\.0\.15\r\n/);
    assert.match(info, new RegExp(`\\r\\ntcp_port:${server.port}\\r\\n`));
    assert.match(info, /\r\nconnected_clients:\d+\r\n/);
    assert.match(info, /\r\ndb0:keys=\d+,expires=0,avg_ttl=0\r\n/);
    const keyspace = await client.info('keyspace');
    assert.match(keyspace, /^# Keyspace\r\n/);
    assert.doesNotMatch(keyspace, /redis_version/);
    assert.equal(await client.info('nosuchsection'), '');
  });

  it('reports errors and keeps the connection usable', async () => {
    const client = await connect();
    await client.set('node:text', 'abc');
    await assert.rejects(client.incr('node:text'), { message: 'ERR value is not an integer or out of range' });
    await assert.rejects(client.incrByFloat('node:text', 1), { message: 'ERR value is not a valid float' });
    await assert.rejects(client.sendCommand(['NOSUCHCOMMAND', 'x']),
      { message: "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' " });
    await assert.rejects(client.sendCommand(['GET']), { message: "ERR wrong number of arguments for 'get' command" });
    await assert.rejects(client.rename('node:nokey', 'node:x'), { message: 'ERR no such key' });
    await assert.rejects(client.sendCommand(['SET', 'node:k', 'v', 'NX', 'XX']), { message: 'ERR syntax error' });
    await assert.rejects(client.select(16), { message: 'ERR DB index is out of range' });
    // Errors inside a pipelined batch reject only their own command.
    const results = await Promise.allSettled([client.set('node:e', '1'), client.incr('node:text'), client.incr('node:e')]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal(results[2].value, 2);
    assert.equal(await client.ping(), 'PONG');
  });

  it('scans keys and runs generic commands', async () => {
    const client = await connect();
    const expected = new Set(Array.from({ length: 300 }, (_, i) => `node:s:${i}`));
    await client.mSet([...expected].flatMap((k) => [k, 'v']));
    const seen = new Set();
    for await (const key of client.scanIterator({ MATCH: 'node:s:*', COUNT: 25 })) seen.add(key);
    assert.deepEqual(seen, expected);
    assert.deepEqual(new Set(await client.keys('node:s:*')), expected);
    assert.equal(await client.exists(['node:s:1', 'node:s:2', 'node:s:none']), 2);
    assert.equal(await client.type('node:s:1'), 'string');
    assert.equal(await client.rename('node:s:1', 'node:s:one'), 'OK');
    assert.equal(await client.renameNX('node:s:2', 'node:s:one'), false);
    assert.equal(await client.copy('node:s:one', 'node:s:copy'), true);
    assert.equal(await client.unlink(['node:s:copy', 'node:s:none']), 1);
    assert.equal(typeof await client.randomKey(), 'string');
  });

  it('selects databases and reads configuration and time', async () => {
    const client = await connect({ database: 7 });
    await client.flushDb();
    await client.set('k', 'seven');
    assert.equal(await client.dbSize(), 1);
    const other = await connect();
    assert.equal(await other.get('k'), null);
    assert.equal((await client.configGet('databases')).databases, '16');
    assert.equal(await client.configSet('timeout', '0'), 'OK');
    const time = await client.time();
    assert.ok(Math.abs(time.getTime() - Date.now()) < 60_000);
    assert.equal(await client.commandCount(), (await client.sendCommand(['COMMAND'])).length);
    assert.equal(await client.flushDb(), 'OK');
    assert.equal(await client.dbSize(), 0);
  });
});
