#!/usr/bin/env bash
# Hostile clients against the to-do HTTP server (measured, not a timed test).
# Each scenario starts a fresh Release todo_app on 127.0.0.1 (any free port)
# with its own data folder, attacks it for a bounded time, prints its figures
# and stops it. About two minutes in all.
#
#   samples/todo/attack.sh [scenario ...]
#
# Scenarios (all by default):
#   long_names    adds to lists named by 100 dots and by 43 Cyrillic letters
#   slowloris     1000 connections that send a header byte now and then
#   slow_readers  20 clients that pipeline requests and never read
#   post_flood    wrk POSTing adds to one list for 10 s: memory and latency
#   busy_list     first reads of other lists while one list takes a flood
#   sigint        8 clients x 1000 adds, then Ctrl-C: how many OKs are on disk
#   kill9         the same, then kill -9
#   many_names    GETs of 20,000 fresh list names: memory
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
"$root/scripts/install-deps.sh" --load
hostile="python3 $root/samples/todo/hostile.py"
build_dir=$root/build/release
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_BENCHMARKS=OFF -DOTP_BUILD_SAMPLES=ON >/dev/null
cmake --build "$build_dir" --target todo_app >/dev/null

work=$(mktemp -d)
app=''
cleanup() {
  if [[ -n "$app" ]]; then kill -9 "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start_app DATA: starts todo_app on DATA; sets app (its pid) and port.
start_app() {
  local log=$work/app.log
  : >"$log"
  "$build_dir/samples/todo/todo_app" --port 0 --data "$1" >"$log" 2>&1 &
  app=$!
  for _ in $(seq 1 200); do grep -q 'listening on' "$log" && break; sleep 0.05; done
  port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [[ -n "$port" ]] || { echo "attack.sh: todo_app did not start:"; cat "$log"; exit 1; }
}
# stop_app [SIGNAL]: stops it (default INT) and prints its exit status.
stop_app() {
  local sig=${1:-INT} status=0
  if kill -0 "$app" 2>/dev/null; then kill -"$sig" "$app" 2>/dev/null || true; fi
  wait "$app" 2>/dev/null || status=$?
  echo "todo_app exit status after SIG$sig: $status"
  app=''
}
alive() {
  if kill -0 "$app" 2>/dev/null; then
    echo "todo_app: still running"
  else
    local status=0
    wait "$app" 2>/dev/null || status=$?
    echo "todo_app: exited by itself with status $status; its last words:"
    tail -3 "$work/app.log"
    app=''
  fi
}
rss() { awk -v what="$2" '$1 == what":" { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status"; }

scenario_long_names() {
  start_app "$work/long"
  $hostile "$port" long_names
  alive
  [[ -n "$app" ]] && stop_app
  echo "files in the data folder: $(find "$work/long" -type f | wc -l)"
}

scenario_slowloris() {
  start_app "$work/slow"
  $hostile "$port" slowloris 1000 15
  stop_app
}

scenario_slow_readers() {
  start_app "$work/readers"
  for i in $(seq 1 50); do curl -s -X POST "http://127.0.0.1:$port/add_entry?list=big&date=2026-01-01&title=entry-$i-$(printf '%0100d' 0)" >/dev/null; done
  echo "RSS before: $(rss "$app" VmRSS)"
  $hostile "$port" slow_readers 20 15
  echo "RSS after: $(rss "$app" VmRSS)"
  stop_app
}

scenario_post_flood() {
  start_app "$work/flood"
  cat >"$work/post.lua" <<'EOF'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/add_entry?list=flood&date=2026-01-01&title=entry" .. counter .. "-" .. math.random(1e9))
end
EOF
  echo "RSS before: $(rss "$app" VmRSS)"
  wrk -t2 -c50 -d10s --latency -s "$work/post.lua" "http://127.0.0.1:$port" | grep -E 'Requests/sec|Non-2xx|Socket errors|  (50|99)%'
  echo "RSS after: $(rss "$app" VmRSS), peak $(rss "$app" VmHWM)"
  stop_app
}

scenario_busy_list() {
  start_app "$work/busy"
  $hostile "$port" busy_list 200 10
  stop_app
}

scenario_sigint() {
  start_app "$work/sigint"
  $hostile "$port" burst 8 1000
  stop_app INT
  start_app "$work/sigint"
  $hostile "$port" count_stored 8
  stop_app
}

scenario_kill9() {
  start_app "$work/kill9"
  $hostile "$port" burst 8 1000
  stop_app KILL
  start_app "$work/kill9"
  $hostile "$port" count_stored 8
  stop_app
}

scenario_many_names() {
  start_app "$work/names"
  echo "RSS before: $(rss "$app" VmRSS)"
  $hostile "$port" many_names 20000
  echo "RSS after: $(rss "$app" VmRSS)"
  stop_app
}

all=(long_names slowloris slow_readers post_flood busy_list sigint kill9 many_names)
for s in "${@:-${all[@]}}"; do
  declare -F "scenario_$s" >/dev/null || { echo "attack.sh: no scenario '$s' (${all[*]})"; exit 2; }
  echo "== $s"
  "scenario_$s"
done
