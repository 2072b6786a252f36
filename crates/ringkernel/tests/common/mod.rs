//! Actors and helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytemuck::{Pod, Zeroable};
use ringkernel::prelude::*;

pub const WAIT: Duration = Duration::from_secs(10);

/// Waits until `cond` holds or 10 s pass; returns whether it held.
pub fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    cond()
}

pub fn cpu_runtime() -> ringkernel::RuntimeBuilder {
    Runtime::builder().backend(Backend::Cpu).workers(2)
}

// ---------------------------------------------------------------- counter

/// Adds `n`; `n == FAIL` fails the handler with code 7, `n == PANIC` panics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct Add {
    pub n: u64,
}
impl Message for Add {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x1001);
}
pub const FAIL: u64 = u64::MAX;
pub const PANIC: u64 = u64::MAX - 1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct Total {
    pub sum: u64,
    pub count: u64,
}
impl Message for Total {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x1002);
}

pub struct Counter;
impl Actor for Counter {
    const NAME: &'static str = "counter";
    type State = Total;
    type Msg = Add;
    type Reply = Total;
    fn handle(s: &mut Total, m: &Add, _: &Context) -> Result<Total, HandlerError> {
        if m.n == FAIL {
            return Err(HandlerError(7));
        }
        if m.n == PANIC {
            panic!("counter asked to panic");
        }
        s.sum += m.n;
        s.count += 1;
        Ok(*s)
    }
}

// ---------------------------------------------------------------- echo

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct Ping {
    pub v: u64,
    pub sender: u32,
    pub self_id: u32,
    pub hlc: u64,
}
impl Message for Ping {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x1003);
}

/// Stateless: replies with the message, plus what the context says.
pub struct Echo;
impl Actor for Echo {
    const NAME: &'static str = "echo";
    type State = ();
    type Msg = Ping;
    type Reply = Ping;
    fn handle(_: &mut (), m: &Ping, ctx: &Context) -> Result<Ping, HandlerError> {
        Ok(Ping {
            v: m.v,
            sender: ctx.sender.raw(),
            self_id: ctx.self_id.raw(),
            hlc: ctx.timestamp.raw(),
        })
    }
}

// ---------------------------------------------------------------- sequence checker

pub const SENDERS: usize = 8;
/// `sender == QUERY` reads the report without recording anything.
pub const QUERY: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct Seq {
    pub sender: u32,
    pub _pad: u32,
    pub seq: u64,
}
impl Message for Seq {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x1004);
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct SeqState {
    pub next: [u64; SENDERS],
    pub out_of_order: u64,
    pub count: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct SeqReport {
    pub out_of_order: u64,
    pub count: u64,
}
impl Message for SeqReport {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x1005);
}

/// Checks that each sender's sequence numbers arrive as 0, 1, 2, ...
pub struct SeqCheck;
impl Actor for SeqCheck {
    const NAME: &'static str = "seq-check";
    type State = SeqState;
    type Msg = Seq;
    type Reply = SeqReport;
    fn handle(s: &mut SeqState, m: &Seq, _: &Context) -> Result<SeqReport, HandlerError> {
        if m.sender != QUERY {
            let slot = &mut s.next[m.sender as usize % SENDERS];
            if m.seq != *slot {
                s.out_of_order += 1;
            }
            *slot = m.seq + 1;
            s.count += 1;
        }
        Ok(SeqReport {
            out_of_order: s.out_of_order,
            count: s.count,
        })
    }
}

// ---------------------------------------------------------------- gated actor

pub const GATES: usize = 32;
static OPEN: [AtomicBool; GATES] = [const { AtomicBool::new(false) }; GATES];
static ENTERED: [AtomicU64; GATES] = [const { AtomicU64::new(0) }; GATES];

/// A message that blocks in the handler until its gate opens. Each test uses its own gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct Gated {
    pub gate: u32,
    pub _pad: u32,
    pub v: u64,
}
impl Message for Gated {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x1006);
}

pub fn gated(gate: usize, v: u64) -> Gated {
    Gated {
        gate: gate as u32,
        _pad: 0,
        v,
    }
}

pub fn open(gate: usize) {
    OPEN[gate].store(true, Ordering::SeqCst);
}

/// Handler entries so far on `gate`.
pub fn entered(gate: usize) -> u64 {
    ENTERED[gate].load(Ordering::SeqCst)
}

/// Sums `v` (state `Total`) once its gate is open.
pub struct GateActor;
impl Actor for GateActor {
    const NAME: &'static str = "gate";
    type State = Total;
    type Msg = Gated;
    type Reply = Total;
    fn handle(s: &mut Total, m: &Gated, _: &Context) -> Result<Total, HandlerError> {
        let g = m.gate as usize % GATES;
        ENTERED[g].fetch_add(1, Ordering::SeqCst);
        while !OPEN[g].load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_micros(200));
        }
        if m.v == FAIL {
            return Err(HandlerError(9));
        }
        s.sum += m.v;
        s.count += 1;
        Ok(*s)
    }
}

/// Tells `msg`, retrying while the mailbox is full.
pub fn tell_retry<A: Actor>(r: &ActorRef<A>, msg: A::Msg) {
    let end = Instant::now() + WAIT;
    loop {
        match r.tell(msg) {
            Ok(()) => return,
            Err(SendError::Full(_)) if Instant::now() < end => std::thread::yield_now(),
            Err(e) => panic!("tell failed: {e}"),
        }
    }
}

/// Asks `msg`, retrying while the mailbox is full.
pub fn ask_retry<A: Actor>(r: &ActorRef<A>, msg: A::Msg) -> A::Reply {
    let end = Instant::now() + WAIT;
    loop {
        match r.ask_blocking(msg, WAIT) {
            Ok(v) => return v,
            Err(AskError::Send(SendError::Full(_))) if Instant::now() < end => {
                std::thread::yield_now()
            }
            Err(e) => panic!("ask failed: {e}"),
        }
    }
}
