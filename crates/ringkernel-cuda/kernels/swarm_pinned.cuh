// Pinned actors: the swarm's low-latency tier. Included after swarm.cuh.
//
// A pinned actor owns a warp for its whole life, so nothing on its message path is shared:
//  - every pinned sender has its own single-producer channel into every pinned receiver: in the
//    receiver block's shared memory when both sit in one cluster (written through DSMEM), in
//    device memory otherwise. No claim, no CAS: the sender owns the channel's tail;
//  - credits come back the other way: the receiver publishes how far it has read (into the
//    sender block's shared memory for a DSMEM channel, into device memory otherwise), and the
//    sender looks only when its cached credit runs out (once per ring of sends at most);
//  - the receiving warp polls its channels directly, lane j the channel from pinned sender j, so
//    a message is seen on the round it lands: no ready queue, no pending count;
//  - the actor's state and HLC stay in the warp's shared memory and registers, and are written
//    back to device memory after each message (the host reads them there);
//  - everyone else (host, scheduled and cluster-tier actors) reaches a pinned actor through its
//    ordinary MPSC mailbox, which its warp looks at every RK_SW_PIN_PREFETCH rounds (the load
//    is issued half a period ahead, so the look costs no round trip while it is empty).
// Per-pair FIFO holds because a (sender, receiver) pair always takes the same path.

constexpr rk_u32 RK_SW_CH_DSMEM_SHIFT = 3;
constexpr rk_u32 RK_SW_CH_GLOBAL_SHIFT = 5;
static_assert((1u << RK_SW_CH_DSMEM_SHIFT) == RK_SW_CH_DSMEM, "DSMEM channel size");
static_assert((1u << RK_SW_CH_GLOBAL_SHIFT) == RK_SW_CH_GLOBAL, "global channel size");
// Senders of one cluster that can write into one pinned receiver through DSMEM.
constexpr rk_u32 RK_SW_PIN_CLUSTER_SENDERS = RK_SW_PIN_PER_BLOCK * 8;
// Rounds between looks at a pinned actor's mailbox and status.
constexpr rk_u32 RK_SW_PIN_PREFETCH = 32;

// One block's pinned-tier shared memory.
struct __align__(64) rk_sw_pin_block {
  // Inbound DSMEM channels: [receiver warp][sender's place in the cluster][slot].
  rk_sw_msg ch[RK_SW_PIN_PER_BLOCK][RK_SW_PIN_CLUSTER_SENDERS][RK_SW_CH_DSMEM];
  // Credits of this block's senders: [sender warp][receiver slot], written by the receivers
  // (DSMEM channels only).
  rk_u64 credit[RK_SW_PIN_PER_BLOCK][RK_SW_PIN_MAX];
  // Each sender's tail and last known receiver head per receiver: [sender warp][receiver][2].
  rk_u64 out[RK_SW_PIN_PER_BLOCK][RK_SW_PIN_MAX][2];
  // The pinned actors' states.
  unsigned char state[RK_SW_PIN_PER_BLOCK][RK_SW_PIN_STATE_MAX];
};
__shared__ rk_sw_pin_block rk_sw_pins;

__device__ __forceinline__ rk_u32 rk_sw_pin_base(const rk_sw_params& p) {
  return (rk_u32)(p.capacity + p.blocks * p.local);
}
__device__ __forceinline__ bool rk_sw_is_pinned(const rk_sw_params& p, rk_u32 id) {
  const rk_u32 base = rk_sw_pin_base(p);
  return id != RK_SW_HOST && id >= base && id < base + (rk_u32)p.pinned;
}

// A channel from pinned slot `s` to pinned slot `r`, with addresses as seen from block `here`.
struct rk_sw_chan {
  rk_sw_msg* slots;
  rk_u64* credit;  // the receiver's published head
  rk_u32 shift;
  bool dsmem;
};

__device__ rk_sw_chan rk_sw_channel(const rk_sw_params& p, rk_u32 r, rk_u32 s, rk_u32 here) {
  const rk_u32 blocks = (rk_u32)p.blocks, cl = (rk_u32)p.cluster;
  const rk_u32 rb = r % blocks, sb = s % blocks;
  rk_sw_chan ch;
  if (rb / cl != sb / cl) {
    const rk_u64 pair = (rk_u64)r * RK_SW_PIN_MAX + s;
    ch.slots = (rk_sw_msg*)p.pch + (pair << RK_SW_CH_GLOBAL_SHIFT);
    ch.credit = (rk_u64*)p.pch_heads + pair;
    ch.shift = RK_SW_CH_GLOBAL_SHIFT;
    ch.dsmem = false;
    return ch;
  }
  ch.slots = rk_sw_pins.ch[r / blocks][(s / blocks) * cl + sb % cl];
  ch.credit = &rk_sw_pins.credit[s / blocks][r];
  ch.shift = RK_SW_CH_DSMEM_SHIFT;
  ch.dsmem = true;
  if (cl > 1) {
    rk_cg::cluster_group g = rk_cg::this_cluster();
    if (here != rb) ch.slots = g.map_shared_rank(ch.slots, rb % cl);
    if (here != sb) ch.credit = g.map_shared_rank(ch.credit, sb % cl);
  }
  return ch;
}

// A send from a host, scheduled or cluster-tier sender: the pinned actor's MPSC mailbox.
__device__ rk_u32 rk_sw_pin_mailbox_send(rk_sw_ctx* c, const rk_sw_msg& m, rk_u32 on_full) {
  const rk_sw_params& p = *c->p;
  rk_sw_actor* a = rk_sw_actor_at(p, m.to);
  const rk_u32 st = rk_sw_ld32(&a->status) & 0xff;
  const rk_u64 guess = rk_sw_ld64(&a->tail);
  if (st != RK_SW_LIVE) return rk_sw_dead(c, m, st == RK_SW_FREE ? RK_DEAD_UNKNOWN : RK_DEAD_STOPPED);
  const rk_u64 box = p.capacity + (m.to - rk_sw_pin_base(p));
  rk_sw_msg* slots = (rk_sw_msg*)p.mbox + (box << p.mbox_shift);
  rk_u64 pos;
  if (rk_sw_claim(&a->tail, slots, p.mbox_shift, &pos, guess) != RK_SW_OK) {
    if (on_full == RK_SW_ON_FULL_DEAD) return rk_sw_dead(c, m, RK_DEAD_FULL);
    c->full++;
    return RK_SW_FULL;
  }
  rk_sw_put(&slots[pos & ((1ull << p.mbox_shift) - 1)], rk_sw_free_tag(pos, p.mbox_shift) + 1, m);
  c->enqueued++;
  return RK_SW_OK;
}

__device__ rk_u32 rk_sw_deliver_pinned(rk_sw_ctx* c, const rk_sw_msg& m, rk_u32 on_full) {
  const rk_sw_params& p = *c->p;
  if (!rk_sw_is_pinned(p, c->self)) return rk_sw_pin_mailbox_send(c, m, on_full);
  // The sender is pinned: its handler runs on lane 0 of its own warp, the only writer of `out`.
  const rk_u32 base = rk_sw_pin_base(p);
  const rk_u32 r = m.to - base, s = c->self - base;
  const rk_sw_chan ch = rk_sw_channel(p, r, s, c->block);
  rk_u64* out = rk_sw_pins.out[s / (rk_u32)p.blocks][r];
  const rk_u64 n = 1ull << ch.shift;
  const rk_u64 tail = out[0];
  if (tail - out[1] >= n) {
    // Out of cached credit: look at what the receiver has published (own shared memory for a
    // DSMEM channel; one device-memory round trip per ring of sends otherwise).
    out[1] = ch.dsmem ? rk_sw_cl_ld64(ch.credit) : rk_sw_ld64(ch.credit);
    if (tail - out[1] >= n) {
      if (on_full == RK_SW_ON_FULL_DEAD) return rk_sw_dead(c, m, RK_DEAD_FULL);
      c->full++;
      return RK_SW_FULL;
    }
  }
  rk_sw_put(&ch.slots[tail & (n - 1)], rk_sw_free_tag(tail, ch.shift) + 1, m);
  out[0] = tail + 1;
  c->enqueued++;
  if (ch.dsmem) c->dsmem++;
  return RK_SW_OK;
}

// What a pinned warp keeps between rounds. Per lane: the channel from pinned sender `lane`.
struct rk_sw_pin {
  rk_u32 slot;      // this warp's pinned slot
  rk_u32 status;    // the actor's status word as last seen
  rk_u32 senders;   // pinned slots ever seen spawned (their channels are polled)
  rk_u32 loaded;    // state and HLC copied in
  rk_u32 yielded;
  rk_u32 mail_hot;  // the mailbox had mail last look: keep looking every round
  rk_u32 round;
  rk_u32 pf_status; // prefetched: lane j, pinned slot j's status
  rk_u32 pf_seq;    // prefetched: lane 0, the mailbox slot's lap tag
  rk_u64 h;         // lane j: how far the channel from sender j has been read
  rk_u64 mh;        // the mailbox's head
  rk_sw_chan in;    // lane j: the channel from sender j, as seen here
};

__device__ void rk_sw_pin_init(const rk_sw_params& p, rk_sw_pin* w, rk_u32 slot, rk_u32 block,
                               rk_u32 lane) {
  w->slot = slot;
  w->status = RK_SW_FREE;
  w->senders = 0;
  w->loaded = 0;
  w->yielded = 0;
  w->mail_hot = 0;
  w->round = 0;
  w->pf_status = RK_SW_FREE;
  w->pf_seq = 0;
  w->h = 0;
  w->mh = 0;
  w->in = rk_sw_channel(p, slot, lane < p.pinned ? lane : slot, block);
}

// Copies the actor's state (device memory <-> the warp's shared memory), lanes in parallel.
__device__ void rk_sw_pin_copy(const rk_sw_params& p, rk_u32 id, void* smem, bool in, rk_u32 lane) {
  unsigned char* g = (unsigned char*)rk_sw_state_of(p, id);
  unsigned char* s = (unsigned char*)smem;
  for (rk_u64 i = (rk_u64)lane * 16; i < p.state_stride; i += 32 * 16) {
    rk_u64 a, b;
    if (in) {
      rk_sw_load16(g + i, a, b);
      *(ulonglong2*)(s + i) = make_ulonglong2(a, b);
    } else {
      const ulonglong2 v = *(const ulonglong2*)(s + i);
      rk_sw_store16(g + i, v.x, v.y);
    }
  }
  __syncwarp();
}

// Takes in a status word read from device memory: on the first sight of the actor live, its
// state and HLC come into the warp; the header's `seen` tells the host what the warp saw.
__device__ void rk_sw_pin_status(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c, void* state,
                                 rk_u32 st, rk_u32 lane) {
  if (st == w->status) return;
  rk_sw_actor* a = rk_sw_actor_at(p, rk_sw_pin_base(p) + w->slot);
  w->status = st;
  if ((st & 0xff) == RK_SW_LIVE && !w->loaded) {
    rk_sw_pin_copy(p, rk_sw_pin_base(p) + w->slot, state, true, lane);
    c->hlc = rk_sw_ld64(&a->hlc);
    w->loaded = 1;
  }
  if (lane == 0) rk_sw_st32(&a->seen, st & 0xff);
}

// One message, or a resume turn when `m` is null (all lanes call; lane 0 runs the handler),
// then the state goes back out.
__device__ void rk_sw_pin_one(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c, void* state,
                              const rk_sw_msg* m, rk_u64* processed, rk_u32 lane) {
  const rk_u32 id = rk_sw_pin_base(p) + w->slot;
  if (lane == 0) {
    c->self = id;
    c->type = w->status >> RK_SW_TYPE_SHIFT;
    c->yield = 0;
    c->stopped = 0;
    if (m == nullptr) {
      const rk_sw_msg r = rk_sw_resume_msg(c);
      rk_sw_handle(c, c->type, state, &r);
    } else if ((w->status & 0xff) == RK_SW_FREE) {
      rk_sw_dead(c, *m, RK_DEAD_UNKNOWN);
      c->dropped++;
    } else {
      rk_sw_one(c, (w->status & 0xff) == RK_SW_LIVE, state, *m, processed);
    }
  }
  __syncwarp();
  rk_u32 stopped = __shfl_sync(RK_FULL_MASK, c->stopped, 0);
  w->yielded = __shfl_sync(RK_FULL_MASK, c->yield, 0) && !stopped && (w->status & 0xff) == RK_SW_LIVE;
  if (stopped) w->status = (w->status & ~0xffu) | RK_SW_STOPPED;
  if (w->loaded) {
    rk_sw_pin_copy(p, id, state, false, lane);
    if (lane == 0) rk_sw_st64(&rk_sw_actor_at(p, id)->hlc, c->hlc);
  }
}

// One round of a pinned warp: poll every channel, handle what arrived, in sender order, then
// the mailbox. Returns the messages handled (the same on every lane).
__device__ rk_u32 rk_sw_serve_pinned(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c, rk_u32 block,
                                     rk_u32 lane, rk_u64* processed) {
  void* state = rk_sw_pins.state[w->slot / (rk_u32)p.blocks];
  const rk_u32 id = rk_sw_pin_base(p) + w->slot;
  rk_sw_actor* a = rk_sw_actor_at(p, id);
  const rk_u64 mmask = (1ull << p.mbox_shift) - 1;
  rk_sw_msg* mbox = (rk_sw_msg*)p.mbox + ((p.capacity + w->slot) << p.mbox_shift);
  const rk_u32 phase = w->round++ % RK_SW_PIN_PREFETCH;
  if (phase == 0) {
    // Issued now, used half a period later: the loads are in flight meanwhile.
    if (lane < p.pinned) w->pf_status = rk_sw_ld32(&rk_sw_actor_at(p, rk_sw_pin_base(p) + lane)->status);
    if (lane == 0) w->pf_seq = rk_sw_ld32(&mbox[w->mh & mmask].seq);
  }
  bool look_mail = w->mail_hot != 0;
  if (phase == RK_SW_PIN_PREFETCH / 2) {
    w->senders |= __ballot_sync(RK_FULL_MASK, lane < p.pinned && (w->pf_status & 0xff) != RK_SW_FREE);
    rk_sw_pin_status(p, w, c, state, __shfl_sync(RK_FULL_MASK, w->pf_status, w->slot), lane);
    look_mail |= __shfl_sync(RK_FULL_MASK, w->pf_seq, 0) == rk_sw_free_tag(w->mh, p.mbox_shift) + 1;
  }

  rk_sw_msg m;
  bool have = false;
  if ((w->senders >> lane) & 1) {
    have = rk_sw_peek(&w->in.slots[w->h & ((1ull << w->in.shift) - 1)],
                      rk_sw_free_tag(w->h, w->in.shift) + 1, &m);
  }
  unsigned ready = __ballot_sync(RK_FULL_MASK, have);
  rk_u32 handled = 0;
  if ((ready != 0 || look_mail) && (w->status & 0xff) != RK_SW_LIVE) {
    // Mail for an actor not seen live yet (or no longer): read its status now, so a message
    // sent right after the spawn is not taken for one to an unknown actor.
    rk_u32 st = lane == 0 ? rk_sw_ld32(&a->status) : 0;
    rk_sw_pin_status(p, w, c, state, __shfl_sync(RK_FULL_MASK, st, 0), lane);
  }
  while (ready != 0) {
    const int j = __ffs(ready) - 1;
    ready &= ready - 1;
    rk_sw_msg got;
    rk_u64* gw = (rk_u64*)&got;
    const rk_u64* mw = (const rk_u64*)&m;
#pragma unroll
    for (int i = 0; i < 8; ++i) gw[i] = __shfl_sync(RK_FULL_MASK, mw[i], j);
    if (lane == (rk_u32)j) {
      // The words are in registers: give the slot back to the sender.
      ++w->h;
      if (w->in.dsmem) rk_sw_cl_st64(w->in.credit, w->h);
      else rk_sw_st64(w->in.credit, w->h);
    }
    rk_sw_pin_one(p, w, c, state, &got, processed, lane);
    ++handled;
  }
  if (look_mail) {
    rk_u32 n = 0;
    for (; n < p.batch; ++n) {
      int ok = 0;
      if (lane == 0) {
        rk_sw_msg* s = &mbox[w->mh & mmask];
        const rk_u32 tag = rk_sw_free_tag(w->mh, p.mbox_shift);
        ok = rk_sw_peek(s, tag + 1, &m);
        if (ok) rk_sw_free(s, tag + 2);
      }
      if (!__shfl_sync(RK_FULL_MASK, ok, 0)) break;
      ++w->mh;
#pragma unroll
      for (int i = 0; i < 8; ++i) ((rk_u64*)&m)[i] = __shfl_sync(RK_FULL_MASK, ((rk_u64*)&m)[i], 0);
      rk_sw_pin_one(p, w, c, state, &m, processed, lane);
    }
    if (lane == 0 && n != 0) rk_sw_st64(&a->head, w->mh);
    w->mail_hot = n != 0;
    handled += n;
  }
  if (handled == 0 && w->yielded && (w->status & 0xff) == RK_SW_LIVE) {
    rk_sw_pin_one(p, w, c, state, nullptr, processed, lane);
    handled = 1;
  }
  return handled;
}
