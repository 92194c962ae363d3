#!/usr/bin/python3
"""redis-py 4.3 (Debian's python3-redis), unchanged, against the real RespKv executable on a loopback
port: connect handshake (CLIENT SETNAME), pipelined writes, MGET, INFO, error handling, SCAN, CONFIG,
CLIENT, databases, hashes (HSCAN), bitmaps and HyperLogLog, streams with consumer groups, and transactions (MULTI/EXEC with WATCH). Each test_* method is one
workload; a new command family adds a method.

Run: /usr/bin/python3 conformance/clients/python/test_redis_py.py   (or python3 -m unittest ...)
Starts its own server (--port N on a free port); set RESPKV_PORT=N to use a running one instead.
Ends with "redis-py: N passed, N failed"; exits non-zero on any failure.
"""
import os
import sys
import time
import unittest

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import respkv_server  # noqa: E402

PORT = None
_procs = []


def setUpModule():
    global PORT
    if os.environ.get("RESPKV_PORT"):
        PORT = int(os.environ["RESPKV_PORT"])
        return
    proc, PORT = respkv_server.start_respkv(os.path.join(respkv_server.ROOT, "TestResults", "clients-python"))
    _procs.append(proc)


def tearDownModule():
    respkv_server.stop(_procs)


class RedisPyTests(unittest.TestCase):
    def client(self, **kwargs):
        r = redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=30, **kwargs)
        self.addCleanup(r.close)
        return r

    def key(self, suffix):
        """A key unique to the running test (the tests share one server)."""
        return f"py:{self._testMethodName}:{suffix}"

    def test_connect_handshake_and_ping(self):
        r = self.client(client_name="py-suite")
        self.assertTrue(r.ping())
        self.assertEqual(r.client_getname(), "py-suite")  # sent as CLIENT SETNAME on connect
        self.assertEqual(r.echo("hello"), b"hello")
        self.assertIsInstance(r.client_id(), int)
        info = r.client_info()
        self.assertEqual(info["name"], "py-suite")
        self.assertEqual(info["db"], 0)
        names = [c["name"] for c in r.client_list()]
        self.assertIn("py-suite", names)

    def test_set_get_and_string_commands(self):
        r = self.client(decode_responses=True)
        k = self.key("k")
        self.assertTrue(r.set(k, "v"))
        self.assertEqual(r.get(k), "v")
        self.assertIsNone(r.get(self.key("missing")))
        self.assertIsNone(r.set(k, "x", nx=True))  # NX on an existing key: nil reply -> None
        self.assertTrue(r.set(k, "w", xx=True))
        self.assertEqual(r.set(k, "z", get=True), "w")
        self.assertEqual(r.append(k, "123"), 4)
        self.assertEqual(r.strlen(k), 4)
        self.assertEqual(r.getrange(k, 1, -1), "123")
        self.assertEqual(r.setrange(k, 1, "ab"), 4)
        self.assertEqual(r.get(k), "zab3")
        self.assertEqual(r.getset(k, "new"), "zab3")
        self.assertEqual(r.getdel(k), "new")
        self.assertEqual(r.exists(k), 0)
        c = self.key("counter")
        self.assertEqual(r.incr(c), 1)
        self.assertEqual(r.incrby(c, 41), 42)
        self.assertEqual(r.decr(c), 41)
        self.assertEqual(r.decrby(c, 50), -9)
        self.assertEqual(r.incrbyfloat(self.key("f"), 10.5), 10.5)
        self.assertEqual(r.incrbyfloat(self.key("f"), 0.1), 10.6)
        self.assertTrue(r.setnx(self.key("nx"), 1))
        self.assertFalse(r.setnx(self.key("nx"), 2))

    def test_binary_and_large_values(self):
        r = self.client()
        k = self.key("bin")
        value = bytes(range(256)) + b"\r\n\x00"
        self.assertTrue(r.set(k, value))
        self.assertEqual(r.get(k), value)
        big = os.urandom(1024 * 1024)
        self.assertTrue(r.set(self.key("big"), big))
        self.assertEqual(r.get(self.key("big")), big)
        self.assertEqual(r.strlen(self.key("big")), len(big))
        self.assertTrue(r.set(b"py:\x00\xffkey", b""))
        self.assertEqual(r.get(b"py:\x00\xffkey"), b"")

    def test_pipelined_writes_then_mget(self):
        r = self.client(decode_responses=True)
        count = 10_000
        keys = [self.key(i) for i in range(count)]
        pipe = r.pipeline(transaction=False)
        for i, k in enumerate(keys):
            pipe.set(k, f"value-{i}")
        pipe.incr(self.key("counter"))
        pipe.get(keys[0])
        results = pipe.execute()
        self.assertEqual(results[:count], [True] * count)
        self.assertEqual(results[count:], [1, "value-0"])
        values = r.mget(keys + [self.key("missing")])
        self.assertEqual(values[:count], [f"value-{i}" for i in range(count)])
        self.assertIsNone(values[-1])
        self.assertTrue(r.mset({self.key("a"): "1", self.key("b"): "2"}))
        self.assertEqual(r.mget(self.key("a"), self.key("b")), ["1", "2"])
        self.assertFalse(r.msetnx({self.key("a"): "x", self.key("new"): "y"}))
        self.assertEqual(r.delete(*keys), count)
        self.assertEqual(r.exists(*keys), 0)

    def test_info(self):
        r = self.client()
        r.set(self.key("k"), "v")
        info = r.info()
        self.assertEqual(info["redis_version"], "7.0.15")
        self.assertEqual(info["redis_mode"], "standalone")
        self.assertEqual(info["tcp_port"], PORT)
        self.assertGreaterEqual(info["connected_clients"], 1)
        self.assertGreaterEqual(info["total_commands_processed"], 1)
        self.assertIn("db0", info)
        self.assertGreaterEqual(info["db0"]["keys"], 1)
        server = r.info("server")
        self.assertIn("uptime_in_seconds", server)
        self.assertNotIn("connected_clients", server)
        self.assertGreaterEqual(r.info("keyspace")["db0"]["keys"], 1)
        self.assertEqual(r.info("nosuchsection"), {})

    def test_error_handling(self):
        r = self.client(decode_responses=True)
        k = self.key("text")
        r.set(k, "not a number")
        with self.assertRaises(redis.ResponseError) as e:
            r.incr(k)
        self.assertEqual(str(e.exception), "value is not an integer or out of range")
        with self.assertRaises(redis.ResponseError) as e:
            r.incrbyfloat(k, 1)
        self.assertEqual(str(e.exception), "value is not a valid float")
        with self.assertRaises(redis.ResponseError) as e:
            r.execute_command("NOSUCHCOMMAND", "a")
        self.assertEqual(str(e.exception), "unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' ")
        with self.assertRaises(redis.ResponseError) as e:
            r.execute_command("GET")
        self.assertEqual(str(e.exception), "wrong number of arguments for 'get' command")
        with self.assertRaises(redis.ResponseError) as e:
            r.rename(self.key("missing"), self.key("x"))
        self.assertEqual(str(e.exception), "no such key")
        with self.assertRaises(redis.ResponseError):
            r.execute_command("SET", k, "v", "NX", "XX")
        # In a pipeline the error takes its command's place; the others still run.
        pipe = r.pipeline(transaction=False)
        pipe.set(self.key("p"), "1")
        pipe.incr(k)
        pipe.incr(self.key("p"))
        results = pipe.execute(raise_on_error=False)
        self.assertEqual(results[0], True)
        self.assertIsInstance(results[1], redis.ResponseError)
        self.assertEqual(results[2], 2)
        self.assertTrue(r.ping())  # the connection survived every error

    def test_scan_keys_and_generic_commands(self):
        r = self.client(decode_responses=True)
        prefix = self.key("")
        expected = {f"{prefix}{i}" for i in range(500)}
        r.mset({k: "v" for k in expected})
        self.assertEqual(set(r.scan_iter(match=prefix + "*", count=50)), expected)
        self.assertEqual(set(r.keys(prefix + "*")), expected)
        self.assertEqual(r.type(prefix + "1"), "string")
        self.assertEqual(r.type(prefix + "none"), "none")
        self.assertTrue(r.rename(prefix + "1", prefix + "renamed"))
        self.assertFalse(r.renamenx(prefix + "2", prefix + "renamed"))
        self.assertTrue(r.copy(prefix + "renamed", prefix + "copy"))
        self.assertEqual(r.get(prefix + "copy"), "v")
        self.assertEqual(r.unlink(prefix + "copy", prefix + "none"), 1)
        self.assertIsNotNone(r.randomkey())

    def test_databases_config_and_time(self):
        db5 = self.client(db=5, decode_responses=True)  # SELECT 5 during the handshake
        db5.flushdb()
        db5.set("k", "five")
        self.assertEqual(db5.dbsize(), 1)
        self.assertIsNone(self.client(decode_responses=True).get("k"))
        self.assertEqual(db5.config_get("databases"), {"databases": "16"})
        self.assertTrue(db5.config_set("timeout", 0))
        self.assertEqual(db5.config_get("timeout"), {"timeout": "0"})
        with self.assertRaises(redis.ResponseError):
            db5.config_set("nosuchparameter", "1")
        seconds, micros = db5.time()
        self.assertGreater(seconds, 1_600_000_000)
        self.assertTrue(0 <= micros < 1_000_000)
        self.assertEqual(db5.command_count(), len(db5.command()))
        self.assertTrue(db5.flushdb())
        self.assertEqual(db5.dbsize(), 0)

    def test_hashes_with_hscan(self):
        r = self.client(decode_responses=True)
        h = self.key("h")
        self.assertEqual(r.hset(h, "f1", "v1"), 1)
        self.assertEqual(r.hset(h, mapping={"f1": "v1b", "f2": "v2", "f3": "3"}), 2)
        self.assertEqual(r.hget(h, "f1"), "v1b")
        self.assertIsNone(r.hget(h, "missing"))
        self.assertEqual(r.hgetall(h), {"f1": "v1b", "f2": "v2", "f3": "3"})
        self.assertEqual(r.hgetall(self.key("none")), {})
        self.assertEqual(sorted(r.hkeys(h)), ["f1", "f2", "f3"])
        self.assertEqual(sorted(r.hvals(h)), ["3", "v1b", "v2"])
        self.assertEqual(r.hmget(h, ["f1", "missing", "f3"]), ["v1b", None, "3"])
        self.assertEqual(r.hlen(h), 3)
        self.assertTrue(r.hexists(h, "f2"))
        self.assertEqual(r.hstrlen(h, "f1"), 3)
        self.assertEqual(r.hincrby(h, "f3", 4), 7)
        self.assertEqual(r.hincrbyfloat(h, "f3", 0.5), 7.5)
        self.assertFalse(r.hsetnx(h, "f1", "x"))
        self.assertTrue(r.hsetnx(h, "f4", "v4"))
        self.assertIn(r.hrandfield(h), ["f1", "f2", "f3", "f4"])
        self.assertEqual(r.hdel(h, "f1", "f2", "missing"), 2)
        self.assertEqual(r.type(h), "hash")
        with self.assertRaises(redis.ResponseError) as e:
            r.hincrby(h, "f4", 1)
        self.assertEqual(str(e.exception), "hash value is not an integer")
        r.set(self.key("s"), "str")
        with self.assertRaises(redis.ResponseError) as e:
            r.hget(self.key("s"), "f")
        self.assertEqual(str(e.exception), "WRONGTYPE Operation against a key holding the wrong kind of value")
        # HSCAN over a hash larger than one page: every field exactly once, with its own value.
        big = self.key("big")
        fields = {f"field:{i}": f"value-{i}" for i in range(1000)}
        self.assertEqual(r.hset(big, mapping=fields), 1000)
        seen = list(r.hscan_iter(big, count=50))
        self.assertEqual(len(seen), 1000)
        self.assertEqual(dict(seen), fields)
        matched = dict(r.hscan_iter(big, match="field:1*", count=10))
        self.assertEqual(matched, {k: v for k, v in fields.items() if k.startswith("field:1")})
        cursor, page = r.hscan(big, 0, count=10)
        self.assertNotEqual(cursor, 0)
        self.assertGreater(len(page), 0)
        self.assertEqual(r.hdel(big, *fields), 1000)
        self.assertEqual(r.exists(big), 0)  # deleting the last field deletes the key
        self.assertEqual(list(r.hscan_iter(big)), [])

    def test_hash_field_expiry(self):
        # redis-py 4.3 predates HEXPIRE (Redis 7.4) and HGETEX/HSETEX/HGETDEL (Redis 8.0): execute_command.
        r = self.client(decode_responses=True)
        h = self.key("h")
        self.assertEqual(r.hset(h, mapping={"a": "1", "b": "2", "c": "3"}), 3)
        self.assertEqual(r.execute_command("HPEXPIRE", h, 150, "FIELDS", 3, "a", "b", "zz"), [1, 1, -2])
        self.assertEqual(r.execute_command("HPERSIST", h, "FIELDS", 1, "b"), [1])
        self.assertEqual(r.execute_command("HTTL", h, "FIELDS", 2, "b", "c"), [-1, -1])
        self.assertEqual(r.execute_command("HSETEX", h, "PX", 150, "FIELDS", 1, "d", "4"), 1)
        self.assertEqual(r.execute_command("HGETDEL", h, "FIELDS", 1, "c"), ["3"])
        deadline = time.time() + 10
        while r.hlen(h) != 1 and time.time() < deadline:  # the active cycle reclaims a and d without any read
            time.sleep(0.05)
        self.assertEqual(r.hgetall(h), {"b": "2"})
        self.assertEqual(r.execute_command("HGETEX", h, "PXAT", 1, "FIELDS", 1, "b"), ["2"])  # past: deleted
        self.assertEqual(r.exists(h), 0)

    def test_bitmaps_and_hyperloglog(self):
        r = self.client()
        b = self.key("bits")
        self.assertEqual(r.setbit(b, 7, 1), 0)
        self.assertEqual(r.setbit(b, 7, 1), 1)
        self.assertEqual(r.getbit(b, 7), 1)
        self.assertEqual(r.get(b), b"\x01")
        r.set(b, "foobar")
        self.assertEqual(r.bitcount(b), 26)
        self.assertEqual(r.bitcount(b, 1, 1), 6)
        self.assertEqual(r.bitpos(b, 1), 1)
        self.assertEqual(r.bitpos(b, 0, 2, -1), 16)
        self.assertEqual(r.bitop("NOT", self.key("not"), b), 6)
        self.assertEqual(r.bitop("AND", self.key("and"), b, self.key("not")), 6)
        self.assertEqual(r.get(self.key("and")), b"\x00" * 6)
        f = self.key("field")
        self.assertEqual(r.bitfield(f).set("i8", 0, 100).incrby("u2", 100, 1).get("i8", 0).execute(), [0, 1, 100])
        self.assertEqual(r.bitfield(f, default_overflow="FAIL").incrby("u2", 100, 5).execute(), [None])
        self.assertEqual(r.bitfield(f, default_overflow="SAT").incrby("i8", 0, 100).execute(), [127])
        with self.assertRaises(redis.ResponseError) as e:
            r.setbit(b, -1, 1)
        self.assertEqual(str(e.exception), "bit offset is not an integer or out of range")
        h = self.key("hll")
        self.assertEqual(r.pfadd(h, *[f"user-{i}" for i in range(1000)]), 1)
        self.assertEqual(r.pfadd(h, "user-1"), 0)
        self.assertEqual(r.pfcount(h), 1003)  # redis-server 7.0.15's estimate of these 1000 elements
        h2 = self.key("hll2")
        self.assertEqual(r.pfadd(h2, *[f"user-{i}" for i in range(500, 2500)]), 1)
        self.assertEqual(r.pfcount(h, h2), 2504)  # of the 2500 in the union, as redis-server 7.0.15 estimates it
        self.assertTrue(r.pfmerge(self.key("merged"), h, h2))
        self.assertEqual(r.pfcount(self.key("merged")), 2504)
        self.assertTrue(r.get(h).startswith(b"HYLL\x01"))
        r.set(self.key("notahll"), "hello")
        with self.assertRaises(redis.ResponseError) as e:
            r.pfadd(self.key("notahll"), "x")
        self.assertEqual(str(e.exception), "WRONGTYPE Key is not a valid HyperLogLog string value.")

    def test_streams_with_consumer_groups(self):
        r = self.client()
        s = self.key("stream")
        first = r.xadd(s, {"sensor": "a", "v": "1"})
        self.assertRegex(first, rb"^\d+-\d+$")
        self.assertEqual(r.xadd(s, {"v": "2"}, id="18446744073709551614-1"), b"18446744073709551614-1")
        self.assertEqual(r.xlen(s), 2)
        self.assertEqual(r.xrange(s, count=1), [(first, {b"sensor": b"a", b"v": b"1"})])
        self.assertEqual(r.xread({s: 0}, count=1), [[s.encode(), [(first, {b"sensor": b"a", b"v": b"1"})]]])
        self.assertEqual(r.xread({s: "$"}, block=50), [])
        self.assertTrue(r.xgroup_create(s, "workers", id="0"))
        with self.assertRaises(redis.ResponseError) as e:
            r.xgroup_create(s, "workers", id="0")
        self.assertEqual(str(e.exception), "BUSYGROUP Consumer Group name already exists")
        got = r.xreadgroup("workers", "alice", {s: ">"}, count=10)
        self.assertEqual([entry[0] for entry in got[0][1]], [first, b"18446744073709551614-1"])
        pending = r.xpending(s, "workers")
        self.assertEqual(pending["pending"], 2)
        self.assertEqual(pending["consumers"], [{"name": b"alice", "pending": 2}])
        self.assertEqual(r.xack(s, "workers", first), 1)
        claimed = r.xclaim(s, "workers", "bob", 0, [b"18446744073709551614-1"], justid=True)
        self.assertEqual(claimed, [b"18446744073709551614-1"])
        detail = r.xpending_range(s, "workers", "-", "+", 10)
        self.assertEqual([(d["message_id"], d["consumer"]) for d in detail], [(b"18446744073709551614-1", b"bob")])
        auto = r.xautoclaim(s, "workers", "carol", 0, "0-0", justid=True)
        self.assertEqual(auto, [b"18446744073709551614-1"])  # redis-py 4.3 returns the IDs of a JUSTID claim
        info = r.xinfo_stream(s)
        self.assertEqual(info["length"], 2)
        self.assertEqual(info["groups"], 1)
        self.assertEqual(info["first-entry"], (first, {b"sensor": b"a", b"v": b"1"}))
        self.assertEqual(r.xinfo_groups(s)[0]["pending"], 1)
        self.assertEqual(r.xtrim(s, maxlen=1), 0)  # redis-py trims with ~ by default: whole nodes only
        self.assertEqual(r.xtrim(s, maxlen=1, approximate=False), 1)
        self.assertEqual(r.xdel(s, b"18446744073709551614-1"), 1)
        self.assertEqual(r.xlen(s), 0)
        self.assertEqual(r.type(s), b"stream")

    def test_transaction_with_watch(self):
        r = self.client(decode_responses=True)
        other = self.client(decode_responses=True)
        k = self.key("balance")
        h = self.key("h")
        r.set(k, 100)
        # Unwatched MULTI/EXEC: queued replies come back in order, a runtime error takes its slot.
        pipe = r.pipeline(transaction=True)
        pipe.incrby(k, 5).hset(h, "f", "v").hgetall(h).incr(h).get(k)
        results = pipe.execute(raise_on_error=False)
        self.assertEqual(results[:3], [105, 1, {"f": "v"}])
        self.assertIsInstance(results[3], redis.ResponseError)
        self.assertEqual(results[4], "105")
        # WATCH with no concurrent change: EXEC runs.
        with r.pipeline() as pipe:
            pipe.watch(k)
            balance = int(pipe.get(k))  # immediate mode after WATCH
            pipe.multi()
            pipe.set(k, balance - 30)
            pipe.get(k)
            self.assertEqual(pipe.execute(), [True, "75"])
        # WATCH, then another client changes the key: EXEC aborts (nil reply -> WatchError), nothing ran.
        with r.pipeline() as pipe:
            pipe.watch(k, h)
            balance = int(pipe.get(k))
            self.assertEqual(other.hset(h, "g", "other"), 1)
            pipe.multi()
            pipe.set(k, balance - 30)
            with self.assertRaises(redis.WatchError):
                pipe.execute()
        self.assertEqual(r.get(k), "75")
        # The connection is usable after the abort, and the next WATCH starts clean.
        with r.pipeline() as pipe:
            pipe.watch(k)
            pipe.multi()
            pipe.decrby(k, 5)
            self.assertEqual(pipe.execute(), [70])
        # redis-py's retry helper: the first attempt loses to another client's write, the second wins.
        attempts = []

        def transfer(p):
            value = int(p.get(k))
            if not attempts:
                other.incr(k)
            attempts.append(value)
            p.multi()
            p.set(k, value * 2)

        self.assertEqual(r.transaction(transfer, k), [True])
        self.assertEqual(attempts, [70, 71])
        self.assertEqual(r.get(k), "142")
        # MULTI/DISCARD through the raw commands (APPEND: redis-py has no reply callback for it, so the
        # +QUEUED status comes back as it is).
        self.assertEqual(r.execute_command("MULTI"), "OK")
        self.assertEqual(r.execute_command("APPEND", k, "discarded"), "QUEUED")
        self.assertEqual(r.execute_command("DISCARD"), "OK")
        self.assertEqual(r.get(k), "142")

    def test_connection_pool_under_threads(self):
        import threading
        r = self.client(max_connections=8)
        k = self.key("shared")
        errors = []

        def work():
            try:
                for _ in range(500):
                    r.incr(k)
            except Exception as e:  # noqa: BLE001 -- reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(int(r.get(k)), 8 * 500)


    def test_pubsub_delivers_every_message_in_order(self):
        publisher = self.client()
        subscriber = self.client()
        pubsub = subscriber.pubsub()
        self.addCleanup(pubsub.close)
        pubsub.subscribe(self.key("news"))
        pubsub.psubscribe(self.key("n*"))
        for kind in ("subscribe", "psubscribe"):
            self.assertEqual(pubsub.get_message(timeout=5)["type"], kind)
        count = 100_000
        pipe = publisher.pipeline(transaction=False)
        for i in range(count):
            pipe.publish(self.key("news"), f"m{i}")
            if i % 1000 == 999:
                self.assertEqual(set(pipe.execute()), {2})
        self.assertEqual(set(pipe.execute() or [2]), {2})
        for i in range(count):
            message = pubsub.get_message(timeout=10)
            self.assertEqual((message["type"], message["data"]), ("message", f"m{i}".encode()))
            message = pubsub.get_message(timeout=10)
            self.assertEqual((message["type"], message["pattern"], message["data"]), ("pmessage", self.key("n*").encode(), f"m{i}".encode()))
        self.assertEqual(publisher.pubsub_numsub(self.key("news")), [(self.key("news").encode(), 1)])
        self.assertEqual(publisher.pubsub_numpat(), 1)
        pubsub.unsubscribe()
        pubsub.punsubscribe()
        self.assertEqual(pubsub.get_message(timeout=5)["type"], "unsubscribe")
        self.assertEqual(pubsub.get_message(timeout=5)["type"], "punsubscribe")
        self.assertEqual(publisher.publish(self.key("news"), "unheard"), 0)


def main():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"redis-py: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
