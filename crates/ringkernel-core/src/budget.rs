//! Memory budgets and memory-pressure mitigations, as bookkeeping without a device.
//!
//! - **Budgets** ([`MemoryBudgets`]): optional byte limits per actor, per tree (a supervision
//!   tree or any other group, named by [`TreeId`]) and for the whole runtime.
//!   [`BudgetLedger::try_reserve`] checks them in that order (actor, tree, global) and either
//!   books the bytes or fails with a [`BudgetError`] naming the first limit that would be passed,
//!   changing nothing. [`BudgetLedger::release_actor`] frees all of an actor's bytes at once. An
//!   actor belongs to at most one tree, fixed by its first reservation.
//! - **Pressure** ([`BudgetLedger::pressure`]): the larger of the ledger's own use over the
//!   global limit and the device's used fraction `1 - free / total` from the last
//!   [`BudgetLedger::observe_device`] sample (`cuMemGetInfo`), clamped to `[0, 1]`. Without a
//!   global limit or a sample, that part counts as 0.
//! - **Mitigations** ([`MemoryPolicy`], defaults 0.85 / 0.90 / 0.95): at or above each threshold
//!   the runtime [refuses spawns](Mitigation::RefuseSpawns),
//!   [sheds](Mitigation::ShedLowestPriority) the actors of [`BudgetLedger::shed_order`] and
//!   [spills](Mitigation::SpillCheckpoints) actor state to host checkpoints. The ledger re-evaluates the active set at each
//!   [`BudgetLedger::observe_device`] (the sampling tick) and returns a
//!   [`MemoryEvent::PressureChanged`] when it changes, so callers raise one event per change;
//!   [`BudgetLedger::mitigations`] answers at any time from the current numbers.
//!
//! Priorities are `u8` with 0 the most important, as in [`crate::degradation`]. The ledger
//! allocates nothing on the device; backends reserve before they allocate and release after they
//! free.

use std::collections::HashMap;
use std::fmt;

use crate::id::ActorId;

/// Names a supervision tree (or any group of actors sharing a budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TreeId(pub u32);

/// Byte limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryBudgets {
    /// All actors together.
    pub global: Option<u64>,
    /// All actors of one tree together.
    pub per_tree: Option<u64>,
    /// One actor.
    pub per_actor: Option<u64>,
}

/// Which budget a reservation would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// [`MemoryBudgets::per_actor`].
    Actor,
    /// [`MemoryBudgets::per_tree`].
    Tree,
    /// [`MemoryBudgets::global`].
    Global,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Actor => "actor",
            LimitKind::Tree => "tree",
            LimitKind::Global => "global",
        })
    }
}

/// A reservation the ledger refused; nothing was booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// The bytes would pass a limit (an unlimited one only by overflowing `u64`, reported with
    /// `limit: u64::MAX`).
    #[error("{kind} budget exceeded: {requested} bytes requested, {in_use} of {limit} in use")]
    Exceeded {
        /// The limit passed (the most specific one, checked actor, tree, global).
        kind: LimitKind,
        /// Its size in bytes.
        limit: u64,
        /// Bytes booked against it before this request.
        in_use: u64,
        /// Bytes requested.
        requested: u64,
    },
    /// The actor already holds bytes under another tree (or none).
    #[error("{actor} is booked under tree {booked:?}, not {requested:?}")]
    TreeMismatch {
        /// The actor.
        actor: ActorId,
        /// The tree its earlier reservations named.
        booked: Option<TreeId>,
        /// The tree this request named.
        requested: Option<TreeId>,
    },
    /// [`Mitigation::RefuseSpawns`] is active ([`BudgetLedger::try_reserve_spawn`] only).
    #[error("spawn of {requested} bytes refused under memory pressure")]
    SpawnsRefused {
        /// Bytes requested.
        requested: u64,
    },
}

impl BudgetError {
    /// The event a refused spawn raises: [`MemoryEvent::SpawnRefused`], except for a tree
    /// mismatch (a caller bug, not a budget outcome).
    pub fn spawn_event(&self) -> Option<MemoryEvent> {
        match *self {
            BudgetError::Exceeded {
                kind, requested, ..
            } => Some(MemoryEvent::SpawnRefused {
                requested,
                limit: Some(kind),
            }),
            BudgetError::SpawnsRefused { requested } => Some(MemoryEvent::SpawnRefused {
                requested,
                limit: None,
            }),
            BudgetError::TreeMismatch { .. } => None,
        }
    }
}

/// One response to memory pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Mitigation {
    /// New actors are not spawned.
    RefuseSpawns = 1,
    /// Actors are stopped in [`BudgetLedger::shed_order`] until pressure falls.
    ShedLowestPriority = 2,
    /// Actor state is written to host checkpoints and its device memory freed.
    SpillCheckpoints = 4,
}

impl Mitigation {
    /// All mitigations, in the order their default thresholds rise.
    pub const ALL: [Mitigation; 3] = [
        Mitigation::RefuseSpawns,
        Mitigation::ShedLowestPriority,
        Mitigation::SpillCheckpoints,
    ];
}

impl fmt::Display for Mitigation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mitigation::RefuseSpawns => "refuse-spawns",
            Mitigation::ShedLowestPriority => "shed",
            Mitigation::SpillCheckpoints => "spill",
        })
    }
}

/// A set of active [`Mitigation`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Mitigations(u8);

impl Mitigations {
    /// No mitigation.
    pub const NONE: Mitigations = Mitigations(0);

    /// Whether `m` is in the set.
    pub const fn contains(self, m: Mitigation) -> bool {
        self.0 & m as u8 != 0
    }

    /// The set with `m` added.
    #[must_use]
    pub const fn with(self, m: Mitigation) -> Self {
        Mitigations(self.0 | m as u8)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`Mitigation::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Mitigation> {
        Mitigation::ALL
            .into_iter()
            .filter(move |&m| self.contains(m))
    }
}

/// A [`MemoryPolicy`] threshold that is not in `(0, 1]` or falls below an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// A threshold outside `(0, 1]` (or NaN).
    #[error("{mitigation} threshold {value} is not in (0, 1]")]
    OutOfRange {
        /// Whose threshold.
        mitigation: Mitigation,
        /// The value given.
        value: f64,
    },
    /// A threshold below the one of the mitigation before it.
    #[error("{mitigation} threshold {value} is below the previous threshold {previous}")]
    Decreasing {
        /// Whose threshold.
        mitigation: Mitigation,
        /// The value given.
        value: f64,
        /// The previous mitigation's threshold.
        previous: f64,
    },
}

/// Pressure thresholds at which each mitigation turns on; valid by construction: each in
/// `(0, 1]`, non-decreasing in [`Mitigation::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryPolicy {
    refuse_spawns_at: f64,
    shed_at: f64,
    spill_at: f64,
}

impl Default for MemoryPolicy {
    /// Refuse spawns at 0.85, shed at 0.90, spill at 0.95.
    fn default() -> Self {
        MemoryPolicy {
            refuse_spawns_at: 0.85,
            shed_at: 0.90,
            spill_at: 0.95,
        }
    }
}

impl MemoryPolicy {
    /// A policy with these thresholds, checked.
    pub fn new(refuse_spawns_at: f64, shed_at: f64, spill_at: f64) -> Result<Self, PolicyError> {
        let mut previous = 0.0;
        for (mitigation, value) in
            Mitigation::ALL
                .into_iter()
                .zip([refuse_spawns_at, shed_at, spill_at])
        {
            if !(value > 0.0 && value <= 1.0) {
                return Err(PolicyError::OutOfRange { mitigation, value });
            }
            if value < previous {
                return Err(PolicyError::Decreasing {
                    mitigation,
                    value,
                    previous,
                });
            }
            previous = value;
        }
        Ok(MemoryPolicy {
            refuse_spawns_at,
            shed_at,
            spill_at,
        })
    }

    /// The pressure at which `m` turns on.
    pub fn threshold(&self, m: Mitigation) -> f64 {
        match m {
            Mitigation::RefuseSpawns => self.refuse_spawns_at,
            Mitigation::ShedLowestPriority => self.shed_at,
            Mitigation::SpillCheckpoints => self.spill_at,
        }
    }

    /// The mitigations active at `pressure` (each whose threshold it reaches).
    pub fn active_at(&self, pressure: f64) -> Mitigations {
        Mitigation::ALL
            .into_iter()
            .filter(|&m| pressure >= self.threshold(m))
            .fold(Mitigations::NONE, Mitigations::with)
    }
}

/// Something callers report as an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryEvent {
    /// A spawn was refused: by a byte limit (`Some`), or by [`Mitigation::RefuseSpawns`] (`None`).
    SpawnRefused {
        /// Bytes requested.
        requested: u64,
        /// The limit it would have passed.
        limit: Option<LimitKind>,
    },
    /// An actor was stopped to free memory.
    Shed {
        /// The actor.
        actor: ActorId,
    },
    /// An actor's state was spilled to a host checkpoint.
    Spill {
        /// The actor.
        actor: ActorId,
    },
    /// The active mitigations changed.
    PressureChanged {
        /// Active before.
        from: Mitigations,
        /// Active now.
        to: Mitigations,
    },
}

/// The last device memory sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DeviceSample {
    free: u64,
    total: u64,
}

/// One actor's booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Booking {
    tree: Option<TreeId>,
    bytes: u64,
}

/// Reservations against [`MemoryBudgets`], plus the device samples and the active mitigations.
///
/// Invariants: `total` is the sum of all bookings' bytes; `trees[t]` is the sum over the actors
/// booked under `t`, and a tree with no bytes has no entry.
#[derive(Debug, Clone)]
pub struct BudgetLedger {
    budgets: MemoryBudgets,
    policy: MemoryPolicy,
    actors: HashMap<ActorId, Booking>,
    trees: HashMap<TreeId, u64>,
    total: u64,
    device: Option<DeviceSample>,
    /// The set last reported by [`BudgetLedger::observe_device`].
    active: Mitigations,
}

impl BudgetLedger {
    /// An empty ledger.
    pub fn new(budgets: MemoryBudgets, policy: MemoryPolicy) -> Self {
        BudgetLedger {
            budgets,
            policy,
            actors: HashMap::new(),
            trees: HashMap::new(),
            total: 0,
            device: None,
            active: Mitigations::NONE,
        }
    }

    /// The limits.
    pub fn budgets(&self) -> MemoryBudgets {
        self.budgets
    }

    /// The policy [`BudgetLedger::observe_device`] and [`BudgetLedger::try_reserve_spawn`] use.
    pub fn policy(&self) -> MemoryPolicy {
        self.policy
    }

    /// Books `bytes` for `actor` (under `tree`), or fails naming the first limit (actor, tree,
    /// global) it would pass; on failure nothing changes.
    pub fn try_reserve(
        &mut self,
        actor: ActorId,
        tree: Option<TreeId>,
        bytes: u64,
    ) -> Result<(), BudgetError> {
        let booked = self.actors.get(&actor).copied();
        if let Some(b) = booked {
            if b.tree != tree {
                return Err(BudgetError::TreeMismatch {
                    actor,
                    booked: b.tree,
                    requested: tree,
                });
            }
        }
        let actor_use = booked.map_or(0, |b| b.bytes);
        let tree_use = tree.map(|t| self.tree_usage(t));
        let actor_new = check(LimitKind::Actor, self.budgets.per_actor, actor_use, bytes)?;
        let tree_new = match tree_use {
            Some(used) => Some(check(LimitKind::Tree, self.budgets.per_tree, used, bytes)?),
            None => None,
        };
        let total_new = check(LimitKind::Global, self.budgets.global, self.total, bytes)?;
        self.actors.insert(
            actor,
            Booking {
                tree,
                bytes: actor_new,
            },
        );
        if let (Some(t), Some(n)) = (tree, tree_new) {
            if n > 0 {
                self.trees.insert(t, n);
            }
        }
        self.total = total_new;
        Ok(())
    }

    /// [`BudgetLedger::try_reserve`] for a new actor: refused first if the policy's
    /// [`Mitigation::RefuseSpawns`] is active at the current [`BudgetLedger::pressure`].
    pub fn try_reserve_spawn(
        &mut self,
        actor: ActorId,
        tree: Option<TreeId>,
        bytes: u64,
    ) -> Result<(), BudgetError> {
        if self
            .mitigations(&self.policy)
            .contains(Mitigation::RefuseSpawns)
        {
            return Err(BudgetError::SpawnsRefused { requested: bytes });
        }
        self.try_reserve(actor, tree, bytes)
    }

    /// Frees everything booked for `actor`; returns the bytes freed (0 for an unknown actor).
    pub fn release_actor(&mut self, actor: ActorId) -> u64 {
        let Some(b) = self.actors.remove(&actor) else {
            return 0;
        };
        if let Some(t) = b.tree {
            let left = self.tree_usage(t).saturating_sub(b.bytes);
            if left == 0 {
                self.trees.remove(&t);
            } else {
                self.trees.insert(t, left);
            }
        }
        self.total = self.total.saturating_sub(b.bytes);
        b.bytes
    }

    /// Bytes booked for `actor`.
    pub fn actor_usage(&self, actor: ActorId) -> u64 {
        self.actors.get(&actor).map_or(0, |b| b.bytes)
    }

    /// Bytes booked under `tree`.
    pub fn tree_usage(&self, tree: TreeId) -> u64 {
        self.trees.get(&tree).copied().unwrap_or(0)
    }

    /// Bytes booked in all.
    pub fn global_usage(&self) -> u64 {
        self.total
    }

    /// Records a device sample (`free` and `total` bytes, as `cuMemGetInfo` reports them) and
    /// re-evaluates the policy's mitigations; returns [`MemoryEvent::PressureChanged`] if the
    /// active set differs from the one last reported.
    pub fn observe_device(&mut self, free: u64, total: u64) -> Option<MemoryEvent> {
        self.device = Some(DeviceSample { free, total });
        let to = self.mitigations(&self.policy);
        let from = std::mem::replace(&mut self.active, to);
        (from != to).then_some(MemoryEvent::PressureChanged { from, to })
    }

    /// Memory pressure in `[0, 1]`: the larger of own use over the global limit and the device's
    /// used fraction at the last sample.
    pub fn pressure(&self) -> f64 {
        let own = match self.budgets.global {
            Some(0) => 1.0,
            Some(limit) => self.total as f64 / limit as f64,
            None => 0.0,
        };
        let device = match self.device {
            Some(DeviceSample { free, total }) if total > 0 => 1.0 - free as f64 / total as f64,
            _ => 0.0,
        };
        own.max(device).clamp(0.0, 1.0)
    }

    /// The mitigations `policy` asks for at the current pressure.
    pub fn mitigations(&self, policy: &MemoryPolicy) -> Mitigations {
        policy.active_at(self.pressure())
    }

    /// The set last reported by [`BudgetLedger::observe_device`].
    pub fn active(&self) -> Mitigations {
        self.active
    }

    /// Actors holding bytes, in the order to shed them: lowest priority first (the largest
    /// `priorities` value; 0 is the most important), ties by most bytes first, then by id.
    pub fn shed_order(&self, priorities: impl Fn(ActorId) -> u8) -> Vec<ActorId> {
        let mut order: Vec<(u8, u64, ActorId)> = self
            .actors
            .iter()
            .filter(|(_, b)| b.bytes > 0)
            .map(|(&a, b)| (priorities(a), b.bytes, a))
            .collect();
        order.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
        order.into_iter().map(|(_, _, a)| a).collect()
    }
}

/// `in_use + requested` if it stays within `limit` (`None`: only within `u64`).
fn check(
    kind: LimitKind,
    limit: Option<u64>,
    in_use: u64,
    requested: u64,
) -> Result<u64, BudgetError> {
    let cap = limit.unwrap_or(u64::MAX);
    match in_use.checked_add(requested) {
        Some(n) if n <= cap => Ok(n),
        _ => Err(BudgetError::Exceeded {
            kind,
            limit: cap,
            in_use,
            requested,
        }),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::{prop, prop_assert, prop_assert_eq, proptest};

    const A: ActorId = ActorId::from_raw(1);
    const B: ActorId = ActorId::from_raw(2);
    const C: ActorId = ActorId::from_raw(3);
    const T: Option<TreeId> = Some(TreeId(7));

    fn ledger(global: Option<u64>, per_tree: Option<u64>, per_actor: Option<u64>) -> BudgetLedger {
        BudgetLedger::new(
            MemoryBudgets {
                global,
                per_tree,
                per_actor,
            },
            MemoryPolicy::default(),
        )
    }

    #[test]
    fn each_limit_is_named_and_a_refusal_changes_nothing() {
        let mut l = ledger(Some(1000), Some(600), Some(400));
        l.try_reserve(A, T, 300).unwrap();
        assert_eq!(
            l.try_reserve(A, T, 200),
            Err(BudgetError::Exceeded {
                kind: LimitKind::Actor,
                limit: 400,
                in_use: 300,
                requested: 200
            })
        );
        l.try_reserve(B, T, 250).unwrap();
        assert_eq!(
            l.try_reserve(C, T, 100),
            Err(BudgetError::Exceeded {
                kind: LimitKind::Tree,
                limit: 600,
                in_use: 550,
                requested: 100
            })
        );
        l.try_reserve(C, None, 400).unwrap();
        assert_eq!(
            l.try_reserve(ActorId::from_raw(4), Some(TreeId(8)), 100),
            Err(BudgetError::Exceeded {
                kind: LimitKind::Global,
                limit: 1000,
                in_use: 950,
                requested: 100
            })
        );
        assert_eq!(
            (l.actor_usage(A), l.tree_usage(TreeId(7)), l.global_usage()),
            (300, 550, 950)
        );
        assert_eq!(l.actor_usage(ActorId::from_raw(4)), 0);
        assert_eq!(l.tree_usage(TreeId(8)), 0);
    }

    #[test]
    fn release_frees_an_actor_and_its_tree_share() {
        let mut l = ledger(None, Some(100), None);
        l.try_reserve(A, T, 60).unwrap();
        l.try_reserve(A, T, 40).unwrap();
        l.try_reserve(B, None, 5).unwrap();
        assert_eq!(l.release_actor(A), 100);
        assert_eq!(l.release_actor(A), 0);
        assert_eq!(
            (l.actor_usage(A), l.tree_usage(TreeId(7)), l.global_usage()),
            (0, 0, 5)
        );
        // The actor may come back under another tree once released.
        l.try_reserve(A, None, 1).unwrap();
        assert_eq!(
            l.try_reserve(A, T, 1),
            Err(BudgetError::TreeMismatch {
                actor: A,
                booked: None,
                requested: T
            })
        );
    }

    #[test]
    fn unlimited_budgets_still_refuse_overflow() {
        let mut l = ledger(None, None, None);
        l.try_reserve(A, None, u64::MAX).unwrap();
        assert!(matches!(
            l.try_reserve(A, None, 1),
            Err(BudgetError::Exceeded {
                kind: LimitKind::Actor,
                limit: u64::MAX,
                ..
            })
        ));
        assert!(matches!(
            l.try_reserve(B, None, 1),
            Err(BudgetError::Exceeded {
                kind: LimitKind::Global,
                ..
            })
        ));
    }

    #[test]
    fn pressure_is_the_worse_of_own_use_and_the_device() {
        let mut l = ledger(Some(1000), None, None);
        assert_eq!(l.pressure(), 0.0);
        l.try_reserve(A, None, 500).unwrap();
        assert_eq!(l.pressure(), 0.5);
        assert_eq!(l.observe_device(20, 100), None); // 0.8: still below 0.85
        assert!((l.pressure() - 0.8).abs() < 1e-12);
        assert_eq!(
            l.observe_device(8, 100),
            Some(MemoryEvent::PressureChanged {
                from: Mitigations::NONE,
                to: Mitigations::NONE
                    .with(Mitigation::RefuseSpawns)
                    .with(Mitigation::ShedLowestPriority)
            })
        );
        assert_eq!(l.observe_device(8, 100), None);
        // Own accounting alone can push it over too; free > total clamps to 0.
        l.try_reserve(B, None, 460).unwrap();
        assert_eq!(
            l.observe_device(200, 100),
            Some(MemoryEvent::PressureChanged {
                from: l.policy().active_at(0.92),
                to: l.policy().active_at(0.96)
            })
        );
        assert!(l.active().contains(Mitigation::SpillCheckpoints));
        l.release_actor(B);
        l.release_actor(A);
        assert_eq!(l.mitigations(&MemoryPolicy::default()), Mitigations::NONE);
        assert_eq!(ledger(Some(0), None, None).pressure(), 1.0);
        let mut unsampled = ledger(None, None, None);
        assert_eq!(unsampled.observe_device(0, 0), None);
        assert_eq!(unsampled.pressure(), 0.0);
    }

    #[test]
    fn spawns_are_refused_under_pressure_with_an_event() {
        let mut l = ledger(Some(100), None, None);
        l.try_reserve(A, None, 90).unwrap();
        let e = l.try_reserve_spawn(B, None, 1).unwrap_err();
        assert_eq!(e, BudgetError::SpawnsRefused { requested: 1 });
        assert_eq!(
            e.spawn_event(),
            Some(MemoryEvent::SpawnRefused {
                requested: 1,
                limit: None
            })
        );
        let e = l.try_reserve(B, None, 20).unwrap_err();
        assert_eq!(
            e.spawn_event(),
            Some(MemoryEvent::SpawnRefused {
                requested: 20,
                limit: Some(LimitKind::Global)
            })
        );
        l.release_actor(A);
        l.try_reserve_spawn(B, None, 1).unwrap();
        assert_eq!(
            e.to_string(),
            "global budget exceeded: 20 bytes requested, 90 of 100 in use"
        );
    }

    #[test]
    fn shed_order_is_lowest_priority_then_largest() {
        let mut l = ledger(None, None, None);
        l.try_reserve(A, None, 10).unwrap();
        l.try_reserve(B, None, 30).unwrap();
        l.try_reserve(C, None, 20).unwrap();
        l.try_reserve(ActorId::from_raw(4), None, 0).unwrap();
        let prio = |a: ActorId| if a == A { 0 } else { 5 };
        assert_eq!(l.shed_order(prio), vec![B, C, A]);
    }

    #[test]
    fn policies_are_validated() {
        assert_eq!(
            MemoryPolicy::new(0.85, 0.90, 0.95),
            Ok(MemoryPolicy::default())
        );
        assert!(MemoryPolicy::new(1.0, 1.0, 1.0).is_ok());
        assert_eq!(
            MemoryPolicy::new(0.0, 0.9, 0.95),
            Err(PolicyError::OutOfRange {
                mitigation: Mitigation::RefuseSpawns,
                value: 0.0
            })
        );
        assert!(matches!(
            MemoryPolicy::new(0.8, f64::NAN, 0.95),
            Err(PolicyError::OutOfRange {
                mitigation: Mitigation::ShedLowestPriority,
                ..
            })
        ));
        assert_eq!(
            MemoryPolicy::new(0.8, 0.9, 0.85),
            Err(PolicyError::Decreasing {
                mitigation: Mitigation::SpillCheckpoints,
                value: 0.85,
                previous: 0.9
            })
        );
        let p = MemoryPolicy::default();
        assert_eq!(p.active_at(0.5), Mitigations::NONE);
        assert_eq!(
            p.active_at(0.9).iter().collect::<Vec<_>>(),
            vec![Mitigation::RefuseSpawns, Mitigation::ShedLowestPriority]
        );
        assert_eq!(p.active_at(1.0).iter().count(), 3);
    }

    proptest! {
        /// Whatever is reserved and released, no limit is ever passed, a refusal changes
        /// nothing, and the per-tree and global sums match the per-actor bookings.
        #[test]
        fn ledger_stays_consistent_within_limits(
            limits in (1u64..500, 1u64..300, 1u64..200),
            ops in prop::collection::vec((0u32..6, prop::option::of(0u32..2), 0u64..120, prop::bool::weighted(0.2)), 1..80),
        ) {
            let (g, t, a) = limits;
            let mut l = ledger(Some(g), Some(t), Some(a));
            let tree_of = |actor: u32| if actor < 4 { Some(TreeId(actor % 2)) } else { None };
            for (actor, _, bytes, release) in ops {
                let id = ActorId::from_raw(actor);
                if release {
                    l.release_actor(id);
                    continue;
                }
                let before = (l.actor_usage(id), l.tree_usage(TreeId(0)), l.tree_usage(TreeId(1)), l.global_usage());
                match l.try_reserve(id, tree_of(actor), bytes) {
                    Ok(()) => prop_assert_eq!(l.actor_usage(id), before.0 + bytes),
                    Err(_) => prop_assert_eq!(before, (l.actor_usage(id), l.tree_usage(TreeId(0)), l.tree_usage(TreeId(1)), l.global_usage())),
                }
                let actors: Vec<u64> = (0..6).map(|x| l.actor_usage(ActorId::from_raw(x))).collect();
                prop_assert!(actors.iter().all(|&x| x <= a));
                prop_assert_eq!(l.tree_usage(TreeId(0)), actors[0] + actors[2]);
                prop_assert_eq!(l.tree_usage(TreeId(1)), actors[1] + actors[3]);
                prop_assert!(l.tree_usage(TreeId(0)) <= t && l.tree_usage(TreeId(1)) <= t);
                prop_assert_eq!(l.global_usage(), actors.iter().sum::<u64>());
                prop_assert!(l.global_usage() <= g);
                prop_assert!((0.0..=1.0).contains(&l.pressure()));
            }
        }

        /// The active set only grows with pressure, and `observe_device` reports exactly the
        /// changes.
        #[test]
        fn mitigations_are_monotone_in_pressure(
            samples in prop::collection::vec((0u64..=100, 1u64..=100), 1..40),
            x in 0.0f64..=1.0,
            y in 0.0f64..=1.0,
        ) {
            let mut l = ledger(None, None, None);
            let p = MemoryPolicy::default();
            let mut last = Mitigations::NONE;
            for (free, total) in samples {
                let event = l.observe_device(free, total);
                let now = l.mitigations(&p);
                prop_assert_eq!(event.is_some(), now != last);
                last = now;
            }
            let (lo, hi) = (p.active_at(x.min(y)), p.active_at(x.max(y)));
            prop_assert!(lo.iter().all(|m| hi.contains(m)));
        }
    }
}
