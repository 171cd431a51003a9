// SPDX-License-Identifier: Apache-2.0
//! The timebase, through [`Clock`], and the deadlines every wait in this crate is bounded
//! by.
//!
//! Waits count timebase ticks, never loop turns: a turn costs a different time on every
//! machine (a SCOM takes microseconds on hardware and far less under QEMU), so a count
//! would give a different timeout everywhere. The price is that a wait needs a running
//! timebase: code that may run with the TB stopped (an HMI fixing a TFMR error) must not
//! call into this crate.

pub use hal::scom::Clock;

/// A point `us` microseconds after the moment it was made.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    start: u64,
    ticks: u64,
}

impl Deadline {
    pub(crate) fn after_us(clock: &impl Clock, us: u64) -> Self {
        Self {
            start: clock.now(),
            ticks: us.saturating_mul(clock.ticks_per_us()),
        }
    }

    /// Compares elapsed ticks rather than absolute values, so a timebase that wraps
    /// (it will not, in 1000 years at 512 MHz) cannot make a wait endless.
    pub(crate) fn passed(&self, clock: &impl Clock) -> bool {
        clock.now().wrapping_sub(self.start) >= self.ticks
    }
}

/// Busy-waits `us` microseconds (skiboot `time_wait_us` without running pollers: the
/// callers hold locks and may be on a crash path).
pub(crate) fn delay_us(clock: &impl Clock, us: u64) {
    let deadline = Deadline::after_us(clock, us);
    while !deadline.passed(clock) {
        clock.pause();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    struct Stepping(Cell<u64>);
    impl Clock for Stepping {
        fn now(&self) -> u64 {
            self.0.get()
        }
        fn ticks_per_us(&self) -> u64 {
            512
        }
        fn pause(&self) {
            self.0.set(self.0.get().wrapping_add(100));
        }
    }

    #[test]
    fn delay_waits_at_least_the_time_asked() {
        let c = Stepping(Cell::new(u64::MAX - 1000)); // across the wrap, too
        delay_us(&c, 10);
        let waited = c.0.get().wrapping_sub(u64::MAX - 1000);
        assert!(
            (5120..5120 + 100).contains(&waited),
            "waited {waited} ticks"
        );
    }

    #[test]
    fn a_deadline_of_zero_has_passed_at_once() {
        let c = Stepping(Cell::new(7));
        assert!(Deadline::after_us(&c, 0).passed(&c));
        assert!(!Deadline::after_us(&c, 1).passed(&c));
    }
}
