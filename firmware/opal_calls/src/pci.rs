// SPDX-License-Identifier: Apache-2.0
//! The `OPAL_PCI_*` calls Linux's PowerNV PCI code makes with PHB4/PHB5 (pci-phb.md §3,
//! §6.2): argument decoding and out-parameters here, the PHB logic behind
//! [`hal::PciHost`] (the firmware's `pci::host`). skiboot `core/pci-opal.c`.
//!
//! Errors: an unknown PHB or slot id, a PE number past the PHB's, a bdfn above 0xffff,
//! an out-of-range or misaligned config offset, or a missing out-parameter is
//! `OPAL_PARAMETER`; a config access to bus 0 other than the root port, or a dead PHB,
//! `OPAL_HARDWARE`; a PHB whose lock another CPU holds, `OPAL_BUSY`. Every out-parameter
//! is checked before the PHB is touched, and written big-endian.
//!
//! Concurrency: each call takes only the lock of the PHB it names, bounded (see
//! `hal::pci`); the table row is absent on a machine with no PHB.

use crate::args::{os_range, OsPtr};
use crate::Ctx;
use hal::Holder;
use opal_api::{Be32, Be64, OpalError, OpalResult, Value};

fn who(cx: &Ctx<'_>) -> Holder {
    Holder::from_pir(cx.cpus.current())
}

/// A required out-parameter of `len` bytes.
fn out<T>(cx: &Ctx<'_>, p: OsPtr<T>, len: u64) -> OpalResult<hal::OsRange> {
    if p.is_null() {
        return Err(OpalError::Parameter);
    }
    os_range(cx, p, len)
}

fn config_read(
    cx: &Ctx<'_>,
    phb: u64,
    bdfn: u64,
    offset: u64,
    data: OsPtr<u8>,
    size: u8,
) -> OpalResult<()> {
    let at = out(cx, data, u64::from(size))?;
    let (value, result) = cx.pci.config_read(who(cx), phb, bdfn, offset, size);
    let bytes = value.to_be_bytes();
    cx.mem.write(at, 0, &bytes[4 - usize::from(size)..]);
    result
}

/// `OPAL_PCI_CONFIG_READ_BYTE(phb, bdfn, offset, u8 *data)`.
pub fn config_read_byte(
    cx: &Ctx<'_>,
    phb: u64,
    bdfn: u64,
    offset: u64,
    data: OsPtr<u8>,
) -> OpalResult<()> {
    config_read(cx, phb, bdfn, offset, data, 1)
}

/// `OPAL_PCI_CONFIG_READ_HALF_WORD(phb, bdfn, offset, be16 *data)`.
pub fn config_read_half_word(
    cx: &Ctx<'_>,
    phb: u64,
    bdfn: u64,
    offset: u64,
    data: OsPtr<u16>,
) -> OpalResult<()> {
    config_read(cx, phb, bdfn, offset, OsPtr::new(data.raw), 2)
}

/// `OPAL_PCI_CONFIG_READ_WORD(phb, bdfn, offset, be32 *data)`.
pub fn config_read_word(
    cx: &Ctx<'_>,
    phb: u64,
    bdfn: u64,
    offset: u64,
    data: OsPtr<Be32>,
) -> OpalResult<()> {
    config_read(cx, phb, bdfn, offset, OsPtr::new(data.raw), 4)
}

/// `OPAL_PCI_CONFIG_WRITE_BYTE(phb, bdfn, offset, u8 data)`.
pub fn config_write_byte(
    cx: &Ctx<'_>,
    phb: u64,
    bdfn: u64,
    offset: u64,
    data: u8,
) -> OpalResult<()> {
    cx.pci
        .config_write(who(cx), phb, bdfn, offset, 1, data.into())
}

/// `OPAL_PCI_CONFIG_WRITE_HALF_WORD(phb, bdfn, offset, u16 data)`.
pub fn config_write_half_word(
    cx: &Ctx<'_>,
    phb: u64,
    bdfn: u64,
    offset: u64,
    data: u16,
) -> OpalResult<()> {
    cx.pci
        .config_write(who(cx), phb, bdfn, offset, 2, data.into())
}

/// `OPAL_PCI_CONFIG_WRITE_WORD(phb, bdfn, offset, u32 data)`.
pub fn config_write_word(
    cx: &Ctx<'_>,
    phb: u64,
    bdfn: u64,
    offset: u64,
    data: u32,
) -> OpalResult<()> {
    cx.pci.config_write(who(cx), phb, bdfn, offset, 4, data)
}

/// `OPAL_PCI_EEH_FREEZE_STATUS(phb, pe, u8 *freeze_state, be16 *pci_error_type, be64
/// *phb_status)`: the first two are required; `phb_status` is not supported on PHB4 and
/// never written (Linux passes NULL), as in skiboot. The state is stored even when the
/// call fails (a dead PHB reports everything frozen).
pub fn eeh_freeze_status(
    cx: &Ctx<'_>,
    phb: u64,
    pe: u64,
    freeze_state: OsPtr<u8>,
    pci_error_type: OsPtr<u16>,
    _phb_status: OsPtr<Be64>,
) -> OpalResult<()> {
    let o_state = out(cx, freeze_state, 1)?;
    let o_type = out(cx, pci_error_type, 2)?;
    let (report, result) = cx.pci.eeh_freeze_status(who(cx), phb, pe);
    cx.mem.write(o_state, 0, &[report.state]);
    cx.mem.write(o_type, 0, &report.error_type.to_be_bytes());
    result
}

/// `OPAL_PCI_EEH_FREEZE_CLEAR(phb, pe, action)`.
pub fn eeh_freeze_clear(cx: &Ctx<'_>, phb: u64, pe: u64, action: u64) -> OpalResult<()> {
    cx.pci.eeh_freeze_clear(who(cx), phb, pe, action)
}

/// `OPAL_PCI_PHB_MMIO_ENABLE(phb, u16 window_type, u16 window_num, u16 enable)`.
pub fn phb_mmio_enable(
    cx: &Ctx<'_>,
    phb: u64,
    window_type: u16,
    window: u16,
    enable: u16,
) -> OpalResult<()> {
    cx.pci
        .phb_mmio_enable(who(cx), phb, window_type, window, enable)
}

/// `OPAL_PCI_SET_PHB_MEM_WINDOW(phb, u16 window_type, u16 window_num, addr, pci_addr, size)`.
pub fn set_phb_mem_window(
    cx: &Ctx<'_>,
    phb: u64,
    window_type: u16,
    window: u16,
    addr: u64,
    pci_addr: u64,
    size: u64,
) -> OpalResult<()> {
    cx.pci
        .set_phb_mem_window(who(cx), phb, window_type, window, addr, pci_addr, size)
}

/// `OPAL_PCI_MAP_PE_MMIO_WINDOW(phb, pe, u16 window_type, u16 window_num, u16 segment)`.
pub fn map_pe_mmio_window(
    cx: &Ctx<'_>,
    phb: u64,
    pe: u64,
    window_type: u16,
    window: u16,
    segment: u16,
) -> OpalResult<()> {
    cx.pci
        .map_pe_mmio_window(who(cx), phb, pe, window_type, window, segment)
}

/// `OPAL_PCI_SET_PE(phb, pe, bdfn, u8 bus_compare, u8 dev_compare, u8 func_compare, u8 action)`.
#[allow(clippy::too_many_arguments)]
pub fn set_pe(
    cx: &Ctx<'_>,
    phb: u64,
    pe: u64,
    bdfn: u64,
    bus_compare: u8,
    dev_compare: u8,
    func_compare: u8,
    action: u8,
) -> OpalResult<()> {
    cx.pci.set_pe(
        who(cx),
        phb,
        pe,
        bdfn,
        bus_compare,
        dev_compare,
        func_compare,
        action,
    )
}

/// `OPAL_PCI_SET_PELTV(phb, u32 parent_pe, u32 child_pe, u8 state)`.
pub fn set_peltv(cx: &Ctx<'_>, phb: u64, parent: u32, child: u32, state: u8) -> OpalResult<()> {
    cx.pci.set_peltv(who(cx), phb, parent, child, state)
}

/// `OPAL_PCI_SET_XIVE_PE(phb, pe, u32 xive_num)`.
pub fn set_xive_pe(cx: &Ctx<'_>, phb: u64, pe: u64, ive: u32) -> OpalResult<()> {
    cx.pci.set_xive_pe(who(cx), phb, pe, ive)
}

/// `OPAL_GET_MSI_64(phb, u32 mve_number, u32 xive_num, u8 msi_range, be64 *address,
/// be32 *data)`.
pub fn get_msi_64(
    cx: &Ctx<'_>,
    phb: u64,
    mve: u32,
    ive: u32,
    range: u8,
    address: OsPtr<Be64>,
    data: OsPtr<Be32>,
) -> OpalResult<()> {
    let (o_addr, o_data) = (out(cx, address, 8)?, out(cx, data, 4)?);
    let (a, d) = cx.pci.get_msi_64(who(cx), phb, mve.into(), ive, range)?;
    cx.mem.write(o_addr, 0, &a.to_be_bytes());
    cx.mem.write(o_data, 0, &d.to_be_bytes());
    Ok(())
}

/// `OPAL_GET_MSI_32(phb, u32 mve_number, u32 xive_num, u8 msi_range, be32 *address,
/// be32 *data)`.
pub fn get_msi_32(
    cx: &Ctx<'_>,
    phb: u64,
    mve: u32,
    ive: u32,
    range: u8,
    address: OsPtr<Be32>,
    data: OsPtr<Be32>,
) -> OpalResult<()> {
    let (o_addr, o_data) = (out(cx, address, 4)?, out(cx, data, 4)?);
    let (a, d) = cx.pci.get_msi_32(who(cx), phb, mve.into(), ive, range)?;
    cx.mem.write(o_addr, 0, &a.to_be_bytes());
    cx.mem.write(o_data, 0, &d.to_be_bytes());
    Ok(())
}

/// `OPAL_PCI_MAP_PE_DMA_WINDOW(phb, u16 pe, u16 window_id, u16 tce_levels, tce_table_addr,
/// tce_table_size, tce_page_size)`.
#[allow(clippy::too_many_arguments)]
pub fn map_pe_dma_window(
    cx: &Ctx<'_>,
    phb: u64,
    pe: u16,
    window_id: u16,
    levels: u16,
    table_addr: u64,
    table_size: u64,
    page_size: u64,
) -> OpalResult<()> {
    cx.pci.map_pe_dma_window(
        who(cx),
        phb,
        pe.into(),
        window_id,
        levels,
        table_addr,
        table_size,
        page_size,
    )
}

/// `OPAL_PCI_MAP_PE_DMA_WINDOW_REAL(phb, u16 pe, u16 window_id, pci_start_addr, pci_mem_size)`.
pub fn map_pe_dma_window_real(
    cx: &Ctx<'_>,
    phb: u64,
    pe: u16,
    window_id: u16,
    pci_start: u64,
    size: u64,
) -> OpalResult<()> {
    cx.pci
        .map_pe_dma_window_real(who(cx), phb, pe.into(), window_id, pci_start, size)
}

/// `OPAL_PCI_TCE_KILL(phb, u32 kill_type, pe, u32 tce_size, dma_addr, u32 npages)`.
pub fn tce_kill(
    cx: &Ctx<'_>,
    phb: u64,
    kill_type: u32,
    pe: u64,
    tce_size: u32,
    dma_addr: u64,
    npages: u32,
) -> OpalResult<()> {
    cx.pci
        .tce_kill(who(cx), phb, kill_type, pe, tce_size, dma_addr, npages)
}

fn millis(r: OpalResult<u64>) -> OpalResult<Value> {
    Value::new(r?).ok_or(OpalError::InternalError)
}

/// `OPAL_PCI_RESET(slot, u8 reset_scope, u8 assert_state)`: 0 when done, else the
/// milliseconds to wait before `OPAL_PCI_POLL`.
pub fn pci_reset(cx: &Ctx<'_>, slot: u64, scope: u8, assert_state: u8) -> OpalResult<Value> {
    millis(cx.pci.pci_reset(who(cx), slot, scope, assert_state))
}

/// `OPAL_PCI_POLL(slot)`: 0 when the reset is done, else milliseconds to wait.
pub fn pci_poll(cx: &Ctx<'_>, slot: u64) -> OpalResult<Value> {
    millis(cx.pci.pci_poll(who(cx), slot))
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::*;

    const PHB: u64 = 2;
    /// An OS buffer in the fake's RAM.
    const BUF: u64 = 0x1000;

    fn machine() -> Machine {
        let mut m = Machine::new();
        m.pci = hal::fake::FakePci::with_phbs(&[(0, 512), (PHB, 256)]);
        m
    }

    #[test]
    fn absent_without_a_phb_present_with_one() {
        let m = Machine::new();
        for tok in [
            13u64, 15, 18, 23, 26, 27, 28, 29, 31, 32, 37, 39, 40, 44, 45, 49, 62, 126,
        ] {
            assert_eq!(m.call(OPAL_CHECK_TOKEN, &[tok]), 0, "token {tok}");
            assert_eq!(m.call(tok, &[0, 0, 0, BUF]), -1, "absent: bad token");
        }
        let m = machine();
        for tok in [
            13u64, 15, 18, 23, 26, 27, 28, 29, 31, 32, 37, 39, 40, 44, 45, 49, 62, 126,
        ] {
            assert_eq!(m.call(OPAL_CHECK_TOKEN, &[tok]), 1, "token {tok}");
        }
        // Never implemented: stay absent.
        for tok in [
            OPAL_PCI_SET_MVE,
            OPAL_PCI_NEXT_ERROR,
            OPAL_PCI_GET_PHB_DIAG_DATA2,
        ] {
            assert_eq!(m.call(OPAL_CHECK_TOKEN, &[tok]), 0);
        }
    }

    #[test]
    fn config_reads_store_big_endian_of_their_size() {
        let m = machine();
        m.mem.poke(BUF, &[0xee; 8]);
        assert_eq!(m.call(OPAL_PCI_CONFIG_READ_WORD, &[PHB, 0x100, 0, BUF]), 0);
        // Vendor 0x1014, device 0x0100 (the fake's 01:00.0): LE on the wire, BE to the OS.
        assert_eq!(m.mem.peek(BUF, 5), [0x01, 0x00, 0x10, 0x14, 0xee]);
        assert_eq!(
            m.call(OPAL_PCI_CONFIG_READ_HALF_WORD, &[PHB, 0x100, 2, BUF]),
            0
        );
        assert_eq!(m.mem.peek(BUF, 3), [0x01, 0x00, 0x10]);
        assert_eq!(m.call(OPAL_PCI_CONFIG_READ_BYTE, &[PHB, 0x100, 0, BUF]), 0);
        assert_eq!(m.mem.peek(BUF, 2), [0x14, 0x00]);
        // No function there: all-ones, success.
        assert_eq!(m.call(OPAL_PCI_CONFIG_READ_WORD, &[PHB, 0x200, 0, BUF]), 0);
        assert_eq!(m.mem.peek(BUF, 4), [0xff; 4]);
        // Writes go through with the value truncated to the call's width.
        assert_eq!(
            m.call(
                OPAL_PCI_CONFIG_WRITE_HALF_WORD,
                &[PHB, 0x100, 4, 0xdead_0006]
            ),
            0
        );
        assert_eq!(m.pci.calls.borrow().last().unwrap().1, [0x100, 4, 2, 6]);
        assert_eq!(
            m.call(OPAL_PCI_CONFIG_READ_HALF_WORD, &[PHB, 0x100, 4, BUF]),
            0
        );
        assert_eq!(m.mem.peek(BUF, 2), [0x00, 0x06]);
    }

    #[test]
    fn bad_config_arguments_get_the_documented_errors() {
        let m = machine();
        m.mem.poke(BUF, &[0; 4]);
        // Unknown PHB, bdfn above 16 bits, offset past 4 KiB, misaligned: PARAMETER, and
        // the buffer says all-ones where a buffer was given.
        for args in [
            [7, 0x100, 0, BUF],
            [PHB, 0x1_0000, 0, BUF],
            [PHB, 0x100, 0x1000, BUF],
            [PHB, 0x100, 2, BUF],
        ] {
            assert_eq!(m.call(OPAL_PCI_CONFIG_READ_WORD, &args), -1, "{args:x?}");
            assert_eq!(m.mem.peek(BUF, 4), [0xff; 4]);
            m.mem.poke(BUF, &[0; 4]);
        }
        // No buffer, or one outside OS memory: PARAMETER before anything is asked.
        let before = m.pci.calls.borrow().len();
        assert_eq!(m.call(OPAL_PCI_CONFIG_READ_WORD, &[PHB, 0x100, 0, 0]), -1);
        assert_eq!(
            m.call(OPAL_PCI_CONFIG_READ_WORD, &[PHB, 0x100, 0, 0x8_0000]),
            -1
        );
        assert_eq!(m.pci.calls.borrow().len(), before);
        // Bus 0 beyond the root port: HARDWARE.
        assert_eq!(m.call(OPAL_PCI_CONFIG_READ_WORD, &[PHB, 0x08, 0, BUF]), -6);
        assert_eq!(m.call(OPAL_PCI_CONFIG_WRITE_WORD, &[PHB, 0x08, 0, 1]), -6);
        // A PHB another CPU holds: BUSY.
        m.pci.held.set(true);
        assert_eq!(m.call(OPAL_PCI_CONFIG_READ_WORD, &[PHB, 0x100, 0, BUF]), -2);
        assert_eq!(
            m.call(OPAL_PCI_EEH_FREEZE_STATUS, &[PHB, 1, BUF, BUF + 2, 0]),
            -2
        );
    }

    #[test]
    fn freeze_status_needs_both_buffers_and_reports_big_endian() {
        let m = machine();
        m.mem.poke(BUF, &[0xee; 4]);
        assert_eq!(
            m.call(OPAL_PCI_EEH_FREEZE_STATUS, &[PHB, 255, BUF, BUF + 2, 0]),
            0
        );
        assert_eq!(m.mem.peek(BUF, 4), [0, 0xee, 0, 0]);
        m.pci.frozen.borrow_mut().push((PHB, 7));
        assert_eq!(
            m.call(OPAL_PCI_EEH_FREEZE_STATUS, &[PHB, 7, BUF, BUF + 2, 0]),
            0
        );
        assert_eq!(m.mem.peek(BUF, 4), [3, 0xee, 0, 2]);
        assert_eq!(m.call(OPAL_PCI_EEH_FREEZE_CLEAR, &[PHB, 7, 3]), 0);
        assert_eq!(
            m.call(OPAL_PCI_EEH_FREEZE_STATUS, &[PHB, 7, BUF, BUF + 2, 0]),
            0
        );
        assert_eq!(m.mem.peek(BUF, 1), [0]);
        // PE past the PHB's 256; missing buffers.
        assert_eq!(
            m.call(OPAL_PCI_EEH_FREEZE_STATUS, &[PHB, 256, BUF, BUF + 2, 0]),
            -1
        );
        assert_eq!(
            m.call(OPAL_PCI_EEH_FREEZE_STATUS, &[0, 511, BUF, BUF + 2, 0]),
            0,
            "big PHB"
        );
        assert_eq!(
            m.call(OPAL_PCI_EEH_FREEZE_STATUS, &[PHB, 1, 0, BUF + 2, 0]),
            -1
        );
        assert_eq!(m.call(OPAL_PCI_EEH_FREEZE_STATUS, &[PHB, 1, BUF, 0, 0]), -1);
        assert_eq!(m.call(OPAL_PCI_EEH_FREEZE_CLEAR, &[PHB, 1, 4]), -1);
    }

    #[test]
    fn msi_addresses_are_written_big_endian() {
        let m = machine();
        assert_eq!(m.call(OPAL_GET_MSI_64, &[PHB, 1, 0x25, 1, BUF, BUF + 8]), 0);
        assert_eq!(m.mem.peek_be64(BUF), 1 << 60 | 0x200);
        assert_eq!(m.mem.peek(BUF + 8, 4), [0, 0, 0, 5]);
        assert_eq!(
            m.pci.calls.borrow().last().unwrap(),
            &("get_msi_64", vec![1, 0x25, 1])
        );
        assert_eq!(m.call(OPAL_GET_MSI_32, &[PHB, 1, 0x25, 1, BUF, BUF + 4]), 0);
        assert_eq!(m.mem.peek(BUF, 8), [0xff, 0xff, 0x02, 0x00, 0, 0, 0, 5]);
        assert_eq!(
            m.call(OPAL_GET_MSI_64, &[PHB, 256, 0, 1, BUF, BUF + 8]),
            -1,
            "bad PE"
        );
        assert_eq!(
            m.call(OPAL_GET_MSI_64, &[PHB, 1, 0, 1, 0, BUF + 8]),
            -1,
            "no address buffer"
        );
        assert_eq!(
            m.call(OPAL_GET_MSI_64, &[PHB, 1, 0, 1, BUF, 0]),
            -1,
            "no data buffer"
        );
        assert_eq!(m.call(OPAL_PCI_SET_XIVE_PE, &[PHB, 256, 3]), -1);
        assert_eq!(m.call(OPAL_PCI_SET_XIVE_PE, &[PHB, 255, 3]), 0);
    }

    #[test]
    fn arguments_are_truncated_to_their_c_widths() {
        let m = machine();
        assert_eq!(
            m.call(
                OPAL_PCI_SET_PE,
                &[PHB, 5, 0x100, 0x107, 0x100, 0x101, 0x201]
            ),
            0
        );
        assert_eq!(
            m.pci.calls.borrow().last().unwrap().1,
            [5, 0x100, 7, 0, 1, 1]
        );
        assert_eq!(
            m.call(OPAL_PCI_SET_PE, &[PHB, 300, 0x100, 7, 0, 0, 1]),
            -1,
            "PE past 256"
        );
        assert_eq!(
            m.call(OPAL_PCI_SET_PE, &[PHB, 5, 0x1_0000, 7, 0, 0, 1]),
            -1,
            "bdfn past 16 bits"
        );
        assert_eq!(
            m.call(OPAL_PCI_SET_PELTV, &[PHB, 0xfe, 0x1_0000_0005, 0x101]),
            0
        );
        assert_eq!(m.pci.calls.borrow().last().unwrap().1, [0xfe, 5, 1]);
        // The PE of the DMA calls is a u16: 0x1_0005 is PE 5.
        assert_eq!(
            m.call(
                OPAL_PCI_MAP_PE_DMA_WINDOW_REAL,
                &[PHB, 0x1_0005, 11, 1 << 59, 1 << 31]
            ),
            0
        );
        assert_eq!(
            m.pci.calls.borrow().last().unwrap().1,
            [5, 11, 1 << 59, 1 << 31]
        );
        assert_eq!(
            m.call(
                OPAL_PCI_MAP_PE_DMA_WINDOW,
                &[PHB, 5, 10, 2, 0x4_0000, 0x1000, 0x1000]
            ),
            0
        );
        assert_eq!(
            m.call(
                OPAL_PCI_MAP_PE_DMA_WINDOW,
                &[PHB, 256, 10, 2, 0x4_0000, 0x1000, 0x1000]
            ),
            -1
        );
        assert_eq!(m.call(OPAL_PCI_TCE_KILL, &[PHB, 1, 5, 0x1000, 0, 1]), 0);
        assert_eq!(m.call(OPAL_PCI_PHB_MMIO_ENABLE, &[PHB, 0x1_0002, 15, 1]), 0);
        assert_eq!(m.pci.calls.borrow().last().unwrap().1, [2, 15, 1]);
        assert_eq!(
            m.call(
                OPAL_PCI_SET_PHB_MEM_WINDOW,
                &[PHB, 2, 15, 0x6000_0000_0000, 0, 1 << 38]
            ),
            0
        );
        assert_eq!(m.call(OPAL_PCI_MAP_PE_MMIO_WINDOW, &[PHB, 5, 1, 0, 5]), 0);
        assert_eq!(
            m.call(OPAL_PCI_MAP_PE_MMIO_WINDOW, &[9, 5, 1, 0, 5]),
            -1,
            "unknown PHB"
        );
    }

    #[test]
    fn reset_and_poll_return_milliseconds() {
        let m = machine();
        m.pci.reset_ms.set(250);
        assert_eq!(m.call(OPAL_PCI_RESET, &[PHB, 5, 1]), 250);
        assert_eq!(m.call(OPAL_PCI_POLL, &[PHB]), 250);
        m.pci.reset_ms.set(0);
        assert_eq!(m.call(OPAL_PCI_POLL, &[PHB]), 0);
        assert_eq!(m.call(OPAL_PCI_RESET, &[9, 6, 1]), -1, "unknown slot");
    }
}
