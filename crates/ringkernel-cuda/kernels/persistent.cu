// The persistent kernel: launched once per runtime, one block (one warp) per block actor.
//
// Thread roles: all 32 lanes poll the block's host->device ring together (8 lanes per 128-byte
// slot, up to RK_WINDOW slots per poll) and copy ready envelopes into shared memory; lane 0 alone
// runs control messages and handlers, in ring order; all lanes then write replies to the
// device->host ring. Every branch that contains a warp collective is warp-uniform: the ready count
// comes from a ballot, and the stop flag is read from shared memory after a __syncwarp.
//
// Expects, defined before this file: the generated layout header, runtime.cuh and
//   __device__ bool rk_dispatch(rk_u32 type_index, void* state, const rk_envelope* msg,
//                               rk_envelope* reply, const rk_ctx* ctx, int* rc);

#define RK_MODE_DORMANT 0u
#define RK_MODE_ACTIVE 2u
#define RK_MODE_FAILED 5u
// Idle polls before the warp starts sleeping between polls.
#define RK_SPIN_POLLS 64u

__device__ __forceinline__ rk_envelope* rk_emit(rk_envelope* out, rk_u32* count, rk_u32 actor,
                                                const rk_envelope& cause, rk_u32 type_id,
                                                unsigned short flags, rk_u64* hlc) {
  rk_envelope* r = &out[(*count)++];
  r->header.sender = actor;
  r->header.receiver = cause.header.sender;
  r->header.type_id = type_id;
  r->header.payload_len = 0;
  r->header.flags = flags;
  r->header.correlation = cause.header.correlation;
  r->header.hlc = rk_hlc_next(hlc, 0);
  return r;
}

extern "C" __global__ void __launch_bounds__(32) rk_persistent(rk_params p) {
  __shared__ __align__(16) rk_envelope in[RK_WINDOW];
  __shared__ __align__(16) rk_envelope out[RK_WINDOW];
  __shared__ rk_u32 out_count;
  __shared__ rk_u32 used;
  __shared__ rk_u32 stop_flag;
  __shared__ rk_u64 out_base;

  const rk_u32 lane = threadIdx.x;
  const rk_u32 b = blockIdx.x;
  const rk_slot* ring = (const rk_slot*)p.h2d_slots + (rk_u64)b * p.h2d_capacity;
  const rk_u64 mask = p.h2d_capacity - 1;
  rk_index_line* head_line = (rk_index_line*)p.h2d_heads + b;
  rk_block_status* st = (rk_block_status*)p.status + b;
  unsigned char* state = (unsigned char*)p.state_pool + (rk_u64)b * p.state_stride;
  rk_u64* hlc = (rk_u64*)p.hlc;

  // Lane 0's bookkeeping (other lanes keep copies they never read).
  rk_u32 mode = RK_MODE_DORMANT, type_index = 0, actor_id = 0;
  rk_u64 consumed = 0, processed = 0, dropped = 0, idle_polls = 0, last_beat = 0;
  // Warp-uniform.
  rk_u64 pos = 0;
  rk_u32 window = 1, idle = 0;
  unsigned backoff = 128;

  if (lane == 0) stop_flag = 0;
  __syncwarp();

  const rk_u32 k = lane >> 3;
  const rk_u32 w = lane & 7;
  while (true) {
    // 1. Poll: lane (k, w) reads bytes 16w..16w+16 of slots pos+k, pos+k+4, ...
    rk_u64 lo[4], hi[4];
    rk_u32 bad[4];
#pragma unroll
    for (int c = 0; c < 4; ++c) {
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

    if (lane == 0) {
      const rk_u64 now = rk_globaltimer();
      if (now - last_beat >= p.heartbeat_ns) {
        last_beat = now;
        st->consumed = consumed;
        st->processed = processed;
        st->dropped = dropped;
        st->idle_polls = idle_polls;
        rk_store_release_sys(&st->heartbeat_ns, now);
      }
    }

    if (n == 0) {
      window = 1;
      if (lane == 0) ++idle_polls;
      if (++idle > RK_SPIN_POLLS) {
        __nanosleep(backoff);
        if (backoff < p.max_backoff_ns) backoff <<= 1;
      }
      continue;
    }
    idle = 0;
    backoff = 128;

    // 2. Copy the ready prefix into shared memory (slot word j holds envelope word j-1).
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const rk_u32 rel = k + 4 * c;
      if (rel < n) {
        rk_u64* dst = (rk_u64*)&in[rel];
        if (w > 0) dst[2 * w - 1] = lo[c];
        if (w < 7) dst[2 * w] = hi[c];
      }
    }
    __syncwarp();

    // 3. Lane 0 runs the batch in ring order.
    if (lane == 0) {
      rk_u32 outs = 0;
      rk_u32 i = 0;
      for (; i < n; ++i) {
        const rk_envelope& m = in[i];
        ++consumed;
        const bool is_ask = (m.header.flags & RK_FLAG_ASK) != 0;
        if (m.header.flags & RK_FLAG_CONTROL) {
          if (m.header.type_id == RK_CTRL_START) {
            const rk_start_payload* sp = (const rk_start_payload*)m.payload;
            type_index = sp->type_index;
            actor_id = sp->actor_id;
            mode = RK_MODE_ACTIVE;
          } else if (m.header.type_id == RK_CTRL_STOP) {
            if (mode == RK_MODE_ACTIVE) {
              rk_envelope* r = rk_emit(out, &outs, actor_id, m, RK_NOTICE_TERMINATED, RK_FLAG_CONTROL, hlc);
              r->header.receiver = RK_HOST_ID;
            }
            mode = RK_MODE_DORMANT;
          } else if (m.header.type_id == RK_CTRL_SHUTDOWN) {
            stop_flag = 1;
            ++i;
            break;
          }
          continue;
        }
        if (mode != RK_MODE_ACTIVE) {
          ++dropped;
          if (is_ask) rk_emit(out, &outs, actor_id, m, m.header.type_id, RK_FLAG_REPLY | RK_FLAG_DROPPED, hlc);
          continue;
        }
        rk_ctx ctx;
        ctx.self_id = actor_id;
        ctx.sender = m.header.sender;
        ctx.timestamp = rk_hlc_next(hlc, m.header.hlc + 1);
        rk_envelope* r = &out[outs];
        int rc = 0;
        if (!rk_dispatch(type_index, state, &m, r, &ctx, &rc)) {
          // The host checks types before sending; count rather than trust.
          ++dropped;
          if (is_ask) rk_emit(out, &outs, actor_id, m, m.header.type_id, RK_FLAG_REPLY | RK_FLAG_DROPPED, hlc);
          continue;
        }
        ++processed;
        if (rc != 0) {
          mode = RK_MODE_FAILED;
          const unsigned short f = is_ask ? (RK_FLAG_REPLY | RK_FLAG_FAILED) : (RK_FLAG_CONTROL | RK_FLAG_FAILED);
          rk_envelope* e = rk_emit(out, &outs, actor_id, m, is_ask ? m.header.type_id : RK_NOTICE_FAILED, f, hlc);
          if (!is_ask) e->header.receiver = RK_HOST_ID;
          *(rk_u32*)e->payload = (rk_u32)rc;
          e->header.payload_len = 4;
          continue;
        }
        if (is_ask) {
          r->header.sender = actor_id;
          r->header.receiver = m.header.sender;
          r->header.flags = RK_FLAG_REPLY;
          r->header.correlation = m.header.correlation;
          r->header.hlc = rk_hlc_next(hlc, 0);
          ++outs;
        }
      }
      out_count = outs;
      used = i;
    }
    __syncwarp();

    // 4. Replies and notices to the host, then publish how far this block consumed.
    const rk_u32 nout = out_count;
    if (nout > 0) {
      if (lane == 0) out_base = rk_d2h_claim(p, nout);
      __syncwarp();
      rk_d2h_write(p, out, nout, out_base);
    }
    pos += used;
    if (lane == 0) rk_store_release_sys(&head_line->value, pos);
    window = (n == window) ? (window * 4 > RK_WINDOW ? RK_WINDOW : window * 4) : n;
    if (stop_flag) break;
    __syncwarp();
  }

  if (lane == 0) {
    st->consumed = consumed;
    st->processed = processed;
    st->dropped = dropped;
    st->idle_polls = idle_polls;
    st->heartbeat_ns = rk_globaltimer();
    rk_store_release_sys(&st->exited, 1);
  }
}
