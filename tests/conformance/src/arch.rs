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
 * the TOC, and calls worker_main(slot, pir) (areas/mod.rs: the job the boot thread chose
 * with `wake_workers`), then sleeps again. */
secondary_park:
    mr      31, 3
    li      0, 0
    mtspr   855, 0
    /* The generation already handed out counts as served: a thread started again after
     * OPAL_RETURN_CPU must not run the work of a generation it was not there for. Then
     * count the arrival: whoever starts a thread waits for it before handing out work. */
    lis     4, WORK_GENERATION@ha
    ld      30, WORK_GENERATION@l(4)
    lis     4, PARK_ARRIVALS@ha
    addi    4, 4, PARK_ARRIVALS@l
3:  ldarx   6, 0, 4
    addi    6, 6, 1
    stdcx.  6, 0, 4
    bne-    3b
    sync
1:  lis     0, 0x004c
    ori     0, 0, 0x4b40
    mtspr   22, 0
    stop
    /* A hypervisor doorbell left pending (the rescue of `stop_until_reset`) would end
     * every later stop at once: clear it (msgclr, type 5). */
    lis     4, 0x2800
    .long   0x7c0021dc
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

/// Threads that entered `secondary_park` so far (each start counts once).
#[no_mangle]
static PARK_ARRIVALS: AtomicU64 = AtomicU64::new(0);

/// How many times a thread entered `secondary_park`: after `OPAL_START_CPU`, wait for this
/// to move before [`wake_workers`] (the newcomer skips the generation current on arrival).
pub fn park_arrivals() -> u64 {
    PARK_ARRIVALS.load(Ordering::SeqCst)
}

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

/// What a woken thread does in `worker_main` (areas/mod.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Nothing: go back to sleep.
    None,
    /// Its share of `fuzz.run`.
    Fuzz,
    /// Commands from the boot thread (areas/threads.rs).
    Commands,
}

static WORK_JOB: AtomicU64 = AtomicU64::new(0);

/// Makes every parked thread call `worker_main` once (within about 10 ms) to do `job`.
pub fn wake_workers(job: Job) {
    let code = match job {
        Job::None => 0,
        Job::Fuzz => 1,
        Job::Commands => 2,
    };
    WORK_JOB.store(code, Ordering::SeqCst);
    WORK_TICKET.store(0, Ordering::SeqCst);
    WORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The job of the latest [`wake_workers`].
pub fn current_job() -> Job {
    match WORK_JOB.load(Ordering::SeqCst) {
        1 => Job::Fuzz,
        2 => Job::Commands,
        _ => Job::None,
    }
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

// ----- System reset (0x100): the payload's own vector, as an OS has -----
//
// `OPAL_SIGNAL_SYSTEM_RESET` sends the target thread to the OS's 0x100 vector
// (hmi-mce-sreset.md §1.1). The payload installs a vector there that records the reset
// and *resumes* the interrupted code, whatever it was: payload code, a stop, or OPAL
// itself in the middle of a call. Per thread (PIR & (RESET_SLOTS - 1)) a 256-byte slot of
// `SRESET_AREA` holds the entry save (E_*), the context to resume (C_*), the record the
// cases read and the state of `stop_until_reset`.
//
// * The stub at 0x100 (`sreset_vector`, copied there by `install_sreset_vector`) uses
//   HSPRG1 as its only scratch register, as Linux does; it saves r12, r13 and CTR and
//   branches to `sreset_handler` in the image.
// * The handler saves r11, CR, SRR0 and SRR1, copies the entry save to the context
//   (unless it interrupted its own tail, see below), records PIR, SRR0, SRR1 and the
//   timebase, increments the count, and restores everything with `rfid` to SRR0/SRR1
//   (rfid ignores SRR1[33:36,42:47], the wake-reason bits). It touches no stack, takes no
//   lock and calls nothing, so it is correct wherever it lands.
// * A power-saving wakeup (SRR1[46:47] != 0) resumes at the address the waiting code
//   stored in its slot (`stop_until_reset`: the instruction after its `stop`), whatever
//   SRR0 says; that code reloads its registers from memory, so GPR loss is fine too.
// * A second reset taken in the handler's tail (after the count is stored) restarts the
//   tail from the context slots, which are intact, and is counted in `nested`. A reset
//   anywhere earlier in the vector or handler cannot be survived (the first one's SRR0
//   and SRR1, or its entry save, are overwritten, as in any OS): it is counted in `lost`
//   and the thread stays in the handler for good. So the payload sends a thread its next
//   reset only once the previous one has been taken ([`expect_reset`],
//   [`reset_outstanding`]): QEMU runs two queued resets back to back, the second one at
//   the vector's first instruction.

/// Bytes per thread of the reset area, and the number of slots (PIR & (RESET_SLOTS - 1)).
pub const RESET_SLOT_SHIFT: u32 = 8;
pub const RESET_SLOTS: usize = 1024;

/// Byte offsets inside one slot (shared with the assembly through const operands).
mod slot {
    pub const E_R11: usize = 0;
    pub const E_R12: usize = 8;
    pub const E_R13: usize = 16;
    pub const E_CTR: usize = 24;
    pub const E_CR: usize = 32;
    pub const E_SRR0: usize = 40;
    pub const E_SRR1: usize = 48;
    pub const C_R11: usize = 56;
    pub const C_R12: usize = 64;
    pub const C_R13: usize = 72;
    pub const C_CTR: usize = 80;
    pub const C_CR: usize = 88;
    pub const C_SRR0: usize = 96;
    pub const C_SRR1: usize = 104;
    /// Where a power-saving wakeup resumes (0: at SRR0).
    pub const RESUME_AT: usize = 112;
    pub const COUNT: usize = 120;
    pub const LAST_SRR0: usize = 128;
    pub const LAST_SRR1: usize = 136;
    pub const LAST_PIR: usize = 144;
    pub const LAST_TB: usize = 152;
    pub const NESTED: usize = 160;
    pub const LOST: usize = 168;
    /// 1 from just before `stop_until_reset`'s stop until it resumes.
    pub const IN_STOP: usize = 176;
    /// `stop_until_reset`'s stack pointer, reloaded after the wakeup.
    pub const WAIT_R1: usize = 184;
    pub const WORDS: usize = 1 << (super::RESET_SLOT_SHIFT - 3);
}

#[repr(C, align(256))]
struct ResetArea([[u64; slot::WORDS]; RESET_SLOTS]);

/// Written by the 0x100 handler and `sreset_stop_wait` (assembly) and read by
/// [`reset_record`]; Rust never writes it.
#[no_mangle]
static mut SRESET_AREA: ResetArea = ResetArea([[0; slot::WORDS]; RESET_SLOTS]);

/// Hypervisor doorbell message type (5) for msgsnd/msgclr.
const DBELL_SERVER: u64 = 0x2800_0000;

global_asm!(
    r#"
    .section .text.sreset, "ax", @progbits
    .p2align 4
    .globl sreset_vector
sreset_vector:
    mtspr   305, 13
    mfspr   13, 1023
    rldicl  13, 13, 0, {mask_mb}
    sldi    13, 13, {shift}
    addis   13, 13, SRESET_AREA@ha
    addi    13, 13, SRESET_AREA@l
    std     12, {e_r12}(13)
    mfspr   12, 305
    std     12, {e_r13}(13)
    mfctr   12
    std     12, {e_ctr}(13)
    lis     12, sreset_handler@ha
    addi    12, 12, sreset_handler@l
    mtctr   12
    bctr
    .globl sreset_vector_end
sreset_vector_end:

    .p2align 4
    .globl sreset_handler
sreset_handler:
    std     11, {e_r11}(13)
    mfcr    11
    std     11, {e_cr}(13)
    mfspr   11, 26
    std     11, {e_srr0}(13)
    mfspr   12, 27
    std     12, {e_srr1}(13)
    /* Interrupted our own tail: the context slots still hold the first reset's. */
    lis     12, sreset_tail@ha
    addi    12, 12, sreset_tail@l
    cmpld   11, 12
    blt     1f
    lis     12, sreset_tail_end@ha
    addi    12, 12, sreset_tail_end@l
    cmpld   11, 12
    bge     1f
    ld      12, {nested}(13)
    addi    12, 12, 1
    std     12, {nested}(13)
    b       3f
    /* Interrupted the vector stub or the handler before its tail: not survivable. */
1:  cmpldi  11, 0x100
    blt     4f
    cmpldi  11, 0x200
    blt     2f
    lis     12, sreset_handler@ha
    addi    12, 12, sreset_handler@l
    cmpld   11, 12
    blt     4f
    lis     12, sreset_tail@ha
    addi    12, 12, sreset_tail@l
    cmpld   11, 12
    bge     4f
    /* Lost: the interrupted state is gone (a second reset before this one's record).
     * Count it and stay here rather than resume garbage (which would re-enter the
     * handler for ever). */
2:  ld      12, {lost}(13)
    addi    12, 12, 1
    std     12, {lost}(13)
    sync
5:  b       5b
4:  ld      11, {e_r11}(13)
    std     11, {c_r11}(13)
    ld      11, {e_r12}(13)
    std     11, {c_r12}(13)
    ld      11, {e_r13}(13)
    std     11, {c_r13}(13)
    ld      11, {e_ctr}(13)
    std     11, {c_ctr}(13)
    ld      11, {e_cr}(13)
    std     11, {c_cr}(13)
    ld      11, {e_srr0}(13)
    std     11, {c_srr0}(13)
    ld      11, {e_srr1}(13)
    std     11, {c_srr1}(13)
    /* Power-saving wakeup (SRR1[46:47] != 0): resume where the waiting code asked. */
    rldicl. 12, 11, 48, 62
    beq     3f
    ld      12, {resume_at}(13)
    cmpdi   12, 0
    beq     3f
    std     12, {c_srr0}(13)
3:  ld      11, {e_srr0}(13)
    std     11, {last_srr0}(13)
    ld      11, {e_srr1}(13)
    std     11, {last_srr1}(13)
    mfspr   11, 1023
    std     11, {last_pir}(13)
    mfspr   11, 268
    std     11, {last_tb}(13)
    sync
    ld      11, {count}(13)
    addi    11, 11, 1
    std     11, {count}(13)
    .globl sreset_tail
sreset_tail:
    sync
    ld      11, {c_srr0}(13)
    mtspr   26, 11
    ld      11, {c_srr1}(13)
    mtspr   27, 11
    ld      11, {c_cr}(13)
    mtcr    11
    ld      11, {c_ctr}(13)
    mtctr   11
    ld      11, {c_r11}(13)
    ld      12, {c_r12}(13)
    ld      13, {c_r13}(13)
    rfid
    .globl sreset_tail_end
sreset_tail_end:

/* void sreset_stop_wait(u64 psscr, u64 lpcr): stop with `psscr` and `lpcr` until a
 * wakeup, then put PSSCR and LPCR back and return. With PSSCR[EC] = 1 every wakeup is a
 * system reset at 0x100 (ISA 3.0 stop): the handler resumes at sreset_stop_resume, which
 * is also the next instruction, and everything is reloaded from memory there. */
    .p2align 4
    .globl sreset_stop_wait
    .type sreset_stop_wait, @function
sreset_stop_wait:
    mflr    0
    std     0, 16(1)
    mfcr    12
    stw     12, 8(1)
    stdu    1, -192(1)
    std     2, 24(1)
    std     14, 32(1)
    std     15, 40(1)
    std     16, 48(1)
    std     17, 56(1)
    std     18, 64(1)
    std     19, 72(1)
    std     20, 80(1)
    std     21, 88(1)
    std     22, 96(1)
    std     23, 104(1)
    std     24, 112(1)
    std     25, 120(1)
    std     26, 128(1)
    std     27, 136(1)
    std     28, 144(1)
    std     29, 152(1)
    std     30, 160(1)
    std     31, 168(1)
    mfspr   5, 318
    std     5, 176(1)
    mfspr   5, 855
    std     5, 184(1)
    mfspr   6, 1023
    rldicl  6, 6, 0, {mask_mb}
    sldi    6, 6, {shift}
    addis   6, 6, SRESET_AREA@ha
    addi    6, 6, SRESET_AREA@l
    std     1, {wait_r1}(6)
    lis     7, sreset_stop_resume@ha
    addi    7, 7, sreset_stop_resume@l
    std     7, {resume_at}(6)
    mtspr   318, 4
    isync
    mtspr   855, 3
    isync
    li      7, 1
    std     7, {in_stop}(6)
    sync
    .globl sreset_stop_insn
sreset_stop_insn:
    stop
    .globl sreset_stop_resume
sreset_stop_resume:
    mfspr   6, 1023
    rldicl  6, 6, 0, {mask_mb}
    sldi    6, 6, {shift}
    addis   6, 6, SRESET_AREA@ha
    addi    6, 6, SRESET_AREA@l
    ld      1, {wait_r1}(6)
    li      0, 0
    std     0, {resume_at}(6)
    std     0, {in_stop}(6)
    ld      5, 184(1)
    mtspr   855, 5
    ld      5, 176(1)
    mtspr   318, 5
    isync
    /* The rescue doorbell (or a stray one) must not stay pending: msgclr r4. */
    lis     4, {dbell_hi}
    .long   0x7c0021dc
    ld      2, 24(1)
    ld      14, 32(1)
    ld      15, 40(1)
    ld      16, 48(1)
    ld      17, 56(1)
    ld      18, 64(1)
    ld      19, 72(1)
    ld      20, 80(1)
    ld      21, 88(1)
    ld      22, 96(1)
    ld      23, 104(1)
    ld      24, 112(1)
    ld      25, 120(1)
    ld      26, 128(1)
    ld      27, 136(1)
    ld      28, 144(1)
    ld      29, 152(1)
    ld      30, 160(1)
    ld      31, 168(1)
    addi    1, 1, 192
    ld      0, 16(1)
    mtlr    0
    lwz     12, 8(1)
    mtcrf   0x38, 12
    blr

/* void sreset_doorbell(u64 rb): msgsnd r3 (a hypervisor doorbell, see `doorbell`). */
    .p2align 4
    .globl sreset_doorbell
sreset_doorbell:
    sync
    .long   0x7c00199c
    blr
"#,
    mask_mb = const 64 - RESET_SLOTS.trailing_zeros(),
    shift = const RESET_SLOT_SHIFT,
    e_r11 = const slot::E_R11,
    e_r12 = const slot::E_R12,
    e_r13 = const slot::E_R13,
    e_ctr = const slot::E_CTR,
    e_cr = const slot::E_CR,
    e_srr0 = const slot::E_SRR0,
    e_srr1 = const slot::E_SRR1,
    c_r11 = const slot::C_R11,
    c_r12 = const slot::C_R12,
    c_r13 = const slot::C_R13,
    c_ctr = const slot::C_CTR,
    c_cr = const slot::C_CR,
    c_srr0 = const slot::C_SRR0,
    c_srr1 = const slot::C_SRR1,
    resume_at = const slot::RESUME_AT,
    count = const slot::COUNT,
    last_srr0 = const slot::LAST_SRR0,
    last_srr1 = const slot::LAST_SRR1,
    last_pir = const slot::LAST_PIR,
    last_tb = const slot::LAST_TB,
    nested = const slot::NESTED,
    lost = const slot::LOST,
    in_stop = const slot::IN_STOP,
    wait_r1 = const slot::WAIT_R1,
    dbell_hi = const DBELL_SERVER >> 16,
);

extern "C" {
    static sreset_vector: u8;
    static sreset_vector_end: u8;
    static sreset_stop_insn: u8;
    static sreset_stop_resume: u8;
    fn sreset_stop_wait(psscr: u64, lpcr: u64);
    fn sreset_doorbell(rb: u64);
}

/// The system reset vector.
const SRESET_VECTOR: usize = 0x100;
/// The next vector (machine check): the stub must end before it.
const SRESET_VECTOR_END: usize = 0x200;

static VECTOR_INSTALLED: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Copies the payload's system reset stub to 0x100 (once; later calls do nothing) and
/// makes it visible to instruction fetch. From then on an `OPAL_SIGNAL_SYSTEM_RESET` of
/// any thread lands in the payload's handler and the thread resumes.
///
/// The caller checks that 0x100..0x200 is not in a firmware reservation: after boot the
/// exception vectors belong to the OS (both firmwares enter the OS with HRMOR = 0, and
/// Linux writes its own vectors there the same way).
pub fn install_sreset_vector() {
    if VECTOR_INSTALLED.load(Ordering::SeqCst) {
        return;
    }
    let src = core::ptr::addr_of!(sreset_vector) as usize;
    let len = core::ptr::addr_of!(sreset_vector_end) as usize - src;
    assert!(len <= SRESET_VECTOR_END - SRESET_VECTOR && len % 4 == 0);
    for off in (0..len).step_by(4) {
        // SAFETY: reads the stub's words from the image; writes the OS-owned vector area
        // 0x100..0x200 (see above), which nothing else in the payload uses.
        unsafe {
            let word = core::ptr::read_volatile((src + off) as *const u32);
            core::ptr::write_volatile((SRESET_VECTOR + off) as *mut u32, word);
        }
    }
    for line in (SRESET_VECTOR..SRESET_VECTOR + len).step_by(128) {
        // SAFETY: cache maintenance of the lines just written; no data changes.
        unsafe {
            asm!("dcbst 0, {0}", "sync", "icbi 0, {0}", "sync", "isync",
                 in(reg) line, options(nostack))
        };
    }
    VECTOR_INSTALLED.store(true, Ordering::SeqCst);
}

/// Whether [`install_sreset_vector`] ran.
pub fn sreset_vector_installed() -> bool {
    VECTOR_INSTALLED.load(Ordering::SeqCst)
}

/// What the 0x100 handler recorded for one thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResetRecord {
    /// System resets taken so far.
    pub count: u64,
    /// SRR0 and SRR1 of the latest one, as the interrupt set them.
    pub srr0: u64,
    pub srr1: u64,
    /// PIR the handler ran on, and the timebase then.
    pub pir: u64,
    pub tb: u64,
    /// Resets taken in the handler's own tail (survived) and before it (not survivable).
    pub nested: u64,
    pub lost: u64,
    /// The thread is in (or about to execute) the stop of [`stop_until_reset`].
    pub in_stop: bool,
}

fn reset_word(pir: u32, off: usize) -> u64 {
    let index = pir as usize & (RESET_SLOTS - 1);
    let area = core::ptr::addr_of!(SRESET_AREA) as *const u64;
    // SAFETY: inside the static; an aligned word another thread's handler may be writing,
    // read as a whole with a volatile load.
    unsafe { core::ptr::read_volatile(area.add(index * slot::WORDS + off / 8)) }
}

/// The record of the thread with this PIR (slots are PIR & (RESET_SLOTS - 1)).
pub fn reset_record(pir: u32) -> ResetRecord {
    let count = reset_word(pir, slot::COUNT);
    sync();
    ResetRecord {
        count,
        srr0: reset_word(pir, slot::LAST_SRR0),
        srr1: reset_word(pir, slot::LAST_SRR1),
        pir: reset_word(pir, slot::LAST_PIR),
        tb: reset_word(pir, slot::LAST_TB),
        nested: reset_word(pir, slot::NESTED),
        lost: reset_word(pir, slot::LOST),
        in_stop: reset_word(pir, slot::IN_STOP) != 0,
    }
}

extern "C" {
    static _payload_end: u8;
}

/// Where the payload image (code, data, BSS, stacks) lies.
pub fn image_range() -> (u64, u64) {
    let start = _start as *const () as u64;
    (start & !0xffff, core::ptr::addr_of!(_payload_end) as u64)
}

extern "C" {
    fn _start();
}

/// Per slot: the count the thread must reach before it may be sent another reset.
static RESETS_SENT: [AtomicU64; RESET_SLOTS] = [const { AtomicU64::new(0) }; RESET_SLOTS];

/// Notes that a reset of `pir` was accepted when its count was `before`: until its count
/// passes `before`, [`reset_outstanding`] says so.
pub fn expect_reset(pir: u32, before: u64) {
    RESETS_SENT[pir as usize & (RESET_SLOTS - 1)].fetch_max(before + 1, Ordering::SeqCst);
}

/// Whether a reset the payload sent to `pir` has not been taken yet (sending another one
/// now could land in the handler before it saved anything).
pub fn reset_outstanding(pir: u32) -> bool {
    reset_record(pir).count < RESETS_SENT[pir as usize & (RESET_SLOTS - 1)].load(Ordering::SeqCst)
}

/// Code addresses the cases compare SRR0 with.
#[derive(Clone, Copy, Debug)]
pub struct StopAddrs {
    /// `stop_until_reset`'s code: [start, stop instruction] runs before the stop.
    pub start: u64,
    pub stop: u64,
    /// The instruction after the stop, where a wakeup resumes.
    pub resume: u64,
}

pub fn stop_addrs() -> StopAddrs {
    StopAddrs {
        start: sreset_stop_wait as *const () as u64,
        stop: core::ptr::addr_of!(sreset_stop_insn) as u64,
        resume: core::ptr::addr_of!(sreset_stop_resume) as u64,
    }
}

/// PSSCR[ESL], PSSCR[EC] (ISA 3.0; Linux `PSSCR_ESL`, `PSSCR_EC`).
pub const PSSCR_ESL: u64 = 0x20_0000;
pub const PSSCR_EC: u64 = 0x10_0000;
/// LPCR wake enables (hmi-mce-sreset.md §0.5): HVI, privileged and hypervisor doorbell,
/// external, decrementer, other (MCE/HMI).
pub const LPCR_PECE_HVEE: u64 = 1 << 46;
pub const LPCR_PECEDP: u64 = 1 << 16;
pub const LPCR_PECEDH: u64 = 1 << 15;
pub const LPCR_PECE0: u64 = 1 << 14;
pub const LPCR_PECE1: u64 = 1 << 13;
pub const LPCR_PECE2: u64 = 1 << 12;

/// LPCR (SPR 318).
pub fn mflpcr() -> u64 {
    let v: u64;
    // SAFETY: reading LPCR has no side effects; we run in hypervisor mode.
    unsafe { asm!("mfspr {0}, 318", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Sleeps in `stop` with PSSCR ESL = EC = 1, RL = 0 and only the hypervisor doorbell
/// enabled as a wake source besides system reset (LPCR PECE bits), so it returns after a
/// system reset (or the rescue doorbell of [`doorbell`]); the 0x100 handler records which
/// in SRR1. PSSCR and LPCR are put back. Returns at once if the vector is not installed
/// (a reset would then go to the firmware's vector).
pub fn stop_until_reset() {
    if !sreset_vector_installed() {
        return;
    }
    let wake = LPCR_PECE_HVEE | LPCR_PECEDP | LPCR_PECEDH | LPCR_PECE0 | LPCR_PECE1 | LPCR_PECE2;
    let lpcr = (mflpcr() & !wake) | LPCR_PECEDH;
    // SAFETY: the assembly saves and restores every non-volatile register, LPCR and
    // PSSCR; it changes only the wake enables, and the 0x100 handler is installed.
    unsafe { sreset_stop_wait(PSSCR_ESL | PSSCR_EC, lpcr) };
}

/// Sends a hypervisor doorbell to the thread with this PIR (msgsnd, type 5): wakes a
/// thread in [`stop_until_reset`] that no reset reached.
pub fn doorbell(pir: u32) {
    let rb = DBELL_SERVER | u64::from(pir & 0x3f_ffff);
    // SAFETY: a doorbell only makes an interrupt pending on the target; with MSR[EE] = 0
    // (the payload never enables it) it is never delivered, only ends a stop.
    unsafe { sreset_doorbell(rb) };
}
