#!/usr/bin/env bash
# Builds the demo in Release (samples only) and runs it; arguments go to otp_demo.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/scripts/install-deps.sh"

build_dir=$root/build/release
cmake -S "$root" -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_BENCHMARKS=OFF -DOTP_BUILD_SAMPLES=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" --target otp_demo
exec "$build_dir/samples/demo/otp_demo" "$@"
