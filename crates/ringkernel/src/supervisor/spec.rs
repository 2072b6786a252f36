//! What a supervision tree is made of, before it runs: [`SupervisorSpec`] and its children.

use std::any::TypeId;
use std::time::Duration;

use ringkernel_core::supervision::{Intensity, Strategy};
use ringkernel_core::{Actor, SpawnOptions};

/// A supervisor: a strategy, a restart intensity, and children in start order (actors and
/// nested supervisors), each with a name unique among its siblings.
///
/// ```
/// use std::time::Duration;
/// use ringkernel::supervision::{Intensity, Strategy};
/// use ringkernel::SupervisorSpec;
/// # use ringkernel::prelude::*;
/// # #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable, Message)]
/// # #[message(id = 0x300)]
/// # #[repr(C)]
/// # struct N { v: u64 }
/// # struct Worker;
/// # impl Actor for Worker {
/// #     const NAME: &'static str = "worker";
/// #     type State = N; type Msg = N; type Reply = N;
/// #     fn handle(s: &mut N, m: &N, _: &Context) -> Result<N, HandlerError> { Ok(*s) }
/// # }
///
/// let spec = SupervisorSpec::new(Strategy::RestForOne)
///     .intensity(Intensity { max_restarts: 3, period: Duration::from_secs(10) })
///     .actor::<Worker>("ingest", N::default())
///     .supervisor(
///         "scorers",
///         SupervisorSpec::new(Strategy::OneForAll)
///             .actor::<Worker>("a", N::default())
///             .actor::<Worker>("b", N::default()),
///     );
/// assert_eq!(spec.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct SupervisorSpec {
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) children: Vec<(String, ChildSpec)>,
}

/// One child of a supervisor.
#[derive(Debug, Clone)]
pub(crate) enum ChildSpec {
    /// An actor of a registered type, restarted with `state` (its initial state).
    Actor {
        type_id: TypeId,
        type_name: &'static str,
        state: Vec<u8>,
        options: SpawnOptions,
    },
    /// A nested supervisor.
    Supervisor(SupervisorSpec),
}

impl SupervisorSpec {
    /// A supervisor with `strategy`, OTP's default intensity (1 restart in 5 s) and no children.
    pub fn new(strategy: Strategy) -> Self {
        SupervisorSpec {
            strategy,
            intensity: Intensity::default(),
            children: Vec::new(),
        }
    }

    /// Sets the restart intensity: more than `max_restarts` restarts within `period` escalate.
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// Shorthand for [`Self::intensity`].
    pub fn max_restarts(self, max_restarts: u32, period: Duration) -> Self {
        self.intensity(Intensity {
            max_restarts,
            period,
        })
    }

    /// Adds an actor child named `name`, started (and restarted) with `state`.
    pub fn actor<A: Actor>(self, name: &str, state: A::State) -> Self {
        self.actor_with::<A>(name, state, SpawnOptions::default())
    }

    /// Adds an actor child with spawn options. With a restart policy the backend first restarts
    /// it in place by itself (on the GPU inside the kernel); only a failure beyond that policy
    /// reaches this supervisor.
    pub fn actor_with<A: Actor>(
        mut self,
        name: &str,
        state: A::State,
        options: SpawnOptions,
    ) -> Self {
        self.children.push((
            name.to_owned(),
            ChildSpec::Actor {
                type_id: TypeId::of::<A>(),
                type_name: A::NAME,
                state: bytemuck::bytes_of(&state).to_vec(),
                options,
            },
        ));
        self
    }

    /// Adds a nested supervisor child named `name`.
    pub fn supervisor(mut self, name: &str, spec: SupervisorSpec) -> Self {
        self.children
            .push((name.to_owned(), ChildSpec::Supervisor(spec)));
        self
    }

    /// Children so far.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether it has no children.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }
}
