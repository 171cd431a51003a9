// SPDX-License-Identifier: Apache-2.0
//! Where the firmware puts each XIVE instance's MMIO regions. Nothing in the hardware
//! dictates these addresses; they are skiboot's (`hw/phys-map.c`), which QEMU's `PNV9_*`
//! / `PNV10_*` constants repeat, so that tools and people comparing the two see the same
//! numbers.

use crate::hw::Gen;

/// The BARs of one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bars {
    /// Interrupt-controller registers (P9: 8 × 64 KiB pages; P10: 512 × 64 KiB).
    pub ic: u64,
    pub ic_size: u64,
    /// Thread Interrupt Management Area: 4 × 64 KiB pages, chip 0's address on every chip.
    pub tm: u64,
    /// IPI ESB pages: two 64 KiB pages per source (P9: the start of the VC BAR).
    pub ipi_esb: u64,
    /// END ESB pages: two 64 KiB pages (ESn, ESe) per END.
    pub end_esb: u64,
    /// P9: the VC BAR (IPI sets followed by END sets); P10: the ESB BAR.
    pub vc: u64,
    pub vc_size: u64,
    /// P9: the PC BAR (NVT sets); P10: the NVPG BAR.
    pub pc: u64,
    pub pc_size: u64,
    /// P10 only: the END BAR (equal to `end_esb`).
    pub end: u64,
    pub end_size: u64,
    /// The PSI host bridge's ESB pages (P9: 64 KiB window of 4 KiB pages; P10: 1 MiB
    /// window of 64 KiB pages).
    pub psi_esb: u64,
    /// The PSI host bridge's own registers (skiboot `PSIHB_REG`, 1 MiB).
    pub psihb: u64,
    /// The PHBs' ESB pages: [`PHB_ESB_SIZE`] for the chip's six PHBs, 512 MiB apart
    /// (skiboot `PHB4_XIVE_ESB` / `PHB5_XIVE_ESB`); their sources are masked through them
    /// at XIVE_RESET like any other.
    pub phb_esb: u64,
}

/// Six PHBs' ESB windows of 512 MiB each.
pub const PHB_ESB_SIZE: u64 = 6 * (512 << 20);

/// ESB pages per IPI or END: a trigger (or ESn) page and an EOI (or ESe) page.
pub const ESB_PAGE_SHIFT: u32 = 16;
pub const ESB_PAIR_SHIFT: u32 = 17;

const TM_BASE: u64 = 0x0006_0302_0318_0000;
/// PSIHB registers, chip 0, on both generations (QEMU PNV9_PSIHB_BASE / PNV10_PSIHB_BASE).
const PSIHB_BASE: u64 = 0x0006_0302_0300_0000;
/// The PHBs' ESB windows, chip 0, on both generations.
const PHB_ESB_BASE: u64 = 0x0006_00c3_0000_0000;

/// P9 VC BAR: 64 sets of 8 GiB, the first 48 for IPIs, the last 16 for ENDs.
const P9_VC_SIZE: u64 = 512 << 30;
const P9_IPI_SETS: u64 = 48;

pub fn bars(gen: Gen, chip_id: u32) -> Bars {
    let chip = u64::from(chip_id);
    match gen {
        Gen::P9 => {
            let stride = chip << 42;
            let vc = 0x0006_0100_0000_0000 | stride;
            Bars {
                ic: 0x0006_0302_0310_0000 | stride,
                ic_size: 512 << 10,
                tm: TM_BASE,
                ipi_esb: vc,
                end_esb: vc + P9_IPI_SETS * (P9_VC_SIZE / 64),
                vc,
                vc_size: P9_VC_SIZE,
                pc: 0x0006_0180_0000_0000 | stride,
                pc_size: 64 << 30,
                end: 0,
                end_size: 0,
                psi_esb: 0x0006_0302_031c_0000 | stride,
                psihb: PSIHB_BASE | stride,
                phb_esb: PHB_ESB_BASE | stride,
            }
        }
        Gen::P10 => {
            let stride = chip << 44;
            let esb = 0x0006_0500_0000_0000 | stride;
            let end = 0x0006_0600_0000_0000 | stride;
            Bars {
                ic: 0x0006_0302_0000_0000 | stride,
                ic_size: 32 << 20,
                tm: TM_BASE,
                ipi_esb: esb,
                end_esb: end,
                vc: esb,
                vc_size: 1 << 40,
                pc: 0x0006_0400_0000_0000 | stride,
                pc_size: 1 << 40,
                end,
                end_size: 2 << 40,
                // Not the P9 address: on P10 the ESB window moved below the PSIHB
                // registers and grew to 1 MiB (skiboot P10 map, QEMU PNV10_PSIHB_ESB_BASE).
                psi_esb: 0x0006_0302_0200_0000 | stride,
                psihb: PSIHB_BASE | stride,
                phb_esb: PHB_ESB_BASE | stride,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chip0_matches_skiboot() {
        let b = bars(Gen::P9, 0);
        assert_eq!(b.ic, 0x0006_0302_0310_0000);
        assert_eq!(b.end_esb, 0x0006_0160_0000_0000);
        assert_eq!(bars(Gen::P9, 1).ic, 0x0006_0702_0310_0000);
        assert_eq!(bars(Gen::P9, 1).tm, TM_BASE);
        assert_eq!(bars(Gen::P10, 0).ic, 0x0006_0302_0000_0000);
    }

    #[test]
    fn psi_windows_match_skiboot_and_qemu() {
        let p9 = bars(Gen::P9, 0);
        assert_eq!(p9.psi_esb, 0x0006_0302_031c_0000);
        assert_eq!(p9.psihb, 0x0006_0302_0300_0000);
        assert_eq!(bars(Gen::P9, 1).psihb, 0x0006_0702_0300_0000);
        // PHB 5's window ends where chip 0's PHB register BARs begin.
        assert_eq!(p9.phb_esb + PHB_ESB_SIZE, 0x0006_00c3_c000_0000);
        assert_eq!(bars(Gen::P10, 1).phb_esb, 0x0006_10c3_0000_0000);
        let p10 = bars(Gen::P10, 0);
        assert_eq!(p10.psi_esb, 0x0006_0302_0200_0000);
        assert_eq!(p10.psihb, 0x0006_0302_0300_0000);
        assert_eq!(bars(Gen::P10, 1).psi_esb, 0x0006_1302_0200_0000);
        // The P10 PSI ESB window sits right after the 32 MiB IC BAR, not inside it.
        assert_eq!(p10.ic + p10.ic_size, p10.psi_esb);
    }
}
