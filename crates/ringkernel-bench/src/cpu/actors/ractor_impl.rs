//! ractor 0.16 on a default multi-thread tokio runtime: `cast` to tell, `call` to ask.

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::runtime::Runtime;

use super::{send_from_threads, CounterBench, Expected};
use crate::error::BenchError;
use crate::timing::Run;

const WHO: &str = "ractor";

/// The counter's messages: a tell and an ask of the same add.
pub(crate) enum CounterMsg {
    /// Add, no reply.
    Add(u64),
    /// Add and reply with the new total.
    AddAndGet(u64, RpcReplyPort<u64>),
}

struct Counter;

impl Actor for Counter {
    type Msg = CounterMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _args: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        total: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CounterMsg::Add(n) => *total += n,
            CounterMsg::AddAndGet(n, reply) => {
                *total += n;
                // The caller may have timed out and gone; that is its business, not the actor's.
                let _ = reply.send(*total);
            }
        }
        Ok(())
    }
}

pub(crate) struct RactorBench {
    actor: ActorRef<CounterMsg>,
    rt: Runtime,
    expected: Expected,
}

impl RactorBench {
    pub(crate) fn start() -> Result<Self, BenchError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| BenchError::bench(WHO, e))?;
        let (actor, _join) = rt
            .block_on(Actor::spawn(None, Counter, ()))
            .map_err(|e| BenchError::bench(WHO, e))?;
        Ok(RactorBench {
            actor,
            rt,
            expected: Expected::default(),
        })
    }
}

async fn ask(actor: &ActorRef<CounterMsg>, n: u64) -> Result<u64, BenchError> {
    match actor
        .call(|port| CounterMsg::AddAndGet(n, port), None)
        .await
    {
        Ok(CallResult::Success(total)) => Ok(total),
        Ok(CallResult::Timeout) => Err(BenchError::bench(WHO, "ask timed out")),
        Ok(CallResult::SenderError) => Err(BenchError::bench(WHO, "reply port dropped")),
        Err(e) => Err(BenchError::bench(WHO, e)),
    }
}

impl CounterBench for RactorBench {
    fn describe(&self) -> String {
        format!(
            "tokio multi-thread, {} workers; unbounded mailbox; cast / call",
            self.rt.metrics().num_workers()
        )
    }

    fn ask_latencies(&mut self, warmup: usize, n: usize) -> Result<Vec<f64>, BenchError> {
        let (actor, expected) = (&self.actor, &mut self.expected);
        // The caller is the thread inside `block_on`, as in an async application's main task.
        self.rt.block_on(async move {
            let mut lat = Vec::with_capacity(n);
            for i in 0..warmup + n {
                let t0 = std::time::Instant::now();
                let reply = ask(actor, 1).await?;
                let dt = t0.elapsed().as_nanos() as f64;
                expected.ask_reply(WHO, reply)?;
                if i >= warmup {
                    lat.push(dt);
                }
            }
            Ok(lat)
        })
    }

    fn tell_run(&mut self, senders: usize, per_sender: u64) -> Result<Run, BenchError> {
        let handles = vec![self.actor.clone(); senders];
        let t0 = send_from_threads(handles, per_sender, |a| {
            a.cast(CounterMsg::Add(1))
                .map_err(|e| BenchError::bench(WHO, e))
        })?;
        let total = self.rt.block_on(ask(&self.actor, 0))?;
        let elapsed = t0.elapsed();
        let ops = per_sender * senders as u64;
        self.expected.after_tells(WHO, total, ops)?;
        Ok(Run { ops, elapsed })
    }
}

impl Drop for RactorBench {
    fn drop(&mut self) {
        self.actor.stop(None);
    }
}
