// SPDX-License-Identifier: Apache-2.0
//! A host-side model of the registers the direct controls use: special wakeup, the
//! thread-state registers and the direct-controls command register, for POWER9 and
//! POWER10 as the hardware behaves, and for QEMU 10's powernv9/powernv10 as QEMU behaves
//! (hmi-mce-sreset.md §1.3, §1.4, §1.6).
//!
//! Hardware behaviour ([`Machine::P9`], [`Machine::P10`]):
//!
//! * **Special wakeup**: writing the HYP request sets it; DONE follows after
//!   [`Model::set_wakeup_latency_us`] unless the core is told otherwise ([`Wakeup`]).
//!   Withdrawing the request clears DONE, and a core in deep stop (all threads in stop)
//!   gates again. A gated core fails every EC register access with
//!   [`ScomError::ChipletOff`]; the PPM (P9) and QME (P10) registers always answer.
//! * **Threads** run, sit in a stop state (`CORE_THREAD_STATE` bit) or are inactive
//!   (`THREAD_INFO` bit clear). A direct-controls STOP quiesces the thread after
//!   [`Model::set_quiesce_latency_us`]; until then RAS_STATUS shows only *part* of the
//!   quiesced bits (P9: 2 of the 4, P10: QUIESCED without MAINT), so code that checks
//!   fewer bits than skiboot does reads a thread as stopped too early.
//! * **SRESET** of a quiesced thread restarts it and records a [`SresetTaken`]; START and
//!   CLEAR_MAINT restart it without one.
//!
//! Protocol mistakes are recorded as [`Violation`]s (tests call
//! [`Model::assert_no_violations`]): touching the EC without special wakeup DONE,
//! withdrawing a request before DONE was seen, SRESET of a thread that is not stopped,
//! START where CLEAR_MAINT is due and the reverse, a continue of a thread that is not
//! quiesced, and on P9 an assert less than 10 ms after a release.
//!
//! QEMU 10.0 behaviour ([`Machine::QemuPowernv10`], `hw/ppc/pnv_core.c`): one special-
//! wakeup DONE flag per *quad*, set or cleared by whichever core of the quad wrote its
//! request last; SPWU_HYP reads as all-ones; CORE_GATED is always 0; THREAD_INFO is always
//! 0; RAS_STATUS shows bits 8t and 8t+1 while a thread is paused; START and CLEAR_MAINT
//! both resume; SRESET resets any thread, paused or not. No violations are checked,
//! since QEMU checks none. [`Machine::QemuPowernv9`]: special wakeup reads 0 and ignores
//! writes, SSHHYP and the direct controls are not modelled (reads 0, writes ignored).
//!
//! Time: each SCOM access moves the shared [`Timebase`] forward by
//! [`Model::set_scom_latency_us`], and so does every `pause` of a wait, so a 100 ms
//! timeout runs in test time. Every attempted write is logged in order
//! ([`Model::writes`]).
//!
//! Not modelled: the other special-wakeup requesters (OTR, FSP, OCC), multicast SCOM,
//! thread-state changes not caused by the firmware (a thread entering stop on its own),
//! and what real POWER10 RAS_STATUS shows for a thread in stop before any STOP (taken as
//! "not quiesced", as QEMU does; uncertain).

use core::cell::Cell;

use hal::bits::ppc_bitmask;

use crate::direct::{
    p10_thread_ict_empty, p10_thread_maint, p10_thread_quiesced, p9_thread_quiesced, thread_active,
    thread_clear_maint, thread_in_stop, thread_sreset, thread_start, thread_stop, CoreId,
    Generation, Scom, ScomError, ThreadId, P10_SPWU_DONE, P10_SPWU_REQ, P10_SSH_CORE_GATED,
    P10_SSH_SPWU_DONE, P9_CORE_GATED, P9_SPECIAL_WKUP_DONE, P9_SPWKUP_SET, THREADS_PER_CORE,
};
use crate::Clock;

/// Chips in the model, and cores per chip (POWER9 uses the first 24).
pub const MODEL_CHIPS: usize = 2;
pub const MODEL_CORES: usize = 32;
/// Entries of the write log and of the sreset and violation records.
pub const LOG_CAPACITY: usize = 256;
pub const RECORD_CAPACITY: usize = 64;

const TB_TICKS_PER_US: u64 = 512;
/// POWER9 back-to-back rule: no assert within this time of a release.
const P9_REASSERT_GAP_US: u64 = 10_000;

/// A fake timebase at 512 MHz, shared by the model and the code under test. `pause`
/// moves it forward by 1 µs.
#[derive(Debug, Default)]
pub struct Timebase {
    ticks: Cell<u64>,
}

impl Timebase {
    pub const fn new() -> Self {
        Self {
            ticks: Cell::new(0),
        }
    }

    pub fn now_us(&self) -> u64 {
        self.ticks.get() / TB_TICKS_PER_US
    }

    pub fn advance_us(&self, us: u64) {
        self.ticks.set(self.ticks.get() + us * TB_TICKS_PER_US);
    }
}

impl Clock for Timebase {
    fn now(&self) -> u64 {
        self.ticks.get()
    }
    fn ticks_per_us(&self) -> u64 {
        TB_TICKS_PER_US
    }
    fn pause(&self) {
        self.advance_us(1);
    }
}

/// Which machine the model behaves like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    P9,
    P10,
    QemuPowernv9,
    QemuPowernv10,
}

impl Machine {
    pub const fn generation(self) -> Generation {
        match self {
            Machine::P9 | Machine::QemuPowernv9 => Generation::P9,
            Machine::P10 | Machine::QemuPowernv10 => Generation::P10,
        }
    }

    const fn is_qemu(self) -> bool {
        matches!(self, Machine::QemuPowernv9 | Machine::QemuPowernv10)
    }
}

/// How the power-management microcontroller (P9 CME, P10 QME) answers a special-wakeup
/// request on one core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wakeup {
    /// DONE after the wakeup latency; the core is ungated.
    Grant,
    /// DONE never comes.
    Never,
    /// DONE comes but the core stays gated (P10: SPWU_HYP DONE stays clear).
    StaysGated,
    /// POWER10 microcode bug: the status says DONE *and* gated, SPWU_HYP says DONE, and
    /// the core is in fact awake.
    GatedButDone,
}

/// One SCOM write, as attempted (a write that failed by [`Model::fail_scom`] is logged
/// too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    pub chip: u32,
    pub pcba: u64,
    pub value: u64,
}

/// A system reset the model delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SresetTaken {
    pub thread: ThreadId,
    /// The thread was in a stop state: it sees a power-saving wakeup (SRR1 reason 0b0100).
    pub from_stop: bool,
    pub at_us: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// An EC register of the core was accessed without special wakeup DONE: it works on
    /// an awake core and fails the day the core is in deep stop.
    EcWithoutWakeup,
    /// The request was withdrawn before DONE was ever read back.
    ReleasedBeforeDone,
    /// POWER9: special wakeup asserted less than 10 ms after it was released.
    ReassertedTooSoon,
    /// SRESET of a thread that is not stopped by the direct controls.
    SresetNotStopped,
    /// START of a thread that was in stop or inactive (CLEAR_MAINT was due).
    StartWhereClearMaint,
    /// CLEAR_MAINT of a thread that was running and active (START was due).
    ClearMaintWhereStart,
    /// START or CLEAR_MAINT of a thread that is not quiesced.
    ContinueNotQuiesced,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub core: CoreId,
    pub thread: Option<u32>,
    pub at_us: u64,
}

/// Which accesses of an address fail by [`Model::fail_scom`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    AnyWrite,
    /// Writes whose value has a bit of the mask set.
    WriteWithBits(u64),
    /// Writes of exactly this value.
    WriteOf(u64),
}

#[derive(Clone, Copy, Debug)]
struct FailRule {
    chip: u32,
    pcba: u64,
    access: Access,
    error: ScomError,
    /// The access takes effect and still reports the error (an XSCOM timeout after the
    /// write reached the chiplet).
    lands: bool,
}

/// A thread's direct-controls state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dctl {
    Running,
    /// STOP written at `since_us`; quiesced once the latency has passed.
    Stopping {
        since_us: u64,
    },
    Stopped,
}

#[derive(Clone, Copy, Debug)]
struct ThreadModel {
    in_stop: bool,
    active: bool,
    dctl: Dctl,
    never_quiesces: bool,
}

impl ThreadModel {
    const RUNNING: ThreadModel = ThreadModel {
        in_stop: false,
        active: true,
        dctl: Dctl::Running,
        never_quiesces: false,
    };
}

#[derive(Clone, Copy, Debug)]
struct CoreModel {
    wakeup: Wakeup,
    request: bool,
    requested_at_us: u64,
    done_seen: bool,
    released_at_us: Option<u64>,
    /// Clocks or power off: EC accesses fail.
    gated: bool,
    /// The core gates again when the request goes and every thread is in stop.
    deep: bool,
    threads: [ThreadModel; THREADS_PER_CORE as usize],
}

impl CoreModel {
    const AWAKE: CoreModel = CoreModel {
        wakeup: Wakeup::Grant,
        request: false,
        requested_at_us: 0,
        done_seen: false,
        released_at_us: None,
        gated: false,
        deep: false,
        threads: [ThreadModel::RUNNING; THREADS_PER_CORE as usize],
    };
}

/// Which register an address names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reg {
    WakeupRequest,
    WakeupStatus,
    DirectControls,
    RasStatus,
    ThreadState,
    ThreadInfo,
    /// In a core's region but not one of ours: QEMU answers 0, the model fails it.
    Other,
}

/// The model. See the module documentation.
pub struct Model<'t> {
    machine: Machine,
    tb: &'t Timebase,
    scom_latency_us: u64,
    wakeup_latency_us: u64,
    quiesce_latency_us: u64,
    cores: [[CoreModel; MODEL_CORES]; MODEL_CHIPS],
    /// QEMU powernv10: the per-quad special-wakeup DONE flag.
    quad_done: [[bool; MODEL_CORES / 4]; MODEL_CHIPS],
    fail: [Option<FailRule>; 4],
    writes: [Write; LOG_CAPACITY],
    nwrites: usize,
    sresets: [Option<SresetTaken>; RECORD_CAPACITY],
    nsresets: usize,
    violations: [Option<Violation>; RECORD_CAPACITY],
    nviolations: usize,
}

impl<'t> Model<'t> {
    /// Every core of every chip awake, every thread running and active.
    pub fn new(machine: Machine, tb: &'t Timebase) -> Self {
        Self {
            machine,
            tb,
            scom_latency_us: 1,
            wakeup_latency_us: 5,
            quiesce_latency_us: 2,
            cores: [[CoreModel::AWAKE; MODEL_CORES]; MODEL_CHIPS],
            quad_done: [[false; MODEL_CORES / 4]; MODEL_CHIPS],
            fail: [None; 4],
            writes: [Write {
                chip: 0,
                pcba: 0,
                value: 0,
            }; LOG_CAPACITY],
            nwrites: 0,
            sresets: [None; RECORD_CAPACITY],
            nsresets: 0,
            violations: [None; RECORD_CAPACITY],
            nviolations: 0,
        }
    }

    pub fn machine(&self) -> Machine {
        self.machine
    }

    // ----- knobs -----------------------------------------------------------------------

    pub fn set_scom_latency_us(&mut self, us: u64) -> &mut Self {
        self.scom_latency_us = us;
        self
    }

    pub fn set_wakeup_latency_us(&mut self, us: u64) -> &mut Self {
        self.wakeup_latency_us = us;
        self
    }

    pub fn set_quiesce_latency_us(&mut self, us: u64) -> &mut Self {
        self.quiesce_latency_us = us;
        self
    }

    pub fn set_wakeup(&mut self, core: CoreId, wakeup: Wakeup) -> &mut Self {
        self.core_mut(core).wakeup = wakeup;
        self
    }

    /// Puts `core` in deep stop: every thread in stop, the core gated until special
    /// wakeup, and gated again when it is withdrawn while the threads still sleep.
    pub fn core_in_deep_stop(&mut self, core: CoreId) -> &mut Self {
        let c = self.core_mut(core);
        c.gated = true;
        c.deep = true;
        for t in &mut c.threads {
            t.in_stop = true;
        }
        self
    }

    /// Thread `t` is executing a (shallow) stop state: the core stays clocked.
    pub fn thread_in_stop(&mut self, t: ThreadId) -> &mut Self {
        self.thread_mut(t).in_stop = true;
        self
    }

    /// Thread `t` is not active (never started, or offline with its core running).
    pub fn thread_inactive(&mut self, t: ThreadId) -> &mut Self {
        self.thread_mut(t).active = false;
        self
    }

    /// Thread `t` ignores STOP: it never quiesces.
    pub fn thread_never_quiesces(&mut self, t: ThreadId) -> &mut Self {
        self.thread_mut(t).never_quiesces = true;
        self
    }

    /// Thread `t` is already stopped by the direct controls (a debugger, an earlier
    /// user).
    pub fn thread_already_stopped(&mut self, t: ThreadId) -> &mut Self {
        self.thread_mut(t).dctl = Dctl::Stopped;
        self
    }

    /// Accesses of `pcba` on `chip` matching `access` fail with `error` and have no
    /// effect. Up to four rules, with [`Model::fail_scom_after_effect`].
    pub fn fail_scom(
        &mut self,
        chip: u32,
        pcba: u64,
        access: Access,
        error: ScomError,
    ) -> &mut Self {
        self.add_rule(FailRule {
            chip,
            pcba,
            access,
            error,
            lands: false,
        })
    }

    /// As [`Model::fail_scom`], but the access takes effect before it reports `error`.
    pub fn fail_scom_after_effect(
        &mut self,
        chip: u32,
        pcba: u64,
        access: Access,
        error: ScomError,
    ) -> &mut Self {
        self.add_rule(FailRule {
            chip,
            pcba,
            access,
            error,
            lands: true,
        })
    }

    fn add_rule(&mut self, rule: FailRule) -> &mut Self {
        let slot = self
            .fail
            .iter_mut()
            .find(|r| r.is_none())
            .expect("model: at most four failure rules");
        *slot = Some(rule);
        self
    }

    pub fn clear_failures(&mut self) -> &mut Self {
        self.fail = [None; 4];
        self
    }

    // ----- what tests look at ----------------------------------------------------------

    /// Every write attempted since the last [`Model::clear_log`], in order.
    pub fn writes(&self) -> &[Write] {
        &self.writes[..self.nwrites]
    }

    pub fn clear_log(&mut self) {
        self.nwrites = 0;
    }

    /// Every system reset delivered, in order.
    pub fn sresets(&self) -> impl Iterator<Item = SresetTaken> + '_ {
        self.sresets[..self.nsresets].iter().flatten().copied()
    }

    pub fn violations(&self) -> impl Iterator<Item = Violation> + '_ {
        self.violations[..self.nviolations]
            .iter()
            .flatten()
            .copied()
    }

    pub fn assert_no_violations(&self) {
        if let Some(v) = self.violations().next() {
            panic!(
                "model: {} protocol violation(s), first: {v:?}",
                self.nviolations
            );
        }
    }

    /// Whether our (HYP) special-wakeup request is asserted in hardware.
    pub fn wakeup_requested(&self, core: CoreId) -> bool {
        self.core(core).request
    }

    pub fn core_gated(&self, core: CoreId) -> bool {
        self.core(core).gated
    }

    /// The thread is running instructions: not stopped by the direct controls, not in stop.
    pub fn thread_running(&self, t: ThreadId) -> bool {
        let th = self.thread(t);
        !th.in_stop && self.dctl_now(th) == Dctl::Running
    }

    pub fn thread_sleeping(&self, t: ThreadId) -> bool {
        self.thread(t).in_stop
    }

    /// The thread is stopped (quiesced) by the direct controls.
    pub fn thread_quiesced(&self, t: ThreadId) -> bool {
        self.dctl_now(self.thread(t)) == Dctl::Stopped
    }

    // ----- internals -------------------------------------------------------------------

    fn core(&self, core: CoreId) -> &CoreModel {
        &self.cores[core.chip as usize][core.core as usize]
    }

    fn core_mut(&mut self, core: CoreId) -> &mut CoreModel {
        &mut self.cores[core.chip as usize][core.core as usize]
    }

    fn thread(&self, t: ThreadId) -> &ThreadModel {
        &self.core(t.core_id()).threads[t.thread as usize]
    }

    fn thread_mut(&mut self, t: ThreadId) -> &mut ThreadModel {
        &mut self.core_mut(t.core_id()).threads[t.thread as usize]
    }

    fn dctl_now(&self, th: &ThreadModel) -> Dctl {
        match th.dctl {
            Dctl::Stopping { since_us }
                if !th.never_quiesces && self.tb.now_us() - since_us >= self.quiesce_latency_us =>
            {
                Dctl::Stopped
            }
            d => d,
        }
    }

    /// Hardware: brings the lazily-timed state of `core` up to now: a granted wakeup
    /// ungates the core once DONE is due.
    fn settle(&mut self, core: CoreId) {
        let awake = matches!(self.core(core).wakeup, Wakeup::Grant | Wakeup::GatedButDone);
        if awake && self.wakeup_done(core) {
            self.core_mut(core).gated = false;
        }
    }

    fn wakeup_done(&self, core: CoreId) -> bool {
        let c = self.core(core);
        c.request
            && c.wakeup != Wakeup::Never
            && self.tb.now_us() - c.requested_at_us >= self.wakeup_latency_us
    }

    fn violation(&mut self, kind: ViolationKind, core: CoreId, thread: Option<u32>) {
        if self.machine.is_qemu() {
            return;
        }
        let v = Violation {
            kind,
            core,
            thread,
            at_us: self.tb.now_us(),
        };
        if self.nviolations < RECORD_CAPACITY {
            self.violations[self.nviolations] = Some(v);
        }
        self.nviolations += 1;
    }

    /// Decodes a PCB address into the core and register it names, independently of the
    /// firmware's address helpers.
    fn decode(&self, chip: u32, pcba: u64) -> Option<(CoreId, Reg)> {
        if chip as usize >= MODEL_CHIPS || pcba >> 32 != 0 {
            return None;
        }
        let chiplet = (pcba >> 24) & 0x3f;
        match self.machine.generation() {
            Generation::P9 => {
                let core = chiplet.checked_sub(0x20).filter(|&c| c < 24)? as u32;
                let reg = match pcba & 0xff_ffff {
                    0xf010d => Reg::WakeupRequest,
                    0xf0114 => Reg::WakeupStatus,
                    0x10a9c => Reg::DirectControls,
                    0x10a02 => Reg::RasStatus,
                    0x10ab3 => Reg::ThreadState,
                    0x10a9b => Reg::ThreadInfo,
                    _ => Reg::Other,
                };
                Some((CoreId { chip, core }, reg))
            }
            Generation::P10 => {
                let quad = chiplet.checked_sub(0x20).filter(|&q| q < 8)? as u32;
                let position = match (pcba >> 12) & 0xf {
                    0x8 => 0,
                    0x4 => 1,
                    0x2 => 2,
                    0x1 => 3,
                    _ => return None, // multicast or no core: not modelled
                };
                let reg = match ((pcba >> 16) & 0xf, pcba & 0xfff) {
                    (0xe, 0x83c) => Reg::WakeupRequest,
                    (0xe, 0x82c) => Reg::WakeupStatus,
                    (0x2, 0x449) => Reg::DirectControls,
                    (0x2, 0x454) => Reg::RasStatus,
                    (0x2, 0x412) => Reg::ThreadState,
                    (0x2, 0x413) => Reg::ThreadInfo,
                    (0x2 | 0xe, _) => Reg::Other,
                    _ => return None,
                };
                Some((
                    CoreId {
                        chip,
                        core: quad * 4 + position,
                    },
                    reg,
                ))
            }
        }
    }

    fn failure(&self, chip: u32, pcba: u64, write: Option<u64>) -> Option<FailRule> {
        self.fail.iter().flatten().find_map(|r| {
            let hit = r.chip == chip
                && r.pcba == pcba
                && match (r.access, write) {
                    (Access::Read, None) => true,
                    (Access::AnyWrite, Some(_)) => true,
                    (Access::WriteWithBits(mask), Some(v)) => v & mask != 0,
                    (Access::WriteOf(value), Some(v)) => v == value,
                    _ => false,
                };
            hit.then_some(*r)
        })
    }

    /// Hardware: an EC access must find the core ungated, and should find our wakeup DONE.
    fn ec_access(&mut self, core: CoreId) -> Result<(), ScomError> {
        if self.machine.is_qemu() {
            return Ok(());
        }
        self.settle(core);
        if self.core(core).gated {
            return Err(ScomError::ChipletOff);
        }
        if !self.wakeup_done(core) {
            self.violation(ViolationKind::EcWithoutWakeup, core, None);
        }
        Ok(())
    }

    fn read_reg(&mut self, core: CoreId, reg: Reg) -> Result<u64, ScomError> {
        let gen = self.machine.generation();
        match (self.machine, reg) {
            (Machine::QemuPowernv9, Reg::WakeupRequest) => return Ok(0),
            (Machine::QemuPowernv9, _) => return Ok(0), // SSHHYP and the EC: not modelled
            (Machine::QemuPowernv10, Reg::WakeupRequest) => return Ok(u64::MAX),
            (Machine::QemuPowernv10, Reg::WakeupStatus) => {
                let done = self.quad_done[core.chip as usize][core.core as usize / 4];
                return Ok(if done {
                    P10_SSH_SPWU_DONE | P10_SPWU_DONE
                } else {
                    0
                });
            }
            (Machine::QemuPowernv10, Reg::ThreadInfo | Reg::Other) => return Ok(0),
            _ => {}
        }
        match reg {
            Reg::WakeupRequest => {
                self.settle(core);
                let c = self.core(core);
                let mut v = if c.request { P9_SPWKUP_SET } else { 0 };
                if gen == Generation::P10
                    && self.wakeup_done(core)
                    && c.wakeup != Wakeup::StaysGated
                {
                    v |= P10_SPWU_DONE;
                }
                Ok(v)
            }
            Reg::WakeupStatus => {
                self.settle(core);
                let done = self.wakeup_done(core);
                let c = self.core(core);
                let reports_gated = c.gated || done && c.wakeup == Wakeup::GatedButDone;
                let (done_bit, gated_bit) = match gen {
                    Generation::P9 => (P9_SPECIAL_WKUP_DONE, P9_CORE_GATED),
                    Generation::P10 => (P10_SSH_SPWU_DONE, P10_SSH_CORE_GATED),
                };
                if done {
                    self.core_mut(core).done_seen = true;
                }
                Ok(if done { done_bit } else { 0 } | if reports_gated { gated_bit } else { 0 })
            }
            Reg::RasStatus => {
                self.ec_access(core)?;
                let mut v = 0;
                for t in 0..THREADS_PER_CORE {
                    let th = self.core(core).threads[t as usize];
                    v |= self.ras_bits(gen, t, self.dctl_now(&th));
                }
                Ok(v)
            }
            Reg::ThreadState => {
                self.ec_access(core)?;
                let c = self.core(core);
                Ok((0..THREADS_PER_CORE)
                    .filter(|&t| c.threads[t as usize].in_stop)
                    .fold(0, |v, t| v | thread_in_stop(t)))
            }
            Reg::ThreadInfo => {
                self.ec_access(core)?;
                let c = self.core(core);
                Ok((0..THREADS_PER_CORE)
                    .filter(|&t| c.threads[t as usize].active)
                    .fold(0, |v, t| v | thread_active(t)))
            }
            Reg::DirectControls => {
                self.ec_access(core)?;
                Ok(0)
            }
            Reg::Other => Err(ScomError::Address),
        }
    }

    fn ras_bits(&self, gen: Generation, t: u32, dctl: Dctl) -> u64 {
        match (self.machine, dctl) {
            (_, Dctl::Running) => 0,
            (Machine::QemuPowernv10, Dctl::Stopping { .. }) => 0,
            (Machine::QemuPowernv10, Dctl::Stopped) => p10_thread_maint(t) | p10_thread_quiesced(t),
            // Part way: the bits that come first, not all that skiboot waits for.
            (_, Dctl::Stopping { .. }) => match gen {
                Generation::P9 => ppc_bitmask(8 * t, 8 * t + 1),
                Generation::P10 => p10_thread_quiesced(t),
            },
            (_, Dctl::Stopped) => match gen {
                Generation::P9 => p9_thread_quiesced(t),
                Generation::P10 => {
                    p10_thread_maint(t) | p10_thread_quiesced(t) | p10_thread_ict_empty(t)
                }
            },
        }
    }

    fn write_reg(&mut self, core: CoreId, reg: Reg, value: u64) -> Result<(), ScomError> {
        match (self.machine, reg) {
            (Machine::QemuPowernv9, _) => return Ok(()),
            (Machine::QemuPowernv10, Reg::WakeupRequest) => {
                // Last write wins for the whole quad.
                self.quad_done[core.chip as usize][core.core as usize / 4] =
                    value & P10_SPWU_REQ != 0;
                self.core_mut(core).request = value & P10_SPWU_REQ != 0;
                return Ok(());
            }
            (Machine::QemuPowernv10, Reg::DirectControls) => {
                self.qemu_direct_controls(core, value);
                return Ok(());
            }
            (Machine::QemuPowernv10, _) => return Ok(()),
            _ => {}
        }
        match reg {
            Reg::WakeupRequest => {
                self.settle(core);
                let now = self.tb.now_us();
                let gen = self.machine.generation();
                let on = value & P9_SPWKUP_SET != 0; // bit 0 on both generations
                let c = *self.core(core);
                if on && !c.request {
                    if gen == Generation::P9
                        && c.released_at_us
                            .is_some_and(|r| now - r < P9_REASSERT_GAP_US)
                    {
                        self.violation(ViolationKind::ReassertedTooSoon, core, None);
                    }
                    let c = self.core_mut(core);
                    c.request = true;
                    c.requested_at_us = now;
                    c.done_seen = false;
                } else if !on && c.request {
                    if !c.done_seen {
                        self.violation(ViolationKind::ReleasedBeforeDone, core, None);
                    }
                    let c = self.core_mut(core);
                    c.request = false;
                    c.released_at_us = Some(now);
                    if c.deep && c.threads.iter().all(|t| t.in_stop || !t.active) {
                        c.gated = true;
                    }
                }
                Ok(())
            }
            Reg::DirectControls => {
                self.ec_access(core)?;
                self.hw_direct_controls(core, value);
                Ok(())
            }
            Reg::RasStatus | Reg::ThreadState | Reg::ThreadInfo => {
                // Status registers: a write changes nothing.
                self.ec_access(core)
            }
            Reg::WakeupStatus => Ok(()),
            Reg::Other => Err(ScomError::Address),
        }
    }

    fn hw_direct_controls(&mut self, core: CoreId, value: u64) {
        let now = self.tb.now_us();
        for t in 0..THREADS_PER_CORE {
            let tid = ThreadId {
                chip: core.chip,
                core: core.core,
                thread: t,
            };
            let th = *self.thread(tid);
            let dctl = self.dctl_now(&th);
            if value & thread_stop(t) != 0 && dctl == Dctl::Running {
                self.thread_mut(tid).dctl = Dctl::Stopping { since_us: now };
            }
            let start = value & thread_start(t) != 0;
            let clear_maint = value & thread_clear_maint(t) != 0;
            if start || clear_maint {
                if dctl != Dctl::Stopped {
                    self.violation(ViolationKind::ContinueNotQuiesced, core, Some(t));
                } else if start && (th.in_stop || !th.active) {
                    self.violation(ViolationKind::StartWhereClearMaint, core, Some(t));
                } else if clear_maint && !th.in_stop && th.active {
                    self.violation(ViolationKind::ClearMaintWhereStart, core, Some(t));
                }
                self.thread_mut(tid).dctl = Dctl::Running;
            }
            if value & thread_sreset(t) != 0 {
                if self.dctl_now(self.thread(tid)) != Dctl::Stopped {
                    self.violation(ViolationKind::SresetNotStopped, core, Some(t));
                }
                self.deliver_sreset(tid);
            }
        }
    }

    fn qemu_direct_controls(&mut self, core: CoreId, value: u64) {
        let now = self.tb.now_us();
        for t in 0..THREADS_PER_CORE {
            let tid = ThreadId {
                chip: core.chip,
                core: core.core,
                thread: t,
            };
            if value & thread_stop(t) != 0 && self.thread(tid).dctl == Dctl::Running {
                // cpu_pause(): the vCPU stops when its thread next looks.
                self.thread_mut(tid).dctl = Dctl::Stopping { since_us: now };
            }
            if value & (thread_start(t) | thread_clear_maint(t)) != 0 {
                self.thread_mut(tid).dctl = Dctl::Running;
            }
            if value & thread_sreset(t) != 0 {
                self.deliver_sreset(tid);
            }
        }
    }

    fn deliver_sreset(&mut self, t: ThreadId) {
        let from_stop = self.thread(t).in_stop;
        let th = self.thread_mut(t);
        th.in_stop = false;
        th.active = true;
        th.dctl = Dctl::Running;
        let taken = SresetTaken {
            thread: t,
            from_stop,
            at_us: self.tb.now_us(),
        };
        if self.nsresets < RECORD_CAPACITY {
            self.sresets[self.nsresets] = Some(taken);
            self.nsresets += 1;
        }
    }

    /// QEMU fails an address nothing decodes without a PIB status.
    fn no_such_address(&self) -> ScomError {
        if self.machine.is_qemu() {
            ScomError::Failed
        } else {
            ScomError::Address
        }
    }

    fn log_write(&mut self, w: Write) {
        assert!(
            self.nwrites < LOG_CAPACITY,
            "model: write log full; call clear_log() between phases"
        );
        self.writes[self.nwrites] = w;
        self.nwrites += 1;
    }
}

impl Scom for Model<'_> {
    fn read(&mut self, chip: u32, pcba: u64) -> Result<u64, ScomError> {
        self.tb.advance_us(self.scom_latency_us);
        let rule = self.failure(chip, pcba, None);
        if let Some(r) = rule.filter(|r| !r.lands) {
            return Err(r.error);
        }
        let value = match self.decode(chip, pcba) {
            Some((core, reg)) => self.read_reg(core, reg),
            None => Err(self.no_such_address()),
        };
        match rule {
            Some(r) => Err(r.error),
            None => value,
        }
    }

    fn write(&mut self, chip: u32, pcba: u64, value: u64) -> Result<(), ScomError> {
        self.tb.advance_us(self.scom_latency_us);
        self.log_write(Write { chip, pcba, value });
        let rule = self.failure(chip, pcba, Some(value));
        if let Some(r) = rule.filter(|r| !r.lands) {
            return Err(r.error);
        }
        let done = match self.decode(chip, pcba) {
            Some((core, reg)) => self.write_reg(core, reg, value),
            None => Err(self.no_such_address()),
        };
        match rule {
            Some(r) => Err(r.error),
            None => done,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The model's own rules, driven by raw SCOMs: each shortcut the firmware could take
    //! shows up as a failure or a violation.
    use super::*;
    use crate::direct::{p10_ec, p9_ec, p9_ec_ppm, P10_EC_RAS_STATUS, P9_EC_DIRECT_CONTROLS};

    const CORE: CoreId = CoreId { chip: 0, core: 0 };
    const SPWU9: u64 = 0x200f_010d;
    const SSH9: u64 = 0x200f_0114;
    const DCTL9: u64 = 0x2001_0a9c;
    const RAS9: u64 = 0x2001_0a02;

    fn kinds(m: &Model<'_>) -> std::vec::Vec<ViolationKind> {
        m.violations().map(|v| v.kind).collect()
    }

    #[test]
    fn decodes_its_own_addresses() {
        assert_eq!(p9_ec_ppm(0, 0x10d), SPWU9);
        assert_eq!(p9_ec(0, P9_EC_DIRECT_CONTROLS), DCTL9);
        let tb = Timebase::new();
        let m = Model::new(Machine::P10, &tb);
        assert_eq!(
            m.decode(0, p10_ec(6, P10_EC_RAS_STATUS)),
            Some((CoreId { chip: 0, core: 6 }, Reg::RasStatus))
        );
        assert_eq!(m.decode(0, 0x200e_c83c), None, "two cores at once");
        assert_eq!(m.decode(2, p10_ec(0, 0)), None, "no such chip");
    }

    #[test]
    fn a_gated_core_refuses_ec_accesses_until_woken() {
        let tb = Timebase::new();
        let mut m = Model::new(Machine::P9, &tb);
        m.core_in_deep_stop(CORE);
        assert_eq!(m.read(0, RAS9), Err(ScomError::ChipletOff));
        assert_eq!(
            m.write(0, DCTL9, thread_stop(0)),
            Err(ScomError::ChipletOff)
        );
        m.write(0, SPWU9, P9_SPWKUP_SET).unwrap();
        assert_eq!(m.read(0, SSH9), Ok(P9_CORE_GATED), "not done yet");
        tb.advance_us(10);
        assert_eq!(m.read(0, SSH9), Ok(P9_SPECIAL_WKUP_DONE));
        assert_eq!(m.read(0, RAS9), Ok(0));
        m.write(0, SPWU9, 0).unwrap();
        assert!(m.core_gated(CORE), "all threads still in stop");
        m.assert_no_violations();
    }

    #[test]
    fn shortcuts_are_violations() {
        let tb = Timebase::new();
        let mut m = Model::new(Machine::P9, &tb);
        // EC access with no wakeup at all (the core happens to be awake).
        m.read(0, RAS9).unwrap();
        // SRESET of a running thread.
        m.write(0, DCTL9, thread_sreset(0)).unwrap();
        // Withdrawing before DONE was read.
        m.write(0, SPWU9, P9_SPWKUP_SET).unwrap();
        m.write(0, SPWU9, 0).unwrap();
        // Asserting again within 10 ms.
        m.write(0, SPWU9, P9_SPWKUP_SET).unwrap();
        tb.advance_us(10);
        m.read(0, SSH9).unwrap();
        // START of a thread in stop, CLEAR_MAINT of a running one, a continue of a
        // thread that is not quiesced.
        m.thread_in_stop(ThreadId {
            chip: 0,
            core: 0,
            thread: 1,
        });
        m.write(0, DCTL9, thread_stop(1) | thread_stop(2)).unwrap();
        tb.advance_us(10);
        m.write(0, DCTL9, thread_start(1) | thread_clear_maint(2))
            .unwrap();
        m.write(0, DCTL9, thread_start(3)).unwrap();
        assert_eq!(
            kinds(&m),
            [
                ViolationKind::EcWithoutWakeup,
                ViolationKind::EcWithoutWakeup,
                ViolationKind::SresetNotStopped,
                ViolationKind::ReleasedBeforeDone,
                ViolationKind::ReassertedTooSoon,
                ViolationKind::StartWhereClearMaint,
                ViolationKind::ClearMaintWhereStart,
                ViolationKind::ContinueNotQuiesced,
            ]
        );
    }

    #[test]
    fn quiescing_shows_part_of_the_bits_first() {
        let tb = Timebase::new();
        let mut m = Model::new(Machine::P10, &tb);
        let (spwu, ras, dctl) = (0x200e_883c, 0x2002_8454, 0x2002_8449);
        m.set_quiesce_latency_us(50);
        m.write(0, spwu, P10_SPWU_REQ).unwrap();
        tb.advance_us(10);
        m.write(0, dctl, thread_stop(1)).unwrap();
        assert_eq!(m.read(0, ras), Ok(p10_thread_quiesced(1)));
        tb.advance_us(50);
        assert_eq!(
            m.read(0, ras),
            Ok(p10_thread_maint(1) | p10_thread_quiesced(1) | p10_thread_ict_empty(1))
        );
        m.assert_no_violations();
    }

    #[test]
    fn failures_with_and_without_effect() {
        let tb = Timebase::new();
        let mut m = Model::new(Machine::P10, &tb);
        let (spwu, ssh) = (0x200e_883c, 0x200e_882c);
        m.fail_scom(0, spwu, Access::WriteOf(P10_SPWU_REQ), ScomError::Busy);
        assert_eq!(m.write(0, spwu, P10_SPWU_REQ), Err(ScomError::Busy));
        assert!(!m.wakeup_requested(CORE));
        m.clear_failures()
            .fail_scom_after_effect(0, spwu, Access::AnyWrite, ScomError::Timeout);
        assert_eq!(m.write(0, spwu, P10_SPWU_REQ), Err(ScomError::Timeout));
        assert!(m.wakeup_requested(CORE));
        m.fail_scom(0, ssh, Access::Read, ScomError::Parity);
        assert_eq!(m.read(0, ssh), Err(ScomError::Parity));
        assert_eq!(m.writes().len(), 2, "failed writes are logged too");
    }

    #[test]
    fn qemu_powernv10_quirks() {
        let tb = Timebase::new();
        let mut m = Model::new(Machine::QemuPowernv10, &tb);
        let (spwu0, ssh0, ssh1) = (0x200e_883c, 0x200e_882c, 0x200e_482c);
        assert_eq!(m.read(0, spwu0), Ok(u64::MAX));
        m.write(0, spwu0, P10_SPWU_REQ).unwrap();
        // Core 1 reads "done" on core 0's request: the flag is the quad's.
        assert_eq!(m.read(0, ssh1), Ok(P10_SSH_SPWU_DONE | P10_SPWU_DONE));
        m.write(0, 0x200e_483c, 0).unwrap();
        assert_eq!(
            m.read(0, ssh0),
            Ok(0),
            "core 1's release cleared it for core 0"
        );
        assert_eq!(m.read(0, 0x2002_8413), Ok(0), "THREAD_INFO");
        // SRESET of a thread that runs: QEMU resets it anyway.
        m.write(0, 0x2002_8449, thread_sreset(2)).unwrap();
        assert_eq!(m.sresets().count(), 1);
        m.assert_no_violations();
    }

    #[test]
    fn qemu_powernv9_models_no_wakeup() {
        let tb = Timebase::new();
        let mut m = Model::new(Machine::QemuPowernv9, &tb);
        m.write(0, SPWU9, P9_SPWKUP_SET).unwrap();
        tb.advance_us(1_000);
        assert_eq!(m.read(0, SSH9), Ok(0));
        m.write(0, DCTL9, thread_stop(0)).unwrap();
        assert_eq!(m.read(0, RAS9), Ok(0));
    }

    #[test]
    fn scoms_and_pauses_move_time() {
        let tb = Timebase::new();
        let mut m = Model::new(Machine::P9, &tb);
        m.set_scom_latency_us(3);
        let _ = m.read(0, SSH9);
        tb.pause();
        assert_eq!(tb.now_us(), 4);
        assert_eq!(tb.now(), 4 * 512);
    }
}
