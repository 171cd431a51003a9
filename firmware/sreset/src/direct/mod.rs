// SPDX-License-Identifier: Apache-2.0
//! Core direct controls: special wakeup, stop, sreset and continue of one hardware thread
//! over SCOM, for POWER9 and POWER10 (skiboot `core/direct-controls.c`,
//! hmi-mce-sreset.md §1). This is the body of `OPAL_SIGNAL_SYSTEM_RESET` for one thread.
//!
//! [`DirectControls::sreset`] does, in this order (the order matters, §1.7):
//!
//! 1. assert special wakeup on the thread's core, so that its EC chiplet answers SCOMs
//!    even if the core sits in a clock- or power-gated stop state. Only the first holder
//!    (reference count 0 to 1) writes the request;
//! 2. refuse with [`SresetError::Busy`] if the thread is already stopped, by us (a
//!    continue that failed) or by someone else (RAS status says quiesced);
//! 3. STOP the thread and wait until the RAS status reports it quiesced;
//! 4. SRESET it: the thread restarts at 0x100 (as a power-saving wakeup if it was in
//!    stop);
//! 5. release special wakeup (reference count 1 to 0 only).
//!
//! When anything fails once the STOP has been attempted, the thread is "continued" (START,
//! or CLEAR_MAINT for a thread in stop or not active, as skiboot decides) if it is
//! quiesced, and special wakeup is released whatever happened. The one exception is a
//! wakeup request that never reached DONE: the protocol forbids withdrawing it before DONE
//! (skiboot leaves it asserted too), so it stays asserted in hardware while our reference
//! count stays at zero; the next assert on that core writes it again.
//!
//! What the caller (the OPAL handler) checks first, as skiboot does: `cpu_nr < 0` is
//! `OPAL_CONSTRAINED`, an unknown server `OPAL_PARAMETER`, the calling thread itself
//! `OPAL_PARAMETER`. It also decides whether the token exists at all: QEMU powernv9
//! models neither special wakeup nor the direct controls, and [`DirectControls::probe`]
//! fails there.
//!
//! Waits: polls every [`POLL_INTERVAL_US`], up to [`WAKEUP_TIMEOUT_US`] and
//! [`QUIESCE_TIMEOUT_US`], measured on the timebase. On POWER9 releasing special wakeup
//! also waits 1 µs before and 10 ms after the write, as skiboot does so that a release is
//! never followed at once by another assert.
//!
//! Concurrency: the methods take `&mut self`; the firmware keeps one `DirectControls`
//! behind one lock (skiboot's `sreset_lock` and per-core `dctl_lock` together), because
//! the wakeup reference counts are shared by every user of special wakeup (sreset, HMI
//! recovery, sensors). `OPAL_SIGNAL_SYSTEM_RESET` is allowed on a CPU that re-entered
//! OPAL (the crash path), so that lock must be taken with `try_lock` and a failure
//! answered `OPAL_BUSY`: Linux then falls back to doorbell IPIs.
//!
//! Crash-time behaviour: if the CPU running a sequence is itself stopped half-way (an NMI
//! from a third CPU), the target may stay stopped with special wakeup asserted, and the
//! lock stays held; a later sreset of that target answers `OPAL_BUSY`. Every error path
//! here leaves the table consistent with what was written to the hardware.

mod regs;
#[cfg(test)]
mod tests;

pub use regs::*;

use crate::time::{delay_us, Deadline};
use crate::Clock;
use opal_api::OpalError;

/// Interval between two reads of a status register while waiting.
#[doc(alias = "P9_SPWKUP_POLL_INTERVAL")]
#[doc(alias = "P10_QUIESCE_POLL_INTERVAL")]
pub const POLL_INTERVAL_US: u64 = 100;
/// Budget for special wakeup to report DONE (the deepest stop states take about 5 ms).
#[doc(alias = "P9_SPWKUP_TIMEOUT")]
#[doc(alias = "P10_SPWU_TIMEOUT")]
pub const WAKEUP_TIMEOUT_US: u64 = 100_000;
/// Budget for a thread to quiesce after STOP (long-running instructions), and on POWER10
/// to leave the quiesced state after a continue.
#[doc(alias = "P9_QUIESCE_TIMEOUT")]
#[doc(alias = "P10_QUIESCE_TIMEOUT")]
pub const QUIESCE_TIMEOUT_US: u64 = 100_000;
/// POWER9: pause before writing the release.
pub const P9_RELEASE_DELAY_US: u64 = 1;
/// POWER9: quiet time after the release; other requesters may still hold the core awake,
/// so the release is not polled, and this keeps the next assert from following at once.
pub const P9_RELEASE_SETTLE_US: u64 = 10_000;

/// Hardware threads per core: SMT4 cores only (fused/big cores are out of scope).
pub const THREADS_PER_CORE: u32 = 4;

pub use hal::scom::{Scom, ScomError};

/// Processor generation, which picks the registers. Power11 takes the POWER10 path, as
/// in skiboot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    P9,
    P10,
}

impl Generation {
    /// Cores a chip can have: 24 EC chiplets on POWER9, 8 quads of 4 on POWER10.
    pub const fn cores_per_chip(self) -> u32 {
        match self {
            Generation::P9 => 24,
            Generation::P10 => 32,
        }
    }
}

/// One core: its chip (the XSCOM chip id, `ibm,chip-id`) and its number in that chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreId {
    pub chip: u32,
    pub core: u32,
}

/// One hardware thread of an SMT4 core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadId {
    pub chip: u32,
    pub core: u32,
    pub thread: u32,
}

impl ThreadId {
    /// Decodes a PIR (equal to the server number on non-fused cores) into chip, core and
    /// thread, or `None` if the PIR cannot be a thread of an SMT4 core of `gen`.
    ///
    /// POWER9, normal-core mode (skiboot `P9_PIR2GCID/COREID/THREADID`, `include/chip.h`;
    /// QEMU 10 `pnv_get_pir_tir_p9`: `chip_id << 8 | core << 2 | thread`):
    ///
    /// | PIR bits (IBM) | LSB-0 | field |
    /// |---|---|---|
    /// | 0:48 | 63:15 | reserved, zero |
    /// | 49:55 | 14:8 | chip id (GCID: node 4 bits, chip 3 bits) |
    /// | 56:61 | 7:2 | core (56 is reserved; skiboot folds it in, so cores < 24 leave it 0) |
    /// | 62:63 | 1:0 | thread |
    ///
    /// POWER10, SMT4 (small-core) mode (skiboot `P10_PIR2GCID/COREID/THREADID`; QEMU 10
    /// `pnv_get_pir_tir_p10`, same formula as POWER9):
    ///
    /// | PIR bits (IBM) | LSB-0 | field |
    /// |---|---|---|
    /// | 0:51 | 63:12 | reserved and spare, zero |
    /// | 52:55 | 11:8 | topology id (the chip id) |
    /// | 56:61 | 7:2 | core: 56 spare (0 with 32 cores), 57:59 quad, 60:61 core in quad |
    /// | 62:63 | 1:0 | thread |
    ///
    /// Fused (big-core) mode, where a PIR names one of 8 threads interleaved over a pair
    /// of cores (QEMU `big-core=on`, skiboot `P9_PIRFUSED2NORMAL*`), is out of scope: the
    /// firmware must not offer sreset on such a machine.
    pub const fn from_pir(gen: Generation, pir: u32) -> Option<ThreadId> {
        let (chip_bits, chip_mask) = match gen {
            Generation::P9 => (15, 0x7f),
            Generation::P10 => (12, 0xf),
        };
        let t = ThreadId {
            chip: (pir >> 8) & chip_mask,
            core: (pir >> 2) & 0x3f,
            thread: pir & 0x3,
        };
        if pir >> chip_bits != 0 || t.core >= gen.cores_per_chip() {
            return None;
        }
        Some(t)
    }

    /// The PIR of this thread, the inverse of [`ThreadId::from_pir`].
    pub const fn pir(self, _gen: Generation) -> u32 {
        (self.chip << 8) | (self.core << 2) | self.thread
    }

    pub const fn core_id(self) -> CoreId {
        CoreId {
            chip: self.chip,
            core: self.core,
        }
    }
}

/// Why a direct-controls operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SresetError {
    /// The thread is already stopped: by someone else (RAS status says quiesced) or by an
    /// earlier sreset whose continue failed.
    Busy,
    /// The thread is not one of `gen`'s (core or thread number out of range).
    InvalidThread(ThreadId),
    /// Special wakeup did not report DONE within [`WAKEUP_TIMEOUT_US`]. The request is
    /// left asserted, as the protocol requires.
    WakeupTimeout(CoreId),
    /// Special wakeup reported DONE but the core stayed gated; the request was withdrawn.
    CoreGated(CoreId),
    /// The thread did not quiesce within [`QUIESCE_TIMEOUT_US`] of the STOP.
    QuiesceTimeout(ThreadId),
    /// POWER10: the thread was still quiesced [`QUIESCE_TIMEOUT_US`] after a continue.
    ContinueTimeout(ThreadId),
    /// A SCOM access failed.
    Scom {
        chip: u32,
        pcba: u64,
        error: ScomError,
    },
    /// Every slot of the per-core wakeup table is in use.
    TableFull,
}

impl SresetError {
    /// The code `OPAL_SIGNAL_SYSTEM_RESET` returns for this failure: `OPAL_BUSY` when the
    /// thread was already stopped, `OPAL_HARDWARE` for everything else (skiboot).
    pub const fn opal_error(self) -> OpalError {
        match self {
            SresetError::Busy => OpalError::Busy,
            _ => OpalError::Hardware,
        }
    }
}

impl From<SresetError> for OpalError {
    fn from(e: SresetError) -> Self {
        e.opal_error()
    }
}

/// What we hold on one core: special-wakeup references and the threads we stopped.
#[derive(Clone, Copy, Debug)]
struct CoreSlot {
    core: CoreId,
    wakeups: u32,
    /// Bit `t`: thread `t` was stopped by us and not yet restarted (skiboot
    /// `dctl_stopped`).
    stopped: u8,
}

impl CoreSlot {
    const FREE: CoreSlot = CoreSlot {
        core: CoreId { chip: 0, core: 0 },
        wakeups: 0,
        stopped: 0,
    };

    const fn in_use(&self) -> bool {
        self.wakeups != 0 || self.stopped != 0
    }
}

/// The registers of one core, for one generation.
#[derive(Clone, Copy, Debug)]
struct CoreRegs {
    direct_controls: u64,
    ras_status: u64,
    thread_state: u64,
    thread_info: u64,
    wakeup_request: u64,
    wakeup_status: u64,
}

impl CoreRegs {
    const fn of(gen: Generation, core: u32) -> CoreRegs {
        match gen {
            Generation::P9 => CoreRegs {
                direct_controls: p9_ec(core, P9_EC_DIRECT_CONTROLS),
                ras_status: p9_ec(core, P9_RAS_STATUS),
                thread_state: p9_ec(core, P9_CORE_THREAD_STATE),
                thread_info: p9_ec(core, P9_THREAD_INFO),
                wakeup_request: p9_ec_ppm(core, EC_PPM_SPECIAL_WKUP_HYP),
                wakeup_status: p9_ec_ppm(core, P9_EC_PPM_SSHHYP),
            },
            Generation::P10 => CoreRegs {
                direct_controls: p10_ec(core, P10_EC_DIRECT_CONTROLS),
                ras_status: p10_ec(core, P10_EC_RAS_STATUS),
                thread_state: p10_ec(core, P10_EC_CORE_THREAD_STATE),
                thread_info: p10_ec(core, P10_EC_THREAD_INFO),
                wakeup_request: p10_qme_core(core, P10_QME_SPWU_HYP),
                wakeup_status: p10_qme_core(core, P10_QME_SSH_HYP),
            },
        }
    }
}

/// Direct controls of every core of one machine, with the per-core special-wakeup
/// reference counts in a table of `CORES` slots (a slot is taken while a core has a
/// wakeup reference or a thread we stopped; 64 covers two fully populated POWER10 chips
/// held at once, and holding that many at once is already a bug).
pub struct DirectControls<S, C, const CORES: usize = 64> {
    gen: Generation,
    scom: S,
    clock: C,
    slots: [CoreSlot; CORES],
}

impl<S: Scom, C: Clock, const CORES: usize> DirectControls<S, C, CORES> {
    pub const fn new(gen: Generation, scom: S, clock: C) -> Self {
        Self {
            gen,
            scom,
            clock,
            slots: [CoreSlot::FREE; CORES],
        }
    }

    pub const fn generation(&self) -> Generation {
        self.gen
    }

    pub fn scom(&self) -> &S {
        &self.scom
    }

    pub fn scom_mut(&mut self) -> &mut S {
        &mut self.scom
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// References currently held on `core`'s special wakeup.
    pub fn wakeup_count(&self, core: CoreId) -> u32 {
        self.find(core).map_or(0, |i| self.slots[i].wakeups)
    }

    /// Sends a system reset to thread `t` (the sequence in the module docs). `Ok` means
    /// the SRESET was written: the thread takes the interrupt asynchronously.
    pub fn sreset(&mut self, t: ThreadId) -> Result<(), SresetError> {
        self.check_thread(t)?;
        let core = t.core_id();
        self.assert_special_wakeup(core)?;
        let result = self.stop_then_sreset(t);
        let released = self.release_special_wakeup(core);
        if let (Ok(()), Err(e)) = (result, released) {
            // The reset is on its way; failing now would make Linux send a second NMI by
            // doorbell. The core just stays awake.
            log::error!("SRESET: thread {t:?} was reset but its core kept special wakeup: {e:?}");
        }
        result
    }

    /// Checks that the direct controls of `core` answer: special wakeup reaches DONE and
    /// the core's RAS status can be read. Costs up to [`WAKEUP_TIMEOUT_US`] when they do
    /// not (QEMU powernv9 models no special wakeup and never reports DONE).
    pub fn probe(&mut self, core: CoreId) -> Result<(), SresetError> {
        self.check_thread(ThreadId {
            chip: core.chip,
            core: core.core,
            thread: 0,
        })?;
        self.assert_special_wakeup(core)?;
        let regs = CoreRegs::of(self.gen, core.core);
        let read = self.read(core.chip, regs.ras_status).map(|_| ());
        let released = self.release_special_wakeup(core);
        read.and(released)
    }

    /// Takes a special-wakeup reference on `core`; only the first one (0 to 1) asks the
    /// hardware and waits for DONE. Each `Ok` must be paired with one
    /// [`DirectControls::release_special_wakeup`].
    pub fn assert_special_wakeup(&mut self, core: CoreId) -> Result<(), SresetError> {
        let i = self.slot(core)?;
        if self.slots[i].wakeups == 0 {
            self.hw_assert_wakeup(core)?;
        }
        self.slots[i].wakeups += 1;
        Ok(())
    }

    /// Drops a special-wakeup reference on `core`; the last one (1 to 0) withdraws the
    /// request. A failed withdrawal still drops the reference (the next assert writes the
    /// request again) and is reported.
    pub fn release_special_wakeup(&mut self, core: CoreId) -> Result<(), SresetError> {
        let Some(i) = self.find(core).filter(|&i| self.slots[i].wakeups > 0) else {
            log::warn!("SRESET: release of special wakeup not held on {core:?}");
            return Ok(());
        };
        self.slots[i].wakeups -= 1;
        if self.slots[i].wakeups == 0 {
            self.hw_release_wakeup(core)?;
        }
        Ok(())
    }

    fn check_thread(&self, t: ThreadId) -> Result<(), SresetError> {
        if t.thread >= THREADS_PER_CORE || t.core >= self.gen.cores_per_chip() {
            return Err(SresetError::InvalidThread(t));
        }
        Ok(())
    }

    fn find(&self, core: CoreId) -> Option<usize> {
        self.slots.iter().position(|s| s.in_use() && s.core == core)
    }

    /// The slot of `core`, taking a free one if it has none.
    fn slot(&mut self, core: CoreId) -> Result<usize, SresetError> {
        if let Some(i) = self.find(core) {
            return Ok(i);
        }
        let i = self
            .slots
            .iter()
            .position(|s| !s.in_use())
            .ok_or(SresetError::TableFull)?;
        self.slots[i] = CoreSlot {
            core,
            wakeups: 0,
            stopped: 0,
        };
        Ok(i)
    }

    fn read(&mut self, chip: u32, pcba: u64) -> Result<u64, SresetError> {
        self.scom.read(chip, pcba).map_err(|error| {
            log::error!("SRESET: XSCOM read of {chip}:{pcba:#x} failed: {error:?}");
            SresetError::Scom { chip, pcba, error }
        })
    }

    fn write(&mut self, chip: u32, pcba: u64, value: u64) -> Result<(), SresetError> {
        self.scom.write(chip, pcba, value).map_err(|error| {
            log::error!("SRESET: XSCOM write of {value:#x} to {chip}:{pcba:#x} failed: {error:?}");
            SresetError::Scom { chip, pcba, error }
        })
    }

    /// Reads `pcba` every [`POLL_INTERVAL_US`] until `done` holds for the value or
    /// `timeout_us` has passed. The last read comes after the deadline, so a condition
    /// met just in time is not missed. `Ok(None)` on timeout.
    fn poll(
        &mut self,
        chip: u32,
        pcba: u64,
        timeout_us: u64,
        done: impl Fn(u64) -> bool,
    ) -> Result<Option<u64>, SresetError> {
        let deadline = Deadline::after_us(&self.clock, timeout_us);
        loop {
            let value = self.read(chip, pcba)?;
            if done(value) {
                return Ok(Some(value));
            }
            if deadline.passed(&self.clock) {
                return Ok(None);
            }
            delay_us(&self.clock, POLL_INTERVAL_US);
        }
    }

    fn hw_assert_wakeup(&mut self, core: CoreId) -> Result<(), SresetError> {
        let regs = CoreRegs::of(self.gen, core.core);
        let (request, done, gated) = match self.gen {
            Generation::P9 => (P9_SPWKUP_SET, P9_SPECIAL_WKUP_DONE, P9_CORE_GATED),
            Generation::P10 => (P10_SPWU_REQ, P10_SSH_SPWU_DONE, P10_SSH_CORE_GATED),
        };
        self.write(core.chip, regs.wakeup_request, request)?;
        // From here on a failure leaves the request asserted until DONE is seen: the
        // protocol does not allow withdrawing it earlier.
        let Some(status) = self.poll(core.chip, regs.wakeup_status, WAKEUP_TIMEOUT_US, |v| {
            v & done != 0
        })?
        else {
            log::error!("SRESET: special wakeup of {core:?} timed out (left asserted)");
            return Err(SresetError::WakeupTimeout(core));
        };
        if status & gated == 0 {
            return Ok(());
        }
        // DONE with the core still gated. POWER10 QME microcode can report that while the
        // core is in fact awake, and then sets DONE in the request register too.
        if self.gen == Generation::P10
            && self.read(core.chip, regs.wakeup_request)? & P10_SPWU_DONE != 0
        {
            log::debug!("SRESET: {core:?} reports gated with SPWU_HYP DONE set; taken as awake");
            return Ok(());
        }
        log::error!("SRESET: special wakeup of {core:?} done but the core stays gated");
        // DONE was seen, so withdrawing is allowed; nothing more can be done if it fails.
        let _ = self.write(core.chip, regs.wakeup_request, 0);
        Err(SresetError::CoreGated(core))
    }

    fn hw_release_wakeup(&mut self, core: CoreId) -> Result<(), SresetError> {
        let regs = CoreRegs::of(self.gen, core.core);
        match self.gen {
            Generation::P9 => {
                delay_us(&self.clock, P9_RELEASE_DELAY_US);
                self.write(core.chip, regs.wakeup_request, 0)?;
                delay_us(&self.clock, P9_RELEASE_SETTLE_US);
            }
            Generation::P10 => self.write(core.chip, regs.wakeup_request, 0)?,
        }
        Ok(())
    }

    fn thread_quiesced(&mut self, t: ThreadId) -> Result<bool, SresetError> {
        let regs = CoreRegs::of(self.gen, t.core);
        let ras = self.read(t.chip, regs.ras_status)?;
        Ok(quiesced(self.gen, ras, t.thread))
    }

    /// Steps 2 to 4, with special wakeup held. Restarts the thread on any failure after
    /// the STOP was attempted.
    fn stop_then_sreset(&mut self, t: ThreadId) -> Result<(), SresetError> {
        let i = self.slot(t.core_id())?;
        let bit = 1u8 << t.thread;
        if self.slots[i].stopped & bit != 0 {
            log::error!("SRESET: thread {t:?} is still stopped from an earlier failure");
            return Err(SresetError::Busy);
        }
        if self.thread_quiesced(t)? {
            log::error!("SRESET: thread {t:?} is quiesced already");
            return Err(SresetError::Busy);
        }
        // Marked before the write: a write that reports failure may still have landed.
        self.slots[i].stopped |= bit;
        let regs = CoreRegs::of(self.gen, t.core);
        let result = self
            .write(t.chip, regs.direct_controls, thread_stop(t.thread))
            .and_then(|()| self.wait_quiesced(t))
            .and_then(|()| self.write(t.chip, regs.direct_controls, thread_sreset(t.thread)));
        match result {
            // SRESET restarts the thread.
            Ok(()) => self.slots[i].stopped &= !bit,
            Err(_) => {
                if let Err(e) = self.continue_thread(t) {
                    log::error!("SRESET: could not restart thread {t:?}: {e:?}");
                }
            }
        }
        result
    }

    fn wait_quiesced(&mut self, t: ThreadId) -> Result<(), SresetError> {
        let regs = CoreRegs::of(self.gen, t.core);
        let gen = self.gen;
        match self.poll(t.chip, regs.ras_status, QUIESCE_TIMEOUT_US, |ras| {
            quiesced(gen, ras, t.thread)
        })? {
            Some(_) => Ok(()),
            None => {
                log::error!("SRESET: thread {t:?} did not quiesce");
                Err(SresetError::QuiesceTimeout(t))
            }
        }
    }

    /// Restarts a thread we stopped (skiboot `p9_cont_thread`/`p10_cont_thread`). A
    /// thread that is not quiesced has nothing to undo (a STOP that failed or has not
    /// taken effect). A thread that was in stop, or not active, goes back through
    /// CLEAR_MAINT; a running one through START.
    fn continue_thread(&mut self, t: ThreadId) -> Result<(), SresetError> {
        let i = self.slot(t.core_id())?;
        let bit = 1u8 << t.thread;
        if !self.thread_quiesced(t)? {
            self.slots[i].stopped &= !bit;
            return Ok(());
        }
        let regs = CoreRegs::of(self.gen, t.core);
        let in_stop = self.read(t.chip, regs.thread_state)? & thread_in_stop(t.thread) != 0;
        let active = self.read(t.chip, regs.thread_info)? & thread_active(t.thread) != 0;
        let command = if in_stop || !active {
            thread_clear_maint(t.thread)
        } else {
            thread_start(t.thread)
        };
        self.write(t.chip, regs.direct_controls, command)?;
        if self.gen == Generation::P10 {
            let gen = self.gen;
            let left = self.poll(t.chip, regs.ras_status, QUIESCE_TIMEOUT_US, |ras| {
                !quiesced(gen, ras, t.thread)
            })?;
            if left.is_none() {
                return Err(SresetError::ContinueTimeout(t));
            }
        }
        self.slots[i].stopped &= !bit;
        Ok(())
    }
}

/// Whether RAS_STATUS `ras` shows thread `t` stopped for sreset.
const fn quiesced(gen: Generation, ras: u64, t: u32) -> bool {
    let need = match gen {
        Generation::P9 => p9_thread_quiesced(t),
        Generation::P10 => p10_thread_maint(t) | p10_thread_quiesced(t),
    };
    ras & need == need
}
