// SPDX-License-Identifier: Apache-2.0
//! System reset (NMI) of other threads through the core direct controls, and the quiesce
//! protocol: the firmware's side of `OPAL_SIGNAL_SYSTEM_RESET` and `OPAL_QUIESCE`. The
//! sequences and the protocol are `sreset`'s (host-tested against a model of the core's
//! thread-state registers); this room gives them XSCOM, the timebase and the per-CPU
//! headers head.S reads at every OPAL entry.
//!
//! Where resets work: on POWER10 (QEMU powernv10 models the direct controls) and on POWER9
//! hardware; not on QEMU powernv9, whose core registers are not modelled. Elsewhere the
//! token is absent and Linux sends its NMIs as doorbells.
//!
//! Concurrency and crash time: one `FwLock` serialises resets (the special-wakeup counts
//! live behind it); a caller that cannot have it within its bounded wait gets OPAL_BUSY.
//! The quiesce state is atomics only (no lock), so lock break cannot touch it.

use crate::arch;
use crate::cpu;
use crate::drivers::xscom::{ChipScom, Timebase};
use core::sync::atomic::{AtomicBool, Ordering};
use hal::{FwLock, Holder};
use opal_api::{OpalError, OpalResult};
use sreset::direct::{DirectControls, Generation, ThreadId};
use sreset::quiesce::{Quiesce, QuiesceCpus};

static AVAILABLE: AtomicBool = AtomicBool::new(false);

static RESETS: FwLock<Option<DirectControls<ChipScom, Timebase>>> = FwLock::new(None);
/// Spins for the reset lock: a reset takes at most a few hundred milliseconds.
const RESET_SPINS: u32 = 50_000_000;

/// The reset lock's holder left OPAL for good in the middle of a call (cpu.rs).
pub fn release_abandoned(who: Holder) -> bool {
    RESETS.release_abandoned(who)
}

/// Records the chips' XSCOM windows and decides whether resets are offered.
pub fn init(chips: &[(u32, u64)], generation: u32, direct_controls: bool) {
    let gen = match generation {
        10 if direct_controls => Some(Generation::P10),
        9 if direct_controls => Some(Generation::P9),
        _ => None,
    };
    // Only where the direct controls work are they installed; `available` mirrors that
    // without the lock, for OPAL_CHECK_TOKEN.
    let installed = match (gen, chips.is_empty()) {
        (Some(gen), false) => RESETS
            .lock_bounded(Holder::from_pir(arch::pir()), RESET_SPINS)
            .map(|mut g| *g = Some(DirectControls::new(gen, ChipScom, Timebase)))
            .is_some(),
        _ => false,
    };
    AVAILABLE.store(installed, Ordering::Release);
    if !installed {
        log::info!(target: "opalite::sreset", "no direct controls here: OPAL_SIGNAL_SYSTEM_RESET absent");
    }
}

/// The per-CPU headers as the quiesce protocol sees them.
struct Headers;

impl QuiesceCpus for Headers {
    fn count(&self) -> usize {
        cpu::count()
    }
    fn server(&self, i: usize) -> u32 {
        cpu::pir_of(i)
    }
    fn in_opal(&self, i: usize) -> u32 {
        cpu::header(i).depth.load(Ordering::SeqCst)
    }
    fn set_flag(&self, i: usize, v: u32) {
        cpu::header(i).quiesce.store(v, Ordering::SeqCst);
    }
    fn clear_in_opal(&self, i: usize) {
        cpu::header(i).depth.store(0, Ordering::SeqCst);
    }
    fn set_lock_break(&self, on: bool) {
        hal::lock::set_lock_break(on);
    }
}

static QUIESCE: Quiesce = Quiesce::new();

/// `hal::SystemReset` for the OPAL calls.
pub struct Nmi;

impl hal::SystemReset for Nmi {
    fn available(&self) -> bool {
        AVAILABLE.load(Ordering::Acquire)
    }

    fn reset(&self, server: u32) -> OpalResult<()> {
        let mut guard = RESETS
            .lock_bounded(Holder::from_pir(arch::pir()), RESET_SPINS)
            .ok_or(OpalError::Busy)?;
        let dc = guard.as_mut().ok_or(OpalError::Unsupported)?;
        // Fused cores are out of scope (sreset::direct): a PIR that does not decode was
        // never one of ours.
        let thread = ThreadId::from_pir(dc.generation(), server).ok_or(OpalError::Parameter)?;
        match dc.sreset(thread) {
            Ok(()) => {
                log::info!(target: "opalite::sreset", "PIR {server:#06x} reset");
                Ok(())
            }
            Err(e) => {
                log::error!(target: "opalite::sreset", "PIR {server:#06x} not reset: {e:?}");
                Err(e.opal_error())
            }
        }
    }

    fn quiesce(&self, kind: u32, target: i32) -> OpalResult<()> {
        QUIESCE.call(&Headers, &Timebase, arch::pir(), kind, target)
    }
}
