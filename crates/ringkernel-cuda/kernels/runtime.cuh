// RingKernel device runtime: ring access, the per-block HLC, reply stamping. Included after the generated
// layout header (layout.rs), which defines rk_slot, rk_envelope, rk_params and the constants.
#pragma once
#include <cuda/atomic>

typedef unsigned long long rk_u64;
typedef unsigned int rk_u32;

// What a handler may learn about the message it is processing (the first three fields mirror
// ringkernel_core::Context); the rest is the runtime's, for rk_k2k_tell.
struct rk_ctx {
  rk_u32 self_id;
  rk_u32 sender;
  rk_u64 timestamp;
  const rk_params* rt;
  rk_u64* clock;
};

#define RK_FULL_MASK 0xffffffffu
// Scope of the atomics on K2K inboxes. In a runtime that spans GPUs, senders on other GPUs claim
// slots of the same inbox over NVLink/PCIe, and the PTX memory model makes atomics from threads
// of different GPUs morally strong only at system scope.
#ifdef RK_MULTI_GPU
#define RK_K2K_SCOPE cuda::thread_scope_system
#else
#define RK_K2K_SCOPE cuda::thread_scope_device
#endif
// Slots a warp examines per poll at most: 8 loads of 16 bytes per lane, 8 lanes per slot. All
// loads of one poll are in flight together, so a PCIe round trip brings up to 32 messages.
#define RK_WINDOW 32

__device__ __forceinline__ rk_u64 rk_globaltimer() {
  rk_u64 t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// The SM this thread runs on. The transpiler's prelude has the same helper under the same
// guard, so a program may include both.
#ifndef RK_HAVE_SMID
#define RK_HAVE_SMID
static __device__ __forceinline__ unsigned int rk_smid() {
  unsigned int s;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(s));
  return s;
}
#endif

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
// `wall` is the clock's reading as (ms << 16), taken by the caller: a stale one keeps the HLC
// monotonic and ahead of `floor`; only its physical part lags.
__device__ __forceinline__ rk_u64 rk_hlc_at(rk_u64* clock, rk_u64 floor, rk_u64 wall) {
  rk_u64 next = *clock + 1;
  if (wall > next) next = wall;
  if (floor > next) next = floor;
  *clock = next;
  return next;
}

// What `*clock` holds after rk_hlc_at(clock, floor, wall) and then rk_hlc_at(clock, 0, wall) (a
// message merged, then an answer stamped), computed from the inputs in one step:
// max(clock + 2, wall + 1, floor + 1). The answer's stamp then does not wait on the merge.
__device__ __forceinline__ rk_u64 rk_hlc_at_then_tick(rk_u64 clock, rk_u64 floor, rk_u64 wall) {
  rk_u64 next = clock + 2;
  if (wall + 1 > next) next = wall + 1;
  if (floor + 1 > next) next = floor + 1;
  return next;
}

// A %globaltimer reading (ns) in the HLC's packing, for rk_hlc_at.
__device__ __forceinline__ rk_u64 rk_hlc_wall(rk_u64 ns) { return (ns / 1000000ull) << 16; }

__device__ __forceinline__ rk_u64 rk_hlc_local(rk_u64* clock, rk_u64 floor) {
  return rk_hlc_at(clock, floor, rk_hlc_wall(rk_globaltimer()));
}

// Claims `n` consecutive positions in the device->host ring, waiting (never overwriting) while the
// host has not consumed far enough. Called by one lane.
template <class P>
__device__ rk_u64 rk_d2h_claim(const P& p, rk_u32 n) {
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


// Writes one envelope into device->host position `base` from a single lane (rare paths: dead
// letters recorded inside a handler). Same stamps as rk_d2h_write: seq_a with the first words,
// seq_b = (pos + 1) ^ hash with the last, so the host accepts the slot only once complete.
template <class P>
__device__ void rk_d2h_write_one(const P& p, const rk_envelope* env, rk_u64 base) {
  rk_slot* s = (rk_slot*)p.d2h_slots + (base & (p.d2h_capacity - 1));
  const rk_u64* w = (const rk_u64*)env;
  const rk_u64 stamp = base + 1;
  rk_store16(s, stamp, w[0]);
  for (int i = 1; i < 7; ++i) rk_store16((char*)s + 16 * i, w[2 * i - 1], w[2 * i]);
  rk_store16((char*)s + 112, w[13], stamp ^ rk_envelope_hash(w));
}

// Records `e` as a dead letter with reason flags `why` (RK_DEAD_*): drained to the host.
__device__ rk_u32 rk_dead_letter(const rk_params& p, rk_envelope* e, unsigned short why) {
  e->header.flags = why;
  rk_d2h_write_one(p, e, rk_d2h_claim(p, 1));
  return RK_K2K_DEAD;
}

// Sends `len` bytes of `payload` as message `type_id` to actor `target` (K2K): a block of this
// grid, or in a multi-GPU runtime a runtime-wide id on any of its GPUs.
// Returns RK_K2K_OK when it is in the target's inbox; RK_K2K_FULL when the inbox has no free slot
// and `on_full` is RK_ON_FULL_FAIL (nothing recorded: the handler decides); RK_K2K_DEAD when it
// was recorded as a dead letter (unknown or stopped target, wrong type or size, or full under
// RK_ON_FULL_DEAD_LETTER). Never overwrites and never waits: a handler that must not lose a
// message keeps it and retries on a later message. Call from the handler's thread only.
//
// The inbox is a bounded Vyukov MPSC queue in device memory: position p lives in slot p % cap,
// lap L = p / cap; the slot is free for p when seq_a == 2L and holds p's message when
// seq_a == 2L+1; the consumer frees it for the next lap by storing 2L+2. A producer claims p by
// CAS on the tail only after seeing the slot free, so "full" is a real check, never a
// claim-then-hope. No fences: a device-scope release or acquire costs a MEMBAR.GPU (~340 ns on an
// H100, see gpu-bench's op costs), so, as on the device->host ring, seq_b = (2L+1) ^ hash(words)
// lets the consumer accept a slot only once all of it has arrived (rk_k2k_take).
__device__ rk_u32 rk_k2k_tell(const rk_ctx* ctx, rk_u32 target, rk_u32 type_id, const void* payload,
                              rk_u32 len, rk_u32 on_full) {
  const rk_params& p = *ctx->rt;
  // The envelope is built in registers (fully unrolled, constant indices), copying the payload
  // a word at a time when it is aligned. (Measured: this did not shorten a send, ~1.6-1.8 us on
  // an H100; the chain of dependent L2 round trips below is what a send waits for.)
  const rk_u32 plen = len > RK_MAX_PAYLOAD ? RK_MAX_PAYLOAD : len;
  rk_u64 ew[RK_ENVELOPE_WORDS];
  ew[0] = (rk_u64)ctx->self_id | ((rk_u64)target << 32);
  ew[1] = (rk_u64)type_id | ((rk_u64)plen << 32);
  ew[2] = 0;
  ew[3] = rk_hlc_local(ctx->clock, 0);
  const unsigned char* src = (const unsigned char*)payload;
  if (((unsigned long long)src & 7) == 0) {
#pragma unroll
    for (int i = 0; i < RK_ENVELOPE_WORDS - 4; ++i) {
      rk_u64 v = 0;
      if (8 * (rk_u32)i + 8 <= plen) {
        v = ((const rk_u64*)src)[i];
      } else if (8 * (rk_u32)i < plen) {
        for (rk_u32 k = 0; 8 * (rk_u32)i + k < plen; ++k) v |= (rk_u64)src[8 * i + k] << (8 * k);
      }
      ew[4 + i] = v;
    }
  } else {
#pragma unroll
    for (int i = 0; i < RK_ENVELOPE_WORDS - 4; ++i) {
      rk_u64 v = 0;
      for (rk_u32 k = 0; k < 8 && 8 * (rk_u32)i + k < plen; ++k) v |= (rk_u64)src[8 * i + k] << (8 * k);
      ew[4 + i] = v;
    }
  }
  // Dead-letter paths copy the words out, so `ew` itself never has its address taken.
  auto dead = [&](unsigned short why) {
    rk_envelope d;
    rk_u64* dw = (rk_u64*)&d;
#pragma unroll
    for (int i = 0; i < RK_ENVELOPE_WORDS; ++i) dw[i] = ew[i];
    return rk_dead_letter(p, &d, why);
  };
  auto no_credit = [&]() {
    return on_full == RK_ON_FULL_DEAD_LETTER ? dead(RK_DEAD_FULL) : RK_K2K_FULL;
  };
  // Where the target lives. On one GPU the target is a block of this grid. In a multi-GPU
  // runtime it is a runtime-wide id: this GPU's copy of the route table names the GPU and block,
  // and the peer directory gives that GPU's addresses (unified, so the stores below go straight
  // to the other GPU's memory). Volatile loads: the host rewrites both while the kernel runs.
  rk_u64 table = p.actor_table, slots = p.k2k_slots, tails = p.k2k_tails, wake = p.wake;
  rk_u64 blocks = p.actor_blocks, cap = p.k2k_capacity;
  rk_u32 blk = target;
  if (p.routes != 0) {
    if (target >= p.route_count) return dead(RK_DEAD_UNKNOWN);
    const rk_u32 r = *((volatile const rk_u32*)p.routes + target);
    if (r == RK_ROUTE_NONE) return dead(RK_DEAD_UNKNOWN);
    if (r == RK_ROUTE_MOVING) return no_credit();
    const volatile rk_peer* d = (const volatile rk_peer*)p.peers + (r >> RK_ROUTE_GPU_SHIFT);
    blk = r & RK_ROUTE_BLOCK_MASK;
    table = d->actor_table;
    slots = d->k2k_slots;
    tails = d->k2k_tails;
    wake = d->wake;
    blocks = d->actor_blocks;
    cap = d->k2k_capacity;
  }
  if (blk >= blocks) return dead(RK_DEAD_UNKNOWN);
  // The entry is a hint (an actor that stops after this check turns the message into a dead
  // letter on its side), so relaxed loads suffice.
  const rk_actor_entry* entry = (const rk_actor_entry*)table + blk;
  const rk_u32 mode = *(volatile const rk_u32*)&entry->mode;
  if (mode == RK_MODE_DORMANT) return dead(RK_DEAD_UNKNOWN);
  if (mode == RK_MODE_MOVED) return no_credit();
  if (mode != RK_MODE_ACTIVE) return dead(RK_DEAD_STOPPED);
  if (len > RK_MAX_PAYLOAD || *(volatile const rk_u32*)&entry->msg_type != type_id ||
      *(volatile const rk_u32*)&entry->msg_size != len) {
    return dead(RK_DEAD_REJECTED);
  }
  rk_slot* ring = (rk_slot*)slots + (rk_u64)blk * cap;
  cuda::atomic_ref<rk_u64, RK_K2K_SCOPE> tail(((rk_index_line*)tails)[blk].value);
  rk_u64 pos = tail.load(cuda::memory_order_relaxed);
  rk_slot* s;
  while (true) {
    // A sealed inbox (its actor is migrating) takes nothing more; every claim below compares
    // against the whole tail, so none can succeed once the bit is set.
    if (pos & RK_K2K_SEALED) return no_credit();
    s = ring + (pos & (cap - 1));
    const rk_u64 free_seq = 2 * (pos / cap);
    const rk_u64 seq = *(volatile rk_u64*)&s->seq_a;
    if (seq == free_seq) {
      if (tail.compare_exchange_weak(pos, pos + 1, cuda::memory_order_relaxed,
                                     cuda::memory_order_relaxed)) {
        break;
      }
    } else if (seq < free_seq) {
      // The slot still holds the message from the previous lap: no credit left.
      return no_credit();
    } else {
      pos = tail.load(cuda::memory_order_relaxed);
    }
  }
  const rk_u64 stamp = 2 * (pos / cap) + 1;
  // A K2K tell has no correlation; it carries its publication time, so the receiving block can
  // measure how long messages wait in its inbox (BlockStatus::k2k_wait_ns).
  ew[2] = rk_globaltimer();
  rk_store16(s, stamp, ew[0]);
#pragma unroll
  for (int i = 1; i < 7; ++i) rk_store16((char*)s + 16 * i, ew[2 * i - 1], ew[2 * i]);
  rk_store16((char*)s + 112, ew[13], stamp ^ rk_envelope_hash(ew));
  // Wake the target if it waits cold; it compares the word with the last value it saw, so a
  // bump is never missed, at worst it wakes once for nothing. Result unused: a fire-and-forget
  // reduction, no round trip.
  cuda::atomic_ref<rk_u64, RK_K2K_SCOPE>(*((rk_u64*)wake + 16 * (rk_u64)blk))
      .fetch_add(1, cuda::memory_order_relaxed);
  return RK_K2K_OK;
}

// Whether the K2K slot at position `head` of an inbox of `cap` slots looks filled (a cheap
// relaxed look; rk_k2k_take checks that the whole slot has arrived).
__device__ __forceinline__ bool rk_k2k_peek(const rk_slot* inbox, rk_u64 cap, rk_u64 head) {
  const rk_slot* s = inbox + (head & (cap - 1));
  return *(volatile const rk_u64*)&s->seq_a == 2 * (head / cap) + 1;
}

// Copies the message at `head` into `out` and frees its slot for the next lap, if the whole slot
// has arrived (seq_a and the hashed seq_b agree with the words read); false otherwise.
__device__ bool rk_k2k_take(rk_slot* inbox, rk_u64 cap, rk_u64 head, rk_envelope* out) {
  rk_slot* s = inbox + (head & (cap - 1));
  const rk_u64 stamp = 2 * (head / cap) + 1;
  rk_u64 w[RK_ENVELOPE_WORDS];
  rk_u64 a, b;
  rk_load16(s, a, w[0]);
#pragma unroll
  for (int i = 1; i < 7; ++i) rk_load16((const char*)s + 16 * i, w[2 * i - 1], w[2 * i]);
  rk_load16((const char*)s + 112, w[13], b);
  if (a != stamp || b != (stamp ^ rk_envelope_hash(w))) return false;
  rk_u64* o = (rk_u64*)out;
#pragma unroll
  for (int i = 0; i < RK_ENVELOPE_WORDS; ++i) o[i] = w[i];
  // The hash above consumed every load, so they have returned before this store issues: the
  // next lap's producer cannot overwrite words we have not read yet.
  *(volatile rk_u64*)&s->seq_a = stamp + 1;
  return true;
}

// Copies the message at `head` into `out` if the whole slot has arrived, without taking it (a
// snapshot of the inbox: only the block's own lane 0 takes, and it is the caller).
__device__ bool rk_k2k_read(const rk_slot* inbox, rk_u64 cap, rk_u64 head, rk_envelope* out) {
  const rk_slot* s = inbox + (head & (cap - 1));
  const rk_u64 stamp = 2 * (head / cap) + 1;
  rk_u64 w[RK_ENVELOPE_WORDS];
  rk_u64 a, b;
  rk_load16(s, a, w[0]);
#pragma unroll
  for (int i = 1; i < 7; ++i) rk_load16((const char*)s + 16 * i, w[2 * i - 1], w[2 * i]);
  rk_load16((const char*)s + 112, w[13], b);
  if (a != stamp || b != (stamp ^ rk_envelope_hash(w))) return false;
  rk_u64* o = (rk_u64*)out;
#pragma unroll
  for (int i = 0; i < RK_ENVELOPE_WORDS; ++i) o[i] = w[i];
  return true;
}

// The context of the handler running now on this block (set by the persistent kernel before each
// dispatch), for sends that do not take it as an argument: rk_k2k_tell_u64, which the transpiler's
// `k2k_tell_u64` intrinsic maps to.
__shared__ const rk_ctx* rk_cur_ctx;

// Sends the 8-byte message `value` of type `type_id` to `target` (RK_ON_FULL_FAIL policy: a full
// inbox returns RK_K2K_FULL and nothing is recorded). Same results as rk_k2k_tell.
__device__ rk_u32 rk_k2k_tell_u64(rk_u32 target, rk_u32 type_id, rk_u64 value) {
  return rk_k2k_tell(rk_cur_ctx, target, type_id, &value, 8, RK_ON_FULL_FAIL);
}
