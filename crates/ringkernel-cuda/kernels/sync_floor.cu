// What one barrier costs on the device: a cluster-wide sync (thread block cluster, Hopper) and a
// grid-wide sync (cooperative launch). Each block runs `iters` rounds of 8 back-to-back syncs
// after one warm-up sync, and its thread 0 writes the elapsed %globaltimer ns to out[block]; the
// host divides the slowest block's time by 8 * iters. Nothing else is in the loop, so the figure
// is the sync itself (plus a counter increment per 8 syncs).
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

__device__ __forceinline__ unsigned long long fl_now() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

extern "C" __global__ void fl_cluster_sync(unsigned long long iters, unsigned long long* out) {
  cg::cluster_group c = cg::this_cluster();
  c.sync();
  const unsigned long long t0 = fl_now();
  for (unsigned long long i = 0; i < iters; ++i) {
#pragma unroll
    for (int k = 0; k < 8; ++k) c.sync();
  }
  const unsigned long long t1 = fl_now();
  if (threadIdx.x == 0) out[blockIdx.x] = t1 - t0;
}

extern "C" __global__ void fl_grid_sync(unsigned long long iters, unsigned long long* out) {
  cg::grid_group g = cg::this_grid();
  g.sync();
  const unsigned long long t0 = fl_now();
  for (unsigned long long i = 0; i < iters; ++i) {
#pragma unroll
    for (int k = 0; k < 8; ++k) g.sync();
  }
  const unsigned long long t1 = fl_now();
  if (threadIdx.x == 0) out[blockIdx.x] = t1 - t0;
}
