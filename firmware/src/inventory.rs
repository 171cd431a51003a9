// SPDX-License-Identifier: Apache-2.0
//! What the machine is, read from the device tree we were handed (QEMU's, or Mambo's):
//! memory, threads and their PIRs, the timebase, the LPC bus with its UART and BMC
//! interface, and the /chosen boot arguments. skiboot reads the same from `hdata/` or
//! the input FDT in `core/init.c`.

use alloc::string::String;
use alloc::vec::Vec;
use devtree::{Node, Tree};

pub struct Thread {
    pub pir: u32,
    pub chip: u32,
}

/// One processor chip's XSCOM window and the units under it the firmware drives.
pub struct Chip {
    pub chip_id: u32,
    /// Real address of the chip's XSCOM MMIO window.
    pub xscom_base: u64,
    /// PCB address of the XIVE unit (`ibm,power9-xive-x` / `ibm,power10-xive-x`).
    pub xive_pcba: Option<u32>,
    /// PCB address of the PSI host bridge (`ibm,power9-psihb-x` / `ibm,power10-psihb-x`).
    pub psi_pcba: Option<u32>,
}

pub struct Inventory {
    pub model: String,
    pub compatible: Vec<String>,
    /// (base, size) of each memory node.
    pub memory: Vec<(u64, u64)>,
    pub threads: Vec<Thread>,
    pub pvr: u32,
    pub tb_hz: u64,
    /// Real address of LPC I/O space (port 0 of the primary LPC bus).
    pub lpc_io_base: Option<u64>,
    /// Real address of LPC firmware space (where the flash, or the BMC's window onto
    /// it, appears), 256 MiB.
    pub lpc_fw_base: Option<u64>,
    /// POWER8's LPC bus, reached through XSCOM instead (`ibm,power8-lpc`): the chip's
    /// XSCOM window and the LPC unit's XSCOM address.
    pub lpc_eccb: Option<(u64, u32)>,
    /// LPC I/O port of the 16550 console UART, and its node path.
    pub uart: Option<(u16, String)>,
    /// LPC I/O port of the IPMI BT interface.
    pub ipmi_bt: Option<u16>,
    pub bootargs: Option<String>,
    pub initrd: Option<(u64, u64)>,
    /// Chips in device-tree order (the order XIVE block ids are handed out in).
    pub chips: Vec<Chip>,
}

impl Inventory {
    pub fn ram_top(&self) -> u64 {
        self.memory.iter().map(|&(b, s)| b + s).max().unwrap_or(0)
    }
    /// 8, 9 or 10, from the PVR (POWER8 0x004b/0x004c/0x004d, POWER9 0x004e, POWER10 0x0080).
    pub fn generation(&self) -> u32 {
        match self.pvr >> 16 {
            0x004b..=0x004d => 8,
            0x0080 => 10,
            _ => 9,
        }
    }
}

fn be_u32s(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
}

fn read_cells(cells: &mut impl Iterator<Item = u32>, n: usize) -> Option<u64> {
    (0..n).try_fold(0u64, |acc, _| Some(acc << 32 | u64::from(cells.next()?)))
}

fn cells_of(node: &Node, name: &str, default: u32) -> usize {
    node.property_u32(name).unwrap_or(default) as usize
}

pub fn scan(tree: &Tree) -> Inventory {
    let root = tree.root();
    let mut inv = Inventory {
        model: root.property_str("model").unwrap_or("unknown").into(),
        compatible: root
            .property_strings("compatible")
            .map(|s| s.map(String::from).collect())
            .unwrap_or_default(),
        memory: Vec::new(),
        threads: Vec::new(),
        pvr: 0,
        tb_hz: 512_000_000,
        lpc_io_base: None,
        lpc_fw_base: None,
        lpc_eccb: None,
        uart: None,
        ipmi_bt: None,
        bootargs: None,
        initrd: None,
        chips: Vec::new(),
    };
    let (ac, sc) = (
        cells_of(root, "#address-cells", 2),
        cells_of(root, "#size-cells", 1),
    );
    for node in root.children() {
        if node.property_str("device_type") == Some("memory") {
            if let Some(reg) = node.property("reg") {
                let mut cells = be_u32s(reg);
                while let (Some(b), Some(s)) =
                    (read_cells(&mut cells, ac), read_cells(&mut cells, sc))
                {
                    inv.memory.push((b, s));
                }
            }
        }
    }
    if let Some(cpus) = tree.node("/cpus") {
        for core in cpus
            .children()
            .filter(|n| n.property_str("device_type") == Some("cpu"))
        {
            let chip = core.property_u32("ibm,chip-id").unwrap_or(0);
            if let Some(tb) = core.property_u32("timebase-frequency") {
                inv.tb_hz = u64::from(tb);
            }
            if let Some(pvr) = core.property_u32("cpu-version") {
                inv.pvr = pvr;
            }
            let servers = core
                .property("ibm,ppc-interrupt-server#s")
                .or_else(|| core.property("reg"));
            for pir in servers.map(be_u32s).into_iter().flatten() {
                inv.threads.push(Thread { pir, chip });
            }
        }
    }
    if let Some(chosen) = tree.node("/chosen") {
        inv.bootargs = chosen.property_str("bootargs").map(String::from);
        let cell = |name| {
            chosen.property(name).and_then(|b: &[u8]| match b.len() {
                4 => Some(u64::from(u32::from_be_bytes(b.try_into().ok()?))),
                8 => Some(u64::from_be_bytes(b.try_into().ok()?)),
                _ => None,
            })
        };
        if let (Some(s), Some(e)) = (cell("linux,initrd-start"), cell("linux,initrd-end")) {
            inv.initrd = Some((s, e));
        }
    }
    scan_lpc(tree, &mut inv);
    scan_chips(tree, &mut inv);
    inv
}

/// Every `ibm,xscom` node (one per chip, 2 address cells, 2 size cells) and the XIVE and
/// PSI units under it (`reg = <pcb-address size>`).
fn scan_chips(tree: &Tree, inv: &mut Inventory) {
    for path in tree.paths_compatible_with("ibm,xscom") {
        let Some(node) = tree.node(&path) else {
            continue;
        };
        let (Some(chip_id), Some(reg)) = (node.property_u32("ibm,chip-id"), node.property("reg"))
        else {
            continue;
        };
        let Some(xscom_base) = read_cells(&mut be_u32s(reg), 2) else {
            continue;
        };
        let unit = |compat: [&str; 2]| {
            node.children()
                .find(|c| compat.iter().any(|k| c.is_compatible(k)))
                .and_then(|c| c.property("reg"))
                .and_then(|r| be_u32s(r).next())
        };
        inv.chips.push(Chip {
            chip_id,
            xscom_base,
            xive_pcba: unit(["ibm,power9-xive-x", "ibm,power10-xive-x"]),
            psi_pcba: unit(["ibm,power9-psihb-x", "ibm,power10-psihb-x"]),
        });
    }
}

/// Finds the primary LPC bus and translates its I/O space to a real address through the
/// OPB bridge's `ranges`; then its UART and BT children (isa nodes: reg = <space port len>).
fn scan_lpc(tree: &Tree, inv: &mut Inventory) {
    let paths = tree.paths_compatible_with("ibm,lpc");
    let Some(lpc_path) = paths
        .iter()
        .find(|p| {
            tree.node(p)
                .is_some_and(|n| n.property("primary").is_some())
        })
        .or(paths.first())
    else {
        return;
    };
    let Some(lpc) = tree.node(lpc_path) else {
        return;
    };
    let parent_path = match lpc_path.rfind('/') {
        Some(0) | None => "/",
        // `get`, not `[..i]`: `i` is where a '/' is, always a char boundary, and the
        // slicing panic would bring core's char escaping into the image.
        Some(i) => lpc_path.get(..i).unwrap_or("/"),
    };
    let Some(opb) = tree.node(parent_path) else {
        return;
    };
    if lpc.is_compatible("ibm,power8-lpc") {
        let pcba = lpc.property("reg").and_then(|r| be_u32s(r).next());
        let base = opb
            .property("reg")
            .and_then(|r| read_cells(&mut be_u32s(r), 2));
        inv.lpc_eccb = base.zip(pcba);
    }
    // LPC ranges: <space offset> (2 cells) → OPB address (parent #address-cells) , size (1).
    let opb_ac = cells_of(opb, "#address-cells", 1);
    let (mut io_opb, mut fw_opb) = (None, None);
    if let Some(r) = lpc.property("ranges") {
        let mut c = be_u32s(r);
        while let (Some(space), Some(_off), Some(parent), Some(_size)) =
            (c.next(), c.next(), read_cells(&mut c, opb_ac), c.next())
        {
            match space {
                1 => io_opb = Some(parent),
                3 => fw_opb = Some(parent),
                _ => {}
            }
        }
    }
    // OPB ranges: child (opb #address-cells) → root address (2 cells), size (opb #size-cells).
    let opb_sc = cells_of(opb, "#size-cells", 1);
    if let Some(r) = opb.property("ranges") {
        let mut c = be_u32s(r);
        while let (Some(child), Some(parent), Some(size)) = (
            read_cells(&mut c, opb_ac),
            read_cells(&mut c, 2),
            read_cells(&mut c, opb_sc),
        ) {
            let inside = |a: u64| a >= child && a < child + size;
            if let Some(io) = io_opb.filter(|&a| inside(a)) {
                inv.lpc_io_base = Some(parent + (io - child));
            }
            if let Some(fw) = fw_opb.filter(|&a| inside(a)) {
                inv.lpc_fw_base = Some(parent + (fw - child));
            }
        }
    }
    for dev in lpc.children() {
        let port = dev.property("reg").and_then(|r| {
            let mut c = be_u32s(r);
            (c.next()? == 1).then_some(c.next()? as u16)
        });
        let Some(port) = port else { continue };
        if dev.is_compatible("ns16550") && inv.uart.is_none() {
            inv.uart = Some((port, alloc::format!("{lpc_path}/{}", dev.name())));
        } else if dev.is_compatible("ipmi-bt") {
            inv.ipmi_bt = Some(port);
        }
    }
}
