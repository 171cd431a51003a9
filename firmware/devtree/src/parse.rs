// SPDX-License-Identifier: Apache-2.0
//! Reading a DTB into a [`Tree`]: [`Tree::from_bytes`] with our own checked parser, and
//! [`Tree::from_fdt`] from a tree the `fdt` crate has already parsed. This is the job of
//! skiboot's `core/device.c` `dt_expand`/`dt_expand_node`, which walk the blob with libfdt.
//!
//! `from_bytes` never panics, whatever the blob holds: every offset and length is checked
//! against the blob, and a defect is an [`Error::InvalidBlob`]. The `fdt` crate asserts
//! on some malformed blobs instead, so prefer `from_bytes` when the bytes are at hand.

use alloc::vec::Vec;

use crate::error::BlobError;
use crate::format::{
    align4, header, FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_HEADER_SIZE, FDT_MAGIC, FDT_NOP,
    FDT_PROP, FDT_RESERVE_ENTRY_SIZE, FDT_VERSION, MAX_DEPTH,
};
use crate::tree::Node;
use crate::{Error, MemReserve, Tree};

/// The oldest format version whose layout this parser understands.
const OLDEST_READABLE_VERSION: u32 = 16;

impl Tree {
    /// Reads a DTB (version 16 or 17, as QEMU and dtc write) into an owned tree, with its
    /// `/memreserve/` entries and `boot_cpuid_phys`.
    ///
    /// The blob may be longer than the header's `totalsize`; the rest is ignored. The
    /// tree must follow the rules [`FdtWriter`](crate::FdtWriter) enforces (valid and
    /// unique names, properties before child nodes), so that it can be written back.
    pub fn from_bytes(blob: &[u8]) -> Result<Tree, Error> {
        let header_word = |offset: usize| read_u32(blob, offset).ok_or(BlobError::Truncated);
        if blob.len() < FDT_HEADER_SIZE {
            return Err(BlobError::Truncated.into());
        }
        let magic = header_word(header::MAGIC)?;
        if magic != FDT_MAGIC {
            return Err(BlobError::BadMagic(magic).into());
        }
        let version = header_word(header::VERSION)?;
        let last_comp_version = header_word(header::LAST_COMP_VERSION)?;
        if version < OLDEST_READABLE_VERSION || last_comp_version > FDT_VERSION {
            return Err(BlobError::UnsupportedVersion {
                version,
                last_comp_version,
            }
            .into());
        }
        let total_size = header_word(header::TOTALSIZE)? as usize;
        let blob = blob.get(..total_size).ok_or(BlobError::Truncated)?;

        let structure_offset = header_word(header::OFF_DT_STRUCT)? as usize;
        let structure_end = if version >= FDT_VERSION {
            structure_offset.checked_add(header_word(header::SIZE_DT_STRUCT)? as usize)
        } else {
            Some(total_size) // version 16 has no size_dt_struct; FDT_END bounds the walk
        };
        let strings_offset = header_word(header::OFF_DT_STRINGS)? as usize;
        let strings_end =
            strings_offset.checked_add(header_word(header::SIZE_DT_STRINGS)? as usize);
        let structure = block(blob, structure_offset, structure_end)?;
        let strings = block(blob, strings_offset, strings_end)?;

        let memreserves = read_memreserves(blob, header_word(header::OFF_MEM_RSVMAP)? as usize)?;
        let root = read_structure(structure, strings)?;
        Ok(Tree::from_parts(
            root,
            memreserves,
            header_word(header::BOOT_CPUID_PHYS)?,
        ))
    }

    /// Copies a tree the `fdt` crate has parsed, with its `/memreserve/` entries.
    ///
    /// The `fdt` crate does not expose the header's `boot_cpuid_phys`, so it is 0 here;
    /// set it with [`set_boot_cpuid_phys`](Tree::set_boot_cpuid_phys), or use
    /// [`from_bytes`](Tree::from_bytes), which keeps it.
    pub fn from_fdt(fdt: &fdt::Fdt<'_>) -> Result<Tree, Error> {
        let source_root = fdt.find_node("/").ok_or(BlobError::UnexpectedEnd)?;
        let mut root = Node::default();
        copy_node_contents(source_root, &mut root, 0)?;
        let memreserves = fdt
            .memory_reservations()
            .map(|entry| MemReserve {
                address: entry.address().addr() as u64,
                size: entry.size() as u64,
            })
            .collect();
        Ok(Tree::from_parts(root, memreserves, 0))
    }
}

/// Copies the properties and, recursively, the children of `source` (at `depth`) into
/// `target`.
fn copy_node_contents(
    source: fdt::node::FdtNode<'_, '_>,
    target: &mut Node,
    depth: usize,
) -> Result<(), Error> {
    for property in source.properties() {
        target.push_property(property.name, property.value)?;
    }
    for source_child in source.children() {
        if depth >= MAX_DEPTH {
            return Err(Error::TooDeep);
        }
        let mut child = Node::new_child(source_child.name)?;
        copy_node_contents(source_child, &mut child, depth + 1)?;
        target.push_child(child)?;
    }
    Ok(())
}

/// The block `start..end` of `blob`, if it lies inside.
fn block(blob: &[u8], start: usize, end: Option<usize>) -> Result<&[u8], BlobError> {
    end.and_then(|end| blob.get(start..end))
        .ok_or(BlobError::BlockOutOfBounds)
}

fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let word = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_be_bytes(word.try_into().ok()?))
}

fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    let word = bytes.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_be_bytes(word.try_into().ok()?))
}

/// Reads the reservation entries at `offset` up to, not including, the all-zero one.
fn read_memreserves(blob: &[u8], offset: usize) -> Result<Vec<MemReserve>, BlobError> {
    if !offset.is_multiple_of(8) || offset > blob.len() {
        return Err(BlobError::BlockOutOfBounds);
    }
    let mut entries = Vec::new();
    for entry_offset in (offset..blob.len()).step_by(FDT_RESERVE_ENTRY_SIZE) {
        let address = read_u64(blob, entry_offset);
        let size = entry_offset
            .checked_add(8)
            .and_then(|at| read_u64(blob, at));
        match (address, size) {
            (Some(0), Some(0)) => return Ok(entries),
            (Some(address), Some(size)) => entries.push(MemReserve { address, size }),
            _ => break,
        }
    }
    Err(BlobError::UnterminatedMemReserve)
}

/// Walks the structure block and builds the node tree it describes.
fn read_structure(structure: &[u8], strings: &[u8]) -> Result<Node, Error> {
    // The nodes begun and not yet ended, root first. A node joins its parent when it ends.
    let mut open_nodes: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut offset = 0;
    loop {
        let token_offset = offset;
        let token = read_u32(structure, offset).ok_or(BlobError::UnexpectedEnd)?;
        offset += 4;
        let unexpected = BlobError::UnexpectedToken {
            offset: token_offset,
            token,
        };
        match token {
            FDT_BEGIN_NODE if root.is_some() => return Err(unexpected.into()),
            FDT_BEGIN_NODE => {
                let name_bytes = structure.get(offset..).ok_or(BlobError::BadNodeName)?;
                let name_length = name_bytes
                    .iter()
                    .position(|&byte| byte == 0)
                    .ok_or(BlobError::BadNodeName)?;
                let name = core::str::from_utf8(&name_bytes[..name_length])
                    .map_err(|_| BlobError::BadNodeName)?;
                offset += align4(name_length + 1);
                let node = if open_nodes.is_empty() {
                    Node::default() // the root's name is "" by definition
                } else if open_nodes.len() > MAX_DEPTH {
                    return Err(Error::TooDeep);
                } else {
                    Node::new_child(name)?
                };
                open_nodes.push(node);
            }
            FDT_END_NODE => {
                let node = open_nodes.pop().ok_or(unexpected)?;
                match open_nodes.last_mut() {
                    Some(parent) => {
                        parent.push_child(node)?;
                    }
                    None => root = Some(node),
                }
            }
            FDT_PROP => {
                let node = open_nodes.last_mut().ok_or(unexpected)?;
                let value_length = read_u32(structure, offset).ok_or(BlobError::UnexpectedEnd)?;
                let name_offset =
                    read_u32(structure, offset + 4).ok_or(BlobError::UnexpectedEnd)?;
                offset += 8;
                let value = offset
                    .checked_add(value_length as usize)
                    .and_then(|end| structure.get(offset..end))
                    .ok_or(BlobError::BadPropertyValue)?;
                offset += align4(value.len());
                let name = string_at(strings, name_offset as usize)?;
                if node.children().next().is_some() {
                    return Err(Error::PropertyAfterChildNode(name.into()));
                }
                node.push_property(name, value)?;
            }
            FDT_NOP => {}
            FDT_END => return root.ok_or_else(|| unexpected.into()),
            _ => return Err(unexpected.into()),
        }
    }
}

/// The NUL-terminated name at `offset` of the strings block.
fn string_at(strings: &[u8], offset: usize) -> Result<&str, BlobError> {
    let tail = strings.get(offset..).ok_or(BlobError::BadPropertyName)?;
    let length = tail
        .iter()
        .position(|&byte| byte == 0)
        .ok_or(BlobError::BadPropertyName)?;
    core::str::from_utf8(&tail[..length]).map_err(|_| BlobError::BadPropertyName)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// Structure-block builder for hand-made (and deliberately broken) blobs.
    #[derive(Default)]
    struct Structure(Vec<u8>);

    impl Structure {
        fn token(mut self, token: u32) -> Self {
            self.0.extend_from_slice(&token.to_be_bytes());
            self
        }
        fn begin(self, name: &str) -> Self {
            let mut this = self.token(FDT_BEGIN_NODE);
            this.0.extend_from_slice(name.as_bytes());
            this.0.push(0);
            this.0.resize(align4(this.0.len()), 0);
            this
        }
        fn prop(self, name_offset: u32, value: &[u8]) -> Self {
            let mut this = self
                .token(FDT_PROP)
                .token(value.len() as u32)
                .token(name_offset);
            this.0.extend_from_slice(value);
            this.0.resize(align4(this.0.len()), 0);
            this
        }
    }

    /// A version-17 blob around the given reservations, structure block and strings.
    fn assemble(memreserves: &[(u64, u64)], structure: &Structure, strings: &[u8]) -> Vec<u8> {
        let reserve_size = (memreserves.len() + 1) * FDT_RESERVE_ENTRY_SIZE;
        let structure_offset = FDT_HEADER_SIZE + reserve_size;
        let strings_offset = structure_offset + structure.0.len();
        let total = strings_offset + strings.len();
        let mut blob = Vec::new();
        for word in [
            FDT_MAGIC,
            total as u32,
            structure_offset as u32,
            strings_offset as u32,
            FDT_HEADER_SIZE as u32,
            17,
            16,
            7,
            strings.len() as u32,
            structure.0.len() as u32,
        ] {
            blob.extend_from_slice(&word.to_be_bytes());
        }
        for &(address, size) in memreserves.iter().chain([&(0, 0)]) {
            blob.extend_from_slice(&address.to_be_bytes());
            blob.extend_from_slice(&size.to_be_bytes());
        }
        blob.extend_from_slice(&structure.0);
        blob.extend_from_slice(strings);
        blob
    }

    fn set_word(blob: &mut [u8], offset: usize, value: u32) {
        blob[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
    }

    fn minimal() -> Structure {
        Structure::default()
            .begin("")
            .token(FDT_END_NODE)
            .token(FDT_END)
    }

    fn blob_error(blob: &[u8]) -> Option<BlobError> {
        match Tree::from_bytes(blob) {
            Err(Error::InvalidBlob(error)) => Some(error),
            _ => None,
        }
    }

    #[test]
    fn reads_nops_memreserves_and_boot_cpu() {
        let structure = Structure::default()
            .token(FDT_NOP)
            .begin("")
            .token(FDT_NOP)
            .prop(0, b"value\0")
            .token(FDT_NOP)
            .begin("child@1")
            .prop(5, &[])
            .token(FDT_END_NODE)
            .token(FDT_NOP)
            .token(FDT_END_NODE)
            .token(FDT_NOP)
            .token(FDT_END);
        let blob = assemble(&[(0x1000, 0x2000)], &structure, b"name\0flag\0");
        let tree = Tree::from_bytes(&blob).unwrap();
        assert_eq!(tree.root().property_str("name"), Some("value"));
        assert_eq!(tree.property("/child@1", "flag"), Some(&[][..]));
        assert_eq!(
            tree.memreserves(),
            [MemReserve {
                address: 0x1000,
                size: 0x2000
            }]
        );
        assert_eq!(tree.boot_cpuid_phys(), 7);
    }

    #[test]
    fn version_16_blobs_are_read_up_to_fdt_end() {
        let mut blob = assemble(&[], &minimal(), b"");
        set_word(&mut blob, header::VERSION, 16);
        set_word(&mut blob, header::SIZE_DT_STRUCT, 0); // not a field in version 16
        assert!(Tree::from_bytes(&blob).is_ok());
    }

    #[test]
    fn trailing_bytes_after_totalsize_are_ignored() {
        let mut blob = assemble(&[], &minimal(), b"");
        blob.extend_from_slice(&[0xff; 64]);
        assert!(Tree::from_bytes(&blob).is_ok());
    }

    #[test]
    fn broken_headers() {
        let good = assemble(&[], &minimal(), b"");
        assert_eq!(blob_error(&good[..39]), Some(BlobError::Truncated));
        assert_eq!(
            blob_error(&good[..good.len() - 1]),
            Some(BlobError::Truncated)
        );

        let mut bad_magic = good.clone();
        set_word(&mut bad_magic, header::MAGIC, 0xfeed_d00d);
        assert_eq!(
            blob_error(&bad_magic),
            Some(BlobError::BadMagic(0xfeed_d00d))
        );

        let mut too_new = good.clone();
        set_word(&mut too_new, header::LAST_COMP_VERSION, 18);
        assert_eq!(
            blob_error(&too_new),
            Some(BlobError::UnsupportedVersion {
                version: 17,
                last_comp_version: 18
            })
        );

        let mut struct_past_end = good.clone();
        set_word(&mut struct_past_end, header::SIZE_DT_STRUCT, 0x1000);
        assert_eq!(
            blob_error(&struct_past_end),
            Some(BlobError::BlockOutOfBounds)
        );

        let mut strings_overflow = good.clone();
        set_word(&mut strings_overflow, header::OFF_DT_STRINGS, u32::MAX);
        set_word(&mut strings_overflow, header::SIZE_DT_STRINGS, u32::MAX);
        assert_eq!(
            blob_error(&strings_overflow),
            Some(BlobError::BlockOutOfBounds)
        );

        let mut misaligned_reserve = good.clone();
        set_word(&mut misaligned_reserve, header::OFF_MEM_RSVMAP, 44);
        assert_eq!(
            blob_error(&misaligned_reserve),
            Some(BlobError::BlockOutOfBounds)
        );

        let mut unterminated = assemble(&[(1, 1)], &minimal(), b"");
        let total = unterminated.len() as u32;
        set_word(&mut unterminated, header::OFF_MEM_RSVMAP, total - 8);
        assert_eq!(
            blob_error(&unterminated),
            Some(BlobError::UnterminatedMemReserve)
        );
    }

    #[test]
    fn broken_structures() {
        let cases: [(Structure, &[u8], Error); 10] = [
            (
                Structure::default().begin("").token(FDT_END_NODE),
                b"",
                BlobError::UnexpectedEnd.into(),
            ),
            (
                Structure::default().begin("").token(FDT_END),
                b"",
                BlobError::UnexpectedToken {
                    offset: 8,
                    token: FDT_END,
                }
                .into(),
            ),
            (
                Structure::default().token(FDT_END_NODE),
                b"",
                BlobError::UnexpectedToken {
                    offset: 0,
                    token: FDT_END_NODE,
                }
                .into(),
            ),
            (
                Structure::default()
                    .begin("")
                    .token(FDT_END_NODE)
                    .begin("second")
                    .token(FDT_END_NODE),
                b"",
                BlobError::UnexpectedToken {
                    offset: 12,
                    token: FDT_BEGIN_NODE,
                }
                .into(),
            ),
            (
                Structure::default().begin("").token(0x77),
                b"",
                BlobError::UnexpectedToken {
                    offset: 8,
                    token: 0x77,
                }
                .into(),
            ),
            (
                Structure::default()
                    .begin("")
                    .prop(100, b"")
                    .token(FDT_END_NODE)
                    .token(FDT_END),
                b"name\0",
                BlobError::BadPropertyName.into(),
            ),
            (
                Structure::default()
                    .begin("")
                    .prop(0, b"")
                    .token(FDT_END_NODE)
                    .token(FDT_END),
                b"unterminated",
                BlobError::BadPropertyName.into(),
            ),
            (
                Structure::default()
                    .begin("")
                    .begin("a")
                    .token(FDT_END_NODE)
                    .prop(0, b"")
                    .token(FDT_END_NODE)
                    .token(FDT_END),
                b"late\0",
                Error::PropertyAfterChildNode("late".to_string()),
            ),
            (
                Structure::default()
                    .begin("")
                    .prop(0, b"")
                    .prop(0, b"")
                    .token(FDT_END_NODE)
                    .token(FDT_END),
                b"twice\0",
                Error::DuplicateProperty("twice".to_string()),
            ),
            (
                Structure::default()
                    .begin("")
                    .begin("a b")
                    .token(FDT_END_NODE)
                    .token(FDT_END_NODE)
                    .token(FDT_END),
                b"",
                Error::InvalidNodeName("a b".to_string()),
            ),
        ];
        for (index, (structure, strings, expected)) in cases.into_iter().enumerate() {
            let blob = assemble(&[], &structure, strings);
            assert_eq!(Tree::from_bytes(&blob), Err(expected), "case {index}");
        }
    }

    #[test]
    fn lengths_past_the_block_are_refused() {
        // A property claiming more bytes than the block holds.
        let mut structure = Structure::default()
            .begin("")
            .token(FDT_PROP)
            .token(0xffff_fff0)
            .token(0);
        structure = structure.token(FDT_END_NODE).token(FDT_END);
        let blob = assemble(&[], &structure, b"p\0");
        assert_eq!(blob_error(&blob), Some(BlobError::BadPropertyValue));

        // A node name without its NUL before the end of the block.
        let mut unterminated_name = Structure::default().token(FDT_BEGIN_NODE);
        unterminated_name.0.extend_from_slice(b"abcd");
        let blob = assemble(&[], &unterminated_name, b"");
        assert_eq!(blob_error(&blob), Some(BlobError::BadNodeName));

        // A property header cut short by the end of the block.
        let cut = Structure::default().begin("").token(FDT_PROP).token(4);
        assert_eq!(
            blob_error(&assemble(&[], &cut, b"")),
            Some(BlobError::UnexpectedEnd)
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut structure = Structure::default().begin("");
        for _ in 0..=MAX_DEPTH {
            structure = structure.begin("n");
        }
        let blob = assemble(&[], &structure, b"");
        assert_eq!(Tree::from_bytes(&blob), Err(Error::TooDeep));
    }

    #[test]
    fn every_truncation_of_a_real_blob_is_an_error_not_a_panic() {
        let mut tree = Tree::new();
        tree.ensure_node("/a/b@1").unwrap();
        tree.set_property_strings("/a/b@1", "compatible", &["x", "y"])
            .unwrap();
        tree.add_memreserve(0x1000, 0x1000);
        let blob = tree.to_dtb().unwrap();
        for length in 0..blob.len() {
            let mut cut = blob[..length].to_vec();
            if length >= FDT_HEADER_SIZE {
                set_word(&mut cut, header::TOTALSIZE, length as u32); // lie consistently
            }
            assert!(Tree::from_bytes(&cut).is_err(), "length {length}");
        }
        // Flipping any single byte must never panic (it may or may not be an error).
        for index in 0..blob.len() {
            let mut flipped = blob.clone();
            flipped[index] ^= 0xff;
            let _ = Tree::from_bytes(&flipped);
        }
        assert_eq!(Tree::from_bytes(&blob), Ok(tree));
    }
}
