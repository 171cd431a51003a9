// SPDX-License-Identifier: Apache-2.0
//! The firmware's [`xive::Regs`]: XSCOM through each chip's window, cache-inhibited MMIO
//! through `arch::mmio`, and table memory through volatile accesses to firmware RAM.
//!
//! The trait's methods take raw addresses, so this is where they are checked: MMIO must
//! fall in a window of a XIVE unit (its IC, TIMA, ESB and END BARs, the PSI ESBs) and
//! table accesses in memory registered with [`FwRegs::add_table_memory`]. Anything else
//! is refused with an error log (loads then return all ones, as a failed bus read does).
//!
//! Block ids are handed out 0, 1, 2… to the chips that have a XIVE unit, in device-tree
//! order (skiboot `hw/xive.c`), and the instances built here carry the same numbering.

use alloc::vec::Vec;

use xive::ctrl::Instance;
use xive::phys_map;
use xive::Gen;

use crate::arch::mmio::{ci_load64, ci_load8, ci_store64, ci_store8};
use crate::drivers::xscom::Xscom;
use crate::inventory::Chip;

/// A 64 KiB TIMA page per privilege, 4 pages.
const TM_SIZE: u64 = 4 << 16;
/// PSI ESBs: 16 sources of 4 KiB (P9) or 64 KiB (P10) pages.
const PSI_ESB_SIZE: u64 = 16 << 16;

/// The XIVE unit of one block: its chip's XSCOM window and the unit's PCB address.
#[derive(Clone, Copy)]
struct Unit {
    xscom: Xscom,
    pcba: u32,
}

pub struct FwRegs {
    /// Indexed by block id.
    units: Vec<Unit>,
    /// (base, size) of the regions cache-inhibited accesses may reach.
    mmio: Vec<(u64, u64)>,
    /// (base, size) of firmware memory that holds XIVE tables.
    tables: Vec<(u64, u64)>,
}

impl FwRegs {
    /// The units of `chips` (those with a XIVE node), blocks numbered in that order, and
    /// their instances with skiboot's BAR map for `gen`.
    pub fn new(chips: &[Chip], gen: Gen) -> (Self, Vec<Instance>) {
        let mut regs = FwRegs {
            units: Vec::new(),
            mmio: Vec::new(),
            tables: Vec::new(),
        };
        let mut instances = Vec::new();
        for chip in chips {
            let Some(pcba) = chip.xive_pcba else { continue };
            let Ok(blk) = u8::try_from(regs.units.len()) else {
                break;
            };
            // SAFETY: `xscom_base` is the chip's XSCOM window, from its `ibm,xscom` node.
            let xscom = unsafe { Xscom::new(chip.xscom_base) };
            regs.units.push(Unit { xscom, pcba });
            let bars = phys_map::bars(gen, chip.chip_id);
            regs.mmio.push((bars.ic, bars.ic_size));
            regs.mmio.push((bars.vc, bars.vc_size));
            if bars.end_size != 0 {
                regs.mmio.push((bars.end, bars.end_size));
            }
            regs.mmio.push((bars.psi_esb, PSI_ESB_SIZE));
            regs.mmio.push((bars.phb_esb, phys_map::PHB_ESB_SIZE));
            if !regs.mmio.contains(&(bars.tm, TM_SIZE)) {
                regs.mmio.push((bars.tm, TM_SIZE));
            }
            instances.push(Instance {
                blk,
                chip_id: chip.chip_id,
                bars,
            });
        }
        (regs, instances)
    }

    /// Lets table accesses reach `base..base + size`, which must be RAM the firmware owns
    /// (or that the OS donated) for as long as the controller uses it.
    pub fn add_table_memory(&mut self, base: u64, size: u64) {
        self.tables.push((base, size));
    }

    fn unit(&self, blk: u8) -> Option<Unit> {
        let unit = self.units.get(usize::from(blk)).copied();
        if unit.is_none() {
            log::error!("XIVE: XSCOM access to unknown block {blk}");
        }
        unit
    }

    fn mmio_ok(&self, pa: u64, len: u64) -> bool {
        let ok = pa % len == 0 && inside(&self.mmio, pa, len);
        if !ok {
            log::error!("XIVE: refused MMIO access at {pa:#x}");
        }
        ok
    }

    fn table_ok(&self, pa: u64) -> bool {
        let ok = pa % 8 == 0 && inside(&self.tables, pa, 8);
        if !ok {
            log::error!("XIVE: refused table access at {pa:#x}");
        }
        ok
    }
}

#[inline(always)]
fn inside(regions: &[(u64, u64)], pa: u64, len: u64) -> bool {
    // A plain loop: this runs for every table word the boot writes, and under
    // opt-level "z" `Iterator::any` stays an out-of-line call.
    for &(base, size) in regions {
        if pa >= base && pa - base <= size.saturating_sub(len) {
            return true;
        }
    }
    false
}

impl xive::Regs for FwRegs {
    fn xscom_read(&mut self, blk: u8, index: u32) -> u64 {
        match self.unit(blk) {
            Some(u) => u.xscom.read(u.pcba + index),
            None => u64::MAX,
        }
    }

    fn xscom_write(&mut self, blk: u8, index: u32, value: u64) {
        if let Some(u) = self.unit(blk) {
            u.xscom.write(u.pcba + index, value);
        }
    }

    fn load64(&mut self, pa: u64) -> u64 {
        if !self.mmio_ok(pa, 8) {
            return u64::MAX;
        }
        // SAFETY: an aligned address inside a XIVE unit's BAR region, which the driver
        // programmed; every register and ESB/TIMA page there takes 8-byte CI loads.
        unsafe { ci_load64(pa) }
    }

    fn store64(&mut self, pa: u64, value: u64) {
        if self.mmio_ok(pa, 8) {
            // SAFETY: as in `load64`.
            unsafe { ci_store64(pa, value) }
        }
    }

    fn load8(&mut self, pa: u64) -> u8 {
        if !self.mmio_ok(pa, 1) {
            return u8::MAX;
        }
        // SAFETY: inside a XIVE BAR region (TIMA byte fields).
        unsafe { ci_load8(pa) }
    }

    fn store8(&mut self, pa: u64, value: u8) {
        if self.mmio_ok(pa, 1) {
            // SAFETY: as in `load8`.
            unsafe { ci_store8(pa, value) }
        }
    }

    #[inline(always)]
    fn mem_read64(&self, pa: u64) -> u64 {
        if !self.table_ok(pa) {
            return u64::MAX;
        }
        // SAFETY: an aligned u64 inside table memory registered by `add_table_memory`
        // (firmware RAM, identity-mapped with the MMU off). The target is big-endian, as
        // the structures are. Volatile: the controller reads and writes it behind us.
        unsafe { core::ptr::read_volatile(pa as *const u64) }
    }

    #[inline(always)]
    fn mem_write64(&mut self, pa: u64, value: u64) {
        if self.table_ok(pa) {
            // SAFETY: as in `mem_read64`.
            unsafe { core::ptr::write_volatile(pa as *mut u64, value) }
        }
    }

    fn barrier(&mut self) {
        crate::arch::sync();
    }
}
