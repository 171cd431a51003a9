// SPDX-License-Identifier: Apache-2.0
//! Device-tree content for a PHB, as plain data: the `pciex@` node Linux's PowerNV PCI
//! code reads (pci-phb.md §2.5; skiboot `phb4_probe_stack`, `phb4_add_properties`,
//! `pci_register_phb`), and one node per function found by the scan with its
//! `interrupt-map` for INTx (skiboot `core/pci.c`: `pci_add_one_device_node`,
//! `pci_std_swizzle_irq_map`). Values are big-endian cells, ready for
//! `devtree::Tree::set_property(path, name, value)`.
//!
//! Linux reaches config space only for functions that have a node here, and takes their
//! bus numbers from `reg`, so the nodes must come from the scan that programmed the bridges.
//!
//! Left out on purpose: CAPI/CAPP hints (`ibm,capi-flags`, `ibm,capp-timebase-sync`,
//! `ibm,phb-indications`: no CAPI support), slot and location-code properties (they need
//! the platform's slot table), `ibm,hub-id` and `ibm,lane-eq` (copied from the stack node
//! when present; the caller can add them).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::ioda::RTT_TABLE_SIZE;
use crate::layout::{PhbLayout, M32_PCI_START, REGS_DT_SIZE};
use crate::phb::Caps;
use crate::scan::{pcie_port_type, ConfigSpace, Found};
use crate::{Bdfn, CfgError};

/// One property: its name and its value bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prop {
    pub name: &'static str,
    pub value: Vec<u8>,
}

/// A node with its properties and children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtNode {
    /// Unit name, e.g. `pciex@600c3c0000000` or `ethernet@0`.
    pub name: String,
    pub properties: Vec<Prop>,
    pub children: Vec<DtNode>,
}

impl DtNode {
    /// The value of property `name`, if present.
    pub fn property(&self, name: &str) -> Option<&[u8]> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_slice())
    }
}

fn cells(name: &'static str, values: &[u32]) -> Prop {
    Prop {
        name,
        value: values.iter().flat_map(|v| v.to_be_bytes()).collect(),
    }
}

fn u64s(name: &'static str, values: &[u64]) -> Prop {
    Prop {
        name,
        value: values.iter().flat_map(|v| v.to_be_bytes()).collect(),
    }
}

fn strings(name: &'static str, values: &[&str]) -> Prop {
    let mut value = Vec::new();
    for s in values {
        value.extend_from_slice(s.as_bytes());
        value.push(0);
    }
    Prop { name, value }
}

fn empty(name: &'static str) -> Prop {
    Prop {
        name,
        value: Vec::new(),
    }
}

const fn hi(v: u64) -> u32 {
    (v >> 32) as u32
}
const fn lo(v: u64) -> u32 {
    v as u32
}

/// `ibm,phb-diag-data-size`: skiboot's `sizeof(struct OpalIoPhb4ErrorData)`, as observed
/// in its device tree. Linux allocates a buffer of that size for PCI_GET_PHB_DIAG_DATA2.
pub const PHB4_DIAG_DATA_SIZE: u32 = 0x2180;

/// Everything the `pciex@` node says, gathered from a PHB ([`crate::phb::Phb::dt_facts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhbDtFacts {
    pub layout: PhbLayout,
    pub caps: Caps,
    /// girq of MSI 0.
    pub base_msi: u32,
    /// (address, size) of the RTT, PELT-V and PEST.
    pub rtt: (u64, usize),
    pub peltv: (u64, usize),
    pub pest: (u64, usize),
}

/// What the firmware knows and the PHB does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhbDtContext<'a> {
    /// Phandle of the XIVE `interrupt-controller@` node (LSIs).
    pub interrupt_parent: u32,
    /// The chip's `ibm,associativity` cells (NUMA placement).
    pub associativity: &'a [u32],
    /// Phandle of the `stack@` node the PHB came from (`ibm,phb-stack`), if it has one.
    pub stack_phandle: Option<u32>,
}

/// `pciex@<register BAR>`, the node name skiboot gives a PHB.
pub fn pciex_node_name(layout: &PhbLayout) -> String {
    format!("pciex@{:x}", layout.regs.base)
}

/// The properties of the `pciex@` node (pci-phb.md §2.5), children aside.
pub fn pciex_properties(f: &PhbDtFacts, cx: &PhbDtContext<'_>) -> Vec<Prop> {
    let l = &f.layout;
    let c = &f.caps;
    let m32_cpu = l.m32.base;
    // The top 64 KiB of M32 is the 32-bit MSI window; Linux expects it cut off here.
    let m32_size = l.m32.size - 0x1_0000;
    let mut props = vec![
        strings("compatible", &[l.gen.pciex_compatible(), "ibm,ioda3-phb"]),
        strings("device_type", &["pciex"]),
        u64s("reg", &[l.regs.base, REGS_DT_SIZE, l.esb.base, l.esb.size]),
        u64s("ibm,opal-phbid", &[l.opal_id]),
        cells("#address-cells", &[3]),
        cells("#size-cells", &[2]),
        cells("#interrupt-cells", &[1]),
        cells("bus-range", &[0, 0xff]),
        cells("clock-frequency", &[0x200, 0]),
        cells("interrupt-parent", &[cx.interrupt_parent]),
        cells(
            "ranges",
            &[
                0x0200_0000,
                hi(M32_PCI_START),
                lo(M32_PCI_START),
                hi(m32_cpu),
                lo(m32_cpu),
                hi(m32_size),
                lo(m32_size),
            ],
        ),
        u64s("ibm,opal-m64-window", &[l.m64.base, l.m64.base, l.m64.size]),
        empty("ibm,opal-single-pe"),
        cells("ibm,opal-num-pes", &[c.num_pes]),
        cells("ibm,opal-reserved-pe", &[c.reserved_pe()]),
        cells("ibm,opal-msi-ranges", &[f.base_msi, c.msi_count()]),
        // MBT[0] is M32; the rest are the OS's.
        cells(
            "ibm,opal-available-m64-ranges",
            &[1, c.mbt_windows() as u32 - 1],
        ),
        cells("ibm,supported-tce-sizes", &[12, 16, 21, 30]),
        // Split into num_pes segments, or one segment (single PE); 4 KiB granularity.
        cells(
            "ibm,opal-m64-segment-splits",
            &[c.num_pes, 1, 12, 0, 1, 2, 12, 0],
        ),
        cells(
            "ibm,opal-rtt-table",
            &[hi(f.rtt.0), lo(f.rtt.0), f.rtt.1 as u32],
        ),
        cells(
            "ibm,opal-peltv-table",
            &[hi(f.peltv.0), lo(f.peltv.0), f.peltv.1 as u32],
        ),
        cells(
            "ibm,opal-pest-table",
            &[hi(f.pest.0), lo(f.pest.0), f.pest.1 as u32],
        ),
        cells("ibm,phb-diag-data-size", &[PHB4_DIAG_DATA_SIZE]),
        cells(
            "ibm,xscom-bases",
            &[
                l.xscom.pec_nest as u32,
                l.xscom.nest as u32,
                l.xscom.pec_pci as u32,
                l.xscom.pci as u32,
                l.xscom.etu as u32,
            ],
        ),
        u64s(
            "ibm,mmio-windows",
            &[l.m64.base, l.m64.size, l.m32.base, l.m32.size],
        ),
        cells("ibm,phb-index", &[l.index]),
        cells("ibm,phb-pec-index", &[l.pec_index]),
        cells("ibm,phb-stack-index", &[l.stack_index]),
        cells("ibm,chip-id", &[l.chip_id]),
        cells("ibm,associativity", cx.associativity),
        strings("status", &["okay"]),
    ];
    if let Some(stack) = cx.stack_phandle {
        props.push(cells("ibm,phb-stack", &[stack]));
    }
    debug_assert_eq!(f.rtt.1, RTT_TABLE_SIZE);
    props
}

/// The girqs a PHB's INTA-INTD raise and the controller that owns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LsiMap {
    pub interrupt_parent: u32,
    /// INTA, INTB, INTC, INTD (the PHB's `lsi_girq + 0..4`).
    pub girqs: [u32; 4],
}

/// What a device node needs from one function's config space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionFacts {
    pub bdfn: Bdfn,
    pub vendor: u16,
    pub device: u16,
    /// Config dword 0x08: class code (bits 8-31) and revision (bits 0-7).
    pub class_rev: u32,
    /// Interrupt Pin (0x3d): 0 none, 1-4 INTA-INTD.
    pub int_pin: u8,
    /// PCI Express port type, `None` for a conventional function.
    pub pcie_type: Option<u32>,
    /// For a bridge: its secondary bus, where its children are.
    pub secondary_bus: Option<u8>,
}

const PCIE_TYPE_ROOT_PORT: u32 = 4;
const PCIE_TYPE_DOWNSTREAM: u32 = 6;

/// Read the rest of what a device node needs for a function the scan found.
pub fn function_facts<C: ConfigSpace + ?Sized>(
    cfg: &mut C,
    found: &Found,
) -> Result<FunctionFacts, CfgError> {
    Ok(FunctionFacts {
        bdfn: found.bdfn,
        vendor: found.vendor,
        device: found.device,
        class_rev: cfg.read(found.bdfn, 0x08, 4)?,
        int_pin: cfg.read(found.bdfn, 0x3d, 1)? as u8,
        pcie_type: pcie_port_type(cfg, found.bdfn)?,
        secondary_bus: found.bridge.map(|b| b.secondary),
    })
}

/// Open Firmware PCI binding names by class (skiboot `pci_class_name`), for the classes a
/// PowerNV machine meets; other classes are "device".
pub fn class_name(class_code: u32) -> &'static str {
    let (class, sub, pif) = (
        class_code >> 16,
        (class_code >> 8) & 0xff,
        class_code & 0xff,
    );
    match (class, sub) {
        (0x00, 0x01) | (0x03, 0x00) => "vga",
        (0x01, 0x00) => "scsi",
        (0x01, 0x01) => "ide",
        (0x01, 0x04) => "raid",
        (0x01, 0x05) => "ata",
        (0x01, 0x06) => "sata",
        (0x01, 0x07) => "sas",
        (0x01, _) => "mass-storage",
        (0x02, 0x00) => "ethernet",
        (0x02, _) => "network",
        (0x03, _) => "display",
        (0x04, _) => "multimedia-device",
        (0x05, _) => "memory-controller",
        (0x06, 0x00) => "host",
        (0x06, 0x04) => "pci",
        (0x06, _) => "unknown-bridge",
        (0x0c, 0x03) => match pif {
            0x00 => "usb-uhci",
            0x10 => "usb-ohci",
            0x20 => "usb-ehci",
            0x30 => "usb-xhci",
            _ => "usb",
        },
        (0x0c, 0x04) => "fibre-channel",
        (0x0c, 0x06) => "infiniband",
        (0x0c, _) => "serial-bus",
        _ => "device",
    }
}

/// Why the functions do not form a tree under the root port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopologyError {
    /// No function at bdfn 0.
    NoRootPort,
    /// A bridge whose secondary bus is not above its own (it would contain itself).
    BadSecondaryBus(Bdfn),
}

/// The device nodes under a `pciex@` node: the root port (`pci@0`) and, recursively,
/// every function on each bridge's secondary bus. `functions` is what the scan found, in
/// any order.
pub fn device_nodes(functions: &[FunctionFacts], lsi: &LsiMap) -> Result<DtNode, TopologyError> {
    let root = functions
        .iter()
        .find(|f| f.bdfn == Bdfn::ROOT)
        .ok_or(TopologyError::NoRootPort)?;
    function_node(root, functions, lsi, 0)
}

fn function_node(
    f: &FunctionFacts,
    all: &[FunctionFacts],
    lsi: &LsiMap,
    parent_swizzle: u8,
) -> Result<DtNode, TopologyError> {
    let is_pcie = f.pcie_type.is_some();
    let mut class_rev = f.class_rev;
    if f.pcie_type == Some(PCIE_TYPE_ROOT_PORT) {
        // The root complex reports no useful class; Linux reads it from here (skiboot).
        class_rev = 0x0604_0000 | (class_rev & 0xff);
    }
    let class_code = class_rev >> 8;
    let (dev, func) = (f.bdfn.dev(), f.bdfn.func());
    let name = if func != 0 {
        format!("{}@{:x},{:x}", class_name(class_code), dev, func)
    } else {
        format!("{}@{:x}", class_name(class_code), dev)
    };
    let mut properties = vec![
        cells("ibm,pci-config-space-type", &[is_pcie as u32]),
        cells("class-code", &[class_code]),
        cells("revision-id", &[class_rev & 0xff]),
        cells("vendor-id", &[f.vendor as u32]),
        cells("device-id", &[f.device as u32]),
    ];
    if f.int_pin != 0 {
        properties.push(cells("interrupts", &[f.int_pin as u32]));
    }
    properties.push(cells("reg", &[(f.bdfn.raw() as u32) << 8, 0, 0, 0, 0]));
    let mut children = Vec::new();
    if let Some(secondary) = f.secondary_bus {
        if secondary <= f.bdfn.bus() {
            return Err(TopologyError::BadSecondaryBus(f.bdfn));
        }
        properties.extend([
            cells("#address-cells", &[3]),
            cells("#size-cells", &[2]),
            cells("#interrupt-cells", &[1]),
            strings("device_type", &[if is_pcie { "pciex" } else { "pci" }]),
        ]);
        let swizzle = (parent_swizzle + dev) & 3;
        let one_device = matches!(
            f.pcie_type,
            Some(PCIE_TYPE_ROOT_PORT | PCIE_TYPE_DOWNSTREAM)
        );
        properties.extend(interrupt_map(lsi, swizzle, one_device));
        // An explicit identity `ranges`: Linux's OF translation fails on an empty one.
        properties.push(cells(
            "ranges",
            &[0x0200_0000, 0, 0, 0x0200_0000, 0, 0, 0xf000_0000, 0],
        ));
        let mut below: Vec<&FunctionFacts> =
            all.iter().filter(|c| c.bdfn.bus() == secondary).collect();
        below.sort_by_key(|c| c.bdfn);
        for child in below {
            children.push(function_node(child, all, lsi, swizzle)?);
        }
    }
    Ok(DtNode {
        name,
        properties,
        children,
    })
}

/// `interrupt-map-mask` and `interrupt-map` of a bridge: for each device number below
/// it (only 0 behind a root or downstream port, all 32 otherwise) and each pin, the
/// PHB's LSI after the standard swizzle, `(pin - 1 + device + swizzle) % 4`, where
/// `swizzle` accumulates the device numbers of the bridges above.
pub fn interrupt_map(lsi: &LsiMap, swizzle: u8, one_device: bool) -> [Prop; 2] {
    let (devices, mask) = if one_device {
        (1u32, [0, 0, 0, 7])
    } else {
        (32, [0xf800, 0, 0, 7])
    };
    let mut map = Vec::with_capacity((devices * 4 * 7) as usize);
    for dev in 0..devices {
        for pin in 0..4u32 {
            let target = ((pin + dev + swizzle as u32) % 4) as usize;
            // Child unit address (3 cells), pin, parent, parent specifier (girq, level).
            map.extend([
                dev << 11,
                0,
                0,
                pin + 1,
                lsi.interrupt_parent,
                lsi.girqs[target],
                1,
            ]);
        }
    }
    [
        cells("interrupt-map-mask", &mask),
        cells("interrupt-map", &map),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{PhbGen, StackFacts};
    use crate::model::{Kind, NodeId, PhbModel};
    use crate::scan::assign_buses;

    fn be32s(v: &[u8]) -> Vec<u32> {
        v.chunks(4)
            .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
            .collect()
    }

    fn p9_phb0_facts() -> PhbDtFacts {
        let (nest, pci) = PhbGen::Phb4.pec_xscom_bases(0).unwrap();
        let layout = PhbLayout::from_stack(&StackFacts {
            gen: PhbGen::Phb4,
            chip_id: 0,
            topology_index: 0,
            pec_index: 0,
            pec_nest_base: nest,
            pec_pci_base: pci,
            stack_index: 0,
            phb_index: 0,
        })
        .unwrap();
        PhbDtFacts {
            layout,
            caps: Caps {
                version: 0xa4_0000_0002,
                num_pes: 512,
                num_irqs: 4096,
            },
            base_msi: 0xfe000,
            rtt: (0x3100_0000, RTT_TABLE_SIZE),
            peltv: (0x3102_0000, 0x2_0000),
            pest: (0x3104_0000, 0x2000),
        }
    }

    const CONTEXT: PhbDtContext<'static> = PhbDtContext {
        interrupt_parent: 0x42,
        associativity: &[4, 0, 0, 0, 0],
        stack_phandle: Some(0x17),
    };

    const LSI: LsiMap = LsiMap {
        interrupt_parent: 0x42,
        girqs: [0xfeff8, 0xfeff9, 0xfeffa, 0xfeffb],
    };

    #[test]
    fn pciex_node_matches_the_observed_p9_phb0() {
        let f = p9_phb0_facts();
        assert_eq!(pciex_node_name(&f.layout), "pciex@600c3c0000000");
        let props = pciex_properties(&f, &CONTEXT);
        let get = |n: &str| {
            props
                .iter()
                .find(|p| p.name == n)
                .unwrap_or_else(|| panic!("{n} missing"))
                .value
                .clone()
        };
        let c = |n: &str| be32s(&get(n));
        assert_eq!(get("compatible"), b"ibm,power9-pciex\0ibm,ioda3-phb\0");
        assert_eq!(get("device_type"), b"pciex\0");
        assert_eq!(
            c("reg"),
            [0x600c3, 0xc000_0000, 0, 0x1000, 0x600c3, 0, 0, 0x1000_0000]
        );
        assert_eq!(c("ibm,opal-phbid"), [0, 0], "8 bytes");
        assert_eq!(c("#address-cells"), [3]);
        assert_eq!(c("#size-cells"), [2]);
        assert_eq!(c("#interrupt-cells"), [1]);
        assert_eq!(c("bus-range"), [0, 0xff]);
        assert_eq!(
            c("ranges"),
            [0x0200_0000, 0, 0x8000_0000, 0x600c0, 0, 0, 0x7fff_0000],
            "M32 only, 2 GiB - 64 KiB"
        );
        assert_eq!(c("ibm,opal-m64-window"), [0x60000, 0, 0x60000, 0, 0x40, 0]);
        assert_eq!(c("ibm,opal-available-m64-ranges"), [1, 0x1f]);
        assert_eq!(c("ibm,opal-num-pes"), [0x200]);
        assert_eq!(c("ibm,opal-reserved-pe"), [0x1ff]);
        assert_eq!(c("ibm,opal-msi-ranges"), [0xfe000, 0xff8]);
        assert_eq!(c("ibm,supported-tce-sizes"), [12, 16, 21, 30]);
        assert_eq!(c("ibm,phb-diag-data-size"), [0x2180]);
        assert_eq!(c("interrupt-parent"), [0x42]);
        assert_eq!(c("ibm,chip-id"), [0]);
        assert_eq!(c("ibm,associativity"), [4, 0, 0, 0, 0]);
        assert_eq!(get("status"), b"okay\0");
        assert_eq!(
            c("ibm,opal-m64-segment-splits"),
            [0x200, 1, 12, 0, 1, 2, 12, 0]
        );
        assert_eq!(c("ibm,opal-rtt-table"), [0, 0x3100_0000, 0x2_0000]);
        assert_eq!(
            c("ibm,xscom-bases"),
            [0x401_0c00, 0x401_0c40, 0xd01_0800, 0xd01_0840, 0xd01_0900]
        );
        assert_eq!(c("ibm,phb-stack"), [0x17]);
        assert!(get("ibm,opal-single-pe").is_empty());
        let names: Vec<_> = props.iter().map(|p| p.name).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(n), "{n} twice");
        }
    }

    #[test]
    fn small_p10_phb() {
        let mut f = p9_phb0_facts();
        let (nest, pci) = PhbGen::Phb5.pec_xscom_bases(1).unwrap();
        f.layout = PhbLayout::from_stack(&StackFacts {
            gen: PhbGen::Phb5,
            chip_id: 0,
            topology_index: 0,
            pec_index: 1,
            pec_nest_base: nest,
            pec_pci_base: pci,
            stack_index: 1,
            phb_index: 4,
        })
        .unwrap();
        f.caps.num_pes = 256;
        f.caps.num_irqs = 2048;
        f.base_msi = 0xfb800;
        let props = pciex_properties(
            &f,
            &PhbDtContext {
                stack_phandle: None,
                ..CONTEXT
            },
        );
        let get = |n: &str| props.iter().find(|p| p.name == n).map(|p| p.value.clone());
        assert_eq!(
            get("compatible").unwrap(),
            b"ibm,power10-pciex\0ibm,ioda3-phb\0"
        );
        assert_eq!(
            be32s(&get("ibm,opal-available-m64-ranges").unwrap()),
            [1, 0xf]
        );
        assert_eq!(
            be32s(&get("ibm,opal-msi-ranges").unwrap()),
            [0xfb800, 0x7f8]
        );
        assert_eq!(be32s(&get("ibm,opal-phbid").unwrap()), [0, 4]);
        assert_eq!(get("ibm,phb-stack"), None);
    }

    #[test]
    fn root_port_map_as_observed_on_p9_phb0() {
        let [mask, map] = interrupt_map(&LSI, 0, true);
        assert_eq!(be32s(&mask.value), [0, 0, 0, 7]);
        let map = be32s(&map.value);
        assert_eq!(map.len(), 4 * 7);
        for pin in 0..4u32 {
            let e = &map[pin as usize * 7..][..7];
            assert_eq!(e, [0, 0, 0, pin + 1, 0x42, 0xfeff8 + pin, 1]);
        }
    }

    #[test]
    fn switch_upstream_port_map_has_32_devices_and_swizzles() {
        let [mask, map] = interrupt_map(&LSI, 1, false);
        assert_eq!(be32s(&mask.value), [0xf800, 0, 0, 7]);
        let map = be32s(&map.value);
        assert_eq!(map.len(), 32 * 4 * 7);
        // Device 2, INTB (pin 2): (1 + 2 + 1) % 4 = 0 -> INTA of the PHB.
        let e = &map[(2 * 4 + 1) * 7..][..7];
        assert_eq!(e, [2 << 11, 0, 0, 2, 0x42, 0xfeff8, 1]);
        // Device 31, INTD: (3 + 31 + 1) % 4 = 3 -> INTD.
        let e = &map[(31 * 4 + 3) * 7..][..7];
        assert_eq!(e, [31 << 11, 0, 0, 4, 0x42, 0xfeffb, 1]);
    }

    #[test]
    fn class_names() {
        assert_eq!(class_name(0x010802), "mass-storage", "nvme");
        assert_eq!(class_name(0x010000), "scsi", "virtio-blk");
        assert_eq!(class_name(0x020000), "ethernet");
        assert_eq!(class_name(0x060400), "pci");
        assert_eq!(class_name(0x0c0330), "usb-xhci");
        assert_eq!(class_name(0xff0000), "device");
    }

    /// Root port -> nvme on bus 1; and a second tree with a switch.
    fn scan_facts(m: &mut PhbModel) -> Vec<FunctionFacts> {
        let mut found = Vec::new();
        assign_buses(m, &mut |f| found.push(f)).unwrap();
        found.push(Found {
            bdfn: Bdfn::ROOT,
            vendor: 0x1014,
            device: 0x04c1,
            bridge: Some(crate::scan::BusRange {
                primary: 0,
                secondary: 1,
                subordinate: m.bus_numbers(NodeId::ROOT_PORT).2,
            }),
        });
        found
            .iter()
            .map(|f| function_facts(m, f).unwrap())
            .collect()
    }

    #[test]
    fn nodes_for_a_root_port_and_an_nvme() {
        let mut m = PhbModel::new();
        let nvme = m.add_child(NodeId::ROOT_PORT, 0, Kind::Endpoint, 0x1b36, 0x0010);
        m.poke(nvme, 0x08, &[0x02, 0x02, 0x08, 0x01]); // rev 2, class 01:08:02
        m.poke(nvme, 0x3d, &[1]);
        let facts = scan_facts(&mut m);
        let root = device_nodes(&facts, &LSI).unwrap();
        assert_eq!(root.name, "pci@0");
        let c = |n: &DtNode, p: &str| be32s(n.property(p).unwrap());
        assert_eq!(
            c(&root, "class-code"),
            [0x060400],
            "forced for the root port"
        );
        assert_eq!(c(&root, "reg"), [0, 0, 0, 0, 0]);
        assert_eq!(c(&root, "ibm,pci-config-space-type"), [1]);
        assert_eq!(root.property("device_type").unwrap(), b"pciex\0");
        assert_eq!(c(&root, "interrupt-map-mask"), [0, 0, 0, 7]);
        assert_eq!(c(&root, "interrupt-map").len(), 28);
        assert_eq!(
            c(&root, "ranges"),
            [0x0200_0000, 0, 0, 0x0200_0000, 0, 0, 0xf000_0000, 0]
        );
        assert_eq!(root.children.len(), 1);
        let ep = &root.children[0];
        assert_eq!(ep.name, "mass-storage@0");
        assert_eq!(
            c(ep, "reg"),
            [0x1_0000, 0, 0, 0, 0],
            "bus 1 as the scan numbered it"
        );
        assert_eq!(c(ep, "vendor-id"), [0x1b36]);
        assert_eq!(c(ep, "device-id"), [0x0010]);
        assert_eq!(c(ep, "class-code"), [0x010802]);
        assert_eq!(c(ep, "revision-id"), [2]);
        assert_eq!(c(ep, "interrupts"), [1]);
        assert!(
            ep.property("interrupt-map").is_none(),
            "endpoints have no map"
        );
        assert!(ep.children.is_empty());
    }

    #[test]
    fn nodes_behind_a_switch() {
        let mut m = PhbModel::new();
        let up = m.add_child(NodeId::ROOT_PORT, 0, Kind::SwitchUpstream, 0x104c, 0x8232);
        let d0 = m.add_child(up, 0, Kind::SwitchDownstream, 0x104c, 0x8233);
        let d1 = m.add_child(up, 1 << 3, Kind::SwitchDownstream, 0x104c, 0x8233);
        let nic = m.add_child(d1, 0, Kind::Endpoint, 0x8086, 0x10d3);
        m.add_child(d1, 1, Kind::Endpoint, 0x8086, 0x10d3);
        for n in [up, d0, d1] {
            m.poke(n, 0x08, &[0, 0, 0x04, 0x06]);
        }
        m.poke(nic, 0x08, &[0, 0, 0x00, 0x02]);
        let facts = scan_facts(&mut m);
        let root = device_nodes(&facts, &LSI).unwrap();
        let upn = &root.children[0];
        assert_eq!(upn.name, "pci@0");
        assert_eq!(be32s(upn.property("interrupt-map").unwrap()).len(), 32 * 28);
        let names: Vec<_> = upn.children.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["pci@0", "pci@1"]);
        let d1n = &upn.children[1];
        let eps: Vec<_> = d1n.children.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(eps, ["ethernet@0", "device@0,1"]);
        assert_eq!(be32s(d1n.children[1].property("reg").unwrap())[0], 0x4_0100);
        // Downstream port at device 1 below the upstream port (device 0 below the root):
        // swizzle 1, so its INTA is the PHB's INTB.
        let map = be32s(d1n.property("interrupt-map").unwrap());
        assert_eq!(map.len(), 28);
        assert_eq!(&map[..7], [0, 0, 0, 1, 0x42, 0xfeff9, 1]);
    }

    #[test]
    fn broken_topologies_are_refused() {
        assert_eq!(device_nodes(&[], &LSI), Err(TopologyError::NoRootPort));
        let looped = FunctionFacts {
            bdfn: Bdfn::ROOT,
            vendor: 0x1014,
            device: 0x04c1,
            class_rev: 0,
            int_pin: 0,
            pcie_type: Some(4),
            secondary_bus: Some(0),
        };
        assert_eq!(
            device_nodes(&[looped], &LSI),
            Err(TopologyError::BadSecondaryBus(Bdfn::ROOT))
        );
    }

    #[test]
    fn the_devtree_crate_takes_it() {
        let f = p9_phb0_facts();
        let mut m = PhbModel::new();
        m.add_child(NodeId::ROOT_PORT, 0, Kind::Endpoint, 0x1af4, 0x1042);
        let root = device_nodes(&scan_facts(&mut m), &LSI).unwrap();
        let mut tree = devtree::Tree::new();
        let path = format!("/{}", pciex_node_name(&f.layout));
        tree.add_node(&path).unwrap();
        for p in pciex_properties(&f, &CONTEXT) {
            tree.set_property(&path, p.name, &p.value).unwrap();
        }
        fn add(tree: &mut devtree::Tree, parent: &str, n: &DtNode) {
            let path = format!("{parent}/{}", n.name);
            tree.add_node(&path).unwrap();
            for p in &n.properties {
                tree.set_property(&path, p.name, &p.value).unwrap();
            }
            for c in &n.children {
                add(tree, &path, c);
            }
        }
        add(&mut tree, &path, &root);
        let blob = tree.to_dtb().unwrap();
        let fdt = fdt::Fdt::new(&blob).unwrap();
        let phb = fdt.find_node("/pciex@600c3c0000000").unwrap();
        assert!(phb
            .compatible()
            .unwrap()
            .all()
            .any(|c| c == "ibm,ioda3-phb"));
        let ep = fdt
            .find_node("/pciex@600c3c0000000/pci@0/device@0")
            .unwrap();
        let reg = ep.property("reg").unwrap().value;
        assert_eq!(&reg[..4], &0x1_0000u32.to_be_bytes());
    }
}
