// Channels between pinned actors (see swarm_pinned.cuh for the warps at either end). Included
// after swarm.cuh.
//
// One single-producer ring per (sender, receiver) pair of pinned slots: in the receiver block's
// shared memory when both sit in one cluster (written through DSMEM), in device memory
// otherwise. The sender owns the tail, so a send needs no claim and no CAS.
//
// A slot is 64 bytes in the "LL" format of swarm_ll.cuh. Four lanes store (and load) the slot
// with one 16-byte access each, one instruction for the warp, so the message travels as one
// transaction; measured on an H200, that put a DSMEM hop at the raw flag's latency, where one
// lane's four stores cost 110 ns more.
//
// Credits flow back: the receiver publishes how far it has read (into the sender block's shared
// memory for a DSMEM channel, into device memory otherwise), and the sender looks only when its
// cached credit runs out, at most once per ring of sends.

// Senders of one cluster that can write into one pinned receiver through DSMEM.
constexpr rk_u32 RK_SW_PIN_CLUSTER_SENDERS = RK_SW_PIN_PER_BLOCK * 8;
// Channel sends a handler may make before its warp stores them (more are stored by lane 0 alone).
constexpr rk_u32 RK_SW_OUTBOX = 8;

// One block's pinned-tier shared memory.
struct __align__(64) rk_sw_pin_block {
  // Inbound DSMEM channels: [receiver warp][sender's place in the cluster][slot].
  rk_sw_staged ch[RK_SW_PIN_PER_BLOCK][RK_SW_PIN_CLUSTER_SENDERS][RK_SW_CH_DSMEM];
  // Credits of this block's senders: [sender warp][receiver slot], written by the receivers
  // (DSMEM channels only).
  rk_u64 credit[RK_SW_PIN_PER_BLOCK][RK_SW_PIN_MAX];
  // Each sender's channel table, per receiver: tail, last known receiver head, slot address,
  // credit address (bit 0: a DSMEM channel); addresses filled on first use.
  rk_u64 out[RK_SW_PIN_PER_BLOCK][RK_SW_PIN_MAX][4];
  // Sends staged by the running handler: [sender warp][i], their slot addresses and count.
  rk_sw_staged outbox[RK_SW_PIN_PER_BLOCK][RK_SW_OUTBOX];
  rk_u64 outbox_dest[RK_SW_PIN_PER_BLOCK][RK_SW_OUTBOX];
  rk_u32 outbox_n[RK_SW_PIN_PER_BLOCK];
  // Each warp's pair loop partner between express visits (swarm_express.cuh): the sender plus
  // one, and the partner's pinned index << 8; 0: none.
  rk_u32 x_pair[RK_SW_PIN_PER_BLOCK];
  rk_u32 pad[16 - 2 * RK_SW_PIN_PER_BLOCK];
  // The pinned actors' states.
  unsigned char state[RK_SW_PIN_PER_BLOCK][RK_SW_PIN_STATE_MAX];
};
__shared__ rk_sw_pin_block rk_sw_pins;

__device__ __forceinline__ rk_u32 rk_sw_pin_base(const rk_sw_params& p) {
  return (rk_u32)(p.capacity + p.blocks * p.local);
}
// The channel from pinned slot `s` to pinned slot `r`, with addresses as seen from block `here`.
struct rk_sw_chan {
  rk_sw_staged* slots;
  rk_u64* credit;  // the receiver's published head
  rk_u32 shift;  // RK_SW_CH_DSMEM_SHIFT for a DSMEM channel, RK_SW_CH_GLOBAL_SHIFT otherwise

  __device__ bool dsmem() const { return shift == RK_SW_CH_DSMEM_SHIFT; }
};

__device__ rk_sw_chan rk_sw_channel(const rk_sw_params& p, rk_u32 r, rk_u32 s, rk_u32 here) {
  const rk_u32 blocks = (rk_u32)p.blocks, cl = (rk_u32)p.cluster;
  const rk_u32 rb = r % blocks, sb = s % blocks;
  rk_sw_chan ch;
  if (rb / cl != sb / cl) {
    const rk_u64 pair = (rk_u64)r * RK_SW_PIN_MAX + s;
    ch.slots = (rk_sw_staged*)p.pch + (pair << RK_SW_CH_GLOBAL_SHIFT);
    ch.credit = (rk_u64*)p.pch_heads + pair;
    ch.shift = RK_SW_CH_GLOBAL_SHIFT;
    return ch;
  }
  ch.slots = rk_sw_pins.ch[r / blocks][(s / blocks) * cl + sb % cl];
  ch.credit = &rk_sw_pins.credit[s / blocks][r];
  ch.shift = RK_SW_CH_DSMEM_SHIFT;
  if (cl > 1) {
    rk_cg::cluster_group g = rk_cg::this_cluster();
    if (here != rb) ch.slots = g.map_shared_rank(ch.slots, rb % cl);
    if (here != sb) ch.credit = g.map_shared_rank(ch.credit, sb % cl);
  }
  return ch;
}

// Stores staged send `i` of sender warp `pw` from one lane (four 16-byte stores).
__device__ __forceinline__ void rk_sw_store_staged(rk_u32 pw, rk_u32 i) {
  const rk_sw_staged& s = rk_sw_pins.outbox[pw][i];
  rk_sw_staged* d = (rk_sw_staged*)rk_sw_pins.outbox_dest[pw][i];
#pragma unroll
  for (int k = 0; k < 4; ++k) rk_sw_store16(&d->chunk[k], s.chunk[k].x, s.chunk[k].y);
}

// Stores every send the handler staged: lanes 4i..4i+3 store message i, one chunk each, so the
// whole batch is one store instruction for the warp. All lanes call, after the handler.
__device__ void rk_sw_flush_outbox(rk_u32 pw, rk_u32 lane) {
  __syncwarp();
  const rk_u32 n = rk_sw_pins.outbox_n[pw];
  if (n == 0) return;
  const rk_u32 i = lane / 4, k = lane % 4;
  if (i < n) {
    const ulonglong2 v = rk_sw_pins.outbox[pw][i].chunk[k];
    rk_sw_staged* d = (rk_sw_staged*)rk_sw_pins.outbox_dest[pw][i];
    rk_sw_store16(&d->chunk[k], v.x, v.y);
  }
  __syncwarp();
  if (lane == 0) rk_sw_pins.outbox_n[pw] = 0;
  __syncwarp();
}

// A send from a host, scheduled or cluster-tier sender to a pinned actor: its MPSC mailbox.
// Returns what rk_sw_deliver_any does (its caller counts it).
__device__ __noinline__ rk_u32 rk_sw_pin_mailbox_send(const rk_sw_params& p, rk_sw_msg m, rk_u32 on_full) {
  rk_sw_actor* a = rk_sw_actor_at(p, m.to);
  const rk_u32 st = rk_sw_ld32(&a->status) & 0xff;
  const rk_u64 guess = rk_sw_ld64(&a->tail);
  if (st != RK_SW_LIVE) return rk_sw_dead_letter(p, m, st == RK_SW_FREE ? RK_DEAD_UNKNOWN : RK_DEAD_STOPPED);
  const rk_u64 box = p.capacity + (m.to - rk_sw_pin_base(p));
  rk_sw_msg* slots = (rk_sw_msg*)p.mbox + (box << p.mbox_shift);
  rk_u64 pos;
  if (rk_sw_claim(p, &a->tail, slots, p.mbox_shift, &pos, guess) != RK_SW_OK) {
    if (on_full == RK_SW_ON_FULL_DEAD) return rk_sw_dead_letter(p, m, RK_DEAD_FULL);
    return RK_SW_FULL;
  }
  rk_sw_put(&slots[pos & ((1ull << p.mbox_shift) - 1)], rk_sw_free_tag(pos, p.mbox_shift) + 1, m);
  return RK_SW_OK;
}

// Fills sender `s`'s table entry `o` for receiver `r` (once per pair: the divisions and cluster
// mapping stay off the send path).
__device__ __noinline__ void rk_sw_channel_cache(const rk_sw_params& p, rk_u32 r, rk_u32 s, rk_u32 here,
                                                 rk_u64* o) {
  const rk_sw_chan ch = rk_sw_channel(p, r, s, here);
  o[3] = (rk_u64)ch.credit | (ch.dsmem() ? 1ull : 0ull);
  o[2] = (rk_u64)ch.slots;
}

__device__ __forceinline__ rk_u32 rk_sw_channel_send(rk_sw_ctx* c, const rk_sw_msg& m, rk_u32 r,
                                                     rk_u32 on_full) {
  // The sender is pinned: its handler runs on lane 0 of its own warp, the only writer of its
  // table and outbox. The send is staged; the warp stores it when the handler returns.
  rk_u64* o = c->pin_out + 4 * r;
  if (o[2] == 0) rk_sw_channel_cache(*c->p, r, c->self - c->pin_base, c->block, o);
  const bool dsmem = (o[3] & 1) != 0;
  const rk_u32 shift = dsmem ? RK_SW_CH_DSMEM_SHIFT : RK_SW_CH_GLOBAL_SHIFT;
  rk_u64* credit = (rk_u64*)(o[3] & ~1ull);
  const rk_u64 n = 1ull << shift;
  const rk_u64 tail = o[0];
  if (tail - o[1] >= n) {
    // Out of cached credit: look at what the receiver has published (own shared memory for a
    // DSMEM channel; one device-memory round trip per ring of sends otherwise).
    o[1] = dsmem ? rk_sw_cl_ld64(credit) : rk_sw_ld64(credit);
    if (tail - o[1] >= n) {
      if (on_full == RK_SW_ON_FULL_DEAD) return rk_sw_dead(c, m, RK_DEAD_FULL);
      c->full++;
      return RK_SW_FULL;
    }
  }
  const rk_u32 pw = (rk_u32)(o - &rk_sw_pins.out[0][0][0]) / (RK_SW_PIN_MAX * 4);
  rk_u32 i = rk_sw_pins.outbox_n[pw];
  if (i == RK_SW_OUTBOX) {
    // A handler with many sends: store the staged ones now, from this lane.
    for (rk_u32 k = 0; k < i; ++k) rk_sw_store_staged(pw, k);
    i = 0;
  }
  rk_u64 w[8];
  rk_sw_ll_pack(m, rk_sw_ll_tag(tail, shift), w);
  rk_sw_staged& st = rk_sw_pins.outbox[pw][i];
#pragma unroll
  for (int k = 0; k < 4; ++k) st.chunk[k] = make_ulonglong2(w[2 * k], w[2 * k + 1]);
  rk_sw_pins.outbox_dest[pw][i] = (rk_u64)((rk_sw_staged*)o[2] + (tail & (n - 1)));
  rk_sw_pins.outbox_n[pw] = i + 1;
  o[0] = tail + 1;
  c->enqueued++;
  if (dsmem) c->dsmem++;
  return RK_SW_OK;
}
