// SPDX-License-Identifier: Apache-2.0
//! Seeded fuzzing (`conformance.fuzz=N`, `conformance.seed=S`): N calls with random tokens
//! and arguments, spread over every thread (the parked threads are woken, see
//! `arch::secondary_park`). Each thread has its own xorshift generator seeded from
//! (S, slot), so a thread's sequence of calls is reproducible from the seed; the
//! interleaving between threads is not.
//!
//! Arguments come from interesting values: 0, −1, small numbers, random words, pointers
//! into the thread's canary-guarded pool (aligned and not), into OPAL's memory, past RAM,
//! and huge. Tokens: the present ones except those that end the run or take threads away
//! (CEC_REBOOT, CEC_REBOOT2, START_CPU), with POWER_DOWN and REINIT_CPUS given only refused arguments;
//! 1 in 256 calls an absent token, which must be exactly OPAL_PARAMETER. The flash and
//! NVRAM are the machine's: their reads land in a pool buffer or a refused address,
//! flash writes and erases stay in a scratch window of QEMU's blank flash, and NVRAM
//! writes are only ever refused. Checked: every r3 is 0, a positive value or an OPAL
//! error code (OPAL_ASYNC_COMPLETION only from the calls documented to answer it); no byte of a pool outside its buffers
//! changes; every thread keeps making progress (a thread stuck 5 s in one call is a hang);
//! afterwards the console, CHECK_TOKEN and XIVE (RESET, one queue enabled) still work,
//! and the invariants of `invariants.rs` hold (allocators back to their counts from
//! before the run, no lock left held, every thread's OPAL depth 0, no message left).
//!
//! `OPAL_QUIESCE` and `OPAL_SIGNAL_SYSTEM_RESET` are drawn as short sequences that cannot
//! hang the run: a HOLD or REJECT (of −1, another thread, or a bad cpu) is always followed
//! by the same thread's RESUME, LOCK_BREAK only comes right after a successful HOLD(−1),
//! and never on the caller itself. A reset targets another thread (or self, −1, −2, a bad
//! number), sometimes between HOLD and RESUME as Linux sends it; the targets are fuzzing
//! threads, which the payload's 0x100 handler resumes wherever they were (inside OPAL
//! too). Resets are sent one at a time (a payload lock taken before any HOLD), and after
//! an answer of 0 the sender waits until every target's handler ran (2 s each): a reset
//! that returns 0 and never arrives is a failure, and a target is never reset again before
//! it took the last one. Self and unknown servers must be OPAL_PARAMETER; a bad quiesce cpu
//! too; the RESUME after a HOLD or REJECT that returned 0 or PARTIAL must be 0.

use core::sync::atomic::{AtomicU64, Ordering};

use opal_api::token::*;
use opal_api::OpalError;

use conformance::memmap::Range;
use conformance::spec::{int32_arg, quiesce};

use super::common::call;
use super::invariants;
use crate::arch::{self, MAX_WORKERS};
use crate::opal::{self, Ret};
use crate::runner::{expect, expect_eq, Area, Case, CaseResult, Ctx, Verdict};
use crate::{fail, msg};

pub static AREA: Area = Area {
    name: "fuzz",
    tokens: &[OPAL_CHECK_TOKEN],
    before_each: None,
    cases: &[Case {
        name: "fuzz.run",
        run,
    }],
};

/// Slots 0..MAX_WORKERS are woken threads; the boot thread is the last.
const SLOTS: usize = MAX_WORKERS + 1;
const BOOT_SLOT: usize = MAX_WORKERS;
const POOL: u64 = 4096;
const GUARD: u8 = 0x5a;
/// Buffers in a pool: 16 of 128 bytes at 256 * k + 64; the rest is guard.
const BUFS: u64 = 16;
/// Per slot: a queue page, two donation pages, the pool (each 64 KiB aligned).
const SLOT_BYTES: u64 = 4 << 16;

/// At most this many tokens are drawn (every present one must fit).
const MAX_FUZZABLE: usize = 128;

/// Calls documented to answer OPAL_ASYNC_COMPLETION (the result follows in a message):
/// for any other token that answer is not an OPAL error code, and a failure.
const ANSWER_ASYNC: &[u64] = &[OPAL_FLASH_READ, OPAL_FLASH_WRITE, OPAL_FLASH_ERASE];

/// Where the flash calls may write: 64 KiB just past the flash area's scratch block
/// (`areas/flash.rs`: QEMU's blank flash, 16 MiB in, away from any partition table).
/// Every other offset a write or erase is given is past the end of any flash.
const FLASH_SCRATCH: u64 = super::flash::SCRATCH + (1 << 16);
const FLASH_SCRATCH_BYTES: u64 = 1 << 16;

/// Calls that end the run or take a thread away for good.
const NEVER: &[u64] = &[
    OPAL_CEC_REBOOT,
    OPAL_CEC_REBOOT2,
    OPAL_START_CPU,
    OPAL_RETURN_CPU,
];

static CALLS_PER_THREAD: AtomicU64 = AtomicU64::new(0);
static SEED: AtomicU64 = AtomicU64::new(0);
static MEMORY: AtomicU64 = AtomicU64::new(0);
static FW_PTR: AtomicU64 = AtomicU64::new(0);
static PAST_RAM: AtomicU64 = AtomicU64::new(0);
static PRESENT: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// The tokens drawn (PRESENT, or the `conformance.fuzz-tokens` among them).
static DRAWN: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// PIRs of every thread (for reset and quiesce targets) and how many.
static THREAD_PIRS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static THREADS: AtomicU64 = AtomicU64::new(0);
static TICKS_PER_MS: AtomicU64 = AtomicU64::new(512_000);
/// Held while a thread sends a system reset and waits for it to land (taken before any
/// HOLD that goes with the reset, so a quiesce owner never waits for it).
static SRESET_LOCK: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
/// Resets that returned 0 and whose target's handler ran.
static RESETS_SEEN: AtomicU64 = AtomicU64::new(0);
/// Resets that may still reach a thread in this run (`conformance.fuzz-resets`); later
/// draws of 145 use refused targets. QEMU 10's direct controls occasionally leave a vCPU
/// that no longer runs or takes a reset (docs/conformance.md), so a long run would
/// otherwise fail by chance.
static RESET_BUDGET: AtomicU64 = AtomicU64::new(0);
/// Default for `conformance.fuzz-resets`.
const DEFAULT_RESETS: u64 = 32;
/// REJECTs in force (counted from before the call to after its RESUME) and how many were
/// ever issued: a call that overlapped one may be answered OPAL_BUSY at OPAL's entry,
/// whatever its token or arguments.
static REJECTS_ACTIVE: AtomicU64 = AtomicU64::new(0);
static REJECTS_ISSUED: AtomicU64 = AtomicU64::new(0);

fn rejects() -> (u64, u64) {
    (
        REJECTS_ACTIVE.load(Ordering::SeqCst),
        REJECTS_ISSUED.load(Ordering::SeqCst),
    )
}

/// Where each slot is in `fuzz_sreset` (for the hang report): 1 waiting for the lock,
/// 2 HOLD, 3 SIGNAL_SYSTEM_RESET, 4 RESUME, 5 waiting for a target's handler, 0 elsewhere.
static PHASE: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
/// Each slot's latest reset: target, held (1) or not, answer.
static LAST_RESET: [[AtomicU64; 3]; SLOTS] = [const { [const { AtomicU64::new(0) }; 3] }; SLOTS];

/// Slot + 1 of the thread holding SRESET_LOCK (0: free), for the hang report.
static SRESET_OWNER: AtomicU64 = AtomicU64::new(0);
/// The firmware is Opalite (draws that only make sense against its semantics).
static OPALITE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
static PROGRESS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static CURRENT: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static PIRS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
/// First failure of a slot: call index + 1 (0: none), then token, r3, kind.
static FAIL_AT: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static FAIL_TOKEN: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static FAIL_RET: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static FAIL_KIND: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static DONE: AtomicU64 = AtomicU64::new(0);

/// How long a target's handler may take to run after a reset returned 0 (QEMU runs it
/// when the target's vCPU thread next runs, which a loaded host can delay).
const DELIVERY_MS: u64 = 2000;

const KIND_BAD_RET: u64 = 1;
const KIND_CANARY: u64 = 2;
const KIND_BAD_TOKEN: u64 = 3;
/// A reset or quiesce answer the specification rules out (see `why`).
const KIND_SRESET_SELF: u64 = 4;
const KIND_SRESET_UNKNOWN: u64 = 5;
const KIND_SRESET_LOST: u64 = 6;
const KIND_QUIESCE_BAD_CPU: u64 = 7;
const KIND_QUIESCE_RESUME: u64 = 8;
const KIND_QUIESCE_LOCK_BREAK: u64 = 9;

struct Rng(u64);

impl Rng {
    fn new(seed: u64, slot: usize) -> Self {
        let s = seed ^ (slot as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Rng(if s == 0 { 0x2545_f491_4f6c_dd1d } else { s })
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn in_mask(mask: &[AtomicU64; 4], token: u64) -> bool {
    token < 256 && mask[(token / 64) as usize].load(Ordering::Relaxed) >> (token % 64) & 1 != 0
}

fn present(token: u64) -> bool {
    in_mask(&PRESENT, token)
}

/// Another thread's PIR (or this one's if it is alone).
fn other_pir(rng: &mut Rng, me: u64) -> u64 {
    let n = THREADS.load(Ordering::Relaxed).max(1);
    let mut p = THREAD_PIRS[rng.below(n) as usize].load(Ordering::Relaxed);
    for _ in 0..4 {
        if p != me {
            break;
        }
        p = THREAD_PIRS[rng.below(n) as usize].load(Ordering::Relaxed);
    }
    p
}

fn is_thread(pir: i64) -> bool {
    let n = THREADS.load(Ordering::Relaxed) as usize;
    pir >= 0 && (0..n).any(|i| THREAD_PIRS[i].load(Ordering::Relaxed) == pir as u64)
}

/// A quiesce cpu or reset target that is not a thread: −2 (quiesce only), −3, INT32_MIN,
/// or a server number no thread has.
fn bad_cpu(rng: &mut Rng) -> i64 {
    let candidates = [-3i64, i64::from(i32::MIN), 0x7ff, 0x7fff_ffff];
    let c = candidates[rng.below(candidates.len() as u64) as usize];
    if c >= 0 && is_thread(c) {
        -3
    } else {
        c
    }
}

fn scalar(token: u64, args: &[u64]) -> u64 {
    opal::scalar_call(token, args).map_or(0, |r| r.0)
}

fn quiesce_call(ty: u64, cpu: i64) -> Ret {
    Ret(scalar(OPAL_QUIESCE, &[ty, int32_arg(cpu as i32)]))
}

fn wait_ms(ms: u64) -> u64 {
    arch::mftb() + ms * TICKS_PER_MS.load(Ordering::Relaxed)
}

/// One OPAL_QUIESCE sequence; returns the first answer and a failure kind (0: none).
fn fuzz_quiesce(rng: &mut Rng, me: u64) -> (u64, u64) {
    let cpu = match rng.below(8) {
        0..=2 => -1,
        3..=6 => other_pir(rng, me) as i64,
        _ => bad_cpu(rng),
    };
    if cpu == me as i64 {
        return (0, 0); // never hold the caller itself: its RESUME would be held too
    }
    // Unknown types and RESUMEs without a HOLD are drawn on Opalite only: skiboot stores
    // an unknown type as the targets' quiesce flag (X10) and lets the last owner's RESUME
    // clear another thread's hold, so a race with a third thread's HOLD can leave a thread
    // spinning at OPAL's entry for good, or other threads inside OPAL after LOCK_BREAK.
    let draws = if OPALITE.load(Ordering::Relaxed) {
        16
    } else {
        13
    };
    let ty = match rng.below(draws) {
        0..=7 => quiesce::HOLD,
        8..=12 => quiesce::REJECT,
        13 => 0,
        14 => 6,
        _ => quiesce::RESUME,
    };
    if ty == quiesce::REJECT {
        REJECTS_ISSUED.fetch_add(1, Ordering::SeqCst);
        REJECTS_ACTIVE.fetch_add(1, Ordering::SeqCst);
    }
    let (r, kind) = quiesce_sequence(rng, ty, cpu);
    if ty == quiesce::REJECT {
        REJECTS_ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
    (r, kind)
}

fn quiesce_sequence(rng: &mut Rng, ty: u64, cpu: i64) -> (u64, u64) {
    let r = quiesce_call(ty, cpu);
    let valid_cpu = cpu == -1 || is_thread(cpu);
    if !valid_cpu {
        let kind = if r.is(OpalError::Parameter) {
            0
        } else {
            // Whatever it did, undo it.
            let _ = quiesce_call(quiesce::RESUME, -1);
            KIND_QUIESCE_BAD_CPU
        };
        return (r.0, kind);
    }
    let owned = (ty == quiesce::HOLD || ty == quiesce::REJECT)
        && (r == Ret::SUCCESS || r.is(OpalError::Partial));
    if owned && ty == quiesce::HOLD && cpu == -1 && r == Ret::SUCCESS && rng.below(4) == 0 {
        let lb = quiesce_call(quiesce::LOCK_BREAK, -1);
        if lb != Ret::SUCCESS {
            let _ = quiesce_call(quiesce::RESUME, -1);
            return (lb.0, KIND_QUIESCE_LOCK_BREAK);
        }
    }
    if ty == quiesce::RESUME {
        return (r.0, 0);
    }
    // Always our own RESUME (after an unknown type too: skiboot may have stored it).
    let resumed = quiesce_call(quiesce::RESUME, cpu);
    if owned && resumed != Ret::SUCCESS {
        return (resumed.0, KIND_QUIESCE_RESUME);
    }
    (r.0, 0)
}

/// One OPAL_SIGNAL_SYSTEM_RESET, sometimes between HOLD and RESUME; returns the answer and
/// a failure kind (0: none).
fn fuzz_sreset(rng: &mut Rng, slot: usize, me: u64) -> (u64, u64) {
    let mut target: i64 = match rng.below(16) {
        0..=9 => other_pir(rng, me) as i64,
        10 => me as i64,
        11 => -2,
        12 => -1,
        _ => bad_cpu(rng),
    };
    // Past the run's budget of resets that reach a thread, only refused targets.
    let reaches = target == -1 || target == -2 || (target != me as i64 && is_thread(target));
    let mut budgeted = false;
    if reaches {
        if RESET_BUDGET.fetch_sub(1, Ordering::Relaxed) as i64 <= 0 {
            RESET_BUDGET.store(0, Ordering::Relaxed);
            target = if rng.below(2) == 0 {
                me as i64
            } else {
                bad_cpu(rng)
            };
        } else {
            budgeted = true;
        }
    }
    // A reset that reached no thread gives its place in the budget back.
    let refund = |budgeted: bool| {
        if budgeted {
            RESET_BUDGET.fetch_add(1, Ordering::Relaxed);
        }
    };
    PHASE[slot].store(1, Ordering::SeqCst);
    while SRESET_LOCK
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    SRESET_OWNER.store(slot as u64 + 1, Ordering::Relaxed);
    let n = THREADS.load(Ordering::Relaxed) as usize;
    let before: [u64; SLOTS] = core::array::from_fn(|i| {
        if i < n {
            arch::reset_record(THREAD_PIRS[i].load(Ordering::Relaxed) as u32).count
        } else {
            0
        }
    });
    // Never a second reset to a thread that has not taken the last one (it could land
    // in the handler before the handler saved anything).
    let busy = if target < 0 {
        (0..n).any(|i| arch::reset_outstanding(THREAD_PIRS[i].load(Ordering::Relaxed) as u32))
    } else {
        is_thread(target) && arch::reset_outstanding(target as u32)
    };
    if busy {
        refund(budgeted);
        SRESET_OWNER.store(0, Ordering::Relaxed);
        PHASE[slot].store(0, Ordering::SeqCst);
        SRESET_LOCK.store(false, Ordering::Release);
        return (0, 0);
    }
    let hold = match target {
        -1 | -2 => Some(-1),
        t if t >= 0 && t != me as i64 && is_thread(t) => Some(t),
        _ => None,
    }
    .filter(|_| present(OPAL_QUIESCE) && rng.below(2) == 0);
    if let Some(h) = hold {
        PHASE[slot].store(2, Ordering::SeqCst);
        let _ = quiesce_call(quiesce::HOLD, h);
    }
    PHASE[slot].store(3, Ordering::SeqCst);
    LAST_RESET[slot][0].store(target as u64, Ordering::SeqCst);
    LAST_RESET[slot][1].store(hold.map_or(u64::MAX, |h| h as u64), Ordering::Relaxed);
    let r = Ret(scalar(
        OPAL_SIGNAL_SYSTEM_RESET,
        &[int32_arg(target as i32)],
    ));
    LAST_RESET[slot][2].store(r.0, Ordering::Relaxed);
    if let Some(h) = hold {
        PHASE[slot].store(4, Ordering::SeqCst);
        let _ = quiesce_call(quiesce::RESUME, h);
    }
    PHASE[slot].store(5, Ordering::SeqCst);
    let mut kind = 0;
    if target == me as i64 && !r.is(OpalError::Parameter) {
        kind = KIND_SRESET_SELF;
    } else if target >= 0 && !is_thread(target) && !r.is(OpalError::Parameter) {
        kind = KIND_SRESET_UNKNOWN;
    }
    if !(r == Ret::SUCCESS || r.is(OpalError::Partial)) {
        refund(budgeted);
    }
    if r == Ret::SUCCESS || (r.is(OpalError::Partial) && target < 0) {
        // Every target's handler must run before the next reset is sent.
        let deadline = wait_ms(DELIVERY_MS);
        for i in 0..n {
            let pir = THREAD_PIRS[i].load(Ordering::Relaxed);
            let targeted = if target < 0 {
                pir != me
            } else {
                pir == target as u64
            };
            if !targeted {
                continue;
            }
            arch::expect_reset(pir as u32, before[i]);
            while arch::reset_record(pir as u32).count == before[i] && arch::mftb() < deadline {
                core::hint::spin_loop();
            }
            if arch::reset_record(pir as u32).count == before[i] {
                if r == Ret::SUCCESS && kind == 0 {
                    kind = KIND_SRESET_LOST;
                }
            } else {
                RESETS_SEEN.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    SRESET_OWNER.store(0, Ordering::Relaxed);
    PHASE[slot].store(0, Ordering::SeqCst);
    SRESET_LOCK.store(false, Ordering::Release);
    (r.0, kind)
}

struct Slot {
    queue: u64,
    donate: u64,
    pool: u64,
}

fn slot_memory(slot: usize) -> Slot {
    let base = MEMORY.load(Ordering::Relaxed) + slot as u64 * SLOT_BYTES;
    Slot {
        queue: base,
        donate: base + (1 << 16),
        pool: base + (3 << 16),
    }
}

fn fill_pool(pool: u64) {
    // SAFETY: the slot's pool is arena memory only this thread and OPAL touch.
    unsafe { core::ptr::write_bytes(pool as *mut u8, GUARD, POOL as usize) };
}

/// Whether every guard byte of the pool is intact.
fn pool_guarded(pool: u64) -> bool {
    (0..POOL).all(|off| {
        let in_buf = off % 256 >= 64 && off % 256 < 192;
        // SAFETY: inside the slot's pool (see `fill_pool`).
        in_buf || unsafe { core::ptr::read_volatile((pool + off) as *const u8) } == GUARD
    })
}

fn buffer(rng: &mut Rng, pool: u64) -> u64 {
    pool + rng.below(BUFS) * 256 + 64 + rng.below(8) * 8
}

fn arg(rng: &mut Rng, pool: u64) -> u64 {
    match rng.below(12) {
        0 => 0,
        1 => u64::MAX,
        2 => rng.below(16),
        3 => rng.next() & 0xffff_ffff,
        4 => rng.next(),
        5..=7 => buffer(rng, pool),
        8 => buffer(rng, pool) + 1 + rng.below(7),
        9 => FW_PTR.load(Ordering::Relaxed) + rng.below(0x1000) * 8,
        10 => PAST_RAM.load(Ordering::Relaxed) + rng.below(0x1000) * 8,
        _ => 0xffff_ffff_ffff_f000 | rng.below(0x1000),
    }
}

fn page_arg(rng: &mut Rng, page: u64) -> u64 {
    match rng.below(5) {
        0 => 0,
        1 => page,
        2 => page + 0x1000,
        3 => FW_PTR.load(Ordering::Relaxed) & !0xffff,
        _ => PAST_RAM.load(Ordering::Relaxed) & !0xffff,
    }
}

/// Writes a big-endian length word into a pool buffer the call will read.
fn set_len(pool: u64, at: u64, len: u64) {
    if Range::sized(pool, POOL).holds(at, 8) && at % 8 == 0 {
        // SAFETY: an aligned word inside a pool buffer.
        unsafe { core::ptr::write_volatile(at as *mut u64, len.to_be()) };
    }
}

/// `len` cut to what fits the pool buffer `at` points into (unchanged outside the pool).
fn fitted(pool: u64, at: u64, len: u64) -> u64 {
    if !Range::sized(pool, POOL).holds(at, 1) {
        return len;
    }
    let buffer_end = pool + (at - pool) / 256 * 256 + 192;
    len.min(buffer_end.saturating_sub(at))
}

/// Makes `args[buf]`, which a call fills with `args[len]` bytes, a pool buffer (with a
/// length that fits it) or an address OPAL must refuse (with any length): a random word
/// could be the payload's own memory.
fn destination(rng: &mut Rng, pool: u64, args: &mut [u64; 8], buf: usize, len: usize) {
    args[buf] = match rng.below(4) {
        0 => FW_PTR.load(Ordering::Relaxed) + rng.below(0x1000) * 8,
        1 => PAST_RAM.load(Ordering::Relaxed) + rng.below(0x1000) * 8,
        _ => buffer(rng, pool) + rng.below(2) * rng.below(8),
    };
    if Range::sized(pool, POOL).holds(args[buf], 1) {
        args[len] = fitted(pool, args[buf], args[len] % 256);
    }
}

/// A flash offset for a write or erase: inside the first half of FLASH_SCRATCH (erase
/// block aligned or not), or past the end of any flash.
fn flash_offset(rng: &mut Rng, aligned: bool) -> u64 {
    if rng.below(4) == 0 {
        return (1 << 40) + rng.below(1 << 20);
    }
    let within = rng.below(FLASH_SCRATCH_BYTES / 2);
    FLASH_SCRATCH
        + if aligned {
            within & !(super::flash::BLOCK - 1)
        } else {
            within
        }
}

static TEXT: [u8; 4] = *b"~~~~";

/// Runs this slot's share of calls; returns at the first failure (recorded).
fn work(slot: usize, count: u64, mut stop: impl FnMut(u64) -> bool) {
    let mut rng = Rng::new(SEED.load(Ordering::Relaxed), slot);
    let mem = slot_memory(slot);
    let me = PIRS[slot].load(Ordering::Relaxed);
    fill_pool(mem.pool);
    // Room for every token OPAL_LAST allows: a full table would silently stop drawing
    // the highest tokens (it did, at 40, once the HMI calls arrived).
    let (fuzzable, nfuzz) = {
        let mut t = [0u64; MAX_FUZZABLE];
        let mut n = 0;
        for tok in 0..=OPAL_LAST {
            if in_mask(&DRAWN, tok) && !NEVER.contains(&tok) {
                assert!(n < MAX_FUZZABLE, "more fuzzable tokens than MAX_FUZZABLE");
                t[n] = tok;
                n += 1;
            }
        }
        (t, n as u64)
    };
    for i in 0..count {
        let absent = rng.below(256) == 0 || nfuzz == 0;
        let token = if absent {
            let t = rng.below(OPAL_LAST + 40);
            if present(t) {
                0x1000 + rng.below(1 << 20)
            } else {
                t
            }
        } else {
            fuzzable[rng.below(nfuzz) as usize]
        };
        let mut args = [0u64; 8];
        for a in args.iter_mut() {
            *a = arg(&mut rng, mem.pool);
        }
        match token {
            OPAL_CONSOLE_WRITE => {
                args[0] = rng.below(2);
                args[1] = buffer(&mut rng, mem.pool);
                set_len(mem.pool, args[1], rng.below(4));
                args[2] = TEXT.as_ptr() as u64;
            }
            OPAL_CONSOLE_READ => set_len(mem.pool, args[1], rng.below(64)),
            OPAL_CEC_POWER_DOWN => args[0] = 2 + rng.below(1000),
            // A random request could be a chassis power-off: the message is TEXT, whose
            // version byte is not 1, so SEND only ever refuses.
            OPAL_IPMI_SEND => args[1] = TEXT.as_ptr() as u64,
            OPAL_REINIT_CPUS => args[0] |= 1 << 40,
            OPAL_XIVE_SET_QUEUE_INFO => args[2] = page_arg(&mut rng, mem.queue),
            OPAL_XIVE_DONATE_PAGE => {
                let page = mem.donate + rng.below(2) * 0x1_0000;
                args[1] = page_arg(&mut rng, page)
            }
            OPAL_XIVE_SET_VP_INFO => args[2] = page_arg(&mut rng, 0),
            // The flash and NVRAM are the machine's: reads land in a pool buffer or an
            // address OPAL must refuse; writes and erases stay in FLASH_SCRATCH; NVRAM
            // writes are only ever refused (an offset past any NVRAM).
            OPAL_FLASH_READ => destination(&mut rng, mem.pool, &mut args, 2, 3),
            OPAL_READ_NVRAM => destination(&mut rng, mem.pool, &mut args, 0, 1),
            // A message is 72 bytes whatever the size says, written at any alignment: a
            // random pool pointer near a buffer's end would be overrun legitimately once a
            // flash completion is waiting.
            OPAL_GET_MSG => destination(&mut rng, mem.pool, &mut args, 0, 1),
            OPAL_CHECK_ASYNC_COMPLETION => destination(&mut rng, mem.pool, &mut args, 0, 1),
            OPAL_WRITE_NVRAM => args[2] = u64::MAX - rng.below(1 << 20),
            OPAL_FLASH_WRITE => {
                args[1] = flash_offset(&mut rng, false);
                args[3] = fitted(mem.pool, args[2], rng.below(129));
            }
            OPAL_FLASH_ERASE => {
                let aligned = rng.below(4) != 0;
                args[1] = flash_offset(&mut rng, aligned);
                args[2] = match rng.below(4) {
                    0 => 1 + rng.below(super::flash::BLOCK - 1),
                    1 => u64::MAX - rng.below(16),
                    _ => rng.below(3) * super::flash::BLOCK,
                };
            }
            _ => {}
        }
        CURRENT[slot].store(token, Ordering::Relaxed);
        let rejects_before = rejects();
        let (r, sequence_kind) = match token {
            OPAL_QUIESCE if !absent => fuzz_quiesce(&mut rng, me),
            OPAL_SIGNAL_SYSTEM_RESET if !absent => fuzz_sreset(&mut rng, slot, me),
            // SAFETY: every address argument is a buffer of this slot's pool, its queue or
            // donation pages (arena memory nothing else uses), TEXT (read only), or an
            // address OPAL must refuse; the calls that end the run are never made.
            _ => (unsafe { opal::raw_call(token, &args) }.unwrap_or(0), 0),
        };
        PROGRESS[slot].store(i + 1, Ordering::Relaxed);
        let ret = Ret(r);
        let rejects_after = rejects();
        let rejected = ret.is(OpalError::Busy)
            && (rejects_before.0 > 0 || rejects_after.0 > 0 || rejects_before.1 != rejects_after.1);
        let kind = if rejected {
            0
        } else if sequence_kind != 0 {
            sequence_kind
        } else if absent && ret != Ret::err(OpalError::Parameter) {
            KIND_BAD_TOKEN
        } else if (r as i64) < 0
            && OpalError::try_from(r as i64).is_err()
            && !(r as i64 == opal_api::error::OPAL_ASYNC_COMPLETION
                && ANSWER_ASYNC.contains(&token))
        {
            KIND_BAD_RET
        } else if !pool_guarded(mem.pool) {
            KIND_CANARY
        } else {
            0
        };
        if kind != 0 {
            FAIL_TOKEN[slot].store(token, Ordering::Relaxed);
            FAIL_RET[slot].store(r, Ordering::Relaxed);
            FAIL_KIND[slot].store(kind, Ordering::Relaxed);
            FAIL_AT[slot].store(i + 1, Ordering::SeqCst);
            return;
        }
        if stop(i) {
            return;
        }
    }
}

/// A woken thread's share (`worker_main`, `Job::Fuzz`).
pub fn worker(slot: u64, pir: u64) {
    let slot = slot as usize;
    if slot >= MAX_WORKERS {
        return;
    }
    PIRS[slot].store(pir, Ordering::Relaxed);
    work(slot, CALLS_PER_THREAD.load(Ordering::SeqCst), |_| false);
    DONE.fetch_add(1, Ordering::SeqCst);
}

fn run(cx: &mut Ctx) -> CaseResult {
    let Some(total) = cx.opts.fuzz else {
        return Err(Verdict::Skip(msg!(
            "no conformance.fuzz=N on the command line"
        )));
    };
    let seed = cx.opts.seed.unwrap_or_else(arch::mftb);
    let workers = arch::PARKED_THREADS.load(Ordering::SeqCst).min(MAX_WORKERS) as u64;
    let per_thread = total / (workers + 1);
    let boot_share = total - per_thread * workers;
    cx.info(format_args!(
        "seed {seed:#x} (reproduce with conformance.seed={seed:#x}), {total} calls on {} threads",
        workers + 1
    ));
    // The allocators' counts from a clean state, to compare with after the run.
    let before = with_seed(seed, invariants::measure(cx, "before fuzzing"))?;
    let memory = cx.arena.alloc_zeroed(SLOT_BYTES * SLOTS as u64, 1 << 16)?;
    MEMORY.store(memory, Ordering::SeqCst);
    let base = cx.sys.opal_base.unwrap_or(0x3000_0000);
    FW_PTR.store(
        base + ((cx.sys.opal_size.unwrap_or(0x10_0000) / 2) & !0xffff),
        Ordering::SeqCst,
    );
    PAST_RAM.store((cx.sys.ram_top() + (1 << 20)) & !0xffff, Ordering::SeqCst);
    // A reset lands in the payload's handler, so the vector must be the OS's to take.
    let vectors = conformance::memmap::Range {
        start: 0x100,
        end: 0x200,
    };
    let can_reset = !cx.sys.reserved.iter().any(|r| r.overlaps(&vectors));
    if can_reset && cx.opal.is_present(OPAL_SIGNAL_SYSTEM_RESET) {
        arch::install_sreset_vector();
    }
    for tok in 0..256u64 {
        if cx.opal.is_present(tok) {
            PRESENT[(tok / 64) as usize].fetch_or(1 << (tok % 64), Ordering::SeqCst);
            let chosen = cx.opts.fuzz_tokens.is_empty() || cx.opts.fuzz_tokens.contains(&tok);
            let resettable = tok != OPAL_SIGNAL_SYSTEM_RESET || arch::sreset_vector_installed();
            if chosen && resettable {
                DRAWN[(tok / 64) as usize].fetch_or(1 << (tok % 64), Ordering::SeqCst);
            }
        }
    }
    let mut n = 0;
    for t in cx.sys.threads.iter().take(SLOTS) {
        THREAD_PIRS[n].store(u64::from(t.pir), Ordering::SeqCst);
        n += 1;
    }
    THREADS.store(n as u64, Ordering::SeqCst);
    TICKS_PER_MS.store(cx.opal.ticks(1).max(1), Ordering::SeqCst);
    PIRS[BOOT_SLOT].store(u64::from(cx.sys.boot_pir), Ordering::SeqCst);
    RESETS_SEEN.store(0, Ordering::SeqCst);
    RESET_BUDGET.store(
        cx.opts.fuzz_resets.unwrap_or(DEFAULT_RESETS),
        Ordering::SeqCst,
    );
    OPALITE.store(cx.sys.is_opalite(), Ordering::SeqCst);
    let lost_before: u64 = (0..n)
        .map(|i| arch::reset_record(THREAD_PIRS[i].load(Ordering::SeqCst) as u32).lost)
        .sum();
    SEED.store(seed, Ordering::SeqCst);
    CALLS_PER_THREAD.store(per_thread, Ordering::SeqCst);
    DONE.store(0, Ordering::SeqCst);
    for s in 0..SLOTS {
        PROGRESS[s].store(0, Ordering::SeqCst);
        FAIL_AT[s].store(0, Ordering::SeqCst);
    }
    let start = arch::mftb();
    if workers > 0 {
        arch::wake_workers(arch::Job::Fuzz);
    }
    // The boot thread's share, watching the others every 256 calls.
    let mut last = [(0u64, start); SLOTS];
    let mut hung: Option<usize> = None;
    let stall = cx.opal.ticks(5000);
    let watch = |last: &mut [(u64, u64); SLOTS], hung: &mut Option<usize>| {
        let now = arch::mftb();
        for s in 0..workers as usize {
            let p = PROGRESS[s].load(Ordering::Relaxed);
            if p != last[s].0 || p >= per_thread || FAIL_AT[s].load(Ordering::Relaxed) != 0 {
                last[s] = (p, now);
            } else if now - last[s].1 > stall && hung.is_none() {
                *hung = Some(s);
            }
        }
    };
    work(BOOT_SLOT, boot_share, |i| {
        if i % 256 == 255 {
            watch(&mut last, &mut hung);
        }
        hung.is_some()
    });
    while hung.is_none() && DONE.load(Ordering::SeqCst) < workers {
        watch(&mut last, &mut hung);
        if arch::mftb() - start > cx.opal.ticks(600_000) {
            break;
        }
    }
    let ms = (arch::mftb() - start) / cx.opal.ticks(1).max(1);
    let calls: u64 = (0..SLOTS).map(|s| PROGRESS[s].load(Ordering::SeqCst)).sum();
    cx.info(format_args!(
        "fuzz: {calls} calls, seed {seed:#x}, {} threads, {}.{:03} s",
        workers + 1,
        ms / 1000,
        ms % 1000
    ));
    if let Some(s) = hung {
        if present(OPAL_SIGNAL_SYSTEM_RESET) {
            let owner = SRESET_OWNER.load(Ordering::SeqCst);
            cx.info(format_args!(
                "reset lock {}, {}",
                if SRESET_LOCK.load(Ordering::SeqCst) {
                    "taken"
                } else {
                    "free"
                },
                if owner == 0 {
                    msg!("no owner recorded")
                } else {
                    msg!("owner slot {}", owner - 1)
                }
                .as_str()
            ));
            for s in 0..SLOTS {
                let p = PHASE[s].load(Ordering::SeqCst);
                if p != 0 || s == BOOT_SLOT || s < workers as usize {
                    cx.info(format_args!(
                        "slot {s} (PIR {:#x}) in reset phase {p}, call #{}, token {}; last reset target {:#x} hold {:#x} -> {}",
                        PIRS[s].load(Ordering::SeqCst),
                        PROGRESS[s].load(Ordering::SeqCst),
                        CURRENT[s].load(Ordering::SeqCst),
                        LAST_RESET[s][0].load(Ordering::SeqCst),
                        LAST_RESET[s][1].load(Ordering::SeqCst),
                        Ret(LAST_RESET[s][2].load(Ordering::SeqCst))
                    ));
                }
            }
            for i in 0..n {
                let pir = THREAD_PIRS[i].load(Ordering::SeqCst) as u32;
                let rec = arch::reset_record(pir);
                cx.info(format_args!(
                    "PIR {pir:#x}: {} resets{}, last SRR0 {:#x} SRR1 {:#x}, {} nested, {} lost",
                    rec.count,
                    if arch::reset_outstanding(pir) {
                        " (one accepted, not taken yet)"
                    } else {
                        ""
                    },
                    rec.srr0,
                    rec.srr1,
                    rec.nested,
                    rec.lost
                ));
            }
            // Where is the stuck thread? A reset from here shows its SRR0 (and wakes it
            // if it was left paused by direct controls).
            let pir = PIRS[s].load(Ordering::SeqCst) as u32;
            let before = arch::reset_record(pir).count;
            let r = call(cx, OPAL_SIGNAL_SYSTEM_RESET, &[u64::from(pir)])?;
            let t0 = arch::mftb();
            while arch::reset_record(pir).count == before && arch::mftb() - t0 < cx.opal.ticks(1000)
            {
            }
            let rec = arch::reset_record(pir);
            let p0 = PROGRESS[s].load(Ordering::SeqCst);
            let t0 = arch::mftb();
            while arch::mftb() - t0 < cx.opal.ticks(500) {}
            cx.info(format_args!(
                "probe reset of PIR {pir:#x}: {r}, count {before} -> {}, SRR0 {:#x}; progress {p0} -> {} in 500 ms",
                rec.count, rec.srr0, PROGRESS[s].load(Ordering::SeqCst)
            ));
        }
        fail!(
            "seed {seed:#x}: thread slot {s} (PIR {:#x}) made no progress for 5 s in call #{} (token {})",
            PIRS[s].load(Ordering::SeqCst),
            PROGRESS[s].load(Ordering::SeqCst),
            CURRENT[s].load(Ordering::SeqCst)
        );
    }
    for s in 0..SLOTS {
        let at = FAIL_AT[s].load(Ordering::SeqCst);
        if at == 0 {
            continue;
        }
        let (token, ret) = (
            FAIL_TOKEN[s].load(Ordering::SeqCst),
            Ret(FAIL_RET[s].load(Ordering::SeqCst)),
        );
        let why = match FAIL_KIND[s].load(Ordering::SeqCst) {
            KIND_BAD_TOKEN => "an absent token must return -1 (OPAL_PARAMETER)",
            KIND_BAD_RET => "not 0, a value or an OPAL error code",
            KIND_SRESET_SELF => "SIGNAL_SYSTEM_RESET of the caller must be -1 (OPAL_PARAMETER)",
            KIND_SRESET_UNKNOWN => {
                "SIGNAL_SYSTEM_RESET of an unknown server must be -1 (OPAL_PARAMETER)"
            }
            KIND_SRESET_LOST => {
                "SIGNAL_SYSTEM_RESET returned 0 but a target's 0x100 handler did not run within 2 s"
            }
            KIND_QUIESCE_BAD_CPU => "QUIESCE of a cpu that is neither -1 nor a server must be -1",
            KIND_QUIESCE_RESUME => "the RESUME after a HOLD/REJECT that returned 0 or -3 must be 0",
            KIND_QUIESCE_LOCK_BREAK => "LOCK_BREAK(-1) right after a successful HOLD(-1) must be 0",
            _ => "a canary outside the buffers changed",
        };
        fail!("seed {seed:#x}: slot {s} call #{at}: token {token} returned {ret}: {why}");
    }
    if calls < total {
        fail!("seed {seed:#x}: only {calls} of {total} calls were made (workers did not finish)");
    }
    let (mut nested, mut lost) = (0, 0);
    for i in 0..n {
        let rec = arch::reset_record(THREAD_PIRS[i].load(Ordering::SeqCst) as u32);
        nested += rec.nested;
        lost += rec.lost;
    }
    if present(OPAL_SIGNAL_SYSTEM_RESET) {
        cx.info(format_args!(
            "{} system resets delivered to fuzzing threads ({nested} taken in the handler's tail)",
            RESETS_SEEN.load(Ordering::SeqCst)
        ));
    }
    if lost > lost_before {
        fail!(
            "seed {seed:#x}: {} system reset(s) interrupted the 0x100 handler before its tail",
            lost - lost_before
        );
    }
    with_seed(seed, sanity(cx))?;
    let pirs: [u32; MAX_WORKERS] = core::array::from_fn(|s| PIRS[s].load(Ordering::SeqCst) as u32);
    with_seed(
        seed,
        invariants::check(cx, before, &pirs[..workers as usize]),
    )
}

/// A failure after the storm names the seed that led to it.
fn with_seed<T>(seed: u64, r: CaseResult<T>) -> CaseResult<T> {
    r.map_err(|v| match v {
        Verdict::Fail(m) => Verdict::Fail(msg!("seed {seed:#x}: {}", m.as_str())),
        other => other,
    })
}

/// After the storm: the console (this line), CHECK_TOKEN, XIVE_RESET(1) and one queue.
fn sanity(cx: &mut Ctx) -> CaseResult {
    expect(
        format_args!("CHECK_TOKEN(80) after fuzzing"),
        cx.opal.check_token(OPAL_CHECK_TOKEN),
        Ret(1),
    )?;
    if !cx.opal.is_present(OPAL_XIVE_RESET) {
        return Ok(());
    }
    let r = call(cx, OPAL_XIVE_RESET, &[1])?;
    expect(format_args!("XIVE_RESET(1) after fuzzing"), r, Ret::SUCCESS)?;
    let page = cx.arena.alloc_zeroed(1 << 16, 1 << 16)?;
    let vp = u64::from(cx.sys.boot_pir);
    let r = call(cx, OPAL_XIVE_SET_QUEUE_INFO, &[vp, 7, page, 16, 1])?;
    expect(
        format_args!("SET_QUEUE_INFO(boot PIR, 7, 64 KiB) after fuzzing"),
        r,
        Ret::SUCCESS,
    )?;
    let mut toggle = super::Out::<4>::new();
    let mut index = super::Out::<4>::new();
    let r = call(
        cx,
        OPAL_XIVE_GET_QUEUE_STATE,
        &[vp, 7, toggle.addr(), index.addr()],
    )?;
    expect(
        format_args!("GET_QUEUE_STATE after fuzzing"),
        r,
        Ret::SUCCESS,
    )?;
    expect_eq(
        format_args!("queue state after enabling"),
        (toggle.get("toggle")?, index.get("index")?),
        (1, 0),
    )?;
    let r = call(cx, OPAL_XIVE_RESET, &[1])?;
    expect(format_args!("final XIVE_RESET(1)"), r, Ret::SUCCESS)
}
