#!/usr/bin/env bash
# One W11 run (benchmarks/peers/README.md): a server under a load generator
# on loopback, each pinned to its cores, printing the generator's figures as
# `RESULT <metric> <value> <unit>` lines. benchmarks/run.sh calls it.
#
#   benchmarks/w11.sh echo THREADS ECHO_LOAD -- SERVER COMMAND...
#   benchmarks/w11.sh todo THREADS WRK -- SERVER COMMAND...
#
# THREADS    the server's thread count, 1 or 2; it picks the pinning:
#              1: server on CPU 0, generator on CPU 1
#              2: server on CPUs 0 and 1, generator on CPU 1 (a 2-core
#                 machine has no third core: the generator shares one)
# echo       ECHO_LOAD (benchmarks/echo_load.cpp) drives a line echo server
# todo       WRK drives otp's to-do HTTP server: 5 entries are added to one
#            list, then keep-alive GETs of that list (1 s of warm-up first);
#            prints w11_todo_rps, w11_todo_p50_us and w11_todo_p99_us, and
#            fails on any socket error or non-2xx answer
# SERVER     the server's command; every argument @PORT@ becomes a free port.
#            It runs in a fresh temporary folder (the to-do server keeps its
#            lists there) and is stopped with SIGTERM (SIGKILL 10 s later).
#
# W11_CONNECTIONS (default 64), W11_SECONDS (5) and W11_WARMUP (1) set the
# load. Exits non-zero when the server does not start or dies, or when the
# generator fails (a wrong echo, a lost reply, an HTTP error).
set -uo pipefail
[ $# -ge 5 ] && [ "$4" = -- ] || { sed -n 5,6p "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2; }
mode=$1 threads=$2 load=$3
shift 4
conns=${W11_CONNECTIONS:-64} secs=${W11_SECONDS:-5} warm=${W11_WARMUP:-1}
case $threads in
  1) server_cpus=0 load_cpus=1 ;;
  2) server_cpus=0,1 load_cpus=1 ;;
  *) echo "w11.sh: THREADS is 1 or 2, not '$threads'" >&2; exit 2 ;;
esac
# A machine with one CPU cannot be pinned this way: run unpinned, and say so.
pin_server=(taskset -c "$server_cpus") pin_load=(taskset -c "$load_cpus")
if [ "$(nproc)" -lt 2 ]; then
  echo "w11.sh: fewer than 2 CPUs: server and generator are not pinned" >&2
  pin_server=() pin_load=()
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=()
for a in "$@"; do server+=("${a//@PORT@/$port}"); done
dir=$(mktemp -d)
server_pid=''
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=''
}
trap 'stop_server; rm -rf "$dir"' EXIT

(cd "$dir" && exec "${pin_server[@]}" "${server[@]}") >"$dir/server.log" 2>&1 &
server_pid=$!
# Ready when the port accepts a connection (BEAM takes about a second).
for i in $(seq 1 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  if ! kill -0 "$server_pid" 2>/dev/null || [ "$i" = 300 ]; then
    echo "w11.sh: the server did not start listening on port $port: ${server[*]}" >&2
    tail -5 "$dir/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

# us VALUE: wrk's latency ("812.00us", "1.25ms", "1.02s") in microseconds.
us() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) f = 1; else if (v ~ /ms$/) f = 1e3; else if (v ~ /s$/) f = 1e6; else exit 1
    sub(/[a-z]+$/, "", v); printf "%.1f", v * f }'
}

status=0
case $mode in
  echo)
    "${pin_load[@]}" "$load" --port "$port" --connections "$conns" --seconds "$secs" --warmup "$warm" || status=1 ;;
  todo)
    url="http://127.0.0.1:$port"
    list="entries?list=bench&date=2026-11-22"
    for i in 1 2 3 4 5; do
      curl -sf -X POST "$url/add_entry?list=bench&date=2026-11-22&title=entry$i" >/dev/null ||
        { echo "w11.sh: could not add an entry" >&2; status=1; }
    done
    [ "$(curl -sf "$url/$list" | grep -c entry)" -ge 5 ] || { echo "w11.sh: GET /$list lacks the entries" >&2; status=1; }
    if [ "$status" = 0 ]; then
      "${pin_load[@]}" "$load" -t1 -c"$conns" -d"${warm}s" "$url/$list" >/dev/null || status=1
      out=$("${pin_load[@]}" "$load" -t1 -c"$conns" -d"${secs}s" --latency "$url/$list") || status=1
      if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
        echo "w11.sh: wrk saw errors:" >&2
        grep -E 'Non-2xx|Socket errors' <<<"$out" >&2
        status=1
      fi
      rps=$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")
      p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
      p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
      if [ -z "$rps" ] || [ -z "$p99" ] || [ -z "$p50" ]; then
        echo "w11.sh: could not read wrk's output:" >&2
        echo "$out" >&2
        status=1
      elif [ "$status" = 0 ]; then
        echo "RESULT w11_todo_rps $rps req/s"
        echo "RESULT w11_todo_p50_us $(us "$p50") us"
        echo "RESULT w11_todo_p99_us $(us "$p99") us"
      fi
    fi ;;
  *) echo "w11.sh: the mode is echo or todo, not '$mode'" >&2; exit 2 ;;
esac

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "w11.sh: the server died under load:" >&2
  tail -5 "$dir/server.log" >&2
  status=1
fi
exit "$status"
