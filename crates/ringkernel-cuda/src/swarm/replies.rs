//! The host end of the swarm's device→host ring: a thread drains it, hands replies to the asks
//! waiting for them and keeps dead letters for inspection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ringkernel_core::envelope::flags;
use ringkernel_core::{DeadLetterCounts, DeadLetterReason, Envelope, Hlc, HlcTimestamp};

use crate::error::CudaError;
use crate::host_ring::D2hConsumer;

/// Dead letters the host keeps (older ones are counted, then dropped from the list).
const KEPT_DEAD_LETTERS: usize = 1 << 16;

/// An answer to a host ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwarmReply {
    /// The answering actor.
    pub from: u32,
    /// The kind the reply carries (user kind bits).
    pub kind: u32,
    /// Payload.
    pub words: [u64; 3],
    /// HLC stamped by the answering actor.
    pub hlc: HlcTimestamp,
}

/// A message the swarm could not deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwarmDeadLetter {
    /// Sender id (`layout::HOST` for the host).
    pub from: u32,
    /// Intended recipient.
    pub to: u32,
    /// Kind with its flag bits.
    pub kind: u32,
    /// Correlation (asks and replies).
    pub corr: u32,
    /// Payload.
    pub words: [u64; 3],
    /// Why it was not delivered.
    pub reason: DeadLetterReason,
    /// HLC of the send.
    pub sent: HlcTimestamp,
    /// Host HLC when the host recorded it (merged with `sent`, so causally after it).
    pub recorded: HlcTimestamp,
}

type AskResult = Result<SwarmReply, CudaError>;

/// What the drain thread and the API share.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    asks: Mutex<HashMap<u32, Option<AskResult>>>,
    answered: Condvar,
    dead: Mutex<(Vec<SwarmDeadLetter>, DeadLetterCounts)>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inbox {
    /// Registers an ask before its message is sent; false when `corr` is still waited for (an
    /// ask 2^32 asks old, or one without a deadline): the caller takes another.
    pub(crate) fn expect(&self, corr: u32) -> bool {
        match lock(&self.asks).entry(corr) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(None);
                true
            }
        }
    }

    /// Forgets an ask whose message was never sent.
    pub(crate) fn forget(&self, corr: u32) {
        lock(&self.asks).remove(&corr);
    }

    /// Waits for the answer to `corr`, at most `timeout` (a timeout past what `Instant` can
    /// count, `Duration::MAX` say, waits until the answer comes or the swarm stops, which
    /// wakes it).
    pub(crate) fn wait(&self, corr: u32, timeout: Duration) -> AskResult {
        let deadline = ringkernel_core::deadline_after(timeout);
        let mut asks = lock(&self.asks);
        loop {
            if let Some(Some(_)) = asks.get(&corr) {
                if let Some(Some(r)) = asks.remove(&corr) {
                    return r;
                }
            }
            if self.stop.load(Ordering::Acquire) {
                asks.remove(&corr);
                return Err(CudaError::SwarmStopped(
                    "the swarm stopped before the ask was answered".into(),
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                asks.remove(&corr);
                return Err(CudaError::SwarmTimeout {
                    what: "ask",
                    waited: timeout,
                });
            }
            asks = self
                .answered
                .wait_timeout(asks, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn answer(&self, corr: u32, r: AskResult) {
        let mut asks = lock(&self.asks);
        if let Some(slot) = asks.get_mut(&corr) {
            *slot = Some(r);
            self.answered.notify_all();
        }
    }

    /// Routes one device→host envelope.
    pub(crate) fn route(&self, env: &Envelope, hlc: &Hlc) {
        let h = env.header;
        let words = payload_words(env);
        let corr = h.correlation as u32;
        if let Some(reason) = DeadLetterReason::from_flags(h.flags) {
            let sent = HlcTimestamp::from_raw(h.hlc);
            let recorded = hlc.merge(sent).unwrap_or_else(|_| hlc.tick());
            {
                let mut d = lock(&self.dead);
                d.1.count(reason);
                if d.0.len() < KEPT_DEAD_LETTERS {
                    d.0.push(SwarmDeadLetter {
                        from: h.sender,
                        to: h.receiver,
                        kind: h.type_id,
                        corr,
                        words: [words[0], words[1], words[2]],
                        reason,
                        sent,
                        recorded,
                    });
                } else {
                    d.1.discarded += 1;
                }
            }
            // A host ask that could not be delivered fails instead of timing out.
            if h.sender == super::layout::HOST && h.type_id & super::layout::flag::ASK != 0 {
                self.answer(
                    corr,
                    Err(CudaError::SwarmDeadLetter {
                        actor: h.receiver,
                        reason,
                    }),
                );
            }
            return;
        }
        if h.flags & flags::REPLY != 0 {
            let stamp = HlcTimestamp::from_raw(h.hlc);
            let _ = hlc.merge(stamp);
            self.answer(
                corr,
                Ok(SwarmReply {
                    from: h.sender,
                    kind: h.type_id & super::layout::flag::KIND_MASK,
                    words: [words[0], words[1], words[2]],
                    hlc: stamp,
                }),
            );
        }
    }

    /// The dead letters kept so far, oldest first.
    pub(crate) fn dead_letters(&self) -> Vec<SwarmDeadLetter> {
        lock(&self.dead).0.clone()
    }

    /// Dead letters counted by reason.
    pub(crate) fn dead_letter_counts(&self) -> DeadLetterCounts {
        lock(&self.dead).1
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let _g = lock(&self.asks);
        self.answered.notify_all();
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

fn payload_words(env: &Envelope) -> [u64; 4] {
    let mut w = [0u64; 4];
    for (i, c) in env.payload.chunks_exact(8).take(4).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        w[i] = u64::from_le_bytes(b);
    }
    w
}

/// The drain thread: polls until `inbox` is stopped, napping briefly when the ring is empty.
/// The inbox stops once the kernel has exited, so what the kernel wrote last (dead letters of
/// its final steps) is still taken then, until the ring is empty or [`FINAL_DRAIN`] passed (a
/// kernel that did not exit may go on writing).
pub(crate) fn drain(mut ring: D2hConsumer, inbox: Arc<Inbox>, hlc: Arc<Hlc>) {
    let mut buf = Vec::with_capacity(256);
    let mut empty_polls = 0u32;
    let mut last_call: Option<Instant> = None;
    loop {
        if last_call.is_none() && inbox.stopped() {
            last_call = Some(Instant::now());
        }
        buf.clear();
        if ring.poll(&mut buf, 256) == 0 {
            if last_call.is_some() {
                return;
            }
            empty_polls = empty_polls.saturating_add(1);
            if empty_polls > 1000 {
                std::thread::sleep(Duration::from_micros(50));
            } else {
                std::hint::spin_loop();
            }
            continue;
        }
        empty_polls = 0;
        for env in &buf {
            inbox.route(env, &hlc);
        }
        if last_call.is_some_and(|t| t.elapsed() > FINAL_DRAIN) {
            return;
        }
    }
}

/// How long the drain thread goes on taking messages after the stop.
const FINAL_DRAIN: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swarm::layout::{flag, HOST};

    fn env(flags_: u16, sender: u32, kind: u32, corr: u64) -> Envelope {
        let mut e: Envelope = bytemuck::Zeroable::zeroed();
        e.header.sender = sender;
        e.header.receiver = 7;
        e.header.type_id = kind;
        e.header.flags = flags_;
        e.header.correlation = corr;
        e.payload[..8].copy_from_slice(&42u64.to_le_bytes());
        e
    }

    #[test]
    fn a_correlation_id_still_waited_for_is_not_handed_out_again() {
        let inbox = Inbox::default();
        assert!(inbox.expect(3));
        assert!(!inbox.expect(3));
        inbox.forget(3);
        assert!(inbox.expect(3));
    }

    #[test]
    fn replies_reach_their_ask() {
        let inbox = Inbox::default();
        let hlc = Hlc::default();
        inbox.expect(5);
        inbox.route(&env(flags::REPLY, 7, 3 | flag::REPLY, 5), &hlc);
        let r = inbox.wait(5, Duration::from_millis(10)).expect("answered");
        assert_eq!((r.from, r.kind, r.words[0]), (7, 3, 42));
    }

    #[test]
    fn an_ask_without_a_deadline_waits_for_its_answer_or_the_stop() {
        let inbox = std::sync::Arc::new(Inbox::default());
        inbox.expect(5);
        inbox.expect(6);
        let answering = {
            let inbox = inbox.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                inbox.route(&env(flags::REPLY, 7, 3 | flag::REPLY, 5), &Hlc::default());
                std::thread::sleep(Duration::from_millis(20));
                inbox.stop();
            })
        };
        // Duration::MAX is past what Instant can count: no deadline, and no panic.
        let r = inbox.wait(5, Duration::MAX).expect("answered");
        assert_eq!((r.from, r.words[0]), (7, 42));
        assert!(matches!(
            inbox.wait(6, Duration::MAX),
            Err(CudaError::SwarmStopped(_))
        ));
        answering.join().expect("the answering thread");
    }

    #[test]
    fn a_dead_host_ask_fails_its_waiter_and_is_kept() {
        let inbox = Inbox::default();
        let hlc = Hlc::default();
        inbox.expect(9);
        let f = DeadLetterReason::UnknownTarget.to_flags();
        inbox.route(&env(f, HOST, 1 | flag::ASK, 9), &hlc);
        assert!(matches!(
            inbox.wait(9, Duration::from_millis(10)),
            Err(CudaError::SwarmDeadLetter {
                actor: 7,
                reason: DeadLetterReason::UnknownTarget
            })
        ));
        let d = inbox.dead_letters();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].from, d[0].to, d[0].words[0]), (HOST, 7, 42));
        assert!(d[0].recorded > d[0].sent);
        assert_eq!(inbox.dead_letter_counts().unknown_target, 1);
    }

    #[test]
    fn an_unanswered_ask_times_out() {
        let inbox = Inbox::default();
        inbox.expect(1);
        assert!(matches!(
            inbox.wait(1, Duration::from_millis(5)),
            Err(CudaError::SwarmTimeout { what: "ask", .. })
        ));
    }
}
