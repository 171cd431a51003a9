// SPDX-License-Identifier: Apache-2.0
//! IPMI for Opalite: the host side of the Block Transfer ("BT") system interface that QEMU's
//! `isa-ipmi-bt` + `ipmi-bmc-sim` and the AST2x00 BMCs of OpenPOWER machines implement on
//! LPC I/O 0xE4..0xE6, plus the few IPMI commands the firmware needs (chassis control for
//! power-off and reboot, SEL time for the RTC, BT capabilities and device ID at start-up).
//!
//! Mirrors skiboot `hw/bt.c` (the BT state machine), `hw/ipmi/ipmi-power.c` (chassis
//! control), `hw/ipmi/ipmi-rtc.c` (SEL time) and `core/time-utils.c` (the OPAL RTC encoding,
//! here in [`rtc_encoding`]); see `opal-boot-contract.md` §7.
//!
//! The crate touches no hardware itself. The firmware supplies an [`IoPort`] (byte access to
//! LPC I/O space) and a [`Clock`]; every wait in [`Bt`] is bounded by a deadline on that
//! clock and by a poll budget, and ends in a typed [`BtError`]. Host tests run the driver
//! against `sim::BtSim`, a software model of QEMU's BT device and BMC simulator (enabled
//! for other crates with the `sim` feature).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bt;
pub mod commands;
pub mod link;
pub mod os;
pub mod rtc_encoding;

#[cfg(any(test, feature = "sim"))]
pub mod sim;

pub use bt::{BadResponse, Bt, BtError, Clock, IoPort, Request, RequestHandle, Response};
pub use commands::{BtCaps, ChassisControl, DeviceId};

#[cfg(test)]
mod link_tests;
#[cfg(test)]
mod os_tests;
#[cfg(test)]
mod tests;
