// Cost of the single device operations the persistent kernel's message path is made of, in
// clock64 cycles per operation. One thread; each operation is repeated with a data dependency on
// the previous one, so repetitions do not overlap and the mean is the latency of one.
// Compiled after the layout header and runtime.cuh, so the hash and loads are the kernel's own.

#define OC_REPS 256

extern "C" __global__ void rk_op_costs(unsigned long long* dev, unsigned long long* host,
                                       unsigned long long* out) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  rk_u64 acc = 0;
  long long t;

  t = clock64();
  for (int r = 0; r < OC_REPS; ++r) acc += rk_globaltimer() & 1;
  out[0] = (clock64() - t) / OC_REPS;

  t = clock64();
  for (int r = 0; r < OC_REPS; ++r) acc += clock64() & 1;
  out[1] = (clock64() - t) / OC_REPS;

  // Device-scope atomic add on device memory (rk_d2h_claim's fetch_add).
  t = clock64();
  for (int r = 0; r < OC_REPS; ++r) {
    cuda::atomic_ref<rk_u64, cuda::thread_scope_device> a(dev[(acc & 1) * 16]);
    acc += a.fetch_add(1, cuda::memory_order_relaxed) & 1;
  }
  out[2] = (clock64() - t) / OC_REPS;

  // Volatile load from device memory (L2; rk_d2h_claim's head cache, a wake word).
  t = clock64();
  for (int r = 0; r < OC_REPS; ++r) acc += *(volatile rk_u64*)&dev[32 + (acc & 1) * 16] & 1;
  out[3] = (clock64() - t) / OC_REPS;

  // 16-byte volatile load from mapped host memory: one PCIe read round trip (a mailbox poll).
  t = clock64();
  for (int r = 0; r < OC_REPS / 8; ++r) {
    rk_u64 a, b;
    rk_load16(&host[(acc & 1) * 16], a, b);
    acc += (a + b) & 1;
  }
  out[4] = (clock64() - t) / (OC_REPS / 8);

  // __threadfence_system() after a store to mapped host memory (what a fenced reply waits for).
  t = clock64();
  for (int r = 0; r < OC_REPS / 8; ++r) {
    host[64 + (acc & 1) * 16] = acc;
    __threadfence_system();
  }
  out[5] = (clock64() - t) / (OC_REPS / 8);

  // __threadfence() (device scope) after a store to device memory.
  t = clock64();
  for (int r = 0; r < OC_REPS; ++r) {
    dev[64 + (acc & 1) * 16] = acc;
    __threadfence();
  }
  out[6] = (clock64() - t) / OC_REPS;

  // Hash of an envelope's 14 words (the reply stamp).
  rk_u64 words[RK_ENVELOPE_WORDS];
  for (int i = 0; i < RK_ENVELOPE_WORDS; ++i) words[i] = dev[96 + i];
  t = clock64();
  for (int r = 0; r < OC_REPS; ++r) {
    words[0] += rk_envelope_hash(words) & 1;
  }
  out[7] = (clock64() - t) / OC_REPS;
  acc += words[0];

  // Posted 16-byte store to mapped host memory (no fence): what an unfenced reply costs the warp.
  t = clock64();
  for (int r = 0; r < OC_REPS; ++r) rk_store16(&host[128 + (r & 7) * 2], acc, r);
  out[8] = (clock64() - t) / OC_REPS;

  out[15] = acc;  // keeps every chain alive
}
