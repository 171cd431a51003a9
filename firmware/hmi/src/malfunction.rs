// SPDX-License-Identifier: Apache-2.0
//! Malfunction alert (HMER bit 0): which chips report a checkstop, and which of their
//! cores (hmi-mce-sreset.md §4.6, core part only).

use hal::bits::ppc_bit;

use crate::event::{core_reason, Disposition, HmiEvent, HmiType, Severity, Xstop, XstopType};
use crate::handler::{Emitter, ThreadCtx};
use crate::hw::ScomError;
use crate::Gen;

/// The malfunction-alert register (POWER9 and POWER10), read on the handling thread's
/// chip: bit i (MSB-0) set = chip i reports a malfunction; bit i is cleared by writing
/// `!bit`.
pub const MALFUNCTION_ALERT_SCOM: u64 = 0x0009_0022;

/// A chip whose cores the decode looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChipCores {
    pub chip_id: u32,
    /// Present, non-garded cores: bit c (LSB-0, `1 << c`) = core c.
    pub cores: u64,
}

/// PCB address of a core's FIR: POWER9 `((core & 0x1f) + 0x20) << 24 | 0x10A40`;
/// POWER10 EC base (EQ chiplet `0x20 + core/4`, region 2, per-core bit `8 >> core%4`)
/// + 0x440.
pub const fn core_fir_addr(gen: Gen, core: u32) -> u64 {
    match gen {
        Gen::P9 => ((((core & 0x1f) + 0x20) as u64) << 24) | 0x10A40,
        Gen::P10 => {
            let chiplet = (0x20 + (core >> 2)) as u64;
            let pos = (core & 3) as u64;
            (chiplet << 24) | (0x2 << 16) | ((1 << (3 - pos)) << 12) | 0x440
        }
    }
}

/// PIR of thread 0 of a core (POWER9/POWER10, not fused-core): chip id in bits 8..15,
/// core in bits 2..7.
pub const fn core_pir(chip_id: u32, core: u32) -> u32 {
    ((chip_id & 0x7f) << 8) | ((core & 0x3f) << 2)
}

fn fatal(hmer: u64, xstop: Xstop) -> HmiEvent {
    HmiEvent {
        severity: Severity::Fatal,
        kind: HmiType::MalfuncAlert,
        disposition: Disposition::NotRecovered,
        hmer,
        tfmr: 0,
        xstop: Some(xstop),
    }
}

/// Reads and clears this chip's malfunction-alert bits, then reports every core of the
/// alerted chips whose FIR shows something. Another thread that got the same broadcast
/// finds the bits already cleared and reports nothing.
pub(crate) fn decode(t: &mut ThreadCtx<'_>, hmer: u64, em: &mut Emitter<'_>) {
    let ticks = t.timeout_ticks();
    let _guard = t.shared.lock(t.clock, ticks, t.pir);

    let mut found = false;
    match t.scom.read(t.chip_id, MALFUNCTION_ALERT_SCOM) {
        Ok(0) => return,
        Ok(alert) => {
            for bit in 0..64u32 {
                if alert & ppc_bit(bit) == 0 {
                    continue;
                }
                // A failed clear is reported again by the next alert, nothing better to do.
                let _ = t
                    .scom
                    .write(t.chip_id, MALFUNCTION_ALERT_SCOM, !ppc_bit(bit));
                let Some(chip) = t.chips.iter().find(|c| c.chip_id == bit) else {
                    continue;
                };
                let chip = *chip;
                for core in (0..64u32).filter(|c| chip.cores & (1 << c) != 0) {
                    let reason = match t.scom.read(chip.chip_id, core_fir_addr(t.gen, core)) {
                        Ok(0) => continue,
                        Ok(fir) => core_reason::of_fir(fir),
                        // Asleep: its FIR cannot be read and it did not checkstop running.
                        Err(ScomError::ChipletOff) => continue,
                        // Unreadable FIR on an alerted chip: count it as checkstopped, with
                        // no reason bits.
                        Err(_) => 0,
                    };
                    found = true;
                    em.emit(fatal(
                        hmer,
                        Xstop {
                            kind: XstopType::Core,
                            reason,
                            id: core_pir(chip.chip_id, core),
                        },
                    ));
                }
            }
        }
        // The register cannot be read: report the alert as unknown.
        Err(_) => {}
    }
    if !found {
        em.emit(fatal(
            hmer,
            Xstop {
                kind: XstopType::Unknown,
                reason: 0,
                id: 0,
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fir_addresses() {
        assert_eq!(core_fir_addr(Gen::P9, 0), 0x2001_0A40);
        assert_eq!(core_fir_addr(Gen::P9, 5), 0x2501_0A40);
        // §1.4: core 0 EC 0x20028000, core 1 0x20024000, core 4 0x21028000.
        assert_eq!(core_fir_addr(Gen::P10, 0), 0x2002_8440);
        assert_eq!(core_fir_addr(Gen::P10, 1), 0x2002_4440);
        assert_eq!(core_fir_addr(Gen::P10, 3), 0x2002_1440);
        assert_eq!(core_fir_addr(Gen::P10, 4), 0x2102_8440);
    }

    #[test]
    fn pirs() {
        assert_eq!(core_pir(0, 0), 0);
        assert_eq!(core_pir(1, 9), 0x124);
    }
}
