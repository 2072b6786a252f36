// The swarm kernel: persistent worker warps serving lightweight actors. Follows swarm.cuh and the
// program's rk_sw_handle(ctx, type, state, msg).
//
// Roles: every warp is a worker (ready queues: own block's, then the cluster's, then random
// blocks' of the grid), except: when the swarm has cluster-tier actors, warp 0 of each block
// serves only those (lane i polls actor i's shared-memory mailbox) and drains the block's
// forward inbox; the next warps serve one pinned actor each (swarm_pinned.cuh); the last warp
// of block 0 is the host injector only.

#ifndef RK_SW_HAS_EXPRESS
// A program without express types.
__device__ bool rk_sw_is_express(rk_u32) { return false; }
__device__ void rk_sw_express(rk_u32, void*, const rk_sw_msg*, rk_sw_xout*) {}
#endif

// Scheduler sub-partitions of an SM (four on Hopper).
constexpr rk_u32 RK_SW_SMSPS = 4;
// The nap of a long-idle worker that shares its sub-partition with a pinned warp (see the
// roles in rk_swarm): with the default 256 ns nap such workers added 15-20 ns to each express
// hop on an H100; the rally stays at its 5-warp speed with this one.
constexpr unsigned RK_SW_SHADOW_NAP_NS = 20000;

// One turn of global-tier actor `id` (this lane holds it): up to `batch` messages, then give it up
// (or re-enqueue it if more arrived or its handler yielded).
__device__ void rk_sw_turn(const rk_sw_params& p, rk_u32 id, rk_sw_ctx* c, rk_u64* processed) {
  // Acquire: the previous turn's writes (released before its `pending` update, which the
  // enqueuing sender acquired before publishing the ready entry we took) are visible below.
  rk_sw_release_fence();
  rk_sw_actor* a = rk_sw_actor_at(p, id);
  rk_u64 head = rk_sw_ld64(&a->head);
  const rk_u32 status = rk_sw_ld32(&a->status);
  const rk_u32 yielded = rk_sw_ld32(&a->yielded);
  const bool live = (status & 0xff) == RK_SW_LIVE;
  c->self = id;
  c->type = status >> RK_SW_TYPE_SHIFT;
  c->hlc = rk_sw_ld64(&a->hlc);
  c->yield = 0;
  c->stopped = 0;
  void* state = rk_sw_state_of(p, id);
  rk_sw_msg* slots = (rk_sw_msg*)p.mbox + ((rk_u64)id << p.mbox_shift);
  const rk_u64 mask = (1ull << p.mbox_shift) - 1;
  rk_u32 n = 0;
  rk_sw_msg m;
  while (n < p.batch) {
    rk_sw_msg* s = &slots[head & mask];
    const rk_u32 tag = rk_sw_free_tag(head, p.mbox_shift);
    if (!rk_sw_peek(s, tag + 1, &m)) break;
    rk_sw_free(s, tag + 2);
    ++head;
    ++n;
    rk_sw_one(c, live, state, m, processed);
  }
  if (n == 0 && yielded && live) {
    const rk_sw_msg r = rk_sw_resume_msg(c);
    rk_sw_handle(c, c->type, state, &r);
  }
  const rk_u32 keep = (c->yield && live && !c->stopped) ? 1u : 0u;
  rk_sw_st64(&a->head, head);
  rk_sw_st64(&a->hlc, c->hlc);
  if (keep != yielded) rk_sw_st32(&a->yielded, keep);
  // The one fence of a turn: the state, head and HLC written above reach L2 before any other
  // worker can take the actor (it learns of it only through `pending` below).
  rk_sw_release_fence();
  const int sub = (int)n + (int)yielded - (int)keep;
  const int old = (int)cuda::atomic_ref<rk_u32, cuda::thread_scope_device>(a->pending)
                      .fetch_sub((rk_u32)sub, cuda::memory_order_relaxed);
  if (old - sub > 0) rk_sw_rq_push(p, id % (rk_u32)p.blocks, id);
}

// Warp 0: the block's cluster-tier actors, lane i serving actor i from its shared-memory mailbox.
// Only this lane ever runs actor i, so its state needs no fence.
__device__ void rk_sw_serve_local(const rk_sw_params& p, rk_sw_ctx* c, rk_u32 lane,
                                  rk_u32* yielded, rk_u64* processed) {
  if (lane >= p.local) return;
  rk_sw_local* l = &rk_sw_locals[lane];
  const rk_u32 id = (rk_u32)p.capacity + c->block * (rk_u32)p.local + lane;
  rk_u64 head = l->head;
  const rk_u32 tag = rk_sw_free_tag(head, 3);
  rk_sw_msg m;
  const bool have = rk_sw_peek(&l->slots[head & 7], tag + 1, &m);
  if (!have && !*yielded) return;
  rk_sw_actor* a = rk_sw_actor_at(p, id);
  const rk_u32 status = rk_sw_ld32(&a->status);
  const bool live = (status & 0xff) == RK_SW_LIVE;
  c->self = id;
  c->type = status >> RK_SW_TYPE_SHIFT;
  c->hlc = rk_sw_ld64(&a->hlc);
  c->yield = 0;
  c->stopped = 0;
  void* state = rk_sw_state_of(p, id);
  rk_u32 n = 0;
  if (have) {
    do {
      const rk_u32 t = rk_sw_free_tag(head, 3);
      rk_sw_free(&l->slots[head & 7], t + 2);
      ++head;
      ++n;
      rk_sw_one(c, live, state, m, processed);
    } while (n < p.batch && rk_sw_peek(&l->slots[head & 7], rk_sw_free_tag(head, 3) + 1, &m));
    l->head = head;
  } else if (live) {
    const rk_sw_msg r = rk_sw_resume_msg(c);
    rk_sw_handle(c, c->type, state, &r);
  }
  *yielded = (c->yield && live && !c->stopped) ? 1u : 0u;
  rk_sw_st64(&a->hlc, c->hlc);
}

// Warp 0, lane 0: moves messages from the block's forward inbox into its cluster-tier mailboxes,
// in order; stops at the first whose mailbox is full (it stays first in line).
__device__ rk_u32 rk_sw_drain_forward(const rk_sw_params& p, rk_u32 block, rk_u64* pos) {
  rk_sw_msg* slots = (rk_sw_msg*)p.fwd + ((rk_u64)block << p.fwd_shift);
  const rk_u64 mask = (1ull << p.fwd_shift) - 1;
  rk_u32 moved = 0;
  rk_sw_msg m;
  while (moved < 32) {
    rk_sw_msg* s = &slots[*pos & mask];
    const rk_u32 tag = rk_sw_free_tag(*pos, p.fwd_shift);
    if (!rk_sw_peek(s, tag + 1, &m)) break;
    rk_sw_local* l = &rk_sw_locals[(m.to - (rk_u32)p.capacity) % (rk_u32)p.local];
    rk_u64 lp;
    if (rk_sw_claim_local(p, l, &lp) != RK_SW_OK) break;
    rk_sw_put(&l->slots[lp & 7], rk_sw_free_tag(lp, 3) + 1, m);
    rk_sw_free(s, tag + 2);
    ++*pos;
    ++moved;
  }
  return moved;
}

// How long a window waiting for credit goes between looks at the stop flag. At a halt with a
// backlog every window waits (the target is the bottleneck), and windows of a few tens of µs
// that never looked would each be delivered until the kernel loop's next look, 256 windows on.
// Lane 0's one load per 10 µs of waiting costs the injector nothing it could use.
constexpr rk_u64 RK_SW_INJECT_STOP_NS = 10000;

// The injector: takes host messages from the mapped ring a window at a time (lane i: position
// pos + i), delivers them in parallel across targets and in ring order per target, and waits
// (keeps them, retrying) while a target has no credit unless the host asked for a dead letter.
// When the swarm stops meanwhile, what still waits becomes a dead letter (Full): the window is
// taken whole either way, so no message is delivered twice, and *stopped tells the caller to
// take no further window (a later message to a target whose earlier one just became a dead
// letter must not be delivered after it).
__device__ rk_u32 rk_sw_inject(const rk_sw_params& p, rk_sw_ctx* c, rk_u64* pos, rk_u32 lane,
                               bool* stopped) {
  const rk_slot* ring = (const rk_slot*)p.h2d_slots;
  const rk_u64 mask = p.h2d_capacity - 1;
  const rk_u64 my = *pos + lane;
  const rk_slot* s = ring + (my & mask);
  const rk_u64 seq_a = *(volatile const rk_u64*)&s->seq_a;
  const unsigned ready_a = __ballot_sync(RK_FULL_MASK, seq_a == my + 1);
  const rk_u32 k = ready_a == RK_FULL_MASK ? 32u : (rk_u32)(__ffs(~ready_a) - 1);
  if (k == 0) return 0;
  // Second round trip, issued after seeing seq_a: the host wrote the words and seq_b before
  // seq_a's position advanced past them (release stores, PCIe keeps their order).
  rk_u64 w[RK_ENVELOPE_WORDS];
  bool ok = false;
  if (lane < k) {
#pragma unroll
    for (int i = 0; i < RK_ENVELOPE_WORDS; ++i) w[i] = ((volatile const rk_u64*)s->env)[i];
    ok = *(volatile const rk_u64*)&s->seq_b == my + 1;
  }
  const unsigned ready = __ballot_sync(RK_FULL_MASK, ok);
  const rk_u32 n = ready == RK_FULL_MASK ? 32u : (rk_u32)(__ffs(~ready) - 1);
  if (n == 0) return 0;
  const rk_envelope* e = (const rk_envelope*)w;
  rk_sw_msg m;
  m.seq = 0;
  m.check = 0;
  m.from = RK_SW_HOST;
  m.to = e->header.receiver;
  m.kind = e->header.type_id;
  m.corr = (rk_u32)e->header.correlation;
  m.hlc = e->header.hlc;
  const rk_u64* pw = (const rk_u64*)e->payload;
  m.words[0] = pw[0];
  m.words[1] = pw[1];
  m.words[2] = pw[2];
  m.expires = pw[3] != 0 ? rk_globaltimer() + pw[3] : 0;
  const bool control = (e->header.flags & RK_FLAG_CONTROL) != 0;
  const rk_u32 on_full = (m.kind & RK_SW_DEAD_ON_FULL) ? RK_SW_ON_FULL_DEAD : RK_SW_ON_FULL_FAIL;
  m.kind &= ~RK_SW_DEAD_ON_FULL;
  unsigned todo = __ballot_sync(RK_FULL_MASK, lane < n);
  const unsigned peers = __match_any_sync(RK_FULL_MASK, lane < n ? m.to : 0xffffffffu);
  c->self = RK_SW_HOST;
  rk_u64 last_stop_check = __shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0);
  rk_u32 waits = 0;
  while (todo != 0) {
    // A lane may deliver when no earlier lane for the same target is still waiting.
    const bool mine = ((todo >> lane) & 1) && ((todo & peers & ((1u << lane) - 1)) == 0);
    bool done = false;
    if (mine) {
      if (control) {
        if (m.to < p.capacity + p.blocks * p.local + p.pinned) {
          rk_sw_actor* a = rk_sw_actor_at(p, m.to);
          const rk_u32 st = rk_sw_ld32(&a->status);
          if ((st & 0xff) == RK_SW_LIVE) rk_sw_st32(&a->status, (st & ~0xffu) | RK_SW_STOPPED);
        }
        done = true;
      } else {
        done = rk_sw_deliver(c, m, on_full) != RK_SW_FULL;
        if (!done) c->full--;  // the host waits; not a refused device send
      }
    }
    todo &= ~__ballot_sync(RK_FULL_MASK, done);
    if (todo != 0) {
      if (++waits == RK_SW_STALL_ROUNDS / 64 && lane == 0) rk_sw_stall(p, RK_SW_STALL_INJECT);
      __nanosleep(200);
      // One clock for the warp: lanes wake from the nap at different times, and a condition
      // each lane computed from its own reading would send some lanes into the __shfl_sync
      // below while the rest went on to the loop's __ballot_sync, and the warp would hang.
      const rk_u64 now = __shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0);
      if (now - last_stop_check > RK_SW_INJECT_STOP_NS) {
        last_stop_check = now;
        int stop = lane == 0 ? (int)rk_sw_ld32((const rk_u32*)p.stop) : 0;
        if (__shfl_sync(RK_FULL_MASK, stop, 0)) {
          if ((todo >> lane) & 1) rk_sw_dead(c, m, RK_DEAD_FULL);
          *stopped = true;
          break;
        }
      }
    }
  }
  *pos += n;
  if (lane == 0) {
    // Every lane's words were consumed by its delivery (or dead letter) above: the slots may
    // be reused.
    *(volatile rk_u64*)&((rk_index_line*)p.h2d_head)->value = *pos;
  }
  return n;
}

// Sums a lane counter over the warp and adds it to a block counter (one RED per batch).
__device__ __forceinline__ void rk_sw_flush(rk_u64* counter, rk_u64* v) {
  const rk_u64 s = (rk_u64)__reduce_add_sync(RK_FULL_MASK, (rk_u32)*v);
  if ((threadIdx.x & 31) == 0 && s != 0) atomicAdd((unsigned long long*)counter, (unsigned long long)s);
  *v = 0;
}

// The parameter block, copied into shared memory: every helper takes it by reference, and a
// reference to a kernel parameter is a generic pointer into parameter space, whose loads cost
// hundreds of cycles each (measured); shared memory answers in a few dozen.
__shared__ rk_sw_params rk_sw_param_copy;

extern "C" __global__ void rk_swarm(rk_sw_params param) {
  const rk_u32 lane = threadIdx.x & 31;
  const rk_u32 warp = threadIdx.x >> 5;
  const rk_u32 block = blockIdx.x;
  if (threadIdx.x == 0) {
    rk_sw_param_copy = param;
    ((rk_u32*)param.block_sms)[block] = rk_smid() + 1;  // 0 means "not started yet" to the host
  }
  const rk_sw_params& p = rk_sw_param_copy;
  for (rk_u32 i = threadIdx.x; i < sizeof(rk_sw_locals) / 8; i += blockDim.x) {
    ((rk_u64*)rk_sw_locals)[i] = 0;
  }
  for (rk_u32 i = threadIdx.x; i < sizeof(rk_sw_pins) / 8; i += blockDim.x) {
    ((rk_u64*)&rk_sw_pins)[i] = 0;
  }
  // Reconverge each warp before the block barrier (the loop above runs unequal trip counts).
  __syncwarp();
  __syncthreads();
  if (p.cluster > 1) rk_cg::this_cluster().sync();

  rk_sw_stats* st = (rk_sw_stats*)p.stats + block;
  rk_sw_ctx c;
  c.self = 0;
  c.type = 0;
  c.block = block;
  c.yield = 0;
  c.stopped = 0;
  c.hlc = 0;
  c.rng = 0x9E3779B97F4A7C15ull ^ ((rk_u64)(block * 64 + warp) << 32) ^ (lane * 0x632BE59BD9B4E019ull);
  c.p = &p;
  c.enqueued = c.dead = c.full = c.spawned = c.dsmem = c.dropped = 0;
  rk_u64 processed = 0, turns = 0, injected = 0;
  const bool injector = block == 0 && warp == p.warps - 1 && p.warps > 1;
  const bool local_warp = warp == 0 && p.local > 0;
  // Pinned warps follow the cluster-tier warp: slot (warp - first) * blocks + block.
  const rk_u32 first_pin = p.local > 0 ? 1u : 0u;
  const rk_u32 pin_slot = (warp - first_pin) * (rk_u32)p.blocks + block;
  const bool pin_warp = !injector && !local_warp && warp >= first_pin && pin_slot < p.pinned;
  // A worker that issues from the same scheduler as one of the block's pinned warps (warp w of a
  // block issues from sub-partition w % RK_SW_SMSPS) naps RK_SW_SHADOW_NAP_NS when long idle:
  // waking every max_nap_ns to poll, it took issue slots from the pinned warp's hops. The
  // block's first worker never does, so a ready queue always has a worker on the short nap.
  const rk_u32 pins_here =
      p.pinned > block ? (rk_u32)((p.pinned - block + p.blocks - 1) / p.blocks) : 0u;
  const bool shadow = !injector && !local_warp && !pin_warp && warp != first_pin + pins_here &&
                      (warp - first_pin) % RK_SW_SMSPS < pins_here;
  const unsigned long_nap =
      shadow ? max((unsigned)p.max_nap_ns, RK_SW_SHADOW_NAP_NS) : (unsigned)p.max_nap_ns;
  rk_sw_pin pin;
  c.pin_out = nullptr;
  c.pin_base = 0;
  c.pin_n = 0;
  if (pin_warp) rk_sw_pin_init(p, &pin, &c, pin_slot, block, lane);
  const rk_u32 cl = (rk_u32)p.cluster;
  const rk_u32 cbase = block - block % cl;
  rk_u64 fwd_pos = 0, h2d_pos = 0, own_hint = 0;
  rk_u32 local_yield = 0;
  rk_u32 idle = 0, unflushed = 0;
  rk_u64 idle_total = 0;
  rk_u64 wrng = c.rng ^ 0xD1B54A32D192ED03ull;

  // Adds this warp's counters into the block's stats and zeroes them (all lanes call).
  auto flush_counters = [&]() {
    rk_sw_flush(&st->processed, &processed);
    rk_sw_flush(&st->enqueued, &c.enqueued);
    rk_sw_flush(&st->turns, &turns);
    rk_sw_flush(&st->dead, &c.dead);
    rk_sw_flush(&st->full, &c.full);
    rk_sw_flush(&st->spawned, &c.spawned);
    rk_sw_flush(&st->dsmem, &c.dsmem);
    rk_sw_flush(&st->dropped, &c.dropped);
    rk_sw_flush(&st->injected, &injected);
  };

  for (rk_u32 iter = 0;; ++iter) {
    // (A worker on the long nap looks at the stop flag every round: 256 of its naps would hold
    // a shutdown up for milliseconds.)
    if ((iter & 255) == 0 || (shadow && idle > 512)) {
      if (lane == 0) atomicAdd((unsigned long long*)&st->beats, 1ull);
      int stop = lane == 0 ? (int)rk_sw_ld32((const rk_u32*)p.stop) : 0;
      if (__shfl_sync(RK_FULL_MASK, stop, 0)) break;
    }
    rk_u32 work = 0;
    if (injector) {
      bool stopped = false;
      const rk_u32 n = rk_sw_inject(p, &c, &h2d_pos, lane, &stopped);
      injected += lane == 0 ? n : 0;
      work += n;
      // The stop was seen warp-uniformly (one shuffled flag): every lane leaves together.
      if (stopped) break;
    } else if (pin_warp) {
      work += rk_sw_serve_pinned(p, &pin, &c, lane, &processed);
    } else if (local_warp) {
      // Warp 0 serves only the block's cluster-tier actors: its loop is a shared-memory poll,
      // plus a look at the forward inbox every fourth round.
      rk_u32 moved = 0;
      if (lane == 0 && (iter & 3) == 0) moved = rk_sw_drain_forward(p, block, &fwd_pos);
      const rk_u64 before = processed;
      rk_sw_serve_local(p, &c, lane, &local_yield, &processed);
      work += __shfl_sync(RK_FULL_MASK, moved, 0) +
              (__ballot_sync(RK_FULL_MASK, processed != before || local_yield) != 0);
    } else {
      rk_u32 actor = 0;
      rk_u32 k = rk_sw_rq_pop(p, block, &actor, &own_hint);
      if (k != 0) {
        if (lane == 0) atomicAdd((unsigned long long*)&st->own_batches, 1ull);
      } else if (p.steal >= 1 && (idle & 1)) {
        // Every other idle round: the cluster's other blocks, then two random blocks.
        rk_u64 guess = 0;
        for (rk_u32 r = 1; r < cl && k == 0; ++r) {
          k = rk_sw_rq_pop(p, cbase + (block - cbase + r) % cl, &actor, &guess);
          if (k != 0 && lane == 0) atomicAdd((unsigned long long*)&st->cluster_steals, 1ull);
        }
        if (k == 0 && p.steal >= 2 && p.blocks > cl) {
          for (int t = 0; t < 2 && k == 0; ++t) {
            wrng ^= wrng << 13;
            wrng ^= wrng >> 7;
            wrng ^= wrng << 17;
            const rk_u32 v = (rk_u32)(__shfl_sync(RK_FULL_MASK, wrng, 0) % p.blocks);
            if (v / cl == block / cl) continue;
            k = rk_sw_rq_pop(p, v, &actor, &guess);
            if (k != 0 && lane == 0) atomicAdd((unsigned long long*)&st->grid_steals, 1ull);
          }
        }
      }
      if (k != 0) {
        if (lane < k) {
          rk_sw_turn(p, actor, &c, &processed);
          ++turns;
        }
        __syncwarp();
        work += k;
      }
    }
    if (work != 0) {
      idle = 0;
      ++unflushed;
    } else {
      ++idle_total;
      // Bounded back-off: spin a while, then nap up to max_nap_ns (latency of a hot path is
      // the point; the SMs are held by polling either way), or long_nap for a shadow worker.
      // Pinned warps never nap: polling is what they are for.
      if (++idle > 64 && !pin_warp) __nanosleep(idle > 512 ? long_nap : 32u);
    }
    // The counters go out after every round with work, except from pinned warps: theirs wait
    // for a round without mail (or 64 rounds with), so a rally's next poll is not held up by
    // nine reductions and atomics. The host reads them once the swarm is quiet either way.
    // An express warp's round is a whole visit of its express loop (hundreds of polls): its
    // counters go out after each, or a quiet swarm could show its enqueued and processed
    // counts equal but behind (under racecheck, for longer than settle waits).
    if (unflushed != 0 && (!pin_warp || work == 0 || unflushed >= 64 || rk_sw_pin_express_ok(p, &pin))) {
      unflushed = 0;
      flush_counters();
    }
  }
  flush_counters();
  if (lane == 0) {
    atomicAdd((unsigned long long*)&st->idle, (unsigned long long)idle_total);
    atomicAdd((unsigned long long*)&st->left_loop, 1ull);
  }
  // Lane 0 diverged just above: reconverge before the block barrier (synccheck reports a block
  // barrier reached by a divergent warp).
  __syncwarp();
  __syncthreads();
  if (p.cluster > 1) rk_cg::this_cluster().sync();
  if (threadIdx.x == 0) rk_sw_add32((rk_u32*)p.exited, 1);
}
