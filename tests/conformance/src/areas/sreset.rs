// SPDX-License-Identifier: Apache-2.0
//! System reset (NMI) of another thread: `OPAL_SIGNAL_SYSTEM_RESET` (145)
//! (hmi-mce-sreset.md §1, skiboot `core/direct-controls.c`,
//! `doc/opal-api/opal-signal-system-reset-145.rst`), called the way Linux's
//! `pnv_cause_nmi_ipi` does: `OPAL_QUIESCE(HOLD, cpu)`, `SIGNAL_SYSTEM_RESET(cpu)`,
//! `OPAL_QUIESCE(RESUME, cpu)` (the quiesce calls only where token 158 is present).
//!
//! The payload owns the 0x100 vector (`arch::install_sreset_vector`): the handler records
//! PIR, SRR0, SRR1 and a count per thread and resumes the interrupted code, so a reset
//! thread goes on with what it was doing and the case reads what the interrupt said.
//! Targets are put in a known state first (`threads.rs`): asleep in `stop` with PSSCR
//! ESL = EC = 1 (a wakeup is then a power-saving system reset: SRR1[42:45] = 0b0100,
//! SRR1[46:47] != 0), spinning with MSR[EE] = 0 (SRR1[42:45] = 0b0010 and [46:47] = 0,
//! the direct-control reset of a running thread, §1.6), or looping on OPAL calls.
//!
//! What the answers must be (Opalite's semantics; skiboot's departures are DEVIATIONs,
//! docs/conformance.md X8 and X9): self, an unknown server and a negative number other
//! than −1/−2 are `OPAL_PARAMETER`; −2 resets every other thread the OS owns and returns
//! 0 (`OPAL_PARTIAL` if some could not be); −1 does the same and returns `OPAL_PARTIAL`
//! (the caller cannot reset itself through direct controls); a thread the firmware owns
//! (returned with `OPAL_RETURN_CPU`) is `OPAL_WRONG_STATE`.

use conformance::spec::{self, int32_arg, quiesce, srr1};
use opal_api::token::*;
use opal_api::OpalError;

use super::common::call;
use super::threads::{Crew, Op, RETURNED};
use crate::arch::{self, ResetRecord};
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx, Verdict};
use crate::{fail, msg};

pub static AREA: Area = Area {
    name: "sreset",
    tokens: &[OPAL_SIGNAL_SYSTEM_RESET],
    before_each: Some(before_each),
    cases: &[
        Case {
            name: "sreset.self",
            run: self_reset,
        },
        Case {
            name: "sreset.unknown_server",
            run: unknown_server,
        },
        Case {
            name: "sreset.negative",
            run: negative,
        },
        Case {
            name: "sreset.stopped",
            run: stopped,
        },
        Case {
            name: "sreset.running",
            run: running,
        },
        Case {
            name: "sreset.inside_opal",
            run: inside_opal,
        },
        Case {
            name: "sreset.nmi_ipi_all",
            run: nmi_ipi_all,
        },
        Case {
            name: "sreset.all_others",
            run: all_others,
        },
        Case {
            name: "sreset.all",
            run: all,
        },
        Case {
            name: "sreset.firmware_owned",
            run: firmware_owned,
        },
    ],
};

const CONSTRAINED: Ret = Ret::err(OpalError::Constrained);
/// How long a reset may take to reach the target's handler (QEMU runs it when the
/// target's vCPU thread next runs, which a loaded host can delay).
const DELIVERY_MS: u64 = 2000;

/// The vector must be ours: 0x100..0x200 outside every firmware reservation.
fn before_each(cx: &mut Ctx) -> CaseResult {
    let vectors = conformance::memmap::Range {
        start: 0x100,
        end: 0x200,
    };
    if let Some(r) = cx.sys.reserved.iter().find(|r| r.overlaps(&vectors)) {
        return Err(Verdict::Skip(msg!(
            "the system reset vector lies in a firmware reservation {:#x}..{:#x}",
            r.start,
            r.end
        )));
    }
    arch::install_sreset_vector();
    Ok(())
}

/// A firmware other than Opalite answering exactly as skiboot does (docs/conformance.md).
pub fn skiboot_departure(cx: &Ctx, id: &str, what: core::fmt::Arguments<'_>) -> Verdict {
    if cx.sys.is_opalite() {
        Verdict::Fail(msg!("{what}"))
    } else {
        Verdict::Deviation(msg!("{id}: {what}"))
    }
}

/// The other threads (at most the crew's size), in device-tree order.
pub fn others(cx: &Ctx) -> conformance::list::List<u32, { super::threads::MAX }> {
    let mut l = conformance::list::List::new();
    for t in cx.sys.threads.iter().take(super::threads::MAX) {
        if t.pir != cx.sys.boot_pir {
            let _ = l.push(t.pir);
        }
    }
    l
}

fn need_others(cx: &Ctx, n: usize) -> CaseResult<conformance::list::List<u32, 16>> {
    let o = others(cx);
    if o.len() < n {
        return Err(Verdict::Skip(msg!(
            "needs {n} threads besides the boot thread, the machine has {}",
            o.len()
        )));
    }
    Ok(o)
}

/// Every thread's reset count, in `cx.sys.threads` order.
fn counts(cx: &Ctx) -> [u64; 16] {
    let mut c = [0; 16];
    for (i, t) in cx.sys.threads.iter().take(16).enumerate() {
        c[i] = arch::reset_record(t.pir).count;
    }
    c
}

/// Fails if any thread took a reset since `before` (after `settle_ms`).
fn no_resets(cx: &Ctx, before: &[u64; 16], settle_ms: u64, what: &str) -> CaseResult {
    let t0 = arch::mftb();
    while arch::mftb() - t0 < cx.opal.ticks(settle_ms) {}
    let now = counts(cx);
    for (i, t) in cx.sys.threads.iter().take(16).enumerate() {
        if now[i] != before[i] {
            fail!(
                "{what}: thread PIR {:#x} took {} system reset(s) nevertheless",
                t.pir,
                now[i] - before[i]
            );
        }
    }
    Ok(())
}

/// The record of `pir` once its count passes `after`, within `ms` milliseconds.
fn wait_reset(cx: &Ctx, pir: u32, after: u64, ms: u64) -> Option<ResetRecord> {
    let deadline = arch::mftb() + cx.opal.ticks(ms);
    loop {
        let r = arch::reset_record(pir);
        if r.count > after {
            return Some(r);
        }
        if arch::mftb() > deadline {
            return None;
        }
    }
}

/// SIGNAL_SYSTEM_RESET(cpu), never while a reset this payload sent to a target has not
/// been taken (a second one could land in the handler before it saved anything; see
/// `arch::reset_outstanding`). What a 0 (or, for −1/−2, PARTIAL) answer sends is noted.
fn sreset_call(cx: &Ctx, cpu: i32) -> CaseResult<Ret> {
    let targets = |cx: &Ctx| {
        let mut l = conformance::list::List::<u32, 16>::new();
        for t in cx.sys.threads.iter().take(16) {
            let hit = if cpu < 0 {
                t.pir != cx.sys.boot_pir
            } else {
                t.pir == cpu as u32
            };
            if hit {
                let _ = l.push(t.pir);
            }
        }
        l
    };
    let deadline = arch::mftb() + cx.opal.ticks(DELIVERY_MS);
    for &pir in targets(cx).iter() {
        while arch::reset_outstanding(pir) {
            if arch::mftb() > deadline {
                fail!("an earlier reset of PIR {pir:#x} has still not reached its handler");
            }
        }
    }
    let before: [u64; 16] = core::array::from_fn(|i| {
        cx.sys
            .threads
            .as_slice()
            .get(i)
            .map_or(0, |t| arch::reset_record(t.pir).count)
    });
    let r = call(cx, OPAL_SIGNAL_SYSTEM_RESET, &[int32_arg(cpu)])?;
    if r == Ret::SUCCESS || (cpu < 0 && r.is(OpalError::Partial)) {
        for &pir in targets(cx).iter() {
            if let Some(i) = cx.sys.threads.iter().position(|t| t.pir == pir) {
                arch::expect_reset(pir, before[i]);
            }
        }
    }
    Ok(r)
}

/// `OPAL_QUIESCE(type, cpu)` if the token is present (Linux skips it otherwise).
fn quiesce_call(cx: &Ctx, ty: u64, cpu: i32) -> CaseResult<Option<Ret>> {
    if !cx.opal.is_present(OPAL_QUIESCE) {
        return Ok(None);
    }
    Ok(Some(call(cx, OPAL_QUIESCE, &[ty, int32_arg(cpu)])?))
}

/// Linux's `pnv_cause_nmi_ipi` for one target or for −1 (HOLD, resets, RESUME): HOLD and
/// RESUME must be 0; returns the answers of the resets.
fn nmi_ipi(cx: &Ctx, hold: i32, resets: &[i32]) -> CaseResult<[Ret; 16]> {
    let held = quiesce_call(cx, quiesce::HOLD, hold)?;
    let mut answers = [Ret(0); 16];
    for (a, &cpu) in answers.iter_mut().zip(resets) {
        *a = sreset_call(cx, cpu)?;
    }
    let resumed = quiesce_call(cx, quiesce::RESUME, hold)?;
    if let Some(r) = held {
        expect(format_args!("QUIESCE(HOLD, {hold})"), r, Ret::SUCCESS)?;
    }
    if let Some(r) = resumed {
        expect(format_args!("QUIESCE(RESUME, {hold})"), r, Ret::SUCCESS)?;
    }
    Ok(answers)
}

/// The reset of one thread as Linux sends it: every answer 0 and the target's handler
/// running within a second; returns its record.
fn reset_one(cx: &Ctx, pir: u32) -> CaseResult<ResetRecord> {
    let before = arch::reset_record(pir).count;
    let r = nmi_ipi(cx, pir as i32, &[pir as i32])?[0];
    expect(
        format_args!("SIGNAL_SYSTEM_RESET({pir:#x})"),
        r,
        Ret::SUCCESS,
    )?;
    match wait_reset(cx, pir, before, DELIVERY_MS) {
        Some(rec) => Ok(rec),
        None => fail!(
            "SIGNAL_SYSTEM_RESET({pir:#x}) returned 0 but the thread's 0x100 handler did not run within {DELIVERY_MS} ms"
        ),
    }
}

fn describe(rec: &ResetRecord) -> crate::runner::Msg {
    let reason = srr1::wake_reason(rec.srr1);
    msg!(
        "SRR1 {:#018x} ([42:45] = {reason:#06b} {}, [46:47] = {:#04b}), SRR0 {:#x}",
        rec.srr1,
        srr1::reason_name(reason),
        srr1::wake_state(rec.srr1),
        rec.srr0
    )
}

/// The handler ran on the target, as a power-saving wakeup with reason "system reset".
fn check_stop_wakeup(pir: u32, rec: &ResetRecord) -> CaseResult {
    if rec.pir != u64::from(pir) {
        fail!("the handler for PIR {pir:#x} ran on PIR {:#x}", rec.pir);
    }
    let (reason, state) = (srr1::wake_reason(rec.srr1), srr1::wake_state(rec.srr1));
    if state == 0 || reason != srr1::REASON_RESET {
        fail!(
            "reset of PIR {pir:#x} in stop (PSSCR ESL=EC=1): {}; the spec says a power-saving wakeup ([46:47] != 0) with reason 0b0100 (system reset)",
            describe(rec).as_str()
        );
    }
    Ok(())
}

/// The handler ran on the target, as the reset of a running thread.
fn check_running(pir: u32, rec: &ResetRecord) -> CaseResult {
    if rec.pir != u64::from(pir) {
        fail!("the handler for PIR {pir:#x} ran on PIR {:#x}", rec.pir);
    }
    let (reason, state) = (srr1::wake_reason(rec.srr1), srr1::wake_state(rec.srr1));
    if state != 0 || reason != srr1::REASON_SCOM {
        fail!(
            "reset of running PIR {pir:#x}: {}; the spec says [46:47] = 0 (not power-saving) and [42:45] = 0b0010",
            describe(rec).as_str()
        );
    }
    Ok(())
}

/// Resets `pir`, which sleeps in `stop_until_reset`; a reset that arrives before the
/// thread executed its `stop` (SRR0 before the stop instruction) is repeated.
fn reset_sleeper(cx: &Ctx, crew: &Crew, pir: u32) -> CaseResult<ResetRecord> {
    let addrs = arch::stop_addrs();
    for _ in 0..3 {
        if !crew.until(1000, || arch::reset_record(pir).in_stop) {
            fail!("thread PIR {pir:#x} did not reach its stop within 1 s");
        }
        crew.pause(10);
        let rec = reset_one(cx, pir)?;
        let early =
            (addrs.start..=addrs.stop).contains(&rec.srr0) && srr1::wake_state(rec.srr1) == 0;
        if !early {
            return Ok(rec);
        }
    }
    fail!("three resets of PIR {pir:#x} all arrived before its stop instruction")
}

/// The target's answer after it resumed: its `OPAL_CHECK_TOKEN(80)` must be 1.
fn check_answer(crew: &Crew, pir: u32) -> CaseResult {
    match crew.wait(pir, 1000)? {
        Some(Ret(1)) => Ok(()),
        Some(r) => fail!("thread PIR {pir:#x} resumed, but its CHECK_TOKEN(80) returned {r}"),
        None => fail!("thread PIR {pir:#x} did not resume (no answer within 1 s of its reset)"),
    }
}

/// SIGNAL_SYSTEM_RESET of the calling thread is PARAMETER ("unable to reset self"), from
/// the boot thread and from another one; nothing is reset.
fn self_reset(cx: &mut Ctx) -> CaseResult {
    let before = counts(cx);
    let boot = cx.sys.boot_pir;
    let r = sreset_call(cx, boot as i32)?;
    expect(
        format_args!("SIGNAL_SYSTEM_RESET(self = {boot:#x})"),
        r,
        Ret::PARAMETER,
    )?;
    if let Some(&t) = others(cx).as_slice().first() {
        let crew = Crew::enlist(cx, &[t])?;
        let r = crew.call(t, OPAL_SIGNAL_SYSTEM_RESET, &[int32_arg(t as i32)])?;
        expect(
            format_args!("SIGNAL_SYSTEM_RESET(self = {t:#x}) from PIR {t:#x}"),
            r,
            Ret::PARAMETER,
        )?;
    }
    no_resets(cx, &before, 20, "a refused reset of self")
}

/// Server numbers no thread has: PARAMETER, nothing reset.
fn unknown_server(cx: &mut Ctx) -> CaseResult {
    let before = counts(cx);
    let has = |p: u32| cx.sys.threads.iter().any(|t| t.pir == p);
    let max = cx.sys.threads.iter().map(|t| t.pir).max().unwrap_or(0);
    let hole = (0..max).find(|&p| !has(p));
    for server in hole.into_iter().chain([max + 1, 0x7ff, 0x7fff_ffff]) {
        if has(server) {
            continue;
        }
        let r = sreset_call(cx, server as i32)?;
        expect(
            format_args!("SIGNAL_SYSTEM_RESET({server:#x}) (no such server)"),
            r,
            Ret::PARAMETER,
        )?;
    }
    no_resets(cx, &before, 20, "a reset of an unknown server")
}

/// Negative numbers other than −1 and −2: PARAMETER. skiboot answers every negative
/// number with CONSTRAINED (X8), resetting nothing.
fn negative(cx: &mut Ctx) -> CaseResult {
    let before = counts(cx);
    let mut constrained = crate::runner::Msg::new();
    for cpu in [-3, -4, -1000, i32::MIN] {
        let r = sreset_call(cx, cpu)?;
        if r == Ret::PARAMETER {
            continue;
        }
        if r == CONSTRAINED && !cx.sys.is_opalite() {
            let sep = if constrained.as_str().is_empty() {
                ""
            } else {
                ", "
            };
            let _ = core::fmt::Write::write_fmt(&mut constrained, format_args!("{sep}{cpu}"));
            continue;
        }
        fail!("SIGNAL_SYSTEM_RESET({cpu}): returned {r}, the spec says -1 (OPAL_PARAMETER)");
    }
    no_resets(cx, &before, 20, "a reset of a negative number")?;
    if constrained.as_str().is_empty() {
        return Ok(());
    }
    Err(skiboot_departure(
        cx,
        "X8",
        format_args!(
            "SIGNAL_SYSTEM_RESET({}) = -4 (OPAL_CONSTRAINED), nothing reset (skiboot, every negative number); the spec says -1 for all but -1, -2",
            constrained.as_str().trim_start()
        ),
    ))
}

/// Each other thread in turn sleeps in `stop` with PSSCR ESL = EC = 1, RL = 0 (only system
/// reset and the hypervisor doorbell enabled in LPCR); HOLD, SIGNAL_SYSTEM_RESET, RESUME
/// from the boot thread are 0; the target's 0x100 handler runs within a second with a
/// power-saving wakeup (SRR1[46:47] != 0) of reason 0b0100; the thread resumes after its
/// stop and its next OPAL call (CHECK_TOKEN) works; no other thread is reset.
fn stopped(cx: &mut Ctx) -> CaseResult {
    for pir in need_others(cx, 1)?.iter().copied() {
        let crew = Crew::enlist(cx, &[pir])?;
        crew.post(pir, Op::StopUntilReset, &[])?;
        let before = counts(cx);
        let rec = reset_sleeper(cx, &crew, pir)?;
        check_stop_wakeup(pir, &rec)?;
        check_answer(&crew, pir)?;
        let resume = arch::stop_addrs().resume;
        cx.info(format_args!(
            "PIR {pir:#x}: {}{}",
            describe(&rec).as_str(),
            if rec.srr0 == resume {
                " (the instruction after stop)"
            } else {
                " (not the instruction after stop; the handler resumed there anyway)"
            }
        ));
        let mut others_before = before;
        if let Some(i) = cx.sys.threads.iter().position(|t| t.pir == pir) {
            others_before[i] = arch::reset_record(pir).count;
        }
        no_resets(cx, &others_before, 0, "resetting one thread")?;
    }
    Ok(())
}

/// Each other thread in turn spins with MSR[EE] = 0; the reset (HOLD, reset, RESUME) is
/// 0; its handler runs with SRR1[46:47] = 0 and [42:45] = 0b0010, SRR0 in the payload's
/// code; the thread resumes its loop, sees its count move and makes an OPAL call.
fn running(cx: &mut Ctx) -> CaseResult {
    let (lo, hi) = arch::image_range();
    for pir in need_others(cx, 1)?.iter().copied() {
        let crew = Crew::enlist(cx, &[pir])?;
        let start = arch::reset_record(pir).count;
        crew.post(pir, Op::SpinUntilReset, &[crew.deadline(3000), start])?;
        crew.pause(10);
        let rec = reset_one(cx, pir)?;
        check_running(pir, &rec)?;
        if !(lo..hi).contains(&rec.srr0) {
            fail!(
                "reset of PIR {pir:#x} spinning in the payload: SRR0 {:#x} is outside the payload ({lo:#x}..{hi:#x})",
                rec.srr0
            );
        }
        check_answer(&crew, pir)?;
        cx.info(format_args!("PIR {pir:#x}: {}", describe(&rec).as_str()));
    }
    Ok(())
}

/// A thread loops on OPAL_CHECK_TOKEN; 16 resets without QUIESCE (as when HOLD could not
/// get a thread out of OPAL) land in OPAL or in the payload, and the thread goes on: its
/// calls keep returning 1 (never BUSY, never anything else).
fn inside_opal(cx: &mut Ctx) -> CaseResult {
    let pir = need_others(cx, 1)?.as_slice()[0];
    let crew = Crew::enlist(cx, &[pir])?;
    crew.post(pir, Op::LoopCalls, &[])?;
    if !crew.until(1000, || crew.counts(pir).ok >= 100) {
        fail!("thread PIR {pir:#x} did not make 100 CHECK_TOKEN calls within 1 s");
    }
    let base = cx.sys.opal_base.unwrap_or(0);
    let size = cx.sys.opal_size.unwrap_or(0);
    let mut in_opal = 0;
    const RESETS: u32 = 16;
    for _ in 0..RESETS {
        let before = arch::reset_record(pir).count;
        let r = sreset_call(cx, pir as i32)?;
        expect(
            format_args!("SIGNAL_SYSTEM_RESET({pir:#x}) while it calls OPAL"),
            r,
            Ret::SUCCESS,
        )?;
        let Some(rec) = wait_reset(cx, pir, before, DELIVERY_MS) else {
            fail!("SIGNAL_SYSTEM_RESET({pir:#x}) returned 0 but its handler did not run within {DELIVERY_MS} ms");
        };
        check_running(pir, &rec)?;
        if (base..base + size).contains(&rec.srr0) {
            in_opal += 1;
        }
        let ok = crew.counts(pir).ok;
        if !crew.until(1000, || crew.counts(pir).ok > ok + 10) {
            fail!(
                "thread PIR {pir:#x} stopped calling OPAL after a reset ({})",
                describe(&rec).as_str()
            );
        }
    }
    crew.stop_loops();
    let Some(Ret(n)) = crew.wait(pir, 1000)? else {
        fail!("thread PIR {pir:#x} did not leave its call loop");
    };
    let c = crew.counts(pir);
    if c.busy != 0 || c.other != 0 {
        fail!(
            "CHECK_TOKEN(80) on the reset thread: {} BUSY and {} other answers (last {}), of {n}",
            c.busy,
            c.other,
            Ret(c.last_other)
        );
    }
    cx.info(format_args!(
        "{RESETS} resets of PIR {pir:#x} during {n} calls: {in_opal} landed inside OPAL ({base:#x}..{:#x}), the rest in the payload",
        base + size
    ));
    Ok(())
}

/// Linux's NMI to all others (`pnv_cause_nmi_ipi(-1)`): HOLD(−1), one reset per thread,
/// RESUME(−1), with the other threads asleep in stop, spinning, and looping on OPAL
/// calls (held at OPAL's entry by the HOLD). Each reset is 0, each thread's handler runs
/// with the SRR1 of its state, and each goes on afterwards.
fn nmi_ipi_all(cx: &mut Ctx) -> CaseResult {
    let targets = need_others(cx, 1)?;
    let crew = Crew::enlist(cx, targets.as_slice())?;
    let ops = [Op::StopUntilReset, Op::SpinUntilReset, Op::LoopCalls];
    let role = |k: usize| ops[k % ops.len()];
    let boot_before = arch::reset_record(cx.sys.boot_pir).count;
    for (k, &pir) in targets.iter().enumerate() {
        match role(k) {
            Op::SpinUntilReset => crew.post(
                pir,
                Op::SpinUntilReset,
                &[crew.deadline(5000), arch::reset_record(pir).count],
            )?,
            op => crew.post(pir, op, &[])?,
        }
    }
    for (k, &pir) in targets.iter().enumerate() {
        let ready = match role(k) {
            Op::StopUntilReset => crew.until(1000, || arch::reset_record(pir).in_stop),
            Op::LoopCalls => crew.until(1000, || crew.counts(pir).ok >= 10),
            _ => true,
        };
        if !ready {
            fail!(
                "thread PIR {pir:#x} did not get ready for {:?} within 1 s",
                role(k)
            );
        }
    }
    crew.pause(10);
    let mut resets = [0i32; 16];
    for (r, &pir) in resets.iter_mut().zip(targets.iter()) {
        *r = pir as i32;
    }
    let before = counts(cx);
    let answers = nmi_ipi(cx, quiesce::ALL, &resets[..targets.len()])?;
    let mut report = crate::runner::Msg::new();
    for (k, &pir) in targets.iter().enumerate() {
        expect(
            format_args!("SIGNAL_SYSTEM_RESET({pir:#x}) between HOLD(-1) and RESUME(-1)"),
            answers[k],
            Ret::SUCCESS,
        )?;
        let i = cx
            .sys
            .threads
            .iter()
            .position(|t| t.pir == pir)
            .unwrap_or(0);
        let Some(rec) = wait_reset(cx, pir, before[i], DELIVERY_MS) else {
            fail!(
                "thread PIR {pir:#x} ({:?}): its handler did not run within {DELIVERY_MS} ms",
                role(k)
            );
        };
        match role(k) {
            Op::StopUntilReset => {
                let early =
                    (arch::stop_addrs().start..=arch::stop_addrs().stop).contains(&rec.srr0);
                if early {
                    // Reached before its stop: wake it from the stop it went into.
                    let _ = reset_sleeper(cx, &crew, pir)?;
                } else {
                    check_stop_wakeup(pir, &rec)?;
                }
                check_answer(&crew, pir)?;
            }
            Op::SpinUntilReset => {
                check_running(pir, &rec)?;
                check_answer(&crew, pir)?;
            }
            _ => {
                check_running(pir, &rec)?;
                let ok = crew.counts(pir).ok;
                if !crew.until(1000, || crew.counts(pir).ok > ok + 10) {
                    fail!("thread PIR {pir:#x} did not go on calling OPAL after RESUME(-1)");
                }
                crew.stop_loops();
                let _ = crew.wait(pir, 1000)?;
                let c = crew.counts(pir);
                if c.busy != 0 || c.other != 0 {
                    fail!(
                        "CHECK_TOKEN(80) on PIR {pir:#x}: {} BUSY and {} other answers (last {})",
                        c.busy,
                        c.other,
                        Ret(c.last_other)
                    );
                }
            }
        }
        let _ = core::fmt::Write::write_fmt(
            &mut report,
            format_args!(" {pir:#x} {:?}: SRR1 {:#x};", role(k), rec.srr1 & 0x3f_0000),
        );
    }
    if arch::reset_record(cx.sys.boot_pir).count != boot_before {
        fail!("the calling thread took a system reset");
    }
    cx.info(format_args!("SRR1[42:47] per thread:{}", report.as_str()));
    Ok(())
}

/// After a broadcast: every other thread's handler ran within a second, the caller's
/// did not.
fn check_broadcast(cx: &Ctx, before: &[u64; 16], what: &str) -> CaseResult {
    for (i, t) in cx.sys.threads.iter().take(16).enumerate() {
        if t.pir == cx.sys.boot_pir {
            continue;
        }
        if wait_reset(cx, t.pir, before[i], DELIVERY_MS).is_none() {
            fail!(
                "{what}: thread PIR {:#x}'s handler did not run within {DELIVERY_MS} ms",
                t.pir
            );
        }
    }
    let boot = cx.sys.threads.iter().position(|t| t.pir == cx.sys.boot_pir);
    if let Some(i) = boot {
        let now = arch::reset_record(cx.sys.boot_pir).count;
        if now != before[i] {
            fail!("{what}: the calling thread took a system reset");
        }
    }
    Ok(())
}

/// −2 between HOLD(−1) and RESUME(−1), the other threads parked: 0, and each other
/// thread's handler runs once. skiboot: CONSTRAINED, nothing reset (X8).
fn all_others(cx: &mut Ctx) -> CaseResult {
    need_others(cx, 1)?;
    let before = counts(cx);
    let r = nmi_ipi(cx, quiesce::ALL, &[spec::sreset::ALL_OTHERS])?[0];
    if r == CONSTRAINED && !cx.sys.is_opalite() {
        no_resets(cx, &before, 50, "SIGNAL_SYSTEM_RESET(-2) = CONSTRAINED")?;
        return Err(skiboot_departure(
            cx,
            "X8",
            format_args!(
                "SIGNAL_SYSTEM_RESET(-2) returned {r} and reset nothing (skiboot does not broadcast); the spec says 0 with every other thread reset"
            ),
        ));
    }
    expect(format_args!("SIGNAL_SYSTEM_RESET(-2)"), r, Ret::SUCCESS)?;
    check_broadcast(cx, &before, "SIGNAL_SYSTEM_RESET(-2)")
}

/// −1 between HOLD(−1) and RESUME(−1): every other thread is reset and the answer is
/// PARTIAL, because the caller cannot reset itself through direct controls. skiboot:
/// CONSTRAINED, nothing reset (X8).
fn all(cx: &mut Ctx) -> CaseResult {
    need_others(cx, 1)?;
    let before = counts(cx);
    let r = nmi_ipi(cx, quiesce::ALL, &[spec::sreset::ALL])?[0];
    if r == CONSTRAINED && !cx.sys.is_opalite() {
        no_resets(cx, &before, 50, "SIGNAL_SYSTEM_RESET(-1) = CONSTRAINED")?;
        return Err(skiboot_departure(
            cx,
            "X8",
            format_args!(
                "SIGNAL_SYSTEM_RESET(-1) returned {r} and reset nothing (skiboot does not broadcast); the spec says -3 (OPAL_PARTIAL) with every other thread reset"
            ),
        ));
    }
    expect(
        format_args!("SIGNAL_SYSTEM_RESET(-1)"),
        r,
        Ret::err(OpalError::Partial),
    )?;
    check_broadcast(cx, &before, "SIGNAL_SYSTEM_RESET(-1)")
}

use super::cpu::{check_restarted, status as cpu_status, INACTIVE as THREAD_INACTIVE};

/// A thread the firmware owns again (it called OPAL_RETURN_CPU) is WRONG_STATE and is not
/// reset; OPAL_START_CPU then gives it back. Not run on skiboot, which resets such a
/// thread into the OS's vector with firmware state (X9); needs OPAL_RETURN_CPU.
fn firmware_owned(cx: &mut Ctx) -> CaseResult {
    if !cx.sys.is_opalite() {
        return Err(Verdict::Skip(msg!(
            "X9: not called on this firmware: skiboot resets a thread it owns into the OS's 0x100 vector (docs/conformance.md)"
        )));
    }
    if !cx.opal.is_present(OPAL_RETURN_CPU) {
        return Err(Verdict::Skip(msg!(
            "OPAL_RETURN_CPU (69) is absent: no way to give a thread back to the firmware"
        )));
    }
    let pir = need_others(cx, 1)?.as_slice()[0];
    let mut crew = Crew::enlist(cx, &[pir])?;
    let before = arch::reset_record(pir).count;
    crew.post(pir, Op::ReturnCpu, &[])?;
    crew.forget(pir);
    let back_in_firmware = crew.until(1000, || {
        matches!(cpu_status(cx, pir), Ok(Some(THREAD_INACTIVE)))
    });
    if !back_in_firmware {
        let answer = crew.answer(pir).unwrap_or(Ret(RETURNED));
        fail!(
            "after OPAL_RETURN_CPU on PIR {pir:#x}, QUERY_CPU_STATUS did not say INACTIVE within 1 s (RETURN_CPU answer: {})",
            if answer == Ret(RETURNED) { msg!("none") } else { msg!("{answer}") }.as_str()
        );
    }
    let r = sreset_call(cx, pir as i32)?;
    let t0 = arch::mftb();
    while arch::mftb() - t0 < cx.opal.ticks(50) {}
    let reset = arch::reset_record(pir).count != before;
    let arrivals = crate::arch::park_arrivals();
    let park = arch::secondary_park as *const () as u64;
    let started = call(cx, OPAL_START_CPU, &[u64::from(pir), park])?;
    expect(
        format_args!("SIGNAL_SYSTEM_RESET({pir:#x}) of a thread the firmware owns"),
        r,
        Ret::err(OpalError::WrongState),
    )?;
    if reset {
        fail!("the refused reset of PIR {pir:#x} reached the OS's vector nevertheless");
    }
    check_restarted(cx, crew, pir, started, arrivals)
}
