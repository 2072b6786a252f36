// Polls in a run of the pair loop: then the express loop's beat is due (statuses, mailbox and
// the other senders are looked at there). Leaving the pair loop and coming back costs more than
// a rally's round trip, so a beat after every few messages held every answer up.
constexpr rk_u32 RK_SW_X_RUN = 256;
// Polls a due beat waits for a message to finish before it is taken anyway.
constexpr rk_u32 RK_SW_X_LATE = 16;
static_assert((RK_SW_X_RUN & (RK_SW_X_RUN - 1)) == 0 && RK_SW_X_LATE < RK_SW_X_RUN, "run clock");

// The pair loop: the express loop's common case, a rally with one partner, with nothing but
// that partner's channel in the poll. Every piece of it stays in registers (the inbound channel,
// its head, the outbound channel, the state and the HLC), and every lane reads the whole slot and
// runs the handler on the same words, so the warp's control flow needs no broadcast. Between the
// poll that sees a message and the store of its answer nothing waits on another lane: lane 0's
// result is the one that counts, and lane 0 stores its answer itself (rk_sw_x_tell) before the
// warp learns, in one shuffle, what lane 0 did. Where lane 0's answer goes elsewhere, needs
// credit, has a deadline or stops the actor, the message stays in its channel for the express
// loop's general poll, which keeps lane 0's result as well.
// A run ends about every RK_SW_X_RUN polls, right after a message where one comes within
// RK_SW_X_LATE more (the express loop's beat is due then: statuses, mailbox, the other senders
// and the HLC's wall part); after RK_SW_X_QUIET polls without a message (its quiet exit); or
// where it leaves a message for the express loop. The receiver's head is read on the way in
// and again after an answer once half the credit is used, so credit ends no run. Returns the
// messages handled (with RK_SW_X_QUIETED set after a quiet end); `polls` counts its polls;
// `left` is set when it left a message in the channel for the express loop.
__device__ __forceinline__ rk_u32 rk_sw_x_pair(const rk_sw_params& p, rk_sw_pin* w, rk_sw_ctx* c, rk_u32 type,
                                               rk_u32 id, rk_u32 sender, rk_sw_xchan& x, rk_u64& hlc, rk_u64 wall,
                                               rk_u64* shared_state, void* state_out, rk_u32 lane, rk_u32& polls,
                                               bool& left) {
  const rk_u32 g = sender / RK_SW_PIN_GROUP, quad = sender % RK_SW_PIN_GROUP;
  // The sender's channel and head: lanes 4*quad..4*quad+3 hold them in load g; every lane
  // takes them, as every lane reads the whole slot.
  rk_sw_chan ch = w->in[0];
  rk_u64 h = w->h[0];
#pragma unroll
  for (rk_u32 k = 1; k < RK_SW_PIN_GROUPS; ++k) {
    if (k == g) {
      ch = w->in[k];
      h = w->h[k];
    }
  }
  ch.slots = (rk_sw_staged*)__shfl_sync(RK_FULL_MASK, (rk_u64)ch.slots, 4 * quad);
  ch.credit = (rk_u64*)__shfl_sync(RK_FULL_MASK, (rk_u64)ch.credit, 4 * quad);
  ch.shift = __shfl_sync(RK_FULL_MASK, ch.shift, 4 * quad);
  h = __shfl_sync(RK_FULL_MASK, h, 4 * quad);
  const rk_u64 mask = (1ull << ch.shift) - 1;
  const rk_u64 xsize = 1ull << x.shift;
  const rk_u32 from = rk_sw_pin_base(p) + sender;
  const rk_u32 words = (rk_u32)(p.state_stride / 8);
  const rk_u32 chunks = (rk_u32)(p.state_stride / 16);
  rk_u64 xs[RK_SW_X_WORDS];
#pragma unroll
  for (rk_u32 j = 0; j < RK_SW_X_WORDS; ++j) xs[j] = j < words ? shared_state[j] : 0;
  // Read the receiver's head on the way in (a run starts after a beat, mostly right after an
  // answer went out, so the partner's next message is a round trip away): a run then has all
  // the credit the receiver has given back.
  if (x.tail != x.known) rk_sw_x_credit(x, lane);
  // Where the next answer goes and its lap tag, known before the message that asks for it.
  rk_sw_staged* dst = x.slots + (x.tail & (xsize - 1));
  rk_u64 dtag = rk_sw_ll_tag(x.tail, x.shift);
  rk_u32 n = 0, sent = 0;
  // A beat that comes due waits for the end of the next message (the partner's answer is a
  // round trip away then), or RK_SW_X_LATE polls without one. A run that has not had a message
  // yet does not end on the beat (it began in the window, or the partner is quiet).
  bool answered = false;
  rk_u32 empty = 0;
  for (;;) {
    // The warp's round count is the run's clock (no register more for it): the run ends in
    // the first RK_SW_X_LATE rounds of every RK_SW_X_RUN, and the next starts after them.
    const rk_u32 phase = w->round++ % RK_SW_X_RUN;
    if (phase < RK_SW_X_LATE && n != 0 && (answered || phase == RK_SW_X_LATE - 1)) {
      w->round = (w->round & ~(RK_SW_X_RUN - 1)) + RK_SW_X_LATE;
      break;
    }
    if (!answered && ++empty > RK_SW_X_QUIET) {
      n |= RK_SW_X_QUIETED;
      break;
    }
    answered = false;
    ++polls;
    // Every lane reads the whole slot (one address per load: the same words on every lane).
    rk_u64 in[8];
    const rk_sw_staged* slot = ch.slots + (h & mask);
#pragma unroll
    for (rk_u32 k = 0; k < 4; ++k) rk_sw_load16(&slot->chunk[k], in[2 * k], in[2 * k + 1]);
    const rk_u64 tag = rk_sw_ll_tag(h, ch.shift);
    if (!__all_sync(RK_FULL_MASK, rk_sw_ll_whole(in, tag))) continue;
    rk_sw_msg m;
    rk_sw_ll_unpack(in, from, id, &m);
    // The clock after the merge, and after the answer's tick too (both from the message's
    // clock alone, so the stamp does not wait on the merge).
    rk_u64 merged = hlc;
    rk_hlc_at(&merged, m.hlc + 1, wall);
    const rk_u64 stamped = rk_hlc_at_then_tick(hlc, m.hlc + 1, wall);
    rk_sw_xout o = {};
    rk_sw_express(type, xs, &m, &o);
    // Lane 0's result counts: it stores its answer at once, and the warp learns afterwards
    // what lane 0 did (1: answered on the held channel, 2: nothing to send, 0: left the
    // message for the express loop's poll, which keeps lane 0's result too).
    const bool plain = m.expires == 0 && !o.stop;
    const bool go = plain && o.send && o.to == x.to && x.tail - x.known < xsize;
    if (go) rk_sw_x_tell(dst, dtag, o, stamped, lane);
    const rk_u32 did = __shfl_sync(RK_FULL_MASK, go ? 1u : plain && !o.send ? 2u : 0u, 0);
    if (did == 0) {
      left = true;  // the state is still in shared memory
      break;
    }
    hlc = did == 1 ? stamped : merged;
    if (did == 1) {
      ++x.tail;
      ++sent;
      dst = x.slots + (x.tail & (xsize - 1));
      dtag = rk_sw_ll_tag(x.tail, x.shift);
    }
    // The answer is out: give the slot back, keep lane 0's state, write state and HLC out,
    // and with half the credit used read the receiver's head (the partner's next message is a
    // round trip away).
    ++h;
    if (lane == 0) {
      if (ch.dsmem()) rk_sw_cl_st64(ch.credit, h);
      else rk_sw_st64(ch.credit, h);
    }
    rk_u64 sv[8] = {};
#pragma unroll
    for (rk_u32 j = 0; j < RK_SW_X_WORDS; ++j) {
      xs[j] = __shfl_sync(RK_FULL_MASK, xs[j], 0);
      sv[j] = xs[j];
    }
    rk_sw_ll_store_lanes(state_out, sv, chunks, lane);
    if (lane == 0) {
#pragma unroll
      for (rk_u32 j = 0; j < RK_SW_X_WORDS; ++j) {
        if (j < words) shared_state[j] = xs[j];
      }
      rk_sw_st64(&rk_sw_actor_at(p, id)->hlc, hlc);
    }
    if (x.tail - x.known >= xsize / 2) rk_sw_x_credit(x, lane);
    ++n;
    empty = 0;
    answered = true;
  }
#pragma unroll
  for (rk_u32 k = 0; k < RK_SW_PIN_GROUPS; ++k) {
    if (k == g && lane / 4 == quad) w->h[k] = h;
  }
  if (lane == 0 && n != 0) {
    c->enqueued += sent;
    if (x.shift == RK_SW_CH_DSMEM_SHIFT) c->dsmem += sent;
  }
  __syncwarp();
  return n;
}
