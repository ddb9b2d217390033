#!/usr/bin/env bash
# otp against itself: the workloads and micro-operations of two commits, in
# one interleaved run, for "no regression beyond noise" after a change to a
# hot path. Peers are not run (benchmarks/run.sh compares against them).
#
#   benchmarks/compare.sh BEFORE [AFTER] [--runs N] [--threads T] [--only REGEX]
#
# BEFORE, AFTER  commits (AFTER: the working tree, uncommitted changes
#                included, when omitted)
# --runs N       rounds (default 5); each round runs every cell of both
#                builds, alternating, so drift on a shared machine hits both
# --threads T    thread count for the workloads (default 1); micro runs on 1
# --only REGEX   workloads to run (default: all, w1 ... w10 and micro; W11
#                needs servers and a load generator: run.sh has it)
#
# Builds each side in Release under build/compare/<commit> (a git worktree
# for a commit) and prints, per metric, the median of each side, the ratio
# AFTER/BEFORE, whether that is better or worse (rates are better higher,
# times lower) and the spread of each side (max/min), so a reader can tell a
# change from noise.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
before='' after='' runs=5 threads=1 only=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n 2,20p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "compare.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) if [[ -z $before ]]; then before=$1; elif [[ -z $after ]]; then after=$1; else
         echo "compare.sh: at most two commits" >&2; exit 2; fi; shift ;;
  esac
done
[[ -n $before ]] || { echo "compare.sh: which commit to compare with? (see --help)" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --runs needs a positive number" >&2; exit 2; }
"$root/scripts/install-deps.sh"

# build SIDE REV: builds otp_bench for REV (empty: the working tree); prints its path.
build() {
  local rev=$1 src dir
  if [[ -z $rev ]]; then
    src=$root dir=$root/build/compare/worktree
  else
    local sha
    sha=$(git -C "$root" rev-parse --short "$rev^{commit}") || { echo "compare.sh: no commit '$rev'" >&2; exit 2; }
    src=$root/build/compare/src-$sha dir=$root/build/compare/$sha
    [[ -d $src ]] || git -C "$root" worktree add --detach "$src" "$sha" >/dev/null 2>&1
  fi
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOTP_BUILD_TESTS=OFF \
    -DOTP_BUILD_SAMPLES=OFF -DOTP_BUILD_BENCHMARKS=ON >/dev/null
  cmake --build "$dir" --target otp_bench >/dev/null
  echo "$dir/benchmarks/otp_bench"
}
echo "compare.sh: building $before and ${after:-the working tree} (Release)"
bin_before=$(build "$before")
bin_after=$(build "$after")

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
workloads=(w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 micro)
# cell SIDE BIN W: one run; appends "SIDE METRIC VALUE UNIT" lines.
cell() {
  local side=$1 bin=$2 w=$3 t=$threads
  [[ $w == micro ]] && t=1
  local -a env=()
  [[ $w == w9 ]] && env=(env "W9_N=${W9_N:-100000}")
  "${env[@]}" "$bin" "$w" "$t" | awk -v side="$side" '$1 == "RESULT" { print side, $2, $3, $4 }' >>"$raw"
}
for ((r = 1; r <= runs; r++)); do
  echo "compare.sh: round $r of $runs"
  for w in "${workloads[@]}"; do
    [[ -n $only && ! $w =~ $only ]] && continue
    if ((r % 2)); then cell before "$bin_before" "$w"; cell after "$bin_after" "$w"; else
      cell after "$bin_after" "$w"; cell before "$bin_before" "$w"; fi
  done
done

python3 - "$raw" "$before" "${after:-working tree}" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
data, units = {}, {}
for side, metric, value, *unit in rows:
    data.setdefault(metric, {}).setdefault(side, []).append(float(value))
    units[metric] = unit[0] if unit else ''
print(f"\n| metric | unit | {sys.argv[2]} | {sys.argv[3]} | after/before | after is | spread before | spread after |")
print("|---|---|---|---|---|---|---|---|")
for metric in sorted(data):
    b, a = data[metric].get('before', []), data[metric].get('after', [])
    if not b or not a:
        continue
    mb, ma = statistics.median(b), statistics.median(a)
    spread = lambda xs: f"{max(xs) / min(xs):.2f}" if min(xs) > 0 else "-"
    ratio = f"{ma / mb:.2f}" if mb else "-"
    # A rate (unit per second) is better higher; a time or a size lower.
    higher_better = units[metric].endswith("/s")
    if not mb or ma == mb:
        verdict = "same"
    else:
        gain = (ma / mb - 1) if higher_better else (mb / ma - 1)
        verdict = f"{abs(gain) * 100:.0f}% {'better' if gain > 0 else 'worse'}"
    print(f"| {metric} | {units[metric]} | {mb:.4g} | {ma:.4g} | {ratio} | {verdict} | {spread(b)} | {spread(a)} |")
EOF
