//! The example handlers (see `examples.rs` for how each is both compiled and transpiled).

#![allow(dead_code)]

use bytemuck::{Pod, Zeroable};

use super::examples::example;

example!(bank {
    /// Handler error code for a balance that would overflow.
    pub const OVERFLOW: u32 = 1;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Balance { pub cents: i64, pub count: u64 }
    impl Message for Balance { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0002); }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Deposit { pub account: u32, pub _pad: u32, pub cents: i64 }
    impl Message for Deposit { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0001); }

    pub struct Account;
    impl Actor for Account {
        const NAME: &'static str = "account";
        type State = Balance;
        type Msg = Deposit;
        type Reply = Balance;
        fn handle(state: &mut Balance, msg: &Deposit, _: &Context) -> Result<Balance, HandlerError> {
            let cents = state.cents.checked_add(msg.cents).ok_or(HandlerError(OVERFLOW))?;
            state.cents = cents;
            state.count = state.count.wrapping_add(1);
            Ok(*state)
        }
    }
});

example!(histogram {
    pub const NO_DATA: u32 = 3;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Bins { pub bins: [u32; 8], pub total: u64, pub last: i32, pub _pad: u32 }
    impl Message for Bins { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0012); }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Sample { pub value: u32, pub weight: u32 }
    impl Message for Sample { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0011); }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Summary { pub top: [u32; 2], pub total: u64 }
    impl Message for Summary { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0013); }

    pub struct Histogram;
    impl Actor for Histogram {
        const NAME: &'static str = "histogram";
        type State = Bins;
        type Msg = Sample;
        type Reply = Summary;
        fn handle(state: &mut Bins, msg: &Sample, ctx: &Context) -> Result<Summary, HandlerError> {
            // 8 and values of 12 and up index past the end: a panic natively, PANIC_CODE on the GPU.
            let slot = if msg.value >= 9 && msg.value < 12 { msg.value % 8 } else { msg.value };
            state.bins[slot as usize] = state.bins[slot as usize].wrapping_add(msg.weight);
            state.total = state.total.wrapping_add(msg.weight as u64);
            state.last = if ctx.sender.is_host() { -1 } else { ctx.sender.raw() as i32 };
            let mut best = 0u32;
            let mut second = 0u32;
            for i in 0..8 {
                let b = state.bins[i];
                if b > best {
                    second = best;
                    best = b;
                } else if b > second {
                    second = b;
                }
            }
            match best {
                0 => Err(HandlerError(NO_DATA)),
                _ => Ok(Summary { top: [best, second], total: state.total }),
            }
        }
    }
});

example!(loops {
    pub const EMPTY: u32 = 7;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Buf { pub data: [i32; 6], pub len: u32, pub ops: u32 }
    impl Message for Buf { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0022); }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Op { pub op: u32, pub arg: i32 }
    impl Message for Op { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0021); }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Answer { pub value: i64, pub found: u32, pub steps: u32 }
    impl Message for Answer { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0023); }

    pub struct Loops;
    impl Actor for Loops {
        const NAME: &'static str = "loops";
        type State = Buf;
        type Msg = Op;
        type Reply = Answer;
        fn handle(state: &mut Buf, msg: &Op, _ctx: &Context) -> Result<Answer, HandlerError> {
            state.ops = state.ops.wrapping_add(1);
            let n = state.len.min(6) as usize;
            let mut value: i64 = 0;
            let mut found = 0u32;
            let mut steps = 0u32;
            if msg.op % 5 == 0 {
                if state.len >= 6 {
                    return Err(HandlerError(EMPTY + 1));
                }
                state.data[state.len as usize] = msg.arg;
                state.len += 1;
            } else if msg.op % 5 == 1 {
                // Sum with `continue` skipping negatives.
                for i in 0..n {
                    steps += 1;
                    if state.data[i] < 0 {
                        continue;
                    }
                    value += state.data[i] as i64;
                }
            } else if msg.op % 5 == 2 {
                // First index holding more than `arg`, with `while` and `break`.
                let mut i = 0;
                found = u32::MAX;
                while i < n {
                    steps += 1;
                    if state.data[i] > msg.arg {
                        found = i as u32;
                        break;
                    }
                    i += 1;
                }
            } else if msg.op % 5 == 3 {
                // `loop` with both jumps, and a guarded division.
                if n == 0 {
                    return Err(HandlerError(EMPTY));
                }
                let mut k: u32 = 0;
                loop {
                    k += 1;
                    steps += 1;
                    if k > 20 {
                        break;
                    }
                    if k % 3 == 0 {
                        continue;
                    }
                    value = value.wrapping_mul(3).wrapping_add(k as i64);
                }
                value = value / (msg.arg as i64);
            } else {
                // Out-of-bounds read for large `arg`: a panic natively, PANIC_CODE on the GPU.
                value = state.data[msg.arg as u32 as usize] as i64;
            }
            Ok(Answer { value, found, steps })
        }
    }
});

example!(checked {
    pub const MUL_OVERFLOW: u32 = 11;
    pub const SUB_OVERFLOW: u32 = 12;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Acc { pub a: i32, pub b: u32, pub c: u64, pub d: i64 }
    impl Message for Acc { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0032); }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Step { pub x: i32, pub y: u32, pub z: u64, pub shift: u32, pub _pad: u32 }
    impl Message for Step { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0031); }

    pub struct Checked;
    impl Actor for Checked {
        const NAME: &'static str = "checked";
        type State = Acc;
        type Msg = Step;
        type Reply = Acc;
        fn handle(state: &mut Acc, msg: &Step, ctx: &Context) -> Result<Acc, HandlerError> {
            let Some(a) = state.a.checked_mul(msg.x) else {
                return Err(HandlerError(MUL_OVERFLOW));
            };
            state.a = a;
            state.a = state.a.saturating_sub(msg.x).saturating_mul(2);
            state.c = state.c.saturating_sub(msg.z).saturating_add(msg.z / 2);
            state.d = state.d.saturating_add(msg.z as i64).saturating_mul(3);
            let b = state.b.checked_sub(msg.y).unwrap_or(msg.y - msg.y / 2);
            state.b = b ^ (msg.shift << 3) | state.b.count_ones();
            state.b = state.b.wrapping_add(match msg.shift % 8 {
                0 => 100,
                1 | 2 => msg.y,
                3..=5 if msg.y > 3 => msg.y / 2,
                n => n.wrapping_mul(3),
            });
            state.c = state.c.wrapping_add(msg.z).wrapping_shl(msg.shift);
            let q = i64::checked_div(state.d, msg.x as i64).ok_or(HandlerError(SUB_OVERFLOW))?;
            state.d = q.wrapping_sub((msg.z as i64).wrapping_neg() >> (msg.shift % 64));
            if state.d > 0 && (state.b / (msg.y | 1)) > 3 || ctx.self_id.raw() == 5 {
                state.d = state.d.wrapping_abs().wrapping_neg();
            }
            Ok(Acc { b: state.b.max(msg.y).leading_zeros(), ..*state })
        }
    }
});

example!(physics {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Body { pub pos: [f32; 3], pub vel: [f32; 3], pub t: f64 }
    impl Message for Body { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0042); }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Tick { pub dt: f32, pub drag: f32 }
    impl Message for Tick { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0041); }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Report { pub speed: f32, pub fastest: f32, pub t: f64 }
    impl Message for Report { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0043); }

    pub const BAD_STEP: u32 = 21;

    pub struct Physics;
    impl Actor for Physics {
        const NAME: &'static str = "physics";
        type State = Body;
        type Msg = Tick;
        type Reply = Report;
        fn handle(state: &mut Body, msg: &Tick, _: &Context) -> Result<Report, HandlerError> {
            if !(msg.dt >= 0.0) {
                return Err(HandlerError(BAD_STEP));
            }
            let keep = 1.0 - msg.drag.max(0.0).min(1.0);
            let mut sq = 0.0f32;
            let mut fastest = 0.0f32;
            for i in 0..3 {
                state.vel[i] = state.vel[i] * keep;
                state.pos[i] += state.vel[i] * msg.dt;
                sq += state.vel[i] * state.vel[i];
                fastest = fastest.max(state.vel[i].abs());
            }
            state.t += msg.dt as f64;
            Ok(Report { speed: sq.sqrt(), fastest, t: state.t.floor() })
        }
    }
});

example!(ticker {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Ticks { pub n: u64, pub odd: u32, pub even: u32 }
    impl Message for Ticks { const TYPE_ID: MessageTypeId = MessageTypeId(0x0002_0052); }

    pub const STOP: u32 = 40;

    /// Message and reply `()`: a tick, acknowledged.
    pub struct Ticker;
    impl Actor for Ticker {
        const NAME: &'static str = "ticker";
        type State = Ticks;
        type Msg = ();
        type Reply = ();
        fn handle(state: &mut Ticks, _: &(), _: &Context) -> Result<(), HandlerError> {
            state.n = state.n.wrapping_add(1);
            match state.n % 2 {
                0 => state.even = state.even.wrapping_add(1),
                _ => state.odd = state.odd.wrapping_add(1),
            }
            if state.n % 1000 == 999 {
                return Err(HandlerError(STOP));
            }
            Ok(())
        }
    }
});
