// SPDX-License-Identifier: Apache-2.0
//! [`FdtWriter`]: emits a DTB (version 17) from a stream of begin-node, property and
//! end-node calls, the way libfdt's sequential-write API (`fdt_sw.c`: `fdt_begin_node`,
//! `fdt_property`, `fdt_end_node`, `fdt_finish`) does for skiboot's `core/fdt.c`.
//!
//! Misuse (unbalanced nodes, a property outside a node or after a child node, duplicate
//! names) is reported as an [`Error`] by the call that would have made the blob invalid;
//! that call then writes nothing, so the writer stays usable.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::format::{
    self, align4, FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_HEADER_SIZE, FDT_LAST_COMP_VERSION,
    FDT_MAGIC, FDT_PROP, FDT_RESERVE_ENTRY_SIZE, FDT_VERSION, MAX_DEPTH,
};
use crate::{Error, MemReserve};

/// Builds a flattened device tree one node and property at a time.
///
/// ```
/// let mut writer = devtree::FdtWriter::new();
/// writer.begin_node("")?; // the root node is unnamed
/// writer.property_cells("#address-cells", &[2])?;
/// writer.begin_node("chosen")?;
/// writer.property_string("bootargs", "console=hvc0")?;
/// writer.end_node()?;
/// writer.end_node()?;
/// writer.add_memreserve(0x3000_0000, 0x40_0000);
/// writer.set_boot_cpuid_phys(0);
/// let blob = writer.finish()?;
/// assert_eq!(&blob[..4], &[0xd0, 0x0d, 0xfe, 0xed]);
/// # Ok::<(), devtree::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct FdtWriter {
    /// The structure block written so far.
    structure: Vec<u8>,
    /// The strings block: every property name once, NUL-terminated.
    strings: Vec<u8>,
    /// Offset of each name already in `strings`, so names are stored once.
    string_offsets: BTreeMap<String, u32>,
    /// The nodes begun and not yet ended, outermost first.
    open_nodes: Vec<OpenNode>,
    /// Whether the root node has been begun (it may also be ended already).
    root_begun: bool,
    memreserves: Vec<MemReserve>,
    boot_cpuid_phys: u32,
}

/// What the writer remembers about a node it is still writing.
#[derive(Debug, Default)]
struct OpenNode {
    /// Strings-block offsets of the names of the properties written so far.
    property_names: Vec<u32>,
    /// Names of the child nodes begun so far.
    child_names: Vec<String>,
}

impl FdtWriter {
    /// An empty writer: no nodes, no reservations, `boot_cpuid_phys` 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens a node. The first node must be the root, named `""`; every other node must
    /// be opened inside the root with a name unique among its siblings.
    pub fn begin_node(&mut self, name: &str) -> Result<(), Error> {
        let depth = self.open_nodes.len();
        match self.open_nodes.last_mut() {
            None if self.root_begun => return Err(Error::SecondRootNode),
            None if !name.is_empty() => return Err(Error::RootNodeNotFirst),
            None => self.root_begun = true,
            Some(_) if depth > MAX_DEPTH => return Err(Error::TooDeep),
            Some(_) if !format::is_valid_node_name(name) => {
                return Err(Error::InvalidNodeName(name.to_string()))
            }
            Some(parent) if parent.child_names.iter().any(|child| child == name) => {
                return Err(Error::DuplicateNode(name.to_string()))
            }
            Some(parent) => parent.child_names.push(name.to_string()),
        }
        self.push_word(FDT_BEGIN_NODE);
        self.structure.extend_from_slice(name.as_bytes());
        self.structure.push(0);
        self.pad_structure();
        self.open_nodes.push(OpenNode::default());
        Ok(())
    }

    /// Closes the node opened by the matching [`begin_node`](Self::begin_node).
    pub fn end_node(&mut self) -> Result<(), Error> {
        self.open_nodes
            .pop()
            .ok_or(Error::EndNodeWithoutBeginNode)?;
        self.push_word(FDT_END_NODE);
        Ok(())
    }

    /// Adds a property with a raw value to the open node. All properties of a node must
    /// come before its first child node.
    pub fn property(&mut self, name: &str, value: &[u8]) -> Result<(), Error> {
        if !format::is_valid_property_name(name) {
            return Err(Error::InvalidPropertyName(name.to_string()));
        }
        let value_length = u32::try_from(value.len()).map_err(|_| Error::TooLarge)?;
        let node = self.open_nodes.last().ok_or(Error::PropertyOutsideNode)?;
        if !node.child_names.is_empty() {
            return Err(Error::PropertyAfterChildNode(name.to_string()));
        }
        let existing_offset = self.string_offsets.get(name).copied();
        if existing_offset.is_some_and(|offset| node.property_names.contains(&offset)) {
            return Err(Error::DuplicateProperty(name.to_string()));
        }
        let name_offset = match existing_offset {
            Some(offset) => offset,
            None => self.intern_name(name)?,
        };
        self.push_word(FDT_PROP);
        self.push_word(value_length);
        self.push_word(name_offset);
        self.structure.extend_from_slice(value);
        self.pad_structure();
        if let Some(node) = self.open_nodes.last_mut() {
            node.property_names.push(name_offset);
        }
        Ok(())
    }

    /// Adds a property with no value, such as `interrupt-controller;` or `ranges;`.
    pub fn property_empty(&mut self, name: &str) -> Result<(), Error> {
        self.property(name, &[])
    }

    /// Adds a one-cell property, such as `#address-cells = <2>`.
    pub fn property_u32(&mut self, name: &str, value: u32) -> Result<(), Error> {
        self.property(name, &value.to_be_bytes())
    }

    /// Adds a two-cell (64-bit) property, such as `opal-base-address`.
    pub fn property_u64(&mut self, name: &str, value: u64) -> Result<(), Error> {
        self.property(name, &value.to_be_bytes())
    }

    /// Adds a list of 32-bit cells, such as `reg = <1 0x3f8 8>`.
    pub fn property_cells(&mut self, name: &str, cells: &[u32]) -> Result<(), Error> {
        self.property(name, &format::encode_cells(cells))
    }

    /// Adds a list of 64-bit values, each as two cells, such as `ibm,cpu-idle-state-psscr`.
    pub fn property_u64s(&mut self, name: &str, values: &[u64]) -> Result<(), Error> {
        self.property(name, &format::encode_u64s(values))
    }

    /// Adds a NUL-terminated string property, such as `device_type = "serial"`.
    pub fn property_string(&mut self, name: &str, value: &str) -> Result<(), Error> {
        self.property_strings(name, &[value])
    }

    /// Adds a string list, each string NUL-terminated, such as
    /// `compatible = "ibm,opal-xive-pe", "ibm,opal-intc"`.
    pub fn property_strings(&mut self, name: &str, values: &[&str]) -> Result<(), Error> {
        self.property(name, &format::encode_strings(values)?)
    }

    /// Adds a `/memreserve/` entry. Entries are written in the order they were added; a
    /// zero-sized or wrapping entry makes [`finish`](Self::finish) fail.
    pub fn add_memreserve(&mut self, address: u64, size: u64) {
        self.memreserves.push(MemReserve { address, size });
    }

    /// Sets the header's `boot_cpuid_phys`: the PIR of the thread that enters the OS.
    pub fn set_boot_cpuid_phys(&mut self, cpu: u32) {
        self.boot_cpuid_phys = cpu;
    }

    /// Assembles the blob: header, memory-reservation block (8-byte aligned, ended by an
    /// all-zero entry), structure block ending in `FDT_END`, strings block.
    ///
    /// The blob is position-independent but must be placed at an 8-byte aligned address
    /// before it is handed to Linux.
    pub fn finish(mut self) -> Result<Vec<u8>, Error> {
        if !self.open_nodes.is_empty() {
            return Err(Error::UnclosedNodes(self.open_nodes.len()));
        }
        if !self.root_begun {
            return Err(Error::MissingRootNode);
        }
        if let Some(bad) = self.memreserves.iter().find(|entry| !entry.is_valid()) {
            return Err(Error::InvalidMemReserve {
                address: bad.address,
                size: bad.size,
            });
        }
        self.push_word(FDT_END);

        let memreserve_offset = FDT_HEADER_SIZE;
        let memreserve_size = (self.memreserves.len() + 1) * FDT_RESERVE_ENTRY_SIZE;
        let structure_offset = memreserve_offset + memreserve_size;
        let strings_offset = structure_offset + self.structure.len();
        let total_size = strings_offset + self.strings.len();
        let to_u32 = |value: usize| u32::try_from(value).map_err(|_| Error::TooLarge);

        let mut blob = Vec::with_capacity(total_size);
        for word in [
            FDT_MAGIC,
            to_u32(total_size)?,
            to_u32(structure_offset)?,
            to_u32(strings_offset)?,
            to_u32(memreserve_offset)?,
            FDT_VERSION,
            FDT_LAST_COMP_VERSION,
            self.boot_cpuid_phys,
            to_u32(self.strings.len())?,
            to_u32(self.structure.len())?,
        ] {
            blob.extend_from_slice(&word.to_be_bytes());
        }
        let terminator = MemReserve {
            address: 0,
            size: 0,
        };
        for entry in self.memreserves.iter().chain([&terminator]) {
            blob.extend_from_slice(&entry.address.to_be_bytes());
            blob.extend_from_slice(&entry.size.to_be_bytes());
        }
        blob.extend_from_slice(&self.structure);
        blob.extend_from_slice(&self.strings);
        Ok(blob)
    }

    /// Appends `name` to the strings block and returns its offset there.
    fn intern_name(&mut self, name: &str) -> Result<u32, Error> {
        let offset = u32::try_from(self.strings.len()).map_err(|_| Error::TooLarge)?;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        self.string_offsets.insert(name.to_string(), offset);
        Ok(offset)
    }

    fn push_word(&mut self, word: u32) {
        self.structure.extend_from_slice(&word.to_be_bytes());
    }

    /// Zero-pads the structure block to the next 4-byte boundary.
    fn pad_structure(&mut self) {
        self.structure.resize(align4(self.structure.len()), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(blob: &[u8], offset: usize) -> u32 {
        u32::from_be_bytes(blob[offset..offset + 4].try_into().unwrap())
    }

    #[test]
    fn smallest_tree_has_exact_layout() {
        let mut writer = FdtWriter::new();
        writer.begin_node("").unwrap();
        writer.end_node().unwrap();
        let blob = writer.finish().unwrap();
        // header 40 + one terminating reserve entry 16 + BEGIN_NODE "" (8) + END_NODE + END
        assert_eq!(blob.len(), 40 + 16 + 8 + 4 + 4);
        assert_eq!(word(&blob, 0), FDT_MAGIC);
        assert_eq!(word(&blob, 4), blob.len() as u32);
        assert_eq!(word(&blob, 8), 56, "off_dt_struct");
        assert_eq!(word(&blob, 12), 72, "off_dt_strings");
        assert_eq!(word(&blob, 16), 40, "off_mem_rsvmap");
        assert_eq!((word(&blob, 20), word(&blob, 24)), (17, 16), "versions");
        assert_eq!(word(&blob, 32), 0, "size_dt_strings");
        assert_eq!(word(&blob, 36), 16, "size_dt_struct");
        assert_eq!(&blob[40..56], &[0; 16]);
        let structure: Vec<u32> = (56..72).step_by(4).map(|at| word(&blob, at)).collect();
        assert_eq!(structure, [FDT_BEGIN_NODE, 0, FDT_END_NODE, FDT_END]);
    }

    #[test]
    fn property_names_are_stored_once() {
        let mut writer = FdtWriter::new();
        writer.begin_node("").unwrap();
        writer.property_u32("#address-cells", 2).unwrap();
        for child in ["a", "b", "c"] {
            writer.begin_node(child).unwrap();
            writer.property_u32("#address-cells", 1).unwrap();
            writer.property_string("status", "okay").unwrap();
            writer.end_node().unwrap();
        }
        writer.end_node().unwrap();
        let blob = writer.finish().unwrap();
        let strings_offset = word(&blob, 12) as usize;
        assert_eq!(&blob[strings_offset..], b"#address-cells\0status\0");
    }

    #[test]
    fn misuse_is_an_error_and_writes_nothing() {
        let mut writer = FdtWriter::new();
        assert_eq!(writer.end_node(), Err(Error::EndNodeWithoutBeginNode));
        assert_eq!(
            writer.property_empty("ranges"),
            Err(Error::PropertyOutsideNode)
        );
        assert_eq!(writer.begin_node("cpus"), Err(Error::RootNodeNotFirst));
        writer.begin_node("").unwrap();
        assert_eq!(
            writer.begin_node(""),
            Err(Error::InvalidNodeName("".into()))
        );
        assert_eq!(
            writer.begin_node("a/b"),
            Err(Error::InvalidNodeName("a/b".into()))
        );
        assert_eq!(
            writer.property_empty("a b"),
            Err(Error::InvalidPropertyName("a b".into()))
        );
        assert_eq!(
            writer.property_string("model", "x\0y"),
            Err(Error::NulInString)
        );
        writer.property_empty("ranges").unwrap();
        assert_eq!(
            writer.property_empty("ranges"),
            Err(Error::DuplicateProperty("ranges".into()))
        );
        writer.begin_node("cpus").unwrap();
        writer.end_node().unwrap();
        assert_eq!(
            writer.begin_node("cpus"),
            Err(Error::DuplicateNode("cpus".into()))
        );
        assert_eq!(
            writer.property_empty("late"),
            Err(Error::PropertyAfterChildNode("late".into()))
        );
        writer.end_node().unwrap();
        assert_eq!(writer.end_node(), Err(Error::EndNodeWithoutBeginNode));
        assert_eq!(writer.begin_node(""), Err(Error::SecondRootNode));
        assert_eq!(writer.property_empty("x"), Err(Error::PropertyOutsideNode));
        // None of the refused calls left anything behind: the tree is still well formed.
        let blob = writer.finish().unwrap();
        assert_eq!(
            word(&blob, 32),
            b"ranges\0".len() as u32,
            "only one name interned"
        );
    }

    #[test]
    fn finish_checks_the_whole_tree() {
        assert_eq!(FdtWriter::new().finish(), Err(Error::MissingRootNode));

        let mut open = FdtWriter::new();
        open.begin_node("").unwrap();
        open.begin_node("chosen").unwrap();
        assert_eq!(open.finish(), Err(Error::UnclosedNodes(2)));

        for (address, size) in [(0x1000, 0), (u64::MAX, 2), (0, 0)] {
            let mut writer = FdtWriter::new();
            writer.begin_node("").unwrap();
            writer.end_node().unwrap();
            writer.add_memreserve(address, size);
            assert_eq!(
                writer.finish(),
                Err(Error::InvalidMemReserve { address, size })
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let mut writer = FdtWriter::new();
        writer.begin_node("").unwrap();
        for _ in 0..MAX_DEPTH {
            writer.begin_node("n").unwrap();
        }
        assert_eq!(writer.begin_node("n"), Err(Error::TooDeep));
    }
}
