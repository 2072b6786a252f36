// The diagnostic K2K actor (src/peer.rs): every command the host or a peer sends, in CUDA.
#define RK_PEER_TYPE 0x0D01u

__device__ __forceinline__ unsigned long long rk_peer_rand(PeerState* s) {
  unsigned long long x = s->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  s->rng = x;
  return x;
}

// One send with the outcome counted; returns the rk_k2k_tell result.
__device__ unsigned rk_peer_send(PeerState* s, const rk_ctx* ctx, unsigned target, const PeerMsg& m,
                                 unsigned policy) {
  const unsigned rc = rk_k2k_tell(ctx, target, RK_PEER_TYPE, &m, sizeof(PeerMsg), policy);
  if (rc == RK_K2K_OK) s->sum.sent++;
  else if (rc == RK_K2K_FULL) s->sum.fulls++;
  else s->sum.dead++;
  return rc;
}

// Sends pending SPRAY messages to random peers until one is refused (the rest stays pending).
__device__ void rk_peer_flush(PeerState* s, const rk_ctx* ctx) {
  while (s->sum.pending > 0 && s->peers > 0) {
    const unsigned t = (unsigned)(rk_peer_rand(s) % s->peers);
    PeerMsg d = {3u, 0u, (unsigned long long)s->next_seq[t], 0ull};
    if (rk_peer_send(s, ctx, t, d, RK_ON_FULL_FAIL) != RK_K2K_OK) break;
    s->next_seq[t]++;
    s->sum.pending--;
  }
}

// Rally: sends a ball stamped with its send time, timing the send itself.
__device__ void rk_peer_ball(PeerState* s, const rk_ctx* ctx, unsigned to, unsigned kind,
                             unsigned long long n) {
  const unsigned long long t = rk_globaltimer();
  PeerMsg b = {kind, 0u, t, n};
  rk_peer_send(s, ctx, to, b, RK_ON_FULL_FAIL);
  s->sum.send_ns += rk_globaltimer() - t;
}

__device__ int rk_peer_handle(PeerState* s, const PeerMsg* m, PeerSummary* r, const rk_ctx* ctx) {
  const bool k2k = ctx->sender != RK_HOST_ID;
  if (k2k) {
    s->sum.received++;
    s->sum.last_ts = ctx->timestamp;
  }
  switch (m->kind) {
    case 1: {  // RELAY
      if (m->n > 0) {
        PeerMsg f = {1u, 0u, m->seq + 1, m->n - 1};
        rk_peer_send(s, ctx, s->next, f, RK_ON_FULL_FAIL);
      }
      break;
    }
    case 2: {  // SPRAY
      s->sum.pending += m->n;
      rk_peer_flush(s, ctx);
      break;
    }
    case 3: {  // DATA; a receipt also retries this peer's own pending sends
      const unsigned from = ctx->sender;
      if (!k2k || from >= 64) { s->sum.errors++; break; }
      if (m->seq != s->expected[from]) s->sum.errors++;
      s->expected[from] = (unsigned)m->seq + 1;
      rk_peer_flush(s, ctx);
      break;
    }
    case 4: {  // RAW
      PeerMsg p = {3u, 0u, 0ull, 0ull};
      const unsigned rc = rk_k2k_tell(ctx, m->target, (unsigned)m->seq, &p,
                                      (unsigned)(m->n & 0xffffu), (unsigned)(m->n >> 32));
      if (rc == RK_K2K_OK) s->sum.sent++;
      else if (rc == RK_K2K_FULL) s->sum.fulls++;
      else s->sum.dead++;
      break;
    }
    case 6: {  // PING: start a rally of n round trips with next
      s->rally_t0 = rk_globaltimer();
      s->sum.rally_ns = 0;
      s->sum.hop_ns = s->sum.hops = s->sum.send_ns = 0;
      rk_peer_ball(s, ctx, s->next, 7u, m->n);
      break;
    }
    case 7:    // BALL: return it
    case 8: {  // RETURN: one round trip done
      s->sum.hop_ns += rk_globaltimer() - m->seq;
      s->sum.hops++;
      if (m->kind == 7u) rk_peer_ball(s, ctx, ctx->sender, 8u, m->n);
      else if (m->n > 1) rk_peer_ball(s, ctx, ctx->sender, 7u, m->n - 1);
      else s->sum.rally_ns = rk_globaltimer() - s->rally_t0;
      break;
    }
    case 9: {  // BURST
      for (unsigned long long i = 0; i < m->n; ++i) {
        PeerMsg d = {3u, 0u, i, 0ull};
        rk_peer_send(s, ctx, m->target, d, RK_ON_FULL_DEAD_LETTER);
      }
      break;
    }
    case 10: {  // SPIN
      const unsigned long long until = rk_globaltimer() + m->n;
      while (rk_globaltimer() < until) {}
      break;
    }
    case 11: {  // LATE: busy for `seq` ns, then send `n` DATA messages to `target`
      const unsigned long long until = rk_globaltimer() + m->seq;
      while (rk_globaltimer() < until) {}
      for (unsigned long long i = 0; i < m->n; ++i) {
        PeerMsg d = {3u, 0u, i, 0ull};
        rk_peer_send(s, ctx, m->target, d, RK_ON_FULL_FAIL);
      }
      break;
    }
    case 12: {  // STREAM: n DATA messages to random peers, each retried until accepted
      for (unsigned long long i = 0; i < m->n; ++i) {
        const unsigned t = (unsigned)(rk_peer_rand(s) % s->peers);
        PeerMsg d = {3u, 0u, (unsigned long long)s->next_seq[t], 0ull};
        unsigned rc;
        while ((rc = rk_peer_send(s, ctx, t, d, RK_ON_FULL_FAIL)) == RK_K2K_FULL) {}
        if (rc != RK_K2K_OK) break;
        s->next_seq[t]++;
      }
      break;
    }
    default:
      break;
  }
  *r = s->sum;
  return 0;
}
