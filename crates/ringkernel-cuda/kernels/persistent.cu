// The persistent kernel: launched once per runtime, one block (one warp) per block actor.
//
// Thread roles: all 32 lanes poll the block's host->device ring together (8 lanes per 128-byte
// slot, up to RK_WINDOW slots per poll, all loads in flight at once) and copy ready envelopes
// into shared memory; lane 0 alone runs control messages and handlers, in ring order; all lanes
// then write replies to the device->host ring. Every branch that contains a warp collective is
// warp-uniform: the ready count comes from a ballot, and the stop flag is read from shared memory
// after a __syncwarp.
//
// Hot and cold: a block polls its mailbox over PCIe while it has had work within hot_ns; then it
// goes cold, publishing a sleep epoch, and waits on a wake word in device memory. Producers that
// see a new sleep epoch ring the doorbell; the router block (the grid's last) turns doorbells into
// wake-word bumps. An idle runtime therefore costs one polling warp, not one per actor.
//
// K2K: each block also has an inbox in device memory (a Vyukov MPSC queue, see rk_k2k_tell in
// runtime.cuh) that device senders fill; lane 0 takes up to RK_WINDOW messages from it per round,
// after the host batch. A message for an actor that is no longer active becomes a dead letter.
//
// Expects, defined before this file: the generated layout header, runtime.cuh and
//   __device__ bool rk_dispatch(rk_u32 type_index, void* state, const rk_envelope* msg,
//                               rk_envelope* reply, const rk_ctx* ctx, int* rc);


__device__ __forceinline__ rk_envelope* rk_emit(rk_envelope* out, rk_u32* count, rk_u32 actor,
                                                const rk_envelope& cause, rk_u32 type_id,
                                                unsigned short flags, rk_u64* clock) {
  rk_envelope* r = &out[(*count)++];
  r->header.sender = actor;
  r->header.receiver = cause.header.sender;
  r->header.type_id = type_id;
  r->header.payload_len = 0;
  r->header.flags = flags;
  r->header.correlation = cause.header.correlation;
  r->header.hlc = rk_hlc_local(clock, cause.header.hlc + 1);
  return r;
}

// Lane 0's view of the block's actor.
struct rk_actor_regs {
  rk_u32 mode, type_index, actor_id, started;
  rk_u64 consumed, processed, dropped, clock;
  // The id handlers see as their own (runtime-wide in a multi-GPU runtime), the K2K inbox head
  // (messages taken) and the sender of the last K2K message (sampled for traffic estimates).
  rk_u32 device_id;
  rk_u64 k2k_head, last_sender;
  // In-place restart policy (from START) and the %globaltimer times of the last RK_MAX_RESTARTS
  // restarts (0: none), a ring indexed by the restart count.
  rk_u32 restart_max, restart_period_ms, restarts;
  rk_u64 restart_at[RK_MAX_RESTARTS];
};

// Whether the policy allows one more in-place restart now; if so, counts it. The ring holds the
// last RK_MAX_RESTARTS restart times and restart_max <= RK_MAX_RESTARTS, so counting the ring's
// times inside the window counts every restart inside it up to restart_max: exact.
__device__ bool rk_take_restart(rk_actor_regs& a) {
  if (a.restart_max == 0) return false;
  const rk_u64 now = rk_globaltimer();
  const rk_u64 period = (rk_u64)a.restart_period_ms * 1000000ull;
  rk_u32 recent = 0;
  for (rk_u32 i = 0; i < RK_MAX_RESTARTS; ++i) {
    if (a.restart_at[i] != 0 && now - a.restart_at[i] < period) ++recent;
  }
  if (recent >= a.restart_max) return false;
  a.restart_at[a.restarts % RK_MAX_RESTARTS] = now;
  ++a.restarts;
  return true;
}

// Restores the restart image over the state (lane 0; both 16-byte aligned, stride a multiple of
// 16). The failed handler's partial stores are overwritten; nothing else reads the state now.
__device__ void rk_restore_image(const rk_params& p, void* state) {
  const uint4* src = (const uint4*)((const unsigned char*)state + p.actor_blocks * p.state_stride);
  uint4* dst = (uint4*)state;
  for (rk_u64 i = 0; i < p.state_stride / 16; ++i) dst[i] = src[i];
}

// Publishes the actor's mode for device senders (release: the other fields first).
__device__ __forceinline__ void rk_publish_mode(rk_actor_entry* e, rk_u32 mode) {
  cuda::atomic_ref<rk_u32, cuda::thread_scope_device>(e->mode).store(mode, cuda::memory_order_release);
}

// What rk_run_one asks of the block after a message.
#define RK_RUN_ON 0
#define RK_RUN_SHUTDOWN 1
#define RK_RUN_SNAPSHOT 2

// Runs one message on lane 0: control, handler, reply or notice into `out`. Returns RK_RUN_ON,
// RK_RUN_SHUTDOWN (the block leaves after this message) or RK_RUN_SNAPSHOT (the warp copies the
// state before the next message; the SNAPSHOTTED notice is the last envelope in `out`).
__device__ int rk_run_one(const rk_params& p, rk_actor_regs& a, rk_actor_entry* entry,
                           void* state, const rk_envelope& m, rk_envelope* out, rk_u32* outs) {
  ++a.consumed;
  const bool is_ask = (m.header.flags & RK_FLAG_ASK) != 0;
  if (m.header.flags & RK_FLAG_CONTROL) {
    if (m.header.type_id == RK_CTRL_START) {
      // The host wrote the state (and restart image) by DMA before queueing START. This SM's L1
      // may still hold lines of them from an earlier incarnation (a restart reuses the block),
      // and L1 is not coherent with DMA: an acquire fence at system scope invalidates it, so
      // the handlers below read what the host wrote.
      cuda::atomic_thread_fence(cuda::memory_order_acquire, cuda::thread_scope_system);
      const rk_start_payload* sp = (const rk_start_payload*)m.payload;
      a.type_index = sp->type_index;
      a.actor_id = sp->actor_id;
      a.device_id = sp->device_id;
      // A new incarnation: its own restart policy, a fresh window.
      a.restart_max = sp->restart_max;
      a.restart_period_ms = sp->restart_period_ms;
      a.restarts = 0;
      for (rk_u32 i = 0; i < RK_MAX_RESTARTS; ++i) a.restart_at[i] = 0;
      // START carries the host clock: a migrated actor resumes past where its clock left off.
      if (m.header.hlc > a.clock) a.clock = m.header.hlc;
      a.mode = RK_MODE_ACTIVE;
      a.started = 1;
      entry->type_index = sp->type_index;
      entry->msg_type = sp->msg_type;
      entry->msg_size = sp->msg_size;
      rk_publish_mode(entry, RK_MODE_ACTIVE);
    } else if (m.header.type_id == RK_CTRL_STOP) {
      if (a.mode == RK_MODE_ACTIVE) {
        rk_envelope* r = rk_emit(out, outs, a.actor_id, m, RK_NOTICE_TERMINATED, RK_FLAG_CONTROL, &a.clock);
        r->header.receiver = RK_HOST_ID;
      }
      a.mode = RK_MODE_DORMANT;
      rk_publish_mode(entry, RK_MODE_STOPPED);
    } else if (m.header.type_id == RK_CTRL_MIGRATE) {
      // Freeze for migration: keep the state, stop taking K2K messages (the inbox's rest moves
      // with the actor), tell the host how far the inbox was taken, echoing the request's token
      // (payload word 0) in word 1 so a late answer is never taken for a newer request. An actor
      // that is not active answers with the token only and stays as it is.
      rk_envelope* r = rk_emit(out, outs, a.actor_id, m, RK_NOTICE_FROZEN, RK_FLAG_CONTROL, &a.clock);
      r->header.receiver = RK_HOST_ID;
      ((rk_u64*)r->payload)[1] = *(const rk_u64*)m.payload;
      r->header.payload_len = 16;
      if (a.mode == RK_MODE_ACTIVE) {
        a.mode = RK_MODE_MOVED;
        a.started = 0;
        rk_publish_mode(entry, RK_MODE_MOVED);
        ((rk_u64*)r->payload)[0] = a.k2k_head;
        // The host copies the state (DMA) once it reads this notice: the handler's last state
        // stores must be visible first.
        __threadfence_system();
      } else {
        ((rk_u64*)r->payload)[0] = ~0ull;
      }
    } else if (m.header.type_id == RK_CTRL_THAW) {
      if (a.mode == RK_MODE_MOVED) {
        a.mode = RK_MODE_ACTIVE;
        a.started = 1;
        rk_publish_mode(entry, RK_MODE_ACTIVE);
      }
    } else if (m.header.type_id == RK_CTRL_SNAPSHOT) {
      rk_envelope* r = rk_emit(out, outs, a.actor_id, m, RK_NOTICE_SNAPSHOTTED, RK_FLAG_CONTROL, &a.clock);
      r->header.receiver = RK_HOST_ID;
      r->header.payload_len = 24;
      ((rk_u64*)r->payload)[0] = *(const rk_u64*)m.payload;
      ((rk_u64*)r->payload)[1] = a.k2k_head;
      ((rk_u64*)r->payload)[2] = ~0ull;  // the copy fills in the count
      return p.snap_pool != 0 ? RK_RUN_SNAPSHOT : RK_RUN_ON;
    } else if (m.header.type_id == RK_CTRL_SHUTDOWN) {
      return RK_RUN_SHUTDOWN;
    }
    return RK_RUN_ON;
  }
  const bool from_device = m.header.sender != RK_HOST_ID;
  if (a.mode != RK_MODE_ACTIVE) {
    ++a.dropped;
    if (is_ask) {
      rk_emit(out, outs, a.actor_id, m, m.header.type_id, RK_FLAG_REPLY | RK_FLAG_DROPPED, &a.clock);
    } else if (from_device) {
      // Sent while the actor was active, arrived after it stopped: record, never drop silently.
      rk_envelope* d = &out[(*outs)++];
      *d = m;
      d->header.flags = RK_DEAD_STOPPED;
    }
    return RK_RUN_ON;
  }
  rk_ctx ctx;
  ctx.self_id = a.device_id;
  ctx.sender = m.header.sender;
  ctx.timestamp = rk_hlc_local(&a.clock, m.header.hlc + 1);
  ctx.rt = &p;
  ctx.clock = &a.clock;
  rk_cur_ctx = &ctx;
  rk_envelope* r = &out[*outs];
  int rc = 0;
  if (!rk_dispatch(a.type_index, state, &m, r, &ctx, &rc)) {
    // The host (and rk_k2k_tell) check types before sending; count rather than trust.
    ++a.dropped;
    if (is_ask) {
      rk_emit(out, outs, a.actor_id, m, m.header.type_id, RK_FLAG_REPLY | RK_FLAG_DROPPED, &a.clock);
    } else if (from_device) {
      rk_envelope* d = &out[(*outs)++];
      *d = m;
      d->header.flags = RK_DEAD_REJECTED;
    }
    return RK_RUN_ON;
  }
  ++a.processed;
  if (rc != 0) {
    // Restart in place when the policy allows: restore the image and stay active, so the
    // messages queued behind this one run on the fresh state; the notice (or the failed ask's
    // reply) carries RESTARTED. Otherwise the actor fails.
    const bool restarted = rk_take_restart(a);
    if (restarted) {
      rk_restore_image(p, state);
    } else {
      a.mode = RK_MODE_FAILED;
      rk_publish_mode(entry, RK_MODE_FAILED);
    }
    const unsigned short f = (is_ask ? (RK_FLAG_REPLY | RK_FLAG_FAILED) : (RK_FLAG_CONTROL | RK_FLAG_FAILED)) |
                             (restarted ? RK_FLAG_RESTARTED : 0u);
    rk_envelope* e = rk_emit(out, outs, a.actor_id, m, is_ask ? m.header.type_id : RK_NOTICE_FAILED, f, &a.clock);
    e->header.receiver = is_ask ? m.header.sender : RK_HOST_ID;
    *(rk_u32*)e->payload = (rk_u32)rc;
    e->header.payload_len = 4;
    return RK_RUN_ON;
  }
  if (is_ask) {
    r->header.sender = a.actor_id;
    r->header.receiver = m.header.sender;
    r->header.flags = RK_FLAG_REPLY;
    r->header.correlation = m.header.correlation;
    // A fresh tick: later than the handler's receive stamp (docs/semantics.md §8).
    r->header.hlc = rk_hlc_local(&a.clock, 0);
    ++*outs;
  }
  return RK_RUN_ON;
}

// The router: the last block of the grid. Lane 0 drains the doorbell ring (host -> device, mapped)
// and bumps the named block's wake word in device memory, so cold blocks wait on device memory
// instead of polling PCIe. It leaves when every actor block has.
__device__ void rk_router(const rk_params& p) {
  if (threadIdx.x != 0) return;
  const rk_doorbell* ring = (const rk_doorbell*)p.doorbell_slots;
  const rk_u64 mask = p.doorbell_capacity - 1;
  rk_index_line* head = (rk_index_line*)p.doorbell_head;
  cuda::atomic_ref<rk_u64, cuda::thread_scope_device> exited(*(rk_u64*)p.exited_blocks);
  rk_u64 pos = 0, published = 0;
  while (true) {
    rk_u64 seq, block;
    rk_load16(ring + (pos & mask), seq, block);
    if (seq == pos + 1) {
      if (block < p.actor_blocks) {
        // Remote senders bump the same word at system scope in a multi-GPU member.
        cuda::atomic_ref<rk_u64, RK_K2K_SCOPE> ww(*((rk_u64*)p.wake + 16 * block));
        ww.fetch_add(1, cuda::memory_order_release);
      }
      ++pos;
      if (pos - published >= 32) {
        published = pos;
        rk_store_release_sys(&head->value, pos);
      }
      continue;
    }
    if (published != pos) {
      published = pos;
      rk_store_release_sys(&head->value, pos);
    }
    if (exited.load(cuda::memory_order_relaxed) >= p.actor_blocks) break;
  }
}

extern "C" __global__ void __launch_bounds__(32) rk_persistent(rk_params p) {
  if (blockIdx.x == p.actor_blocks) {
    rk_router(p);
    return;
  }
  __shared__ __align__(16) rk_envelope in[RK_WINDOW];
  // Host batch and K2K batch each emit at most one envelope per message.
  __shared__ __align__(16) rk_envelope out[2 * RK_WINDOW];
  __shared__ __align__(16) rk_envelope kin;

  const rk_u32 lane = threadIdx.x;
  const rk_u32 b = blockIdx.x;
  const rk_slot* ring = (const rk_slot*)p.h2d_slots + (rk_u64)b * p.h2d_capacity;
  const rk_u64 mask = p.h2d_capacity - 1;
  rk_slot* k2k = (rk_slot*)p.k2k_slots + (rk_u64)b * p.k2k_capacity;
  const rk_u64 kcap = p.k2k_capacity;
  rk_index_line* head_line = (rk_index_line*)p.h2d_heads + b;
  rk_block_status* st = (rk_block_status*)p.status + b;
  rk_actor_entry* entry = (rk_actor_entry*)p.actor_table + b;
  unsigned char* state = (unsigned char*)p.state_pool + (rk_u64)b * p.state_stride;

  // Lane 0's bookkeeping (other lanes keep copies they never read). Each block actor is its own
  // HLC node (a register): no device-wide atomic per message.
  rk_actor_regs a = {RK_MODE_DORMANT, 0, 0, 0, 0, 0, 0, 0, 0, 0, ~0ull, 0, 0, 0, {}};
  rk_u64 idle_polls = 0, last_beat = 0, service = 0, k2k_wait = 0, k2k_waited = 0;
  rk_u64 handler_cycles = 0, reply_cycles = 0;
  rk_u64 sleep_epoch = 0, wake_seen = 0;
  const rk_u64* wake_word = (const rk_u64*)p.wake + 16 * (rk_u64)b;
  // Warp-uniform.
  rk_u64 pos = 0;
  rk_u32 window = 1;
  bool cold = false;
  rk_u64 last_active = 0;

  auto beat = [&](rk_u64 now) {
    last_beat = now;
    st->consumed = a.consumed;
    st->processed = a.processed;
    st->dropped = a.dropped;
    st->idle_polls = idle_polls;
    st->service_cycles = service;
    st->handler_cycles = handler_cycles;
    st->reply_cycles = reply_cycles;
    st->k2k_consumed = a.k2k_head;
    st->k2k_last_sender = a.last_sender;
    st->k2k_wait_ns = k2k_wait;
    st->k2k_waited = k2k_waited;
    rk_store_release_sys(&st->heartbeat_ns, now);
  };
  const rk_u32 k = lane >> 3;
  const rk_u32 w = lane & 7;
  while (true) {
    // 0. Look at the K2K inbox first (device memory, relaxed): the load is in flight while the
    //    PCIe poll below waits.
    const rk_u32 kpeek = lane == 0 ? (rk_u32)rk_k2k_peek(k2k, kcap, a.k2k_head) : 0u;
    // 1. Poll: lane (k, w) reads bytes 16w..16w+16 of slots pos+k, pos+k+4, ...
    constexpr int RK_ROUNDS = RK_WINDOW / 4;
    rk_u64 lo[RK_ROUNDS], hi[RK_ROUNDS];
    rk_u32 bad[RK_ROUNDS];
#pragma unroll
    for (int c = 0; c < RK_ROUNDS; ++c) {
      const rk_u32 rel = k + 4 * c;
      bool ok = false;
      if (rel < window) {
        const rk_u64 sp = pos + rel;
        rk_load16((const char*)(ring + (sp & mask)) + 16 * w, lo[c], hi[c]);
        ok = (w == 0) ? lo[c] == sp + 1 : (w == 7) ? hi[c] == sp + 1 : true;
      }
      bad[c] = __ballot_sync(RK_FULL_MASK, !ok);
    }
    rk_u32 n = 0;
    while (n < window && ((bad[n >> 2] >> (8 * (n & 3))) & 0xffu) == 0) ++n;
    const rk_u32 kready = __shfl_sync(RK_FULL_MASK, kpeek, 0);

    if (lane == 0) {
      const rk_u64 now = rk_globaltimer();
      if (now - last_beat >= p.heartbeat_ns) beat(now);
    }

    if (n == 0 && !kready) {
      window = 1;
      if (lane == 0) ++idle_polls;
      // Hot: keep polling. Cold (quiet for hot_ns): announce it, look once more, then wait on
      // the device-memory wake word that the router bumps for host doorbells and that device
      // senders bump after filling the K2K inbox.
      const rk_u64 now = __shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0);
      if (!cold) {
        if (now - last_active > p.hot_ns) {
          cold = true;
          if (lane == 0) {
            ++sleep_epoch;
            rk_store_release_sys(&st->sleep_epoch, sleep_epoch);
            // Dekker with the host: our epoch store is visible before the re-poll below reads
            // the mailbox (a PCIe read never passes an earlier posted write), and the host
            // fences between its slot write and its epoch read; so either we see its message
            // or it sees our epoch and rings.
            __threadfence_system();
          }
          __syncwarp();
        }
        continue;
      }
      rk_u32 woken = 0;
      if (lane == 0) {
        const rk_u64 since = rk_globaltimer();
        unsigned nap = 64;
        while (true) {
          const rk_u64 ww = *(volatile rk_u64*)wake_word;
          if (ww != wake_seen) { wake_seen = ww; woken = 1; break; }
          const rk_u64 t = rk_globaltimer();
          // Safety net: look at the mailbox at least every millisecond even without a doorbell.
          if (t - since > 1000000ull) break;
          if (t - last_beat >= p.heartbeat_ns) beat(t);
          __nanosleep(nap);
          if (nap < p.max_backoff_ns) nap <<= 1;
        }
      }
      // A wake makes the block hot; the safety-net timeout only buys one poll, after which it
      // waits again under the same (already announced) sleep epoch.
      if (__shfl_sync(RK_FULL_MASK, woken, 0)) {
        cold = false;
        last_active = __shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0);
      }
      continue;
    }
    cold = false;
    last_active = __shfl_sync(RK_FULL_MASK, rk_globaltimer(), 0);
    const long long served_from = clock64();

    // 2. Copy the ready prefix into shared memory (slot word j holds envelope word j-1).
#pragma unroll
    for (int c = 0; c < RK_ROUNDS; ++c) {
      const rk_u32 rel = k + 4 * c;
      if (rel < n) {
        rk_u64* dst = (rk_u64*)&in[rel];
        if (w > 0) dst[2 * w - 1] = lo[c];
        if (w < 7) dst[2 * w] = hi[c];
      }
    }
    __syncwarp();

    // 3. Lane 0 runs the host batch in ring order, then up to RK_WINDOW K2K messages.
    rk_u32 outs = 0, i = 0, stop = 0, snap = 0;
    const long long handlers_from = clock64();
    if (lane == 0) {
      for (; i < n; ++i) {
        const int run = rk_run_one(p, a, entry, state, in[i], out, &outs);
        if (run == RK_RUN_SHUTDOWN) {
          stop = 1;
          ++i;
          break;
        }
        if (run == RK_RUN_SNAPSHOT) {
          // The cut: nothing after the request runs before the copy below.
          snap = outs;
          ++i;
          break;
        }
      }
      // Only when the peek saw a message: an ask-only round does no K2K work at all. The
      // slot is freed for the next lap by the take, before the handler runs on the copy.
      // Not before START: the host publishes the actor for device senders before it queues
      // START, so K2K messages can arrive first; they wait in the inbox until the actor runs.
      for (rk_u32 j = 0; kready && a.started && !stop && !snap && j < RK_WINDOW; ++j) {
        if (j > 0 && !rk_k2k_peek(k2k, kcap, a.k2k_head)) break;
        if (!rk_k2k_take(k2k, kcap, a.k2k_head, &kin)) break;
        ++a.k2k_head;
        a.last_sender = kin.header.sender;
        // A sender on another GPU stamps with its own clock, which may run ahead of ours:
        // count only waits that make sense on this clock.
        const rk_u64 taken_at = rk_globaltimer();
        if (taken_at >= kin.header.correlation) {
          k2k_wait += taken_at - kin.header.correlation;
          ++k2k_waited;
        }
        rk_run_one(p, a, entry, state, kin, out, &outs);
      }
    }
    __syncwarp();

    // 3b. SNAPSHOT: the warp copies the state into the block's slot, lane 0 the inbox's
    //     published, untaken messages behind it; the count goes into the notice (out[snap - 1]),
    //     which leaves only after a system fence, so the host's copy sees every byte.
    const rk_u32 snapped = __shfl_sync(RK_FULL_MASK, snap, 0);
    if (snapped) {
      unsigned char* slot = (unsigned char*)p.snap_pool +
                            (rk_u64)b * (p.state_stride + kcap * sizeof(rk_envelope));
      const uint4* from = (const uint4*)state;
      uint4* to = (uint4*)slot;
      for (rk_u64 q = lane; q < p.state_stride / 16; q += 32) to[q] = from[q];
      if (lane == 0) {
        rk_envelope* msgs = (rk_envelope*)(slot + p.state_stride);
        rk_u64 copied = 0;
        while (copied < kcap && rk_k2k_read(k2k, kcap, a.k2k_head + copied, &msgs[copied])) ++copied;
        ((rk_u64*)out[snapped - 1].payload)[2] = copied;
      }
      __threadfence_system();
      __syncwarp();
    }

    // 4. Replies and notices to the host, then publish how far this block consumed.
    const long long replies_from = clock64();
    if (lane == 0) handler_cycles += (rk_u64)(replies_from - handlers_from);
    const rk_u32 nout = __shfl_sync(RK_FULL_MASK, outs, 0);
    const rk_u32 used = __shfl_sync(RK_FULL_MASK, i, 0);
    if (nout > 0) {
      rk_u64 base = 0;
      if (lane == 0) base = rk_d2h_claim(p, nout);
      rk_d2h_write(p, out, nout, __shfl_sync(RK_FULL_MASK, base, 0));
    }
    if (lane == 0) {
      const long long done = clock64();
      reply_cycles += (rk_u64)(done - replies_from);
      service += (rk_u64)(done - served_from);
    }
    pos += used;
    // The slots below pos have been read (their values are in registers and shared memory), so
    // a plain store suffices; no system fence on the hot path.
    if (lane == 0 && used > 0) *(volatile rk_u64*)&head_line->value = pos;
    window = (n == window) ? (window * 4 > RK_WINDOW ? RK_WINDOW : window * 4) : (n > 0 ? n : 1);
    if (__shfl_sync(RK_FULL_MASK, stop, 0)) break;
    __syncwarp();
  }

  if (lane == 0) {
    beat(rk_globaltimer());
    rk_store_release_sys(&st->exited, 1);
    cuda::atomic_ref<rk_u64, cuda::thread_scope_device> exited(*(rk_u64*)p.exited_blocks);
    exited.fetch_add(1, cuda::memory_order_release);
  }
}
