// SPDX-License-Identifier: Apache-2.0
//! [`Tree`]: an owned, editable device tree. The firmware reads QEMU's blob into a `Tree`,
//! adds and changes nodes and properties by path, and writes the result for Linux with
//! [`Tree::to_dtb`]. This plays the part of skiboot's `core/device.c` (`dt_new`,
//! `dt_add_property`, `dt_find_by_path`) together with `core/fdt.c` (`create_dtb`).
//!
//! Paths are absolute and name every node in full, unit address included:
//! `"/lpcm-opb@6030000000000/lpc@0/isa-serial@i3f8"`. `"/"` is the root. Unlike the `fdt`
//! crate, a path component without `@` never matches a node that has a unit address, so a
//! path always means exactly one node.
//!
//! Properties keep their order: a replaced property keeps its place, a new one goes last.
//! Children keep their order too, and new children go last. Untouched properties are
//! written back byte for byte.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::format::{self, MAX_DEPTH};
use crate::{Error, FdtWriter};

/// One `/memreserve/` entry of the DTB header area: a physical range the OS must not use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemReserve {
    /// First byte of the range.
    pub address: u64,
    /// Length of the range in bytes.
    pub size: u64,
}

impl MemReserve {
    /// Whether the entry can be written: not empty and not wrapping past `u64::MAX`.
    pub(crate) fn is_valid(&self) -> bool {
        self.size != 0 && self.address.checked_add(self.size - 1).is_some()
    }
}

/// A property: a name and its raw big-endian value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    name: String,
    value: Vec<u8>,
}

impl Property {
    /// The property's name, such as `"compatible"`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The property's raw value, exactly as it is (or will be) stored in the DTB.
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

/// A node: its name (with unit address), its properties in order, and its children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    name: String,
    properties: Vec<Property>,
    children: Vec<Node>,
}

impl Node {
    /// The node's full name, such as `"memory@0"`; the root's name is `""`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's properties, in the order they will be written.
    pub fn properties(&self) -> impl Iterator<Item = &Property> {
        self.properties.iter()
    }

    /// The node's children, in the order they will be written.
    pub fn children(&self) -> impl Iterator<Item = &Node> {
        self.children.iter()
    }

    /// The child with exactly this full name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The raw value of the property `name`.
    pub fn property(&self, name: &str) -> Option<&[u8]> {
        self.properties
            .iter()
            .find(|property| property.name == name)
            .map(Property::value)
    }

    /// The property `name` read as one 32-bit cell; `None` unless it is exactly 4 bytes.
    pub fn property_u32(&self, name: &str) -> Option<u32> {
        Some(u32::from_be_bytes(self.property(name)?.try_into().ok()?))
    }

    /// The property `name` read as one 64-bit value; `None` unless it is exactly 8 bytes.
    pub fn property_u64(&self, name: &str) -> Option<u64> {
        Some(u64::from_be_bytes(self.property(name)?.try_into().ok()?))
    }

    /// The property `name` read as 32-bit cells, such as `reg` or
    /// `ibm,ppc-interrupt-server#s`; `None` unless its length is a multiple of 4.
    pub fn property_cells(&self, name: &str) -> Option<impl Iterator<Item = u32> + '_> {
        let value = self.property(name)?;
        value.len().is_multiple_of(4).then(|| {
            value
                .chunks_exact(4)
                .map(|cell| u32::from_be_bytes([cell[0], cell[1], cell[2], cell[3]]))
        })
    }

    /// The property `name` read as one string; `None` unless it is UTF-8 ending in its
    /// only NUL.
    pub fn property_str(&self, name: &str) -> Option<&str> {
        let text = self.property(name)?.strip_suffix(b"\0")?;
        core::str::from_utf8(text)
            .ok()
            .filter(|text| !text.contains('\0'))
    }

    /// The property `name` read as a string list, such as `compatible`; `None` unless it
    /// is UTF-8 ending in a NUL.
    pub fn property_strings(&self, name: &str) -> Option<impl Iterator<Item = &str>> {
        let text = self.property(name)?.strip_suffix(b"\0")?;
        Some(core::str::from_utf8(text).ok()?.split('\0'))
    }

    /// The node's phandle: its `phandle` property, or the older `linux,phandle` that some
    /// trees still carry (Linux reads either).
    pub fn phandle(&self) -> Option<u32> {
        self.property_u32("phandle")
            .or_else(|| self.property_u32("linux,phandle"))
    }

    /// Whether the node's `compatible` list contains `compatible`.
    pub fn is_compatible(&self, compatible: &str) -> bool {
        self.property_strings("compatible")
            .is_some_and(|mut strings| strings.any(|string| string == compatible))
    }

    /// An empty node; `name` must be valid for a node below the root.
    pub(crate) fn new_child(name: &str) -> Result<Node, Error> {
        if !format::is_valid_node_name(name) {
            return Err(Error::InvalidNodeName(name.to_string()));
        }
        Ok(Node {
            name: name.to_string(),
            ..Node::default()
        })
    }

    /// Appends `child`, refusing a second child of the same name.
    pub(crate) fn push_child(&mut self, child: Node) -> Result<&mut Node, Error> {
        if self.child(&child.name).is_some() {
            return Err(Error::DuplicateNode(child.name));
        }
        let index = self.children.len();
        self.children.push(child);
        Ok(&mut self.children[index])
    }

    /// Appends a property, refusing a second property of the same name.
    pub(crate) fn push_property(&mut self, name: &str, value: &[u8]) -> Result<(), Error> {
        if !format::is_valid_property_name(name) {
            return Err(Error::InvalidPropertyName(name.to_string()));
        }
        if self.property(name).is_some() {
            return Err(Error::DuplicateProperty(name.to_string()));
        }
        self.properties.push(Property {
            name: name.to_string(),
            value: value.to_vec(),
        });
        Ok(())
    }

    /// Replaces the value of `name` in place, or appends the property if it is new.
    fn set_property(&mut self, name: &str, value: &[u8]) -> Result<(), Error> {
        match self
            .properties
            .iter_mut()
            .find(|property| property.name == name)
        {
            Some(property) => {
                property.value = value.to_vec();
                Ok(())
            }
            None => self.push_property(name, value),
        }
    }

    fn child_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.children.iter_mut().find(|child| child.name == name)
    }

    /// Writes this node and everything below it. Depth is bounded by [`MAX_DEPTH`]
    /// (paths and parsing both enforce it, and the writer checks it again).
    fn write_to(&self, writer: &mut FdtWriter) -> Result<(), Error> {
        writer.begin_node(&self.name)?;
        for property in &self.properties {
            writer.property(&property.name, &property.value)?;
        }
        for child in &self.children {
            child.write_to(writer)?;
        }
        writer.end_node()
    }

    /// The largest phandle at or below this node, 0 if there is none.
    fn max_phandle(&self) -> u32 {
        let own = self.phandle().unwrap_or(0);
        self.children
            .iter()
            .map(Node::max_phandle)
            .fold(own, u32::max)
    }

    /// Appends to `paths` the path of every node at or below this one that is
    /// compatible with `compatible`; `path` is this node's own path.
    fn collect_compatible(&self, path: &str, compatible: &str, paths: &mut Vec<String>) {
        if self.is_compatible(compatible) {
            paths.push(path.to_string());
        }
        for child in &self.children {
            let child_path = join_path(path, &child.name);
            child.collect_compatible(&child_path, compatible, paths);
        }
    }
}

/// An owned device tree plus the header data a DTB carries besides it.
///
/// ```
/// let mut tree = devtree::Tree::new();
/// tree.set_property_strings("/", "compatible", &["qemu,powernv9", "ibm,powernv"])?;
/// tree.ensure_node("/ibm,opal/consoles/serial@0")?;
/// tree.set_property_string("/ibm,opal/consoles/serial@0", "compatible", "ibm,opal-console-raw")?;
/// tree.set_property_u64s("/ibm,opal", "opal-base-address", &[0x3000_0000])?;
/// tree.add_memreserve(0x3000_0000, 0x40_0000);
/// let blob = tree.to_dtb()?;
///
/// let reread = devtree::Tree::from_bytes(&blob)?;
/// assert_eq!(reread.node("/ibm,opal").unwrap().property_u64("opal-base-address"), Some(0x3000_0000));
/// # Ok::<(), devtree::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tree {
    root: Node,
    memreserves: Vec<MemReserve>,
    boot_cpuid_phys: u32,
}

impl Tree {
    /// A tree with only an empty root node, no reservations and `boot_cpuid_phys` 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Assembles a tree from its parts; used by the parsers.
    pub(crate) fn from_parts(
        root: Node,
        memreserves: Vec<MemReserve>,
        boot_cpuid_phys: u32,
    ) -> Self {
        Tree {
            root,
            memreserves,
            boot_cpuid_phys,
        }
    }

    /// The root node.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The node at `path`, if there is one (and the path is well formed).
    pub fn node(&self, path: &str) -> Option<&Node> {
        let mut node = &self.root;
        for name in components(path).ok()? {
            node = node.child(name)?;
        }
        Some(node)
    }

    /// The raw value of property `name` of the node at `path`.
    pub fn property(&self, path: &str, name: &str) -> Option<&[u8]> {
        self.node(path)?.property(name)
    }

    /// Paths of all nodes whose `compatible` list contains `compatible`, in tree order:
    /// how the firmware finds the node it got from `fdt::Fdt::find_compatible` again.
    pub fn paths_compatible_with(&self, compatible: &str) -> Vec<String> {
        let mut paths = Vec::new();
        self.root.collect_compatible("/", compatible, &mut paths);
        paths
    }

    /// Adds an empty node at `path`. Its parent must exist and it must not.
    ///
    /// QEMU's tree already has `/ibm,opal` (with `power-mgt`); use
    /// [`ensure_node`](Self::ensure_node) for nodes that may exist.
    pub fn add_node(&mut self, path: &str) -> Result<(), Error> {
        let (parent_path, name) = split_parent(path)?;
        let parent = self.node_mut(parent_path)?;
        let child = Node::new_child(name)?;
        parent
            .push_child(child)
            .map_err(|_| Error::NodeExists(path.to_string()))?;
        Ok(())
    }

    /// Makes sure a node exists at `path`, creating it and any missing ancestors (like
    /// `mkdir -p`). Existing nodes are left as they are.
    pub fn ensure_node(&mut self, path: &str) -> Result<(), Error> {
        // Check every name first, so a bad path creates nothing.
        if let Some(bad) = components(path)?.find(|name| !format::is_valid_node_name(name)) {
            return Err(Error::InvalidNodeName(bad.to_string()));
        }
        let mut node = &mut self.root;
        for name in components(path)? {
            node = match node.children.iter().position(|child| child.name == name) {
                Some(index) => &mut node.children[index],
                None => node.push_child(Node::new_child(name)?)?,
            };
        }
        Ok(())
    }

    /// Removes the node at `path` with everything below it, and returns it.
    pub fn remove_node(&mut self, path: &str) -> Result<Node, Error> {
        let (parent_path, name) = split_parent(path)?;
        let parent = self.node_mut(parent_path)?;
        let index = parent
            .children
            .iter()
            .position(|child| child.name == name)
            .ok_or_else(|| Error::NodeNotFound(path.to_string()))?;
        Ok(parent.children.remove(index))
    }

    /// Sets property `name` of the node at `path` to a raw value: an existing property is
    /// replaced in place, a new one is appended after the node's other properties.
    pub fn set_property(&mut self, path: &str, name: &str, value: &[u8]) -> Result<(), Error> {
        self.node_mut(path)?.set_property(name, value)
    }

    /// Sets a property with no value, such as `ranges;`.
    pub fn set_property_empty(&mut self, path: &str, name: &str) -> Result<(), Error> {
        self.set_property(path, name, &[])
    }

    /// Sets a one-cell property, such as `ibm,heartbeat-ms = <2000>`.
    pub fn set_property_u32(&mut self, path: &str, name: &str, value: u32) -> Result<(), Error> {
        self.set_property(path, name, &value.to_be_bytes())
    }

    /// Sets a two-cell (64-bit) property.
    pub fn set_property_u64(&mut self, path: &str, name: &str, value: u64) -> Result<(), Error> {
        self.set_property(path, name, &value.to_be_bytes())
    }

    /// Sets a list of 32-bit cells, such as `reg = <0>`.
    pub fn set_property_cells(
        &mut self,
        path: &str,
        name: &str,
        cells: &[u32],
    ) -> Result<(), Error> {
        self.set_property(path, name, &format::encode_cells(cells))
    }

    /// Sets a list of 64-bit values, each as two cells, such as `opal-base-address` or
    /// `reserved-ranges`.
    pub fn set_property_u64s(
        &mut self,
        path: &str,
        name: &str,
        values: &[u64],
    ) -> Result<(), Error> {
        self.set_property(path, name, &format::encode_u64s(values))
    }

    /// Sets a NUL-terminated string, such as `status = "reserved"`.
    pub fn set_property_string(
        &mut self,
        path: &str,
        name: &str,
        value: &str,
    ) -> Result<(), Error> {
        self.set_property_strings(path, name, &[value])
    }

    /// Sets a string list, such as `compatible = "ibm,opal-v3"` or `reserved-names`.
    pub fn set_property_strings(
        &mut self,
        path: &str,
        name: &str,
        values: &[&str],
    ) -> Result<(), Error> {
        self.set_property(path, name, &format::encode_strings(values)?)
    }

    /// The phandle of the node at `path`, after giving it one if it had none: one more
    /// than the largest in the tree, so the new value clashes with none of QEMU's. This is
    /// how a property that points at a node (`interrupt-parent`, a cpu feature's
    /// `dependencies`) gets a value to hold.
    pub fn ensure_phandle(&mut self, path: &str) -> Result<u32, Error> {
        if let Some(phandle) = self.node(path).and_then(Node::phandle) {
            return Ok(phandle);
        }
        let phandle = self.unused_phandle()?;
        self.set_property_u32(path, "phandle", phandle)?;
        Ok(phandle)
    }

    /// One more than the largest phandle in the tree (1 in a tree with none). 0 and
    /// `0xffff_ffff` are never valid phandles.
    pub fn unused_phandle(&self) -> Result<u32, Error> {
        match self.root.max_phandle() {
            max if max >= 0xffff_fffe => Err(Error::PhandlesExhausted),
            max => Ok(max + 1),
        }
    }

    /// Removes property `name` of the node at `path` and returns its value, or `None` if
    /// the node has no such property. Only a missing node or bad path is an error.
    pub fn remove_property(&mut self, path: &str, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let node = self.node_mut(path)?;
        let index = node
            .properties
            .iter()
            .position(|property| property.name == name);
        Ok(index.map(|index| node.properties.remove(index).value))
    }

    /// Reorders the children of the node at `path` by `key`, keeping the order of
    /// children with equal keys (a stable sort). Grandchildren are not touched.
    ///
    /// The firmware puts the cpu nodes in skiboot's order with it: QEMU adds each node
    /// before its older siblings, so its `/cpus` lists the cores backwards, while
    /// skiboot keeps every node's children sorted by unit address (its
    /// `dt_attach_root`), i.e. cores by PIR; Linux numbers CPUs in cpu-node order.
    pub fn sort_children_by_key<K: Ord>(
        &mut self,
        path: &str,
        mut key: impl FnMut(&Node) -> K,
    ) -> Result<(), Error> {
        // An insertion sort: a fraction of the code `slice::sort_by_key` brings into the
        // image, for the few dozen children a node has.
        let children = &mut self.node_mut(path)?.children;
        for i in 1..children.len() {
            let mut j = i;
            while j > 0 && key(&children[j - 1]) > key(&children[j]) {
                children.swap(j - 1, j);
                j -= 1;
            }
        }
        Ok(())
    }

    /// The `/memreserve/` entries: the input's first, then those added, in order.
    pub fn memreserves(&self) -> &[MemReserve] {
        &self.memreserves
    }

    /// Adds a `/memreserve/` entry after the existing ones. A zero-sized or wrapping
    /// entry makes [`to_dtb`](Self::to_dtb) fail with [`Error::InvalidMemReserve`].
    pub fn add_memreserve(&mut self, address: u64, size: u64) {
        self.memreserves.push(MemReserve { address, size });
    }

    /// The header's `boot_cpuid_phys`.
    pub fn boot_cpuid_phys(&self) -> u32 {
        self.boot_cpuid_phys
    }

    /// Sets the header's `boot_cpuid_phys`: the PIR of the thread that enters the OS. Linux
    /// requires it to appear in some cpu node's `ibm,ppc-interrupt-server#s`.
    pub fn set_boot_cpuid_phys(&mut self, cpu: u32) {
        self.boot_cpuid_phys = cpu;
    }

    /// Writes the tree as a DTB (version 17). See [`FdtWriter::finish`].
    pub fn to_dtb(&self) -> Result<Vec<u8>, Error> {
        let mut writer = FdtWriter::new();
        for entry in &self.memreserves {
            writer.add_memreserve(entry.address, entry.size);
        }
        writer.set_boot_cpuid_phys(self.boot_cpuid_phys);
        self.root.write_to(&mut writer)?;
        writer.finish()
    }

    fn node_mut(&mut self, path: &str) -> Result<&mut Node, Error> {
        let mut node = &mut self.root;
        for name in components(path)? {
            node = node
                .child_mut(name)
                .ok_or_else(|| Error::NodeNotFound(path.to_string()))?;
        }
        Ok(node)
    }
}

/// The node names along `path`, root excluded: `"/a/b@1"` gives `"a"`, `"b@1"`.
fn components(path: &str) -> Result<impl Iterator<Item = &str>, Error> {
    let invalid = || Error::InvalidPath(path.to_string());
    let below_root = path.strip_prefix('/').ok_or_else(invalid)?;
    let names = below_root.split('/').filter(|name| !name.is_empty());
    let empty_component = !below_root.is_empty() && below_root.split('/').any(str::is_empty);
    if empty_component || names.clone().count() > MAX_DEPTH {
        return Err(invalid());
    }
    Ok(names)
}

/// Splits a path below the root into its parent's path and its last name.
fn split_parent(path: &str) -> Result<(&str, &str), Error> {
    let _validated = components(path)?;
    match path.rsplit_once('/') {
        Some((_, "")) | None => Err(Error::RootNode),
        Some(("", name)) => Ok(("/", name)),
        Some((parent, name)) => Ok((parent, name)),
    }
}

/// The path of child `name` of the node at `parent`.
fn join_path(parent: &str, name: &str) -> String {
    let mut path = String::with_capacity(parent.len() + 1 + name.len());
    path.push_str(parent);
    if !parent.ends_with('/') {
        path.push('/');
    }
    path.push_str(name);
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn paths_are_checked() {
        let tree = Tree::new();
        assert!(tree.node("/").is_some());
        for bad in ["", "cpus", "/cpus/", "//", "/a//b"] {
            assert_eq!(
                components(bad).err(),
                Some(Error::InvalidPath(bad.into())),
                "{bad:?}"
            );
            assert!(tree.node(bad).is_none());
        }
        let names: Vec<&str> = components("/a/b@1/c,d").unwrap().collect();
        assert_eq!(names, ["a", "b@1", "c,d"]);
        let too_deep = "/n".repeat(MAX_DEPTH + 1);
        assert!(components(&too_deep).is_err());
        assert!(components(&"/n".repeat(MAX_DEPTH)).is_ok());
    }

    #[test]
    fn children_sort_by_key_stably() {
        let mut tree = Tree::new();
        tree.add_node("/cpus").unwrap();
        // QEMU's order for two chips of two cores, and the features node Opalite adds.
        for (name, pir) in [
            ("PowerPC,POWER9@104", Some(0x104)),
            ("PowerPC,POWER9@100", Some(0x100)),
            ("PowerPC,POWER9@4", Some(4)),
            ("PowerPC,POWER9@0", Some(0)),
            ("ibm,powerpc-cpu-features", None),
            ("no-reg-either", None),
        ] {
            let path = join_path("/cpus", name);
            tree.add_node(&path).unwrap();
            if let Some(pir) = pir {
                tree.set_property_u32(&path, "reg", pir).unwrap();
            }
        }
        tree.add_node("/cpus/PowerPC,POWER9@4/child@2").unwrap();
        tree.add_node("/cpus/PowerPC,POWER9@4/child@1").unwrap();
        let by_reg = |n: &Node| n.property_u32("reg").unwrap_or(u32::MAX);
        tree.sort_children_by_key("/cpus", by_reg).unwrap();
        let names = |tree: &Tree, path| -> Vec<String> {
            let node = tree.node(path).unwrap();
            node.children().map(|c| c.name().to_string()).collect()
        };
        assert_eq!(
            names(&tree, "/cpus"),
            [
                "PowerPC,POWER9@0",
                "PowerPC,POWER9@4",
                "PowerPC,POWER9@100",
                "PowerPC,POWER9@104",
                "ibm,powerpc-cpu-features",
                "no-reg-either",
            ]
        );
        // Only the one level: grandchildren keep their order.
        assert_eq!(
            names(&tree, "/cpus/PowerPC,POWER9@4"),
            ["child@2", "child@1"]
        );
        // Sorting again changes nothing; an empty or missing node is handled.
        let once = tree.clone();
        tree.sort_children_by_key("/cpus", by_reg).unwrap();
        assert_eq!(tree, once);
        tree.sort_children_by_key("/cpus/PowerPC,POWER9@0", by_reg)
            .unwrap();
        assert_eq!(
            tree.sort_children_by_key("/nope", by_reg),
            Err(Error::NodeNotFound("/nope".into()))
        );
    }

    #[test]
    fn parent_split() {
        assert_eq!(split_parent("/a"), Ok(("/", "a")));
        assert_eq!(split_parent("/a/b@0"), Ok(("/a", "b@0")));
        assert_eq!(split_parent("/"), Err(Error::RootNode));
        assert_eq!(split_parent("a"), Err(Error::InvalidPath("a".into())));
        assert_eq!(join_path("/", "a"), "/a");
        assert_eq!(join_path("/a", "b"), "/a/b");
    }

    #[test]
    fn unit_address_is_part_of_the_name() {
        let mut tree = Tree::new();
        tree.add_node("/memory@0").unwrap();
        assert!(tree.node("/memory@0").is_some());
        assert!(tree.node("/memory").is_none());
        assert_eq!(
            tree.set_property_empty("/memory", "x"),
            Err(Error::NodeNotFound("/memory".into()))
        );
    }

    #[test]
    fn editing_operations() {
        let mut tree = Tree::new();
        assert_eq!(tree.add_node("/a/b"), Err(Error::NodeNotFound("/a".into())));
        tree.ensure_node("/a/b").unwrap();
        tree.ensure_node("/a/b").unwrap();
        assert_eq!(tree.add_node("/a"), Err(Error::NodeExists("/a".into())));
        assert_eq!(tree.add_node("/"), Err(Error::RootNode));
        assert_eq!(
            tree.add_node("/a/x y"),
            Err(Error::InvalidNodeName("x y".into()))
        );

        tree.set_property_u32("/a", "first", 1).unwrap();
        tree.set_property_u32("/a", "second", 2).unwrap();
        tree.set_property_string("/a", "first", "one").unwrap();
        let a = tree.node("/a").unwrap();
        let names: Vec<&str> = a.properties().map(Property::name).collect();
        assert_eq!(
            names,
            ["first", "second"],
            "a replaced property keeps its place"
        );
        assert_eq!(a.property_str("first"), Some("one"));
        assert_eq!(a.property_u64("first"), None, "4 bytes are not a u64");

        assert_eq!(
            tree.remove_property("/a", "second"),
            Ok(Some(vec![0, 0, 0, 2]))
        );
        assert_eq!(tree.remove_property("/a", "second"), Ok(None));
        assert_eq!(
            tree.remove_property("/z", "second"),
            Err(Error::NodeNotFound("/z".into()))
        );

        let removed = tree.remove_node("/a").unwrap();
        assert_eq!(removed.child("b").map(Node::name), Some("b"));
        assert_eq!(
            tree.remove_node("/a"),
            Err(Error::NodeNotFound("/a".into()))
        );
        assert_eq!(tree.remove_node("/"), Err(Error::RootNode));
        assert_eq!(tree.root().children().count(), 0);
    }

    #[test]
    fn typed_reads() {
        let mut tree = Tree::new();
        tree.set_property_cells("/", "reg", &[1, 0x3f8, 8]).unwrap();
        tree.set_property_u64("/", "base", 0x3000_0000).unwrap();
        tree.set_property_strings("/", "compatible", &["ns16550", "pnpPNP,501"])
            .unwrap();
        tree.set_property("/", "odd", &[1, 2, 3]).unwrap();
        let root = tree.root();
        assert_eq!(
            root.property_cells("reg").unwrap().collect::<Vec<_>>(),
            [1, 0x3f8, 8]
        );
        assert!(root.property_cells("odd").is_none());
        assert_eq!(root.property_u64("base"), Some(0x3000_0000));
        assert_eq!(
            root.property_str("compatible"),
            None,
            "a list is not one string"
        );
        let compatible: Vec<&str> = root.property_strings("compatible").unwrap().collect();
        assert_eq!(compatible, ["ns16550", "pnpPNP,501"]);
        assert!(root.is_compatible("pnpPNP,501"));
        assert!(!root.is_compatible("pnpPNP"));
        assert_eq!(tree.paths_compatible_with("ns16550"), ["/"]);
    }

    #[test]
    fn phandles_are_handed_out_above_the_largest() {
        let mut tree = Tree::new();
        tree.ensure_node("/a/b").unwrap();
        tree.ensure_node("/c").unwrap();
        assert_eq!(tree.unused_phandle(), Ok(1));
        tree.set_property_u32("/a/b", "linux,phandle", 7).unwrap();
        assert_eq!(tree.node("/a/b").unwrap().phandle(), Some(7));
        assert_eq!(
            tree.ensure_phandle("/a/b"),
            Ok(7),
            "an existing one is kept"
        );
        assert_eq!(tree.ensure_phandle("/c"), Ok(8));
        assert_eq!(tree.node("/c").unwrap().property_u32("phandle"), Some(8));
        assert_eq!(tree.ensure_phandle("/c"), Ok(8));
        assert_eq!(tree.ensure_phandle("/a"), Ok(9));
        assert_eq!(
            tree.ensure_phandle("/z"),
            Err(Error::NodeNotFound("/z".into()))
        );

        tree.set_property_u32("/a", "phandle", 0xffff_fffe).unwrap();
        assert_eq!(tree.ensure_phandle("/a"), Ok(0xffff_fffe));
        assert_eq!(tree.unused_phandle(), Err(Error::PhandlesExhausted));
        assert_eq!(tree.ensure_phandle("/"), Err(Error::PhandlesExhausted));
    }
}
