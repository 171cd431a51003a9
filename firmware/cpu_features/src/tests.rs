// SPDX-License-Identifier: Apache-2.0
use super::*;
use alloc::string::String;
use devtree::Node;

fn names(cpu: Cpu) -> Vec<&'static str> {
    features_of(cpu).map(|f| f.name).collect()
}

/// The features POWER9 DD2.x and POWER10 share, in node order, around the places where
/// the two lists differ.
const COMMON_HEAD: &[&str] = &[
    "big-endian",
    "little-endian",
    "hypervisor",
    "interrupt-facilities",
    "smt",
    "program-priority-register",
    "virtual-page-class-key-protection",
    "strong-access-ordering",
    "no-execute",
    "cache-inhibited-large-page",
    "debug-facilities",
];
const COMMON_MIDDLE: &[&str] = &[
    "come-from-address-register",
    "branch-tracing",
    "floating-point",
    "vector",
    "vector-scalar",
    "vector-crypto",
    "quadword-load-store",
    "decimal-integer",
    "decimal-floating-point",
    "data-stream-control-register",
    "branch-history-rolling-buffer",
    "event-based-branch",
    "target-address-register",
    "control-register",
    "processor-utilization-of-resources-register",
    "mmu-radix",
    "mmu-hash-v3",
    "wait-v3",
    "idle-stop",
    "hypervisor-virtualization-interrupt",
];
const COMMON_TAIL: &[&str] = &[
    "system-call-vectored",
    "processor-control-facility-v3",
    "pc-relative-addressing",
    "timer-facilities",
    "timer-facilities-v3",
    "random-number-generator",
    "fixed-point-v3",
    "decimal-integer-v3",
    "floating-point-v3",
    "decimal-floating-point-v3",
    "vector-v3",
    "vector-scalar-v3",
    "vector-binary128",
    "vector-binary16",
    "event-based-branch-v3",
    "atomic-memory-operations",
    "copy-paste",
];

#[test]
fn qemus_pvrs_and_the_other_levels_are_recognised() {
    assert_eq!(
        Cpu::from_pvr(0x004e_1202),
        Some(Cpu::P9Dd22),
        "QEMU powernv9"
    );
    assert_eq!(Cpu::from_pvr(0x0080_1200), Some(Cpu::P10), "QEMU powernv10");
    assert_eq!(Cpu::from_pvr(0x004e_0200), Some(Cpu::P9Dd21));
    assert_eq!(Cpu::from_pvr(0x004e_1201), Some(Cpu::P9Dd21));
    assert_eq!(Cpu::from_pvr(0x004e_0203), Some(Cpu::P9Dd23));
    assert_eq!(
        Cpu::from_pvr(0x004e_2101),
        Some(Cpu::P9Dd21),
        "Cumulus DD1.1"
    );
    assert_eq!(
        Cpu::from_pvr(0x004e_2102),
        Some(Cpu::P9Dd22),
        "Cumulus DD1.2"
    );
    assert_eq!(
        Cpu::from_pvr(0x004e_2103),
        Some(Cpu::P9Dd23),
        "Cumulus DD1.3"
    );
    assert_eq!(Cpu::from_pvr(0x004f_0100), Some(Cpu::P9P));
    assert_eq!(Cpu::from_pvr(0x0082_0200), Some(Cpu::P11));
    for unknown in [
        0x004e_0100,
        0x004e_0204,
        0x004e_2100,
        0x004d_0200,
        0x004b_0201,
        0,
    ] {
        assert_eq!(Cpu::from_pvr(unknown), None, "{unknown:#010x}");
    }
}

#[test]
fn isa_levels_and_names() {
    assert_eq!(Cpu::P9Dd22.isa(), 3000);
    assert_eq!(Cpu::P9P.isa(), 3000);
    assert_eq!(Cpu::P10.isa(), 3100);
    assert_eq!(Cpu::P11.isa(), 3100);
    assert_eq!(Cpu::P9Dd21.display_name(), "POWER9");
    assert_eq!(Cpu::P10.display_name(), "POWER10");
    for cpu in Cpu::ALL {
        for f in features_of(cpu) {
            assert!([0, 3000, 3100].contains(&f.isa), "{}", f.name);
            assert!(f.isa <= cpu.isa(), "{} is newer than {cpu:?}", f.name);
        }
    }
}

#[test]
fn power9_dd22_list() {
    let expected = [
        COMMON_HEAD,
        COMMON_MIDDLE,
        &["machine-check-power9", "performance-monitor-power9"],
        COMMON_TAIL,
        &["tm-suspend-hypervisor-assist", "tm-suspend-xer-so-bug"],
    ]
    .concat();
    assert_eq!(names(Cpu::P9Dd22), expected);
    assert_eq!(expected.len(), 52);
}

#[test]
fn power10_list() {
    let expected = [
        COMMON_HEAD,
        &["debug-facilities-v31"],
        COMMON_MIDDLE,
        &["machine-check-power10", "performance-monitor-power10"],
        COMMON_TAIL,
        &["matrix-multiply-accumulate", "prefix-instructions"],
    ]
    .concat();
    assert_eq!(names(Cpu::P10), expected);
    assert_eq!(names(Cpu::P11), expected);
}

#[test]
fn power9_levels_differ_only_in_their_tm_errata() {
    let without_errata = |cpu| -> Vec<&str> {
        names(cpu)
            .into_iter()
            .filter(|n| !n.starts_with("tm-suspend-"))
            .collect()
    };
    for cpu in [Cpu::P9Dd21, Cpu::P9Dd23, Cpu::P9P] {
        assert_eq!(without_errata(cpu), without_errata(Cpu::P9Dd22), "{cpu:?}");
    }
    let errata = |cpu| -> Vec<&str> {
        names(cpu)
            .into_iter()
            .filter(|n| n.starts_with("tm-suspend-"))
            .collect()
    };
    assert!(errata(Cpu::P9Dd21).is_empty());
    assert_eq!(errata(Cpu::P9Dd23), ["tm-suspend-hypervisor-assist"]);
    assert_eq!(errata(Cpu::P9P), ["tm-suspend-hypervisor-assist"]);
}

#[test]
fn names_are_unique_and_valid() {
    for (i, f) in table::FEATURES.iter().enumerate() {
        assert!(
            table::FEATURES[i + 1..].iter().all(|g| g.name != f.name),
            "{} twice",
            f.name
        );
        assert!(f
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    }
}

#[test]
fn every_dependency_is_a_feature_of_the_same_processor() {
    for cpu in Cpu::ALL {
        let present = names(cpu);
        for f in features_of(cpu) {
            for dep in f.dependencies {
                assert!(present.contains(dep), "{cpu:?}: {} needs {dep}", f.name);
                assert_ne!(dep, &f.name);
            }
        }
    }
}

/// What Linux's `process_cpufeatures_node` refuses: a recipe or bit for a level that
/// may not use the feature. `add_node` would drop those silently, so the table must
/// not state them.
#[test]
fn the_table_states_nothing_for_levels_that_cannot_use_a_feature() {
    for f in table::FEATURES {
        assert!(f.usable != 0 && f.usable & !usable::ALL == 0, "{}", f.name);
        if f.usable & usable::HV == 0 {
            assert_eq!(f.hv, Recipe::NotNeeded, "{}", f.name);
        }
        if f.usable & usable::OS == 0 {
            assert_eq!(f.os, Recipe::NotNeeded, "{}", f.name);
        }
        if f.usable & usable::PR == 0 {
            assert_eq!(f.hwcap_bit, None, "{}", f.name);
        }
        for bit in [f.hv, f.os].iter().filter_map(|r| r.properties()?.1) {
            assert!(bit < 64, "{}", f.name);
        }
        assert!(f.hwcap_bit.is_none_or(|bit| bit < 64), "{}", f.name);
    }
}

/// A tree like QEMU's: `/cpus` with a cpu node, and phandles already in use.
fn qemu_like_tree() -> Tree {
    let mut tree = Tree::new();
    tree.ensure_node("/cpus/PowerPC,POWER9@0").unwrap();
    tree.set_property_u32("/cpus/PowerPC,POWER9@0", "phandle", 3)
        .unwrap();
    tree.ensure_node("/interrupt-controller@0").unwrap();
    tree.set_property_u32("/interrupt-controller@0", "phandle", 0x40)
        .unwrap();
    tree
}

fn cells(node: &Node, name: &str) -> Option<Vec<u32>> {
    Some(node.property_cells(name)?.collect())
}

#[test]
fn the_node_reads_back_as_linux_reads_it() {
    for cpu in Cpu::ALL {
        let mut tree = qemu_like_tree();
        add_node(&mut tree, cpu).unwrap();
        let reread = Tree::from_bytes(&tree.to_dtb().unwrap()).unwrap();
        let node = reread.node(NODE_PATH).unwrap();
        assert_eq!(node.property_u32("isa"), Some(cpu.isa()));
        assert_eq!(node.property_str("device_type"), Some("cpu-features"));
        assert!(node.is_compatible("ibm,powerpc-cpu-features"));
        assert_eq!(node.property_str("display-name"), Some(cpu.display_name()));

        let subnodes: Vec<&Node> = node.children().collect();
        assert_eq!(subnodes.len(), features_of(cpu).count());
        for (sub, f) in subnodes.iter().zip(features_of(cpu)) {
            assert_eq!(sub.name(), f.name);
            assert_eq!(sub.property_u32("isa"), Some(f.isa));
            assert_eq!(sub.property_u32("usable-privilege"), Some(f.usable));
            // Each dependency names the sibling with that phandle.
            let deps: Vec<&str> = cells(sub, "dependencies")
                .unwrap_or_default()
                .into_iter()
                .map(|phandle| {
                    let found: Vec<&Node> = subnodes
                        .iter()
                        .copied()
                        .filter(|n| n.phandle() == Some(phandle))
                        .collect();
                    assert_eq!(found.len(), 1, "{}: phandle {phandle}", f.name);
                    found[0].name()
                })
                .collect();
            assert_eq!(deps, f.dependencies);
            if let Some(phandle) = sub.phandle() {
                assert!(phandle > 0x40, "{}: clashes with QEMU's phandles", f.name);
            }
        }
    }
}

fn u32_properties(tree: &Tree, feature: &str) -> Vec<(String, u32)> {
    tree.node(&feature_path(feature))
        .unwrap()
        .properties()
        .filter(|p| p.name() != "phandle")
        .map(|p| {
            let value = u32::from_be_bytes(p.value().try_into().unwrap_or([0xff; 4]));
            (String::from(p.name()), value)
        })
        .collect()
}

fn pairs(list: &[(&str, u32)]) -> Vec<(String, u32)> {
    list.iter().map(|&(n, v)| (String::from(n), v)).collect()
}

#[test]
fn properties_of_a_few_features() {
    let mut tree = qemu_like_tree();
    add_node(&mut tree, Cpu::P10).unwrap();
    assert_eq!(
        u32_properties(&tree, "prefix-instructions"),
        pairs(&[
            ("isa", 3100),
            ("usable-privilege", 7),
            ("hv-support", 1),
            ("hfscr-bit-nr", 13),
            ("os-support", 1),
            ("fscr-bit-nr", 13),
        ])
    );
    assert_eq!(
        u32_properties(&tree, "floating-point"),
        pairs(&[
            ("isa", 0),
            ("usable-privilege", 7),
            ("hv-support", 0),
            ("hfscr-bit-nr", 0),
            ("os-support", 0),
            ("hwcap-bit-nr", 27),
        ])
    );
    assert_eq!(
        u32_properties(&tree, "matrix-multiply-accumulate"),
        pairs(&[("isa", 3100), ("usable-privilege", 1), ("hwcap-bit-nr", 49)])
    );
    assert_eq!(
        u32_properties(&tree, "system-call-vectored"),
        pairs(&[
            ("isa", 3000),
            ("usable-privilege", 3),
            ("os-support", 0),
            ("fscr-bit-nr", 12),
            ("hwcap-bit-nr", 52),
        ])
    );
    assert_eq!(
        u32_properties(&tree, "hypervisor"),
        pairs(&[("isa", 0), ("usable-privilege", 4), ("hv-support", 0)])
    );
    assert_eq!(
        u32_properties(&tree, "quadword-load-store"),
        pairs(&[("isa", 0), ("usable-privilege", 7)])
    );
}

#[test]
fn a_node_already_there_is_replaced() {
    let mut tree = qemu_like_tree();
    add_node(&mut tree, Cpu::P9Dd22).unwrap();
    add_node(&mut tree, Cpu::P10).unwrap();
    let node = tree.node(NODE_PATH).unwrap();
    assert_eq!(node.property_u32("isa"), Some(3100));
    assert_eq!(node.children().count(), features_of(Cpu::P10).count());
    assert_eq!(tree.node("/cpus").unwrap().children().count(), 2);
}

#[test]
fn without_cpus_nothing_is_added() {
    let mut tree = Tree::new();
    assert_eq!(
        add_node(&mut tree, Cpu::P10),
        Err(Error::NodeNotFound(String::from("/cpus")))
    );
    assert_eq!(tree, Tree::new());
}

/// `/cpus` as QEMU's powernv builds it for two cores, with the features node beside them.
fn tree_with_two_cores() -> Tree {
    let mut tree = Tree::new();
    for core in ["/cpus/PowerPC,POWER10@0", "/cpus/PowerPC,POWER10@8"] {
        tree.ensure_node(core).unwrap();
        tree.set_property_string(core, "device_type", "cpu")
            .unwrap();
    }
    tree.ensure_node("/cpus/l2-cache@1000").unwrap();
    tree.set_property_string("/cpus/l2-cache@1000", "device_type", "cache")
        .unwrap();
    add_node(&mut tree, Cpu::P10).unwrap();
    tree
}

#[test]
fn every_processor_here_has_a_56_bit_decrementer() {
    for cpu in Cpu::ALL {
        assert_eq!(cpu.dec_bits(), 56, "{cpu:?}");
    }
}

#[test]
fn dec_bits_go_on_every_cpu_node_and_nowhere_else() {
    let mut tree = tree_with_two_cores();
    assert_eq!(add_cpu_node_facts(&mut tree, Cpu::P10), Ok(2));
    let reread = Tree::from_bytes(&tree.to_dtb().unwrap()).unwrap();
    for core in ["/cpus/PowerPC,POWER10@0", "/cpus/PowerPC,POWER10@8"] {
        let node = reread.node(core).unwrap();
        assert_eq!(
            node.property("ibm,dec-bits"),
            Some(&[0, 0, 0, 56][..]),
            "{core}"
        );
    }
    for other in ["/cpus", "/cpus/l2-cache@1000", NODE_PATH] {
        let node = reread.node(other).unwrap();
        assert_eq!(node.property("ibm,dec-bits"), None, "{other}");
        assert_eq!(
            node.property("ibm,processor-radix-AP-encodings"),
            None,
            "{other}"
        );
    }
}

#[test]
fn dec_bits_replace_a_value_already_there() {
    let mut tree = tree_with_two_cores();
    tree.set_property_u32("/cpus/PowerPC,POWER10@0", "ibm,dec-bits", 32)
        .unwrap();
    add_cpu_node_facts(&mut tree, Cpu::P10).unwrap();
    let node = tree.node("/cpus/PowerPC,POWER10@0").unwrap();
    assert_eq!(node.property_u32("ibm,dec-bits"), Some(56));
}

#[test]
fn dec_bits_need_cpus() {
    let mut tree = Tree::new();
    assert_eq!(
        add_cpu_node_facts(&mut tree, Cpu::P9Dd22),
        Err(Error::NodeNotFound(String::from("/cpus")))
    );
    assert_eq!(tree, Tree::new());
}

/// The cells skiboot's HDAT parser and the Mambo script give real POWER9s: 4K, 64K, 2M, 1G.
#[test]
fn radix_page_sizes_read_back_as_linux_decodes_them() {
    for cpu in Cpu::ALL {
        let mut tree = tree_with_two_cores();
        add_cpu_node_facts(&mut tree, cpu).unwrap();
        let reread = Tree::from_bytes(&tree.to_dtb().unwrap()).unwrap();
        let node = reread.node("/cpus/PowerPC,POWER10@8").unwrap();
        let got = cells(node, "ibm,processor-radix-AP-encodings").unwrap();
        assert_eq!(
            got,
            [0x0000_000c, 0xa000_0010, 0x2000_0015, 0x4000_001e],
            "{cpu:?}"
        );
        // Linux: shift = cell & ~(0xe << 28), ap = cell >> 29.
        let decoded: Vec<(u32, u32)> = got.iter().map(|c| (c & !(0xe << 28), c >> 29)).collect();
        assert_eq!(decoded, [(12, 0), (16, 5), (21, 1), (30, 2)]);
    }
}
