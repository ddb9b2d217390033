#!/usr/bin/env bash
# Load on the to-do HTTP server (measured, not a timed test):
#   1. wrk: keep-alive GETs of one list over 100 connections for 10 s;
#   2. the same while another list's server is crashed every 10 ms
#      (POST /crash): no request to the list under load may fail.
# Prints wrk's figures (requests/s, latency percentiles, non-2xx answers).
#   samples/todo/load.sh [seconds]     (installs wrk and curl when missing)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=${1:-10}
"$root/scripts/install-deps.sh" --load
build_dir=$root/build/release
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_BENCHMARKS=OFF -DOTP_BUILD_SAMPLES=ON >/dev/null
cmake --build "$build_dir" --target todo_app >/dev/null
data=$(mktemp -d)
log=$(mktemp)
"$build_dir/samples/todo/todo_app" --port 0 --data "$data" >"$log" 2>&1 &
app=$!
crasher=''
# Every step may fail (set -e does not stop a trap midway when each is guarded):
# the server is stopped and the temporary folders go, whatever happened.
cleanup() {
  [[ -n "$crasher" ]] && { kill "$crasher" 2>/dev/null || true; wait "$crasher" 2>/dev/null || true; }
  kill -INT "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
  rm -rf "$data" "$log"
}
trap cleanup EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.05; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
url=http://127.0.0.1:$port
for i in 1 2 3 4 5; do curl -s -X POST "$url/add_entry?list=bob&date=2026-11-22&title=entry$i" >/dev/null; done

echo "== 1. keep-alive GET /entries, 100 connections, ${secs} s"
wrk -t2 -c100 -d"${secs}s" --latency "$url/entries?list=bob&date=2026-11-22"

echo "== 2. the same while list 'victim' has its server crashed every 10 ms"
( while :; do curl -s -X POST "$url/crash?list=victim" >/dev/null || true; sleep 0.01; done ) &
crasher=$!
wrk -t2 -c100 -d"${secs}s" --latency "$url/entries?list=bob&date=2026-11-22"
kill "$crasher" 2>/dev/null || true
wait "$crasher" 2>/dev/null || true
crasher=''
# One crash report per crash (the supervisor's report names the same reason: not counted).
echo "crashes during run 2: $(grep -c 'crashed: {error.*crashed on purpose' "$log" || true)"
