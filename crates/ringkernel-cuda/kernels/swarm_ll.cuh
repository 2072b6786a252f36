// The "LL" slot format of the pinned tier's channels (swarm_channel.cuh), on its own so the
// framework-free hop in ll_hop.cu measures exactly the same format. Included after the generated
// swarm layout (rk_sw_msg and the RK_SW_CH_* sizes) and runtime.cuh.
//
// A slot is 64 bytes: eight 8-byte words, each 48 bits of message and a 16-bit lap tag. An
// aligned 8-byte access is single-copy atomic, so a reader that sees the current tag in all eight
// words has the whole message, whatever order the words landed in: no hash to compute, no fence.
#pragma once

// 16-byte loads and stores through generic addresses (global or DSMEM), bypassing the L1.
__device__ __forceinline__ void rk_sw_load16(const void* p, rk_u64& a, rk_u64& b) {
  asm volatile("ld.volatile.v2.u64 {%0, %1}, [%2];" : "=l"(a), "=l"(b) : "l"(p) : "memory");
}
__device__ __forceinline__ void rk_sw_store16(void* p, rk_u64 a, rk_u64 b) {
  asm volatile("st.volatile.v2.u64 [%0], {%1, %2};" ::"l"(p), "l"(a), "l"(b) : "memory");
}

constexpr rk_u32 RK_SW_CH_DSMEM_SHIFT = 3;
constexpr rk_u32 RK_SW_CH_GLOBAL_SHIFT = 5;
static_assert((1u << RK_SW_CH_DSMEM_SHIFT) == RK_SW_CH_DSMEM, "DSMEM channel size");
static_assert((1u << RK_SW_CH_GLOBAL_SHIFT) == RK_SW_CH_GLOBAL, "global channel size");
// One LL slot: its eight words as four 16-byte chunks, one per lane of a store or a load.
struct __align__(16) rk_sw_staged {
  ulonglong2 chunk[4];
};
static_assert(sizeof(rk_sw_staged) == RK_SW_CH_SLOT_BYTES, "channel slot size");

// Lane k's 16-byte chunk (k < 4) of the eight words `v` (the same on every lane), selected
// without indexing `v` by a variable (which would put it in local memory).
__device__ __forceinline__ ulonglong2 rk_sw_ll_lane_chunk(const rk_u64 v[8], rk_u32 lane) {
  rk_u64 lo = v[0], hi = v[1];
#pragma unroll
  for (rk_u32 k = 1; k < 4; ++k) {
    if (lane == k) {
      lo = v[2 * k];
      hi = v[2 * k + 1];
    }
  }
  return make_ulonglong2(lo, hi);
}

// Lanes 0-3 store their 16-byte chunk of the eight words `v` (the same on every lane) at `dst`,
// where chunk k exists if k < `chunks`: one store instruction, nothing staged.
__device__ __forceinline__ void rk_sw_ll_store_lanes(void* dst, const rk_u64 v[8], rk_u32 chunks, rk_u32 lane) {
  const ulonglong2 c = rk_sw_ll_lane_chunk(v, lane);
  if (lane < chunks) rk_sw_store16((ulonglong2*)dst + lane, c.x, c.y);
}

// The lap tag of ring position `pos` (never 0, so zeroed memory holds no message).
__device__ __forceinline__ rk_u64 rk_sw_ll_tag(rk_u64 pos, rk_u32 shift) {
  return 0x8000ull | ((pos >> shift) & 0x7fffull);
}

// True when all eight words of a polled slot carry lap tag `tag`: the words' low halves are
// paired into four 32-bit values and compared with the tag in both halves at once, a tree of
// depth three instead of a chain of eight 64-bit compares (this check stands between a message
// landing and its handler).
__device__ __forceinline__ bool rk_sw_ll_whole(const rk_u64 in[8], rk_u64 tag) {
  const rk_u32 tt = (rk_u32)tag * 0x10001u;
  const rk_u32 a = __byte_perm((rk_u32)in[0], (rk_u32)in[1], 0x5410) ^ tt;
  const rk_u32 b = __byte_perm((rk_u32)in[2], (rk_u32)in[3], 0x5410) ^ tt;
  const rk_u32 c = __byte_perm((rk_u32)in[4], (rk_u32)in[5], 0x5410) ^ tt;
  const rk_u32 d = __byte_perm((rk_u32)in[6], (rk_u32)in[7], 0x5410) ^ tt;
  return ((a | b) | (c | d)) == 0;
}

// The 48 bytes a channel message carries (kind, corr, hlc, expires, words; its sender and
// receiver are the channel's) as eight tagged 48-bit pieces: word i < 6 carries the upper 48
// bits of field i where they already sit, and words 6 and 7 carry the six fields' low 16 bits.
// Packing and unpacking are then one byte permute or mask per 32-bit half, all independent,
// instead of a funnel shift across two fields per word: a message's HLC and words are one
// instruction from the polled words, and its answer one instruction from the slot.
__device__ __forceinline__ void rk_sw_ll_pack(const rk_sw_msg& m, rk_u64 tag, rk_u64 out[8]) {
  const rk_u64 src[6] = {(rk_u64)m.kind | ((rk_u64)m.corr << 32), m.hlc, m.expires,
                         m.words[0], m.words[1], m.words[2]};
  const rk_u32 t = (rk_u32)tag;
#pragma unroll
  for (int i = 0; i < 6; ++i) out[i] = (src[i] & ~0xffffull) | t;
  // Byte selectors: 0x5410 = the low halves of both operands, the first one below.
  out[6] = ((rk_u64)__byte_perm((rk_u32)src[1], (rk_u32)src[2], 0x5410) << 32) |
           __byte_perm(t, (rk_u32)src[0], 0x5410);
  out[7] = ((rk_u64)__byte_perm((rk_u32)src[4], (rk_u32)src[5], 0x5410) << 32) |
           __byte_perm(t, (rk_u32)src[3], 0x5410);
}

__device__ __forceinline__ void rk_sw_ll_unpack(const rk_u64 in[8], rk_u32 from, rk_u32 to, rk_sw_msg* m) {
  // Field i's low 16 bits: the upper half of word 6 or 7's low 32 bits (i = 0, 3), or a half
  // of its high 32 bits (i = 1, 2, 4, 5); selector 0x76xy keeps bytes 2-3 of word i's low half.
  const rk_u32 l6 = (rk_u32)in[6], h6 = (rk_u32)(in[6] >> 32);
  const rk_u32 l7 = (rk_u32)in[7], h7 = (rk_u32)(in[7] >> 32);
  const rk_u32 low[6] = {__byte_perm(l6, (rk_u32)in[0], 0x7632), __byte_perm(h6, (rk_u32)in[1], 0x7610),
                         __byte_perm(h6, (rk_u32)in[2], 0x7632), __byte_perm(l7, (rk_u32)in[3], 0x7632),
                         __byte_perm(h7, (rk_u32)in[4], 0x7610), __byte_perm(h7, (rk_u32)in[5], 0x7632)};
  rk_u64 src[6];
#pragma unroll
  for (int i = 0; i < 6; ++i) src[i] = (in[i] & 0xffffffff00000000ull) | low[i];
  m->seq = 0;
  m->check = 0;
  m->from = from;
  m->to = to;
  m->kind = (rk_u32)src[0];
  m->corr = (rk_u32)(src[0] >> 32);
  m->hlc = src[1];
  m->expires = src[2];
  m->words[0] = src[3];
  m->words[1] = src[4];
  m->words[2] = src[5];
}
