#!/usr/bin/env bash
# Runs otp's workloads beside the peers of shared/peers (BEAM, CAF, Go, raw
# Asio) in one go and prints medians and ratios.
#
#   benchmarks/compare.sh [--only REGEX] [--json FILE] [--runs N] [--threads "1 2"]
#
# --only REGEX   only workloads whose name (w1 ... w9) matches
# --json FILE    also write the medians: [{workload, impl, threads, metric, value, unit}]
# --runs N       runs per cell (default 3; the median is reported)
# OTP_PEERS_DIR  the peers folder (default: ../shared/peers beside the repo).
#                Peers are built into build/peers and run from there; their
#                code is never copied into the project. A peer whose toolchain
#                is missing after trying to install it is skipped, and said so.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers=${OTP_PEERS_DIR:-$root/../shared/peers}
only='' json='' runs=3 threads='1 2'
while [ $# -gt 0 ]; do
  case $1 in
    --only) only=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -d "$peers" ] || { echo "compare.sh: no peers folder at $peers (set OTP_PEERS_DIR)" >&2; exit 2; }
peers=$(cd "$peers" && pwd)

"$root/scripts/install-deps.sh" --peers || echo "compare.sh: could not install every peer toolchain; missing ones are skipped"

bin=$root/build/peers
mkdir -p "$bin"
echo "== build otp (Release)"
cmake -S "$root" -B "$root/build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_SAMPLES=OFF -DOTP_BUILD_BENCHMARKS=ON >/dev/null || exit 1
cmake --build "$root/build/release" --target otp_bench -j "$(nproc)" >/dev/null || exit 1
ours=$root/build/release/benchmarks/otp_bench

declare -A have
skip() { echo "SKIPPED $1: $2"; }
echo "== build peers from $peers into $bin"
if command -v erlc >/dev/null && erlc -o "$bin" "$peers/erlang/bench.erl"; then have[beam]=1; else skip beam "erlang-nox missing or build failed"; fi
if command -v go >/dev/null && (cd "$peers/go" && GOCACHE=$bin/gocache GOPATH=$bin/gopath go build -o "$bin/go_bench" bench.go); then have[go]=1; else skip go "golang-go missing or build failed"; fi
if g++ -O2 -std=c++17 -pthread "$peers/caf/bench.cpp" -o "$bin/caf_bench" -lcaf_core 2>/dev/null; then have[caf]=1; else skip caf "libcaf-dev missing or build failed"; fi
if g++ -O2 -std=c++20 -pthread "$peers/asio/bench.cpp" -o "$bin/asio_bench"; then have[asio]=1; else skip asio "libasio-dev missing or build failed"; fi
if g++ -O2 -std=c++20 -pthread "$peers/cpp_registry/naive_registry.cpp" -o "$bin/naive_registry"; then have[naive]=1; fi
if gcc -O2 -pthread "$peers/probe/cpu_probe.c" -o "$bin/cpu_probe"; then have[probe]=1; fi
# W5, W6, W7 and W9 run on Elixir (GenServer; Registry; Supervisor,
# DynamicSupervisor); their scripts run in place.
if command -v elixir >/dev/null; then have[elixir]=1; else skip "beam w5 w6 w7 w9" "elixir missing"; fi

raw=$(mktemp)
trap 'rm -f "$raw" "$raw.out" "$raw.rss"' EXIT
# cell IMPL THREADS WORKLOAD CMD...: runs N times, one raw row per RESULT line.
cell() {
  local impl=$1 t=$2 w=$3
  shift 3
  [ -z "$only" ] || [[ $w =~ $only ]] || return 0
  for r in $(seq 1 "$runs"); do
    if ! /usr/bin/time -f "%M" -o "$raw.rss" timeout 600 "$@" >"$raw.out" 2>&1 || ! grep -q '^RESULT' "$raw.out"; then
      echo "FAILED: $impl $t $w run $r"; tail -3 "$raw.out"; continue
    fi
    grep '^RESULT' "$raw.out" | while read -r _ metric value unit; do
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$impl" "$t" "$metric" "$value" "$unit" >>"$raw"
    done
    [ "$w" = w1 ] && printf '%s\t%s\t%s\tw1_rss\t%s\tMB\n' "$w" "$impl" "$t" "$(($(tail -1 "$raw.rss") / 1024))" >>"$raw"
    printf '  %-5s %s thr %-3s run %s: %s\n' "$impl" "$t" "$w" "$r" "$(grep '^RESULT' "$raw.out" | cut -d' ' -f2-3 | tr '\n' ' ')"
  done
}

probe() { [ -n "${have[probe]:-}" ] && echo "  cpu probe (2.0 = two free cores): $("$bin/cpu_probe" | tail -1)"; }

echo "== run ($runs runs per cell)"
probe
for t in $threads; do
  for w in w1 w2 w3 w4 w5 w8; do
    cell otp "$t" "$w" "$ours" "$w" "$t"
    if [ "$w" = w5 ]; then  # W5 is GenServer.call, in Elixir
      [ -n "${have[elixir]:-}" ] && cell beam "$t" w5 elixir --erl "+S $t" "$peers/elixir/w5_call.exs"
    else
      [ -n "${have[beam]:-}" ] && cell beam "$t" "$w" erl +S "$t" +P 4000000 -noshell -pa "$bin" -run bench main "$w"
    fi
    [ -n "${have[go]:-}" ] && cell go "$t" "$w" env GOMAXPROCS="$t" "$bin/go_bench" "$w"
    [ -n "${have[caf]:-}" ] && cell caf "$t" "$w" "$bin/caf_bench" "$w" "$t"
    if [ -n "${have[asio]:-}" ]; then
      if [ "$t" = 1 ]; then cell asio 1 "$w" "$bin/asio_bench" "$w" st; else cell asio "$t" "$w" "$bin/asio_bench" "$w" cc2; fi
    fi
  done
  # W7 restart: a named GenServer under a Supervisor, crashed and called again.
  cell otp "$t" w7 "$ours" w7 "$t"
  [ -n "${have[elixir]:-}" ] && cell beam "$t" w7 elixir --erl "+S $t" "$peers/elixir/w7_restart.exs"
  # W6 registry: ours, Elixir's Registry, and the naive shared_mutex map.
  cell otp "$t" w6 "$ours" w6 "$t"
  [ -n "${have[elixir]:-}" ] && cell beam "$t" w6 elixir --erl "+S $t" "$peers/elixir/w6_registry.exs"
  [ -n "${have[naive]:-}" ] && cell naive "$t" w6 "$bin/naive_registry" "$t"
  # W9 supervise at 100,000 children (with the restart cycles), and at 1,000
  # children for the scaling check. BEAM's shutdown of 100k children is
  # quadratic (about 100 s a run).
  cell otp "$t" w9 "$ours" w9 "$t"
  cell otp "$t" w9 env W9_N=1000 W9_CYCLES=0 "$ours" w9 "$t"
  if [ -n "${have[elixir]:-}" ]; then
    cell beam "$t" w9 elixir --erl "+S $t" "$peers/elixir/w9_supervise.exs"
    cell beam "$t" w9 env W9_N=1000 W9_CYCLES=0 elixir --erl "+S $t" "$peers/elixir/w9_supervise.exs"
  fi
  [ "$t" != 1 ] && probe
done

python3 - "$raw" "$json" <<'PY'
import json, statistics, sys
from collections import defaultdict
raw, out = sys.argv[1], sys.argv[2]
cells = defaultdict(list); units = {}
for line in open(raw):
    w, impl, t, metric, value, unit = line.rstrip("\n").split("\t")
    cells[(w, impl, int(t), metric)].append(float(value)); units[metric] = unit
med = {k: statistics.median(v) for k, v in cells.items()}
higher_better = lambda m: m.endswith("_per_s")
impls = ["otp", "beam", "go", "caf", "asio", "naive"]
rows = sorted({(w, t, m) for (w, i, t, m) in med if m != "w1_sum"}, key=lambda r: (r[1], r[0], r[2]))
print("\n| workload | metric | threads | " + " | ".join(impls) + " | " + " | ".join(f"{p}/otp" for p in impls[1:]) + " |")
print("|---|---|---|" + "---|" * (2 * len(impls) - 1))
def fmt(v):
    return f"{v/1e6:.2f} M" if v >= 1e6 else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")
for w, t, m in rows:
    o = med.get((w, "otp", t, m))
    vals = [fmt(med[(w, i, t, m)]) if (w, i, t, m) in med else "-" for i in impls]
    ratios = []
    for p in impls[1:]:
        v = med.get((w, p, t, m))
        if o is None or v is None or v == 0 or o == 0: ratios.append("-"); continue
        r = o / v if higher_better(m) else v / o
        ratios.append(f"{r:.2f}x")
    print(f"| {w} | {m} ({units[m]}) | {t} | " + " | ".join(vals) + " | " + " | ".join(ratios) + " |")
print("\nratio = how many times better otp is than the peer (>1: otp faster or smaller), medians of the runs.")
if out:
    json.dump([{"workload": w, "impl": i, "threads": t, "metric": m, "value": v, "unit": units[m]}
               for (w, i, t, m), v in sorted(med.items())], open(out, "w"), indent=1)
    print(f"wrote {out}")
PY
