// SPDX-License-Identifier: Apache-2.0
//! State shared by the threads of one core ([`Core`]) and by every thread ([`Shared`]).
//! Both are `static`s in the firmware, so everything is an atomic.
//!
//! A core-wide timer facility recovery is a *session*: the first thread that finds core
//! errors opens one (a new generation); every thread that enters the TFAC path while the
//! session is still gathering joins it, whatever its own TFMR says, so all threads of the
//! core take the same decision once per event. Once the first rendezvous is over the
//! session is sealed: a thread arriving then (a straggler of this event, or the first
//! thread of the next one) waits for it to close and decides afresh from its TFMR. The
//! session closes when the last thread that joined leaves. The rendezvous signatures
//! come from the generation, so a session never meets threads still leaving the
//! previous one.
//!
//! The session records which threads joined (a mask, not a count), and the spin locks
//! record who holds them (the thread index for [`Core`]'s, the PIR for [`Shared`]'s), so
//! that a thread taken away for good in the middle of the handler can be taken out
//! again: [`Core::abandon`] and [`Shared::abandon`] (see [`Core`]).

use core::sync::atomic::{AtomicU32, Ordering};

use crate::hw::Clock;
use crate::rendezvous::Rendezvous;
use crate::wait::Bound;

const ACTIVE: u32 = 1;
const SEALED: u32 = 1 << 1;
const MEMBER_SHIFT: u32 = 2;
const MEMBERS: u32 = 0xff << MEMBER_SHIFT;
/// The generation: 21 bits (bits 11..32). The width matters for the signatures across
/// the wrap (see `sig`): 2^(width + 2) must not be 1 modulo 7, i.e. width % 3 != 1.
const GEN_SHIFT: u32 = 11;
const GEN_MASK: u32 = 0x001f_ffff;
const RESYNCED: u32 = 1;
const TB_VALID: u32 = 1 << 1;
const CLEAN: u32 = 1 << 2;
const PUBLISHED: u32 = 1 << 7;

const fn gen_of(s: u32) -> u32 {
    s >> GEN_SHIFT
}

/// Session membership bit of thread `thread` (0..8; higher indices wrap, as
/// [`crate::ThreadCtx::threads`] does).
const fn member(thread: usize) -> u32 {
    1 << (MEMBER_SHIFT + (thread & 7) as u32)
}

/// Owner word of [`Core`]'s lock for thread `thread`.
const fn thread_owner(thread: usize) -> u32 {
    (thread & 7) as u32 + 1
}

/// Owner word of [`Shared`]'s lock for the thread of PIR `pir`.
const fn pir_owner(pir: u32) -> u32 {
    match pir.checked_add(1) {
        Some(o) => o,
        None => u32::MAX,
    }
}

/// The session word with `m` (membership bits) dropped; closed if no member is left.
const fn without(s: u32, m: u32) -> u32 {
    let left = s & !m;
    if left & MEMBERS == 0 {
        gen_of(s) << GEN_SHIFT
    } else {
        left
    }
}

/// One core's HMI state.
///
/// # Abandoned calls
///
/// A thread can leave `OPAL_HANDLE_HMI2` without returning: an NMI (system reset) stops
/// it in the middle, and the OS then hands that CPU back to the firmware
/// (`OPAL_RETURN_CPU`, kexec, kdump), which discards its stack. It never leaves its
/// session nor drops a lock it held, and its rendezvous slot keeps its last value:
/// without help, every later event on that core would wait for it and give up, and the
/// core would never recover a timer facility error again.
///
/// The firmware calls [`Core::abandon`] (for the CPU's core and thread index) and
/// [`Shared::abandon`] (for its PIR) whenever it takes back a CPU whose OPAL call may
/// have been abandoned like that, before the CPU can call the handler again. Both are
/// no-ops for a thread that was not in the handler, so calling them on every such
/// return is fine. They must not be called for a thread that is still running the
/// handler.
#[derive(Debug, Default)]
pub struct Core {
    pub(crate) rv: Rendezvous,
    /// gen << 11 | member mask << 2 (bit i = thread i joined) | sealed << 1 | active.
    session: AtomicU32,
    /// gen << 1 | 1 of the last session whose TB resync was claimed.
    resync_claim: AtomicU32,
    /// gen << 11 | PUBLISHED | CLEAN | TB_VALID | RESYNCED of the last session result.
    result: AtomicU32,
    /// Serialises TFMR write sequences of the core's threads: 0 free, else the holder's
    /// thread index + 1.
    lock: AtomicU32,
    recoveries: AtomicU32,
    resyncs: AtomicU32,
}

/// How a session left the timer facility, as the thread that resynced saw it right
/// after the resync: what every thread reports, even if a new error arrives while it
/// is still leaving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SessionResult {
    pub resynced: bool,
    pub tb_valid: bool,
    /// No core or TOD error left.
    pub clean: bool,
}

/// What [`Core::enter`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Session {
    pub gen: u32,
    pub opener: bool,
}

impl Core {
    pub const fn new() -> Self {
        Self {
            rv: Rendezvous::new(),
            session: AtomicU32::new(0),
            resync_claim: AtomicU32::new(0),
            result: AtomicU32::new(0),
            lock: AtomicU32::new(0),
            recoveries: AtomicU32::new(0),
            resyncs: AtomicU32::new(0),
        }
    }

    /// Core-wide recoveries started (sessions opened) since boot.
    pub fn recoveries(&self) -> u32 {
        self.recoveries.load(Ordering::Acquire)
    }

    /// TB resyncs this core's handler asked the chip TOD for since boot.
    pub fn resyncs(&self) -> u32 {
        self.resyncs.load(Ordering::Acquire)
    }

    /// Thread `thread` (0..8) joins the gathering session, or opens one if `needed()`
    /// (asked only when none is open). A sealed session is waited out (bounded). None:
    /// no session and none needed, or the wait ran out.
    pub(crate) fn enter(
        &self,
        clock: &dyn Clock,
        timeout_ticks: u64,
        thread: usize,
        mut needed: impl FnMut() -> bool,
    ) -> Option<Session> {
        let me = member(thread);
        let mut bound = Bound::new(clock, timeout_ticks);
        loop {
            let s = self.session.load(Ordering::Acquire);
            if s & ACTIVE != 0 {
                if s & SEALED == 0
                    && self
                        .session
                        .compare_exchange(s, s | me, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                {
                    return Some(Session {
                        gen: gen_of(s),
                        opener: false,
                    });
                }
            } else {
                if !needed() {
                    return None;
                }
                let gen = (gen_of(s) + 1) & GEN_MASK;
                let open = (gen << GEN_SHIFT) | me | ACTIVE;
                if self
                    .session
                    .compare_exchange(s, open, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    self.recoveries.fetch_add(1, Ordering::AcqRel);
                    return Some(Session { gen, opener: true });
                }
            }
            if bound.expired() {
                return None;
            }
        }
    }

    /// Session `gen` takes no more threads.
    pub(crate) fn seal(&self, gen: u32) {
        let _ = self
            .session
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s & ACTIVE != 0 && gen_of(s) == gen).then_some(s | SEALED)
            });
    }

    /// Thread `thread` leaves session `gen`; the last one out closes it.
    pub(crate) fn leave(&self, gen: u32, thread: usize) {
        let me = member(thread);
        let _ = self
            .session
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s & ACTIVE != 0 && gen_of(s) == gen && s & me != 0).then(|| without(s, me))
            });
    }

    /// Takes thread `thread` (0..8) of this core out of a handler call it will never
    /// finish (see [Abandoned calls](Core#abandoned-calls)): drops its membership of the
    /// open session (closing it if it was the last member), releases the core's lock if
    /// it holds it, and clears its rendezvous slot. A no-op for a thread that was not in
    /// the handler. Not for a thread still running the handler.
    pub fn abandon(&self, thread: usize) {
        self.rv.clear_slot(thread & 7);
        let _ = self.lock.compare_exchange(
            thread_owner(thread),
            0,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        let me = member(thread);
        let _ = self
            .session
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s & ACTIVE != 0 && s & me != 0).then(|| without(s, me))
            });
    }

    /// The first caller for `gen` gets true: one TB resync per session.
    pub(crate) fn claim_resync(&self, gen: u32) -> bool {
        let mark = (gen << 1) | 1;
        self.resync_claim
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                (c != mark).then_some(mark)
            })
            .is_ok()
    }

    /// Someone claimed the resync of session `gen`.
    pub(crate) fn resync_claimed(&self, gen: u32) -> bool {
        self.resync_claim.load(Ordering::Acquire) == (gen << 1) | 1
    }

    pub(crate) fn count_resync(&self) {
        self.resyncs.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn publish(&self, gen: u32, r: SessionResult) {
        let bit = |b: bool, v: u32| if b { v } else { 0 };
        self.result.store(
            (gen << GEN_SHIFT)
                | PUBLISHED
                | bit(r.resynced, RESYNCED)
                | bit(r.tb_valid, TB_VALID)
                | bit(r.clean, CLEAN),
            Ordering::Release,
        );
    }

    /// The published result of session `gen`, if any.
    pub(crate) fn result_of(&self, gen: u32) -> Option<SessionResult> {
        let r = self.result.load(Ordering::Acquire);
        (gen_of(r) == gen && r & PUBLISHED != 0).then_some(SessionResult {
            resynced: r & RESYNCED != 0,
            tb_valid: r & TB_VALID != 0,
            clean: r & CLEAN != 0,
        })
    }

    /// The core's lock, for thread `thread`.
    pub(crate) fn lock<'c>(
        &'c self,
        clock: &dyn Clock,
        timeout_ticks: u64,
        thread: usize,
    ) -> Guard<'c> {
        Guard::take(&self.lock, thread_owner(thread), clock, timeout_ticks)
    }
}

/// State shared by every thread of the machine.
#[derive(Debug, Default)]
pub struct Shared {
    /// Serialises the malfunction-alert read-and-clear (skiboot `hmi_lock`): 0 free,
    /// else the holder's PIR + 1.
    decode: AtomicU32,
}

impl Shared {
    pub const fn new() -> Self {
        Self {
            decode: AtomicU32::new(0),
        }
    }

    /// Takes the thread of PIR `pir` out of a handler call it will never finish (see
    /// [Abandoned calls](Core#abandoned-calls)): releases the decode lock if it holds
    /// it. A no-op otherwise. Not for a thread still running the handler.
    pub fn abandon(&self, pir: u32) {
        let _ =
            self.decode
                .compare_exchange(pir_owner(pir), 0, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The decode lock, for the thread of PIR `pir`.
    pub(crate) fn lock<'c>(&'c self, clock: &dyn Clock, timeout_ticks: u64, pir: u32) -> Guard<'c> {
        Guard::take(&self.decode, pir_owner(pir), clock, timeout_ticks)
    }
}

/// A spin lock taken with a bound (the same bound as a rendezvous stage): if the holder
/// never lets go, the caller goes on without it rather than hang the core. The word
/// holds the owner (non-zero) while taken, so that `abandon` can release it for an
/// owner that will never come back.
pub(crate) struct Guard<'c> {
    flag: &'c AtomicU32,
    owner: u32,
    held: bool,
}

impl<'c> Guard<'c> {
    fn take(flag: &'c AtomicU32, owner: u32, clock: &dyn Clock, timeout_ticks: u64) -> Self {
        let mut bound = Bound::new(clock, timeout_ticks);
        loop {
            if flag
                .compare_exchange_weak(0, owner, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Self {
                    flag,
                    owner,
                    held: true,
                };
            }
            if bound.expired() {
                return Self {
                    flag,
                    owner,
                    held: false,
                };
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn held(&self) -> bool {
        self.held
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // Only if it is still ours (an `abandon` for us can have released it, and someone
        // else taken it since).
        if self.held {
            let _ = self
                .flag
                .compare_exchange(self.owner, 0, Ordering::Release, Ordering::Relaxed);
        }
    }
}

/// The rendezvous signature of `stage` (0..4) of session `gen`: consecutive meetings,
/// across sessions too, get different signatures (the sequence steps by 1 modulo 7).
pub(crate) const fn sig(gen: u32, stage: u32) -> u8 {
    ((gen * 4 + stage) % 7 + 1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Frozen;
    impl Clock for Frozen {
        fn now(&self) -> u64 {
            0
        }
        fn ticks_per_us(&self) -> u64 {
            512
        }
    }

    #[test]
    fn sessions_open_join_and_close() {
        let c = Core::new();
        let k = &Frozen;
        let open = |gen| Some(Session { gen, opener: true });
        let join = |gen| Some(Session { gen, opener: false });
        assert_eq!(c.enter(k, 100, 0, || false), None);
        assert_eq!(c.enter(k, 100, 0, || true), open(1));
        // Joining does not ask whether it is needed.
        assert_eq!(c.enter(k, 100, 1, || panic!("asked")), join(1));
        // Sealed: no one joins; the wait is bounded.
        c.seal(1);
        assert_eq!(c.enter(k, 100, 2, || true), None);
        c.leave(1, 0);
        // A thread that is not a member cannot close it.
        c.leave(1, 2);
        assert_eq!(c.enter(k, 100, 2, || true), None);
        c.leave(1, 1);
        // Closed: the next one opens generation 2.
        assert_eq!(c.enter(k, 100, 3, || true), open(2));
        // A stale leave or seal does nothing.
        c.leave(1, 3);
        c.seal(1);
        assert_eq!(c.enter(k, 100, 7, || true), join(2));
        assert_eq!(c.recoveries(), 2);
    }

    #[test]
    fn one_resync_claim_per_session() {
        let c = Core::new();
        assert!(c.claim_resync(1));
        assert!(!c.claim_resync(1));
        assert!(c.claim_resync(2));
        assert_eq!(c.result_of(1), None);
        let r = SessionResult {
            resynced: true,
            tb_valid: true,
            clean: false,
        };
        c.publish(1, r);
        assert_eq!(c.result_of(1), Some(r));
        assert_eq!(c.result_of(2), None);
        // Generation 0 (after a wrap) is a real generation too.
        let r0 = SessionResult {
            resynced: false,
            tb_valid: false,
            clean: false,
        };
        c.publish(0, r0);
        assert_eq!(c.result_of(0), Some(r0));
    }

    #[test]
    fn signatures_never_repeat_back_to_back() {
        // From the first sessions, and across the generation wrap.
        for gens in [
            &[1u32, 2, 3, 4, 5, 6, 7, 8, 9][..],
            &[GEN_MASK - 1, GEN_MASK, 0, 1],
        ] {
            let mut last = 0;
            for &gen in gens {
                for stage in 0..4 {
                    let s = sig(gen, stage);
                    assert!((1..=7).contains(&s));
                    assert_ne!(s, last, "gen {gen} stage {stage}");
                    last = s;
                }
            }
        }
    }

    #[test]
    fn a_stopped_timebase_costs_the_timeout_in_polls() {
        use crate::wait::tests::Stopped;
        use core::cell::Cell;
        // 50 ms at 512 ticks/µs: 800 000 polls (the old budget was one poll per tick,
        // 25.6 million).
        let ticks = 50_000 * 512;
        let k = Stopped {
            pauses: Cell::new(0),
            per_us: 512,
        };
        let c = Core::new();
        assert!(c.enter(&k, ticks, 0, || true).is_some());
        c.seal(1);
        assert_eq!(c.enter(&k, ticks, 1, || true), None);
        assert_eq!(k.pauses.get(), 800_000);

        let g = c.lock(&k, ticks, 0);
        assert!(g.held());
        k.pauses.set(0);
        assert!(!c.lock(&k, ticks, 1).held());
        assert_eq!(k.pauses.get(), 800_000);
    }

    #[test]
    fn a_lock_held_forever_is_given_up_on() {
        let s = Shared::new();
        let g = s.lock(&Frozen, 100, 4);
        assert!(g.held());
        let h = s.lock(&Frozen, 100, 5);
        assert!(!h.held());
        drop(h);
        drop(g);
        assert!(s.lock(&Frozen, 100, 5).held());
    }

    #[test]
    fn an_abandoned_member_no_longer_holds_the_session() {
        let k = &Frozen;
        for sealed in [false, true] {
            let c = Core::new();
            let gen = c.enter(k, 100, 2, || true).expect("opens").gen;
            assert_eq!(c.enter(k, 100, 1, || true).map(|s| s.gen), Some(gen));
            if sealed {
                c.seal(gen);
            }
            // Thread 1 leaves; thread 2 vanishes in the middle (never leaves).
            c.leave(gen, 1);
            if sealed {
                assert_eq!(c.enter(k, 100, 1, || true), None, "still sealed");
            }
            // Abandoning a thread that is not a member changes nothing.
            c.abandon(3);
            if sealed {
                assert_eq!(c.enter(k, 100, 1, || true), None, "still sealed");
            }
            c.abandon(2);
            // The next event opens a new session.
            let next = c.enter(k, 100, 1, || true).expect("opens");
            assert!(next.opener && next.gen == gen + 1, "{next:?}");
            c.leave(next.gen, 1);
        }
        // A member abandoned while others stay leaves the session open for them.
        let c = Core::new();
        let gen = c.enter(k, 100, 0, || true).expect("opens").gen;
        c.enter(k, 100, 1, || true).expect("joins");
        c.abandon(0);
        assert_eq!(
            c.enter(k, 100, 2, || true).map(|s| (s.gen, s.opener)),
            Some((gen, false))
        );
        c.leave(gen, 1);
        c.leave(gen, 2);
        assert!(c.enter(k, 100, 0, || true).is_some_and(|s| s.opener));
    }

    #[test]
    fn abandon_releases_only_the_abandoned_threads_locks() {
        let k = &Frozen;
        let c = Core::new();
        // Thread 2 takes the core's lock and vanishes: its stack, with the guard, is gone.
        core::mem::forget(c.lock(k, 100, 2));
        assert!(!c.lock(k, 100, 1).held());
        c.abandon(1);
        assert!(!c.lock(k, 100, 1).held(), "not thread 1's");
        c.abandon(2);
        let g = c.lock(k, 100, 1);
        assert!(g.held());
        // A stale abandon does not release the new holder's lock, nor does a late guard.
        c.abandon(2);
        assert!(!c.lock(k, 100, 3).held());
        drop(g);
        assert!(c.lock(k, 100, 3).held());

        let s = Shared::new();
        core::mem::forget(s.lock(k, 100, 0x123));
        assert!(!s.lock(k, 100, 0x124).held());
        s.abandon(0x124);
        assert!(!s.lock(k, 100, 0x124).held(), "not PIR 0x124's");
        s.abandon(0x123);
        assert!(s.lock(k, 100, 0x124).held());
        // PIR 0 works too (the owner word is PIR + 1).
        core::mem::forget(s.lock(k, 100, 0));
        assert!(!s.lock(k, 100, 1).held());
        s.abandon(0);
        assert!(s.lock(k, 100, 1).held());
    }

    #[test]
    fn a_guard_released_by_abandon_does_not_release_the_next_holder() {
        let k = &Frozen;
        let c = Core::new();
        let stale = c.lock(k, 100, 2);
        assert!(stale.held());
        c.abandon(2);
        let g = c.lock(k, 100, 1);
        assert!(g.held());
        // The abandoned guard's drop (had it run) must not free thread 1's lock.
        drop(stale);
        assert!(!c.lock(k, 100, 3).held());
        drop(g);
    }

    #[test]
    fn abandon_clears_the_rendezvous_slot() {
        let k = &Frozen;
        let c = Core::new();
        // Thread 3 meets alone and leaves its slot at 5 | EXIT.
        assert_eq!(c.rv.meet(3, 0b1000, 5, k, 100), 0b1000);
        assert_ne!(c.rv.raw(), 0);
        c.abandon(1);
        assert_ne!(c.rv.raw(), 0);
        c.abandon(3);
        assert_eq!(c.rv.raw(), 0);
    }
}
