// SPDX-License-Identifier: Apache-2.0
//! PHB4/PHB5 register map: MMIO registers (offsets from the PHB register BAR), their fields,
//! the IODA3 table selectors, and the per-stack XSCOM registers of the PEC. Names are
//! skiboot's (`include/phb4-regs.h`, without the `PHB_` prefix); values were checked against
//! QEMU's `include/hw/pci-host/pnv_phb4_regs.h` where QEMU models the register.

use crate::{ppc_bit, ppc_bitmask};

/// `PHB_LSI_SOURCE_ID`: the LSIs are the 8 sources from `SRC_ID << 3`.
pub const LSI_SOURCE_ID: u32 = 0x100;
/// `PHB_LSI_SRC_ID`
pub const LSI_SRC_ID: u64 = ppc_bitmask(4, 12);
/// `PHB_CONFIG_DATA`: the config-space data window, 1/2/4-byte little-endian lanes.
pub const CONFIG_DATA: u32 = 0x130;
/// `PHB_CONFIG_ADDRESS`.
pub const CONFIG_ADDRESS: u32 = 0x140;
/// `PHB_PHB4_CONFIG`
pub const PHB4_CONFIG: u32 = 0x160;
/// `PHB_PHB4C_32BIT_MSI_EN`
pub const PHB4C_32BIT_MSI_EN: u64 = ppc_bit(8);
/// `PHB_PHB4C_64BIT_MSI_EN`
pub const PHB4C_64BIT_MSI_EN: u64 = ppc_bit(14);
/// `PHB_RTT_BAR`; the address field is bits 8-46 (`PHB_RTT_BASE_ADDRESS`).
pub const RTT_BAR: u32 = 0x168;
/// `PHB_PELTV_BAR` (address bits 8-50).
pub const PELTV_BAR: u32 = 0x188;
/// `PHB_M32_START_ADDR`: the PCI address of the M32 window.
pub const M32_START_ADDR: u32 = 0x1a0;
/// `PHB_PEST_BAR` (address bits 8-51).
pub const PEST_BAR: u32 = 0x1a8;
/// Bit 0 of the three table BARs (`PHB_*_BAR_ENABLE`).
pub const BAR_ENABLE: u64 = ppc_bit(0);
/// `PHB_RTT_BASE_ADDRESS`
pub const RTT_BASE_ADDRESS: u64 = ppc_bitmask(8, 46);
/// `PHB_PELTV_BASE_ADDRESS`
pub const PELTV_BASE_ADDRESS: u64 = ppc_bitmask(8, 50);
/// `PHB_PEST_BASE_ADDRESS`
pub const PEST_BASE_ADDRESS: u64 = ppc_bitmask(8, 51);
/// `PHB_M64_UPPER_BITS`
pub const M64_UPPER_BITS: u32 = 0x1f0;
/// `PHB_DMA_READ_WRITE_SYNC` (`PHB_DMARD_SYNC` on PHB4)
pub const DMA_READ_WRITE_SYNC: u32 = 0x200;
/// `PHB_DMA_READ_SYNC_START`
pub const DMA_READ_SYNC_START: u64 = ppc_bit(0);
/// `PHB_DMA_READ_SYNC_COMPLETE`
pub const DMA_READ_SYNC_COMPLETE: u64 = ppc_bit(1);
/// `PHB_DMA_WRITE_SYNC_COMPLETE` (PHB5)
pub const DMA_WRITE_SYNC_COMPLETE: u64 = ppc_bit(3);
/// `PHB_RTC_INVALIDATE`
pub const RTC_INVALIDATE: u32 = 0x208;
/// `PHB_RTC_INVALIDATE_ALL`
pub const RTC_INVALIDATE_ALL: u64 = ppc_bit(0);
/// `PHB_TCE_KILL`
pub const TCE_KILL: u32 = 0x210;
/// `PHB_TCE_KILL_ALL`
pub const TCE_KILL_ALL: u64 = ppc_bit(0);
/// `PHB_TCE_KILL_PE`
pub const TCE_KILL_PE: u64 = ppc_bit(1);
/// `PHB_TCE_KILL_ONE`
pub const TCE_KILL_ONE: u64 = ppc_bit(2);
/// A kill is still queued while any of these read back set.
pub const TCE_KILL_BUSY: u64 = TCE_KILL_ALL | TCE_KILL_PE | TCE_KILL_ONE;
/// `PHB_TCE_KILL_PENUM`
pub const TCE_KILL_PENUM: u64 = ppc_bitmask(55, 63);
/// `PHB_TCE_SPEC_CTL`
pub const TCE_SPEC_CTL: u32 = 0x218;
/// `PHB_IODA_ADDR`
pub const IODA_ADDR: u32 = 0x220;
/// `PHB_IODA_DATA0`
pub const IODA_DATA0: u32 = 0x228;
/// `PHB_PHB4_GEN_CAP`
pub const PHB4_GEN_CAP: u32 = 0x250;
/// `PHB_PHB4_TCE_CAP`
pub const PHB4_TCE_CAP: u32 = 0x258;
/// `PHB_PHB4_IRQ_CAP`: interrupts of the PHB in the low 16 bits.
pub const PHB4_IRQ_CAP: u32 = 0x260;
/// `PHB_PHB4_EEH_CAP`: PEs of the PHB in bits 0-11 (`>> 52`).
pub const PHB4_EEH_CAP: u32 = 0x268;
/// `PHB_ETU_ERR_SUMMARY`: all-ones when the PHB is fenced.
pub const ETU_ERR_SUMMARY: u32 = 0x2c8;
/// `PHB_INT_NOTIFY_ADDR`
pub const INT_NOTIFY_ADDR: u32 = 0x300;
/// `PHB_INT_NOTIFY_ADDR_64K` (PHB5, ABT mode: the IC's ESB pages are 64 KiB)
pub const INT_NOTIFY_ADDR_64K: u64 = ppc_bit(1);
/// `PHB_INT_NOTIFY_INDEX`
pub const INT_NOTIFY_INDEX: u32 = 0x308;
/// `PHB_VERSION`
pub const VERSION: u32 = 0x800;
/// `PHB_CTRLR`
pub const CTRLR: u32 = 0x810;
/// `PHB_TCE_TAG_ENABLE`
pub const TCE_TAG_ENABLE: u32 = 0x868;
/// `PHB_TIMEOUT_CTRL1`
pub const TIMEOUT_CTRL1: u32 = 0x878;
/// `PHB_TIMEOUT_CTRL2`
pub const TIMEOUT_CTRL2: u32 = 0x880;
/// `PHB_Q_DMA_R`
pub const Q_DMA_R: u32 = 0x888;
/// `PHB_Q_DMA_R_TCE_KILL_STATUS`: a kill is still running.
pub const Q_DMA_R_TCE_KILL_STATUS: u64 = ppc_bit(7);
/// `PHB_LEM_ERROR_MASK`
pub const LEM_ERROR_MASK: u32 = 0xc18;
/// Root-complex (bdfn 0) config space, memory-mapped at `RC_CONFIG + offset`, 4-byte
/// little-endian accesses only (skiboot `phb4_rc_read`, QEMU `pnv_phb4_rc_config_read`).
pub const RC_CONFIG: u32 = 0x1000;
/// `PHB_PBL_TIMEOUT_CTRL`
pub const PBL_TIMEOUT_CTRL: u32 = 0x1810;
/// `PHB_PCIE_SCR`
pub const PCIE_SCR: u32 = 0x1a00;
/// `PHB_PCIE_SCR_MAXLINKSPEED`
pub const PCIE_SCR_MAXLINKSPEED: u64 = ppc_bitmask(32, 35);
/// `PHB_PCIE_CRESET`
pub const PCIE_CRESET: u32 = 0x1a10;
/// `PHB_PCIE_CRESET_CFG_CORE`
pub const CRESET_CFG_CORE: u64 = ppc_bit(0);
/// `PHB_PCIE_CRESET_TLDLP`
pub const CRESET_TLDLP: u64 = ppc_bit(1);
/// `PHB_PCIE_CRESET_PBL`
pub const CRESET_PBL: u64 = ppc_bit(2);
/// `PHB_PCIE_CRESET_PERST_N` (clear = PERST asserted)
pub const CRESET_PERST_N: u64 = ppc_bit(3);
/// `PHB_PCIE_CRESET_PIPE_N`
pub const CRESET_PIPE_N: u64 = ppc_bit(4);
/// `PHB_PCIE_DLP_TRAIN_CTL`
pub const PCIE_DLP_TRAIN_CTL: u32 = 0x1a40;
/// `PHB_PCIE_DLP_DL_PGRESET`: the data-link layer is still in reset.
pub const DLP_DL_PGRESET: u64 = ppc_bit(22);
/// `PHB_PCIE_DLP_TL_LINKACT`
pub const DLP_TL_LINKACT: u64 = ppc_bit(23);

/// `PHB_PCIE_DLP_CTL`
pub const PCIE_DLP_CTL: u32 = 0x1a78;
/// `PHB_PCIE_DLP_CTL_SFC_DISABLE` (PHB5: scaled flow control off, skiboot SW527785)
pub const DLP_CTL_SFC_DISABLE: u64 = ppc_bit(60);
/// `PHB_PCIE_DLP_ERRLOG1`, `_ERRLOG2`, `_ERR_STATUS`, `_ERR_COUNTERS`: cleared at init.
pub const PCIE_DLP_ERRLOG1: u32 = 0x1aa0;
pub const PCIE_DLP_ERRLOG2: u32 = 0x1aa8;
pub const PCIE_DLP_ERR_STATUS: u32 = 0x1ab0;
pub const PCIE_DLP_ERR_COUNTERS: u32 = 0x1ab8;
/// `PHB_PCIE_PDL_PHY_EQ_CNTL` (PHB5)
pub const PCIE_PDL_PHY_EQ_CNTL: u32 = 0x1b38;
/// `PHB_PAPR_ERR_INJ_CTL`, `_ADDR`, `_MASK`: cleared by the PHB-error reset.
pub const PAPR_ERR_INJ_CTL: u32 = 0x2b0;
pub const PAPR_ERR_INJ_ADDR: u32 = 0x2b8;
pub const PAPR_ERR_INJ_MASK: u32 = 0x2c0;

/// Fields of CONFIG_ADDRESS (`PHB_CA_*`).
pub mod ca {
    use crate::{ppc_bit, ppc_bitmask};
    /// `PHB_CA_ENABLE`
    pub const ENABLE: u64 = ppc_bit(0);
    /// `PHB_CA_BDFN` (bus bits 4-11, device 12-16, function 17-19)
    pub const BDFN: u64 = ppc_bitmask(4, 19);
    /// `PHB_CA_REG`: the dword-aligned register offset
    pub const REG: u64 = ppc_bitmask(20, 31);
    /// `PHB_CA_PE`
    pub const PE: u64 = ppc_bitmask(39, 47);
}

/// Fields of CTRLR (`PHB_CTRLR_*`).
pub mod ctrlr {
    use crate::{ppc_bit, ppc_bitmask};
    /// `PHB_CTRLR_IRQ_PQ_DISABLE` (PHB5)
    pub const IRQ_PQ_DISABLE: u64 = ppc_bit(9);
    /// `PHB_CTRLR_IRQ_ABT_MODE` (PHB5)
    pub const IRQ_ABT_MODE: u64 = ppc_bit(10);
    /// `PHB_CTRLR_IRQ_PGSZ_64K`
    pub const IRQ_PGSZ_64K: u64 = ppc_bit(11);
    /// `PHB_CTRLR_IRQ_STORE_EOI`
    pub const IRQ_STORE_EOI: u64 = ppc_bit(12);
    /// `PHB_CTRLR_TVT_ADDR_SEL` (0 = `TVT_2_PER_PE`)
    pub const TVT_ADDR_SEL: u64 = ppc_bitmask(17, 19);
    /// `PHB_CTRLR_TCE_CLB_DISABLE` (skiboot's HW557787 circumvention)
    pub const TCE_CLB_DISABLE: u64 = ppc_bit(21);
}

/// Fields of IODA_ADDR (`PHB_IODA_AD_*`) and the table selectors (`IODA3_TBL_*`).
pub mod ioda {
    use crate::{ppc_bit, ppc_bitmask};
    /// `PHB_IODA_AD_AUTOINC`
    pub const AUTOINC: u64 = ppc_bit(0);
    /// `PHB_IODA_AD_TSEL`
    pub const TSEL: u64 = ppc_bitmask(11, 15);
    /// `PHB_IODA_AD_MIST_PWV`: which 16-bit quarters of a MIST word a write changes
    /// (IBM bit 28 = the first quarter); 0 means all four.
    pub const MIST_PWV: u64 = ppc_bitmask(28, 31);
    /// `PHB_IODA_AD_TADR`
    pub const TADR: u64 = ppc_bitmask(54, 63);

    /// `IODA3_TBL_MIST`
    pub const TBL_MIST: u64 = 2;
    /// `IODA3_TBL_MRT`
    pub const TBL_MRT: u64 = 6;
    /// `IODA3_TBL_PESTA`
    pub const TBL_PESTA: u64 = 7;
    /// `IODA3_TBL_PESTB`
    pub const TBL_PESTB: u64 = 8;
    /// `IODA3_TBL_TVT`
    pub const TBL_TVT: u64 = 9;
    /// `IODA3_TBL_MBT`
    pub const TBL_MBT: u64 = 16;
    /// `IODA3_TBL_MDT`
    pub const TBL_MDT: u64 = 17;
    /// `IODA3_TBL_PEEV`
    pub const TBL_PEEV: u64 = 20;

    /// `IODA3_MDT_PE_A` .. `_D`: column `c` of an MDT entry.
    pub const fn mdt_column(c: u32) -> u64 {
        ppc_bitmask(16 * c, 16 * c + 15)
    }
}

/// Per-stack XSCOM registers of a PEC (offsets from the stack's nest, PCI or ETU base;
/// skiboot `XPEC_NEST_STK_*`, `XPEC_PCI_STK_*`, `XETU_*`).
pub mod xscom {
    use crate::ppc_bit;
    /// `XPEC_NEST_STK_PCI_NFIR`
    pub const NEST_STK_PCI_NFIR: u64 = 0x0;
    /// `XPEC_NEST_STK_PBCQ_STAT`: bits 0-1 = transactions still pending.
    pub const NEST_STK_PBCQ_STAT: u64 = 0xc;
    /// `XPEC_NEST_STK_MMIO_BAR0` (value = address << 8)
    pub const NEST_STK_MMIO_BAR0: u64 = 0xe;
    /// `XPEC_NEST_STK_MMIO_BAR0_MASK`
    pub const NEST_STK_MMIO_BAR0_MASK: u64 = 0xf;
    /// `XPEC_NEST_STK_MMIO_BAR1`
    pub const NEST_STK_MMIO_BAR1: u64 = 0x10;
    /// `XPEC_NEST_STK_MMIO_BAR1_MASK`
    pub const NEST_STK_MMIO_BAR1_MASK: u64 = 0x11;
    /// `XPEC_NEST_STK_PHB_REG_BAR`
    pub const NEST_STK_PHB_REG_BAR: u64 = 0x12;
    /// `XPEC_NEST_STK_IRQ_BAR`
    pub const NEST_STK_IRQ_BAR: u64 = 0x13;
    /// `XPEC_NEST_STK_BAR_EN`
    pub const NEST_STK_BAR_EN: u64 = 0x14;
    /// `XPEC_NEST_STK_BAR_EN_MMIO0`
    pub const BAR_EN_MMIO0: u64 = ppc_bit(0);
    /// `XPEC_NEST_STK_BAR_EN_MMIO1`
    pub const BAR_EN_MMIO1: u64 = ppc_bit(1);
    /// `XPEC_NEST_STK_BAR_EN_PHB`
    pub const BAR_EN_PHB: u64 = ppc_bit(2);
    /// `XPEC_NEST_STK_BAR_EN_INT`
    pub const BAR_EN_INT: u64 = ppc_bit(3);
    /// `XPEC_PCI_STK_PCI_FIR`
    pub const PCI_STK_PCI_FIR: u64 = 0x0;
    /// `XPEC_PCI_STK_ETU_RESET`: bit 0 holds the ETU (the PHB proper) in reset.
    pub const PCI_STK_ETU_RESET: u64 = 0xa;
    /// `XETU_HV_IND_ADDRESS`
    pub const ETU_HV_IND_ADDRESS: u64 = 0x0;
    /// `XETU_HV_IND_DATA`
    pub const ETU_HV_IND_DATA: u64 = 0x1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_positions() {
        assert_eq!(ca::ENABLE, 1 << 63);
        assert_eq!(ca::REG, 0xfff << 32);
        assert_eq!(ca::PE, 0x1ff << 16);
        assert_eq!(LSI_SRC_ID, 0x1ff << 51);
        assert_eq!(PHB4C_32BIT_MSI_EN, 1 << 55);
        assert_eq!(PHB4C_64BIT_MSI_EN, 1 << 49);
        assert_eq!(ioda::TSEL, 0x1f << 48);
        assert_eq!(ioda::MIST_PWV, 0xf << 32);
        assert_eq!(ioda::TADR, 0x3ff);
        assert_eq!(ioda::mdt_column(0), 0xffff << 48);
        assert_eq!(ioda::mdt_column(3), 0xffff);
        assert_eq!(ctrlr::IRQ_PGSZ_64K, 1 << 52);
        assert_eq!(ctrlr::TCE_CLB_DISABLE, 1 << 42);
        assert_eq!(TCE_KILL_PENUM, 0x1ff);
        assert_eq!(INT_NOTIFY_ADDR_64K, 1 << 62);
        assert_eq!(xscom::BAR_EN_INT, 1 << 60);
    }
}
