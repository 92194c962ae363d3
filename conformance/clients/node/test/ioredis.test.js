'use strict';
// ioredis 6.0.0, unchanged, against the real RespKv executable (RESP2, the protocol ioredis speaks): the connect
// handshake (ready check with INFO, CLIENT SETNAME), pipelines, MULTI/EXEC transactions with WATCH, pub/sub with
// patterns, Lua scripts through defineCommand (EVALSHA, falling back to EVAL after SCRIPT FLUSH), and scan streams
// (SCAN, HSCAN, SSCAN, ZSCAN). Run: `node --test` in this directory.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { startServer } = require('../support/server');

describe('ioredis 6 (RESP2) against RespKv', () => {
  let server;
  const clients = [];

  async function connect(options = {}) {
    const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...options });
    client.on('error', () => {}); // connection errors surface through the awaited commands
    await client.connect();
    clients.push(client);
    return client;
  }

  before(async () => { server = await startServer(); });
  after(async () => {
    for (const c of clients) if (c.status === 'ready') await c.quit();
    await server.stop();
  });

  it('connects (ready check, name, database) and runs basic commands', async () => {
    const client = await connect({ connectionName: 'io-suite', db: 2 });
    assert.equal(client.status, 'ready');
    assert.equal(await client.ping(), 'PONG');
    assert.equal(await client.client('GETNAME'), 'io-suite');
    assert.match(await client.client('INFO'), / db=2 /);
    assert.equal(await client.set('io:k', 'v', 'EX', 100), 'OK');
    assert.equal(await client.get('io:k'), 'v');
    assert.ok((await client.ttl('io:k')) > 90);
    assert.equal(await client.get('io:missing'), null);
    assert.deepEqual(await client.hgetall('io:none'), {});
    await client.hset('io:h', { a: '1', b: '2' });
    assert.deepEqual(await client.hgetall('io:h'), { a: '1', b: '2' });
    const binary = Buffer.from([0, 255, 13, 10, 7]);
    await client.set('io:bin', binary);
    assert.deepEqual(await client.getBuffer('io:bin'), binary);
    await assert.rejects(client.hget('io:k', 'f'), { message: 'WRONGTYPE Operation against a key holding the wrong kind of value' });
    await assert.rejects(client.call('NOSUCH'), { message: "ERR unknown command 'NOSUCH', with args beginning with: " });
    assert.equal(await client.dbsize(), 3);
    assert.equal(await client.flushdb(), 'OK');
  });

  it('runs pipelines: replies in order, a failing command fails only its own entry', async () => {
    const client = await connect();
    const pipeline = client.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.set(`io:p:${i}`, `value-${i}`);
    pipeline.set('io:p:text', 'abc').incr('io:p:text').incr('io:p:counter').mget('io:p:0', 'io:p:999', 'io:p:missing');
    const results = await pipeline.exec();
    assert.equal(results.length, 1004);
    assert.ok(results.slice(0, 1001).every(([err, reply]) => err === null && reply === 'OK'));
    assert.equal(results[1001][0].message, 'ERR value is not an integer or out of range');
    assert.deepEqual(results[1002], [null, 1]);
    assert.deepEqual(results[1003], [null, ['value-0', 'value-999', null]]);
    // Auto-pipelining: commands issued in the same tick share one write.
    const auto = await connect({ enableAutoPipelining: true });
    const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => auto.get(`io:p:${i}`)));
    assert.deepEqual(replies, Array.from({ length: 500 }, (_, i) => `value-${i}`));
  });

  it('runs MULTI/EXEC transactions; WATCH aborts EXEC after another client writes', async () => {
    const client = await connect();
    const other = await connect();
    await client.set('io:t:balance', '100');
    assert.deepEqual(await client.multi().incrby('io:t:balance', 5).get('io:t:balance').lpush('io:t:l', 'a').exec(),
      [[null, 105], [null, '105'], [null, 1]]);
    // A runtime error inside EXEC is that command's entry; the others still run.
    const mixed = await client.multi().incr('io:t:l').incr('io:t:balance').exec();
    assert.equal(mixed[0][0].message, 'WRONGTYPE Operation against a key holding the wrong kind of value');
    assert.deepEqual(mixed[1], [null, 106]);
    // A queuing error (wrong arity) makes EXEC fail with EXECABORT.
    await assert.rejects(client.multi().call('GET').set('io:t:x', '1').exec(), /EXECABORT Transaction discarded because of previous errors/);
    assert.equal(await client.exists('io:t:x'), 0);
    // WATCH with a concurrent write: EXEC answers nil, which ioredis returns as null.
    assert.equal(await client.watch('io:t:balance'), 'OK');
    await other.incr('io:t:balance');
    assert.equal(await client.multi().set('io:t:balance', '0').exec(), null);
    assert.equal(await client.get('io:t:balance'), '107');
    // WATCH without a concurrent write: EXEC runs.
    await client.watch('io:t:balance');
    assert.deepEqual(await client.multi().decrby('io:t:balance', 7).exec(), [[null, 100]]);
    // A pipeline with multi() inside: only the wrapped commands are transactional.
    const results = await client.pipeline().get('io:t:balance').multi().incr('io:t:balance').exec().exec();
    assert.deepEqual(results, [[null, '100'], [null, 'OK'], [null, 'QUEUED'], [null, [101]]]);
  });

  it('delivers pub/sub messages and pattern messages in order; counts subscribers', async () => {
    const publisher = await connect();
    const subscriber = await connect();
    const messages = [];
    const patterned = [];
    let done;
    const all = new Promise((resolve) => { done = resolve; });
    const count = 2000;
    subscriber.on('message', (channel, message) => {
      messages.push([channel, message]);
      if (messages.length === count && patterned.length === count) done();
    });
    subscriber.on('pmessage', (pattern, channel, message) => {
      patterned.push([pattern, channel, message]);
      if (messages.length === count && patterned.length === count) done();
    });
    assert.equal(await subscriber.subscribe('io:news', 'io:other'), 2);
    assert.equal(await subscriber.psubscribe('io:n*'), 3);
    const counts = await Promise.all(Array.from({ length: count }, (_, i) => publisher.publish('io:news', `m${i}`)));
    assert.ok(counts.every((n) => n === 2), 'each message reached the channel and the pattern subscription');
    await all;
    assert.deepEqual(messages, Array.from({ length: count }, (_, i) => ['io:news', `m${i}`]));
    assert.deepEqual(patterned[count - 1], ['io:n*', 'io:news', `m${count - 1}`]);
    assert.deepEqual(await publisher.pubsub('NUMSUB', 'io:news', 'io:none'), ['io:news', 1, 'io:none', 0]);
    assert.equal(await publisher.pubsub('NUMPAT'), 1);
    assert.deepEqual((await publisher.pubsub('CHANNELS', 'io:*')).sort(), ['io:news', 'io:other']);
    await subscriber.unsubscribe('io:news', 'io:other');
    await subscriber.punsubscribe();
    assert.equal(await publisher.publish('io:news', 'unheard'), 0);
    assert.equal(await subscriber.ping(), 'PONG'); // back to a normal connection
  });

  it('runs Lua scripts defined with defineCommand (EVALSHA, then EVAL after SCRIPT FLUSH)', async () => {
    const client = await connect();
    client.defineCommand('transfer', {
      numberOfKeys: 2,
      lua: `
        local from = tonumber(redis.call('GET', KEYS[1]) or '0')
        local amount = tonumber(ARGV[1])
        if from < amount then return redis.error_reply('INSUFFICIENT funds') end
        redis.call('DECRBY', KEYS[1], amount)
        return redis.call('INCRBY', KEYS[2], amount)`,
    });
    client.defineCommand('echoAll', { lua: 'return {KEYS[1], ARGV[1], #KEYS, #ARGV, 3.99, true, false}' });
    await client.mset('{io}:a', '100', '{io}:b', '5');
    assert.equal(await client.transfer('{io}:a', '{io}:b', 30), 35);
    assert.deepEqual(await client.mget('{io}:a', '{io}:b'), ['70', '35']);
    await assert.rejects(client.transfer('{io}:a', '{io}:b', 1000), { message: 'INSUFFICIENT funds' });
    // numberOfKeys not fixed: the first argument says how many keys follow.
    assert.deepEqual(await client.echoAll(1, 'k', 'v'), ['k', 'v', 1, 1, 3, 1, null]);
    // The scripts are cached: ioredis sends EVALSHA; after SCRIPT FLUSH it gets NOSCRIPT and resends with EVAL.
    assert.equal(await client.script('FLUSH'), 'OK');
    assert.equal(await client.transfer('{io}:a', '{io}:b', 10), 45);
    const sha = require('node:crypto').createHash('sha1').update(client.scriptsSet.transfer.lua).digest('hex');
    assert.deepEqual(await client.script('EXISTS', sha), [1]);
    // In a pipeline and in a transaction.
    assert.deepEqual(await client.pipeline().transfer('{io}:a', '{io}:b', 1).transfer('{io}:a', '{io}:b', 1).exec(), [[null, 46], [null, 47]]);
    assert.deepEqual(await client.multi().transfer('{io}:a', '{io}:b', 1).get('{io}:a').exec(), [[null, 48], [null, '57']]);
  });

  it('iterates keys, hashes, sets and sorted sets with scan streams', async () => {
    const client = await connect({ db: 5 });
    await client.flushdb();
    const keys = Array.from({ length: 500 }, (_, i) => `io:s:${i}`);
    await client.mset(...keys.flatMap((k) => [k, 'v']));
    await client.set('io:other', 'v');
    async function collect(stream) {
      const seen = [];
      for await (const page of stream) seen.push(...page);
      return seen;
    }
    const scanned = await collect(client.scanStream({ match: 'io:s:*', count: 50 }));
    assert.deepEqual(new Set(scanned), new Set(keys));
    assert.deepEqual(await collect(client.scanStream({ match: 'io:o*', count: 1000, type: 'string' })), ['io:other']);
    const fields = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]));
    await client.hset('io:hash', fields);
    const flat = await collect(client.hscanStream('io:hash', { count: 20 }));
    const pairs = {};
    for (let i = 0; i < flat.length; i += 2) pairs[flat[i]] = flat[i + 1];
    assert.equal(flat.length, 600);
    assert.deepEqual(pairs, fields);
    const members = Array.from({ length: 300 }, (_, i) => `m${i}`);
    await client.sadd('io:set', ...members);
    assert.deepEqual(new Set(await collect(client.sscanStream('io:set', { match: 'm1*', count: 30 }))),
      new Set(members.filter((m) => m.startsWith('m1'))));
    await client.zadd('io:zset', ...members.flatMap((m, i) => [i, m]));
    const zflat = await collect(client.zscanStream('io:zset', { count: 30 }));
    const scores = {};
    for (let i = 0; i < zflat.length; i += 2) scores[zflat[i]] = zflat[i + 1];
    assert.deepEqual(scores, Object.fromEntries(members.map((m, i) => [m, String(i)])));
  });
});
