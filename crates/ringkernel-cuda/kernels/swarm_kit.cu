// The swarm test kit's handlers (see src/swarm/kit.rs for what each type does). The state
// structs and KIT_* constants come from the generated kit header.

__device__ void kit_traffic_send(rk_sw_ctx* c, kit_traffic* s) {
  while (s->sent < s->to_send) {
    if (!s->pending) {
      rk_u64 x = s->rng;
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      s->rng = x;
      s->pend_to = (rk_u32)(x % s->peers);
      s->pend_seq = s->out_seq[s->pend_to] + 1;
      s->pending = 1;
    }
    const rk_u32 r =
        rk_sw_send(c, s->base + s->pend_to, KIT_DATA, s->pend_seq, c->self - s->base, 0, RK_SW_ON_FULL_FAIL);
    if (r == RK_SW_FULL) {
      s->refused++;
      rk_sw_yield(c);
      return;
    }
    s->out_seq[s->pend_to] = s->pend_seq;
    s->pending = 0;
    s->sent++;
  }
}

__device__ void kit_flood_send(rk_sw_ctx* c, kit_flood* s) {
  while (s->owed > 0) {
    const rk_u64 x = rk_sw_random(c);
    rk_u32 to;
    if (s->hot_blocks == 0) {
      to = (rk_u32)(x % s->range);
    } else {
      // An id homed on one of the hot blocks (home = id % blocks).
      const rk_u32 per = s->range / s->blocks;
      to = (rk_u32)((x >> 32) % per) * s->blocks + (rk_u32)(x % s->hot_blocks);
    }
    // Every flood message carries the flood's parameters, so actors that were never started
    // forward too.
    const rk_u64 hot = (rk_u64)s->hot_blocks | ((rk_u64)s->blocks << 32);
    if (rk_sw_send(c, to, KIT_DATA, s->range, hot, 0, RK_SW_ON_FULL_FAIL) == RK_SW_FULL) {
      rk_sw_yield(c);
      return;
    }
    s->owed--;
  }
}

__device__ void kit_asker_next(rk_sw_ctx* c, kit_asker* s) {
  if (s->next >= s->count) return;
  const rk_u32 corr = s->next + 1;
  if (rk_sw_ask(c, s->target, KIT_DATA, corr, corr, 0, 0, RK_SW_ON_FULL_FAIL) == RK_SW_OK) {
    s->next = corr;
  } else {
    s->refused++;
    rk_sw_yield(c);
  }
}

__device__ void rk_sw_handle(rk_sw_ctx* c, rk_u32 type, void* state, const rk_sw_msg* m) {
  const rk_u32 kind = m->kind & RK_SW_KIND_MASK;
  const bool resume = (m->kind & RK_SW_RESUME) != 0;
  switch (type) {
    case KIT_COUNTER: {
      kit_counter* s = (kit_counter*)state;
      if (resume || (m->kind & RK_SW_REPLY)) return;
      s->count++;
      s->sum += m->words[0];
      s->last_hlc = m->hlc;
      s->last_from = m->from;
      if (m->kind & RK_SW_ASK) rk_sw_reply(c, m, s->count, s->sum, m->hlc, RK_SW_ON_FULL_DEAD);
      return;
    }
    case KIT_RELAY: {
      kit_relay* s = (kit_relay*)state;
      if (resume) return;
      s->count++;
      s->hlc_in = m->hlc;
      if (s->next != RK_SW_NO_ID) {
        if (rk_sw_send(c, s->next, kind, m->words[0], m->words[1], m->words[2], RK_SW_ON_FULL_DEAD) ==
            RK_SW_OK) {
          s->hlc_out = c->hlc;
        } else {
          s->failed++;
        }
      }
      return;
    }
    case KIT_TRAFFIC: {
      kit_traffic* s = (kit_traffic*)state;
      if (!resume && kind == KIT_START) {
        s->to_send += (rk_u32)m->words[0];
        s->peers = (rk_u32)m->words[1];
        if (s->rng == 0) s->rng = m->words[2] | 1;
      } else if (!resume && kind == KIT_DATA) {
        const rk_u32 from = (rk_u32)m->words[1];
        const rk_u32 seq = (rk_u32)m->words[0];
        if (s->base + from != m->from || from >= KIT_PEERS || seq != s->in_seq[from] + 1) s->errors++;
        if (from < KIT_PEERS) s->in_seq[from] = seq;
        s->received++;
      }
      if (s->peers > 0 && s->peers <= KIT_PEERS) kit_traffic_send(c, s);
      return;
    }
    case KIT_PING: {
      kit_ping* s = (kit_ping*)state;
      if (resume) return;
      if (kind == KIT_START) {
        s->t0 = rk_globaltimer();
        rk_sw_send(c, s->partner, KIT_DATA, 2 * m->words[0] - 1, 0, 0, RK_SW_ON_FULL_DEAD);
        return;
      }
      s->count++;
      if (m->words[0] == 0) {
        s->t1 = rk_globaltimer();
        s->done++;
      } else {
        // Answer whoever sent it: only the initiator needs to know its partner.
        rk_sw_send(c, m->from, KIT_DATA, m->words[0] - 1, 0, 0, RK_SW_ON_FULL_DEAD);
      }
      return;
    }
    case KIT_FLOOD: {
      kit_flood* s = (kit_flood*)state;
      if (!resume) {
        const bool start = kind == KIT_START;
        const rk_u64 range = start ? m->words[1] : m->words[0];
        const rk_u64 hot = start ? m->words[2] : m->words[1];
        if (start) {
          s->owed += (rk_u32)m->words[0];
        } else {
          s->received++;
          s->owed++;
        }
        s->range = (rk_u32)range;
        s->hot_blocks = (rk_u32)(hot & 0xffffffffu);
        s->blocks = (rk_u32)(hot >> 32);
      }
      if (s->range > 0) kit_flood_send(c, s);
      return;
    }
    case KIT_ECHO: {
      if (!resume && (m->kind & RK_SW_ASK)) {
        rk_sw_reply(c, m, 2 * m->words[0], m->words[1], m->words[2], RK_SW_ON_FULL_DEAD);
      }
      return;
    }
    case KIT_ASKER: {
      kit_asker* s = (kit_asker*)state;
      if (!resume && kind == KIT_START && !(m->kind & RK_SW_REPLY)) {
        s->target = (rk_u32)m->words[0];
        s->count = (rk_u32)m->words[1];
        s->next = 0;
      } else if (!resume && (m->kind & RK_SW_REPLY)) {
        if (m->corr == s->next && m->words[0] == 2ull * m->corr && m->from == s->target) {
          s->ok++;
        } else {
          s->bad++;
        }
      } else if (!resume) {
        return;
      }
      // One ask in flight: the next goes out when the previous one's reply is in.
      if (s->next == s->ok + s->bad || resume) kit_asker_next(c, s);
      return;
    }
    case KIT_SPAWNER: {
      kit_spawner* s = (kit_spawner*)state;
      if (resume || kind != KIT_START) return;
      for (rk_u32 i = 0; i < (rk_u32)m->words[0]; ++i) {
        const rk_u32 id = rk_sw_spawn(c, KIT_COUNTER);
        if (id == RK_SW_NO_ID) {
          s->failed++;
          continue;
        }
        if (s->spawned == 0) s->first = id;
        s->last = id;
        s->spawned++;
        rk_sw_send(c, id, KIT_DATA, i + 1, 0, 0, RK_SW_ON_FULL_DEAD);
      }
      return;
    }
    default:
      return;
  }
}

// XPING: PING as an express handler. Its only effects are its state and `out`, so a pinned
// XPING's warp can run it on every lane (the clock reads differ between lanes; lane 0's count).
// Word 1 rides along the rally: when set, the actor that gets the last message stops itself.
// XLANE: a rally whose answers differ between lanes (see kit::types::XLANE), and XASKER, ASKER as
// an express handler; compiled only into kit::lane_program(), so that the kit's kernel (the
// benchmarks') carries no test-only code.
#define RK_SW_HAS_EXPRESS 1
#ifdef KIT_WITH_XLANE
__device__ bool rk_sw_is_express(rk_u32 type) {
  return type == KIT_XPING || type == KIT_XLANE || type == KIT_XASKER;
}
#else
__device__ bool rk_sw_is_express(rk_u32 type) { return type == KIT_XPING; }
#endif
__device__ void rk_sw_express(rk_u32 type, void* state, const rk_sw_msg* m, rk_sw_xout* out) {
  const bool start = (m->kind & RK_SW_KIND_MASK) == KIT_START;
#ifdef KIT_WITH_XLANE
  if (type == KIT_XASKER) {
    // ASKER as an express handler: one ask in flight, the next when its reply is in.
    kit_asker* s = (kit_asker*)state;
    if (m->kind & RK_SW_REPLY) {
      if (m->corr == s->next && m->words[0] == 2ull * m->corr && m->from == s->target) {
        s->ok++;
      } else {
        s->bad++;
      }
    } else if (start) {
      s->target = (rk_u32)m->words[0];
      s->count = (rk_u32)m->words[1];
      s->next = 0;
    } else {
      return;
    }
    if (s->next == s->ok + s->bad && s->next < s->count) {
      s->next++;
      rk_sw_xask(out, s->target, KIT_DATA, s->next, s->next, 0, 0);
    }
    return;
  }
  if (type == KIT_XLANE) {
    kit_lane* s = (kit_lane*)state;
    // Asks are answered as ECHO answers them (an ASKER can count on it).
    if (m->kind & RK_SW_ASK) {
      rk_sw_xreply(out, m, 2 * m->words[0], m->words[1], m->words[2]);
      return;
    }
    const rk_u64 v = (rk_u64)clock64() ^ (threadIdx.x % 32);
    if (start) {
      rk_sw_xsend(out, s->partner, KIT_DATA, 2 * m->words[0] - 1, v, v ^ KIT_LANE_KEY);
      return;
    }
    s->count++;
    if ((m->words[1] ^ m->words[2]) != KIT_LANE_KEY) s->torn++;
    if (m->words[0] != 0) rk_sw_xsend(out, m->from, KIT_DATA, m->words[0] - 1, v, v ^ KIT_LANE_KEY);
    return;
  }
#endif
  if (type != KIT_XPING) return;
  kit_ping* s = (kit_ping*)state;
  if (start) {
    s->t0 = rk_globaltimer();
    rk_sw_xsend(out, s->partner, KIT_DATA, 2 * m->words[0] - 1, m->words[1], 0);
    return;
  }
  s->count++;
  if (m->words[0] == 0) {
    s->t1 = rk_globaltimer();
    s->done++;
    out->stop = m->words[1] != 0;
  } else {
    rk_sw_xsend(out, m->from, KIT_DATA, m->words[0] - 1, m->words[1], 0);
  }
}
