// SPDX-License-Identifier: Apache-2.0
//! Device trees for the OS: an [`FdtWriter`] that emits flattened device trees (DTB
//! version 17), and a [`Tree`] that holds a whole tree in memory so the firmware can read
//! QEMU's tree, add `/ibm,opal`, `/reserved-memory` and friends, change properties, and
//! write the result for Linux. The `fdt` crate only parses; this crate is the other half
//! of what skiboot's `core/device.c` and `core/fdt.c` do. What the tree must contain is in
//! the boot contract (`opal-boot-contract.md` §2).
//!
//! ```
//! # fn main() -> Result<(), devtree::Error> {
//! # let qemu_blob = devtree::Tree::new().to_dtb()?;
//! let mut tree = devtree::Tree::from_bytes(&qemu_blob)?;
//! tree.ensure_node("/chosen")?;
//! tree.set_property_string("/chosen", "linux,stdout-path", "/ibm,opal/consoles/serial@0")?;
//! tree.ensure_node("/ibm,opal")?;
//! tree.set_property_strings("/ibm,opal", "compatible", &["ibm,opal-v3"])?;
//! tree.set_property_u64s("/ibm,opal", "opal-base-address", &[0x3000_0000])?;
//! tree.add_memreserve(0x3000_0000, 0x40_0000);
//! tree.set_boot_cpuid_phys(0);
//! let blob: Vec<u8> = tree.to_dtb()?;
//! # assert!(fdt::Fdt::new(&blob).is_ok());
//! # Ok(())
//! # }
//! ```
//!
//! Everything here runs once at boot and allocates freely; none of it belongs on an OPAL
//! call path.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod error;
mod format;
mod parse;
mod tree;
mod writer;

pub use error::{BlobError, Error};
pub use format::MAX_DEPTH;
pub use tree::{MemReserve, Node, Property, Tree};
pub use writer::FdtWriter;
