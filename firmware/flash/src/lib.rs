// SPDX-License-Identifier: Apache-2.0
//! The system flash (PNOR) as the firmware reaches it (`images-boards-mambo.md` §2.5).
//!
//! Two ways to the flash, both behind [`Flash`]:
//!
//! - [`hiomap::Hiomap`], the default: the BMC owns the flash and lends the host a window
//!   of it in LPC firmware space, negotiated over IPMI (HIOMAP v2: netfn 0x3A, command
//!   0x5A). Windows may be smaller than the flash and anywhere in FW space; every access
//!   makes sure the window it needs is the one open.
//! - [`direct::DirectFw`]: plain FW-space accesses at a fixed LPC address, for a machine
//!   with no HIOMAP daemon that still decodes the flash there (QEMU does, at 0).
//!
//! [`partitions`] reads the FFS table through either and gives checked access to a
//! partition's contents, decoding (and encoding) the 8+1 ECC of the partitions that
//! carry it.
//!
//! Concurrency: nothing here locks. The firmware keeps its one [`Flash`] behind its BMC
//! lock (HIOMAP shares the BT with every other IPMI user) and calls in with it held.
//! Crash paths never use the flash.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod direct;
pub mod hiomap;
pub mod partitions;
#[cfg(test)]
mod sim;

/// LPC firmware space: where the host sees the flash (or the BMC's window onto it).
pub trait FwSpace {
    fn read(&mut self, lpc_addr: u32, buf: &mut [u8]);
    fn write(&mut self, lpc_addr: u32, data: &[u8]);
}

/// Why a flash access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The IPMI exchange failed (no answer, a BT error).
    Transport,
    /// The BMC answered with this non-zero completion code.
    Bmc(u8),
    /// The BMC's answer does not make sense (wrong command or sequence echoed, a window
    /// that does not cover what was asked, a short reply, an unsupported version).
    Protocol(&'static str),
    /// The BMC said the flash is gone (HIOMAP `FLASH_LOST`, or its daemon is not ready).
    Unavailable,
    /// Offset or length outside the flash or the partition, or not aligned as required.
    OutOfRange,
    /// Writing to a read-only partition.
    ReadOnly,
    /// The partition table does not parse.
    Toc(pnor::ffs::Error),
    /// No partition of that name.
    NoPartition,
    /// Two or more flipped bits in the ECC group at this flash offset.
    Ecc { flash_offset: u64 },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Transport => f.write_str("IPMI transport error"),
            Error::Bmc(cc) => write!(f, "BMC completion code {cc:#04x}"),
            Error::Protocol(why) => write!(f, "HIOMAP protocol error: {why}"),
            Error::Unavailable => f.write_str("the BMC says the flash is not available"),
            Error::OutOfRange => f.write_str("outside the flash or partition, or misaligned"),
            Error::ReadOnly => f.write_str("partition is read-only"),
            Error::Toc(e) => write!(f, "{e}"),
            Error::NoPartition => f.write_str("no such partition"),
            Error::Ecc { flash_offset } => {
                write!(
                    f,
                    "uncorrectable ECC error at flash offset {flash_offset:#x}"
                )
            }
        }
    }
}

/// The flash, whatever the way to it.
pub trait Flash {
    /// Bytes of flash.
    fn size(&self) -> u64;
    /// Erase granule in bytes (erases must be aligned to it).
    fn erase_granule(&self) -> u32;
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error>;
    /// Writes `data` (the bytes around it are kept: both backends see the flash through
    /// memory the BMC or the emulator programs for us).
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error>;
    /// Sets `len` bytes from `offset` to 0xFF; both granule-aligned.
    fn erase(&mut self, offset: u64, len: u64) -> Result<(), Error>;
}

/// `offset..offset+len` lies in `0..size`.
pub(crate) fn in_bounds(offset: u64, len: u64, size: u64) -> bool {
    offset.checked_add(len).is_some_and(|end| end <= size)
}
