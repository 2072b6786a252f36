//! Which GPUs there are and how each pair is linked, from the driver's peer-to-peer attributes.
//!
//! The driver does not name the interconnect. What it reports per ordered pair is whether one
//! GPU may access the other's memory (`ACCESS_SUPPORTED`), whether atomics on that memory are
//! native (`NATIVE_ATOMIC_SUPPORTED`) and a relative performance rank. Native peer atomics are an
//! NVLink capability (PCIe peer-to-peer between these GPUs has none), so a pair with access and
//! native atomics is classified [`LinkKind::NvLink`], one with access only [`LinkKind::Pcie`],
//! and one without access [`LinkKind::HostOnly`]. The benchmark (`gpu-bench`'s multi-GPU section)
//! measures each link, which is what confirms the class.

use std::ffi::c_int;

use cudarc::driver::{result, sys, CudaContext};

use crate::driver::check;
use crate::error::CudaError;

/// How one GPU reaches another's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// Peer access with native atomics: NVLink.
    NvLink,
    /// Peer access without native atomics: PCIe peer-to-peer.
    Pcie,
    /// No peer access: only copies staged through host memory.
    HostOnly,
}

impl LinkKind {
    /// The class of a link with these driver attributes (see the module docs).
    pub fn classify(access: bool, native_atomics: bool) -> LinkKind {
        match (access, native_atomics) {
            (true, true) => LinkKind::NvLink,
            (true, false) => LinkKind::Pcie,
            (false, _) => LinkKind::HostOnly,
        }
    }
}

/// What the driver says about one ordered pair of GPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The first GPU may access the second's memory.
    pub access: bool,
    /// Atomics on the second's memory are native.
    pub native_atomics: bool,
    /// The driver's relative performance rank (higher is faster; only comparable within a host).
    pub performance_rank: i32,
    /// The class derived from the attributes.
    pub kind: LinkKind,
}

/// One GPU of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpu {
    /// Its CUDA ordinal.
    pub ordinal: usize,
    /// Its name.
    pub name: String,
}

/// The GPUs of the host and the link of every ordered pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    gpus: Vec<Gpu>,
    /// `links[a][b]` for a != b; `None` on the diagonal.
    links: Vec<Vec<Option<Link>>>,
}

impl Topology {
    /// Asks the driver about every GPU and every ordered pair.
    pub fn probe() -> Result<Self, CudaError> {
        // Loads the driver and fails cleanly without one.
        let first = crate::driver::open_context(0)?;
        let count =
            usize::try_from(check("cuDeviceGetCount", CudaContext::device_count())?).unwrap_or(0);
        let mut gpus = Vec::with_capacity(count);
        let mut devices = Vec::with_capacity(count);
        for ordinal in 0..count {
            let ctx = if ordinal == 0 {
                first.clone()
            } else {
                crate::driver::open_context(ordinal)?
            };
            gpus.push(Gpu {
                ordinal,
                name: check("cuDeviceGetName", ctx.name())?,
            });
            devices.push(ctx.cu_device());
        }
        let mut links = vec![vec![None; count]; count];
        for (a, row) in links.iter_mut().enumerate() {
            for (b, cell) in row.iter_mut().enumerate() {
                if a == b {
                    continue;
                }
                let attr = |which| p2p_attribute(which, devices[a], devices[b]);
                let access =
                    attr(sys::CUdevice_P2PAttribute::CU_DEVICE_P2P_ATTRIBUTE_ACCESS_SUPPORTED)?
                        != 0;
                let native_atomics = attr(
                    sys::CUdevice_P2PAttribute::CU_DEVICE_P2P_ATTRIBUTE_NATIVE_ATOMIC_SUPPORTED,
                )? != 0;
                let performance_rank =
                    attr(sys::CUdevice_P2PAttribute::CU_DEVICE_P2P_ATTRIBUTE_PERFORMANCE_RANK)?;
                *cell = Some(Link {
                    access,
                    native_atomics,
                    performance_rank,
                    kind: LinkKind::classify(access, native_atomics),
                });
            }
        }
        Ok(Topology { gpus, links })
    }

    /// A topology given by hand (tests, planning without a GPU): `links[a][b]` for every ordered
    /// pair, `None` on the diagonal. Fails when the matrix is not square over `gpus` or has a
    /// link on its diagonal or lacks one off it.
    pub fn from_parts(gpus: Vec<Gpu>, links: Vec<Vec<Option<Link>>>) -> Result<Self, CudaError> {
        let n = gpus.len();
        let square = links.len() == n && links.iter().all(|r| r.len() == n);
        let shaped = square
            && links
                .iter()
                .enumerate()
                .all(|(a, r)| r.iter().enumerate().all(|(b, l)| l.is_some() == (a != b)));
        if !shaped {
            return Err(CudaError::Config(format!(
                "a topology of {n} GPUs needs an {n}x{n} link matrix with links off the diagonal only"
            )));
        }
        Ok(Topology { gpus, links })
    }

    /// The GPUs, by ordinal.
    pub fn gpus(&self) -> &[Gpu] {
        &self.gpus
    }

    /// How `a` reaches `b` (`None` for `a == b` or an ordinal out of range).
    pub fn link(&self, a: usize, b: usize) -> Option<Link> {
        self.links.get(a)?.get(b).copied().flatten()
    }

    /// Whether every ordered pair among `ordinals` has peer access.
    pub fn all_peer_access(&self, ordinals: &[usize]) -> bool {
        ordinals.iter().all(|&a| {
            ordinals
                .iter()
                .all(|&b| a == b || self.link(a, b).is_some_and(|l| l.access))
        })
    }

    /// The kind of the slowest link among `ordinals` (`None` for fewer than two GPUs).
    pub fn weakest_link(&self, ordinals: &[usize]) -> Option<LinkKind> {
        let rank = |k: LinkKind| match k {
            LinkKind::NvLink => 2,
            LinkKind::Pcie => 1,
            LinkKind::HostOnly => 0,
        };
        ordinals
            .iter()
            .flat_map(|&a| ordinals.iter().map(move |&b| (a, b)))
            .filter_map(|(a, b)| self.link(a, b))
            .map(|l| l.kind)
            .min_by_key(|k| rank(*k))
    }
}

fn p2p_attribute(
    which: sys::CUdevice_P2PAttribute,
    a: sys::CUdevice,
    b: sys::CUdevice,
) -> Result<i32, CudaError> {
    let mut v: c_int = 0;
    // SAFETY: `v` is a valid out-pointer; `a` and `b` are device handles of this driver.
    let r = unsafe { sys::cuDeviceGetP2PAttribute(&mut v, which, a, b) };
    check("cuDeviceGetP2PAttribute", r.result())?;
    Ok(v)
}

/// Lets `ctx` access `peer`'s memory (both directions need a call each). Enabling a pair twice
/// is not an error.
pub fn enable_peer_access(ctx: &CudaContext, peer: &CudaContext) -> Result<(), CudaError> {
    check("cuCtxSetCurrent", ctx.bind_to_thread())?;
    // SAFETY: `peer.cu_ctx()` is a live context; `ctx` is current on this thread.
    let r = unsafe { sys::cuCtxEnablePeerAccess(peer.cu_ctx(), 0) };
    match r {
        sys::CUresult::CUDA_SUCCESS | sys::CUresult::CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED => {
            Ok(())
        }
        other => check("cuCtxEnablePeerAccess", other.result()),
    }
}

/// Copies `bytes` from `src` (in `src_ctx`) to `dst` (in `dst_ctx`) directly between the GPUs
/// and waits for it.
///
/// # Safety
/// Both ranges must be live device allocations of at least `bytes` bytes in their contexts.
pub unsafe fn copy_peer(
    dst_ctx: &CudaContext,
    dst: u64,
    src_ctx: &CudaContext,
    src: u64,
    bytes: usize,
    stream: &crate::driver::Stream,
) -> Result<(), CudaError> {
    // SAFETY: forwarded from the caller.
    check("cuMemcpyPeerAsync", unsafe {
        result::memcpy_peer_async(
            dst_ctx.cu_ctx(),
            dst,
            src_ctx.cu_ctx(),
            src,
            bytes,
            stream.raw(),
        )
    })?;
    stream.synchronize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpus(n: usize) -> Vec<Gpu> {
        (0..n)
            .map(|ordinal| Gpu {
                ordinal,
                name: format!("gpu{ordinal}"),
            })
            .collect()
    }

    fn link(access: bool, atomics: bool) -> Option<Link> {
        Some(Link {
            access,
            native_atomics: atomics,
            performance_rank: 0,
            kind: LinkKind::classify(access, atomics),
        })
    }

    #[test]
    fn classification_follows_access_and_atomics() {
        assert_eq!(LinkKind::classify(true, true), LinkKind::NvLink);
        assert_eq!(LinkKind::classify(true, false), LinkKind::Pcie);
        assert_eq!(LinkKind::classify(false, true), LinkKind::HostOnly);
        assert_eq!(LinkKind::classify(false, false), LinkKind::HostOnly);
    }

    #[test]
    fn weakest_link_and_peer_access_over_a_subset() {
        // 0-1 NVLink, 2 reaches the others over PCIe only one way.
        let t = Topology::from_parts(
            gpus(3),
            vec![
                vec![None, link(true, true), link(true, false)],
                vec![link(true, true), None, link(true, false)],
                vec![link(false, false), link(true, false), None],
            ],
        )
        .unwrap();
        assert_eq!(t.weakest_link(&[0, 1]), Some(LinkKind::NvLink));
        assert_eq!(t.weakest_link(&[1, 2]), Some(LinkKind::Pcie));
        assert_eq!(t.weakest_link(&[0, 1, 2]), Some(LinkKind::HostOnly));
        assert_eq!(t.weakest_link(&[1]), None);
        assert!(t.all_peer_access(&[0, 1]));
        assert!(!t.all_peer_access(&[0, 2]));
        assert_eq!(t.link(0, 0), None);
        assert_eq!(t.link(0, 7), None);
    }

    #[test]
    fn malformed_matrices_are_refused() {
        assert!(Topology::from_parts(gpus(2), vec![vec![None, link(true, true)]]).is_err());
        assert!(Topology::from_parts(
            gpus(2),
            vec![
                vec![link(true, true), link(true, true)],
                vec![link(true, true), None]
            ]
        )
        .is_err());
        assert!(Topology::from_parts(gpus(2), vec![vec![None, None], vec![None, None]]).is_err());
    }
}
