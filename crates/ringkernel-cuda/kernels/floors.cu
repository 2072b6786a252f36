// Raw physical floors, measured in the same process as the framework so every benchmark has its
// baseline rerun on the same card (the same kernels as shared/floors/*.cu, compiled by NVRTC).

__device__ __forceinline__ unsigned long long fl_gtime() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

extern "C" __global__ void fl_empty() {}

// Host writes e into h2d[0]; the GPU answers with e in d2h[0]. Gives up after `deadline_ns`.
extern "C" __global__ void fl_pingpong(volatile unsigned long long* h2d, volatile unsigned long long* d2h,
                                       unsigned long long iters, unsigned long long deadline_ns) {
  if (threadIdx.x) return;
  const unsigned long long t0 = fl_gtime();
  for (unsigned long long e = 1; e <= iters; ++e) {
    while (*h2d < e) {
      if (fl_gtime() - t0 > deadline_ns) { d2h[1] = 1; return; }
    }
    *d2h = e;
    __threadfence_system();
  }
}

struct __align__(64) fl_msg { unsigned long long seq; unsigned long long payload[7]; };
struct __align__(128) fl_ctl { volatile unsigned long long head; char pad[120]; volatile unsigned long long tail; char pad2[120]; };

// One consumer block per ring: thread 0 polls the producer's head, the block reads [done, head)
// and sums payload[0], thread 0 publishes the tail.
extern "C" __global__ void fl_consume(const fl_msg* rings, fl_ctl* ctls, unsigned long long cap,
                                      unsigned long long total, unsigned long long* sums,
                                      unsigned long long deadline_ns) {
  const fl_msg* ring = rings + blockIdx.x * cap;
  fl_ctl* c = ctls + blockIdx.x;
  __shared__ unsigned long long h_s;
  const unsigned long long t0 = fl_gtime();
  unsigned long long done = 0, sum = 0;
  while (done < total) {
    if (threadIdx.x == 0) {
      unsigned long long h;
      do { h = c->head; } while (h == done && fl_gtime() - t0 < deadline_ns);
      h_s = h;
    }
    __syncthreads();
    const unsigned long long h = h_s;
    if (h == done) break;
    for (unsigned long long i = done + threadIdx.x; i < h; i += blockDim.x) {
      const volatile fl_msg* m = ring + (i % cap);
      sum += m->payload[0];
    }
    __syncthreads();
    done = h;
    if (threadIdx.x == 0) { c->tail = done; __threadfence_system(); }
  }
  atomicAdd(sums, sum);
}

// K2K floor: blocks 0 and 1 ping-pong a flag through global memory (both resident), as
// shared/floors/floors.cu measures it. ns[0] = total time of `iters` round trips (0 on timeout).
extern "C" __global__ void fl_k2k(volatile unsigned long long* flags, unsigned long long iters,
                                  unsigned long long* ns, unsigned long long deadline_ns) {
  if (threadIdx.x) return;
  const unsigned long long t0 = fl_gtime();
  volatile unsigned long long* mine = flags + blockIdx.x * 16;
  volatile unsigned long long* other = flags + (1 - blockIdx.x) * 16;
  for (unsigned long long e = 1; e <= iters; ++e) {
    if (blockIdx.x == 0) {
      *other = e;
      __threadfence();
      while (*mine < e) { if (fl_gtime() - t0 > deadline_ns) return; }
    } else {
      while (*mine < e) { if (fl_gtime() - t0 > deadline_ns) return; }
      *other = e;
      __threadfence();
    }
  }
  if (blockIdx.x == 0) ns[0] = fl_gtime() - t0;
}

// fl_k2k between two chosen SMs: the flag's latency depends on where the two blocks run (on an
// H100 a pair of SMs is either ~265 or ~365 ns apart, whatever the flag's address). Launched
// with several blocks per SM; on SM `sm_a` and on SM `sm_b` the first block to arrive claims
// the role (claims[0] and claims[1]), every other block leaves at once. The claimer on `sm_a`
// starts; its clock starts after a first, untimed round trip, so the partner's start-up (it may
// be scheduled after hundreds of blocks) is not counted. ns[0] = total time of `iters` round
// trips (0 on timeout or if a role was not taken). Kept apart from fl_k2k, which mirrors
// shared/floors.
extern "C" __global__ void fl_k2k_between(volatile unsigned long long* flags, unsigned sm_a, unsigned sm_b,
                                          unsigned long long iters, unsigned long long* ns, unsigned* claims,
                                          unsigned long long deadline_ns) {
  if (threadIdx.x) return;
  unsigned sm;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
  int role = -1;
  if (sm == sm_a && atomicCAS(&claims[0], 0u, 1u) == 0u) role = 0;
  else if (sm == sm_b && atomicCAS(&claims[1], 0u, 1u) == 0u) role = 1;
  if (role < 0) return;
  const unsigned long long start = fl_gtime();
  unsigned long long t0 = start;
  volatile unsigned long long* mine = flags + role * 16;
  volatile unsigned long long* other = flags + (1 - role) * 16;
  for (unsigned long long e = 1; e <= iters + 1; ++e) {
    if (role == 0) {
      *other = e;
      __threadfence();
      while (*mine < e) { if (fl_gtime() - start > deadline_ns) return; }
      if (e == 1) t0 = fl_gtime();
    } else {
      while (*mine < e) { if (fl_gtime() - start > deadline_ns) return; }
      *other = e;
      __threadfence();
    }
  }
  if (role == 0) ns[0] = fl_gtime() - t0;
}
