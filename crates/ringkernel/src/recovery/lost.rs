//! [`Lost`]: what a recovering runtime runs on while no generation is usable (during a
//! recovery, which callers wait out, or for good after one failed): it refuses everything with
//! `DeviceLost`.

use std::time::Duration;

use ringkernel_core::{
    ActorBackend, ActorId, BackendKind, Envelope, LifecycleState, PendingReply, SendError,
    ShutdownError, ShutdownReport, SpawnError,
};

#[derive(Debug)]
pub(crate) struct Lost {
    kind: BackendKind,
}

impl Lost {
    pub(crate) fn new(kind: BackendKind) -> Self {
        Lost { kind }
    }
}

impl ActorBackend for Lost {
    fn kind(&self) -> BackendKind {
        self.kind
    }

    fn description(&self) -> String {
        "no usable device (lost to a fault)".into()
    }

    fn spawn(&self, _type_index: usize, _state: &[u8]) -> Result<ActorId, SpawnError> {
        Err(SpawnError::DeviceLost)
    }

    fn tell(&self, _env: Envelope) -> Result<(), SendError> {
        Err(SendError::DeviceLost)
    }

    fn ask(&self, _env: Envelope) -> Result<PendingReply, SendError> {
        Err(SendError::DeviceLost)
    }

    fn stop(&self, _id: ActorId) -> Result<(), SendError> {
        Err(SendError::DeviceLost)
    }

    fn state_of(&self, _id: ActorId) -> Option<LifecycleState> {
        None
    }

    fn shutdown(&self, _deadline: Duration) -> Result<ShutdownReport, ShutdownError> {
        Ok(ShutdownReport::default())
    }

    fn fault(&self) -> Option<String> {
        Some("no usable device".into())
    }
}
