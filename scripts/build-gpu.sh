#!/usr/bin/env bash
# Builds the GPU test and benchmark binaries (release, stripped) into gpu-bin/ (git-ignored), for
# scripts/run-gpu.sh on a machine with a GPU and no Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
out=gpu-bin
rm -rf "$out" && mkdir -p "$out"
json=$(mktemp)
cargo build --release --locked -p ringkernel-cuda -p ringkernel -p ringkernel-ir -p ringkernel-kernels \
  -p ringkernel-transpile \
  --features ringkernel-cuda/gpu-tests,ringkernel/gpu-tests,ringkernel-ir/gpu-tests,ringkernel-kernels/gpu-tests,ringkernel-transpile/gpu-tests \
  --tests --message-format=json >"$json"
cargo build --release --locked -p ringkernel -p ringkernel-bench \
  --bin ringkernel-demo --bin ringkernel-device-host --bin gpu-bench --bin multi-gpu-bench --bin hopper-bench --bin resilience-bench --bin swarm-bench --message-format=json >>"$json"
python3 - "$json" "$out" <<'PY'
import json, shutil, sys, os
src, out = sys.argv[1], sys.argv[2]
seen = set()
for line in open(src):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    name = m["target"]["name"]
    kinds = m["target"]["kind"]
    # GPU test targets and binaries only (unit-test executables of libs are CPU tests).
    is_test = m["profile"]["test"]
    # Real binaries, and the GPU test targets; not test harnesses of libs or bins.
    if not (("bin" in kinds and not is_test) or ("test" in kinds and name.startswith("gpu_"))):
        continue
    if name in seen:
        continue
    seen.add(name)
    shutil.copy2(m["executable"], os.path.join(out, name))
    print("built", name)
PY
rm -f "$json"
strip gpu-bin/* 2>/dev/null || true
cp scripts/run-gpu.sh "$out/"
du -sh "$out"
# The commit these binaries were built from (run-gpu.sh exports it for the benchmark reports).
{
  echo "RINGKERNEL_BUILD_COMMIT=$(git rev-parse --short HEAD)"
  if [[ -n $(git status --porcelain --untracked-files=no) ]]; then echo "RINGKERNEL_BUILD_DIRTY=1"; else echo "RINGKERNEL_BUILD_DIRTY=0"; fi
} > "$out/BUILD"
