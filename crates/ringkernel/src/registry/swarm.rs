//! Names for swarm actors ([`SwarmNames`]): the registry's grammar, wildcard discovery and
//! lifecycle rules over the ids of one [`Swarm`].

use std::any::TypeId;

use ringkernel_core::{ActorId, LifecycleState};
use ringkernel_cuda::swarm::layout::{status, SwarmActor as Header};
use ringkernel_cuda::swarm::Swarm;

use super::{Owner, Registry};
use crate::error::Error;

/// The type every swarm name records (swarm actors have no Rust type of their own).
struct SwarmActor;

/// What [`RegistryEntry::type_name`](super::RegistryEntry::type_name) says for a swarm actor.
pub const SWARM_ACTOR: &str = "swarm actor";

type States<'s> = Box<dyn Fn(ActorId) -> Option<LifecycleState> + Send + Sync + 's>;

/// A named registry for the actors of one swarm: hierarchical names (`sensors/eu/berlin`) that
/// resolve to swarm ids on the host, and wildcard discovery (`sensors/eu/*`, `sensors/**`).
///
/// The rules are the [`Runtime`](crate::Runtime) registry's: one owner per name, any number of
/// names per actor, only live actors can be named, and every lookup reads the owner's status
/// first. A stopped or never-spawned owner's names are purged and reported as
/// [`Error::NameNotFound`]. [`SwarmNames::stop`] stops the actor and drops its names at once;
/// after a stop through [`Swarm::stop_actor`] (which returns once the device has applied it)
/// the next lookup purges them. Reading a status is a small copy from the device; a header that cannot be read hides its
/// names (kept, not resolved) rather than dropping them.
pub struct SwarmNames<'s> {
    swarm: Option<&'s Swarm>,
    states: States<'s>,
    registry: Registry,
}

impl std::fmt::Debug for SwarmNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwarmNames").finish_non_exhaustive()
    }
}

/// A swarm actor's status, as the registry reads it.
fn lifecycle(header: &Header) -> Option<LifecycleState> {
    match header.status_code() {
        status::LIVE => Some(LifecycleState::Active),
        status::STOPPED => Some(LifecycleState::Terminated),
        _ => None,
    }
}

fn owner(id: u32) -> Owner {
    Owner {
        actor: ActorId::from_raw(id),
        type_id: TypeId::of::<SwarmActor>(),
        type_name: SWARM_ACTOR,
    }
}

impl<'s> SwarmNames<'s> {
    /// An empty registry for `swarm`'s actors.
    pub fn new(swarm: &'s Swarm) -> Self {
        let states: States<'s> = Box::new(move |id: ActorId| {
            match swarm.read_headers(id.raw(), 1) {
                Ok(h) => h.first().and_then(lifecycle),
                // Out of range is an unknown actor; any other failure hides, never drops.
                Err(ringkernel_cuda::CudaError::SwarmMessage(_)) => None,
                Err(_) => Some(LifecycleState::Draining),
            }
        });
        SwarmNames {
            swarm: Some(swarm),
            states,
            registry: Registry::default(),
        }
    }

    /// A registry that reads statuses through `states` (unit tests).
    #[cfg(test)]
    fn with_states(states: States<'s>) -> Self {
        SwarmNames {
            swarm: None,
            states,
            registry: Registry::default(),
        }
    }

    /// Names actor `id` as `name` (the actor must be live; a taken name is
    /// [`Error::NameTaken`]).
    pub fn register(&self, name: &str, id: u32) -> Result<(), Error> {
        self.registry.register(name, owner(id), &*self.states)
    }

    /// The live actor named `name`.
    pub fn resolve(&self, name: &str) -> Result<u32, Error> {
        Ok(self.registry.resolve(name, &*self.states)?.actor().raw())
    }

    /// Removes `name`, returning the actor it named.
    pub fn unregister(&self, name: &str) -> Result<u32, Error> {
        Ok(self.registry.unregister(name, &*self.states)?.actor().raw())
    }

    /// The live actors whose names match `pattern`, as (name, id), sorted by name.
    pub fn discover(&self, pattern: &str) -> Result<Vec<(String, u32)>, Error> {
        Ok(self
            .registry
            .discover(pattern, &*self.states)?
            .into_iter()
            .map(|e| (e.name().to_owned(), e.actor().raw()))
            .collect())
    }

    /// The names of actor `id`, sorted (none unless it is live).
    pub fn names_of(&self, id: u32) -> Result<Vec<String>, Error> {
        self.registry.names_of(ActorId::from_raw(id), &*self.states)
    }

    /// Stops actor `id` through its swarm and removes its names before returning.
    pub fn stop(&self, id: u32) -> Result<(), Error> {
        if let Some(s) = self.swarm {
            s.stop_actor(id)?;
        }
        self.registry.forget(ActorId::from_raw(id));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Status words by id, as the device would hold them.
    #[derive(Clone, Default)]
    struct Fake(Arc<Mutex<HashMap<u32, u32>>>);

    impl Fake {
        fn set(&self, id: u32, word: u32) {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, word);
        }
        fn names(&self) -> SwarmNames<'static> {
            let f = self.clone();
            SwarmNames::with_states(Box::new(move |id| {
                let m = f.0.lock().unwrap_or_else(|p| p.into_inner());
                m.get(&id.raw()).and_then(|&w| {
                    lifecycle(&Header {
                        status: w,
                        ..Header::default()
                    })
                })
            }))
        }
    }

    #[test]
    fn names_resolve_to_live_swarm_ids_and_wildcards_discover_them() {
        let f = Fake::default();
        for id in [3, 7, 9] {
            f.set(id, status::LIVE | (2 << status::TYPE_SHIFT));
        }
        let n = f.names();
        n.register("sensors/eu/berlin", 3).expect("register");
        n.register("sensors/eu/paris", 7).expect("register");
        n.register("sensors/us/austin", 9).expect("register");
        n.register("hot/berlin", 3).expect("a second name");
        assert_eq!(n.resolve("sensors/eu/paris").expect("resolve"), 7);
        assert_eq!(
            n.discover("sensors/eu/*").expect("discover"),
            vec![
                ("sensors/eu/berlin".to_owned(), 3),
                ("sensors/eu/paris".to_owned(), 7)
            ]
        );
        assert_eq!(n.discover("sensors/**").expect("discover").len(), 3);
        assert_eq!(
            n.names_of(3).expect("names"),
            vec!["hot/berlin".to_owned(), "sensors/eu/berlin".to_owned()]
        );
        assert_eq!(n.unregister("hot/berlin").expect("unregister"), 3);
        assert!(matches!(
            n.resolve("hot/berlin"),
            Err(Error::NameNotFound(_))
        ));
    }

    #[test]
    fn stopped_and_unknown_actors_leave_and_cannot_be_named() {
        let f = Fake::default();
        f.set(1, status::LIVE);
        f.set(2, status::LIVE);
        let n = f.names();
        n.register("a", 1).expect("register");
        n.register("b", 2).expect("register");
        // Stopped on the device: the next lookup purges it.
        f.set(1, status::STOPPED);
        assert!(matches!(n.resolve("a"), Err(Error::NameNotFound(_))));
        assert!(n.names_of(1).expect("names").is_empty());
        // Stopped through the registry: gone at once.
        n.stop(2).expect("stop");
        assert!(matches!(n.resolve("b"), Err(Error::NameNotFound(_))));
        // Never spawned, or stopped: not nameable.
        assert!(matches!(
            n.register("c", 5),
            Err(Error::ActorNotLive { .. })
        ));
        assert!(matches!(
            n.register("c", 1),
            Err(Error::ActorNotLive { .. })
        ));
        // The stopped owner's name is free for a live actor.
        f.set(4, status::LIVE);
        n.register("a", 4).expect("a reused name");
        assert_eq!(n.resolve("a").expect("resolve"), 4);
    }

    #[test]
    fn bad_names_patterns_and_taken_names_are_typed_errors() {
        let f = Fake::default();
        f.set(1, status::LIVE);
        f.set(2, status::LIVE);
        let n = f.names();
        n.register("x/y", 1).expect("register");
        assert!(matches!(
            n.register("x/y", 2),
            Err(Error::NameTaken {
                owner_type: SWARM_ACTOR,
                ..
            })
        ));
        assert!(matches!(n.register("", 1), Err(Error::InvalidName { .. })));
        assert!(matches!(
            n.register("a//b", 1),
            Err(Error::InvalidName { .. })
        ));
        assert!(matches!(
            n.discover("a/b*"),
            Err(Error::InvalidPattern { .. })
        ));
        assert!(matches!(n.resolve("nobody"), Err(Error::NameNotFound(_))));
    }
}
