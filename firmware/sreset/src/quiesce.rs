// SPDX-License-Identifier: Apache-2.0
//! `OPAL_QUIESCE` (token 158): keeping CPUs out of OPAL before they are sent a system
//! reset, so that an NMI never stops a CPU inside firmware holding a firmware lock
//! (skiboot `opal_quiesce` in `core/opal.c`, `doc/opal-api/opal-quiesce-158.rst`;
//! hmi-mce-sreset.md §2).
//!
//! ```c
//! int64_t opal_quiesce(uint32_t type, int32_t cpu);
//! ```
//!
//! `cpu` is one server number (≥ 0) or −1 for every CPU but the caller.
//!
//! | `type` | effect |
//! |---|---|
//! | `QUIESCE_HOLD` 1 | take ownership; targets wait for the callers inside OPAL to leave; new calls on the targets spin at entry until resume |
//! | `QUIESCE_REJECT` 2 | the same, but new calls on the targets return `OPAL_BUSY` at once |
//! | `QUIESCE_LOCK_BREAK` 3 | the owner of a quiesce of all CPUs (−1) makes every firmware lock a no-op |
//! | `QUIESCE_RESUME` 4 | undo HOLD/REJECT and LOCK_BREAK, give up ownership |
//! | `QUIESCE_RESUME_FAST_REBOOT` 5 | as RESUME, and zero every CPU's in-OPAL count |
//!
//! | Return | when |
//! |---|---|
//! | `OPAL_SUCCESS` | done |
//! | `OPAL_PARTIAL` | HOLD/REJECT: some target was still inside OPAL after the 1 s budget; the state stays quiesced and the caller must RESUME |
//! | `OPAL_PARAMETER` | `cpu` < −1, an unknown server, an unknown type, or HOLD/REJECT aimed at the caller itself |
//! | `OPAL_BUSY` | HOLD/REJECT while a quiesce is owned (by anyone, the caller included); LOCK_BREAK or RESUME by a CPU that does not own it; LOCK_BREAK when the quiesce did not target −1 |
//!
//! Where we differ from skiboot, on purpose: an unknown type is `OPAL_PARAMETER` (skiboot
//! would store it in the targets' flags); HOLD/REJECT of the caller itself is
//! `OPAL_PARAMETER` (skiboot would flag the caller, wait its own count out for 1 s, and
//! then spin forever at the entry of its own RESUME); ownership is cleared on RESUME, so
//! a former owner cannot RESUME or LOCK_BREAK again (skiboot leaves the owner's PIR
//! behind); RESUME clears the flags of every CPU, whatever its `cpu` argument, so it
//! always undoes the HOLD it pairs with.
//!
//! # Who writes what
//!
//! The per-CPU words live in the firmware, in each CPU's header, behind [`QuiesceCpus`]:
//!
//! * the **in-OPAL count** is written only by its own CPU, in the assembly OPAL entry and
//!   exit (and zeroed here by `QUIESCE_RESUME_FAST_REBOOT`); the owner only reads it;
//! * the **quiesce flag** (0, `QUIESCE_HOLD` or `QUIESCE_REJECT`) is written only by the
//!   owner, here; its CPU's entry only reads it;
//! * the **lock-break** switch is written only by the owner; every lock operation reads
//!   it;
//! * the **owner** and **target** are in [`Quiesce`]: the owner word is taken by one
//!   compare-and-swap from [`NO_OWNER`] and given back by RESUME; the target is written and
//!   read only by the owner.
//!
//! # The entry protocol and the fences
//!
//! The OPAL entry, before it touches the stack: increment the in-OPAL count; `sync`; read
//! the flag. REJECT: decrement, return `OPAL_BUSY`. HOLD: decrement, spin at low SMT
//! priority while the flag is HOLD, start over. The exit decrements the count after
//! `lwsync`, so that everything done inside is visible before the count drops.
//!
//! HOLD/REJECT here is the mirror image: store the flags; full fence (`sync`); read the
//! counts. This is the store-buffering pattern: each side stores, fences, then loads what
//! the other side stores. With a full fence on both sides at least one of them sees the
//! other's store, so either the entering CPU sees its flag and backs out, or the owner
//! sees the count above 0 and waits. (`lwsync` does not order a store before a later load
//! and would let both miss.) [`QuiesceCpus`] implementations must use atomic accesses
//! (relaxed is enough); the fences are issued here with `fence(SeqCst)`, which is `sync`
//! on POWER. After the wait a second full fence orders the caller's later accesses after
//! the targets' last OPAL accesses (the exit's `lwsync` is the other half). RESUME turns
//! lock-break off, fences, clears the flags, fences, then gives ownership back: a CPU
//! released from its HOLD spin can never run with locks broken.
//!
//! The caller is inside OPAL while it runs this call (its own count is 1), so it is never
//! a target and never waited for.
//!
//! # At crash time
//!
//! This is used by the crash path (Linux's NMI IPI: HOLD, sreset, RESUME), so nothing
//! here takes a lock or waits without a deadline, and lock-break cannot affect it.
//!
//! * A CPU spinning in the HOLD loop is not counted as inside OPAL: an sreset of it is
//!   safe; it runs the OS's 0x100 handler and, if that returns, keeps spinning.
//! * A CPU stuck inside OPAL makes HOLD answer `OPAL_PARTIAL` after 1 s with the quiesce
//!   still owned. Linux ignores quiesce results and resets it anyway; LOCK_BREAK then
//!   lets the crashing CPU use firmware locks that CPU holds.
//! * An owner that dies (reset while owning) leaves the quiesce owned: every later HOLD
//!   answers `OPAL_BUSY` and the targets spin at entry until a fast reboot. Linux ignores
//!   the result, and its NMIs still reach the spinning CPUs.
//! * Waits are timebase deadlines ([`Clock`]); the 1 s budget is for the whole call, not
//!   per CPU.

use core::sync::atomic::{fence, AtomicI32, AtomicU32, Ordering};

use crate::time::Deadline;
use crate::Clock;
use opal_api::OpalError;

pub const QUIESCE_HOLD: u32 = 1;
pub const QUIESCE_REJECT: u32 = 2;
pub const QUIESCE_LOCK_BREAK: u32 = 3;
pub const QUIESCE_RESUME: u32 = 4;
pub const QUIESCE_RESUME_FAST_REBOOT: u32 = 5;

/// `cpu` argument meaning every CPU but the caller.
pub const ALL_OTHER_CPUS: i32 = -1;

/// Budget of one HOLD/REJECT for the targets to leave OPAL.
pub const QUIESCE_BUDGET_US: u64 = 1_000_000;

/// Owner word when nobody owns the quiesce. Server numbers are far below it.
pub const NO_OWNER: u32 = u32::MAX;

/// The per-CPU words the firmware keeps for every CPU (indexed `0..count()`), which its
/// OPAL entry reads too. Every access must be atomic; see the module docs for who
/// writes what.
pub trait QuiesceCpus {
    fn count(&self) -> usize;
    /// Server number (PIR) of CPU `i`.
    fn server(&self, i: usize) -> u32;
    /// How many OPAL calls CPU `i` is inside (above 1 when it re-entered).
    fn in_opal(&self, i: usize) -> u32;
    /// Sets CPU `i`'s quiesce flag: 0, [`QUIESCE_HOLD`] or [`QUIESCE_REJECT`].
    fn set_flag(&self, i: usize, value: u32);
    /// Zeroes CPU `i`'s in-OPAL count (fast reboot only).
    fn clear_in_opal(&self, i: usize);
    /// Turns the firmware-wide lock-break switch on or off.
    fn set_lock_break(&self, on: bool);
}

/// The machine-wide quiesce state. One `static` in the firmware.
pub struct Quiesce {
    owner: AtomicU32,
    /// `cpu` argument of the HOLD/REJECT that took ownership.
    target: AtomicI32,
}

impl Default for Quiesce {
    fn default() -> Self {
        Self::new()
    }
}

/// The CPUs a call is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    One(usize),
    AllOthers,
}

impl Quiesce {
    pub const fn new() -> Self {
        Self {
            owner: AtomicU32::new(NO_OWNER),
            target: AtomicI32::new(ALL_OTHER_CPUS),
        }
    }

    /// The server number of the CPU owning the quiesce, if any.
    pub fn owner(&self) -> Option<u32> {
        match self.owner.load(Ordering::Acquire) {
            NO_OWNER => None,
            s => Some(s),
        }
    }

    /// Whether a quiesce is in force (the OPAL entry's re-entry check wants to know).
    pub fn is_active(&self) -> bool {
        self.owner().is_some()
    }

    /// `OPAL_QUIESCE(kind, cpu)` made by the CPU whose server number is `caller`.
    pub fn call(
        &self,
        cpus: &impl QuiesceCpus,
        clock: &impl Clock,
        caller: u32,
        kind: u32,
        cpu: i32,
    ) -> Result<(), OpalError> {
        if caller == NO_OWNER {
            return Err(OpalError::Parameter);
        }
        let target = match cpu {
            ALL_OTHER_CPUS => Target::AllOthers,
            c if c >= 0 => Target::One(find(cpus, c as u32).ok_or(OpalError::Parameter)?),
            _ => return Err(OpalError::Parameter),
        };
        match kind {
            QUIESCE_HOLD | QUIESCE_REJECT => self.quiesce(cpus, clock, caller, kind, cpu, target),
            QUIESCE_LOCK_BREAK => {
                self.check_owner(caller)?;
                if self.target.load(Ordering::Relaxed) != ALL_OTHER_CPUS {
                    log::error!("QUIESCE: lock break needs every CPU quiesced (target -1)");
                    return Err(OpalError::Busy);
                }
                cpus.set_lock_break(true);
                Ok(())
            }
            QUIESCE_RESUME | QUIESCE_RESUME_FAST_REBOOT => {
                self.check_owner(caller)?;
                cpus.set_lock_break(false);
                fence(Ordering::SeqCst);
                for i in 0..cpus.count() {
                    if kind == QUIESCE_RESUME_FAST_REBOOT {
                        // Every CPU, the caller too: fast reboot does not return through
                        // the OPAL exit, and the new boot must start from 0.
                        cpus.clear_in_opal(i);
                    }
                    cpus.set_flag(i, 0);
                }
                fence(Ordering::SeqCst);
                self.owner.store(NO_OWNER, Ordering::Release);
                Ok(())
            }
            _ => Err(OpalError::Parameter),
        }
    }

    fn check_owner(&self, caller: u32) -> Result<(), OpalError> {
        if self.owner.load(Ordering::Acquire) != caller {
            log::error!("QUIESCE: CPU {caller:#x} does not own the quiesce (HOLD or REJECT first)");
            return Err(OpalError::Busy);
        }
        Ok(())
    }

    fn quiesce(
        &self,
        cpus: &impl QuiesceCpus,
        clock: &impl Clock,
        caller: u32,
        kind: u32,
        cpu: i32,
        target: Target,
    ) -> Result<(), OpalError> {
        if let Target::One(i) = target {
            if cpus.server(i) == caller {
                return Err(OpalError::Parameter);
            }
        }
        if let Err(owner) =
            self.owner
                .compare_exchange(NO_OWNER, caller, Ordering::Acquire, Ordering::Relaxed)
        {
            // The owner's own nested use (its crash path) is expected; say nothing then.
            if owner != caller {
                log::warn!("QUIESCE: already quiesced by CPU {owner:#x}");
            }
            return Err(OpalError::Busy);
        }
        self.target.store(cpu, Ordering::Relaxed);

        let targets = || {
            (0..cpus.count()).filter(move |&i| match target {
                Target::One(t) => i == t,
                Target::AllOthers => cpus.server(i) != caller,
            })
        };
        for i in targets() {
            cpus.set_flag(i, kind);
        }
        // Pairs with the `sync` between the count increment and the flag read at entry.
        fence(Ordering::SeqCst);

        let deadline = Deadline::after_us(clock, QUIESCE_BUDGET_US);
        let mut stuck = false;
        for i in targets() {
            while cpus.in_opal(i) != 0 {
                // Look once more after the deadline: it may have passed while this CPU
                // was not running, not while the target was inside.
                if deadline.passed(clock) && cpus.in_opal(i) != 0 {
                    log::error!("QUIESCE: CPU {:#x} stuck in OPAL", cpus.server(i));
                    stuck = true;
                    break;
                }
                clock.pause();
            }
        }
        // Orders what follows after the targets' last accesses inside OPAL.
        fence(Ordering::SeqCst);
        if stuck {
            log::error!("QUIESCE: could not get every CPU out of OPAL");
            return Err(OpalError::Partial);
        }
        Ok(())
    }
}

fn find(cpus: &impl QuiesceCpus, server: u32) -> Option<usize> {
    (0..cpus.count()).find(|&i| cpus.server(i) == server)
}

#[cfg(test)]
mod tests;
