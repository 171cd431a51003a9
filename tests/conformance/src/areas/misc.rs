// SPDX-License-Identifier: Apache-2.0
//! Calls with no area of their own: `OPAL_NMMU_SET_PTCR` (127) (skiboot `hw/npu2.c`,
//! `doc/opal-api/opal-nmmu-set-ptcr-127.rst`). `OPAL_CHECK_TOKEN` (80) is the `opal` area.

use opal_api::token::*;
use opal_api::OpalError;

use super::common::call;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{Area, Case, CaseResult, Ctx};

pub static AREA: Area = Area {
    name: "misc",
    tokens: &[OPAL_NMMU_SET_PTCR],
    before_each: None,
    cases: &[Case {
        name: "misc.nmmu_set_ptcr",
        run: nmmu_set_ptcr,
    }],
};

/// Every chip (−1), PTCR 0 (no partition table): SUCCESS, or UNSUPPORTED on a machine
/// without a nest MMU (QEMU). A chip that does not exist: PARAMETER, or UNSUPPORTED.
fn nmmu_set_ptcr(cx: &mut Ctx) -> CaseResult {
    let all = call(cx, OPAL_NMMU_SET_PTCR, &[u64::MAX, 0])?;
    if all != Ret::SUCCESS && !all.is(OpalError::Unsupported) {
        fail!("NMMU_SET_PTCR(-1, 0): returned {all}, the spec says 0 or -7");
    }
    let absent = call(cx, OPAL_NMMU_SET_PTCR, &[0xdead, 0])?;
    if absent != Ret::err(OpalError::Parameter) && !absent.is(OpalError::Unsupported) {
        fail!("NMMU_SET_PTCR(0xdead, 0): returned {absent}, the spec says -1 or -7");
    }
    cx.info(format_args!("all chips: {all}"));
    Ok(())
}
