// SPDX-License-Identifier: Apache-2.0
//! The base of the OPAL interface every other area relies on: `OPAL_CHECK_TOKEN`
//! (opal-boot-contract.md §3.2). The console (`OPAL_CONSOLE_WRITE`) is exercised by every
//! line this payload prints.

use core::fmt::Write;

use opal_api::token::{OPAL_CHECK_TOKEN, OPAL_LAST, OPAL_SIGNAL_SYSTEM_RESET};
use opal_api::{OPAL_TOKEN_ABSENT, OPAL_TOKEN_PRESENT};

use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx, Msg, Verdict};

pub static AREA: Area = Area {
    name: "opal",
    tokens: &[OPAL_CHECK_TOKEN],
    before_each: None,
    cases: &[
        Case {
            name: "opal.check_token.self",
            run: check_token_self,
        },
        Case {
            name: "opal.check_token.beyond_last",
            run: check_token_beyond_last,
        },
        Case {
            name: "opal.check_token.sreset_p9",
            run: check_token_sreset_p9,
        },
        Case {
            name: "opal.coverage",
            run: coverage,
        },
    ],
};

/// `OPAL_CHECK_TOKEN(OPAL_CHECK_TOKEN)` is 1 (present).
fn check_token_self(cx: &mut Ctx) -> CaseResult {
    let r = cx.opal.check_token(OPAL_CHECK_TOKEN);
    expect(
        format_args!("OPAL_CHECK_TOKEN({OPAL_CHECK_TOKEN})"),
        r,
        Ret(OPAL_TOKEN_PRESENT),
    )
}

/// A token far past `OPAL_LAST` is 0 (absent), not an error.
fn check_token_beyond_last(cx: &mut Ctx) -> CaseResult {
    for token in [0x1000, u64::MAX] {
        let r = cx.opal.check_token(token);
        expect(
            format_args!("OPAL_CHECK_TOKEN({token:#x})"),
            r,
            Ret(OPAL_TOKEN_ABSENT),
        )?;
    }
    Ok(())
}

/// QEMU's powernv9 models no core direct controls (hmi-mce-sreset.md §1.6), so a system
/// reset cannot be sent: `OPAL_SIGNAL_SYSTEM_RESET` (145) must be absent, and Linux then
/// sends its NMI IPIs as doorbells. On powernv10 (direct controls modelled) the token
/// belongs to the `sreset` area, which is skipped, or failed under
/// `conformance.require=sreset`, where it is absent.
fn check_token_sreset_p9(cx: &mut Ctx) -> CaseResult {
    let qemu = cx.sys.model.contains("qemu");
    if cx.sys.generation != Some(conformance::spec::Generation::P9) || !qemu {
        return Err(Verdict::Skip(crate::msg!(
            "a rule for QEMU powernv9 only ({})",
            cx.sys.model
        )));
    }
    let r = cx.opal.check_token(OPAL_SIGNAL_SYSTEM_RESET);
    expect(
        format_args!("OPAL_CHECK_TOKEN({OPAL_SIGNAL_SYSTEM_RESET}) on QEMU powernv9"),
        r,
        Ret(OPAL_TOKEN_ABSENT),
    )
}

/// Every token `OPAL_CHECK_TOKEN` reports present (0..=OPAL_LAST + 8, 0x1000, 2^64 − 1)
/// belongs to an area of this payload that has cases: the suite covers the whole
/// interface the firmware offers. On Opalite (`/ibm,opal/firmware` version `opalite-...`)
/// an uncovered token fails the case; on any other firmware (skiboot offers PCI, NVRAM,
/// flash, sensors... that this suite does not test) the uncovered tokens are an INFO
/// line: a differential run compares the answers to the calls the suite has, and a
/// larger interface is not a departure from the specification.
fn coverage(cx: &mut Ctx) -> CaseResult {
    let mut uncovered = Msg::new();
    let (mut present, mut missing) = (0, 0);
    for token in (0..=OPAL_LAST + 8).chain([0x1000, u64::MAX]) {
        if cx.opal.check_token(token) != Ret(OPAL_TOKEN_PRESENT) {
            continue;
        }
        present += 1;
        let covered = super::AREAS
            .iter()
            .any(|a| !a.cases.is_empty() && a.tokens.contains(&token));
        if !covered {
            missing += 1;
            let name = opal_api::token::name(token).unwrap_or("?");
            let _ = write!(uncovered, " {token} ({name})");
        }
    }
    for (token, why) in super::power::NOT_CALLED {
        if cx.opal.is_present(*token) {
            cx.info(format_args!(
                "token {token} is covered but never called: {why}"
            ));
        }
    }
    cx.info(format_args!(
        "{present} tokens present, {missing} without cases"
    ));
    if missing > 0 {
        if cx.sys.is_opalite() {
            fail!("present tokens without cases:{}", uncovered.as_str());
        }
        cx.info(format_args!(
            "not Opalite ({:?}), so not a failure; without cases:{}",
            cx.sys.firmware_version,
            uncovered.as_str()
        ));
    }
    Ok(())
}
