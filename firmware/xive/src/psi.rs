// SPDX-License-Identifier: Apache-2.0
//! The PSI host bridge's interrupt sources as the XIVE logic sees them: which source is
//! which, where its ESB page is, which girq it gets, what the bridge's interrupt registers
//! must hold, and how the LPC controller's SerIRQ routes land on four of the sources.
//! Pure numbers, so they are pinned by host tests; the register accesses are in the
//! firmware's `psi.rs` and `lpc_irq.rs`.
//!
//! Mirrors skiboot `hw/psi.c` (`psi_init_p9_interrupts`, `psi_init_p10_interrupts`,
//! `psi_p9_irq_names`), `include/psi.h`, `hw/lpc.c` (`lpc_route_serirq`) and
//! `hw/xive.c`/`hw/xive2.c` (`xive_get_notify_port`, `xive_get_notify_base`); checked
//! against QEMU 10.0 `hw/ppc/pnv_psi.c`, `hw/ppc/pnv_lpc.c` and `include/hw/ppc/pnv_psi.h`.

use crate::hw::Gen;

/// Sources the bridge has on P9 and P10 (skiboot `P9_PSI_NUM_IRQS`, QEMU `PSIHB9_NUM_IRQS`).
pub const PSI_SOURCE_COUNT: u32 = 14;
/// skiboot carves the PSI girqs from the top of the chip's range aligned to 16, so on a
/// block whose HW range ends at index 0x100000 they are `0xFFFF0..=0xFFFFD`.
pub const PSI_GIRQ_ALIGN: u32 = 16;

/// One PSI interrupt source; the discriminant is its index (skiboot `P9_PSI_IRQ_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PsiSource {
    #[doc(alias = "P9_PSI_IRQ_PSI")]
    Fsp = 0,
    #[doc(alias = "P9_PSI_IRQ_OCC")]
    Occ = 1,
    #[doc(alias = "P9_PSI_IRQ_FSI")]
    Fsi = 2,
    /// The LPC host controller's own interrupt (bus errors, LRESET) through the OPB master.
    #[doc(alias = "P9_PSI_IRQ_LPCHC")]
    LpcHc = 3,
    #[doc(alias = "P9_PSI_IRQ_LOCAL_ERR")]
    LocalErr = 4,
    #[doc(alias = "P9_PSI_IRQ_GLOBAL_ERR")]
    GlobalErr = 5,
    /// The platform's external interrupt (QEMU calls it TPM). Linux's unless the platform
    /// has a handler, which none of ours has.
    #[doc(alias = "P9_PSI_IRQ_EXTERNAL")]
    External = 6,
    #[doc(alias = "P9_PSI_IRQ_LPC_SIRQ0")]
    LpcSerirq0 = 7,
    #[doc(alias = "P9_PSI_IRQ_LPC_SIRQ1")]
    LpcSerirq1 = 8,
    #[doc(alias = "P9_PSI_IRQ_LPC_SIRQ2")]
    LpcSerirq2 = 9,
    #[doc(alias = "P9_PSI_IRQ_LPC_SIRQ3")]
    LpcSerirq3 = 10,
    #[doc(alias = "P9_PSI_IRQ_SBE_I2C")]
    SbeI2c = 11,
    #[doc(alias = "P9_PSI_IRQ_DIO")]
    Dio = 12,
    #[doc(alias = "P9_PSI_IRQ_PSU")]
    Psu = 13,
}

/// Who takes a source's interrupts (skiboot `IRQ_ATTR_TARGET_OPAL` / `_LINUX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Listed in `/ibm,opal` `interrupts`; Linux requests it and calls
    /// `OPAL_HANDLE_INTERRUPT` on each interrupt.
    Opal,
    /// Left to the OS (not listed for OPAL).
    Linux,
}

impl PsiSource {
    pub const ALL: [PsiSource; PSI_SOURCE_COUNT as usize] = [
        Self::Fsp,
        Self::Occ,
        Self::Fsi,
        Self::LpcHc,
        Self::LocalErr,
        Self::GlobalErr,
        Self::External,
        Self::LpcSerirq0,
        Self::LpcSerirq1,
        Self::LpcSerirq2,
        Self::LpcSerirq3,
        Self::SbeI2c,
        Self::Dio,
        Self::Psu,
    ];

    pub fn from_index(index: u32) -> Option<Self> {
        Self::ALL.get(usize::try_from(index).ok()?).copied()
    }

    pub const fn index(self) -> u32 {
        self as u32
    }

    /// skiboot's `psi_p9_irq_names`, which Linux shows as `opal-psi#<chip>:<name>`. A
    /// SerIRQ route carrying an LPC device is named after the device instead
    /// (`lpc-uart`, `lpc-bt`; see `serirq`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Fsp => "fsp",
            Self::Occ => "occ",
            Self::Fsi => "fsi",
            Self::LpcHc => "lpc-hc",
            Self::LocalErr => "local_err",
            Self::GlobalErr => "global_err",
            Self::External => "external",
            Self::LpcSerirq0 => "lpc-mux0-unused",
            Self::LpcSerirq1 => "lpc-mux1-unused",
            Self::LpcSerirq2 => "lpc-mux2-unused",
            Self::LpcSerirq3 => "lpc-mux3-unused",
            Self::SbeI2c => "i2c",
            Self::Dio => "dio",
            Self::Psu => "psu(sbe)",
        }
    }

    /// skiboot's `psi_p9_irq_attributes` with no platform external-interrupt handler and
    /// the default LPC policy (a route not given to the OS stays OPAL's).
    pub const fn owner(self) -> Owner {
        match self {
            Self::External => Owner::Linux,
            _ => Owner::Opal,
        }
    }

    /// The LPC SerIRQ route (0–3) this source carries, if it is one of the four.
    pub const fn serirq_route(self) -> Option<u8> {
        match self {
            Self::LpcSerirq0 => Some(0),
            Self::LpcSerirq1 => Some(1),
            Self::LpcSerirq2 => Some(2),
            Self::LpcSerirq3 => Some(3),
            _ => None,
        }
    }

    pub const fn for_serirq_route(route: u8) -> Option<Self> {
        match route {
            0 => Some(Self::LpcSerirq0),
            1 => Some(Self::LpcSerirq1),
            2 => Some(Self::LpcSerirq2),
            3 => Some(Self::LpcSerirq3),
            _ => None,
        }
    }
}

/// log2 of one source's ESB page: 4 KiB on P9 (the only 4 KiB ESB in the machine), 64 KiB
/// on P10 (skiboot `psi_init_p10_interrupts` selects it with `PSIHB10_ESB_CI_64K`).
pub const fn esb_shift(gen: Gen) -> u32 {
    match gen {
        Gen::P9 => 12,
        Gen::P10 => 16,
    }
}

/// girq layout: P9 `block(23..20) | index(19..0)`, P10 `block(27..24) | index(23..0)`
/// (xive.md §3.1).
const fn girq_index_bits(gen: Gen) -> u32 {
    match gen {
        Gen::P9 => 20,
        Gen::P10 => 24,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// The girq base is not aligned to 16, lies above the block field, or the 14 sources
    /// would run past the end of the block.
    BadGirqBase(u32),
    /// The ESB BAR is not aligned to the 64 KiB (P9) or 1 MiB (P10) region it opens.
    BadEsbBase(u64),
    /// The notification address is not 8-byte aligned or does not fit the register field.
    BadNotifyAddr(u64),
}

/// Where one chip's PSI sources sit: girqs, ESB pages and the values the bridge's
/// interrupt registers take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub gen: Gen,
    /// girq of source 0.
    pub girq_base: u32,
    /// Physical address of source 0's ESB page.
    pub esb_base: u64,
}

/// `PSIHB_ESB_CI_BASE` (MMIO 0x60): BAR address, `PSIHB10_ESB_CI_64K` (bit 1, P10) and
/// `PSIHB_ESB_CI_VALID` (bit 63). QEMU takes the address as the value minus those bits.
pub const ESB_CI_VALID: u64 = 1;
pub const ESB_CI_64K: u64 = 1 << 62;
/// `PSIHB_ESB_NOTIF_ADDR` (MMIO 0x68): notification address | `PSIHB_ESB_NOTIF_VALID` (63).
pub const ESB_NOTIF_VALID: u64 = 1;
/// `PSIHB_IVT_OFFSET` (MMIO 0x70): the notification base sits in bits 0–31.
pub const IVT_OFFSET_SHIFT: u32 = 32;
/// QEMU `PSIHB9_ESB_NOTIF_ADDR_MASK`: the address field is IBM bits 8–60.
const NOTIF_ADDR_FIELD: u64 = 0x00ff_ffff_ffff_fff8;

impl Layout {
    pub fn new(gen: Gen, girq_base: u32, esb_base: u64) -> Result<Self, LayoutError> {
        let index_bits = girq_index_bits(gen);
        let index = girq_base & ((1 << index_bits) - 1);
        let block_field_ok = girq_base >> index_bits < 16;
        let fits_block = index + PSI_SOURCE_COUNT <= 1 << index_bits;
        if !girq_base.is_multiple_of(PSI_GIRQ_ALIGN) || !block_field_ok || !fits_block {
            return Err(LayoutError::BadGirqBase(girq_base));
        }
        if esb_base == 0 || !esb_base.is_multiple_of(Self::esb_region_size(gen)) {
            return Err(LayoutError::BadEsbBase(esb_base));
        }
        Ok(Self {
            gen,
            girq_base,
            esb_base,
        })
    }

    /// The BAR's window: 64 KiB on P9 (skiboot Nimbus map), 1 MiB on P10 (skiboot P10 map,
    /// QEMU `PNV10_PSIHB_ESB_SIZE`). Large enough for 16 pages of the generation's size.
    pub const fn esb_region_size(gen: Gen) -> u64 {
        match gen {
            Gen::P9 => 64 << 10,
            Gen::P10 => 1 << 20,
        }
    }

    pub const fn esb_shift(&self) -> u32 {
        esb_shift(self.gen)
    }

    pub const fn girq(&self, source: PsiSource) -> u32 {
        self.girq_base + source.index()
    }

    /// The source a girq names, if it is one of this chip's PSI sources.
    pub fn source_of(&self, girq: u32) -> Option<PsiSource> {
        PsiSource::from_index(girq.checked_sub(self.girq_base)?)
    }

    /// Address of a source's ESB page (EOI/management page; PSI sources have no separate
    /// trigger page).
    pub const fn esb_page(&self, source: PsiSource) -> u64 {
        self.esb_base + ((source.index() as u64) << self.esb_shift())
    }

    pub const fn block(&self) -> u32 {
        self.girq_base >> girq_index_bits(self.gen)
    }

    /// The "PowerBus packet bits 32:63" the bridge adds its source number to when it
    /// notifies: `block << 28 | index` on both generations (skiboot `xive_get_notify_base`,
    /// QEMU `XIVE_EAS_BLOCK`/`XIVE_EAS_INDEX`). Not the girq itself.
    pub const fn notify_base(&self) -> u32 {
        let index = self.girq_base & ((1 << girq_index_bits(self.gen)) - 1);
        self.block() << 28 | index
    }

    pub const fn esb_ci_base_value(&self) -> u64 {
        let size = match self.gen {
            Gen::P9 => 0,
            Gen::P10 => ESB_CI_64K,
        };
        self.esb_base | size | ESB_CI_VALID
    }

    pub const fn ivt_offset_value(&self) -> u64 {
        (self.notify_base() as u64) << IVT_OFFSET_SHIFT
    }
}

/// `PSIHB_ESB_NOTIF_ADDR` for a notification address.
pub fn notify_addr_value(addr: u64) -> Result<u64, LayoutError> {
    if addr == 0 || addr & !NOTIF_ADDR_FIELD != 0 {
        return Err(LayoutError::BadNotifyAddr(addr));
    }
    Ok(addr | ESB_NOTIF_VALID)
}

/// Offset of the PSI's slot in the IC BAR: the notify-port page (P9 page 1, P10 page 4,
/// 64 KiB pages) plus the cache-line slot skiboot gives the PSI (`XIVE_HW_SRC_PSI`:
/// 0x230 on P9, 0x930 on P10).
pub const fn notify_port_offset(gen: Gen) -> u64 {
    match gen {
        Gen::P9 => (1 << 16) + 0x230,
        Gen::P10 => (4 << 16) + 0x930,
    }
}

/// The LPC controller's SerIRQ routing on P9/P10: each LPC (ISA) IRQ line is steered by a
/// 2-bit field of an OPB-master register to one of four outputs, which raise PSI sources
/// 7–10 (skiboot `lpc_route_serirq`; QEMU `pnv_lpc_eval_serirq_routes`).
pub mod serirq {
    /// LPC IRQ lines skiboot can route: IRQ0–IRQ16 (`LPC_NUM_SERIRQ`). QEMU models 0–15.
    pub const LPC_NUM_SERIRQ: u8 = 17;
    /// OPB master register holding the fields of IRQ 14–16 (`OPB_MASTER_LS_ROUTE0`).
    pub const OPB_MASTER_LS_ROUTE0: u32 = 0x8;
    /// OPB master register holding the fields of IRQ 0–13 (`OPB_MASTER_LS_ROUTE1`).
    pub const OPB_MASTER_LS_ROUTE1: u32 = 0xc;

    /// Bit of an LPC IRQ in `LPC_HC_IRQMASK`/`LPC_HC_IRQSTAT` (`LPC_HC_IRQ_SERIRQ0 >> irq`).
    pub const fn irq_bit(irq: u8) -> u32 {
        0x8000_0000 >> irq
    }

    /// (OPB master register offset, LSB-0 shift of the 2-bit field) steering `irq`.
    /// IRQ 0–13 sit in ROUTE1 at IBM bits 4+2n..5+2n; IRQ 14–16 in ROUTE0 at IBM bits
    /// 8+2(n-14)..9+2(n-14).
    pub const fn route_field(irq: u8) -> Option<(u32, u32)> {
        if irq < 14 {
            Some((OPB_MASTER_LS_ROUTE1, 26 - 2 * irq as u32))
        } else if irq < LPC_NUM_SERIRQ {
            Some((OPB_MASTER_LS_ROUTE0, 22 - 2 * (irq as u32 - 14)))
        } else {
            None
        }
    }

    /// `old` with `irq`'s field set to `route`.
    pub const fn with_route(old: u32, irq: u8, route: u8) -> Option<u32> {
        match route_field(irq) {
            Some((_, shift)) if route < 4 => {
                Some(old & !(3 << shift) | (route as u32 & 3) << shift)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hal::bits::{ppc_bit, ppc_bitmask};

    #[test]
    fn sources_match_skiboot_numbering() {
        assert_eq!(PsiSource::ALL.len(), PSI_SOURCE_COUNT as usize);
        for (i, s) in PsiSource::ALL.iter().enumerate() {
            assert_eq!(s.index(), i as u32);
            assert_eq!(PsiSource::from_index(i as u32), Some(*s));
        }
        assert_eq!(PsiSource::from_index(14), None);
        assert_eq!(PsiSource::LpcHc.index(), 3);
        assert_eq!(PsiSource::LpcSerirq0.index(), 7);
        assert_eq!(PsiSource::Psu.index(), 13);
        assert_eq!(PsiSource::for_serirq_route(1), Some(PsiSource::LpcSerirq1));
        assert_eq!(PsiSource::LpcSerirq3.serirq_route(), Some(3));
        assert_eq!(PsiSource::External.owner(), Owner::Linux);
        assert_eq!(PsiSource::LpcSerirq1.owner(), Owner::Opal);
    }

    #[test]
    fn p9_layout_matches_skiboot_on_qemu() {
        // QEMU powernv9, block 0: PSI girqs 0xFFFF0.., ESB BAR 0x0006_0302_031C_0000.
        let l = Layout::new(Gen::P9, 0xF_FFF0, 0x0006_0302_031c_0000).unwrap();
        assert_eq!(l.girq(PsiSource::LpcSerirq1), 0xF_FFF8);
        assert_eq!(l.source_of(0xF_FFFD), Some(PsiSource::Psu));
        assert_eq!(l.source_of(0xF_FFFE), None);
        assert_eq!(l.source_of(0xF_FFEF), None);
        assert_eq!(l.esb_page(PsiSource::LpcSerirq1), 0x0006_0302_031c_8000);
        assert_eq!(l.notify_base(), 0x000F_FFF0);
        assert_eq!(l.ivt_offset_value(), 0x000F_FFF0_0000_0000);
        assert_eq!(l.esb_ci_base_value(), 0x0006_0302_031c_0000 | ppc_bit(63));
        // Block 1 on P9: girq 1<<20 | idx, notify base 1<<28 | idx.
        let l1 = Layout::new(Gen::P9, 0x1F_FFF0, 0x0006_0702_031c_0000).unwrap();
        assert_eq!(l1.block(), 1);
        assert_eq!(l1.notify_base(), 0x1000_0000 | 0xF_FFF0);
    }

    #[test]
    fn p10_layout_uses_64k_pages_and_its_own_block_shift() {
        let l = Layout::new(Gen::P10, 0x0100_0000 | 0xF_FFF0, 0x0006_0302_0200_0000).unwrap();
        assert_eq!(l.block(), 1);
        assert_eq!(l.notify_base(), 0x1000_0000 | 0xF_FFF0);
        assert_eq!(l.esb_page(PsiSource::LpcSerirq1), 0x0006_0302_0208_0000);
        assert_eq!(
            l.esb_ci_base_value(),
            0x0006_0302_0200_0000 | ppc_bit(1) | ppc_bit(63)
        );
        // The 14 pages fit the BAR window on both generations.
        for gen in [Gen::P9, Gen::P10] {
            assert!(u64::from(PSI_GIRQ_ALIGN) << esb_shift(gen) <= Layout::esb_region_size(gen));
        }
    }

    #[test]
    fn bad_layouts_are_refused() {
        let esb = 0x0006_0302_031c_0000;
        assert_eq!(
            Layout::new(Gen::P9, 0xF_FFF1, esb),
            Err(LayoutError::BadGirqBase(0xF_FFF1))
        );
        // Block field is 4 bits.
        assert!(Layout::new(Gen::P9, 0x10 << 20, esb).is_err());
        assert!(Layout::new(Gen::P9, 0xF_FFF0, esb + 0x1000).is_err());
        assert!(
            Layout::new(Gen::P10, 0xF_FFF0, esb).is_err(),
            "P10 needs 1 MiB alignment"
        );
        assert!(notify_addr_value(0x0006_0302_0311_0234).is_err());
        assert!(notify_addr_value(0).is_err());
    }

    #[test]
    fn notify_port_is_skiboots_psi_slot() {
        let p9_ic = 0x0006_0302_0310_0000u64;
        assert_eq!(p9_ic + notify_port_offset(Gen::P9), 0x0006_0302_0311_0230);
        let p10_ic = 0x0006_0302_0000_0000u64;
        assert_eq!(p10_ic + notify_port_offset(Gen::P10), 0x0006_0302_0004_0930);
        assert_eq!(
            notify_addr_value(0x0006_0302_0311_0230),
            Ok(0x0006_0302_0311_0230 | ppc_bit(63))
        );
        // QEMU's address field: IBM bits 8-60.
        assert_eq!(NOTIF_ADDR_FIELD, ppc_bitmask(8, 60));
    }

    #[test]
    fn serirq_fields_match_skiboot_and_qemu() {
        // skiboot: shift = 30 - (4 + 2n) for n < 14, 30 - (8 + 2(n-14)) above.
        for irq in 0..serirq::LPC_NUM_SERIRQ {
            let (reg, shift) = serirq::route_field(irq).unwrap();
            let (skiboot_reg, skiboot_shift) = if irq < 14 {
                (0xc, 30 - (4 + 2 * u32::from(irq)))
            } else {
                (0x8, 30 - (8 + 2 * (u32::from(irq) - 14)))
            };
            assert_eq!((reg, shift), (skiboot_reg, skiboot_shift), "irq {irq}");
            // QEMU extracts 2 bits at PPC_BIT32_NR(5 + 2n) / PPC_BIT32_NR(9 + 2(n-14)).
            let qemu_lsb = if irq < 14 {
                31 - (5 + 2 * u32::from(irq))
            } else {
                31 - (9 + 2 * (u32::from(irq) - 14))
            };
            assert_eq!(shift, qemu_lsb);
        }
        assert_eq!(serirq::route_field(17), None);
        // UART (IRQ 4) on route 1, BT (IRQ 10) on route 0, starting from all-zero.
        let r1 = serirq::with_route(0, 4, 1).unwrap();
        assert_eq!(r1, 1 << 18);
        assert_eq!(serirq::with_route(r1, 10, 0), Some(r1));
        assert_eq!(serirq::with_route(r1, 4, 3), Some(3 << 18));
        assert_eq!(serirq::with_route(0, 4, 4), None);
        assert_eq!(serirq::irq_bit(4), 0x0800_0000);
    }
}
