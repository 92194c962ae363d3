#!/usr/bin/env bash
# Same workloads against redis-server 7.0 and RespKv in one run, after one uncounted warm-up pass each, interleaved (redis, respkv, redis,
# respkv…), servers pinned to one CPU and the load generators to another, printing both rates:
#   - redis-benchmark -t set,get (50 clients, no pipelining, then -P 16)
#   - transactions: MULTI; SET; SET; INCR; EXEC from 50 clients (bench/RespKv.TxnLoad, because
#     redis-benchmark cannot group commands into a transaction)
#   - SET key value EX 60 (100-byte values, keys ttl:…)
#   - after the rounds, a full cache under eviction: maxmemory $EVICT_MAXMEMORY with allkeys-lru, filled with
#     twice the keys it can hold (-r $EVICT_KEYSPACE), then GET and SET over that keyspace (GETs partly miss; each SET evicts)
# With the AOF on (SET under appendfsync always/everysec, start-up on a 1,000,000-key AOF): bench/aof-benchmark.py.
# Usage: bench/redis-benchmark.sh [ROUNDS]      (env: REQUESTS, TRANSACTIONS, SERVER_CPU, CLIENT_CPU)
# Needs redis-server, redis-benchmark (Debian: redis-server, redis-tools), taskset and the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-2}
REQUESTS=${REQUESTS:-200000}
TRANSACTIONS=${TRANSACTIONS:-100000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
EVICT_MAXMEMORY=${EVICT_MAXMEMORY:-32mb}
EVICT_KEYSPACE=${EVICT_KEYSPACE:-400000}
VALUE=$(printf 'v%.0s' $(seq 1 100))

dotnet build bench/RespKv.TxnLoad -c Release -v q -nologo >/dev/null
# RespKv as the Dockerfile ships it (Release, ReadyToRun), published to bench/.publish.
RESPKV=$(python3 -c 'import sys; sys.path.insert(0, "conformance"); import respkv_server; print(respkv_server.publish_release())')
TXNLOAD=bench/RespKv.TxnLoad/bin/Release/net10.0/respkv-txnload

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
REDIS_PORT=$(free_port)
RESPKV_PORT=$(free_port)

taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --save "" --appendonly no --loglevel warning >/dev/null &
REDIS_PID=$!
# Both servers without persistence (the executable's default is appendonly yes); bench/aof-benchmark.py compares them with it.
# The runtime settings RespKv ships with (DOTNET_GCgen0size: Dockerfile, launchSettings.json), from conformance/respkv_server.py.
RUNTIME_ENV=$(python3 -c 'import sys; sys.path.insert(0, "conformance"); import respkv_server; print(" ".join(f"{k}={v}" for k, v in respkv_server.RESPKV_RUNTIME_ENV.items()))')
env $RUNTIME_ENV taskset -c "$SERVER_CPU" "$RESPKV" --port "$RESPKV_PORT" --appendonly no --loglevel warning >/dev/null &
RESPKV_PID=$!
# Stop exactly the two servers started here.
trap 'kill "$REDIS_PID" "$RESPKV_PID" 2>/dev/null; wait 2>/dev/null' EXIT
for port in "$REDIS_PORT" "$RESPKV_PORT"; do
    for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on port $REDIS_PORT, RespKv on port $RESPKV_PORT (servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU)"

bench() { # NAME PORT ARGS...: one redis-benchmark run, printed as "NAME: TEST rate"
    local name=$1 port=$2
    shift 2
    taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -q "$@" </dev/null | tr '\r' '\n' | grep 'requests per second' |
        sed -e "s/$VALUE/<100 bytes>/" -e "s/^/$name: /"
}

workloads() { # NAME PORT: the redis-benchmark rows against one server
    bench "$1" "$2" -t set,get -n "$REQUESTS" -c 50 -r 100000
    bench "$1 -P 16" "$2" -t set,get -n "$((REQUESTS * 4))" -c 50 -r 100000 -P 16
    bench "$1" "$2" -n "$REQUESTS" -c 50 -r 100000 SET ttl:__rand_int__ "$VALUE" EX 60
    bench "$1 -P 16" "$2" -n "$((REQUESTS * 4))" -c 50 -r 100000 -P 16 SET ttl:__rand_int__ "$VALUE" EX 60
}

transactions() { # NAME PORT
    taskset -c "$CLIENT_CPU" "$TXNLOAD" --port "$2" --clients 50 --transactions "$TRANSACTIONS" --label "$1 MULTI/SET/SET/INCR/EXEC"
}

# One uncounted pass per server first: RespKv's tiered JIT recompiles its hot paths during its first seconds of load.
for target in "redis-server:$REDIS_PORT" "respkv:$RESPKV_PORT"; do
    workloads "${target%%:*}" "${target##*:}" >/dev/null
    transactions "${target%%:*}" "${target##*:}" >/dev/null
done

for round in $(seq 1 "$ROUNDS"); do
    echo "--- round $round"
    for target in "redis-server:$REDIS_PORT" "respkv:$RESPKV_PORT"; do workloads "${target%%:*}" "${target##*:}"; done
    for target in "redis-server:$REDIS_PORT" "respkv:$RESPKV_PORT"; do transactions "${target%%:*}" "${target##*:}"; done
done

echo "--- full cache under allkeys-lru eviction (maxmemory $EVICT_MAXMEMORY, keyspace $EVICT_KEYSPACE)"
for target in "redis-server:$REDIS_PORT" "respkv:$RESPKV_PORT"; do
    port=${target##*:}
    redis-cli -p "$port" flushall >/dev/null
    redis-cli -p "$port" config set maxmemory "$EVICT_MAXMEMORY" maxmemory-policy allkeys-lru >/dev/null
    taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -q -t set -n "$((EVICT_KEYSPACE * 2))" -c 50 -r "$EVICT_KEYSPACE" -d 100 -P 16 >/dev/null
    echo "${target%%:*}: $(redis-cli -p "$port" dbsize) keys held, evicted_keys $(redis-cli -p "$port" info stats | tr -d '\r' | sed -n 's/^evicted_keys://p')"
done
for round in $(seq 1 "$ROUNDS"); do
    for target in "redis-server:$REDIS_PORT" "respkv:$RESPKV_PORT"; do
        bench "${target%%:*} evicting" "${target##*:}" -t get,set -n "$REQUESTS" -c 50 -r "$EVICT_KEYSPACE" -d 100
    done
done
