// SPDX-License-Identifier: Apache-2.0
//! Everything that needs assembly: the head (entry, vectors, OPAL entry, OS entry), SPR
//! access, barriers, power-saving and doorbells. One of the few places with `unsafe`.

pub mod mambo;
pub mod mmio;

use crate::layout;
use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicU16, AtomicU32};

global_asm!(
    include_str!("head.S"),
    stack_shift = const layout::STACK_SHIFT,
    pir_table_bits = const layout::PIR_TABLE_BITS,
    stacks_base_hi = const (layout::STACKS_BASE >> 16),
    stacks_base_lo = const (layout::STACKS_BASE & 0xffff),
    stack_size_hi = const (layout::STACK_SIZE >> 16),
    stack_size_lo = const (layout::STACK_SIZE & 0xffff),
    emergency_stack_top = const layout::EMERGENCY_STACK_TOP,
    park_dec_hi = const (layout::PARK_DEC_TICKS >> 16),
    park_dec_lo = const (layout::PARK_DEC_TICKS & 0xffff),
    pcpu_opal_depth = const layout::PCPU_OPAL_DEPTH,
    pcpu_quiesce = const layout::PCPU_QUIESCE,
    pcpu_inject_hmi = const layout::PCPU_INJECT_HMI,
    inject_hmi = const cfg!(feature = "hmi-inject") as u32,
);

/// PIR → CPU index + 1 (0: not a thread we manage). Read by the head and the OPAL entry.
#[no_mangle]
pub static PIR_TO_CPU: [AtomicU16; layout::PIR_SLOTS] =
    [const { AtomicU16::new(0) }; layout::PIR_SLOTS];

/// First-faulter lock of `exception_common`.
#[no_mangle]
pub static EXC_LOCK: AtomicU32 = AtomicU32::new(0);

/// Register image saved by `exception_common` (layout fixed by head.S).
#[repr(C)]
pub struct ExcFrame {
    pub gpr: [u64; 32],
    pub vector: u64,
    pub srr0: u64,
    pub srr1: u64,
    pub hsrr0: u64,
    pub hsrr1: u64,
    pub dar: u64,
    pub dsisr: u64,
    pub lr: u64,
    pub ctr: u64,
    pub cr: u64,
    pub xer: u64,
    pub pir: u64,
}

#[no_mangle]
pub static mut EXC_FRAME: ExcFrame = ExcFrame {
    gpr: [0; 32],
    vector: 0,
    srr0: 0,
    srr1: 0,
    hsrr0: 0,
    hsrr1: 0,
    dar: 0,
    dsisr: 0,
    lr: 0,
    ctr: 0,
    cr: 0,
    xer: 0,
    pir: 0,
};

extern "C" {
    fn enter_os_kernel(entry: u64, fdt: u64, opal_base: u64, opal_entry: u64) -> !;
    fn enter_os_secondary(entry: u64, pir: u64) -> !;
    fn return_to_park(pcpu_base: u64, pir: u64) -> !;
    pub fn opal_entry();
}

macro_rules! mfspr {
    ($spr:expr) => {{
        let v: u64;
        // SAFETY: reading an SPR has no side effect on memory.
        unsafe { asm!("mfspr {0}, {1}", out(reg) v, const $spr, options(nomem, nostack)) };
        v
    }};
}

pub fn pir() -> u32 {
    mfspr!(1023) as u32
}

pub fn pvr() -> u32 {
    mfspr!(287) as u32
}

pub fn hid0() -> u64 {
    mfspr!(1008)
}

/// Sets HID0 with the sequence the POWER9 user manual asks for (as skiboot's set_hid0).
pub fn set_hid0(v: u64) {
    // SAFETY: HID0 only changes this core's modes (here: interrupt endianness, MMU mode);
    // callers decide which bits, the sequence is the architected one.
    unsafe {
        asm!(
            "sync", "mtspr 1008, {0}",
            "mfspr {0}, 1008", "mfspr {0}, 1008", "mfspr {0}, 1008",
            "mfspr {0}, 1008", "mfspr {0}, 1008", "mfspr {0}, 1008",
            "isync",
            inout(reg) v => _, options(nostack)
        )
    };
}

/// HMER (SPR 336): this thread's hypervisor maintenance exception register.
pub fn hmer() -> u64 {
    mfspr!(336)
}

/// Clears the HMER bits set in `bits` (a write to HMER ANDs it).
pub fn hmer_clear(bits: u64) {
    // SAFETY: HMER writes only clear this thread's status bits; the firmware never
    // enables HMIs for the XSCOM bits it clears here.
    unsafe { asm!("mtspr 336, {0}", in(reg) !bits, options(nomem, nostack)) };
}

/// HMEER (SPR 337): which HMER bits raise an HMI on this core.
pub fn set_hmeer(v: u64) {
    // SAFETY: HMEER only selects which maintenance conditions interrupt this core; the
    // firmware never enables the XSCOM status bits it polls itself.
    unsafe { asm!("mtspr 337, {0}", "isync", in(reg) v, options(nomem, nostack)) };
}

/// TFMR (SPR 317): this thread's view of the core's timer facility.
pub fn tfmr() -> u64 {
    mfspr!(317)
}

/// Writes TFMR; only the HMI recovery and the ChipTOD steps do.
pub fn set_tfmr(v: u64) {
    // SAFETY: TFMR controls this core's timebase state machine; callers follow the
    // documented recovery sequences.
    unsafe { asm!("mtspr 317, {0}", "isync", in(reg) v, options(nomem, nostack)) };
}

/// Writes one of this thread's timer SPRs the HMI recovery resets after a parity error:
/// DEC (22), HDEC (310), SPURR (308), PURR (309).
pub fn set_timer_spr<const SPR: u16>(v: u64) {
    const { assert!(matches!(SPR, 22 | 308 | 309 | 310)) };
    // SAFETY: these SPRs only count time for this thread; the recovery rewrites values the
    // hardware reported as corrupt.
    unsafe { asm!("mtspr {spr}, {0}", in(reg) v, spr = const SPR, options(nomem, nostack)) };
}

/// Sets this core's timebase to `v` (TBL 284, then TBU 285). Only with the TB stopped,
/// by the HMI recovery before it resynchronises from the ChipTOD.
pub fn set_timebase(v: u64) {
    // SAFETY: hypervisor write of the (stopped, invalid) timebase of this core.
    unsafe {
        asm!(
            "mtspr 284, {z}", "mtspr 285, {hi}", "mtspr 284, {lo}",
            z = in(reg) 0u64, hi = in(reg) v >> 32, lo = in(reg) v & 0xffff_ffff,
            options(nomem, nostack)
        )
    };
}

#[inline(always)]
pub fn timebase() -> u64 {
    let v: u64;
    // SAFETY: reads the timebase.
    unsafe { asm!("mftb {0}", out(reg) v, options(nomem, nostack)) };
    v
}

/// Sends a hypervisor doorbell to the thread with this PIR.
pub fn doorbell(pir: u32) {
    let rb = 0x2800_0000u64 | u64::from(pir & 0x3f_ffff);
    // SAFETY: a doorbell only raises an exception condition in the target thread.
    unsafe { asm!("sync", ".long 0x7c00219c /* msgsnd r4 */", in("r4") rb, options(nostack)) };
}

/// Clears this thread's pending hypervisor doorbell.
pub fn doorbell_clear() {
    // SAFETY: as above, on this thread only.
    unsafe { asm!(".long 0x7c0021dc /* msgclr r4 */", in("r4") 0x2800_0000u64, options(nostack)) };
}

/// Sleeps in stop0-lite (PSSCR.EC=0, ESL=0) until a doorbell, or until `ticks` of the
/// decrementer run out. MSR[EE] is 0, so the wake-up resumes here, never in a vector.
pub fn stop_until_doorbell(ticks: u32) {
    // SAFETY: writes PSSCR/DEC of this thread and stops it; with EC=0 and EE=0 execution
    // continues after `stop` on any exception condition.
    unsafe {
        asm!(
            "li {t}, 0", "mtspr 855, {t}", "mtspr 22, {d}", "stop",
            t = out(reg) _, d = in(reg) u64::from(ticks), options(nostack)
        )
    };
}

/// Pushes this thread's hypervisor decrementer far into the future, so that a value the
/// OS left behind cannot raise an exception condition while the firmware parks it.
pub fn disarm_hdec() {
    // SAFETY: HDEC (SPR 310) only times hypervisor decrementer interrupts of this thread,
    // which the firmware never uses.
    unsafe { asm!("mtspr 310, {0}", in(reg) 0x7fff_ffffu64, options(nomem, nostack)) };
}

#[inline(always)]
pub fn sync() {
    // SAFETY: a barrier.
    unsafe { asm!("sync", options(nostack)) };
}

/// Low SMT priority while a thread polls, so its siblings run faster.
#[inline(always)]
pub fn relax() {
    // SAFETY: priority nop.
    unsafe { asm!("or 1,1,1", "or 2,2,2", options(nomem, nostack)) };
}

/// Enters the OS kernel; never returns. See opal-boot-contract.md §3.1.
///
/// # Safety
/// `entry` must be the kernel's entry, `fdt` a valid device tree that stays intact.
pub unsafe fn enter_kernel(entry: u64, fdt: u64, opal_base: u64, opal_entry_addr: u64) -> ! {
    // SAFETY: forwarded contract.
    unsafe { enter_os_kernel(entry, fdt, opal_base, opal_entry_addr) }
}

/// Hands this thread to the OS at `entry` with r3 = PIR (OPAL_START_CPU).
///
/// # Safety
/// `entry` must be an OS address the OS asked this thread to start at.
pub unsafe fn enter_secondary(entry: u64, pir: u32) -> ! {
    // SAFETY: forwarded contract.
    unsafe { enter_os_secondary(entry, u64::from(pir)) }
}

/// Leaves the OPAL call in progress for good (OPAL_RETURN_CPU): this CPU's depth becomes
/// 0, its stack starts again from the top and it runs `cpu::returned_main`.
///
/// # Safety
/// `pcpu_base` must be the calling CPU's own per-CPU region, and nothing on the current
/// stack may be needed again.
pub unsafe fn leave_opal_and_park(pcpu_base: u64, pir: u32) -> ! {
    // SAFETY: forwarded contract.
    unsafe { return_to_park(pcpu_base, u64::from(pir)) }
}
