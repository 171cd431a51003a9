// SPDX-License-Identifier: Apache-2.0
//! The host-testable half of the OPAL conformance payload: reading the device tree the
//! firmware hands over, the XIVE specification's numbers and encodings, choosing free
//! RAM, and the command-line options. The payload binary (`main.rs`) adds the entry code,
//! the OPAL call, the case runner and the cases.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod bootargs;
pub mod fdt;
pub mod list;
pub mod memmap;
pub mod spec;
pub mod system;
