#!/usr/bin/env bash
# The main job: builds the to-do system of samples/todo (Release) and runs a
# short demo over HTTP with curl: entries added, a list's server crashed on
# purpose (watch the crash report), the entries back after its restart, an
# ordered stop, and a second start that finds the entries on disk.
#   scripts/demo.sh           the demo (a few seconds), then it stops by itself
#   scripts/demo.sh --serve   the demo, then the app keeps serving until Ctrl-C
# The lists live in build/todo_data (one file per list); TODO_DATA overrides.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
serve=0
case "${1:-}" in
  --serve) serve=1 ;;
  "") ;;
  *) echo "usage: scripts/demo.sh [--serve]" >&2; exit 2 ;;
esac

"$root/scripts/install-deps.sh"

build_dir=$root/build/release
cmake -S "$root" -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_BENCHMARKS=OFF -DOTP_BUILD_SAMPLES=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" --target todo_app

app=$build_dir/samples/todo/todo_app
data=${TODO_DATA:-$root/build/todo_data}
rm -rf "$data"
log=$(mktemp)
pid=''
cleanup() { [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; rm -f "$log"; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

start_app() {
  : >"$log"
  "$app" --port "${TODO_PORT:-0}" --data "$data" > >(tee -a "$log") 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$log" && break
    sleep 0.05
  done
  port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] || { echo "demo: todo_app did not start"; exit 1; }
  url=http://127.0.0.1:$port
}
stop_app() {
  kill -INT "$pid"
  wait "$pid" || true
  pid=''
}

say "start the to-do system: registry, database pool, cache, HTTP acceptor, each under a supervisor"
start_app

say "add entries to two lists over HTTP"
run curl -s -X POST "$url/add_entry?list=bob&date=2026-11-22&title=Dentist"
run curl -s -X POST "$url/add_entry?list=bob&date=2026-11-22&title=Shopping"
run curl -s -X POST "$url/add_entry?list=alice&date=2026-11-22&title=Movies"
run curl -s "$url/entries?list=bob&date=2026-11-22"

say "bad requests get a 4xx and harm nothing"
run curl -s -w 'HTTP %{http_code}\n' "$url/entries?list=bob&date=tomorrow"
run curl -s -w 'HTTP %{http_code}\n' "$url/nowhere"

say "crash bob's server on purpose: the crash report follows; alice's server is untouched"
run curl -s -X POST "$url/crash?list=bob"
sleep 0.3
say "ask again: a new server for bob, its entries loaded back from the database"
run curl -s "$url/entries?list=bob&date=2026-11-22"
run curl -s "$url/entries?list=alice&date=2026-11-22"

say "stop the whole system in order (as Ctrl-C does), then start it again"
stop_app
start_app
run curl -s "$url/entries?list=bob&date=2026-11-22"
say "the entries survived on disk, one file per list, in $data:"
ls "$data"

if [ "$serve" = 1 ]; then
  say "serving on $url until Ctrl-C (try: curl '$url/entries?list=bob&date=2026-11-22')"
  wait "$pid" || true
  pid=''
else
  say "done; stopping. To keep it running: scripts/demo.sh --serve (Ctrl-C stops it in order)"
  stop_app
fi
