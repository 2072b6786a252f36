// The raw floor of a message between GPUs: one thread on each GPU ping-pongs a counter through the
// other GPU's memory (peer access enabled), with the same store + __threadfence() the same-GPU
// floor (fl_k2k in floors.cu) uses. out[0] = total ns of `iters` round trips on the starter, 0 on
// timeout (a partner that never started).
extern "C" __global__ void fl_p2p(volatile unsigned long long* mine, volatile unsigned long long* theirs,
                                  unsigned long long iters, unsigned long long starter,
                                  unsigned long long* out, unsigned long long deadline_ns) {
  if (threadIdx.x || blockIdx.x) return;
  unsigned long long t0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  for (unsigned long long e = 1; e <= iters; ++e) {
    if (starter) {
      *theirs = e;
      __threadfence_system();
    }
    while (*mine < e) {
      unsigned long long t;
      asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
      if (t - t0 > deadline_ns) return;
    }
    if (!starter) {
      *theirs = e;
      __threadfence_system();
    }
  }
  unsigned long long t1;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t1));
  out[0] = t1 - t0;
}
