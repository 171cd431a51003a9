// SPDX-License-Identifier: Apache-2.0
//! Threads: `OPAL_START_CPU` (41), `OPAL_QUERY_CPU_STATUS` (42), `OPAL_RETURN_CPU` (69),
//! `OPAL_REINIT_CPUS` (70) (skiboot `core/cpu.c`, `doc/opal-api/opal-reinit-cpus-70.rst`).
//! Setup already started every other thread with START_CPU (its valid case); these check
//! the states and errors, and hand a thread back to the firmware and take it again.

use opal_api::token::*;
use opal_api::OpalError;

use super::common::{bad_pointers, call};
use super::Out;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, Area, Case, CaseResult, Ctx};

pub static AREA: Area = Area {
    name: "cpu",
    tokens: &[
        OPAL_START_CPU,
        OPAL_QUERY_CPU_STATUS,
        OPAL_RETURN_CPU,
        OPAL_REINIT_CPUS,
    ],
    before_each: None,
    cases: &[
        Case {
            name: "cpu.query_status",
            run: query_status,
        },
        Case {
            name: "cpu.query_status.bad_pointers",
            run: query_bad_pointers,
        },
        Case {
            name: "cpu.start.bad_args",
            run: start_bad_args,
        },
        Case {
            name: "cpu.return_cpu",
            run: return_cpu,
        },
        Case {
            name: "cpu.reinit.bad_flags",
            run: reinit_bad_flags,
        },
        Case {
            name: "cpu.reinit.threads_in_os",
            run: reinit_threads_in_os,
        },
    ],
};

/// `OPAL_THREAD_INACTIVE` (in the firmware), `OPAL_THREAD_STARTED` (running OS code).
pub(super) const INACTIVE: u64 = 0;
pub(super) const STARTED: u64 = 1;

/// A PIR no thread has: one past the highest.
fn absent_pir(cx: &Ctx) -> u64 {
    u64::from(cx.sys.threads.iter().map(|t| t.pir).max().unwrap_or(0)) + 1
}

/// QUERY_CPU_STATUS of every thread: SUCCESS, one byte written, STARTED (the boot thread
/// runs the OS; setup started the others); an absent PIR is PARAMETER.
fn query_status(cx: &mut Ctx) -> CaseResult {
    for t in cx.sys.threads.iter() {
        let mut st = Out::<1>::new();
        let r = call(cx, OPAL_QUERY_CPU_STATUS, &[u64::from(t.pir), st.addr()])?;
        expect(
            format_args!("QUERY_CPU_STATUS({:#x})", t.pir),
            r,
            Ret::SUCCESS,
        )?;
        expect_eq(
            format_args!("status of PIR {:#x}", t.pir),
            st.get("thread_status")?,
            STARTED,
        )?;
    }
    for pir in [absent_pir(cx), 0xffff_ffff, u64::MAX] {
        let mut st = Out::<1>::new();
        let r = call(cx, OPAL_QUERY_CPU_STATUS, &[pir, st.addr()])?;
        expect(
            format_args!("QUERY_CPU_STATUS({pir:#x})"),
            r,
            Ret::PARAMETER,
        )?;
        if !st.untouched() {
            fail!("a refused QUERY_CPU_STATUS({pir:#x}) wrote the status");
        }
    }
    Ok(())
}

fn query_bad_pointers(cx: &mut Ctx) -> CaseResult {
    for (what, bad) in bad_pointers(cx) {
        let r = call(
            cx,
            OPAL_QUERY_CPU_STATUS,
            &[u64::from(cx.sys.boot_pir), bad],
        )?;
        expect(
            format_args!("QUERY_CPU_STATUS(status = {what})"),
            r,
            Ret::PARAMETER,
        )?;
    }
    Ok(())
}

/// START_CPU of an absent PIR is PARAMETER; of a thread the OS already runs (the boot
/// thread, a started one) WRONG_STATE, with a valid entry; with an entry inside the
/// firmware, PARAMETER or WRONG_STATE (both refuse; which check comes first is free).
fn start_bad_args(cx: &mut Ctx) -> CaseResult {
    let park = crate::arch::secondary_park as *const () as u64;
    let r = call(cx, OPAL_START_CPU, &[absent_pir(cx), park])?;
    expect(format_args!("START_CPU(absent PIR)"), r, Ret::PARAMETER)?;
    let boot = u64::from(cx.sys.boot_pir);
    let r = call(cx, OPAL_START_CPU, &[boot, park])?;
    expect(
        format_args!("START_CPU(boot PIR {boot:#x})"),
        r,
        Ret::err(OpalError::WrongState),
    )?;
    for t in cx.sys.threads.iter().filter(|t| t.pir != cx.sys.boot_pir) {
        let pir = u64::from(t.pir);
        let mut st = Out::<1>::new();
        let r = call(cx, OPAL_QUERY_CPU_STATUS, &[pir, st.addr()])?;
        if r != Ret::SUCCESS || st.get("thread_status")? != STARTED {
            continue; // never start a thread that is still waiting in OPAL
        }
        let r = call(cx, OPAL_START_CPU, &[pir, park])?;
        expect(
            format_args!("START_CPU(started PIR {pir:#x})"),
            r,
            Ret::err(OpalError::WrongState),
        )?;
        for (what, bad) in bad_pointers(cx) {
            let r = call(cx, OPAL_START_CPU, &[pir, bad])?;
            if r != Ret::PARAMETER && !r.is(OpalError::WrongState) {
                fail!("START_CPU({pir:#x}, entry = {what}): returned {r}, the spec says -1 or -14");
            }
        }
    }
    Ok(())
}

/// Unknown flag bits are UNSUPPORTED; HILE_BE with HILE_LE is PARAMETER; nothing applied.
fn reinit_bad_flags(cx: &mut Ctx) -> CaseResult {
    let r = call(cx, OPAL_REINIT_CPUS, &[1 << 40])?;
    expect(
        format_args!("REINIT_CPUS(1 << 40)"),
        r,
        Ret::err(OpalError::Unsupported),
    )?;
    let both = opal_api::reinit::HILE_BE | opal_api::reinit::HILE_LE;
    let r = call(cx, OPAL_REINIT_CPUS, &[both])?;
    expect(
        format_args!("REINIT_CPUS(HILE_BE | HILE_LE)"),
        r,
        Ret::PARAMETER,
    )
}

/// REINIT_CPUS(0) (change nothing) while other threads run OS code: every thread must be
/// in OPAL (opal-reinit-cpus-70.rst), so WRONG_STATE. With one thread it is SUCCESS.
fn reinit_threads_in_os(cx: &mut Ctx) -> CaseResult {
    let r = call(cx, OPAL_REINIT_CPUS, &[0])?;
    let want = if cx.sys.threads.len() > 1 {
        Ret::err(OpalError::WrongState)
    } else {
        Ret::SUCCESS
    };
    expect(format_args!("REINIT_CPUS(0)"), r, want)
}

/// QUERY_CPU_STATUS of `pir`: its status byte, or None if the call failed.
pub(super) fn status(cx: &Ctx, pir: u32) -> CaseResult<Option<u64>> {
    let mut st = Out::<1>::new();
    let r = call(cx, OPAL_QUERY_CPU_STATUS, &[u64::from(pir), st.addr()])?;
    if r != Ret::SUCCESS {
        return Ok(None);
    }
    Ok(Some(st.get("thread_status")?))
}

/// A started thread calls RETURN_CPU (as Linux's crash and kexec paths do): it does not
/// come back, QUERY_CPU_STATUS says INACTIVE within a second, START_CPU of it is 0 again,
/// after which it is STARTED and runs the payload (answers a CHECK_TOKEN command).
fn return_cpu(cx: &mut Ctx) -> CaseResult {
    use super::threads::{Crew, Op};
    if !cx.opal.is_present(OPAL_RETURN_CPU) {
        return Err(crate::runner::Verdict::Skip(crate::msg!(
            "OPAL_RETURN_CPU (69) is absent"
        )));
    }
    let Some(pir) = cx
        .sys
        .threads
        .iter()
        .map(|t| t.pir)
        .find(|&p| p != cx.sys.boot_pir)
    else {
        return Err(crate::runner::Verdict::Skip(crate::msg!(
            "no thread besides the boot thread"
        )));
    };
    let mut crew = Crew::enlist(cx, &[pir])?;
    crew.post(pir, Op::ReturnCpu, &[])?;
    crew.forget(pir);
    if !crew.until(1000, || matches!(status(cx, pir), Ok(Some(INACTIVE)))) {
        fail!(
            "PIR {pir:#x} called RETURN_CPU, but QUERY_CPU_STATUS says {:?} after 1 s (RETURN_CPU answered {:?})",
            status(cx, pir)?,
            crew.answer(pir).map(|r| r.0)
        );
    }
    let arrivals = crate::arch::park_arrivals();
    let park = crate::arch::secondary_park as *const () as u64;
    let started = call(cx, OPAL_START_CPU, &[u64::from(pir), park])?;
    check_restarted(cx, crew, pir, started, arrivals)
}

/// After `started` = START_CPU(pir, the payload's parking loop) of a thread that had
/// returned to the firmware (taken when the loop had counted `arrivals`): the call
/// succeeded, the thread is STARTED within 1 s, reaches the parking loop, and answers a
/// command again.
pub(super) fn check_restarted(
    cx: &Ctx,
    crew: super::threads::Crew,
    pir: u32,
    started: Ret,
    arrivals: u64,
) -> CaseResult {
    use super::threads::Crew;
    expect(
        format_args!("START_CPU({pir:#x}) after its RETURN_CPU"),
        started,
        Ret::SUCCESS,
    )?;
    if !crew.until(1000, || matches!(status(cx, pir), Ok(Some(STARTED)))) {
        fail!("PIR {pir:#x} is not STARTED within 1 s of START_CPU");
    }
    if !crew.until(1000, || crate::arch::park_arrivals() > arrivals) {
        fail!("PIR {pir:#x} did not reach the payload's parking loop within 1 s of START_CPU");
    }
    drop(crew);
    // Back in the payload's parking loop: it answers a command again.
    let crew = Crew::enlist(cx, &[pir])?;
    let r = crew.call(pir, OPAL_CHECK_TOKEN, &[OPAL_CHECK_TOKEN])?;
    expect(
        format_args!("CHECK_TOKEN(80) on PIR {pir:#x} after START_CPU"),
        r,
        Ret(1),
    )
}
