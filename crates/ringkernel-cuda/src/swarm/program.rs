//! Assembles a swarm program: the generated layout headers, the device runtime, the swarm
//! runtime, the program's handler and the kernel loop.

use crate::layout::device_header;
use crate::program::RUNTIME_CUH;

/// The swarm's device runtime (queues, sends, spawn, the handler API).
pub const SWARM_CUH: &str = include_str!("../../kernels/swarm.cuh");
/// The pinned channels' LL slot format and 16-byte accesses (also used by `ll_hop`).
pub const SWARM_LL_CUH: &str = include_str!("../../kernels/swarm_ll.cuh");
/// Channels between pinned actors.
pub const SWARM_CHANNEL_CUH: &str = include_str!("../../kernels/swarm_channel.cuh");
/// The pinned warp's round.
pub const SWARM_PINNED_CUH: &str = include_str!("../../kernels/swarm_pinned.cuh");
/// The pinned warp's express loop (express handlers on all lanes).
pub const SWARM_EXPRESS_CUH: &str = include_str!("../../kernels/swarm_express.cuh");
/// The express loop's pair loop (one partner, everything in registers).
pub const SWARM_PAIR_CUH: &str = include_str!("../../kernels/swarm_pair.cuh");
/// The swarm kernel loop.
pub const SWARM_CU: &str = include_str!("../../kernels/swarm.cu");
/// Name of the swarm kernel's entry point.
pub const KERNEL_NAME: &str = "rk_swarm";

/// The handlers of a swarm: CUDA C source defining
/// `__device__ void rk_sw_handle(rk_sw_ctx* c, rk_u32 type, void* state, const rk_sw_msg* m)`
/// against the API of `kernels/swarm.cuh` (`rk_sw_send`, `rk_sw_ask`, `rk_sw_reply`,
/// `rk_sw_spawn`, `rk_sw_yield`, `rk_sw_stop_self`, `rk_sw_random`).
#[derive(Debug, Clone)]
pub struct SwarmProgram {
    /// Name NVRTC shows in its log.
    pub name: String,
    /// The handler source.
    pub handlers: String,
}

impl SwarmProgram {
    /// A program from handler source.
    pub fn new(name: impl Into<String>, handlers: impl Into<String>) -> Self {
        SwarmProgram {
            name: name.into(),
            handlers: handlers.into(),
        }
    }

    /// The test kit's program (`super::kit`).
    pub fn kit() -> Self {
        Self::new("swarm_kit.cu", super::kit::source())
    }

    /// The complete translation unit.
    pub fn source(&self) -> String {
        let mut src = prelude();
        src.push_str(SWARM_CUH);
        src.push('\n');
        src.push_str(SWARM_CHANNEL_CUH);
        src.push('\n');
        src.push_str(SWARM_PINNED_CUH);
        src.push('\n');
        src.push_str(SWARM_EXPRESS_CUH);
        src.push('\n');
        src.push_str(SWARM_PAIR_CUH);
        src.push('\n');
        src.push_str(&self.handlers);
        src.push('\n');
        src.push_str(SWARM_CU);
        src
    }
}

/// The start of every swarm translation unit (the program's and `ll_hop`'s): the generated
/// layouts, the device runtime and the LL slot format.
pub(crate) fn prelude() -> String {
    let mut src = device_header();
    src.push_str(RUNTIME_CUH);
    src.push('\n');
    super::layout::render(&mut src);
    src.push_str(SWARM_LL_CUH);
    src.push('\n');
    src
}
