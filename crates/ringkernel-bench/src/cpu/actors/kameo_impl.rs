//! kameo 0.22 on a default multi-thread tokio runtime, default `spawn` (bounded mailbox of 64):
//! `tell(..).blocking_send()` from sender threads, `ask(..).await` to ask.

use kameo::actor::{ActorRef, Spawn};
use kameo::message::{Context, Message};
use tokio::runtime::Runtime;

use super::{send_from_threads, CounterBench, Expected};
use crate::error::BenchError;
use crate::timing::Run;

const WHO: &str = "kameo";

#[derive(kameo::Actor)]
struct Counter {
    total: u64,
}

/// Add `.0` to the counter; the reply is the new total.
#[derive(Debug)]
struct Add(u64);

impl Message<Add> for Counter {
    type Reply = u64;

    async fn handle(&mut self, msg: Add, _ctx: &mut Context<Self, Self::Reply>) -> u64 {
        self.total += msg.0;
        self.total
    }
}

pub(crate) struct KameoBench {
    actor: ActorRef<Counter>,
    rt: Runtime,
    expected: Expected,
}

impl KameoBench {
    pub(crate) fn start() -> Result<Self, BenchError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| BenchError::bench(WHO, e))?;
        // `spawn` needs a tokio context; the actor task then runs on the runtime's workers.
        let actor = rt.block_on(async { Counter::spawn(Counter { total: 0 }) });
        Ok(KameoBench {
            actor,
            rt,
            expected: Expected::default(),
        })
    }
}

async fn ask(actor: &ActorRef<Counter>, n: u64) -> Result<u64, BenchError> {
    actor
        .ask(Add(n))
        .await
        .map_err(|e| BenchError::bench(WHO, format!("{e:?}")))
}

impl CounterBench for KameoBench {
    fn describe(&self) -> String {
        format!(
            "tokio multi-thread, {} workers; default bounded mailbox (64); blocking_send / ask",
            self.rt.metrics().num_workers()
        )
    }

    fn ask_latencies(&mut self, warmup: usize, n: usize) -> Result<Vec<f64>, BenchError> {
        let (actor, expected) = (&self.actor, &mut self.expected);
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
            a.tell(Add(1))
                .blocking_send()
                .map_err(|e| BenchError::bench(WHO, format!("{e:?}")))
        })?;
        let total = self.rt.block_on(ask(&self.actor, 0))?;
        let elapsed = t0.elapsed();
        let ops = per_sender * senders as u64;
        self.expected.after_tells(WHO, total, ops)?;
        Ok(Run { ops, elapsed })
    }
}

impl Drop for KameoBench {
    fn drop(&mut self) {
        // Stop the actor before the runtime under it goes away.
        let actor = self.actor.clone();
        let _ = self
            .rt
            .block_on(async move { actor.stop_gracefully().await });
    }
}
