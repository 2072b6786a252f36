//! Our CPU backend through the public facade: `Runtime::builder().backend(Backend::Cpu)`.

use std::time::Duration;

use ringkernel::{ActorRef, Backend, Runtime};
use ringkernel_core::actor::{Actor, Context, HandlerError};
use ringkernel_core::{Message, MessageTypeId, SendError};

use super::{send_from_threads, time_asks, CounterBench, Expected};
use crate::cpu::backoff::Backoff;
use crate::error::BenchError;
use crate::timing::Run;

const WHO: &str = "ringkernel (cpu)";
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// The message: add `n` to the counter.
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Add {
    /// Amount to add.
    pub n: u64,
}

impl Message for Add {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x00B0_0001);
}

/// The state and the reply: the running total.
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Total {
    /// The total so far.
    pub n: u64,
}

impl Message for Total {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x00B0_0002);
}

/// The counter actor.
#[derive(Debug)]
pub struct Counter;

impl Actor for Counter {
    const NAME: &'static str = "bench.counter";
    type State = Total;
    type Msg = Add;
    type Reply = Total;

    fn handle(state: &mut Total, msg: &Add, _ctx: &Context) -> Result<Total, HandlerError> {
        state.n += msg.n;
        Ok(*state)
    }
}

/// A runtime with one counter actor.
pub(crate) struct Ours {
    // Field order matters: the actor ref is dropped before the runtime it points into.
    actor: ActorRef<Counter>,
    rt: Runtime,
    expected: Expected,
}

impl Ours {
    pub(crate) fn start() -> Result<Self, BenchError> {
        let rt = Runtime::builder()
            .backend(Backend::Cpu)
            .register::<Counter>()
            .build()
            .map_err(|e| BenchError::bench(WHO, e))?;
        let actor = rt
            .spawn::<Counter>(Total { n: 0 })
            .map_err(|e| BenchError::bench(WHO, e))?;
        Ok(Ours {
            actor,
            rt,
            expected: Expected::default(),
        })
    }

    fn ask(actor: &ActorRef<Counter>, n: u64) -> Result<u64, BenchError> {
        actor
            .ask_blocking(Add { n }, ASK_TIMEOUT)
            .map(|t| t.n)
            .map_err(|e| BenchError::bench(WHO, e))
    }
}

impl CounterBench for Ours {
    fn describe(&self) -> String {
        format!("facade, default config: {}", self.rt.description())
    }

    fn ask_latencies(&mut self, warmup: usize, n: usize) -> Result<Vec<f64>, BenchError> {
        let actor = &self.actor;
        time_asks(WHO, warmup, n, &mut self.expected, || Self::ask(actor, 1))
    }

    fn tell_run(&mut self, senders: usize, per_sender: u64) -> Result<Run, BenchError> {
        let handles = vec![self.actor.clone(); senders];
        let t0 = send_from_threads(handles, per_sender, |a| {
            let mut backoff = Backoff::new();
            loop {
                match a.tell(Add { n: 1 }) {
                    Ok(()) => return Ok(()),
                    // A full mailbox is backpressure, not failure: wait and retry, as a user would.
                    Err(SendError::Full(_)) => backoff.snooze(WHO)?,
                    Err(e) => return Err(BenchError::bench(WHO, e)),
                }
            }
        })?;
        let total = Self::ask(&self.actor, 0)?;
        let elapsed = t0.elapsed();
        let ops = per_sender * senders as u64;
        self.expected.after_tells(WHO, total, ops)?;
        Ok(Run { ops, elapsed })
    }
}
