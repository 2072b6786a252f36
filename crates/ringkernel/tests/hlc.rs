//! HLC stamping: ticked on send, merged on receive, replies stamped after the receive.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use ringkernel::envelope_flags as flags;
use ringkernel::prelude::*;
use ringkernel::{Envelope, HlcTimestamp};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn receive_timestamps_increase_and_track_wall_time() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let e = rt.spawn::<Echo>(()).unwrap();
    let before = now_ms();
    let mut prev = HlcTimestamp::ZERO;
    for v in 0..500 {
        let ts = HlcTimestamp::from_raw(
            e.ask_blocking(
                Ping {
                    v,
                    ..Ping::default()
                },
                WAIT,
            )
            .unwrap()
            .hlc,
        );
        assert!(ts > prev, "receive timestamps must strictly increase");
        prev = ts;
    }
    let after = now_ms();
    assert!(prev.physical_ms() >= before && prev.physical_ms() <= after + 1_000);
}

#[test]
fn raw_replies_carry_flags_correlation_and_a_later_stamp() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let e = rt.spawn::<Echo>(()).unwrap();
    let mut corrs = HashSet::new();
    for v in 0..200 {
        let env = Envelope::new(
            ActorId::HOST,
            e.id(),
            &Ping {
                v,
                ..Ping::default()
            },
        )
        .unwrap();
        let reply = rt.backend().ask(env).unwrap().wait(WAIT).unwrap();
        assert!(reply.has_flag(flags::REPLY));
        assert!(!reply.has_flag(flags::FAILED));
        assert_eq!(reply.sender(), e.id());
        assert_eq!(reply.receiver(), ActorId::HOST);
        assert_ne!(reply.header.correlation, 0);
        assert!(
            corrs.insert(reply.header.correlation),
            "correlation id reused"
        );
        let p = reply.read::<Ping>().unwrap();
        assert_eq!(p.v, v);
        // The reply is stamped after the receive event the handler saw.
        assert!(reply.timestamp() > HlcTimestamp::from_raw(p.hlc));
    }
}

#[test]
fn concurrent_receivers_never_see_duplicate_timestamps() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let actors: Vec<_> = (0..4).map(|_| rt.spawn::<Echo>(()).unwrap()).collect();
    let all: Vec<u64> = std::thread::scope(|s| {
        let hs: Vec<_> = actors
            .iter()
            .map(|a| {
                let a = a.clone();
                s.spawn(move || {
                    (0..500)
                        .map(|v| {
                            a.ask_blocking(
                                Ping {
                                    v,
                                    ..Ping::default()
                                },
                                WAIT,
                            )
                            .unwrap()
                            .hlc
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "one clock per runtime issues unique stamps"
    );
}
