//! [`RuntimeBuilder`]: choose a backend, register actor types, set limits, build.

use std::any::TypeId;
use std::collections::HashMap;
use std::time::Duration;

use ringkernel_core::{Actor, ActorVTable};
use ringkernel_cpu::CpuConfig;

use crate::error::Error;
use crate::runtime::Runtime;
use crate::select::{self, Backend};

/// Default deadline of [`ActorRef::ask`](crate::ActorRef::ask).
pub const DEFAULT_ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a [`Runtime`]. Registration errors are kept and reported by [`build`](Self::build), so
/// the calls chain.
///
/// ```
/// use ringkernel::prelude::*;
///
/// let rt = Runtime::builder().backend(Backend::Cpu).workers(1).build().unwrap();
/// assert_eq!(rt.backend_kind(), BackendKind::Cpu);
/// ```
#[derive(Debug)]
pub struct RuntimeBuilder {
    backend: Backend,
    types: Vec<ActorVTable>,
    index: HashMap<TypeId, usize>,
    error: Option<Error>,
    cpu: CpuConfig,
    ask_timeout: Duration,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            backend: Backend::Auto,
            types: Vec::new(),
            index: HashMap::new(),
            error: None,
            cpu: CpuConfig::default(),
            ask_timeout: DEFAULT_ASK_TIMEOUT,
        }
    }
}

impl RuntimeBuilder {
    /// Picks the backend (default [`Backend::Auto`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Registers actor type `A`. Its message and reply layouts are checked now; a failure, or a
    /// second registration of `A` (or of another type with the same `NAME`), makes `build` fail.
    pub fn register<A: Actor>(mut self) -> Self {
        if self.error.is_some() {
            return self;
        }
        if self.index.contains_key(&TypeId::of::<A>())
            || self.types.iter().any(|t| t.name == A::NAME)
        {
            self.error = Some(Error::DuplicateActorType(A::NAME));
            return self;
        }
        match ActorVTable::of::<A>() {
            Ok(vt) => {
                self.index.insert(TypeId::of::<A>(), self.types.len());
                self.types.push(vt);
            }
            Err(source) => {
                self.error = Some(Error::Register {
                    name: A::NAME,
                    source,
                })
            }
        }
        self
    }

    /// CPU backend: worker threads (default: available parallelism).
    pub fn workers(mut self, n: usize) -> Self {
        self.cpu.workers = n;
        self
    }

    /// CPU backend: envelopes per actor mailbox, a power of two (default 1024).
    pub fn mailbox_capacity(mut self, n: usize) -> Self {
        self.cpu.mailbox_capacity = n;
        self
    }

    /// Asks waiting for replies at once (default 65,536).
    pub fn max_pending_asks(mut self, n: usize) -> Self {
        self.cpu.max_pending_asks = n;
        self
    }

    /// Actors the runtime can ever spawn; ids are never reused (default 65,536).
    pub fn max_actors(mut self, n: usize) -> Self {
        self.cpu.max_actors = n;
        self
    }

    /// Deadline used by [`ActorRef::ask`](crate::ActorRef::ask) (default 5 s).
    pub fn ask_timeout(mut self, timeout: Duration) -> Self {
        self.ask_timeout = timeout;
        self
    }

    /// Builds the backend and starts it.
    pub fn build(self) -> Result<Runtime, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let chosen = select::build(self.backend, &self.types, self.cpu)?;
        Ok(Runtime::new(
            chosen.backend,
            self.index,
            self.ask_timeout,
            chosen.fallback_reason,
            chosen.multi,
        ))
    }
}
