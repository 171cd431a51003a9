// SPDX-License-Identifier: Apache-2.0
//! A software PHB for host tests: registers as plain storage, and config space the way
//! QEMU's PHB4/PHB5 serves it (`hw/pci-host/pnv_phb4.c`, `pnv_phb4_config_read/write`,
//! `pnv_phb4_rc_config_read/write`).
//!
//! * CONFIG_ADDRESS holds ENABLE, BDFN and REG; a load or store at CONFIG_DATA + lane
//!   (lane 0-3, aligned to the size) reaches byte `REG + lane` of that function's config
//!   space. Config space is little-endian and the register big-endian, so a 2 or 4-byte
//!   load returns the bytes in address order, i.e. byte-swapped from the PCI value.
//! * With ENABLE clear, for bus 0 (the root bus, reached only through the RC window) and
//!   for a function that does not answer, loads return all-ones and stores are dropped.
//! * The root port's config space sits at 0x1000-0x17ff and takes 4-byte accesses only.
//! * Functions behind bridges answer only at the bus numbers the bridges above them were
//!   programmed with (secondary/subordinate at 0x19/0x1a), as a real PCI tree routes
//!   type-1 config cycles; [`PhbModel::add_endpoint`] also places a function at a fixed
//!   bdfn for tests that do not care about routing.
//! * [`PhbModel::set_fenced`]: every load returns all-ones, every store is dropped.
//!
//! * 64-bit registers are plain storage, except those with side effects QEMU models:
//!   IODA_ADDR/IODA_DATA0 reach the in-PHB IODA3 tables (auto-increment, MIST partial
//!   writes), TCE_KILL and the DMA sync complete at once, RTC_INVALIDATE is counted,
//!   DLP_TRAIN_CTL reads "trained", ETU_ERR_SUMMARY reads 0 (all-ones when fenced), and
//!   VERSION/EEH_CAP/IRQ_CAP describe a big or small PHB4/PHB5 ([`PhbModel::with_caps`]).
//!   Every 64-bit store is logged in order ([`PhbModel::reg_writes`]).
//!
//! An access the driver must never make (a narrow access elsewhere, a misaligned lane, an
//! 8-byte access to CONFIG_DATA, an IODA index past the table) panics: that is a driver bug the tests should see.

// A driver bug found by the model is a panic by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::config::{AccessSize, Bdfn, CONFIG_SPACE_SIZE};
use crate::{get_field, reg, PhbRegs};

/// A function in the model's tree. [`NodeId::ROOT_PORT`] is the root port (bdfn 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeId(usize);

impl NodeId {
    pub const ROOT_PORT: NodeId = NodeId(0);
}

/// Which PHB the model imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhbKind {
    /// POWER9 PHB4 (VERSION 0xa4..., root port 1014:04c1).
    Phb4,
    /// POWER10 PHB5 (VERSION 0xa5..., root port 1014:0652).
    Phb5,
}

/// What kind of function to add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A type-0 function (no PCIe capability port type beyond "endpoint").
    Endpoint,
    /// The upstream port of a PCIe switch (type-1 header, PCIe port type 5).
    SwitchUpstream,
    /// A downstream port of a PCIe switch (type-1 header, PCIe port type 6).
    SwitchDownstream,
    /// A PCI-to-PCI bridge without a PCIe capability (conventional PCI behind it).
    PciBridge,
}

/// PCIe capability port types (PCIe base spec, PCI Express Capabilities register 7:4).
pub const PCIE_TYPE_ENDPOINT: u8 = 0;
pub const PCIE_TYPE_ROOT_PORT: u8 = 4;
pub const PCIE_TYPE_UPSTREAM: u8 = 5;
pub const PCIE_TYPE_DOWNSTREAM: u8 = 6;

/// Where the model puts the PCIe capability.
const PCIE_CAP: usize = 0x40;

struct Function {
    cfg: Vec<u8>,
    /// For bridges: the functions on the secondary bus, by devfn.
    children: BTreeMap<u8, usize>,
}

impl Function {
    fn new(vendor: u16, device: u16, bridge: bool, pcie_type: Option<u8>) -> Function {
        let mut cfg = vec![0u8; CONFIG_SPACE_SIZE as usize];
        cfg[0..2].copy_from_slice(&vendor.to_le_bytes());
        cfg[2..4].copy_from_slice(&device.to_le_bytes());
        cfg[0x0e] = bridge as u8;
        if let Some(port_type) = pcie_type {
            cfg[0x06] = 0x10; // status: capabilities list
            cfg[0x34] = PCIE_CAP as u8;
            cfg[PCIE_CAP] = 0x10; // PCI Express capability id
            cfg[PCIE_CAP + 1] = 0; // last capability
            cfg[PCIE_CAP + 2] = 2 | (port_type << 4); // version 2, port type
        }
        Function {
            cfg,
            children: BTreeMap::new(),
        }
    }

    fn is_bridge(&self) -> bool {
        self.cfg[0x0e] & 0x7f == 1
    }

    fn secondary(&self) -> u8 {
        self.cfg[0x19]
    }

    fn subordinate(&self) -> u8 {
        self.cfg[0x1a]
    }

    /// Bytes software cannot change: ids, the low status byte, class/revision, header
    /// type, capability pointer and the PCIe capability header.
    fn read_only(offset: usize) -> bool {
        // Status low byte (0x06): capability list, 66 MHz, fast back-to-back.
        matches!(offset, 0x00..=0x03 | 0x06 | 0x08..=0x0b | 0x0e | 0x34)
            || (PCIE_CAP..PCIE_CAP + 4).contains(&offset)
    }

    fn load(&self, offset: usize, size: AccessSize) -> u32 {
        self.cfg[offset..offset + size.bytes() as usize]
            .iter()
            .fold(0, |acc, &b| (acc << 8) | b as u32)
    }

    fn store(&mut self, offset: usize, size: AccessSize, value: u32) {
        let n = size.bytes() as usize;
        for i in 0..n {
            let at = offset + i;
            let byte = (value >> (8 * (n - 1 - i))) as u8;
            if at == 0x07 {
                // Status, high byte: error bits are write-1-to-clear (DEVSEL is read-only).
                self.cfg[at] &= !(byte & !0x06);
            } else if !Function::read_only(at) {
                self.cfg[at] = byte;
            }
        }
    }
}

/// The model. See the module documentation.
pub struct PhbModel {
    regs: BTreeMap<u32, u64>,
    /// `nodes[0]` is the root port.
    nodes: Vec<Function>,
    /// Functions at a fixed bdfn, whatever the bridges say.
    fixed: BTreeMap<Bdfn, usize>,
    fenced: bool,
    config_accesses: usize,
    /// In-PHB IODA3 tables by TSEL.
    ioda: BTreeMap<u64, Vec<u64>>,
    reg_log: Vec<(u32, u64)>,
    mmio_accesses: usize,
    rtc_invalidations: usize,
    tce_kills: Vec<u64>,
    /// Reads of TCE_KILL that still report the previous kill as queued.
    tce_kill_busy_reads: usize,
    link_trained: bool,
    violations: Vec<&'static str>,
}

/// Table sizes in 64-bit words (QEMU `pnv_phb4_ioda_access`), by TSEL, for a big (512 PE,
/// 4096 interrupt) or small PHB.
fn ioda_table_words(big: bool) -> [(u64, usize); 8] {
    use crate::reg::ioda::*;
    let k = if big { 2 } else { 1 };
    [
        (TBL_MIST, 512 * k),
        (TBL_MRT, 8 * k),
        (TBL_PESTA, 256 * k),
        (TBL_PESTB, 256 * k),
        (TBL_TVT, 512 * k),
        (TBL_MBT, 32 * k),
        (TBL_MDT, 256 * k),
        (TBL_PEEV, 4 * k),
    ]
}

impl Default for PhbModel {
    fn default() -> Self {
        Self::new()
    }
}

impl PhbModel {
    /// A PHB with its root port (IBM 0x1014, device 0x04c1 as QEMU's PHB4 root port) and
    /// nothing behind it.
    pub fn new() -> PhbModel {
        PhbModel::with_caps(PhbKind::Phb4, true)
    }

    /// A PHB of generation `kind`, big (512 PEs, 4096 interrupts: PHB0 and PHB3) or small,
    /// with the capability registers and root port QEMU gives it.
    pub fn with_caps(kind: PhbKind, big: bool) -> PhbModel {
        let (version, root_device) = match kind {
            PhbKind::Phb4 => (0x0000_00a4_0000_0002, 0x04c1),
            PhbKind::Phb5 => (0x0000_00a5_0000_0002, 0x0652),
        };
        let mut regs = BTreeMap::new();
        regs.insert(reg::VERSION, version);
        regs.insert(
            reg::PHB4_EEH_CAP,
            if big { 0x2000 << 48 } else { 0x1000 << 48 },
        );
        regs.insert(reg::PHB4_IRQ_CAP, if big { 4096 } else { 2048 });
        PhbModel {
            regs,
            ioda: ioda_table_words(big)
                .iter()
                .map(|&(t, n)| (t, vec![0; n]))
                .collect(),
            reg_log: Vec::new(),
            mmio_accesses: 0,
            rtc_invalidations: 0,
            tce_kills: Vec::new(),
            tce_kill_busy_reads: 0,
            link_trained: true,
            violations: Vec::new(),
            nodes: vec![Function::new(
                0x1014,
                root_device,
                true,
                Some(PCIE_TYPE_ROOT_PORT),
            )],
            fixed: BTreeMap::new(),
            fenced: false,
            config_accesses: 0,
        }
    }

    /// Every load answers all-ones and every store is dropped while `fenced`.
    pub fn set_fenced(&mut self, fenced: bool) {
        self.fenced = fenced;
    }

    /// A type-0 function reachable at `bdfn` whatever the bridges are programmed with.
    pub fn add_endpoint(&mut self, bdfn: Bdfn, vendor: u16, device: u16) {
        assert!(bdfn.bus() != 0, "bus 0 holds only the root port");
        self.nodes.push(Function::new(
            vendor,
            device,
            false,
            Some(PCIE_TYPE_ENDPOINT),
        ));
        self.fixed.insert(bdfn, self.nodes.len() - 1);
    }

    /// A function at `devfn` on the secondary bus of the bridge `parent`. Adding a function
    /// other than 0 marks function 0 of the same device, if present, multi-function.
    pub fn add_child(
        &mut self,
        parent: NodeId,
        devfn: u8,
        kind: Kind,
        vendor: u16,
        device: u16,
    ) -> NodeId {
        assert!(self.nodes[parent.0].is_bridge(), "parent must be a bridge");
        let (bridge, pcie) = match kind {
            Kind::Endpoint => (false, Some(PCIE_TYPE_ENDPOINT)),
            Kind::SwitchUpstream => (true, Some(PCIE_TYPE_UPSTREAM)),
            Kind::SwitchDownstream => (true, Some(PCIE_TYPE_DOWNSTREAM)),
            Kind::PciBridge => (true, None),
        };
        self.nodes.push(Function::new(vendor, device, bridge, pcie));
        let id = self.nodes.len() - 1;
        let prev = self.nodes[parent.0].children.insert(devfn, id);
        assert!(prev.is_none(), "devfn {devfn:#x} taken");
        if devfn & 7 != 0 {
            if let Some(&f0) = self.nodes[parent.0].children.get(&(devfn & !7)) {
                self.nodes[f0].cfg[0x0e] |= 0x80;
            }
        }
        NodeId(id)
    }

    /// Set config bytes of `node` directly, read-only ones included (class code, ...).
    pub fn poke(&mut self, node: NodeId, offset: usize, bytes: &[u8]) {
        self.nodes[node.0].cfg[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    /// A bridge's (primary, secondary, subordinate) bus numbers as programmed.
    pub fn bus_numbers(&self, node: NodeId) -> (u8, u8, u8) {
        let cfg = &self.nodes[node.0].cfg;
        (cfg[0x18], cfg[0x19], cfg[0x1a])
    }

    /// Raw config bytes of the function at `bdfn` (as routed now).
    pub fn config_bytes(&self, bdfn: Bdfn, offset: usize, len: usize) -> Vec<u8> {
        let node = self.lookup(bdfn).expect("no function there");
        self.nodes[node].cfg[offset..offset + len].to_vec()
    }

    /// Register contents, ignoring the fence.
    pub fn read_reg(&self, offset: u32) -> u64 {
        self.regs.get(&offset).copied().unwrap_or(0)
    }

    /// Preset a register without logging a write (capabilities, error state).
    pub fn set_reg(&mut self, offset: u32, value: u64) {
        self.regs.insert(offset, value);
    }

    /// Every 64-bit store the driver made, in order.
    pub fn reg_writes(&self) -> &[(u32, u64)] {
        &self.reg_log
    }

    /// Position in [`Self::reg_writes`] of the first store to `offset`.
    pub fn first_write(&self, offset: u32) -> Option<usize> {
        self.reg_log.iter().position(|&(o, _)| o == offset)
    }

    /// Forget the store log (to look at one call's stores only).
    pub fn clear_reg_writes(&mut self) {
        self.reg_log.clear();
    }

    /// 64-bit loads and stores so far.
    pub fn mmio_accesses(&self) -> usize {
        self.mmio_accesses
    }

    /// An in-PHB IODA3 table (TSEL `tsel`).
    pub fn ioda_table(&self, tsel: u64) -> &[u64] {
        &self.ioda[&tsel]
    }

    /// Set an IODA3 table entry behind the driver's back (as hardware sets PEEV/PEST on
    /// an error).
    pub fn set_ioda(&mut self, tsel: u64, index: usize, value: u64) {
        self.ioda.get_mut(&tsel).expect("no such IODA table")[index] = value;
    }

    /// Freeze `pe` as the hardware would on an error: its PEEV bit, and PESTA (MMIO)
    /// and/or PESTB (DMA) bit 0.
    pub fn freeze_pe(&mut self, pe: usize, mmio: bool, dma: bool) {
        use crate::reg::ioda::*;
        let peev = self.ioda[&TBL_PEEV][pe / 64] | crate::ppc_bit((pe % 64) as u32);
        self.set_ioda(TBL_PEEV, pe / 64, peev);
        if mmio {
            self.set_ioda(TBL_PESTA, pe, crate::ppc_bit(0));
        }
        if dma {
            self.set_ioda(TBL_PESTB, pe, crate::ppc_bit(0));
        }
    }

    /// Orderings QEMU (or the hardware) would punish that the driver got wrong, in the
    /// order they happened; a correct driver leaves this empty.
    pub fn violations(&self) -> &[&'static str] {
        &self.violations
    }

    /// RTC_INVALIDATE stores so far.
    pub fn rtc_invalidations(&self) -> usize {
        self.rtc_invalidations
    }

    /// TCE_KILL stores so far, as written.
    pub fn tce_kills(&self) -> &[u64] {
        &self.tce_kills
    }

    /// The next `reads` loads of TCE_KILL report a kill still queued.
    pub fn stall_tce_kill(&mut self, reads: usize) {
        self.tce_kill_busy_reads = reads;
    }

    /// Whether DLP_TRAIN_CTL reports the link trained (QEMU: always).
    pub fn set_link_trained(&mut self, trained: bool) {
        self.link_trained = trained;
    }

    fn check_order(&mut self, offset: u32, value: u64) {
        let msi_enables = reg::PHB4C_32BIT_MSI_EN | reg::PHB4C_64BIT_MSI_EN;
        if offset == reg::PHB4_CONFIG
            && value & msi_enables != 0
            && self.read_reg(reg::RTT_BAR) & reg::BAR_ENABLE == 0
        {
            // QEMU resolves every MSI through the RTT: "DMA with RTT BAR disabled".
            self.violations
                .push("MSI windows enabled before the RTT BAR");
        }
        if offset == reg::TCE_KILL && self.tce_kill_busy_reads > 0 {
            self.violations
                .push("TCE kill queued while the previous one is pending");
        }
    }

    /// The IODA table entry IODA_ADDR points at now, advancing it if AUTOINC is set.
    fn ioda_slot(&mut self) -> (u64, usize) {
        use crate::reg::ioda::*;
        let addr = self.read_reg(reg::IODA_ADDR);
        let tsel = get_field(TSEL, addr);
        let index = get_field(TADR, addr) as usize;
        let len = self
            .ioda
            .get(&tsel)
            .unwrap_or_else(|| panic!("IODA access to unmodelled table {tsel}"))
            .len();
        assert!(
            index < len,
            "IODA index {index} past table {tsel} ({len} entries)"
        );
        if addr & AUTOINC != 0 {
            let next = (addr & !TADR) | ((index as u64 + 1) % len as u64);
            self.regs.insert(reg::IODA_ADDR, next);
        }
        (tsel, index)
    }

    /// How many config-space loads and stores reached the model.
    pub fn config_accesses(&self) -> usize {
        self.config_accesses
    }

    fn lookup(&self, bdfn: Bdfn) -> Option<usize> {
        if bdfn == Bdfn::ROOT {
            return Some(0);
        }
        if let Some(&n) = self.fixed.get(&bdfn) {
            return Some(n);
        }
        if bdfn.bus() == 0 {
            return None;
        }
        self.route(0, bdfn.bus(), bdfn.devfn())
    }

    /// Type-1 routing: down through every bridge whose bus range holds `bus`.
    fn route(&self, bridge: usize, bus: u8, devfn: u8) -> Option<usize> {
        let b = &self.nodes[bridge];
        if bus == b.secondary() {
            return b.children.get(&devfn).copied();
        }
        if bus < b.secondary() || bus > b.subordinate() {
            return None;
        }
        b.children.values().find_map(|&c| {
            let child = &self.nodes[c];
            (child.is_bridge()
                && child.secondary() != 0
                && (child.secondary()..=child.subordinate()).contains(&bus))
            .then(|| self.route(c, bus, devfn))
            .flatten()
        })
    }

    /// The function and byte offset CONFIG_DATA + `lane` reaches now.
    fn config_target(&self, lane: u32) -> Option<(usize, usize)> {
        let ca = self.read_reg(reg::CONFIG_ADDRESS);
        if ca & reg::ca::ENABLE == 0 {
            return None;
        }
        let bdfn = Bdfn::from_raw(get_field(reg::ca::BDFN, ca))?;
        if bdfn.bus() == 0 {
            return None; // QEMU refuses the root bus on this path
        }
        let node = self.lookup(bdfn)?;
        Some((node, (get_field(reg::ca::REG, ca) as u32 + lane) as usize))
    }

    /// Where a narrow access goes: CONFIG_DATA lane or RC window, checked.
    fn narrow_target(&self, offset: u32, size: AccessSize) -> Option<(usize, usize)> {
        if (reg::CONFIG_DATA..reg::CONFIG_DATA + 4).contains(&offset) {
            let lane = offset - reg::CONFIG_DATA;
            assert!(
                lane.is_multiple_of(size.bytes()),
                "misaligned CONFIG_DATA access: lane {lane}, {size:?}"
            );
            return self.config_target(lane);
        }
        if (reg::RC_CONFIG..reg::RC_CONFIG + 0x800).contains(&offset) {
            assert!(
                size == AccessSize::Word && offset.is_multiple_of(4),
                "the root-complex window takes aligned 4-byte accesses only ({offset:#x}, {size:?})"
            );
            return Some((0, (offset - reg::RC_CONFIG) as usize));
        }
        panic!("narrow access outside CONFIG_DATA and the RC window: {offset:#x}");
    }
}

impl PhbRegs for PhbModel {
    fn read64(&mut self, offset: u32) -> u64 {
        assert!(
            offset.is_multiple_of(8),
            "misaligned register load {offset:#x}"
        );
        assert!(
            offset != reg::CONFIG_DATA,
            "CONFIG_DATA takes 1/2/4-byte accesses"
        );
        self.mmio_accesses += 1;
        if self.fenced {
            return u64::MAX;
        }
        match offset {
            reg::IODA_DATA0 => {
                let (tsel, index) = self.ioda_slot();
                self.ioda[&tsel][index]
            }
            reg::TCE_KILL if self.tce_kill_busy_reads > 0 => {
                self.tce_kill_busy_reads -= 1;
                reg::TCE_KILL_PE
            }
            reg::DMA_READ_WRITE_SYNC => self.read_reg(offset) | reg::DMA_READ_SYNC_COMPLETE,
            reg::PCIE_DLP_TRAIN_CTL if self.link_trained => {
                // QEMU: in-band presence and link active, whatever was written.
                self.read_reg(offset) | crate::ppc_bit(19) | reg::DLP_TL_LINKACT
            }
            _ => self.read_reg(offset),
        }
    }

    fn write64(&mut self, offset: u32, value: u64) {
        assert!(
            offset.is_multiple_of(8),
            "misaligned register store {offset:#x}"
        );
        assert!(
            offset != reg::CONFIG_DATA,
            "CONFIG_DATA takes 1/2/4-byte accesses"
        );
        self.mmio_accesses += 1;
        if self.fenced {
            return;
        }
        self.reg_log.push((offset, value));
        self.check_order(offset, value);
        match offset {
            reg::IODA_DATA0 => {
                let pwv = get_field(reg::ioda::MIST_PWV, self.read_reg(reg::IODA_ADDR));
                let (tsel, index) = self.ioda_slot();
                let entry = &mut self.ioda.get_mut(&tsel).expect("table exists")[index];
                if tsel == reg::ioda::TBL_MIST && pwv != 0 {
                    // PWV bit i (LSB first) enables the i-th 16-bit quarter from the right.
                    for quarter in 0..4 {
                        if pwv & (1 << quarter) != 0 {
                            let mask = 0xffffu64 << (16 * quarter);
                            *entry = (*entry & !mask) | (value & mask);
                        }
                    }
                } else {
                    *entry = value;
                }
            }
            reg::RTC_INVALIDATE => {
                self.rtc_invalidations += 1;
                self.regs.insert(offset, value);
            }
            reg::TCE_KILL => {
                self.tce_kills.push(value);
                // No TCE cache: the kill is done as soon as it is queued.
                self.regs.insert(offset, value & !reg::TCE_KILL_BUSY);
            }
            _ => {
                self.regs.insert(offset, value);
            }
        }
    }

    fn read_narrow(&mut self, offset: u32, size: AccessSize) -> u32 {
        let target = self.narrow_target(offset, size);
        self.config_accesses += 1;
        if self.fenced {
            return size.all_ones();
        }
        match target {
            Some((node, at)) => self.nodes[node].load(at, size),
            None => size.all_ones(),
        }
    }

    fn write_narrow(&mut self, offset: u32, size: AccessSize, value: u32) {
        let target = self.narrow_target(offset, size);
        self.config_accesses += 1;
        if self.fenced {
            return;
        }
        if let Some((node, at)) = target {
            self.nodes[node].store(at, size, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_data_lanes_are_big_endian_loads_of_le_bytes() {
        let mut m = PhbModel::new();
        let ep = Bdfn::new(1, 0, 0).unwrap();
        m.add_endpoint(ep, 0x1234, 0xabcd);
        m.write64(reg::CONFIG_ADDRESS, reg::ca::ENABLE | (0x0100u64 << 44));
        // Bytes 34 12 cd ab: a big-endian word load sees them in address order.
        assert_eq!(
            m.read_narrow(reg::CONFIG_DATA, AccessSize::Word),
            0x3412_cdab
        );
        assert_eq!(
            m.read_narrow(reg::CONFIG_DATA + 2, AccessSize::Half),
            0xcdab
        );
        assert_eq!(m.read_narrow(reg::CONFIG_DATA + 1, AccessSize::Byte), 0x12);
        m.write64(reg::CONFIG_ADDRESS, 0x0100u64 << 44);
        assert_eq!(
            m.read_narrow(reg::CONFIG_DATA, AccessSize::Word),
            u32::MAX,
            "ENABLE clear"
        );
    }

    #[test]
    #[should_panic(expected = "misaligned CONFIG_DATA")]
    fn misaligned_lane_is_a_driver_bug() {
        PhbModel::new().read_narrow(reg::CONFIG_DATA + 1, AccessSize::Half);
    }

    #[test]
    #[should_panic(expected = "4-byte accesses only")]
    fn rc_window_refuses_bytes() {
        PhbModel::new().read_narrow(reg::RC_CONFIG, AccessSize::Byte);
    }

    #[test]
    fn order_violations_are_recorded() {
        let mut m = PhbModel::new();
        m.write64(reg::PHB4_CONFIG, reg::PHB4C_64BIT_MSI_EN);
        m.stall_tce_kill(1);
        m.write64(reg::TCE_KILL, reg::TCE_KILL_ALL);
        assert_eq!(
            m.violations(),
            [
                "MSI windows enabled before the RTT BAR",
                "TCE kill queued while the previous one is pending"
            ]
        );
        let mut m = PhbModel::new();
        m.write64(reg::RTT_BAR, 0x1000_0000 | reg::BAR_ENABLE);
        m.write64(reg::PHB4_CONFIG, reg::PHB4C_64BIT_MSI_EN);
        assert!(m.violations().is_empty());
    }

    #[test]
    fn ioda_tables_autoincrement_and_mist_partial_writes() {
        use crate::reg::ioda::*;
        let mut m = PhbModel::with_caps(PhbKind::Phb4, false);
        m.write64(reg::IODA_ADDR, AUTOINC | (TBL_TVT << 48) | 510);
        for v in [1, 2, 3] {
            m.write64(reg::IODA_DATA0, v);
        }
        let tvt = m.ioda_table(TBL_TVT);
        assert_eq!(
            (tvt.len(), tvt[510], tvt[511], tvt[0]),
            (512, 1, 2, 3),
            "wraps"
        );
        m.write64(reg::IODA_ADDR, (TBL_MIST << 48) | 7);
        m.write64(reg::IODA_DATA0, 0x1111_2222_3333_4444);
        m.write64(reg::IODA_ADDR, (TBL_MIST << 48) | (0b0100 << 32) | 7);
        m.write64(reg::IODA_DATA0, 0xaaaa_bbbb_cccc_dddd);
        assert_eq!(
            m.ioda_table(TBL_MIST)[7],
            0x1111_bbbb_3333_4444,
            "PWV 0100: second quarter"
        );
    }

    #[test]
    #[should_panic(expected = "past table")]
    fn ioda_index_past_the_table_is_a_driver_bug() {
        use crate::reg::ioda::*;
        let mut m = PhbModel::with_caps(PhbKind::Phb4, false);
        m.write64(reg::IODA_ADDR, (TBL_PEEV << 48) | 4);
        m.read64(reg::IODA_DATA0);
    }

    #[test]
    fn status_errors_are_write_one_to_clear() {
        let mut m = PhbModel::new();
        m.poke(NodeId::ROOT_PORT, 0x06, &[0x10, 0xf9]);
        m.write_narrow(reg::RC_CONFIG + 4, AccessSize::Word, 0x0000_0881);
        assert_eq!(
            m.config_bytes(Bdfn::ROOT, 0x06, 2),
            [0x10, 0x78],
            "bits 8 and 15 cleared"
        );
    }

    #[test]
    fn read_only_ids() {
        let mut m = PhbModel::new();
        m.write_narrow(reg::RC_CONFIG, AccessSize::Word, 0);
        assert_eq!(m.read_narrow(reg::RC_CONFIG, AccessSize::Word), 0x1410_c104);
    }
}

/// XSCOM as plain storage, for the BAR programming and reset sequences: every write is
/// logged in order, and chosen addresses can be made to fail as a garded unit does.
#[derive(Default)]
pub struct ScomModel {
    values: BTreeMap<(u32, u64), u64>,
    log: Vec<(u32, u64, u64)>,
    failing: Vec<u64>,
}

impl ScomModel {
    /// Preset a register without logging a write.
    pub fn set(&mut self, chip: u32, addr: u64, value: u64) {
        self.values.insert((chip, addr), value);
    }

    pub fn get(&self, chip: u32, addr: u64) -> u64 {
        self.values.get(&(chip, addr)).copied().unwrap_or(0)
    }

    /// Every access to `addr` fails with an address error from now on.
    pub fn fail_address(&mut self, addr: u64) {
        self.failing.push(addr);
    }

    /// The writes made, in order: (chip, address, value).
    pub fn writes(&self) -> &[(u32, u64, u64)] {
        &self.log
    }

    /// Position in [`Self::writes`] of the last write to `addr`.
    pub fn write_index(&self, chip: u32, addr: u64) -> Option<usize> {
        self.log
            .iter()
            .rposition(|&(c, a, _)| c == chip && a == addr)
    }
}

impl hal::Scom for ScomModel {
    fn read(&mut self, chip: u32, pcba: u64) -> Result<u64, hal::ScomError> {
        if self.failing.contains(&pcba) {
            return Err(hal::ScomError::Address);
        }
        Ok(self.get(chip, pcba))
    }

    fn write(&mut self, chip: u32, pcba: u64, value: u64) -> Result<(), hal::ScomError> {
        if self.failing.contains(&pcba) {
            return Err(hal::ScomError::Address);
        }
        self.values.insert((chip, pcba), value);
        self.log.push((chip, pcba, value));
        Ok(())
    }
}
