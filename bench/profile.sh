#!/bin/bash
# Where RespKv's server CPU goes for one redis-benchmark workload: perf samples of the published server (JIT-compiled so
# that perf can name every .NET frame), pinned to CPU 0 with redis-benchmark on CPU 1, as bench/compare-servers.py runs.
#
# Usage: [SETUP="redis-cli args"] bench/profile.sh NAME [redis-benchmark args…]      e.g.  bench/profile.sh setp16 -t set -P 16
# Needs perf (linux-perf) and redis-benchmark; writes bench/.profile/NAME.data and prints the split by binary (JIT-compiled
# .NET code, kernel, the runtime's GC in libcoreclr, the JIT itself) and the 25 hottest symbols. Write-up: bench/PROFILE.md.
set -euo pipefail
NAME=$1; shift
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/.profile"; mkdir -p "$OUT"
SERVER="$HERE/.publish/respkv-server"
[ -x "$SERVER" ] || dotnet publish "$HERE/../src/RespKv.Server" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$HERE/.publish" >/dev/null
PORT=${PORT:-7777}
# PerfMapEnabled: /tmp/perf-PID.map names JIT-compiled methods; ReadyToRun=0: no precompiled code perf cannot name;
# EnableWriteXorExecute=0: code is not double-mapped (perf would see anonymous memfd pages); the shipped gen0 budget.
DOTNET_PerfMapEnabled=1 DOTNET_ReadyToRun=0 DOTNET_EnableWriteXorExecute=0 DOTNET_GCgen0size=0x2000000 \
  taskset -c 0 "$SERVER" --port "$PORT" --save '' --appendonly no >"$OUT/$NAME.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
# SETUP, when set, is one redis-cli command run first (e.g. SETUP="SCRIPT LOAD \"return redis.call('INCR', KEYS[1])\"").
if [ -n "${SETUP:-}" ]; then eval "redis-cli -p $PORT $SETUP" >/dev/null; fi
# Warm-up: the JIT tiers the hot methods up before the samples are taken.
taskset -c 1 redis-benchmark -p "$PORT" -c 50 -r 100000 -d 100 -n 1000000 -q "$@" >/dev/null
taskset -c 1 redis-benchmark -p "$PORT" -c 50 -r 100000 -d 100 -n 100000000 -q "$@" >/dev/null &
BENCH=$!
perf record -k mono -F 2999 -g -p "$PID" -o "$OUT/$NAME.data" -- sleep 6 >/dev/null 2>&1
kill $BENCH 2>/dev/null || true
echo "== $NAME ($*): share of server CPU samples by binary"
perf report -i "$OUT/$NAME.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -6
echo "== hottest symbols"
perf report -i "$OUT/$NAME.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep '%' | head -25 | cut -c1-200
