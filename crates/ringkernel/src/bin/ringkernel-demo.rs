//! RingKernel demo: bank accounts as actors.
//!
//! Spawns `--actors` account actors (state: balance + deposit count; message: deposit; reply: the
//! new state), measures ask latency with sequential asks, measures throughput with tells from
//! several threads, then asks every account for its balance and checks it against the host's own
//! bookkeeping. Exits non-zero on any mismatch. The same actor carries a CUDA handler, so with a
//! usable GPU `--backend auto` runs it on the persistent kernel.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use ringkernel::prelude::*;
use ringkernel::ShutdownReport;

/// The account actor, written once: `#[gpu_actor]` compiles `handle` natively for the CPU
/// backend and transpiles the same code to the CUDA handler the GPU backend runs.
#[gpu_actor]
mod bank {
    use ringkernel::prelude::*;

    /// Handler error code for a balance that would overflow.
    pub const OVERFLOW: u32 = 1;

    /// Account state.
    #[derive(
        Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable, Message,
    )]
    #[message(id = 0x0001_0002)]
    #[repr(C)]
    pub struct Balance {
        pub cents: i64,
        pub count: u64,
    }

    /// A deposit (negative for a withdrawal).
    #[derive(
        Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable, Message,
    )]
    #[message(id = 0x0001_0001)]
    #[repr(C)]
    pub struct Deposit {
        pub account: u32,
        pub _pad: u32,
        pub cents: i64,
    }

    /// An account: deposits must not overflow the balance (error [`OVERFLOW`], state
    /// untouched); the deposit count wraps.
    pub struct Account;
    impl Actor for Account {
        const NAME: &'static str = "account";
        type State = Balance;
        type Msg = Deposit;
        type Reply = Balance;

        fn handle(
            state: &mut Balance,
            msg: &Deposit,
            _: &Context,
        ) -> Result<Balance, HandlerError> {
            let cents = state
                .cents
                .checked_add(msg.cents)
                .ok_or(HandlerError(OVERFLOW))?;
            state.cents = cents;
            state.count = state.count.wrapping_add(1);
            Ok(*state)
        }
    }
}

use bank::{Account, Balance, Deposit};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendArg {
    Auto,
    Cpu,
    Cuda,
}

/// Bank accounts as RingKernel actors: latency, throughput and a balance check.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Backend to run on.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Account actors to spawn.
    #[arg(long, default_value_t = 64)]
    actors: u32,
    /// Deposits told in the throughput phase (spread over the sender threads).
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// Sequential asks in the latency phase.
    #[arg(long, default_value_t = 5_000)]
    asks: u32,
    /// Sender threads in the throughput phase.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// CPU backend worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The host's own books: what every account must hold.
#[derive(Clone, Default)]
struct Books {
    cents: Vec<i64>,
    count: Vec<u64>,
}

impl Books {
    fn new(n: usize) -> Self {
        Books {
            cents: vec![0; n],
            count: vec![0; n],
        }
    }
    fn record(&mut self, i: usize, cents: i64) {
        self.cents[i] += cents;
        self.count[i] += 1;
    }
    fn merge(&mut self, other: &Books) {
        for i in 0..self.cents.len() {
            self.cents[i] += other.cents[i];
            self.count[i] += other.count[i];
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<bool, Box<dyn std::error::Error>> {
    let backend = match args.backend {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Cuda => Backend::Cuda,
    };
    let n = args.actors.max(1) as usize;
    let mut builder = Runtime::builder().backend(backend).register::<Account>();
    if let Some(w) = args.workers {
        builder = builder.workers(w);
    }
    let rt = builder.build()?;
    println!("backend: {}", rt.description());
    if let Some(reason) = rt.fallback_reason() {
        println!("cuda not used: {reason}");
    }

    let accounts = (0..n)
        .map(|_| rt.spawn::<Account>(Balance::default()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut books = Books::new(n);

    // Latency: sequential asks, one outstanding at a time.
    let mut lat = Vec::with_capacity(args.asks as usize);
    for k in 0..args.asks as usize {
        let i = k % n;
        let cents = (k % 5) as i64 + 1;
        let t0 = Instant::now();
        let b = accounts[i].ask_blocking(
            Deposit {
                account: i as u32,
                _pad: 0,
                cents,
            },
            Duration::from_secs(5),
        )?;
        lat.push(t0.elapsed());
        books.record(i, cents);
        if b.cents != books.cents[i] {
            println!("MISMATCH during latency phase: account {i}");
            return Ok(false);
        }
    }
    lat.sort_unstable();
    println!(
        "ask latency ({} sequential asks): p50 {:.1} us, p99 {:.1} us",
        lat.len(),
        percentile(&lat, 0.50).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6
    );

    // Throughput: tells from several threads, each keeping its own books.
    let threads = args.threads.max(1) as u64;
    let t0 = Instant::now();
    let (sent, retries) = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let accounts = &accounts;
                s.spawn(move || {
                    let mut mine = Books::new(n);
                    let mut retries = 0u64;
                    let count = args.messages / threads + u64::from(t < args.messages % threads);
                    for k in 0..count {
                        let i = ((k * threads + t) % n as u64) as usize;
                        let cents = ((k + t) % 7) as i64 - 2;
                        let msg = Deposit {
                            account: i as u32,
                            _pad: 0,
                            cents,
                        };
                        loop {
                            match accounts[i].tell(msg) {
                                Ok(()) => break,
                                Err(SendError::Full(_)) => {
                                    retries += 1;
                                    std::thread::yield_now();
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        mine.record(i, cents);
                    }
                    Ok((mine, retries))
                })
            })
            .collect();
        let mut retries = 0;
        let mut all = Vec::new();
        for h in hs {
            match h.join() {
                Ok(Ok((b, r))) => {
                    retries += r;
                    all.push(b);
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(SendError::ShutDown),
            }
        }
        Ok((all, retries))
    })?;
    for b in &sent {
        books.merge(b);
    }

    // Verify: one ask per account; FIFO into each mailbox puts it behind every tell above.
    let mut ok = true;
    for (i, a) in accounts.iter().enumerate() {
        let b = a.ask_blocking(
            Deposit {
                account: i as u32,
                _pad: 0,
                cents: 0,
            },
            Duration::from_secs(10),
        )?;
        books.record(i, 0);
        if b.cents != books.cents[i] || b.count != books.count[i] {
            println!(
                "MISMATCH account {i}: got {} cents / {} deposits, expected {} / {}",
                b.cents, b.count, books.cents[i], books.count[i]
            );
            ok = false;
        }
    }
    let elapsed = t0.elapsed();
    println!(
        "throughput: {} tells from {} threads + {} checking asks in {:.3} s = {:.2} M msg/s \
         ({} full-mailbox retries)",
        args.messages,
        threads,
        n,
        elapsed.as_secs_f64(),
        (args.messages + n as u64) as f64 / elapsed.as_secs_f64() / 1e6,
        retries
    );
    println!(
        "balances: {} ({} accounts checked against host books)",
        if ok { "OK" } else { "MISMATCH" },
        n
    );
    let ShutdownReport { processed, dropped } = rt.shutdown(Duration::from_secs(5))?;
    println!("shutdown: {processed} messages processed, {dropped} dropped");
    Ok(ok && dropped == 0)
}
