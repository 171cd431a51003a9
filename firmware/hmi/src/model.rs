// SPDX-License-Identifier: Apache-2.0
//! A software core for the HMI handler: per-thread HMER and TFMR, the core's timer
//! facility (TB state machine, TB valid, the timebase itself), DEC/HDEC/PURR/SPURR, the
//! chip TOD, and the SCOMs of the malfunction decode. Everything is an atomic, so the
//! threads of a test (or the real threads of the firmware's injection build) share one
//! [`CoreModel`] by reference.
//!
//! TFMR as modelled (hmi-mce-sreset.md §4.3):
//!
//! * a read is the base configuration, the core's error bits, TB state and TB valid,
//!   and the reading thread's own error bits (PURR/SPURR/DEC parity);
//! * PURR/SPURR/DEC parity (57–59), HDEC parity (26) and TFMR corrupt (60) clear only
//!   when two consecutive writes of the same thread both carry the bit;
//! * a write with "clear TB errors" (24) clears the TB errors it carries (25, 27, 43–46);
//!   once none is left an errored state machine goes back to reset (TB still invalid,
//!   until the resync); bit 24 then reads set for two reads. A write carrying errors
//!   must be followed by another bit-24 write;
//! * every write must carry the base configuration fields.
//!
//! The timebase runs only in state "running"; each [`Clock::pause`] moves it (and the
//! TOD, which always runs) forward by [`PAUSE_TICKS`]. A TB error stops it; the resync
//! ([`ChipTod::resync_core_timebase`]) restarts it from the TOD.
//!
//! Departures from the recovery sequence are recorded as [`violation`] bits.
//!
//! Not modelled: the POWER9 erratum (HDEC parity and TB residue latched on threads 1–3),
//! the individual load-TOD-mod / move-TOD-to-TB steps (the resync is one call), TOD
//! topology, NX/NPU/CAPP FIRs.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use hal::bits::ppc_bit;

use crate::hmer;
use crate::hw::{ChipTod, Clock, Scom, ScomError, ThreadRegs, TodError};
use crate::malfunction::{core_fir_addr, MALFUNCTION_ALERT_SCOM};
use crate::tfmr::{self, TbState};
use crate::Gen;

pub const MAX_THREADS: usize = 8;
pub const MAX_CHIPS: usize = 4;
pub const MAX_CORES: usize = 32;
pub const TB_TICKS_PER_US: u64 = 512;
/// Timebase ticks one `pause` moves the model forward.
pub const PAUSE_TICKS: u64 = 16;
/// Reads for which bit 24 stays set after a clear-TB-errors write.
const CLEAR_READS: u32 = 2;

/// Recovery mistakes the model noticed (bits of [`CoreModel::violations`]).
pub mod violation {
    /// A TFMR write without the base configuration fields.
    pub const WRONG_BASE: u32 = 1 << 0;
    /// Clear TB errors (bit 24) while the TFMR is corrupt.
    pub const CLEAR_WHILE_CORRUPT: u32 = 1 << 1;
    /// A clear-TB-errors write carrying errors not followed by a second bit-24 write.
    pub const SINGLE_CLEAR: u32 = 1 << 2;
    /// The timebase written while valid.
    pub const TB_WRITE_WHILE_VALID: u32 = 1 << 3;
    /// A resync with core errors still set.
    pub const RESYNC_WITH_ERRORS: u32 = 1 << 4;
    /// A resync of a valid timebase.
    pub const RESYNC_WHILE_VALID: u32 = 1 << 5;
    /// An HMER clear of a bit that is not set (a bit handled twice).
    pub const CLEAR_UNSET_HMER: u32 = 1 << 6;
}

/// A core-wide timer facility error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreTfac {
    TbStateCorrupt,
    MissingSync,
    MissingStep,
    Residue,
    FwControl,
    /// TFAC transfer error (POWER10 raises HMER bit 5 "tfx_error" for it).
    TfacTransfer,
    /// TFMR parity (POWER9 raises HMER bit 5 for it).
    TfmrCorrupt,
    /// HDEC parity: the TB stays valid.
    HdecParity,
    /// TB invalid without any error bit (POWER10 after deep stop).
    TbInvalid,
    /// A chip TOD error that leaves the TB valid.
    TodError,
}

/// A thread-local timer facility error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadTfac {
    DecParity,
    PurrParity,
    SpurrParity,
}

impl ThreadTfac {
    const fn bit(self) -> u64 {
        match self {
            ThreadTfac::DecParity => tfmr::DEC_PARITY_ERR,
            ThreadTfac::PurrParity => tfmr::PURR_PARITY_ERR,
            ThreadTfac::SpurrParity => tfmr::SPURR_PARITY_ERR,
        }
    }
}

const RUNNING: u64 = TbState::Running.field() | tfmr::TB_VALID | tfmr::TB_ENABLED;

/// The malfunction-alert register and core FIRs of up to [`MAX_CHIPS`] chips.
pub struct ScomModel {
    gen: Gen,
    alert: [AtomicU64; MAX_CHIPS],
    fir: [[AtomicU64; MAX_CORES]; MAX_CHIPS],
    /// Cores (bit c) whose EC answers ChipletOff.
    asleep: [AtomicU64; MAX_CHIPS],
    /// Cores (bit c) whose FIR read fails with a parity error.
    broken: [AtomicU64; MAX_CHIPS],
    reads: AtomicU32,
}

impl ScomModel {
    pub const fn new(gen: Gen) -> Self {
        Self {
            gen,
            alert: [const { AtomicU64::new(0) }; MAX_CHIPS],
            fir: [const { [const { AtomicU64::new(0) }; MAX_CORES] }; MAX_CHIPS],
            asleep: [const { AtomicU64::new(0) }; MAX_CHIPS],
            broken: [const { AtomicU64::new(0) }; MAX_CHIPS],
            reads: AtomicU32::new(0),
        }
    }

    /// A core of `chip` checkstopped with `fir`: its FIR is set and every chip's alert
    /// register gets bit `chip`.
    pub fn inject_checkstop(&self, chip: u32, core: u32, fir: u64) {
        if let Some(f) = self.fir_cell(chip, core) {
            f.fetch_or(fir, Ordering::AcqRel);
        }
        self.inject_alert(chip);
    }

    /// Only the alert bit of `chip` (no FIR shows anything).
    pub fn inject_alert(&self, chip: u32) {
        if chip < 64 {
            for a in &self.alert {
                a.fetch_or(ppc_bit(chip), Ordering::AcqRel);
            }
        }
    }

    pub fn set_asleep(&self, chip: u32, cores: u64) {
        if let Some(a) = self.asleep.get(chip as usize) {
            a.store(cores, Ordering::Release);
        }
    }

    pub fn set_broken(&self, chip: u32, cores: u64) {
        if let Some(a) = self.broken.get(chip as usize) {
            a.store(cores, Ordering::Release);
        }
    }

    pub fn alert(&self, chip: u32) -> u64 {
        self.alert
            .get(chip as usize)
            .map_or(0, |a| a.load(Ordering::Acquire))
    }

    /// SCOM reads so far.
    pub fn reads(&self) -> u32 {
        self.reads.load(Ordering::Acquire)
    }

    fn fir_cell(&self, chip: u32, core: u32) -> Option<&AtomicU64> {
        self.fir.get(chip as usize)?.get(core as usize)
    }

    fn core_of(&self, addr: u64) -> Option<u32> {
        (0..MAX_CORES as u32).find(|&c| core_fir_addr(self.gen, c) == addr)
    }
}

impl Scom for &ScomModel {
    fn read(&mut self, chip: u32, addr: u64) -> Result<u64, ScomError> {
        self.reads.fetch_add(1, Ordering::AcqRel);
        let c = chip as usize;
        if c >= MAX_CHIPS {
            return Err(ScomError::Address);
        }
        if addr == MALFUNCTION_ALERT_SCOM {
            return Ok(self.alert[c].load(Ordering::Acquire));
        }
        let core = self.core_of(addr).ok_or(ScomError::Address)?;
        if self.asleep[c].load(Ordering::Acquire) & (1 << core) != 0 {
            return Err(ScomError::ChipletOff);
        }
        if self.broken[c].load(Ordering::Acquire) & (1 << core) != 0 {
            return Err(ScomError::Parity);
        }
        Ok(self.fir[c][core as usize].load(Ordering::Acquire))
    }

    fn write(&mut self, chip: u32, addr: u64, v: u64) -> Result<(), ScomError> {
        let c = chip as usize;
        if c < MAX_CHIPS && addr == MALFUNCTION_ALERT_SCOM {
            // AND write: bits written 0 are cleared.
            self.alert[c].fetch_and(v, Ordering::AcqRel);
            Ok(())
        } else {
            Err(ScomError::Address)
        }
    }
}

/// One core: its threads' SPRs and its timer facility.
pub struct CoreModel {
    gen: Gen,
    threads: usize,
    base: u64,
    pause_hook: fn(),
    hmer: [AtomicU64; MAX_THREADS],
    /// Thread error bits (TFMR 57–59).
    terr: [AtomicU64; MAX_THREADS],
    /// The thread's previous TFMR write, for the written-twice rule (0 after a clear).
    last_write: [AtomicU64; MAX_THREADS],
    clear_reads: [AtomicU32; MAX_THREADS],
    second_clear_due: [AtomicBool; MAX_THREADS],
    dec: [AtomicU64; MAX_THREADS],
    hdec: [AtomicU64; MAX_THREADS],
    purr: [AtomicU64; MAX_THREADS],
    spurr: [AtomicU64; MAX_THREADS],
    hmer_clears: [AtomicU32; MAX_THREADS],
    /// The core part of TFMR: error bits, TB state, TB valid/enabled.
    core: AtomicU64,
    tb: AtomicU64,
    tod: AtomicU64,
    frozen: AtomicBool,
    tod_fails: AtomicBool,
    resyncs: AtomicU32,
    resync_by: AtomicU32,
    tfmr_writes: AtomicU32,
    violations: AtomicU32,
    pauses: AtomicU64,
    pub scom: ScomModel,
}

fn nop() {}

impl CoreModel {
    /// A core of `threads` threads (1..=8) with a running, valid timebase.
    pub const fn new(gen: Gen, threads: usize, base_tfmr: u64) -> Self {
        Self {
            gen,
            threads: if threads > MAX_THREADS {
                MAX_THREADS
            } else {
                threads
            },
            base: base_tfmr & tfmr::CONFIG,
            pause_hook: nop,
            hmer: [const { AtomicU64::new(0) }; MAX_THREADS],
            terr: [const { AtomicU64::new(0) }; MAX_THREADS],
            last_write: [const { AtomicU64::new(0) }; MAX_THREADS],
            clear_reads: [const { AtomicU32::new(0) }; MAX_THREADS],
            second_clear_due: [const { AtomicBool::new(false) }; MAX_THREADS],
            dec: [const { AtomicU64::new(0) }; MAX_THREADS],
            hdec: [const { AtomicU64::new(0) }; MAX_THREADS],
            purr: [const { AtomicU64::new(0) }; MAX_THREADS],
            spurr: [const { AtomicU64::new(0) }; MAX_THREADS],
            hmer_clears: [const { AtomicU32::new(0) }; MAX_THREADS],
            core: AtomicU64::new(RUNNING),
            tb: AtomicU64::new(0),
            tod: AtomicU64::new(0),
            frozen: AtomicBool::new(false),
            tod_fails: AtomicBool::new(false),
            resyncs: AtomicU32::new(0),
            resync_by: AtomicU32::new(0),
            tfmr_writes: AtomicU32::new(0),
            violations: AtomicU32::new(0),
            pauses: AtomicU64::new(0),
            scom: ScomModel::new(gen),
        }
    }

    /// Called on every `pause` (a host test passes `std::thread::yield_now`).
    pub const fn with_pause_hook(mut self, f: fn()) -> Self {
        self.pause_hook = f;
        self
    }

    pub fn gen(&self) -> Gen {
        self.gen
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The mask of all modelled threads.
    pub fn all_threads(&self) -> u8 {
        ((1u16 << self.threads) - 1) as u8
    }

    pub fn base_tfmr(&self) -> u64 {
        self.base
    }

    fn violate(&self, v: u32) {
        self.violations.fetch_or(v, Ordering::AcqRel);
    }

    fn t(&self, t: usize) -> usize {
        t.min(MAX_THREADS - 1)
    }

    fn hmer_of(&self, t: usize) -> &AtomicU64 {
        &self.hmer[self.t(t)]
    }

    // ---- injection ----

    /// Sets HMER bits on one thread.
    pub fn inject_hmer(&self, t: usize, bits: u64) {
        self.hmer_of(t).fetch_or(bits, Ordering::AcqRel);
    }

    /// Sets HMER bits on every thread of the core.
    pub fn inject_hmer_all(&self, bits: u64) {
        for t in 0..self.threads {
            self.inject_hmer(t, bits);
        }
    }

    /// A core-wide error, as the hardware raises it: TFMR bits on the core, the TB
    /// stopped and invalid for TB errors, HMER bit 4 (or 5) on every thread.
    pub fn inject_core_tfac(&self, kind: CoreTfac) {
        let stop = |bits: u64| {
            let _ = self
                .core
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                    Some(
                        (w & !(tfmr::TBST_ENCODED | tfmr::TB_VALID))
                            | bits
                            | TbState::Error.field(),
                    )
                });
        };
        let mut hmer = hmer::TFAC_ERROR;
        match kind {
            CoreTfac::TbStateCorrupt => stop(tfmr::TBST_CORRUPT),
            CoreTfac::MissingSync => stop(tfmr::TB_MISSING_SYNC),
            CoreTfac::MissingStep => stop(tfmr::TB_MISSING_STEP),
            CoreTfac::Residue => stop(tfmr::TB_RESIDUE_ERR),
            CoreTfac::FwControl => stop(tfmr::FW_CONTROL_ERR),
            CoreTfac::TfacTransfer => {
                stop(tfmr::TFAC_XFER_ERROR);
                if self.gen == Gen::P10 {
                    hmer = hmer::TFX_ERROR;
                }
            }
            CoreTfac::TfmrCorrupt => {
                stop(tfmr::TFMR_CORRUPT);
                if self.gen == Gen::P9 {
                    hmer = hmer::TFMR_PARITY_ERROR;
                }
            }
            CoreTfac::HdecParity => {
                self.core
                    .fetch_or(tfmr::HDEC_PARITY_ERROR, Ordering::AcqRel);
            }
            CoreTfac::TbInvalid => {
                let _ = self
                    .core
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                        Some((w & !(tfmr::TBST_ENCODED | tfmr::TB_VALID)) | TbState::Reset.field())
                    });
            }
            CoreTfac::TodError => {
                self.core
                    .fetch_or(tfmr::CHIP_TOD_INTERRUPT, Ordering::AcqRel);
            }
        }
        self.inject_hmer_all(hmer);
    }

    /// A thread-local error: the TFMR bit on `t` and HMER bit 4 on `t`.
    pub fn inject_thread_tfac(&self, t: usize, kind: ThreadTfac) {
        self.terr[self.t(t)].fetch_or(kind.bit(), Ordering::AcqRel);
        self.inject_hmer(t, hmer::TFAC_ERROR);
    }

    /// A core checkstop seen through the malfunction alert: the core FIR, the alert
    /// register, and HMER bit 0 on every thread of this core.
    pub fn inject_malfunction(&self, chip: u32, core: u32, fir: u64) {
        self.scom.inject_checkstop(chip, core, fir);
        self.inject_hmer_all(hmer::MALFUNCTION_ALERT);
    }

    /// Stops (or restarts) the timebase without an error.
    pub fn freeze_tb(&self, frozen: bool) {
        self.frozen.store(frozen, Ordering::Release);
    }

    /// Makes every resync fail (a broken chip TOD).
    pub fn fail_tod(&self, fail: bool) {
        self.tod_fails.store(fail, Ordering::Release);
    }

    // ---- observation ----

    pub fn hmer(&self, t: usize) -> u64 {
        self.hmer_of(t).load(Ordering::Acquire)
    }

    /// HMER clear writes of thread `t`.
    pub fn hmer_clears(&self, t: usize) -> u32 {
        self.hmer_clears[self.t(t)].load(Ordering::Acquire)
    }

    /// TFMR as thread `t` would read it (without consuming a bit-24 read).
    pub fn peek_tfmr(&self, t: usize) -> u64 {
        self.base | self.core.load(Ordering::Acquire) | self.terr[self.t(t)].load(Ordering::Acquire)
    }

    pub fn core_errors(&self) -> u64 {
        self.core.load(Ordering::Acquire) & (tfmr::CORE_ERRORS | tfmr::TOD_ERRORS)
    }

    pub fn tb_valid(&self) -> bool {
        self.core.load(Ordering::Acquire) & tfmr::TB_VALID != 0
    }

    pub fn tb_running(&self) -> bool {
        tfmr::tb_state(self.core.load(Ordering::Acquire)) == TbState::Running as u8
            && !self.frozen.load(Ordering::Acquire)
    }

    pub fn tb(&self) -> u64 {
        self.tb.load(Ordering::Acquire)
    }

    pub fn dec(&self, t: usize) -> u64 {
        self.dec[self.t(t)].load(Ordering::Acquire)
    }
    pub fn hdec(&self, t: usize) -> u64 {
        self.hdec[self.t(t)].load(Ordering::Acquire)
    }
    pub fn purr(&self, t: usize) -> u64 {
        self.purr[self.t(t)].load(Ordering::Acquire)
    }
    pub fn spurr(&self, t: usize) -> u64 {
        self.spurr[self.t(t)].load(Ordering::Acquire)
    }

    /// Sets DEC/HDEC/PURR/SPURR of a thread (to see the recovery reset them).
    pub fn set_timers(&self, t: usize, dec: u64, hdec: u64, purr: u64, spurr: u64) {
        let t = self.t(t);
        self.dec[t].store(dec, Ordering::Release);
        self.hdec[t].store(hdec, Ordering::Release);
        self.purr[t].store(purr, Ordering::Release);
        self.spurr[t].store(spurr, Ordering::Release);
    }

    /// Resyncs so far, and the threads that did them (bit i = thread i).
    pub fn resyncs(&self) -> u32 {
        self.resyncs.load(Ordering::Acquire)
    }
    pub fn resync_by(&self) -> u32 {
        self.resync_by.load(Ordering::Acquire)
    }
    pub fn tfmr_writes(&self) -> u32 {
        self.tfmr_writes.load(Ordering::Acquire)
    }

    /// [`Clock::pause`] calls so far, by every thread: the polls of the handler's waits.
    pub fn pauses(&self) -> u64 {
        self.pauses.load(Ordering::Acquire)
    }

    /// [`violation`] bits seen so far.
    pub fn violations(&self) -> u32 {
        self.violations.load(Ordering::Acquire)
    }

    /// Forgets resync and write counts and violations (between rounds of a test).
    pub fn reset_counters(&self) {
        self.resyncs.store(0, Ordering::Release);
        self.resync_by.store(0, Ordering::Release);
        self.tfmr_writes.store(0, Ordering::Release);
        self.violations.store(0, Ordering::Release);
        for c in &self.hmer_clears {
            c.store(0, Ordering::Release);
        }
    }

    // ---- per-thread views ----

    /// Thread `t`'s SPRs.
    pub fn regs(&self, t: usize) -> ModelRegs<'_> {
        ModelRegs {
            core: self,
            t: self.t(t),
        }
    }

    /// The chip TOD as thread `t` uses it.
    pub fn tod(&self, t: usize) -> ModelTod<'_> {
        ModelTod {
            core: self,
            t: self.t(t),
        }
    }

    fn read_tfmr(&self, t: usize) -> u64 {
        let mut v = self.peek_tfmr(t);
        let pending = self.clear_reads[t]
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if pending {
            v |= tfmr::CLEAR_TB_ERRORS;
        }
        v
    }

    fn write_tfmr(&self, t: usize, v: u64) {
        self.tfmr_writes.fetch_add(1, Ordering::AcqRel);
        if v & tfmr::CONFIG != self.base {
            self.violate(violation::WRONG_BASE);
        }
        if self.second_clear_due[t].swap(false, Ordering::AcqRel) && v & tfmr::CLEAR_TB_ERRORS == 0
        {
            self.violate(violation::SINGLE_CLEAR);
        }
        const TWICE_THREAD: u64 = tfmr::THREAD_ERRORS;
        const TWICE_CORE: u64 = tfmr::HDEC_PARITY_ERROR | tfmr::TFMR_CORRUPT;
        let prev = self.last_write[t].load(Ordering::Acquire);
        let twice = v & prev & (TWICE_THREAD | TWICE_CORE);
        self.last_write[t].store(if twice != 0 { 0 } else { v }, Ordering::Release);
        self.terr[t].fetch_and(!(twice & TWICE_THREAD), Ordering::AcqRel);
        self.core.fetch_and(!(twice & TWICE_CORE), Ordering::AcqRel);

        if v & tfmr::CLEAR_TB_ERRORS != 0 {
            if self.core.load(Ordering::Acquire) & tfmr::TFMR_CORRUPT != 0 {
                self.violate(violation::CLEAR_WHILE_CORRUPT);
                return;
            }
            let _ = self
                .core
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |mut w| {
                    w &= !(v & tfmr::TB_ERRORS);
                    if w & tfmr::TB_ERRORS == 0 && tfmr::tb_state(w) == TbState::Error as u8 {
                        w = (w & !tfmr::TBST_ENCODED) | TbState::Reset.field();
                    }
                    Some(w)
                });
            self.clear_reads[t].store(CLEAR_READS, Ordering::Release);
            if v & tfmr::TB_ERRORS != 0 {
                self.second_clear_due[t].store(true, Ordering::Release);
            }
        }
    }
}

impl Clock for CoreModel {
    fn now(&self) -> u64 {
        self.tb.load(Ordering::Acquire)
    }
    fn ticks_per_us(&self) -> u64 {
        TB_TICKS_PER_US
    }
    fn pause(&self) {
        self.pauses.fetch_add(1, Ordering::AcqRel);
        self.tod.fetch_add(PAUSE_TICKS, Ordering::AcqRel);
        if self.tb_running() {
            self.tb.fetch_add(PAUSE_TICKS, Ordering::AcqRel);
        }
        (self.pause_hook)();
    }
}

/// Thread `t`'s SPRs ([`ThreadRegs`]).
pub struct ModelRegs<'m> {
    core: &'m CoreModel,
    t: usize,
}

impl ThreadRegs for ModelRegs<'_> {
    fn hmer(&mut self) -> u64 {
        self.core.hmer[self.t].load(Ordering::Acquire)
    }
    fn clear_hmer(&mut self, bits: u64) {
        let old = self.core.hmer[self.t].fetch_and(!bits, Ordering::AcqRel);
        self.core.hmer_clears[self.t].fetch_add(1, Ordering::AcqRel);
        if old & bits != bits {
            self.core.violate(violation::CLEAR_UNSET_HMER);
        }
    }
    fn tfmr(&mut self) -> u64 {
        self.core.read_tfmr(self.t)
    }
    fn write_tfmr(&mut self, v: u64) {
        self.core.write_tfmr(self.t, v)
    }
    fn write_dec(&mut self, v: u64) {
        self.core.dec[self.t].store(v, Ordering::Release);
    }
    fn write_hdec(&mut self, v: u64) {
        self.core.hdec[self.t].store(v, Ordering::Release);
    }
    fn write_purr(&mut self, v: u64) {
        self.core.purr[self.t].store(v, Ordering::Release);
    }
    fn write_spurr(&mut self, v: u64) {
        self.core.spurr[self.t].store(v, Ordering::Release);
    }
    fn write_tb(&mut self, v: u64) {
        if self.core.tb_valid() {
            self.core.violate(violation::TB_WRITE_WHILE_VALID);
        }
        self.core.tb.store(v, Ordering::Release);
    }
}

/// The chip TOD as thread `t` uses it ([`ChipTod`]).
pub struct ModelTod<'m> {
    core: &'m CoreModel,
    t: usize,
}

impl ChipTod for ModelTod<'_> {
    fn resync_core_timebase(&mut self) -> Result<(), TodError> {
        let c = self.core;
        c.resyncs.fetch_add(1, Ordering::AcqRel);
        c.resync_by.fetch_or(1 << self.t, Ordering::AcqRel);
        let w = c.core.load(Ordering::Acquire);
        if w & tfmr::TB_VALID != 0 {
            c.violate(violation::RESYNC_WHILE_VALID);
        }
        if w & (tfmr::TB_ERRORS | tfmr::TFMR_CORRUPT) != 0
            || tfmr::tb_state(w) == TbState::Error as u8
        {
            c.violate(violation::RESYNC_WITH_ERRORS);
            return Err(TodError::TbStateError);
        }
        if c.tod_fails.load(Ordering::Acquire) {
            return Err(TodError::TodNotRunning);
        }
        c.tb.store(c.tod.load(Ordering::Acquire), Ordering::Release);
        let _ = c
            .core
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                Some((w & !tfmr::TBST_ENCODED) | RUNNING)
            });
        Ok(())
    }

    fn recover_tod_errors(&mut self) -> Result<(), TodError> {
        self.core
            .core
            .fetch_and(!tfmr::TOD_ERRORS, Ordering::AcqRel);
        Ok(())
    }
}
