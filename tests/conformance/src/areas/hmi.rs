// SPDX-License-Identifier: Apache-2.0
//! HMI handling as the OS sees it with nothing pending: `OPAL_HANDLE_HMI` (98) and
//! `OPAL_HANDLE_HMI2` (166) (skiboot `core/hmi.c`, `doc/opal-api/opal-handle-hmi-98-166.rst`).
//! QEMU never raises an HMI, so no call here has anything to handle: each must succeed,
//! say so in its flags and queue nothing. The HMIs themselves are the `hmi-*` Linux
//! scenarios, on the injection build.

use opal_api::token::*;
use opal_api::OpalError;

use super::common::{bad_pointers, call, Buf};
use super::Out;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx};

pub static AREA: Area = Area {
    name: "hmi",
    tokens: &[OPAL_HANDLE_HMI, OPAL_HANDLE_HMI2],
    before_each: None,
    cases: &[
        Case {
            name: "hmi.nothing_pending",
            run: nothing_pending,
        },
        Case {
            name: "hmi.handle_hmi2.bad_pointers",
            run: bad_out_pointers,
        },
    ],
};

/// Both calls succeed; HANDLE_HMI2 writes flags 0 (no event, no timebase work); no
/// message appears for OPAL_GET_MSG.
fn nothing_pending(cx: &mut Ctx) -> CaseResult {
    let r = call(cx, OPAL_HANDLE_HMI, &[])?;
    expect(format_args!("HANDLE_HMI()"), r, Ret::SUCCESS)?;
    for _ in 0..3 {
        let mut flags = Out::<8>::new();
        let r = call(cx, OPAL_HANDLE_HMI2, &[flags.addr()])?;
        expect(format_args!("HANDLE_HMI2(&flags)"), r, Ret::SUCCESS)?;
        let f = flags.get("*out_flags")?;
        if f != 0 {
            fail!("HANDLE_HMI2 with no HMI pending wrote flags {f:#x}, want 0");
        }
    }
    let mut buf = Buf::new(opal_api::msg::OPAL_MSG_SIZE);
    let r = call(
        cx,
        OPAL_GET_MSG,
        &[buf.addr(), opal_api::msg::OPAL_MSG_SIZE as u64],
    )?;
    if !r.is(OpalError::Resource) {
        let b = buf.bytes();
        let kind = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if kind == 4 {
            fail!("an HMI event was queued with no HMI pending");
        }
    }
    Ok(())
}

/// A bad out-pointer: PARAMETER, and nothing is handled (the next good call still
/// succeeds with flags 0).
fn bad_out_pointers(cx: &mut Ctx) -> CaseResult {
    for (what, bad) in bad_pointers(cx) {
        let r = call(cx, OPAL_HANDLE_HMI2, &[bad])?;
        expect(format_args!("HANDLE_HMI2({what})"), r, Ret::PARAMETER)?;
    }
    let mut flags = Out::<8>::new();
    let r = call(cx, OPAL_HANDLE_HMI2, &[flags.addr()])?;
    expect(
        format_args!("HANDLE_HMI2(&flags) after them"),
        r,
        Ret::SUCCESS,
    )?;
    flags.get("*out_flags")?;
    Ok(())
}
