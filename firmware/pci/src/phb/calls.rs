// SPDX-License-Identifier: Apache-2.0
//! The `OPAL_PCI_*` calls of the disk-and-NIC milestone (pci-phb.md §3.1, §7.1) as methods
//! of [`Phb`], after skiboot `hw/phb4.c` and `core/pci-opal.c`. The arguments are the C
//! prototype's, already truncated to its widths by the call table; checking their meaning
//! (PE in range, window numbers, alignment) is done here.
//!
//! Every call that refuses its arguments returns before it changes anything: no cache,
//! in-memory table or PHB register is written. Where skiboot checks less than it should,
//! this code checks more and says so next to the check.

use opal_api::pci::{
    BusCompare, FreezeAction, FreezeState, M64Enable, PciErrorType, PeAction, PeltvAction,
    RidCompare, TceKill, WindowType,
};
use opal_api::{OpalError, OpalResult};

use super::{Phb, ResetProgress};
use crate::config::{config_read_pe, config_write_pe, AccessSize, CfgError, CONFIG_SPACE_SIZE};
use crate::ioda::{self, mbt, IodaError};
use crate::msi::{Msi, MsiError, MsiSpace};
use crate::reg::{self, ioda as ia};
use crate::{get_field, ppc_bit, set_field, Bdfn, PhbRegs};

/// A completion bit the PHB never set, or an all-ones (fenced) read while waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HwTimeout;

impl From<HwTimeout> for OpalError {
    fn from(_: HwTimeout) -> OpalError {
        OpalError::Hardware
    }
}

impl From<IodaError> for OpalError {
    fn from(_: IodaError) -> OpalError {
        OpalError::Parameter
    }
}

impl From<MsiError> for OpalError {
    fn from(_: MsiError) -> OpalError {
        OpalError::Parameter
    }
}

impl From<CfgError> for OpalError {
    fn from(e: CfgError) -> OpalError {
        match e {
            CfgError::BadSize | CfgError::Misaligned | CfgError::OutOfRange => OpalError::Parameter,
            // skiboot: "The root bus only has a device at 0 ... return an error to Linux".
            CfgError::NoDevice => OpalError::Hardware,
        }
    }
}

/// What to store in the OS's out-parameters, and what to return. skiboot fills the buffers
/// even when the call fails (all-ones config data, "frozen" for a dead PHB), so the two go
/// together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reported<T> {
    pub data: T,
    pub result: OpalResult<()>,
}

/// `OPAL_PCI_EEH_FREEZE_STATUS` out-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreezeStatus {
    pub state: FreezeState,
    pub error_type: PciErrorType,
}

impl FreezeStatus {
    pub const NOT_FROZEN: FreezeStatus = FreezeStatus {
        state: FreezeState::NotFrozen,
        error_type: PciErrorType::NoError,
    };
    /// A fenced or dead PHB: everything below it is stopped.
    pub const PHB_STOPPED: FreezeStatus = FreezeStatus {
        state: FreezeState::MmioDmaFreeze,
        error_type: PciErrorType::PhbError,
    };
}

/// A requester-id mask for SET_PE: the bits of a bdfn that must match.
fn rid_mask(bus: BusCompare, dev: RidCompare, func: RidCompare) -> u16 {
    let bus_bits: u16 = match bus {
        BusCompare::Any => 0,
        // n top bits of the bus number (skiboot: ((1 << (n + 1)) - 1) << (15 - n), n = value).
        other => {
            let n = other.raw() as u16 + 1;
            ((1u16 << n) - 1) << (16 - n)
        }
    };
    let dev_bits = if dev == RidCompare::Compare { 0xf8 } else { 0 };
    let fn_bits = if func == RidCompare::Compare { 0x07 } else { 0 };
    bus_bits | dev_bits | fn_bits
}

/// Every requester id `rid` with `rid & mask == want` (`want` inside `mask`), in
/// increasing order: the values of the bits `mask` leaves free, counted through.
pub(super) fn rids_matching(mask: u16, want: u16) -> impl Iterator<Item = u16> {
    let free = !mask;
    let mut next = Some(0u16);
    core::iter::from_fn(move || {
        let sub = next?;
        // The next subset of `free`: add one with the fixed bits forced to carry.
        next = (sub != free).then(|| (sub | mask).wrapping_add(1) & free);
        Some(want | sub)
    })
}

impl<R: PhbRegs> Phb<'_, R> {
    pub(super) fn alive(&self) -> OpalResult<()> {
        if self.broken {
            Err(OpalError::Hardware)
        } else {
            Ok(())
        }
    }

    /// Alive and not inside a reset: the registers are reachable.
    fn reachable(&self) -> OpalResult<()> {
        self.alive()?;
        if self.reset != ResetProgress::Idle {
            return Err(OpalError::Hardware);
        }
        Ok(())
    }

    fn pe(&self, pe: u64) -> OpalResult<u32> {
        if pe >= self.caps.num_pes as u64 {
            return Err(OpalError::Parameter);
        }
        Ok(pe as u32)
    }

    fn msi_space(&self) -> MsiSpace {
        MsiSpace {
            base: self.irq.base_msi,
            num_irqs: self.caps.num_irqs,
            num_pes: self.caps.num_pes,
        }
    }

    /// skiboot's `phb4_pcicfg_check`, in its order: argument errors first, then the
    /// missing bus-0 devices, then the PHB's state.
    fn cfg_target(&self, bdfn: u64, offset: u64, size: AccessSize) -> OpalResult<(Bdfn, u32, u16)> {
        let bdfn = Bdfn::from_raw(bdfn).ok_or(OpalError::Parameter)?;
        if offset >= CONFIG_SPACE_SIZE as u64 || !offset.is_multiple_of(size.bytes() as u64) {
            return Err(OpalError::Parameter);
        }
        if bdfn.bus() == 0 && bdfn.devfn() != 0 {
            return Err(CfgError::NoDevice.into());
        }
        self.reachable()?;
        Ok((bdfn, offset as u32, self.rtt_pe(bdfn)))
    }

    /// `OPAL_PCI_CONFIG_READ_BYTE/HALF_WORD/WORD(phb, bdfn, offset, *data)`.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | bdfn > 0xffff, offset > 0xfff, offset not a multiple of the size |
    /// | `Hardware` | bus 0 devfn != 0 (only the root port is there), PHB dead, in reset or fenced |
    ///
    /// `data` is what goes to the OS buffer in every case: all-ones of the size when the
    /// call fails or no function answers (skiboot presets the buffer the same way). A
    /// read of all-ones is checked against ETU_ERR_SUMMARY, so a fence shows as
    /// `Hardware` without costing the normal path a register read.
    pub fn config_read(&mut self, bdfn: u64, offset: u64, size: AccessSize) -> Reported<u32> {
        let failed = |e| Reported {
            data: size.all_ones(),
            result: Err(e),
        };
        let (bdfn, offset, pe) = match self.cfg_target(bdfn, offset, size) {
            Ok(t) => t,
            Err(e) => return failed(e),
        };
        match config_read_pe(&mut self.regs, bdfn, pe, offset, size.bytes()) {
            Ok(v) if v == size.all_ones() && self.fenced() => failed(OpalError::Hardware),
            Ok(v) => Reported {
                data: v,
                result: Ok(()),
            },
            Err(e) => failed(e.into()),
        }
    }

    /// `OPAL_PCI_CONFIG_WRITE_BYTE/HALF_WORD/WORD(phb, bdfn, offset, data)`: the checks of
    /// [`Self::config_read`]; the low `size` bytes of `value` are written.
    pub fn config_write(
        &mut self,
        bdfn: u64,
        offset: u64,
        size: AccessSize,
        value: u32,
    ) -> OpalResult<()> {
        let (bdfn, offset, pe) = self.cfg_target(bdfn, offset, size)?;
        config_write_pe(&mut self.regs, bdfn, pe, offset, size.bytes(), value)?;
        Ok(())
    }

    /// `OPAL_PCI_EEH_FREEZE_STATUS(phb, pe, *freeze_state, *pci_error_type, NULL)`.
    ///
    /// Linux calls this after every config access during the boot scan (about 2,000 times),
    /// so a healthy PHB costs three register accesses: the fence check, the PEEV select
    /// and its read; the PESTs are read only for a PE whose PEEV bit is set. Nothing is
    /// written but IODA_ADDR.
    ///
    /// | result | data | when |
    /// |---|---|---|
    /// | `Parameter` | not frozen | pe >= num_pes (skiboot does not check; it would index the PEEV past its end) |
    /// | `Hardware` | MMIO+DMA frozen, PHB error | the PHB is dead |
    /// | success | MMIO+DMA frozen, PHB error | fenced, or inside a reset |
    /// | success | per PESTA/PESTB bit 0 | otherwise |
    pub fn eeh_freeze_status(&mut self, pe: u64) -> Reported<FreezeStatus> {
        let report = |data, result| Reported { data, result };
        let pe = match self.pe(pe) {
            Ok(pe) => pe as usize,
            Err(e) => return report(FreezeStatus::NOT_FROZEN, Err(e)),
        };
        if self.broken {
            return report(FreezeStatus::PHB_STOPPED, Err(OpalError::Hardware));
        }
        if self.reset != ResetProgress::Idle || self.fenced() {
            return report(FreezeStatus::PHB_STOPPED, Ok(()));
        }
        let peev = self.ioda_read(ia::TBL_PEEV, pe / 64);
        if peev & ppc_bit((pe % 64) as u32) == 0 {
            return report(FreezeStatus::NOT_FROZEN, Ok(()));
        }
        let mmio = self.ioda_read(ia::TBL_PESTA, pe) & ioda::PESTA_MMIO_FROZEN != 0;
        let dma = self.ioda_read(ia::TBL_PESTB, pe) & ioda::PESTB_DMA_STOPPED != 0;
        let state = match (mmio, dma) {
            (false, false) => FreezeState::NotFrozen,
            (true, false) => FreezeState::MmioFreeze,
            (false, true) => FreezeState::DmaFreeze,
            (true, true) => FreezeState::MmioDmaFreeze,
        };
        // skiboot leaves the error type at "no error" for a PE-level freeze.
        report(
            FreezeStatus {
                state,
                error_type: PciErrorType::NoError,
            },
            Ok(()),
        )
    }

    /// `OPAL_PCI_EEH_FREEZE_CLEAR(phb, pe, action)`: clear PESTA (MMIO), PESTB (DMA) or
    /// both for `pe`.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | pe >= num_pes, action not 1-3 |
    /// | `Hardware` | the PHB is dead, in reset or fenced |
    ///
    /// skiboot also clears the PHB's error registers first when ETU_ERR_SUMMARY is non-zero
    /// (`phb4_err_clear`); that recovery is not done here (QEMU never raises one).
    pub fn eeh_freeze_clear(&mut self, pe: u64, action: u64) -> OpalResult<()> {
        let pe = self.pe(pe)? as usize;
        let action = FreezeAction::from_raw(action).ok_or(OpalError::Parameter)?;
        self.reachable()?;
        if self.fenced() {
            return Err(OpalError::Hardware);
        }
        if matches!(action, FreezeAction::Mmio | FreezeAction::All) {
            self.ioda_write(ia::TBL_PESTA, pe, 0);
        }
        if matches!(action, FreezeAction::Dma | FreezeAction::All) {
            self.ioda_write(ia::TBL_PESTB, pe, 0);
        }
        Ok(())
    }

    /// The M64 window number `window`, checked: MBT[0] is the M32 window and not the OS's.
    fn m64_window(&self, window_type: u16, window: u16) -> OpalResult<usize> {
        match WindowType::from_raw(window_type as u64) {
            Some(WindowType::M64) => {}
            // PHB4 has no I/O space, and M32 is MBT[0], fixed at init.
            Some(WindowType::M32 | WindowType::Io) => return Err(OpalError::Unsupported),
            None => return Err(OpalError::Parameter),
        }
        let window = window as usize;
        if window == 0 || window >= self.caps.mbt_windows() {
            return Err(OpalError::Parameter);
        }
        Ok(window)
    }

    /// `OPAL_PCI_SET_PHB_MEM_WINDOW(phb, type, window, addr, pci_addr, size)`: place M64
    /// window `window` (1..mbt_windows) at CPU address `addr`; takes effect at
    /// PHB_MMIO_ENABLE. `pci_addr` is unused: M64 PCI addresses equal CPU addresses.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Unsupported` | M32 or I/O window |
    /// | `Parameter` | bad type or window number; size not a power of two >= 4 KiB; addr not size-aligned; **the window not inside the PHB's 64-bit BAR** (skiboot defers that to enable time and answers `Partial` there) |
    /// | `Partial` | the window is enabled (disable it first) |
    pub fn set_phb_mem_window(
        &mut self,
        window_type: u16,
        window: u16,
        addr: u64,
        _pci_addr: u64,
        size: u64,
    ) -> OpalResult<()> {
        let w = self.m64_window(window_type, window)?;
        if !size.is_power_of_two() || size < 0x1000 || !addr.is_multiple_of(size) {
            return Err(OpalError::Parameter);
        }
        if !self.layout.m64.contains_range(addr, size) {
            return Err(OpalError::Parameter);
        }
        let [w0, w1] = self.mbt[w];
        if w0 & mbt::W0_ENABLE != 0 {
            return Err(OpalError::Partial);
        }
        self.mbt[w] = [
            (w0 & !mbt::W0_BASE_ADDR) | set_field(mbt::W0_BASE_ADDR, addr >> 12),
            (w1 & !mbt::W1_MASK) | set_field(mbt::W1_MASK, !((size >> 12) - 1)),
        ];
        Ok(())
    }

    /// `OPAL_PCI_PHB_MMIO_ENABLE(phb, type, window, enable)`: turn M64 window `window` on
    /// in split (segment n = PE n) or single-PE mode, or off (back to its default mode).
    ///
    /// | result | when |
    /// |---|---|
    /// | `Unsupported` | M32 or I/O window |
    /// | `Parameter` | bad type, window or enable; the mode does not match `enable` (single-PE needs a MAP_PE_MMIO_WINDOW first); **the window overlaps another enabled window of the same mode** (checked here, not by skiboot) |
    /// | `Partial` | no SET_PHB_MEM_WINDOW before |
    /// | `Hardware` | the PHB is dead or in reset |
    pub fn phb_mmio_enable(
        &mut self,
        window_type: u16,
        window: u16,
        enable: u16,
    ) -> OpalResult<()> {
        let w = self.m64_window(window_type, window)?;
        let enable = M64Enable::from_raw(enable as u64).ok_or(OpalError::Parameter)?;
        self.reachable()?;
        let [w0, w1] = self.mbt[w];
        let words = match enable {
            M64Enable::Disable => [self.default_mbt0(w), 0],
            M64Enable::Split | M64Enable::NonSplit => {
                let mode = get_field(mbt::W0_MODE, w0);
                let single = mode == mbt::MODE_SINGLE_PE;
                if single != (enable == M64Enable::NonSplit) {
                    return Err(OpalError::Parameter);
                }
                let base = get_field(mbt::W0_BASE_ADDR, w0) << 12;
                if base < self.layout.m64.base || get_field(mbt::W1_MASK, w1) == 0 {
                    return Err(OpalError::Partial);
                }
                // Split windows may not overlap each other, nor single-PE windows each
                // other; a single-PE window inside the split one is how Linux carves out
                // SR-IOV BARs, and the hardware gives it priority.
                let me = Self::mbt_range([w0, w1]);
                for other in 1..self.caps.mbt_windows() {
                    let o = self.mbt[other];
                    if other == w || o[0] & mbt::W0_ENABLE == 0 {
                        continue;
                    }
                    let o_single = get_field(mbt::W0_MODE, o[0]) == mbt::MODE_SINGLE_PE;
                    if o_single == single && me.overlaps(&Self::mbt_range(o)) {
                        return Err(OpalError::Parameter);
                    }
                }
                [w0 | mbt::W0_ENABLE, w1 | mbt::W1_ENABLE]
            }
        };
        self.mbt[w] = words;
        self.ioda_select(ia::TBL_MBT, w << 1, true);
        self.regs.write64(reg::IODA_DATA0, words[0]);
        self.regs.write64(reg::IODA_DATA0, words[1]);
        Ok(())
    }

    /// `OPAL_PCI_MAP_PE_MMIO_WINDOW(phb, pe, type, window, segment)`: give M32 segment
    /// `segment` to `pe` (MDT column A), or make M64 window `window` single-PE for `pe`.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | pe >= num_pes; bad type; M32 with window != 0 or segment >= num_pes; M64 window 0 or past the MBT |
    /// | `Unsupported` | I/O window |
    /// | `Partial` | the M64 window is enabled |
    /// | `Hardware` | M32 on a dead PHB or in reset |
    pub fn map_pe_mmio_window(
        &mut self,
        pe: u64,
        window_type: u16,
        window: u16,
        segment: u16,
    ) -> OpalResult<()> {
        let pe = self.pe(pe)? as u64;
        match WindowType::from_raw(window_type as u64) {
            Some(WindowType::Io) => Err(OpalError::Unsupported),
            Some(WindowType::M32) => {
                let seg = segment as usize;
                if window != 0 || seg >= self.caps.num_pes as usize {
                    return Err(OpalError::Parameter);
                }
                self.reachable()?;
                let col_a = ia::mdt_column(0);
                let entry = (self.mdt[seg] & !col_a) | set_field(col_a, pe);
                // Unlike skiboot, the cache keeps it too, so a reset restores it.
                self.mdt[seg] = entry;
                self.ioda_write(ia::TBL_MDT, seg, entry);
                Ok(())
            }
            Some(WindowType::M64) => {
                let w = window as usize;
                if w == 0 || w >= self.caps.mbt_windows() {
                    return Err(OpalError::Parameter);
                }
                let [w0, w1] = self.mbt[w];
                if w0 & mbt::W0_ENABLE != 0 {
                    return Err(OpalError::Partial);
                }
                self.mbt[w] = [
                    (w0 & !mbt::W0_MODE) | set_field(mbt::W0_MODE, mbt::MODE_SINGLE_PE),
                    (w1 & !mbt::W1_SINGLE_PE_NUM) | set_field(mbt::W1_SINGLE_PE_NUM, pe),
                ];
                Ok(())
            }
            None => Err(OpalError::Parameter),
        }
    }

    /// `OPAL_PCI_SET_PE(phb, pe, bdfn, bus_compare, dev_compare, func_compare, action)`:
    /// map (or unmap, to the reserved PE) every requester id that matches `bdfn` under the
    /// compare rules: bus compare 0 = any bus, 2-6 = the top 3-7 bits, 7 = the whole bus
    /// number; device and function compare 0 = any, 1 = equal. Then invalidate the PHB's
    /// RID cache (QEMU caches RTT lookups until then).
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | pe >= num_pes, bdfn > 0xffff, an undefined compare or action |
    /// | `Hardware` | the PHB is dead or in reset |
    pub fn set_pe(
        &mut self,
        pe: u64,
        bdfn: u64,
        bus_compare: u8,
        dev_compare: u8,
        func_compare: u8,
        action: u8,
    ) -> OpalResult<()> {
        let pe = self.pe(pe)?;
        let bdfn = Bdfn::from_raw(bdfn).ok_or(OpalError::Parameter)?;
        let bus = BusCompare::from_raw(bus_compare as u64).ok_or(OpalError::Parameter)?;
        let dev = RidCompare::from_raw(dev_compare as u64).ok_or(OpalError::Parameter)?;
        let func = RidCompare::from_raw(func_compare as u64).ok_or(OpalError::Parameter)?;
        let action = PeAction::from_raw(action as u64).ok_or(OpalError::Parameter)?;
        self.reachable()?;
        let target = match action {
            PeAction::Map => pe,
            PeAction::Unmap => self.caps.reserved_pe(),
        };
        let mask = rid_mask(bus, dev, func);
        let want = bdfn.raw() & mask;
        let entry = ioda::rtt_entry(target as u16);
        // Only the matching entries are visited: a device PE is one entry, a bus PE 256,
        // where a scan of all 65,536 cost Linux's boot 2 ms per call.
        for rid in rids_matching(mask, want) {
            let at = usize::from(rid) * 2;
            self.tables.rtt[at..at + 2].copy_from_slice(&entry);
        }
        self.regs
            .write64(reg::RTC_INVALIDATE, reg::RTC_INVALIDATE_ALL);
        Ok(())
    }

    /// `OPAL_PCI_SET_PELTV(phb, parent_pe, child_pe, state)`: add `child` to (or remove it
    /// from) the set of PEs frozen along with `parent`.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | a PE >= num_pes; state not 0 or 1 (skiboot takes any non-zero as "add") |
    pub fn set_peltv(&mut self, parent: u32, child: u32, state: u8) -> OpalResult<()> {
        let n = self.caps.num_pes;
        if parent >= n || child >= n {
            return Err(OpalError::Parameter);
        }
        let action = PeltvAction::from_raw(state as u64).ok_or(OpalError::Parameter)?;
        // Rows are num_pes / 8 bytes: skiboot sizes them by the PHB's PE count.
        let (byte, bit) =
            ioda::peltv_bit(parent as u16, child as u16, n as u16).ok_or(OpalError::Parameter)?;
        match action {
            PeltvAction::Add => self.tables.peltv[byte] |= bit,
            PeltvAction::Remove => self.tables.peltv[byte] &= !bit,
        }
        Ok(())
    }

    /// `OPAL_PCI_SET_XIVE_PE(phb, pe, ive)`: charge MSI `ive` to `pe` (its MIST quarter;
    /// this also clears the entry's P and Q bits, so not while the MSI can fire).
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | pe >= num_pes, ive >= num_irqs - 8 |
    /// | `Hardware` | the PHB is dead or in reset |
    pub fn set_xive_pe(&mut self, pe: u64, ive: u32) -> OpalResult<()> {
        let pe = self.pe(pe)? as u64;
        if ive >= self.caps.msi_count() {
            return Err(OpalError::Parameter);
        }
        self.reachable()?;
        let word = ive as usize / 4;
        let quarter = ive % 4;
        // Entry 0 of a word is its most significant quarter.
        let shift = (3 - quarter) * 16;
        self.mist[word] = (self.mist[word] & !(0xffff << shift)) | (pe << shift);
        self.ioda_select(ia::TBL_MIST, word, false);
        let addr = self.regs.read64(reg::IODA_ADDR);
        self.regs.write64(
            reg::IODA_ADDR,
            (addr & !ia::MIST_PWV) | set_field(ia::MIST_PWV, 8 >> quarter),
        );
        let value = self.mist[word];
        self.regs.write64(reg::IODA_DATA0, value);
        Ok(())
    }

    /// `OPAL_GET_MSI_64(phb, mve, ive, range, *addr, *data)`: what the device writes, and
    /// where, to raise MSI `ive` (Linux passes its PE as `mve`).
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | pe >= num_pes, ive >= num_irqs - 8, range != 1 |
    pub fn get_msi_64(&self, pe: u64, ive: u32, range: u8) -> OpalResult<Msi<u64>> {
        Ok(self.msi_space().msi64(pe, ive, range)?)
    }

    /// `OPAL_GET_MSI_32`: as [`Self::get_msi_64`], in the 32-bit MSI window.
    pub fn get_msi_32(&self, pe: u64, ive: u32, range: u8) -> OpalResult<Msi<u32>> {
        Ok(self.msi_space().msi32(pe, ive, range)?)
    }

    fn dma_window(&self, pe: u64, window_id: u16) -> OpalResult<usize> {
        let pe = self.pe(pe)?;
        // Two TVEs per PE (CTRLR TVT_ADDR_SEL = 0): window pe*2 + bit 59 of the address.
        if (window_id >> 1) as u32 != pe {
            return Err(OpalError::Parameter);
        }
        Ok(window_id as usize)
    }

    fn set_tve(&mut self, index: usize, tve: u64) {
        self.tve[index] = tve;
        self.ioda_write(ia::TBL_TVT, index, tve);
    }

    /// `OPAL_PCI_MAP_PE_DMA_WINDOW(phb, pe, window_id, levels, table, table_size,
    /// page_size)`: a translated DMA window through a TCE table of `levels` levels of
    /// `table_size` bytes each; `table_size` 0 disables the window.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | pe >= num_pes; window_id not pe*2 or pe*2+1; levels not 1-5; table size not a power of two from 4 KiB to 2^42; page size not 4K/64K/2M/1G; **table address not 4 KiB aligned or past 2^60** (skiboot drops the low bits silently) |
    /// | `Hardware` | the PHB is dead or in reset |
    pub fn map_pe_dma_window(
        &mut self,
        pe: u64,
        window_id: u16,
        levels: u16,
        table_addr: u64,
        table_size: u64,
        page_size: u64,
    ) -> OpalResult<()> {
        let index = self.dma_window(pe, window_id)?;
        let tve = if table_size == 0 {
            0
        } else {
            if !table_addr.is_multiple_of(0x1000) || table_addr >> 60 != 0 {
                return Err(OpalError::Parameter);
            }
            ioda::tve_tce(table_addr, levels as u32, table_size, page_size)?
        };
        self.reachable()?;
        self.set_tve(index, tve);
        Ok(())
    }

    /// `OPAL_PCI_MAP_PE_DMA_WINDOW_REAL(phb, pe, window_id, pci_start, size)`: an
    /// untranslated window (DMA address = physical address | bit 59), the 64-bit bypass
    /// Linux asks for; `size` 0 disables it.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | pe >= num_pes; window_id not pe*2 or pe*2+1; bit 59 of `pci_start` not the window's parity or bits 60-63 set; start or size not 16 MiB aligned; end past 2^50 |
    /// | `Hardware` | the PHB is dead or in reset |
    pub fn map_pe_dma_window_real(
        &mut self,
        pe: u64,
        window_id: u16,
        pci_start: u64,
        size: u64,
    ) -> OpalResult<()> {
        let index = self.dma_window(pe, window_id)?;
        if size != 0 && pci_start >> 59 != (window_id & 1) as u64 {
            return Err(OpalError::Parameter);
        }
        let tve = ioda::tve_bypass(pci_start, size)?;
        self.reachable()?;
        self.set_tve(index, tve);
        Ok(())
    }

    /// `OPAL_PCI_TCE_KILL(phb, kill_type, pe, tce_size, dma_addr, npages)`: drop cached
    /// TCEs after the OS changed a table. Page kills become PE kills, as skiboot does for
    /// HW560152 (a queued page kill can be lost); the page arguments are still checked.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | undefined kill type; pe >= num_pes for a PE or page kill (skiboot does not check); for page kills, a page size not 4K/64K/2M/1G or an address not aligned to it or with bits 60-63 set |
    /// | `Hardware` | the PHB is dead, in reset, fenced, or the kill or DMA sync never completes |
    pub fn tce_kill(
        &mut self,
        kill_type: u32,
        pe: u64,
        tce_size: u32,
        dma_addr: u64,
        _npages: u32,
    ) -> OpalResult<()> {
        let kind = TceKill::from_raw(kill_type as u64).ok_or(OpalError::Parameter)?;
        let value = match kind {
            TceKill::All => reg::TCE_KILL_ALL,
            TceKill::Pe | TceKill::Pages => {
                let pe = self.pe(pe)? as u64;
                if kind == TceKill::Pages {
                    let page = tce_size as u64;
                    if !matches!(page, 0x1000 | 0x1_0000 | 0x20_0000 | 0x4000_0000)
                        || dma_addr & (0xf000_0000_0000_0000 | (page - 1)) != 0
                    {
                        return Err(OpalError::Parameter);
                    }
                }
                reg::TCE_KILL_PE | set_field(reg::TCE_KILL_PENUM, pe)
            }
        };
        self.reachable()?;
        Ok(self.kill_tces(value)?)
    }

    /// The reserved PE (`ibm,opal-reserved-pe`).
    pub fn reserved_pe(&self) -> u32 {
        self.caps.reserved_pe()
    }
}
