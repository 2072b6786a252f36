//! Where a new actor goes: placement hints and the choice they lead to.

use super::topology::{LinkKind, Topology};

/// Where to place an actor in a multi-GPU runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// The GPU with the fewest live actors (ties: the lowest index).
    #[default]
    LeastLoaded,
    /// This GPU (index in the runtime), or fail.
    Pinned(usize),
    /// Near the GPU at this index: that GPU if it has room, else the least-loaded GPU it reaches
    /// over NVLink, else the least-loaded GPU with room.
    NvLinkPreferred(usize),
}

/// What a placement decision knows about one GPU of the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuLoad {
    /// Its CUDA ordinal (to look links up in the topology).
    pub ordinal: usize,
    /// Actors living on it.
    pub live: usize,
    /// Blocks it still has for new actors.
    pub free: usize,
}

/// The GPU (index into `gpus`) that `placement` picks, or `None` when no GPU it allows has room.
pub fn choose(placement: Placement, gpus: &[GpuLoad], topology: &Topology) -> Option<usize> {
    let has_room = |i: &usize| gpus[*i].free > 0;
    let least = |candidates: &mut dyn Iterator<Item = usize>| {
        candidates
            .filter(has_room)
            .min_by_key(|&i| (gpus[i].live, i))
    };
    match placement {
        Placement::LeastLoaded => least(&mut (0..gpus.len())),
        Placement::Pinned(i) => (i < gpus.len() && gpus[i].free > 0).then_some(i),
        Placement::NvLinkPreferred(near) => {
            if near >= gpus.len() {
                return None;
            }
            if gpus[near].free > 0 {
                return Some(near);
            }
            let from = gpus[near].ordinal;
            least(&mut (0..gpus.len()).filter(|&i| {
                topology
                    .link(from, gpus[i].ordinal)
                    .is_some_and(|l| l.kind == LinkKind::NvLink)
            }))
            .or_else(|| least(&mut (0..gpus.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multi::topology::{Gpu, Link};

    /// GPUs 0-1 and 2-3 are NVLink pairs; across pairs, PCIe.
    fn two_pairs() -> Topology {
        let gpus = (0..4)
            .map(|ordinal| Gpu {
                ordinal,
                name: String::new(),
            })
            .collect();
        let links = (0..4)
            .map(|a| {
                (0..4)
                    .map(|b| {
                        (a != b).then(|| {
                            let nv = a / 2 == b / 2;
                            Link {
                                access: true,
                                native_atomics: nv,
                                performance_rank: 0,
                                kind: LinkKind::classify(true, nv),
                            }
                        })
                    })
                    .collect()
            })
            .collect();
        Topology::from_parts(gpus, links).unwrap()
    }

    fn loads(v: &[(usize, usize)]) -> Vec<GpuLoad> {
        v.iter()
            .enumerate()
            .map(|(ordinal, &(live, free))| GpuLoad {
                ordinal,
                live,
                free,
            })
            .collect()
    }

    #[test]
    fn least_loaded_skips_full_gpus_and_breaks_ties_low() {
        let t = two_pairs();
        assert_eq!(
            choose(
                Placement::LeastLoaded,
                &loads(&[(3, 1), (1, 0), (2, 5), (2, 5)]),
                &t
            ),
            Some(2)
        );
        assert_eq!(
            choose(
                Placement::LeastLoaded,
                &loads(&[(0, 0), (0, 0), (0, 0), (0, 0)]),
                &t
            ),
            None
        );
    }

    #[test]
    fn pinned_takes_its_gpu_or_nothing() {
        let t = two_pairs();
        let l = loads(&[(9, 1), (0, 0), (0, 4), (0, 4)]);
        assert_eq!(choose(Placement::Pinned(0), &l, &t), Some(0));
        assert_eq!(choose(Placement::Pinned(1), &l, &t), None);
        assert_eq!(choose(Placement::Pinned(9), &l, &t), None);
    }

    #[test]
    fn nvlink_preferred_stays_near_then_falls_back() {
        let t = two_pairs();
        // Room on the GPU itself.
        assert_eq!(
            choose(
                Placement::NvLinkPreferred(0),
                &loads(&[(5, 1), (0, 9), (0, 9), (0, 9)]),
                &t
            ),
            Some(0)
        );
        // Full: its NVLink partner, even though GPUs 2 and 3 are emptier.
        assert_eq!(
            choose(
                Placement::NvLinkPreferred(0),
                &loads(&[(5, 0), (4, 9), (0, 9), (0, 9)]),
                &t
            ),
            Some(1)
        );
        // Partner full too: least loaded anywhere.
        assert_eq!(
            choose(
                Placement::NvLinkPreferred(0),
                &loads(&[(5, 0), (4, 0), (3, 9), (1, 9)]),
                &t
            ),
            Some(3)
        );
        assert_eq!(
            choose(
                Placement::NvLinkPreferred(7),
                &loads(&[(0, 1), (0, 1), (0, 1), (0, 1)]),
                &t
            ),
            None
        );
    }
}
