// SPDX-License-Identifier: Apache-2.0
//! The facts a conformance run needs from the device tree the firmware passed in r3:
//! where OPAL is, the CPUs (PIRs, chips, PVR), RAM and what is reserved, the XIVE node
//! and the kernel command line. Read once at entry; the cases only see [`System`].

use crate::fdt::{Fdt, Node};
use crate::list::List;
use crate::memmap::Range;
use crate::spec::Generation;

pub const MAX_THREADS: usize = 512;
pub const MAX_CHIPS: usize = 16;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Thread {
    pub pir: u32,
    pub chip_id: u32,
}

/// The node compatible with `ibm,opal-xive-pe` (xive.md §11.5, §12.4).
#[derive(Clone, Copy, Debug, Default)]
pub struct XiveNode {
    /// Chip ids of the `2^n` blocks VPs are allocated from, in block order.
    pub provision_chips: List<u32, MAX_CHIPS>,
    pub provision_page_size: Option<u32>,
    pub eq_sizes: List<u32, 8>,
    pub priorities: Option<u32>,
    /// `vp-save-restore` (P10, §11.5).
    pub save_restore: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct System<'a> {
    pub model: &'a str,
    pub pvr: Option<u32>,
    pub generation: Option<Generation>,
    /// `boot_cpuid_phys` of the header: the thread running the payload.
    pub boot_pir: u32,
    pub threads: List<Thread, MAX_THREADS>,
    pub tb_hz: Option<u64>,
    pub opal_base: Option<u64>,
    pub opal_entry: Option<u64>,
    /// `opal-runtime-size`: OPAL's memory is `opal_base .. opal_base + opal_size`.
    pub opal_size: Option<u64>,
    /// `/ibm,opal/firmware` `version` (Opalite: `opalite-...`; skiboot: `skiboot-...`).
    pub firmware_version: &'a str,
    pub bootargs: &'a str,
    pub xive: Option<XiveNode>,
    pub ram: List<Range, 16>,
    pub reserved: List<Range, 64>,
    /// Some list was too small for what the tree holds.
    pub truncated: bool,
}

impl<'a> System<'a> {
    /// Whether the firmware is Opalite (its `/ibm,opal/firmware` version says so): the
    /// suite must then cover every token it offers, and no deviation is accepted.
    pub fn is_opalite(&self) -> bool {
        self.firmware_version.starts_with("opalite-")
    }

    pub fn from_fdt(fdt: &Fdt<'a>) -> Self {
        let mut s = System {
            model: "",
            pvr: None,
            generation: None,
            boot_pir: fdt.boot_cpuid_phys(),
            threads: List::new(),
            tb_hz: None,
            opal_base: None,
            firmware_version: "",
            opal_entry: None,
            opal_size: None,
            bootargs: "",
            xive: None,
            ram: List::new(),
            reserved: List::new(),
            truncated: false,
        };
        let Some(root) = fdt.root() else {
            return s;
        };
        s.model = root.str("model").unwrap_or("");
        let root_ac = root.u32("#address-cells").unwrap_or(2);
        let root_sc = root.u32("#size-cells").unwrap_or(1);

        if let Some(opal) = fdt.node("/ibm,opal") {
            s.opal_base = opal.u64("opal-base-address");
            s.opal_entry = opal.u64("opal-entry-address");
            s.opal_size = opal.u64("opal-runtime-size");
        }
        if let Some(fw) = fdt.node("/ibm,opal/firmware") {
            s.firmware_version = fw.str("version").unwrap_or("");
        }
        if let Some(chosen) = fdt.node("/chosen") {
            s.bootargs = chosen.str("bootargs").unwrap_or("");
        }
        if let Some(cpus) = fdt.node("/cpus") {
            for cpu in cpus
                .children()
                .filter(|c| c.str("device_type") == Some("cpu"))
            {
                s.add_cpu(&cpu);
            }
        }
        s.generation = s.pvr.and_then(Generation::from_pvr);

        for node in root.children() {
            if node.str("device_type") == Some("memory") || node.base_name() == "memory" {
                for (base, size) in node.reg(root_ac, root_sc) {
                    s.truncated |= s.ram.push(Range::sized(base, size)).is_err();
                }
            }
        }
        for (base, size) in fdt.memreserve() {
            s.reserve(base, size);
        }
        if let Some(rm) = fdt.node("/reserved-memory") {
            let (ac, sc) = (
                rm.u32("#address-cells").unwrap_or(2),
                rm.u32("#size-cells").unwrap_or(2),
            );
            for child in rm.children() {
                for (base, size) in child.reg(ac, sc) {
                    s.reserve(base, size);
                }
            }
        }
        // `reserved-ranges` (skiboot's form): (u64 address, u64 size) pairs.
        let ranges: List<u32, 256> = collect(root.cells("reserved-ranges"), &mut s.truncated);
        for pair in ranges.as_slice().chunks_exact(4) {
            let base = u64::from(pair[0]) << 32 | u64::from(pair[1]);
            let size = u64::from(pair[2]) << 32 | u64::from(pair[3]);
            s.reserve(base, size);
        }

        if let Some(x) = fdt.find_compatible("ibm,opal-xive-pe") {
            s.xive = Some(XiveNode {
                provision_chips: collect(x.cells("ibm,xive-provision-chips"), &mut s.truncated),
                provision_page_size: x.u32("ibm,xive-provision-page-size"),
                eq_sizes: collect(x.cells("ibm,xive-eq-sizes"), &mut s.truncated),
                priorities: x.u32("ibm,xive-#priorities"),
                save_restore: x.has_prop("vp-save-restore"),
            });
        }
        s
    }

    fn add_cpu(&mut self, cpu: &Node<'a>) {
        let chip_id = cpu.u32("ibm,chip-id").unwrap_or(0);
        if self.pvr.is_none() {
            self.pvr = cpu.u32("cpu-version");
        }
        if self.tb_hz.is_none() {
            self.tb_hz = cpu.u64("timebase-frequency");
        }
        for pir in cpu.cells("ibm,ppc-interrupt-server#s") {
            self.truncated |= self.threads.push(Thread { pir, chip_id }).is_err();
        }
    }

    fn reserve(&mut self, base: u64, size: u64) {
        if size != 0 {
            self.truncated |= self.reserved.push(Range::sized(base, size)).is_err();
        }
    }

    /// The chip of the thread with `pir`.
    pub fn chip_of(&self, pir: u32) -> Option<u32> {
        self.threads
            .iter()
            .find(|t| t.pir == pir)
            .map(|t| t.chip_id)
    }

    /// Distinct chip ids, in the order their first thread appears.
    pub fn chips(&self) -> List<u32, MAX_CHIPS> {
        let mut chips = List::new();
        for t in self.threads.iter() {
            if !chips.contains(&t.chip_id) {
                let _ = chips.push(t.chip_id);
            }
        }
        chips
    }

    /// End of RAM (the highest end of any memory range).
    pub fn ram_top(&self) -> u64 {
        self.ram.iter().map(|r| r.end).max().unwrap_or(0)
    }
}

fn collect<T: Copy + Default, const N: usize>(
    items: impl Iterator<Item = T>,
    truncated: &mut bool,
) -> List<T, N> {
    let mut l = List::new();
    for item in items {
        *truncated |= l.push(item).is_err();
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use devtree::Tree;

    /// Shaped like skiboot's tree for QEMU powernv10, 4 threads on 2 cores.
    fn p10_tree() -> Vec<u8> {
        let mut t = Tree::new();
        t.set_property_u32("/", "#address-cells", 2).unwrap();
        t.set_property_u32("/", "#size-cells", 2).unwrap();
        t.set_property_string("/", "model", "IBM PowerNV (emulated by qemu)")
            .unwrap();
        t.set_property_u64s("/", "reserved-ranges", &[0x3000_0000, 0x300_0000])
            .unwrap();
        for (core, pirs) in [("cpu@0", [0u32, 1]), ("cpu@4", [4, 5])] {
            let path = format!("/cpus/{core}");
            t.ensure_node(&path).unwrap();
            t.set_property_string(&path, "device_type", "cpu").unwrap();
            t.set_property_cells(&path, "ibm,ppc-interrupt-server#s", &pirs)
                .unwrap();
            t.set_property_u32(&path, "ibm,chip-id", 0).unwrap();
            t.set_property_u32(&path, "cpu-version", 0x0080_1200)
                .unwrap();
            t.set_property_u32(&path, "timebase-frequency", 512_000_000)
                .unwrap();
        }
        t.ensure_node("/memory@0").unwrap();
        t.set_property_u64s("/memory@0", "reg", &[0, 0x8000_0000])
            .unwrap();
        t.ensure_node("/reserved-memory/ibm,firmware-code@30000000")
            .unwrap();
        t.set_property_u32("/reserved-memory", "#address-cells", 2)
            .unwrap();
        t.set_property_u32("/reserved-memory", "#size-cells", 2)
            .unwrap();
        t.set_property_u64s(
            "/reserved-memory/ibm,firmware-code@30000000",
            "reg",
            &[0x3000_0000, 0x60_0000],
        )
        .unwrap();
        t.ensure_node("/ibm,opal").unwrap();
        t.set_property_u64("/ibm,opal", "opal-base-address", 0x3000_0000)
            .unwrap();
        t.set_property_u64("/ibm,opal", "opal-entry-address", 0x3000_fe00)
            .unwrap();
        t.ensure_node("/ibm,opal/firmware").unwrap();
        t.set_property_string("/ibm,opal/firmware", "version", "skiboot-v7.1")
            .unwrap();
        t.ensure_node("/chosen").unwrap();
        t.set_property_string("/chosen", "bootargs", "conformance.require=xive")
            .unwrap();
        let x = "/interrupt-controller@6030203180000";
        t.ensure_node(x).unwrap();
        t.set_property_strings(
            x,
            "compatible",
            &["ibm,opal-xive-pe", "ibm,opal-xive-vc", "ibm,opal-intc"],
        )
        .unwrap();
        t.set_property_cells(x, "ibm,xive-eq-sizes", &[12, 16, 21, 24])
            .unwrap();
        t.set_property_u32(x, "ibm,xive-#priorities", 8).unwrap();
        t.set_property_cells(x, "ibm,xive-provision-chips", &[0])
            .unwrap();
        t.set_property_u32(x, "ibm,xive-provision-page-size", 0x10000)
            .unwrap();
        t.set_property_empty(x, "vp-save-restore").unwrap();
        t.add_memreserve(0x3000_0000, 0x60_0000);
        t.set_boot_cpuid_phys(0);
        t.to_dtb().unwrap()
    }

    #[test]
    fn reads_a_p10_tree() {
        let blob = p10_tree();
        let fdt = Fdt::parse(&blob).unwrap();
        let s = System::from_fdt(&fdt);
        assert!(!s.truncated);
        assert_eq!(s.generation, Some(Generation::P10));
        assert_eq!(s.opal_base, Some(0x3000_0000));
        assert_eq!(s.opal_entry, Some(0x3000_fe00));
        assert_eq!(s.firmware_version, "skiboot-v7.1");
        assert!(!s.is_opalite());
        assert_eq!(s.bootargs, "conformance.require=xive");
        let pirs: Vec<u32> = s.threads.iter().map(|t| t.pir).collect();
        assert_eq!(pirs, [0, 1, 4, 5]);
        assert_eq!(s.chips().as_slice(), [0]);
        assert_eq!(s.chip_of(5), Some(0));
        assert_eq!(s.tb_hz, Some(512_000_000));
        assert_eq!(s.ram.as_slice(), [Range::sized(0, 0x8000_0000)]);
        assert_eq!(s.ram_top(), 0x8000_0000);
        // memreserve, /reserved-memory and reserved-ranges, all kept.
        assert_eq!(s.reserved.len(), 3);
        assert!(s.reserved.contains(&Range::sized(0x3000_0000, 0x300_0000)));
        let x = s.xive.unwrap();
        assert_eq!(x.provision_chips.as_slice(), [0]);
        assert_eq!(x.eq_sizes.as_slice(), [12, 16, 21, 24]);
        assert_eq!(x.priorities, Some(8));
        assert!(x.save_restore);
        assert_eq!(x.provision_page_size, Some(0x10000));
    }
}
