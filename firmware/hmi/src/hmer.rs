// SPDX-License-Identifier: Apache-2.0
//! HMER (SPR 0x150, per thread) and HMEER (SPR 0x151, per core) for POWER9 and POWER10
//! (hmi-mce-sreset.md §4.2), and what the handler does with each cause (§4.5, §4.6).
//!
//! Writing HMER is an AND: bits written as 0 are cleared, so clearing `b` is a write of
//! `!b`.

use hal::bits::{ppc_bit, ppc_bitmask};

use crate::event::{Disposition, HmiType, Severity};
use crate::Gen;

/// Some core of the system checkstopped; broadcast to every thread.
pub const MALFUNCTION_ALERT: u64 = ppc_bit(0);
/// A recovery happened and the FIR bit is unmasked (P10 "proc_rcvy_done").
pub const PROC_RECV_DONE: u64 = ppc_bit(2);
/// POWER9: a recovery happened on a masked FIR bit.
pub const PROC_RECV_ERROR_MASKED: u64 = ppc_bit(3);
/// Timer facility error: TB, DEC, HDEC, PURR or SPURR may be corrupt; TFMR says which.
pub const TFAC_ERROR: u64 = ppc_bit(4);
/// POWER9: TFMR parity error.
pub const TFMR_PARITY_ERROR: u64 = ppc_bit(5);
/// POWER10: error in the shadow→core TFAC transfer. Same bit as [`TFMR_PARITY_ERROR`].
pub const TFX_ERROR: u64 = ppc_bit(5);
/// POWER9: hang-avoidance overflow warning (never enabled).
pub const HA_OVERFLOW_WARN: u64 = ppc_bit(6);
/// POWER10: SPURR above 399 % of nominal. Same bit as [`HA_OVERFLOW_WARN`].
pub const SPURR_SCALE_LIMIT: u64 = ppc_bit(6);
/// XSCOM failed (polled by the XSCOM driver, never enabled).
pub const XSCOM_FAIL: u64 = ppc_bit(8);
/// XSCOM done (polled by the XSCOM driver, never enabled).
pub const XSCOM_DONE: u64 = ppc_bit(9);
/// Another recovery happened before bit 2/3 was cleared.
pub const PROC_RECV_AGAIN: u64 = ppc_bit(11);
/// POWER9 thermal warnings (never enabled).
pub const P9_WARN_RISE: u64 = ppc_bit(14);
pub const P9_WARN_FALL: u64 = ppc_bit(15);
/// A SCOM set a reserved FIR bit (P10: FIR error inject); never enabled.
pub const SCOM_FIR_HMI: u64 = ppc_bit(16);
/// POWER9 debug trigger / thread wakeup blocked in TM suspend. Linux enables and handles
/// it itself before calling OPAL.
pub const P9_TRIG_FIR_HMI: u64 = ppc_bit(17);
/// POWER10 debug trigger.
pub const P10_TRIG_FIR_HMI: u64 = ppc_bit(18);
/// POWER9: parity error on SPRC, a mode register or HMEER.
pub const HYP_RESOURCE_ERR: u64 = ppc_bit(20);
/// XSCOM status, valid with [`XSCOM_FAIL`] (never enabled).
pub const XSCOM_STATUS: u64 = ppc_bitmask(21, 23);

/// HMEER as skiboot's `head.S` writes it: P9 bits {0,2,3,4,5,11,20}, P10 bits
/// {0,2,4,5,6,11}. Linux sets P9 bit 17 on top.
pub const fn enable_mask(gen: Gen) -> u64 {
    match gen {
        Gen::P9 => {
            MALFUNCTION_ALERT
                | PROC_RECV_DONE
                | PROC_RECV_ERROR_MASKED
                | TFAC_ERROR
                | TFMR_PARITY_ERROR
                | PROC_RECV_AGAIN
                | HYP_RESOURCE_ERR
        }
        Gen::P10 => {
            MALFUNCTION_ALERT
                | PROC_RECV_DONE
                | TFAC_ERROR
                | TFX_ERROR
                | SPURR_SCALE_LIMIT
                | PROC_RECV_AGAIN
        }
    }
}

/// Why a set bit is left alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// Never enabled in HMEER; left set for whoever owns it (the XSCOM driver for 8, 9
    /// and 21:23).
    NeverEnabled,
    /// Reserved or not implemented on this generation.
    Reserved,
}

/// What the handler does for a cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Queue one event. With `per_core`, only thread 0 of the core queues it (every
    /// thread of the recovering core sees the bit; the OS gets one event per core).
    Event {
        severity: Severity,
        kind: HmiType,
        disposition: Disposition,
        per_core: bool,
    },
    /// Timer facility recovery (TFMR decode, maybe the core rendezvous).
    Tfac,
    /// Read the malfunction-alert register and decode the core FIRs.
    MalfunctionDecode,
    /// Not acted on, not cleared.
    Ignored(Ignored),
}

impl Action {
    /// The handler acts on the bit and clears it.
    pub const fn is_handled(self) -> bool {
        !matches!(self, Action::Ignored(_))
    }
}

/// One set HMER bit and its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cause {
    /// MSB-0 bit number.
    pub bit: u32,
    pub name: &'static str,
    pub action: Action,
}

const fn harmless(kind: HmiType) -> Action {
    Action::Event {
        severity: Severity::NoError,
        kind,
        disposition: Disposition::Recovered,
        per_core: true,
    }
}

const NEVER: Action = Action::Ignored(Ignored::NeverEnabled);

type Entry = (u32, &'static str, Action);

const P9_TABLE: [Entry; 17] = [
    (0, "malfunction_alert", Action::MalfunctionDecode),
    (2, "proc_recv_done", harmless(HmiType::ProcRecovDone)),
    (
        3,
        "proc_recv_error_masked",
        harmless(HmiType::ProcRecovMasked),
    ),
    (4, "tfac_error", Action::Tfac),
    (5, "tfmr_parity_error", Action::Tfac),
    (6, "ha_overflow_warning", NEVER),
    (8, "xscom_fail", NEVER),
    (9, "xscom_done", NEVER),
    (11, "proc_recv_again", harmless(HmiType::ProcRecovDoneAgain)),
    (14, "warn_rise", NEVER),
    (15, "warn_fall", NEVER),
    (16, "scom_fir_hmi", NEVER),
    (17, "trig_fir_hmi", harmless(HmiType::DebugTrigFir)),
    (
        20,
        "hyp_resource_err",
        Action::Event {
            severity: Severity::Fatal,
            kind: HmiType::HypResource,
            disposition: Disposition::NotRecovered,
            per_core: false,
        },
    ),
    (21, "xscom_status", NEVER),
    (22, "xscom_status", NEVER),
    (23, "xscom_status", NEVER),
];

const P10_TABLE: [Entry; 13] = [
    (0, "malfunction_alert", Action::MalfunctionDecode),
    (2, "proc_rcvy_done", harmless(HmiType::ProcRecovDone)),
    (4, "tfac_error", Action::Tfac),
    (5, "tfx_error", Action::Tfac),
    // skiboot reports the SPURR scale limit as a "recovery done" event.
    (6, "spurr_scale_limit", harmless(HmiType::ProcRecovDone)),
    (8, "xscom_fail", NEVER),
    (9, "xscom_done", NEVER),
    (11, "proc_rcvy_again", harmless(HmiType::ProcRecovDoneAgain)),
    (16, "scom_fir_hmi", NEVER),
    (18, "trig_fir_hmi", harmless(HmiType::DebugTrigFir)),
    (21, "xscom_status", NEVER),
    (22, "xscom_status", NEVER),
    (23, "xscom_status", NEVER),
];

fn table(gen: Gen) -> &'static [Entry] {
    match gen {
        Gen::P9 => &P9_TABLE,
        Gen::P10 => &P10_TABLE,
    }
}

/// The meaning of one bit on a generation (reserved bits give [`Ignored::Reserved`]).
pub fn cause(gen: Gen, bit: u32) -> Cause {
    table(gen)
        .iter()
        .find(|e| e.0 == bit)
        .map(|&(bit, name, action)| Cause { bit, name, action })
        .unwrap_or(Cause {
            bit,
            name: "reserved",
            action: Action::Ignored(Ignored::Reserved),
        })
}

/// The causes of the set bits of `hmer`, lowest bit number (MSB) first.
pub fn causes(gen: Gen, hmer: u64) -> impl Iterator<Item = Cause> {
    (0..64u32)
        .filter(move |&b| hmer & ppc_bit(b) != 0)
        .map(move |b| cause(gen, b))
}

/// Every bit the handler acts on (and clears) on `gen`: the HMEER bits plus the debug
/// trigger.
pub fn handled_mask(gen: Gen) -> u64 {
    table(gen)
        .iter()
        .filter(|e| e.2.is_handled())
        .fold(0, |m, e| m | ppc_bit(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmeer_values() {
        assert_eq!(enable_mask(Gen::P9), 0xBC10_0800_0000_0000);
        assert_eq!(enable_mask(Gen::P10), 0xAE10_0000_0000_0000);
    }

    #[test]
    fn bit_values() {
        assert_eq!(MALFUNCTION_ALERT, 0x8000_0000_0000_0000);
        assert_eq!(TFAC_ERROR, 0x0800_0000_0000_0000);
        assert_eq!(PROC_RECV_AGAIN, 0x0010_0000_0000_0000);
        assert_eq!(P9_TRIG_FIR_HMI, 0x0000_4000_0000_0000);
        assert_eq!(HYP_RESOURCE_ERR, 0x0000_0800_0000_0000);
        assert_eq!(XSCOM_STATUS, 0x0000_0700_0000_0000);
    }

    #[test]
    fn handled_is_enabled_plus_debug_trigger() {
        assert_eq!(
            handled_mask(Gen::P9),
            enable_mask(Gen::P9) | P9_TRIG_FIR_HMI
        );
        assert_eq!(
            handled_mask(Gen::P10),
            enable_mask(Gen::P10) | P10_TRIG_FIR_HMI
        );
        for gen in [Gen::P9, Gen::P10] {
            // The XSCOM driver's bits are never taken.
            assert_eq!(
                handled_mask(gen) & (XSCOM_FAIL | XSCOM_DONE | XSCOM_STATUS),
                0
            );
        }
    }

    #[test]
    fn causes_in_bit_order() {
        let c: Vec<_> = causes(Gen::P10, TFAC_ERROR | MALFUNCTION_ALERT | ppc_bit(1)).collect();
        assert_eq!(c.len(), 3);
        assert_eq!((c[0].bit, c[0].action), (0, Action::MalfunctionDecode));
        assert_eq!(c[1].action, Action::Ignored(Ignored::Reserved));
        assert_eq!((c[2].bit, c[2].action), (4, Action::Tfac));
        assert_eq!(
            cause(Gen::P10, 3).action,
            Action::Ignored(Ignored::Reserved)
        );
        assert_eq!(
            cause(Gen::P10, 20).action,
            Action::Ignored(Ignored::Reserved)
        );
        assert_eq!(
            cause(Gen::P9, 6).action,
            Action::Ignored(Ignored::NeverEnabled)
        );
    }
}
