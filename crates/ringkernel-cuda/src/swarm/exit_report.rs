//! What a swarm kernel that did not exit when asked can tell about itself, for the error that
//! `shutdown` returns: which blocks are still in, which of their warps are still in their loop,
//! whether those warps still go round it, and where warps waited long.

use super::layout::{stall, SwarmBlockStats};

/// Builds the report from the count of blocks past the exit barrier, the warps per block, and
/// two reads of the per-block counters taken a moment apart.
pub(crate) fn exit_report(
    exited: u32,
    warps: u32,
    before: &[SwarmBlockStats],
    after: &[SwarmBlockStats],
) -> String {
    let mut in_loop = Vec::new();
    for (i, (b, a)) in before.iter().zip(after).enumerate() {
        if a.left_loop < u64::from(warps) {
            let state = if a.beats > b.beats {
                "going round without seeing the stop"
            } else {
                "not going round (held inside one round)"
            };
            in_loop.push(format!(
                "block {i}: {} of {warps} warps in their loop, {state}",
                u64::from(warps) - a.left_loop
            ));
        }
    }
    let waits: Vec<String> = after
        .iter()
        .enumerate()
        .filter(|(_, b)| b.stalls != 0)
        .map(|(i, b)| format!("block {i}: {}", stall::names(b.stalls).join(", ")))
        .collect();
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join("; ")
        }
    };
    format!(
        "blocks past the exit barrier: {exited} of {}; warps still in their loop: {}; long \
         waits: {}",
        after.len(),
        list(in_loop),
        list(waits)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(left_loop: u64, beats: u64, stalls: u64) -> SwarmBlockStats {
        SwarmBlockStats {
            left_loop,
            beats,
            stalls,
            ..Default::default()
        }
    }

    #[test]
    fn names_the_warps_still_in_and_whether_they_go_round() {
        let before = [
            block(8, 10, 0),
            block(7, 20, 0),
            block(6, 30, stall::READY_PUSH),
        ];
        let after = [
            block(8, 10, 0),
            block(7, 25, 0),
            block(6, 30, stall::READY_PUSH),
        ];
        let r = exit_report(1, 8, &before, &after);
        assert!(r.contains("past the exit barrier: 1 of 3"), "{r}");
        assert!(!r.contains("block 0:"), "{r}");
        assert!(
            r.contains("block 1: 1 of 8 warps in their loop, going round"),
            "{r}"
        );
        assert!(
            r.contains("block 2: 2 of 8 warps in their loop, not going round"),
            "{r}"
        );
        assert!(r.contains("long waits: block 2: ready-queue push"), "{r}");
    }

    #[test]
    fn a_quiet_report_says_none() {
        let b = [block(8, 1, 0)];
        let r = exit_report(0, 8, &b, &b);
        assert!(
            r.ends_with("warps still in their loop: none; long waits: none"),
            "{r}"
        );
    }
}
