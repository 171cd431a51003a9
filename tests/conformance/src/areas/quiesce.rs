// SPDX-License-Identifier: Apache-2.0
//! Keeping threads out of OPAL: `OPAL_QUIESCE` (158) (hmi-mce-sreset.md §2,
//! skiboot `core/opal.c` `opal_quiesce` and the entry check in `asm/head.S`,
//! `doc/opal-api/opal-quiesce-158.rst`), seen from the other threads: a thread that loops
//! on `OPAL_CHECK_TOKEN` stops while it is held, gets `OPAL_BUSY` while it is rejected,
//! and goes on after RESUME; one thread owns the quiesce state at a time.
//!
//! Types HOLD 1, REJECT 2, LOCK_BREAK 3, RESUME 4 (RESUME_FAST_REBOOT 5 is not called: it
//! also zeroes the firmware's count of threads inside OPAL, the caller's included, which
//! only a fast reboot wants); cpu −1 is every thread but the caller. Any other type, and a
//! cpu that is neither −1 nor a server, is `OPAL_PARAMETER` (skiboot does not check the
//! type: X10). Every case resumes what it held before it ends, even when it fails.

use conformance::spec::{int32_arg, quiesce};
use opal_api::token::*;
use opal_api::OpalError;

use super::common::call;
use super::sreset::{others, skiboot_departure};
use super::threads::{Crew, Op};
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx, Verdict};
use crate::{fail, msg};

pub static AREA: Area = Area {
    name: "quiesce",
    tokens: &[OPAL_QUIESCE],
    before_each: None,
    cases: &[
        Case {
            name: "quiesce.hold",
            run: hold,
        },
        Case {
            name: "quiesce.hold_all",
            run: hold_all,
        },
        Case {
            name: "quiesce.reject",
            run: reject,
        },
        Case {
            name: "quiesce.ownership",
            run: ownership,
        },
        Case {
            name: "quiesce.lock_break",
            run: lock_break,
        },
        Case {
            name: "quiesce.bad_cpu",
            run: bad_cpu,
        },
        Case {
            name: "quiesce.bad_type",
            run: bad_type,
        },
    ],
};

const BUSY: Ret = Ret::err(OpalError::Busy);

fn q(cx: &Ctx, ty: u64, cpu: i32) -> CaseResult<Ret> {
    call(cx, OPAL_QUIESCE, &[ty, int32_arg(cpu)])
}

fn threads_needed(cx: &Ctx, n: usize) -> CaseResult<conformance::list::List<u32, 16>> {
    let o = others(cx);
    if o.len() < n {
        return Err(Verdict::Skip(msg!(
            "needs {n} threads besides the boot thread, the machine has {}",
            o.len()
        )));
    }
    Ok(o)
}

/// Starts `LoopCalls` on each thread and waits for 50 calls from each.
fn start_loops(crew: &Crew, pirs: &[u32]) -> CaseResult {
    for &p in pirs {
        crew.post(p, Op::LoopCalls, &[])?;
    }
    for &p in pirs {
        if !crew.until(1000, || crew.counts(p).ok >= 50) {
            fail!("thread PIR {p:#x} did not make 50 CHECK_TOKEN calls within 1 s");
        }
    }
    Ok(())
}

/// Ends the loops; every answer was 1 or, with `busy_ok`, BUSY.
fn end_loops(crew: &Crew, pirs: &[u32], busy_ok: bool) -> CaseResult {
    crew.stop_loops();
    for &p in pirs {
        if crew.wait(p, 1000)?.is_none() {
            fail!("thread PIR {p:#x} did not leave its call loop");
        }
        let c = crew.counts(p);
        if c.other != 0 || (c.busy != 0 && !busy_ok) {
            fail!(
                "CHECK_TOKEN(80) on PIR {p:#x}: {} BUSY and {} other answers (last {})",
                c.busy,
                c.other,
                Ret(c.last_other)
            );
        }
    }
    crew.allow_loops();
    Ok(())
}

/// While held (HOLD returned): the thread's count moves at most once more (a call that had
/// returned but was not counted yet), then stays for 100 ms.
fn check_held(crew: &Crew, p: u32, what: &str) -> CaseResult {
    let c1 = crew.counts(p).ok;
    crew.pause(100);
    let c2 = crew.counts(p).ok;
    crew.pause(100);
    let c3 = crew.counts(p).ok;
    if c2 > c1 + 1 || c3 != c2 {
        fail!(
            "{what}: PIR {p:#x} went on calling OPAL ({c1} calls when it returned, {c2} 100 ms later, {c3} after 200 ms)"
        );
    }
    Ok(())
}

/// After RESUME: the thread's count moves again within a second.
fn check_going(crew: &Crew, p: u32, what: &str) -> CaseResult {
    let c = crew.counts(p).ok;
    if !crew.until(1000, || crew.counts(p).ok > c + 10) {
        fail!("{what}: PIR {p:#x} made no OPAL call within 1 s");
    }
    Ok(())
}

/// `body` with `ty` in force on `cpu`, RESUME(cpu) afterwards whatever happened: the
/// quiesce answer must be 0, the RESUME too.
fn with_quiesce(cx: &Ctx, ty: u64, cpu: i32, body: impl FnOnce() -> CaseResult) -> CaseResult {
    let r = q(cx, ty, cpu)?;
    let result = if r == Ret::SUCCESS {
        body()
    } else {
        Err(Verdict::Fail(msg!(
            "QUIESCE({ty}, {cpu}): returned {r}, the spec says 0"
        )))
    };
    let resumed = q(cx, quiesce::RESUME, cpu)?;
    result?;
    expect(
        format_args!("QUIESCE(RESUME, {cpu})"),
        resumed,
        Ret::SUCCESS,
    )
}

/// A thread loops on CHECK_TOKEN; HOLD of that thread is 0, after which it makes no more
/// calls (its next one waits at OPAL's entry); RESUME is 0 and its calls go on, every one
/// answered 1.
fn hold(cx: &mut Ctx) -> CaseResult {
    let b = threads_needed(cx, 1)?.as_slice()[0];
    let crew = Crew::enlist(cx, &[b])?;
    start_loops(&crew, &[b])?;
    with_quiesce(cx, quiesce::HOLD, b as i32, || {
        check_held(&crew, b, "after QUIESCE(HOLD, B)")
    })?;
    check_going(&crew, b, "after QUIESCE(RESUME, B)")?;
    end_loops(&crew, &[b], false)
}

/// Two threads loop on CHECK_TOKEN; HOLD(−1) stops both, RESUME(−1) lets both go on.
fn hold_all(cx: &mut Ctx) -> CaseResult {
    let o = threads_needed(cx, 2)?;
    let pirs = &o.as_slice()[..2];
    let crew = Crew::enlist(cx, pirs)?;
    start_loops(&crew, pirs)?;
    with_quiesce(cx, quiesce::HOLD, quiesce::ALL, || {
        for &p in pirs {
            check_held(&crew, p, "after QUIESCE(HOLD, -1)")?;
        }
        Ok(())
    })?;
    for &p in pirs {
        check_going(&crew, p, "after QUIESCE(RESUME, -1)")?;
    }
    end_loops(&crew, pirs, false)
}

/// A thread loops on CHECK_TOKEN; REJECT of that thread is 0, after which its calls
/// return OPAL_BUSY at once (none answered 1 beyond the one in flight); after RESUME they
/// are answered 1 again and BUSY stops.
fn reject(cx: &mut Ctx) -> CaseResult {
    let b = threads_needed(cx, 1)?.as_slice()[0];
    let crew = Crew::enlist(cx, &[b])?;
    start_loops(&crew, &[b])?;
    with_quiesce(cx, quiesce::REJECT, b as i32, || {
        let c1 = crew.counts(b);
        if !crew.until(1000, || crew.counts(b).busy >= c1.busy + 10) {
            fail!(
                "after QUIESCE(REJECT, B): PIR {b:#x} got fewer than 10 OPAL_BUSY answers in 1 s ({:?})",
                crew.counts(b)
            );
        }
        let c2 = crew.counts(b);
        if c2.ok > c1.ok + 1 || c2.other != c1.other {
            fail!(
                "after QUIESCE(REJECT, B): PIR {b:#x}'s calls were still answered ({} more answered 1, {} other)",
                c2.ok - c1.ok,
                c2.other - c1.other
            );
        }
        Ok(())
    })?;
    check_going(&crew, b, "after QUIESCE(RESUME, B)")?;
    let b1 = crew.counts(b).busy;
    crew.pause(50);
    let b2 = crew.counts(b).busy;
    if b2 > b1 + 1 {
        fail!(
            "after QUIESCE(RESUME, B): PIR {b:#x} still gets OPAL_BUSY ({} more)",
            b2 - b1
        );
    }
    end_loops(&crew, &[b], true)
}

/// The boot thread HOLDs a parked thread T. Meanwhile another thread C: HOLD(T), REJECT(−1)
/// and RESUME(T) are BUSY (someone else owns the quiesce), LOCK_BREAK(−1) is BUSY (C does
/// not own it). The owner's LOCK_BREAK is BUSY too (T, not −1, is held). After the owner's
/// RESUME, C can HOLD and RESUME T itself.
fn ownership(cx: &mut Ctx) -> CaseResult {
    let o = threads_needed(cx, 2)?;
    let (c, t) = (o.as_slice()[0], o.as_slice()[1]);
    let crew = Crew::enlist(cx, &[c])?;
    let ti = t as i32;
    with_quiesce(cx, quiesce::HOLD, ti, || {
        for (ty, cpu, what) in [
            (quiesce::HOLD, ti, "HOLD(T)"),
            (quiesce::REJECT, quiesce::ALL, "REJECT(-1)"),
            (quiesce::RESUME, ti, "RESUME(T)"),
            (quiesce::LOCK_BREAK, quiesce::ALL, "LOCK_BREAK(-1)"),
        ] {
            let r = crew.call(c, OPAL_QUIESCE, &[ty, int32_arg(cpu)])?;
            expect(
                format_args!(
                    "QUIESCE {what} from PIR {c:#x} while the boot thread holds T = {t:#x}"
                ),
                r,
                BUSY,
            )?;
        }
        let r = q(cx, quiesce::LOCK_BREAK, ti)?;
        expect(
            format_args!("QUIESCE(LOCK_BREAK, T) by the owner of HOLD(T) (not -1)"),
            r,
            BUSY,
        )
    })?;
    let r = crew.call(c, OPAL_QUIESCE, &[quiesce::HOLD, int32_arg(ti)])?;
    let resumed = crew.call(c, OPAL_QUIESCE, &[quiesce::RESUME, int32_arg(ti)])?;
    expect(
        format_args!("QUIESCE(HOLD, T) from PIR {c:#x} after the boot thread's RESUME"),
        r,
        Ret::SUCCESS,
    )?;
    expect(
        format_args!("QUIESCE(RESUME, T) from PIR {c:#x}"),
        resumed,
        Ret::SUCCESS,
    )
}

/// HOLD(−1), LOCK_BREAK(−1), RESUME(−1) are 0, and afterwards another thread's OPAL call
/// and the console (this line) work: RESUME undid the lock break.
fn lock_break(cx: &mut Ctx) -> CaseResult {
    let b = threads_needed(cx, 1)?.as_slice()[0];
    let crew = Crew::enlist(cx, &[b])?;
    with_quiesce(cx, quiesce::HOLD, quiesce::ALL, || {
        let r = q(cx, quiesce::LOCK_BREAK, quiesce::ALL)?;
        expect(
            format_args!("QUIESCE(LOCK_BREAK, -1) after HOLD(-1)"),
            r,
            Ret::SUCCESS,
        )
    })?;
    let r = crew.call(b, OPAL_CHECK_TOKEN, &[OPAL_CHECK_TOKEN])?;
    expect(
        format_args!("CHECK_TOKEN(80) on PIR {b:#x} after RESUME(-1)"),
        r,
        Ret(1),
    )?;
    let r = call(cx, OPAL_POLL_EVENTS, &[0])?;
    expect(
        format_args!("POLL_EVENTS(NULL) after RESUME(-1)"),
        r,
        Ret::SUCCESS,
    )
}

/// A cpu that is neither −1 nor a server: −2, −3, INT32_MIN, servers no thread has. Every
/// type is PARAMETER (a HOLD or REJECT that is not is resumed with RESUME(−1)).
fn bad_cpu(cx: &mut Ctx) -> CaseResult {
    let has = |p: u32| cx.sys.threads.iter().any(|t| t.pir == p);
    let max = cx.sys.threads.iter().map(|t| t.pir).max().unwrap_or(0);
    let hole = (0..max).find(|&p| !has(p)).map(|p| p as i32);
    let cpus = [-2, -3, i32::MIN, (max + 1) as i32, 0x7ff, 0x7fff_ffff];
    for cpu in hole.into_iter().chain(cpus) {
        if cpu >= 0 && has(cpu as u32) {
            continue;
        }
        for ty in [
            quiesce::HOLD,
            quiesce::REJECT,
            quiesce::LOCK_BREAK,
            quiesce::RESUME,
        ] {
            let r = q(cx, ty, cpu)?;
            if r != Ret::PARAMETER && (ty == quiesce::HOLD || ty == quiesce::REJECT) {
                let _ = q(cx, quiesce::RESUME, quiesce::ALL)?;
            }
            expect(
                format_args!("QUIESCE({ty}, {cpu:#x}) (no such cpu)"),
                r,
                Ret::PARAMETER,
            )?;
        }
    }
    Ok(())
}

/// Types that are none of 1..5 (0, 6, 2^32 − 1) on a parked thread T: PARAMETER
/// (the API documents PARAMETER for "a parameter was incorrect"). Each is followed by
/// RESUME(T). skiboot does not check the type (X10): it answers BUSY if the caller is not
/// the last thread that held, else it stores the type as T's quiesce flag and answers 0;
/// a flag other than HOLD or REJECT then makes T's next OPAL call spin at OPAL's entry
/// until RESUME, which the case shows by having T call CHECK_TOKEN.
fn bad_type(cx: &mut Ctx) -> CaseResult {
    let t = threads_needed(cx, 1)?.as_slice()[0];
    let ti = t as i32;
    // Make the boot thread the last owner (skiboot's check compares with the last owner).
    let r = q(cx, quiesce::HOLD, ti)?;
    let resumed = q(cx, quiesce::RESUME, ti)?;
    expect(format_args!("QUIESCE(HOLD, T)"), r, Ret::SUCCESS)?;
    expect(format_args!("QUIESCE(RESUME, T)"), resumed, Ret::SUCCESS)?;
    let mut departures = crate::runner::Msg::new();
    for ty in [0u64, 6, 0xffff_ffff] {
        let r = q(cx, ty, ti)?;
        if r == Ret::PARAMETER {
            let _ = q(cx, quiesce::RESUME, ti)?;
            continue;
        }
        if cx.sys.is_opalite() || !(r == Ret::SUCCESS || r == BUSY) {
            let _ = q(cx, quiesce::RESUME, ti)?;
            fail!("QUIESCE({ty:#x}, T) (no such type): returned {r}, the spec says -1 (OPAL_PARAMETER)");
        }
        // skiboot: see what the stored flag does to T's next call, then RESUME(T).
        let crew = Crew::enlist(cx, &[t])?;
        crew.post(t, Op::Call, &[OPAL_CHECK_TOKEN, OPAL_CHECK_TOKEN])?;
        let before_resume = crew.wait(t, 200)?;
        let resumed = q(cx, quiesce::RESUME, ti)?;
        let after = crew.wait(t, 1000)?;
        let held = match (before_resume, after) {
            (Some(_), _) => "ran",
            (None, Some(_)) => "held until RESUME",
            (None, None) => "never answered",
        };
        if after.is_none() {
            fail!("QUIESCE({ty:#x}, T) returned {r}, and T's next CHECK_TOKEN was {held}");
        }
        expect(
            format_args!("QUIESCE(RESUME, T) after type {ty:#x}"),
            resumed,
            Ret::SUCCESS,
        )?;
        let _ = core::fmt::Write::write_fmt(
            &mut departures,
            format_args!(" {ty:#x}: {}, T's next call {held};", r.signed()),
        );
    }
    if departures.as_str().is_empty() {
        return Ok(());
    }
    Err(skiboot_departure(
        cx,
        "X10",
        format_args!(
            "QUIESCE(type, T) with no such type (spec: -1), skiboot stores it:{}",
            departures.as_str()
        ),
    ))
}
