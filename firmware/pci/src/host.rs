// SPDX-License-Identifier: Apache-2.0
//! The machine's PHBs behind [`hal::PciHost`], for the `OPAL_PCI_*` handlers: a
//! [`PhbRegistry`] of PHBs, each in its own [`FwLock`].
//!
//! Concurrency: a call takes the lock of the one PHB it names, with a bounded wait
//! (`LOCK_SPINS`), and answers `OPAL_BUSY` without touching anything if it does not get
//! it; calls on different PHBs run in parallel. No lock is taken under a PHB lock (the
//! XSCOM accesses of a reset go straight to the hardware). The hot call,
//! `EEH_FREEZE_STATUS` (thousands per boot), is one uncontended lock and two IODA reads.
//! The registry itself is built at boot and read-only afterwards.

use alloc::boxed::Box;
use hal::{FreezeReport, FwLock, Holder, PciHost, Scom};
use opal_api::{OpalError, OpalResult};

use crate::phb::Phb;
use crate::registry::{PhbRegistry, RegistryError};
use crate::{AccessSize, PhbRegs};

/// PHBs one machine may have: 6 per chip, 4 chips.
pub const MAX_PHBS: usize = 24;
/// Spins before a call gives up on a PHB's lock (milliseconds on QEMU; a PHB call holds
/// it for microseconds, an IODA reset for a few milliseconds).
const LOCK_SPINS: u32 = 10_000_000;

/// Every PHB that came up, by OPAL id. `S` is the XSCOM access resets need.
pub struct Host<R: PhbRegs, S> {
    phbs: PhbRegistry<Box<FwLock<Phb<'static, R>>>, MAX_PHBS>,
    scom: fn() -> S,
}

impl<R: PhbRegs, S: Scom> Host<R, S> {
    pub fn new(scom: fn() -> S) -> Self {
        Host {
            phbs: PhbRegistry::new(),
            scom,
        }
    }

    /// Adds a PHB that is up (boot).
    pub fn insert(&mut self, phb: Phb<'static, R>) -> Result<(), RegistryError> {
        let id = phb.layout().opal_id;
        self.phbs.insert(id, Box::new(FwLock::new(phb)))
    }

    pub fn len(&self) -> usize {
        self.phbs.iter().count()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn locked<T>(
        &self,
        who: Holder,
        phb: u64,
        f: impl FnOnce(&mut Phb<'static, R>) -> OpalResult<T>,
    ) -> OpalResult<T> {
        let lock = self.phbs.get(phb)?;
        let mut g = lock.lock_bounded(who, LOCK_SPINS).ok_or(OpalError::Busy)?;
        f(&mut g)
    }

    fn slot_locked<T>(
        &self,
        who: Holder,
        slot: u64,
        f: impl FnOnce(&mut Phb<'static, R>, &mut S) -> OpalResult<T>,
    ) -> OpalResult<T> {
        let lock = self.phbs.slot(slot)?;
        let mut g = lock.lock_bounded(who, LOCK_SPINS).ok_or(OpalError::Busy)?;
        let mut scom = (self.scom)();
        f(&mut g, &mut scom)
    }
}

fn size(bytes: u8) -> OpalResult<AccessSize> {
    AccessSize::from_bytes(u32::from(bytes)).ok_or(OpalError::Parameter)
}

impl<R: PhbRegs + Send, S: Scom> PciHost for Host<R, S> {
    fn present(&self) -> bool {
        !self.is_empty()
    }

    fn config_read(
        &self,
        who: Holder,
        phb: u64,
        bdfn: u64,
        offset: u64,
        bytes: u8,
    ) -> (u32, OpalResult<()>) {
        let ones = match size(bytes) {
            Ok(s) => s.all_ones(),
            Err(e) => return (u32::MAX, Err(e)),
        };
        let mut out = (ones, Ok(()));
        let r = self.locked(who, phb, |p| {
            let rep = p.config_read(bdfn, offset, size(bytes)?);
            out = (rep.data, rep.result);
            Ok(())
        });
        if let Err(e) = r {
            return (ones, Err(e));
        }
        out
    }

    fn config_write(
        &self,
        who: Holder,
        phb: u64,
        bdfn: u64,
        offset: u64,
        bytes: u8,
        value: u32,
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| {
            p.config_write(bdfn, offset, size(bytes)?, value)
        })
    }

    fn eeh_freeze_status(&self, who: Holder, phb: u64, pe: u64) -> (FreezeReport, OpalResult<()>) {
        let mut out = (
            FreezeReport {
                state: 0,
                error_type: 0,
            },
            Ok(()),
        );
        let r = self.locked(who, phb, |p| {
            let rep = p.eeh_freeze_status(pe);
            out = (
                FreezeReport {
                    state: rep.data.state.raw(),
                    error_type: rep.data.error_type.raw(),
                },
                rep.result,
            );
            Ok(())
        });
        if let Err(e) = r {
            out.1 = Err(e);
        }
        out
    }

    fn eeh_freeze_clear(&self, who: Holder, phb: u64, pe: u64, action: u64) -> OpalResult<()> {
        self.locked(who, phb, |p| p.eeh_freeze_clear(pe, action))
    }

    fn phb_mmio_enable(
        &self,
        who: Holder,
        phb: u64,
        window_type: u16,
        window: u16,
        enable: u16,
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| p.phb_mmio_enable(window_type, window, enable))
    }

    fn set_phb_mem_window(
        &self,
        who: Holder,
        phb: u64,
        window_type: u16,
        window: u16,
        addr: u64,
        pci_addr: u64,
        size: u64,
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| {
            p.set_phb_mem_window(window_type, window, addr, pci_addr, size)
        })
    }

    fn map_pe_mmio_window(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        window_type: u16,
        window: u16,
        segment: u16,
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| {
            p.map_pe_mmio_window(pe, window_type, window, segment)
        })
    }

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
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| {
            p.set_pe(pe, bdfn, bus_compare, dev_compare, func_compare, action)
        })
    }

    fn set_peltv(
        &self,
        who: Holder,
        phb: u64,
        parent: u32,
        child: u32,
        state: u8,
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| p.set_peltv(parent, child, state))
    }

    fn set_xive_pe(&self, who: Holder, phb: u64, pe: u64, ive: u32) -> OpalResult<()> {
        self.locked(who, phb, |p| p.set_xive_pe(pe, ive))
    }

    fn get_msi_64(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        ive: u32,
        range: u8,
    ) -> OpalResult<(u64, u32)> {
        self.locked(who, phb, |p| {
            p.get_msi_64(pe, ive, range).map(|m| (m.address, m.data))
        })
    }

    fn get_msi_32(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        ive: u32,
        range: u8,
    ) -> OpalResult<(u32, u32)> {
        self.locked(who, phb, |p| {
            p.get_msi_32(pe, ive, range).map(|m| (m.address, m.data))
        })
    }

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
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| {
            p.map_pe_dma_window(pe, window_id, levels, table_addr, table_size, page_size)
        })
    }

    fn map_pe_dma_window_real(
        &self,
        who: Holder,
        phb: u64,
        pe: u64,
        window_id: u16,
        pci_start: u64,
        size: u64,
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| {
            p.map_pe_dma_window_real(pe, window_id, pci_start, size)
        })
    }

    fn tce_kill(
        &self,
        who: Holder,
        phb: u64,
        kill_type: u32,
        pe: u64,
        tce_size: u32,
        dma_addr: u64,
        npages: u32,
    ) -> OpalResult<()> {
        self.locked(who, phb, |p| {
            p.tce_kill(kill_type, pe, tce_size, dma_addr, npages)
        })
    }

    fn pci_reset(&self, who: Holder, slot: u64, scope: u8, assert_state: u8) -> OpalResult<u64> {
        self.slot_locked(who, slot, |p, s| p.pci_reset(s, scope, assert_state))
    }

    fn pci_poll(&self, who: Holder, slot: u64) -> OpalResult<u64> {
        self.slot_locked(who, slot, |p, s| p.pci_poll(s))
    }

    fn release_abandoned(&self, who: Holder) -> usize {
        self.phbs
            .iter()
            .filter(|(_, lock)| lock.release_abandoned(who))
            .count()
    }
}
