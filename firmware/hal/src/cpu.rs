// SPDX-License-Identifier: Apache-2.0
//! Hardware threads as OPAL hands them to and takes them from the OS.

use opal_api::{CpuStatus, OpalResult};

/// A decoded `OPAL_REINIT_CPUS` request: what every thread must be set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReinitRequest {
    /// `Some(true)`: take interrupts little-endian (HID0.HILE set); `Some(false)`:
    /// big-endian; `None`: leave as is.
    pub little_endian_interrupts: Option<bool>,
    /// `Some(true)`: radix allowed (P9 HID0 radix bit); `Some(false)`: hash only.
    pub radix: Option<bool>,
}

pub trait CpuControl {
    /// State of the thread whose PIR is `server`; `None` if there is no such thread.
    fn status(&self, server: u64) -> Option<CpuStatus>;
    /// Hands an inactive thread to the OS at `entry` (big-endian real mode, r3 = PIR).
    fn start(&self, server: u64, entry: u64) -> OpalResult<()>;
    /// Applies `req` on every thread. All threads but the caller must be in OPAL.
    fn reinit(&self, req: ReinitRequest) -> OpalResult<()>;
    /// PIR of the calling thread.
    fn current(&self) -> u32;
}
