// SPDX-License-Identifier: Apache-2.0
//! System reset (NMI) through the core direct controls (`OPAL_SIGNAL_SYSTEM_RESET`) and
//! the quiesce protocol (`OPAL_QUIESCE`), as skiboot's `core/direct-controls.c` and the
//! quiesce part of `core/opal.c` do them (hmi-mce-sreset.md §1, §2).
//!
//! * [`direct`]: special wakeup, stop, sreset and continue of one thread over SCOM, for
//!   POWER9 and POWER10, behind the small [`direct::Scom`] and [`Clock`] traits.
//! * [`quiesce`]: the owner/target logic of `OPAL_QUIESCE` over per-CPU words that the
//!   firmware's assembly OPAL entry also reads ([`quiesce::QuiesceCpus`]).
//! * [`model`] (tests, or the `model` feature): a model of the core thread-state and
//!   special-wakeup registers that behaves like the hardware, or like QEMU 10.
//!
//! Nothing here allocates; every wait is a deadline on the timebase.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod direct;
pub mod quiesce;
mod time;

#[cfg(any(test, feature = "model"))]
pub mod model;

pub use time::Clock;
