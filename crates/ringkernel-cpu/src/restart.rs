//! In-place restarts on the CPU backend: an actor spawned with a restart policy keeps an image
//! of its initial state; when a handler fails and the policy's intensity allows, the worker
//! copies the image over the state and the actor stays `Active` (the same contract as the
//! CUDA backend, where the block does it inside the persistent kernel).
//!
//! The intensity is OTP's: at most `max_restarts` restarts within any `period`; the failure
//! that would exceed it leaves the actor `Failed`.

use std::collections::VecDeque;
use std::time::Instant;

use ringkernel_core::supervision::Intensity;

/// One actor's restart image and the times of its recent restarts.
#[derive(Debug)]
pub(crate) struct InPlace {
    intensity: Intensity,
    image: Vec<u8>,
    /// Restart times inside the window, oldest first.
    recent: VecDeque<Instant>,
}

impl InPlace {
    pub(crate) fn new(intensity: Intensity, image: &[u8]) -> Self {
        InPlace {
            intensity,
            image: image.to_vec(),
            recent: VecDeque::new(),
        }
    }

    /// If the intensity allows one more restart at `now`, counts it and returns the image to
    /// restore; otherwise `None` (the actor fails).
    pub(crate) fn take(&mut self, now: Instant) -> Option<&[u8]> {
        while self
            .recent
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= self.intensity.period)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.intensity.max_restarts as usize {
            return None;
        }
        self.recent.push_back(now);
        Some(&self.image)
    }

    /// A host restart: a new image, and a fresh window (a new incarnation).
    pub(crate) fn reset(&mut self, image: &[u8]) {
        self.image.clear();
        self.image.extend_from_slice(image);
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_max_restarts_per_period_then_refuses() {
        let t0 = Instant::now();
        let mut p = InPlace::new(
            Intensity {
                max_restarts: 2,
                period: Duration::from_secs(1),
            },
            &[7],
        );
        assert_eq!(p.take(t0), Some(&[7u8][..]));
        assert!(p.take(t0 + Duration::from_millis(10)).is_some());
        assert!(p.take(t0 + Duration::from_millis(20)).is_none());
        // The first restart leaves the window.
        assert!(p.take(t0 + Duration::from_millis(1001)).is_some());
        p.reset(&[9]);
        assert_eq!(p.take(t0 + Duration::from_millis(1002)), Some(&[9u8][..]));
    }
}
