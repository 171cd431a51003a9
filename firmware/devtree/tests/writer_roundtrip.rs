// SPDX-License-Identifier: Apache-2.0
//! Writes trees with [`devtree::FdtWriter`] and reads them back with the `fdt` crate, the
//! parser the firmware itself uses: names, nesting, every value encoding, the
//! reservation block and the header.

mod common;

use common::{assert_header_consistent, fdt_property, header_word};
use devtree::{Error, FdtWriter};

/// A tree using every property helper, three levels deep, with memreserves.
fn sample_blob() -> Vec<u8> {
    let mut w = FdtWriter::new();
    w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    w.property_strings("compatible", &["qemu,powernv9", "ibm,powernv"])
        .unwrap();
    w.begin_node("ibm,opal").unwrap();
    w.property_string("compatible", "ibm,opal-v3").unwrap();
    w.property_u64("opal-base-address", 0x3000_0000).unwrap();
    w.property_u64s("opal-entry-address", &[0x3000_3770])
        .unwrap();
    w.property_u32("ibm,heartbeat-ms", 2000).unwrap();
    w.property_empty("opal-interrupts").unwrap();
    w.begin_node("consoles").unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 0).unwrap();
    w.begin_node("serial@0").unwrap();
    w.property_string("compatible", "ibm,opal-console-raw")
        .unwrap();
    w.property_cells("reg", &[0]).unwrap();
    w.property_u32("#write-buffer-size", 0x1000).unwrap();
    w.property_string("device_type", "serial").unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();
    w.begin_node("power-mgt").unwrap();
    w.property_strings(
        "ibm,cpu-idle-state-names",
        &["stop0_lite", "stop0", "stop1"],
    )
    .unwrap();
    w.property_cells(
        "ibm,cpu-idle-state-flags",
        &[0x10_0000, 0x10_1000, 0x10_1000],
    )
    .unwrap();
    w.property_u64s("ibm,cpu-idle-state-psscr", &[0x330, 0x30_0330, 0x30_0331])
        .unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();
    w.begin_node("chosen").unwrap();
    w.property_string("linux,stdout-path", "/ibm,opal/consoles/serial@0")
        .unwrap();
    w.property("ibm,architecture-vec-5", &[5, 0, 0, 0, 0, 0x80, 0])
        .unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();
    w.add_memreserve(0x3000_0000, 0x60_0000);
    w.add_memreserve(0x3060_0000, 0xa0_0000);
    w.add_memreserve(0x203f_fd80_0000, 0x40_0000);
    w.set_boot_cpuid_phys(0x24);
    w.finish().unwrap()
}

#[test]
fn header_and_blocks_are_laid_out_per_spec() {
    let blob = sample_blob();
    assert_header_consistent(&blob);
    assert_eq!(header_word(&blob, 28), 0x24, "boot_cpuid_phys");
    let strings_offset = header_word(&blob, 12) as usize;
    let strings = &blob[strings_offset..];
    let names: Vec<&[u8]> = strings
        .split(|&byte| byte == 0)
        .filter(|name| !name.is_empty())
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "every name stored once");
    assert_eq!(
        names
            .iter()
            .filter(|name| **name == b"#address-cells")
            .count(),
        1
    );
}

#[test]
fn fdt_crate_reads_nodes_and_nesting() {
    let blob = sample_blob();
    let fdt = fdt::Fdt::new(&blob).unwrap();
    assert_eq!(fdt.total_size(), blob.len());
    let root_children: Vec<&str> = fdt
        .find_node("/")
        .unwrap()
        .children()
        .map(|n| n.name)
        .collect();
    assert_eq!(root_children, ["ibm,opal", "chosen"]);
    let opal_children: Vec<&str> = fdt
        .find_node("/ibm,opal")
        .unwrap()
        .children()
        .map(|n| n.name)
        .collect();
    assert_eq!(opal_children, ["consoles", "power-mgt"]);
    let serial = fdt.find_node("/ibm,opal/consoles/serial@0").unwrap();
    assert_eq!(serial.name, "serial@0");
    let serial_properties: Vec<&str> = serial.properties().map(|p| p.name).collect();
    assert_eq!(
        serial_properties,
        ["compatible", "reg", "#write-buffer-size", "device_type"]
    );
    assert_eq!(serial.compatible().unwrap().first(), "ibm,opal-console-raw");
    let all: Vec<&str> = fdt.all_nodes().map(|n| n.name).collect();
    assert_eq!(
        all,
        [
            "/",
            "ibm,opal",
            "consoles",
            "serial@0",
            "power-mgt",
            "chosen"
        ]
    );
}

#[test]
fn fdt_crate_reads_every_value_encoding() {
    let blob = sample_blob();
    let fdt = fdt::Fdt::new(&blob).unwrap();
    let compatible: Vec<&str> = fdt.root().compatible().all().collect();
    assert_eq!(compatible, ["qemu,powernv9", "ibm,powernv"]);
    assert_eq!(fdt.root().cell_sizes().address_cells, 2);
    assert_eq!(fdt.root().cell_sizes().size_cells, 2);

    let opal = fdt.find_node("/ibm,opal").unwrap();
    assert_eq!(
        opal.property("opal-base-address").unwrap().as_usize(),
        Some(0x3000_0000)
    );
    assert_eq!(
        opal.property("opal-entry-address").unwrap().as_usize(),
        Some(0x3000_3770)
    );
    assert_eq!(
        opal.property("ibm,heartbeat-ms").unwrap().as_usize(),
        Some(2000)
    );
    assert_eq!(opal.property("opal-interrupts").unwrap().value, b"");
    assert_eq!(
        opal.property("compatible").unwrap().as_str(),
        Some("ibm,opal-v3")
    );

    let power = "/ibm,opal/power-mgt";
    assert_eq!(
        fdt_property(&fdt, power, "ibm,cpu-idle-state-names").unwrap(),
        b"stop0_lite\0stop0\0stop1\0"
    );
    let flags = fdt_property(&fdt, power, "ibm,cpu-idle-state-flags").unwrap();
    assert_eq!(flags, [0, 0x10, 0, 0, 0, 0x10, 0x10, 0, 0, 0x10, 0x10, 0]);
    let psscr = fdt_property(&fdt, power, "ibm,cpu-idle-state-psscr").unwrap();
    let psscr: Vec<u64> = psscr
        .chunks(8)
        .map(|chunk| u64::from_be_bytes(chunk.try_into().unwrap()))
        .collect();
    assert_eq!(psscr, [0x330, 0x30_0330, 0x30_0331]);

    let stdout_path = fdt_property(&fdt, "/chosen", "linux,stdout-path").unwrap();
    assert_eq!(stdout_path, b"/ibm,opal/consoles/serial@0\0");
    let stdout = fdt.find_node("/ibm,opal/consoles/serial@0").unwrap();
    assert_eq!(stdout.name, "serial@0");
    assert_eq!(
        fdt_property(&fdt, "/chosen", "ibm,architecture-vec-5").unwrap(),
        [5, 0, 0, 0, 0, 0x80, 0]
    );
    let serial_reg = fdt
        .find_node("/ibm,opal/consoles/serial@0")
        .unwrap()
        .raw_reg()
        .unwrap()
        .next();
    assert_eq!(
        serial_reg.map(|reg| (reg.address, reg.size)),
        Some((&[0u8, 0, 0, 0][..], &[][..]))
    );
}

#[test]
fn fdt_crate_reads_memreserves() {
    let blob = sample_blob();
    let fdt = fdt::Fdt::new(&blob).unwrap();
    let entries: Vec<(usize, usize)> = fdt
        .memory_reservations()
        .map(|entry| (entry.address() as usize, entry.size()))
        .collect();
    assert_eq!(
        entries,
        [
            (0x3000_0000, 0x60_0000),
            (0x3060_0000, 0xa0_0000),
            (0x203f_fd80_0000, 0x40_0000)
        ]
    );
    // The block is 8-byte aligned and ends with one all-zero entry.
    let reserve_offset = header_word(&blob, 16) as usize;
    assert_eq!(reserve_offset % 8, 0);
    assert_eq!(
        &blob[reserve_offset + 3 * 16..reserve_offset + 4 * 16],
        &[0; 16]
    );
}

#[test]
fn tree_without_reservations_has_only_the_terminator() {
    let mut w = FdtWriter::new();
    w.begin_node("").unwrap();
    w.end_node().unwrap();
    let blob = w.finish().unwrap();
    assert_header_consistent(&blob);
    let fdt = fdt::Fdt::new(&blob).unwrap();
    assert_eq!(fdt.memory_reservations().count(), 0);
    assert_eq!(fdt.find_node("/").unwrap().children().count(), 0);
    assert_eq!(header_word(&blob, 28), 0, "boot_cpuid_phys defaults to 0");
}

#[test]
fn writer_errors() {
    let mut w = FdtWriter::new();
    assert_eq!(w.end_node(), Err(Error::EndNodeWithoutBeginNode));
    assert_eq!(w.property_u32("x", 1), Err(Error::PropertyOutsideNode));
    w.begin_node("").unwrap();
    w.begin_node("child").unwrap();
    assert_eq!(w.finish(), Err(Error::UnclosedNodes(2)));
}
