// SPDX-License-Identifier: Apache-2.0
//! OS memory as OPAL may touch it: every pointer the OS passes is validated here first,
//! and the firmware never dereferences an OS address any other way.
//!
//! The rule follows skiboot's `opal_addr_valid` (include/opal-internal.h): the top nibble
//! is 0 (physical) or 0xC (Linux's linear map), the rest is real memory below the top of
//! RAM. We are stricter in two ways: a NULL pointer is refused, and so is any range that
//! touches memory the firmware reserved for itself (an OS must never be able to make OPAL
//! write over OPAL).

use opal_api::{OpalError, OpalResult};

/// The real-address bits of an OS pointer (top nibble stripped).
pub const REAL_ADDR_MASK: u64 = 0x0FFF_FFFF_FFFF_FFFF;

/// A validated range of OS memory, in real addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OsRange {
    pub real: u64,
    pub len: u64,
}

/// What a range must satisfy to be OS memory.
#[derive(Clone, Copy, Debug)]
pub struct OsMemoryRules<'a> {
    /// End (exclusive) of RAM.
    pub ram_top: u64,
    /// Ranges (start, size) the firmware owns.
    pub firmware: &'a [(u64, u64)],
}

impl OsMemoryRules<'_> {
    pub fn check(&self, raw: u64, len: u64) -> OpalResult<OsRange> {
        match raw >> 60 {
            0x0 | 0xc => {}
            _ => return Err(OpalError::Parameter),
        }
        let real = raw & REAL_ADDR_MASK;
        if real == 0 {
            return Err(OpalError::Parameter);
        }
        let end = real.checked_add(len).ok_or(OpalError::Parameter)?;
        if end > self.ram_top {
            return Err(OpalError::Parameter);
        }
        for &(start, size) in self.firmware {
            let fw_end = start.saturating_add(size);
            if real < fw_end && start < end.max(real + 1) {
                return Err(OpalError::Parameter);
            }
        }
        Ok(OsRange { real, len })
    }
}

/// OS memory access. `check` must be called before `read`/`write`, which take only
/// ranges it returned.
pub trait OsMemory {
    fn check(&self, raw: u64, len: u64) -> OpalResult<OsRange>;
    /// Copies `out.len()` bytes from `range.real + offset`.
    fn read(&self, range: OsRange, offset: u64, out: &mut [u8]);
    /// Copies `data` to `range.real + offset`.
    fn write(&self, range: OsRange, offset: u64, data: &[u8]);
}

#[cfg(test)]
mod tests {
    use super::*;
    const RULES: OsMemoryRules<'static> = OsMemoryRules {
        ram_top: 0x8000_0000,
        firmware: &[(0x3000_0000, 0x40_0000)],
    };

    #[test]
    fn accepts_physical_and_linear_map_addresses() {
        assert_eq!(
            RULES.check(0x1000, 8),
            Ok(OsRange {
                real: 0x1000,
                len: 8
            })
        );
        assert_eq!(
            RULES.check(0xC000_0000_02DC_B730, 8),
            Ok(OsRange {
                real: 0x02DC_B730,
                len: 8
            })
        );
    }

    #[test]
    fn refuses_null_other_nibbles_and_overflow() {
        assert_eq!(RULES.check(0, 8), Err(OpalError::Parameter));
        assert_eq!(
            RULES.check(0xC000_0000_0000_0000, 8),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            RULES.check(0x8000_0000_0000_1000, 8),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            RULES.check(0x0FFF_FFFF_FFFF_FFF0, 0x100),
            Err(OpalError::Parameter)
        );
        assert_eq!(RULES.check(0x1000, u64::MAX), Err(OpalError::Parameter));
    }

    #[test]
    fn refuses_beyond_ram_and_firmware_memory() {
        assert_eq!(RULES.check(0x7FFF_FFF8, 8).map(|r| r.real), Ok(0x7FFF_FFF8));
        assert_eq!(RULES.check(0x7FFF_FFF9, 8), Err(OpalError::Parameter));
        assert_eq!(RULES.check(0x3000_0000, 1), Err(OpalError::Parameter));
        assert_eq!(RULES.check(0x2FFF_FFFF, 2), Err(OpalError::Parameter));
        assert_eq!(RULES.check(0x303F_FFFF, 1), Err(OpalError::Parameter));
        assert_eq!(RULES.check(0x2FFF_FFF8, 8).map(|r| r.real), Ok(0x2FFF_FFF8));
        assert_eq!(RULES.check(0x3040_0000, 8).map(|r| r.real), Ok(0x3040_0000));
        // A zero-length range at a firmware address is still a firmware address.
        assert_eq!(RULES.check(0x3000_0010, 0), Err(OpalError::Parameter));
    }
}
