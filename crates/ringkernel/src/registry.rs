//! The named actor registry: hierarchical names that resolve to actor ids on the host, with
//! wildcard discovery (`sensors/eu/*`, `sensors/**`).
//!
//! Reached through [`Runtime`](crate::Runtime): `register_name`, `lookup`, `resolve`,
//! `unregister_name`, `discover`, `names_of`; for the ids of a swarm, through [`SwarmNames`]. Grammar of names: [`ActorName`]; of patterns:
//! [`NamePattern`]; the user guide is `docs/registry.md`.
//!
//! Guarantees:
//! - **Host-side and backend-neutral.** The registry is a table in host memory; the only thing
//!   it asks the backend is an actor's lifecycle state ([`ActorBackend::state_of`]), so it
//!   behaves the same on the CPU and CUDA backends.
//! - **One owner per name, any number of names per actor.** Registering a taken name is
//!   [`Error::NameTaken`] naming the owner; registering a name to its current owner again is a
//!   no-op. Only actors that are live (not `Draining`, `Terminated` or `Failed`) can be named,
//!   and only through an [`ActorRef`](crate::ActorRef) of the same runtime.
//! - **Typed lookups.** An entry remembers its actor's Rust type; `lookup::<A>` of a name owned by
//!   another type is [`Error::NameTypeMismatch`], never a wrongly typed handle.
//! - **Entries follow the actor lifecycle.** [`ActorRef::stop`](crate::ActorRef::stop) removes
//!   the actor's names before it returns. However else an actor ends (it was stopped through
//!   the raw backend, the backend shut down), every lookup and discovery checks the owner's
//!   state first: a `Terminated` owner's names are purged and reported as
//!   [`Error::NameNotFound`]; a `Draining` one's are hidden (it takes no messages) but kept,
//!   since on the CUDA backend a stop that finds the mailbox full reverts to `Active`. A
//!   `Failed` owner's names are hidden and kept for its restart (a supervisor's or
//!   `Runtime::restart`, which keep its id), whoever looked them up meanwhile; another actor
//!   may take any of them, as the failed one cannot answer to it.
//!   A lookup can still race a stop that starts after it returned: the handle's sends then fail
//!   with `SendError::Stopped`, as for any handle.
//!   Registrations also sweep out ended owners each time the table doubles, so names that are
//!   never looked up again do not pile up.
//! - **Shutdown closes it.** After [`Runtime::shutdown`](crate::Runtime::shutdown) (or drop)
//!   every registry call is [`Error::RegistryClosed`].
//! - **Thread-safe, reads in parallel.** One `RwLock` over the table: lookups and discoveries
//!   share it; register, unregister and purges take it exclusively, briefly. Nothing in a
//!   critical section calls user code.
//! - **Discovery by prefix.** Names are kept in a `BTreeMap` in byte order, so `discover` visits
//!   only the names under the pattern's literal prefix (`sensors/eu` for `sensors/eu/*/temp`):
//!   O(log n + k) for k names under it. A pattern starting with a wildcard visits every name.
//!   Results come sorted by name.
//!
//! ```
//! use ringkernel::prelude::*;
//! # #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
//! # #[repr(C)]
//! # struct Reading { celsius: f64 }
//! # impl Message for Reading { const TYPE_ID: MessageTypeId = MessageTypeId(0x200); }
//! # struct Sensor;
//! # impl Actor for Sensor {
//! #     const NAME: &'static str = "sensor";
//! #     type State = Reading;
//! #     type Msg = Reading;
//! #     type Reply = Reading;
//! #     fn handle(s: &mut Reading, m: &Reading, _: &Context) -> Result<Reading, HandlerError> {
//! #         *s = *m;
//! #         Ok(*s)
//! #     }
//! # }
//! let rt = Runtime::builder().backend(Backend::Cpu).register::<Sensor>().build()?;
//! for name in ["sensors/eu/berlin", "sensors/eu/paris", "sensors/us/austin"] {
//!     let s = rt.spawn::<Sensor>(Reading::default())?;
//!     rt.register_name(name, &s)?;
//! }
//! let eu: Vec<_> = rt.discover("sensors/eu/*")?.into_iter().map(|e| e.name().to_owned()).collect();
//! assert_eq!(eu, ["sensors/eu/berlin", "sensors/eu/paris"]);
//!
//! let paris = rt.lookup::<Sensor>("sensors/eu/paris")?;
//! paris.stop()?; // its names leave the registry now
//! assert!(matches!(rt.lookup::<Sensor>("sensors/eu/paris"), Err(Error::NameNotFound(_))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod name;
mod pattern;
mod swarm;

pub use name::{ActorName, NameError, MAX_NAME_LEN, MAX_SEGMENTS, MAX_SEGMENT_LEN};
pub use pattern::NamePattern;
pub use swarm::{SwarmNames, SWARM_ACTOR};

use std::any::TypeId;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ringkernel_core::{Actor, ActorId, LifecycleState};

use crate::error::Error;

#[cfg(doc)]
use ringkernel_core::ActorBackend;

/// One name and the actor it resolves to, as [`Runtime::discover`](crate::Runtime::discover) and
/// [`Runtime::resolve`](crate::Runtime::resolve) report it.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    name: String,
    actor: ActorId,
    type_name: &'static str,
    type_id: TypeId,
}

impl RegistryEntry {
    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The actor it resolves to.
    pub fn actor(&self) -> ActorId {
        self.actor
    }

    /// The actor type's [`Actor::NAME`].
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Whether the actor is of type `A` (so `lookup::<A>` of this name would type-check).
    pub fn is<A: Actor>(&self) -> bool {
        self.type_id == TypeId::of::<A>()
    }
}

impl fmt::Debug for RegistryEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryEntry")
            .field("name", &self.name)
            .field("actor", &self.actor)
            .field("type", &self.type_name)
            .finish()
    }
}

/// Who owns a name: the id, and the Rust type that the lookup checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) actor: ActorId,
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
}

impl Owner {
    /// The owner record of an actor of type `A`.
    pub(crate) fn of<A: Actor>(actor: ActorId) -> Self {
        Owner {
            actor,
            type_id: TypeId::of::<A>(),
            type_name: A::NAME,
        }
    }

    fn entry(self, name: &str) -> RegistryEntry {
        RegistryEntry {
            name: name.to_owned(),
            actor: self.actor,
            type_name: self.type_name,
            type_id: self.type_id,
        }
    }
}

/// What the owner's lifecycle state means for its names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    /// Takes messages (or is about to): its names resolve.
    Live,
    /// `Draining`: takes no messages but may, on CUDA, revert to `Active`; names hidden, kept.
    Hidden,
    /// `Failed`: takes no messages until a restart (a supervisor's or `Runtime::restart`), which
    /// keeps its id and so its names: hidden and kept for it, but free for another actor to take.
    Down,
    /// `Terminated`, or an id the backend does not know: names are stale.
    Gone,
}

fn standing(state: Option<LifecycleState>) -> Standing {
    match state {
        Some(LifecycleState::Dormant | LifecycleState::Initializing | LifecycleState::Active) => {
            Standing::Live
        }
        Some(LifecycleState::Draining) => Standing::Hidden,
        Some(LifecycleState::Failed) => Standing::Down,
        Some(LifecycleState::Terminated) | None => Standing::Gone,
    }
}

/// How the registry reads actor states: the backend's `state_of`, or a fake in unit tests.
pub(crate) type StateOf<'a> = &'a dyn Fn(ActorId) -> Option<LifecycleState>;

/// The table behind the lock.
///
/// Invariant: `names` and `by_actor` describe the same pairs — `names[n].actor == a` exactly
/// when `n` is in `by_actor[a]` — and no `by_actor` list is empty. `closed` implies both are
/// empty.
#[derive(Debug, Default)]
struct Table {
    closed: bool,
    /// Ordered by name bytes, so the names under a prefix form one range.
    names: BTreeMap<String, Owner>,
    /// Each actor's names, so stopping an actor removes them without a scan.
    by_actor: HashMap<ActorId, Vec<String>>,
    /// `register` sweeps out every ended (`Terminated` or unknown) owner once `names` reaches
    /// this many entries, then sets it to twice what is left (at least [`MIN_SWEEP`]). Names of
    /// actors that ended without a stop through their handle and were never looked up again so
    /// cost at most as much memory as the other names, and the sweeps O(1) per registration,
    /// amortized. `Failed` owners are not ended: a restart brings their names back.
    sweep_at: usize,
}

/// Table size below which `register` never sweeps.
const MIN_SWEEP: usize = 64;

impl Table {
    /// Removes the names of every owner that ended, if the table reached `sweep_at`.
    fn maybe_sweep(&mut self, state_of: StateOf) {
        if self.names.len() < self.sweep_at.max(MIN_SWEEP) {
            return;
        }
        let gone: Vec<ActorId> = self
            .by_actor
            .keys()
            .copied()
            .filter(|&a| standing(state_of(a)) == Standing::Gone)
            .collect();
        for actor in gone {
            self.forget(actor);
        }
        self.sweep_at = self.names.len().saturating_mul(2).max(MIN_SWEEP);
    }

    /// Removes every name of `actor`.
    fn forget(&mut self, actor: ActorId) {
        for name in self.by_actor.remove(&actor).unwrap_or_default() {
            self.names.remove(&name);
        }
    }

    /// Removes `name`, returning its owner.
    fn remove(&mut self, name: &str) -> Option<Owner> {
        let owner = self.names.remove(name)?;
        if let Some(list) = self.by_actor.get_mut(&owner.actor) {
            list.retain(|n| n != name);
            if list.is_empty() {
                self.by_actor.remove(&owner.actor);
            }
        }
        Some(owner)
    }

    /// Calls `visit` on every name `pattern` can match, in name order, touching only the names
    /// under its literal prefix.
    fn for_each_candidate(&self, pattern: &NamePattern, mut visit: impl FnMut(&str, Owner)) {
        let prefix = pattern.literal_prefix();
        if prefix.is_empty() {
            self.names.iter().for_each(|(n, o)| visit(n, *o));
            return;
        }
        // The prefix itself sorts before every name below it.
        if let Some((n, o)) = self.names.get_key_value(prefix) {
            visit(n, *o);
        }
        if pattern.is_literal() {
            return;
        }
        // Names strictly below `prefix` are exactly those in [prefix + "/", prefix + "0"): '0'
        // is the byte after '/'.
        let lo = format!("{prefix}/");
        let hi = format!("{prefix}0");
        self.names
            .range::<str, _>((Bound::Included(lo.as_str()), Bound::Excluded(hi.as_str())))
            .for_each(|(n, o)| visit(n, *o));
    }
}

/// The registry of one runtime. Shared by the runtime and its [`ActorRef`](crate::ActorRef)s
/// (which remove their actor's names when stopped).
#[derive(Debug, Default)]
pub(crate) struct Registry {
    table: RwLock<Table>,
}

fn invalid_name(name: &str, reason: NameError) -> Error {
    Error::InvalidName {
        name: name.to_owned(),
        reason,
    }
}

impl Registry {
    // No code panics while holding the lock, so poisoning cannot leave the table inconsistent;
    // recovering the guard keeps one bug elsewhere from disabling the registry.
    fn read(&self) -> RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Names `owner.actor` as `name`.
    ///
    /// The owner's state is read under the write lock. [`forget`](Self::forget) runs after the
    /// actor left `Active` and takes the same lock, so a registration racing a stop is either
    /// removed by it or sees the new state and fails: no name outlives a stop.
    pub(crate) fn register(
        &self,
        name: &str,
        owner: Owner,
        state_of: StateOf,
    ) -> Result<(), Error> {
        name::validate(name).map_err(|r| invalid_name(name, r))?;
        let mut t = self.write();
        if t.closed {
            return Err(Error::RegistryClosed);
        }
        let state = state_of(owner.actor);
        if standing(state) != Standing::Live {
            return Err(Error::ActorNotLive {
                actor: owner.actor,
                state: state.unwrap_or(LifecycleState::Terminated),
            });
        }
        if let Some(current) = t.names.get(name).copied() {
            if current.actor == owner.actor {
                return Ok(());
            }
            match standing(state_of(current.actor)) {
                // The previous owner ended without a stop through its ActorRef: its names are
                // stale, and this one is free.
                Standing::Gone => t.forget(current.actor),
                // A failed owner gives this name up; its other names wait for its restart.
                Standing::Down => {
                    t.remove(name);
                }
                Standing::Live | Standing::Hidden => {
                    return Err(Error::NameTaken {
                        name: name.to_owned(),
                        owner: current.actor,
                        owner_type: current.type_name,
                    });
                }
            }
        }
        t.maybe_sweep(state_of);
        t.names.insert(name.to_owned(), owner);
        t.by_actor
            .entry(owner.actor)
            .or_default()
            .push(name.to_owned());
        Ok(())
    }

    /// Removes `name`, returning what it resolved to. A name whose owner already ended is purged
    /// and reported as not found.
    pub(crate) fn unregister(&self, name: &str, state_of: StateOf) -> Result<RegistryEntry, Error> {
        name::validate(name).map_err(|r| invalid_name(name, r))?;
        let mut t = self.write();
        if t.closed {
            return Err(Error::RegistryClosed);
        }
        let owner = t
            .remove(name)
            .ok_or_else(|| Error::NameNotFound(name.to_owned()))?;
        if standing(state_of(owner.actor)) == Standing::Gone {
            t.forget(owner.actor);
            return Err(Error::NameNotFound(name.to_owned()));
        }
        Ok(owner.entry(name))
    }

    /// What `name` resolves to, if its owner is live.
    pub(crate) fn resolve(&self, name: &str, state_of: StateOf) -> Result<RegistryEntry, Error> {
        name::validate(name).map_err(|r| invalid_name(name, r))?;
        let owner = {
            let t = self.read();
            if t.closed {
                return Err(Error::RegistryClosed);
            }
            t.names.get(name).copied()
        };
        let not_found = || Error::NameNotFound(name.to_owned());
        let owner = owner.ok_or_else(not_found)?;
        match standing(state_of(owner.actor)) {
            Standing::Live => Ok(owner.entry(name)),
            Standing::Hidden | Standing::Down => Err(not_found()),
            Standing::Gone => {
                self.forget(owner.actor);
                Err(not_found())
            }
        }
    }

    /// The live entries whose names match `pattern`, sorted by name.
    pub(crate) fn discover(
        &self,
        pattern: &str,
        state_of: StateOf,
    ) -> Result<Vec<RegistryEntry>, Error> {
        let pat = NamePattern::parse(pattern).map_err(|reason| Error::InvalidPattern {
            pattern: pattern.to_owned(),
            reason,
        })?;
        let mut found = Vec::new();
        let mut gone = Vec::new();
        {
            let t = self.read();
            if t.closed {
                return Err(Error::RegistryClosed);
            }
            t.for_each_candidate(&pat, |name, owner| {
                if !pat.matches_valid(name) {
                    return;
                }
                match standing(state_of(owner.actor)) {
                    Standing::Live => found.push(owner.entry(name)),
                    Standing::Hidden | Standing::Down => {}
                    Standing::Gone => gone.push(owner.actor),
                }
            });
        }
        if !gone.is_empty() {
            let mut t = self.write();
            for actor in gone {
                t.forget(actor);
            }
        }
        Ok(found)
    }

    /// The names of `actor`, sorted; empty unless it is live.
    pub(crate) fn names_of(&self, actor: ActorId, state_of: StateOf) -> Result<Vec<String>, Error> {
        let mut names = {
            let t = self.read();
            if t.closed {
                return Err(Error::RegistryClosed);
            }
            t.by_actor.get(&actor).cloned().unwrap_or_default()
        };
        match standing(state_of(actor)) {
            Standing::Live => {}
            Standing::Hidden | Standing::Down => names.clear(),
            Standing::Gone => {
                self.forget(actor);
                names.clear();
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    /// Removes every name of `actor` (it was stopped, or found ended).
    pub(crate) fn forget(&self, actor: ActorId) {
        self.write().forget(actor);
    }

    /// Closes the registry for good and drops its entries (the runtime is shutting down).
    pub(crate) fn close(&self) {
        let mut t = self.write();
        t.closed = true;
        t.names.clear();
        t.by_actor.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    struct A1;
    struct A2;
    macro_rules! unit_actor {
        ($t:ty, $name:literal) => {
            impl Actor for $t {
                const NAME: &'static str = $name;
                type State = ();
                type Msg = ();
                type Reply = ();
                fn handle(
                    _: &mut (),
                    _: &(),
                    _: &ringkernel_core::Context,
                ) -> Result<(), ringkernel_core::HandlerError> {
                    Ok(())
                }
            }
        };
    }
    unit_actor!(A1, "a1");
    unit_actor!(A2, "a2");

    /// A fake backend's lifecycle table.
    #[derive(Default)]
    struct States(Mutex<HashMap<ActorId, LifecycleState>>);
    impl States {
        fn set(&self, id: u32, s: LifecycleState) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(ActorId::from_raw(id), s);
        }
        fn get(&self, id: ActorId) -> Option<LifecycleState> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&id)
                .copied()
        }
    }

    fn owner(id: u32) -> Owner {
        Owner::of::<A1>(ActorId::from_raw(id))
    }

    fn names(found: Result<Vec<RegistryEntry>, Error>) -> Vec<String> {
        match found {
            Ok(v) => v.into_iter().map(|e| e.name).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    /// The table invariant: both maps describe the same pairs, no list is empty.
    fn check_invariant(r: &Registry) {
        let t = r.read();
        let pairs: usize = t.by_actor.values().map(Vec::len).sum();
        assert_eq!(pairs, t.names.len());
        for (actor, list) in &t.by_actor {
            assert!(!list.is_empty());
            for n in list {
                assert_eq!(t.names.get(n).map(|o| o.actor), Some(*actor));
            }
        }
    }

    fn setup(names: &[(&str, u32)]) -> (Registry, States) {
        let (r, st) = (Registry::default(), States::default());
        for &(name, id) in names {
            st.set(id, LifecycleState::Active);
            if let Err(e) = r.register(name, owner(id), &|a| st.get(a)) {
                panic!("{name}: {e}");
            }
        }
        (r, st)
    }

    #[test]
    fn prefix_range_holds_exactly_the_names_below_the_prefix() {
        let all = [
            ("a/b", 1),
            ("a/b/c", 2),
            ("a/b/c/d", 3),
            ("a/b-c", 4),
            ("a/b.c/d", 5),
            ("a/bc", 6),
            ("a/b0", 7),
            ("a", 8),
            ("b/b", 9),
        ];
        let (r, st) = setup(&all);
        let s = |a| st.get(a);
        assert_eq!(names(r.discover("a/b/**", &s)), ["a/b", "a/b/c", "a/b/c/d"]);
        assert_eq!(names(r.discover("a/b/*", &s)), ["a/b/c"]);
        assert_eq!(names(r.discover("a/b", &s)), ["a/b"]);
        assert_eq!(names(r.discover("*/b", &s)), ["a/b", "b/b"]);
        assert_eq!(r.discover("**", &s).map(|v| v.len()).ok(), Some(all.len()));

        let pat = NamePattern::parse("a/b/*").unwrap_or_else(|e| panic!("{e}"));
        let mut visited = Vec::new();
        r.read()
            .for_each_candidate(&pat, |n, _| visited.push(n.to_owned()));
        assert_eq!(
            visited,
            ["a/b", "a/b/c", "a/b/c/d"],
            "only the prefix's range"
        );
    }

    #[test]
    fn ended_owners_are_purged_and_draining_and_failed_ones_hidden() {
        let (r, st) = setup(&[("x/1", 1), ("x/2", 2), ("y/2", 2), ("x/3", 3)]);
        let s = |a| st.get(a);
        st.set(1, LifecycleState::Failed);
        st.set(2, LifecycleState::Draining);
        assert_eq!(names(r.discover("x/*", &s)), ["x/3"]);
        assert!(matches!(r.resolve("y/2", &s), Err(Error::NameNotFound(_))));
        assert!(matches!(r.resolve("x/1", &s), Err(Error::NameNotFound(_))));
        assert_eq!(r.names_of(ActorId::from_raw(1), &s).ok(), Some(vec![]));
        // Both were kept: draining actor 2 comes back with Active (a CUDA stop that found the
        // mailbox full), failed actor 1 with a restart (same id), lookups meanwhile or not.
        assert_eq!(r.read().names.len(), 4);
        check_invariant(&r);
        st.set(1, LifecycleState::Active);
        st.set(2, LifecycleState::Active);
        assert_eq!(names(r.discover("**", &s)), ["x/1", "x/2", "x/3", "y/2"]);
        st.set(2, LifecycleState::Terminated);
        assert!(matches!(r.resolve("x/2", &s), Err(Error::NameNotFound(_))));
        // The resolve purged every name of actor 2, not just the one looked up.
        assert_eq!(r.read().names.keys().collect::<Vec<_>>(), ["x/1", "x/3"]);
        check_invariant(&r);
    }

    #[test]
    fn another_actor_may_take_a_failed_owners_name() {
        let (r, st) = setup(&[("svc", 1), ("svc/admin", 1)]);
        let s = |a| st.get(a);
        st.set(1, LifecycleState::Failed);
        st.set(2, LifecycleState::Active);
        // The failed owner cannot answer to its name: a successor takes it...
        assert!(r.register("svc", owner(2), &s).is_ok());
        assert_eq!(
            r.resolve("svc", &s).map(|e| e.actor).ok(),
            Some(ActorId::from_raw(2))
        );
        check_invariant(&r);
        // ...and the failed actor, restarted, keeps only the name nobody took.
        st.set(1, LifecycleState::Active);
        assert_eq!(
            r.names_of(ActorId::from_raw(1), &s).ok(),
            Some(vec!["svc/admin".to_owned()])
        );
        // A failed actor cannot be given a name, and its names can be removed.
        st.set(1, LifecycleState::Failed);
        assert!(matches!(
            r.register("svc/other", owner(1), &s),
            Err(Error::ActorNotLive {
                state: LifecycleState::Failed,
                ..
            })
        ));
        assert_eq!(
            r.unregister("svc/admin", &s).map(|e| e.actor).ok(),
            Some(ActorId::from_raw(1))
        );
        check_invariant(&r);
    }

    #[test]
    fn taken_names_and_the_names_of_ended_owners() {
        let (r, st) = setup(&[("svc", 1)]);
        let s = |a| st.get(a);
        st.set(2, LifecycleState::Active);
        match r.register("svc", Owner::of::<A2>(ActorId::from_raw(2)), &s) {
            Err(Error::NameTaken {
                owner, owner_type, ..
            }) => {
                assert_eq!(owner, ActorId::from_raw(1));
                assert_eq!(owner_type, "a1");
            }
            other => panic!("{other:?}"),
        }
        // Same owner again: a no-op, not a duplicate.
        assert!(r.register("svc", owner(1), &s).is_ok());
        check_invariant(&r);
        // A draining owner still holds its name; an ended one frees it.
        st.set(1, LifecycleState::Draining);
        assert!(matches!(
            r.register("svc", owner(2), &s),
            Err(Error::NameTaken { .. })
        ));
        st.set(1, LifecycleState::Terminated);
        assert!(r.register("svc", owner(2), &s).is_ok());
        assert_eq!(
            r.resolve("svc", &s).map(|e| e.actor).ok(),
            Some(ActorId::from_raw(2))
        );
        assert!(matches!(
            r.register("other", owner(1), &s),
            Err(Error::ActorNotLive {
                state: LifecycleState::Terminated,
                ..
            })
        ));
        assert!(matches!(
            r.register("ghost", owner(99), &s),
            Err(Error::ActorNotLive { .. })
        ));
        check_invariant(&r);
    }

    #[test]
    fn unregister_forget_and_close() {
        let (r, st) = setup(&[("a", 1), ("b", 1), ("c", 2)]);
        let s = |a| st.get(a);
        let removed = r.unregister("a", &s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (removed.name(), removed.actor()),
            ("a", ActorId::from_raw(1))
        );
        assert!(matches!(r.unregister("a", &s), Err(Error::NameNotFound(_))));
        assert_eq!(
            r.names_of(ActorId::from_raw(1), &s).ok(),
            Some(vec!["b".to_owned()])
        );
        check_invariant(&r);
        r.forget(ActorId::from_raw(1));
        assert_eq!(names(r.discover("**", &s)), ["c"]);
        check_invariant(&r);
        r.close();
        assert!(matches!(r.resolve("c", &s), Err(Error::RegistryClosed)));
        assert!(matches!(r.discover("**", &s), Err(Error::RegistryClosed)));
        assert!(matches!(
            r.register("d", owner(2), &s),
            Err(Error::RegistryClosed)
        ));
        assert!(matches!(r.unregister("c", &s), Err(Error::RegistryClosed)));
        assert!(r.read().names.is_empty());
    }

    #[test]
    fn registration_sweeps_out_owners_that_ended_unobserved() {
        let r = Registry::default();
        let st = States::default();
        let s = |a| st.get(a);
        // 1000 actors, each named once and stopped through the raw backend before anyone
        // looks it up.
        for id in 1..=1000 {
            st.set(id, LifecycleState::Active);
            assert!(r.register(&format!("dead/{id}"), owner(id), &s).is_ok());
            st.set(id, LifecycleState::Terminated);
        }
        // The table stayed within twice the live names (none) plus the sweep floor.
        let left = r.read().names.len();
        assert!(left <= 2 * MIN_SWEEP, "{left} stale names kept");
        check_invariant(&r);
        // Live names survive sweeps, and so do a failed actor's (it may be restarted).
        st.set(4000, LifecycleState::Active);
        assert!(r.register("down/1", owner(4000), &s).is_ok());
        st.set(4000, LifecycleState::Failed);
        st.set(5000, LifecycleState::Active);
        for j in 0..500 {
            assert!(r.register(&format!("live/{j}"), owner(5000), &s).is_ok());
        }
        assert_eq!(
            r.names_of(ActorId::from_raw(5000), &s)
                .map(|v| v.len())
                .ok(),
            Some(500)
        );
        st.set(4000, LifecycleState::Active);
        assert_eq!(
            r.resolve("down/1", &s).map(|e| e.actor).ok(),
            Some(ActorId::from_raw(4000))
        );
        check_invariant(&r);
    }
}
