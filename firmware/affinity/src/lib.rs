// SPDX-License-Identifier: Apache-2.0
//! NUMA affinity for the OS: which chip each core and each memory range belongs to, in
//! the form Linux's `arch/powerpc/mm/numa.c` reads (PAPR "form 1" affinity). skiboot
//! writes the same properties (`core/affinity.c`); without them Linux turns NUMA off and
//! puts every CPU and all memory in one node, even on a two-chip machine.
//!
//! * `ibm,associativity` on a memory node is a count and then four domain ids, widest
//!   first: `<4 node card module chip>`. On a cpu (core) node a fifth id, the core, is
//!   added: `<5 node card module chip core>`.
//! * `/ibm,opal/ibm,associativity-reference-points` says which of those ids (1-based)
//!   Linux compares: the first is its NUMA node number (here the chip id), the later ones
//!   only set distances between nodes.
//!
//! The ids come from the chip's `ibm,xscom` node: `ibm,ccm-node-id` (else the chip id
//! shifted right by 3, POWER8's node), `ibm,hw-card-id` and `ibm,hw-module-id` (else 0).
//! QEMU's powernv trees carry only `ibm,chip-id`, so a QEMU chip `n` gives memory
//! `<4 0 0 0 n>`. A node whose chip has no xscom node gets nothing, as under skiboot.
//!
//! ```
//! let mut tree = devtree::Tree::new();
//! tree.add_node("/xscom@603fc00000000")?;
//! tree.set_property_strings("/xscom@603fc00000000", "compatible", &["ibm,xscom"])?;
//! tree.set_property_u32("/xscom@603fc00000000", "ibm,chip-id", 0)?;
//! tree.add_node("/memory@0")?;
//! tree.set_property_string("/memory@0", "device_type", "memory")?;
//! tree.set_property_u32("/memory@0", "ibm,chip-id", 0)?;
//! tree.add_node("/ibm,opal")?;
//! affinity::add(&mut tree, 0x004e_1202)?; // QEMU's POWER9
//! let memory = tree.node("/memory@0").unwrap();
//! let cells: Vec<u32> = memory.property_cells("ibm,associativity").unwrap().collect();
//! assert_eq!(cells, [4, 0, 0, 0, 0]);
//! # Ok::<(), devtree::Error>(())
//! ```

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use devtree::{Error, Node, Tree};

/// Where the reference points go: Linux looks for them in `/ibm,opal` when it runs on
/// OPAL (in `/rtas` on PAPR guests).
pub const REFERENCE_POINTS_PATH: &str = "/ibm,opal";
/// The reference points property.
pub const REFERENCE_POINTS: &str = "ibm,associativity-reference-points";
/// The per-node property.
pub const ASSOCIATIVITY: &str = "ibm,associativity";

/// Index of the chip id in an associativity list (after the count): Linux's NUMA node.
const CHIP_INDEX: u32 = 4;
/// Index of the module id: POWER8E's dual-chip module is its second NUMA level.
const MODULE_INDEX: u32 = 3;
/// Index of the card id: the last level, so remote cards are the farthest.
const CARD_INDEX: u32 = 2;

/// The ids one chip contributes to every associativity list under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChipDomains {
    /// The chip's `ibm,chip-id`.
    pub chip: u32,
    /// The CCM node it sits in.
    pub node: u32,
    /// The card (drawer) it is on.
    pub card: u32,
    /// The module it is in.
    pub module: u32,
}

impl ChipDomains {
    /// The ids of the chip an `ibm,xscom` node describes, or `None` without a chip id.
    pub fn from_xscom(xscom: &Node) -> Option<ChipDomains> {
        let chip = xscom.property_u32("ibm,chip-id")?;
        Some(ChipDomains {
            chip,
            node: xscom.property_u32("ibm,ccm-node-id").unwrap_or(chip >> 3),
            card: xscom.property_u32("ibm,hw-card-id").unwrap_or(0),
            module: xscom.property_u32("ibm,hw-module-id").unwrap_or(0),
        })
    }

    /// `ibm,associativity` of something attached to the chip as a whole (memory).
    pub fn chip_list(&self) -> [u32; 5] {
        [4, self.node, self.card, self.module, self.chip]
    }

    /// `ibm,associativity` of a core of the chip.
    pub fn core_list(&self, core: u32) -> [u32; 6] {
        [5, self.node, self.card, self.module, self.chip, core]
    }
}

/// The reference points for a processor: chip, then chip again (module on POWER8E),
/// then card.
pub fn reference_points(pvr: u32) -> [u32; 3] {
    let second = if pvr >> 16 == 0x004b {
        MODULE_INDEX
    } else {
        CHIP_INDEX
    };
    [CHIP_INDEX, second, CARD_INDEX]
}

/// The core number inside its chip that goes last in a core's list, from the PIR of the
/// core's first thread; `None` for a processor this crate does not know (its cores then
/// get no property, as skiboot does).
pub fn core_id(pvr: u32, pir: u32) -> Option<u32> {
    match pvr >> 16 {
        // POWER8, POWER8E, POWER8NVL: 8 threads a core.
        0x004b..=0x004d => Some((pir >> 3) & 0xf),
        // POWER9 (and 9P), POWER10, Power11: the core number sits above 2 thread bits.
        0x004e | 0x004f | 0x0080 | 0x0082 => Some((pir >> 2) & 0x1f),
        _ => None,
    }
}

/// What [`add`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Added {
    /// Chips found (`ibm,xscom` nodes with a chip id).
    pub chips: usize,
    /// Core nodes that got a list.
    pub cores: usize,
    /// Memory nodes that got a list.
    pub memory: usize,
}

/// A node to give a list: its path, its chip, and for a core its core id.
struct Target {
    path: String,
    chip: u32,
    core: Option<u32>,
}

/// Adds the reference points to `/ibm,opal` (which must exist) and `ibm,associativity`
/// to every memory node (`device_type = "memory"`, or a `pmem-region`) and every cpu
/// node whose chip (its own or an ancestor's `ibm,chip-id`) has an `ibm,xscom` node.
/// Lists already in the tree are replaced, so running it twice changes nothing.
pub fn add(tree: &mut Tree, pvr: u32) -> Result<Added, Error> {
    tree.set_property_cells(
        REFERENCE_POINTS_PATH,
        REFERENCE_POINTS,
        &reference_points(pvr),
    )?;

    let chips: Vec<ChipDomains> = tree
        .paths_compatible_with("ibm,xscom")
        .iter()
        .filter_map(|path| ChipDomains::from_xscom(tree.node(path)?))
        .collect();
    let mut targets = Vec::new();
    collect(tree.root(), "", None, pvr, &mut targets);

    let mut added = Added {
        chips: chips.len(),
        ..Added::default()
    };
    for t in &targets {
        let Some(chip) = chips.iter().find(|c| c.chip == t.chip) else {
            continue;
        };
        let mut list = chip.core_list(t.core.unwrap_or(0));
        let list = match t.core {
            Some(_) => {
                added.cores += 1;
                &list[..]
            }
            None => {
                added.memory += 1;
                list[0] = 4;
                &list[..5]
            }
        };
        tree.set_property_cells(&t.path, ASSOCIATIVITY, list)?;
    }
    Ok(added)
}

/// Walks the tree for memory nodes and cpu nodes (of a known processor) with a chip id,
/// in tree order. `path` is the node's path, `""` for the root.
fn collect(node: &Node, path: &str, chip: Option<u32>, pvr: u32, out: &mut Vec<Target>) {
    let chip = node.property_u32("ibm,chip-id").or(chip);
    let (memory, core) = match node.property_str("device_type") {
        Some("memory") => (true, None),
        Some("cpu") => (
            false,
            node.property_u32("reg").and_then(|pir| core_id(pvr, pir)),
        ),
        _ => (node.is_compatible("pmem-region"), None),
    };
    if let Some(chip) = chip.filter(|_| memory || core.is_some()) {
        out.push(Target {
            path: String::from(path),
            chip,
            core,
        });
    }
    for child in node.children() {
        collect(child, &format!("{path}/{}", child.name()), chip, pvr, out);
    }
}

#[cfg(test)]
mod tests;
