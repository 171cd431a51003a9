// SPDX-License-Identifier: Apache-2.0
//! How a parked thread waits for work without losing a wake-up (the firmware's idle loop,
//! `cpu.rs`; skiboot `cpu_idle_p9`; Linux's offline loop follows the same rule).
//!
//! A poster writes the thread's mailbox, then rings its doorbell. The sleeper must clear
//! the doorbell *before* it reads the mailbox: then a doorbell rung after the read is
//! still pending when the sleeper stops, and the stop ends at once. Reading first and
//! clearing afterwards can throw away a doorbell that came in between, and the thread
//! sleeps on with work in its mailbox (a CPU "not responding" to kdump, a START_CPU that
//! takes the decrementer's fallback period or never lands).

/// What a parked thread does with its wake-up source and its mailbox.
pub trait Parking {
    /// Clears this thread's pending wake-up (msgclr), with a barrier after it.
    fn clear_wakeup(&mut self);
    /// Takes the mailbox's job, leaving it empty; 0 means none.
    fn take_job(&mut self) -> u32;
    /// Sleeps until a wake-up is pending (returns at once if one already is), or a
    /// fallback timer runs out.
    fn sleep(&mut self);
}

/// Waits for the next job and returns it (never 0).
pub fn wait_for_job(p: &mut impl Parking) -> u32 {
    loop {
        p.clear_wakeup();
        let job = p.take_job();
        if job != 0 {
            return job;
        }
        p.sleep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The poster's two steps and the sleeper's three, in one interleaving: `order[i]` is
    /// true when step i is the poster's. A sleep with no doorbell pending is where the
    /// thread would sleep with its job unseen (until the fallback timer): `lost`.
    struct Interleaving {
        order: Vec<bool>,
        next: usize,
        poster_step: u8,
        doorbell: bool,
        mailbox: u32,
        lost: bool,
    }

    impl Interleaving {
        fn new(order: Vec<bool>) -> Self {
            Self {
                order,
                next: 0,
                poster_step: 0,
                doorbell: false,
                mailbox: 0,
                lost: false,
            }
        }
        /// Runs the poster's steps that come before the sleeper's next one.
        fn poster_runs(&mut self) {
            while self.next < self.order.len() && self.order[self.next] {
                match self.poster_step {
                    0 => self.mailbox = 7,
                    _ => self.doorbell = true,
                }
                self.poster_step += 1;
                self.next += 1;
            }
        }
        fn sleeper_step(&mut self) {
            self.poster_runs();
            self.next += 1;
        }
    }

    impl Parking for Interleaving {
        fn clear_wakeup(&mut self) {
            self.sleeper_step();
            self.doorbell = false;
        }
        fn take_job(&mut self) -> u32 {
            self.sleeper_step();
            core::mem::take(&mut self.mailbox)
        }
        fn sleep(&mut self) {
            self.sleeper_step();
            if self.next >= self.order.len() {
                // The poster is done: the thread stops with the doorbell as it is.
                if !self.doorbell {
                    self.lost = true;
                }
                // Model the fallback timer, so the loop ends.
                self.poster_runs();
            }
        }
    }

    /// Every way to interleave the poster's 2 steps with the sleeper's first `n` steps.
    fn interleavings(sleeper_steps: usize) -> Vec<Vec<bool>> {
        let total = sleeper_steps + 2;
        let mut all = Vec::new();
        for a in 0..total {
            for b in a + 1..total {
                all.push((0..total).map(|i| i == a || i == b).collect());
            }
        }
        all
    }

    #[test]
    fn no_interleaving_loses_the_wakeup() {
        for order in interleavings(3) {
            let mut m = Interleaving::new(order.clone());
            assert_eq!(wait_for_job(&mut m), 7, "{order:?}");
            assert!(!m.lost, "slept with the job unseen: {order:?}");
        }
    }

    /// The check above can fail: the same interleavings with the two first steps the
    /// wrong way round (read, then clear) lose the wake-up in some of them.
    #[test]
    fn reading_before_clearing_loses_it() {
        struct Wrong(Interleaving);
        impl Parking for Wrong {
            fn clear_wakeup(&mut self) {}
            fn take_job(&mut self) -> u32 {
                let job = self.0.take_job();
                self.0.clear_wakeup();
                job
            }
            fn sleep(&mut self) {
                self.0.sleep()
            }
        }
        let lost = interleavings(3)
            .into_iter()
            .filter(|order| {
                let mut m = Wrong(Interleaving::new(order.clone()));
                wait_for_job(&mut m);
                m.0.lost
            })
            .count();
        assert!(lost > 0);
    }
}
