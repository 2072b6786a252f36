// RingKernel swarm: lightweight actors scheduled by persistent worker warps. Included after the
// generated layout header (rk_sw_* structs and constants from src/swarm/layout.rs) and
// runtime.cuh (device->host ring, HLC, hash).
//
// Memory ordering, and why there are almost no fences: a device-scope release costs a
// MEMBAR.GPU (~340 ns on an H100), more than the whole latency budget of a message. So
//  - every slot that carries a message is self-validating: `seq` holds the lap tag and `check`
//    a hash of the rest, so a consumer accepts it only once all of it has arrived;
//  - claims (mailbox tails, ready-queue tails and heads, pending counts) are relaxed atomics;
//  - the one fence is at the end of an actor's turn, before the worker gives the actor up
//    (its state must be visible to whichever worker takes it next). The kernel is loaded with
//    global loads cached in L2 only (CU_JIT_CACHE_MODE = CG), so no worker reads a stale L1
//    copy of a state another SM wrote.
// A lap tag is 2*lap (free for that lap) or 2*lap+1 (holds that lap's item); zeroed memory is
// free for lap 0.
#pragma once
#include <cooperative_groups.h>

namespace rk_cg = cooperative_groups;

// Handlers see this: who they are and what they may call. One per lane; the kernel sums the
// counters into the block's rk_sw_stats after each round with work (a pinned warp's on its
// first round without, see rk_swarm's loop).
struct rk_sw_ctx {
  rk_u32 self;
  rk_u32 type;
  rk_u32 block;
  rk_u32 yield;
  rk_u32 stopped;  // set by rk_sw_stop_self: the rest of the turn's messages are dead letters
  rk_u64 hlc;
  rk_u64 rng;
  const rk_sw_params* p;
  rk_u64 enqueued, dead, full, spawned, dsmem, dropped;
  // A pinned actor's warp only: its channel table (per receiver slot: tail, known head, slot
  // and credit addresses), the first pinned id and the number of pinned slots.
  rk_u64* pin_out;
  rk_u32 pin_base;
  rk_u32 pin_n;
};

// Most cluster-tier actors per block and mailbox slots each (shared memory: 16 x 8 x 64 B).
#define RK_SW_LOCAL_MAX 16
#define RK_SW_LOCAL_SLOTS 8

struct __align__(64) rk_sw_local {
  rk_u64 tail;
  rk_u64 head;
  rk_u64 pad[6];
  rk_sw_msg slots[RK_SW_LOCAL_SLOTS];
};
__shared__ rk_sw_local rk_sw_locals[RK_SW_LOCAL_MAX];

// ---- relaxed atomics (device scope; generic variants reach DSMEM at cluster scope) ----
__device__ __forceinline__ rk_u64 rk_sw_ld64(const rk_u64* a) {
  return cuda::atomic_ref<rk_u64, cuda::thread_scope_device>(*(rk_u64*)a).load(cuda::memory_order_relaxed);
}
__device__ __forceinline__ rk_u32 rk_sw_ld32(const rk_u32* a) {
  return cuda::atomic_ref<rk_u32, cuda::thread_scope_device>(*(rk_u32*)a).load(cuda::memory_order_relaxed);
}
__device__ __forceinline__ void rk_sw_st64(rk_u64* a, rk_u64 v) {
  cuda::atomic_ref<rk_u64, cuda::thread_scope_device>(*a).store(v, cuda::memory_order_relaxed);
}
__device__ __forceinline__ void rk_sw_st32(rk_u32* a, rk_u32 v) {
  cuda::atomic_ref<rk_u32, cuda::thread_scope_device>(*a).store(v, cuda::memory_order_relaxed);
}
__device__ __forceinline__ bool rk_sw_cas64(rk_u64* a, rk_u64 expect, rk_u64 v) {
  return cuda::atomic_ref<rk_u64, cuda::thread_scope_device>(*a).compare_exchange_strong(
      expect, v, cuda::memory_order_relaxed);
}
__device__ __forceinline__ rk_u64 rk_sw_add64(rk_u64* a, rk_u64 v) {
  return cuda::atomic_ref<rk_u64, cuda::thread_scope_device>(*a).fetch_add(v, cuda::memory_order_relaxed);
}
__device__ __forceinline__ rk_u32 rk_sw_add32(rk_u32* a, rk_u32 v) {
  return cuda::atomic_ref<rk_u32, cuda::thread_scope_device>(*a).fetch_add(v, cuda::memory_order_relaxed);
}
// Generic-address forms at cluster scope, for another block's shared memory (DSMEM).
__device__ __forceinline__ rk_u64 rk_sw_cl_ld64(const rk_u64* a) {
  rk_u64 v;
  asm volatile("ld.relaxed.cluster.u64 %0, [%1];" : "=l"(v) : "l"(a) : "memory");
  return v;
}
__device__ __forceinline__ rk_u32 rk_sw_cl_ld32(const rk_u32* a) {
  rk_u32 v;
  asm volatile("ld.relaxed.cluster.u32 %0, [%1];" : "=r"(v) : "l"(a) : "memory");
  return v;
}
__device__ __forceinline__ void rk_sw_cl_st64(rk_u64* a, rk_u64 v) {
  asm volatile("st.relaxed.cluster.u64 [%0], %1;" ::"l"(a), "l"(v) : "memory");
}
__device__ __forceinline__ bool rk_sw_cl_cas64(rk_u64* a, rk_u64 expect, rk_u64 v) {
  rk_u64 old;
  asm volatile("atom.relaxed.cluster.cas.b64 %0, [%1], %2, %3;"
               : "=l"(old) : "l"(a), "l"(expect), "l"(v) : "memory");
  return old == expect;
}
// An acquire-release fence at device scope (fence.acq_rel.gpu): earlier writes are ordered
// before later ones, and writes released by whoever wrote what this thread has read are visible
// after it. Cheaper than __threadfence(), which is sequentially consistent (fence.sc.gpu) and
// more than the hand-off needs.
__device__ __forceinline__ void rk_sw_release_fence() { asm volatile("fence.acq_rel.gpu;" ::: "memory"); }

// Lap tags of position `pos` in a ring of 2^shift slots.
__device__ __forceinline__ rk_u32 rk_sw_free_tag(rk_u64 pos, rk_u64 shift) {
  return (rk_u32)(2 * (pos >> shift));
}

// Hash of a slot's words 1..7 (must equal ringkernel_cuda::swarm::layout::slot_check).
__device__ __forceinline__ rk_u32 rk_sw_hash(const rk_u64* w) {
  rk_u64 h = 0x9E3779B97F4A7C15ull;
#pragma unroll
  for (int i = 1; i < 8; ++i) h ^= rk_mix64(w[i] + (rk_u64)i * 0x9E3779B97F4A7C15ull);
  return (rk_u32)h;
}

// Writes message `m` into `slot` (global or DSMEM) as filled with tag `seq`: four 16-byte stores,
// the stamps (tag and hash) last. A reader loads the stamps first and the rest only after they
// return (rk_sw_peek), so with the stamps stored last it finds the rest already there: on an
// H200 the stamps-first order let 8-14 reads in a flood of 2.5e9 messages see the tag over
// stale words (each then accepted with probability 2^-32); this order, none in two such floods.
// The memory model does not order these stores, so the hash stays the guarantee.
__device__ __forceinline__ void rk_sw_put(void* slot, rk_u32 seq, const rk_sw_msg& m) {
  const rk_u64* w = (const rk_u64*)&m;
  const rk_u64 w0 = (rk_u64)seq | ((rk_u64)(seq ^ rk_sw_hash(w)) << 32);
  rk_sw_store16((char*)slot + 48, w[6], w[7]);
  rk_sw_store16((char*)slot + 32, w[4], w[5]);
  rk_sw_store16((char*)slot + 16, w[2], w[3]);
  rk_sw_store16(slot, w0, w[1]);
}

// Reads `slot` into `out` if it holds a whole message with tag `seq` (without freeing it).
__device__ __forceinline__ bool rk_sw_peek(const void* slot, rk_u32 seq, rk_sw_msg* out) {
  rk_u64 w[8];
  rk_sw_load16(slot, w[0], w[1]);
  if ((rk_u32)w[0] != seq) return false;
  rk_sw_load16((const char*)slot + 16, w[2], w[3]);
  rk_sw_load16((const char*)slot + 32, w[4], w[5]);
  rk_sw_load16((const char*)slot + 48, w[6], w[7]);
  if ((rk_u32)(w[0] >> 32) != (seq ^ rk_sw_hash(w))) return false;
  rk_u64* o = (rk_u64*)out;
#pragma unroll
  for (int i = 0; i < 8; ++i) o[i] = w[i];
  return true;
}

// Frees `slot` for the next lap. The caller's hash check consumed every load of the slot, so the
// loads have returned before this store issues: the next producer cannot overwrite unread words.
__device__ __forceinline__ void rk_sw_free(void* slot, rk_u32 next_free_tag) {
  asm volatile("st.volatile.u32 [%0], %1;" ::"l"(slot), "r"(next_free_tag) : "memory");
}

__device__ __forceinline__ rk_sw_actor* rk_sw_actor_at(const rk_sw_params& p, rk_u32 id) {
  return (rk_sw_actor*)p.actors + id;
}
__device__ __forceinline__ void* rk_sw_state_of(const rk_sw_params& p, rk_u32 id) {
  return (unsigned char*)p.states + (rk_u64)id * p.state_stride;
}

// HLC: tick on send, merge on receive (same packing as ringkernel_core::HlcTimestamp).
__device__ __forceinline__ rk_u64 rk_sw_tick(rk_sw_ctx* c) { return rk_hlc_local(&c->hlc, 0); }

// ---- dead letters and host replies (device->host ring) ----
// Out of line, and the message by value: no caller's message or context has its address taken,
// so both stay in registers on the paths that never get here (see rk_sw_deliver_any).
__device__ __noinline__ void rk_sw_to_host(const rk_sw_params& p, rk_sw_msg m, unsigned short flags,
                                           rk_u64 corr) {
  rk_envelope e;
  rk_u64* ew = (rk_u64*)&e;
#pragma unroll
  for (int i = 0; i < RK_ENVELOPE_WORDS; ++i) ew[i] = 0;
  e.header.sender = m.from;
  e.header.receiver = m.to;
  e.header.type_id = m.kind;
  e.header.payload_len = 32;
  e.header.flags = flags;
  e.header.correlation = corr;
  e.header.hlc = m.hlc;
  rk_u64* pw = (rk_u64*)e.payload;
  pw[0] = m.words[0];
  pw[1] = m.words[1];
  pw[2] = m.words[2];
  pw[3] = m.expires;
  rk_d2h_write_one(p, &e, rk_d2h_claim(p, 1));
}

// A dead letter recorded from an out-of-line path (no context there: the caller counts it).
__device__ __forceinline__ rk_u32 rk_sw_dead_letter(const rk_sw_params& p, const rk_sw_msg& m, unsigned short why) {
  rk_sw_to_host(p, m, why, m.corr);
  return RK_SW_DEAD;
}

// The same from a handler's context, which counts it.
__device__ __forceinline__ rk_u32 rk_sw_dead(rk_sw_ctx* c, const rk_sw_msg& m, unsigned short why) {
  c->dead++;
  return rk_sw_dead_letter(*c->p, m, why);
}

// What an out-of-line send returns: RK_SW_OK, RK_SW_FULL or RK_SW_DEAD, and this bit when the
// message went through DSMEM. The inline caller counts it into its context (rk_sw_count).
constexpr rk_u32 RK_SW_VIA_DSMEM = 0x100;
__device__ __forceinline__ rk_u32 rk_sw_count(rk_sw_ctx* c, rk_u32 r) {
  const rk_u32 code = r & 0xff;
  if (code == RK_SW_OK) {
    c->enqueued++;
    if (r & RK_SW_VIA_DSMEM) c->dsmem++;
  } else if (code == RK_SW_FULL) {
    c->full++;
  } else {
    c->dead++;
  }
  return code;
}

// ---- stall reports ----
// Rounds a warp spins at one site before it reports a stall (about 0.1 s with the sleeps).
constexpr rk_u32 RK_SW_STALL_ROUNDS = 1u << 20;
// Marks `site` (RK_SW_STALL_*) in this block's stats: the host names the sites when the kernel
// does not exit. Only on the spin paths, once per long wait.
__device__ __noinline__ void rk_sw_stall(const rk_sw_params& p, rk_u32 site) {
  atomicOr((unsigned long long*)&((rk_sw_stats*)p.stats + blockIdx.x)->stalls, (unsigned long long)site);
}

// ---- ready queues (bounded MPMC of actor ids, one per block, in device memory) ----
// A block's queue never holds more entries than actors homed at the block (an actor is in at
// most one queue at a time, see rk_sw_actor.pending), so a push never finds it full: at worst the
// slot's previous entry was claimed by a popper that has not freed it yet, a wait of a few
// hundred ns.
__device__ void rk_sw_rq_push(const rk_sw_params& p, rk_u32 block, rk_u32 actor) {
  rk_u64* tail = (rk_u64*)((rk_index_line*)p.rq_tails + block);
  const rk_u64 pos = rk_sw_add64(tail, 1);
  rk_u64* e = (rk_u64*)p.rq + ((rk_u64)block << p.rq_shift) + (pos & ((1ull << p.rq_shift) - 1));
  const rk_u32 tag = rk_sw_free_tag(pos, p.rq_shift);
  // A free entry is exactly its tag in the high half (freed entries carry no id), so one CAS
  // checks and fills it.
  for (rk_u32 spins = 0; !rk_sw_cas64(e, (rk_u64)tag << 32, ((rk_u64)(tag + 1) << 32) | actor);) {
    if (++spins == RK_SW_STALL_ROUNDS) rk_sw_stall(p, RK_SW_STALL_READY_PUSH);
    __nanosleep(20);
  }
}

// Takes up to 32 consecutive entries of `block`'s queue with the whole warp: lane i gets entry
// h + i. Returns how many were taken (0: empty, or another warp won the race). `hint` is the
// warp's guess of the head: the entries at the guess are loaded while the head itself is, so
// an idle poll costs one round trip when the guess is right.
__device__ rk_u32 rk_sw_rq_pop(const rk_sw_params& p, rk_u32 block, rk_u32* actor, rk_u64* hint) {
  const rk_u32 lane = threadIdx.x & 31;
  rk_u64* head = (rk_u64*)((rk_index_line*)p.rq_heads + block);
  rk_u64* base = (rk_u64*)p.rq + ((rk_u64)block << p.rq_shift);
  const rk_u64 mask = (1ull << p.rq_shift) - 1;
  rk_u64 h = *hint;
  rk_u64 real = 0;
  if (lane == 0) real = rk_sw_ld64(head);
  rk_u64 v = rk_sw_ld64(base + ((h + lane) & mask));
  real = __shfl_sync(RK_FULL_MASK, real, 0);
  if (real != h) {
    h = real;
    v = rk_sw_ld64(base + ((h + lane) & mask));
  }
  *hint = h;
  const rk_u64 pos = h + lane;
  const rk_u32 tag = rk_sw_free_tag(pos, p.rq_shift);
  const unsigned ready = __ballot_sync(RK_FULL_MASK, (rk_u32)(v >> 32) == tag + 1);
  const rk_u32 k = ready == RK_FULL_MASK ? 32u : (rk_u32)(__ffs(~ready) - 1);
  if (k == 0) return 0;
  int won = 0;
  if (lane == 0) won = rk_sw_cas64(head, h, h + k);
  won = __shfl_sync(RK_FULL_MASK, won, 0);
  if (!won) return 0;
  *hint = h + k;
  if (lane < k) {
    *actor = (rk_u32)v;
    rk_sw_st64(base + (pos & mask), (rk_u64)(tag + 2) << 32);
  }
  return k;
}

// ---- sends ----
// Claims the next position of a Vyukov MPSC ring (global memory) whose tail is `tail` and whose
// slots start at `slots`: RK_SW_OK with *pos set, or RK_SW_FULL when its slot still holds the
// previous lap's message (no credit left).
__device__ __forceinline__ rk_u32 rk_sw_claim(const rk_sw_params& p, rk_u64* tail, rk_sw_msg* slots, rk_u64 shift,
                                              rk_u64* pos, rk_u64 guess) {
  const rk_u64 mask = (1ull << shift) - 1;
  for (int tries = 0;; ++tries) {
    const rk_u64 t = tries == 0 ? guess : rk_sw_ld64(tail);
    const rk_u32 free_tag = rk_sw_free_tag(t, shift);
    const rk_u32 seq = rk_sw_ld32(&slots[t & mask].seq);
    const int d = (int)(seq - free_tag);
    if (d < 0) return RK_SW_FULL;
    if (d == 0 && rk_sw_cas64(tail, t, t + 1)) {
      *pos = t;
      return RK_SW_OK;
    }
    if (tries > 64) __nanosleep(32);
    if (tries == (int)RK_SW_STALL_ROUNDS) rk_sw_stall(p, RK_SW_STALL_CLAIM);
  }
}

// The same on a cluster-tier mailbox in (possibly another block's) shared memory.
__device__ __forceinline__ rk_u32 rk_sw_claim_local(const rk_sw_params& p, rk_sw_local* l, rk_u64* pos) {
  const rk_u64 shift = 3;  // log2(RK_SW_LOCAL_SLOTS)
  for (int tries = 0;; ++tries) {
    const rk_u64 t = rk_sw_cl_ld64(&l->tail);
    const rk_u32 free_tag = rk_sw_free_tag(t, shift);
    const rk_u32 seq = rk_sw_cl_ld32(&l->slots[t & 7].seq);
    const int d = (int)(seq - free_tag);
    if (d < 0) return RK_SW_FULL;
    if (d == 0 && rk_sw_cl_cas64(&l->tail, t, t + 1)) {
      *pos = t;
      return RK_SW_OK;
    }
    if (tries > 64) __nanosleep(32);
    if (tries == (int)RK_SW_STALL_ROUNDS) rk_sw_stall(p, RK_SW_STALL_CLAIM_LOCAL);
  }
}

// A send to a pinned actor from anyone but a pinned actor: its mailbox (swarm_channel.cuh).
__device__ rk_u32 rk_sw_pin_mailbox_send(const rk_sw_params& p, rk_sw_msg m, rk_u32 on_full);
// A send from a pinned actor to pinned slot `r`: its channel (swarm_channel.cuh).
__device__ __forceinline__ rk_u32 rk_sw_channel_send(rk_sw_ctx* c, const rk_sw_msg& m, rk_u32 r,
                                                     rk_u32 on_full);

// Delivers `m` (stamped) to m.to. Global-tier target: its mailbox, then the ready queue of its
// home block if this message made the mailbox non-empty. Cluster-tier target: DSMEM straight into
// its mailbox when the sender is a cluster-tier actor of the same cluster; otherwise its home
// block's forward inbox. The route of a (sender, target) pair never changes, so per-pair FIFO
// holds across tiers.
// One copy in the kernel (not inlined into every send of every handler): a smaller kernel, and
// the pinned-to-pinned path below does not come here.
// It takes values, not the caller's context: a context whose address reached an out-of-line
// function would live in local memory on every path, the pinned hot path included (each field
// access an L1 round trip). The caller counts the outcome (rk_sw_count).
__device__ __noinline__ rk_u32 rk_sw_deliver_any(const rk_sw_params& p, rk_u32 self, rk_u32 block,
                                                 rk_sw_msg m, rk_u32 on_full) {
  const rk_u32 to = m.to;
  const rk_u64 local_end = p.capacity + p.blocks * p.local;
  if (to >= local_end + p.pinned) return rk_sw_dead_letter(p, m, RK_DEAD_UNKNOWN);
  if (to >= local_end) return rk_sw_pin_mailbox_send(p, m, on_full);
  rk_sw_actor* a = rk_sw_actor_at(p, to);
  // Status and tail load together: one round trip.
  const rk_u32 st = rk_sw_ld32(&a->status) & 0xff;
  const rk_u64 tail_guess = to < p.capacity ? rk_sw_ld64(&a->tail) : 0;
  if (st != RK_SW_LIVE) return rk_sw_dead_letter(p, m, st == RK_SW_FREE ? RK_DEAD_UNKNOWN : RK_DEAD_STOPPED);
  rk_u64 pos;
  if (to < p.capacity) {
    rk_sw_msg* slots = (rk_sw_msg*)p.mbox + ((rk_u64)to << p.mbox_shift);
    if (rk_sw_claim(p, &a->tail, slots, p.mbox_shift, &pos, tail_guess) != RK_SW_OK) {
      if (on_full == RK_SW_ON_FULL_DEAD) return rk_sw_dead_letter(p, m, RK_DEAD_FULL);
      return RK_SW_FULL;
    }
    rk_sw_put(&slots[pos & ((1ull << p.mbox_shift) - 1)], rk_sw_free_tag(pos, p.mbox_shift) + 1, m);
    if ((int)rk_sw_add32(&a->pending, 1) == 0) {
      // The message made the actor ready. Push its words out to L2 before announcing it: the
      // ready entry is an atomic and lands at once, while plain stores may linger in the SM,
      // and a worker that takes the actor before its message is visible must requeue it.
      rk_sw_release_fence();
      rk_sw_rq_push(p, to % (rk_u32)p.blocks, to);
    }
    return RK_SW_OK;
  }
  const rk_u32 rel = to - (rk_u32)p.capacity;
  const rk_u32 home = rel / (rk_u32)p.local;
  const rk_u32 idx = rel % (rk_u32)p.local;
  const bool same_cluster = self != RK_SW_HOST && self >= p.capacity && self < local_end &&
                            home / (rk_u32)p.cluster == block / (rk_u32)p.cluster;
  if (same_cluster) {
    rk_sw_local* l = &rk_sw_locals[idx];
    if (p.cluster > 1) {
      rk_cg::cluster_group cl = rk_cg::this_cluster();
      l = cl.map_shared_rank(l, home % (rk_u32)p.cluster);
    }
    if (rk_sw_claim_local(p, l, &pos) != RK_SW_OK) {
      if (on_full == RK_SW_ON_FULL_DEAD) return rk_sw_dead_letter(p, m, RK_DEAD_FULL);
      return RK_SW_FULL;
    }
    rk_sw_put(&l->slots[pos & 7], rk_sw_free_tag(pos, 3) + 1, m);
    // For promptness, not order (the slot validates itself): push the stores out to the
    // receiving block now.
    asm volatile("fence.acq_rel.cluster;" ::: "memory");
    return RK_SW_OK | RK_SW_VIA_DSMEM;
  }
  rk_u64* tail = (rk_u64*)((rk_index_line*)p.fwd_tails + home);
  rk_sw_msg* slots = (rk_sw_msg*)p.fwd + ((rk_u64)home << p.fwd_shift);
  if (rk_sw_claim(p, tail, slots, p.fwd_shift, &pos, rk_sw_ld64(tail)) != RK_SW_OK) {
    if (on_full == RK_SW_ON_FULL_DEAD) return rk_sw_dead_letter(p, m, RK_DEAD_FULL);
    return RK_SW_FULL;
  }
  rk_sw_put(&slots[pos & ((1ull << p.fwd_shift) - 1)], rk_sw_free_tag(pos, p.fwd_shift) + 1, m);
  rk_sw_release_fence();  // promptness, as above
  return RK_SW_OK;
}

// Every send goes through here. A pinned sender's send to a pinned slot takes its channel,
// inline (the low-latency path); anything else goes to rk_sw_deliver_any.
__device__ __forceinline__ rk_u32 rk_sw_deliver(rk_sw_ctx* c, const rk_sw_msg& m, rk_u32 on_full) {
  if (c->pin_out != nullptr && m.to - c->pin_base < c->pin_n) {
    return rk_sw_channel_send(c, m, m.to - c->pin_base, on_full);
  }
  return rk_sw_count(c, rk_sw_deliver_any(*c->p, c->self, c->block, m, on_full));
}

// ---- the handler API ----
// A message from the calling actor, stamped with its ticked HLC.
__device__ __forceinline__ rk_sw_msg rk_sw_compose(rk_sw_ctx* c, rk_u32 to, rk_u32 kind, rk_u32 corr,
                                                   rk_u64 a, rk_u64 b, rk_u64 d) {
  rk_sw_msg m;
  m.seq = 0;
  m.check = 0;
  m.from = c->self;
  m.to = to;
  m.kind = kind;
  m.corr = corr;
  m.hlc = rk_sw_tick(c);
  m.expires = 0;
  m.words[0] = a;
  m.words[1] = b;
  m.words[2] = d;
  return m;
}

// Sends message `kind` (< 2^24) with three payload words to actor `to`. Returns RK_SW_OK,
// RK_SW_FULL (no credit; `on_full` RK_SW_ON_FULL_FAIL: nothing recorded, keep it and retry, e.g.
// after rk_sw_yield) or RK_SW_DEAD (recorded as a dead letter: unknown or stopped target, or full
// under RK_SW_ON_FULL_DEAD). Never overwrites, never waits for credit.
__device__ rk_u32 rk_sw_send(rk_sw_ctx* c, rk_u32 to, rk_u32 kind, rk_u64 a, rk_u64 b, rk_u64 d,
                             rk_u32 on_full) {
  return rk_sw_deliver(c, rk_sw_compose(c, to, kind & RK_SW_KIND_MASK, 0, a, b, d), on_full);
}

// An ask: `to` answers with rk_sw_reply, which arrives here as a message with RK_SW_REPLY set in
// its kind and the same `corr`.
__device__ rk_u32 rk_sw_ask(rk_sw_ctx* c, rk_u32 to, rk_u32 kind, rk_u32 corr, rk_u64 a, rk_u64 b,
                            rk_u64 d, rk_u32 on_full) {
  const rk_u32 k = (kind & RK_SW_KIND_MASK) | RK_SW_ASK;
  return rk_sw_deliver(c, rk_sw_compose(c, to, k, corr, a, b, d), on_full);
}

// Sends the composed message `m`: a reply to the host goes to the host's waiting ask (its corr
// names the ask), anything else is delivered to its target like a tell. The one place that
// choice is made, for rk_sw_reply and for express handlers' answers.
__device__ __forceinline__ rk_u32 rk_sw_route(rk_sw_ctx* c, const rk_sw_msg& m, rk_u32 on_full) {
  if (m.to == RK_SW_HOST && (m.kind & RK_SW_REPLY) != 0) {
    rk_sw_to_host(*c->p, m, RK_FLAG_REPLY, m.corr);
    return RK_SW_OK;
  }
  return rk_sw_deliver(c, m, on_full);
}

// Answers the ask `q`: to the host's waiting ask, or to the asking actor's mailbox.
__device__ rk_u32 rk_sw_reply(rk_sw_ctx* c, const rk_sw_msg* q, rk_u64 a, rk_u64 b, rk_u64 d,
                              rk_u32 on_full) {
  const rk_u32 k = (q->kind & RK_SW_KIND_MASK) | RK_SW_REPLY;
  return rk_sw_route(c, rk_sw_compose(c, q->from, k, q->corr, a, b, d), on_full);
}

// Spawns a global-tier actor of type `type` with a zeroed state from a handler. Returns its id,
// or RK_SW_NO_ID when the device spawn range (host_capacity..capacity) is used up.
__device__ __noinline__ rk_u32 rk_sw_spawn_zeroed(const rk_sw_params& p, rk_u32 type) {
  // Look before claiming: a claim moves the counter even when it fails, so a handler that kept
  // retrying on a full swarm would wrap it round to live actors' ids after 2^32 tries. Claims
  // that race past the look overshoot by at most one per thread.
  if (rk_sw_ld32((const rk_u32*)p.dev_next) >= p.capacity) return RK_SW_NO_ID;
  const rk_u32 id = rk_sw_add32((rk_u32*)p.dev_next, 1);
  if (id >= p.capacity) return RK_SW_NO_ID;
  unsigned char* s = (unsigned char*)rk_sw_state_of(p, id);
  for (rk_u64 i = 0; i < p.state_stride; i += 16) rk_sw_store16(s + i, 0, 0);
  rk_sw_actor* a = rk_sw_actor_at(p, id);
  // The state must be in place before any sender can see the actor live.
  rk_sw_release_fence();
  rk_sw_st32(&a->status, RK_SW_LIVE | (type << RK_SW_TYPE_SHIFT));
  return id;
}
__device__ __forceinline__ rk_u32 rk_sw_spawn(rk_sw_ctx* c, rk_u32 type) {
  const rk_u32 id = rk_sw_spawn_zeroed(*c->p, type);
  if (id != RK_SW_NO_ID) c->spawned++;
  return id;
}

// Asks for another turn even if no message arrives (e.g. to retry a send that found no credit):
// the handler is called again with a message whose kind has RK_SW_RESUME set.
__device__ __forceinline__ void rk_sw_yield(rk_sw_ctx* c) { c->yield = 1; }

// Stops the calling actor: later sends to it and messages left in its mailbox are dead letters.
__device__ __forceinline__ void rk_sw_stop_self(rk_sw_ctx* c) {
  c->stopped = 1;
  rk_sw_st32(&rk_sw_actor_at(*c->p, c->self)->status, RK_SW_STOPPED | (c->type << RK_SW_TYPE_SHIFT));
}

// A per-lane xorshift for handlers that pick random targets.
__device__ __forceinline__ rk_u64 rk_sw_random(rk_sw_ctx* c) {
  rk_u64 x = c->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  c->rng = x;
  return x;
}

// The program's handler (every actor type; switch on `type`). `m->kind` carries RK_SW_ASK,
// RK_SW_REPLY or RK_SW_RESUME in its high bits.
__device__ void rk_sw_handle(rk_sw_ctx* c, rk_u32 type, void* state, const rk_sw_msg* m);

// ---- express handlers ----
// What an express handler did with a message: at most one tell, ask or reply, and maybe stopping
// itself.
struct rk_sw_xout {
  rk_u64 a, b, d;  // the message's three words
  rk_u32 to;       // its target (any actor id; RK_SW_HOST for a reply to a host's ask)
  rk_u32 kind;     // its kind (< 2^24), with RK_SW_ASK or RK_SW_REPLY set for an ask or a reply
  rk_u32 corr;     // an ask's correlation id, or a reply's (its ask's); 0 for a tell
  rk_u32 send;     // nonzero: send it
  rk_u32 stop;     // nonzero: stop this actor after this message
};

// Asks for a tell of `kind` with words (a, b, d) to `to` once the express handler returns. Its
// credit policy is RK_SW_ON_FULL_DEAD: with no credit the message becomes a dead letter.
__device__ __forceinline__ void rk_sw_xsend(rk_sw_xout* o, rk_u32 to, rk_u32 kind, rk_u64 a, rk_u64 b, rk_u64 d) {
  o->to = to;
  o->kind = kind & RK_SW_KIND_MASK;
  o->corr = 0;
  o->a = a;
  o->b = b;
  o->d = d;
  o->send = 1;
}

// Asks for an ask of `kind` with correlation id `corr` to `to` once the express handler returns,
// as rk_sw_ask makes it: the answer comes back as a message with RK_SW_REPLY set and the same
// `corr`. Same credit policy as rk_sw_xsend. Takes the place of a message asked for before it.
__device__ __forceinline__ void rk_sw_xask(rk_sw_xout* o, rk_u32 to, rk_u32 kind, rk_u32 corr, rk_u64 a, rk_u64 b,
                                           rk_u64 d) {
  rk_sw_xsend(o, to, kind, a, b, d);
  o->kind |= RK_SW_ASK;
  o->corr = corr;
}

// Asks for the answer to the ask `m` with words (a, b, d) once the express handler returns, as
// rk_sw_reply gives it: to the host's waiting ask, or to the asking actor, which gets it with
// RK_SW_REPLY set and the ask's `corr`. Same credit policy as rk_sw_xsend. Takes the place of a
// message asked for before it.
__device__ __forceinline__ void rk_sw_xreply(rk_sw_xout* o, const rk_sw_msg* m, rk_u64 a, rk_u64 b, rk_u64 d) {
  rk_sw_xsend(o, m->from, m->kind, a, b, d);
  o->kind |= RK_SW_REPLY;
  o->corr = m->corr;
}

// An express type's handler is a function of its state and message alone: it gets no context,
// so it cannot call the handler API, and says what to do through `out`. That is what lets a
// pinned express actor's warp run it on all 32 lanes at once (swarm_express.cuh): no lane waits
// for lane 0, and only lane 0's state and `out` are kept, so a lane that computes something else
// (a clock read, say) changes nothing. Everywhere else it runs on one lane like rk_sw_handle.
// Programs with express types define RK_SW_HAS_EXPRESS and both functions; `rk_sw_is_express`
// must not depend on anything but `type`.
__device__ bool rk_sw_is_express(rk_u32 type);
__device__ void rk_sw_express(rk_u32 type, void* state, const rk_sw_msg* m, rk_sw_xout* out);

// Runs an express handler on this lane and carries out what it asked for.
__device__ __forceinline__ void rk_sw_express_one(rk_sw_ctx* c, void* state, const rk_sw_msg& m) {
  rk_sw_xout o = {};
  rk_sw_express(c->type, state, &m, &o);
  if (o.send) rk_sw_route(c, rk_sw_compose(c, o.to, o.kind, o.corr, o.a, o.b, o.d), RK_SW_ON_FULL_DEAD);
  if (o.stop) rk_sw_stop_self(c);
}

// One message for the actor whose turn this lane holds (`live`: its status is LIVE).
__device__ __forceinline__ void rk_sw_one(rk_sw_ctx* c, bool live, void* state, const rk_sw_msg& m,
                                          rk_u64* processed) {
  if (!live || c->stopped) {
    rk_sw_dead(c, m, RK_DEAD_STOPPED);
    c->dropped++;
    return;
  }
  if (m.expires != 0 && rk_globaltimer() > m.expires) {
    rk_sw_dead(c, m, RK_DEAD_EXPIRED);
    c->dropped++;
    return;
  }
  rk_hlc_local(&c->hlc, m.hlc + 1);
  if (rk_sw_is_express(c->type)) rk_sw_express_one(c, state, m);
  else rk_sw_handle(c, c->type, state, &m);
  ++*processed;
}

// The message a yielded actor's handler gets on a turn without mail.
__device__ __forceinline__ rk_sw_msg rk_sw_resume_msg(const rk_sw_ctx* c) {
  rk_sw_msg m;
  m.seq = 0;
  m.check = 0;
  m.from = c->self;
  m.to = c->self;
  m.kind = RK_SW_RESUME;
  m.corr = 0;
  m.hlc = c->hlc;
  m.expires = 0;
  m.words[0] = m.words[1] = m.words[2] = 0;
  return m;
}
