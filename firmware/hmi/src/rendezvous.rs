// SPDX-License-Identifier: Apache-2.0
//! The per-core meeting word (hmi-mce-sreset.md §4.5, skiboot `hmi_rendez_vous`).
//!
//! One 32-bit word per core, a 4-bit slot per thread (up to 8 threads): the low 3 bits
//! hold the signature of the meeting the thread is in (1..=7), bit 3 says it has left the
//! first stage. A meeting has two stages:
//!
//! 1. set own slot to `sig`; wait until every expected thread's slot shows `sig` in its
//!    low bits (exit bit set or not: a quicker thread may already be in stage 2);
//! 2. set own slot to `sig | EXIT`; wait until no thread seen in stage 1 holds exactly
//!    `sig` (each has either left stage 1 or moved on to the next meeting).
//!
//! A thread seen in stage 1 cannot leave its slot at `sig` or `sig | EXIT` before every
//! thread that saw it has left stage 1, so consecutive meetings with different
//! signatures never mix.
//!
//! A thread that sees another one of the meeting already in stage 2 stops waiting too,
//! so a missing thread costs one timeout per meeting, not one per waiting thread.
//!
//! Each stage is bounded. A thread that does not come is left out of the returned mask.
//!
//! Meetings come in sequences (the four of a core recovery): the first meeting of a
//! sequence ([`Rendezvous::meet_first`]) expects every thread, the later ones
//! ([`Rendezvous::meet`]) only those seen at the previous meeting, whose slots are live.
//! So a stale slot (left by a thread that stopped coming in an earlier sequence) can only
//! matter at a first meeting: there, the slots of the threads that did not come are reset
//! to 0, so that a stale value never matches a later meeting that reuses its signature —
//! unless they show a signature of this sequence (a thread arriving this very moment, or
//! one that did come, was missed by this late thread, and is already further on). A later
//! meeting never touches another thread's slot: a thread missing there may already be in
//! the next meeting, and resetting its slot would make the others miss it.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::hw::Clock;
use crate::wait::Bound;

/// Threads a word can hold.
pub const MAX_THREADS: usize = 8;

const SLOT_BITS: u32 = 4;
const SIG_MASK: u32 = 0b0111;
const EXIT: u32 = 0b1000;

const fn slot(word: u32, t: usize) -> u32 {
    (word >> (SLOT_BITS * t as u32)) & 0xf
}

/// The meeting word of one core.
#[derive(Debug, Default)]
pub struct Rendezvous {
    word: AtomicU32,
}

impl Rendezvous {
    pub const fn new() -> Self {
        Self {
            word: AtomicU32::new(0),
        }
    }

    /// The raw word (tests and debugging).
    pub fn raw(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }

    /// Resets thread `t`'s slot to 0 (a thread that will not finish the meetings it was
    /// in, see [`crate::Core::abandon`]).
    pub(crate) fn clear_slot(&self, t: usize) {
        if t < MAX_THREADS {
            self.set_slot(t, 0);
        }
    }

    fn set_slot(&self, t: usize, v: u32) {
        let shift = SLOT_BITS * t as u32;
        // fetch_update retries only when another thread changed its own slot meanwhile,
        // which each thread does a bounded number of times per meeting.
        let _ = self
            .word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                Some((w & !(0xf << shift)) | (v << shift))
            });
    }

    /// Stage 1: waits until every thread of `mask` shows `sig`, or until one that does
    /// has already left stage 1 (it stopped waiting, so the rest will not come for it
    /// either: following it keeps the threads' views of who came the same, rather than
    /// each timing out on its own clock). Returns the threads that showed `sig`.
    fn gather(&self, mask: u8, sig: u32, bound: &mut Bound<'_>) -> u8 {
        let mut seen = 0u8;
        loop {
            let w = self.word.load(Ordering::Acquire);
            let mut leader_left = false;
            for t in 0..MAX_THREADS {
                let s = slot(w, t);
                if mask & (1 << t) != 0 && s & SIG_MASK == sig {
                    seen |= 1 << t;
                    leader_left |= s & EXIT != 0;
                }
            }
            if seen == mask || leader_left || bound.expired() {
                return seen;
            }
        }
    }

    /// Stage 2: waits until no thread of `mask` holds exactly `sig`.
    fn disperse(&self, mask: u8, sig: u32, bound: &mut Bound<'_>) {
        loop {
            let w = self.word.load(Ordering::Acquire);
            let staying = (0..MAX_THREADS).any(|t| mask & (1 << t) != 0 && slot(w, t) == sig);
            if !staying || bound.expired() {
                return;
            }
        }
    }

    /// Resets the slots of `missing` threads to 0 unless they now show one of the
    /// signatures of `keep` (bit s = signature s).
    fn forget(&self, missing: u8, keep: u8) {
        if missing == 0 {
            return;
        }
        let _ = self
            .word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |mut w| {
                for t in 0..MAX_THREADS {
                    if missing & (1 << t) != 0 && keep & (1 << (slot(w, t) & SIG_MASK)) == 0 {
                        w &= !(0xf << (SLOT_BITS * t as u32));
                    }
                }
                Some(w)
            });
    }

    /// Meets the threads of `expected` (bit i = thread i of the core; `me` is added)
    /// at signature `sig` (1..=7; consecutive meetings must use different signatures),
    /// as a later meeting of a sequence: `expected` should be what the previous meeting
    /// returned. No other thread's slot is touched. Each of the two stages waits at most
    /// `timeout_ticks` of timebase, or the matching poll budget ([`crate::POLLS_PER_US`])
    /// if the timebase does not move. Returns the threads seen, `me` included; 0 if `me`
    /// or `sig` is out of range.
    pub fn meet(
        &self,
        me: usize,
        expected: u8,
        sig: u8,
        clock: &dyn Clock,
        timeout_ticks: u64,
    ) -> u8 {
        self.meet_inner(me, expected, sig, None, clock, timeout_ticks)
    }

    /// The first meeting of a sequence whose signatures are `sigs` (this meeting's is
    /// `sigs[0]`; the later meetings use the rest, through [`Rendezvous::meet`]). As
    /// [`Rendezvous::meet`], and then the slots of the threads of `expected` that did not
    /// come are reset to 0, unless they show a signature of `sigs` (see the module
    /// documentation). Returns 0 if `me` or `sigs[0]` is out of range or `sigs` is empty.
    pub fn meet_first(
        &self,
        me: usize,
        expected: u8,
        sigs: &[u8],
        clock: &dyn Clock,
        timeout_ticks: u64,
    ) -> u8 {
        let Some(&sig) = sigs.first() else {
            return 0;
        };
        let keep = sigs
            .iter()
            .filter(|&&s| s != 0 && u32::from(s) <= SIG_MASK)
            .fold(0u8, |k, &s| k | (1 << s));
        self.meet_inner(me, expected, sig, Some(keep), clock, timeout_ticks)
    }

    fn meet_inner(
        &self,
        me: usize,
        expected: u8,
        sig: u8,
        keep: Option<u8>,
        clock: &dyn Clock,
        timeout_ticks: u64,
    ) -> u8 {
        let sig = u32::from(sig);
        if me >= MAX_THREADS || sig == 0 || sig > SIG_MASK {
            return 0;
        }
        let others = expected & !(1u8 << me);

        self.set_slot(me, sig);
        let mut bound = Bound::new(clock, timeout_ticks);
        let seen = self.gather(others, sig, &mut bound);

        self.set_slot(me, sig | EXIT);
        let mut bound = Bound::new(clock, timeout_ticks);
        self.disperse(seen, sig, &mut bound);

        if let Some(keep) = keep {
            self.forget(others & !seen, keep);
        }
        seen | (1 << me)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64};
    use std::sync::Arc;
    use std::thread;

    /// A clock that moves one tick per read, optionally frozen.
    struct TestClock {
        t: AtomicU64,
        frozen: bool,
    }
    impl Clock for TestClock {
        fn now(&self) -> u64 {
            if self.frozen {
                7
            } else {
                self.t.fetch_add(1, Ordering::Relaxed)
            }
        }
        fn ticks_per_us(&self) -> u64 {
            512
        }
        fn pause(&self) {
            thread::yield_now();
        }
    }

    fn clock(frozen: bool) -> TestClock {
        TestClock {
            t: AtomicU64::new(0),
            frozen,
        }
    }

    const TIMEOUT: u64 = 2_000_000;

    fn run(n: usize, present: u8, sigs: &[u8], frozen: bool, timeout: u64) -> Vec<Vec<u8>> {
        let rv = Arc::new(Rendezvous::new());
        let all = ((1u16 << n) - 1) as u8;
        let hs: Vec<_> = (0..n)
            .filter(|t| present & (1 << t) != 0)
            .map(|t| {
                let rv = rv.clone();
                let sigs = sigs.to_vec();
                thread::spawn(move || {
                    let c = clock(frozen);
                    let mut expected = all;
                    let mut out = vec![];
                    for (i, &s) in sigs.iter().enumerate() {
                        if (i + t) % 3 == 0 {
                            thread::yield_now();
                        }
                        let m = if i == 0 {
                            rv.meet_first(t, expected, &sigs, &c, timeout)
                        } else {
                            rv.meet(t, expected, s, &c, timeout)
                        };
                        out.push(m);
                        expected = m;
                    }
                    out
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    }

    #[test]
    fn everyone_meets_through_many_stages() {
        for n in [2usize, 4, 8] {
            let all = ((1u16 << n) - 1) as u8;
            let sigs: Vec<u8> = (0..40).map(|i| (i % 7) as u8 + 1).collect();
            for _ in 0..20 {
                for res in run(n, all, &sigs, false, TIMEOUT) {
                    assert!(res.iter().all(|&m| m == all), "n={n} {res:x?}");
                }
            }
        }
    }

    #[test]
    fn a_missing_thread_is_reported_and_the_rest_finish() {
        // A frozen clock ends each wait on the poll budget: 16 polls per µs, 62 500 for
        // these 2 000 000 ticks.
        // Budgets are generous: the present threads must find each other even when the
        // host is loaded (cargo runs the tests in parallel); only the missing one may not.
        for (frozen, timeout) in [(false, 2_000_000), (true, 2_000_000)] {
            let res = run(4, 0b1011, &[1, 2, 3, 4], frozen, timeout);
            for r in res {
                assert_eq!(r, vec![0b1011; 4]);
            }
        }
    }

    #[test]
    fn a_stopped_timebase_still_ends_the_wait() {
        let rv = Rendezvous::new();
        let c = clock(true);
        assert_eq!(rv.meet(0, 0b11, 1, &c, 1000), 0b01);
        // Thread 1's slot was never set: nothing to forget, thread 0 left with EXIT.
        assert_eq!(rv.raw(), 1 | EXIT);
    }

    #[test]
    fn a_stale_slot_does_not_count_for_a_later_meeting() {
        // Long enough for threads 0 and 1 to find each other on a loaded host.
        const PAIR: u64 = 5_000_000;
        let rv = Rendezvous::new();
        let c = clock(false);
        // Thread 2 meets alone at signature 2 (say it ran ahead and then died): its slot
        // stays at 2|EXIT.
        assert_eq!(rv.meet(2, 0b100, 2, &c, 1000), 0b100);
        assert_eq!(slot(rv.raw(), 2), 2 | EXIT);
        // Threads 0 and 1 meet at 1 (a first meeting) without it: thread 2 is missing and
        // its slot is forgotten.
        let rv = Arc::new(rv);
        let meet_pair = |sig: u8| {
            let r2 = rv.clone();
            let h = thread::spawn(move || r2.meet_first(1, 0b111, &[sig], &clock(false), PAIR));
            let a = rv.meet_first(0, 0b111, &[sig], &clock(false), PAIR);
            (a, h.join().unwrap())
        };
        assert_eq!(meet_pair(1), (0b011, 0b011));
        assert_eq!(slot(rv.raw(), 2), 0);
        // Now a meeting at 2, the signature the straggler's old slot held: it must not be
        // counted.
        assert_eq!(meet_pair(2), (0b011, 0b011));
        // A late arrival at that meeting counts the others, who did reach it, and leaves
        // its slot at 2|EXIT; the next meeting (3) is not confused by it.
        assert_eq!(rv.meet(2, 0b111, 2, &c, 1000), 0b111);
        assert_eq!(meet_pair(3), (0b011, 0b011));
    }

    /// A test clock whose pause also waits while `hold` is set.
    struct HeldClock {
        c: TestClock,
        hold: Option<Arc<AtomicBool>>,
    }
    impl Clock for HeldClock {
        fn now(&self) -> u64 {
            self.c.now()
        }
        fn ticks_per_us(&self) -> u64 {
            512
        }
        fn pause(&self) {
            while self
                .hold
                .as_ref()
                .is_some_and(|h| h.load(Ordering::Acquire))
            {
                thread::yield_now();
            }
            thread::yield_now();
        }
    }

    fn wait_for(rv: &Rendezvous, t: usize, v: u32) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while slot(rv.raw(), t) != v {
            assert!(
                std::time::Instant::now() < deadline,
                "slot {t} never showed {v:#x}: {:#x}",
                rv.raw()
            );
            thread::yield_now();
        }
    }

    /// Threads A (0), B (1) and C (2) in the sequence 1, 2, 3, 4. A is held back before
    /// meeting `late` (0-based) and B and C meet there without it. At meeting `late + 1`,
    /// C arrives first and is held inside its wait, B comes, sees C, and waits for it to
    /// leave stage 1. Only then does A arrive at meeting `late`, finds no one and times
    /// out. Its meeting must not reset B's or C's slot: C still sees B, and both see each
    /// other at every meeting after that.
    fn late_thread(late: usize) {
        const SIGS: [u8; 4] = [1, 2, 3, 4];
        // SHORT (62 500 polls) is still long enough for B and C to find each other.
        const LONG: u64 = 50_000_000;
        const SHORT: u64 = 2_000_000;
        let rv = Arc::new(Rendezvous::new());
        let a_go = Arc::new(AtomicBool::new(false));
        let b_go = Arc::new(AtomicBool::new(false));
        let c_go = Arc::new(AtomicBool::new(false));
        let hold_c = Arc::new(AtomicBool::new(false));
        let spawn = |t: usize| {
            let (rv, a_go, b_go, c_go) = (rv.clone(), a_go.clone(), b_go.clone(), c_go.clone());
            let hold = (t == 2).then(|| hold_c.clone());
            thread::spawn(move || {
                let c = HeldClock {
                    c: clock(false),
                    hold,
                };
                let mut expected = 0b111;
                let mut out = vec![];
                for (i, &s) in SIGS.iter().enumerate() {
                    let gate = match (t, i) {
                        (0, i) if i == late => Some(&a_go),
                        (1, i) if i == late + 1 => Some(&b_go),
                        (2, i) if i == late + 1 => Some(&c_go),
                        _ => None,
                    };
                    if let Some(g) = gate {
                        while !g.load(Ordering::Acquire) {
                            thread::yield_now();
                        }
                    }
                    if t == 2 && i == late + 1 {
                        // C will be held in its first pause of this meeting.
                        if let Some(h) = &c.hold {
                            h.store(true, Ordering::Release);
                        }
                    }
                    let timeout = if i == late { SHORT } else { LONG };
                    let m = if i == 0 {
                        rv.meet_first(t, expected, &SIGS, &c, timeout)
                    } else {
                        rv.meet(t, expected, s, &c, timeout)
                    };
                    out.push(m);
                    expected = m;
                    if t == 0 && i == late {
                        // A, having missed everyone, goes no further.
                        break;
                    }
                }
                out
            })
        };
        let (a, b, c) = (spawn(0), spawn(1), spawn(2));
        let next = u32::from(SIGS[late + 1]);
        // C at meeting late + 1, held inside its wait for B.
        wait_for(&rv, 2, u32::from(SIGS[late]) | EXIT);
        c_go.store(true, Ordering::Release);
        wait_for(&rv, 2, next);
        // B comes, sees C, and waits for it to leave stage 1.
        b_go.store(true, Ordering::Release);
        wait_for(&rv, 1, next | EXIT);
        // A arrives late at meeting `late` and finds no one.
        a_go.store(true, Ordering::Release);
        let a = a.join().unwrap();
        assert_eq!(a[late], 0b001, "late {late}: {a:x?}");
        let w = rv.raw();
        assert_eq!(
            (slot(w, 1), slot(w, 2)),
            (next | EXIT, next),
            "late {late}: the late thread reset live slots: {w:#x}"
        );
        hold_c.store(false, Ordering::Release);
        let (b, c) = (b.join().unwrap(), c.join().unwrap());
        let mut want = vec![0b111; 4];
        for m in &mut want[late..] {
            *m = 0b110;
        }
        assert_eq!(b, want, "late {late}: B");
        assert_eq!(c, want, "late {late}: C");
    }

    #[test]
    fn a_late_thread_does_not_reset_the_slots_of_threads_further_on() {
        // Late at a later meeting (2 of 4): nothing is reset.
        late_thread(1);
        // Late at the first meeting: the slots of B and C show this sequence's next
        // signature, so they are kept.
        late_thread(0);
    }

    #[test]
    fn bad_arguments() {
        let rv = Rendezvous::new();
        let c = clock(false);
        assert_eq!(rv.meet(8, 0xff, 1, &c, 10), 0);
        assert_eq!(rv.meet(0, 0xff, 0, &c, 10), 0);
        assert_eq!(rv.meet(0, 0xff, 8, &c, 10), 0);
        assert_eq!(rv.meet_first(0, 0xff, &[], &c, 10), 0);
        assert_eq!(rv.meet_first(0, 0xff, &[0, 1], &c, 10), 0);
        assert_eq!(rv.raw(), 0);
    }
}
