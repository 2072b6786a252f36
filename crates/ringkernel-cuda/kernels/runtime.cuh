// RingKernel device runtime: ring access, the per-block HLC, reply stamping. Included after the generated
// layout header (layout.rs), which defines rk_slot, rk_envelope, rk_params and the constants.
#pragma once
#include <cuda/atomic>

typedef unsigned long long rk_u64;
typedef unsigned int rk_u32;

// What a handler may learn about the message it is processing (mirrors ringkernel_core::Context).
struct rk_ctx {
  rk_u32 self_id;
  rk_u32 sender;
  rk_u64 timestamp;
};

#define RK_FULL_MASK 0xffffffffu
// Slots a warp examines per poll at most: 8 loads of 16 bytes per lane, 8 lanes per slot. All
// loads of one poll are in flight together, so a PCIe round trip brings up to 32 messages.
#define RK_WINDOW 32

__device__ __forceinline__ rk_u64 rk_globaltimer() {
  rk_u64 t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// One 16-byte load that bypasses the L1 and observes host writes (volatile == relaxed.sys on
// sm_70+). Eight lanes together read a whole 128-byte slot in one PCIe request.
__device__ __forceinline__ void rk_load16(const void* p, rk_u64& a, rk_u64& b) {
  asm volatile("ld.volatile.global.v2.u64 {%0, %1}, [%2];" : "=l"(a), "=l"(b) : "l"(p) : "memory");
}

__device__ __forceinline__ void rk_store16(void* p, rk_u64 a, rk_u64 b) {
  asm volatile("st.volatile.global.v2.u64 [%0], {%1, %2};" ::"l"(p), "l"(a), "l"(b) : "memory");
}

// Release store of a u64 that the host polls (system scope: the host is the observer).
__device__ __forceinline__ void rk_store_release_sys(rk_u64* p, rk_u64 v) {
  cuda::atomic_ref<rk_u64, cuda::thread_scope_system> a(*p);
  a.store(v, cuda::memory_order_release);
}

__device__ __forceinline__ rk_u64 rk_load_acquire_sys(rk_u64* p) {
  cuda::atomic_ref<rk_u64, cuda::thread_scope_system> a(*p);
  return a.load(cuda::memory_order_acquire);
}

// HLC held privately by one thread (a block actor is its own HLC node), same packing as
// ringkernel_core::HlcTimestamp: 48-bit ms since the Unix epoch, 16-bit logical. Returns a
// timestamp greater than every earlier one and than `floor - 1`.
__device__ __forceinline__ rk_u64 rk_hlc_local(rk_u64* clock, rk_u64 floor) {
  const rk_u64 wall = (rk_globaltimer() / 1000000ull) << 16;
  rk_u64 next = *clock + 1;
  if (wall > next) next = wall;
  if (floor > next) next = floor;
  *clock = next;
  return next;
}

// Claims `n` consecutive positions in the device->host ring, waiting (never overwriting) while the
// host has not consumed far enough. Called by one lane.
__device__ rk_u64 rk_d2h_claim(const rk_params& p, rk_u32 n) {
  cuda::atomic_ref<rk_u64, cuda::thread_scope_device> tail(*(rk_u64*)p.d2h_tail);
  const rk_u64 base = tail.fetch_add(n, cuda::memory_order_relaxed);
  cuda::atomic_ref<rk_u64, cuda::thread_scope_device> cache(*(rk_u64*)p.d2h_head_cache);
  rk_u64 head = cache.load(cuda::memory_order_relaxed);
  unsigned backoff = 64;
  while (base + n > head + p.d2h_capacity) {
    head = rk_load_acquire_sys(&((rk_index_line*)p.d2h_head)->value);
    cache.fetch_max(head, cuda::memory_order_relaxed);
    if (base + n <= head + p.d2h_capacity) break;
    __nanosleep(backoff);
    if (backoff < 4096) backoff <<= 1;
  }
  return base;
}

// Hash of an envelope's 14 words that stamps device->host slots (seq_b = (pos + 1) ^ hash), so
// the host can tell a complete slot from a partly arrived one without a fence on the device.
// Must equal ringkernel_cuda::layout::envelope_hash (a GPU test checks that every reply verifies).
__device__ __forceinline__ rk_u64 rk_mix64(rk_u64 z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
__device__ __forceinline__ rk_u64 rk_envelope_hash(const rk_u64* env) {
  rk_u64 h = 0x9E3779B97F4A7C15ull;
#pragma unroll
  for (int i = 0; i < RK_ENVELOPE_WORDS; ++i) {
    h ^= rk_mix64(env[i] + (rk_u64)(i + 1) * 0x9E3779B97F4A7C15ull);
  }
  return h;
}

// Writes `count` envelopes from shared memory to device->host positions base.. with the whole
// warp, 8 lanes per 128-byte slot, each lane one 16-byte store: seq_a travels with the first
// words and the hashed seq_b with the last, in the same coalesced write as the data. The host
// accepts a slot only when seq_a == pos + 1 and seq_b == (pos + 1) ^ hash(words it read), so a
// slot whose bytes have only partly arrived is simply read again; no system fence is needed
// between the data and its stamps (layout.rs has the protocol). With RK_D2H_FENCED the stamps
// are written after a __threadfence_system() instead (kept to measure what the fence costs).
__device__ void rk_d2h_write(const rk_params& p, const rk_envelope* out, rk_u32 count, rk_u64 base) {
  const rk_u32 lane = threadIdx.x & 31;
  rk_slot* ring = (rk_slot*)p.d2h_slots;
  const rk_u64 mask = p.d2h_capacity - 1;
  for (rk_u32 first = 0; first < count; first += 4) {
    const rk_u32 j = first + (lane >> 3);
    const rk_u32 w = lane & 7;
    if (j < count) {
      const rk_u64* env = (const rk_u64*)&out[j];
      rk_slot* s = ring + ((base + j) & mask);
      const rk_u64 stamp = base + j + 1;
#ifdef RK_D2H_FENCED
      if (w == 0) {
        ((volatile rk_u64*)s)[1] = env[0];
      } else if (w == 7) {
        ((volatile rk_u64*)s)[14] = env[13];
      } else {
        rk_store16((char*)s + 16 * w, env[2 * w - 1], env[2 * w]);
      }
#else
      if (w == 0) {
        rk_store16(s, stamp, env[0]);
      } else if (w == 7) {
        rk_store16((char*)s + 112, env[13], stamp ^ rk_envelope_hash(env));
      } else {
        rk_store16((char*)s + 16 * w, env[2 * w - 1], env[2 * w]);
      }
#endif
    }
  }
#ifdef RK_D2H_FENCED
  __threadfence_system();
  __syncwarp();
  for (rk_u32 first = 0; first < count; first += 4) {
    const rk_u32 j = first + (lane >> 3);
    const rk_u32 w = lane & 7;
    if (j < count && (w == 0 || w == 7)) {
      rk_slot* s = ring + ((base + j) & mask);
      const rk_u64 stamp = base + j + 1;
      if (w == 0) {
        *(volatile rk_u64*)&s->seq_a = stamp;
      } else {
        *(volatile rk_u64*)&s->seq_b = stamp ^ rk_envelope_hash((const rk_u64*)&out[j]);
      }
    }
  }
#endif
  __syncwarp();
}
