#!/usr/bin/env bash
# Runs the GPU suite from gpu-bin/ on a machine with an NVIDIA GPU (no Rust needed): every GPU test
# binary, then the same under compute-sanitizer (memcheck, racecheck, synccheck), then the benches.
# Logs go to $OUT (or ./gpu-logs). Usage: bash scripts/run-gpu.sh [tests|sanitize|bench|multi|swarm|all]
# `multi` runs the multi-GPU tests and benchmark (two GPUs); on a one-GPU machine the tests that
# need two GPUs are skipped by name and reported as not run.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=gpu-bin
logs=${OUT:-gpu-logs}
mkdir -p "$logs"
what=${1:-all}
export PATH=/usr/local/cuda/bin:$PATH
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export RINGKERNEL_CACHE_DIR=${RINGKERNEL_CACHE_DIR:-/tmp/ringkernel-ptx}
# Never NVLink multicast (it can take a shared host's GPUs out of service); we use no NCCL, but
# keep the switch set for anything that does.
export NCCL_NVLS_ENABLE=0
# The commit the binaries were built from (written by build-gpu.sh), for the benchmark reports.
if [[ -f $bin/BUILD ]]; then set -a; source "$bin/BUILD"; set +a; fi
gpus=$(nvidia-smi -L | grep -c '^GPU')
# Tests that need two GPUs are named two_gpus_*.
two=()
if (( gpus < 2 )); then two=(--skip two_gpus); echo "one GPU: tests named two_gpus_* are NOT run"; fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$logs/gpu.txt"
status=0
run() { # name, log, command...
  local name=$1 log=$2; shift 2
  echo "== $name"
  if timeout "${STEP_TIMEOUT:-300}" "$@" >"$log" 2>&1; then echo "   ok"; else echo "   FAILED (see $log)"; tail -40 "$log"; status=1; fi
  grep -E "test result|passed|ERROR SUMMARY" "$log" | tail -3
}
if [[ $what == tests || $what == all ]]; then
  for t in "$bin"/gpu_*; do
    run "$(basename "$t")" "$logs/$(basename "$t").log" "$t" --test-threads=1 "${two[@]}"
  done
fi
if [[ $what == sanitize || $what == all ]]; then
  for tool in memcheck racecheck synccheck; do
    for t in "$bin"/gpu_*; do
      # Under the sanitizers' slowdown, skip the tests whose point is volume or timing (they run
      # natively above); the rest exercise every device path: spawn, tell, ask, failure, stop,
      # full mailbox on a small ring, shutdown, heartbeat, a second runtime.
      # RK_GPU_TEST_SMALL: randomized differential tests shrink their rounds under the sanitizers.
      # Also skipped: the tests that fault the device or exhaust its memory on purpose (a trap, a
      # wild write, an allocation past the card): memcheck reports exactly those faults and the
      # launch failures after them (seen at 0ab3f5c, H100), which is what they test natively.
      run "$tool $(basename "$t")" "$logs/$tool-$(basename "$t").log" \
        env RK_GPU_TEST_SMALL=1 compute-sanitizer --tool "$tool" --error-exitcode 3 --require-cuda-init no --target-processes all \
        "$t" --test-threads=1 "${two[@]}" --skip a_hung_handler --skip largest_co_resident \
        --skip per_sender_fifo --skip concurrent_asks --skip random_payloads --skip full_mailbox \
        --skip batched_tells --skip tell_batch_through \
        --skip a_trap_and_a_wild_write --skip an_ask_waiting_at_the_fault --skip out_of_device_memory
    done
  done
fi
if [[ $what == bench || $what == all ]]; then
  for b in "$bin"/*bench*; do
    [[ -x $b && $(basename "$b") != multi-gpu-bench ]] || continue
    run "$(basename "$b")" "$logs/$(basename "$b").log" "$b" --out "$logs" ${BENCH_ARGS:-}
  done
  if [[ -x $bin/ringkernel-demo ]]; then run demo "$logs/demo.log" "$bin/ringkernel-demo"; cat "$logs/demo.log"; fi
fi
if [[ $what == swarm ]]; then
  # The swarm alone: its GPU tests, the same (small) under the sanitizers, its benchmark.
  # SWARM_PARTS picks the parts (default "tests sanitize bench") and SANITIZERS the tools
  # (default "memcheck racecheck synccheck"): one 10-minute device call does not hold them all.
  parts=" ${SWARM_PARTS:-tests sanitize bench} "
  if [[ $parts == *" tests "* ]]; then
    for t in gpu_swarm gpu_swarm_pinned gpu_swarm_express; do
      run "$t" "$logs/$t.log" "$bin/$t" --test-threads=1
    done
  fi
  if [[ $parts == *" sanitize "* ]]; then
    for tool in ${SANITIZERS:-memcheck racecheck synccheck}; do
      for t in gpu_swarm gpu_swarm_pinned gpu_swarm_express; do
        run "$tool $t" "$logs/$tool-$t.log" \
          env RK_GPU_TEST_SMALL=1 compute-sanitizer --tool "$tool" --error-exitcode 3 --require-cuda-init no \
          "$bin/$t" --test-threads=1 --skip a_million --skip idle_blocks_steal
      done
    done
  fi
  if [[ $parts == *" bench "* ]]; then
    run swarm-bench "$logs/swarm-bench.log" "$bin/swarm-bench" --out "$logs" ${BENCH_ARGS:-}
  fi
fi
if [[ $what == multi ]]; then
  run gpu_multi "$logs/gpu_multi.log" "$bin/gpu_multi" --test-threads=1 --nocapture "${two[@]}"
  run multi-gpu-bench "$logs/multi-gpu-bench.log" "$bin/multi-gpu-bench" --out "$logs" ${BENCH_ARGS:-}
fi
exit $status
