#!/usr/bin/env bash
# Hostile clients against the to-do HTTP server (measured, not a timed test).
# Each scenario starts a fresh Release todo_app on 127.0.0.1 (any free port)
# with its own data folder, attacks it for a bounded time, prints its figures
# and stops it. About two minutes in all.
#
#   [OTP_BUILD_DIR=build/x] samples/todo/attack.sh [scenario ...]
#
# Each scenario ends with its verdicts, "ok: ..." or "FAILED: ...", against
# what the README promises; the script exits 1 if any failed.
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
# shellcheck source=../attack_kit.sh
source "$root/samples/attack_kit.sh"
attack_setup todo_app "$root/samples/todo/hostile.py"
todo_app() { start_app "$build_dir/samples/todo/todo_app" --port 0 --data "$1"; }

scenario_long_names() {
  todo_app "$work/long"
  run_hostile long_names
  expect "every add to a long name is stored" [ "$(grep -c 'adds answered 200x30$' <<<"$out")" = 2 ]
  expect "long names read back in full" [ "$(grep -c 'read back 200, 30 entries' <<<"$out")" = 2 ]
  alive
  expect "todo_app kept running" [ -n "$app" ]
  [[ -n "$app" ]] && stop_app
  local files
  files=$(find "$work/long" -type f | wc -l)
  echo "files in the data folder: $files"
  expect "one file per list, inside the data folder" [ "$files" = 2 ]
}

scenario_slowloris() {
  todo_app "$work/slow"
  run_hostile slowloris 1000 15
  expect "every slow connection dropped by its request deadline" grep -q '1000 of 1000 slow connections closed' <<<"$out"
  expect "fresh clients served again once they are" grep -q 'the last 200$' <<<"$out"
  stop_app
}

scenario_slow_readers() {
  todo_app "$work/readers"
  for i in $(seq 1 50); do curl -s -X POST "http://127.0.0.1:$port/add_entry?list=big&date=2026-01-01&title=entry-$i-$(printf '%0100d' 0)" >/dev/null; done
  echo "RSS before: $(rss "$app" VmRSS)"
  run_hostile slow_readers 20 15
  echo "RSS after: $(rss "$app" VmRSS)"
  expect "every slow reader dropped by its write deadline" grep -q '20 of 20 connections closed' <<<"$out"
  expect "memory bounded: RSS under 64 MB" [ "$(rss_mb "$app" VmHWM)" -lt 64 ]
  stop_app
}

scenario_post_flood() {
  todo_app "$work/flood"
  cat >"$work/post.lua" <<'EOF'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/add_entry?list=flood&date=2026-01-01&title=entry" .. counter .. "-" .. math.random(1e9))
end
EOF
  echo "RSS before: $(rss "$app" VmRSS)"
  out=$(wrk -t2 -c50 -d10s --latency -s "$work/post.lua" "http://127.0.0.1:$port")
  grep -E 'requests in|Requests/sec|Non-2xx|Socket errors|  (50|99)%' <<<"$out"
  echo "RSS after: $(rss "$app" VmRSS), peak $(rss "$app" VmHWM)"
  expect "every add answered 200" lacks 'Non-2xx'
  expect "memory bounded: peak RSS under 100 MB" [ "$(rss_mb "$app" VmHWM)" -lt 100 ]
  local answered
  answered=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  stop_app
  todo_app "$work/flood"
  run_hostile count_list flood
  expect "every add answered is on disk ($answered)" [ "$(figure 'stored:')" -ge "$answered" ]
  stop_app
}

scenario_busy_list() {
  todo_app "$work/busy"
  run_hostile busy_list 200 10
  expect "every first read of another list answered 200" grep -q 'answered 200x200,' <<<"$out"
  expect "the slowest within a second" [ "$(figure 'slowest')" -lt 1000 ]
  stop_app
}

scenario_sigint() {
  todo_app "$work/sigint"
  run_hostile burst 8 1000
  local acked
  acked=$(figure 'burst:')
  stop_app INT
  todo_app "$work/sigint"
  run_hostile count_stored 8
  expect "every add answered OK is on disk after SIGINT ($acked)" [ "$(figure 'stored:')" -ge "$acked" ]
  stop_app
}

scenario_kill9() {
  todo_app "$work/kill9"
  run_hostile burst 8 1000
  local acked
  acked=$(figure 'burst:')
  stop_app KILL
  todo_app "$work/kill9"
  run_hostile count_stored 8
  expect "every add answered OK is on disk after SIGKILL ($acked)" [ "$(figure 'stored:')" -ge "$acked" ]
  stop_app
}

scenario_many_names() {
  todo_app "$work/names"
  echo "RSS before: $(rss "$app" VmRSS)"
  run_hostile many_names 20000
  echo "RSS after: $(rss "$app" VmRSS)"
  expect "live list servers capped: the rest refused with 503" grep -q 'answered 200x10000 503x10000' <<<"$out"
  expect "memory bounded: RSS under 64 MB" [ "$(rss_mb "$app" VmHWM)" -lt 64 ]
  stop_app
}

all=(long_names slowloris slow_readers post_flood busy_list sigint kill9 many_names)
attack_run "${all[@]}" -- "$@"
