//! Load balancing across the GPUs of a [`MultiGpuBackend`]: by load, and by communication
//! (actors that talk a lot move together).
//!
//! [`plan`] is pure: from each actor's load, the traffic between actors and each GPU's free
//! blocks it returns the moves to make. [`MultiGpuBackend::rebalance`] measures those inputs on
//! the running system and applies the plan with [`MultiGpuBackend::migrate`]:
//! - load = messages each actor processed during the window (its block's counter);
//! - traffic is *sampled*: each block publishes, with every heartbeat, how many K2K messages it
//!   took and the sender of the last one; the host looks once a millisecond, and every look at a
//!   block that took messages since the previous look counts one for (last sender → block). A
//!   pair's weight is the number of looks that caught it: an estimate that favours steady
//!   talkers, at no cost on the device beyond one register and one store per heartbeat.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ringkernel_core::ActorId;

use super::backend::{read, MultiGpuBackend};
use super::migrate::MigrationReport;
use crate::error::CudaError;

/// One actor's measured load and where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorLoad {
    /// The actor.
    pub id: ActorId,
    /// Runtime GPU index it lives on.
    pub gpu: usize,
    /// Its load (messages processed in the window).
    pub load: u64,
}

/// How much `from` sends to `to` (sample count or messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    /// Sender.
    pub from: ActorId,
    /// Receiver.
    pub to: ActorId,
    /// Weight.
    pub weight: u64,
}

/// One planned move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// The actor to move.
    pub actor: ActorId,
    /// The runtime GPU index to move it to.
    pub to_gpu: usize,
}

/// Knobs of [`plan`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BalanceOptions {
    /// Pairs with at least this traffic weight are kept on one GPU (0: ignore traffic).
    pub min_affinity: u64,
    /// Stop when the heaviest GPU carries at most this fraction more than the mean.
    pub tolerance: f64,
    /// Most moves in one plan.
    pub max_moves: usize,
}

impl Default for BalanceOptions {
    fn default() -> Self {
        BalanceOptions {
            min_affinity: 4,
            tolerance: 0.10,
            max_moves: 64,
        }
    }
}

/// Plans moves (see the module docs). Each group of actors joined by traffic of at least
/// `min_affinity` that spans GPUs is first gathered, whole or not at all, on the GPU among
/// those it uses that the gather leaves least loaded (this trades balance for locality and may
/// widen the spread); then whole groups move from the heaviest GPU to the lightest while that
/// narrows the gap (this step never widens the spread). Never plans more moves onto a GPU
/// than `free[gpu]` blocks, never moves an actor twice or to where it is.
pub fn plan(
    actors: &[ActorLoad],
    traffic: &[Traffic],
    free: &[usize],
    opts: BalanceOptions,
) -> Vec<Move> {
    let gpus = free.len();
    if gpus == 0 {
        return Vec::new();
    }
    let index: HashMap<ActorId, usize> =
        actors.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    // Union-find over strong edges.
    let mut parent: Vec<usize> = (0..actors.len()).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    if opts.min_affinity > 0 {
        let mut pair: HashMap<(usize, usize), u64> = HashMap::new();
        for t in traffic {
            if let (Some(&a), Some(&b)) = (index.get(&t.from), index.get(&t.to)) {
                if a != b {
                    *pair.entry((a.min(b), a.max(b))).or_default() += t.weight;
                }
            }
        }
        for ((a, b), w) in pair {
            if w >= opts.min_affinity {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                parent[ra] = rb;
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..actors.len() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by_key(|g| g[0]);

    let mut place: Vec<usize> = actors
        .iter()
        .map(|a| a.gpu.min(gpus.saturating_sub(1)))
        .collect();
    let mut room = free.to_vec();
    let mut moves: Vec<Move> = Vec::new();
    let relocate = |i: usize,
                    to: usize,
                    place: &mut Vec<usize>,
                    room: &mut Vec<usize>,
                    moves: &mut Vec<Move>| {
        if place[i] == to || room[to] == 0 || moves.len() >= opts.max_moves {
            return false;
        }
        room[to] -= 1;
        // A block freed by a move is not reusable (blocks are never reused).
        place[i] = to;
        moves.retain(|m| m.actor != actors[i].id);
        if actors[i].gpu != to {
            moves.push(Move {
                actor: actors[i].id,
                to_gpu: to,
            });
        }
        true
    };

    // 1. Gather each group that spans GPUs on one of the GPUs it already uses: the one left
    //    least loaded by the gather (ties: the one holding most of the group's load, then the
    //    lowest), and only if the whole group fits there within the room and move budget.
    for g in &groups {
        let mut by_gpu = vec![0u64; gpus];
        let mut count = vec![0usize; gpus];
        for &i in g {
            by_gpu[place[i]] += actors[i].load;
            count[place[i]] += 1;
        }
        if count.iter().filter(|&&c| c > 0).count() < 2 {
            continue;
        }
        let load_now = {
            let mut l = vec![0u64; gpus];
            for (i, a) in actors.iter().enumerate() {
                l[place[i]] += a.load;
            }
            l
        };
        let group_load: u64 = by_gpu.iter().sum();
        let home = (0..gpus)
            .filter(|&k| count[k] > 0)
            .filter(|&k| {
                let need = g.len() - count[k];
                need <= room[k] && moves.len() + need <= opts.max_moves
            })
            .min_by_key(|&k| {
                (
                    load_now[k] + (group_load - by_gpu[k]),
                    std::cmp::Reverse(by_gpu[k]),
                    k,
                )
            });
        let Some(home) = home else { continue };
        for &i in g {
            relocate(i, home, &mut place, &mut room, &mut moves);
        }
    }

    // 2. Level the load with whole groups that sit on one GPU.
    let loads = |place: &[usize]| {
        let mut l = vec![0u64; gpus];
        for (i, a) in actors.iter().enumerate() {
            l[place[i]] += a.load;
        }
        l
    };
    for _ in 0..opts.max_moves {
        let l = loads(&place);
        let total: u64 = l.iter().sum();
        if gpus < 2 || total == 0 {
            break;
        }
        let mean = total as f64 / gpus as f64;
        let heavy = (0..gpus)
            .max_by_key(|&k| (l[k], std::cmp::Reverse(k)))
            .unwrap_or(0);
        let light = (0..gpus).min_by_key(|&k| (l[k], k)).unwrap_or(0);
        if (l[heavy] as f64) <= mean * (1.0 + opts.tolerance) || heavy == light {
            break;
        }
        let gap = l[heavy] - l[light];
        // The heaviest whole group on `heavy` that narrows the gap (moving load g changes the
        // pair's difference to |gap - 2g|, smaller iff 0 < g < gap) and fits on `light`.
        let best = groups
            .iter()
            .filter(|g| g.iter().all(|&i| place[i] == heavy))
            .map(|g| (g, g.iter().map(|&i| actors[i].load).sum::<u64>()))
            .filter(|(g, w)| *w > 0 && *w < gap && g.len() <= room[light])
            .max_by_key(|(_, w)| *w);
        let Some((g, _)) = best else { break };
        let g = g.clone();
        let mut moved = false;
        for i in g {
            moved |= relocate(i, light, &mut place, &mut room, &mut moves);
        }
        if !moved {
            break;
        }
    }
    moves
}

/// What [`MultiGpuBackend::rebalance`] measured and did.
#[derive(Debug, Clone)]
pub struct RebalanceReport {
    /// Per actor: its load in the window.
    pub loads: Vec<ActorLoad>,
    /// Sampled traffic between actors.
    pub traffic: Vec<Traffic>,
    /// The migrations made, in order.
    pub migrations: Vec<MigrationReport>,
}

impl MultiGpuBackend {
    /// Measures load and traffic for `window`, plans with `opts` and migrates accordingly.
    pub fn rebalance(
        &self,
        window: Duration,
        opts: BalanceOptions,
    ) -> Result<RebalanceReport, CudaError> {
        let (loads, traffic) = self.measure(window)?;
        let free: Vec<usize> = self
            .members
            .iter()
            .map(|m| m.backend.free_blocks())
            .collect();
        let moves = plan(&loads, &traffic, &free, opts);
        let mut migrations = Vec::with_capacity(moves.len());
        for m in moves {
            migrations.push(self.migrate(m.actor, m.to_gpu)?);
        }
        Ok(RebalanceReport {
            loads,
            traffic,
            migrations,
        })
    }

    /// Each live actor's processed messages over `window`, and K2K traffic sampled once per
    /// heartbeat period (at least every millisecond) in that window.
    pub fn measure(&self, window: Duration) -> Result<(Vec<ActorLoad>, Vec<Traffic>), CudaError> {
        // (gpu, block) -> runtime-wide id, for the actors placed now.
        let mut at: HashMap<(usize, u32), ActorId> = HashMap::new();
        for (raw, lock) in self.routes.iter().enumerate() {
            if let Some(r) = *read(lock) {
                at.insert((r.gpu, r.local.raw()), ActorId::from_raw(raw as u32));
            }
        }
        let processed = |m: &super::backend::Member| m.backend.device().processed_per_block();
        let before: Vec<Vec<u64>> = self.members.iter().map(processed).collect();
        let taken = |m: &super::backend::Member| m.backend.device().k2k_taken_per_block();
        let mut last: Vec<Vec<u64>> = self.members.iter().map(taken).collect();
        let mut pairs: HashMap<(u32, ActorId), u64> = HashMap::new();
        let until = ringkernel_core::deadline_after(window);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
            for (g, m) in self.members.iter().enumerate() {
                let senders = m.backend.device().last_k2k_senders();
                let now = taken(m);
                for (b, (&n, old)) in now.iter().zip(last[g].iter_mut()).enumerate() {
                    // One sample per look at a block that took K2K messages since the last look:
                    // the sender of the latest of them.
                    if n != *old {
                        let sender = senders.get(b).and_then(|&s| u32::try_from(s).ok());
                        if let (Some(sender), Some(&to)) = (sender, at.get(&(g, b as u32))) {
                            *pairs.entry((sender, to)).or_default() += 1;
                        }
                    }
                    *old = n;
                }
            }
        }
        let after: Vec<Vec<u64>> = self.members.iter().map(processed).collect();
        let mut loads: Vec<ActorLoad> = at
            .iter()
            .map(|(&(g, b), &id)| ActorLoad {
                id,
                gpu: g,
                load: after[g]
                    .get(b as usize)
                    .zip(before[g].get(b as usize))
                    .map_or(0, |(a, b)| a.saturating_sub(*b)),
            })
            .collect();
        loads.sort_by_key(|l| l.id.raw());
        let mut traffic: Vec<Traffic> = pairs
            .into_iter()
            .map(|((from, to), weight)| Traffic {
                from: ActorId::from_raw(from),
                to,
                weight,
            })
            .collect();
        traffic.sort_by_key(|t| (t.from.raw(), t.to.raw()));
        Ok((loads, traffic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(id: u32, gpu: usize, load: u64) -> ActorLoad {
        ActorLoad {
            id: ActorId::from_raw(id),
            gpu,
            load,
        }
    }

    fn t(from: u32, to: u32, weight: u64) -> Traffic {
        Traffic {
            from: ActorId::from_raw(from),
            to: ActorId::from_raw(to),
            weight,
        }
    }

    fn apply(actors: &[ActorLoad], moves: &[Move], gpus: usize) -> Vec<u64> {
        let mut l = vec![0u64; gpus];
        for x in actors {
            let g = moves
                .iter()
                .find(|m| m.actor == x.id)
                .map_or(x.gpu, |m| m.to_gpu);
            l[g] += x.load;
        }
        l
    }

    #[test]
    fn skewed_load_is_levelled() {
        let actors: Vec<_> = (0..8).map(|i| a(i, 0, 100)).collect();
        let moves = plan(&actors, &[], &[8, 8], BalanceOptions::default());
        assert_eq!(apply(&actors, &moves, 2), vec![400, 400]);
        assert!(moves.iter().all(|m| m.to_gpu == 1));
    }

    #[test]
    fn talkers_are_gathered_and_moved_together() {
        // 0 and 1 talk a lot but sit apart; 2 and 3 are quiet loners.
        let actors = vec![a(0, 0, 50), a(1, 1, 50), a(2, 0, 10), a(3, 1, 10)];
        let traffic = vec![t(0, 1, 40), t(1, 0, 35), t(2, 3, 1)];
        let moves = plan(
            &actors,
            &traffic,
            &[4, 4],
            BalanceOptions {
                tolerance: 10.0,
                ..Default::default()
            },
        );
        let gpu = |id: u32| {
            moves
                .iter()
                .find(|m| m.actor.raw() == id)
                .map_or(actors[id as usize].gpu, |m| m.to_gpu)
        };
        assert_eq!(gpu(0), gpu(1), "{moves:?}");
        assert_eq!(moves.len(), 1, "only one of the pair moves: {moves:?}");
        // Traffic ignored: nothing to gather.
        let none = plan(
            &actors,
            &traffic,
            &[4, 4],
            BalanceOptions {
                min_affinity: 0,
                tolerance: 10.0,
                ..Default::default()
            },
        );
        assert!(none.is_empty());
    }

    #[test]
    fn gathering_keeps_split_pairs_balanced() {
        // Four talking pairs, each split across two GPUs: every pair ends up on one GPU, two
        // pairs per GPU (the gather picks the home the move leaves least loaded).
        let actors: Vec<_> = (0..8).map(|i| a(i, (i % 2) as usize, 100)).collect();
        let traffic: Vec<_> = (0..4)
            .flat_map(|k| [t(2 * k, 2 * k + 1, 50), t(2 * k + 1, 2 * k, 50)])
            .collect();
        let moves = plan(&actors, &traffic, &[8, 8], BalanceOptions::default());
        let gpu = |id: u32| {
            moves
                .iter()
                .find(|m| m.actor.raw() == id)
                .map_or(actors[id as usize].gpu, |m| m.to_gpu)
        };
        for k in 0..4 {
            assert_eq!(gpu(2 * k), gpu(2 * k + 1), "pair {k}: {moves:?}");
        }
        assert_eq!(apply(&actors, &moves, 2), vec![400, 400], "{moves:?}");
        assert_eq!(moves.len(), 4);
        assert!(plan(&actors, &traffic, &[], BalanceOptions::default()).is_empty());
    }

    #[test]
    fn capacity_and_move_limits_hold() {
        let actors: Vec<_> = (0..8).map(|i| a(i, 0, 100)).collect();
        let moves = plan(&actors, &[], &[0, 2], BalanceOptions::default());
        assert_eq!(moves.len(), 2);
        let moves = plan(
            &actors,
            &[],
            &[8, 8],
            BalanceOptions {
                max_moves: 1,
                ..Default::default()
            },
        );
        assert_eq!(moves.len(), 1);
    }

    proptest! {
        #[test]
        fn plans_with_traffic_stay_within_room_and_move_each_actor_once(
            raw in prop::collection::vec((0usize..3, 0u64..1000), 1..30),
            edges in prop::collection::vec((0u32..30, 0u32..30, 0u64..10), 0..40),
            free in prop::collection::vec(0usize..6, 3),
        ) {
            let actors: Vec<_> = raw.iter().enumerate().map(|(i, &(g, l))| a(i as u32, g, l)).collect();
            let traffic: Vec<_> = edges.iter().map(|&(f, to, w)| t(f, to, w)).collect();
            let moves = plan(&actors, &traffic, &free, BalanceOptions::default());
            for (g, room) in free.iter().enumerate() {
                prop_assert!(moves.iter().filter(|m| m.to_gpu == g).count() <= *room);
            }
            let mut ids: Vec<_> = moves.iter().map(|m| m.actor).collect();
            ids.sort_by_key(|i| i.raw());
            ids.dedup();
            prop_assert_eq!(ids.len(), moves.len());
            prop_assert!(moves.iter().all(|m| actors[m.actor.raw() as usize].gpu != m.to_gpu));
            prop_assert!(moves.len() <= BalanceOptions::default().max_moves);
        }

        #[test]
        fn plans_never_worsen_balance_or_exceed_room(
            raw in prop::collection::vec((0usize..3, 0u64..1000), 1..40),
            free in prop::collection::vec(0usize..20, 3),
        ) {
            let actors: Vec<_> = raw.iter().enumerate().map(|(i, &(g, l))| a(i as u32, g, l)).collect();
            let moves = plan(&actors, &[], &free, BalanceOptions::default());
            let before = apply(&actors, &[], 3);
            let after = apply(&actors, &moves, 3);
            let spread = |l: &[u64]| l.iter().max().unwrap() - l.iter().min().unwrap();
            prop_assert!(spread(&after) <= spread(&before));
            for (g, room) in free.iter().enumerate() {
                let into = moves.iter().filter(|m| m.to_gpu == g).count();
                prop_assert!(into <= *room);
            }
            let mut ids: Vec<_> = moves.iter().map(|m| m.actor).collect();
            ids.sort_by_key(|i| i.raw());
            ids.dedup();
            prop_assert_eq!(ids.len(), moves.len());
            prop_assert!(moves.iter().all(|m| actors[m.actor.raw() as usize].gpu != m.to_gpu));
        }
    }
}
