// SPDX-License-Identifier: Apache-2.0
//! Hypervisor maintenance interrupts on this machine: the per-core state `firmware/hmi`
//! works on, the thread registers and SCOMs behind it, and the two ways a thread reaches
//! the handler (hmi-mce-sreset.md §4):
//! - a thread running the OS takes the HMI at 0xE60 (Linux's vector) and calls
//!   `OPAL_HANDLE_HMI2`, also from its idle loop when the HMI woke it;
//! - a thread parked in the firmware (never started, or returned by kexec/kdump) runs with
//!   MSR[EE]=0, so the HMI only ends its stop: the park loop sees HMER & HMEER and handles
//!   it here. A core-wide cause makes the first thread to arrive ring the doorbells of
//!   its parked siblings, so they join the rendezvous too.
//!
//! HMEER: every thread programs its core's enable mask at boot (the generation's value).
//!
//! Concurrency: every thread of a core may be in here at once; they meet in the core's
//! rendezvous (`hmi::Core`), bounded on the timebase (with a spin fallback when the TB is
//! the thing that stopped). Crash time: nothing here takes a firmware lock; the only shared
//! word outside `hmi` is the message queue's spin lock, which a producer only tries a
//! bounded number of times (the event is then refused and counted). A thread reset in
//! the middle of the handler and returned with OPAL_RETURN_CPU is dropped from its
//! core's session and locks (`release_abandoned`), so the core's next HMI does not wait
//! for it. Nothing on this path allocates.
//!
//! Test builds (feature `hmi-inject`): HMER, TFMR, the timebase state and the FIRs come
//! from `hmi::model` (see `hmi_inject.rs`) instead of the SPRs and SCOMs; everything else
//! here is the same code.

use crate::drivers::xscom::{ChipScom, Timebase};
use crate::layout::MAX_CPUS;
use crate::{arch, cpu};
use alloc::vec::Vec;
use hmi::{ChipCores, ChipTod, Core, HmiEvent, Scom, Shared, ThreadRegs, TodError};

/// One per core, at the index of the core's first registered thread (`cpu::core_of`).
static CORES: [Core; MAX_CPUS] = [const { Core::new() }; MAX_CPUS];
static SHARED: Shared = Shared::new();
/// What boot learnt about the machine, for the handler.
struct Machine {
    /// What the malfunction decode may look at.
    chips: Vec<ChipCores>,
    /// Each thread's chip: (PIR, chip id).
    threads: Vec<(u32, u32)>,
}

static MACHINE: spin::Once<Machine> = spin::Once::new();

/// Each stage of the core rendezvous waits at most this long for a sibling (skiboot
/// waits about a second; a parked sibling answers its doorbell in microseconds, and a
/// thread that cannot come, such as an OS thread offline in stop, costs this once).
const STAGE_TIMEOUT_US: u64 = 500_000;

/// The TFMR configuration the recovery writes back (max cycles between steps for a 2 GHz
/// core, sync bit select 4, ECLIPZ mode). Only the ChipTOD resync, which is not written
/// yet, depends on the frequency.
pub const BASE_TFMR: u64 = hmi::tfmr::base(2_000_000_000);

#[cfg(feature = "hmi-inject")]
pub fn generation() -> Option<hmi::Gen> {
    gen()
}

/// The chip of thread `pir` (0 if unknown).
pub fn chip_of(pir: u32) -> u32 {
    MACHINE
        .get()
        .and_then(|m| m.threads.iter().find(|(p, _)| *p == pir))
        .map_or(0, |(_, c)| *c)
}

fn gen() -> Option<hmi::Gen> {
    match cpu::generation() {
        9 => Some(hmi::Gen::P9),
        10 => Some(hmi::Gen::P10),
        _ => None,
    }
}

/// Boot: remembers the machine's chips and cores for the handler.
pub fn init(threads: &[crate::inventory::Thread], chips: &[(u32, u64)]) {
    let list = chips
        .iter()
        .map(|&(chip_id, _)| {
            let cores = threads
                .iter()
                .filter(|t| t.chip == chip_id)
                .fold(0u64, |m, t| m | 1 << ((t.pir >> 2) & 0x1f));
            ChipCores { chip_id, cores }
        })
        .collect();
    MACHINE.call_once(|| Machine {
        chips: list,
        threads: threads.iter().map(|t| (t.pir, t.chip)).collect(),
    });
}

/// Programs this core's HMEER with the generation's enable mask (every thread does it;
/// the value is the same).
pub fn enable_on_this_thread() {
    if let Some(g) = gen() {
        arch::set_hmeer(hmi::hmer::enable_mask(g));
    }
}

/// The thread's registers: the SPRs, or (test builds) the model.
#[cfg(not(feature = "hmi-inject"))]
fn with_source<R>(
    _pir: u32,
    f: impl FnOnce(&mut dyn ThreadRegs, &mut dyn Scom, &mut dyn ChipTod) -> R,
) -> R {
    f(&mut Sprs, &mut ChipScom, &mut NoChipTod)
}

#[cfg(feature = "hmi-inject")]
fn with_source<R>(
    pir: u32,
    f: impl FnOnce(&mut dyn ThreadRegs, &mut dyn Scom, &mut dyn ChipTod) -> R,
) -> R {
    crate::hmi_inject::with_model(pir, f)
}

/// Does this thread have an enabled HMI condition pending? (The park loop's question.)
pub fn pending_here() -> bool {
    let Some(g) = gen() else { return false };
    with_source(arch::pir(), |regs, _, _| {
        regs.hmer() & hmi::hmer::handled_mask(g) != 0
    })
}

/// Handles this thread's HMI; events go to `queue` (false: not queued). The flags of
/// `OPAL_HANDLE_HMI2`.
fn handle_here(queue: &mut dyn FnMut(HmiEvent) -> bool) -> u64 {
    let Some(g) = gen() else { return 0 };
    let pir = arch::pir();
    let Some((slot, threads)) = cpu::core_of(pir) else {
        return 0;
    };
    // Built at boot: an OPAL call does not allocate (the heap's lock is unbounded).
    let chips = MACHINE.get().map_or(&[][..], |m| m.chips.as_slice());
    let chip_id = chip_of(pir);
    let core_base = pir & !3;
    let outcome = with_source(pir, |regs, scom, tod| {
        let mut ctx = hmi::ThreadCtx {
            gen: g,
            pir,
            chip_id,
            thread: (pir & 3) as usize,
            threads,
            core: &CORES[slot],
            shared: &SHARED,
            regs,
            scom,
            tod,
            clock: &Timebase,
            siblings: &mut ParkedSiblings { core_base },
            chips,
            base_tfmr: BASE_TFMR,
            timeout_us: STAGE_TIMEOUT_US,
        };
        hmi::handle(&mut ctx, &mut |ev| {
            log_event(pir, &ev);
            queue(ev)
        })
    });
    if let Some(rv) = outcome.rendezvous {
        log_rendezvous(pir, rv);
    }
    if outcome.dropped > 0 {
        log::warn!(
            "PIR {pir:#06x}: {} event(s) not queued: the OS is not reading messages",
            outcome.dropped
        );
    }
    outcome.flags
}

/// One account per core recovery, from the lowest thread that came (the one that
/// resynchronises the timebase when it must).
fn log_rendezvous(pir: u32, rv: hmi::Rendezvoused) {
    let me = 1u8 << (pir & 3);
    if rv.met.trailing_zeros() != me.trailing_zeros() {
        return;
    }
    let core = pir & !3;
    for t in 0..8u32 {
        if rv.expected & !rv.met & (1 << t) != 0 {
            log::warn!(
                "core of PIR {core:#06x}: PIR {:#06x} did not join",
                core | t
            );
        }
    }
    let (met, of) = (rv.met.count_ones(), rv.expected.count_ones());
    match rv.resync_here {
        Some(true) => log::info!(
            "core of PIR {core:#06x}: timebase resynchronised by PIR {pir:#06x}, {met} of {of} threads"
        ),
        Some(false) => log::error!(
            "core of PIR {core:#06x}: timebase NOT resynchronised by PIR {pir:#06x} (TOD_TB_FAIL), {met} of {of} threads"
        ),
        None => log::info!(
            "core of PIR {core:#06x}: recovered with the timebase running, {met} of {of} threads"
        ),
    }
}

fn log_event(pir: u32, ev: &HmiEvent) {
    // Numbers, as in the OS's struct OpalHMIEvent (severity, type, disposition).
    log::info!(
        "PIR {pir:#06x} event sev {} type {} disp {} HMER {:#018x} TFMR {:#018x}",
        ev.severity as u8,
        ev.kind as u8,
        ev.disposition as u8,
        ev.hmer,
        ev.tfmr
    );
}

/// `pir` left an OPAL call for good in the middle of it (a system reset, then
/// OPAL_RETURN_CPU: cpu.rs): if that call was an HMI, its core must not wait for it again.
pub fn release_abandoned(pir: u32) {
    if let Some((slot, _)) = cpu::core_of(pir) {
        CORES[slot].abandon((pir & 3) as usize);
    }
    SHARED.abandon(pir);
}

/// A parked thread's turn (cpu.rs park loop, `JOB_HMI`).
pub fn handle_parked() {
    log::info!(
        "PIR {:#06x} handles it in the firmware (parked)",
        arch::pir()
    );
    handle_here(&mut |ev| crate::opal::queue_hmi_event(ev.to_msg_params()));
}

/// `OPAL_HANDLE_HMI`/`OPAL_HANDLE_HMI2` for the calling thread.
pub struct FwHmi;

impl opal_calls::hmi::HmiHandling for FwHmi {
    fn available(&self) -> bool {
        gen().is_some()
    }
    fn handle(&self, queue: &mut dyn FnMut([u64; 5]) -> bool) -> u64 {
        handle_here(&mut |ev| queue(ev.to_msg_params()))
    }
}

/// Rings the doorbell of each parked sibling the handler names: their park loop then
/// finds the HMI pending and comes in.
struct ParkedSiblings {
    core_base: u32,
}

impl hmi::Siblings for ParkedSiblings {
    fn wake_firmware_owned(&mut self, mask: u8) {
        for t in 0..4u32 {
            let pir = self.core_base | t;
            if mask & (1 << t) != 0 && cpu::is_parked(pir) {
                arch::doorbell(pir);
            }
        }
    }
}

/// This thread's SPRs.
#[cfg_attr(feature = "hmi-inject", allow(dead_code))]
struct Sprs;

impl ThreadRegs for Sprs {
    fn hmer(&mut self) -> u64 {
        arch::hmer()
    }
    fn clear_hmer(&mut self, bits: u64) {
        arch::hmer_clear(bits);
    }
    fn tfmr(&mut self) -> u64 {
        arch::tfmr()
    }
    fn write_tfmr(&mut self, v: u64) {
        arch::set_tfmr(v);
    }
    fn write_dec(&mut self, v: u64) {
        arch::set_timer_spr::<22>(v);
    }
    fn write_hdec(&mut self, v: u64) {
        arch::set_timer_spr::<310>(v);
    }
    fn write_purr(&mut self, v: u64) {
        arch::set_timer_spr::<309>(v);
    }
    fn write_spurr(&mut self, v: u64) {
        arch::set_timer_spr::<308>(v);
    }
    fn write_tb(&mut self, v: u64) {
        arch::set_timebase(v);
    }
}

/// The timebase resync from the ChipTOD (load TOD mod, point the TOD's PIB master at this
/// core, move chip TOD to TB) is not written yet: the firmware never sets the ChipTOD up
/// (QEMU starts the timebase running), and the PIB-master encoding per generation is
/// unverified. A core whose TB stopped is reported with TOD_TB_FAIL instead.
#[cfg_attr(feature = "hmi-inject", allow(dead_code))]
struct NoChipTod;

impl ChipTod for NoChipTod {
    fn resync_core_timebase(&mut self) -> Result<(), TodError> {
        log::error!("timebase resync from the ChipTOD is not implemented");
        Err(TodError::Unsupported)
    }
}
