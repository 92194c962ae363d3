#!/usr/bin/env bash
# Runs units of Redis 7.0.15's own Tcl test suite against RespKv in the suite's external-server mode, one fresh RespKv per
# unit, and prints one line per unit: "unit rc=… ok=… err=… exc=…" (exc: the unit stopped at an exception).
#
# Usage: conformance/tools/redis-tcl-suite.sh REDIS_SOURCE_DIR [unit ...]
#   REDIS_SOURCE_DIR: a redis 7.0.15 source tree (its tests/ and runtest), e.g. the GitHub archive of tag 7.0.15.
#   units default to the data-type, keyspace, scripting, pub/sub and introspection units.
# Needs tclsh and redis-server/redis-cli on PATH, and a Release build of RespKv (dotnet build -c Release).
# The server gets the suite's tests/assets/default.conf (enable-debug-command yes, notify-keyspace-events KEA, …) with
# its port, save, dir and logfile lines left out; tests tagged needs:repl are excluded as in Redis's own external runs
# of a replica-less server. Not part of .ci/run: the suite is not in this repository and takes several minutes.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:?usage: $0 REDIS_SOURCE_DIR [unit ...]}
shift
UNITS=("$@")
if [ ${#UNITS[@]} -eq 0 ]; then
    UNITS=(unit/type/string unit/type/incr unit/type/hash unit/type/list unit/type/list-2 unit/type/list-3 unit/type/set
           unit/type/zset unit/type/stream unit/type/stream-cgroups unit/keyspace unit/expire unit/multi unit/scan
           unit/info-command unit/bitops unit/bitfield unit/hyperloglog unit/geo unit/sort unit/pubsub unit/tracking
           unit/scripting unit/functions unit/dump unit/introspection unit/introspection-2 unit/latency-monitor
           unit/slowlog unit/protocol unit/quit unit/other unit/info)
fi
BIN=${BIN:-$ROOT/src/RespKv.Server/bin/Release/net10.0/respkv-server}
OUT=${OUT:-$ROOT/TestResults/redis-tcl}
PORT=${PORT:-21111}
mkdir -p "$OUT"
CONF="$OUT/respkv.conf"
grep -v '^pidfile\|^port\|^save\|^dir\|^logfile' "$SRC/tests/assets/default.conf" > "$CONF"
for b in redis-server redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
    [ -e "$SRC/src/$b" ] || ln -sf "$(command -v $b)" "$SRC/src/$b"
done
for unit in "${UNITS[@]}"; do
    name=$(echo "$unit" | tr / _)
    data="$OUT/data-$name"
    rm -rf "$data" && mkdir -p "$data"
    "$BIN" "$CONF" --port "$PORT" --save '' --dir "$data" > "$OUT/$name.server.log" 2>&1 &
    server=$!
    for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
    (cd "$SRC" && timeout 400 tclsh tests/test_helper.tcl --host 127.0.0.1 --port "$PORT" --single "$unit" --clients 1 \
        --tags -needs:repl > "$OUT/$name.log" 2>&1)
    rc=$?
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
    ok=$(grep -c '^\[[^]]*ok[^]]*\]:' "$OUT/$name.log"); err=$(grep -c '^\[[^]]*err[^]]*\]:' "$OUT/$name.log")
    exc=$(grep -c '^\[[^]]*exception[^]]*\]:' "$OUT/$name.log")
    echo "$unit rc=$rc ok=$ok err=$err exc=$exc"
done
