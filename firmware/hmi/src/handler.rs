// SPDX-License-Identifier: Apache-2.0
//! `OPAL_HANDLE_HMI2` on one thread (hmi-mce-sreset.md §4.5).
//!
//! 1. Read HMER once. Nothing we act on set: return at once, changing nothing.
//! 2. TFAC (bits 4/5): clear them first (so a new error latches again), then recover the
//!    timer facility: thread errors locally, core errors in a core session with four
//!    rendezvous, TOD-only errors through [`ChipTod::recover_tod_errors`]. One TFAC event
//!    per thread that had something to do.
//! 3. The other causes, from the table in [`crate::hmer`]: harmless events from thread 0
//!    of the core only, the hypervisor-resource error from every thread that sees it.
//! 4. Malfunction alert: decode ([`crate::malfunction`]).
//! 5. Clear the handled bits other than 4/5 with one AND write.

use crate::event::{Disposition, HmiEvent, HmiType, Severity};
use crate::flags;
use crate::hmer::{self, Action};
use crate::hw::{ChipTod, Clock, Scom, Siblings, ThreadRegs};
use crate::malfunction::{self, ChipCores};
use crate::percore::{sig, Core, SessionResult, Shared};
use crate::tfmr::{self, TfmrErrors};
use crate::wait::{self, Bound};
use crate::Gen;

/// Default bound of each rendezvous stage and lock wait (skiboot: 40 M relax loops,
/// more than a second).
pub const RENDEZVOUS_TIMEOUT_US: u64 = 1_000_000;

/// Everything the handler needs on the calling thread.
pub struct ThreadCtx<'a> {
    pub gen: Gen,
    pub pir: u32,
    pub chip_id: u32,
    /// Index of the calling thread in its core (0..8).
    pub thread: usize,
    /// The core's threads that take part in a rendezvous (bit i = thread i): the
    /// threads that exist and are not dead. The calling thread is always counted.
    pub threads: u8,
    pub core: &'a Core,
    pub shared: &'a Shared,
    pub regs: &'a mut dyn ThreadRegs,
    pub scom: &'a mut dyn Scom,
    pub tod: &'a mut dyn ChipTod,
    pub clock: &'a dyn Clock,
    pub siblings: &'a mut dyn Siblings,
    /// Chips and cores the malfunction decode may look at.
    pub chips: &'a [ChipCores],
    /// [`tfmr::base`] for this core's frequency.
    pub base_tfmr: u64,
    /// Bound of each rendezvous stage, in µs ([`RENDEZVOUS_TIMEOUT_US`]).
    pub timeout_us: u64,
}

impl ThreadCtx<'_> {
    pub(crate) fn timeout_ticks(&self) -> u64 {
        self.timeout_us
            .saturating_mul(wait::ticks_per_us(self.clock))
    }

    fn me(&self) -> u8 {
        1u8 << (self.thread & 7)
    }
}

/// What one call did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// `OPAL_HANDLE_HMI2` out-flags ([`crate::flags`]).
    pub flags: u64,
    /// HMER bits cleared.
    pub handled: u64,
    /// Events the sink took.
    pub events: u32,
    /// Events the sink refused (queue full).
    pub dropped: u32,
    /// This thread took part in a core recovery: who was expected and who came.
    pub rendezvous: Option<Rendezvoused>,
}

/// A thread's view of the core recovery it took part in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rendezvoused {
    /// The core's threads that should have come (bit i = thread i).
    pub expected: u8,
    /// The threads seen at the first meeting.
    pub met: u8,
    /// Whether this thread reloaded the timebase from the TOD: None if it did not try
    /// (another thread did, or the TB was valid); Some(ok) if it tried, `ok` = the TB
    /// was valid afterwards.
    pub resync_here: Option<bool>,
}

pub(crate) struct Emitter<'s> {
    sink: &'s mut dyn FnMut(HmiEvent) -> bool,
    out: Outcome,
}

impl Emitter<'_> {
    pub(crate) fn emit(&mut self, ev: HmiEvent) {
        if (self.sink)(ev) {
            self.out.flags |= flags::NEW_EVENT;
            self.out.events += 1;
        } else {
            self.out.dropped += 1;
        }
    }
}

/// Handles the HMI the calling thread took (or was kicked for). `sink` queues one event
/// for the OS and returns false if the queue is full.
pub fn handle(t: &mut ThreadCtx<'_>, sink: &mut dyn FnMut(HmiEvent) -> bool) -> Outcome {
    let hmer = t.regs.hmer();
    let act = hmer & hmer::handled_mask(t.gen);
    let mut em = Emitter {
        sink,
        out: Outcome::default(),
    };
    if act == 0 {
        return em.out;
    }

    let tfac_bits = act & (hmer::TFAC_ERROR | hmer::TFMR_PARITY_ERROR);
    if tfac_bits != 0 {
        t.regs.clear_hmer(tfac_bits);
        em.out.handled |= tfac_bits;
        em.out.flags |= tfac(t, hmer, &mut em);
    }

    let rest = act & !tfac_bits;
    let mut malfunction = false;
    for c in hmer::causes(t.gen, rest) {
        match c.action {
            Action::Event {
                severity,
                kind,
                disposition,
                per_core,
            } => {
                if !per_core || t.thread == 0 {
                    em.emit(HmiEvent {
                        severity,
                        kind,
                        disposition,
                        hmer,
                        tfmr: 0,
                        xstop: None,
                    });
                }
            }
            Action::MalfunctionDecode => malfunction = true,
            // Bits 4/5 were taken above; `rest` holds no ignored bit.
            Action::Tfac | Action::Ignored(_) => {}
        }
    }
    if malfunction {
        malfunction::decode(t, hmer, &mut em);
    }
    if rest != 0 {
        t.regs.clear_hmer(rest);
        em.out.handled |= rest;
    }
    em.out
}

/// Writes `v` to TFMR twice: the error bits of the timer facility clear only on a second
/// write (§4.3).
fn write_twice(t: &mut ThreadCtx<'_>, v: u64) {
    t.regs.write_tfmr(v);
    t.regs.write_tfmr(v);
}

/// PURR/SPURR/DEC parity: reset the register, clear the error. Returns the flags.
fn fix_thread_errors(t: &mut ThreadCtx<'_>, errs: u64) -> u64 {
    let mut f = 0;
    if errs & tfmr::DEC_PARITY_ERR != 0 {
        t.regs.write_dec(u64::MAX);
        f |= flags::DEC_LOST;
    }
    if errs & tfmr::PURR_PARITY_ERR != 0 {
        t.regs.write_purr(0);
    }
    if errs & tfmr::SPURR_PARITY_ERR != 0 {
        t.regs.write_spurr(0);
    }
    write_twice(t, t.base_tfmr | (errs & tfmr::THREAD_ERRORS));
    f
}

/// The "clear TB errors" sequence: base + bit 24 + the set error bits, base + bit 24
/// again, then wait for bit 24 to drop. Not with a corrupt TFMR. True on success.
fn clear_tb_errors(t: &mut ThreadCtx<'_>, tfmr_now: u64) -> bool {
    if tfmr_now & tfmr::TFMR_CORRUPT != 0 {
        return false;
    }
    let base = t.base_tfmr | tfmr::CLEAR_TB_ERRORS;
    t.regs.write_tfmr(base | (tfmr_now & tfmr::TB_ERRORS));
    t.regs.write_tfmr(base);
    let mut bound = Bound::new(t.clock, t.timeout_ticks().max(1));
    loop {
        let v = t.regs.tfmr();
        if v & tfmr::TFMR_CORRUPT != 0 {
            return false;
        }
        if v & tfmr::CLEAR_TB_ERRORS == 0 {
            return true;
        }
        if bound.expired() {
            return false;
        }
    }
}

/// Bits 4/5. Returns the out-flags.
fn tfac(t: &mut ThreadCtx<'_>, hmer: u64, em: &mut Emitter<'_>) -> u64 {
    let entry = t.regs.tfmr();
    let e = TfmrErrors::of(entry);
    let mut f = 0;
    let mut worked = e.any();

    // A corrupt TFMR says nothing reliable about thread errors: the core procedure
    // re-reads them once the TFMR is fixed.
    if !e.corrupt() && e.thread != 0 {
        f |= fix_thread_errors(t, e.thread);
    }

    let core: &Core = t.core;
    let session = {
        let ticks = t.timeout_ticks();
        let regs = &mut *t.regs;
        core.enter(t.clock, ticks, t.thread, || {
            TfmrErrors::of(regs.tfmr()).needs_core_recovery()
        })
    };
    let mut session_result = None;
    if let Some(s) = session {
        worked = true;
        if s.opener {
            t.siblings.wake_firmware_owned(t.threads & !t.me());
        }
        let (cf, r, seen) = core_recovery(t, s.gen);
        f |= cf;
        session_result = r;
        em.out.rendezvous = Some(seen);
        core.leave(s.gen, t.thread);
    } else if e.tod != 0 {
        // TOD errors that left the TB valid: no rendezvous. The first thread of the core
        // to get here fixes them; the others find them gone.
        let ticks = t.timeout_ticks();
        let _g = core.lock(t.clock, ticks, t.thread);
        if TfmrErrors::of(t.regs.tfmr()).tod != 0 {
            let _ = t.tod.recover_tod_errors();
        }
    }

    // After a session, the core-wide state is the one the session left (a new error may
    // already be latched for the next HMI, and must not make this one look failed; a
    // false TOD_TB_FAIL would leave Linux without timekeeping for good).
    let end = TfmrErrors::of(t.regs.tfmr());
    let (tb_valid, core_clean) = match session_result {
        Some(r) => (r.tb_valid, r.clean),
        None => (end.tb_valid, end.core == 0 && end.tod == 0),
    };
    if !tb_valid {
        f |= flags::TOD_TB_FAIL;
    }
    if worked {
        let recovered = end.thread == 0 && core_clean && tb_valid;
        em.emit(HmiEvent {
            severity: Severity::ErrorSync,
            kind: if hmer & hmer::TFAC_ERROR != 0 {
                HmiType::Tfac
            } else {
                HmiType::TfmrParity
            },
            disposition: if recovered {
                Disposition::Recovered
            } else {
                Disposition::NotRecovered
            },
            hmer,
            tfmr: entry,
            xstop: None,
        });
    }
    f
}

/// The core procedure of session `gen`, on every thread of the core. Returns the flags
/// and the session's result (None if this thread did not see it published).
fn core_recovery(t: &mut ThreadCtx<'_>, gen: u32) -> (u64, Option<SessionResult>, Rendezvoused) {
    let core: &Core = t.core;
    let clock: &dyn Clock = t.clock;
    let ticks = t.timeout_ticks();
    let me = t.thread;
    let mut f = 0;

    // RV1: everyone is here and has stopped touching the facility. The first meeting of
    // the session: it resets stale slots of threads that do not come (never the slots of
    // this session's threads already further on).
    let expected = t.threads | t.me();
    let sigs = [sig(gen, 0), sig(gen, 1), sig(gen, 2), sig(gen, 3)];
    let mut present = core.rv.meet_first(me, expected, &sigs, clock, ticks);
    core.seal(gen);
    let mut seen = Rendezvoused {
        expected,
        met: present,
        resync_here: None,
    };

    // Step 1, one thread at a time: fix a corrupt TFMR, redo thread errors it hid, and
    // clean up what the error destroyed (HDEC, TB).
    {
        let _g = core.lock(clock, ticks, me);
        let mut v = t.regs.tfmr();
        if v & tfmr::TFMR_CORRUPT != 0 {
            write_twice(t, t.base_tfmr | tfmr::TFMR_CORRUPT);
            v = t.regs.tfmr();
            if tfmr::tb_state(v) == tfmr::TbState::Error as u8 {
                clear_tb_errors(t, v);
                v = t.regs.tfmr();
            }
        }
        if v & tfmr::THREAD_ERRORS != 0 {
            f |= fix_thread_errors(t, v & tfmr::THREAD_ERRORS);
        }
        if v & tfmr::HDEC_PARITY_ERROR != 0 {
            t.regs.write_hdec(0);
            f |= flags::HDEC_LOST;
        }
        if v & tfmr::TB_VALID == 0 {
            t.regs.write_tb(0);
        }
    }

    // RV2: every thread has cleaned up; now the core errors can go.
    present = core.rv.meet(me, present, sigs[1], clock, ticks);
    {
        let _g = core.lock(clock, ticks, me);
        let v = t.regs.tfmr();
        if v & tfmr::HDEC_PARITY_ERROR != 0 {
            write_twice(t, t.base_tfmr | tfmr::HDEC_PARITY_ERROR);
        }
        if v & tfmr::TB_ERRORS != 0 {
            clear_tb_errors(t, v);
        }
    }

    // RV3: the facility is clean. Thread 0 reloads the TB from the TOD. If thread 0 did
    // not come, the lowest-numbered thread here does it instead: skiboot leaves the TB
    // invalid in that case, which leaves the OS without a clock. The claim makes it one
    // resync per session even if two threads disagree on who is present.
    present = core.rv.meet(me, present, sigs[2], clock, ticks);
    if present.trailing_zeros() as usize == me && core.claim_resync(gen) {
        let mut resynced = false;
        let tried = t.regs.tfmr() & tfmr::TB_VALID == 0;
        if tried {
            core.count_resync();
            resynced = t.tod.resync_core_timebase().is_ok();
        }
        let v = t.regs.tfmr();
        if tried {
            seen.resync_here = Some(v & tfmr::TB_VALID != 0);
        }
        core.publish(
            gen,
            SessionResult {
                resynced: resynced && v & tfmr::TB_VALID != 0,
                tb_valid: v & tfmr::TB_VALID != 0,
                clean: v & (tfmr::CORE_ERRORS | tfmr::TOD_ERRORS) == 0,
            },
        );
    }

    // RV4: everyone takes the result.
    core.rv.meet(me, present, sigs[3], clock, ticks);
    let mut r = core.result_of(gen);
    // A thread that arrived late somewhere may see the resync claimed but not yet
    // published (its view of who is present differed from the resyncing thread's): wait
    // for the result, bounded.
    let mut bound = Bound::new(clock, ticks);
    while r.is_none() && core.resync_claimed(gen) && !bound.expired() {
        r = core.result_of(gen);
    }
    if r.is_some_and(|r| r.resynced) {
        f |= flags::TB_RESYNC;
    }
    (f, r, seen)
}
