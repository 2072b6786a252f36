// Kernels of actor migration (src/multi/migrate.rs). Expects the generated layout header and
// runtime.cuh before it. Each runs on the GPU that owns the memory it writes, beside the
// persistent kernel (a few threads; the persistent grid leaves room on every SM).

// Seals a K2K inbox: sets RK_K2K_SEALED in its tail, after which no producer claims a slot
// (rk_k2k_tell reads the bit and reports no credit). out[0] = the tail before the bit: the
// number of messages the inbox ever received. Idempotent.
extern "C" __global__ void rk_seal_inbox(rk_u64* tail, rk_u64* out) {
  cuda::atomic_ref<rk_u64, cuda::thread_scope_system> t(*tail);
  out[0] = t.fetch_or(RK_K2K_SEALED, cuda::memory_order_relaxed) & ~RK_K2K_SEALED;
}

// Reopens a sealed inbox (a migration that failed before its route swap).
extern "C" __global__ void rk_unseal_inbox(rk_u64* tail) {
  cuda::atomic_ref<rk_u64, cuda::thread_scope_system> t(*tail);
  t.fetch_and(~RK_K2K_SEALED, cuda::memory_order_relaxed);
}

// Position-sensitive checksum of `len` bytes: the sum over 8-byte words i of
// mix64(word_i + (i + 1) * golden), the last word zero-padded. Order-independent as a sum, so
// any thread may fold any word; must equal ringkernel_cuda::multi::checksum (host). out[0] must
// be zero before the launch.
extern "C" __global__ void rk_checksum(const unsigned char* bytes, rk_u64 len, rk_u64* out) {
  const rk_u64 words = len / 8;
  const rk_u64 stride = (rk_u64)gridDim.x * blockDim.x;
  rk_u64 acc = 0;
  for (rk_u64 i = (rk_u64)blockIdx.x * blockDim.x + threadIdx.x; i < words; i += stride) {
    const rk_u64 w = ((const rk_u64*)bytes)[i];
    acc += rk_mix64(w + (i + 1) * 0x9E3779B97F4A7C15ull);
  }
  if (blockIdx.x == 0 && threadIdx.x == 0 && (len & 7) != 0) {
    rk_u64 w = 0;
    for (rk_u64 k = 0; k < (len & 7); ++k) w |= (rk_u64)bytes[8 * words + k] << (8 * k);
    acc += rk_mix64(w + (words + 1) * 0x9E3779B97F4A7C15ull);
  }
  for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
  if ((threadIdx.x & 31) == 0) atomicAdd(out, acc);
}

// Moves the messages of a sealed inbox into a fresh one. `staged` is a raw copy of the source
// inbox (`src_cap` slots); its messages are at positions head..head+n. They are written to the
// destination inbox (never used: head = tail = 0, every slot free for lap 0) at positions 0..n,
// stamped for their new positions, and its tail is set to n. A message whose stamps do not check
// out (a sender claimed it before the seal but its stores had not all arrived when the host
// copied) stops the move: out[0] = messages that checked out, nothing is written unless all n
// did, and the host copies again. One thread: n is at most an inbox's capacity.
extern "C" __global__ void rk_adopt_inbox(const rk_slot* staged, rk_u64 head, rk_u64 n,
                                          rk_u64 src_cap, rk_slot* dst, rk_u64* dst_tail,
                                          rk_u64 dst_cap, rk_u64* out) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  rk_u64 ok = 0;
  for (; ok < n; ++ok) {
    const rk_u64 q = head + ok;
    const rk_slot* s = staged + (q & (src_cap - 1));
    const rk_u64 stamp = 2 * (q / src_cap) + 1;
    if (s->seq_a != stamp || s->seq_b != (stamp ^ rk_envelope_hash(s->env))) break;
  }
  out[0] = ok;
  if (ok != n || n > dst_cap) return;
  for (rk_u64 j = 0; j < n; ++j) {
    const rk_slot* s = staged + ((head + j) & (src_cap - 1));
    rk_slot* d = dst + (j & (dst_cap - 1));
    const rk_u64 stamp = 2 * (j / dst_cap) + 1;
    for (int i = 0; i < RK_ENVELOPE_WORDS; ++i) d->env[i] = s->env[i];
    d->seq_a = stamp;
    d->seq_b = stamp ^ rk_envelope_hash(s->env);
  }
  // Published before the actor's START is queued (the host waits for this kernel), and the block
  // takes K2K messages only after START.
  __threadfence();
  cuda::atomic_ref<rk_u64, cuda::thread_scope_system>(*dst_tail).store(n, cuda::memory_order_relaxed);
}
