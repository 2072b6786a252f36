//! [`Monitor`]: the state behind the runtime's resilience, its sampling step and its gates.
//!
//! Who touches what:
//!
//! 1. `level`, `shed_class` and the admission bucket's level are written only by
//!    [`Monitor::tick`] (the sampling thread); sends read `level` with a relaxed load. A send
//!    may act on a level one sample old: the level is an estimate from samples anyway.
//! 2. `state` (ledger, controller, tracked actors, health) is locked by `tick`, by spawns and
//!    restarts, and by the runtime's readers. No backend call that can block is made under it
//!    except `state_of` (an atomic read on every backend); spawns call the backend unlocked,
//!    holding a provisional booking.
//! 3. `priorities` is written by spawns, read by sends from `Shedding` up.
//! 4. Locks are taken in the order `state`, `admission`, `events`; a poisoned lock is used as
//!    is (every update below leaves its data consistent before it can panic).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use ringkernel_core::budget::{BudgetError, MemoryEvent, Mitigation, Mitigations};
use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::health::{Hung, Observed, Watchdog};
use ringkernel_core::{
    ActorBackend, ActorId, Admission, BudgetLedger, DegradationController, EventQueue, FaultRate,
    HealthReport, Level, LifecycleState, Liveness, MemoryPolicy, Readiness, SendError, Signals,
    SpawnOptions, TreeId,
};

use super::{ResilienceConfig, ResilienceEvent, EVENT_LOG_CAPACITY, FAULT_WINDOW};
use crate::error::Error;

/// Failures recorded per sample at most; a larger jump counts as this many (the level is
/// `Critical` long before).
mod spill;

use spill::NOT_SPILLING;

const MAX_FAULTS_PER_TICK: u64 = 10_000;

/// Provisional ids (bookings held while the backend spawns) count down from here. Real ids count
/// up from 0 and never reach this range (backends hold far fewer actors).
const PROVISIONAL_TOP: u32 = u32::MAX - 1;
/// Provisional ids cycle through this many values.
const PROVISIONAL_SPAN: u32 = 1 << 20;

/// The liveness assumed for a backend without heartbeats: live.
const ASSUMED_LIVE: Liveness = Liveness {
    live_blocks: 1,
    blocks: 1,
    exited_blocks: 0,
};

/// One actor spawned through the runtime.
#[derive(Debug, Clone, Copy)]
struct Tracked {
    priority: u8,
    tree: Option<TreeId>,
    bytes: u64,
    /// Whether its bytes are booked in the ledger (false once it terminated, until a restart).
    booked: bool,
}

/// What `tick`, spawns and the readers share.
#[derive(Debug)]
struct State {
    ledger: BudgetLedger,
    policy: MemoryPolicy,
    controller: DegradationController,
    faults: FaultRate,
    /// The failure counter at the last sample.
    failures_seen: u64,
    /// The mitigations last reported.
    active: Mitigations,
    device: Option<(u64, u64)>,
    actors: HashMap<ActorId, Tracked>,
    next_provisional: u32,
    /// The actor stopped for memory and not yet terminated.
    shedding: Option<ActorId>,
    hung: Vec<Hung>,
    health: HealthReport,
}

impl State {
    fn provisional_id(&mut self) -> ActorId {
        self.next_provisional = (self.next_provisional + 1) % PROVISIONAL_SPAN;
        ActorId::from_raw(PROVISIONAL_TOP - self.next_provisional)
    }

    fn priority(&self, id: ActorId) -> u8 {
        self.actors.get(&id).map_or(0, |t| t.priority)
    }
}

/// The runtime's resilience state; see the module docs for who touches what.
pub(crate) struct Monitor {
    backend: Arc<dyn ActorBackend>,
    events_queue: Option<Arc<EventQueue>>,
    /// `Level as u8`.
    level: AtomicU8,
    /// The largest priority among actors holding memory: the class shed first.
    shed_class: AtomicU8,
    shed_count: AtomicU64,
    admission: Mutex<Admission>,
    priorities: RwLock<HashMap<ActorId, u8>>,
    state: Mutex<State>,
    events: Mutex<VecDeque<ResilienceEvent>>,
    /// Bytes one actor of each registered type books.
    type_bytes: Vec<u64>,
    watchdog: Watchdog,
    readiness: Readiness,
    shed_actors: bool,
    spill_actors: bool,
    /// The actor being spilled (`u32::MAX`: none): host sends to it are refused meanwhile.
    spilling: AtomicU32,
    /// Spilled actors' snapshots, until unspilled.
    spilled: Mutex<HashMap<ActorId, ActorSnapshot>>,
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("level", &self.level())
            .field("shed_count", &self.shed_count())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn level_of(raw: u8) -> Level {
    Level::ALL
        .get(usize::from(raw))
        .copied()
        .unwrap_or(Level::Critical)
}

impl Monitor {
    pub(crate) fn new(
        config: ResilienceConfig,
        backend: Arc<dyn ActorBackend>,
        type_bytes: Vec<u64>,
    ) -> Result<Self, Error> {
        let admission = Admission::new(config.admission_rate, config.admission_burst)?;
        let faults = FaultRate::new(FAULT_WINDOW)?;
        let events_queue = backend.events();
        let failures_seen = events_queue.as_ref().map_or(0, |q| q.failures());
        let readiness = config.readiness;
        let state = State {
            ledger: BudgetLedger::new(config.budgets, config.policy),
            policy: config.policy,
            controller: DegradationController::new(config.thresholds, config.hold),
            faults,
            failures_seen,
            active: Mitigations::NONE,
            device: None,
            actors: HashMap::new(),
            next_provisional: 0,
            shedding: None,
            hung: Vec::new(),
            health: readiness.report(&Observed {
                liveness: ASSUMED_LIVE,
                max_queue_fill: 0.0,
                memory_pressure: 0.0,
                mitigations: Mitigations::NONE,
                level: Level::Normal,
            }),
        };
        Ok(Monitor {
            backend,
            events_queue,
            level: AtomicU8::new(Level::Normal as u8),
            shed_class: AtomicU8::new(0),
            shed_count: AtomicU64::new(0),
            admission: Mutex::new(admission),
            priorities: RwLock::new(HashMap::new()),
            state: Mutex::new(state),
            events: Mutex::new(VecDeque::new()),
            type_bytes,
            watchdog: config.watchdog,
            readiness,
            shed_actors: config.shed_actors,
            spill_actors: config.spill_actors,
            spilling: AtomicU32::new(NOT_SPILLING),
            spilled: Mutex::new(HashMap::new()),
        })
    }

    /// The current level.
    pub(crate) fn level(&self) -> Level {
        level_of(self.level.load(Ordering::Relaxed))
    }

    pub(crate) fn shed_count(&self) -> u64 {
        self.shed_count.load(Ordering::Relaxed)
    }

    pub(crate) fn health(&self) -> HealthReport {
        lock(&self.state).health.clone()
    }

    pub(crate) fn hung(&self) -> Vec<Hung> {
        lock(&self.state).hung.clone()
    }

    pub(crate) fn memory_usage(&self) -> (u64, Option<(u64, u64)>) {
        let st = lock(&self.state);
        (st.ledger.global_usage(), st.device)
    }

    pub(crate) fn drain_events(&self) -> Vec<ResilienceEvent> {
        lock(&self.events).drain(..).collect()
    }

    pub(crate) fn raise(&self, event: ResilienceEvent) {
        tracing::debug!(?event, "resilience event");
        let mut log = lock(&self.events);
        if log.len() == EVENT_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(event);
    }

    /// Spawns through the backend after booking the actor's bytes; refused (without calling the
    /// backend) at `Critical`, under [`Mitigation::RefuseSpawns`] or past a budget.
    pub(crate) fn spawn(
        &self,
        type_index: usize,
        state: &[u8],
        options: &SpawnOptions,
        tree: Option<TreeId>,
    ) -> Result<ActorId, Error> {
        let bytes = self.new_actor_bytes(type_index)?;
        let provisional = {
            let mut st = lock(&self.state);
            let p = st.provisional_id();
            if let Err(e) = st.ledger.try_reserve_spawn(p, tree, bytes) {
                drop(st);
                return Err(self.refused(e));
            }
            p
        };
        let spawned = self.backend.spawn_with(type_index, state, options);
        let mut st = lock(&self.state);
        st.ledger.release_actor(provisional);
        let id = spawned?;
        // The provisional bytes were just freed under the same lock, so this fits.
        let booked = match st.ledger.try_reserve(id, tree, bytes) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, %id, "spawned actor could not be booked");
                false
            }
        };
        drop(st);
        self.track(id, tree, bytes, booked, options.priority);
        Ok(id)
    }

    /// Restores `snapshot` (an actor of type `type_index`) through the backend, checked and
    /// booked as a spawn is: a checkpoint brings back no more than the level and the budgets
    /// let a spawn. A restored actor gets the default priority (snapshots carry none).
    pub(crate) fn restore(&self, type_index: usize, snapshot: &ActorSnapshot) -> Result<(), Error> {
        let bytes = self.new_actor_bytes(type_index)?;
        let id = snapshot.id;
        let reserved = lock(&self.state).ledger.try_reserve_spawn(id, None, bytes);
        reserved.map_err(|e| self.refused(e))?;
        if let Err(e) = self.backend.restore(type_index, snapshot) {
            lock(&self.state).ledger.release_actor(id);
            return Err(e.into());
        }
        self.track(id, None, bytes, true, SpawnOptions::default().priority);
        Ok(())
    }

    /// A new actor's bytes (type `type_index`), or the refusal at `Critical`. An unknown index
    /// books nothing: the backend refuses it.
    fn new_actor_bytes(&self, type_index: usize) -> Result<u64, Error> {
        let level = self.level();
        if level >= Level::Critical {
            return Err(Error::Overloaded(level));
        }
        Ok(self.type_bytes.get(type_index).copied().unwrap_or(0))
    }

    /// A budget's refusal of a new actor, raised as an event when it is one.
    fn refused(&self, e: BudgetError) -> Error {
        if let Some(event) = e.spawn_event() {
            self.raise(ResilienceEvent::Memory(event));
        }
        Error::Budget(e)
    }

    /// Starts tracking a new actor for shedding and budgets.
    fn track(&self, id: ActorId, tree: Option<TreeId>, bytes: u64, booked: bool, priority: u8) {
        lock(&self.state).actors.insert(
            id,
            Tracked {
                priority,
                tree,
                bytes,
                booked,
            },
        );
        self.priorities
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, priority);
        self.shed_class.fetch_max(priority, Ordering::Relaxed);
    }

    /// Books an actor again after a successful restart, if its booking was released when it
    /// terminated. Never refuses (a restart is a control operation): a booking past a budget is
    /// logged and skipped.
    pub(crate) fn restarted(&self, id: ActorId) {
        let mut st = lock(&self.state);
        let Some(t) = st.actors.get(&id).copied() else {
            return;
        };
        if t.booked {
            return;
        }
        match st.ledger.try_reserve(id, t.tree, t.bytes) {
            Ok(()) => {
                if let Some(t) = st.actors.get_mut(&id) {
                    t.booked = true;
                }
                self.shed_class.fetch_max(t.priority, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, %id, "restarted actor could not be booked"),
        }
    }

    /// Whether `n` messages to `to` may go now; returns how many may (at least 1 when `n > 0`),
    /// or `SendError::Full`. Below `Throttled`: one relaxed load.
    #[inline]
    pub(crate) fn admit(&self, to: ActorId, n: usize) -> Result<usize, SendError> {
        if self.spilling.load(Ordering::Relaxed) == to.raw() {
            return Err(SendError::Full(to));
        }
        if self.level.load(Ordering::Relaxed) < Level::Throttled as u8 {
            return Ok(n);
        }
        self.admit_slow(to, n)
    }

    fn admit_slow(&self, to: ActorId, n: usize) -> Result<usize, SendError> {
        if n == 0 {
            return Ok(0);
        }
        let level = self.level();
        if level >= Level::Shedding {
            let priority = self
                .priorities
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&to)
                .copied()
                .unwrap_or(0);
            let class = self.shed_class.load(Ordering::Relaxed);
            if priority != 0 && (level == Level::Critical || priority >= class) {
                self.shed_count.fetch_add(n as u64, Ordering::Relaxed);
                return Err(SendError::Full(to));
            }
        }
        let now = Instant::now();
        let mut admission = lock(&self.admission);
        let mut admitted = 0;
        while admitted < n && admission.try_admit(now) {
            admitted += 1;
        }
        if admitted == 0 {
            Err(SendError::Full(to))
        } else {
            Ok(admitted)
        }
    }

    /// One sample: see the parent module's docs for the steps.
    pub(crate) fn tick(&self, now: Instant) {
        let signals = self.backend.signals();
        let failures = self.events_queue.as_ref().map_or(0, |q| q.failures());
        let mut raised = Vec::new();
        let (to_shed, to_spill);
        {
            let mut st = lock(&self.state);
            self.release_terminated(&mut st);

            if let Some((free, total)) = signals.device_memory {
                // The ledger's own change report is replaced by the one below, which also sees
                // pressure from own accounting between device samples.
                let _ = st.ledger.observe_device(free, total);
                st.device = Some((free, total));
            }
            let active = st.ledger.mitigations(&st.policy);
            if active != st.active {
                raised.push(ResilienceEvent::Memory(MemoryEvent::PressureChanged {
                    from: st.active,
                    to: active,
                }));
                st.active = active;
            }

            let new_failures = failures.saturating_sub(st.failures_seen);
            st.failures_seen = st.failures_seen.max(failures);
            for _ in 0..new_failures.min(MAX_FAULTS_PER_TICK) {
                st.faults.record(now);
            }
            let pressure = st.ledger.pressure();
            let observed = Signals {
                queue_fill: signals.max_queue_fill,
                memory_pressure: pressure,
                fault_rate: st.faults.per_second(now),
            };
            if let Some(t) = st.controller.observe(&observed, now) {
                raised.push(ResilienceEvent::LevelChanged(t));
            }
            let level = st.controller.level();
            lock(&self.admission).set_level(level);
            self.level.store(level as u8, Ordering::Relaxed);

            // Spilling is shedding that keeps the state: it takes the shed order's actor first.
            to_spill = if self.spill_actors && active.contains(Mitigation::SpillCheckpoints) {
                self.pick_shed(&mut st)
            } else {
                None
            };
            to_shed = if to_spill.is_none()
                && self.shed_actors
                && active.contains(Mitigation::ShedLowestPriority)
            {
                self.pick_shed(&mut st)
            } else {
                None
            };
            if let Some(actor) = to_shed {
                raised.push(ResilienceEvent::Memory(MemoryEvent::Shed { actor }));
            }

            let hung = self.watchdog.check(&signals.hung);
            for h in &hung {
                if !st.hung.iter().any(|old| old.actor == h.actor) {
                    raised.push(ResilienceEvent::Hung {
                        actor: h.actor,
                        running_for: h.running_for,
                    });
                }
            }
            let mut liveness = signals.liveness.unwrap_or(ASSUMED_LIVE);
            if !hung.is_empty() {
                let hung_count = u32::try_from(hung.len()).unwrap_or(u32::MAX);
                liveness.live_blocks = liveness
                    .live_blocks
                    .min(liveness.blocks.saturating_sub(hung_count));
            }
            st.hung = hung;
            st.health = self.readiness.report(&Observed {
                liveness,
                max_queue_fill: signals.max_queue_fill,
                memory_pressure: pressure,
                mitigations: active,
                level,
            });
        }
        for event in raised {
            self.raise(event);
        }
        if let Some(actor) = to_shed {
            if let Err(e) = self.backend.stop(actor) {
                tracing::warn!(error = %e, %actor, "could not stop an actor shed for memory");
            }
        }
        if let Some(actor) = to_spill {
            self.spill(actor);
        }
    }

    /// Releases the bookings of actors that terminated (or that the backend no longer knows) and
    /// recomputes the class shed first.
    fn release_terminated(&self, st: &mut State) {
        let ended: Vec<ActorId> = st
            .actors
            .iter()
            .filter(|(_, t)| t.booked)
            .map(|(&id, _)| id)
            .filter(|&id| {
                matches!(
                    self.backend.state_of(id),
                    None | Some(LifecycleState::Terminated)
                )
            })
            .collect();
        for id in ended {
            st.ledger.release_actor(id);
            if let Some(t) = st.actors.get_mut(&id) {
                t.booked = false;
            }
            if st.shedding == Some(id) {
                st.shedding = None;
            }
        }
        let class = st
            .actors
            .values()
            .filter(|t| t.booked)
            .map(|t| t.priority)
            .max()
            .unwrap_or(0);
        self.shed_class.store(class, Ordering::Relaxed);
    }

    /// The next actor to stop for memory: none while an earlier one has not terminated, else
    /// the first running actor of the shed order.
    fn pick_shed(&self, st: &mut State) -> Option<ActorId> {
        if st.shedding.is_some() {
            return None;
        }
        let order = st.ledger.shed_order(|a| st.priority(a));
        let next = order.into_iter().find(|a| {
            st.actors.get(a).is_some_and(|t| t.booked)
                && self.backend.state_of(*a) == Some(LifecycleState::Active)
        });
        st.shedding = next;
        next
    }
}
