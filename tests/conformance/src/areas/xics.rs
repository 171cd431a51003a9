// SPDX-License-Identifier: Apache-2.0
//! The XICS emulation calls: `OPAL_INT_GET_XIRR` (122), `OPAL_INT_SET_CPPR` (123),
//! `OPAL_INT_EOI` (124) (xive.md §13.2, skiboot `hw/xive.c`). They work only in XICS
//! emulation mode (P9 after `XIVE_RESET(0)` or before any reset); in exploitation mode,
//! and always on P10 which has no emulation (§11.5), they are WRONG_STATE.

use conformance::spec::Generation;
use opal_api::token::*;
use opal_api::OpalError;

use super::common::{bad_pointers, call};
use super::Out;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx, Verdict};

pub static AREA: Area = Area {
    name: "xics",
    tokens: &[OPAL_INT_GET_XIRR, OPAL_INT_SET_CPPR, OPAL_INT_EOI],
    before_each: None,
    cases: &[
        Case {
            name: "xics.exploitation_mode",
            run: exploitation_mode,
        },
        Case {
            name: "xics.emulation_mode",
            run: emulation_mode,
        },
        Case {
            name: "xics.emulation_mode.bad_pointers",
            run: emulation_bad_pointers,
        },
    ],
};

fn xive_reset(cx: &Ctx, mode: u64) -> CaseResult {
    let r = call(cx, OPAL_XIVE_RESET, &[mode])?;
    expect(format_args!("XIVE_RESET({mode})"), r, Ret::SUCCESS)
}

/// After XIVE_RESET(1): GET_XIRR and SET_CPPR are WRONG_STATE, nothing written; EOI is a
/// source EOI through firmware, so an unknown girq is PARAMETER (xive.md §13).
fn exploitation_mode(cx: &mut Ctx) -> CaseResult {
    xive_reset(cx, 1)?;
    let wrong = Ret::err(OpalError::WrongState);
    let mut xirr = Out::<4>::new();
    let r = call(cx, OPAL_INT_GET_XIRR, &[xirr.addr(), 1])?;
    expect(format_args!("INT_GET_XIRR in exploitation mode"), r, wrong)?;
    if !xirr.untouched() {
        fail!("a refused INT_GET_XIRR wrote *xirr");
    }
    let r = call(cx, OPAL_INT_SET_CPPR, &[0xff])?;
    expect(
        format_args!("INT_SET_CPPR(0xff) in exploitation mode"),
        r,
        wrong,
    )?;
    let r = call(cx, OPAL_INT_EOI, &[0xff00_0000])?;
    expect(
        format_args!("INT_EOI(0xff000000) in exploitation mode"),
        r,
        Ret::err(OpalError::Parameter),
    )
}

fn p9_emulation(cx: &Ctx) -> CaseResult {
    if cx.sys.generation != Some(Generation::P9) {
        return Err(Verdict::Skip(crate::msg!(
            "XICS emulation exists on P9 only"
        )));
    }
    xive_reset(cx, 0)
}

/// P9, after XIVE_RESET(0): GET_XIRR (poll only) is SUCCESS and, with nothing pending,
/// writes 0 (xive.md §13: `old_cppr<<24 | girq`, 0 if nothing). Ends with XIVE_RESET(1).
fn emulation_mode(cx: &mut Ctx) -> CaseResult {
    p9_emulation(cx)?;
    let result = (|| {
        let r = call(cx, OPAL_INT_SET_CPPR, &[0xff])?;
        expect(format_args!("INT_SET_CPPR(0xff)"), r, Ret::SUCCESS)?;
        let mut xirr = Out::<4>::new();
        let r = call(cx, OPAL_INT_GET_XIRR, &[xirr.addr(), 1])?;
        expect(format_args!("INT_GET_XIRR(poll)"), r, Ret::SUCCESS)?;
        let v = xirr.get("*xirr")?;
        if v != 0 {
            fail!("INT_GET_XIRR with nothing pending: xirr {v:#010x}, the spec says 0");
        }
        Ok(())
    })();
    xive_reset(cx, 1)?;
    result
}

fn emulation_bad_pointers(cx: &mut Ctx) -> CaseResult {
    p9_emulation(cx)?;
    let result = (|| {
        for (what, bad) in bad_pointers(cx) {
            let r = call(cx, OPAL_INT_GET_XIRR, &[bad, 1])?;
            expect(
                format_args!("INT_GET_XIRR({what})"),
                r,
                Ret::err(OpalError::Parameter),
            )?;
        }
        Ok(())
    })();
    xive_reset(cx, 1)?;
    result
}
