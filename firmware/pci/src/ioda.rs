// SPDX-License-Identifier: Apache-2.0
//! IODA3 table entries as pure functions: TVT (DMA windows), MBT (MMIO windows), the
//! in-memory RTT, PEST and PELT-V. Field positions are skiboot's, `include/phb4-regs.h`
//! (`IODA3_TVT_*`, `IODA3_MBT0_*`, `IODA3_MBT1_*`, `IODA3_PESTA_*`, `IODA3_PESTB_*`) and
//! `include/phb4.h` (`RTT_TABLE_ENTRIES`, `RTT_TABLE_SIZE`, `PELTV_TABLE_SIZE_MAX`); the
//! checks are those of skiboot `hw/phb4.c` (`phb4_map_pe_dma_window`,
//! `phb4_map_pe_dma_window_real`, `phb4_set_phb_mem_window`, `phb4_set_peltv`).

use crate::{ppc_bit, ppc_bitmask, set_field, Bdfn};

/// Why a table entry cannot be built. The OPAL layer maps every one to OPAL_PARAMETER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IodaError {
    /// TCE levels outside 1..=5.
    BadLevels,
    /// A table or window size that is not a power of two, too small or too large.
    BadSize,
    /// A TCE page size other than 4 KiB, 64 KiB, 2 MiB, 1 GiB.
    BadPageSize,
    /// An address not aligned as the entry needs.
    Misaligned,
    /// An address or window end past what the entry can hold.
    OutOfRange,
}

/// TVT entry fields (`IODA3_TVT_*`).
pub mod tvt {
    use crate::{ppc_bit, ppc_bitmask};
    /// `IODA3_TVT_TABLE_ADDR`: TCE table address >> 12.
    pub const TABLE_ADDR: u64 = ppc_bitmask(0, 47);
    /// `IODA3_TVT_NUM_LEVELS`: levels - 1.
    pub const NUM_LEVELS: u64 = ppc_bitmask(48, 50);
    /// `IODA3_TVT_TCE_TABLE_SIZE`: log2(bytes per level) - 11; 0 = invalid entry.
    pub const TCE_TABLE_SIZE: u64 = ppc_bitmask(51, 55);
    /// `IODA3_TVT_NON_TRANSLATE_50`.
    pub const NON_TRANSLATE_50: u64 = ppc_bit(56);
    /// `IODA3_TVT_IO_PSIZE`: page shift - 11; 0 = no translation.
    pub const IO_PSIZE: u64 = ppc_bitmask(59, 63);
}

/// The TVE index a DMA address selects for `pe` in two-TVEs-per-PE mode (CTRLR
/// TVT_ADDR_SEL = 0): bit 59 of the address picks the PE's second entry.
pub const fn tve_index(pe: u32, pci_addr: u64) -> u32 {
    pe * 2 + ((pci_addr >> 59) & 1) as u32
}

fn io_psize(page_size: u64) -> Result<u64, IodaError> {
    match page_size {
        0x1000 => Ok(1),
        0x1_0000 => Ok(5),
        0x20_0000 => Ok(10),
        0x4000_0000 => Ok(19),
        _ => Err(IodaError::BadPageSize),
    }
}

/// The TVE of a translated (TCE) window, as `OPAL_PCI_MAP_PE_DMA_WINDOW` builds it:
/// `table_addr` (the low 12 bits are dropped, as skiboot does), `levels` 1-5,
/// `table_size` bytes per level (a power of two, 4 KiB at least), `page_size` the TCE page.
/// A `table_size` of 0 disables the window (entry 0).
pub fn tve_tce(
    table_addr: u64,
    levels: u32,
    table_size: u64,
    page_size: u64,
) -> Result<u64, IodaError> {
    if table_size == 0 {
        return Ok(0);
    }
    if !(1..=5).contains(&levels) {
        return Err(IodaError::BadLevels);
    }
    if !table_size.is_power_of_two() || table_size < 0x1000 {
        return Err(IodaError::BadSize);
    }
    let tts = table_size.trailing_zeros() as u64 - 11;
    if tts > 31 {
        return Err(IodaError::BadSize);
    }
    Ok(set_field(tvt::TABLE_ADDR, table_addr >> 12)
        | set_field(tvt::NUM_LEVELS, levels as u64 - 1)
        | set_field(tvt::TCE_TABLE_SIZE, tts)
        | set_field(tvt::IO_PSIZE, io_psize(page_size)?))
}

/// The size of the DMA window a TCE TVE translates: `(bytes per level / 8) ^ levels` TCEs
/// of the page size (QEMU `pnv_phb4_translate_tve`). `None` for an invalid or bypass TVE,
/// or a window past 2^64.
pub fn tce_window_size(tve: u64) -> Option<u64> {
    let tts = crate::get_field(tvt::TCE_TABLE_SIZE, tve);
    let psize = crate::get_field(tvt::IO_PSIZE, tve);
    if tts == 0 || psize == 0 {
        return None;
    }
    let levels = crate::get_field(tvt::NUM_LEVELS, tve) as u32 + 1;
    let bits_per_level = tts as u32 + 8; // 2^(tts + 11) bytes / 8 bytes per TCE
    let total = bits_per_level * levels + psize as u32 + 11;
    (total < 64).then(|| 1u64 << total)
}

/// The TVE of a 32-bit window of `window_size` bytes translated by a one-level table at
/// `table_addr` with `page_size` pages: the table size follows (8 bytes per page).
pub fn tve_tce32(table_addr: u64, window_size: u64, page_size: u64) -> Result<u64, IodaError> {
    io_psize(page_size)?;
    if !window_size.is_power_of_two() || window_size < page_size || window_size > 1 << 32 {
        return Err(IodaError::BadSize);
    }
    let table_size = (window_size / page_size * 8).max(0x1000);
    if !table_addr.is_multiple_of(table_size) {
        return Err(IodaError::Misaligned);
    }
    tve_tce(table_addr, 1, table_size, page_size)
}

/// Bypass (real-mode) windows must be 16 MiB aligned (skiboot).
pub const BYPASS_ALIGN: u64 = 1 << 24;
/// The end of a bypass window may not pass 2^50 (skiboot checks `end > 0x0003ffffffffffff`).
pub const BYPASS_END_MAX: u64 = 0x0003_ffff_ffff_ffff;

/// The TVE of an untranslated (bypass) window `[pci_start, pci_start + size)`, as
/// `OPAL_PCI_MAP_PE_DMA_WINDOW_REAL` builds it. Bit 59 of `pci_start` selects the TVE
/// ([`tve_index`]) and is not part of the range; bits 60-63 must be clear. A size of 0
/// disables the window.
///
/// Start bits 24-47 go to TVE bits 0-23 and start bits 48-49 to TVE bits 52-53; end bits
/// 24-47 to TVE bits 24-47 and end bits 48-49 to TVE bits 54-55. TVE bit 51 is set with
/// NON_TRANSLATE_50: it is the top bit of TCE_TABLE_SIZE, which keeps the entry valid to
/// QEMU, and IO_PSIZE 0 makes it pass-through.
pub fn tve_bypass(pci_start: u64, size: u64) -> Result<u64, IodaError> {
    if size == 0 {
        return Ok(0);
    }
    if pci_start >> 60 != 0 {
        return Err(IodaError::OutOfRange);
    }
    let start = pci_start & ((1 << 59) - 1);
    if !start.is_multiple_of(BYPASS_ALIGN) || !size.is_multiple_of(BYPASS_ALIGN) {
        return Err(IodaError::Misaligned);
    }
    let end = start.checked_add(size).ok_or(IodaError::OutOfRange)?;
    if end > BYPASS_END_MAX {
        return Err(IodaError::OutOfRange);
    }
    let (s, e) = (start >> 24, end >> 24);
    Ok(set_field(ppc_bitmask(0, 23), s & 0xff_ffff)
        | set_field(ppc_bitmask(52, 53), s >> 24)
        | set_field(ppc_bitmask(24, 47), e & 0xff_ffff)
        | set_field(ppc_bitmask(54, 55), e >> 24)
        | ppc_bit(51)
        | tvt::NON_TRANSLATE_50)
}

/// MBT entry fields (`IODA3_MBT0_*`, `IODA3_MBT1_*`). An MMIO window takes two words.
pub mod mbt {
    use crate::{ppc_bit, ppc_bitmask};
    /// `IODA3_MBT0_ENABLE`
    pub const W0_ENABLE: u64 = ppc_bit(0);
    /// `IODA3_MBT0_TYPE` (set = M32, `IODA3_MBT0_TYPE_M32`; clear = M64)
    pub const W0_TYPE_M32: u64 = ppc_bit(1);
    /// `IODA3_MBT0_MODE`
    pub const W0_MODE: u64 = ppc_bitmask(2, 3);
    /// `IODA3_MBT0_MODE_PE_SEG`, `_MDT`, `_SINGLE_PE`
    pub const MODE_PE_SEG: u64 = 0;
    pub const MODE_MDT: u64 = 1;
    pub const MODE_SINGLE_PE: u64 = 2;
    /// `IODA3_MBT0_MDT_COLUMN` (also `IODA3_MBT0_SEG_DIV`)
    pub const W0_MDT_COLUMN: u64 = ppc_bitmask(4, 5);
    /// `IODA3_MBT0_BASE_ADDR`: CPU address >> 12
    pub const W0_BASE_ADDR: u64 = ppc_bitmask(8, 51);
    /// `IODA3_MBT1_ENABLE`
    pub const W1_ENABLE: u64 = ppc_bit(0);
    /// `IODA3_MBT1_MASK`: address mask >> 12
    pub const W1_MASK: u64 = ppc_bitmask(8, 51);
    /// `IODA3_MBT1_SINGLE_PE_NUM` (also `IODA3_MBT1_SEG_BASE`)
    pub const W1_SINGLE_PE_NUM: u64 = ppc_bitmask(55, 63);
}

/// Which PCI space an MBT window decodes into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowType {
    /// 32-bit: PCI address = M32_START_ADDR + offset in the window.
    M32,
    /// 64-bit: PCI address = CPU address.
    M64,
}

/// How an MBT window picks the PE of an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowMode {
    /// Segmented by PE (`IODA3_MBT0_MODE_PE_SEG`), with segment base `seg_base`.
    PeSegmented { seg_base: u16 },
    /// Through column `column` (0-3, A-D) of the MDT (`IODA3_MBT0_MODE_MDT`).
    Mdt { column: u8 },
    /// All of it belongs to one PE (`IODA3_MBT0_MODE_SINGLE_PE`).
    SinglePe { pe: u16 },
}

/// Largest PE number the 9-bit PE fields hold.
pub const PE_MAX: u16 = 511;

/// The two MBT words of an MMIO window of `size` bytes at CPU address `base`: a power of two
/// at least 4 KiB, `base` aligned to it, both within the 52-bit field (skiboot
/// `phb4_set_phb_mem_window` for M64, `phb4_init_ioda_cache` for `MBT[0]`, M32).
pub fn mbt_entry(
    base: u64,
    size: u64,
    kind: WindowType,
    mode: WindowMode,
    enable: bool,
) -> Result<[u64; 2], IodaError> {
    if !size.is_power_of_two() || !(0x1000..=1 << 56).contains(&size) {
        return Err(IodaError::BadSize);
    }
    if !base.is_multiple_of(size) {
        return Err(IodaError::Misaligned);
    }
    if base >> 56 != 0 {
        return Err(IodaError::OutOfRange);
    }
    let (mode_bits, column, pe) = match mode {
        WindowMode::PeSegmented { seg_base } => (mbt::MODE_PE_SEG, 0, seg_base),
        WindowMode::Mdt { column } => {
            if column > 3 {
                return Err(IodaError::OutOfRange);
            }
            (mbt::MODE_MDT, column as u64, 0)
        }
        WindowMode::SinglePe { pe } => (mbt::MODE_SINGLE_PE, 0, pe),
    };
    if pe > PE_MAX {
        return Err(IodaError::OutOfRange);
    }
    let enable0 = if enable { mbt::W0_ENABLE } else { 0 };
    let enable1 = if enable { mbt::W1_ENABLE } else { 0 };
    let w0 = enable0
        | if kind == WindowType::M32 {
            mbt::W0_TYPE_M32
        } else {
            0
        }
        | set_field(mbt::W0_MODE, mode_bits)
        | set_field(mbt::W0_MDT_COLUMN, column)
        | set_field(mbt::W0_BASE_ADDR, base >> 12);
    let w1 = enable1
        | set_field(mbt::W1_MASK, !((size >> 12) - 1))
        | set_field(mbt::W1_SINGLE_PE_NUM, pe as u64);
    Ok([w0, w1])
}

/// RTT (requester id -> PE): `RTT_TABLE_ENTRIES` big-endian u16 PE numbers, one per bdfn.
pub const RTT_ENTRIES: usize = 0x1_0000;
/// Bytes per RTT entry.
pub const RTT_ENTRY_SIZE: usize = 2;
/// `RTT_TABLE_SIZE`: 128 KiB.
pub const RTT_TABLE_SIZE: usize = RTT_ENTRIES * RTT_ENTRY_SIZE;

/// Byte offset of `bdfn`'s entry in the RTT.
pub const fn rtt_offset(bdfn: Bdfn) -> usize {
    bdfn.raw() as usize * RTT_ENTRY_SIZE
}

/// The bytes of an RTT entry mapping to `pe`.
pub const fn rtt_entry(pe: u16) -> [u8; 2] {
    pe.to_be_bytes()
}

/// PEST: 16 bytes per PE in memory, two big-endian words, A then B (skiboot `tbl_pest[2 *
/// pe]`, `tbl_pest[2 * pe + 1]`; `tbl_pest_size = max_num_pes * 16`).
pub const PEST_ENTRY_SIZE: usize = 16;
/// `IODA3_PESTA_MMIO_FROZEN` (word A)
pub const PESTA_MMIO_FROZEN: u64 = ppc_bit(0);
/// `IODA3_PESTB_DMA_STOPPED` (word B)
pub const PESTB_DMA_STOPPED: u64 = ppc_bit(0);

/// Byte offsets of PE `pe`'s PEST words A and B.
pub const fn pest_offsets(pe: u16) -> (usize, usize) {
    let at = pe as usize * PEST_ENTRY_SIZE;
    (at, at + 8)
}

/// Bytes skiboot allocates for the PELT-V (`PELTV_TABLE_SIZE_MAX`), whatever the PE count.
pub const PELTV_TABLE_SIZE: usize = 0x2_0000;

/// The byte and bit of PELT-V entry (parent, child): a bit matrix of `num_pes / 8` bytes per
/// parent, child 0 in the most significant bit of its byte (skiboot `phb4_set_peltv`).
/// `None` if a PE is out of range or `num_pes` not a multiple of 8.
pub const fn peltv_bit(parent: u16, child: u16, num_pes: u16) -> Option<(usize, u8)> {
    if parent >= num_pes || child >= num_pes || !num_pes.is_multiple_of(8) {
        return None;
    }
    let byte = parent as usize * (num_pes as usize / 8) + child as usize / 8;
    Some((byte, 0x80 >> (child % 8)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::get_field;

    #[test]
    fn tvt_field_positions() {
        assert_eq!(tvt::TABLE_ADDR, 0xffff_ffff_ffff_0000);
        assert_eq!(tvt::NUM_LEVELS, 0x7 << 13);
        assert_eq!(tvt::TCE_TABLE_SIZE, 0x1f << 8);
        assert_eq!(tvt::NON_TRANSLATE_50, 0x80);
        assert_eq!(tvt::IO_PSIZE, 0x1f);
    }

    #[test]
    fn tce_tve_for_a_2g_window_of_4k_pages() {
        // 2 GiB / 4 KiB = 512 Ki TCEs = 4 MiB of table: tts = 22 - 11 = 11.
        let tve = tve_tce(0x2040_0000, 1, 4 << 20, 0x1000).unwrap();
        assert_eq!(tve, (0x20400 << 16) | (11 << 8) | 1);
        assert_eq!(tve, 0x0000_0002_0400_0b01);
        assert_eq!(tce_window_size(tve), Some(2 << 30));
        assert_eq!(tve_tce32(0x2040_0000, 2 << 30, 0x1000), Ok(tve));
        assert_ne!(tve_tce32(0x2040_0000, 1 << 30, 0x1000), Ok(tve));
    }

    #[test]
    fn tce_tve_levels_and_page_sizes() {
        let tve = tve_tce(0x1_0000_0000, 3, 0x1_0000, 0x1_0000).unwrap();
        assert_eq!(get_field(tvt::NUM_LEVELS, tve), 2);
        assert_eq!(get_field(tvt::TCE_TABLE_SIZE, tve), 5);
        assert_eq!(get_field(tvt::IO_PSIZE, tve), 5);
        assert_eq!(get_field(tvt::TABLE_ADDR, tve), 0x10_0000);
        // 8 Ki TCEs per level, 3 levels, 64 KiB pages: 2^(13 * 3 + 16).
        assert_eq!(tce_window_size(tve), Some(1 << 55));
        for (page, code) in [
            (0x1000, 1),
            (0x1_0000, 5),
            (0x20_0000, 10),
            (0x4000_0000, 19),
        ] {
            let tve = tve_tce(0, 1, 0x1000, page).unwrap();
            assert_eq!(get_field(tvt::IO_PSIZE, tve), code);
        }
        assert_eq!(tve_tce(0, 1, 0x1000, 0x2000), Err(IodaError::BadPageSize));
        assert_eq!(tve_tce(0, 0, 0x1000, 0x1000), Err(IodaError::BadLevels));
        assert_eq!(tve_tce(0, 6, 0x1000, 0x1000), Err(IodaError::BadLevels));
        assert_eq!(tve_tce(0, 1, 0x800, 0x1000), Err(IodaError::BadSize));
        assert_eq!(tve_tce(0, 1, 0x3000, 0x1000), Err(IodaError::BadSize));
        assert_eq!(
            tve_tce(0, 1, 0, 0x1234),
            Ok(0),
            "size 0 disables, other arguments ignored"
        );
        assert_eq!(
            tve_tce32(0x1000, 2 << 30, 0x1000),
            Err(IodaError::Misaligned)
        );
        assert_eq!(tve_tce32(0, 8 << 30, 0x1000), Err(IodaError::BadSize));
    }

    #[test]
    fn bypass_tve_as_linux_asks_for_4g_of_ram() {
        // [1 << 59, 1 << 59 + 4 GiB): start 0, end 0x1_0000_0000 -> end >> 24 = 0x100.
        let tve = tve_bypass(1 << 59, 4 << 30).unwrap();
        assert_eq!(tve, 0x0000_0000_0100_1080);
        assert_eq!(tve_index(3, 1 << 59), 7);
        assert_eq!(tve_index(3, 0x8000_0000), 6);
        assert_eq!(tve & tvt::IO_PSIZE, 0, "pass-through");
        assert_ne!(
            get_field(tvt::TCE_TABLE_SIZE, tve),
            0,
            "valid to QEMU through bit 51"
        );
    }

    #[test]
    fn bypass_tve_high_address_bits() {
        // start = 2^48 + 2^24 (bits 48 and 24), end = 2^49 + 2^48 + 2^25.
        let start = (1u64 << 48) | (1 << 24);
        let end = (3u64 << 48) | (1 << 25);
        let tve = tve_bypass(start, end - start).unwrap();
        let expect = (1u64 << 40) // start bit 24 -> TVE bit 23
            | (1 << 10) // start bit 48 -> TVE bit 53
            | (2 << 16) // end bit 25 -> TVE bit 46
            | (3 << 8) // end bits 48-49 -> TVE bits 54-55
            | (1 << 12) | 0x80;
        assert_eq!(tve, expect);
        assert_eq!(tve_bypass(1 << 59, 0), Ok(0));
        assert_eq!(tve_bypass(1 << 60, 1 << 24), Err(IodaError::OutOfRange));
        assert_eq!(tve_bypass(1 << 23, 1 << 24), Err(IodaError::Misaligned));
        assert_eq!(tve_bypass(0, (1 << 24) + 1), Err(IodaError::Misaligned));
        assert_eq!(tve_bypass(0, 1 << 50), Err(IodaError::OutOfRange));
        assert!(tve_bypass(0, (1 << 50) - (1 << 24)).is_ok());
    }

    #[test]
    fn mbt_field_positions() {
        assert_eq!(mbt::W0_BASE_ADDR, 0x00ff_ffff_ffff_f000);
        assert_eq!(mbt::W1_MASK, 0x00ff_ffff_ffff_f000);
        assert_eq!(mbt::W0_MODE, 0x3000_0000_0000_0000);
        assert_eq!(mbt::W1_SINGLE_PE_NUM, 0x1ff);
    }

    #[test]
    fn mbt_m32_window() {
        // A 2 GiB M32 window in MDT mode, column A, like skiboot's MBT[0] (skiboot sets
        // only word 1's enable there; QEMU copies the valid bit to the other word).
        let base = 0x6000_8000_0000_u64;
        let [w0, w1] = mbt_entry(
            base,
            2 << 30,
            WindowType::M32,
            WindowMode::Mdt { column: 0 },
            true,
        )
        .unwrap();
        assert_eq!(
            w0,
            0x8000_0000_0000_0000 | 0x4000_0000_0000_0000 | 0x1000_0000_0000_0000 | base
        );
        assert_eq!(w1, 0x8000_0000_0000_0000 | 0x00ff_ffff_8000_0000);
        // QEMU's decode of the size: ~((mask << 12) | 0xff00...) + 1.
        let qemu_size = !((get_field(mbt::W1_MASK, w1) << 12) | 0xff00_0000_0000_0000) + 1;
        assert_eq!(qemu_size, 2 << 30);
    }

    #[test]
    fn mbt_m64_single_pe() {
        let [w0, w1] = mbt_entry(
            0x6200_0000_0000,
            1 << 32,
            WindowType::M64,
            WindowMode::SinglePe { pe: 0x1fe },
            true,
        )
        .unwrap();
        assert_eq!(w0 & mbt::W0_TYPE_M32, 0);
        assert_eq!(get_field(mbt::W0_MODE, w0), mbt::MODE_SINGLE_PE);
        assert_eq!(get_field(mbt::W0_BASE_ADDR, w0) << 12, 0x6200_0000_0000);
        assert_eq!(w1 & 0x1ff, 0x1fe);
        assert_eq!(w1 & !0x1ff, 0x8000_0000_0000_0000 | 0x00ff_ffff_0000_0000);
        let [d0, d1] = mbt_entry(
            0,
            1 << 20,
            WindowType::M64,
            WindowMode::PeSegmented { seg_base: 0 },
            false,
        )
        .unwrap();
        assert_eq!((d0 & mbt::W0_ENABLE, d1 & mbt::W1_ENABLE), (0, 0));
        let single = |pe| WindowMode::SinglePe { pe };
        assert_eq!(
            mbt_entry(0, 3 << 20, WindowType::M64, single(0), true),
            Err(IodaError::BadSize)
        );
        assert_eq!(
            mbt_entry(0, 0x800, WindowType::M64, single(0), true),
            Err(IodaError::BadSize)
        );
        assert_eq!(
            mbt_entry(1 << 20, 1 << 21, WindowType::M64, single(0), true),
            Err(IodaError::Misaligned)
        );
        assert_eq!(
            mbt_entry(0, 1 << 20, WindowType::M64, single(512), true),
            Err(IodaError::OutOfRange)
        );
        assert_eq!(
            mbt_entry(
                0,
                1 << 20,
                WindowType::M64,
                WindowMode::Mdt { column: 4 },
                true
            ),
            Err(IodaError::OutOfRange)
        );
    }

    #[test]
    fn rtt_layout() {
        assert_eq!(RTT_TABLE_SIZE, 128 << 10);
        assert_eq!(rtt_offset(Bdfn::new(1, 0, 0).unwrap()), 0x200);
        assert_eq!(
            rtt_offset(Bdfn::new(0xff, 31, 7).unwrap()),
            RTT_TABLE_SIZE - 2
        );
        assert_eq!(rtt_entry(511), [0x01, 0xff], "big-endian");
    }

    #[test]
    fn pest_and_peltv_positions() {
        assert_eq!(PESTA_MMIO_FROZEN, 1 << 63);
        assert_eq!(PESTB_DMA_STOPPED, 1 << 63);
        assert_eq!(pest_offsets(0), (0, 8));
        assert_eq!(pest_offsets(511), (511 * 16, 511 * 16 + 8));
        assert_eq!(peltv_bit(0, 0, 512), Some((0, 0x80)));
        assert_eq!(peltv_bit(0, 7, 512), Some((0, 0x01)));
        assert_eq!(peltv_bit(1, 9, 512), Some((64 + 1, 0x40)));
        assert_eq!(peltv_bit(511, 511, 512), Some((512 * 64 - 1, 0x01)));
        const { assert!(512 * 64 <= PELTV_TABLE_SIZE) };
        assert_eq!(peltv_bit(1, 9, 256), Some((32 + 1, 0x40)));
        assert_eq!(peltv_bit(512, 0, 512), None);
        assert_eq!(peltv_bit(0, 256, 256), None);
    }
}
