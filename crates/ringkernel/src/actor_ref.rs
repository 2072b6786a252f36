//! [`ActorRef`]: a typed, cloneable handle to one actor.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use ringkernel_core::{
    Actor, ActorBackend, ActorId, AskError, CoreError, Envelope, LifecycleState, PendingReply,
    SendError,
};

use crate::registry::Registry;
use crate::resilience::Monitor;

/// A handle to an actor of type `A`. Cheap to clone; `Send + Sync` whatever `A` is.
pub struct ActorRef<A: Actor> {
    backend: Arc<dyn ActorBackend>,
    id: ActorId,
    ask_timeout: Duration,
    /// The runtime's name registry: `stop` removes the actor's names from it.
    registry: Arc<Registry>,
    /// The runtime's admission gate: every send passes [`Monitor::admit`].
    gate: Arc<Monitor>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        ActorRef {
            backend: self.backend.clone(),
            id: self.id,
            ask_timeout: self.ask_timeout,
            registry: self.registry.clone(),
            gate: self.gate.clone(),
            _actor: PhantomData,
        }
    }
}

impl<A: Actor> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorRef")
            .field("type", &A::NAME)
            .field("id", &self.id)
            .finish()
    }
}

impl<A: Actor> ActorRef<A> {
    pub(crate) fn new(
        backend: Arc<dyn ActorBackend>,
        id: ActorId,
        ask_timeout: Duration,
        registry: Arc<Registry>,
        gate: Arc<Monitor>,
    ) -> Self {
        ActorRef {
            backend,
            id,
            ask_timeout,
            registry,
            gate,
            _actor: PhantomData,
        }
    }

    /// The registry of the runtime that issued this handle.
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The actor's id.
    pub fn id(&self) -> ActorId {
        self.id
    }

    fn envelope(&self, msg: &A::Msg) -> Result<Envelope, SendError> {
        Envelope::new(ActorId::HOST, self.id, msg).map_err(|e| match e {
            CoreError::PayloadTooLarge { len, max } => SendError::TooLarge { len, max },
            // Registration checked the layout, so only a too-large payload can fail here.
            _ => SendError::WrongMessageType {
                actor: self.id,
                type_id: <A::Msg as ringkernel_core::Message>::TYPE_ID.0,
            },
        })
    }

    fn decode(&self, env: Envelope) -> Result<A::Reply, AskError> {
        env.read::<A::Reply>()
            .map_err(|_| AskError::BadReply(self.id))
    }

    /// Sends `msg` without waiting; returns once the backend accepted it (not once processed).
    ///
    /// Under load (degradation level `Throttled` and above) a send the runtime does not admit,
    /// or sheds for the actor's priority, fails with `SendError::Full` as a full mailbox does:
    /// back off and retry. See [`crate::resilience`].
    pub fn tell(&self, msg: A::Msg) -> Result<(), SendError> {
        let env = self.envelope(&msg)?;
        self.gate.admit(self.id, 1)?;
        self.backend.tell(env)
    }

    /// Sends `msgs` in order, as batches where the backend supports it (on the GPU: one ring
    /// claim and one wake-up check per batch instead of per message). Returns how many were
    /// accepted: all of them, or fewer when the mailbox filled up — retry the rest then. Fails
    /// only when none was accepted. Per-sender FIFO holds within and across batches.
    ///
    /// Under load the runtime may admit only a prefix (fewer accepted), or none (`Full`), as
    /// for [`tell`](Self::tell).
    pub fn tell_batch(&self, msgs: &[A::Msg]) -> Result<usize, SendError> {
        const CHUNK: usize = 64;
        let admitted = self.gate.admit(self.id, msgs.len())?;
        let msgs = msgs.get(..admitted).unwrap_or(msgs);
        let mut sent = 0;
        let mut envs = Vec::with_capacity(CHUNK.min(msgs.len()));
        for chunk in msgs.chunks(CHUNK) {
            envs.clear();
            for m in chunk {
                envs.push(self.envelope(m)?);
            }
            match self.backend.tell_batch(&envs) {
                Ok(n) => {
                    sent += n;
                    if n < chunk.len() {
                        return Ok(sent);
                    }
                }
                Err(e) if sent == 0 => return Err(e),
                Err(_) => return Ok(sent),
            }
        }
        Ok(sent)
    }

    /// Sends `msg` as a request and returns the handle that yields the raw reply.
    fn request(&self, msg: A::Msg) -> Result<PendingReply, SendError> {
        let env = self.envelope(&msg)?;
        self.gate.admit(self.id, 1)?;
        self.backend.ask(env)
    }

    /// Asks with the runtime's default timeout (see
    /// [`RuntimeBuilder::ask_timeout`](crate::RuntimeBuilder::ask_timeout)). Under load the
    /// request may be refused with `SendError::Full`, as for [`tell`](Self::tell).
    pub async fn ask(&self, msg: A::Msg) -> Result<A::Reply, AskError> {
        self.ask_timeout(msg, self.ask_timeout).await
    }

    /// Asks and waits at most `timeout` for the reply. On timeout the request may still be
    /// processed later; its reply is then discarded.
    ///
    /// Inside a Tokio runtime the deadline is a Tokio timer (the runtime needs its time driver
    /// enabled, as `#[tokio::main]` does). Under another executor the deadline is checked each
    /// time the future is polled.
    pub async fn ask_timeout(&self, msg: A::Msg, timeout: Duration) -> Result<A::Reply, AskError> {
        let pending = self.request(msg)?;
        let raw = if tokio::runtime::Handle::try_current().is_ok() {
            match tokio::time::timeout(timeout, pending).await {
                Ok(r) => r,
                Err(_) => Err(AskError::Timeout(timeout)),
            }
        } else {
            match pending
                .with_deadline(ringkernel_core::deadline_after(timeout))
                .await
            {
                Err(AskError::Timeout(_)) => Err(AskError::Timeout(timeout)),
                r => r,
            }
        };
        self.decode(raw?)
    }

    /// Asks and blocks the calling thread at most `timeout` for the reply (spins briefly, then
    /// parks). Do not call from an async task.
    pub fn ask_blocking(&self, msg: A::Msg, timeout: Duration) -> Result<A::Reply, AskError> {
        let env = self.request(msg)?.wait(timeout)?;
        self.decode(env)
    }

    /// Stops the actor: it processes what is already queued, then terminates. Sends after this
    /// fail with `SendError::Stopped`. Stopping a draining actor again is a no-op.
    ///
    /// The actor's registry names are removed before this returns (also when it had already
    /// terminated or failed); a stop refused with `Full` leaves them.
    pub fn stop(&self) -> Result<(), SendError> {
        let result = self.backend.stop(self.id);
        match result {
            Ok(()) => self.registry.forget(self.id),
            // Ended earlier (or the backend closed): forget only once the state is final, since
            // on CUDA a concurrent stop's transient Draining also reads as Stopped here.
            Err(SendError::Stopped(_) | SendError::ShutDown) if self.state().is_stopped() => {
                self.registry.forget(self.id)
            }
            Err(_) => {}
        }
        result
    }

    /// The actor's lifecycle state.
    pub fn state(&self) -> LifecycleState {
        // The runtime issued this id, so the backend knows it; Terminated is the honest reading if
        // a backend ever forgot it.
        self.backend
            .state_of(self.id)
            .unwrap_or(LifecycleState::Terminated)
    }
}
