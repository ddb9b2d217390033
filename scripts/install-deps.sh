#!/usr/bin/env bash
# Installs the Debian packages otp needs, only those that are missing.
#   scripts/install-deps.sh           build, tests, benchmarks (g++-12)
#   scripts/install-deps.sh --ci      + clang-16 and its sanitizer runtimes
#   scripts/install-deps.sh --peers   + the toolchains of benchmarks/peers (BEAM, Go, CAF)
#   scripts/install-deps.sh --load    + what samples/todo/load.sh and attack.sh drive it with (wrk, python3)
# Silent when nothing is missing. Needs root (or sudo) only to install.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(build-essential g++-12 cmake ninja-build libasio-dev libboost-dev doctest-dev libhttp-parser-dev curl)
for arg in "$@"; do
  case "$arg" in
    --ci) packages+=(clang-16 libclang-rt-16-dev libfuzzer-16-dev) ;;
    --peers) packages+=(erlang-nox elixir golang-go libcaf-dev python3 time) ;;
    --load) packages+=(wrk python3) ;;
    -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown argument '$arg' (use --ci, --peers and/or --load)" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps.sh: dpkg-query not found (not Debian?); make sure these are installed: ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps.sh: missing packages: ${missing[*]}" >&2
  echo "install-deps.sh: not root and no sudo; run as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "install-deps.sh: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
