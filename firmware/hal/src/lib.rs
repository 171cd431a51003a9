// SPDX-License-Identifier: Apache-2.0
//! The seams between OPAL logic and hardware: small traits that the firmware implements
//! over real MMIO/SPRs and that host tests implement over software models (`fake`).
//!
//! The OPAL call handlers (`opal_calls`) see the machine only through these traits, so
//! every call runs in `cargo test` against the fakes.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
// `unsafe` only in `lock` (the lock's own cell); everything else is safe code.
#![deny(unsafe_code)]

pub mod bits;
pub mod console;
pub mod cpu;
pub mod lock;
pub mod os_mem;
pub mod park;
pub mod pci;
pub mod platform;
pub mod scom;

#[cfg(any(test, feature = "fake"))]
pub mod fake;

pub use console::{Console, FlushState};
pub use cpu::{CpuControl, ReinitRequest, SystemReset};
pub use lock::{FwGuard, FwLock, Holder};
pub use os_mem::{OsMemory, OsRange};
pub use pci::{FreezeReport, PciHost};
pub use platform::{IpmiMsg, Platform, IPMI_MAX_DATA};
pub use scom::{Clock, Scom, ScomError};
