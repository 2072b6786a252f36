//! Helpers shared by the swarm's GPU test targets (gpu_swarm, gpu_swarm_pinned).
#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ringkernel_cuda::swarm::kit::{self, kinds};
use ringkernel_cuda::swarm::layout::SwarmBlockStats;
use ringkernel_cuda::swarm::{Swarm, SwarmConfig, SwarmMsg, SwarmProgram};

/// How long a test waits for the device: 20 s, or 180 s under compute-sanitizer, where
/// racecheck slows every shared-memory access by orders of magnitude.
pub fn patience() -> Duration {
    Duration::from_secs(if small() { 180 } else { 20 })
}

/// Under compute-sanitizer (RK_GPU_TEST_SMALL set) the volume tests shrink.
pub fn small() -> bool {
    std::env::var_os("RK_GPU_TEST_SMALL").is_some()
}

pub fn swarm(config: SwarmConfig) -> Swarm {
    swarm_of(&SwarmProgram::kit(), config)
}

pub fn swarm_of(program: &SwarmProgram, mut config: SwarmConfig) -> Swarm {
    // Under the sanitizers every access is instrumented: fewer polling blocks.
    if small() {
        if config.blocks.is_none() {
            config.blocks = Some(8);
        }
        config.patience = patience();
        // An express warp's counters go out after each visit of its loop, which under
        // racecheck can outlast the default 10 ms hold (settle then returned with the last
        // rally messages uncounted: 603 of 802, H100, 8dfb3aa).
        config.settle_hold = Duration::from_secs(1);
    }
    Swarm::new(program, config)
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU (sm_90): {e}"))
}

pub fn small_config() -> SwarmConfig {
    SwarmConfig {
        capacity: 4096,
        device_spawns: 256,
        state_bytes: kit::SMALL_STATE,
        ..SwarmConfig::default()
    }
}

/// `pinned` slots on a grid of `blocks` blocks in clusters of `cluster`.
pub fn pinned_swarm(pinned: u32, blocks: u32, cluster: u32, state_bytes: usize) -> Swarm {
    swarm(SwarmConfig {
        pinned,
        blocks: Some(blocks),
        cluster,
        state_bytes,
        ..small_config()
    })
}

/// A rally pair of kit type `ty` (PING or XPING) on pinned slots `a` and `b`: returns
/// (initiator, partner); the initiator's partner is the actor at `b`.
pub fn pinned_pair(s: &Swarm, ty: u32, a: u32, b: u32) -> (u32, u32) {
    let pb = s.spawn_pinned(b, ty, &[]).unwrap();
    let st = kit::PingState {
        partner: pb,
        ..Default::default()
    };
    let pa = s.spawn_pinned(a, ty, bytemuck::bytes_of(&st)).unwrap();
    (pa, pb)
}

pub fn start(words: [u64; 3]) -> SwarmMsg {
    SwarmMsg::new(kinds::START, words)
}

/// Polls the states of `first..first + count` until `done` holds. On the deadline it fails with
/// what a reader of a GPU log needs: the last states (up to four), the swarm's counters and its
/// dead letters by reason.
pub fn wait_for<S: bytemuck::Pod + std::fmt::Debug>(
    s: &Swarm,
    first: u32,
    count: u32,
    done: impl Fn(&[S]) -> bool,
) -> Vec<S> {
    let since = Instant::now();
    loop {
        let v: Vec<S> = s.read_states(first, count).unwrap();
        if done(&v) {
            return v;
        }
        assert!(
            since.elapsed() < patience(),
            "swarm did not finish within {:?}; states {first}..: {:?}; totals: {:?}; dead letters: {:?}",
            patience(),
            &v[..v.len().min(4)],
            s.totals(),
            s.dead_letter_counts()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts a rally of `trips` round trips from `a` (a PING actor) and returns its state when done.
pub fn rally(s: &Swarm, a: u32, trips: u64) -> kit::PingState {
    let before: Vec<kit::PingState> = s.read_states(a, 1).unwrap();
    s.tell(a, start([trips, 0, 0])).unwrap();
    wait_for(s, a, 1, |v: &[kit::PingState]| v[0].done > before[0].done)[0]
}

/// Waits until the TRAFFIC actors `first..first + n` (each sending `per` messages) have received
/// everything, settles, and checks the outcome: every message arrived exactly once, and each
/// (sender, receiver) pair's last sequence number sent is the last one received. Returns the
/// swarm's counters.
pub fn check_traffic(s: &Swarm, first: u32, n: u32, per: u64) -> SwarmBlockStats {
    let total = u64::from(n) * per;
    wait_for(s, first, n, |v: &[kit::TrafficState]| {
        v.iter().map(|t| t.received).sum::<u64>() >= total
    });
    let t = s.settle(patience()).unwrap();
    // Read again once quiet: the snapshot that met the condition can be torn (a pinned warp
    // writes a state back in 16-byte pieces while the host copies it), e.g. an actor's
    // `received` already counting a message whose `in_seq` entry is not written yet.
    let st: Vec<kit::TrafficState> = s.read_states(first, n).unwrap();
    assert_eq!(st.iter().map(|t| t.received).sum::<u64>(), total);
    assert_eq!(
        st.iter().map(|t| t.errors).sum::<u64>(),
        0,
        "loss, duplicate or reorder"
    );
    for (a, sa) in st.iter().enumerate() {
        assert_eq!(u64::from(sa.sent), per);
        for (b, sb) in st.iter().enumerate() {
            assert_eq!(sa.out_seq[b], sb.in_seq[a], "pair {a}->{b}");
        }
    }
    assert_eq!(s.dead_letter_counts().total(), 0);
    t
}
