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

// The raw DSMEM floor: the two blocks of a cluster ping-pong a counter, each writing into the
// other's shared memory and spinning on its own (launched in clusters of 2, 2 blocks). Block 0's
// thread 0 writes the elapsed ns to out[0] (0 if the 2 s deadline hit).
extern "C" __global__ void fl_dsmem_pingpong(unsigned long long iters, unsigned long long* out) {
  __shared__ volatile unsigned long long box;
  cg::cluster_group cl = cg::this_cluster();
  if (threadIdx.x == 0) box = 0;
  cl.sync();
  const unsigned rank = cl.block_rank();
  volatile unsigned long long* other =
      (volatile unsigned long long*)cl.map_shared_rank((unsigned long long*)&box, rank ^ 1);
  if (threadIdx.x == 0) {
    const unsigned long long t0 = fl_now();
    bool late = false;
    for (unsigned long long e = 1; e <= iters && !late; ++e) {
      if (rank == 0) *other = e;
      while (box < e) {
        if (fl_now() - t0 > 2000000000ull) { late = true; break; }
      }
      if (rank == 1) *other = e;
    }
    if (rank == 0) out[0] = late ? 0 : fl_now() - t0;
  }
  cl.sync();
}
