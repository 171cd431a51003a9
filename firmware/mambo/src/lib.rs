// SPDX-License-Identifier: Apache-2.0
//! The Mambo (IBM POWER Functional Simulator, "systemsim") side of the firmware: what the
//! simulator offers through its *callthru* instruction, written against a trait so that
//! all of it runs in `cargo test` (`images-boards-mambo.md` §3.2, §3.5; skiboot mirrors
//! it in `platforms/mambo/mambo.c`, `console.c` and `mambo.h`).
//!
//! - [`callthru`]: the command numbers and the [`SimCallthru`] trait;
//! - [`console`]: console output, and input with one character of read-ahead;
//! - [`clock`]: the host's time of day;
//! - [`exit`]: stopping the simulation (power-off);
//! - [`disk`]: the "bogus disk" block devices (a PNOR image given as `ROOTDISK`);
//! - [`detect`]: whether the device tree says we run under Mambo.
//!
//! # Where the instruction lives
//!
//! A callthru is the word `0x000EAEB0` executed with r3 = command and r4..r6 = arguments;
//! the answer comes back in r3. On real hardware and on QEMU that word is an illegal
//! instruction. **The only place it may appear is the firmware's arch module**
//! (`firmware/src/arch`), in the one `SimCallthru` implementation, built for powerpc64
//! only, and called only after [`detect::is_mambo`] said yes. This crate has no `unsafe`
//! and no assembly: it encodes and decodes the register protocol, and its tests drive
//! it against a fake simulator that checks every command number and argument.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod callthru;
pub mod clock;
pub mod console;
pub mod detect;
pub mod disk;
pub mod exit;

#[cfg(test)]
mod fake;

pub use callthru::{Buffer, SimCallthru};
pub use console::CallthruConsole;
pub use detect::is_mambo;
pub use disk::{BogusDisk, DiskError, SECTOR_SIZE};
