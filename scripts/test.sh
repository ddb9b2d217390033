#!/usr/bin/env bash
# Builds everything and runs the whole ctest suite (unit tests, consumer
# tests, benchmark smoke runs). Exits with ctest's status.
#   OTP_BUILD_DIR   build directory (default: build/test)
#   OTP_CMAKE_ARGS  extra configure arguments, shell-quoted, applied last, e.g.
#                   OTP_CMAKE_ARGS='-DOTP_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug'
#   OTP_JOBS        build and ctest parallelism (default: nproc)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/scripts/install-deps.sh"

build_dir=${OTP_BUILD_DIR:-$root/build/test}
jobs=${OTP_JOBS:-$(nproc 2>/dev/null || echo 2)}
eval "extra_args=(${OTP_CMAKE_ARGS:-})"

cmake -S "$root" -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOTP_BUILD_TESTS=ON -DOTP_BUILD_BENCHMARKS=ON -DOTP_BUILD_SAMPLES=ON \
  -DOTP_WERROR=ON \
  "${extra_args[@]}"
cmake --build "$build_dir" -j "$jobs"
exec ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
