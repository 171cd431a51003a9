// SPDX-License-Identifier: Apache-2.0
use super::*;

const P9: u32 = 0x004e_1202;
const P10: u32 = 0x0080_1200;
const P8E: u32 = 0x004b_0201;
const P8: u32 = 0x004d_0200;

fn xscom(tree: &mut Tree, chip: u32) -> String {
    let path = format!(
        "/xscom@{:x}",
        0x603f_c000_0000_0u64 + (u64::from(chip) << 42)
    );
    tree.add_node(&path).unwrap();
    tree.set_property_strings(&path, "compatible", &["ibm,power9-xscom", "ibm,xscom"])
        .unwrap();
    tree.set_property_u32(&path, "ibm,chip-id", chip).unwrap();
    path
}

fn memory(tree: &mut Tree, base: u64, chip: u32) -> String {
    let path = format!("/memory@{base:x}");
    tree.add_node(&path).unwrap();
    tree.set_property_string(&path, "device_type", "memory")
        .unwrap();
    tree.set_property_u64s(&path, "reg", &[base, 0x4000_0000])
        .unwrap();
    tree.set_property_u32(&path, "ibm,chip-id", chip).unwrap();
    path
}

fn core(tree: &mut Tree, pir: u32, chip: u32) -> String {
    let path = format!("/cpus/PowerPC,POWER9@{pir:x}");
    tree.add_node(&path).unwrap();
    tree.set_property_string(&path, "device_type", "cpu")
        .unwrap();
    tree.set_property_u32(&path, "reg", pir).unwrap();
    tree.set_property_cells(&path, "ibm,ppc-interrupt-server#s", &[pir, pir + 1])
        .unwrap();
    tree.set_property_u32(&path, "ibm,chip-id", chip).unwrap();
    path
}

fn base_tree() -> Tree {
    let mut tree = Tree::new();
    tree.add_node("/cpus").unwrap();
    tree.add_node("/ibm,opal").unwrap();
    tree
}

/// QEMU's `-M powernv9 -smp 8,sockets=2,cores=2,threads=2`: two chips, each with two
/// SMT2 cores and half the memory.
fn qemu_two_chips() -> Tree {
    let mut tree = base_tree();
    for chip in 0..2 {
        xscom(&mut tree, chip);
        memory(&mut tree, u64::from(chip) << 30, chip);
        for core_no in 0..2 {
            core(&mut tree, chip << 8 | core_no << 2, chip);
        }
    }
    tree
}

fn cells(tree: &Tree, path: &str, name: &str) -> Option<Vec<u32>> {
    Some(tree.node(path)?.property_cells(name)?.collect())
}

fn assoc(tree: &Tree, path: &str) -> Option<Vec<u32>> {
    cells(tree, path, ASSOCIATIVITY)
}

#[test]
fn two_qemu_chips_give_two_numa_nodes() {
    let mut tree = qemu_two_chips();
    let added = add(&mut tree, P9).unwrap();
    assert_eq!(
        added,
        Added {
            chips: 2,
            cores: 4,
            memory: 2
        }
    );
    assert_eq!(
        cells(&tree, "/ibm,opal", REFERENCE_POINTS),
        Some(vec![4, 4, 2])
    );
    assert_eq!(assoc(&tree, "/memory@0"), Some(vec![4, 0, 0, 0, 0]));
    assert_eq!(assoc(&tree, "/memory@40000000"), Some(vec![4, 0, 0, 0, 1]));
    assert_eq!(
        assoc(&tree, "/cpus/PowerPC,POWER9@0"),
        Some(vec![5, 0, 0, 0, 0, 0])
    );
    assert_eq!(
        assoc(&tree, "/cpus/PowerPC,POWER9@4"),
        Some(vec![5, 0, 0, 0, 0, 1])
    );
    assert_eq!(
        assoc(&tree, "/cpus/PowerPC,POWER9@100"),
        Some(vec![5, 0, 0, 0, 1, 0])
    );
    assert_eq!(
        assoc(&tree, "/cpus/PowerPC,POWER9@104"),
        Some(vec![5, 0, 0, 0, 1, 1])
    );
    // The xscom nodes themselves get nothing, as under skiboot.
    let xscom = tree.paths_compatible_with("ibm,xscom");
    assert!(xscom.iter().all(|p| assoc(&tree, p).is_none()));
}

/// What Linux does with the lists: the id at the first reference point is the node.
#[test]
fn the_first_reference_point_picks_the_chip() {
    let mut tree = qemu_two_chips();
    add(&mut tree, P10).unwrap();
    let refs = cells(&tree, "/ibm,opal", REFERENCE_POINTS).unwrap();
    let nid = |path: &str| {
        let list = assoc(&tree, path).unwrap();
        let depth = refs[0] as usize;
        assert!(list[0] as usize >= depth);
        list[depth]
    };
    assert_eq!(nid("/memory@0"), 0);
    assert_eq!(nid("/cpus/PowerPC,POWER9@4"), 0);
    assert_eq!(nid("/memory@40000000"), 1);
    assert_eq!(nid("/cpus/PowerPC,POWER9@104"), 1);
    // Every reference point is inside every list, as Linux's distance table needs.
    for path in ["/memory@0", "/cpus/PowerPC,POWER9@100"] {
        let list = assoc(&tree, path).unwrap();
        assert!(refs.iter().all(|&r| r <= list[0]));
    }
}

#[test]
fn chip_and_core_lists_share_the_chip_ids() {
    let chip = ChipDomains {
        chip: 8,
        node: 1,
        card: 2,
        module: 3,
    };
    assert_eq!(chip.chip_list(), [4, 1, 2, 3, 8]);
    assert_eq!(chip.core_list(6), [5, 1, 2, 3, 8, 6]);
}

#[test]
fn the_xscom_node_supplies_node_card_and_module() {
    let mut tree = base_tree();
    let x = xscom(&mut tree, 0x11);
    tree.set_property_u32(&x, "ibm,hw-card-id", 7).unwrap();
    tree.set_property_u32(&x, "ibm,hw-module-id", 3).unwrap();
    let y = xscom(&mut tree, 0x12);
    tree.set_property_u32(&y, "ibm,ccm-node-id", 9).unwrap();
    memory(&mut tree, 0, 0x11);
    memory(&mut tree, 1 << 40, 0x12);
    add(&mut tree, P9).unwrap();
    // No ccm-node-id: the chip id's top bits (0x11 >> 3).
    assert_eq!(assoc(&tree, "/memory@0"), Some(vec![4, 2, 7, 3, 0x11]));
    assert_eq!(
        assoc(&tree, "/memory@10000000000"),
        Some(vec![4, 9, 0, 0, 0x12])
    );
}

#[test]
fn nodes_of_unknown_chips_or_without_a_chip_get_nothing() {
    let mut tree = base_tree();
    xscom(&mut tree, 0);
    memory(&mut tree, 0, 0);
    memory(&mut tree, 1 << 30, 5);
    core(&mut tree, 0x500, 5);
    tree.add_node("/memory@80000000").unwrap();
    tree.set_property_string("/memory@80000000", "device_type", "memory")
        .unwrap();
    let added = add(&mut tree, P9).unwrap();
    assert_eq!(
        added,
        Added {
            chips: 1,
            cores: 0,
            memory: 1
        }
    );
    assert!(assoc(&tree, "/memory@40000000").is_none());
    assert!(assoc(&tree, "/memory@80000000").is_none());
    assert!(assoc(&tree, "/cpus/PowerPC,POWER9@500").is_none());
}

#[test]
fn a_chip_id_is_inherited_and_pmem_regions_count_as_memory() {
    let mut tree = base_tree();
    xscom(&mut tree, 1);
    tree.add_node("/chip@1").unwrap();
    tree.set_property_u32("/chip@1", "ibm,chip-id", 1).unwrap();
    tree.add_node("/chip@1/pmem@0").unwrap();
    tree.set_property_strings("/chip@1/pmem@0", "compatible", &["pmem-region"])
        .unwrap();
    tree.add_node("/chip@1/other@0").unwrap();
    add(&mut tree, P9).unwrap();
    assert_eq!(assoc(&tree, "/chip@1/pmem@0"), Some(vec![4, 0, 0, 0, 1]));
    assert!(assoc(&tree, "/chip@1").is_none());
    assert!(assoc(&tree, "/chip@1/other@0").is_none());
}

#[test]
fn core_ids_follow_each_generations_pir_layout() {
    // POWER9/POWER10: chip above bit 8, core in bits 2-6, thread in bits 0-1.
    assert_eq!(core_id(P9, 0x0000), Some(0));
    assert_eq!(core_id(P9, 0x0104), Some(1));
    assert_eq!(core_id(P9, 0x017c), Some(31));
    assert_eq!(core_id(P10, 0x0108), Some(2));
    assert_eq!(core_id(0x0082_0200, 0x0010), Some(4));
    assert_eq!(core_id(0x004f_0100, 0x0014), Some(5));
    // POWER8: 8 threads a core.
    assert_eq!(core_id(P8, 0x0028), Some(5));
    assert_eq!(core_id(P8E, 0x0878), Some(15));
    assert_eq!(core_id(0x0042_0000, 0), None);
}

#[test]
fn an_unknown_processor_gets_memory_lists_but_no_core_lists() {
    let mut tree = qemu_two_chips();
    let added = add(&mut tree, 0x0042_0000).unwrap();
    assert_eq!((added.cores, added.memory), (0, 2));
    assert!(assoc(&tree, "/cpus/PowerPC,POWER9@0").is_none());
}

#[test]
fn power8e_uses_the_module_as_second_level() {
    assert_eq!(reference_points(P8E), [4, 3, 2]);
    assert_eq!(reference_points(P8), [4, 4, 2]);
    assert_eq!(reference_points(P9), [4, 4, 2]);
    assert_eq!(reference_points(P10), [4, 4, 2]);
}

#[test]
fn adding_twice_changes_nothing_and_survives_the_dtb() {
    let mut tree = qemu_two_chips();
    add(&mut tree, P9).unwrap();
    let once = tree.clone();
    add(&mut tree, P9).unwrap();
    assert_eq!(tree, once);
    let reread = Tree::from_bytes(&tree.to_dtb().unwrap()).unwrap();
    assert_eq!(
        assoc(&reread, "/cpus/PowerPC,POWER9@104"),
        Some(vec![5, 0, 0, 0, 1, 1])
    );
}

#[test]
fn without_ibm_opal_it_fails_before_touching_anything() {
    let mut tree = Tree::new();
    xscom(&mut tree, 0);
    memory(&mut tree, 0, 0);
    let before = tree.clone();
    assert!(add(&mut tree, P9).is_err());
    assert_eq!(tree, before);
}
