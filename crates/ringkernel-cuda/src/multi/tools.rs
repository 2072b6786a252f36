//! The migration kernels (`kernels/migrate.cu`) loaded on one GPU, with their scratch memory.

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::CudaContext;

use crate::driver::{DeviceBuffer, Kernel, MappedBuffer, Stream};
use crate::error::CudaError;
use crate::layout::RingSlot;
use crate::nvrtc::CompiledPtx;

/// Threads per block of the checksum kernel, and its most blocks.
const CHECKSUM_THREADS: u32 = 256;
const CHECKSUM_MAX_BLOCKS: u64 = 1024;

/// Host twin of `rk_checksum`: the sum over 8-byte little-endian words `i` (the last one
/// zero-padded) of `mix64(word + (i + 1) * golden)`, wrapping.
pub fn checksum(bytes: &[u8]) -> u64 {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    bytes
        .chunks(8)
        .enumerate()
        .map(|(i, c)| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            mix64(u64::from_le_bytes(w).wrapping_add((i as u64 + 1).wrapping_mul(GOLDEN)))
        })
        .fold(0u64, u64::wrapping_add)
}

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One GPU's migration kernels.
#[derive(Debug)]
pub(crate) struct Tools {
    seal: Kernel,
    unseal: Kernel,
    checksum: Kernel,
    adopt: Kernel,
    /// Results (one u64 per kernel call) and the staging area for a copied inbox.
    scratch: DeviceBuffer,
    pub(crate) staging: DeviceBuffer,
    /// Pinned host memory for host-staged transfers (the largest state or inbox).
    pub(crate) pinned: MappedBuffer<u8>,
    pub(crate) stream: Stream,
}

impl Tools {
    /// Loads the kernels on `ctx`; `inbox_slots` sizes the staging area, `state_bytes` (with
    /// it) the pinned buffer. Allocates, so it must run before the GPU's persistent kernel starts:
    /// allocations and frees of pinned memory wait for the context's running kernels, which a
    /// persistent kernel never finishes.
    pub(crate) fn load(
        ctx: &Arc<CudaContext>,
        ptx: &CompiledPtx,
        inbox_slots: u64,
        state_bytes: usize,
    ) -> Result<Self, CudaError> {
        let inbox_bytes = inbox_slots as usize * std::mem::size_of::<RingSlot>();
        Ok(Tools {
            pinned: MappedBuffer::new(ctx, state_bytes.max(inbox_bytes))?,
            seal: Kernel::load(ctx, &ptx.ptx, "rk_seal_inbox")?,
            unseal: Kernel::load(ctx, &ptx.ptx, "rk_unseal_inbox")?,
            checksum: Kernel::load(ctx, &ptx.ptx, "rk_checksum")?,
            adopt: Kernel::load(ctx, &ptx.ptx, "rk_adopt_inbox")?,
            scratch: DeviceBuffer::new(ctx, 128)?,
            staging: DeviceBuffer::new(ctx, inbox_bytes)?,
            stream: Stream::non_blocking(ctx)?,
        })
    }

    /// The u64 a kernel left in the scratch line (everything here runs on `stream`, never on
    /// the legacy stream, so nothing waits for the persistent kernel).
    fn result(&self) -> Result<u64, CudaError> {
        let mut v = [0u8; 8];
        self.stream.copy_from_device(&mut v, self.scratch.ptr())?;
        Ok(u64::from_le_bytes(v))
    }

    /// Seals the inbox whose tail is at `tail`; returns the messages it ever received.
    pub(crate) fn seal(&self, tail: u64) -> Result<u64, CudaError> {
        let (mut t, mut out) = (tail, self.scratch.ptr());
        let mut args = [
            &mut t as *mut u64 as *mut c_void,
            &mut out as *mut u64 as *mut c_void,
        ];
        // SAFETY: rk_seal_inbox(rk_u64*, rk_u64*): `tail` is a live inbox tail of this GPU and
        // `out` our scratch; we wait for the kernel before reading or freeing either.
        unsafe { self.seal.launch(&self.stream, 1, 1, &mut args)? };
        self.result()
    }

    /// Reopens a sealed inbox.
    pub(crate) fn unseal(&self, tail: u64) -> Result<(), CudaError> {
        let mut t = tail;
        let mut args = [&mut t as *mut u64 as *mut c_void];
        // SAFETY: rk_unseal_inbox(rk_u64*): a live inbox tail of this GPU.
        unsafe { self.unseal.launch(&self.stream, 1, 1, &mut args)? };
        self.stream.synchronize()
    }

    /// [`checksum`] of `len` bytes at device address `ptr` of this GPU, computed on the GPU.
    pub(crate) fn checksum(&self, ptr: u64, len: usize) -> Result<u64, CudaError> {
        self.stream.copy_to_device(self.scratch.ptr(), &[0u8; 8])?;
        let (mut p, mut l, mut out) = (ptr, len as u64, self.scratch.ptr());
        let blocks = (l / 8)
            .div_ceil(u64::from(CHECKSUM_THREADS))
            .clamp(1, CHECKSUM_MAX_BLOCKS) as u32;
        let mut args = [
            &mut p as *mut u64 as *mut c_void,
            &mut l as *mut u64 as *mut c_void,
            &mut out as *mut u64 as *mut c_void,
        ];
        // SAFETY: rk_checksum(const unsigned char*, rk_u64, rk_u64*): `ptr..ptr+len` is live
        // device memory of this GPU (the caller's), `out` our zeroed scratch; we wait for it.
        unsafe {
            self.checksum
                .launch(&self.stream, blocks, CHECKSUM_THREADS, &mut args)?
        };
        self.result()
    }

    /// Writes the `n` messages at positions `head..` of the staged inbox copy (`src_cap` slots)
    /// into the fresh inbox at `dst` (tail at `dst_tail`, `dst_cap` slots). Returns how many
    /// checked out; nothing was written unless that is `n`.
    pub(crate) fn adopt(
        &self,
        head: u64,
        n: u64,
        src_cap: u64,
        dst: u64,
        dst_tail: u64,
        dst_cap: u64,
    ) -> Result<u64, CudaError> {
        let mut vals = [
            self.staging.ptr(),
            head,
            n,
            src_cap,
            dst,
            dst_tail,
            dst_cap,
            self.scratch.ptr(),
        ];
        let mut args: Vec<*mut c_void> = vals
            .iter_mut()
            .map(|v| v as *mut u64 as *mut c_void)
            .collect();
        // SAFETY: rk_adopt_inbox(const rk_slot*, u64, u64, u64, rk_slot*, u64*, u64, u64*): the
        // staging area holds `src_cap` slots, `dst`/`dst_tail` are a live inbox of this GPU of
        // `dst_cap` slots; every parameter is a u64-sized value in order; we wait for it.
        unsafe { self.adopt.launch(&self.stream, 1, 1, &mut args)? };
        self.result()
    }
}

#[cfg(test)]
mod tests {
    use super::checksum;

    #[test]
    fn checksum_sees_position_content_and_length() {
        let a: Vec<u8> = (0..64u8).collect();
        let mut swapped = a.clone();
        swapped.swap(0, 8);
        assert_ne!(checksum(&a), checksum(&swapped));
        let mut flipped = a.clone();
        flipped[63] ^= 1;
        assert_ne!(checksum(&a), checksum(&flipped));
        assert_ne!(checksum(&a[..60]), checksum(&a[..61]));
        assert_eq!(checksum(&[]), 0);
        assert_eq!(checksum(&a), checksum(&a.clone()));
    }
}
