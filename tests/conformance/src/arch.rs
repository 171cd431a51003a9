// SPDX-License-Identifier: Apache-2.0
//! The payload's processor-level code: the entry point, the OPAL call trampoline and the
//! timebase, and cache-inhibited MMIO. This module and `opal.rs`/`arena.rs` hold the
//! `unsafe` code; the ESB accesses in `areas/xive/delivery.rs` call its MMIO helpers.
//!
//! Both skiboot and Opalite enter an OS payload the same way (opal-boot-contract.md §3.1,
//! skiboot `core/init.c` `load_and_boot_kernel`): `hrfid` to the ELF entry with MSR =
//! HV | SF, i.e. **big-endian, hypervisor, real mode** (IR = DR = 0), external interrupts
//! and machine checks off, r3 = the device tree. We stay in that mode for the whole run,
//! which is also the mode OPAL must be called in (the same section, "OPAL therefore
//! starts in big-endian, real mode, hypervisor"): a little-endian OS switches endianness
//! and translation off around every call (Linux's `__opal_call` does it with `hrfid`), but
//! this payload is already there, so the trampoline is a plain `bctrl` and OPAL returns
//! with `blr` (skiboot) to the LR we set.

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicU64, Ordering};

global_asm!(
    r#"
    .section .text.entry, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    /* The timebase at entry, first: `conformance.bench` reports it as the firmware's
     * boot time (the timebase counts from 0 at QEMU start). */
    mfspr   30, 268
    /* r3 = device tree (both firmwares); keep it in a non-volatile register. */
    mr      31, 3
    /* ELFv2: code compiled from Rust expects r2 = .TOC. at its local entry points
     * (toolchain-notes.md); the image runs where it is linked, so absolute is right. */
    lis     2, .TOC.@ha
    addi    2, 2, .TOC.@l
    /* QEMU copied the whole ELF file here, so BSS holds file bytes (symbols, debug
     * info): clear it before any Rust static is used. */
    lis     4, _bss_start@ha
    addi    4, 4, _bss_start@l
    lis     5, _bss_end@ha
    addi    5, 5, _bss_end@l
    li      0, 0
1:  cmpld   4, 5
    bge     2f
    std     0, 0(4)
    addi    4, 4, 8
    b       1b
2:  lis     1, _stack_top@ha
    addi    1, 1, _stack_top@l
    /* A minimal ELFv2 frame with a null back chain ends stack walks here. */
    li      0, 0
    stdu    0, -32(1)
    mr      3, 31
    mr      4, 30
    bl      payload_main
3:  b       3b

    .section .text.park, "ax", @progbits
    .globl secondary_park
    .type secondary_park, @function
    .p2align 4
/* Where OPAL_START_CPU sends the threads this payload does not use (entered like the
 * boot thread: big-endian hypervisor real mode, r3 = PIR). skiboot leaves threads that
 * were never started spinning once the OS runs (opal-boot-contract.md §3.1 step 3), which
 * on QEMU takes host CPU time from the thread doing the work. Here they sleep in stop0
 * lite (PSSCR = 0: resume at the next instruction) with the decrementer set to about
 * 10 ms; with MSR[EE] = 0 nothing is delivered, the expiry only ends the stop. On each
 * wakeup a thread compares WORK_GENERATION with the last one it served; when the boot
 * thread bumps it, the thread takes a ticket (its worker slot), a stack of its own and
 * the TOC, and calls worker_main(slot, pir) (fuzz.rs), then sleeps again. */
secondary_park:
    mr      31, 3
    li      0, 0
    mtspr   855, 0
    li      30, 0
1:  lis     0, 0x004c
    ori     0, 0, 0x4b40
    mtspr   22, 0
    stop
    lis     4, WORK_GENERATION@ha
    ld      5, WORK_GENERATION@l(4)
    cmpd    5, 30
    beq     1b
    mr      30, 5
    lis     4, WORK_TICKET@ha
    addi    4, 4, WORK_TICKET@l
2:  ldarx   6, 0, 4
    addi    7, 6, 1
    stdcx.  7, 0, 4
    bne-    2b
    isync
    cmpldi  6, 15
    bge     1b
    lis     4, WORKER_STACKS@ha
    addi    4, 4, WORKER_STACKS@l
    addi    7, 6, 1
    sldi    7, 7, 15
    add     1, 4, 7
    li      0, 0
    stdu    0, -32(1)
    lis     2, .TOC.@ha
    addi    2, 2, .TOC.@l
    mr      3, 6
    mr      4, 31
    bl      worker_main
    b       1b

    .section .text.opal_call, "ax", @progbits
    .globl opal_call_raw
    .type opal_call_raw, @function
    .p2align 4
/* u64 opal_call_raw(u64 token, const u64 args[8], u64 opal_base, u64 opal_entry)
 *
 * The OPAL calling convention (opal-boot-contract.md §3.2): r0 = token, r2 = OPAL base,
 * r3..r10 = arguments, LR = where to return; OPAL preserves r1, r13..r31 and CR2..CR4 and
 * clobbers r0, r2 and the volatile registers. Those are volatile for our caller too,
 * except r2 (our TOC), which is saved in the caller's TOC slot and reloaded. */
opal_call_raw:
    mflr    0
    std     0, 16(1)
    std     2, 24(1)
    stdu    1, -32(1)
    mtctr   6
    mr      0, 3
    mr      2, 5
    mr      11, 4
    ld      3, 0(11)
    ld      4, 8(11)
    ld      5, 16(11)
    ld      6, 24(11)
    ld      7, 32(11)
    ld      8, 40(11)
    ld      9, 48(11)
    ld      10, 56(11)
    bctrl
    addi    1, 1, 32
    ld      2, 24(1)
    ld      0, 16(1)
    mtlr    0
    blr
"#
);

extern "C" {
    /// The parking loop for unused threads (see the assembly above); never call it.
    pub fn secondary_park() -> !;
    /// See the assembly above. The caller must make sure every address among `args`
    /// that the called token writes through is memory OPAL may write.
    pub fn opal_call_raw(token: u64, args: *const [u64; 8], opal_base: u64, opal_entry: u64)
        -> u64;
}

/// Worker threads woken by [`wake_workers`] (a ticket at or past this sleeps on).
pub const MAX_WORKERS: usize = 15;
const WORKER_STACK: usize = 32 << 10;

/// How many threads setup sent to `secondary_park`.
pub static PARKED_THREADS: core::sync::atomic::AtomicUsize =
    core::sync::atomic::AtomicUsize::new(0);

/// Bumped to hand the parked threads new work (read by `secondary_park`).
#[no_mangle]
static WORK_GENERATION: AtomicU64 = AtomicU64::new(0);
/// The next worker slot; reset before each generation.
#[no_mangle]
static WORK_TICKET: AtomicU64 = AtomicU64::new(0);

#[repr(C, align(16))]
struct Stacks([u8; MAX_WORKERS * WORKER_STACK]);

/// One stack per worker slot, used only by `secondary_park` (slot n's stack ends at
/// offset (n + 1) * WORKER_STACK).
#[no_mangle]
static mut WORKER_STACKS: Stacks = Stacks([0; MAX_WORKERS * WORKER_STACK]);

/// Makes every parked thread call `worker_main` once (within about 10 ms).
pub fn wake_workers() {
    WORK_TICKET.store(0, Ordering::SeqCst);
    WORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The timebase (SPR 268).
pub fn mftb() -> u64 {
    let tb: u64;
    // SAFETY: reading the timebase has no side effects.
    unsafe { asm!("mfspr {0}, 268", out(reg) tb, options(nomem, nostack, preserves_flags)) };
    tb
}

/// This thread's PIR (SPR 1023, readable in hypervisor mode).
pub fn pir() -> u32 {
    let pir: u64;
    // SAFETY: reading PIR has no side effects; we run in hypervisor mode.
    unsafe { asm!("mfspr {0}, 1023", out(reg) pir, options(nomem, nostack, preserves_flags)) };
    pir as u32
}

/// A cache-inhibited 8-byte MMIO access, the way an ESB page must be touched (xive.md
/// §6.2). The payload runs in real mode, where an ordinary load or store is a cacheable
/// access; `ldcix`/`stdcix` are the cache-inhibited forms for hypervisor real mode. Both
/// are preceded by `sync`, so every earlier store (a queue page zeroed, an OPAL call's
/// table writes) is visible before the access reaches the device.
///
/// # Safety
/// `addr` must be an 8-byte aligned MMIO address where the access is allowed: a page the
/// firmware reported for this purpose (e.g. `OPAL_XIVE_GET_IRQ_INFO`'s trigger or EOI
/// page) and an offset the specification defines for it.
pub unsafe fn ci_load64(addr: u64) -> u64 {
    let value: u64;
    // SAFETY: passed on to the caller; ldcix touches only `addr`.
    unsafe { asm!("sync", "ldcix {0}, 0, {1}", out(reg) value, in(reg) addr, options(nostack)) };
    value
}

/// The store counterpart of [`ci_load64`], followed by `sync` so the store has reached
/// the device before the caller looks at its effects.
///
/// # Safety
/// As [`ci_load64`].
pub unsafe fn ci_store64(addr: u64, value: u64) {
    // SAFETY: passed on to the caller; stdcix writes only `addr`.
    unsafe {
        asm!("sync", "stdcix {0}, 0, {1}", "sync", in(reg) value, in(reg) addr, options(nostack))
    };
}

/// `sync` (hwsync): orders this thread's accesses against what devices and other threads
/// wrote to memory, before the payload reads memory a device writes (a XIVE queue).
pub fn sync() {
    // SAFETY: a barrier has no other effect.
    unsafe { asm!("sync", options(nostack, preserves_flags)) };
}

/// An 8-byte load from RAM the firmware left to the OS, through a `volatile` access so the
/// compiler keeps it: `conformance.bench-reboot` reads what the boot before a reset left.
///
/// # Safety
/// `addr` must be 8-byte aligned RAM outside every firmware reservation and outside the
/// payload's own image, stack and device tree.
pub unsafe fn ram_load64(addr: u64) -> u64 {
    // SAFETY: passed on to the caller.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// The store counterpart of [`ram_load64`], followed by `sync` so the value is in memory
/// (not only in this thread's store queue) before the caller asks for a reset.
///
/// # Safety
/// As [`ram_load64`].
pub unsafe fn ram_store64(addr: u64, value: u64) {
    // SAFETY: passed on to the caller.
    unsafe { core::ptr::write_volatile(addr as *mut u64, value) };
    sync();
}
