// SPDX-License-Identifier: Apache-2.0
//! PCI host bridges (PHB4 on POWER9, PHB5 on POWER10): the parts of the driver that need
//! no hardware, behind [`PhbRegs`], so they run in `cargo test` against `model::PhbModel`.
//!
//! * [`layout`]: a PHB's XSCOM registers, OPAL id and physical windows from the facts of
//!   its `stack@` node, and the XSCOM BAR mapping;
//! * [`phb`]: the PHB object: capabilities, IODA tables and caches, bring-up, and the
//!   `OPAL_PCI_*` calls ([`phb::Phb`]; [`phb::calls`] lists them with their errors);
//! * [`dt`]: the `pciex@` node, per-function nodes and `interrupt-map`, as plain data;
//! * [`registry`]: PHBs by OPAL id (bad ids are OPAL_PARAMETER);
//! * [`reg`]: the register map;
//! * [`config`]: config-space reads and writes with skiboot's checks ([`config_read`],
//!   [`config_write`], [`Bdfn`]);
//! * [`ioda`]: IODA3 table entries (TVT, MBT, RTT, PEST, PELT-V) as pure functions;
//! * [`msi`]: MSI address/data for `OPAL_GET_MSI_64`/`_32`;
//! * [`scan`]: bus numbering below the root port;
//! * `model` (tests, feature `model`): a software PHB serving config space and IODA tables
//!   like QEMU's, and an XSCOM model.
//!
//! The firmware binary drives it from `firmware/src/phb.rs`; [`host`] puts the PHBs
//! behind `hal::PciHost` for the OPAL calls.
//!
//! Register facts are from skiboot `include/phb4-regs.h` and `hw/phb4.c`, and from QEMU
//! `hw/pci-host/pnv_phb4.c`. IBM bit numbering: bit 0 is the most significant bit of a
//! 64-bit register, so IBM bit `b` is `1 << (63 - b)` ([`ppc_bit`]).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
// OPAL calls reach this crate: bad input is an error, never a panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

#[cfg(not(test))]
extern crate alloc;
#[cfg(test)]
extern crate std as alloc;

pub mod config;
pub mod dt;
pub mod host;
pub mod ioda;
pub mod layout;
#[cfg(any(test, feature = "model"))]
pub mod model;
pub mod msi;
pub mod phb;
pub mod reg;
pub mod registry;
pub mod scan;

pub use config::{config_read, config_write, AccessSize, Bdfn, CfgError};

/// IBM bit `bit` of a 64-bit register (skiboot `PPC_BIT`).
pub const fn ppc_bit(bit: u32) -> u64 {
    1u64 << (63 - bit)
}

/// IBM bits `first..=last` of a 64-bit register (skiboot `PPC_BITMASK`).
pub const fn ppc_bitmask(first: u32, last: u32) -> u64 {
    (u64::MAX >> first) & (u64::MAX << (63 - last))
}

/// `value` placed in the field `mask` (skiboot `SETFIELD` on a zero word). Bits of `value`
/// that do not fit are dropped.
pub const fn set_field(mask: u64, value: u64) -> u64 {
    (value << mask.trailing_zeros()) & mask
}

/// The field `mask` of `word` (skiboot `GETFIELD`).
pub const fn get_field(mask: u64, word: u64) -> u64 {
    (word & mask) >> mask.trailing_zeros()
}

/// Access to one PHB's MMIO registers. The firmware will implement it with cache-inhibited
/// loads and stores on the PHB register BAR; tests use `model::PhbModel`.
///
/// Offsets are from the start of the PHB register space. All accesses are big-endian, as the
/// CPU's `ld`/`std`/`lwz`/`lhz`/`lbz` would make them; little-endian data (config space) is
/// swapped by the caller.
pub trait PhbRegs {
    /// An 8-byte load of the register at `offset` (8-byte aligned).
    fn read64(&mut self, offset: u32) -> u64;
    /// An 8-byte store to the register at `offset` (8-byte aligned).
    fn write64(&mut self, offset: u32, value: u64);
    /// A 1, 2 or 4-byte big-endian load at `offset`: only the CONFIG_DATA lanes
    /// (0x130-0x133) and the root-complex window (0x1000-0x17ff) take these.
    fn read_narrow(&mut self, offset: u32, size: AccessSize) -> u32;
    /// A 1, 2 or 4-byte big-endian store at `offset`, same places as [`Self::read_narrow`].
    fn write_narrow(&mut self, offset: u32, size: AccessSize, value: u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibm_bit_numbering() {
        assert_eq!(ppc_bit(0), 0x8000_0000_0000_0000);
        assert_eq!(ppc_bit(63), 1);
        assert_eq!(ppc_bitmask(0, 63), u64::MAX);
        assert_eq!(ppc_bitmask(4, 19), 0x0fff_f000_0000_0000);
        assert_eq!(ppc_bitmask(59, 63), 0x1f);
        assert_eq!(
            set_field(ppc_bitmask(59, 63), 0x3f),
            0x1f,
            "value truncated to the field"
        );
        assert_eq!(get_field(ppc_bitmask(4, 11), 0x0ab0_0000_0000_0000), 0xab);
        assert_ne!(ppc_bit(1), 1 << 1, "bit 1 is IBM numbering, not LSB-first");
    }
}
