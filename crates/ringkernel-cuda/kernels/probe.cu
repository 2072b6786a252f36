// RingKernel probe kernels (sm_90, Hopper).
//
// Why: CI compiles this with NVRTC (no GPU needed) to prove that the device features the runtime
// is built on compile together with the headers we ship against: cooperative groups (grid and
// block groups), thread block clusters with distributed shared memory (DSMEM), and libcu++
// system-scope atomics (the primitive of host<->device rings in mapped memory). The GPU tests
// launch the same kernels and check their results.
//
// Launch contracts:
//
// rk_probe_cluster(out, done)
//   Cluster size RK_PROBE_CLUSTER (2) is compiled in (__cluster_dims__), so a plain launch works;
//   gridDim.x must be a multiple of it; any blockDim.x in 1..=1024.
//   out:  unsigned int[gridDim.x], device or mapped memory.
//         out[b] = (global rank of the next block in b's cluster, wrapping) + 1,
//         i.e. for b = RK_PROBE_CLUSTER*c + r: out[b] = RK_PROBE_CLUSTER*c + (r+1)%RK_PROBE_CLUSTER + 1.
//         The value is read from the peer's shared memory through DSMEM.
//   done: one 8-byte-aligned unsigned long long (mapped host memory in the tests); each block adds
//         1 with a system-scope release, so when the host sees gridDim.x every `out` write is
//         visible to it.
//
// rk_probe_grid(slots, out)
//   Needs a cooperative launch (cuLaunchCooperativeKernel) with all blocks co-resident, because
//   of grid.sync().
//   slots, out: unsigned int[gridDim.x]. out[b] = ((b + 1) % gridDim.x) + 1.

#include <cooperative_groups.h>
#include <cuda/atomic>

namespace cg = cooperative_groups;

#define RK_PROBE_CLUSTER 2

extern "C" __global__ void __cluster_dims__(RK_PROBE_CLUSTER, 1, 1)
rk_probe_cluster(unsigned int* out, unsigned long long* done)
{
    __shared__ unsigned int mine;
    const cg::thread_block block = cg::this_thread_block();
    cg::cluster_group cluster = cg::this_cluster();
    const cg::grid_group grid = cg::this_grid();
    const unsigned long long me = grid.block_rank();

    if (block.thread_rank() == 0) {
        mine = static_cast<unsigned int>(me) + 1u;
    }
    // Every block's `mine` must be written before any peer reads it through DSMEM.
    cluster.sync();

    if (block.thread_rank() == 0) {
        const unsigned int peer = (cluster.block_rank() + 1u) % cluster.num_blocks();
        const unsigned int* theirs = cluster.map_shared_rank(&mine, peer);
        out[me] = *theirs;
        // Release at system scope: the host, polling `done` in mapped memory, must also see `out`.
        cuda::atomic_ref<unsigned long long, cuda::thread_scope_system> finished(*done);
        finished.fetch_add(1ull, cuda::std::memory_order_release);
    }
    // A block's shared memory dies with the block: keep it alive until every peer has read it.
    cluster.sync();
}

extern "C" __global__ void rk_probe_grid(unsigned int* slots, unsigned int* out)
{
    const cg::grid_group grid = cg::this_grid();
    const cg::thread_block block = cg::this_thread_block();
    const unsigned long long me = grid.block_rank();
    const unsigned long long n = grid.num_blocks();

    if (block.thread_rank() == 0) {
        slots[me] = static_cast<unsigned int>(me) + 1u;
    }
    // All slots are written (and visible grid-wide) before any block reads its neighbour's.
    grid.sync();
    if (block.thread_rank() == 0) {
        out[me] = slots[(me + 1ull) % n];
    }
}
