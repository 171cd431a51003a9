// SPDX-License-Identifier: Apache-2.0
//! Hypervisor maintenance interrupt handling (`OPAL_HANDLE_HMI2`), as skiboot's
//! `core/hmi.c` does it (hmi-mce-sreset.md §4).
//!
//! * [`hmer`]: the HMER bits of POWER9 and POWER10, the HMEER value, and the table of what
//!   each cause means ([`hmer::causes`]).
//! * [`tfmr`]: the TFMR fields and the error groups the timebase recovery works on.
//! * [`event`]: `struct OpalHMIEvent` (version 2) as it goes to the OS in an `opal_msg`.
//! * [`rendezvous`]: the per-core meeting word every thread of a core passes through
//!   during a core-wide timebase recovery.
//! * [`handle`]: the handler itself, over the traits in [`hw`].
//! * [`mce`]: machine-check decoding (SRR1, DSISR) for the firmware's own 0x200 report.
//! * [`model`] (tests, or the `model` feature): a software core with HMER, TFMR, a
//!   timebase and the SCOMs the handler reads, safe to share between threads.
//!
//! Nothing here allocates, and every wait is bounded even with a stopped timebase (by a
//! poll budget derived from the same timeout, [`POLLS_PER_US`]).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod event;
pub mod flags;
mod handler;
pub mod hmer;
pub mod hw;
mod malfunction;
pub mod mce;
mod percore;
pub mod rendezvous;
pub mod tfmr;
mod wait;

#[cfg(any(test, feature = "model"))]
pub mod model;

pub use event::{Disposition, HmiEvent, HmiType, Severity, Xstop, XstopType, OPAL_MSG_HMI_EVT};
pub use handler::{handle, Outcome, Rendezvoused, ThreadCtx, RENDEZVOUS_TIMEOUT_US};
pub use hw::{ChipTod, Clock, Scom, ScomError, Siblings, ThreadRegs, TodError};
pub use malfunction::{core_fir_addr, core_pir, ChipCores, MALFUNCTION_ALERT_SCOM};
pub use percore::{Core, Shared};
pub use rendezvous::Rendezvous;
pub use wait::POLLS_PER_US;

/// Processor generation. Power11 takes the POWER10 path, as in skiboot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gen {
    P9,
    P10,
}

impl Gen {
    /// From the PVR's version field (PVR >> 16): 0x004e POWER9, 0x0080 POWER10, 0x0082
    /// Power11 (which takes the POWER10 path). Anything else: `None`.
    pub fn from_pvr(pvr: u32) -> Option<Self> {
        match pvr >> 16 {
            0x004e => Some(Self::P9),
            0x0080 | 0x0082 => Some(Self::P10),
            _ => None,
        }
    }
}
