// SPDX-License-Identifier: Apache-2.0
//! Test builds only (feature `hmi-inject`, image target/opalite-hmi-inject.lid): HMIs on
//! demand under QEMU, which never raises one (hmi-mce-sreset.md §4.9). Nothing here is
//! in a release image; `cargo xtask test` checks the release ELF has none of its symbols.
//!
//! - **Source.** HMER, TFMR, the timebase state and the FIRs the handler reads come from
//!   `hmi::model` (one software machine, shared by every thread), never from the SPRs:
//!   `hmi::with_source` hands the model to the handler instead.
//! - **Command.** The OS writes a line on the OPAL console:
//!   `opalite-hmi-inject CAUSE pir=N` (the causes are in [`Cause`]). The line is picked
//!   out of `OPAL_CONSOLE_WRITE` data and acted on when that call returns, outside the
//!   console lock.
//! - **Delivery.** Hardware raises the HMI on every thread the cause reaches at once. Here
//!   the firmware first sets the model's HMER/TFMR on those threads, then makes each one
//!   come to it: a parked thread gets a doorbell (its park loop finds the HMI pending); a
//!   thread running the OS gets its *kick*, the XIVE IPI the firmware reserved for it at
//!   boot, offered to the OS as an OPAL interrupt named `hmi-kick-PIR` (the test pins
//!   each to its CPU). The OS services it with `OPAL_HANDLE_INTERRUPT`, and that call
//!   returns through the HMI vector (head.S `opal_exit_into_hmi`): HSRR0/1 = where the
//!   call would have returned, then 0xE60, as if the HMI had been pending at the return.
//!   From there it is the OS's real path: its handler calls `OPAL_HANDLE_HMI2`.

use crate::{arch, cpu};
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use hal::Holder;
use hmi::{ChipTod, Scom, ThreadRegs};
use spin::Mutex;

const PREFIX: &str = "opalite-hmi-inject ";

/// What a command injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    /// A core-wide timer-facility error (TB state machine corrupt): every thread of the
    /// core, TB stopped, the rendezvous and a resync.
    TfacCore,
    /// op-test's six TFMR error injections (core-wide: TB residue, TFMR parity, HDEC
    /// parity; the thread's own: DEC, PURR, SPURR parity).
    TbResidue,
    TfmrParity,
    HdecParity,
    DecParity,
    PurrParity,
    SpurrParity,
    /// A recovered core error (HMER proc_recv_done on every thread of the core).
    ProcRecovery,
    /// A core checkstop: HMER malfunction alert on every thread of the machine, the
    /// core's FIR holding a checkstop reason.
    Malfunction,
}

/// Each cause's name in a command, one table for parsing and logging.
const CAUSES: [(&str, Cause); 9] = [
    ("tfac-core", Cause::TfacCore),
    ("tb-residue", Cause::TbResidue),
    ("tfmr-parity", Cause::TfmrParity),
    ("hdec-parity", Cause::HdecParity),
    ("dec-parity", Cause::DecParity),
    ("purr-parity", Cause::PurrParity),
    ("spurr-parity", Cause::SpurrParity),
    ("proc-recovery", Cause::ProcRecovery),
    ("malfunction", Cause::Malfunction),
];

impl Cause {
    fn parse(s: &str) -> Option<Self> {
        CAUSES.iter().find(|(n, _)| *n == s).map(|&(_, c)| c)
    }

    fn name(self) -> &'static str {
        CAUSES
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("?", |&(n, _)| n)
    }
}

#[derive(Clone, Copy, Debug)]
struct Command {
    cause: Cause,
    pir: u32,
}

/// The console line being assembled, and a command waiting for its call to return.
struct Scanner {
    line: Vec<u8>,
    pending: Option<Command>,
}

static SCANNER: Mutex<Scanner> = Mutex::new(Scanner {
    line: Vec::new(),
    pending: None,
});

/// Console data from the OS (`OPAL_CONSOLE_WRITE`): picks out a command line.
pub fn scan_console(data: &[u8]) {
    let Some(mut sc) = SCANNER.try_lock() else {
        return;
    };
    for &b in data {
        if b == b'\n' || b == b'\r' {
            let line = core::mem::take(&mut sc.line);
            if let Some(cmd) = parse(&line) {
                sc.pending = Some(cmd);
            }
        } else if sc.line.len() < 128 {
            sc.line.push(b);
        }
    }
}

fn parse(line: &[u8]) -> Option<Command> {
    let text = core::str::from_utf8(line).ok()?;
    let at = text.find(PREFIX)?;
    let mut words = text[at + PREFIX.len()..].split_whitespace();
    let cause = Cause::parse(words.next()?)?;
    let pir = words.next()?.strip_prefix("pir=")?.parse().ok()?;
    Some(Command { cause, pir })
}

/// After every OPAL call, on the calling CPU, with no firmware lock held: runs a command
/// the call brought, and ends an interrupt call in the HMI vector when this thread has
/// an injected HMI pending.
pub fn at_call_exit(token: u64, depth: u64) {
    if depth != 0 {
        return;
    }
    let cmd = SCANNER.try_lock().and_then(|mut s| s.pending.take());
    if let Some(cmd) = cmd {
        run(cmd);
    }
    if token == opal_api::token::OPAL_HANDLE_INTERRUPT && crate::hmi::pending_here() {
        if let Some(i) = cpu::my_index() {
            cpu::header(i).inject_hmi.store(1, Ordering::Release);
        }
    }
}

/// Boot: each thread's kick, for the OS tree's OPAL interrupts.
pub fn kicks(state: &xive::Xive, threads: &[crate::inventory::Thread]) -> Vec<(u32, String)> {
    let mut v = Vec::new();
    for t in threads {
        if let Some(girq) = state.thread_ipi_girq(t.pir) {
            KICKS.lock().push((t.pir, girq));
            v.push((girq, alloc::format!("hmi-kick-{}", t.pir)));
        }
    }
    v
}

/// (PIR, girq) of every kick.
static KICKS: Mutex<Vec<(u32, u32)>> = Mutex::new(Vec::new());

/// Is `girq` a kick? (`OPAL_HANDLE_INTERRUPT` accepts it; there is nothing to service.)
pub fn is_kick(girq: u32) -> bool {
    KICKS.lock().iter().any(|&(_, g)| g == girq)
}

/// Brings thread `pir` into the firmware: a doorbell if it is parked, its kick if it
/// runs the OS.
fn bring_in(pir: u32) {
    if cpu::is_parked(pir) {
        arch::doorbell(pir);
        return;
    }
    if !cpu::runs_os(pir) {
        return;
    }
    let Some(girq) = KICKS.lock().iter().find(|k| k.0 == pir).map(|k| k.1) else {
        return;
    };
    crate::opal::XIVE.with_unit(Holder::from_pir(arch::pir()), |u| {
        if let Ok(info) = u.state.get_irq_info(u.hw.as_mut(), girq) {
            if info.trig_page != 0 {
                u.hw.esb_store(info.trig_page, 0);
            }
        }
    });
}

static INJECTED: AtomicU64 = AtomicU64::new(0);

fn run(cmd: Command) {
    let name = cmd.cause.name();
    let Some(targets) = model_inject(cmd.cause, cmd.pir) else {
        log::error!(target: "opalite::hmi", "cannot inject {name} on PIR {:#06x}", cmd.pir);
        return;
    };
    let n = INJECTED.fetch_add(1, Ordering::Relaxed) + 1;
    let first = targets.iter().min().copied().unwrap_or(cmd.pir);
    let last = targets.iter().max().copied().unwrap_or(cmd.pir);
    log::info!(target: "opalite::hmi", "injected {name} on PIRs {first:#06x}-{last:#06x} (#{n})");
    for &pir in &targets {
        bring_in(pir);
    }
}

// ---- the boot-time machine-check self-test ----------------------------------------

extern "C" {
    fn mce_selftest_load(addr: u64) -> u64;
    fn mce_selftest_resume(frame: &crate::arch::ExcFrame) -> !;
}

/// Real address nothing answers on QEMU's powernv machines (1 TiB): a load from it is a
/// machine check (SRR1[42], DSISR "load real address error").
const NOWHERE: u64 = 0x100_0000_0000;

static MCE_SELFTEST: AtomicU32 = AtomicU32::new(0);

/// Boot, with `opalite.mce-selftest` on the command line: one load from nowhere, whose
/// machine check the firmware's 0x200 path must decode and report (then, for the test
/// only, resume: the boot goes on).
pub fn mce_selftest(bootargs: Option<&str>) {
    if !bootargs.is_some_and(|a| a.split_whitespace().any(|w| w == "opalite.mce-selftest")) {
        return;
    }
    MCE_SELFTEST.store(1, Ordering::SeqCst);
    // SAFETY: the load faults by design; `resume_after_mce` brings execution back here
    // with the registers the call boundary promises.
    let v = unsafe { mce_selftest_load(NOWHERE) };
    let taken = MCE_SELFTEST.swap(0, Ordering::SeqCst) == 2;
    log::info!(target: "opalite::mce", "self-test: machine check taken {taken}, load returned {v:#x}, boot goes on");
}

/// From `unexpected_exception`: the self-test's machine check, after its report, goes
/// back to the load instead of halting. Any other exception returns.
pub fn resume_after_mce(f: &crate::arch::ExcFrame) {
    if f.vector != 0x200
        || MCE_SELFTEST
            .compare_exchange(1, 2, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
    {
        return;
    }
    crate::arch::EXC_LOCK.store(0, Ordering::SeqCst);
    // SAFETY: `f` is the frame of the self-test's own load (armed just before it, on this
    // thread, which was inside `mce_selftest_load`).
    unsafe { mce_selftest_resume(f) }
}

// ---- the model as the handler's source --------------------------------------------

use hmi::model::{CoreModel, CoreTfac, ScomModel, ThreadTfac};

/// Cores the model covers (QEMU test machines have at most 4 cores here).
const MODEL_CORES: usize = 8;

/// One software core per hardware core (by PIR >> 2, claimed on first use), and one set
/// of malfunction-alert registers and FIRs for the machine.
struct Models {
    cores: [CoreModel; MODEL_CORES],
    scom: ScomModel,
}

static P9: Models = Models {
    cores: [const { CoreModel::new(hmi::Gen::P9, 4, crate::hmi::BASE_TFMR) }; MODEL_CORES],
    scom: ScomModel::new(hmi::Gen::P9),
};
static P10: Models = Models {
    cores: [const { CoreModel::new(hmi::Gen::P10, 4, crate::hmi::BASE_TFMR) }; MODEL_CORES],
    scom: ScomModel::new(hmi::Gen::P10),
};
/// The core key (PIR >> 2) + 1 each model stands for; 0: free.
static KEYS: [AtomicU32; MODEL_CORES] = [const { AtomicU32::new(0) }; MODEL_CORES];
/// A core with no model left: nothing pending, ever.
static SPARE: CoreModel = CoreModel::new(hmi::Gen::P9, 4, crate::hmi::BASE_TFMR);

fn models() -> &'static Models {
    match crate::hmi::generation() {
        Some(hmi::Gen::P10) => &P10,
        _ => &P9,
    }
}

fn model_of(pir: u32) -> Option<&'static CoreModel> {
    let key = (pir >> 2) + 1;
    for (i, k) in KEYS.iter().enumerate() {
        match k.compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(&models().cores[i]),
            Err(v) if v == key => return Some(&models().cores[i]),
            Err(_) => {}
        }
    }
    None
}

/// Runs `f` with the model's view of thread `pir`.
pub fn with_model<R>(
    pir: u32,
    f: impl FnOnce(&mut dyn ThreadRegs, &mut dyn Scom, &mut dyn ChipTod) -> R,
) -> R {
    let core = model_of(pir).unwrap_or(&SPARE);
    let t = (pir & 3) as usize;
    f(&mut core.regs(t), &mut &models().scom, &mut core.tod(t))
}

/// Core FIR bit 45, "PC logic": a core checkstop reason the decode names.
const CHECKSTOP_FIR: u64 = hal::bits::ppc_bit(45);

/// Applies `cause` to the model; returns the threads it reaches.
fn model_inject(cause: Cause, pir: u32) -> Option<Vec<u32>> {
    let core = model_of(pir)?;
    let (_, mask) = cpu::core_of(pir)?;
    let core_threads: Vec<u32> = (0..4)
        .filter(|t| mask & (1 << t) != 0)
        .map(|t| (pir & !3) | t)
        .collect();
    let thread = (pir & 3) as usize;
    let core_wide = |kind| {
        core.inject_core_tfac(kind);
        Some(core_threads.clone())
    };
    let own = |kind| {
        core.inject_thread_tfac(thread, kind);
        Some(alloc::vec![pir])
    };
    match cause {
        Cause::TfacCore => core_wide(CoreTfac::TbStateCorrupt),
        Cause::TbResidue => core_wide(CoreTfac::Residue),
        Cause::TfmrParity => core_wide(CoreTfac::TfmrCorrupt),
        Cause::HdecParity => core_wide(CoreTfac::HdecParity),
        Cause::DecParity => own(ThreadTfac::DecParity),
        Cause::PurrParity => own(ThreadTfac::PurrParity),
        Cause::SpurrParity => own(ThreadTfac::SpurrParity),
        Cause::ProcRecovery => {
            core.inject_hmer_all(hmi::hmer::PROC_RECV_DONE);
            Some(core_threads)
        }
        Cause::Malfunction => {
            let chip = crate::hmi::chip_of(pir);
            models()
                .scom
                .inject_checkstop(chip, (pir >> 2) & 0x1f, CHECKSTOP_FIR);
            // The alert reaches every thread of the machine.
            let mut all = Vec::new();
            for i in 0..cpu::count() {
                let p = cpu::pir_of(i);
                if let Some(m) = model_of(p) {
                    m.inject_hmer((p & 3) as usize, hmi::hmer::MALFUNCTION_ALERT);
                    all.push(p);
                }
            }
            Some(all)
        }
    }
}
