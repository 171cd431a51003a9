// SPDX-License-Identifier: Apache-2.0
//! The formats found on a POWER PNOR flash, as skiboot and IBM's tools (`pflash`,
//! `ffspart`) read and write them (`images-boards-mambo.md` §2):
//!
//! - [`ffs`]: the FFS v1 partition table ("PART" header at offset 0, 128-byte entries,
//!   XOR checksums), parsed with every check skiboot's `ffs_init` makes, and written;
//! - [`ecc`]: the 8 data bytes + 1 check byte code hostboot partitions use (SEC-DED:
//!   single-bit errors are corrected, double-bit errors detected);
//! - [`nvram`]: the CHRP NVRAM layout skiboot writes into an empty `NVRAM` partition.
//!
//! `tools/mkimage` builds and inspects images with it on the host; the firmware will read
//! the same table and check the same ECC. Nothing here allocates or needs `std`: parsing
//! works on byte slices, writing fills caller-provided buffers, and every malformed input
//! is an error value, never a panic or an out-of-bounds access.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod ecc;
pub mod ffs;
pub mod nvram;
