// SPDX-License-Identifier: Apache-2.0
//! IBM (MSB-0) bit numbering, as skiboot's `PPC_BIT`/`PPC_BITMASK`.

pub const fn ppc_bit(n: u32) -> u64 {
    1 << (63 - n)
}

pub const fn ppc_bitmask(first: u32, last: u32) -> u64 {
    (u64::MAX >> first) & (u64::MAX << (63 - last))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn msb_zero_numbering() {
        assert_eq!(ppc_bit(0), 0x8000_0000_0000_0000);
        assert_eq!(ppc_bit(4), 0x0800_0000_0000_0000); // HID0.HILE on P9/P10
        assert_eq!(ppc_bit(63), 1);
        assert_eq!(ppc_bitmask(60, 63), 0xf);
        assert_eq!(ppc_bitmask(0, 63), u64::MAX);
    }
}
