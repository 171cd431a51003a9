// SPDX-License-Identifier: Apache-2.0
//! XIVE (POWER9) and XIVE2 (POWER10) interrupt-controller logic: table encodings, the IRQ
//! and VP allocators and the `OPAL_XIVE_*` handlers, behind hal traits so that all of it
//! runs on the host against a software model of the controller.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod allocator;
pub mod bits;
pub mod calls;
pub mod ctrl;
pub mod entry;
pub mod esb;
pub mod hw;
pub mod ids;
#[cfg(any(test, feature = "model"))]
pub mod model;
pub mod phys_map;
pub mod psi;
pub mod state;

#[cfg(test)]
mod kvm_tests;
#[cfg(test)]
mod tests;
pub use hw::{Busy, Controller, Gen, Regs, Vst};

pub use calls::{IrqConfig, IrqInfo, QueueInfo, VpInfo};
pub use state::{InitError, Mode, TableMemory, Thread, Xive};
