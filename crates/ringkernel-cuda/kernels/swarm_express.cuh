// The express loop of pinned actors whose type has an express handler (rk_sw_express in
// swarm.cuh). Included after swarm_pinned.cuh, whose rk_sw_serve_pinned enters it.
//
// A pinned actor of an express type (swarm.cuh) whose state fits RK_SW_X_STATE bytes is served
// by a loop of its own once it is live: the warp keeps the HLC in registers, polls its
// channels, and runs the handler on all 32 lanes, so nothing between the poll and the answer
// waits on one lane or on shared memory (lane 0's result is broadcast once, so every lane agrees
// even if one computed something else). The loop takes only the common case: a message without a
// deadline whose answer, if any, goes to a pinned partner with credit. For anything else (a
// target outside the pinned tier, no credit, a deadline, a stop) it leaves the message where it
// is and hands the warp to the rounds (swarm_pinned.cuh), which handle it on lane 0 through the
// general path; an express handler depends on its state and message alone, so running it again
// there is the same as running it once. Mail, a status change or RK_SW_X_SPIN polls also hand
// the warp back.

// The largest state the express loop serves (the handler works on a register copy of it;
// actors with larger states take the rounds).
constexpr rk_u32 RK_SW_X_STATE = 32;
constexpr rk_u32 RK_SW_X_WORDS = RK_SW_X_STATE / 8;
// Polls before the express loop returns to the kernel loop (its stop flag and heartbeat).
constexpr rk_u32 RK_SW_X_SPIN = 512;
// Polls in a row without a message after which the express loop returns too: the warp's counts
// go out when it does, so a quiet swarm shows every message it took soon after the last one.
constexpr rk_u32 RK_SW_X_QUIET = 64;
// Set in the pair loop's result when the run ended on RK_SW_X_QUIET polls without a message: the
// express loop then leaves at once, so its counts go out soon after a rally's last message.
constexpr rk_u32 RK_SW_X_QUIETED = 1u << 31;
// Every this many polls the express loop also polls senders it has not heard from this visit.
constexpr rk_u32 RK_SW_X_COLD = 8;

__device__ __forceinline__ bool rk_sw_pin_express_ok(const rk_sw_params& p, const rk_sw_pin* w) {
  return (w->status & 0xff) == RK_SW_LIVE && w->loaded && !w->mail_hot && !w->yielded && !w->x_slow &&
         p.state_stride <= RK_SW_X_STATE && rk_sw_is_express(w->status >> RK_SW_TYPE_SHIFT);
}

// Stores the tell `o` asks for at channel slot `dst` with lap tag `tag`, stamped `hlc`: lane 0
// packs its own result and stores all four 16-byte chunks, so the answer waits on no other lane
// (no broadcast, no vote) and is whole by construction, whatever the other lanes computed (a
// handler may put a clock reading in its words). The LL tags make the chunks' landing order
// irrelevant. Sender and receiver are the channel's, so they are not in the slot.
__device__ __forceinline__ void rk_sw_x_tell(void* dst, rk_u64 tag, const rk_sw_xout& o, rk_u64 hlc, rk_u32 lane) {
  if (lane != 0) return;
  rk_sw_msg r = {};
  r.kind = o.kind;
  r.corr = o.corr;
  r.hlc = hlc;
  r.words[0] = o.a;
  r.words[1] = o.b;
  r.words[2] = o.d;
  rk_u64 packed[8];
  rk_sw_ll_pack(r, tag, packed);
#pragma unroll
  for (rk_u32 k = 0; k < 4; ++k) rk_sw_store16((ulonglong2*)dst + k, packed[2 * k], packed[2 * k + 1]);
}

// The channel an express loop last sent on, held in registers (its table entry is read when
// the target changes and written back when it changes again or the loop ends).
struct rk_sw_xchan {
  rk_u64* ent;          // the table entry (shared memory); null: none held
  rk_sw_staged* slots;  // its ring
  rk_u64 tail, known;   // next position to send; the receiver's head as last read
  rk_u32 shift;         // ring size (log2)
  rk_u32 to;            // the receiver's id (kept rather than worked out from `ent`: see below)
};

__device__ __forceinline__ void rk_sw_xchan_release(rk_sw_xchan& x, rk_u32 lane) {
  if (x.ent != nullptr && lane == 0) {
    x.ent[0] = x.tail;
    x.ent[1] = x.known;
  }
  __syncwarp();
  x.ent = nullptr;
}

// Takes the table entry for pinned receiver `to` into `x` (all lanes call); false if the entry
// has not been filled yet (the general path's first send fills it).
__device__ __forceinline__ bool rk_sw_xchan_take(rk_sw_xchan& x, rk_sw_ctx* c, rk_u32 to, rk_u32 lane) {
  rk_sw_xchan_release(x, lane);
  rk_u64* ent = c->pin_out + 4 * (to - c->pin_base);
  if (ent[2] == 0) return false;
  x.ent = ent;
  x.slots = (rk_sw_staged*)ent[2];
  x.tail = ent[0];
  x.known = ent[1];
  x.shift = (ent[3] & 1) != 0 ? RK_SW_CH_DSMEM_SHIFT : RK_SW_CH_GLOBAL_SHIFT;
  x.to = to;
  return true;
}

// Reads the receiver's published head into the held channel's `known` (all lanes call).
__device__ __forceinline__ void rk_sw_x_credit(rk_sw_xchan& x, rk_u32 lane) {
  const rk_u64* credit = (const rk_u64*)(x.ent[3] & ~1ull);
  rk_u64 v = 0;
  if (lane == 0) v = x.shift == RK_SW_CH_DSMEM_SHIFT ? rk_sw_cl_ld64(credit) : rk_sw_ld64(credit);
  x.known = __shfl_sync(RK_FULL_MASK, v, 0);
}

// The pair loop (swarm_pair.cuh, included after this file).
__device__ __forceinline__ rk_u32 rk_sw_x_pair(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c, rk_u32 type,
                                               rk_u32 id, rk_u32 sender, rk_sw_xchan& x, rk_u64& hlc, rk_u64 wall,
                                               rk_u64* shared_state, void* state_out, rk_u32 lane, rk_u32& polls,
                                               bool& left);

// The express loop (all lanes call). Returns the messages handled (the same on every lane).
// Per message, in this order: the poll that finds it, the handler, the answer's store; then,
// while the answer travels, giving the slot back, the state and HLC write-back and the counts.
__device__ __forceinline__ rk_u32 rk_sw_pin_express(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c,
                                                    rk_u32 lane, rk_u64* processed) {
  const rk_u32 id = rk_sw_pin_base(p) + w->slot;
  const rk_u32 type = w->status >> RK_SW_TYPE_SHIFT;
  rk_sw_actor* a = rk_sw_actor_at(p, id);
  rk_u64* shared_state = (rk_u64*)rk_sw_pins.state[w->pw];
  void* state_out = rk_sw_state_of(p, id);
  const rk_u32 words = (rk_u32)(p.state_stride / 8);
  const rk_u32 chunks = (rk_u32)(p.state_stride / 16);
  const rk_u64 mmask = (1ull << p.mbox_shift) - 1;
  const rk_sw_msg* mbox = (const rk_sw_msg*)p.mbox + ((p.capacity + w->slot) << p.mbox_shift);
  rk_u64 hlc = __shfl_sync(RK_FULL_MASK, c->hlc, 0);
  rk_u64 wall = rk_hlc_wall(__shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0));
  rk_sw_xchan x;
  x.ent = nullptr;
  rk_u32 handled = 0;
  // Senders heard from in this visit: their channels are polled every time, the others every
  // RK_SW_X_COLD polls. A poll waits for its slowest load, so one device-memory channel in the
  // set would hold a DSMEM partner's message back by an L2 round trip.
  rk_u32 hot = 0;
  rk_u32 polls = 0, quiet = 0, paired = 0;
  // The pair loop's sender and partner from the last visit: the pair loop starts at once.
  const rk_u32 last = rk_sw_pins.x_pair[w->pw];
  if (last != 0 && rk_sw_xchan_take(x, c, c->pin_base + (last >> 8), lane)) hot = 1u << ((last & 0xff) - 1);
  for (rk_u32 visit = 0; polls < RK_SW_X_SPIN && quiet < RK_SW_X_QUIET; ++visit) {
    // One partner, its channel held: the pair loop polls until the next beat below.
    bool paired_run = false, left = false;
    if (x.ent != nullptr && __popc(hot) == 1) {
      const rk_u32 before = polls;
      const rk_u32 r = rk_sw_x_pair(p, w, c, type, id, __ffs(hot) - 1, x, hlc, wall, shared_state, state_out,
                                    lane, polls, left);
      const rk_u32 n = r & ~RK_SW_X_QUIETED;
      paired_run = true;
      quiet = (r & RK_SW_X_QUIETED) != 0 ? RK_SW_X_QUIET : n != 0 ? 0 : quiet + (polls - before);
      if (lane == 0) *processed += n;
      handled += n;
      paired += n;
    }
    ++polls;
    ++quiet;
    // The rounds' prefetch schedule: statuses and the mailbox's next slot, read half a period
    // after they were issued; the HLC's wall part is refreshed on the same beat. After every run
    // of the pair loop the beat is due at once, issued and read here: a run moves the round
    // count by any number of polls, so the schedule could miss its two phases for good (a run
    // of 66 polls, say, keeps the phase's parity).
    const bool due = paired_run;
    const rk_u32 phase = w->round++ % RK_SW_PIN_PREFETCH;
    if (phase == 0 || due) {
      if (lane < p.pinned) w->pf_status = rk_sw_ld32(&rk_sw_actor_at(p, rk_sw_pin_base(p) + lane)->status);
      if (lane == 0) w->pf_seq = rk_sw_ld32(&mbox[w->mh & mmask].seq);
    }
    if (phase == RK_SW_PIN_PREFETCH / 2 || due) {
      w->senders |= __ballot_sync(RK_FULL_MASK, lane < p.pinned && (w->pf_status & 0xff) != RK_SW_FREE);
      rk_sw_pin_status(p, w, c, shared_state, __shfl_sync(RK_FULL_MASK, w->pf_status, w->slot), lane);
      if ((w->status & 0xff) != RK_SW_LIVE) break;
      if (__shfl_sync(RK_FULL_MASK, w->pf_seq, 0) == rk_sw_free_tag(w->mh, p.mbox_shift) + 1) {
        w->mail_hot = 1;
        break;
      }
      wall = rk_hlc_wall(__shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0));
    }
    // Poll the senders' channels; take the first whole message (the others are seen again on
    // the next poll, so each channel is still read in order).
    rk_u32 polled = visit % RK_SW_X_COLD == 0 || due ? w->senders : w->senders & hot;
    // The partner's channel is the pair loop's to poll, unless it left a message there: the
    // partner's next message often lands during the beat, and the pair loop takes it faster.
    if (paired_run && !left) polled &= ~hot;
    rk_u64 lo[RK_SW_PIN_GROUPS] = {}, hi[RK_SW_PIN_GROUPS] = {};
    unsigned ready[RK_SW_PIN_GROUPS];
#pragma unroll
    for (rk_u32 g = 0; g < RK_SW_PIN_GROUPS; ++g) {
      ready[g] = 0;
      if (((polled >> (g * RK_SW_PIN_GROUP)) & 0xffu) == 0) continue;
      bool ok = false;
      if ((polled >> (g * RK_SW_PIN_GROUP + lane / 4)) & 1) {
        const rk_sw_chan& ch = w->in[g];
        const rk_u64 tag = rk_sw_ll_tag(w->h[g], ch.shift);
        rk_sw_load16(&ch.slots[w->h[g] & ((1ull << ch.shift) - 1)].chunk[lane % 4], lo[g], hi[g]);
        ok = (lo[g] & 0xffff) == tag && (hi[g] & 0xffff) == tag;
      }
      const unsigned b = __ballot_sync(RK_FULL_MASK, ok);
      ready[g] = b & (b >> 1) & (b >> 2) & (b >> 3) & 0x11111111u;
    }
    rk_u32 g = RK_SW_PIN_GROUPS;
    rk_u64 mlo = 0, mhi = 0;
    unsigned q = 0;
#pragma unroll
    for (rk_u32 k = RK_SW_PIN_GROUPS; k-- > 0;) {
      if (ready[k] != 0) {
        g = k;
        q = ready[k];
        mlo = lo[k];
        mhi = hi[k];
      }
    }
    if (g == RK_SW_PIN_GROUPS) continue;
    const int first = __ffs(q) - 1;  // lane 4i of channel i
    quiet = 0;
    rk_u64 in[8];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      in[2 * k] = __shfl_sync(RK_FULL_MASK, mlo, first + k);
      in[2 * k + 1] = __shfl_sync(RK_FULL_MASK, mhi, first + k);
    }
    const rk_u32 sender = g * RK_SW_PIN_GROUP + (rk_u32)first / 4;
    hot |= 1u << sender;
    rk_sw_msg m;
    rk_sw_ll_unpack(in, rk_sw_pin_base(p) + sender, id, &m);
    // Nothing is taken until the answer is known to go through: the handler works on a copy of
    // the state (the warp's shared memory holds the real one) and the HLC is merged into a copy.
    rk_u64 xs[RK_SW_X_WORDS];
#pragma unroll
    for (rk_u32 j = 0; j < RK_SW_X_WORDS; ++j) xs[j] = j < words ? shared_state[j] : 0;
    rk_u64 next_hlc = hlc;
    rk_hlc_at(&next_hlc, m.hlc + 1, wall);
    rk_sw_xout o = {};
    rk_sw_express(type, xs, &m, &o);
    // Lane 0's result is the one that counts.
    const bool send = __shfl_sync(RK_FULL_MASK, o.send, 0) != 0;
    const rk_u32 to = __shfl_sync(RK_FULL_MASK, o.to, 0);
    bool slow = m.expires != 0 || __shfl_sync(RK_FULL_MASK, o.stop, 0) != 0;
    if (send && !slow && (x.ent == nullptr || x.to != to)) {
      slow = to - c->pin_base >= c->pin_n || !rk_sw_xchan_take(x, c, to, lane);
    }
    if (send && !slow && x.tail - x.known >= (1ull << x.shift)) {
      // Out of cached credit: read what the receiver has published.
      rk_sw_x_credit(x, lane);
      slow = x.tail - x.known >= (1ull << x.shift);
    }
    if (slow) {
      w->x_slow = 1;
      break;
    }
    hlc = next_hlc;
    if (send) {
      rk_sw_x_tell(x.slots + (x.tail & ((1ull << x.shift) - 1)), rk_sw_ll_tag(x.tail, x.shift), o,
                   rk_hlc_at(&hlc, 0, wall), lane);
      ++x.tail;
    }
    // The answer is out; the rest is bookkeeping. Give the slot back to its sender.
    // (Constant indices into the warp's per-group arrays keep them in registers.)
#pragma unroll
    for (rk_u32 k = 0; k < RK_SW_PIN_GROUPS; ++k) {
      if (k == g && lane / 4 == (rk_u32)first / 4) {
        ++w->h[k];
        if (lane == (rk_u32)first) {
          if (w->in[k].dsmem()) rk_sw_cl_st64(w->in[k].credit, w->h[k]);
          else rk_sw_st64(w->in[k].credit, w->h[k]);
        }
      }
    }
    // The state and HLC go out after every message, as the rounds do (the host reads them).
#pragma unroll
    for (rk_u32 j = 0; j < RK_SW_X_WORDS; ++j) xs[j] = __shfl_sync(RK_FULL_MASK, xs[j], 0);
    rk_u64 sv[8] = {};
#pragma unroll
    for (rk_u32 j = 0; j < RK_SW_X_WORDS; ++j) sv[j] = xs[j];
    rk_sw_ll_store_lanes(state_out, sv, chunks, lane);
    __syncwarp();  // every lane has read this message's state before lane 0 replaces it
    if (lane == 0) {
#pragma unroll
      for (rk_u32 j = 0; j < RK_SW_X_WORDS; ++j) {
        if (j < words) shared_state[j] = xs[j];
      }
      rk_sw_st64(&a->hlc, hlc);
      ++*processed;
      if (send) {
        c->enqueued++;
        if (x.shift == RK_SW_CH_DSMEM_SHIFT) c->dsmem++;
      }
    }
    ++handled;
    __syncwarp();  // the state in shared memory is written before any lane reads it again
  }
  if (lane == 0) {
    rk_sw_pins.x_pair[w->pw] =
        x.ent != nullptr && __popc(hot) == 1 ? (rk_u32)__ffs(hot) | ((x.to - c->pin_base) << 8) : 0;
  }
  rk_sw_xchan_release(x, lane);
  // The rounds take over from the warp's shared memory and lane 0's context. The express counts
  // go straight out (once per visit; a context counter would hold a register all along).
  if (lane == 0) {
    rk_sw_stats* st = (rk_sw_stats*)p.stats + c->block;
    if (handled != 0) atomicAdd((unsigned long long*)&st->express, handled);
    if (paired != 0) atomicAdd((unsigned long long*)&st->pair, paired);
    c->hlc = hlc;
  }
  __syncwarp();
  return handled;
}
