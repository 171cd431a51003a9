// SPDX-License-Identifier: Apache-2.0
//! Test fixtures shared by the integration tests: a blob shaped like the tree QEMU 10
//! `powernv9` hands the firmware (boot contract §1.3), written with our own writer, and a
//! few helpers to look inside blobs.

#![allow(dead_code)] // each test binary uses a different part of this module

use devtree::{Error, FdtWriter, Tree};

/// `/memreserve/` entry of the fixture, to check that input entries are carried over.
pub const INPUT_MEMRESERVE: (u64, u64) = (0x2800_0000, 0x10_0000);
/// `boot_cpuid_phys` of the fixture's header.
pub const INPUT_BOOT_CPU: u32 = 0;
/// Full path of the UART node QEMU creates under the LPC bus.
pub const UART_PATH: &str = "/lpcm-opb@6030000000000/lpc@0/isa-serial@i3f8";
/// The OPAL console node the firmware adds.
pub const SERIAL: &str = "/ibm,opal/consoles/serial@0";

/// 66 bytes like QEMU's P9 `ibm,pa-features` (only the length and a few bytes matter).
pub fn pa_features() -> Vec<u8> {
    let mut bytes = vec![0; 66];
    bytes[0] = 64;
    bytes[2] = 0xf6;
    bytes[3] = 0x3f;
    bytes[65] = 0x80;
    bytes
}

/// A QEMU-powernv9-like input tree, as raw DTB bytes.
pub fn qemu_powernv9_blob() -> Vec<u8> {
    let mut w = FdtWriter::new();
    w.begin_node("").unwrap();
    w.property_strings("compatible", &["qemu,powernv9", "ibm,powernv"])
        .unwrap();
    w.property_string("model", "IBM PowerNV (emulated by qemu)")
        .unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    w.property("vm,uuid", b"00000000-0000-0000-0000-000000000000\0")
        .unwrap();

    w.begin_node("chosen").unwrap();
    w.property_string("bootargs", "console=hvc0 rdinit=/init")
        .unwrap();
    w.property_u32("linux,initrd-start", 0x2800_0000).unwrap();
    w.property_u32("linux,initrd-end", 0x2810_0000).unwrap();
    w.end_node().unwrap();

    w.begin_node("memory@0").unwrap();
    w.property_string("device_type", "memory").unwrap();
    w.property_cells("reg", &[0, 0, 0, 0x8000_0000]).unwrap();
    w.property_u32("ibm,chip-id", 0).unwrap();
    w.end_node().unwrap();

    w.begin_node("cpus").unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 0).unwrap();
    w.begin_node("PowerPC,POWER9@0").unwrap();
    w.property_string("device_type", "cpu").unwrap();
    w.property_u32("reg", 0).unwrap();
    w.property_u32("ibm,pir", 0).unwrap();
    w.property_cells("ibm,ppc-interrupt-server#s", &[0, 1, 2, 3])
        .unwrap();
    w.property_u32("ibm,chip-id", 0).unwrap();
    w.property_u32("cpu-version", 0x004e_1202).unwrap();
    w.property_u32("timebase-frequency", 512_000_000).unwrap();
    w.property_u32("clock-frequency", 1_000_000_000).unwrap();
    w.property_cells("ibm,processor-segment-sizes", &[28, 40, u32::MAX, u32::MAX])
        .unwrap();
    w.property("ibm,pa-features", &pa_features()).unwrap();
    w.property_empty("64-bit").unwrap();
    w.property_string("status", "okay").unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();

    w.begin_node("lpcm-opb@6030000000000").unwrap();
    w.property_strings("compatible", &["ibm,power9-lpcm-opb", "simple-bus"])
        .unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 1).unwrap();
    w.property_cells("reg", &[0x60300, 0, 1, 0]).unwrap();
    w.property_cells(
        "ranges",
        &[
            0,
            0x60300,
            0,
            0x8000_0000,
            0x8000_0000,
            0x60300,
            0x8000_0000,
            0x8000_0000,
        ],
    )
    .unwrap();
    w.begin_node("lpc@0").unwrap();
    w.property_strings("compatible", &["ibm,power9-lpc", "ibm,lpc"])
        .unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 1).unwrap();
    w.property_empty("primary").unwrap();
    w.property_u32("phandle", 1).unwrap();
    w.property_cells(
        "ranges",
        &[
            0,
            0,
            0xe000_0000,
            0x1000_0000,
            1,
            0,
            0xd001_0000,
            0x1_0000,
            3,
            0,
            0xf000_0000,
            0x1000_0000,
        ],
    )
    .unwrap();
    w.begin_node("isa-serial@i3f8").unwrap();
    w.property_strings("compatible", &["ns16550", "pnpPNP,501"])
        .unwrap();
    w.property_cells("reg", &[1, 0x3f8, 8]).unwrap();
    w.property_u32("interrupts", 4).unwrap();
    w.property_u32("clock-frequency", 1_843_200).unwrap();
    w.property_u32("current-speed", 115_200).unwrap();
    w.property_string("device_type", "serial").unwrap();
    w.end_node().unwrap();
    w.begin_node("mc146818rtc@i70").unwrap();
    w.property_string("compatible", "pnpPNP,b00").unwrap();
    w.property_cells("reg", &[1, 0x70, 2]).unwrap();
    w.end_node().unwrap();
    w.begin_node("isa-ipmi-bt@ie4").unwrap();
    w.property_strings("compatible", &["bt", "ipmi-bt"])
        .unwrap();
    w.property_cells("reg", &[1, 0xe4, 3]).unwrap();
    w.property_u32("interrupts", 10).unwrap();
    w.property_string("status", "reserved").unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();

    w.begin_node("ibm,opal").unwrap();
    w.begin_node("power-mgt").unwrap();
    w.property_u32("ibm,enabled-stop-levels", 0xc000_0000)
        .unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();

    w.begin_node("qemu").unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();

    w.add_memreserve(INPUT_MEMRESERVE.0, INPUT_MEMRESERVE.1);
    w.set_boot_cpuid_phys(INPUT_BOOT_CPU);
    w.finish().unwrap()
}

/// Header word at byte `offset` of a blob (`28` is `boot_cpuid_phys`).
pub fn header_word(blob: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes(blob[offset..offset + 4].try_into().unwrap())
}

/// Checks the layout rules of the header: sizes, offsets, alignment, versions.
pub fn assert_header_consistent(blob: &[u8]) {
    let [magic, total, off_struct, off_strings, off_rsvmap, version, last_comp, _cpu, size_strings, size_struct] =
        std::array::from_fn(|index| header_word(blob, index * 4));
    assert_eq!(magic, 0xd00d_feed);
    assert_eq!(total as usize, blob.len(), "totalsize");
    assert_eq!((version, last_comp), (17, 16));
    assert_eq!(off_rsvmap % 8, 0, "memreserve block must be 8-byte aligned");
    assert_eq!(off_struct % 4, 0, "structure block must be 4-byte aligned");
    assert!(off_rsvmap >= 40 && off_rsvmap < off_struct);
    assert_eq!(
        off_struct + size_struct,
        off_strings,
        "blocks are packed in order"
    );
    assert_eq!(off_strings + size_strings, total);
    let last_token = header_word(blob, (off_strings - 4) as usize);
    assert_eq!(last_token, 9, "structure block ends with FDT_END");
}

/// A property value read back through the `fdt` crate.
pub fn fdt_property<'a>(fdt: &fdt::Fdt<'a>, path: &str, name: &str) -> Option<&'a [u8]> {
    let node = fdt.find_node(path)?;
    node.properties()
        .find(|property| property.name == name)
        .map(|property| property.value)
}

/// Every node of a parsed blob as (path, property (name, value) list, child names), in
/// document order, walked through the `fdt` crate.
pub type NodeSummary = (String, Vec<(String, Vec<u8>)>, Vec<String>);

pub fn summarise(fdt: &fdt::Fdt<'_>) -> Vec<NodeSummary> {
    fn walk(node: fdt::node::FdtNode<'_, '_>, path: String, out: &mut Vec<NodeSummary>) {
        let properties = node
            .properties()
            .map(|property| (property.name.to_string(), property.value.to_vec()))
            .collect();
        let children: Vec<_> = node.children().collect();
        let names = children
            .iter()
            .map(|child| child.name.to_string())
            .collect();
        out.push((path.clone(), properties, names));
        for child in children {
            let child_path = if path == "/" {
                format!("/{}", child.name)
            } else {
                format!("{path}/{}", child.name)
            };
            walk(child, child_path, out);
        }
    }
    let mut out = Vec::new();
    walk(fdt.find_node("/").unwrap(), "/".to_string(), &mut out);
    out
}

/// The edits the firmware makes, applied to the QEMU-like input.
pub fn edited_tree() -> Tree {
    let mut tree = Tree::from_bytes(&qemu_powernv9_blob()).unwrap();

    // /ibm,opal exists already (QEMU puts power-mgt in it): add to it, do not recreate.
    assert_eq!(
        tree.add_node("/ibm,opal"),
        Err(Error::NodeExists("/ibm,opal".into()))
    );
    tree.ensure_node("/ibm,opal").unwrap();
    tree.set_property_strings("/ibm,opal", "compatible", &["ibm,opal-v3"])
        .unwrap();
    tree.set_property_u64s("/ibm,opal", "opal-base-address", &[0x3000_0000])
        .unwrap();
    tree.set_property_u64("/ibm,opal", "opal-entry-address", 0x3000_3770)
        .unwrap();
    tree.set_property_u64("/ibm,opal", "opal-runtime-size", 0x1c2_0000)
        .unwrap();
    tree.set_property_u32("/ibm,opal", "ibm,heartbeat-ms", 100)
        .unwrap();
    tree.set_property_empty("/ibm,opal", "opal-interrupts")
        .unwrap();
    tree.ensure_node(SERIAL).unwrap();
    tree.set_property_cells("/ibm,opal/consoles", "#address-cells", &[1])
        .unwrap();
    tree.set_property_u32("/ibm,opal/consoles", "#size-cells", 0)
        .unwrap();
    tree.set_property_string(SERIAL, "compatible", "ibm,opal-console-raw")
        .unwrap();
    tree.set_property_cells(SERIAL, "reg", &[0]).unwrap();
    tree.set_property_string(SERIAL, "device_type", "serial")
        .unwrap();
    tree.set_property_u32(SERIAL, "#write-buffer-size", 0x1000)
        .unwrap();
    // Replace a value QEMU set, in place.
    tree.set_property_u32(
        "/ibm,opal/power-mgt",
        "ibm,enabled-stop-levels",
        0x8000_0000,
    )
    .unwrap();

    tree.set_property(
        "/chosen",
        "linux,stdout-path",
        b"/ibm,opal/consoles/serial@0\0",
    )
    .unwrap();
    // The UART gets status = "reserved" (new), the cpu's existing status is replaced.
    let uart = tree.paths_compatible_with("ns16550").remove(0);
    tree.set_property_string(&uart, "status", "reserved")
        .unwrap();
    tree.set_property_string("/cpus/PowerPC,POWER9@0", "status", "okay-edited")
        .unwrap();
    assert_eq!(
        tree.remove_property("/", "vm,uuid")
            .unwrap()
            .map(|v| v.len()),
        Some(37)
    );
    tree.remove_node("/qemu").unwrap();

    tree.add_node("/reserved-memory").unwrap();
    tree.set_property_u32("/reserved-memory", "#address-cells", 2)
        .unwrap();
    tree.set_property_u32("/reserved-memory", "#size-cells", 2)
        .unwrap();
    tree.set_property_empty("/reserved-memory", "ranges")
        .unwrap();
    for (name, address, size) in [
        ("ibm,firmware-code", 0x3000_0000u64, 0x60_0000u64),
        ("ibm,firmware-heap", 0x3060_0000, 0xa0_0000),
    ] {
        let path = format!("/reserved-memory/{name}@{address:x}");
        tree.add_node(&path).unwrap();
        tree.set_property_u64s(&path, "reg", &[address, size])
            .unwrap();
        tree.add_memreserve(address, size);
    }
    tree.set_property_strings(
        "/",
        "reserved-names",
        &["ibm,firmware-code", "ibm,firmware-heap"],
    )
    .unwrap();
    tree.set_property_u64s(
        "/",
        "reserved-ranges",
        &[0x3000_0000, 0x60_0000, 0x3060_0000, 0xa0_0000],
    )
    .unwrap();
    tree.set_boot_cpuid_phys(2);
    tree
}
