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
//! (CEC_REBOOT, START_CPU), with POWER_DOWN and REINIT_CPUS given only refused arguments;
//! 1 in 256 calls an absent token, which must be exactly OPAL_PARAMETER. Checked: every
//! r3 is 0, a positive value or an OPAL error code; no byte of a pool outside its buffers
//! changes; every thread keeps making progress (a thread stuck 5 s in one call is a hang);
//! afterwards the console, CHECK_TOKEN and XIVE (RESET, one queue enabled) still work.

use core::sync::atomic::{AtomicU64, Ordering};

use opal_api::token::*;
use opal_api::OpalError;

use super::common::call;
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

/// Calls that end the run or take a thread away for good.
const NEVER: &[u64] = &[OPAL_CEC_REBOOT, OPAL_START_CPU, OPAL_RETURN_CPU];

static CALLS_PER_THREAD: AtomicU64 = AtomicU64::new(0);
static SEED: AtomicU64 = AtomicU64::new(0);
static MEMORY: AtomicU64 = AtomicU64::new(0);
static FW_PTR: AtomicU64 = AtomicU64::new(0);
static PAST_RAM: AtomicU64 = AtomicU64::new(0);
static PRESENT: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
static PROGRESS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static CURRENT: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static PIRS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
/// First failure of a slot: call index + 1 (0: none), then token, r3, kind.
static FAIL_AT: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static FAIL_TOKEN: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static FAIL_RET: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static FAIL_KIND: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static DONE: AtomicU64 = AtomicU64::new(0);

const KIND_BAD_RET: u64 = 1;
const KIND_CANARY: u64 = 2;
const KIND_BAD_TOKEN: u64 = 3;

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

fn present(token: u64) -> bool {
    token < 256 && PRESENT[(token / 64) as usize].load(Ordering::Relaxed) >> (token % 64) & 1 != 0
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
    if at >= pool && at + 8 <= pool + POOL && at % 8 == 0 {
        // SAFETY: an aligned word inside a pool buffer.
        unsafe { core::ptr::write_volatile(at as *mut u64, len.to_be()) };
    }
}

static TEXT: [u8; 4] = *b"~~~~";

/// Runs this slot's share of calls; returns at the first failure (recorded).
fn work(slot: usize, count: u64, mut stop: impl FnMut(u64) -> bool) {
    let mut rng = Rng::new(SEED.load(Ordering::Relaxed), slot);
    let mem = slot_memory(slot);
    fill_pool(mem.pool);
    let fuzzable: [u64; 40] = {
        let mut t = [0u64; 40];
        let mut n = 0;
        for tok in 0..=OPAL_LAST {
            if present(tok) && !NEVER.contains(&tok) && n < 40 {
                t[n] = tok;
                n += 1;
            }
        }
        t[39] = n as u64;
        t
    };
    let nfuzz = fuzzable[39].min(39);
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
            OPAL_REINIT_CPUS => args[0] |= 1 << 40,
            OPAL_XIVE_SET_QUEUE_INFO => args[2] = page_arg(&mut rng, mem.queue),
            OPAL_XIVE_DONATE_PAGE => {
                let page = mem.donate + rng.below(2) * 0x1_0000;
                args[1] = page_arg(&mut rng, page)
            }
            OPAL_XIVE_SET_VP_INFO => args[2] = page_arg(&mut rng, 0),
            _ => {}
        }
        CURRENT[slot].store(token, Ordering::Relaxed);
        // SAFETY: every address argument is a buffer of this slot's pool, its queue or
        // donation pages (arena memory nothing else uses), TEXT (read only), or an
        // address OPAL must refuse; the calls that end the run are never made.
        let r = unsafe { opal::raw_call(token, &args) }.unwrap_or(0);
        PROGRESS[slot].store(i + 1, Ordering::Relaxed);
        let ret = Ret(r);
        let kind = if absent && ret != Ret::err(OpalError::Parameter) {
            KIND_BAD_TOKEN
        } else if (r as i64) < 0 && OpalError::try_from(r as i64).is_err() {
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
    let memory = cx.arena.alloc_zeroed(SLOT_BYTES * SLOTS as u64, 1 << 16)?;
    MEMORY.store(memory, Ordering::SeqCst);
    let base = cx.sys.opal_base.unwrap_or(0x3000_0000);
    FW_PTR.store(
        base + ((cx.sys.opal_size.unwrap_or(0x10_0000) / 2) & !0xffff),
        Ordering::SeqCst,
    );
    PAST_RAM.store((cx.sys.ram_top() + (1 << 20)) & !0xffff, Ordering::SeqCst);
    for tok in 0..256u64 {
        if cx.opal.is_present(tok) {
            PRESENT[(tok / 64) as usize].fetch_or(1 << (tok % 64), Ordering::SeqCst);
        }
    }
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
            _ => "a canary outside the buffers changed",
        };
        fail!("seed {seed:#x}: slot {s} call #{at}: token {token} returned {ret}: {why}");
    }
    if calls < total {
        fail!("seed {seed:#x}: only {calls} of {total} calls were made (workers did not finish)");
    }
    sanity(cx)
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
