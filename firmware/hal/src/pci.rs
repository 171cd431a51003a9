// SPDX-License-Identifier: Apache-2.0
//! The machine's PCI host bridges as the `OPAL_PCI_*` handlers see them: one method per
//! call, arguments as the C prototypes have them (already truncated to their widths),
//! out-parameters as return values. `phb` is the OPAL PHB id (r3); `slot` for reset and
//! poll is a slot id (the PHB's own id, or `1 << 63 | bdfn << 16 | phb` for a slot below
//! it). The firmware implements it over its PHBs (`pci::host`), each behind its own
//! [`crate::FwLock`]; the tests use [`crate::fake`].
//!
//! Concurrency, for every method: the PHB's lock is taken with a bounded wait, and a
//! call that does not get it answers `OPAL_BUSY` (the OS retries) without touching the
//! PHB. Only the named PHB's lock is taken, never two, and no other firmware lock is
//! taken under it. A CPU that abandons OPAL holding a PHB lock has it freed by
//! [`PciHost::release_abandoned`].

use crate::Holder;
use opal_api::OpalResult;

/// What `OPAL_PCI_EEH_FREEZE_STATUS` stores: the freeze state and PCI error type codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreezeReport {
    pub state: u8,
    pub error_type: u16,
}

pub trait PciHost {
    /// Whether the machine has a PHB at all (without one the calls are absent).
    fn present(&self) -> bool;

    /// Config read of `size` (1, 2 or 4) bytes. The value is what the OS buffer gets
    /// even on failure (all-ones of the size), as skiboot does.
    fn config_read(
        &self,
        who: Holder,
        phb: u64,
        bdfn: u64,
        offset: u64,
        size: u8,
    ) -> (u32, OpalResult<()>);
    fn config_write(
        &self,
        who: Holder,
        phb: u64,
        bdfn: u64,
        offset: u64,
        size: u8,
        value: u32,
    ) -> OpalResult<()>;
    /// As `config_read`: the report is stored even when the call fails.
    fn eeh_freeze_status(&self, who: Holder, phb: u64, pe: u64) -> (FreezeReport, OpalResult<()>);
    fn eeh_freeze_clear(&self, who: Holder, phb: u64, pe: u64, action: u64) -> OpalResult<()>;
    fn phb_mmio_enable(
        &self,
        who: Holder,
        phb: u64,
        window_type: u16,
        window: u16,
        enable: u16,
    ) -> OpalResult<()>;
    #[allow(clippy::too_many_arguments)]
    fn set_phb_mem_window(
        &self,
        who: Holder,
        phb: u64,
        window_type: u16,
        window: u16,
        addr: u64,
        pci_addr: u64,
        size: u64,
    ) -> OpalResult<()>;
    fn map_pe_mmio_window(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        window_type: u16,
        window: u16,
        segment: u16,
    ) -> OpalResult<()>;
    #[allow(clippy::too_many_arguments)]
    fn set_pe(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        bdfn: u64,
        bus_compare: u8,
        dev_compare: u8,
        func_compare: u8,
        action: u8,
    ) -> OpalResult<()>;
    fn set_peltv(
        &self,
        who: Holder,
        phb: u64,
        parent: u32,
        child: u32,
        state: u8,
    ) -> OpalResult<()>;
    fn set_xive_pe(&self, who: Holder, phb: u64, pe: u64, ive: u32) -> OpalResult<()>;
    /// (address, data) of MSI `ive`; `pe` is the call's MVE number.
    fn get_msi_64(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        ive: u32,
        range: u8,
    ) -> OpalResult<(u64, u32)>;
    fn get_msi_32(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        ive: u32,
        range: u8,
    ) -> OpalResult<(u32, u32)>;
    #[allow(clippy::too_many_arguments)]
    fn map_pe_dma_window(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        window_id: u16,
        levels: u16,
        table_addr: u64,
        table_size: u64,
        page_size: u64,
    ) -> OpalResult<()>;
    #[allow(clippy::too_many_arguments)]
    fn map_pe_dma_window_real(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        window_id: u16,
        pci_start: u64,
        size: u64,
    ) -> OpalResult<()>;
    #[allow(clippy::too_many_arguments)]
    fn tce_kill(
        &self,
        who: Holder,
        phb: u64,
        kill_type: u32,
        pe: u64,
        tce_size: u32,
        dma_addr: u64,
        npages: u32,
    ) -> OpalResult<()>;
    /// Milliseconds to wait before `pci_poll`, 0 when done.
    fn pci_reset(&self, who: Holder, slot: u64, scope: u8, assert_state: u8) -> OpalResult<u64>;
    fn pci_poll(&self, who: Holder, slot: u64) -> OpalResult<u64>;
    /// `who` left firmware for good inside a call: free the PHB locks it held. Returns
    /// how many it freed.
    fn release_abandoned(&self, who: Holder) -> usize;
}
