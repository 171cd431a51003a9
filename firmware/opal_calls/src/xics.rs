// SPDX-License-Identifier: Apache-2.0
//! The XICS presentation layer Linux drives through OPAL when no XIVE node is offered
//! (`icp-opal`): `OPAL_INT_GET_XIRR` (122), `OPAL_INT_SET_CPPR` (123), `OPAL_INT_EOI` (124).
//! skiboot `hw/xive.c` (XICS emulation), Linux `sysdev/xics/icp-opal.c`.
//!
//! In XICS emulation mode (P9's boot default, and after `OPAL_XIVE_RESET(0)`) Opalite
//! routes no source to any thread (timers are the decrementer, IPIs are doorbells), so a
//! presenter's state is just its CPPR and nothing is ever pending. The answers below are
//! exact for that machine and match skiboot's emulation: GET_XIRR writes 0 ("nothing
//! pending", skiboot writes 0 before it looks), and EOI reports no more work. In
//! exploitation mode GET_XIRR and SET_CPPR are WRONG_STATE and EOI is a source EOI on
//! the OS's behalf (skiboot `opal_xive_eoi`).

use crate::args::{os_range, write_be32, OsPtr};
use crate::Ctx;
use core::sync::atomic::{AtomicU8, Ordering};
use opal_api::{Be32, OpalError, OpalResult, Value};

/// PIRs covered by the per-thread state (chips 0..31 on P9/P10).
pub const PIR_SLOTS: usize = 8192;

pub struct Presenter {
    /// Current processor priority of each thread, by PIR; 0 (most favoured) at reset.
    cppr: [AtomicU8; PIR_SLOTS],
}

impl Presenter {
    pub const fn new() -> Self {
        Self {
            cppr: [const { AtomicU8::new(0) }; PIR_SLOTS],
        }
    }

    fn slot(&self, pir: u32) -> OpalResult<&AtomicU8> {
        self.cppr.get(pir as usize).ok_or(OpalError::InternalError)
    }
}

impl Default for Presenter {
    fn default() -> Self {
        Self::new()
    }
}

/// The XICS calls belong to emulation mode; once the OS has switched XIVE to exploitation
/// mode (and always on POWER10) they are WRONG_STATE, as in skiboot.
fn require_emulation(cx: &Ctx<'_>) -> OpalResult<()> {
    if crate::xive::exploitation_mode(cx) {
        Err(OpalError::WrongState)
    } else {
        Ok(())
    }
}

/// `int64_t opal_int_set_cppr(uint8_t cppr)`: sets this thread's priority.
pub fn set_cppr(cx: &Ctx<'_>, cppr: u64) -> OpalResult<()> {
    require_emulation(cx)?;
    let slot = cx.xics.slot(cx.cpus.current())?;
    slot.store(cppr as u8, Ordering::Relaxed);
    Ok(())
}

/// `int64_t opal_int_get_xirr(__be32 *out_xirr, bool just_poll)`: CPPR in the top byte,
/// the pending source below (0: none). PARAMETER for a bad pointer.
pub fn get_xirr(cx: &Ctx<'_>, xirr: OsPtr<Be32>, _just_poll: u64) -> OpalResult<()> {
    require_emulation(cx)?;
    let at = os_range(cx, xirr, 4)?;
    write_be32(cx, at, 0);
    Ok(())
}

/// `int64_t opal_int_eoi(uint32_t xirr)`: restores the CPPR from the top byte; returns
/// 0, or a positive value if more interrupts are pending (never, with no sources). In
/// exploitation mode: EOI of source `xirr & 0xffffff`, PARAMETER if there is none.
pub fn eoi(cx: &Ctx<'_>, xirr: u32) -> OpalResult<Value> {
    if crate::xive::exploitation_mode(cx) {
        let more = crate::xive::source_eoi(cx, xirr & 0x00ff_ffff)?;
        return Value::new(u64::from(more)).ok_or(OpalError::InternalError);
    }
    cx.xics
        .slot(cx.cpus.current())?
        .store((xirr >> 24) as u8, Ordering::Relaxed);
    Value::new(0).ok_or(OpalError::InternalError)
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::*;

    #[test]
    fn cppr_round_trips_through_xirr_and_eoi() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_INT_SET_CPPR, &[0xff]), 0);
        assert_eq!(m.call(OPAL_INT_GET_XIRR, &[0x1000, 0]), 0);
        assert_eq!(m.mem.peek(0x1000, 4), [0, 0, 0, 0], "nothing pending");
        assert_eq!(m.call(OPAL_INT_EOI, &[0x0500_0000]), 0);
        assert_eq!(m.call(OPAL_INT_GET_XIRR, &[0x1000, 1]), 0);
        assert_eq!(m.mem.peek(0x1000, 4), [0, 0, 0, 0]);
        assert_eq!(m.call(OPAL_INT_GET_XIRR, &[0x8_0000, 0]), -1);
    }
}
