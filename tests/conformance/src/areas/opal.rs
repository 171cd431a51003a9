// SPDX-License-Identifier: Apache-2.0
//! The base of the OPAL interface every other area relies on: `OPAL_CHECK_TOKEN`
//! (opal-boot-contract.md §3.2). The console (`OPAL_CONSOLE_WRITE`) is exercised by every
//! line this payload prints.

use opal_api::token::OPAL_CHECK_TOKEN;
use opal_api::{OPAL_TOKEN_ABSENT, OPAL_TOKEN_PRESENT};

use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx};

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
