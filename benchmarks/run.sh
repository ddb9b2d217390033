#!/usr/bin/env bash
# The benchmark comparison, from a clone: installs the peers' toolchains from
# Debian when missing, builds otp (Release) and the peers of benchmarks/peers
# (BEAM, Go, CAF, raw Asio, a naive C++ registry), runs every workload with 1
# and 2 threads and the micro-operations, and writes into the output folder:
#
#   results.md    figures (medians) and ratios, with the CPU probe beside the
#                 2-thread figures
#   results.json  the same medians, every run's value, machine and versions
#   chart.svg     cost per operation, otp against each peer, log scale
#   raw.tsv       one row per RESULT line of every run
#
#   benchmarks/run.sh [--runs N] [--threads "1 2"] [--only REGEX] [--out DIR] [--strict]
#
# --runs N       runs per cell (default 3); rounds are interleaved, so a
#                burst of load on the machine touches every column alike
# --threads L    thread counts (default "1 2"); micro runs on 1 thread only
# --only REGEX   only workloads whose name (w1 ... w11, micro) matches
# --out DIR      output folder (default benchmarks/results)
# --strict       exit 1 when a peer cannot be built or a run fails (CI);
#                without it they are skipped, and said so
# W9_N           children for W9 (default 100000; BEAM's shutdown of 100k
#                children is quadratic, about 80 s a run)
# W10_N          workers for W10 (default 10000)
#
# W11 (servers under load) also builds otp's samples (Release, into
# build/bench-samples) and runs benchmarks/w11.sh, which pins server and
# load generator to CPUs with taskset (see there, and peers/README.md).
#
# A full run takes about 25 minutes on 2 cores. A peer whose toolchain
# cannot be installed or built is skipped, and said so.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers=$root/benchmarks/peers
runs=3 threads='1 2' only='' out=$root/benchmarks/results strict='' failures=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --strict) strict=1; shift ;;
    -h|--help) sed -n 2,31p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs needs a positive number, not '$runs'" >&2; exit 2; }
for t in $threads; do
  [[ $t =~ ^[12]$ ]] || { echo "run.sh: thread counts are 1 and 2, not '$t'" >&2; exit 2; }
done
w9_n=${W9_N:-100000}
w10_n=${W10_N:-10000}
w11=''  # set when W11 is to run: it needs more built
[ -z "$only" ] || [[ w11 =~ $only ]] && w11=1

# --load: wrk, which drives the to-do server in W11.
"$root/scripts/install-deps.sh" --peers --load || echo "run.sh: could not install every peer toolchain; the missing ones are skipped"

bin=$root/build/peers
mkdir -p "$bin" "$out"
echo "== build otp (Release) into build/bench"
cmake -S "$root" -B "$root/build/bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_SAMPLES=OFF -DOTP_BUILD_BENCHMARKS=ON >/dev/null || exit 1
cmake --build "$root/build/bench" --target otp_bench echo_load -j "$(nproc)" >/dev/null || exit 1
ours=$root/build/bench/benchmarks/otp_bench
echo_load=$root/build/bench/benchmarks/echo_load
samples=$root/build/bench-samples/samples

declare -A have
skip() {
  echo "SKIPPED $1: $2"
  failures=$((failures + 1))
}
built() {  # built NAME COMMAND...: runs the build, remembers NAME when it works
  local name=$1
  shift
  if "$@" >"$bin/$name.log" 2>&1; then have[$name]=1; else skip "$name" "build failed or toolchain missing (build/peers/$name.log)"; fi
}
echo "== build the peers into build/peers"
if command -v erlc >/dev/null; then built erlang erlc -o "$bin" "$peers/erlang/bench.erl"; else skip erlang "erlang-nox missing"; fi
if command -v elixir >/dev/null; then have[elixir]=1; else skip elixir "elixir missing"; fi
if command -v go >/dev/null; then
  built go env -C "$peers/go" GOCACHE="$bin/gocache" GOPATH="$bin/gopath" GO111MODULE=off GOFLAGS= go build -o "$bin/go_bench" bench.go
else skip go "golang-go missing"; fi
built caf g++ -O2 -std=c++17 -pthread "$peers/caf/bench.cpp" -o "$bin/caf_bench" -lcaf_core
built asio g++ -O2 -std=c++20 -pthread "$peers/asio/bench.cpp" -o "$bin/asio_bench"
built naive g++ -O2 -std=c++20 -pthread "$peers/naive/naive_registry.cpp" -o "$bin/naive_registry"
built probe gcc -O2 -pthread "$peers/probe/cpu_probe.c" -o "$bin/cpu_probe"
if [ -n "$w11" ]; then
  echo "== build W11's servers: otp's samples into build/bench-samples, the peers' echo servers into build/peers"
  built samples sh -c "cmake -S '$root' -B '$root/build/bench-samples' -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_SAMPLES=ON -DOTP_BUILD_BENCHMARKS=OFF &&
    cmake --build '$root/build/bench-samples' --target echo_server todo_app -j $(nproc)"
  # Without --threads (an older checkout), otp's servers run on 1 thread only.
  [ -n "${have[samples]:-}" ] && grep -q -- --threads "$samples/echo/echo_server" && grep -q -- --threads "$samples/todo/todo_app" &&
    have[sample_threads]=1
  [ -n "${have[samples]:-}" ] && [ -z "${have[sample_threads]:-}" ] && skip "otp servers on 2 threads" "echo_server or todo_app has no --threads option yet"
  if command -v wrk >/dev/null; then have[wrk]=1; else skip "otp to-do server" "wrk missing"; fi
  [ -n "${have[erlang]:-}" ] && built erlang_echo erlc -o "$bin" "$peers/erlang/tcp_echo.erl"
  [ -n "${have[go]:-}" ] &&
    built go_echo env -C "$peers/go/echo" GOCACHE="$bin/gocache" GOPATH="$bin/gopath" GO111MODULE=off GOFLAGS= go build -o "$bin/go_echo" echo.go
  built asio_echo g++ -O2 -std=c++20 -pthread "$peers/asio/echo.cpp" -o "$bin/asio_echo"
fi

raw=$out/raw.tsv probes=$out/probe.tsv w11_sh=$root/benchmarks/w11.sh
: >"$raw"
: >"$probes"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# cell ROUND IMPL THREADS WORKLOAD COMMAND...: one run, one raw row per
# RESULT line (plus the peak RSS of W1).
cell() {
  local round=$1 impl=$2 t=$3 w=$4
  shift 4
  if ! /usr/bin/time -f "%M" -o "$log/rss" timeout 900 "$@" >"$log/out" 2>&1 || ! grep -q '^RESULT' "$log/out"; then
    echo "  FAILED: $impl $t thr $w (run $round):"
    tail -3 "$log/out" | sed 's/^/    /'
    failures=$((failures + 1))
    return 0
  fi
  grep '^RESULT' "$log/out" | while read -r _ metric value unit; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$w" "$impl" "$t" "$metric" "$value" "$unit" >>"$raw"
  done
  [ "$w" = w1 ] && printf '%s\t%s\t%s\t%s\tw1_rss_mb\t%s\tMB\n' "$round" "$w" "$impl" "$t" "$(($(tail -1 "$log/rss") / 1024))" >>"$raw"
  printf '  %-6s %s thr %-5s %s\n' "$impl" "$t" "$w" "$(grep '^RESULT' "$log/out" | cut -d' ' -f2-3 | tr '\n' ' ')"
}

# workload ROUND THREADS W: every implementation that has W.
workload() {
  local r=$1 t=$2 w=$3 mode=st
  [ "$t" = 2 ] && mode=cc2
  case $w in
    w1|w2|w3|w4|w8|w10)
      cell "$r" otp "$t" "$w" "$ours" "$w" "$t"
      [ -n "${have[erlang]:-}" ] && cell "$r" beam "$t" "$w" erl +S "$t" +P 4000000 -noshell -pa "$bin" -run bench main "$w"
      [ -n "${have[go]:-}" ] && cell "$r" go "$t" "$w" env GOMAXPROCS="$t" "$bin/go_bench" "$w"
      [ -n "${have[caf]:-}" ] && cell "$r" caf "$t" "$w" "$bin/caf_bench" "$w" "$t"
      [ "$w" = w10 ] && return 0  # W10 has no Asio peer
      [ -n "${have[asio]:-}" ] && cell "$r" asio "$t" "$w" "$bin/asio_bench" "$w" "$mode" ;;
    w5)
      cell "$r" otp "$t" w5 "$ours" w5 "$t"
      [ -n "${have[elixir]:-}" ] && cell "$r" beam "$t" w5 elixir --erl "+S $t +P 4000000" "$peers/elixir/bench.exs" w5
      [ -n "${have[go]:-}" ] && cell "$r" go "$t" w5 env GOMAXPROCS="$t" "$bin/go_bench" w5
      [ -n "${have[caf]:-}" ] && cell "$r" caf "$t" w5 "$bin/caf_bench" w5 "$t"
      [ -n "${have[asio]:-}" ] && cell "$r" asio "$t" w5 "$bin/asio_bench" w5 "$mode" ;;
    w6)
      cell "$r" otp "$t" w6 "$ours" w6 "$t"
      [ -n "${have[elixir]:-}" ] && cell "$r" beam "$t" w6 elixir --erl "+S $t +P 4000000" "$peers/elixir/bench.exs" w6
      [ -n "${have[naive]:-}" ] && cell "$r" naive "$t" w6 "$bin/naive_registry" w6 "$t" ;;
    w7)
      cell "$r" otp "$t" w7 "$ours" w7 "$t"
      [ -n "${have[elixir]:-}" ] && cell "$r" beam "$t" w7 elixir --erl "+S $t +P 4000000" "$peers/elixir/bench.exs" w7 ;;
    w9)  # N children, and 1,000 for the scaling check
      cell "$r" otp "$t" w9 env W9_N="$w9_n" "$ours" w9 "$t"
      cell "$r" otp "$t" w9 env W9_N=1000 W9_CYCLES=0 "$ours" w9 "$t"
      if [ -n "${have[elixir]:-}" ]; then
        cell "$r" beam "$t" w9 env W9_N="$w9_n" elixir --erl "+S $t +P 4000000" "$peers/elixir/bench.exs" w9
        cell "$r" beam "$t" w9 env W9_N=1000 W9_CYCLES=0 elixir --erl "+S $t +P 4000000" "$peers/elixir/bench.exs" w9
      fi ;;
    w11)  # each echo server under echo_load; otp's to-do server under wrk
      local -a threads_flag=(--threads "$t")
      if [ -n "${have[samples]:-}" ] && [ -z "${have[sample_threads]:-}" ]; then
        threads_flag=()  # an older build: 1 thread only
        [ "$t" = 1 ] || return 0
      fi
      if [ -n "${have[samples]:-}" ]; then
        cell "$r" otp "$t" w11 "$w11_sh" echo "$t" "$echo_load" -- "$samples/echo/echo_server" --port @PORT@ "${threads_flag[@]}"
        [ -n "${have[wrk]:-}" ] &&
          cell "$r" otp "$t" w11 "$w11_sh" todo "$t" wrk -- "$samples/todo/todo_app" --port @PORT@ "${threads_flag[@]}"
      fi
      [ -n "${have[erlang_echo]:-}" ] &&
        cell "$r" beam "$t" w11 "$w11_sh" echo "$t" "$echo_load" -- erl +S "$t" -noshell -pa "$bin" -run tcp_echo main @PORT@
      [ -n "${have[go_echo]:-}" ] && cell "$r" go "$t" w11 "$w11_sh" echo "$t" "$echo_load" -- env GOMAXPROCS="$t" "$bin/go_echo" @PORT@
      [ -n "${have[asio_echo]:-}" ] && cell "$r" asio "$t" w11 "$w11_sh" echo "$t" "$echo_load" -- "$bin/asio_echo" @PORT@ "$t" ;;
    micro)
      cell "$r" otp 1 micro "$ours" micro 1
      [ -n "${have[elixir]:-}" ] && cell "$r" beam 1 micro elixir --erl "+S 1 +P 4000000" "$peers/elixir/bench.exs" micro
      [ -n "${have[go]:-}" ] && cell "$r" go 1 micro env GOMAXPROCS=1 "$bin/go_bench" micro
      [ -n "${have[caf]:-}" ] && cell "$r" caf 1 micro "$bin/caf_bench" micro 1
      [ -n "${have[asio]:-}" ] && cell "$r" asio 1 micro "$bin/asio_bench" micro st
      [ -n "${have[naive]:-}" ] && cell "$r" naive 1 micro "$bin/naive_registry" micro ;;
  esac
}

# probe ROUND WORKLOAD: how much of the second core is free right now.
probe() {
  [ -n "${have[probe]:-}" ] || return 0
  local v
  v=$("$bin/cpu_probe" | awk '$1 == "RESULT" { print $3 }')
  [ -n "$v" ] && printf '%s\t%s\t%s\n' "$1" "$2" "$v" >>"$probes" && echo "  probe  2.0 = two free cores: ${v}x"
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "kernel: $(uname -r)"
  echo "otp: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), g++ $(g++ -dumpfullversion)"
  command -v erl >/dev/null && echo "erlang: OTP $(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().')"
  command -v elixir >/dev/null && echo "elixir: $(elixir --version 2>/dev/null | grep -m1 Elixir)"
  command -v go >/dev/null && echo "go: $(go version | cut -d' ' -f3)"
  echo "caf: $(dpkg-query -W -f='${Version}' libcaf-dev 2>/dev/null || echo missing)"
  echo "asio: $(dpkg-query -W -f='${Version}' libasio-dev 2>/dev/null || echo missing)"
  echo "runs: $runs"
  echo "w10_n: $w10_n"
} >"$out/env.txt"

echo "== run: $runs runs per cell, threads $threads"
for r in $(seq 1 "$runs"); do
  echo "-- round $r of $runs"
  for t in $threads; do
    for w in w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 micro; do
      [ -z "$only" ] || [[ $w =~ $only ]] || continue
      [ "$w" = micro ] && [ "$t" != 1 ] && continue
      [ "$t" = 2 ] && probe "$r" "$w"
      workload "$r" "$t" "$w"
    done
  done
done

python3 "$root/benchmarks/report.py" "$out" || exit 1
if [ "$failures" -gt 0 ]; then
  echo "run.sh: $failures peer builds or runs failed or were skipped (see above)"
  [ -n "$strict" ] && exit 1
fi
exit 0
