// SPDX-License-Identifier: Apache-2.0
//! The flattened-device-tree binary format: header layout, structure-block tokens, the
//! name rules both the writer and the parser enforce, and the big-endian encodings of
//! property values. Numbers come from the Devicetree Specification v0.4, chapter 5
//! ("Flattened Devicetree (DTB) Format"), and match `libfdt/fdt.h` (`FDT_MAGIC`,
//! `FDT_BEGIN_NODE`, ...), which skiboot uses through `core/fdt.c`.

use alloc::vec::Vec;

use crate::Error;

/// Magic number in the first header word of every DTB.
pub const FDT_MAGIC: u32 = 0xd00d_feed;
/// Start of a node; followed by the NUL-terminated node name, padded to 4 bytes.
pub const FDT_BEGIN_NODE: u32 = 0x1;
/// End of the node opened by the matching [`FDT_BEGIN_NODE`].
pub const FDT_END_NODE: u32 = 0x2;
/// A property: value length, name offset into the strings block, then the value, padded.
pub const FDT_PROP: u32 = 0x3;
/// Filler token that readers skip.
pub const FDT_NOP: u32 = 0x4;
/// End of the structure block.
pub const FDT_END: u32 = 0x9;

/// The version this crate writes.
pub const FDT_VERSION: u32 = 17;
/// The oldest version a reader must understand to read what this crate writes.
pub const FDT_LAST_COMP_VERSION: u32 = 16;
/// Size of the version-17 header: ten big-endian `u32` words.
pub const FDT_HEADER_SIZE: usize = 40;
/// Size of one `/memreserve/` entry: a big-endian `u64` address and `u64` size.
pub const FDT_RESERVE_ENTRY_SIZE: usize = 16;

/// Deepest node nesting accepted anywhere in this crate (the root is depth 0).
///
/// Real trees are less than ten levels deep; the bound keeps the recursive walks over an
/// owned tree within a small firmware stack, whatever blob or path we are given.
pub const MAX_DEPTH: usize = 32;

/// Byte offsets of the header words, as in `struct fdt_header` of `libfdt/fdt.h`.
pub(crate) mod header {
    pub const MAGIC: usize = 0;
    pub const TOTALSIZE: usize = 4;
    pub const OFF_DT_STRUCT: usize = 8;
    pub const OFF_DT_STRINGS: usize = 12;
    pub const OFF_MEM_RSVMAP: usize = 16;
    pub const VERSION: usize = 20;
    pub const LAST_COMP_VERSION: usize = 24;
    pub const BOOT_CPUID_PHYS: usize = 28;
    pub const SIZE_DT_STRINGS: usize = 32;
    pub const SIZE_DT_STRUCT: usize = 36;
}

/// Rounds `length` up to the 4-byte alignment of structure-block items.
pub(crate) const fn align4(length: usize) -> usize {
    (length + 3) & !3
}

/// Whether `name` may be written as a node name below the root.
///
/// The rule is the structural one: not empty, printable ASCII without spaces, and no `/`
/// (which would split the path). The specification's stricter character set
/// (`[0-9a-zA-Z,._+-]` plus `@unit-address`) is a subset, so every tree QEMU or dtc produces
/// passes.
pub(crate) fn is_valid_node_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b'/')
}

/// Whether `name` may be written as a property name (same rule as node names).
pub(crate) fn is_valid_property_name(name: &str) -> bool {
    is_valid_node_name(name)
}

/// Encodes 32-bit cells big-endian, the way `<0x1 0x2>` is written in a `.dts`.
pub(crate) fn encode_cells(cells: &[u32]) -> Vec<u8> {
    cells.iter().flat_map(|cell| cell.to_be_bytes()).collect()
}

/// Encodes 64-bit values big-endian, each as two cells (`/bits/ 64 <...>`).
pub(crate) fn encode_u64s(values: &[u64]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_be_bytes())
        .collect()
}

/// Encodes a string list: every string followed by a NUL (`"a", "b"` is `a\0b\0`).
///
/// A string that itself contains a NUL would silently become two strings, so it is
/// refused with [`Error::NulInString`].
pub(crate) fn encode_strings(strings: &[&str]) -> Result<Vec<u8>, Error> {
    let mut value = Vec::with_capacity(strings.iter().map(|string| string.len() + 1).sum());
    for string in strings {
        if string.contains('\0') {
            return Err(Error::NulInString);
        }
        value.extend_from_slice(string.as_bytes());
        value.push(0);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_libfdt() {
        assert_eq!(
            (FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END),
            (1, 2, 3, 4, 9)
        );
        assert_eq!(FDT_MAGIC.to_be_bytes(), [0xd0, 0x0d, 0xfe, 0xed]);
    }

    #[test]
    fn align4_rounds_up_to_words() {
        assert_eq!([0, 1, 2, 3, 4, 5, 8].map(align4), [0, 4, 4, 4, 4, 8, 8]);
    }

    #[test]
    fn name_rules() {
        for good in [
            "cpus",
            "PowerPC,POWER9@0",
            "isa-serial@i3f8",
            "#size-cells",
            "ibm,opal",
        ] {
            assert!(is_valid_node_name(good), "{good}");
        }
        for bad in ["", "a/b", "a b", "nul\0", "caf\u{e9}"] {
            assert!(!is_valid_node_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn values_are_big_endian() {
        assert_eq!(
            encode_cells(&[1, 0x0a0b_0c0d]),
            [0, 0, 0, 1, 0x0a, 0x0b, 0x0c, 0x0d]
        );
        assert_eq!(encode_u64s(&[0x3000_0000]), [0, 0, 0, 0, 0x30, 0, 0, 0]);
        assert_eq!(
            encode_strings(&["ns16550", "pnpPNP,501"]).unwrap(),
            b"ns16550\0pnpPNP,501\0"
        );
        assert_eq!(encode_strings(&[]).unwrap(), b"");
        assert_eq!(encode_strings(&["a\0b"]), Err(Error::NulInString));
    }
}
