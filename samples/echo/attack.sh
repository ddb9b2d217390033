#!/usr/bin/env bash
# Hostile clients against the echo server (measured, not a timed test).
# Each scenario starts a fresh Release echo_server on 127.0.0.1 (any free
# port), attacks it for a bounded time, prints its figures and its verdicts
# ("ok: ..." or "FAILED: ..."), and stops it. The script exits 1 if any
# verdict failed. About a minute in all.
#
#   [OTP_BUILD_DIR=build/x] [ECHO_THREADS=N] samples/echo/attack.sh [scenario ...]
#
# ECHO_THREADS: the server's --threads (default: its own, one per core).
# Scenarios (all by default):
#   flood         one client sends 300 MB of lines and never reads the echoes
#   slow_readers  20 such clients at once
#   over_cap      1000 connections held, then one more, then one leaves
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../attack_kit.sh
source "$root/samples/attack_kit.sh"
attack_setup echo_server "$root/samples/echo/hostile.py"
ulimit -n 4096 2>/dev/null || true  # 1000 connections on each side, and then some
echo_server() { start_app "$build_dir/samples/echo/echo_server" --port 0 ${ECHO_THREADS:+--threads $ECHO_THREADS}; }
# Ctrl-C, and an orderly stop.
stop_echo() {
  stop_app INT
  expect "an orderly stop on Ctrl-C" [ "$stop_status" = 0 ]
}

# The server's write deadline (echo.hpp): a client that does not read for
# this long is dropped.
write_deadline=10

scenario_flood() {
  echo_server
  echo "RSS before: $(rss "$app" VmRSS)"
  run_hostile flood 300 "$write_deadline"
  echo "RSS after: $(rss "$app" VmRSS), peak $(rss "$app" VmHWM)"
  expect "backpressure: the client could not send 300 MB" [ "$(figure 'flood:')" -lt 300 ]
  expect "the client that never reads is dropped at the write deadline" grep -q 'dropped by the server: yes' <<<"$out"
  expect "memory bounded: peak RSS under 64 MB" [ "$(rss_mb "$app" VmHWM)" -lt 64 ]
  stop_echo
}

scenario_slow_readers() {
  echo_server
  echo "RSS before: $(rss "$app" VmRSS)"
  run_hostile slow_readers 20 "$write_deadline"
  echo "RSS after: $(rss "$app" VmRSS), peak $(rss "$app" VmHWM)"
  expect "every slow reader dropped at the write deadline" grep -q '20 of 20 dropped' <<<"$out"
  expect "memory bounded: peak RSS under 64 MB" [ "$(rss_mb "$app" VmHWM)" -lt 64 ]
  stop_echo
}

scenario_over_cap() {
  echo_server
  run_hostile over_cap 1000
  echo "RSS: $(rss "$app" VmRSS)"
  expect "1000 connections held" grep -q '1000 connections held' <<<"$out"
  expect "one more is told the server is full" grep -q 'told: error: server full' <<<"$out"
  expect "once one leaves, a new client is served" grep -q 'is echoed: yes' <<<"$out"
  stop_echo
}

all=(flood slow_readers over_cap)
attack_run "${all[@]}" -- "$@"
