// SPDX-License-Identifier: Apache-2.0
//! Round trips through [`devtree::Tree`]: read a QEMU-like input blob, make the edits the
//! firmware makes for Linux (boot contract §2 and §11.2), write it, and read the result
//! back with the `fdt` crate. Everything not edited must come back byte for byte.

mod common;

use common::{
    assert_header_consistent, edited_tree, fdt_property, header_word, qemu_powernv9_blob,
    summarise, INPUT_MEMRESERVE, SERIAL, UART_PATH,
};
use devtree::{Error, Tree};

#[test]
fn unedited_tree_is_written_back_identically() {
    let input = qemu_powernv9_blob();
    let tree = Tree::from_bytes(&input).unwrap();
    assert_eq!(tree.to_dtb().unwrap(), input);
}

#[test]
fn from_fdt_and_from_bytes_agree() {
    let input = qemu_powernv9_blob();
    let from_bytes = Tree::from_bytes(&input).unwrap();
    let mut from_fdt = Tree::from_fdt(&fdt::Fdt::new(&input).unwrap()).unwrap();
    assert_eq!(
        from_fdt.boot_cpuid_phys(),
        0,
        "the fdt crate does not expose it"
    );
    from_fdt.set_boot_cpuid_phys(from_bytes.boot_cpuid_phys());
    assert_eq!(from_fdt, from_bytes);
    assert_eq!(from_fdt.memreserves().len(), 1);
}

#[test]
fn lookups_on_the_owned_tree() {
    let tree = Tree::from_bytes(&qemu_powernv9_blob()).unwrap();
    let cpus: Vec<&str> = tree
        .node("/cpus")
        .unwrap()
        .children()
        .map(|node| node.name())
        .collect();
    assert_eq!(cpus, ["PowerPC,POWER9@0"]);
    let cpu = tree.node("/cpus/PowerPC,POWER9@0").unwrap();
    let servers: Vec<u32> = cpu
        .property_cells("ibm,ppc-interrupt-server#s")
        .unwrap()
        .collect();
    assert_eq!(servers, [0, 1, 2, 3]);
    assert_eq!(cpu.property_u32("timebase-frequency"), Some(512_000_000));
    assert_eq!(cpu.property("64-bit"), Some(&[][..]));
    assert_eq!(
        tree.property("/chosen", "bootargs"),
        Some(&b"console=hvc0 rdinit=/init\0"[..])
    );
    assert_eq!(
        tree.node("/chosen").unwrap().property_str("bootargs"),
        Some("console=hvc0 rdinit=/init")
    );
    assert_eq!(tree.paths_compatible_with("ns16550"), [UART_PATH]);
    assert_eq!(tree.paths_compatible_with("ibm,powernv"), ["/"]);
    assert!(tree.paths_compatible_with("ibm,opal-v3").is_empty());
    assert!(
        tree.node("/cpus/PowerPC,POWER9").is_none(),
        "unit address is part of the name"
    );
    assert!(tree.property("/chosen", "linux,stdout-path").is_none());
}

/// (path, property) pairs `edited_tree` adds, changes or removes.
const EDITED_PROPERTIES: &[(&str, &str)] = &[
    ("/", "vm,uuid"),
    ("/", "reserved-names"),
    ("/", "reserved-ranges"),
    ("/chosen", "linux,stdout-path"),
    (UART_PATH, "status"),
    ("/cpus/PowerPC,POWER9@0", "status"),
    ("/ibm,opal/power-mgt", "ibm,enabled-stop-levels"),
];

#[test]
fn edits_are_visible_to_the_fdt_crate() {
    let blob = edited_tree().to_dtb().unwrap();
    assert_header_consistent(&blob);
    let fdt = fdt::Fdt::new(&blob).unwrap();

    let opal = fdt.find_node("/ibm,opal").unwrap();
    assert_eq!(
        opal.compatible().unwrap().all().collect::<Vec<_>>(),
        ["ibm,opal-v3"]
    );
    assert_eq!(
        opal.property("opal-base-address").unwrap().as_usize(),
        Some(0x3000_0000)
    );
    assert_eq!(
        opal.property("opal-entry-address").unwrap().as_usize(),
        Some(0x3000_3770)
    );
    assert_eq!(
        opal.property("opal-runtime-size").unwrap().as_usize(),
        Some(0x1c2_0000)
    );
    assert_eq!(
        opal.property("ibm,heartbeat-ms").unwrap().as_usize(),
        Some(100)
    );
    assert_eq!(opal.property("opal-interrupts").unwrap().value, b"");
    let opal_children: Vec<&str> = opal.children().map(|node| node.name).collect();
    assert_eq!(
        opal_children,
        ["power-mgt", "consoles"],
        "existing child first, new one appended"
    );

    let serial = fdt.find_node(SERIAL).unwrap();
    assert_eq!(serial.compatible().unwrap().first(), "ibm,opal-console-raw");
    assert_eq!(serial.property("reg").unwrap().as_usize(), Some(0));
    assert_eq!(
        serial.property("device_type").unwrap().as_str(),
        Some("serial")
    );
    assert_eq!(
        serial.property("#write-buffer-size").unwrap().as_usize(),
        Some(0x1000)
    );
    assert_eq!(
        fdt.find_node("/ibm,opal/consoles")
            .unwrap()
            .cell_sizes()
            .size_cells,
        0
    );

    assert_eq!(
        fdt_property(&fdt, "/chosen", "linux,stdout-path"),
        Some(&b"/ibm,opal/consoles/serial@0\0"[..])
    );
    assert_eq!(
        fdt.chosen().bootargs(),
        Some("console=hvc0 rdinit=/init"),
        "untouched"
    );
    assert_eq!(
        fdt_property(&fdt, UART_PATH, "status"),
        Some(&b"reserved\0"[..])
    );
    let uart_properties: Vec<&str> = fdt
        .find_node(UART_PATH)
        .unwrap()
        .properties()
        .map(|p| p.name)
        .collect();
    assert_eq!(
        uart_properties.last(),
        Some(&"status"),
        "a new property goes last"
    );
    let cpu = fdt.find_node("/cpus/PowerPC,POWER9@0").unwrap();
    assert_eq!(
        cpu.property("status").unwrap().as_str(),
        Some("okay-edited")
    );
    let cpu_properties: Vec<&str> = cpu.properties().map(|p| p.name).collect();
    assert_eq!(
        cpu_properties.last(),
        Some(&"status"),
        "replaced in place (it was last)"
    );
    assert_eq!(cpu_properties.len(), 12);
    assert_eq!(
        fdt_property(&fdt, "/ibm,opal/power-mgt", "ibm,enabled-stop-levels"),
        Some(&[0x80, 0, 0, 0][..])
    );

    assert!(fdt.root().property("vm,uuid").is_none());
    assert!(fdt.find_node("/qemu").is_none());
    let reserved_names: Vec<&str> = fdt
        .find_node("/")
        .unwrap()
        .property("reserved-names")
        .unwrap()
        .as_str()
        .unwrap()
        .split('\0')
        .collect();
    assert_eq!(reserved_names, ["ibm,firmware-code", "ibm,firmware-heap"]);

    let reserved = fdt.find_node("/reserved-memory").unwrap();
    assert!(reserved.property("ranges").unwrap().value.is_empty());
    let regions: Vec<(String, usize, Option<usize>)> = reserved
        .children()
        .map(|node| {
            let region = node.reg().unwrap().next().unwrap();
            (
                node.name.to_string(),
                region.starting_address as usize,
                region.size,
            )
        })
        .collect();
    assert_eq!(
        regions,
        [
            (
                "ibm,firmware-code@30000000".to_string(),
                0x3000_0000,
                Some(0x60_0000)
            ),
            (
                "ibm,firmware-heap@30600000".to_string(),
                0x3060_0000,
                Some(0xa0_0000)
            ),
        ]
    );

    let reservations: Vec<(usize, usize)> = fdt
        .memory_reservations()
        .map(|entry| (entry.address() as usize, entry.size()))
        .collect();
    assert_eq!(
        reservations,
        [
            (INPUT_MEMRESERVE.0 as usize, INPUT_MEMRESERVE.1 as usize),
            (0x3000_0000, 0x60_0000),
            (0x3060_0000, 0xa0_0000),
        ],
        "input entries first, then the new ones"
    );
    assert_eq!(header_word(&blob, 28), 2, "boot_cpuid_phys");
}

#[test]
fn untouched_nodes_and_properties_survive_byte_for_byte() {
    let input = qemu_powernv9_blob();
    let output = edited_tree().to_dtb().unwrap();
    let before = summarise(&fdt::Fdt::new(&input).unwrap());
    let after = summarise(&fdt::Fdt::new(&output).unwrap());

    let mut compared = 0;
    for (path, properties, children) in &before {
        if path == "/qemu" {
            continue;
        }
        let (_, properties_after, children_after) = after
            .iter()
            .find(|(path_after, ..)| path_after == path)
            .unwrap_or_else(|| panic!("{path} lost"));
        let kept = |(name, _): &&(String, Vec<u8>)| {
            !EDITED_PROPERTIES.contains(&(path.as_str(), name.as_str()))
        };
        let untouched_before: Vec<_> = properties.iter().filter(kept).collect();
        // Properties the edits added to this node are checked elsewhere; leave them out.
        let untouched_after: Vec<_> = properties_after
            .iter()
            .filter(kept)
            .filter(|(name, _)| properties.iter().any(|(old, _)| old == name))
            .collect();
        assert_eq!(
            untouched_before, untouched_after,
            "{path}: same properties, same order, same bytes"
        );
        compared += untouched_before.len();
        // Old children keep their order; new ones can only follow them.
        let old_children: Vec<_> = children_after
            .iter()
            .filter(|c| children.contains(c))
            .collect();
        let expected: Vec<_> = children
            .iter()
            .filter(|c| path != "/" || *c != "qemu")
            .collect();
        assert_eq!(old_children, expected, "{path}: children");
    }
    // The fixture has 49 properties; the edits replace or remove 3 of them.
    assert_eq!(
        compared,
        49 - 3,
        "every untouched input property was compared"
    );

    // Whole nodes nobody edited are identical, in both directions.
    for path in [
        "/memory@0",
        "/lpcm-opb@6030000000000",
        "/lpcm-opb@6030000000000/lpc@0/mc146818rtc@i70",
    ] {
        let find =
            |summary: &Vec<common::NodeSummary>| summary.iter().find(|(p, ..)| p == path).cloned();
        assert_eq!(find(&before), find(&after), "{path}");
    }
}

#[test]
fn edited_tree_survives_a_second_round_trip() {
    let tree = edited_tree();
    let blob = tree.to_dtb().unwrap();
    let reread = Tree::from_bytes(&blob).unwrap();
    assert_eq!(reread, tree);
    assert_eq!(reread.to_dtb().unwrap(), blob);
}

#[test]
fn editor_errors() {
    let mut tree = Tree::from_bytes(&qemu_powernv9_blob()).unwrap();
    for bad in ["", "chosen", "/chosen/", "/ibm,opal//power-mgt"] {
        assert_eq!(
            tree.set_property_u32(bad, "x", 1),
            Err(Error::InvalidPath(bad.into()))
        );
        assert_eq!(tree.add_node(bad), Err(Error::InvalidPath(bad.into())));
    }
    assert_eq!(
        tree.set_property_u32("/nope", "x", 1),
        Err(Error::NodeNotFound("/nope".into()))
    );
    assert_eq!(
        tree.add_node("/nope/child"),
        Err(Error::NodeNotFound("/nope".into()))
    );
    assert_eq!(
        tree.remove_node("/cpus/nope"),
        Err(Error::NodeNotFound("/cpus/nope".into()))
    );
    assert_eq!(
        tree.remove_property("/nope", "x"),
        Err(Error::NodeNotFound("/nope".into()))
    );
    assert_eq!(
        tree.add_node("/chosen"),
        Err(Error::NodeExists("/chosen".into()))
    );
    assert_eq!(tree.remove_node("/"), Err(Error::RootNode));
    assert_eq!(
        tree.set_property_string("/chosen", "bootargs", "a\0b"),
        Err(Error::NulInString)
    );
    assert_eq!(
        tree.set_property_u32("/chosen", "", 1),
        Err(Error::InvalidPropertyName("".into()))
    );
    assert_eq!(
        tree.ensure_node("/a/b c"),
        Err(Error::InvalidNodeName("b c".into()))
    );
    tree.add_memreserve(0x1000, 0);
    assert_eq!(
        tree.to_dtb(),
        Err(Error::InvalidMemReserve {
            address: 0x1000,
            size: 0
        })
    );
}

#[test]
fn failed_edits_change_nothing() {
    let input = qemu_powernv9_blob();
    let mut tree = Tree::from_bytes(&input).unwrap();
    let _ = tree.set_property_string("/chosen", "bootargs", "a\0b");
    let _ = tree.add_node("/chosen");
    let _ = tree.add_node("/x/y");
    let _ = tree.ensure_node("/x/y z");
    let _ = tree.remove_node("/cpus/nope");
    let _ = tree.set_property_u32("/chosen", "bad name", 1);
    assert_eq!(tree.to_dtb().unwrap(), input);
}
