// SPDX-License-Identifier: Apache-2.0
//! Fields in IBM (MSB-0) bit numbering, as the XIVE documents and skiboot name them:
//! bit 0 is the most significant bit of the word.

/// Mask of IBM bits `first..=last` of a 32-bit word.
pub const fn mask32(first: u32, last: u32) -> u32 {
    (u32::MAX >> first) & (u32::MAX << (31 - last))
}

/// Mask of IBM bits `first..=last` of a 64-bit word, and one bit: the hal's helpers.
pub use hal::bits::{ppc_bit as bit64, ppc_bitmask as mask64};

pub const fn bit32(n: u32) -> u32 {
    1 << (31 - n)
}

/// Value of the field `mask` (contiguous) in `word`.
pub const fn get32(mask: u32, word: u32) -> u32 {
    (word & mask) >> mask.trailing_zeros()
}

/// `word` with field `mask` replaced by `value` (excess bits of `value` dropped).
pub const fn set32(mask: u32, word: u32, value: u32) -> u32 {
    (word & !mask) | ((value << mask.trailing_zeros()) & mask)
}

pub const fn get64(mask: u64, word: u64) -> u64 {
    (word & mask) >> mask.trailing_zeros()
}

pub const fn set64(mask: u64, word: u64, value: u64) -> u64 {
    (word & !mask) | ((value << mask.trailing_zeros()) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibm_numbering() {
        assert_eq!(bit32(0), 0x8000_0000);
        assert_eq!(mask32(12, 15), 0x000f_0000);
        assert_eq!(mask64(4, 7), 0x0f00_0000_0000_0000);
        assert_eq!(set32(mask32(12, 15), 0xffff_ffff, 4), 0xfff4_ffff);
        assert_eq!(get32(mask32(10, 31), 0x0040_0005), 5);
        assert_eq!(get64(mask64(33, 63), 0x8000_0000_8000_0010), 0x10);
    }
}
