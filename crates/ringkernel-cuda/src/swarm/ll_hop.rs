//! The floor of the pinned tier: a hop through the same 64-byte LL channel slots with nothing of
//! the framework around it (`kernels/ll_hop.cu`). Measured beside the raw flag floor and the
//! pinned rally, it splits a pinned hop into what the work on a message costs (the hop over the
//! flag: unpacking, TTL, HLC, packing, staging) and what the framework costs (the rally over the
//! hop). Variants bound it from below ([`HopWork`]): the slot's transit with no work, the same
//! work written as leanly as we could (lanes 0-3 polling, or every lane reading the slot), and,
//! through DSMEM only, the transit and the lean hop with the message written by `st.async` and
//! waited for on the receiver's mbarrier instead of polled; and the lean hop with fewer bytes to
//! read (32- and 16-byte messages, forms the framework does not send).

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::CudaContext;

use crate::driver::{self, DeviceBuffer, Kernel, Stream};
use crate::error::CudaError;
use crate::nvrtc::NvrtcCompiler;

use super::layout::pinned;
use super::program::prelude;

/// The kernel (`rk_ll_hop`), included after `kernels/swarm_ll.cuh`.
pub const LL_HOP_CU: &str = include_str!("../../kernels/ll_hop.cu");
/// How long a rally may take before it counts as lost.
const DEADLINE_NS: u64 = 2_000_000_000;

/// The complete translation unit: the generated layouts, the runtime's HLC, the LL format and
/// the kernel.
pub fn source() -> String {
    let mut src = prelude();
    src.push_str(LL_HOP_CU);
    src
}

/// `hops` rounded up to an even count (the initiator's clock then covers exactly that many);
/// zero, or a count that does not round up, is a configuration error.
fn even_hops(hops: u64) -> Result<u64, CudaError> {
    if hops == 0 {
        return Err(CudaError::Config("at least one hop".into()));
    }
    hops.checked_add(hops % 2)
        .ok_or_else(|| CudaError::Config(format!("{hops} hops do not round up to an even count")))
}

/// Which channel the hop goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopChannel {
    /// Device memory between two blocks (as a pinned channel between clusters).
    DeviceMemory,
    /// The receiver's shared memory, written through DSMEM by the other block of a cluster of 2.
    Dsmem,
}

/// What the receiving warp does with each message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopWork {
    /// What a pinned actor's message costs, minus the framework (`rk_ll_hop`): lane 0 unpacks,
    /// checks the TTL, merges and ticks the HLC, counts and packs the answer, which it stages in
    /// shared memory for four lanes to store; the poll reads the clock for its deadline.
    Framework,
    /// The slot crosses and nothing else (`rk_ll_transit`): the receiver re-tags the words it
    /// polled and stores them back.
    Transit,
    /// The same work as [`HopWork::Framework`] on every lane at once, so no staging and no
    /// broadcast, with one clock reading per 64 empty polls for the HLC and the deadline
    /// (`rk_ll_lean`).
    Lean,
    /// [`HopWork::Lean`] with every lane reading the whole slot, as the pair loop does, instead
    /// of lanes 0-3 a chunk each and shuffles (`rk_ll_lean_all`).
    LeanAllLanes,
    /// Through DSMEM only: the slot crosses with no work, written with `st.async` and waited for
    /// on the receiver's mbarrier instead of polled (`rk_ll_async_transit`).
    AsyncTransit,
    /// Through DSMEM only: [`HopWork::LeanAllLanes`]'s work, the message written with `st.async`
    /// and waited for on the receiver's mbarrier (`rk_ll_async_lean`).
    AsyncLean,
    /// A bound, not a form the framework sends: [`HopWork::LeanAllLanes`] with a 32-byte
    /// message (kind and correlation, HLC and one word, no deadline: four tagged words); the
    /// sender still stores all four chunks (words 4-7 repeat 0-3), every receiving lane reads
    /// the first two (`rk_ll_lean_short`).
    LeanShort,
    /// A bound below the short form, not a form the framework sends: a 16-byte message (the HLC
    /// and a 32-bit value in two tagged words), stored and read as one chunk (`rk_ll_lean_tiny`).
    LeanTiny,
}

impl HopWork {
    /// Every variant, in declaration order (`work as usize` is its index here).
    pub const ALL: [HopWork; 8] = [
        HopWork::Framework,
        HopWork::Transit,
        HopWork::Lean,
        HopWork::LeanAllLanes,
        HopWork::AsyncTransit,
        HopWork::AsyncLean,
        HopWork::LeanShort,
        HopWork::LeanTiny,
    ];

    /// Whether the variant exists only through DSMEM (`st.async` writes another block's
    /// shared memory in the cluster).
    pub fn dsmem_only(self) -> bool {
        matches!(self, HopWork::AsyncTransit | HopWork::AsyncLean)
    }

    fn entry(self) -> &'static str {
        match self {
            HopWork::Framework => "rk_ll_hop",
            HopWork::Transit => "rk_ll_transit",
            HopWork::Lean => "rk_ll_lean",
            HopWork::LeanAllLanes => "rk_ll_lean_all",
            HopWork::AsyncTransit => "rk_ll_async_transit",
            HopWork::AsyncLean => "rk_ll_async_lean",
            HopWork::LeanShort => "rk_ll_lean_short",
            HopWork::LeanTiny => "rk_ll_lean_tiny",
        }
    }
}

/// The framework-free hop loaded on one GPU.
#[derive(Debug)]
pub struct LlHop {
    _ctx: Arc<CudaContext>,
    kernels: Vec<Kernel>,
    stream: Stream,
    rings: DeviceBuffer,
    out: DeviceBuffer,
}

impl LlHop {
    /// Compiles and loads the kernel on GPU `ordinal` (sm_90: the DSMEM hop needs clusters).
    pub fn new(ordinal: usize) -> Result<Self, CudaError> {
        let ctx = driver::open_context(ordinal)?;
        let info = driver::device_info(&ctx)?;
        let arch = info.arch();
        let ptx = NvrtcCompiler::discover()?.compile("ll_hop.cu", &source(), &arch, &[])?;
        let load = |work: HopWork| Kernel::load(&ctx, &ptx.ptx, work.entry());
        Ok(LlHop {
            // In declaration order: `work as usize` picks the kernel.
            kernels: HopWork::ALL
                .into_iter()
                .map(load)
                .collect::<Result<_, _>>()?,
            stream: Stream::non_blocking(&ctx)?,
            rings: DeviceBuffer::new(
                &ctx,
                2 * (pinned::GLOBAL_SLOTS * pinned::SLOT_BYTES) as usize,
            )?,
            out: DeviceBuffer::new(&ctx, 24)?,
            _ctx: ctx,
        })
    }

    /// One-way latency (ns, mean over the rally) of `hops` hops through `channel` (rounded up
    /// to an even number, so the initiator's clock covers exactly that many).
    pub fn one_way(&self, channel: HopChannel, hops: u64) -> Result<f64, CudaError> {
        self.one_way_with(HopWork::Framework, channel, hops)
    }

    /// [`LlHop::one_way`] with the receiving warp doing `work`.
    pub fn one_way_with(
        &self,
        work: HopWork,
        channel: HopChannel,
        hops: u64,
    ) -> Result<f64, CudaError> {
        let hops = even_hops(hops)?;
        if work.dsmem_only() && channel != HopChannel::Dsmem {
            return Err(CudaError::Config(format!(
                "{work:?} runs through DSMEM only, not {channel:?}"
            )));
        }
        // Lap tags start from zeroed slots.
        self.rings.fill(0, self.rings.bytes(), 0)?;
        self.out.fill(0, 24, 0)?;
        let dsmem = channel == HopChannel::Dsmem;
        let (mut rings, mut n, mut out) = (self.rings.ptr(), hops, self.out.ptr());
        let (mut deadline, mut flag) = (DEADLINE_NS, u32::from(dsmem));
        let mut args = [
            &mut rings as *mut u64 as *mut c_void,
            &mut n as *mut u64 as *mut c_void,
            &mut out as *mut u64 as *mut c_void,
            &mut deadline as *mut u64 as *mut c_void,
            &mut flag as *mut u32 as *mut c_void,
        ];
        let kernel = self
            .kernels
            .get(work as usize)
            .ok_or_else(|| CudaError::Config(format!("{work:?} is not in HopWork::ALL")))?;
        // SAFETY: the arguments match every rk_ll_* entry: (rk_sw_staged*, u64, u64*, u64, u32); both
        // buffers outlive the kernel (we wait for it below). Two one-warp blocks (one cluster
        // for the DSMEM hop) are always co-resident on an idle GPU.
        unsafe { kernel.launch_ex(&self.stream, 2, 32, dsmem.then_some(2), false, &mut args)? };
        self.stream.synchronize()?;
        let mut raw = [0u8; 8];
        self.out.read(&mut raw)?;
        let ns = u64::from_le_bytes(raw);
        if ns == 0 {
            return Err(CudaError::MeasurementTimeout {
                what: format!("the LL hop rally ({work:?}, {channel:?})"),
                deadline_ns: DEADLINE_NS,
            });
        }
        Ok(ns as f64 / hops as f64)
    }

    /// The SMs (`%smid`) the last rally's two blocks ran on, initiator first (`None` before
    /// the first rally): a device-memory hop's latency depends on the pair
    /// (`Floors::k2k_one_way_between` gives the flag's).
    pub fn last_sms(&self) -> Result<Option<[u32; 2]>, CudaError> {
        let mut raw = [0u8; 24];
        self.out.read(&mut raw)?;
        let words: [u64; 3] = bytemuck::cast(raw);
        // The kernel stores each SM plus one; zeroed words mean no rally has run.
        Ok(match (words[1].checked_sub(1), words[2].checked_sub(1)) {
            (Some(a), Some(b)) => Some([a, b].map(|sm| u32::try_from(sm).unwrap_or(u32::MAX))),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_counts_round_up_to_even_and_bad_ones_are_errors() {
        assert_eq!(even_hops(1).ok(), Some(2));
        assert_eq!(even_hops(2).ok(), Some(2));
        assert_eq!(even_hops(1001).ok(), Some(1002));
        assert!(matches!(even_hops(0), Err(CudaError::Config(_))));
        assert!(matches!(even_hops(u64::MAX), Err(CudaError::Config(_))));
        assert_eq!(even_hops(u64::MAX - 1).ok(), Some(u64::MAX - 1));
    }

    #[test]
    fn only_the_st_async_variants_are_dsmem_only() {
        let dsmem_only: Vec<HopWork> = HopWork::ALL
            .into_iter()
            .filter(|w| w.dsmem_only())
            .collect();
        assert_eq!(dsmem_only, [HopWork::AsyncTransit, HopWork::AsyncLean]);
    }

    #[test]
    fn all_lists_the_variants_in_declaration_order() {
        for (i, work) in HopWork::ALL.into_iter().enumerate() {
            assert_eq!(work as usize, i);
        }
    }
}
