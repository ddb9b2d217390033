#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Builds and runs the two compiler-bug reproductions in this directory and
# prints what each build did. Nothing here touches the project's own build.
#
#   gcc12_awaited_temporary.cpp  deterministic: each mode is run once
#   clang16_tls_in_frame.cpp     tls-* modes are deterministic but cheap, so
#                                every mode is run RUNS times (ASan builds:
#                                RUNS_ASAN times) and failures are counted
#
# Environment: RUNS (default 50), RUNS_ASAN (default 20), CXX_GCC (default
# g++-12), CXX_CLANG (default clang++-16), KEEP=1 keeps the build directory.
# Compiles run one after another. Takes one to two minutes on two cores.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runs=${RUNS:-50}
runs_asan=${RUNS_ASAN:-20}
gcc=${CXX_GCC:-g++-12}
clang=${CXX_CLANG:-clang++-16}
work=$(mktemp -d "${TMPDIR:-/tmp}/otp-repro.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
  echo "build directory: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

common=(-std=c++20 -g -pthread -DASIO_STANDALONE -DASIO_NO_DEPRECATED)
# clang with libstdc++: Asio 1.22 detects co_await only via <experimental/coroutine>.
clang_only=(-DASIO_HAS_CO_AWAIT=1)
export ASAN_OPTIONS=${ASAN_OPTIONS:-}
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} ]] && command -v llvm-symbolizer >/dev/null; then
  ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
  export ASAN_SYMBOLIZER_PATH
fi

rows=()      # result table, one formatted line per run group
samples=()   # first lines of the first failure of each group

row() { rows+=("$(printf '%-73s %-11s %s' "$1" "$2" "$3")"); }

# build OUT COMPILER FLAGS... : compile one program; returns 1 if impossible.
build() {
  local out=$1 cxx=$2
  shift 2
  if ! command -v "$cxx" >/dev/null; then
    echo "  skip: $cxx not installed"
    return 1
  fi
  echo "  $cxx $* -o $(basename "$out")"
  "$cxx" "$@" -o "$out"
}

# describe RC LOG : a short word for how a run ended.
describe() {
  local rc=$1 log=$2
  if ((rc == 0)); then echo ok
  elif ((rc == 124)); then echo timeout
  elif ((rc > 128)); then echo "SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
  elif grep -q 'ERROR: AddressSanitizer' "$log"; then echo asan
  else echo "exit$rc"
  fi
}

# repeat LABEL N BINARY ARGS... : run N times, count failures by kind.
repeat() {
  local label=$1 n=$2 bin=$3
  shift 3
  local i rc kind fails=0 kinds="" first="" quiet=""
  declare -A count=()
  for ((i = 1; i <= n; i++)); do
    rc=0
    # The braces keep bash's own "Segmentation fault" notice out of the output.
    { timeout 60 "$bin" "$@" >"$work/last.log" 2>&1; } 2>/dev/null || rc=$?
    kind=$(describe "$rc" "$work/last.log")
    if [[ $kind != ok ]]; then
      fails=$((fails + 1))
      count[$kind]=$((${count[$kind]:-0} + 1))
      # Keep the first failure that printed something; a bare crash only
      # if no failure printed anything.
      if [[ -z $first ]]; then
        first=$(grep -v -e '^=*$' -e 'WARNING' "$work/last.log" | head -n 3 | cut -c1-160 || true)
        [[ -n $first || -n $quiet ]] || quiet="(no output; ended with $kind)"
      fi
    fi
  done
  for kind in "${!count[@]}"; do kinds+=" $kind:${count[$kind]}"; done
  row "$label" "$1" "$fails/$n failed${kinds:+ (${kinds# })}"
  first=${first:-$quiet}
  if [[ -n $first ]]; then samples+=("[$label, $1]"$'\n'"$first"); fi
}

echo "compilers:"
for c in "$gcc" "$clang"; do
  if command -v "$c" >/dev/null; then echo "  $("$c" --version | head -n 1)"; else echo "  $c: not installed"; fi
done

echo "building gcc12_awaited_temporary.cpp"
src1=$here/gcc12_awaited_temporary.cpp
declare -a g1=()
for opt in -O0 -O2; do
  b=$work/t1-gcc$opt
  if build "$b" "$gcc" "${common[@]}" "$opt" -fsanitize=address "$src1"; then g1+=("$b|$gcc $opt -fsanitize=address"); fi
  b=$work/t1-clang$opt
  if build "$b" "$clang" "${common[@]}" "${clang_only[@]}" "$opt" -fsanitize=address "$src1"; then
    g1+=("$b|$clang $opt -fsanitize=address")
  fi
done
for entry in "${g1[@]}"; do
  for mode in named named-fn aggregate lambda; do repeat "${entry#*|}" 1 "${entry%%|*}" "$mode"; done
done

echo "building clang16_tls_in_frame.cpp"
src2=$here/clang16_tls_in_frame.cpp
fix=-DASIO_DISABLE_THREAD_KEYWORD_EXTENSION
declare -a g2=()
try2() {  # try2 LABEL NAME COMPILER FLAGS...
  local label=$1 name=$2
  shift 2
  if build "$work/$name" "$@" "$src2"; then g2+=("$work/$name|$label"); fi
}
try2 "$clang -O3" t2-clang-O3 "$clang" "${common[@]}" "${clang_only[@]}" -O3
try2 "$clang -O3 $fix" t2-clang-O3-fix "$clang" "${common[@]}" "${clang_only[@]}" -O3 "$fix"
try2 "$clang -O2" t2-clang-O2 "$clang" "${common[@]}" "${clang_only[@]}" -O2
try2 "$gcc -O3" t2-gcc-O3 "$gcc" "${common[@]}" -O3
for entry in "${g2[@]}"; do
  for mode in tls-direct tls-call asio; do repeat "${entry#*|}" "$runs" "${entry%%|*}" "$mode"; done
done
# ASan builds are slower, so fewer and shorter runs (64 coroutines x 4000 hops).
g2=()
try2 "$clang -O3 -fsanitize=address" t2-clang-O3-asan "$clang" "${common[@]}" "${clang_only[@]}" -O3 -fsanitize=address
try2 "$clang -O3 -fsanitize=address $fix" t2-clang-O3-asan-fix "$clang" "${common[@]}" "${clang_only[@]}" -O3 -fsanitize=address "$fix"
for entry in "${g2[@]}"; do repeat "${entry#*|}" "$runs_asan" "${entry%%|*}" asio 64 4000 8; done

echo
cat <<'TEXT'
What to expect (see the comments in the two .cpp files):
  gcc12_awaited_temporary  g++-12 fails aggregate and lambda (ASan double free)
                           at -O0 and -O2 and passes named*; clang passes all.
  clang16_tls_in_frame     tls-direct fails every run with clang++-16 at -O1
                           and above (the Asio macro does not matter to it) and
                           never with g++-12; tls-call passes. asio fails in a
                           share of runs with clang++-16 -O3 only, never with
                           ASIO_DISABLE_THREAD_KEYWORD_EXTENSION or g++-12.

TEXT
printf '%-73s %-11s %s\n' "build" "mode" "result"
printf '%s\n' "${rows[@]}"
if ((${#samples[@]})); then
  echo
  echo "first lines of the first failure in each group:"
  printf '%s\n' "${samples[@]}"
fi
