// SPDX-License-Identifier: Apache-2.0
//! XIVE (POWER9) and XIVE2 (POWER10) interrupt-controller logic: table encodings, the IRQ
//! and VP allocators and the `OPAL_XIVE_*` handlers, behind hal traits so that all of it
//! runs on the host against a software model of the controller.
//!
//! Empty until the XIVE issue: no `OPAL_XIVE_*` token is in the call table, so
//! `OPAL_CHECK_TOKEN` reports them absent and Linux uses the XICS presentation calls.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod hw;
pub mod phys_map;
pub use hw::{Busy, Controller, Gen, Regs, Vst};
