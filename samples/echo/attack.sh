#!/usr/bin/env bash
# Hostile clients against the echo server (measured, not a timed test).
# Each scenario starts a fresh Release echo_server on 127.0.0.1 (any free
# port), attacks it for a bounded time, prints its figures and its verdicts
# ("ok: ..." or "FAILED: ..."), and stops it. The script exits 1 if any
# verdict failed. About a minute in all.
#
#   [OTP_BUILD_DIR=build/x] samples/echo/attack.sh [scenario ...]
#
# Scenarios (all by default):
#   flood         one client sends 300 MB of lines and never reads the echoes
#   slow_readers  20 such clients at once
#   over_cap      1000 connections held, then one more, then one leaves
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
"$root/scripts/install-deps.sh" --load
hostile="python3 $root/samples/echo/hostile.py"
# OTP_BUILD_DIR: an existing optimised build to attack (CI: its clang -O3
# build); by default a Release build of its own in build/release.
if [[ -n "${OTP_BUILD_DIR:-}" ]]; then
  build_dir=$(cd "$OTP_BUILD_DIR" && pwd)
else
  build_dir=$root/build/release
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_BENCHMARKS=OFF -DOTP_BUILD_SAMPLES=ON >/dev/null
fi
cmake --build "$build_dir" --target echo_server >/dev/null
ulimit -n 4096 2>/dev/null || true  # 1000 connections on each side, and then some

work=$(mktemp -d)
app=''
cleanup() {
  if [[ -n "$app" ]]; then kill -9 "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start_app: starts echo_server; sets app (its pid) and port.
start_app() {
  local log=$work/app.log
  : >"$log"
  "$build_dir/samples/echo/echo_server" --port 0 >"$log" 2>&1 &
  app=$!
  for _ in $(seq 1 200); do grep -q 'listening on' "$log" && break; sleep 0.05; done
  port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [[ -n "$port" ]] || { echo "attack.sh: echo_server did not start:"; cat "$log"; exit 1; }
}
# stop_app: Ctrl-C, and its exit status.
stop_app() {
  local status=0
  if kill -0 "$app" 2>/dev/null; then kill -INT "$app" 2>/dev/null || true; fi
  wait "$app" 2>/dev/null || status=$?
  echo "echo_server exit status after SIGINT: $status"
  expect "an orderly stop on Ctrl-C" [ "$status" = 0 ]
  app=''
}
rss() { awk -v what="$2" '$1 == what":" { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status"; }
rss_mb() { awk -v what="$2" '$1 == what":" { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

out=''
run_hostile() {
  out=$($hostile "$port" "$@")
  echo "$out"
}
figure() { sed -n "s/.*$1 *\\([0-9][0-9]*\\).*/\\1/p" <<<"$out" | head -1; }
failures=()
expect() {
  local what=$1
  shift
  if "$@"; then
    echo "  ok: $what"
  else
    echo "  FAILED: $what"
    failures+=("$what")
  fi
}

# The server's write deadline (echo.hpp): a client that does not read for
# this long is dropped.
write_deadline=10

scenario_flood() {
  start_app
  echo "RSS before: $(rss "$app" VmRSS)"
  run_hostile flood 300 "$write_deadline"
  echo "RSS after: $(rss "$app" VmRSS), peak $(rss "$app" VmHWM)"
  expect "backpressure: the client could not send 300 MB" [ "$(figure 'flood:')" -lt 300 ]
  expect "the client that never reads is dropped at the write deadline" grep -q 'dropped by the server: yes' <<<"$out"
  expect "memory bounded: peak RSS under 64 MB" [ "$(rss_mb "$app" VmHWM)" -lt 64 ]
  stop_app
}

scenario_slow_readers() {
  start_app
  echo "RSS before: $(rss "$app" VmRSS)"
  run_hostile slow_readers 20 "$write_deadline"
  echo "RSS after: $(rss "$app" VmRSS), peak $(rss "$app" VmHWM)"
  expect "every slow reader dropped at the write deadline" grep -q '20 of 20 dropped' <<<"$out"
  expect "memory bounded: peak RSS under 64 MB" [ "$(rss_mb "$app" VmHWM)" -lt 64 ]
  stop_app
}

scenario_over_cap() {
  start_app
  run_hostile over_cap 1000
  echo "RSS: $(rss "$app" VmRSS)"
  expect "1000 connections held" grep -q '1000 connections held' <<<"$out"
  expect "one more is told the server is full" grep -q 'told: error: server full' <<<"$out"
  expect "once one leaves, a new client is served" grep -q 'is echoed: yes' <<<"$out"
  stop_app
}

all=(flood slow_readers over_cap)
for s in "${@:-${all[@]}}"; do
  declare -F "scenario_$s" >/dev/null || { echo "attack.sh: no scenario '$s' (${all[*]})"; exit 2; }
  echo "== $s"
  "scenario_$s"
done
if ((${#failures[@]})); then
  echo "attack.sh: ${#failures[@]} verdict(s) failed:"
  printf '  %s\n' "${failures[@]}"
  exit 1
fi
echo "attack.sh: every verdict ok"
