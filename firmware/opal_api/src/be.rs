// SPDX-License-Identifier: Apache-2.0
//! Big-endian integers. Everything OPAL exchanges through memory is big-endian, even
//! when the OS runs little-endian, so out-parameters are typed to make that impossible
//! to forget.

/// A `__be64` as stored in OS memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Be64([u8; 8]);

impl Be64 {
    pub const fn new(v: u64) -> Self {
        Self(v.to_be_bytes())
    }
    pub const fn get(self) -> u64 {
        u64::from_be_bytes(self.0)
    }
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }
    pub const fn from_bytes(b: [u8; 8]) -> Self {
        Self(b)
    }
}

/// A `__be32` as stored in OS memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Be32([u8; 4]);

impl Be32 {
    pub const fn new(v: u32) -> Self {
        Self(v.to_be_bytes())
    }
    pub const fn get(self) -> u32 {
        u32::from_be_bytes(self.0)
    }
    pub const fn to_bytes(self) -> [u8; 4] {
        self.0
    }
    pub const fn from_bytes(b: [u8; 4]) -> Self {
        Self(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn most_significant_byte_first() {
        assert_eq!(
            Be64::new(0x0102_0304_0506_0708).to_bytes(),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(Be32::new(0x2026_1121).to_bytes(), [0x20, 0x26, 0x11, 0x21]);
        assert_eq!(Be64::from_bytes([0, 0, 0, 0, 0, 0, 0x10, 0]).get(), 0x1000);
    }
}
