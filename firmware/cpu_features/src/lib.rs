// SPDX-License-Identifier: Apache-2.0
//! The `/cpus/ibm,powerpc-cpu-features` node: what the processor can do, one subnode per
//! feature, in the binding Linux's `arch/powerpc/kernel/dt_cpu_ftrs.c` reads (skiboot
//! builds the same node in `core/cpufeatures.c`). Without it Linux falls back to its
//! built-in PVR table and ends up with other CPU feature bits than under skiboot; on
//! POWER10 that table lacks the second DAWR, and nested KVM refuses to start.
//! [`add_cpu_node_facts`] adds the other per-processor facts Linux takes from the cpu
//! nodes: the decrementer's width and the radix MMU's page sizes.
//!
//! ```
//! let mut tree = devtree::Tree::new();
//! tree.ensure_node("/cpus")?;
//! let cpu = cpu_features::Cpu::from_pvr(0x004e_1202).unwrap(); // QEMU's powernv9
//! cpu_features::add_node(&mut tree, cpu)?;
//! let node = tree.node(cpu_features::NODE_PATH).unwrap();
//! assert_eq!(node.property_u32("isa"), Some(3000));
//! assert!(node.child("mmu-radix").is_some());
//! # Ok::<(), devtree::Error>(())
//! ```

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod table;

use alloc::format;
use alloc::vec::Vec;
use devtree::{Error, Tree};

/// Where the node goes.
pub const NODE_PATH: &str = "/cpus/ibm,powerpc-cpu-features";

/// The privilege levels that may use a feature (`usable-privilege` bits).
pub mod usable {
    /// Problem state (user space).
    pub const PR: u32 = 1 << 0;
    /// Privileged, non-hypervisor state (the OS, or a guest kernel).
    pub const OS: u32 = 1 << 1;
    /// Hypervisor state.
    pub const HV: u32 = 1 << 2;
    /// The OS and the hypervisor, not user space.
    pub const HV_OS: u32 = HV | OS;
    /// Every level.
    pub const ALL: u32 = HV | OS | PR;
}

/// What the hypervisor (for the levels below it) or the OS (for user space) must do to
/// turn a feature on: the binding's `hv-support`/`os-support` with `hfscr-bit-nr`/
/// `fscr-bit-nr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    /// Nothing: no `*-support` property.
    NotNeeded,
    /// Only a kernel that knows the feature by name can enable it, its own way
    /// (`*-support = <0>`); `control_bit` is a facility-control register bit (HFSCR for
    /// the hypervisor, FSCR for the OS) that is part of it.
    Kernel {
        /// LSB-0 bit of HFSCR or FSCR, if the recipe sets one.
        control_bit: Option<u8>,
    },
    /// Setting this LSB-0 bit of HFSCR or FSCR is all it takes (`*-support = <1>`), so a
    /// kernel may enable the feature without knowing its name.
    ControlBit(u8),
}

impl Recipe {
    /// The `*-support` value and the facility-control bit, or `None` for no properties.
    fn properties(self) -> Option<(u32, Option<u8>)> {
        match self {
            Recipe::NotNeeded => None,
            Recipe::Kernel { control_bit } => Some((0, control_bit)),
            Recipe::ControlBit(bit) => Some((1, Some(bit))),
        }
    }
}

/// A processor as the features tell them apart. POWER9 levels differ in their TM errata;
/// DD1 parts, which Linux no longer supports, and POWER8 are not here (see
/// [`Cpu::from_pvr`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cpu {
    /// POWER9 Nimbus DD2.0 or DD2.1, or Cumulus DD1.1.
    P9Dd21,
    /// POWER9 Nimbus DD2.2 or Cumulus DD1.2: QEMU's powernv9 (PVR 0x004e1202).
    P9Dd22,
    /// POWER9 Nimbus DD2.3 or Cumulus DD1.3.
    P9Dd23,
    /// POWER9P (Axone).
    P9P,
    /// POWER10: QEMU's powernv10 (PVR 0x00801200).
    P10,
    /// Power11.
    P11,
}

impl Cpu {
    /// Every processor this crate knows, oldest first (all POWER9 DD2 or later).
    pub const ALL: [Cpu; 6] = [
        Cpu::P9Dd21,
        Cpu::P9Dd22,
        Cpu::P9Dd23,
        Cpu::P9P,
        Cpu::P10,
        Cpu::P11,
    ];

    /// The processor a PVR names, or `None` when this crate has no feature list for it
    /// (the firmware then adds no node and Linux uses its PVR table).
    pub fn from_pvr(pvr: u32) -> Option<Cpu> {
        let major = (pvr >> 8) & 0xf;
        let minor = pvr & 0xff;
        // PVR bit 13 (LSB 0) tells the POWER9 scale-up part (Cumulus) from Nimbus;
        // Cumulus DD1.x matches Nimbus DD2.x.
        let cumulus = pvr & (1 << 13) != 0;
        match pvr >> 16 {
            0x004e => match (cumulus, major, minor) {
                (false, 2, 0 | 1) | (true, 1, 1) => Some(Cpu::P9Dd21),
                (false, 2, 2) | (true, 1, 2) => Some(Cpu::P9Dd22),
                (false, 2, 3) | (true, 1, 3) => Some(Cpu::P9Dd23),
                _ => None,
            },
            0x004f => Some(Cpu::P9P),
            0x0080 => Some(Cpu::P10),
            0x0082 => Some(Cpu::P11),
            _ => None,
        }
    }

    /// The node's `isa`: 3000 for ISA 3.0B (POWER9), 3100 for ISA 3.1.
    pub fn isa(self) -> u32 {
        match self {
            Cpu::P9Dd21 | Cpu::P9Dd22 | Cpu::P9Dd23 | Cpu::P9P => table::ISA_3_0B,
            Cpu::P10 | Cpu::P11 => table::ISA_3_1,
        }
    }

    /// The node's `display-name`, which Linux shows as the cpu in /proc/cpuinfo.
    pub fn display_name(self) -> &'static str {
        match self {
            Cpu::P9Dd21 | Cpu::P9Dd22 | Cpu::P9Dd23 => "POWER9",
            Cpu::P9P => "POWER9P",
            Cpu::P10 => "POWER10",
            Cpu::P11 => "Power11",
        }
    }

    /// How wide the decrementer is in large mode (LPCR[LD] = 1), which the OS learns
    /// from `ibm,dec-bits` ([`add_dec_bits`]). Every ISA 3.0 and 3.1 part here has a
    /// 56-bit one, as QEMU's POWER9, POWER10 and Power11 models do; skiboot measures the
    /// width at boot and finds the same.
    pub fn dec_bits(self) -> u32 {
        match self {
            Cpu::P9Dd21 | Cpu::P9Dd22 | Cpu::P9Dd23 | Cpu::P9P | Cpu::P10 | Cpu::P11 => 56,
        }
    }

    /// The page sizes the radix MMU translates, with the AP (actual page size) code the
    /// `tlbie` instruction names each by (ISA 3.0 book III §6.7.10.1, the same for every
    /// ISA 3.0 and 3.1 part here).
    pub fn radix_page_sizes(self) -> [RadixPageSize; 4] {
        [
            RadixPageSize { shift: 12, ap: 0 },
            RadixPageSize { shift: 16, ap: 5 },
            RadixPageSize { shift: 21, ap: 1 },
            RadixPageSize { shift: 30, ap: 2 },
        ]
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// One radix page size: `1 << shift` bytes, named `ap` in a TLB invalidation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RadixPageSize {
    /// log2 of the page size in bytes.
    pub shift: u32,
    /// The 3-bit AP code.
    pub ap: u32,
}

impl RadixPageSize {
    /// The cell of `ibm,processor-radix-AP-encodings`: AP in the top 3 bits, the shift in
    /// the rest (Linux `radix_dt_scan_page_sizes`).
    pub fn encoding(self) -> u32 {
        (self.ap << 29) | self.shift
    }
}

/// A set of processors, for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpus(u8);

impl Cpus {
    /// The set of these processors.
    pub const fn of(cpus: &[Cpu]) -> Cpus {
        let mut bits = 0;
        let mut i = 0;
        while i < cpus.len() {
            bits |= cpus[i].bit();
            i += 1;
        }
        Cpus(bits)
    }

    /// Whether `cpu` is in the set.
    pub const fn contains(self, cpu: Cpu) -> bool {
        self.0 & cpu.bit() != 0
    }
}

/// One feature: a subnode of the node, named `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    /// The subnode's name, which is how Linux knows the feature.
    pub name: &'static str,
    /// The processors that have it.
    pub cpus: Cpus,
    /// The ISA level that brought it in (`isa`): 0 for the ISA 2.07B base, 3000, 3100.
    pub isa: u32,
    /// Who may use it: [`usable`] bits.
    pub usable: u32,
    /// What the hypervisor does to enable it for the OS.
    pub hv: Recipe,
    /// What the OS does to enable it for user space.
    pub os: Recipe,
    /// The AT_HWCAP (0-31) or AT_HWCAP2 (32-63) bit user space sees it by.
    pub hwcap_bit: Option<u8>,
    /// The features it needs, by name (`dependencies`, as phandles).
    pub dependencies: &'static [&'static str],
}

/// The features `cpu` has, in node order.
pub fn features_of(cpu: Cpu) -> impl Iterator<Item = &'static Feature> {
    table::FEATURES.iter().filter(move |f| f.cpus.contains(cpu))
}

/// Adds `/cpus/ibm,powerpc-cpu-features` for `cpu` (replacing one already there, since
/// ours says what this firmware set up). `/cpus` must exist.
pub fn add_node(tree: &mut Tree, cpu: Cpu) -> Result<(), Error> {
    if tree.node(NODE_PATH).is_some() {
        tree.remove_node(NODE_PATH)?;
    }
    tree.add_node(NODE_PATH)?;
    tree.set_property_u32(NODE_PATH, "isa", cpu.isa())?;
    tree.set_property_string(NODE_PATH, "device_type", "cpu-features")?;
    tree.set_property_string(NODE_PATH, "compatible", "ibm,powerpc-cpu-features")?;
    tree.set_property_string(NODE_PATH, "display-name", cpu.display_name())?;

    for feature in features_of(cpu) {
        add_feature(tree, feature)?;
    }
    // Dependencies point at phandles, so every subnode must exist first.
    for feature in features_of(cpu).filter(|f| !f.dependencies.is_empty()) {
        let phandles = feature
            .dependencies
            .iter()
            .map(|name| tree.ensure_phandle(&feature_path(name)))
            .collect::<Result<Vec<u32>, Error>>()?;
        tree.set_property_cells(&feature_path(feature.name), "dependencies", &phandles)?;
    }
    Ok(())
}

/// Gives every cpu node under `/cpus` (`device_type = "cpu"`) the per-processor facts
/// Linux reads there and QEMU's tree lacks:
/// - `ibm,dec-bits`, the decrementer's width in large mode. Without it Linux assumes the
///   32-bit decrementer of older processors and never sets LPCR[LD], so no timer can be
///   set further out than about 4 s at QEMU's 512 MHz timebase; with it Linux's
///   `time_init` reports a [`Cpu::dec_bits`]-bit decrementer and turns large mode on.
/// - `ibm,processor-radix-AP-encodings`, the radix page sizes ([`Cpu::radix_page_sizes`]).
///   Without it Linux's `radix__early_init_devtree` assumes only 4K and 64K pages and
///   maps all of RAM with 4 KiB pages; with it the linear map uses 2M and 1G pages.
///
/// Returns how many cpu nodes got them.
pub fn add_cpu_node_facts(tree: &mut Tree, cpu: Cpu) -> Result<usize, Error> {
    let Some(cpus) = tree.node("/cpus") else {
        return Err(Error::NodeNotFound(alloc::string::String::from("/cpus")));
    };
    let cores: Vec<alloc::string::String> = cpus
        .children()
        .filter(|n| n.property_str("device_type") == Some("cpu"))
        .map(|n| format!("/cpus/{}", n.name()))
        .collect();
    for core in &cores {
        tree.set_property_u32(core, "ibm,dec-bits", cpu.dec_bits())?;
        tree.set_property_cells(
            core,
            "ibm,processor-radix-AP-encodings",
            &cpu.radix_page_sizes().map(RadixPageSize::encoding),
        )?;
    }
    Ok(cores.len())
}

fn feature_path(name: &str) -> alloc::string::String {
    format!("{NODE_PATH}/{name}")
}

/// One subnode, without its dependencies. A property is written only for a level that
/// may use the feature; Linux rejects the feature otherwise.
fn add_feature(tree: &mut Tree, feature: &Feature) -> Result<(), Error> {
    let path = feature_path(feature.name);
    tree.add_node(&path)?;
    tree.set_property_u32(&path, "isa", feature.isa)?;
    tree.set_property_u32(&path, "usable-privilege", feature.usable)?;
    let levels = [
        (usable::HV, feature.hv, "hv-support", "hfscr-bit-nr"),
        (usable::OS, feature.os, "os-support", "fscr-bit-nr"),
    ];
    for (level, recipe, support, bit_nr) in levels {
        if feature.usable & level == 0 {
            continue;
        }
        if let Some((value, bit)) = recipe.properties() {
            tree.set_property_u32(&path, support, value)?;
            if let Some(bit) = bit {
                tree.set_property_u32(&path, bit_nr, u32::from(bit))?;
            }
        }
    }
    if let Some(bit) = feature
        .hwcap_bit
        .filter(|_| feature.usable & usable::PR != 0)
    {
        tree.set_property_u32(&path, "hwcap-bit-nr", u32::from(bit))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
