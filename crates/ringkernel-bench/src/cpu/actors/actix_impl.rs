//! actix 0.13: a `System`, the actor on its own `Arbiter` (thread); `do_send` from sender threads,
//! `send(..).await` inside the system to ask.

use actix::{Actor, Addr, Arbiter, Context, Handler, System, SystemRunner};

use super::{send_from_threads, CounterBench, Expected};
use crate::error::BenchError;
use crate::timing::Run;

const WHO: &str = "actix";

struct Counter {
    total: u64,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

/// Add `.0` to the counter; the reply is the new total.
#[derive(actix::Message)]
#[rtype(result = "u64")]
struct Add(u64);

impl Handler<Add> for Counter {
    type Result = u64;

    fn handle(&mut self, msg: Add, _ctx: &mut Context<Self>) -> u64 {
        self.total += msg.0;
        self.total
    }
}

pub(crate) struct ActixBench {
    addr: Addr<Counter>,
    arbiter: Option<Arbiter>,
    sys: SystemRunner,
    expected: Expected,
}

impl ActixBench {
    pub(crate) fn start() -> Result<Self, BenchError> {
        let sys = System::new();
        let (arbiter, addr) = sys.block_on(async {
            let arbiter = Arbiter::new();
            let addr = Counter::start_in_arbiter(&arbiter.handle(), |_| Counter { total: 0 });
            (arbiter, addr)
        });
        Ok(ActixBench {
            addr,
            arbiter: Some(arbiter),
            sys,
            expected: Expected::default(),
        })
    }
}

async fn ask(addr: &Addr<Counter>, n: u64) -> Result<u64, BenchError> {
    addr.send(Add(n))
        .await
        .map_err(|e| BenchError::bench(WHO, e))
}

impl CounterBench for ActixBench {
    fn describe(&self) -> String {
        "System + actor on its own Arbiter thread; do_send / send".into()
    }

    fn ask_latencies(&mut self, warmup: usize, n: usize) -> Result<Vec<f64>, BenchError> {
        let (addr, expected) = (&self.addr, &mut self.expected);
        self.sys.block_on(async move {
            let mut lat = Vec::with_capacity(n);
            for i in 0..warmup + n {
                let t0 = std::time::Instant::now();
                let reply = ask(addr, 1).await?;
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
        let handles = vec![self.addr.clone(); senders];
        let t0 = send_from_threads(handles, per_sender, |a| {
            a.do_send(Add(1));
            Ok(())
        })?;
        let total = self.sys.block_on(ask(&self.addr, 0))?;
        let elapsed = t0.elapsed();
        let ops = per_sender * senders as u64;
        self.expected.after_tells(WHO, total, ops)?;
        Ok(Run { ops, elapsed })
    }
}

impl Drop for ActixBench {
    fn drop(&mut self) {
        if let Some(arbiter) = self.arbiter.take() {
            arbiter.stop();
            let _ = arbiter.join();
        }
    }
}
