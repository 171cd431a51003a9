// SPDX-License-Identifier: Apache-2.0
//! Bounded waits. Every busy wait of the crate (rendezvous stages, session entry, the spin
//! locks, the TFMR and result polls of the handler) ends at its time budget in timebase
//! ticks, or after a poll budget derived from that same time budget, whichever comes
//! first. A timer facility error can stop the timebase: the poll budget is what ends the
//! wait then, and it is sized so that a stopped timebase costs about the stated timeout,
//! not many times it.

use crate::hw::Clock;

/// Polls a wait may make per µs of its time budget.
///
/// One poll is at least an atomic load, a timebase read and a [`Clock::pause`] (a
/// priority nop in the firmware); skiboot counts 40 M such loops as about a second, i.e.
/// about 40 polls per µs. At 16 per µs the poll budget of a wait on a stopped timebase
/// lasts between about 0.4 and 1 times its timeout on such a machine; with a running
/// timebase a fast poll loop may end a wait on the poll budget somewhat before the time
/// budget, never after it.
pub const POLLS_PER_US: u64 = 16;

/// Ticks per µs of `clock`, 512 (POWER9 and POWER10) if it says 0.
pub(crate) fn ticks_per_us(clock: &dyn Clock) -> u64 {
    match clock.ticks_per_us() {
        0 => 512,
        n => n,
    }
}

/// The polls a wait of `timeout_ticks` may make ([`POLLS_PER_US`] per µs), at least 1.
pub(crate) fn poll_budget(timeout_ticks: u64, ticks_per_us: u64) -> u64 {
    (timeout_ticks.saturating_mul(POLLS_PER_US) / ticks_per_us.max(1)).max(1)
}

/// A bounded wait: it ends at `ticks` of timebase after [`Bound::new`], or after
/// [`poll_budget`] polls, whichever comes first.
pub(crate) struct Bound<'c> {
    clock: &'c dyn Clock,
    start: u64,
    ticks: u64,
    polls: u64,
    budget: u64,
}

impl<'c> Bound<'c> {
    pub(crate) fn new(clock: &'c dyn Clock, ticks: u64) -> Self {
        Self {
            clock,
            start: clock.now(),
            ticks,
            polls: 0,
            budget: poll_budget(ticks, ticks_per_us(clock)),
        }
    }

    /// One turn of the wait: true once the bound is reached, else pauses and returns
    /// false.
    pub(crate) fn expired(&mut self) -> bool {
        self.polls += 1;
        if self.polls > self.budget {
            return true;
        }
        if self.clock.now().wrapping_sub(self.start) >= self.ticks {
            return true;
        }
        self.clock.pause();
        false
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::cell::Cell;

    /// A stopped timebase that counts pauses.
    pub(crate) struct Stopped {
        pub pauses: Cell<u64>,
        pub per_us: u64,
    }
    impl Clock for Stopped {
        fn now(&self) -> u64 {
            42
        }
        fn ticks_per_us(&self) -> u64 {
            self.per_us
        }
        fn pause(&self) {
            self.pauses.set(self.pauses.get() + 1);
        }
    }

    #[test]
    fn budgets() {
        assert_eq!(poll_budget(500_000 * 512, 512), 8_000_000);
        assert_eq!(poll_budget(512, 512), 16);
        assert_eq!(poll_budget(0, 512), 1);
        assert_eq!(poll_budget(u64::MAX, 512), u64::MAX / 512);
        assert_eq!(poll_budget(100, 0), 1600);
    }

    #[test]
    fn a_stopped_timebase_costs_the_timeout_in_polls() {
        for per_us in [512, 0] {
            let c = Stopped {
                pauses: Cell::new(0),
                per_us,
            };
            let mut b = Bound::new(&c, 1000 * 512);
            let mut turns = 0u64;
            while !b.expired() {
                turns += 1;
            }
            assert_eq!(turns, 16_000);
            assert_eq!(c.pauses.get(), 16_000);
        }
    }

    #[test]
    fn a_running_timebase_ends_the_wait_first() {
        struct Fast(Cell<u64>);
        impl Clock for Fast {
            fn now(&self) -> u64 {
                self.0.set(self.0.get() + 512);
                self.0.get()
            }
            fn ticks_per_us(&self) -> u64 {
                512
            }
        }
        let c = Fast(Cell::new(0));
        let mut b = Bound::new(&c, 10 * 512);
        let mut turns = 0;
        while !b.expired() {
            turns += 1;
        }
        assert_eq!(turns, 9);
    }
}
