// SPDX-License-Identifier: Apache-2.0
//! Power: `OPAL_CEC_POWER_DOWN` (5), `OPAL_CEC_REBOOT` (6), `OPAL_SYNC_HOST_REBOOT` (87),
//! `OPAL_CEC_REBOOT2` (116) (skiboot `doc/opal-api/opal-cec-power-down-5.rst`, `opal-cec-reboot-6-116.rst`).
//!
//! A valid POWER_DOWN or a REBOOT ends the run, so they are not cases: the payload ends
//! every run with `CEC_POWER_DOWN(0)` (a run that does not power off fails its
//! scenario), and `CEC_REBOOT` is listed in [`NOT_CALLED`]. The cases here are the ones
//! that must leave the machine running.

use opal_api::token::*;
use opal_api::OpalError;

use super::common::{call, retry_busy};
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx};

pub static AREA: Area = Area {
    name: "power",
    tokens: &[
        OPAL_CEC_POWER_DOWN,
        OPAL_CEC_REBOOT,
        OPAL_SYNC_HOST_REBOOT,
        OPAL_CEC_REBOOT2,
    ],
    before_each: None,
    cases: &[
        Case {
            name: "power.sync_host_reboot",
            run: sync_host_reboot,
        },
        Case {
            name: "power.down.bad_request",
            run: power_down_bad_request,
        },
        Case {
            name: "power.reboot2.unsupported_types",
            run: reboot2_unsupported,
        },
    ],
};

/// Tokens no case calls because any answer but an error ends the run, with the reason;
/// the coverage check prints them.
pub const NOT_CALLED: &[(u64, &str)] = &[(
    OPAL_CEC_REBOOT,
    "reboots the machine; no argument to get wrong",
)];

/// SYNC_HOST_REBOOT: SUCCESS once nothing is in flight (BUSY_EVENT while it is).
fn sync_host_reboot(cx: &mut Ctx) -> CaseResult {
    let r = retry_busy(cx, || call(cx, OPAL_SYNC_HOST_REBOOT, &[]))?;
    expect(format_args!("SYNC_HOST_REBOOT"), r, Ret::SUCCESS)
}

/// POWER_DOWN with a request other than 0 (normal) or 1 (immediate) is PARAMETER and the
/// machine stays up (this line is printed after it).
fn power_down_bad_request(cx: &mut Ctx) -> CaseResult {
    for request in [2u64, 0x100, u64::MAX] {
        let r = call(cx, OPAL_CEC_POWER_DOWN, &[request])?;
        expect(
            format_args!("CEC_POWER_DOWN({request:#x})"),
            r,
            Ret::err(OpalError::Parameter),
        )?;
    }
    Ok(())
}

/// REBOOT2 with a type no firmware defines is UNSUPPORTED and the machine stays up. On
/// Opalite, MPIPL (3) too: there is no memory-preserving IPL (skiboot may start one).
fn reboot2_unsupported(cx: &mut Ctx) -> CaseResult {
    let types: &[u64] = if cx.sys.is_opalite() { &[99, 3] } else { &[99] };
    for &t in types {
        let r = call(cx, OPAL_CEC_REBOOT2, &[t, 0])?;
        expect(
            format_args!("CEC_REBOOT2({t:#x}, NULL)"),
            r,
            Ret::err(OpalError::Unsupported),
        )?;
    }
    Ok(())
}
