# SPDX-License-Identifier: MIT
# What samples/todo/attack.sh and samples/echo/attack.sh share: sourced, not
# run. The caller sets `root` (the repository) and calls
#   attack_setup TARGET HOSTILE_PY   # builds TARGET, points run_hostile at HOSTILE_PY
# then defines scenario_NAME functions and ends with
#   attack_run "${all[@]}" -- "$@"
#
# The app under attack: start_app BINARY ARGS... (it prints "listening on
# 127.0.0.1:PORT"; sets app and port), stop_app [SIGNAL] (default INT; sets
# stop_status), alive (is it still running). Figures: run_hostile ARGS...
# keeps hostile.py's output in $out; figure PATTERN is the first number after
# PATTERN in it; lacks PATTERN. Verdicts: expect WHAT TEST...

# OTP_BUILD_DIR: an existing optimised build to attack (CI: its clang -O3
# build); by default a Release build of its own in build/release.
attack_setup() {
  local target=$1
  hostile="python3 $2"
  "$root/scripts/install-deps.sh" --load
  if [[ -n "${OTP_BUILD_DIR:-}" ]]; then
    build_dir=$(cd "$OTP_BUILD_DIR" && pwd)
  else
    build_dir=$root/build/release
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_BENCHMARKS=OFF -DOTP_BUILD_SAMPLES=ON >/dev/null
  fi
  cmake --build "$build_dir" --target "$target" >/dev/null
  app_name=$target
  work=$(mktemp -d)
  app=''
  trap attack_cleanup EXIT
}
attack_cleanup() {
  if [[ -n "$app" ]]; then kill -9 "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; fi
  rm -rf "$work"
}

start_app() {
  local log=$work/app.log
  : >"$log"
  "$@" >"$log" 2>&1 &
  app=$!
  for _ in $(seq 1 200); do grep -q 'listening on' "$log" && break; sleep 0.05; done
  port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [[ -n "$port" ]] || { echo "attack.sh: $app_name did not start:"; cat "$log"; exit 1; }
}
stop_app() {
  local sig=${1:-INT}
  stop_status=0
  if kill -0 "$app" 2>/dev/null; then kill -"$sig" "$app" 2>/dev/null || true; fi
  wait "$app" 2>/dev/null || stop_status=$?
  echo "$app_name exit status after SIG$sig: $stop_status"
  app=''
}
alive() {
  if kill -0 "$app" 2>/dev/null; then
    echo "$app_name: still running"
  else
    local status=0
    wait "$app" 2>/dev/null || status=$?
    echo "$app_name: exited by itself with status $status; its last words:"
    tail -3 "$work/app.log"
    app=''
  fi
}
rss() { awk -v what="$2" '$1 == what":" { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status"; }
rss_mb() { awk -v what="$2" '$1 == what":" { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

out=''
run_hostile() {
  out=$($hostile "$port" "$@")
  echo "$out"
}
figure() { sed -n "s/.*$1 *\([0-9][0-9]*\).*/\1/p" <<<"$out" | head -1; }
lacks() { ! grep -q "$1" <<<"$out"; }
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

# attack_run ALL... -- CHOSEN...: runs the chosen scenarios (all when none),
# then says whether every verdict held; exits 1 if one did not.
attack_run() {
  local all=() chosen=()
  while [[ $# -gt 0 && $1 != -- ]]; do all+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  chosen=("$@")
  [[ ${#chosen[@]} -eq 0 ]] && chosen=("${all[@]}")
  for s in "${chosen[@]}"; do
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
}
