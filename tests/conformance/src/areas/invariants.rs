// SPDX-License-Identifier: Apache-2.0
//! Firmware invariants `fuzz.run` checks after its storm, black-box, through ordinary OPAL
//! calls (no test-only hooks):
//!
//! 1. **Allocators.** After `XIVE_RESET(1)`, as many `ALLOCATE_IRQ(boot chip)` (at most
//!    [`IRQ_CAP`]) and `ALLOCATE_VP_BLOCK(`[`VP_ORDER`]`)` (at most [`VP_CAP`], no pages
//!    donated, so until OPAL_RESOURCE or OPAL_XIVE_PROVISIONING) succeed as before the
//!    run, with the same first and last girq / base and the same answer at the end; each
//!    measurement frees what it took (FREE_IRQ, FREE_VP_BLOCK).
//! 2. **No lock left held.** A console write, `QUERY_CPU_STATUS(boot PIR)`, `RTC_READ` then
//!    `RTC_WRITE` of the same time and `IPMI_RECV` (EMPTY) answer normally: OPAL_BUSY after
//!    2 s of retries is a lock the run left held.
//! 3. **OPAL depth 0 on every thread.** Each fuzzing thread makes a `QUERY_CPU_STATUS`,
//!    which OPAL refuses with OPAL_INTERNAL_ERROR on a thread it believes is already
//!    inside OPAL (it is not re-entrant).
//! 4. **No message left behind.** Once `GET_MSG` is drained, `POLL_EVENTS` does not report
//!    OPAL_EVENT_MSG_PENDING.

use conformance::spec;
use opal_api::msg::OPAL_MSG_SIZE;
use opal_api::token::*;
use opal_api::{event, OpalError};

use super::common::{call, retry_busy, Buf};
use super::threads::{Crew, Op};
use super::xive::{self, calls, Env};
use super::Out;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, CaseResult, Ctx};

/// ALLOCATE_IRQ calls per measurement at most (a chip has about a million girqs; each
/// call costs tens of microseconds under QEMU).
pub const IRQ_CAP: u64 = 16384;
/// The VP block order measured (bumped to the layout's minimum, §3.2).
pub const VP_ORDER: u32 = 3;
/// ALLOCATE_VP_BLOCK calls per measurement at most.
pub const VP_CAP: u64 = 1024;

/// What one allocator gave from a clean state: how many, the first and last answer, and
/// the answer that ended it (0 if the cap did).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alloc {
    pub count: u64,
    pub first: u64,
    pub last: u64,
    pub end: u64,
}

impl core::fmt::Display for Alloc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} ({:#x}..{:#x}), then ",
            self.count, self.first, self.last
        )?;
        if self.end == 0 {
            write!(f, "the cap")
        } else {
            write!(f, "{}", Ret(self.end))
        }
    }
}

/// The XIVE allocators' counts after `XIVE_RESET(1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub irqs: Alloc,
    pub vp_blocks: Alloc,
}

/// Arena words holding what a measurement allocated, to give it back.
struct Taken {
    addr: u64,
    cap: u64,
    n: u64,
}

impl Taken {
    fn new(cx: &mut Ctx, cap: u64) -> CaseResult<Taken> {
        let addr = cx.arena.alloc(cap * 8, 8)?;
        Ok(Taken { addr, cap, n: 0 })
    }

    fn push(&mut self, v: u64) {
        if self.n < self.cap {
            // SAFETY: inside this arena allocation of `cap` words, which only `Taken` uses.
            unsafe { core::ptr::write_volatile((self.addr as *mut u64).add(self.n as usize), v) };
            self.n += 1;
        }
    }

    fn get(&self, i: u64) -> u64 {
        // SAFETY: as in `push`; `i < n <= cap`.
        unsafe { core::ptr::read_volatile((self.addr as *const u64).add(i as usize)) }
    }
}

/// `XIVE_RESET(1)`, then both allocators measured; `None` without XIVE allocation calls.
pub fn measure(cx: &mut Ctx, when: &str) -> CaseResult<Option<Counts>> {
    let needed = [
        OPAL_XIVE_RESET,
        OPAL_XIVE_ALLOCATE_IRQ,
        OPAL_XIVE_FREE_IRQ,
        OPAL_XIVE_ALLOCATE_VP_BLOCK,
        OPAL_XIVE_FREE_VP_BLOCK,
    ];
    if !needed.iter().all(|&t| cx.opal.is_present(t)) {
        return Ok(None);
    }
    let env = Env::get(cx)?;
    let t0 = crate::arch::mftb();
    expect(
        format_args!("XIVE_RESET(1) {when}"),
        xive::retry_busy(cx, || calls::reset(cx, spec::reset_mode::EXPL))?,
        Ret::SUCCESS,
    )?;
    let irqs = measure_irqs(cx, &env, when)?;
    let vp_blocks = measure_vp_blocks(cx, &env, when)?;
    let ms = (crate::arch::mftb() - t0) / cx.opal.ticks(1).max(1);
    cx.info(format_args!(
        "{when}: ALLOCATE_IRQ({}) {irqs}; ALLOCATE_VP_BLOCK({VP_ORDER}) {vp_blocks}; {ms} ms",
        env.chip
    ));
    Ok(Some(Counts { irqs, vp_blocks }))
}

fn measure_irqs(cx: &mut Ctx, env: &Env, when: &str) -> CaseResult<Alloc> {
    let chip = env.chip;
    let mut taken = Taken::new(cx, IRQ_CAP)?;
    let mut end = 0;
    while taken.n < IRQ_CAP {
        let r = xive::retry_busy(cx, || calls::allocate_irq(cx, chip))?;
        if r.signed() < 0 {
            end = r.0;
            break;
        }
        let girq = xive::check_girq(
            env,
            format_args!("ALLOCATE_IRQ({chip}) #{} {when}", taken.n + 1),
            r,
        )?;
        taken.push(girq);
    }
    if end != 0 && !Ret(end).is(OpalError::Resource) {
        fail!(
            "ALLOCATE_IRQ({chip}) {when} returned {} after {} girqs (not OPAL_RESOURCE)",
            Ret(end),
            taken.n
        );
    }
    give_back(cx, &taken, when, "FREE_IRQ", calls::free_irq)?;
    Ok(summary(&taken, end))
}

fn measure_vp_blocks(cx: &mut Ctx, env: &Env, when: &str) -> CaseResult<Alloc> {
    let mut taken = Taken::new(cx, VP_CAP)?;
    let mut end = 0;
    while taken.n < VP_CAP {
        let r = xive::retry_busy(cx, || calls::allocate_vp_block(cx, VP_ORDER))?;
        if r.signed() < 0 {
            end = r.0;
            break;
        }
        if let Err(e) = env.layout.check_block_base(r.0, VP_ORDER) {
            fail!("ALLOCATE_VP_BLOCK({VP_ORDER}) {when} returned {r}, not a valid block base (xive.md §3.2): {e:?}");
        }
        taken.push(r.0);
    }
    let r = Ret(end);
    if end != 0 && !r.is(OpalError::Resource) && !r.is(OpalError::XiveProvisioning) {
        fail!(
            "ALLOCATE_VP_BLOCK({VP_ORDER}) {when} returned {r} after {} blocks (neither OPAL_RESOURCE nor OPAL_XIVE_PROVISIONING)",
            taken.n
        );
    }
    give_back(cx, &taken, when, "FREE_VP_BLOCK", calls::free_vp_block)?;
    Ok(summary(&taken, end))
}

fn give_back(
    cx: &Ctx,
    taken: &Taken,
    when: &str,
    what: &str,
    free: fn(&Ctx, u64) -> CaseResult<Ret>,
) -> CaseResult {
    for i in 0..taken.n {
        let v = taken.get(i);
        let r = xive::retry_busy(cx, || free(cx, v))?;
        expect(format_args!("{what}({v:#x}) {when}"), r, Ret::SUCCESS)?;
    }
    Ok(())
}

fn summary(taken: &Taken, end: u64) -> Alloc {
    let (first, last) = if taken.n == 0 {
        (0, 0)
    } else {
        (taken.get(0), taken.get(taken.n - 1))
    };
    Alloc {
        count: taken.n,
        first,
        last,
        end,
    }
}

/// After the run: the allocators (against `before`), the locks, every fuzzing thread's
/// OPAL depth (`workers`: their PIRs) and the message queue.
pub fn check(cx: &mut Ctx, before: Option<Counts>, workers: &[u32]) -> CaseResult {
    if let Some(before) = before {
        let Some(after) = measure(cx, "after fuzzing")? else {
            fail!("the XIVE allocation calls went absent during the run");
        };
        for (what, b, a) in [
            ("girqs", before.irqs, after.irqs),
            ("VP blocks", before.vp_blocks, after.vp_blocks),
        ] {
            if a != b {
                fail!("leak? after RESET(1), {what}: {a}; before the run: {b}");
            }
        }
    }
    locks(cx)?;
    depth(cx, workers)?;
    cx.info(format_args!(
        "no lock held (console, CPU table, RTC/BMC, IPMI); OPAL depth 0 on the boot thread and {} fuzzing threads",
        workers.len()
    ));
    messages(cx)
}

/// OPAL_BUSY after the retries is a lock left held.
fn not_busy(what: core::fmt::Arguments<'_>, r: Ret, want: Ret) -> CaseResult {
    if r.is(OpalError::Busy) || r.is(OpalError::BusyEvent) {
        fail!("{what}: still {r} after 2 s of retries: a firmware lock left held?");
    }
    expect(what, r, want)
}

fn locks(cx: &mut Ctx) -> CaseResult {
    // The console.
    let (r, _) = super::console::write_empty_line(cx)?;
    not_busy(format_args!("CONSOLE_WRITE(0, 2 bytes)"), r, Ret::SUCCESS)?;
    // The CPU table, and this thread's depth.
    if cx.opal.is_present(OPAL_QUERY_CPU_STATUS) {
        let pir = cx.sys.boot_pir;
        let mut st = Out::<1>::new();
        let r = call(cx, OPAL_QUERY_CPU_STATUS, &[u64::from(pir), st.addr()])?;
        if r.is(OpalError::InternalError) {
            fail!("QUERY_CPU_STATUS({pir:#x}) on the boot thread = {r}: OPAL believes it is still inside OPAL");
        }
        not_busy(format_args!("QUERY_CPU_STATUS({pir:#x})"), r, Ret::SUCCESS)?;
    }
    // The BMC: read the clock and write the same time back.
    if cx.opal.is_present(OPAL_RTC_READ) && cx.opal.is_present(OPAL_RTC_WRITE) {
        let mut ymd = Out::<4>::new();
        let mut hms = Out::<8>::new();
        let r = retry_busy(cx, || call(cx, OPAL_RTC_READ, &[ymd.addr(), hms.addr()]))?;
        not_busy(format_args!("RTC_READ"), r, Ret::SUCCESS)?;
        let (ymd, hms) = (ymd.get("year_month_day")?, hms.get("hour_minute_second")?);
        let r = retry_busy(cx, || call(cx, OPAL_RTC_WRITE, &[ymd, hms]))?;
        not_busy(
            format_args!("RTC_WRITE({ymd:08x}, {hms:016x}) of the time just read"),
            r,
            Ret::SUCCESS,
        )?;
    }
    // The OS's IPMI channel: nothing was sent that the BMC saw, so nothing to receive.
    if cx.opal.is_present(OPAL_IPMI_RECV) {
        let mut b = Buf::new(112);
        b.set(0, &[1]);
        let mut len = Out::<8>::new();
        len.set(112);
        let r = call(cx, OPAL_IPMI_RECV, &[0, b.addr(), len.addr()])?;
        not_busy(
            format_args!("IPMI_RECV with nothing outstanding"),
            r,
            Ret::err(OpalError::Empty),
        )?;
    }
    Ok(())
}

/// Each fuzzing thread, back in the payload, makes a non-re-entrant call.
fn depth(cx: &mut Ctx, workers: &[u32]) -> CaseResult {
    if workers.is_empty() || !cx.opal.is_present(OPAL_QUERY_CPU_STATUS) {
        return Ok(());
    }
    let crew = Crew::enlist(cx, workers)?;
    for &pir in workers {
        let r = crew.run(pir, Op::QueryCpuStatus, &[u64::from(pir)])?;
        if r.is(OpalError::InternalError) {
            fail!("QUERY_CPU_STATUS({pir:#x}) from thread {pir:#x} = {r}: OPAL believes that thread is still inside OPAL");
        }
        not_busy(
            format_args!("QUERY_CPU_STATUS({pir:#x}) from thread {pir:#x}"),
            r,
            Ret::SUCCESS,
        )?;
    }
    Ok(())
}

/// GET_MSG until it stops giving messages (at most 64), then no MSG_PENDING.
fn messages(cx: &mut Ctx) -> CaseResult {
    if !cx.opal.is_present(OPAL_GET_MSG) || !cx.opal.is_present(OPAL_POLL_EVENTS) {
        return Ok(());
    }
    let mut drained = 0;
    let end = loop {
        let mut buf = Buf::new(OPAL_MSG_SIZE);
        let r = call(cx, OPAL_GET_MSG, &[buf.addr(), OPAL_MSG_SIZE as u64])?;
        if r != Ret::SUCCESS {
            break r;
        }
        drained += 1;
        if drained == 64 {
            fail!("GET_MSG still gives messages after 64 calls");
        }
    };
    not_busy(
        format_args!("GET_MSG after {drained} messages"),
        end,
        Ret::err(OpalError::Resource),
    )?;
    let mut mask = Out::<8>::new();
    let r = call(cx, OPAL_POLL_EVENTS, &[mask.addr()])?;
    not_busy(format_args!("POLL_EVENTS(&mask)"), r, Ret::SUCCESS)?;
    let m = mask.get("*outstanding_event_mask")?;
    cx.info(format_args!(
        "{drained} messages drained; event mask then {m:#x}"
    ));
    if m & event::MSG_PENDING != 0 {
        fail!("POLL_EVENTS reports OPAL_EVENT_MSG_PENDING ({m:#x}) with the queue drained ({drained} messages, then {end})");
    }
    Ok(())
}
