//! [`Runtime::reload`] and [`Runtime::version_of`]: the runtime's face of hot reload; the
//! mechanics and the full contract are in [`crate::recovery::reload`].

use std::any::TypeId;

use ringkernel_core::{Actor, ActorVTable};

use super::Runtime;
use crate::error::Error;
use crate::recovery::{ReloadOptions, ReloadReport};
use crate::resilience::ResilienceEvent;

impl Runtime {
    /// Replaces the handler of registered actor type `A` by `B`'s, as handler version
    /// `version`, in the running system (see [`crate::recovery::reload`]). `B` has `A`'s state,
    /// message and reply types, so the layouts match by construction; existing `ActorRef<A>`s,
    /// ids and registry names reach `B`'s handler afterwards, and the type keeps `A::NAME`.
    ///
    /// Fails, with nothing changed, with [`Error::UnknownActorType`] (`A` not registered),
    /// [`Error::ReloadUnavailable`] (built without recovery), [`Error::StaleVersion`]
    /// (`version` not newer than [`version_of`](Self::version_of)) or [`Error::ReloadRejected`]
    /// (`B` does not compile for the backend, or the runtime cannot swap now). When `B` fails
    /// during the probe, the old handler is put back and every message since the swap replayed
    /// on it: [`Error::ReloadRolledBack`] with the report. [`Error::Recovery`] if not even the
    /// old handler could be rebuilt (the runtime is then lost).
    ///
    /// Every reload, committed or rolled back, is also raised as
    /// [`ResilienceEvent::Reloaded`].
    pub fn reload<A, B>(&self, version: u64, options: ReloadOptions) -> Result<ReloadReport, Error>
    where
        A: Actor,
        B: Actor<State = A::State, Msg = A::Msg, Reply = A::Reply>,
    {
        let type_index = self.registered::<A>()?;
        let recovery = self.recovery.as_ref().ok_or(Error::ReloadUnavailable)?;
        // Same State/Msg/Reply types as A, whose registration checked them: this cannot fail.
        let handler = ActorVTable::of::<B>().map_err(|source| Error::Register {
            name: B::NAME,
            source,
        })?;
        let result = recovery
            .recoverer()
            .reload(type_index, handler, version, &options);
        let monitor = self.resilience.monitor();
        match &result {
            Ok(report) => monitor.raise(ResilienceEvent::Reloaded(report.clone())),
            Err(Error::ReloadRolledBack { report, .. }) => {
                monitor.raise(ResilienceEvent::Reloaded((**report).clone()));
            }
            Err(e @ Error::Recovery(_)) => {
                monitor.raise(ResilienceEvent::RecoveryFailed(e.to_string()));
            }
            Err(_) => {}
        }
        result
    }

    /// The handler version of registered actor type `A`: 1 when the runtime was built, then
    /// the version of each committed [`reload`](Self::reload) (always 1 on a runtime built
    /// without recovery, which cannot reload). [`Error::UnknownActorType`] if `A` is not
    /// registered.
    pub fn version_of<A: Actor>(&self) -> Result<u64, Error> {
        let type_index = self.registered::<A>()?;
        Ok(self
            .recovery
            .as_ref()
            .and_then(|r| r.recoverer().version(type_index))
            .unwrap_or(1))
    }

    fn registered<A: Actor>(&self) -> Result<usize, Error> {
        self.index
            .get(&TypeId::of::<A>())
            .copied()
            .ok_or_else(|| Error::UnknownActorType(A::NAME.into()))
    }
}
