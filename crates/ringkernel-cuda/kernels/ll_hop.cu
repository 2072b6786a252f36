// A pinned-tier hop without the framework: the floor of the swarm's pinned channels. Included
// after swarm_ll.cuh (the same 64-byte LL slots, 16-byte accesses and message packing).
//
// Two one-warp blocks rally a message as two pinned PING actors do: four lanes poll the
// channel's current slot, lane 0 unpacks it, checks its TTL, merges its HLC, counts it in a
// shared-memory state and composes the answer (HLC ticked), which it stages in shared memory
// for four lanes to store with one instruction. What it leaves out is the framework: no channel
// table, no credits (one message is in flight, so a ring never fills), no mailbox, status or
// dead-letter checks, no handler dispatch, no state write-back, no counters, no kernel loop.
// Its cost over the raw flag is what the work on a message costs; the pinned rally's cost over
// it is what the framework costs.
//
// Three variants bound it from below (same launch, same slots):
//  - rk_ll_transit moves the slot and nothing else: the receiver re-tags the words it polled and
//    stores them back, so its cost over the raw flag is what a 64-byte LL slot costs to cross;
//  - rk_ll_lean does the same work as rk_ll_hop (unpack, TTL, HLC merge and tick, count, pack)
//    as cheaply as we could write it: every lane computes the answer, so no staging and no
//    broadcast; the HLC's wall part and the poll's deadline come from one clock reading per
//    64 empty polls, so the poll loop and the message path hold no clock read;
//  - rk_ll_lean_all is rk_ll_lean with every lane reading the whole slot (as the pair loop
//    does) instead of lanes 0-3 a chunk each and eight shuffles.
// Two more, through DSMEM only, replace the poll of the data by the hardware's completion
// signal (rk_ll_async_rally below): rk_ll_async_transit and rk_ll_async_lean. And two with fewer
// bytes to read (not forms the framework sends; docs/benchmarks/swarm.md, "A short form for
// channel messages"): rk_ll_lean_short (a 32-byte message) and rk_ll_lean_tiny (16 bytes).
//
// Launch: 2 blocks of 32 threads; `dsmem` != 0 needs a cluster of 2 (channels in the
// receiver's shared memory, written through DSMEM), otherwise `rings` holds the two device-memory
// channels (2 x RK_SW_CH_GLOBAL slots, zeroed). out[0] = the initiator's time for `hops` hops
// in ns (0 if the rally did not finish within `deadline_ns`); out[1 + b] = the SM block b ran on,
// plus one (a device-memory hop's latency depends on the pair).

#include <cooperative_groups.h>

namespace rk_cg = cooperative_groups;

__shared__ rk_sw_staged rk_ll_inbox[RK_SW_CH_DSMEM];
// Empty polls between two clock readings in the variants.
constexpr rk_u32 RK_LL_CLOCK_POLLS = 64;
__shared__ rk_sw_staged rk_ll_stage;
__shared__ rk_u64 rk_ll_count;

// This block's inbound channel and the other block's, as the launch put them (see above);
// returns the ring's shift. The DSMEM inbox is zeroed first, so its lap tags start clean.
__device__ __forceinline__ rk_u32 rk_ll_channels(rk_sw_staged* rings, rk_u32 me, rk_u32 dsmem, rk_sw_staged** in,
                                                 rk_sw_staged** to) {
  if (dsmem) {
    for (rk_u32 i = threadIdx.x; i < sizeof(rk_ll_inbox) / 8; i += blockDim.x) ((rk_u64*)rk_ll_inbox)[i] = 0;
    rk_cg::cluster_group cl = rk_cg::this_cluster();
    cl.sync();
    *in = rk_ll_inbox;
    *to = cl.map_shared_rank(rk_ll_inbox, cl.block_rank() ^ 1);
    return RK_SW_CH_DSMEM_SHIFT;
  }
  *in = rings + me * RK_SW_CH_GLOBAL;
  *to = rings + (me ^ 1) * RK_SW_CH_GLOBAL;
  return RK_SW_CH_GLOBAL_SHIFT;
}

// Plus one: out is zeroed before each rally, so 0 means "no rally ran".
__device__ __forceinline__ void rk_ll_note_sm(rk_u64* out, rk_u32 me, rk_u32 lane) {
  if (lane == 0) out[1 + me] = rk_smid() + 1ull;
}

// One poll of slot `head`: lanes 0-3 load their 16-byte chunk into lo/hi; true on every lane
// once all four carry the slot's current lap tag (the whole message has landed).
__device__ __forceinline__ bool rk_ll_poll(const rk_sw_staged* in, rk_u64 head, rk_u64 mask, rk_u32 shift,
                                           rk_u32 lane, rk_u64& lo, rk_u64& hi) {
  bool ok = false;
  if (lane < 4) {
    const rk_u64 tag = rk_sw_ll_tag(head, shift);
    rk_sw_load16(&in[head & mask].chunk[lane], lo, hi);
    ok = (lo & 0xffff) == tag && (hi & 0xffff) == tag;
  }
  return (__ballot_sync(RK_FULL_MASK, ok) & 0xf) == 0xf;
}

extern "C" __global__ void rk_ll_hop(rk_sw_staged* rings, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns,
                                     rk_u32 dsmem) {
  const rk_u32 lane = threadIdx.x & 31;
  const rk_u32 me = blockIdx.x & 1;
  const bool starter = me == 0;
  rk_sw_staged* in;
  rk_sw_staged* to;
  const rk_u32 shift = rk_ll_channels(rings, me, dsmem, &in, &to);
  const rk_u64 mask = (1ull << shift) - 1;
  rk_ll_note_sm(out, me, lane);
  if (lane == 0) rk_ll_count = 0;
  rk_u64 hlc = 0, head = 0, tail = 0;
  bool late = false;
  __syncwarp();
  const rk_u64 t0 = rk_globaltimer();

  // The first message: words[0] counts the hops still to go.
  if (starter) {
    if (lane == 0) {
      rk_sw_msg m = {};
      m.kind = 2;
      m.hlc = rk_hlc_local(&hlc, 0);
      m.words[0] = hops;
      rk_u64 w[8];
      rk_sw_ll_pack(m, rk_sw_ll_tag(tail, shift), w);
#pragma unroll
      for (int k = 0; k < 4; ++k) rk_ll_stage.chunk[k] = make_ulonglong2(w[2 * k], w[2 * k + 1]);
    }
    __syncwarp();
    if (lane < 4) rk_sw_store16(&to[tail & mask].chunk[lane], rk_ll_stage.chunk[lane].x, rk_ll_stage.chunk[lane].y);
    ++tail;
    __syncwarp();  // the stage is read before lane 0 writes it again
  }
  for (;;) {
    rk_u64 lo = 0, hi = 0;
    if (!rk_ll_poll(in, head, mask, shift, lane, lo, hi)) {
      if (rk_globaltimer() - t0 > deadline_ns) {
        late = true;
        break;
      }
      continue;
    }
    rk_u64 w[8];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      w[2 * k] = __shfl_sync(RK_FULL_MASK, lo, k);
      w[2 * k + 1] = __shfl_sync(RK_FULL_MASK, hi, k);
    }
    ++head;
    rk_sw_msg m;
    rk_sw_ll_unpack(w, me ^ 1, me, &m);
    int send = 0;
    if (lane == 0 && !(m.expires != 0 && rk_globaltimer() > m.expires)) {
      rk_hlc_local(&hlc, m.hlc + 1);
      rk_ll_count += 1;
      if (m.words[0] != 0) {
        rk_sw_msg r = {};
        r.kind = 2;
        r.hlc = rk_hlc_local(&hlc, 0);
        r.words[0] = m.words[0] - 1;
        rk_sw_ll_pack(r, rk_sw_ll_tag(tail, shift), w);
#pragma unroll
        for (int k = 0; k < 4; ++k) rk_ll_stage.chunk[k] = make_ulonglong2(w[2 * k], w[2 * k + 1]);
        send = 1;
      }
    }
    __syncwarp();
    if (__shfl_sync(RK_FULL_MASK, send, 0)) {
      if (lane < 4) rk_sw_store16(&to[tail & mask].chunk[lane], rk_ll_stage.chunk[lane].x, rk_ll_stage.chunk[lane].y);
      ++tail;
      __syncwarp();
    }
    // Done once the last message is in (words[0] == 0) or out (it answered words[0] == 1).
    if (m.words[0] <= 1) break;
  }
  if (starter && lane == 0) out[0] = late ? 0 : rk_globaltimer() - t0;
  if (dsmem) rk_cg::this_cluster().sync();  // neither block leaves while the other may write into it
}

// A 32-byte message: kind|corr, HLC and words[0] (no deadline, words 1 and 2 zero) as four
// tagged words, words 0-2 their upper 48 bits in place and word 3 their low 16 bits (as words 6
// and 7 of the full form). Words 4-7 repeat words 0-3: a sender still writes the whole slot, so a
// slot's words are always of one lap (a reader of both forms needs that), but a reader reads
// only the first two chunks.
__device__ __forceinline__ void rk_ll_pack_short(const rk_sw_msg& m, rk_u64 tag, rk_u64 out[8]) {
  const rk_u64 f0 = (rk_u64)m.kind | ((rk_u64)m.corr << 32);
  const rk_u32 t = (rk_u32)tag;
  out[0] = (f0 & ~0xffffull) | t;
  out[1] = (m.hlc & ~0xffffull) | t;
  out[2] = (m.words[0] & ~0xffffull) | t;
  out[3] = ((rk_u64)__byte_perm((rk_u32)m.hlc, (rk_u32)m.words[0], 0x5410) << 32) | __byte_perm(t, (rk_u32)f0, 0x5410);
#pragma unroll
  for (int i = 0; i < 4; ++i) out[4 + i] = out[i];
}

__device__ __forceinline__ void rk_ll_unpack_short(const rk_u64 in[4], rk_u32 from, rk_u32 to, rk_sw_msg* m) {
  const rk_u64 hi = 0xffffffff00000000ull;
  const rk_u32 l3 = (rk_u32)in[3], h3 = (rk_u32)(in[3] >> 32);
  const rk_u64 f0 = (in[0] & hi) | __byte_perm(l3, (rk_u32)in[0], 0x7632);
  *m = {};
  m->from = from;
  m->to = to;
  m->kind = (rk_u32)f0;
  m->corr = (rk_u32)(f0 >> 32);
  m->hlc = (in[1] & hi) | __byte_perm(h3, (rk_u32)in[1], 0x7610);
  m->words[0] = (in[2] & hi) | __byte_perm(h3, (rk_u32)in[2], 0x7632);
}

// A 16-byte message, the fewest bytes: the HLC and the low 32 bits of words[0] as two tagged
// words in one chunk (no kind, no deadline). Not a form any framework message fits: a bound on
// what a message smaller than the 32-byte one could save.
__device__ __forceinline__ void rk_ll_pack_tiny(const rk_sw_msg& m, rk_u64 tag, rk_u64 out[8]) {
  const rk_u32 t = (rk_u32)tag;
  out[0] = (m.hlc & ~0xffffull) | t;
  out[1] = (m.words[0] << 32) | __byte_perm(t, (rk_u32)m.hlc, 0x5410);
#pragma unroll
  for (int i = 2; i < 8; ++i) out[i] = 0;
}

__device__ __forceinline__ void rk_ll_unpack_tiny(const rk_u64 in[2], rk_u32 from, rk_u32 to, rk_sw_msg* m) {
  *m = {};
  m->from = from;
  m->to = to;
  m->hlc = (in[0] & 0xffffffff00000000ull) | __byte_perm((rk_u32)in[1], (rk_u32)in[0], 0x7632);
  m->words[0] = in[1] >> 32;
}

// The message forms of the lean variants: the framework's 64-byte LL slot, and the 32- and
// 16-byte ones above.
enum RkLlForm { RK_LL_FULL, RK_LL_SHORT, RK_LL_TINY };

// Chunks a reader of `form` reads, and a writer of it stores.
__host__ __device__ constexpr rk_u32 rk_ll_read_chunks(RkLlForm form) {
  return form == RK_LL_FULL ? 4 : form == RK_LL_SHORT ? 2 : 1;
}
__host__ __device__ constexpr rk_u32 rk_ll_stored_chunks(RkLlForm form) { return form == RK_LL_TINY ? 1 : 4; }

// True when the first `chunks` chunks of a polled slot carry lap tag `tag` (the words' low
// halves paired, as in rk_sw_ll_whole).
__device__ __forceinline__ bool rk_ll_whole_chunks(const rk_u64 in[8], rk_u32 chunks, rk_u64 tag) {
  const rk_u32 tt = (rk_u32)tag * 0x10001u;
  rk_u32 bad = 0;
#pragma unroll
  for (rk_u32 k = 0; k < 4; ++k) {
    if (k < chunks) bad |= __byte_perm((rk_u32)in[2 * k], (rk_u32)in[2 * k + 1], 0x5410) ^ tt;
  }
  return bad == 0;
}

// Every lane packs `m` (the same message on each) in FORM, and lanes 0-3 store their chunk of
// it: one store instruction, nothing staged.
template <RkLlForm FORM>
__device__ __forceinline__ void rk_ll_store_all_lanes(const rk_sw_msg& m, rk_sw_staged* slot, rk_u64 tag,
                                                      rk_u32 lane) {
  rk_u64 w[8];
  if (FORM == RK_LL_SHORT) rk_ll_pack_short(m, tag, w);
  else if (FORM == RK_LL_TINY) rk_ll_pack_tiny(m, tag, w);
  else rk_sw_ll_pack(m, tag, w);
  rk_sw_ll_store_lanes(slot, w, rk_ll_stored_chunks(FORM), lane);
}

// The rally's first message, from the starter: `hops` hops to go.
__device__ __forceinline__ rk_sw_msg rk_ll_first_msg(rk_u64& hlc, rk_u64 wall, rk_u64 hops) {
  rk_sw_msg m = {};
  m.kind = 2;
  m.hlc = rk_hlc_at(&hlc, 0, wall);
  m.words[0] = hops;
  return m;
}

// The lean variants' work on a received message `w` (every lane, the same words): unpack, TTL,
// HLC merge, count, and, when `answer` and the message has not expired, the answer in `r` (HLC
// ticked). Returns whether `r` is to be sent.
template <RkLlForm FORM>
__device__ __forceinline__ bool rk_ll_lean_work(const rk_u64 w[8], rk_u32 me, bool answer, rk_u64 wall,
                                                rk_u64& hlc, rk_u64& count, rk_sw_msg& r) {
  rk_sw_msg m;
  if (FORM == RK_LL_SHORT) rk_ll_unpack_short(w, me ^ 1, me, &m);
  else if (FORM == RK_LL_TINY) rk_ll_unpack_tiny(w, me ^ 1, me, &m);
  else rk_sw_ll_unpack(w, me ^ 1, me, &m);
  if (m.expires != 0 && __shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0) > m.expires) return false;
  rk_hlc_at(&hlc, m.hlc + 1, wall);
  count += 1;
  if (!answer) return false;
  r = {};
  r.kind = 2;
  r.hlc = rk_hlc_at(&hlc, 0, wall);
  r.words[0] = m.words[0] - 1;
  return true;
}

// The variants: WORK 1 moves the slot only (rk_ll_transit), WORK 2 does rk_ll_hop's work on
// every lane (rk_ll_lean), WORK 3 the same with every lane reading the whole slot
// (rk_ll_lean_all), WORK 4 and 5 the same with the 32- and 16-byte messages above, every lane
// reading their chunks only (rk_ll_lean_short, rk_ll_lean_tiny). Each side stops after
// receiving hops / 2 messages.
template <int WORK>
__device__ void rk_ll_rally(rk_sw_staged* rings, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns, rk_u32 dsmem) {
  constexpr RkLlForm FORM = WORK == 4 ? RK_LL_SHORT : WORK == 5 ? RK_LL_TINY : RK_LL_FULL;
  const rk_u32 lane = threadIdx.x & 31;
  const rk_u32 me = blockIdx.x & 1;
  const bool starter = me == 0;
  rk_sw_staged* in;
  rk_sw_staged* to;
  const rk_u32 shift = rk_ll_channels(rings, me, dsmem, &in, &to);
  const rk_u64 mask = (1ull << shift) - 1;
  rk_ll_note_sm(out, me, lane);
  const rk_u64 half = hops / 2;
  rk_u64 hlc = 0, head = 0, tail = 0, got = 0, count = 0;
  rk_u32 polls = 0;
  bool late = false;
  __syncwarp();
  const rk_u64 t0 = rk_globaltimer();
  rk_u64 wall = rk_hlc_wall(t0);
  if (starter) {
    rk_ll_store_all_lanes<FORM>(rk_ll_first_msg(hlc, wall, hops), &to[tail & mask], rk_sw_ll_tag(tail, shift), lane);
    ++tail;
  }
  for (;;) {
    rk_u64 lo = 0, hi = 0;
    rk_u64 all[8];
    bool ok;
    if (WORK == 3) {
      const rk_sw_staged* slot = &in[head & mask];
#pragma unroll
      for (int k = 0; k < 4; ++k) rk_sw_load16(&slot->chunk[k], all[2 * k], all[2 * k + 1]);
      ok = __all_sync(RK_FULL_MASK, rk_sw_ll_whole(all, rk_sw_ll_tag(head, shift)));
    } else if (WORK >= 4) {
      constexpr rk_u32 chunks = rk_ll_read_chunks(FORM);
      const rk_sw_staged* slot = &in[head & mask];
#pragma unroll
      for (rk_u32 k = 0; k < chunks; ++k) rk_sw_load16(&slot->chunk[k], all[2 * k], all[2 * k + 1]);
      ok = __all_sync(RK_FULL_MASK, rk_ll_whole_chunks(all, chunks, rk_sw_ll_tag(head, shift)));
    } else {
      ok = rk_ll_poll(in, head, mask, shift, lane, lo, hi);
    }
    if (!ok) {
      if (++polls % RK_LL_CLOCK_POLLS == 0) {
        const rk_u64 now = __shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0);
        wall = rk_hlc_wall(now);
        if (now - t0 > deadline_ns) {
          late = true;
          break;
        }
      }
      continue;
    }
    ++head;
    ++got;
    const bool answer = !starter || got < half;
    if (WORK == 1) {
      const rk_u64 tag = rk_sw_ll_tag(tail, shift);
      if (answer && lane < 4) rk_sw_store16(&to[tail & mask].chunk[lane], (lo & ~0xffffull) | tag, (hi & ~0xffffull) | tag);
    } else {
      rk_u64 w[8];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        if (WORK >= 3) {
          w[2 * k] = all[2 * k];
          w[2 * k + 1] = all[2 * k + 1];
        } else {
          w[2 * k] = __shfl_sync(RK_FULL_MASK, lo, k);
          w[2 * k + 1] = __shfl_sync(RK_FULL_MASK, hi, k);
        }
      }
      rk_sw_msg r;
      if (rk_ll_lean_work<FORM>(w, me, answer, wall, hlc, count, r)) {
        rk_ll_store_all_lanes<FORM>(r, &to[tail & mask], rk_sw_ll_tag(tail, shift), lane);
      }
    }
    if (answer) ++tail;
    if (got == half) break;
  }
  // The lean variant's count must match the messages received (the work is not optimised out).
  if (starter && lane == 0) out[0] = late || (WORK >= 2 && count != got) ? 0 : rk_globaltimer() - t0;
  if (dsmem) rk_cg::this_cluster().sync();
}

extern "C" __global__ void rk_ll_transit(rk_sw_staged* rings, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns,
                                         rk_u32 dsmem) {
  rk_ll_rally<1>(rings, hops, out, deadline_ns, dsmem);
}
extern "C" __global__ void rk_ll_lean(rk_sw_staged* rings, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns,
                                      rk_u32 dsmem) {
  rk_ll_rally<2>(rings, hops, out, deadline_ns, dsmem);
}
extern "C" __global__ void rk_ll_lean_all(rk_sw_staged* rings, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns,
                                          rk_u32 dsmem) {
  rk_ll_rally<3>(rings, hops, out, deadline_ns, dsmem);
}
extern "C" __global__ void rk_ll_lean_short(rk_sw_staged* rings, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns,
                                            rk_u32 dsmem) {
  rk_ll_rally<4>(rings, hops, out, deadline_ns, dsmem);
}
extern "C" __global__ void rk_ll_lean_tiny(rk_sw_staged* rings, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns,
                                           rk_u32 dsmem) {
  rk_ll_rally<5>(rings, hops, out, deadline_ns, dsmem);
}

// The DSMEM hop with the hardware's completion signal instead of a poll of the data: the
// sender's lanes 0-3 write their 16-byte chunk into the receiver's buffer with st.async, which
// counts the bytes on the receiver's mbarrier; the receiver arms the barrier for 64 bytes,
// waits for its phase to complete and reads the buffer. WORK 1 sends the words back as they
// came (rk_ll_async_transit, against rk_ll_transit); WORK 2 does rk_ll_lean's work on them
// (rk_ll_async_lean, every lane reading the whole buffer). One message is in flight, so one
// buffer and one barrier phase per message suffice; the receiver may arm the phase before or
// after the bytes land (the transaction count may run below zero until it does). Needs a
// cluster of 2 (`dsmem` != 0; otherwise no rally runs and out[0] stays 0). A rally that runs
// past its deadline may leave a peer's st.async in flight as the blocks exit (the cluster
// barrier does not wait for it): only a failed measurement ends so.
__shared__ rk_sw_staged rk_ll_abuf;
__shared__ __align__(8) rk_u64 rk_ll_abar;

// 16 bytes into the peer's shared::cluster address `dst`, counted on the peer's barrier `bar`.
__device__ __forceinline__ void rk_ll_async16(rk_u32 dst, rk_u32 bar, rk_u64 lo, rk_u64 hi) {
  asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v2.b64 [%0], {%1, %2}, [%3];" ::"r"(dst),
               "l"(lo), "l"(hi), "r"(bar)
               : "memory");
}

// 16 bytes from this block's shared address `src`.
__device__ __forceinline__ void rk_ll_lds16(rk_u32 src, rk_u64& lo, rk_u64& hi) {
  asm volatile("ld.shared.v2.u64 {%0, %1}, [%2];" : "=l"(lo), "=l"(hi) : "r"(src) : "memory");
}

// Lane k < 4 writes chunk k of the eight words `v` (the same on every lane) into the peer's
// buffer `rbuf`, counted on the peer's barrier `rbar` (shared::cluster addresses).
__device__ __forceinline__ void rk_ll_async_store(rk_u32 rbuf, rk_u32 rbar, const rk_u64 v[8], rk_u32 lane) {
  const ulonglong2 c = rk_sw_ll_lane_chunk(v, lane);
  if (lane < 4) rk_ll_async16(rbuf + 16 * lane, rbar, c.x, c.y);
}

template <int WORK>
__device__ void rk_ll_async_rally(rk_u64 hops, rk_u64* out, rk_u64 deadline_ns, rk_u32 dsmem) {
  const rk_u32 lane = threadIdx.x & 31;
  const rk_u32 me = blockIdx.x & 1;
  const bool starter = me == 0;
  rk_ll_note_sm(out, me, lane);
  if (!dsmem) return;
  const rk_u32 bar = (rk_u32)__cvta_generic_to_shared(&rk_ll_abar);
  const rk_u32 buf = (rk_u32)__cvta_generic_to_shared(&rk_ll_abuf);
  if (lane == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  rk_cg::cluster_group cl = rk_cg::this_cluster();
  cl.sync();
  const rk_u32 peer = cl.block_rank() ^ 1;
  rk_u32 rbar, rbuf;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(rbar) : "r"(bar), "r"(peer));
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(rbuf) : "r"(buf), "r"(peer));
  const rk_u64 half = hops / 2;
  rk_u64 hlc = 0, got = 0, count = 0, tail = 0;
  rk_u32 parity = 0, polls = 0;
  bool late = false;
  __syncwarp();
  const rk_u64 t0 = rk_globaltimer();
  rk_u64 wall = rk_hlc_wall(t0);
  if (starter) {
    rk_u64 w[8];
    rk_sw_ll_pack(rk_ll_first_msg(hlc, wall, hops), rk_sw_ll_tag(tail++, RK_SW_CH_DSMEM_SHIFT), w);
    rk_ll_async_store(rbuf, rbar, w, lane);
  }
  for (;;) {
    if (lane == 0) {
      rk_u64 state;
      asm volatile("mbarrier.arrive.expect_tx.release.cta.shared::cta.b64 %0, [%1], 64;"
                   : "=l"(state)
                   : "r"(bar)
                   : "memory");
    }
    for (;;) {
      rk_u32 done;
      asm volatile(
          "{ .reg .pred p; mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2; "
          "selp.u32 %0, 1, 0, p; }"
          : "=r"(done)
          : "r"(bar), "r"(parity)
          : "memory");
      if (__all_sync(RK_FULL_MASK, done != 0)) break;
      if (++polls % RK_LL_CLOCK_POLLS == 0) {
        const rk_u64 now = __shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0);
        wall = rk_hlc_wall(now);
        if (now - t0 > deadline_ns) {
          late = true;
          break;
        }
      }
    }
    if (late) break;
    parity ^= 1;
    ++got;
    const bool answer = !starter || got < half;
    if (WORK == 1) {
      if (answer && lane < 4) {
        rk_u64 lo, hi;
        rk_ll_lds16(buf + 16 * lane, lo, hi);
        rk_ll_async16(rbuf + 16 * lane, rbar, lo, hi);
      }
    } else {
      // Every lane reads the whole buffer (one address per load: the same words on every lane).
      rk_u64 w[8];
#pragma unroll
      for (int k = 0; k < 4; ++k) rk_ll_lds16(buf + 16 * k, w[2 * k], w[2 * k + 1]);
      rk_sw_msg r;
      if (rk_ll_lean_work<RK_LL_FULL>(w, me, answer, wall, hlc, count, r)) {
        rk_u64 v[8];
        rk_sw_ll_pack(r, rk_sw_ll_tag(tail++, RK_SW_CH_DSMEM_SHIFT), v);
        rk_ll_async_store(rbuf, rbar, v, lane);
      }
    }
    if (got == half) break;
  }
  if (starter && lane == 0) out[0] = late || (WORK == 2 && count != got) ? 0 : rk_globaltimer() - t0;
  cl.sync();  // neither block leaves while the other may write into it
}

extern "C" __global__ void rk_ll_async_transit(rk_sw_staged*, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns,
                                               rk_u32 dsmem) {
  rk_ll_async_rally<1>(hops, out, deadline_ns, dsmem);
}
extern "C" __global__ void rk_ll_async_lean(rk_sw_staged*, rk_u64 hops, rk_u64* out, rk_u64 deadline_ns,
                                            rk_u32 dsmem) {
  rk_ll_async_rally<2>(hops, out, deadline_ns, dsmem);
}
