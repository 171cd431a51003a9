// SPDX-License-Identifier: Apache-2.0
//! A read-only, allocation-free walker over a flattened device tree (DTB version 16/17),
//! enough for a payload to find OPAL, the CPUs, memory and the XIVE node in the tree its
//! firmware handed over in r3. The firmware's own `devtree` crate builds and edits whole
//! trees with `alloc`; this one only reads, straight from the blob.
//!
//! Every offset taken from the blob is bounds-checked: a malformed tree gives an
//! [`FdtError`] or ends a walk early, never a panic.

/// `0xd00dfeed`, big-endian, at offset 0.
pub const FDT_MAGIC: u32 = 0xd00d_feed;
const HEADER_SIZE: usize = 40;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// Deeper trees are not walked (QEMU's and skiboot's trees are 4 levels deep).
pub const MAX_DEPTH: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    BadMagic(u32),
    /// The header names blocks outside the blob, or the blob is shorter than the header.
    Truncated,
    /// Versions before 16 lay the structure block out differently.
    OldVersion(u32),
}

/// A parsed header over the blob.
#[derive(Clone, Copy)]
pub struct Fdt<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
    rsvmap: &'a [u8],
    boot_cpuid_phys: u32,
}

fn be32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_be_bytes(a))
}

/// The `totalsize` field of a header, for sizing the slice before [`Fdt::parse`].
pub fn total_size(header: &[u8]) -> Result<usize, FdtError> {
    let magic = be32_at(header, 0).ok_or(FdtError::Truncated)?;
    if magic != FDT_MAGIC {
        return Err(FdtError::BadMagic(magic));
    }
    Ok(be32_at(header, 4).ok_or(FdtError::Truncated)? as usize)
}

impl<'a> Fdt<'a> {
    pub fn parse(blob: &'a [u8]) -> Result<Self, FdtError> {
        let total = total_size(blob)?;
        let blob = blob.get(..total).ok_or(FdtError::Truncated)?;
        let field = |n: usize| be32_at(blob, 4 * n).ok_or(FdtError::Truncated);
        let (off_struct, off_strings, off_rsvmap) = (field(2)?, field(3)?, field(4)?);
        let version = field(5)?;
        if version < 16 {
            return Err(FdtError::OldVersion(version));
        }
        let boot_cpuid_phys = field(7)?;
        let (size_strings, size_struct) = (field(8)?, field(9)?);
        let block = |off: u32, len: u32| {
            let start = off as usize;
            blob.get(start..start.checked_add(len as usize)?)
        };
        if (off_rsvmap as usize) < HEADER_SIZE {
            return Err(FdtError::Truncated);
        }
        Ok(Fdt {
            structs: block(off_struct, size_struct).ok_or(FdtError::Truncated)?,
            strings: block(off_strings, size_strings).ok_or(FdtError::Truncated)?,
            rsvmap: blob.get(off_rsvmap as usize..).ok_or(FdtError::Truncated)?,
            boot_cpuid_phys,
        })
    }

    /// The PIR of the thread the firmware entered the payload on.
    pub fn boot_cpuid_phys(&self) -> u32 {
        self.boot_cpuid_phys
    }

    /// The `/memreserve/` entries (address, size), up to the terminating empty one.
    pub fn memreserve(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let map = self.rsvmap;
        (0..)
            .map(move |i: usize| {
                let off = i * 16;
                Some((be64_at(map, off)?, be64_at(map, off + 8)?))
            })
            .take_while(|e| matches!(e, Some((_, size)) if *size != 0))
            .flatten()
    }

    /// The root node.
    pub fn root(&self) -> Option<Node<'a>> {
        let mut at = 0;
        loop {
            match self.token(at)? {
                (FDT_NOP, next) => at = next,
                (FDT_BEGIN_NODE, _) => return self.node_at(at),
                _ => return None,
            }
        }
    }

    /// Looks a node up by its full path (`/`, `/ibm,opal`, `/cpus/cpu@0`). A component
    /// without a unit address also matches a node that has one (`/memory` → `memory@0`)
    /// when no node has the exact name.
    pub fn node(&self, path: &str) -> Option<Node<'a>> {
        let mut node = self.root()?;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = node
                .children()
                .find(|c| c.name == part)
                .or_else(|| node.children().find(|c| c.base_name() == part))?;
        }
        Some(node)
    }

    /// Every node in document order, with its depth (root = 0).
    pub fn nodes(&self) -> Nodes<'a> {
        Nodes {
            fdt: *self,
            at: 0,
            depth: 0,
        }
    }

    /// The first node whose `compatible` list contains `compatible`.
    pub fn find_compatible(&self, compatible: &str) -> Option<Node<'a>> {
        self.nodes()
            .map(|(_, n)| n)
            .find(|n| n.is_compatible(compatible))
    }

    /// Reads the token at `at`; returns it and the offset of the next token.
    fn token(&self, at: usize) -> Option<(u32, usize)> {
        let token = be32_at(self.structs, at)?;
        let next = match token {
            FDT_BEGIN_NODE => {
                let name = self.structs.get(at + 4..)?;
                let len = name.iter().position(|&b| b == 0)?;
                align4(at + 4 + len + 1)
            }
            FDT_PROP => {
                let len = be32_at(self.structs, at + 4)? as usize;
                align4(at.checked_add(12)?.checked_add(len)?)
            }
            FDT_END_NODE | FDT_NOP | FDT_END => at + 4,
            _ => return None,
        };
        Some((token, next))
    }

    /// The node whose FDT_BEGIN_NODE token is at `at`.
    fn node_at(&self, at: usize) -> Option<Node<'a>> {
        let raw = self.structs.get(at + 4..)?;
        let len = raw.iter().position(|&b| b == 0)?;
        let name = core::str::from_utf8(&raw[..len]).ok()?;
        let (_, body) = self.token(at)?;
        Some(Node {
            fdt: *self,
            name,
            body,
        })
    }

    /// The property at `at` (its name and value).
    fn prop_at(&self, at: usize) -> Option<(&'a str, &'a [u8])> {
        let len = be32_at(self.structs, at + 4)? as usize;
        let name_off = be32_at(self.structs, at + 8)? as usize;
        let value = self.structs.get(at + 12..(at + 12).checked_add(len)?)?;
        let names = self.strings.get(name_off..)?;
        let end = names.iter().position(|&b| b == 0)?;
        Some((core::str::from_utf8(&names[..end]).ok()?, value))
    }

    /// The offset just past the END_NODE that closes the node whose body starts at `body`.
    fn skip_node(&self, body: usize) -> Option<usize> {
        let mut depth = 1usize;
        let mut at = body;
        while depth > 0 {
            let (token, next) = self.token(at)?;
            match token {
                FDT_BEGIN_NODE => depth += 1,
                FDT_END_NODE => depth -= 1,
                FDT_END => return None,
                _ => {}
            }
            if depth > MAX_DEPTH {
                return None;
            }
            at = next;
        }
        Some(at)
    }
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One node: its name and where its properties start.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    fdt: Fdt<'a>,
    /// The full name, unit address included (`cpu@0`); empty for the root.
    pub name: &'a str,
    body: usize,
}

impl<'a> Node<'a> {
    /// The name without its unit address (`cpu@0` → `cpu`).
    pub fn base_name(&self) -> &'a str {
        self.name.split('@').next().unwrap_or(self.name)
    }

    /// Every property (name, value) in order.
    pub fn props(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let fdt = self.fdt;
        let mut at = self.body;
        core::iter::from_fn(move || loop {
            let (token, next) = fdt.token(at)?;
            match token {
                FDT_NOP => at = next,
                FDT_PROP => {
                    let prop = fdt.prop_at(at);
                    at = next;
                    return prop;
                }
                _ => return None,
            }
        })
    }

    pub fn prop(&self, name: &str) -> Option<&'a [u8]> {
        self.props().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn has_prop(&self, name: &str) -> bool {
        self.prop(name).is_some()
    }

    /// A one-cell property.
    pub fn u32(&self, name: &str) -> Option<u32> {
        match self.prop(name)? {
            v if v.len() == 4 => be32_at(v, 0),
            _ => None,
        }
    }

    /// A two-cell property, or a one-cell one widened (sizes are written both ways).
    pub fn u64(&self, name: &str) -> Option<u64> {
        match self.prop(name)? {
            v if v.len() == 8 => be64_at(v, 0),
            v if v.len() == 4 => be32_at(v, 0).map(u64::from),
            _ => None,
        }
    }

    /// The cells of a property, whatever their count.
    pub fn cells(&self, name: &str) -> impl Iterator<Item = u32> + 'a {
        let v = self.prop(name).unwrap_or(&[]);
        v.chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// A string property (without its NUL).
    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.strings(name).next()
    }

    /// The NUL-separated strings of a property.
    pub fn strings(&self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let v = self.prop(name).unwrap_or(&[]);
        v.split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .filter_map(|s| core::str::from_utf8(s).ok())
    }

    pub fn is_compatible(&self, compatible: &str) -> bool {
        self.strings("compatible").any(|c| c == compatible)
    }

    /// The direct children, in order.
    pub fn children(&self) -> impl Iterator<Item = Node<'a>> + 'a {
        let fdt = self.fdt;
        let mut at = Some(self.body);
        core::iter::from_fn(move || loop {
            let here = at?;
            let (token, next) = fdt.token(here)?;
            match token {
                FDT_NOP | FDT_PROP => at = Some(next),
                FDT_BEGIN_NODE => {
                    let child = fdt.node_at(here)?;
                    at = fdt.skip_node(child.body);
                    return Some(child);
                }
                _ => {
                    at = None;
                    return None;
                }
            }
        })
    }

    /// `reg` as (address, size) pairs, with the cell counts of this node's parent.
    pub fn reg(
        &self,
        address_cells: u32,
        size_cells: u32,
    ) -> impl Iterator<Item = (u64, u64)> + 'a {
        let (ac, sc) = (address_cells as usize, size_cells as usize);
        let valid = (1..=2).contains(&ac) && sc <= 2;
        let v = if valid {
            self.prop("reg").unwrap_or(&[])
        } else {
            &[]
        };
        let stride = 4 * (ac + sc).max(1);
        v.chunks_exact(stride).map(move |c| {
            let read = |cells: &[u8]| {
                cells.chunks_exact(4).fold(0u64, |acc, w| {
                    acc << 32 | u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
                })
            };
            (read(&c[..4 * ac]), read(&c[4 * ac..]))
        })
    }
}

/// Iterator over every node with its depth; see [`Fdt::nodes`].
pub struct Nodes<'a> {
    fdt: Fdt<'a>,
    at: usize,
    depth: usize,
}

impl<'a> Iterator for Nodes<'a> {
    type Item = (usize, Node<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (token, next) = self.fdt.token(self.at)?;
            match token {
                FDT_BEGIN_NODE => {
                    let node = self.fdt.node_at(self.at)?;
                    let depth = self.depth;
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return None;
                    }
                    self.at = next;
                    return Some((depth, node));
                }
                FDT_END_NODE => self.depth = self.depth.checked_sub(1)?,
                FDT_END => return None,
                _ => {}
            }
            self.at = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devtree::Tree;

    fn sample() -> Vec<u8> {
        let mut t = Tree::new();
        t.set_property_u32("/", "#address-cells", 2).unwrap();
        t.set_property_u32("/", "#size-cells", 2).unwrap();
        t.set_property_string("/", "model", "IBM PowerNV (emulated by qemu)")
            .unwrap();
        t.ensure_node("/cpus/cpu@0").unwrap();
        t.set_property_string("/cpus/cpu@0", "device_type", "cpu")
            .unwrap();
        t.set_property_cells("/cpus/cpu@0", "ibm,ppc-interrupt-server#s", &[0, 1])
            .unwrap();
        t.ensure_node("/memory@0").unwrap();
        t.set_property_u64s("/memory@0", "reg", &[0, 0x8000_0000])
            .unwrap();
        t.ensure_node("/ibm,opal").unwrap();
        t.set_property_u64("/ibm,opal", "opal-base-address", 0x3000_0000)
            .unwrap();
        t.ensure_node("/interrupt-controller@6030203180000")
            .unwrap();
        t.set_property_strings(
            "/interrupt-controller@6030203180000",
            "compatible",
            &["ibm,opal-xive-pe", "ibm,opal-intc"],
        )
        .unwrap();
        t.set_property_cells(
            "/interrupt-controller@6030203180000",
            "ibm,xive-eq-sizes",
            &[12, 16, 21, 24],
        )
        .unwrap();
        t.add_memreserve(0x3000_0000, 0x100_0000);
        t.add_memreserve(0x3100_0000, 0x10_0000);
        t.set_boot_cpuid_phys(4);
        t.to_dtb().unwrap()
    }

    #[test]
    fn finds_nodes_and_properties() {
        let blob = sample();
        let fdt = Fdt::parse(&blob).unwrap();
        assert_eq!(fdt.boot_cpuid_phys(), 4);
        let root = fdt.root().unwrap();
        assert_eq!(root.str("model"), Some("IBM PowerNV (emulated by qemu)"));
        assert_eq!(
            fdt.node("/ibm,opal").unwrap().u64("opal-base-address"),
            Some(0x3000_0000)
        );
        let cpu = fdt.node("/cpus/cpu@0").unwrap();
        assert_eq!(
            cpu.cells("ibm,ppc-interrupt-server#s").collect::<Vec<_>>(),
            [0, 1]
        );
        // A base name finds the node with a unit address.
        let mem = fdt.node("/memory").unwrap();
        assert_eq!(mem.reg(2, 2).collect::<Vec<_>>(), [(0, 0x8000_0000)]);
        let xive = fdt.find_compatible("ibm,opal-xive-pe").unwrap();
        assert_eq!(
            xive.cells("ibm,xive-eq-sizes").collect::<Vec<_>>(),
            [12, 16, 21, 24]
        );
        assert!(fdt.node("/nonexistent").is_none());
        assert_eq!(
            fdt.memreserve().collect::<Vec<_>>(),
            [(0x3000_0000, 0x100_0000), (0x3100_0000, 0x10_0000)]
        );
        let depths: Vec<(usize, &str)> = fdt.nodes().map(|(d, n)| (d, n.name)).collect();
        assert!(depths.contains(&(0, "")));
        assert!(depths.contains(&(2, "cpu@0")));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert_eq!(Fdt::parse(&[0; 8]).err(), Some(FdtError::BadMagic(0)));
        let mut blob = sample();
        blob.truncate(blob.len() / 2);
        assert_eq!(Fdt::parse(&blob).err(), Some(FdtError::Truncated));
        // A corrupted structure block only ends walks early.
        let mut blob = sample();
        let off = be32_at(&blob, 8).unwrap() as usize;
        blob[off + 3] = 0x77;
        let fdt = Fdt::parse(&blob).unwrap();
        assert!(fdt.root().is_none());
        assert_eq!(fdt.nodes().count(), 0);
    }
}
