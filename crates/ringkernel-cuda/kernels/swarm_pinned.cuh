// Pinned actors: the swarm's low-latency tier. Included after swarm_channel.cuh.
//
// A pinned actor owns a warp for its whole life, so nothing on its message path is shared:
//  - it receives from every pinned sender through that sender's channel (swarm_channel.cuh),
//    which its warp polls directly, four lanes per channel, eight channels per load: a message
//    is seen on the round it lands, with no ready queue and no pending count;
//  - its handler runs on lane 0; its channel sends are staged and stored by the warp when the
//    handler returns;
//  - its state and HLC stay in the warp's shared memory and registers, and are written back to
//    device memory after each message (the host reads them there);
//  - everyone else (host, scheduled and cluster-tier actors) reaches it through its ordinary
//    MPSC mailbox, which its warp looks at every RK_SW_PIN_PREFETCH rounds (the load is issued
//    half a period ahead, so the look costs no round trip while the mailbox is empty).
// Per-pair FIFO holds because a (sender, receiver) pair always takes the same path.

// Rounds between looks at a pinned actor's mailbox and at the pinned slots' status.
constexpr rk_u32 RK_SW_PIN_PREFETCH = 32;
static_assert(RK_SW_FREE < RK_SW_LIVE && RK_SW_LIVE < RK_SW_STOPPED, "statuses only move forward");
// Channels one warp load covers (four lanes each), and loads to cover every pinned sender.
constexpr rk_u32 RK_SW_PIN_GROUP = 8;
constexpr rk_u32 RK_SW_PIN_GROUPS = RK_SW_PIN_MAX / RK_SW_PIN_GROUP;

// What a pinned warp keeps between rounds. In load g, lanes 4i..4i+3 poll the channel from
// pinned sender 8g + i (chunk lane % 4 of its slot).
struct rk_sw_pin {
  rk_u32 slot;      // this warp's pinned slot
  rk_u32 pw;        // its index among the block's pinned warps
  rk_u32 status;    // the actor's status word as last seen
  rk_u32 senders;   // pinned slots ever seen spawned (their channels are polled)
  rk_u32 loaded;    // state and HLC copied in
  rk_u32 yielded;
  rk_u32 mail_hot;  // the mailbox had mail last look: keep looking every round
  rk_u32 x_slow;    // the express loop left a message for the rounds
  rk_u32 round;
  rk_u32 pf_status; // prefetched: lane j, pinned slot j's status
  rk_u32 pf_seq;    // prefetched: lane 0, the mailbox slot's lap tag
  rk_u64 mh;        // the mailbox's head
  rk_u64 h[RK_SW_PIN_GROUPS];       // how far this lane's channel of each load has been read
  rk_sw_chan in[RK_SW_PIN_GROUPS];  // this lane's channel of each load, as seen here
};

__device__ void rk_sw_pin_init(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c, rk_u32 slot,
                               rk_u32 block, rk_u32 lane) {
  w->slot = slot;
  w->pw = slot / (rk_u32)p.blocks;
  c->pin_out = &rk_sw_pins.out[w->pw][0][0];
  c->pin_base = rk_sw_pin_base(p);
  c->pin_n = (rk_u32)p.pinned;
  w->status = RK_SW_FREE;
  w->senders = 0;
  w->loaded = 0;
  w->yielded = 0;
  w->mail_hot = 0;
  w->x_slow = 0;
  if (lane == 0) rk_sw_pins.x_pair[w->pw] = 0;
  w->round = 0;
  w->pf_status = RK_SW_FREE;
  w->pf_seq = 0;
  w->mh = 0;
#pragma unroll
  for (rk_u32 g = 0; g < RK_SW_PIN_GROUPS; ++g) {
    const rk_u32 sender = g * RK_SW_PIN_GROUP + lane / 4;
    w->h[g] = 0;
    w->in[g] = rk_sw_channel(p, slot, sender < p.pinned ? sender : slot, block);
  }
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
  // A status only moves forward (FREE, LIVE, STOPPED): a word prefetched before a newer one was
  // read (the synchronous read when mail came first) must not take the warp back.
  if ((st & 0xff) <= (w->status & 0xff)) return;
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
  rk_sw_flush_outbox(w->pw, lane);
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
__device__ __forceinline__ rk_u32 rk_sw_pin_round(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c,
                                                  rk_u32 lane, rk_u64* processed) {
  void* state = rk_sw_pins.state[w->pw];
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

  // Poll: one 16-byte load per lane and group with a live sender; a channel's message is
  // whole when its four lanes see the current tag in all eight words.
  rk_u32 ready[RK_SW_PIN_GROUPS];
  rk_u64 lo[RK_SW_PIN_GROUPS] = {}, hi[RK_SW_PIN_GROUPS] = {};
  bool any = false;
#pragma unroll
  for (rk_u32 g = 0; g < RK_SW_PIN_GROUPS; ++g) {
    ready[g] = 0;
    if (((w->senders >> (g * RK_SW_PIN_GROUP)) & 0xffu) == 0) continue;
    const rk_u32 sender = g * RK_SW_PIN_GROUP + lane / 4;
    bool ok = false;
    if ((w->senders >> sender) & 1) {
      const rk_sw_chan& ch = w->in[g];
      const rk_u64 tag = rk_sw_ll_tag(w->h[g], ch.shift);
      rk_sw_load16(&ch.slots[w->h[g] & ((1ull << ch.shift) - 1)].chunk[lane % 4], lo[g], hi[g]);
      ok = (lo[g] & 0xffff) == tag && (hi[g] & 0xffff) == tag;
    }
    const unsigned b = __ballot_sync(RK_FULL_MASK, ok);
    // Channel i is ready when all four of its lanes are.
    const unsigned quad = b & (b >> 1) & (b >> 2) & (b >> 3) & 0x11111111u;
    ready[g] = quad;
    any |= quad != 0;
  }
  rk_u32 handled = 0;
  rk_sw_msg m;
  if ((any || look_mail) && (w->status & 0xff) != RK_SW_LIVE) {
    // Mail for an actor not seen live yet (or no longer): read its status now, so a message
    // sent right after the spawn is not taken for one to an unknown actor.
    rk_u32 st = lane == 0 ? rk_sw_ld32(&a->status) : 0;
    rk_sw_pin_status(p, w, c, state, __shfl_sync(RK_FULL_MASK, st, 0), lane);
  }
#pragma unroll
  for (rk_u32 g = 0; g < RK_SW_PIN_GROUPS; ++g) {
    unsigned q = ready[g];
    while (q != 0) {
      const int first = __ffs(q) - 1;  // lane 4i of channel i
      q &= q - 1;
      rk_u64 words[8];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        words[2 * k] = __shfl_sync(RK_FULL_MASK, lo[g], first + k);
        words[2 * k + 1] = __shfl_sync(RK_FULL_MASK, hi[g], first + k);
      }
      const rk_u32 sender = g * RK_SW_PIN_GROUP + (rk_u32)first / 4;
      if (lane / 4 == (rk_u32)first / 4) {
        // The words are in registers: give the slot back to the sender.
        ++w->h[g];
        if (lane == (rk_u32)first) {
          if (w->in[g].dsmem()) rk_sw_cl_st64(w->in[g].credit, w->h[g]);
          else rk_sw_st64(w->in[g].credit, w->h[g]);
        }
      }
      rk_sw_ll_unpack(words, rk_sw_pin_base(p) + sender, id, &m);
      rk_sw_pin_one(p, w, c, state, &m, processed, lane);
      ++handled;
    }
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

// The express loop (swarm_express.cuh, included after this file) and its entry condition.
__device__ __forceinline__ bool rk_sw_pin_express_ok(const rk_sw_params& p, const rk_sw_pin* w);
__device__ __forceinline__ rk_u32 rk_sw_pin_express(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c,
                                                    rk_u32 lane, rk_u64* processed);

// Rounds a pinned warp polls before it goes back to the kernel loop's bookkeeping (stop flag,
// heartbeat, idle counts): that bookkeeping cost about three times an empty round (measured on
// an H100), and a message landing meanwhile waited for it.
constexpr rk_u32 RK_SW_PIN_SPIN = 16;

// Pinned rounds until one handles something, at most RK_SW_PIN_SPIN of them. Returns the
// messages handled (the same on every lane). Always inlined: left to the inliner, a larger
// express loop made it a call, and the kernel's warp state and context, whose addresses it
// takes, moved to local memory for every warp (a 432-byte stack frame).
__device__ __forceinline__ rk_u32 rk_sw_serve_pinned(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c, rk_u32 lane,
                                                     rk_u64* processed) {
  if (rk_sw_pin_express_ok(p, w)) return rk_sw_pin_express(p, w, c, lane, processed);
  // The express loop left a message it does not take: the rounds below handle it.
  w->x_slow = 0;
  for (rk_u32 i = 0; i < RK_SW_PIN_SPIN; ++i) {
    const rk_u32 n = rk_sw_pin_round(p, w, c, lane, processed);
    if (n != 0) return n;
  }
  return 0;
}
